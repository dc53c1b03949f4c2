//! `ecsdeploy run`: a one-off task from the live service's task definition and network,
//! against the realism layer, which runs the task's lifecycle and its command
//! (tests/common/tasks.rs: `echo` writes a log line, `exit N` is the exit code, an
//! `unpullable` image never starts).

mod common;

use aws_sdk_ecs::types::AssignPublicIp;
use common::realism::Realism;
use common::{run, sdk_config, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "us-east-1";

fn config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(
        &path,
        "app = \"rundemo\"\n\
         [services.web]\nimage = \"nginx\"\nports = [80]\n\
         [services.bad]\nimage = \"example.com/unpullable:1\"\n",
    )
    .unwrap();
    let p = path.display().to_string();
    (dir, p)
}

fn last_body(proxy: &Proxy, op: &str) -> Value {
    let bodies = proxy.bodies(op);
    serde_json::from_str(bodies.last().unwrap_or_else(|| panic!("no {op}"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_starts_a_task_like_the_service_and_exits_with_its_code() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let (_dir, cfg) = config();
    run(&proxy, REGION, &["-c", &cfg, "up"]).assert_success();
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    let svc = ecs
        .describe_services()
        .cluster("rundemo-cluster")
        .services("rundemo-web")
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone();
    let vpc = svc
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap()
        .clone();

    // Success: the logs on stdout, exit 0, one write (RunTask) shaped like the service.
    proxy.clear();
    let out = run(
        &proxy,
        REGION,
        &[
            "-c",
            &cfg,
            "run",
            "web",
            "--",
            "sh",
            "-c",
            "echo hello from the task; exit 0",
        ],
    );
    out.assert_success();
    assert!(out.stdout.contains("web | hello from the task"), "{out}");
    assert!(out.stderr.contains("exit code 0"), "{out}");
    // FilterLogEvents only reads, whatever its name says.
    let writes: Vec<String> = proxy
        .writes()
        .into_iter()
        .map(|c| c.operation)
        .filter(|o| o != "FilterLogEvents")
        .collect();
    assert_eq!(writes, ["RunTask"], "{out}");
    let req = last_body(&proxy, "RunTask");
    assert_eq!(req["taskDefinition"], svc.task_definition().unwrap());
    assert_eq!(req["launchType"], "FARGATE");
    assert_eq!(req["startedBy"], "ecsdeploy/run");
    assert_eq!(req["count"], 1);
    let o = &req["overrides"]["containerOverrides"][0];
    assert_eq!(o["name"], "web");
    assert_eq!(
        o["command"],
        serde_json::json!(["sh", "-c", "echo hello from the task; exit 0"])
    );
    let net = &req["networkConfiguration"]["awsvpcConfiguration"];
    let strings = |v: &Value| -> Vec<String> {
        let mut s: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s
    };
    let mut subnets = vpc.subnets().to_vec();
    subnets.sort();
    let mut groups = vpc.security_groups().to_vec();
    groups.sort();
    assert_eq!(strings(&net["subnets"]), subnets);
    assert_eq!(strings(&net["securityGroups"]), groups);
    let public = vpc.assign_public_ip() == Some(&AssignPublicIp::Enabled);
    assert_eq!(
        net["assignPublicIp"],
        if public { "ENABLED" } else { "DISABLED" }
    );
    assert!(req["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "ecsdeploy:app" && t["value"] == "rundemo"));

    // A non-zero exit is the process's exit code.
    let out = run(
        &proxy,
        REGION,
        &[
            "-c",
            &cfg,
            "run",
            "web",
            "--",
            "sh",
            "-c",
            "echo failing; exit 3",
        ],
    );
    assert_eq!(out.code, Some(3), "{out}");
    assert!(out.stdout.contains("failing"), "{out}");

    // JSON: one result on stdout.
    let out = run(
        &proxy,
        REGION,
        &[
            "-c", &cfg, "--output", "json", "run", "web", "--", "sh", "-c", "exit 5",
        ],
    );
    assert_eq!(out.code, Some(5), "{out}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["exit_code"], 5);
    assert_eq!(v["stop_code"], "EssentialContainerExited");
    assert_eq!(v["container"], "web");
    let task_arn = v["task_arn"].as_str().unwrap().to_owned();
    let described = ecs
        .describe_tasks()
        .cluster("rundemo-cluster")
        .tasks(&task_arn)
        .send()
        .await
        .unwrap();
    let t = &described.tasks()[0];
    assert_eq!(t.last_status(), Some("STOPPED"));
    assert_eq!(t.containers()[0].exit_code(), Some(5));

    // --detach: the ARN, at once, without waiting.
    proxy.clear();
    let out = run(
        &proxy,
        REGION,
        &[
            "-c", &cfg, "run", "web", "--detach", "--", "sh", "-c", "echo x",
        ],
    );
    out.assert_success();
    let arn = out.stdout.trim();
    assert!(
        arn.starts_with("arn:aws:ecs:") && arn.contains(":task/"),
        "{out}"
    );
    assert_eq!(proxy.count("DescribeTasks"), 0, "{out}");
    let described = ecs
        .describe_tasks()
        .cluster("rundemo-cluster")
        .tasks(arn)
        .send()
        .await
        .unwrap();
    assert_ne!(described.tasks()[0].last_status(), Some("STOPPED"));

    // A task that cannot start: the reason, exit 1.
    let out = run(&proxy, REGION, &["-c", &cfg, "run", "bad"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("CannotPullContainerError"), "{out}");
    assert!(out.stderr.contains("TaskFailedToStart"), "{out}");

    // A container the task definition does not have: a usage error, no task.
    proxy.clear();
    let out = run(
        &proxy,
        REGION,
        &["-c", &cfg, "run", "web", "--container", "nope"],
    );
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("its containers: web"), "{out}");
    assert_eq!(proxy.count("RunTask"), 0);
}

/// Waits until the binary has described its task `n` times (it is watching it).
async fn watching(proxy: &Proxy, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while proxy.count("DescribeTasks") < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            proxy.operations()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn sigint(child: &tokio::process::Child) {
    let pid = child.id().expect("still running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

async fn ended(child: tokio::process::Child) -> common::Output {
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the interrupted run ends")
        .unwrap();
    common::Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_task_with_yes_and_leaves_it_without() {
    let realism = Realism {
        tasks: common::tasks::TaskTimes {
            running: std::time::Duration::from_secs(600),
            ..Default::default()
        },
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let (_dir, cfg) = config();
    run(&proxy, REGION, &["-c", &cfg, "up"]).assert_success();
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);

    // --yes: stopped, exit 130.
    proxy.clear();
    let child = common::spawn_captured(&proxy, REGION, &["-c", &cfg, "run", "web", "--yes"]);
    watching(&proxy, 2).await;
    sigint(&child);
    let out = ended(child).await;
    assert_eq!(out.code, Some(130), "{out}");
    assert!(out.stderr.contains("stopped task"), "{out}");
    let stop: Value = serde_json::from_str(&proxy.bodies("StopTask")[0]).unwrap();
    let task = stop["task"].as_str().unwrap().to_owned();
    let described = ecs
        .describe_tasks()
        .cluster("rundemo-cluster")
        .tasks(&task)
        .send()
        .await
        .unwrap();
    let t = &described.tasks()[0];
    assert_eq!(t.desired_status(), Some("STOPPED"));
    assert_eq!(t.stop_code().map(|c| c.as_str()), Some("UserInitiated"));

    // No terminal, no --yes: left running, and said so.
    proxy.clear();
    let child = common::spawn_captured(&proxy, REGION, &["-c", &cfg, "run", "web"]);
    watching(&proxy, 2).await;
    sigint(&child);
    let out = ended(child).await;
    assert_eq!(out.code, Some(130), "{out}");
    assert!(out.stderr.contains("is still running"), "{out}");
    assert!(out.stderr.contains("aws ecs stop-task"), "{out}");
    assert_eq!(proxy.count("StopTask"), 0, "{out}");
}
