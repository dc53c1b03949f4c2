//! `ecsdeploy exec`: what can be checked without a running task. moto 5.2.5 implements
//! neither ExecuteCommand nor tasks for services, so the session-manager-plugin hand-off is
//! covered by unit tests of its argument list (src/commands/exec.rs).

mod common;

use common::{run_with_env, unique_account, Proxy};

const REGION: &str = "us-east-1";

fn config(enable: bool) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(
        &path,
        format!(
            "app = \"execdemo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
             enable_execute_command = {enable}\n"
        ),
    )
    .unwrap();
    let p = path.display().to_string();
    (dir, p)
}

/// A PATH with a stub plugin (that records its arguments), or without one.
fn path_with_plugin(with: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if with {
        let plugin = dir.path().join("session-manager-plugin");
        std::fs::write(&plugin, "#!/bin/sh\necho \"$@\" > \"$0.args\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_clearly_before_calling_execute_command() {
    let proxy = Proxy::start(&unique_account()).await;

    // Without the plugin: say so, with where to get it.
    let (_d, cfg) = config(true);
    let bin = path_with_plugin(false);
    let env = [("PATH", bin.path().to_str().unwrap())];
    let out = run_with_env(
        &proxy,
        REGION,
        &["-c", &cfg, "exec", "web", "--", "ls"],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("session-manager-plugin"), "{out}");
    assert!(
        out.stderr
            .contains("session-manager-working-with-install-plugin"),
        "{out}"
    );

    // Exec not enabled for the service: the hint to enable it.
    let (_d2, cfg2) = config(false);
    let bin = path_with_plugin(true);
    let env = [("PATH", bin.path().to_str().unwrap())];
    let out = run_with_env(&proxy, REGION, &["-c", &cfg2, "exec", "web"], &env).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("enable_execute_command = true"),
        "{out}"
    );

    // Unknown service.
    let out = run_with_env(&proxy, REGION, &["-c", &cfg, "exec", "api"], &env).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("services: web"), "{out}");

    // Not deployed: say so.
    let out = run_with_env(&proxy, REGION, &["-c", &cfg, "exec", "web"], &env).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("run `ecsdeploy up` first"), "{out}");

    // With the plugin but nothing running: the tasks are looked up, nothing is started.
    run_with_env(&proxy, REGION, &["-c", &cfg, "up", "--no-wait"], &env)
        .await
        .assert_success();
    let out = run_with_env(
        &proxy,
        REGION,
        &["-c", &cfg, "exec", "web", "--", "ls"],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("no running task"), "{out}");
    assert!(proxy.count("ListTasks") >= 1);
    assert_eq!(proxy.count("ExecuteCommand"), 0);
    assert!(!bin.path().join("session-manager-plugin.args").exists());
}
