//! Scheduled scaling (`[services.<key>.autoscaling.schedules.<name>]`) end to end, through
//! the AWS-realism layer: the scheduled actions Application Auto Scaling runs (asserted
//! with DescribeScheduledActions), a service scaled by schedules alone (no policy), a
//! second `up` without writes, a range a schedule set left alone by `up` while a range no
//! schedule sets is put back, schedules changed, narrowed and removed in place, and `down`
//! leaving nothing.

mod common;

use std::path::{Path, PathBuf};

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use common::realism::Realism;
use common::{example, run_async, scheduled_actions, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const CLUSTER: &str = "fargate-public-cluster";

/// service1 tracks CPU between 1 and 4 tasks, two by day and one by night (Tokyo time);
/// service2 has no metric: its schedules stop it at night and start it in the morning.
const SCALING: &str = r#"
[services.service1.autoscaling]
min = 1
max = 4
cpu = 60

[services.service1.autoscaling.schedules.day]
schedule = "cron(0 7 * * ? *)"
timezone = "Asia/Tokyo"
min = 2
max = 4

[services.service1.autoscaling.schedules.night]
schedule = "cron(0 20 * * ? *)"
timezone = "Asia/Tokyo"
min = 1
max = 1

[services.service2.autoscaling]
min = 1
max = 1

[services.service2.autoscaling.schedules.stop]
schedule = "cron(0 21 ? * MON-FRI *)"
min = 0
max = 0

[services.service2.autoscaling.schedules.start]
schedule = "cron(0 8 ? * MON-FRI *)"
min = 1
max = 1
"#;

/// The fargate-public example with `scaling` appended, written to `dir`.
fn config(dir: &Path, scaling: &str) -> PathBuf {
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let path = dir.join("ecsdeploy.toml");
    std::fs::write(&path, format!("{text}\n{scaling}")).unwrap();
    path
}

async fn up(proxy: &Proxy, cfg: &Path) {
    run_async(proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"])
        .await
        .assert_success();
}

fn target(service: &str) -> String {
    format!("service/{CLUSTER}/fargate-public-{service}")
}

/// The (min, max) of a service's scalable target, if it has one.
async fn range(aas: &aws_sdk_applicationautoscaling::Client, service: &str) -> Option<(i32, i32)> {
    let out = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(target(service))
        .send()
        .await
        .unwrap();
    out.scalable_targets()
        .first()
        .map(|t| (t.min_capacity(), t.max_capacity()))
}

/// What Application Auto Scaling does when a scheduled action runs: RegisterScalableTarget
/// with the action's range (terraform-aws-modules/terraform-aws-ecs#422).
async fn schedule_runs(aas: &aws_sdk_applicationautoscaling::Client, min: i32, max: i32) {
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(target("service1"))
        .min_capacity(min)
        .max_capacity(max)
        .send()
        .await
        .unwrap();
}

fn writes(proxy: &Proxy) -> Vec<String> {
    proxy.writes().into_iter().map(|c| c.operation).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn schedules_are_put_left_alone_when_they_ran_changed_and_taken_down() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let aas = aws_sdk_applicationautoscaling::Client::new(&sdk_config(&proxy, REGION).await);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), SCALING);

    up(&proxy, &cfg).await;
    // The targets were a moment old when their actions were put (and refused once).
    let acted = proxy.realism_acted();
    assert!(
        acted
            .iter()
            .any(|a| a == "PutScheduledAction: ObjectNotFoundException"),
        "{acted:#?}"
    );
    let (one, two) = (target("service1"), target("service2"));
    let tokyo = Some("Asia/Tokyo".to_string());
    let utc = Some("UTC".to_string());
    assert_eq!(
        scheduled_actions(&aas, None).await,
        [
            (
                "fargate-public-service1-day".into(),
                one.clone(),
                "cron(0 7 * * ? *)".into(),
                tokyo.clone(),
                Some(2),
                Some(4)
            ),
            (
                "fargate-public-service1-night".into(),
                one.clone(),
                "cron(0 20 * * ? *)".into(),
                tokyo.clone(),
                Some(1),
                Some(1)
            ),
            (
                "fargate-public-service2-start".into(),
                two.clone(),
                "cron(0 8 ? * MON-FRI *)".into(),
                utc.clone(),
                Some(1),
                Some(1)
            ),
            (
                "fargate-public-service2-stop".into(),
                two.clone(),
                "cron(0 21 ? * MON-FRI *)".into(),
                utc.clone(),
                Some(0),
                Some(0)
            ),
        ]
    );
    assert_eq!(range(&aas, "service1").await, Some((1, 4)));
    assert_eq!(range(&aas, "service2").await, Some((1, 1)));
    // service2 scales by its schedules alone: no target-tracking policy.
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let on: Vec<&str> = policies
        .scaling_policies()
        .iter()
        .map(|p| p.resource_id())
        .collect();
    assert_eq!(on, [one.as_str()]);

    // Converged: nothing to write.
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(
        writes(&proxy),
        Vec::<String>::new(),
        "a second up writes nothing"
    );

    // The night action ran: the target's range is 1..1. `plan` reports no change, and `up`
    // does not undo it; `status --output json` shows the range in force.
    schedule_runs(&aas, 1, 1).await;
    let plan = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "plan"]).await;
    plan.assert_success();
    assert!(
        !plan.stdout.contains("scalable_target.service1"),
        "a range a schedule set is no change:\n{plan}"
    );
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(
        writes(&proxy),
        Vec::<String>::new(),
        "up leaves the schedule's range"
    );
    assert_eq!(range(&aas, "service1").await, Some((1, 1)));
    let status = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "status", "--output", "json"],
    )
    .await;
    let text = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "status"]).await;
    assert!(
        text.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("scalable_target.service1")
                && l.ends_with("registered (tasks 1 to 1: a schedule's range, which `up` leaves)")),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let resources = json["resources"].as_array().unwrap();
    let t = resources
        .iter()
        .find(|r| r["id"] == "scalable_target.service1")
        .unwrap();
    assert_eq!(
        t["details"]["scheduled_range"],
        serde_json::json!({"min": 1, "max": 1})
    );
    assert_eq!(t["converged"], true, "{t}");

    // A range no schedule sets (changed by hand) is drift: `up` puts the base range back.
    schedule_runs(&aas, 3, 3).await;
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(writes(&proxy), ["RegisterScalableTarget"]);
    assert_eq!(range(&aas, "service1").await, Some((1, 4)));

    // `scale` to the day's range says that `up` leaves it, and `up` does.
    let scale = run_async(
        &proxy,
        REGION,
        &[
            "-c",
            cfg.to_str().unwrap(),
            "scale",
            "service1",
            "--min",
            "2",
            "--max",
            "4",
        ],
    )
    .await;
    scale.assert_success();
    assert!(
        scale
            .stdout
            .contains("it leaves these bounds too, a range the schedules set"),
        "{scale}"
    );
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(writes(&proxy), Vec::<String>::new());
    assert_eq!(range(&aas, "service1").await, Some((2, 4)));

    // A new time is a put of that action alone; a bound dropped deletes and puts it again
    // (the night keeps only its max); a removed schedule is deleted.
    let changed = SCALING
        .replace("cron(0 7 * * ? *)", "cron(30 6 ? * MON-FRI *)")
        .replace(
            "timezone = \"Asia/Tokyo\"\nmin = 1\nmax = 1\n",
            "timezone = \"Asia/Tokyo\"\nmax = 1\n",
        );
    let changed = changed
        .split("[services.service2.autoscaling.schedules.start]")
        .next()
        .unwrap()
        .to_string();
    let cfg = config(dir.path(), &changed);
    proxy.clear();
    up(&proxy, &cfg).await;
    let mut w = writes(&proxy);
    w.sort();
    assert_eq!(
        w,
        [
            "DeleteScheduledAction",
            "DeleteScheduledAction",
            "PutScheduledAction",
            "PutScheduledAction",
        ],
        "the changed, narrowed and removed actions only"
    );
    let now = scheduled_actions(&aas, None).await;
    let names: Vec<&str> = now.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "fargate-public-service1-day",
            "fargate-public-service1-night",
            "fargate-public-service2-stop"
        ]
    );
    assert_eq!(now[0].2, "cron(30 6 ? * MON-FRI *)");
    assert_eq!(
        (now[1].4, now[1].5),
        (None, Some(1)),
        "the night sets max only"
    );
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(writes(&proxy), Vec::<String>::new(), "converged again");

    // `down` deletes the actions with their targets.
    run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "down", "--yes"],
    )
    .await
    .assert_success();
    assert_eq!(scheduled_actions(&aas, None).await, vec![]);
    assert_eq!(range(&aas, "service1").await, None);
}
