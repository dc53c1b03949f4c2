//! The realism layer's ECS-native blue/green, canary and linear deployments (part of
//! [`super::realism`], with [`super::service_deployments`]). moto 5.2.5 keeps
//! `deploymentController` and `loadBalancers[].advancedConfiguration` but drops
//! `deploymentConfiguration` on CreateService (kept by [`super::service_settings`]), checks
//! none of AWS's preconditions, runs no lifecycle and never touches a listener rule. AWS:
//!
//! - refuses a CreateService / UpdateService whose strategy lacks what it needs
//!   ([`refusal`]);
//! - runs each deployment through the lifecycle stages of the ECS API
//!   `ServiceDeploymentLifecycleStage` enum, in compressed time ([`Plan`]);
//! - shifts test and production traffic by rewriting the weights of the production (and test)
//!   listener rule's forward action ("Troubleshooting Amazon ECS blue/green deployments":
//!   "traffic is gradually shifted from the blue service revision to the green service
//!   revision by adjusting the weights of the target groups in the listener rules"), which
//!   the layer shows in DescribeRules ([`RulesSeen::rewrite`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a strategy deployment's parts last here (see [`super::realism::Realism`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct StrategyTimes {
    /// One lifecycle stage (and one traffic step).
    pub stage: Duration,
    /// One minute of `bakeTimeInMinutes`, `canaryBakeTimeInMinutes`, `stepBakeTimeInMinutes`.
    pub minute: Duration,
    /// A rollback, from its start to ROLLBACK_SUCCESSFUL.
    pub rollback: Duration,
}

/// A forward action's (target group, weight) pairs.
pub(super) type Weights = Vec<(String, i64)>;

/// What a deployment starting needs to plan a strategy: the times, and the listener rules'
/// weights as clients set them.
#[derive(Clone, Copy)]
pub(super) struct Context<'a> {
    pub times: StrategyTimes,
    pub rules: &'a RulesSeen,
}

/// The strategies that shift traffic between two service revisions (ECS API
/// `DeploymentStrategy`; `ROLLING` is the other one).
pub(super) fn is_shifting(strategy: &str) -> bool {
    matches!(strategy, "BLUE_GREEN" | "CANARY" | "LINEAR")
}

/// One load balancer's routing for a deployment: the group serving production when it
/// started (blue), the other one (green), and the rules ECS rewrites.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub blue: String,
    pub green: String,
    pub production_rule: String,
    pub test_rule: Option<String>,
}

/// A step of the timeline: from `start` on, the deployment is in `stage` with `green`
/// percent of production traffic on the green group.
#[derive(Debug, Clone)]
struct Step {
    stage: &'static str,
    start: Duration,
    green: f64,
}

/// Why a deployment fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Failure {
    /// Its tasks never start (`Realism::failing_revisions`): green never becomes healthy.
    TasksFail,
    /// An alarm goes off during bake time (`Realism::failing_during_bake`).
    AlarmInBake,
}

/// A strategy deployment's timeline, fixed when it starts.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub strategy: String,
    pub routes: Vec<Route>,
    steps: Vec<Step>,
    /// When it is SUCCESSFUL.
    end: Duration,
    /// When (and why) it fails.
    fails: Option<(Duration, Failure)>,
    rollback: Duration,
    /// The alarms named in the deployment configuration (for the rollback reason).
    pub alarms: Vec<String>,
}

/// Where a deployment stands at some age.
pub(super) struct Phase {
    pub status: &'static str,
    pub reason: &'static str,
    pub stage: Option<&'static str>,
    pub finished: bool,
    /// Production traffic on green, percent.
    pub green: f64,
    /// Test traffic goes to green.
    pub test_green: bool,
    /// The service went back to the source revision.
    pub rolled_back: bool,
}

/// The stages before the production shift, in the order of the ECS API
/// `ServiceDeploymentLifecycleStage` (botocore's ecs model; "Amazon ECS blue/green
/// deployments", lifecycle stages). RECONCILE_SERVICE "only happens when you start a new
/// service deployment with more than 1 service revision in an ACTIVE state", so it is
/// left out. (The hook stage PRE_PRODUCTION_TRAFFIC_SHIFT is documented for lifecycle hooks
/// but is not a value of `ServiceDeployment.lifecycleStage` in the API model.)
const BEFORE_SHIFT: &[&str] = &[
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
];

