//! The offline commands: `schema`, `completions`, `validate`, `init`. None of them may call
//! AWS; the runs here point AWS_ENDPOINT_URL at a closed port to make sure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::venv_python;

/// Runs the binary in `dir` with no usable AWS: a closed endpoint, no credentials.
fn ecsdeploy(dir: &Path, args: &[&str]) -> Output {
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
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

/// Validate `documents` (TOML texts) against the schema with Python's `jsonschema` (in the
/// venv moto runs from); returns one verdict per document: `None` valid, else the error.
fn schema_verdicts(schema: &str, documents: &[String]) -> Vec<Option<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.json"), schema).unwrap();
    let mut files = Vec::new();
    for (i, d) in documents.iter().enumerate() {
        let value: toml::Value = toml::from_str(d).unwrap();
        let json = serde_json::to_string(&value).unwrap();
        let f = dir.path().join(format!("doc{i}.json"));
        std::fs::write(&f, json).unwrap();
        files.push(f);
    }
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema)
for f in sys.argv[2:]:
    errors = sorted(v.iter_errors(json.load(open(f))), key=lambda e: list(e.path))
    print(json.dumps(None if not errors else "; ".join(
        "/".join(map(str, e.path)) + ": " + e.message for e in errors)))
"#;
    let out = Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .arg(dir.path().join("schema.json"))
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_example_validates_against_the_schema_and_broken_ones_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ecsdeploy(tmp.path(), &["schema"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let schema = text(&out.stdout);
    let docs: Vec<String> = examples()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for (p, verdict) in examples().iter().zip(schema_verdicts(&schema, &docs)) {
        assert_eq!(verdict, None, "{} does not validate", p.display());
    }
    let base = "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n";
    assert!(schema.contains("draft-07"), "the draft taplo supports");
    let broken = [
        ("wrong type", format!("{base}cpu = \"lots\"\n"), "cpu"),
        (
            "unknown key",
            format!("{base}colour = \"blue\"\n"),
            "colour",
        ),
        (
            "bad enum value",
            format!("{base}subnets = \"dmz\"\n"),
            "dmz",
        ),
        (
            "missing app",
            "[services.web]\nimage = \"nginx\"\n".to_string(),
            "app",
        ),
        (
            "image of the wrong shape",
            "app = \"demo\"\n[services.web]\nimage = { repo = \"x\" }\n".to_string(),
            "image",
        ),
    ];
    let texts: Vec<String> = broken.iter().map(|(_, t, _)| t.clone()).collect();
    for ((what, _, needle), verdict) in broken.iter().zip(schema_verdicts(&schema, &texts)) {
        let e = verdict.unwrap_or_else(|| panic!("{what}: accepted by the schema"));
        assert!(e.contains(needle), "{what}: {e}");
    }
}

#[test]
fn completions_for_every_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = ecsdeploy(tmp.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains("ecsdeploy"), "{shell}");
        for sub in ["up", "logs", "exec", "validate"] {
            assert!(script.contains(sub), "{shell}: `{sub}` not completed");
        }
    }
    let out = ecsdeploy(tmp.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_is_offline_and_names_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    for p in examples() {
        let out = ecsdeploy(tmp.path(), &["-c", p.to_str().unwrap(), "validate"]);
        assert!(
            out.status.success(),
            "{}: {}",
            p.display(),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains("config OK"),
            "{}",
            text(&out.stdout)
        );
    }
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = 300\nports = [80, 80]\n",
    )
    .unwrap();
    let out = ecsdeploy(tmp.path(), &["-c", "bad.toml", "validate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml:4:1: services.web.cpu"), "{err}");
    assert!(err.contains("services.web.ports"), "{err}");
    let out = ecsdeploy(
        tmp.path(),
        &["-c", "bad.toml", "validate", "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["errors"][0]["line"], 4);
}

#[test]
fn init_writes_a_valid_config_and_never_overwrites_by_accident() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("My Shop");
    std::fs::create_dir(&dir).unwrap();
    // stdin is not a terminal: defaults, said on stderr.
    let out = ecsdeploy(&dir, &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("using app = \"my-shop\""),
        "{}",
        text(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.join("ecsdeploy.toml")).unwrap();
    assert!(written.contains("app = \"my-shop\""));
    assert!(written.contains("[load_balancer]"));
    let out = ecsdeploy(&dir, &["validate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = ecsdeploy(&dir, &["init", "--app", "other"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("ecsdeploy.toml")).unwrap(),
        written
    );

    let out = ecsdeploy(
        &dir,
        &[
            "-c",
            "api.toml",
            "init",
            "--app",
            "api",
            "--image",
            "nginx:1.27",
            "--port",
            "8080",
            "--no-load-balancer",
            "--arm64",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).is_empty(), "--yes asks and says nothing");
    let out = ecsdeploy(&dir, &["-c", "api.toml", "validate", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let api = std::fs::read_to_string(dir.join("api.toml")).unwrap();
    assert!(api.contains("ports = [8080]") && api.contains("ARM64") && api.contains("ingress"));

    // An app name that is not valid: nothing written.
    let out = ecsdeploy(
        &dir,
        &["-c", "x.toml", "init", "--app", "Bad_Name", "--yes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!dir.join("x.toml").exists());
}

/// Without a region anywhere, the user reads ecsdeploy's one line about it, not the AWS
/// SDK's warnings about the instance metadata service it tried on the way (those come with
/// `-v`). IMDS answers here from a closed port, so the SDK's attempt fails at once.
#[test]
fn no_region_is_one_line_and_the_sdks_warnings_need_verbose() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ecsdeploy.toml"),
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                c.env_remove(k);
            }
        }
        let home = dir.path().join("home");
        c.args(["plan"])
            .args(extra)
            .current_dir(dir.path())
            .env("HOME", &home)
            .env("AWS_CONFIG_FILE", home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let quiet = run(&[]);
    let err = text(&quiet.stderr);
    assert_eq!(quiet.status.code(), Some(2), "{err}");
    assert!(err.contains("no AWS region"), "{err}");
    assert!(
        !err.contains("IMDS") && !err.contains("aws_config"),
        "{err}"
    );
    assert!(
        err.lines().count() <= 3,
        "a short message, not the SDK's warnings: {err}"
    );
    let verbose = text(&run(&["-v"]).stderr);
    assert!(
        verbose.contains("IMDS"),
        "-v shows the SDK's warnings: {verbose}"
    );
}

/// AWS that cannot be reached (a wrong endpoint, no network) is said at the first failed
/// attempt, once, while the SDK goes on retrying (eight attempts, about 40 s), so the run
/// does not look hung. Watched for the first seconds of the retries (several attempts, by
/// more than one client), then stopped: the test does not wait the retries out.
#[test]
fn unreachable_aws_is_said_at_once_while_the_sdk_retries() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ecsdeploy.toml"),
        "app = \"demo\"\nregion = \"ap-northeast-1\"\n[services.web]\nimage = \"nginx\"\n",
    )
    .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    let mut child = c
        .args(["plan"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut lines = Vec::new();
    while started.elapsed() < Duration::from_secs(8) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
    }
    let ended = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let all = lines.join("\n");
    assert_eq!(ended, None, "still retrying after 8 s: {all}");
    let notices: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("AWS could not be reached ("))
        .collect();
    assert_eq!(
        notices.len(),
        1,
        "said once, not per attempt or client: {all}"
    );
    assert!(
        notices[0].contains("warning: AWS could not be reached (io error: ")
            && notices[0].contains("Connection refused"),
        "{all}"
    );
}
