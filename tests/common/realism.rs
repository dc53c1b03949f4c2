//! The AWS-realism layer of the recording [`Proxy`](super::Proxy): moto answers at once,
//! accepts requests AWS refuses and is never eventually consistent; this layer answers the
//! way AWS does where moto does not, in each protocol's own error format and in compressed
//! time (seconds, [`Realism`]). docs/architecture.md lists what it reproduces; every rule
//! below cites where the behaviour is documented.
//!
//! The layer keeps what it has seen per proxy (one proxy = one AWS account): ids and times of
//! what was created, which VPCs have an internet gateway, which target groups a listener or
//! rule forwards to. It acts before a call is forwarded (refusing it as AWS would) and after
//! (recording what moto created, and rewriting answers to show AWS's timelines).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::header::HeaderMap;
use hyper::Response;
use serde_json::Value;

use super::autoscaling::AutoscalingSeen;
use super::capacity::CapacitySeen;
use super::faults::{error, protocol, response, throttling, Protocol};
use super::service_deployments::{DeploymentsSeen, Failing};
use super::service_settings::SettingsSeen;
use super::strategies::{Context, Known, RulesSeen, StrategyTimes};
use super::tasks::{Answer, TaskTimes, Tasks};
use super::{Call, ProxyBody};

/// How long AWS's windows and timelines last here (compressed: seconds, not minutes).
#[derive(Debug, Clone)]
pub struct Realism {
    /// Propagation windows: the ECS service-linked role after an account's first ECS use, a
    /// cluster after `CreateCluster`, an IAM role after `CreateRole`, an EC2 id after its
    /// create call, a scalable target after `RegisterScalableTarget`.
    pub propagation: Duration,
    /// A load balancer is `provisioning` this long before `active`.
    pub load_balancer: Duration,
    /// A NAT gateway is `pending` this long before `available` (or `failed`).
    pub nat_gateway: Duration,
    /// A DB instance is `creating`, without an endpoint, this long.
    pub db_instance: Duration,
    /// An ECS deployment is `IN_PROGRESS` (no task running) this long before `COMPLETED`.
    pub deployment: Duration,
    /// ... and, besides, in the first this many DescribeServices answers that show it: a
    /// deployment as long as AWS's (minutes), which a second run meets in progress however
    /// fast or slow the runs are here (0: time alone decides).
    pub deployment_looks: u32,
    /// A deleted service is `DRAINING` this long before `INACTIVE`.
    pub draining: Duration,
    /// Task ENIs hold a deleted service's subnets and security groups this long after it
    /// stopped draining.
    pub eni_linger: Duration,
    /// Token buckets per API family with AWS's published sizes and refill rates.
    pub throttle: bool,
    /// Scales the buckets' sizes and refill rates (1.0: AWS's). Calls here come seconds
    /// apart where AWS's answers take minutes, so a smaller share stands in for AWS's.
    pub throttle_scale: f64,
    /// Services (by name) whose tasks never start: once [`Realism::deployment`] is over,
    /// their deployment is `FAILED` by the circuit breaker instead of `COMPLETED`.
    pub failing_services: Vec<String>,
    /// Task-definition revisions (`family:revision`) whose deployments fail the same way;
    /// with the circuit breaker's rollback, ECS then deploys the previous revision again.
    pub failing_revisions: Vec<String>,
    /// One-off tasks (RunTask): how long they start and run ([`super::tasks`]).
    pub tasks: TaskTimes,
    /// Blue/green, canary and linear deployments ([`super::strategies`]): how long one
    /// lifecycle stage (and one traffic step) lasts.
    pub stage: Duration,
    /// ... and how long one minute of their bake times (`bakeTimeInMinutes`,
    /// `canaryBakeTimeInMinutes`, `stepBakeTimeInMinutes`) lasts here.
    pub bake_minute: Duration,
    /// Task-definition revisions (`family:revision`) whose blue/green, canary or linear
    /// deployments fail halfway through BAKE_TIME, as when a CloudWatch alarm goes off:
    /// ECS rolls them back (production traffic back to blue, the old revision running).
    pub failing_during_bake: Vec<String>,
    /// ECS list answers (ListTasks, ListServices, ...) come in pages of at most this many
    /// items, and at most AWS's ([`super::pages`]).
    pub list_page: usize,
}

impl Realism {
    /// AWS's behaviours with every window a few seconds long.
    pub fn aws() -> Realism {
        Realism {
            propagation: Duration::from_secs(2),
            load_balancer: Duration::from_secs(3),
            nat_gateway: Duration::from_secs(3),
            db_instance: Duration::from_secs(4),
            deployment: Duration::from_secs(3),
            deployment_looks: 0,
            draining: Duration::from_secs(3),
            eni_linger: Duration::from_secs(3),
            throttle: true,
            throttle_scale: 1.0,
            failing_services: vec![],
            failing_revisions: vec![],
            tasks: TaskTimes::default(),
            stage: Duration::from_millis(300),
            bake_minute: Duration::from_secs(1),
            failing_during_bake: vec![],
            list_page: 2,
        }
    }

