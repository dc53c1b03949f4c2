//! Credentials and secrets never reach ecsdeploy's output: not stdout, not stderr, not the
//! `-v` (ecsdeploy's debug lines) or `-vv` (the AWS SDK's too) traces, not `plan` in either
//! format, not an error message.
//!
//! The AWS secret access key and session token are distinctive values, so any leak (a
//! `Debug` of the credentials, a signed header, a canonical request) would show. The access
//! key id is an identifier, not a secret: the SDK's `-vv` traces print it (with the secret
//! key as `** redacted **`), so it is only required to stay out of `-v` and normal output.

mod common;

use std::path::{Path, PathBuf};

use common::{example, run_with_env, unique_account, Output, Proxy};

const REGION: &str = "ap-northeast-1";

const ACCESS_KEY_ID: &str = "AKIAECSDEPLOYNOSECRT";
const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI-SecretKey-3f9c2a71b8d4";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE-SessionToken-7e1d05c6a9";
const OIDC_SECRET: &str = "oidc-client-secret-5b2e8f0d41c7";

const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
    ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
    ("AWS_SESSION_TOKEN", SESSION_TOKEN),
];

/// Runs `ecsdeploy -c <config> <args>` with the distinctive credentials and `extra` env.
async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut env = CREDENTIALS.to_vec();
    env.extend_from_slice(extra);
    run_with_env(proxy, REGION, &all, &env).await
}

/// Panics if any of `secrets` is in either stream of `out`; `what` names the run.
fn assert_absent(out: &Output, what: &str, secrets: &[&str]) {
    for secret in secrets {
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text.contains(secret),
                "`{what}` printed {secret:?} on {stream}\n{out}"
            );
        }
    }
}

/// What must never appear in a run with `args`: the secret key and token always, the access
/// key id too unless the SDK's own traces are on (`-vv`).
fn forbidden(args: &[&str]) -> Vec<&'static str> {
    let mut f = vec![SECRET_ACCESS_KEY, SESSION_TOKEN];
    if !args.contains(&"-vv") {
        f.push(ACCESS_KEY_ID);
    }
    f
}

/// Every command, quiet and verbose, on reference system 2: up, a no-op up, plan in both
/// formats, status, down.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_appear_in_output_or_traces() {
    let proxy = Proxy::start(&unique_account()).await;
    let config = example("fargate-public");
    let runs: &[&[&str]] = &[
        &["plan", "-v"],
        &["up", "-v"],
        &["status", "-v"],
        &["plan", "-vv"],
        &["plan", "--output", "json", "-vv"],
        &["up"],
        &["up", "-vv"],
        &["status", "-vv"],
        &["status"],
        &["down", "--yes", "-vv"],
    ];
    let mut sdk_traced = false;
    for &args in runs {
        let out = ecsdeploy(&proxy, &config, args, &[]).await;
        let what = args.join(" ");
        out.assert_success();
        assert_absent(&out, &what, &forbidden(args));
        if args.contains(&"-vv") {
            // The SDK's traces were really on (their targets are shown at -vv).
            sdk_traced |= out.stderr.contains("aws_smithy_runtime");
        }
    }
    assert!(sdk_traced, "no -vv run showed the SDK's traces");
    assert!(!proxy.calls().is_empty());
}

/// A failing run (an AWS error) prints the error, not the request that caused it.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_never_appear_in_a_failure() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, config) = oidc_config(
        "arn:aws:acm:ap-northeast-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    );
    // Past preflight (which would refuse the missing certificate before any call could
    // fail), so that AWS itself answers with an error.
    for args in [
        &["up", "-v", "--no-verify"][..],
        &["up", "-vv", "--no-verify"],
    ] {
        let out = ecsdeploy(
            &proxy,
            &config,
            args,
            &[("OIDC_CLIENT_SECRET", OIDC_SECRET)],
        )
        .await;
        let what = args.join(" ");
        assert_eq!(out.code, Some(1), "`{what}` should fail\n{out}");
        assert!(out.stderr.contains("CertificateNotFound"), "{out}");
        let mut f = forbidden(args);
        f.push(OIDC_SECRET);
        assert_absent(&out, &what, &f);
    }
    // The secret was in the request that failed, so its absence above means something.
    let sent = proxy.bodies("CreateListener");
    assert!(!sent.is_empty(), "no CreateListener");
    assert!(sent.iter().all(|b| b.contains(OIDC_SECRET)), "{sent:?}");
}

/// A created network, an HTTPS ALB that signs users in with OIDC, one service behind it;
/// the client secret comes from `OIDC_CLIENT_SECRET`.
fn oidc_config(cert: &str) -> (tempfile::TempDir, PathBuf) {
    let text = format!(
        r#"app = "oidc"
region = "{REGION}"

[load_balancer]

[[load_balancer.listeners]]
port = 443
protocol = "HTTPS"
certificates = ["{cert}"]
service = "web"

[load_balancer.listeners.oidc]
issuer = "https://idp.example.com"
authorization_endpoint = "https://idp.example.com/authorize"
token_endpoint = "https://idp.example.com/token"
user_info_endpoint = "https://idp.example.com/userinfo"
client_id = "oidc-client-id"
client_secret_env = "OIDC_CLIENT_SECRET"

[services.web]
image = "nginx:latest"
ports = [80]
target_group = {{ port = 80 }}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The OIDC client secret is read from the environment and sent to ELB, and is never
/// printed: not by plan (text or JSON), up, status or down, at any verbosity.
#[tokio::test(flavor = "multi_thread")]
async fn oidc_client_secret_never_appears() {
    let proxy = Proxy::start(&unique_account()).await;
    let cert = common::boto::issued_certificate(&proxy, REGION, "oidc.example.com");
    let (_dir, config) = oidc_config(&cert);
    let secret = [("OIDC_CLIENT_SECRET", OIDC_SECRET)];
    let runs: &[&[&str]] = &[
        &["plan"],
        &["plan", "-v"],
        &["plan", "--output", "json"],
        &["up", "-vv"],
        &["plan", "-vv"],
        &["plan", "--output", "json", "-v"],
        &["status", "-v"],
        &["up", "-v"],
        &["down", "--yes", "-vv"],
    ];
    for &args in runs {
        let out = ecsdeploy(&proxy, &config, args, &secret).await;
        let what = args.join(" ");
        out.assert_success();
        let mut f = forbidden(args);
        f.push(OIDC_SECRET);
        assert_absent(&out, &what, &f);
        if args == ["plan", "-v"] {
            // The plan shows the listener, naming the variable but not its value.
            assert!(out.stdout.contains("listener.443"), "{out}");
        }
    }
    let sent = proxy.bodies("CreateListener");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains(OIDC_SECRET),
        "the secret was not sent: {}",
        sent[0]
    );
}
