//! Images built from source (`image = { build = { ... } }`), with a stub `docker` on PATH:
//! there is no docker engine here. The stub records its arguments and what it reads on
//! stdin, and "pushes" the way docker would from ECR's point of view: PutImage on the
//! emulator, through the recording proxy. Everything ecsdeploy does (login token, tag from
//! git, platform from the task architecture, pinning by the digest ECR reports, ordering
//! against the infrastructure) is the real code path.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    run_with_env, sdk_config, spawn_captured_with_env, unique_account, venv_python, Proxy,
};

const REGION: &str = "us-east-1";

const STUB_DOCKER: &str = r##"#!/bin/sh
printf '%s\n' "$*" >> "$STUB_DOCKER_LOG"
case "$1" in
login)
    cat > "$STUB_DOCKER_LOG.stdin"
    echo "Login Succeeded"
    ;;
buildx)
    ref=""; prev=""
    for a in "$@"; do
        [ "$prev" = "--tag" ] && ref="$a"
        prev="$a"
    done
    echo "#1 [internal] load build definition from Dockerfile"
    if [ -n "$STUB_BUILD_HANGS" ]; then
        # Like docker's buildx plugin: a process of its own, building until stopped.
        sh -c 'echo $$ > "$STUB_DOCKER_LOG.plugin"; exec sleep 60' &
        wait
        exit 1
    fi
    # Long enough for the infrastructure steps to be seen running meanwhile.
    sleep 2
    exec "$STUB_PYTHON" "$STUB_PUSH" "$ref"
    ;;
*)
    echo "stub docker: unexpected command $*" >&2
    exit 1
    ;;
esac
"##;

/// What `docker push` leaves in ECR: an image manifest under the tag. The layer digest
/// follows the tag, so each build has its own image digest.
const STUB_PUSH: &str = r#"
import hashlib, json, os, sys
import boto3
ref = sys.argv[1]
repo_path, tag = ref.rsplit(":", 1)
repo = repo_path.split("/", 1)[1]
layer = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
               "digest": "sha256:" + "c" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 42,
                "digest": layer}],
}
ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                   region_name=os.environ["AWS_REGION"])
ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest), imageTag=tag)
print("pushed", ref)
"#;

/// A project directory: git repo with `api/Dockerfile` and a config building it.
struct Project {
    dir: tempfile::TempDir,
    app: String,
}

impl Project {
    fn new(app: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir(p.join("api")).unwrap();
        std::fs::write(p.join("api/Dockerfile"), "FROM scratch\nCOPY app /app\n").unwrap();
        std::fs::write(p.join("api/app"), "v1\n").unwrap();
        std::fs::write(
            p.join("ecsdeploy.toml"),
            format!(
                r#"app = "{app}"
[services.api]
image = {{ build = {{ context = "./api", args = {{ VERSION = "1.0" }} }} }}
cpu_architecture = "ARM64"
ports = [8080]
ingress = [{{ port = 8080, cidrs = ["10.0.0.0/16"] }}]
"#
            ),
        )
        .unwrap();
        git(p, &["init", "-q"]);
        git(p, &["add", "."]);
        git(p, &["commit", "-q", "-m", "first"]);
        Project {
            dir,
            app: app.to_string(),
        }
    }

    fn config(&self) -> String {
        self.dir.path().join("ecsdeploy.toml").display().to_string()
    }

    fn head(&self) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.dir.path())
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn commit_change(&self) {
        std::fs::write(self.dir.path().join("api/app"), "v2\n").unwrap();
        git(self.dir.path(), &["commit", "-q", "-am", "second"]);
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A directory holding the stub `docker` (and the push script), and its log.
struct Stub {
    dir: tempfile::TempDir,
}

impl Stub {
    fn new() -> Stub {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        std::fs::write(&docker, STUB_DOCKER).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("push.py"), STUB_PUSH).unwrap();
        Stub { dir }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("docker.log")
    }

    /// One line per docker invocation: its arguments.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn login_stdin(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("docker.log.stdin")).unwrap_or_default()
    }

    /// PATH with the stub first; git and sh stay reachable.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "PATH".into(),
                format!(
                    "{}:{}",
                    self.dir.path().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            ),
            (
                "STUB_DOCKER_LOG".into(),
                self.log_path().display().to_string(),
            ),
            ("STUB_PYTHON".into(), venv_python().display().to_string()),
            (
                "STUB_PUSH".into(),
                self.dir.path().join("push.py").display().to_string(),
            ),
        ]
    }
}

