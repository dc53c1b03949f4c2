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
//! DescribeSecurityGroups, in the proxy's account, as [`super::autoscaling`] asks it) whether
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

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::Request;
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
    let moto = Moto { state, region };
    let found = moto.judge(&entries, &groups).await?;
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
    from: i64,
    to: i64,
    groups: Vec<String>,
    cidrs: bool,
}

impl Permission {
    /// Whether it admits TCP on `port` from one of `sources` (or from a CIDR).
    fn admits(&self, port: u16, sources: &[String]) -> bool {
        let port = i64::from(port);
        let covers = match self.protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => self.from <= port && port <= self.to,
            _ => false,
        };
        covers && (self.cidrs || self.groups.iter().any(|g| sources.contains(g)))
    }
}

/// moto asked in the proxy's account and the region the ECS call was signed for.
struct Moto<'a> {
    state: &'a ProxyState,
    region: &'a str,
}

impl Moto<'_> {
    /// The unreachable target groups of `entries` (target group, container port) for tasks
    /// in `groups`; `None` when moto did not answer.
    async fn judge(
        &self,
        entries: &[(String, Option<u16>)],
        groups: &[String],
    ) -> Option<Vec<String>> {
        let mut params = vec![];
        for (i, (tg, _)) in entries.iter().enumerate() {
            params.push((format!("TargetGroupArns.member.{}", i + 1), tg.clone()));
        }
        let tgs = self.elb("DescribeTargetGroups", params).await?;
        let mut checks = vec![]; // (target group, health-check port, load balancers)
        for member in tgs.find("TargetGroups")?.children.iter() {
            let arn = member.text_of("TargetGroupArn")?.to_owned();
            let traffic = entries
                .iter()
                .find(|(tg, _)| *tg == arn)
                .and_then(|(_, p)| *p);
            let port = match member.text_of("HealthCheckPort") {
                None | Some("traffic-port") => traffic,
                Some(p) => p.parse().ok(),
            };
            let lbs: Vec<String> = member
                .child("LoadBalancerArns")
                .map(|l| {
                    l.children
                        .iter()
                        .map(|m| m.text.trim().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(port) = port {
                checks.push((arn, port, lbs));
            }
        }
        let lb_arns: Vec<String> = checks.iter().flat_map(|(_, _, lbs)| lbs.clone()).collect();
        let mut lb_groups: Vec<(String, Vec<String>)> = vec![];
        if !lb_arns.is_empty() {
            let mut params = vec![];
            for (i, arn) in lb_arns.iter().enumerate() {
                params.push((format!("LoadBalancerArns.member.{}", i + 1), arn.clone()));
            }
            let lbs = self.elb("DescribeLoadBalancers", params).await?;
            for member in lbs.find("LoadBalancers")?.children.iter() {
                let arn = member.text_of("LoadBalancerArn")?.to_owned();
                let sgs = member
                    .child("SecurityGroups")
                    .map(|l| {
                        l.children
                            .iter()
                            .map(|m| m.text.trim().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                lb_groups.push((arn, sgs));
            }
        }
        let mut params = vec![];
        for (i, g) in groups.iter().enumerate() {
            params.push((format!("GroupId.{}", i + 1), g.clone()));
        }
        let sgs = self.ec2("DescribeSecurityGroups", params).await?;
        let permissions: Vec<Permission> = sgs
            .find("securityGroupInfo")?
            .children
            .iter()
            .filter_map(|g| g.child("ipPermissions"))
            .flat_map(|p| p.children.iter())
            .map(permission)
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

    async fn elb(&self, action: &str, params: Vec<(String, String)>) -> Option<Element> {
        self.query("elasticloadbalancing", action, "2015-12-01", params)
            .await
    }

    async fn ec2(&self, action: &str, params: Vec<(String, String)>) -> Option<Element> {
        self.query("ec2", action, "2016-11-15", params).await
    }

    /// One query-protocol call straight to moto; its answer, `None` unless it succeeded.
    /// moto tells the service and region from the credential scope and checks no signature.
    async fn query(
        &self,
        service: &str,
        action: &str,
        version: &str,
        params: Vec<(String, String)>,
    ) -> Option<Element> {
        let mut body = format!("Action={action}&Version={version}");
        for (k, v) in params {
            body.push_str(&format!("&{}={}", encode(&k), encode(&v)));
        }
        let scope = format!(
            "AKIDREALISM/20240101/{}/{service}/aws4_request",
            self.region
        );
        let auth = format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0");
        let request = Request::post(format!("http://127.0.0.1:{}/", self.state.moto_port))
            .header(
                CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .header(AUTHORIZATION, auth)
            .header("x-moto-account-id", self.state.account.clone())
            .body(Full::new(Bytes::from(body)))
            .ok()?;
        let answer = self.state.client.request(request).await.ok()?;
        if !answer.status().is_success() {
            return None;
        }
        let bytes = answer.into_body().collect().await.ok()?.to_bytes();
        parse(&String::from_utf8_lossy(&bytes))
    }
}

/// An `ipPermissions` item of DescribeSecurityGroups.
fn permission(item: &Element) -> Permission {
    let port = |k: &str| item.text_of(k).and_then(|p| p.parse().ok());
    let list = |k: &str| {
        item.child(k)
            .map(|l| l.children.as_slice())
            .unwrap_or_default()
    };
    Permission {
        protocol: item.text_of("ipProtocol").unwrap_or_default().to_owned(),
        from: port("fromPort").unwrap_or(0),
        to: port("toPort").unwrap_or(65535),
        groups: list("groups")
            .iter()
            .filter_map(|g| g.text_of("groupId").map(str::to_owned))
            .collect(),
        cidrs: !list("ipRanges").is_empty() || !list("ipv6Ranges").is_empty(),
    }
}

/// Percent-encodes a form value (ARNs carry `:` and `/`).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An XML element: enough of one for EC2's and ELB's query answers (no attributes kept, no
/// entities decoded: ids, ARNs, ports and protocols have none).
#[derive(Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the child `name`.
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// The first element named `name`, depth first.
    fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
}

/// The document's root element.
fn parse(xml: &str) -> Option<Element> {
    let mut stack = vec![Element::default()];
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        stack.last_mut()?.text.push_str(&rest[..lt]);
        let gt = rest[lt..].find('>')? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if tag.starts_with('/') {
            let done = stack.pop()?;
            stack.last_mut()?.children.push(done);
            continue;
        }
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()?
            .to_owned();
        let element = Element {
            name,
            ..Element::default()
        };
        if tag.ends_with('/') {
            stack.last_mut()?.children.push(element);
        } else {
            stack.push(element);
        }
    }
    let mut root = stack.pop()?;
    root.children.pop()
}
