//! Blue/green, canary and linear deployments end to end (issue 18 #1, #2, #4, #5, #6),
//! through the AWS-realism layer, which runs ECS's lifecycle for them in compressed time
//! (tests/common/strategies.rs: stages, the production rule's weights moving, bake time,
//! rollback; moto runs none of it). Each test asserts AWS state with describe calls, and
//! every ECS request the binary sent is checked against botocore's ECS model.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::realism::Realism;
use common::{assert_ecs_requests_valid, run_async, sdk_config, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "ap-northeast-1";
const CLUSTER: &str = "shift-cluster";
const SERVICE: &str = "shift-web";

fn config(image: &str, deployment: &str) -> String {
    format!(
        r#"
app = "shift"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"

[services.web]
image = "{image}"
ports = [80]
subnets = "public"
assign_public_ip = true

[services.web.target_group]
port = 80

{deployment}
"#
    )
}

fn write(dir: &Path, image: &str, deployment: &str) -> PathBuf {
    let path = dir.join("ecsdeploy.toml");
    std::fs::write(&path, config(image, deployment)).unwrap();
    path
}

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

/// The realism layer with short stages and bake minutes, so a whole canary deployment
/// with its default 2 + 2 bake minutes lasts a few seconds.
fn realism() -> Realism {
    Realism {
        stage: Duration::from_millis(150),
        bake_minute: Duration::from_millis(400),
        ..Realism::aws()
    }
}

async fn service(proxy: &Proxy) -> aws_sdk_ecs::types::Service {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(proxy, REGION).await);
    let out = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services(SERVICE)
        .send()
        .await
        .unwrap();
    out.services()[0].clone()
}

