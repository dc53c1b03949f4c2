//! Whether a service's load balancer reaches its tasks on each target group's health-check
//! port (part of [`super::realism`]). moto never checks target health, so a service whose
//! security groups shut the load balancer out deploys there as if all were well. On AWS:
//!
//! - "You must ensure that your load balancer can communicate with registered targets on
//!   both the listener port and the health check port" (Elastic Load Balancing user guide,
//!   "Security groups for your Application Load Balancer"; its "Considerations" name the
//!   load balancer's group as the source in the targets' groups). A check that cannot
//!   connect times out and the target never becomes healthy.
//! - The deployment circuit breaker counts tasks that fail their Elastic Load Balancing
//!   health checks as failed and fails (or rolls back) the deployment (ECS developer guide,
//!   "How the Amazon ECS deployment circuit breaker detects failures"; AWS re:Post
//!   knowledge center "ecs-troubleshoot-deployment-failures": "A target group failed the
//!   Application Load Balancer health checks").
//!
//! So when CreateService or UpdateService starts a deployment of a service with target
//! groups, the proxy asks moto (DescribeTargetGroups, DescribeLoadBalancers,
//! DescribeSecurityGroups, with the SDK straight to moto in the proxy's account) whether
//! each target group's health-check port (its `HealthCheckPort`, or the `loadBalancers`
//! entry's `containerPort` for `traffic-port`: ELBv2 API `TargetGroup.HealthCheckPort`) is
//! admitted over TCP by one of the service's awsvpc security groups: by a rule whose port
//! range covers it (or protocol `-1`) from one of the load balancer's security groups, or by
//! any CIDR rule covering it (kept simple: `0.0.0.0/0` and the VPC's CIDR both count). A
//! deployment that is not reachable fails as a failing service's does
//! ([`super::service_deployments::Failing::unreachable`]). Asked of moto, the groups a test
//! made or changed through a plain proxy count as well as those ecsdeploy made. When moto
//! does not answer, or the service has no awsvpc security groups (AWS would use the VPC's
//! default group), nothing is judged. What moto has when the deployment starts decides: a
//! rule added a moment later does not save it here, where on AWS one added before the first
//! tasks failed their checks would.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecs::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use super::{Call, ProxyState};

/// Whether the proxy checks reachability once `call` was answered.
pub(super) fn checks(call: &Call) -> bool {
    call.service == "ecs" && matches!(call.operation.as_str(), "CreateService" | "UpdateService")
}

/// Why the load balancer cannot reach the tasks of the service in `answer` (moto's
/// CreateService / UpdateService answer): the target groups (`arn port N`) whose health
/// checks cannot reach them; `None` when all can, or when it cannot be told. `region`: the
/// one the ECS call was signed for.
pub(super) async fn unreachable(state: &ProxyState, region: &str, answer: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(answer).unwrap_or_default();
    let svc = &json["service"];
    let entries: Vec<(String, Option<u16>)> = svc["loadBalancers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|lb| {
            let tg = lb["targetGroupArn"].as_str()?.to_owned();
            let port = lb["containerPort"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok());
            Some((tg, port))
        })
        .collect();
    let groups = strings(&svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]);
    if entries.is_empty() || groups.is_empty() {
        return None;
    }
    let found = Moto::of(state, region)
        .await
        .judge(&entries, &groups)
        .await?;
    (!found.is_empty()).then(|| found.join(", "))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// One ingress permission of a security group.
struct Permission {
    protocol: String,
    from: i32,
    to: i32,
    groups: Vec<String>,
    cidrs: bool,
}

impl Permission {
    /// Whether it admits TCP on `port` from one of `sources` (or from a CIDR).
    fn admits(&self, port: u16, sources: &[String]) -> bool {
        let port = i32::from(port);
        let covers = match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => self.from <= port && port <= self.to,
            _ => false,
        };
        covers && (self.cidrs || self.groups.iter().any(|g| sources.contains(g)))
    }
}