impl Plan {
    /// The timeline of a deployment with deployment configuration `dc` (as AWS reports it).
    pub fn new(
        dc: &Value,
        routes: Vec<Route>,
        times: StrategyTimes,
        failure: Option<Failure>,
    ) -> Plan {
        let strategy = dc["strategy"].as_str().unwrap_or("BLUE_GREEN").to_owned();
        let minutes = |v: &Value, default: u64| times.minute * v.as_u64().unwrap_or(default) as u32;
        let mut steps = Vec::new();
        let mut at = Duration::ZERO;
        for stage in BEFORE_SHIFT {
            steps.push(Step {
                stage,
                start: at,
                green: 0.0,
            });
            at += times.stage;
        }
        // PRODUCTION_TRAFFIC_SHIFT: "For linear and canary deployments, this stage is invoked
        // at every traffic shift step" (ECS API ServiceDeployment.lifecycleStage).
        let mut shift = |green: f64, hold: Duration, at: &mut Duration| {
            steps.push(Step {
                stage: "PRODUCTION_TRAFFIC_SHIFT",
                start: *at,
                green,
            });
            *at += hold.max(times.stage);
        };
        match strategy.as_str() {
            // ECS API CanaryConfiguration: canaryPercent (default 5.0) for
            // canaryBakeTimeInMinutes (default 10), then the rest.
            "CANARY" => {
                let c = &dc["canaryConfiguration"];
                let percent = c["canaryPercent"].as_f64().unwrap_or(5.0);
                shift(percent, minutes(&c["canaryBakeTimeInMinutes"], 10), &mut at);
                shift(100.0, Duration::ZERO, &mut at);
            }
            // ECS API LinearConfiguration: stepPercent (default 10.0) per step, each held
            // stepBakeTimeInMinutes (default 6), "not applied after reaching 100 percent".
            "LINEAR" => {
                let c = &dc["linearConfiguration"];
                let step = c["stepPercent"].as_f64().unwrap_or(10.0).max(0.1);
                let hold = minutes(&c["stepBakeTimeInMinutes"], 6);
                let mut green = 0.0;
                while green < 100.0 {
                    green = (green + step).min(100.0);
                    let last = green >= 100.0;
                    shift(green, if last { Duration::ZERO } else { hold }, &mut at);
                }
            }
            // Blue/green: all production traffic at once.
            _ => shift(100.0, Duration::ZERO, &mut at),
        }
        for stage in ["POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"] {
            steps.push(Step {
                stage,
                start: at,
                green: 100.0,
            });
            // DeploymentConfiguration.bakeTimeInMinutes: both revisions run this long after
            // the production traffic has shifted.
            at += match stage {
                "BAKE_TIME" => minutes(&dc["bakeTimeInMinutes"], 0).max(times.stage),
                _ => times.stage,
            };
        }
        let bake = steps.iter().find(|s| s.stage == "BAKE_TIME").expect("bake");
        let clean = steps.iter().find(|s| s.stage == "CLEAN_UP").expect("clean");
        let fails = failure.map(|f| {
            let when = match f {
                // The green tasks never pass SCALE_UP.
                Failure::TasksFail => times.stage * 2,
                Failure::AlarmInBake => bake.start + (clean.start - bake.start) / 2,
            };
            (when, f)
        });
        Plan {
            strategy,
            routes,
            steps,
            end: at,
            fails,
            rollback: times.rollback,
            alarms: super::service_deployments::strings_of(&dc["alarms"]["alarmNames"]),
        }
    }

