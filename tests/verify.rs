//! Preflight (`ecsdeploy verify`, and `up` before its first write) against moto: what would
//! fail minutes into a deploy on AWS is found first, named by its config key, exit 2, and
//! nothing is written.

mod common;

use std::path::{Path, PathBuf};

use common::{example, owned_by, registry, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const MANIFEST: &str = r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, "layers": []}"#;

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

/// The fargate-public example with `edit` applied, in a temp dir.
fn config(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, edit(text)).unwrap();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_is_found_before_any_write() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, cfg) = config(|t| t);

    // Fresh account: the repository is created by the deploy, so the image cannot be in it.
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.contains(
            "warning: services.service2.image: repository fargate-public is created by this run"
        ),
        "{out}"
    );
    // Docker Hub, looked up through the harness's closed HTTPS_PROXY: never reached.
    assert!(
        out.stdout.contains(
            "note: services.service1.image: nginx:latest: registry docker.io unreachable: not \
             checked (through proxy 127.0.0.1:1: "
        ),
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![]);
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();

    // The repository exists now, the tag was never pushed: verify fails, naming the key.
    proxy.clear();
    let out = ecsdeploy(&proxy, &cfg, &["verify", "--output", "json"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    let errors: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{doc}");
    assert_eq!(errors[0]["key"], "services.service2.image");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("image fargate-public:latest is not in ECR"));

    // `up` of a change to that service stops before its first write; --no-verify goes on.
    let (_dir2, edited) = config(|t| {
        t.replacen(
            "image = { repository = \"web\", tag = \"${IMAGE_TAG:-latest}\" }",
            "image = { repository = \"web\", tag = \"${IMAGE_TAG:-latest}\" }\nenvironment = { MODE = \"two\" }",
            1,
        )
    });
    proxy.clear();
    let out = ecsdeploy(&proxy, &edited, &["up"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("preflight found 1 problem(s)"), "{out}");
    assert!(out.stderr.contains("services.service2.image"), "{out}");
    assert!(
        proxy.writes().iter().all(|c| c.service == "dynamodb"),
        "only the run lock: {:?}",
        proxy.writes()
    );
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(&proxy, REGION).await);
    ecr.put_image()
        .repository_name("fargate-public")
        .image_tag("latest")
        .image_manifest(MANIFEST)
        .send()
        .await
        .expect("PutImage");
    ecsdeploy(&proxy, &edited, &["up"]).await.assert_success();
    let out = ecsdeploy(&proxy, &edited, &["verify"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("verify fargate-public: ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_ecs_cannot_assume_and_a_full_vpc_quota_are_errors() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}"#;
    let role = iam
        .create_role()
        .role_name("not-for-ecs")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let arn = role.role().unwrap().arn().to_string();
    // The default VPC and four more: the fifth of AWS's default quota of 5.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    for i in 0..4 {
        ec2.create_vpc()
            .cidr_block(format!("10.{}.0.0/16", 100 + i))
            .send()
            .await
            .unwrap();
    }
    let (_dir, cfg) = config(|t| {
        t.replacen(
            "[logs]",
            &format!("[iam]\nexecution_role = \"{arn}\"\n\n[logs]"),
            1,
        )
    });
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "error: iam.execution_role: role {arn} does not trust ecs-tasks.amazonaws.com"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("error: network: the account has 5 of its quota of 5 VPCs per Region"),
        "{out}"
    );
    proxy.clear();
    let up = ecsdeploy(&proxy, &cfg, &["up"]).await;
    assert_eq!(up.code, Some(2), "{up}");
    assert!(
        proxy.writes().iter().all(|c| c.service == "dynamodb"),
        "{:?}",
        proxy.writes()
    );
}

const LISTENER_CONFIG: &str = r#"app = "pre"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[load_balancer]

[[load_balancer.listeners]]
port = 443
protocol = "HTTPS"
certificates = ["CERT", "arn:aws:acm:us-east-1:123456789012:certificate/elsewhere"]
service = "web"
cognito = { user_pool_arn = "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_missing", client_id = "nope", domain = "pre-auth" }

[services.web]
image = "nginx:latest"
ports = [80]
target_group = { port = 80 }
"#;

/// A certificate still pending validation (what RequestCertificate gives until its DNS
/// record is seen), one of another region, and a user pool that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_certificates_and_user_pools_are_checked() {
    let proxy = Proxy::start(&unique_account()).await;
    let cert = common::boto::requested_certificate(&proxy, REGION, "pre.example.com");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(&cfg, LISTENER_CONFIG.replace("CERT", &cert)).unwrap();

    proxy.clear();
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    for want in [
        format!(
            "error: load_balancer.listeners[0].certificates[0]: certificate {cert} is \
             PENDING_VALIDATION"
        ),
        "error: load_balancer.listeners[0].certificates[1]: certificate \
         arn:aws:acm:us-east-1:123456789012:certificate/elsewhere is in us-east-1"
            .to_string(),
        "error: load_balancer.listeners[0].cognito: user pool \
         arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_missing does \
         not exist"
            .to_string(),
    ] {
        assert!(out.stdout.contains(&want), "{want}\n{out}");
    }
    assert_eq!(proxy.writes(), vec![]);
}

const REGISTRY_CONFIG: &str = r#"app = "reg"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[services.web]
image = "REGISTRY/team/app:TAG"

[services.private]
image = "REGISTRY/team/private:v1"

[services.gone]
image = "CLOSED/team/app:v1"
"#;