/// moto asked directly (not through the proxy) with the SDK, in the proxy's account and the
/// region the ECS call was signed for.
struct Moto {
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

/// Puts every request in the proxy's account, as the proxy does with each call it forwards.
#[derive(Debug)]
struct InAccount(String);

impl Intercept for InAccount {
    fn name(&self) -> &'static str {
        "InAccount"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        headers.insert("x-moto-account-id", self.0.clone());
        Ok(())
    }
}

impl Moto {
    async fn of(state: &ProxyState, region: &str) -> Moto {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .credentials_provider(Credentials::new(
                "testing", "testing", None, None, "realism",
            ))
            .region(Region::new(region.to_owned()))
            .endpoint_url(format!("http://127.0.0.1:{}", state.moto_port))
            .load()
            .await;
        let account = state.account.to_str().unwrap_or_default().to_owned();
        let ec2 = aws_sdk_ec2::config::Builder::from(&conf).interceptor(InAccount(account.clone()));
        let elb = aws_sdk_elasticloadbalancingv2::config::Builder::from(&conf)
            .interceptor(InAccount(account));
        Moto {
            ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(elb.build()),
        }
    }

    /// The unreachable target groups of `entries` (target group, container port) for tasks
    /// in `groups`; `None` when moto did not answer.
    async fn judge(
        &self,
        entries: &[(String, Option<u16>)],
        groups: &[String],
    ) -> Option<Vec<String>> {
        let arns = entries.iter().map(|(tg, _)| tg.clone()).collect();
        let call = self
            .elb
            .describe_target_groups()
            .set_target_group_arns(Some(arns));
        let tgs = call.send().await.ok()?;
        let mut checks = vec![]; // (target group, health-check port, load balancers)
        for tg in tgs.target_groups() {
            let arn = tg.target_group_arn()?.to_owned();
            let traffic = entries
                .iter()
                .find(|(t, _)| *t == arn)
                .and_then(|(_, p)| *p);
            let port = match tg.health_check_port() {
                None | Some("traffic-port") => traffic,
                Some(p) => p.parse().ok(),
            };
            if let Some(port) = port {
                checks.push((arn, port, tg.load_balancer_arns().to_vec()));
            }
        }
        let lb_arns: Vec<String> = checks.iter().flat_map(|(_, _, lbs)| lbs.clone()).collect();
        let mut lb_groups: Vec<(String, Vec<String>)> = vec![];
        if !lb_arns.is_empty() {
            let call = self
                .elb
                .describe_load_balancers()
                .set_load_balancer_arns(Some(lb_arns));
            let lbs = call.send().await.ok()?;
            for lb in lbs.load_balancers() {
                let arn = lb.load_balancer_arn()?.to_owned();
                lb_groups.push((arn, lb.security_groups().to_vec()));
            }
        }
        let call = self
            .ec2
            .describe_security_groups()
            .set_group_ids(Some(groups.to_vec()));
        let sgs = call.send().await.ok()?;
        let permissions: Vec<Permission> = sgs
            .security_groups()
            .iter()
            .flat_map(|g| g.ip_permissions())
            .map(|p| Permission {
                protocol: p.ip_protocol().unwrap_or_default().to_owned(),
                from: p.from_port().unwrap_or(0),
                to: p.to_port().unwrap_or(65535),
                groups: p
                    .user_id_group_pairs()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_owned))
                    .collect(),
                cidrs: !p.ip_ranges().is_empty() || !p.ipv6_ranges().is_empty(),
            })
            .collect();
        let unreachable = checks
            .into_iter()
            .filter(|(_, port, lbs)| {
                let sources: Vec<String> = lb_groups
                    .iter()
                    .filter(|(arn, _)| lbs.contains(arn))
                    .flat_map(|(_, sgs)| sgs.clone())
                    .collect();
                !permissions.iter().any(|p| p.admits(*port, &sources))
            })
            .map(|(arn, port, _)| format!("{arn} port {port}"))
            .collect();
        Some(unreachable)
    }
}
