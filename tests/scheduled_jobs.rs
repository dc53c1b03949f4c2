//! Scheduled jobs (`[jobs.<key>]`) end to end, through the AWS-realism layer: the schedule
//! EventBridge Scheduler runs (asserted with GetSchedule), its least-privilege role, the
//! job's task definition, a second `up` without writes, a changed schedule updated in place,
//! a removed job deleted with everything it had, and `down` leaving nothing.

mod common;

use std::path::{Path, PathBuf};

use common::realism::Realism;
use common::{example, inline_policy, run_async, sdk_config, string_list, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const APP: &str = "fargate-public";
const CLUSTER: &str = "fargate-public-cluster";

/// One job reusing service1's image and settings, one with an image of its own.
const JOBS: &str = r#"
[jobs.report]
service = "service1"
schedule = "cron(0 3 * * ? *)"
timezone = "Asia/Tokyo"
command = ["sh", "-c", "echo report"]
environment = { REPORT = "daily" }

[jobs.cleanup]
image = "busybox:1.36"
schedule = "rate(1 hour)"
command = ["true"]
"#;

struct Aws {
    scheduler: aws_sdk_scheduler::Client,
    ecs: aws_sdk_ecs::Client,
    iam: aws_sdk_iam::Client,
    ec2: aws_sdk_ec2::Client,
}

async fn aws(proxy: &Proxy) -> Aws {
    let c = sdk_config(proxy, REGION).await;
    Aws {
        scheduler: aws_sdk_scheduler::Client::new(&c),
        ecs: aws_sdk_ecs::Client::new(&c),
        iam: aws_sdk_iam::Client::new(&c),
        ec2: aws_sdk_ec2::Client::new(&c),
    }
}

/// The fargate-public example with `jobs` appended, written to `dir`.
fn config(dir: &Path, jobs: &str) -> PathBuf {
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let path = dir.join("ecsdeploy.toml");
    std::fs::write(&path, format!("{text}\n{jobs}")).unwrap();
    path
}

async fn up(proxy: &Proxy, cfg: &Path) -> common::Output {
    let out = run_async(proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await;
    out.assert_success();
    out
}

async fn schedule(
    aws: &Aws,
    name: &str,
) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
    aws.scheduler
        .get_schedule()
        .group_name(APP)
        .name(name)
        .send()
        .await
        .ok()
}

fn ecs_tag(key: &str, value: &str) -> aws_sdk_ecs::types::Tag {
    aws_sdk_ecs::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

async fn role_exists(aws: &Aws, name: &str) -> bool {
    aws.iam.get_role().role_name(name).send().await.is_ok()
}

async fn active_revisions(aws: &Aws, family: &str) -> usize {
    let out = aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    out.task_definition_arns()
        .iter()
        .filter(|a| a.contains(&format!("task-definition/{family}:")))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_scheduled_updated_removed_and_taken_down() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let aws = aws(&proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), JOBS);

    up(&proxy, &cfg).await;
    // The scheduler roles were a moment old when the schedules were made.
    let acted = proxy.realism_acted();
    assert!(
        acted
            .iter()
            .any(|a| a.starts_with("POST /schedules/") && a.ends_with("ValidationException")),
        "Scheduler never refused a fresh role: {acted:#?}"
    );

    // The group is the app's, by its tags.
    let group = aws
        .scheduler
        .get_schedule_group()
        .name(APP)
        .send()
        .await
        .unwrap();
    let tags = aws
        .scheduler
        .list_tags_for_resource()
        .resource_arn(group.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "ecsdeploy:app" && t.value() == APP));

    // The schedule: expression, time zone, the cluster as target, the job's task
    // definition on Fargate in the public subnets with the service's group.
    let s = schedule(&aws, "report").await.expect("schedule report");
    assert_eq!(s.schedule_expression(), Some("cron(0 3 * * ? *)"));
    assert_eq!(s.schedule_expression_timezone(), Some("Asia/Tokyo"));
    let target = s.target().unwrap();
    let cluster = aws
        .ecs
        .describe_clusters()
        .clusters(CLUSTER)
        .send()
        .await
        .unwrap();
    let cluster_arn = cluster.clusters()[0].cluster_arn().unwrap();
    assert_eq!(target.arn(), cluster_arn);
    let role = aws
        .iam
        .get_role()
        .role_name("fargate-public-report-scheduler")
        .send()
        .await
        .unwrap();
    assert_eq!(target.role_arn(), role.role().unwrap().arn());
    let ecs = target.ecs_parameters().unwrap();
    assert!(
        ecs.task_definition_arn()
            .contains(":task-definition/fargate-public-job-report:"),
        "{}",
        ecs.task_definition_arn()
    );
    assert_eq!(ecs.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(ecs.task_count(), Some(1));
    let vpc = ecs
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .unwrap();
    assert_eq!(vpc.subnets().len(), 2, "both public subnets");
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("ENABLED"));
    let sgs = aws
        .ec2
        .describe_security_groups()
        .set_group_ids(Some(vpc.security_groups().to_vec()))
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = sgs
        .security_groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, ["fargate-public-service1"], "the service's group");

    // The job's task definition: the service's image with the job's command and
    // environment, no port mappings, the service's roles.
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(ecs.task_definition_arn())
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    let main = &td.container_definitions()[0];
    assert_eq!(main.image(), Some("nginx:latest"));
    assert_eq!(main.command(), ["sh", "-c", "echo report"]);
    assert!(main.port_mappings().is_empty());
    assert!(main
        .environment()
        .iter()
        .any(|kv| kv.name() == Some("REPORT") && kv.value() == Some("daily")));
    assert_eq!(td.cpu(), Some("512"));

    // Least privilege: RunTask on the job's family only, PassRole on its two roles only.
    let trust = role.role().unwrap().assume_role_policy_document().unwrap();
    let trust = common::policy_json(trust);
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "scheduler.amazonaws.com");
    // Only on behalf of this account's schedules (the confused-deputy guard).
    assert_eq!(
        statement["Condition"]["StringEquals"]["aws:SourceAccount"],
        proxy.account()
    );
    let policy = inline_policy(&aws.iam, "fargate-public-report-scheduler").await;
    let statements = policy["Statement"].as_array().unwrap();
    let of = |action: &str| {
        statements
            .iter()
            .find(|st| string_list(&st["Action"]) == [action])
            .map(|st| string_list(&st["Resource"]))
            .unwrap_or_else(|| panic!("no {action} statement: {policy}"))
    };
    let account = proxy.account();
    assert_eq!(
        of("ecs:RunTask"),
        [format!(
            "arn:aws:ecs:{REGION}:{account}:task-definition/fargate-public-job-report:*"
        )]
    );
    let mut passed = of("iam:PassRole");
    passed.sort();
    let mut want = vec![
        td.execution_role_arn().unwrap().to_string(),
        td.task_role_arn().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(passed, want);

    // The job with its own image: its own group, no task role to pass.
    let s = schedule(&aws, "cleanup").await.expect("schedule cleanup");
    assert_eq!(s.schedule_expression(), Some("rate(1 hour)"));
    assert_eq!(s.schedule_expression_timezone(), Some("UTC"));
    let policy = inline_policy(&aws.iam, "fargate-public-cleanup-scheduler").await;
    assert!(!policy.to_string().contains("\"*\""), "{policy}");

    // Converged: nothing to write.
    proxy.clear();
    up(&proxy, &cfg).await;
    assert_eq!(proxy.writes(), vec![], "a second up writes nothing");

    // Drift: a schedule changed outside ecsdeploy is reported, and `up` puts it back.
    let live = schedule(&aws, "report").await.unwrap();
    aws.scheduler
        .update_schedule()
        .group_name(APP)
        .name("report")
        .schedule_expression("rate(2 hours)")
        .flexible_time_window(live.flexible_time_window().unwrap().clone())
        .target(live.target().unwrap().clone())
        .send()
        .await
        .unwrap();
    let status = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "status"]).await;
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with(" schedule.report") && l.contains("differs from config")),
        "{status}"
    );
    up(&proxy, &cfg).await;
    let s = schedule(&aws, "report").await.unwrap();
    assert_eq!(s.schedule_expression(), Some("cron(0 3 * * ? *)"));
    assert_eq!(s.schedule_expression_timezone(), Some("Asia/Tokyo"));

    // A new schedule is an update of the schedule alone.
    let changed = JOBS.replace("cron(0 3 * * ? *)", "cron(30 4 ? * MON-FRI *)");
    let cfg = config(dir.path(), &changed);
    proxy.clear();
    up(&proxy, &cfg).await;
    let writes: Vec<String> = proxy.writes().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        writes,
        ["PUT /schedules/report"],
        "only the schedule changes"
    );
    let s = schedule(&aws, "report").await.unwrap();
    assert_eq!(s.schedule_expression(), Some("cron(30 4 ? * MON-FRI *)"));

    // Removing a job removes its schedule, role, task definition and group.
    let report_only = changed.split("[jobs.cleanup]").next().unwrap().to_string();
    let cfg = config(dir.path(), &report_only);
    up(&proxy, &cfg).await;
    assert!(
        schedule(&aws, "cleanup").await.is_none(),
        "schedule deleted"
    );
    assert!(!role_exists(&aws, "fargate-public-cleanup-scheduler").await);
    assert_eq!(
        active_revisions(&aws, "fargate-public-job-cleanup").await,
        0
    );
    let left = aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values("fargate-public.job.cleanup")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(left.security_groups().is_empty(), "the job's group deleted");
    assert!(
        schedule(&aws, "report").await.is_some(),
        "the other job stays"
    );

    // `status` shows the job's last runs: a task of its family, as Scheduler starts it.
    // moto's RunTask needs container-level memory, which Fargate task definitions leave
    // out: the run is started from a revision of the job's family that has it (tagged as
    // the job's, so that `down` still finds the family).
    let revision = aws
        .ecs
        .register_task_definition()
        .family("fargate-public-job-report")
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .tags(ecs_tag("ecsdeploy:app", APP))
        .tags(ecs_tag("ecsdeploy:resource", "task_definition.job.report"))
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("service1")
                .image("nginx:latest")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let revision_arn = revision
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap()
        .to_string();
    let run = aws
        .ecs
        .run_task()
        .cluster(CLUSTER)
        .task_definition(&revision_arn)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(
            aws_sdk_ecs::types::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                        .set_subnets(Some(vpc.subnets().to_vec()))
                        .set_security_groups(Some(vpc.security_groups().to_vec()))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .started_by("chronos-test")
        .send()
        .await
        .unwrap();
    let task_arn = run.tasks()[0].task_arn().unwrap().to_string();
    let task_id = task_arn.rsplit('/').next().unwrap();
    aws.ecs
        .stop_task()
        .cluster(CLUSTER)
        .task(&task_arn)
        .send()
        .await
        .unwrap();
    // The task is DEACTIVATING for a moment after StopTask (the realism layer's task
    // timeline): status is read once it is STOPPED, bounded at 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let d = aws
            .ecs
            .describe_tasks()
            .cluster(CLUSTER)
            .tasks(&task_arn)
            .send()
            .await
            .unwrap();
        if d.tasks()[0].last_status() == Some("STOPPED") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the task never stopped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let status = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "status"]).await;
    status.assert_success();
    assert!(
        status
            .stdout
            .contains("Job report: cron(30 4 ? * MON-FRI *) (Asia/Tokyo), ENABLED"),
        "{status}"
    );
    assert!(
        status.stdout.contains(task_id),
        "the run is listed: {status}"
    );
    assert!(status.stdout.contains("about an hour"), "{status}");
    let json = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "status", "--output", "json"],
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let report = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "schedule.report")
        .expect("schedule.report in status");
    assert_eq!(report["details"]["runs"][0]["task"], task_id);
    assert_eq!(report["details"]["runs"][0]["status"], "STOPPED");

    // `down` takes the rest.
    let down = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "down", "--yes"],
    )
    .await;
    down.assert_success();
    assert!(schedule(&aws, "report").await.is_none());
    assert!(aws
        .scheduler
        .get_schedule_group()
        .name(APP)
        .send()
        .await
        .is_err());
    assert!(!role_exists(&aws, "fargate-public-report-scheduler").await);
    assert_eq!(active_revisions(&aws, "fargate-public-job-report").await, 0);
}

/// A schedule group named like the app that is not the app's (its tags say so) is never
/// adopted, and its schedules are never touched: `up` stops before writing anything.
#[tokio::test(flavor = "multi_thread")]
async fn a_group_of_the_app_s_name_owned_by_someone_else_is_refused() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    aws.scheduler
        .create_schedule_group()
        .name(APP)
        .tags(
            aws_sdk_scheduler::types::Tag::builder()
                .key("ecsdeploy:app")
                .value("someone-else")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), JOBS);
    proxy.clear();
    let out = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains(
            "schedule group fargate-public exists but is not owned by app fargate-public"
        ),
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![], "nothing written");

    // Without jobs the group is simply not the app's: `up` and `down` leave it alone.
    let cfg = config(dir.path(), "");
    up(&proxy, &cfg).await;
    let down = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "down", "--yes"],
    )
    .await;
    down.assert_success();
    assert!(aws
        .scheduler
        .get_schedule_group()
        .name(APP)
        .send()
        .await
        .is_ok());
}