    /// Where the deployment stands at `age`; `stopped` is the age at which
    /// StopServiceDeployment asked for a rollback, `has_source` whether there is a revision
    /// to go back to ("The rollback method requires a previous deployment in COMPLETED
    /// state": ECS developer guide, "Amazon ECS deployment failure detection").
    pub fn phase(&self, age: Duration, stopped: Option<Duration>, has_source: bool) -> Phase {
        let step = self.steps.iter().rev().find(|s| s.start <= age);
        let running = |stage: Option<&'static str>, green: f64| Phase {
            status: "IN_PROGRESS",
            reason: "",
            stage,
            finished: false,
            green,
            test_green: stage.is_some_and(|s| !BEFORE_SHIFT[..3].contains(&s)),
            rolled_back: false,
        };
        let failed_at = match (self.fails, stopped) {
            (Some((f, _)), Some(s)) => Some(f.min(s)),
            (Some((f, _)), None) => Some(f),
            (None, s) => s,
        };
        if let Some(at) = failed_at.filter(|at| age >= *at && *at < self.end) {
            let requested = stopped == Some(at);
            let reason = match (requested, self.fails.map(|f| f.1)) {
                (true, _) => "Rollback requested by StopServiceDeployment.",
                (_, Some(Failure::AlarmInBake)) => {
                    "Service deployment rolled back because the CloudWatch alarm(s) went into \
                     ALARM state."
                }
                _ => {
                    "Service deployment rolled back because the green service revision's \
                      tasks failed to start."
                }
            };
            if !has_source {
                return Phase {
                    status: "STOPPED",
                    reason,
                    stage: None,
                    finished: true,
                    green: 0.0,
                    test_green: false,
                    rolled_back: false,
                };
            }
            let since = age - at;
            // Rolling back shifts production (and test) traffic back to blue at once, then
            // scales green down ("Amazon ECS blue/green deployments": "you can quickly
            // revert to the blue deployment").
            let (status, stage, finished) = if requested && since < self.rollback / 4 {
                ("ROLLBACK_REQUESTED", Some("RECONCILE_SERVICE"), false)
            } else if since < self.rollback {
                (
                    "ROLLBACK_IN_PROGRESS",
                    Some("PRODUCTION_TRAFFIC_SHIFT"),
                    false,
                )
            } else {
                ("ROLLBACK_SUCCESSFUL", None, true)
            };
            return Phase {
                status,
                reason,
                stage,
                finished,
                green: 0.0,
                test_green: false,
                rolled_back: true,
            };
        }
        if age >= self.end {
            return Phase {
                status: "SUCCESSFUL",
                reason: "",
                stage: None,
                finished: true,
                green: 100.0,
                test_green: true,
                rolled_back: false,
            };
        }
        running(step.map(|s| s.stage), step.map_or(0.0, |s| s.green))
    }

    /// How long the whole deployment lasts when nothing fails.
    pub fn length(&self) -> Duration {
        self.end
    }

    /// When (from its start) and why it fails by itself.
    pub fn failure(&self) -> Option<(Duration, Failure)> {
        self.fails
    }

    /// When (from its start) it finishes, given a StopServiceDeployment rollback at
    /// `stopped`.
    pub fn finish(&self, stopped: Option<Duration>) -> Duration {
        let failed = match (self.fails.map(|f| f.0), stopped) {
            (Some(f), Some(s)) => Some(f.min(s)),
            (f, s) => f.or(s),
        };
        failed
            .filter(|f| *f < self.end)
            .map_or(self.end, |f| f + self.rollback)
    }

    /// The forward weights of `rule` at a phase, if this plan routes through it: production
    /// rules split between blue and green, test rules all to one side.
    pub fn weights(&self, rule: &str, p: &Phase) -> Option<Vec<(String, i64)>> {
        self.routes.iter().find_map(|r| {
            let green = if r.production_rule == rule {
                weight(p.green)
            } else if r.test_rule.as_deref() == Some(rule) {
                if p.test_green {
                    100
                } else {
                    0
                }
            } else {
                return None;
            };
            Some(vec![
                (r.blue.clone(), 100 - green),
                (r.green.clone(), green),
            ])
        })
    }
}

/// ELB weights are integers (ELB API `TargetGroupTuple.Weight`, 0-999): a share of 100,
/// at least 1 while any traffic is shifted (canaryPercent may be 0.1).
fn weight(percent: f64) -> i64 {
    let w = percent.round() as i64;
    if percent > 0.0 && w == 0 {
        1
    } else {
        w.clamp(0, 100)
    }
}

