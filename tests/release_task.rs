//! Release tasks (`services.<key>.release`) under the realism layer, which runs one-off
//! tasks' lifecycle and their command (tests/common/tasks.rs: `echo` writes a log line,
//! `exit N` is the exit code): the release runs before the service is created or moved to a
//! new revision, never on an `up` that changes nothing, and a failing one stops the deploy
//! of its service and of the services that depend on it.

mod common;

use common::realism::Realism;
use common::{run_with_env, sdk_config, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "us-east-1";

fn config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(
        &path,
        r#"app = "reldemo"
[services.web]
image = "nginx"
ports = [80]
environment = { VERSION = "${VERSION}" }
release = { command = ["sh", "-c", "echo migrating to ${VERSION}; exit ${MIGRATE_EXIT}"], timeout = 120 }

[services.worker]
image = "nginx"
environment = { VERSION = "${VERSION}" }
depends_on = ["web"]
"#,
    )
    .unwrap();
    let p = path.display().to_string();
    (dir, p)
}

async fn task_definitions(proxy: &Proxy) -> (String, String) {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(proxy, REGION).await);
    let out = ecs
        .describe_services()
        .cluster("reldemo-cluster")
        .services("reldemo-web")
        .services("reldemo-worker")
        .send()
        .await
        .unwrap();
    let td = |name: &str| {
        out.services()
            .iter()
            .find(|s| s.service_name() == Some(name))
            .and_then(|s| s.task_definition())
            .unwrap_or_else(|| panic!("{name} not found"))
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    (td("reldemo-web"), td("reldemo-worker"))
}

fn writes(proxy: &Proxy) -> Vec<String> {
    proxy
        .writes()
        .into_iter()
        .map(|c| c.operation)
        .filter(|o| o != "FilterLogEvents") // a read, whatever its name says
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_runs_before_each_deploy_and_a_failed_one_stops_it() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let (_dir, cfg) = config();
    let up = |version: &'static str, exit: &'static str| {
        let proxy = &proxy;
        let cfg = cfg.clone();
        async move {
            let env = [("VERSION", version), ("MIGRATE_EXIT", exit)];
            run_with_env(proxy, REGION, &["-c", &cfg, "up"], &env).await
        }
    };

    // First deploy: the release runs (with the service's network) before the service is
    // created, and the dependent service after both.
    let out = up("1", "0").await;
    out.assert_success();
    let ops = proxy.operations();
    let run_at = ops
        .iter()
        .position(|o| o == "RunTask")
        .expect("a release task ran");
    let creates: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| *o == "CreateService")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(creates.len(), 2, "{ops:?}");
    assert!(creates.iter().all(|c| *c > run_at), "{ops:?}");
    let req: Value = serde_json::from_str(&proxy.bodies("RunTask")[0]).unwrap();
    assert_eq!(req["startedBy"], "ecsdeploy/release");
    assert_eq!(req["launchType"], "FARGATE");
    assert!(req["taskDefinition"]
        .as_str()
        .unwrap()
        .ends_with("task-definition/reldemo-web:1"));
    let o = &req["overrides"]["containerOverrides"][0];
    assert_eq!(o["name"], "web");
    assert_eq!(
        o["command"],
        serde_json::json!(["sh", "-c", "echo migrating to 1; exit 0"])
    );
    let net = &req["networkConfiguration"]["awsvpcConfiguration"];
    assert!(!net["subnets"].as_array().unwrap().is_empty());
    assert!(!net["securityGroups"].as_array().unwrap().is_empty());
    assert!(out.stderr.contains("migrating to 1"), "{out}");
    assert_eq!(
        task_definitions(&proxy).await,
        ("reldemo-web:1".into(), "reldemo-worker:1".into())
    );

    // Nothing changed: no release, no write at all.
    proxy.clear();
    let out = up("1", "0").await;
    out.assert_success();
    assert_eq!(writes(&proxy), Vec::<String>::new(), "{out}");

    // A new revision whose migration fails: exit 1 with the task's last log lines, the
    // service and its dependent still on the old revision.
    proxy.clear();
    let out = up("2", "3").await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("exit code 3"), "{out}");
    assert!(out.stderr.contains("last log lines"), "{out}");
    assert!(out.stderr.contains("web | migrating to 2"), "{out}");
    assert!(proxy.count("RegisterTaskDefinition") >= 1);
    assert_eq!(proxy.count("UpdateService"), 0, "{out}");
    assert_eq!(
        task_definitions(&proxy).await,
        ("reldemo-web:1".into(), "reldemo-worker:1".into())
    );

    // The plan says the release will run again, before the service moves.
    let plan = run_with_env(
        &proxy,
        REGION,
        &["-c", &cfg, "plan"],
        &[("VERSION", "2"), ("MIGRATE_EXIT", "0")],
    )
    .await;
    plan.assert_success();
    assert!(plan.stdout.contains("release.web"), "{plan}");

    // Fixed: the release runs, then the services move to the new revision.
    proxy.clear();
    let out = up("2", "0").await;
    out.assert_success();
    let ops = proxy.operations();
    let run_at = ops
        .iter()
        .position(|o| o == "RunTask")
        .expect("the release ran");
    let update_at = ops
        .iter()
        .position(|o| o == "UpdateService")
        .expect("an update");
    assert!(run_at < update_at, "{ops:?}");
    assert_eq!(
        task_definitions(&proxy).await,
        ("reldemo-web:2".into(), "reldemo-worker:2".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_past_its_timeout_is_stopped_and_fails_the_deploy() {
    let realism = Realism {
        tasks: common::tasks::TaskTimes {
            running: std::time::Duration::from_secs(600),
            ..Default::default()
        },
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(
        &cfg,
        "app = \"reltimeout\"\n[services.web]\nimage = \"nginx\"\n\
         release = { command = [\"./slow-migration\"], timeout = 3 }\n",
    )
    .unwrap();
    let out = run_with_env(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"], &[]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("longer than its timeout (3 s)"),
        "{out}"
    );
    assert_eq!(proxy.count("StopTask"), 1, "{out}");
    assert_eq!(proxy.count("CreateService"), 0, "{out}");
}