    fn strategy_times(&self) -> StrategyTimes {
        StrategyTimes {
            stage: self.stage,
            minute: self.bake_minute,
            rollback: self.deployment,
        }
    }
}

/// What the layer has seen in one account.
#[derive(Default)]
struct Seen {
    /// The first `CreateCluster`/`CreateService`: the service-linked role is made then.
    first_ecs_use: Option<Instant>,
    /// EC2 ids created a moment ago → (when, whether a call naming it was already refused).
    fresh: HashMap<String, (Instant, bool)>,
    subnet_vpc: HashMap<String, String>,
    /// VPCs with an internet gateway attached.
    igw_vpcs: HashSet<String>,
    clusters: HashMap<String, Instant>,
    /// Cluster name → ARN.
    cluster_arns: HashMap<String, String>,
    /// One-off tasks and the task definitions they start from.
    tasks: Tasks,
    /// Role ARN → when it was created.
    roles: HashMap<String, Instant>,
    /// Task-definition family → the roles it names.
    family_roles: HashMap<String, Vec<String>>,
    /// Target groups a listener or rule forwards to.
    forwarded: HashSet<String>,
    load_balancers: HashMap<String, Instant>,
    /// NAT gateway id → (created, fails because its VPC had no internet gateway).
    nat_gateways: HashMap<String, (Instant, bool)>,
    db_instances: HashMap<String, Instant>,
    /// ECS deployment id → when it was first seen.
    deployments: HashMap<String, Instant>,
    /// ECS deployment id → how many DescribeServices answers have shown it.
    deployment_looks: HashMap<String, u32>,
    /// Service name → its events so far, oldest first (see [`Seen::event`]).
    service_events: HashMap<String, Vec<Value>>,
    /// (deployment id, what happened) already told in an event.
    told: HashSet<(String, &'static str)>,
    /// Service name → when it was deleted.
    deleted_services: HashMap<String, Instant>,
    /// Subnets and security groups already refused for lingering ENIs.
    eni_refused: HashSet<String>,
    buckets: HashMap<&'static str, Bucket>,
    capacity: CapacitySeen,
    settings: SettingsSeen,
    service_deployments: DeploymentsSeen,
    /// Listener rules' forward actions as clients set them.
    rules: RulesSeen,
    /// Service name → its deployment controller, load balancers, Service Connect.
    known: HashMap<String, Known>,
    /// Application Auto Scaling targets and when they were registered.
    autoscaling: AutoscalingSeen,
}

impl Seen {
    /// ECS service events (ECS developer guide, "Amazon ECS service event messages"): ECS
    /// adds one when a deployment starts tasks, reaches a steady state or fails, and lists
    /// a service's last 100, newest first, in every answer that describes the service
    /// (DescribeServices, and CreateService / UpdateService too). Each is told once per
    /// deployment.
    fn event(&mut self, service: &str, deployment: &str, what: &'static str, message: String) {
        if !self.told.insert((deployment.to_owned(), what)) {
            return;
        }
        let log = self.service_events.entry(service.to_owned()).or_default();
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        log.push(serde_json::json!({
            "id": format!("{deployment}-{what}"),
            "createdAt": at,
            "message": message,
        }));
    }

    /// A service's events as ECS lists them: newest first, at most 100.
    fn events_of(&self, service: &str) -> Option<Value> {
        let log = self.service_events.get(service)?;
        Some(log.iter().rev().take(100).cloned().collect())
    }
}

/// AWS's token bucket: `capacity` tokens, refilled at `rate` per second.
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, rate: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: capacity,
            capacity,
            rate,
            at: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The bucket a call draws from, with its (capacity, refill per second), where AWS publishes
/// them:
/// - EC2 (per action; EC2 developer guide, "Request throttling for the Amazon EC2 API"):
///   non-mutating 100 / 20, mutating 200 / 5. One bucket per kind here, which is stricter.
/// - ECS (ECS API reference, "Request throttling for the Amazon ECS API": cluster read
///   actions 50 / 20): 50 / 20 for every ECS action.
fn bucket_of(call: &Call) -> Option<(&'static str, f64, f64)> {
    match (call.service.as_str(), call.is_read()) {
        ("ec2", true) => Some(("ec2-read", 100.0, 20.0)),
        ("ec2", false) => Some(("ec2-write", 200.0, 5.0)),
        ("ecs", _) => Some(("ecs", 50.0, 20.0)),
        _ => None,
    }
}

/// The layer's state in a proxy.
pub(super) struct RealismState {
    cfg: Realism,
    seen: Mutex<Seen>,
    /// What the layer did, one line per answer it gave or changed: `Operation: what`.
    pub(super) acted: Arc<Mutex<Vec<String>>>,
}

/// `Action=CreateSubnet&VpcId=vpc-1` → `[("Action", "CreateSubnet"), ("VpcId", "vpc-1")]`,
/// percent-decoded.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The text of the first `<tag>…</tag>` in `xml`.
pub(super) fn xml_value<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

/// The name at the end of an ARN or a plain name: `arn:…:cluster/app` → `app`.
fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// An EC2 request parameter that names a resource by id (`VpcId`, `SubnetId.1`,
/// `GroupId`, `SecurityGroupId.2`, `RouteTableId`), not a filter value.
fn names_by_id(key: &str) -> bool {
    let base = key.split('.').next().unwrap_or(key);
    !key.starts_with("Filter") && base.ends_with("Id")
}

/// EC2's not-found error for an id (EC2 API reference, "Error codes").
fn ec2_not_found(id: &str) -> (&'static str, String) {
    let (code, what) = match id.split('-').next().unwrap_or_default() {
        "vpc" => ("InvalidVpcID.NotFound", "vpc ID"),
        "subnet" => ("InvalidSubnetID.NotFound", "subnet ID"),
        "sg" => ("InvalidGroup.NotFound", "security group"),
        _ => ("InvalidRouteTableID.NotFound", "routeTable ID"),
    };
    (code, format!("The {what} '{id}' does not exist"))
}

impl RealismState {
    pub(super) fn new(cfg: Realism) -> RealismState {
        RealismState {
            cfg,
            seen: Mutex::default(),
            acted: Arc::default(),
        }
    }

