//! The docker command lines ecsdeploy runs, built as plain argument lists (pure), and the
//! code that runs them. The registry password goes to `docker login` on stdin, never on a
//! command line (where `ps` and shell history would show it).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// What `docker buildx build` needs for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRequest {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    /// `linux/amd64` or `linux/arm64`.
    pub platform: String,
    /// `<repository uri>:<tag>`.
    pub reference: String,
    pub args: Vec<(String, String)>,
    pub target: Option<String>,
}

/// `docker buildx build ... --push <context>`. Provenance attestations are off so ECR
/// stores a single-platform image manifest (what ECS pulls) rather than an index.
pub fn build_args(b: &BuildRequest) -> Vec<String> {
    let mut a: Vec<String> = [
        "buildx",
        "build",
        "--platform",
        &b.platform,
        "--file",
        &b.dockerfile.to_string_lossy(),
        "--tag",
        &b.reference,
        "--provenance=false",
        "--push",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in &b.args {
        a.push("--build-arg".into());
        a.push(format!("{k}={v}"));
    }
    if let Some(t) = &b.target {
        a.push("--target".into());
        a.push(t.clone());
    }
    a.push(b.context.to_string_lossy().into_owned());
    a
}

/// `docker login --username AWS --password-stdin <registry>`.
pub fn login_args(user: &str, registry: &str) -> Vec<String> {
    ["login", "--username", user, "--password-stdin", registry]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The registry host of an ECR proxy endpoint (`https://123.dkr.ecr.../` → `123.dkr.ecr...`)
/// or of a repository URI (`123.dkr.ecr.../shop-api` → `123.dkr.ecr...`).
pub fn registry_host(endpoint: &str) -> &str {
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint);
    host.split('/').next().unwrap_or(host)
}

/// The `docker` executable on PATH, or a clear error saying what needs it.
pub fn find_docker() -> Result<PathBuf> {
    crate::tools::on_path("docker").ok_or_else(|| anyhow::anyhow!(MISSING_DOCKER))
}

pub const MISSING_DOCKER: &str = "docker is not installed or not on PATH. Building an image \
     (`image.build` in the config) runs `docker buildx build`; install Docker with the buildx \
     plugin (https://docs.docker.com/engine/install/), or build and push the image elsewhere \
     and set `image` to its reference";

/// How long docker and buildx get to cancel a build (SIGTERM) before they are killed.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Stop the process group `child` leads: SIGTERM (docker and buildx cancel the build and
/// push), then SIGKILL to whatever of the group is left once docker has ended or
/// [`STOP_GRACE`] has passed.
async fn stop_group(child: &mut tokio::process::Child) {
    let group = child
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(id as i32));
    let signal = |sig| {
        if let Some(g) = group {
            // ESRCH: the group has ended already.
            let _ = rustix::process::kill_process_group(g, sig);
        }
    };
    signal(rustix::process::Signal::TERM);
    let _ = tokio::time::timeout(STOP_GRACE, child.wait()).await;
    signal(rustix::process::Signal::KILL);
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// Run `docker <args>` with `stdin` (if any) written to its standard input. Each output
/// line goes to `line` (progress); on failure the error carries the last lines.
pub async fn run(
    docker: &Path,
    args: &[String],
    stdin: Option<&str>,
    mut line: impl FnMut(&str),
) -> Result<()> {
    let mut child = Command::new(docker)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A process group of its own, so that stopping a build stops all of it: docker runs
        // buildx as a plugin process of its own, which a kill of docker alone leaves
        // building and pushing.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", docker.display()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).await?;
        drop(pipe); // EOF: docker login reads until it
    }
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let mut tail: Vec<String> = Vec::new();
    let mut lines = futures::stream::select(
        tokio_stream_lines(out.map(BufReader::new)),
        tokio_stream_lines(err.map(BufReader::new)),
    );
    use futures::StreamExt;
    let work = async {
        while let Some(l) = lines.next().await {
            line(&l);
            tail.push(l);
            if tail.len() > 20 {
                tail.remove(0);
            }
        }
        child.wait().await
    };
    // Ctrl-C ends a build or push at once. docker runs in its own process group, which a
    // terminal's Ctrl-C does not reach (nor does a SIGINT sent to ecsdeploy alone, as CI
    // runners send it): the group is stopped here.
    let status = tokio::select! {
        status = work => status?,
        () = crate::aws::until_interrupted() => {
            stop_group(&mut child).await;
            return Err(anyhow::Error::new(crate::aws::StoppedWaiting)).with_context(|| {
                format!(
                    "`docker {}` stopped",
                    args.first().map(String::as_str).unwrap_or_default()
                )
            });
        }
    };
    if !status.success() {
        bail!(
            "`docker {}` failed ({status}):\n{}",
            args.first().map(String::as_str).unwrap_or_default(),
            tail.join("\n")
        );
    }
    Ok(())
}