/// Target group name → its ARN, for the app's groups.
async fn groups(proxy: &Proxy) -> Vec<(String, String)> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(proxy, REGION).await);
    let out = elb.describe_target_groups().send().await.unwrap();
    let mut v: Vec<(String, String)> = out
        .target_groups()
        .iter()
        .filter(|g| {
            g.target_group_name()
                .unwrap_or_default()
                .starts_with("shift-")
        })
        .map(|g| {
            (
                g.target_group_name().unwrap_or_default().to_string(),
                g.target_group_arn().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The rules (priority → forward weights by target group name) of the listener on `port`.
async fn rules(proxy: &Proxy, port: i32) -> Vec<(String, Vec<(String, i32)>)> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(proxy, REGION).await);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let Some(lb) = lbs.load_balancers().first() else {
        return vec![];
    };
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let Some(l) = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
    else {
        return vec![];
    };
    let out = elb
        .describe_rules()
        .listener_arn(l.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    out.rules()
        .iter()
        .map(|r| {
            let weights = r
                .actions()
                .iter()
                .filter_map(|a| a.forward_config())
                .flat_map(|f| f.target_groups())
                .map(|t| {
                    let arn = t.target_group_arn().unwrap_or_default();
                    let name = arn.split('/').nth(1).unwrap_or(arn).to_string();
                    (name, t.weight().unwrap_or(0))
                })
                .collect();
            (r.priority().unwrap_or_default().to_string(), weights)
        })
        .collect()
}

/// The production rule's weights: (group name, weight), by name.
async fn production(proxy: &Proxy) -> Vec<(String, i32)> {
    let mut w = rules(proxy, 80)
        .await
        .into_iter()
        .find(|(p, _)| p == "50000")
        .map(|(_, w)| w)
        .expect("the catch-all production rule");
    w.sort();
    w
}

/// The group that has all production traffic.
async fn serving(proxy: &Proxy) -> String {
    let w = production(proxy).await;
    let (name, weight) = w.iter().max_by_key(|(_, w)| *w).unwrap().clone();
    assert_eq!(weight, 100, "{w:?}");
    name
}

fn revision(svc: &aws_sdk_ecs::types::Service) -> String {
    let td = svc.task_definition().unwrap_or_default();
    td.rsplit('/').next().unwrap_or(td).to_string()
}

#[tokio::test]
async fn a_canary_service_is_made_deployed_through_its_stages_and_converges() {
    // Each traffic step held long enough (2.4 s) for the wait's polls, at most 2 s apart,
    // to see it.
    let slower = Realism {
        bake_minute: Duration::from_millis(1200),
        ..realism()
    };
    let proxy = Proxy::start_realistic(&unique_account(), slower).await;
    let dir = tempfile::tempdir().unwrap();
    let deployment = "[services.web.deployment]\nstrategy = \"canary\"\ntest_port = 8080\n";
    let v1 = write(dir.path(), "nginx:1.27", deployment);
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    let mut sent = proxy.ecs_requests();

    // Two groups, a catch-all rule forwarding to both with all traffic on the first, the
    // test listener's rule, the role, and the service wired to all of them.
    let g = groups(&proxy).await;
    assert_eq!(g.len(), 2, "{g:?}");
    let alt = g
        .iter()
        .find(|(n, _)| n.contains("-alt-"))
        .expect("the second group");
    let primary = g
        .iter()
        .find(|(n, _)| !n.contains("-alt"))
        .expect("the first group");
    // All traffic on one of them (which one is ECS's: it alternates).
    let mut weights: Vec<i32> = production(&proxy).await.iter().map(|(_, w)| *w).collect();
    weights.sort();
    assert_eq!(weights, [0, 100]);
    let before = serving(&proxy).await;
    let test_rules = rules(&proxy, 8080).await;
    assert!(
        test_rules.iter().any(|(p, w)| p == "50000" && w.len() == 2),
        "{test_rules:?}"
    );
    let svc = service(&proxy).await;
    let lb = &svc.load_balancers()[0];
    let adv = lb.advanced_configuration().expect("advancedConfiguration");
    assert_eq!(lb.target_group_arn(), Some(primary.1.as_str()));
    assert_eq!(adv.alternate_target_group_arn(), Some(alt.1.as_str()));
    assert!(adv
        .production_listener_rule()
        .unwrap()
        .contains(":listener-rule/"));
    assert!(adv.test_listener_rule().is_some());
    assert!(adv
        .role_arn()
        .unwrap()
        .ends_with("/shift-ecs-infrastructure"));
    let d = svc.deployment_configuration().unwrap();
    assert_eq!(d.strategy().map(|s| s.as_str()), Some("CANARY"));
    assert_eq!(d.bake_time_in_minutes(), Some(2));
    let c = d.canary_configuration().unwrap();
    assert_eq!(
        (c.canary_percent(), c.canary_bake_time_in_minutes()),
        (Some(10.0), Some(2))
    );
    let iam = aws_sdk_iam::Client::new(&sdk_config(&proxy, REGION).await);
    let role = iam
        .get_role()
        .role_name("shift-ecs-infrastructure")
        .send()
        .await
        .unwrap();
    let trust = role.role().unwrap().assume_role_policy_document().unwrap();
    // URL-encoded as IAM returns it; the principal has nothing to encode.
    assert!(trust.contains("ecs.amazonaws.com"), "{trust}");
    let attached = iam
        .list_attached_role_policies()
        .role_name("shift-ecs-infrastructure")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["AmazonECSInfrastructureRolePolicyForLoadBalancers"]);

    // Converged: nothing to write.
    proxy.clear();
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "converged after the first up");

    // A new image: the canary's stages, the split and the bake time are shown, and the
    // new revision serves from the other group afterwards.
    let v2 = write(dir.path(), "nginx:1.28", deployment);
    proxy.clear();
    let out = ecsdeploy(&proxy, &v2, &["up"]).await;
    out.assert_success();
    sent.extend(proxy.ecs_requests());
    let shown = out.stderr.to_lowercase();
    for stage in [
        "scale up",
        "production traffic shift",
        "traffic:",
        "bake time",
    ] {
        assert!(shown.contains(stage), "`{stage}` not shown:\n{out}");
    }
    assert_eq!(revision(&service(&proxy).await), "shift-web:2");
    assert_ne!(serving(&proxy).await, before, "ECS alternates the groups");

    // ECS swapped which group is production: the same pair, still nothing to write.
    proxy.clear();
    let again = ecsdeploy(&proxy, &v2, &["up"]).await;
    again.assert_success();
    assert_eq!(
        proxy.writes(),
        vec![],
        "converged after ECS moved the traffic:\n{again}"
    );
    proxy.clear();
    let status = ecsdeploy(&proxy, &v2, &["status"]).await;
    status.assert_success();
    assert!(status.stdout.contains("canary"), "{status}");
    // The deployment DescribeServices names is read once: observe's settled check and the
    // LATEST DEPLOYMENT column share it, and no history is listed.
    assert_eq!(
        (
            proxy.count("DescribeServiceDeployments"),
            proxy.count("ListServiceDeployments")
        ),
        (1, 0),
        "{:?}",
        proxy.operations()
    );
    assert_ecs_requests_valid(&sent);
}