async fn ecsdeploy(
    proxy: &Proxy,
    project: &Project,
    env: &[(String, String)],
    args: &[&str],
) -> common::Output {
    let config = project.config();
    let mut all = vec!["-c", config.as_str()];
    all.extend_from_slice(args);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_with_env(proxy, REGION, &all, &env).await
}

async fn digest_of(ecr: &aws_sdk_ecr::Client, repo: &str, tag: &str) -> String {
    let out = ecr
        .describe_images()
        .repository_name(repo)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.image_details()[0].image_digest().unwrap().to_string()
}

async fn running_image(ecs: &aws_sdk_ecs::Client, app: &str) -> String {
    let td = ecs
        .describe_task_definition()
        .task_definition(format!("{app}-api"))
        .send()
        .await
        .unwrap();
    td.task_definition().unwrap().container_definitions()[0]
        .image()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_pushes_and_deploys_by_digest_alongside_the_infrastructure() {
    let account = unique_account();
    let proxy = Proxy::start(&account).await;
    let project = Project::new("imgbuild");
    let stub = Stub::new();
    let conf = sdk_config(&proxy, REGION).await;
    let ecr = aws_sdk_ecr::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);

    // The plan knows the tag before anything is built.
    let plan = ecsdeploy(&proxy, &project, &stub.env(), &["plan"]).await;
    plan.assert_success();
    let tag = project.head();
    assert!(
        plan.stdout.contains(&format!("imgbuild-api:{tag}")),
        "{plan}"
    );
    assert!(stub.calls().is_empty(), "plan runs no docker command");

    proxy.clear();
    let up = ecsdeploy(&proxy, &project, &stub.env(), &["up", "--no-wait"]).await;
    up.assert_success();

    // Login: the ECR token's password on stdin, never in the arguments.
    let registry = format!("{account}.dkr.ecr.{REGION}.amazonaws.com");
    let calls = stub.calls();
    assert_eq!(calls.len(), 2, "one login, one build: {calls:?}");
    assert_eq!(
        calls[0],
        format!("login --username AWS --password-stdin {registry}")
    );
    assert_eq!(stub.login_stdin(), format!("{account}-auth-token"));
    assert!(calls.iter().all(|c| !c.contains("auth-token")));
    // Build: the task's architecture, the git commit as tag, pushed.
    let uri = format!("{registry}/imgbuild-api");
    let context = std::fs::canonicalize(project.dir.path().join("api")).unwrap();
    assert_eq!(
        calls[1],
        format!(
            "buildx build --platform linux/arm64 --file {}/Dockerfile --tag {uri}:{tag} \
             --provenance=false --push --build-arg VERSION=1.0 {}",
            context.display(),
            context.display()
        )
    );
    // Deployed by the digest ECR holds for that tag.
    let digest = digest_of(&ecr, "imgbuild-api", &tag).await;
    assert_eq!(
        running_image(&ecs, "imgbuild").await,
        format!("{uri}@{digest}")
    );

    // Order: the build ran while the network was being created, and the task definition
    // was registered only once the image was in ECR.
    let ops = proxy.operations();
    let pos = |op: &str| {
        ops.iter()
            .position(|o| o == op)
            .unwrap_or_else(|| panic!("{op} not called: {ops:?}"))
    };
    let (token, pushed) = (pos("GetAuthorizationToken"), pos("PutImage"));
    assert!(token < pushed);
    let infra_meanwhile: Vec<&String> = ops[token..pushed]
        .iter()
        .filter(|o| {
            [
                "CreateSubnet",
                "CreateRouteTable",
                "CreateSecurityGroup",
                "CreateInternetGateway",
            ]
            .contains(&o.as_str())
        })
        .collect();
    assert!(
        !infra_meanwhile.is_empty(),
        "no infrastructure step ran during the build: {ops:?}"
    );
    assert!(pushed < pos("RegisterTaskDefinition"));

    // Unchanged source: nothing built, nothing written.
    proxy.clear();
    let again = ecsdeploy(&proxy, &project, &stub.env(), &["up", "--no-wait"]).await;
    again.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
    assert_eq!(stub.calls().len(), 2, "no docker command on a no-op up");

    // A new commit: built with its own tag, rolled out by its own digest.
    project.commit_change();
    let tag2 = project.head();
    assert_ne!(tag, tag2);
    let third = ecsdeploy(&proxy, &project, &stub.env(), &["up", "--no-wait"]).await;
    third.assert_success();
    let digest2 = digest_of(&ecr, "imgbuild-api", &tag2).await;
    assert_ne!(digest, digest2);
    assert_eq!(
        running_image(&ecs, "imgbuild").await,
        format!("{uri}@{digest2}")
    );
    assert!(stub.calls().last().unwrap().contains(&format!(":{tag2} ")));

    // The pushed images stay with their repository on `down`.
    let down = ecsdeploy(&proxy, &project, &stub.env(), &["down", "--yes"]).await;
    down.assert_success();
    assert!(!down.stdout.contains("image.api"), "{down}");
    let left = ecr
        .describe_images()
        .repository_name("imgbuild-api")
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.image_details().len(),
        2,
        "images are kept without --delete-images"
    );
}