fn tokio_stream_lines<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    r: Option<BufReader<R>>,
) -> futures::stream::BoxStream<'static, String> {
    use futures::StreamExt;
    match r {
        Some(r) => futures::stream::unfold(r.lines(), |mut lines| async move {
            match lines.next_line().await {
                Ok(Some(l)) => Some((l, lines)),
                _ => None,
            }
        })
        .boxed(),
        None => futures::stream::empty().boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_interrupt_stops_a_running_docker_at_once() {
        // A stand-in for a long `docker build`: prints a line, then sleeps.
        let (tx, rx) = tokio::sync::watch::channel(false);
        let started = std::time::Instant::now();
        let args = vec!["-c".to_string(), "echo building; exec sleep 30".to_string()];
        let run = crate::aws::interruptible(
            rx,
            run(Path::new("/bin/sh"), &args, None, |l| {
                if l == "building" {
                    let _ = tx.send(true);
                }
            }),
        );
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), run)
            .await
            .expect("ended at the interrupt, not after the child's 30 s")
            .unwrap_err();
        assert!(
            e.downcast_ref::<crate::aws::StoppedWaiting>().is_some(),
            "{e:#}"
        );
        assert!(format!("{e:#}").contains("stopped"), "{e:#}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn build_command_line() {
        let b = BuildRequest {
            context: "/src/backend".into(),
            dockerfile: "/src/backend/Dockerfile.prod".into(),
            platform: "linux/arm64".into(),
            reference: "1.dkr.ecr.us-east-1.amazonaws.com/shop-api:abc123".into(),
            args: vec![("VERSION".into(), "1.2".into())],
            target: Some("runtime".into()),
        };
        assert_eq!(
            build_args(&b).join(" "),
            "buildx build --platform linux/arm64 --file /src/backend/Dockerfile.prod \
             --tag 1.dkr.ecr.us-east-1.amazonaws.com/shop-api:abc123 --provenance=false --push \
             --build-arg VERSION=1.2 --target runtime /src/backend"
        );
    }

    #[test]
    fn login_reads_the_password_from_stdin() {
        let a = login_args("AWS", "1.dkr.ecr.us-east-1.amazonaws.com");
        assert!(a.contains(&"--password-stdin".to_string()));
        assert!(!a.iter().any(|x| x == "--password" || x == "-p"));
    }

    #[test]
    fn registry_host_of_proxy_endpoint() {
        assert_eq!(
            registry_host("https://1.dkr.ecr.us-east-1.amazonaws.com"),
            "1.dkr.ecr.us-east-1.amazonaws.com"
        );
        assert_eq!(registry_host("http://localhost:5000/"), "localhost:5000");
        assert_eq!(
            registry_host("1.dkr.ecr.us-east-1.amazonaws.com/shop-api"),
            "1.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[tokio::test]
    async fn run_passes_stdin_and_reports_failure_with_output() {
        let sh = Path::new("/bin/sh");
        let mut seen = Vec::new();
        run(
            sh,
            &["-c".into(), "read x; echo got-$x".into()],
            Some("secret\n"),
            |l| seen.push(l.to_string()),
        )
        .await
        .unwrap();
        assert_eq!(seen, vec!["got-secret"]);
        let e = run(
            sh,
            &["-c".into(), "echo boom >&2; exit 3".into()],
            None,
            |_| {},
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("boom"), "{e}");
    }
}