/// The listener rules' forward weights as clients last set them (CreateRule, ModifyRule,
/// CreateListener default actions are not rules ECS shifts).
#[derive(Default)]
pub(super) struct RulesSeen {
    /// Rule ARN → (target group, weight) of its forward action, and when it was set.
    pub rules: HashMap<String, (Vec<(String, i64)>, Instant)>,
}

/// `Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight` and friends → the forward
/// action's (target group, weight) pairs; a plain `TargetGroupArn` forwards with weight 1.
fn forward_of(params: &[(String, String)]) -> Option<Vec<(String, i64)>> {
    let mut groups: Vec<(String, String, i64)> = Vec::new();
    for (k, v) in params {
        if !k.starts_with("Actions.member.") {
            continue;
        }
        if let Some(rest) = k.split(".ForwardConfig.TargetGroups.member.").nth(1) {
            let (n, field) = rest.split_once('.').unwrap_or((rest, ""));
            let at = match groups.iter().position(|g| g.0 == n) {
                Some(i) => i,
                None => {
                    groups.push((n.to_owned(), String::new(), 1));
                    groups.len() - 1
                }
            };
            match field {
                "TargetGroupArn" => groups[at].1 = v.clone(),
                "Weight" => groups[at].2 = v.parse().unwrap_or(1),
                _ => {}
            }
        } else if k.ends_with(".TargetGroupArn") && groups.is_empty() {
            groups.push(("0".into(), v.clone(), 1));
        }
    }
    (!groups.is_empty()).then(|| groups.into_iter().map(|(_, tg, w)| (tg, w)).collect())
}

impl RulesSeen {
    /// Records the forward action a CreateRule / ModifyRule set.
    pub fn record(&mut self, op: &str, params: &[(String, String)], answer: &str, now: Instant) {
        let arn = match op {
            "ModifyRule" => super::realism::param(params, "RuleArn").map(str::to_owned),
            "CreateRule" => super::realism::xml_value(answer, "RuleArn").map(str::to_owned),
            _ => None,
        };
        if let (Some(arn), Some(fwd)) = (arn, forward_of(params)) {
            self.rules.insert(arn, (fwd, now));
        }
    }

    /// Rewrites the forward action of each rule in a DescribeRules answer whose weights
    /// `current` knows.
    pub fn rewrite(xml: &str, current: &dyn Fn(&str) -> Option<Weights>) -> Option<String> {
        let mut out = xml.to_owned();
        let mut changed = false;
        let mut from = 0;
        while let Some(i) = out[from..].find("<RuleArn>") {
            let start = from + i + "<RuleArn>".len();
            let Some(len) = out[start..].find("</RuleArn>") else {
                break;
            };
            let arn = out[start..start + len].to_owned();
            from = start + len;
            let Some(weights) = current(&arn) else {
                continue;
            };
            // moto writes a rule's members in the API's order: RuleArn, Priority,
            // Conditions, Actions, IsDefault.
            let (Some(a), Some(b)) = (
                out[from..].find("<Actions>").map(|x| x + from),
                out[from..]
                    .find("</Actions>")
                    .map(|x| x + from + "</Actions>".len()),
            ) else {
                continue;
            };
            let groups: String = weights
                .iter()
                .map(|(tg, w)| {
                    format!("<member><TargetGroupArn>{tg}</TargetGroupArn><Weight>{w}</Weight></member>")
                })
                .collect();
            let actions = format!(
                "<Actions><member><Type>forward</Type><Order>1</Order><ForwardConfig>\
                 <TargetGroups>{groups}</TargetGroups><TargetGroupStickinessConfig>\
                 <Enabled>false</Enabled></TargetGroupStickinessConfig></ForwardConfig>\
                 </member></Actions>"
            );
            out.replace_range(a..b, &actions);
            from = a + actions.len();
            changed = true;
        }
        changed.then_some(out)
    }
}

/// What the layer knows of a service, for checks of a later UpdateService.
#[derive(Default, Clone)]
pub(super) struct Known {
    pub controller: Option<String>,
    pub load_balancers: Value,
    pub service_connect: bool,
}

