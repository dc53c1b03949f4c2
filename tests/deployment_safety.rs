//! How a deployment is judged failed (issue 18 #3): the circuit breaker's threshold and
//! reset, early success, and rollback alarms, sent as ECS's `deploymentConfiguration`,
//! read back through the AWS-realism layer (which keeps them as AWS does; moto drops them
//! on create), converged without writes, and changed or removed in place.

mod common;

use std::path::{Path, PathBuf};

use common::realism::Realism;
use common::{run_async, sdk_config, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "ap-northeast-1";

const BASE: &str = r#"
app = "dsafe"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[services.web]
image = "nginx:latest"
ports = [80]
desired_count = 1
subnets = "public"
assign_public_ip = true
"#;

fn write(dir: &Path, deployment: &str) -> PathBuf {
    let path = dir.join("ecsdeploy.toml");
    std::fs::write(&path, format!("{BASE}\n{deployment}")).unwrap();
    path
}

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

/// The service as DescribeServices shows it through the realism layer.
async fn service(proxy: &Proxy) -> aws_sdk_ecs::types::Service {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(proxy, REGION).await);
    let out = ecs
        .describe_services()
        .cluster("dsafe-cluster")
        .services("dsafe-web")
        .send()
        .await
        .unwrap();
    out.services()[0].clone()
}

