//! A target group whose health check uses another port than the traffic port, end to end
//! through the AWS-realism layer. On AWS the load balancer must reach its targets on the
//! health-check port too (Elastic Load Balancing, "Security groups for your Application
//! Load Balancer"); if the service's security group does not admit it, every check times
//! out, no task becomes healthy and the circuit breaker fails the deployment. moto checks
//! no health, so the layer's reachability rule (tests/common/reachability.rs) stands in for
//! it: without the service group's rule for the health-check port, `up` fails here as it
//! would on AWS.

mod common;

use common::realism::Realism;
use common::{owned_security_group, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

const CONFIG: &str = r#"
app = "hcport"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.0.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.0.1.0/24", "10.0.2.0/24"]

[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"

[services.web]
image = "nginx:latest"
ports = [80, 8081]
subnets = "public"
assign_public_ip = true
target_group = { port = 80, health_check = { port = "8081" } }
"#;

/// `up` deploys a service whose health check is on its management port 8081: the service's
/// group admits 8081 from the load balancer's group, so the layer's load balancer reaches
/// the tasks and the deployment completes. Without that rule (the bug 8f03fd8 fixed) the
/// deployment fails and so does `up`.
#[tokio::test]
async fn the_load_balancer_reaches_a_health_check_on_another_port() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await;
    out.assert_success();
    let acted = proxy.realism_acted();
    assert!(
        !acted.iter().any(|a| a.contains("unreachable")),
        "{acted:?}"
    );

    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&proxy, REGION).await);
    let alb = owned_security_group(&ec2, "hcport", "security_group.alb").await;
    let alb = alb.group_id().unwrap();
    let web = owned_security_group(&ec2, "hcport", "security_group.web").await;
    let from_alb = |port: i32| {
        web.ip_permissions().iter().any(|p| {
            p.ip_protocol() == Some("tcp")
                && p.from_port() == Some(port)
                && p.to_port() == Some(port)
                && p.user_id_group_pairs()
                    .iter()
                    .any(|g| g.group_id() == Some(alb))
        })
    };
    assert!(from_alb(80), "{web:?}");
    assert!(from_alb(8081), "{web:?}");
}