/// Whether process `pid` still runs (a zombie waiting to be reaped does not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
        !state.starts_with(['Z', 'X'])
    })
}

/// Ctrl-C during a build, sent to ecsdeploy alone as CI runners send it, stops all of the
/// build: docker and what docker started (buildx runs as a plugin process of its own), so
/// nothing goes on building and pushing once ecsdeploy has exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_build_stops_what_docker_started_too() {
    let proxy = Proxy::start(&unique_account()).await;
    let project = Project::new("imgstop");
    let stub = Stub::new();
    let mut env = stub.env();
    env.push(("STUB_BUILD_HANGS".into(), "1".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = project.config();
    let child = spawn_captured_with_env(&proxy, REGION, &["-c", &config, "up", "--no-wait"], &env);
    let pid_file = PathBuf::from(format!("{}.plugin", stub.log_path().display()));
    let started = std::time::Instant::now();
    let plugin = loop {
        match std::fs::read_to_string(&pid_file) {
            Ok(p) if !p.trim().is_empty() => break p.trim().to_string(),
            _ if started.elapsed() > std::time::Duration::from_secs(120) => {
                panic!("the build never started")
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    assert!(running(&plugin), "the stub build runs");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the interrupted run ends")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("`docker buildx` stopped"), "{stderr}");
    assert!(
        !running(&plugin),
        "the build's own process {plugin} goes on after ecsdeploy has exited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_docker_is_a_clear_error_before_any_change() {
    let proxy = Proxy::start(&unique_account()).await;
    let project = Project::new("imgnodocker");
    // PATH with git (tags come from it) but no docker.
    let bin = tempfile::tempdir().unwrap();
    let git_path = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let git_path = String::from_utf8(git_path.stdout).unwrap();
    std::os::unix::fs::symlink(git_path.trim(), bin.path().join("git")).unwrap();
    let env = vec![("PATH".to_string(), bin.path().display().to_string())];

    proxy.clear();
    let up = ecsdeploy(&proxy, &project, &env, &["up", "--no-wait"]).await;
    up.assert_failure();
    assert_eq!(up.code, Some(1), "{up}");
    assert!(
        up.stderr.contains("docker is not installed or not on PATH"),
        "{up}"
    );
    assert!(up.stderr.contains("image.build"), "{up}");
    assert!(
        proxy.writes().is_empty(),
        "nothing may change: {:?}",
        proxy.writes()
    );
    let _ = project.app;
}