/// AWS's refusal (`InvalidParameterException` message) of a CreateService / UpdateService
/// that asks for a blue/green, canary or linear deployment without what it needs.
/// `dc` is the deployment configuration the service will have (kept merged with the
/// request's), `known` what the service had, `rules` the rules' forward actions, and
/// `fresh_role` whether a role was created too recently to be assumed.
pub(super) fn refusal(
    req: &Value,
    dc: &Value,
    known: &Known,
    rules: &RulesSeen,
    fresh_role: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let strategy = dc["strategy"].as_str().unwrap_or("ROLLING");
    // Value ranges (ECS API DeploymentConfiguration.bakeTimeInMinutes: 0-1440, as
    // terraform-provider-aws#43434 validates; CanaryConfiguration: canaryPercent "multiples
    // of 0.1 from 0.1 to 100.0", canaryBakeTimeInMinutes "0 to 1440"; LinearConfiguration:
    // stepPercent "multiples of 0.1 from 3.0 to 100.0", stepBakeTimeInMinutes "0 to 1440").
    let sent = &req["deploymentConfiguration"];
    let minutes = [
        ("bakeTimeInMinutes", &sent["bakeTimeInMinutes"]),
        (
            "canaryConfiguration.canaryBakeTimeInMinutes",
            &sent["canaryConfiguration"]["canaryBakeTimeInMinutes"],
        ),
        (
            "linearConfiguration.stepBakeTimeInMinutes",
            &sent["linearConfiguration"]["stepBakeTimeInMinutes"],
        ),
    ];
    for (name, v) in minutes {
        if let Some(n) = v.as_i64() {
            if !(0..=1440).contains(&n) {
                return Some(format!(
                    "{name} must be between 0 and 1440 minutes. Got: {n}"
                ));
            }
        }
    }
    let percents = [
        (
            "canaryConfiguration.canaryPercent",
            &sent["canaryConfiguration"]["canaryPercent"],
            0.1,
        ),
        (
            "linearConfiguration.stepPercent",
            &sent["linearConfiguration"]["stepPercent"],
            3.0,
        ),
    ];
    for (name, v, min) in percents {
        if let Some(p) = v.as_f64() {
            let tenths = (p * 10.0).round();
            if p < min - 1e-9 || p > 100.0 + 1e-9 || (p * 10.0 - tenths).abs() > 1e-6 {
                return Some(format!(
                    "{name} must be a multiple of 0.1 between {min:.1} and 100.0. Got: {p}"
                ));
            }
        }
    }
    if !is_shifting(strategy) {
        return None;
    }
    // CanaryConfiguration / LinearConfiguration: "only valid when you run CreateService or
    // UpdateService with deploymentController set to ECS".
    let controller = req["deploymentController"]["type"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| known.controller.clone())
        .unwrap_or_else(|| "ECS".into());
    if controller != "ECS" {
        return Some(format!(
            "The {strategy} deployment strategy is only supported for services that use the \
             ECS deployment controller. Got: {controller}"
        ));
    }
    // DeploymentConfiguration.bakeTimeInMinutes: "You must provide this parameter when you
    // use the BLUE_GREEN deployment strategy."
    if strategy == "BLUE_GREEN" && dc["bakeTimeInMinutes"].is_null() {
        return Some(
            "bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.".into(),
        );
    }
    let lbs = if req["loadBalancers"].is_array() {
        req["loadBalancers"].clone()
    } else {
        known.load_balancers.clone()
    };
    let lbs: Vec<Value> = lbs.as_array().cloned().unwrap_or_default();
    let service_connect =
        req["serviceConnectConfiguration"]["enabled"] == true || known.service_connect;
    // "Amazon ECS canary deployments" / "Amazon ECS linear deployments": traffic is shifted
    // by Elastic Load Balancing or Service Connect; a headless service can use blue/green
    // only ("Required resources for Amazon ECS blue/green deployments").
    if matches!(strategy, "CANARY" | "LINEAR") && lbs.is_empty() && !service_connect {
        return Some(format!(
            "The {strategy} deployment strategy requires a load balancer or Service Connect \
             configuration."
        ));
    }
    for lb in &lbs {
        let Some(tg) = lb["targetGroupArn"].as_str() else {
            continue;
        };
        // "Application Load Balancer resources for blue/green, linear, and canary
        // deployments": two target groups, a production listener rule and the
        // infrastructure role (API AdvancedConfiguration).
        let adv = &lb["advancedConfiguration"];
        let field = |k: &str| adv[k].as_str().filter(|s| !s.is_empty());
        let (Some(alt), Some(prod), Some(role)) = (
            field("alternateTargetGroupArn"),
            field("productionListenerRule"),
            field("roleArn"),
        ) else {
            return Some(format!(
                "advancedConfiguration with alternateTargetGroupArn, productionListenerRule and \
                 roleArn is required for the load balancer of target group {tg} when the \
                 deployment strategy is {strategy}."
            ));
        };
        if alt == tg {
            return Some(format!(
                "alternateTargetGroupArn must be different from targetGroupArn. Got: {alt}"
            ));
        }
        // Troubleshooting Amazon ECS blue/green deployments, "Using an Application Load
        // Balancer listener ARN instead of a listener rule ARN" and "Using the same rule for
        // production and test listeners": the messages AWS gives.
        let test = field("testListenerRule");
        for (name, arn) in [
            ("productionListenerRule", Some(prod)),
            ("testListenerRule", test),
        ] {
            let Some(arn) = arn else { continue };
            if arn.contains(":listener/app/") || !arn.contains(":listener") {
                return Some(format!(
                    "{name} has an invalid ARN format. Must be RuleArn for ALB or ListenerArn \
                     for NLB. Got: {arn}"
                ));
            }
        }
        if test == Some(prod) {
            return Some(format!(
                "The following rules cannot be used as both production and test listener \
                 rules: {prod}"
            ));
        }
        // The production rule forwards to both groups (one weighted 0): ECS shifts traffic by
        // their weights (edwardpoot.com, "Avoiding Pitfalls in AWS ECS Blue/Green
        // Deployments"; cdk-real-drift#1730 saw ECS rewrite the rule to a weighted forward
        // over both groups).
        if let Some((fwd, _)) = rules.rules.get(prod) {
            let names: Vec<&str> = fwd.iter().map(|(t, _)| t.as_str()).collect();
            if !(names.contains(&tg) && names.contains(&alt)) {
                return Some(format!(
                    "The production listener rule {prod} must forward to both target groups \
                     {tg} and {alt}."
                ));
            }
        }
        // An infrastructure role created seconds ago cannot be assumed yet (IAM eventual
        // consistency, as for the task roles: terraform-provider-aws retryServiceCreate
        // "ECS was unable to assume the role").
        if fresh_role(role) {
            return Some(format!(
                "ECS was unable to assume the role '{role}' that was provided for \
                 advancedConfiguration. Please verify that the role being passed has the proper \
                 trust relationship and permissions."
            ));
        }
    }
    None
}