async fn deployment_configuration(proxy: &Proxy) -> aws_sdk_ecs::types::DeploymentConfiguration {
    service(proxy)
        .await
        .deployment_configuration()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn failure_detection_settings_are_sent_kept_and_removed() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let dir = tempfile::tempdir().unwrap();
    let strict = write(
        dir.path(),
        "[services.web.deployment]\n\
         failure_threshold = 3\n\
         reset_on_healthy_task = false\n\
         early_success_percent = 100\n\
         rollback_alarms = [\"dsafe-5xx\", \"dsafe-latency\"]\n",
    );
    ecsdeploy(&proxy, &strict, &["up"]).await.assert_success();
    let d = deployment_configuration(&proxy).await;
    let cb = d.deployment_circuit_breaker().unwrap();
    assert!(cb.enable() && cb.rollback());
    assert_eq!(cb.reset_on_healthy_task(), Some(false));
    let t = cb.threshold_configuration().unwrap();
    assert_eq!((t.r#type().as_str(), t.value()), ("COUNT", 3));
    let early = d.early_success_criteria().unwrap();
    assert!(early.enable());
    assert_eq!(early.healthy_percent(), Some(100));
    assert_eq!(
        early.source_service_revision_cleanup().map(|c| c.as_str()),
        Some("BLOCKING")
    );
    let alarms = d.alarms().unwrap();
    assert!(alarms.enable() && alarms.rollback());
    assert_eq!(alarms.alarm_names(), ["dsafe-5xx", "dsafe-latency"]);

    // Unchanged: nothing to write, and the plan says so.
    proxy.clear();
    ecsdeploy(&proxy, &strict, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "converged");

    // A percentage, and the rest gone: shown by plan, then one UpdateService that turns the
    // alarms and early success off and resets to AWS's default (left out, a setting may
    // stay as it was).
    let relaxed = write(
        dir.path(),
        "[services.web.deployment]\nfailure_threshold = \"25%\"\n",
    );
    let out = ecsdeploy(&proxy, &relaxed, &["plan"]).await;
    out.assert_success();
    assert!(
        out.stdout
            .contains("deployment.circuit_breaker.failure_threshold: \"3 tasks\" → \"25%\"")
            || out.stdout.contains("failure_threshold: 3 tasks → 25%"),
        "{out}"
    );
    assert!(out.stdout.contains("deployment.alarms"), "{out}");
    proxy.clear();
    ecsdeploy(&proxy, &relaxed, &["up"]).await.assert_success();
    let sent = proxy.bodies("UpdateService");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent: Value = serde_json::from_str(&sent[0]).unwrap();
    let sent = &sent["deploymentConfiguration"];
    assert_eq!(sent["alarms"]["enable"], false, "{sent}");
    assert_eq!(sent["earlySuccessCriteria"]["enable"], false, "{sent}");
    assert_eq!(sent["deploymentCircuitBreaker"]["resetOnHealthyTask"], true);
    assert_eq!(
        sent["deploymentCircuitBreaker"]["thresholdConfiguration"],
        serde_json::json!({"type": "BOUNDED_PERCENT", "value": 25})
    );
    let d = deployment_configuration(&proxy).await;
    assert!(!d.alarms().unwrap().enable());
    proxy.clear();
    ecsdeploy(&proxy, &relaxed, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "converged after the change");
}

#[tokio::test]
async fn early_success_below_the_minimum_is_refused_before_any_call() {
    let proxy = Proxy::start(&unique_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "[services.web.deployment]\n\
         minimum_healthy_percent = 100\n\
         early_success_percent = 50\n\
         failure_threshold = 0\n\
         rollback_alarms = [\"a\", \"a\"]\n",
    );
    let out = ecsdeploy(&proxy, &bad, &["up"]).await;
    out.assert_failure();
    assert_eq!(out.code, Some(2), "{out}");
    for key in [
        "services.web.deployment.early_success_percent",
        "services.web.deployment.failure_threshold",
        "services.web.deployment.rollback_alarms[1]",
    ] {
        assert!(out.stderr.contains(key), "{key} not named: {out}");
    }
    assert!(proxy.calls().is_empty(), "{:?}", proxy.operations());
}

/// The example's service on `image`, with the realism layer's deployments `deployment`
/// long.
fn on_image(dir: &Path, image: &str) -> PathBuf {
    let path = dir.join("ecsdeploy.toml");
    std::fs::write(&path, BASE.replace("nginx:latest", image)).unwrap();
    path
}

async fn task_definition(proxy: &Proxy) -> String {
    let td = service(proxy).await.task_definition().unwrap().to_string();
    td.rsplit('/').next().unwrap().to_string()
}

/// The service's deployment history (one page is enough here).
async fn history(proxy: &Proxy) -> Vec<aws_sdk_ecs::types::ServiceDeploymentBrief> {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(proxy, REGION).await);
    let listed = ecs
        .list_service_deployments()
        .cluster("dsafe-cluster")
        .service("dsafe-web")
        .send()
        .await
        .unwrap();
    listed.service_deployments().to_vec()
}

fn json(out: &common::Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn rollback_after_completion_deploys_the_previous_successful_revision() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let dir = tempfile::tempdir().unwrap();
    let v1 = on_image(dir.path(), "nginx:1.27");

    // One revision only: nothing to go back to, and nothing written.
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    proxy.clear();
    let out = ecsdeploy(&proxy, &v1, &["rollback", "web"]).await;
    out.assert_failure();
    assert!(out.stderr.contains("nothing to roll back to"), "{out}");
    assert_eq!(proxy.writes().len(), 0, "{:?}", proxy.writes());

    let v2 = on_image(dir.path(), "nginx:1.28");
    ecsdeploy(&proxy, &v2, &["up"]).await.assert_success();
    assert_eq!(task_definition(&proxy).await, "dsafe-web:2");

    proxy.clear();
    let out = ecsdeploy(&proxy, &v2, &["--output", "json", "rollback", "web"]).await;
    out.assert_success();
    let done = json(&out);
    assert_eq!(done["rollback"]["action"], "redeployed", "{done}");
    assert!(done["rollback"]["to"]
        .as_str()
        .unwrap()
        .ends_with("dsafe-web:1"));
    assert!(done["rollback"]["from"]
        .as_str()
        .unwrap()
        .ends_with("dsafe-web:2"));
    assert_eq!(task_definition(&proxy).await, "dsafe-web:1");
    let writes: Vec<String> = proxy.writes().iter().map(|c| c.operation.clone()).collect();
    assert_eq!(writes, ["UpdateService"], "only the service moves back");

    // The config still names :2's image: plan says so, and up deploys it again.
    let out = ecsdeploy(&proxy, &v2, &["plan"]).await;
    assert!(out.stdout.contains("task_definition"), "{out}");
    ecsdeploy(&proxy, &v2, &["up"]).await.assert_success();
    assert_eq!(task_definition(&proxy).await, "dsafe-web:2");
}

#[tokio::test]
async fn rollback_in_flight_stops_the_deployment_and_ecs_rolls_it_back() {
    let realism = Realism {
        deployment: std::time::Duration::from_secs(12),
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let dir = tempfile::tempdir().unwrap();
    let v1 = on_image(dir.path(), "nginx:1.27");
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    let v2 = on_image(dir.path(), "nginx:1.28");
    ecsdeploy(&proxy, &v2, &["up", "--no-wait"])
        .await
        .assert_success();
    // `status` shows the deployment in flight, with its stage.
    let out = ecsdeploy(&proxy, &v2, &["status"]).await;
    assert!(out.stdout.contains("IN_PROGRESS (scale up)"), "{out}");

    proxy.clear();
    let out = ecsdeploy(&proxy, &v2, &["--output", "json", "rollback", "web"]).await;
    out.assert_success();
    let done = json(&out);
    assert_eq!(
        done["rollback"]["action"], "stopped_with_rollback",
        "{done}"
    );
    assert!(done["rollback"]["to"]
        .as_str()
        .unwrap()
        .ends_with("dsafe-web:1"));
    let stops = proxy.bodies("StopServiceDeployment");
    assert_eq!(stops.len(), 1, "{stops:?}");
    let stop: Value = serde_json::from_str(&stops[0]).unwrap();
    assert_eq!(stop["stopType"], "ROLLBACK");
    assert_eq!(
        proxy.count("UpdateService"),
        0,
        "ECS rolls back, not ecsdeploy"
    );

    let listed = history(&proxy).await;
    let stopped = listed
        .iter()
        .find(|d| d.service_deployment_arn() == stop["serviceDeploymentArn"].as_str())
        .unwrap();
    assert_eq!(stopped.status().unwrap().as_str(), "ROLLBACK_SUCCESSFUL");
    assert_eq!(task_definition(&proxy).await, "dsafe-web:1");
    let out = ecsdeploy(&proxy, &v2, &["status"]).await;
    assert!(out.stdout.contains("ROLLBACK_SUCCESSFUL"), "{out}");
}

/// A revision whose tasks never start: the circuit breaker fails its deployment and ECS
/// rolls back to the previous revision. `up` exits 1 with the reason and the revision rolled
/// back to; the service runs the old revision; the history says ROLLBACK_SUCCESSFUL; and the
/// next `up` does not call this converged (it deploys the config's revision again, which
/// fails again).
#[tokio::test]
async fn a_revision_the_circuit_breaker_rolls_back_fails_the_run_and_the_next() {
    let realism = Realism {
        failing_revisions: vec!["dsafe-web:2".into()],
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let dir = tempfile::tempdir().unwrap();
    let v1 = on_image(dir.path(), "nginx:1.27");
    ecsdeploy(&proxy, &v1, &["up"]).await.assert_success();
    let v2 = on_image(dir.path(), "nginx:1.28");
    let out = ecsdeploy(&proxy, &v2, &["up"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stdout
            .contains("circuit breaker: tasks failed to start")
            && out.stdout.contains("rolled back to dsafe-web:1"),
        "{out}"
    );
    assert_eq!(task_definition(&proxy).await, "dsafe-web:1");
    let listed = history(&proxy).await;
    let newest = listed
        .iter()
        .max_by_key(|d| d.created_at().map(|t| t.as_secs_f64() as i64))
        .unwrap();
    assert!(
        matches!(
            newest.status().unwrap().as_str(),
            "ROLLBACK_IN_PROGRESS" | "ROLLBACK_SUCCESSFUL"
        ),
        "{newest:?}"
    );

    // ECS rolled it back already: `rollback` changes nothing (going back again would skip
    // the good revision), once the rollback is over (bounded at 30 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !history(&proxy)
        .await
        .iter()
        .any(|d| d.status().map(|s| s.as_str()) == Some("ROLLBACK_SUCCESSFUL"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "ECS's rollback never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    proxy.clear();
    let out = ecsdeploy(&proxy, &v2, &["--output", "json", "rollback", "web"]).await;
    out.assert_success();
    assert_eq!(
        json(&out)["rollback"]["action"],
        "already_rolled_back",
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![], "nothing written");

    // Not converged: plan shows the revision to deploy, and up fails again the same way.
    let out = ecsdeploy(&proxy, &v2, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    let out = ecsdeploy(&proxy, &v2, &["up"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(task_definition(&proxy).await, "dsafe-web:1");
}
