//! `ecsdeploy init --from-copilot DIR` on Copilot's own documented manifests
//! (tests/fixtures/copilot, sources in SOURCES.md): the binary converts each workspace,
//! names every field it did not convert with file:line:col (on stdout and at the top of the
//! file), and `validate` accepts what it wrote, for the base and every environment. `plan`
//! on a converted config runs against the emulator.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{run_async, unique_account, Proxy};

/// Runs the binary in `dir` with no usable AWS (the conversion and `validate` are offline).
fn ecsdeploy(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A copy of the fixture workspace `case`, to convert in.
fn workspace(case: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/copilot")
        .join(case);
    let dir = tempfile::tempdir().unwrap();
    copy(&src, dir.path());
    let root = dir.path().to_path_buf();
    (dir, root)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Convert `case`, check that each of `expected` (`file:line:col: field`) is listed on
/// stdout and in the file, and that `validate` accepts the file. Returns the file's text.
fn convert(case: &str, expected: &[&str], env: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let (dir, root) = workspace(case);
    let out = ecsdeploy(&root, &["init", "--from-copilot", "."], env);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let written = std::fs::read_to_string(root.join("ecsdeploy.toml")).unwrap();
    for e in expected {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(e)),
            "`{e}` is not listed:\n{stdout}"
        );
        assert!(
            written.lines().any(|l| l.starts_with(&format!("#   {e}"))),
            "`{e}` is not at the top of the file:\n{written}"
        );
    }
    let v = ecsdeploy(&root, &["validate"], env);
    assert!(
        v.status.success(),
        "{}\n{}\n{written}",
        text(&v.stdout),
        text(&v.stderr)
    );
    (dir, written)
}

#[test]
fn documented_samples_convert_and_validate() {
    let (_d, written) = convert(
        "docs",
        &[
            "copilot/api/manifest.yml:22:1: env_file:",
            "copilot/frontend/manifest.yml:20:3: secrets.GITHUB_TOKEN: an SSM Parameter Store parameter",
            "copilot/orders/manifest.yml:18:3: count.requests:",
            "copilot/orders/manifest.yml:19:3: count.response_time:",
            "copilot/report-generator/manifest.yml:2:1: type: Scheduled Job `report-generator`",
            "copilot/tls/manifest.yml:17:3: http.target_container:",
            "copilot/wp/manifest.yml:11:1: http: service `frontend` has the same path",
            "copilot/wp/manifest.yml:26:5: sidecars.bootstrap.mount_points:",
        ],
        &[],
    );
    assert!(
        written.contains("[secrets.db-secret]")
            || written.contains("db-secret = { existing = \"mysql\" }"),
        "{written}"
    );
    assert!(
        written.contains("[environments.test.services.api]"),
        "{written}"
    );
    assert!(written.contains("[environments.qa.network]"), "{written}");
    assert!(
        written.contains("[[services.frontend-4.sidecars]]"),
        "{written}"
    );
    assert!(
        written.contains(r#"{ condition = "SUCCESS", container = "bootstrap" }"#),
        "{written}"
    );
}

#[test]
fn copilot_testdata_converts_and_validates() {
    convert(
        "testdata",
        &[
            "copilot/cuteness-aggregator/manifest.yml:7:1: type: Scheduled Job `cuteness-aggregator`",
            "copilot/environments/test/manifest.yml:24:5: http.public.certificates:",
            "copilot/subscribers/manifest.yml:20:5: image.healthcheck.retries:",
            "copilot/subscribers/manifest.yml:21:5: image.healthcheck.timeout:",
        ],
        &[],
    );
}

#[test]
fn e2e_workspace_with_efs_and_certificates_converts_and_validates() {
    // The certificate ARN of the documented environment uses Copilot's ${AWS_REGION} and
    // ${AWS_ACCOUNT_ID}, which ecsdeploy expands from the environment the same way.
    let env = [
        ("AWS_REGION", "us-west-2"),
        ("AWS_ACCOUNT_ID", "123456789012"),
    ];
    let (_d, written) = convert(
        "multi",
        &[
            "copilot/front-end/manifest.yml:25:1: nlb:",
            "copilot/front-end/manifest.yml:44:3: storage.ephemeral:",
            "copilot/warehouse/manifest.yml:9:1: publish:",
        ],
        &env,
    );
    assert!(written.contains("[file_systems.efstestvolume"), "{written}");
    assert!(written.contains("redirect_https_port = 443"), "{written}");
}

#[test]
fn an_existing_file_is_refused_unless_forced_and_json_names_places() {
    let (_d, root) = workspace("testdata");
    std::fs::write(root.join("ecsdeploy.toml"), "mine\n").unwrap();
    let out = ecsdeploy(&root, &["init", "--from-copilot", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("ecsdeploy.toml")).unwrap(),
        "mine\n"
    );

    let out = ecsdeploy(
        &root,
        &["--output", "json", "init", "--from-copilot", ".", "--force"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["app"], "testdata");
    assert_eq!(v["config"], "ecsdeploy.toml");
    let job = v["not_converted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["file"] == "copilot/cuteness-aggregator/manifest.yml")
        .expect("the job is listed");
    assert_eq!(
        (job["line"].as_u64(), job["col"].as_u64()),
        (Some(7), Some(1))
    );
    assert!(job["reason"].as_str().unwrap().contains("Scheduled Job"));
}

#[test]
fn not_a_workspace_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = ecsdeploy(dir.path(), &["init", "--from-copilot", "."], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a Copilot workspace"));
    assert!(!dir.path().join("ecsdeploy.toml").exists());
}

/// `plan` runs on a converted config: the base against the emulator.
#[tokio::test]
async fn plan_runs_on_the_converted_config() {
    let (_d, root) = workspace("testdata");
    let out = ecsdeploy(&root, &["init", "--from-copilot", "."], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let proxy = Proxy::start(&unique_account()).await;
    let cfg = root.join("ecsdeploy.toml");
    let out = run_async(&proxy, "us-east-1", &["-c", cfg.to_str().unwrap(), "plan"]).await;
    out.assert_success();
    assert!(out.stdout.contains("service.frontend"), "{out}");
    assert!(out.stdout.contains("service.subscribers"), "{out}");
}