/// The routes of a deployment starting now: for each load balancer with an advanced
/// configuration, blue is the group the production rule sends (most of) its traffic to,
/// green the other. So successive deployments alternate the two groups (terraform-provider-
/// aws#45678: ECS "alternate[s] target groups across successive deployments"; cdk-real-drift
/// #1730 saw green=100/blue=0 after the first deployment), and a ModifyRule by the client
/// decides which group is blue next.
pub(super) fn routes(lbs: &Value, current: &dyn Fn(&str) -> Option<Weights>) -> Vec<Route> {
    lbs.as_array()
        .into_iter()
        .flatten()
        .filter_map(|lb| {
            let tg = lb["targetGroupArn"].as_str()?.to_owned();
            let adv = &lb["advancedConfiguration"];
            let alt = adv["alternateTargetGroupArn"].as_str()?.to_owned();
            let prod = adv["productionListenerRule"].as_str()?.to_owned();
            let weight_of = |g: &str, fwd: &[(String, i64)]| {
                fwd.iter().find(|(t, _)| t == g).map_or(0, |(_, w)| *w)
            };
            let alt_serves =
                current(&prod).is_some_and(|f| weight_of(&alt, &f) > weight_of(&tg, &f));
            let (blue, green) = if alt_serves { (alt, tg) } else { (tg, alt) };
            Some(Route {
                blue,
                green,
                production_rule: prod,
                test_rule: adv["testListenerRule"].as_str().map(str::to_owned),
            })
        })
        .collect()
}