    /// AWS's answer to `call` when it would refuse it; `None` forwards it to moto.
    pub(super) fn before(
        &self,
        call: &Call,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Response<ProxyBody>> {
        let proto = protocol(call, headers, body);
        let answer = self.refusal(call, proto, body, Instant::now())?;
        Some(self.noted(call, answer))
    }

    /// Notes in [`RealismState::acted`] that the layer gave `answer` (its error code) to
    /// `call`.
    pub(super) fn noted(&self, call: &Call, answer: Response<ProxyBody>) -> Response<ProxyBody> {
        let code = answer
            .headers()
            .get(super::faults::ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| format!("HTTP {}", answer.status()), str::to_owned);
        self.note(call, &code);
        answer
    }

    fn refusal(
        &self,
        call: &Call,
        proto: Protocol,
        body: &[u8],
        now: Instant,
    ) -> Option<Response<ProxyBody>> {
        let mut seen = self.seen.lock().unwrap();
        let within = |t: Instant, d: Duration| now.duration_since(t) < d;
        if self.cfg.throttle {
            if let Some((name, capacity, rate)) = bucket_of(call) {
                let k = self.cfg.throttle_scale;
                let bucket = seen
                    .buckets
                    .entry(name)
                    .or_insert_with(|| Bucket::new(capacity * k, rate * k, now));
                if !bucket.take(now) {
                    return Some(throttling(proto));
                }
            }
        }
        let invalid = |m: String| Some(error(proto, 400, "InvalidParameterException", &m));
        if call.service == "ecs" {
            let req: Value = serde_json::from_slice(body).unwrap_or_default();
            let refused = seen
                .capacity
                .refusal(&call.operation, &req, now, self.cfg.propagation);
            if let Some((code, message)) = refused {
                return Some(error(proto, 400, code, &message));
            }
            if let Some(message) = seen.settings.refusal(&call.operation, &req) {
                return invalid(message);
            }
            if matches!(call.operation.as_str(), "CreateService" | "UpdateService") {
                let name = last_segment(
                    req["serviceName"]
                        .as_str()
                        .or(req["service"].as_str())
                        .unwrap_or_default(),
                );
                let dc = seen.settings.deployment_after(&call.operation, &req);
                let known = match call.operation.as_str() {
                    "UpdateService" => seen.known.get(name).cloned().unwrap_or_default(),
                    _ => Known::default(),
                };
                let fresh_role = |role: &str| {
                    seen.roles
                        .get(role)
                        .is_some_and(|t| within(*t, self.cfg.propagation))
                };
                let refused =
                    super::strategies::refusal(&req, &dc, &known, &seen.rules, &fresh_role);
                if let Some(message) = refused {
                    return invalid(message);
                }
            }
            let window = self.cfg.deployment;
            if let Some(answer) = seen
                .service_deployments
                .answer(&call.operation, &req, window)
            {
                return Some(json_answer(proto, answer));
            }
        }
        if call.service == super::autoscaling::SERVICE {
            let req: Value = serde_json::from_slice(body).unwrap_or_default();
            let refused =
                seen.autoscaling
                    .refusal(&call.operation, &req, now, self.cfg.propagation);
            if let Some((code, message)) = refused {
                return Some(error(proto, 400, code, &message));
            }
        }
        match (call.service.as_str(), call.operation.as_str()) {
            ("ec2", op) => {
                let params = form(body);
                // terraform-provider-aws internal/service/ec2 waits (RetryWhenNotFound): an id
                // created a moment ago is not yet visible to the next call that names it.
                for (key, value) in &params {
                    if !names_by_id(key) {
                        continue;
                    }
                    if let Some((created, refused)) = seen.fresh.get_mut(value) {
                        if !*refused && within(*created, self.cfg.propagation) {
                            *refused = true;
                            let (code, message) = ec2_not_found(value);
                            return Some(error(proto, 400, code, &message));
                        }
                    }
                }
                // Task ENIs linger after their service is deleted (ECS developer guide,
                // "Deleting a service"; terraform retries DependencyViolation on these):
                // every subnet and security group is refused at least once after a
                // DeleteService (so that a slow run still meets it), and for the window.
                let deleting = matches!(op, "DeleteSubnet" | "DeleteSecurityGroup");
                let id = param(&params, "SubnetId")
                    .or(param(&params, "GroupId"))
                    .unwrap_or_default()
                    .to_owned();
                let window = self.cfg.draining + self.cfg.eni_linger;
                let lingering = deleting
                    && !seen.deleted_services.is_empty()
                    && (seen.eni_refused.insert(id.clone())
                        || seen.deleted_services.values().any(|t| within(*t, window)));
                if lingering {
                    let message = if op == "DeleteSubnet" {
                        format!("The subnet '{id}' has dependencies and cannot be deleted.")
                    } else {
                        format!("resource {id} has a dependent object")
                    };
                    return Some(error(proto, 400, "DependencyViolation", &message));
                }
                None
            }
            ("ecs", op @ ("CreateCluster" | "CreateService" | "UpdateService")) => {
                let json: Value = serde_json::from_slice(body).unwrap_or_default();
                if op != "UpdateService" {
                    // terraform retryClusterCreate / retryServiceCreate: the service-linked
                    // role ECS makes on an account's first use takes a while to be assumable.
                    let first = *seen.first_ecs_use.get_or_insert(now);
                    if within(first, self.cfg.propagation) {
                        return invalid(
                            "Unable to assume the service linked role. Please verify that the \
                             ECS service linked role exists."
                                .into(),
                        );
                    }
                }
                if op == "CreateService" {
                    let cluster = last_segment(json["cluster"].as_str().unwrap_or("default"));
                    // terraform retryServiceCreate: ClusterNotFoundException right after
                    // CreateCluster.
                    if seen
                        .clusters
                        .get(cluster)
                        .is_some_and(|t| within(*t, self.cfg.propagation))
                    {
                        return Some(error(
                            proto,
                            400,
                            "ClusterNotFoundException",
                            "Cluster not found.",
                        ));
                    }
                    let name = json["serviceName"].as_str().unwrap_or_default();
                    // ECS API DeleteService: a service is DRAINING before INACTIVE, and its
                    // name cannot be reused meanwhile.
                    if seen
                        .deleted_services
                        .get(name)
                        .is_some_and(|t| within(*t, self.cfg.draining))
                    {
                        return invalid("Unable to Start a service that is still Draining.".into());
                    }
                    // terraform retryServiceCreate: "ECS was unable to assume the role" for a
                    // role created seconds ago.
                    let family = json["taskDefinition"]
                        .as_str()
                        .map(|td| last_segment(td).split(':').next().unwrap_or(td))
                        .unwrap_or_default();
                    let fresh_role = seen.family_roles.get(family).and_then(|roles| {
                        roles.iter().find(|r| {
                            seen.roles
                                .get(*r)
                                .is_some_and(|t| within(*t, self.cfg.propagation))
                        })
                    });
                    if let Some(role) = fresh_role {
                        return invalid(format!(
                            "ECS was unable to assume the role '{role}' that was provided for \
                             this task. Please verify that the role being passed has the proper \
                             trust relationship and permissions and that your IAM user has \
                             permissions to pass this role."
                        ));
                    }
                }
                // ECS API CreateService (loadBalancers): the target group must be one a
                // listener or rule forwards to; terraform retryServiceCreate lists it.
                let unforwarded = json["loadBalancers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|lb| lb["targetGroupArn"].as_str())
                    .find(|tg| !seen.forwarded.contains(*tg));
                if let Some(tg) = unforwarded {
                    return invalid(format!(
                        "The target group with targetGroupArn {tg} does not have an associated \
                         load balancer."
                    ));
                }
                None
            }
            ("ecs", op @ ("RunTask" | "DescribeTasks" | "StopTask")) => {
                let req: Value = serde_json::from_slice(body).unwrap_or_default();
                let cluster = last_segment(req["cluster"].as_str().unwrap_or("default"));
                let times = &self.cfg.tasks;
                let answer = match op {
                    "RunTask" => {
                        let arn = seen.cluster_arns.get(cluster).cloned();
                        seen.tasks.run(&req, arn)
                    }
                    "DescribeTasks" => {
                        let named: Vec<String> = req["tasks"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect();
                        if !seen.tasks.owns(&named) {
                            return None; // a service's tasks: moto's
                        }
                        seen.tasks.describe(&named, times)
                    }
                    _ => {
                        let task = req["task"].as_str().unwrap_or_default().to_owned();
                        if !seen.tasks.owns(std::slice::from_ref(&task)) {
                            return None;
                        }
                        seen.tasks.stop(&task, req["reason"].as_str(), times)
                    }
                };
                Some(json_answer(proto, answer))
            }
            ("rds", op @ ("CreateDBInstance" | "ModifyDBInstance")) => {
                // RDS API reference, CreateDBInstance / ModifyDBInstance `MasterUserPassword`
                // and `ManageMasterUserPassword` (moto checks none of it): a password is
                // required unless RDS manages it, never with it, and is printable ASCII
                // without `/`, `"`, `@` or spaces; turning management off needs one.
                let params = form(body);
                let password = param(&params, "MasterUserPassword");
                let managed = param(&params, "ManageMasterUserPassword");
                let combination =
                    |m: &str| Some(error(proto, 400, "InvalidParameterCombination", m));
                let value = |m: &str| Some(error(proto, 400, "InvalidParameterValue", m));
                match (op, managed, password) {
                    (_, Some("true"), Some(_)) => {
                        return combination(
                            "You can't specify MasterUserPassword when ManageMasterUserPassword \
                             is turned on.",
                        )
                    }
                    ("ModifyDBInstance", Some("false"), None) => {
                        return combination(
                            "MasterUserPassword is required when ManageMasterUserPassword is \
                             turned off.",
                        )
                    }
                    ("CreateDBInstance", None | Some("false"), None) => {
                        return value(
                            "The parameter MasterUserPassword must be provided and must not be \
                             blank.",
                        )
                    }
                    _ => {}
                }
                let bad = password.is_some_and(|p| {
                    p.len() < 8
                        || p.chars()
                            .any(|c| !c.is_ascii_graphic() || "/\"@".contains(c))
                });
                if bad {
                    return value(
                        "The parameter MasterUserPassword is not a valid password. Only \
                         printable ASCII characters besides '/', '@', '\"', ' ' may be used.",
                    );
                }
                None
            }
            ("elasticloadbalancing", "CreateLoadBalancer") => {
                // An internet-facing load balancer needs an internet gateway in its VPC
                // (ELB user guide, "Subnets for your Application Load Balancer";
                // openshift/installer#1110).
                let params = form(body);
                if param(&params, "Scheme") == Some("internal") {
                    return None;
                }
                let vpc = params
                    .iter()
                    .filter(|(k, _)| k.starts_with("Subnets.member.") || k.ends_with(".SubnetId"))
                    .find_map(|(_, subnet)| seen.subnet_vpc.get(subnet))
                    .filter(|vpc| !seen.igw_vpcs.contains(*vpc))?;
                Some(error(
                    proto,
                    400,
                    "InvalidSubnet",
                    &format!("VPC {vpc} has no internet gateway"),
                ))
            }
            ("scheduler", op)
                if op.starts_with("POST /schedules/") || op.starts_with("PUT /schedules/") =>
            {
                // EventBridge Scheduler checks at CreateSchedule / UpdateSchedule that it can
                // assume the target's role; one created seconds ago is not assumable yet
                // (terraform-provider-aws internal/service/scheduler/retry.go,
                // retryWhenIAMNotPropagated).
                let json: Value = serde_json::from_slice(body).unwrap_or_default();
                let role = json["Target"]["RoleArn"].as_str().unwrap_or_default();
                let fresh = seen
                    .roles
                    .get(role)
                    .is_some_and(|t| within(*t, self.cfg.propagation));
                fresh.then(|| {
                    error(
                        proto,
                        400,
                        "ValidationException",
                        "The execution role you provide must allow AWS EventBridge Scheduler \
                         to assume the role.",
                    )
                })
            }
            _ => None,
        }
    }

    /// Records what a successful call created or changed, and rewrites moto's answer where
    /// AWS's would differ (timelines). `None` keeps moto's answer. `unreachable`: why the
    /// load balancer cannot reach the tasks of the service a CreateService / UpdateService
    /// answer shows ([`super::reachability`]), which fails the deployment it starts.
    pub(super) fn after(
        &self,
        call: &Call,
        request: &[u8],
        answer: &[u8],
        unreachable: Option<&str>,
    ) -> Option<Vec<u8>> {
        let now = Instant::now();
        let text = String::from_utf8_lossy(answer);
        let mut seen = self.seen.lock().unwrap();
        let rewritten = match (call.service.as_str(), call.operation.as_str()) {
            ("ec2", op) => {
                let params = form(request);
                let fresh_tag = match op {
                    "CreateVpc" => Some("vpcId"),
                    "CreateSubnet" => Some("subnetId"),
                    "CreateSecurityGroup" => Some("groupId"),
                    "CreateRouteTable" => Some("routeTableId"),
                    _ => None,
                };
                if let Some(id) = fresh_tag.and_then(|tag| xml_value(&text, tag)) {
                    seen.fresh.insert(id.to_owned(), (now, false));
                }
                match op {
                    "CreateSubnet" => {
                        if let (Some(s), Some(v)) =
                            (xml_value(&text, "subnetId"), xml_value(&text, "vpcId"))
                        {
                            seen.subnet_vpc.insert(s.to_owned(), v.to_owned());
                        }
                        None
                    }
                    "AttachInternetGateway" => {
                        if let Some(vpc) = param(&params, "VpcId") {
                            seen.igw_vpcs.insert(vpc.to_owned());
                        }
                        None
                    }
                    "DetachInternetGateway" => {
                        if let Some(vpc) = param(&params, "VpcId") {
                            seen.igw_vpcs.remove(vpc);
                        }
                        None
                    }
                    "CreateNatGateway" => {
                        // EC2 API NatGateway.failureCode `Gateway.NotAttached`: a public NAT
                        // gateway made before the VPC's internet gateway is attached fails.
                        let public = param(&params, "ConnectivityType") != Some("private");
                        let orphan = param(&params, "SubnetId")
                            .and_then(|s| seen.subnet_vpc.get(s))
                            .is_some_and(|vpc| !seen.igw_vpcs.contains(vpc));
                        if let Some(id) = xml_value(&text, "natGatewayId") {
                            seen.nat_gateways
                                .insert(id.to_owned(), (now, public && orphan));
                        }
                        None
                    }
                    "DescribeNatGateways" => self.nat_states(&seen, &text, now),
                    _ => None,
                }
            }
            ("elasticloadbalancing", op) => {
                match op {
                    "CreateLoadBalancer" => {
                        if let Some(arn) = xml_value(&text, "LoadBalancerArn") {
                            seen.load_balancers.insert(arn.to_owned(), now);
                        }
                    }
                    "CreateListener" | "ModifyListener" | "CreateRule" | "ModifyRule" => {
                        seen.rules.record(op, &form(request), &text, now);
                        let tgs = form(request)
                            .into_iter()
                            .filter(|(k, _)| k.ends_with("TargetGroupArn"))
                            .map(|(_, v)| v);
                        seen.forwarded.extend(tgs);
                    }
                    _ => {}
                }
                match op {
                    "DescribeLoadBalancers" => self.load_balancer_states(&seen, &text, now),
                    // The weights ECS set on production and test rules while shifting traffic.
                    "DescribeRules" => {
                        let s = &*seen;
                        RulesSeen::rewrite(&text, &|rule| {
                            s.service_deployments.current_weights(rule, &s.rules)
                        })
                    }
                    _ => None,
                }
            }
            (super::autoscaling::SERVICE, op) => {
                let req: Value = serde_json::from_slice(request).unwrap_or_default();
                seen.autoscaling.after(op, &req, now);
                None
            }
            ("iam", "CreateRole") => {
                if let Some(arn) = xml_value(&text, "Arn") {
                    seen.roles.insert(arn.to_owned(), now);
                }
                None
            }
            ("rds", op) => {
                if op == "CreateDBInstance" {
                    if let Some(id) = xml_value(&text, "DBInstanceIdentifier") {
                        seen.db_instances.insert(id.to_owned(), now);
                    }
                }
                (op == "DescribeDBInstances")
                    .then(|| self.db_states(&seen, &text, now))
                    .flatten()
            }
            ("ecs", op) => {
                let req: Value = serde_json::from_slice(request).unwrap_or_default();
                let mut json: Value = serde_json::from_slice(answer).ok()?;
                let echoed = seen.capacity.after(op, &req, &mut json, now);
                let echoed = seen.settings.after(op, &req, &mut json) || echoed;
                let failing = Failing {
                    services: self.cfg.failing_services.clone(),
                    revisions: self.cfg.failing_revisions.clone(),
                    during_bake: self.cfg.failing_during_bake.clone(),
                    unreachable: unreachable.is_some(),
                };
                let window = self.cfg.deployment;
                let times = self.cfg.strategy_times();
                let s = &mut *seen;
                let started = s.service_deployments.after(
                    op,
                    &req,
                    &json,
                    &failing,
                    window,
                    Context {
                        times,
                        rules: &s.rules,
                    },
                );
                if let (true, Some(why)) = (started, unreachable) {
                    self.note(call, &format!("unreachable: {why}"));
                }
                if matches!(op, "CreateService" | "UpdateService") {
                    let svc = &json["service"];
                    let name = svc["serviceName"].as_str().unwrap_or_default().to_owned();
                    let known = s.known.entry(name).or_default();
                    known.controller = svc["deploymentController"]["type"]
                        .as_str()
                        .map(str::to_owned);
                    known.load_balancers = svc["loadBalancers"].clone();
                    if req["serviceConnectConfiguration"].is_object() {
                        known.service_connect =
                            req["serviceConnectConfiguration"]["enabled"] == true;
                    }
                }
                let echoed = seen.service_deployments.rewrite(&mut json, window) || echoed;
                let rewritten = match op {
                    "CreateCluster" => {
                        let name = json["cluster"]["clusterName"].as_str().unwrap_or_default();
                        seen.clusters.insert(name.to_owned(), now);
                        if let Some(arn) = json["cluster"]["clusterArn"].as_str() {
                            seen.cluster_arns.insert(name.to_owned(), arn.to_owned());
                        }
                        None
                    }
                    "RegisterTaskDefinition" => {
                        seen.tasks.registered(&json);
                        let family = req["family"].as_str().unwrap_or_default().to_owned();
                        let roles = ["taskRoleArn", "executionRoleArn"]
                            .iter()
                            .filter_map(|k| req[*k].as_str().map(str::to_owned))
                            .collect();
                        seen.family_roles.insert(family, roles);
                        None
                    }
                    "CreateService" | "UpdateService" => {
                        for d in json["service"]["deployments"]
                            .as_array()
                            .into_iter()
                            .flatten()
                        {
                            if let Some(id) = d["id"].as_str() {
                                seen.deployments.entry(id.to_owned()).or_insert(now);
                            }
                        }
                        // The events so far come with the answer (ECS API Service.events).
                        let name = json["service"]["serviceName"].as_str().unwrap_or_default();
                        seen.events_of(name).map(|events| {
                            json["service"]["events"] = events;
                            json.to_string()
                        })
                    }
                    "DeleteService" => {
                        let name = req["service"]
                            .as_str()
                            .map(last_segment)
                            .unwrap_or_default();
                        seen.deleted_services.insert(name.to_owned(), now);
                        seen.known.remove(name);
                        seen.service_events.remove(name);
                        None
                    }
                    "DescribeServices" => {
                        let changed = self.service_states(&mut seen, &mut json, now);
                        changed.then(|| json.to_string())
                    }
                    // The layer's own tasks (tasks.rs) are listed beside moto's.
                    "ListTasks" => {
                        let cluster = last_segment(req["cluster"].as_str().unwrap_or("default"));
                        let arn = seen.cluster_arns.get(cluster).cloned().unwrap_or_default();
                        let mine = seen.tasks.list(&req, &arn, &self.cfg.tasks);
                        (!mine.is_empty()).then(|| {
                            let mut all = json["taskArns"].as_array().cloned().unwrap_or_default();
                            all.extend(mine.into_iter().map(Value::from));
                            json["taskArns"] = all.into();
                            json.to_string()
                        })
                    }
                    _ => None,
                };
                if super::pages::cut(op, &req, &mut json, self.cfg.list_page) {
                    Some(json.to_string())
                } else {
                    rewritten.or_else(|| echoed.then(|| json.to_string()))
                }
            }
            ("logs", "FilterLogEvents") => {
                let req: Value = serde_json::from_slice(request).unwrap_or_default();
                let events = seen.tasks.log_events(&req, &self.cfg.tasks);
                if events.is_empty() {
                    None
                } else {
                    let mut json: Value = serde_json::from_slice(answer).ok()?;
                    let mut all = json["events"].as_array().cloned().unwrap_or_default();
                    all.extend(events);
                    json["events"] = all.into();
                    Some(json.to_string())
                }
            }
            _ => None,
        };
        drop(seen);
        if rewritten.is_some() {
            self.note(call, "timeline");
        }
        rewritten.map(String::into_bytes)
    }

    pub(super) fn note(&self, call: &Call, what: &str) {
        let line = format!("{}: {what}", call.operation);
        self.acted.lock().unwrap().push(line);
    }

    /// ELB API `LoadBalancerState`: `provisioning` for a while after creation.
    fn load_balancer_states(&self, seen: &Seen, xml: &str, now: Instant) -> Option<String> {
        let young = seen
            .load_balancers
            .iter()
            .filter(|(_, t)| now.duration_since(**t) < self.cfg.load_balancer)
            .map(|(arn, _)| format!("<LoadBalancerArn>{arn}</LoadBalancerArn>"));
        let mut out = xml.to_owned();
        let mut changed = false;
        for marker in young {
            changed |= replace_after(&mut out, &marker, "<LoadBalancerArn>", |item| {
                item.replacen("<Code>active</Code>", "<Code>provisioning</Code>", 1)
            });
        }
        changed.then_some(out)
    }

    /// EC2 API `NatGateway.state`: `pending` for a while, then `available`, or `failed`
    /// with `Gateway.NotAttached` when it was made in a VPC without an internet gateway.
    fn nat_states(&self, seen: &Seen, xml: &str, now: Instant) -> Option<String> {
        let mut out = xml.to_owned();
        let mut changed = false;
        for (id, (created, fails)) in &seen.nat_gateways {
            let marker = format!("<natGatewayId>{id}</natGatewayId>");
            let young = now.duration_since(*created) < self.cfg.nat_gateway;
            changed |= replace_after(&mut out, &marker, "<natGatewayId>", |item| {
                let state = xml_value(item, "state").unwrap_or_default();
                if !matches!(state, "pending" | "available") {
                    return item.to_owned(); // deleting, deleted: as moto says
                }
                let new = match (young, fails) {
                    (true, _) => "<state>pending</state>".to_owned(),
                    (false, true) => "<state>failed</state><failureCode>Gateway.NotAttached\
                                      </failureCode><failureMessage>Network vpc has no \
                                      Internet gateway attached</failureMessage>"
                        .to_owned(),
                    (false, false) => return item.to_owned(),
                };
                item.replacen(&format!("<state>{state}</state>"), &new, 1)
            });
        }
        changed.then_some(out)
    }

    /// RDS API `DBInstance`: `creating`, without an endpoint, for a while after creation.
    fn db_states(&self, seen: &Seen, xml: &str, now: Instant) -> Option<String> {
        let mut out = xml.to_owned();
        let mut changed = false;
        for (id, created) in &seen.db_instances {
            if now.duration_since(*created) >= self.cfg.db_instance {
                continue;
            }
            let marker = format!("<DBInstanceIdentifier>{id}</DBInstanceIdentifier>");
            changed |= replace_block(&mut out, &marker, "<DBInstance>", "</DBInstance>", |b| {
                let b = b.replacen(
                    "<DBInstanceStatus>available</DBInstanceStatus>",
                    "<DBInstanceStatus>creating</DBInstanceStatus>",
                    1,
                );
                match (b.find("<Endpoint>"), b.find("</Endpoint>")) {
                    (Some(s), Some(e)) => format!("{}{}", &b[..s], &b[e + "</Endpoint>".len()..]),
                    _ => b,
                }
            });
        }
        changed.then_some(out)
    }

    /// ECS API `Deployment.rolloutState`: `IN_PROGRESS` with no task running for a while
    /// after a deployment starts; a deleted service `DRAINING` before `INACTIVE`.
    fn service_states(&self, seen: &mut Seen, json: &mut Value, now: Instant) -> bool {
        let mut changed = false;
        let Some(services) = json["services"].as_array_mut() else {
            return false;
        };
        for svc in services {
            let name = svc["serviceName"].as_str().unwrap_or_default().to_owned();
            if svc["status"] == "INACTIVE"
                && seen
                    .deleted_services
                    .get(&name)
                    .is_some_and(|t| now.duration_since(*t) < self.cfg.draining)
            {
                svc["status"] = "DRAINING".into();
                changed = true;
                continue;
            }
            let failing = self.cfg.failing_services.contains(&name);
            let mut rolling = false;
            for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                let Some(id) = d["id"].as_str().map(str::to_owned) else {
                    continue;
                };
                let first = *seen.deployments.entry(id.clone()).or_insert(now);
                let looks = seen.deployment_looks.entry(id.clone()).or_insert(0);
                *looks += 1;
                // ECS API Deployment.rolloutState: IN_PROGRESS until the deployment's tasks
                // run (or the circuit breaker stops it), which takes minutes on AWS.
                let over = now.duration_since(first) >= self.cfg.deployment
                    && *looks > self.cfg.deployment_looks;
                let primary = d["status"] == "PRIMARY" && d["rolloutState"] == "COMPLETED";
                if primary {
                    let tasks = d["desiredCount"].as_i64().unwrap_or(1);
                    let msg = format!("(service {name}) has started {tasks} tasks.");
                    seen.event(&name, &id, "started", msg);
                }
                // A deployment failing because of itself (its revision, a load balancer that
                // cannot reach its tasks) fails as a failing service's does.
                let fails = failing || seen.service_deployments.fails_alone(&name, &id);
                if primary && fails && over {
                    let msg = format!(
                        "(service {name}) (deployment {id}) deployment failed: tasks failed to \
                         start."
                    );
                    seen.event(&name, &id, "failed", msg);
                    // ECS API Deployment: the circuit breaker fails a deployment whose tasks
                    // keep failing to start (ECS developer guide, "deployment circuit
                    // breaker"), with this reason.
                    d["rolloutState"] = "FAILED".into();
                    d["rolloutStateReason"] =
                        "ECS deployment circuit breaker: tasks failed to start.".into();
                    d["failedTasks"] = 3.into();
                    d["runningCount"] = 0.into();
                    rolling = true;
                    continue;
                }
                if primary && over {
                    let msg = format!("(service {name}) has reached a steady state.");
                    seen.event(&name, &id, "steady", msg);
                }
                if primary && !over {
                    d["rolloutState"] = "IN_PROGRESS".into();
                    d["rolloutStateReason"] = format!("ECS deployment {id} in progress.").into();
                    d["pendingCount"] = d["desiredCount"].clone();
                    d["runningCount"] = 0.into();
                    rolling = true;
                }
            }
            if rolling {
                svc["pendingCount"] = svc["desiredCount"].clone();
                svc["runningCount"] = 0.into();
                changed = true;
            }
            if let Some(events) = seen.events_of(&name) {
                svc["events"] = events;
                changed = true;
            }
        }
        changed
    }
}

/// A JSON protocol answer: the body, or the error in the protocol's format.
fn json_answer(proto: Protocol, answer: Answer) -> Response<ProxyBody> {
    match answer {
        Ok(body) => response(
            200,
            &[("content-type", "application/x-amz-json-1.1")],
            body.to_string(),
        ),
        Err((code, message)) => error(proto, 400, code, &message),
    }
}

/// Applies `f` to the part of `text` from `marker` to the next `next` (or the end), in
/// place; whether it changed anything.
fn replace_after(text: &mut String, marker: &str, next: &str, f: impl Fn(&str) -> String) -> bool {
    let Some(start) = text.find(marker) else {
        return false;
    };
    let from = start + marker.len();
    let end = text[from..].find(next).map_or(text.len(), |i| i + from);
    let new = f(&text[start..end]);
    if new == text[start..end] {
        return false;
    }
    text.replace_range(start..end, &new);
    true
}

/// Applies `f` to the `open`…`close` block that contains `marker`, in place.
fn replace_block(
    text: &mut String,
    marker: &str,
    open: &str,
    close: &str,
    f: impl Fn(&str) -> String,
) -> bool {
    let Some(at) = text.find(marker) else {
        return false;
    };
    let Some(start) = text[..at].rfind(open) else {
        return false;
    };
    let Some(end) = text[at..].find(close).map(|i| i + at) else {
        return false;
    };
    let new = f(&text[start..end]);
    if new == text[start..end] {
        return false;
    }
    text.replace_range(start..end, &new);
    true
}