#[tokio::test]
async fn a_deployment_that_fails_during_bake_is_rolled_back_and_stays_a_failure() {
    let proxy = Proxy::start_realistic(
        &unique_account(),
        Realism {
            failing_during_bake: vec!["shift-web:2".into()],
            ..realism()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let deployment = "[services.web.deployment]\nstrategy = \"blue_green\"\n";
    let v1 = write(dir.path(), "nginx:1.27", deployment);
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    let blue = serving(&proxy).await;

    let v2 = write(dir.path(), "nginx:1.28", deployment);
    let out = ecsdeploy(&proxy, &v2, &["up"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("rolled back"), "{out}");
    // The old revision serves all traffic again, from the group it served from.
    assert_eq!(revision(&service(&proxy).await), "shift-web:1");
    assert_eq!(serving(&proxy).await, blue);

    // The config still asks for the revision that failed: a failure, and nothing sent.
    proxy.clear();
    let again = ecsdeploy(&proxy, &v2, &["up"]).await;
    assert_eq!(again.code, Some(1), "{again}");
    assert_eq!(proxy.writes(), vec![], "{again}");
    assert_ecs_requests_valid(&proxy.ecs_requests());
}

#[tokio::test]
async fn rollback_stops_a_deployment_in_flight_and_redeploys_after_one_completed() {
    let proxy = Proxy::start_realistic(&unique_account(), realism()).await;
    let dir = tempfile::tempdir().unwrap();
    // A long bake: the deployment is still in flight when `rollback` comes.
    let deployment = "[services.web.deployment]\nstrategy = \"blue_green\"\nbake_time = 30\n";
    let quick = "[services.web.deployment]\nstrategy = \"blue_green\"\nbake_time = 0\n";
    let v1 = write(dir.path(), "nginx:1.27", quick);
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();

    let v2 = write(dir.path(), "nginx:1.28", deployment);
    ecsdeploy(&proxy, &v2, &["up", "--no-wait"])
        .await
        .assert_success();
    let out = ecsdeploy(&proxy, &v2, &["--output", "json", "rollback", "web"]).await;
    out.assert_success();
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["rollback"]["action"], "stopped_with_rollback", "{out}");
    assert_eq!(revision(&service(&proxy).await), "shift-web:1");

    // After one that completed: back to the revision before it, as a blue/green deployment.
    let v3 = write(dir.path(), "nginx:1.29", quick);
    ecsdeploy(&proxy, &v3, &["up"]).await.assert_success();
    assert_eq!(revision(&service(&proxy).await), "shift-web:3");
    let out = ecsdeploy(&proxy, &v3, &["--output", "json", "rollback", "web"]).await;
    out.assert_success();
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["rollback"]["action"], "redeployed", "{out}");
    assert_eq!(revision(&service(&proxy).await), "shift-web:1");
    assert_ecs_requests_valid(&proxy.ecs_requests());
}

#[tokio::test]
async fn switching_to_linear_and_back_to_rolling_keeps_traffic_on_a_group_with_tasks() {
    let proxy = Proxy::start_realistic(&unique_account(), realism()).await;
    let dir = tempfile::tempdir().unwrap();
    let rolling = write(dir.path(), "nginx:1.27", "");
    ecsdeploy(&proxy, &rolling, &["up"]).await.assert_success();
    assert_eq!(groups(&proxy).await.len(), 1);

    // To linear: the plan shows the new strategy and the routing it brings.
    let linear = "[services.web.deployment]\nstrategy = \"linear\"\nstep_percent = 50\n";
    let to_linear = write(dir.path(), "nginx:1.27", linear);
    let plan = ecsdeploy(&proxy, &to_linear, &["plan"]).await;
    plan.assert_success();
    for want in [
        "deployment.strategy",
        "listener_rule.80-web",
        "iam_role.ecs-infrastructure",
    ] {
        assert!(
            plan.stdout.contains(want),
            "`{want}` not in the plan:\n{plan}"
        );
    }
    ecsdeploy(&proxy, &to_linear, &["up"])
        .await
        .assert_success();
    let g = groups(&proxy).await;
    assert_eq!(g.len(), 2, "{g:?}");
    let primary = g.iter().find(|(n, _)| !n.contains("-alt")).unwrap().clone();

    // Deployments under linear alternate the groups: deploy until production is on the
    // second one, the case that needs care when going back.
    let mut image = "nginx:1.27".to_string();
    for minor in 28..30 {
        if serving(&proxy).await != primary.0 {
            break;
        }
        image = format!("nginx:1.{minor}");
        let next = write(dir.path(), &image, linear);
        ecsdeploy(&proxy, &next, &["up"]).await.assert_success();
    }
    assert_ne!(serving(&proxy).await, primary.0);
    let running = revision(&service(&proxy).await);

    // Back to rolling: one more deployment brings traffic back to the group the rolling
    // service keeps, then the rule, the second group and the role go.
    let back = write(dir.path(), &image, "");
    proxy.clear();
    let out = ecsdeploy(&proxy, &back, &["up"]).await;
    out.assert_success();
    assert!(out.stderr.contains("one more deployment moves it"), "{out}");
    let svc = service(&proxy).await;
    let lb = &svc.load_balancers()[0];
    assert!(lb.advanced_configuration().is_none(), "{lb:?}");
    assert_eq!(lb.target_group_arn(), Some(primary.1.as_str()));
    assert_eq!(
        svc.deployment_configuration()
            .and_then(|d| d.strategy())
            .map(|s| s.as_str()),
        Some("ROLLING")
    );
    assert_eq!(groups(&proxy).await, vec![primary.clone()]);
    assert!(rules(&proxy, 80).await.iter().all(|(p, _)| p == "default"));
    assert_eq!(revision(&svc), running);
    let sent = proxy.ecs_requests();
    proxy.clear();
    ecsdeploy(&proxy, &back, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "converged on rolling");

    // `down` removes everything, the strategy's additions with the rest.
    ecsdeploy(&proxy, &to_linear, &["up"])
        .await
        .assert_success();
    ecsdeploy(&proxy, &to_linear, &["down", "--yes"])
        .await
        .assert_success();
    assert!(groups(&proxy).await.is_empty());
    let iam = aws_sdk_iam::Client::new(&sdk_config(&proxy, REGION).await);
    assert!(iam
        .get_role()
        .role_name("shift-ecs-infrastructure")
        .send()
        .await
        .is_err());
    assert_ecs_requests_valid(&sent);
}