/// Images in a registry v2 other than ECR (here one on 127.0.0.1, which is reached over plain
/// http as docker reaches it, with a bearer-token challenge first as Docker Hub, GHCR and
/// quay.io answer): an existing tag passes, a missing one is an error that stops `up` before
/// its first write, a private image and a registry that does not answer are notes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_in_other_registries_are_looked_up_there() {
    let proxy = Proxy::start(&unique_account()).await;
    let registry = registry::Registry::start().await;
    let closed = registry::closed_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    let write = |tag: &str| {
        let text = REGISTRY_CONFIG
            .replace("REGISTRY", &registry.host())
            .replace("CLOSED", &format!("127.0.0.1:{closed}"))
            .replace("TAG", tag);
        std::fs::write(&cfg, text).unwrap();
    };

    write("v1");
    let started = std::time::Instant::now();
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!out.stdout.contains("services.web.image"), "{out}");
    let host = registry.host();
    for want in [
        format!(
            "note: services.private.image: {host}/team/private:v1: {host} does not show it \
             without credentials"
        ),
        format!(
            "note: services.gone.image: 127.0.0.1:{closed}/team/app:v1: registry \
             127.0.0.1:{closed} unreachable: not checked ("
        ),
    ] {
        assert!(out.stdout.contains(&want), "{want}\n{out}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // As a registry expects: the challenge, an anonymous token for the repository, the
    // manifest with it, asking for every manifest kind a pull accepts.
    let app: Vec<String> = registry
        .requests()
        .into_iter()
        .filter(|r| r.contains("team/app") || r.contains("team%2Fapp"))
        .collect();
    assert_eq!(
        app,
        [
            "HEAD /v2/team/app/manifests/v1 anonymous -> 401",
            "GET /token?service=test-registry&scope=repository%3Ateam%2Fapp%3Apull -> 200",
            "HEAD /v2/team/app/manifests/v1 bearer -> 200",
        ],
        "{:?}",
        registry.requests()
    );
    assert!(registry.accepts_every_manifest_kind());
    assert_eq!(proxy.writes(), vec![]);

    write("v9");
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "error: services.web.image: {host}/team/app:v9: no such tag in {host}"
        )),
        "{out}"
    );
    proxy.clear();
    let up = ecsdeploy(&proxy, &cfg, &["up"]).await;
    assert_eq!(up.code, Some(2), "{up}");
    assert!(up.stderr.contains("preflight found 1 problem(s)"), "{up}");
    assert!(up.stderr.contains("services.web.image"), "{up}");
    assert!(
        proxy.writes().iter().all(|c| c.service == "dynamodb"),
        "only the run lock: {:?}",
        proxy.writes()
    );
    // Nothing of the app exists: no VPC, no cluster.
    let conf = sdk_config(&proxy, REGION).await;
    let vpcs = aws_sdk_ec2::Client::new(&conf)
        .describe_vpcs()
        .filters(owned_by("reg"))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 0);
    let clusters = aws_sdk_ecs::Client::new(&conf)
        .list_clusters()
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.cluster_arns().len(), 0, "{clusters:?}");
}

const SHARED_CONFIG: &str = r#"app = "xacct"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[services.web]
image = "REGISTRY/shared:TAG"

[services.locked]
image = "REGISTRY/locked:1.0"
"#;

/// An image in another account's ECR (a shared "images" account whose repository policy
/// lets the workload accounts pull): looked up in that registry, not in the caller's. Its
/// missing tag is an error; a repository whose policy does not let this account describe
/// it is a note (pulling needs no `ecr:DescribeImages`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_in_another_account_s_ecr_are_looked_up_in_its_registry() {
    let (a, b) = (unique_account(), unique_account());
    let proxy = Proxy::start(&a).await;
    let images = Proxy::start(&b).await;
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(&images, REGION).await);
    for repository in ["shared", "locked"] {
        ecr.create_repository()
            .repository_name(repository)
            .send()
            .await
            .expect("CreateRepository");
        ecr.put_image()
            .repository_name(repository)
            .image_tag("1.0")
            .image_manifest(MANIFEST)
            .send()
            .await
            .expect("PutImage");
    }
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WorkloadAccountsDescribeAndPull",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{a}:root") },
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:DescribeImages",
                "ecr:GetDownloadUrlForLayer"
            ]
        }]
    });
    ecr.set_repository_policy()
        .repository_name("shared")
        .policy_text(policy.to_string())
        .send()
        .await
        .expect("SetRepositoryPolicy");
    let registry = format!("{b}.dkr.ecr.{REGION}.amazonaws.com");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    let write = |tag: &str| {
        let text = SHARED_CONFIG
            .replace("REGISTRY", &registry)
            .replace("TAG", tag);
        std::fs::write(&cfg, text).unwrap();
    };

    write("1.0");
    proxy.clear();
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!out.stdout.contains("services.web.image"), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "note: services.locked.image: locked:1.0 is in registry {b}, which does not let \
             this account describe its images: not checked"
        )),
        "{out}"
    );
    let sent: Vec<serde_json::Value> = proxy
        .bodies("DescribeImages")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for request in &sent {
        assert_eq!(request["registryId"], b.as_str(), "{request}");
    }
    assert_eq!(proxy.writes(), vec![]);

    write("2.0");
    let out = ecsdeploy(&proxy, &cfg, &["verify"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "error: services.web.image: image shared:2.0 is not in ECR registry {b}: "
        )),
        "{out}"
    );
}
