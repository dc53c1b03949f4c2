//! Drift: resources changed or deleted outside ecsdeploy are shown by `plan` and `status`
//! and repaired by `up`. Each case edits AWS directly with the SDK, the way a console click
//! or another tool would.

mod common;

use std::path::{Path, PathBuf};

use common::{owned_by, run_async, sdk_config, tagged, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const APP: &str = "drifty";

const CONFIG: &str = r#"
app = "drifty"
region = "ap-northeast-1"

[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]

[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"

[services.web]
image = "nginx:latest"
ports = [80]
desired_count = 1
ingress = [{ port = 80, cidrs = ["10.1.0.0/16"], description = "office" }]

[services.web.target_group]
port = 80
"#;

struct Aws {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

async fn setup() -> (Proxy, Aws, tempfile::TempDir, PathBuf) {
    let proxy = Proxy::start(&unique_account()).await;
    let c = sdk_config(&proxy, REGION).await;
    let aws = Aws {
        ec2: aws_sdk_ec2::Client::new(&c),
        ecs: aws_sdk_ecs::Client::new(&c),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&c),
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    (proxy, aws, dir, cfg)
}

async fn ecsdeploy(proxy: &Proxy, cfg: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

/// `plan` shows `needle`; `status` flags `resource` as differing from the config; `up`
/// repairs it; a further `up` has nothing to do.
async fn shown_and_repaired(proxy: &Proxy, cfg: &Path, resource: &str, needle: &str) {
    let plan = ecsdeploy(proxy, cfg, &["plan"]).await;
    plan.assert_success();
    assert!(
        plan.stdout.contains(needle),
        "plan lacks {needle:?}\n{plan}"
    );
    let status = ecsdeploy(proxy, cfg, &["status"]).await;
    status.assert_success();
    let line = status
        .stdout
        .lines()
        .find(|l| l.contains(resource))
        .unwrap_or_else(|| panic!("status lacks {resource}\n{status}"));
    assert!(
        line.contains("differs from config") || line.contains("missing"),
        "status does not flag {resource}: {line}\n{status}"
    );
    ecsdeploy(proxy, cfg, &["up"]).await.assert_success();
    proxy.clear();
    ecsdeploy(proxy, cfg, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "repaired: nothing left to do");
}

async fn group(aws: &Aws, logical: &str) -> aws_sdk_ec2::types::SecurityGroup {
    common::owned_security_group(&aws.ec2, APP, logical).await
}

#[tokio::test]
async fn a_removed_security_group_rule_is_put_back() {
    let (proxy, aws, _dir, cfg) = setup().await;
    let g = group(&aws, "security_group.web").await;
    let office = g
        .ip_permissions()
        .iter()
        .find(|p| {
            p.ip_ranges()
                .iter()
                .any(|r| r.cidr_ip() == Some("10.1.0.0/16"))
        })
        .expect("office rule")
        .clone();
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(g.group_id().unwrap())
        .ip_permissions(office)
        .send()
        .await
        .unwrap();
    shown_and_repaired(&proxy, &cfg, "security_group.web", "10.1.0.0/16").await;
    let g = group(&aws, "security_group.web").await;
    assert!(g.ip_permissions().iter().any(|p| p
        .ip_ranges()
        .iter()
        .any(|r| r.cidr_ip() == Some("10.1.0.0/16"))));
}

#[tokio::test]
async fn an_edited_health_check_is_reverted() {
    let (proxy, aws, _dir, cfg) = setup().await;
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    let arn = tgs.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    aws.elb
        .modify_target_group()
        .target_group_arn(&arn)
        .health_check_path("/edited")
        .send()
        .await
        .unwrap();
    shown_and_repaired(
        &proxy,
        &cfg,
        "target_group.",
        "health_check_path: /edited → /",
    )
    .await;
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(tgs.target_groups()[0].health_check_path(), Some("/"));
}

#[tokio::test]
async fn a_service_scaled_by_hand_is_scaled_back() {
    let (proxy, aws, _dir, cfg) = setup().await;
    aws.ecs
        .update_service()
        .cluster("drifty-cluster")
        .service("drifty-web")
        .desired_count(3)
        .send()
        .await
        .unwrap();
    shown_and_repaired(&proxy, &cfg, "service.web", "desired_count: 3 → 1").await;
    let s = aws
        .ecs
        .describe_services()
        .cluster("drifty-cluster")
        .services("drifty-web")
        .send()
        .await
        .unwrap();
    assert_eq!(s.services()[0].desired_count(), 1);
}

#[tokio::test]
async fn a_deleted_subnet_is_recreated_and_everything_moves_onto_it() {
    let (proxy, aws, _dir, cfg) = setup().await;
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(owned_by(APP))
        .filters(tagged("subnet.public-b"))
        .send()
        .await
        .unwrap();
    let old = subnets.subnets()[0].subnet_id().unwrap().to_string();
    // A route table association would block the delete on AWS; drop it first, as a
    // person cleaning up by hand would.
    let rts = aws
        .ec2
        .describe_route_tables()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    for rt in rts.route_tables() {
        for a in rt.associations() {
            if a.subnet_id() == Some(old.as_str()) {
                aws.ec2
                    .disassociate_route_table()
                    .association_id(a.route_table_association_id().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    aws.ec2
        .delete_subnet()
        .subnet_id(&old)
        .send()
        .await
        .unwrap();

    shown_and_repaired(&proxy, &cfg, "subnet.public-b", "create subnet.public-b").await;
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&old.as_str()));
    let s = aws
        .ecs
        .describe_services()
        .cluster("drifty-cluster")
        .services("drifty-web")
        .send()
        .await
        .unwrap();
    let mut used: Vec<&str> = s.services()[0]
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap()
        .subnets()
        .iter()
        .map(String::as_str)
        .collect();
    used.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(used, want, "the service runs in the new subnet");
}
