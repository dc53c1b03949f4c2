//! The realism layer's service deployments and revisions (part of [`super::realism`]):
//! moto 5.2.5 knows none of `ListServiceDeployments`, `DescribeServiceDeployments`,
//! `DescribeServiceRevisions` and `StopServiceDeployment`. AWS records a service revision
//! and a service deployment for each CreateService, and for each UpdateService that
//! changes what the tasks run (ECS developer guide, "View service history using Amazon ECS
//! service deployments"); a deployment is `IN_PROGRESS`, then `SUCCESSFUL`, or, when its
//! tasks never start, rolled back by the circuit breaker (`ROLLBACK_SUCCESSFUL`) or
//! `STOPPED`. StopServiceDeployment with `ROLLBACK` moves one in flight to
//! `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, then `ROLLBACK_SUCCESSFUL` ("Stopping Amazon
//! ECS service deployments"), and the service runs the previous revision's task definition
//! again.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::strategies::{Context, Failure, Phase, Plan, RulesSeen, Weights};
use super::tasks::Answer;

/// What the layer knows about service deployments in one account.
#[derive(Default)]
pub(super) struct DeploymentsSeen {
    services: HashMap<String, History>,
    next_id: u64,
}

struct History {
    service_arn: String,
    cluster_arn: String,
    revisions: Vec<Revision>,
    deployments: Vec<ServiceDeployment>,
    /// The task definition a rollback put the service back on (moto still names the newer
    /// one) until a request names a task definition again.
    rolled_back_to: Option<String>,
}

/// Which deployments fail as if their tasks never started: every one of the services
/// named, those of the task-definition revisions named (`family:revision`), and the one
/// starting now when its load balancer cannot reach its tasks.
#[derive(Default)]
pub(super) struct Failing {
    pub services: Vec<String>,
    pub revisions: Vec<String>,
    /// The load balancer cannot reach the tasks of the deployment starting now on a target
    /// group's health-check port ([`super::reachability`]): none becomes healthy.
    pub unreachable: bool,
    /// Revisions whose blue/green, canary or linear deployments fail during bake time, as
    /// when an alarm goes off.
    pub during_bake: Vec<String>,
}

/// Whether a task definition (an ARN, or `family:revision` as a request named it; moto
/// echoes UpdateService's) is revision `f` (`family:revision`).
fn names_revision(td: &str, f: &str) -> bool {
    td == f || td.ends_with(&format!("/{f}"))
}

/// Whether `d` put the service back on its source revision: a StopServiceDeployment
/// rollback, the circuit breaker's once the window is over, or a strategy deployment's.
fn went_back(d: &ServiceDeployment, window: Duration) -> bool {
    match &d.plan {
        Some(_) => phase(d, Instant::now()).is_some_and(|p| p.rolled_back),
        None => {
            d.rollback_requested.is_some()
                || (d.own_failure && d.rollback && d.created.elapsed() >= window)
        }
    }
}

/// A strategy deployment's phase at `now` (none for a rolling one).
fn phase(d: &ServiceDeployment, now: Instant) -> Option<Phase> {
    let plan = d.plan.as_ref()?;
    let stopped = d
        .rollback_requested
        .map(|(t, _)| t.duration_since(d.created));
    Some(plan.phase(now.duration_since(d.created), stopped, d.source.is_some()))
}

/// What the service runs: the revision a rollback went back to, else the latest target.
fn running(h: &History, window: Duration) -> Option<String> {
    rolled_back(h, window).or_else(|| {
        h.deployments
            .last()
            .map(|d| h.revisions[d.target].task_definition.clone())
    })
}

/// The task definition a rollback put the service back on: StopServiceDeployment's, or
/// the circuit breaker's once the latest deployment failed.
fn rolled_back(h: &History, window: Duration) -> Option<String> {
    if let Some(td) = &h.rolled_back_to {
        return Some(td.clone());
    }
    let d = h.deployments.last()?;
    let src = d.source?;
    let back = match &d.plan {
        Some(_) => went_back(d, window),
        None => d.own_failure && d.rollback && d.created.elapsed() >= window,
    };
    back.then(|| h.revisions[src].task_definition.clone())
}

/// One entry of `Service.deployments`.
fn entry(id: &str, status: &str, td: &str, count: &Value, created: f64, rollout: &str) -> Value {
    let failed = rollout == "FAILED";
    json!({
        "id": id,
        "status": status,
        "taskDefinition": td,
        "desiredCount": count,
        "runningCount": if failed { json!(0) } else { count.clone() },
        "pendingCount": 0,
        "failedTasks": if failed { 3 } else { 0 },
        "createdAt": created,
        "updatedAt": created,
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": match rollout {
            "FAILED" => "ECS deployment circuit breaker: tasks failed to start.",
            "IN_PROGRESS" => "ECS deployment in progress.",
            _ => "ECS deployment completed.",
        },
    })
}

/// `Service.deployments` as AWS shows them: the latest deployment PRIMARY, with the one it
/// replaces ACTIVE while it is in flight. One whose tasks never start is FAILED once the
/// window is over; with the circuit breaker's rollback, ECS then deploys the previous
/// revision again (a new PRIMARY deployment, the failed one ACTIVE until the rollback is
/// done: ECS developer guide, "How the Amazon ECS deployment circuit breaker detects
/// failures"). The layer's deployment timeline (`service_states`) then shows a new
/// deployment IN_PROGRESS for its first window.
fn shown(h: &History, count: &Value, window: Duration) -> Vec<Value> {
    let latest = h.deployments.last().expect("a deployment");
    let td = &h.revisions[latest.target].task_definition;
    let age = latest.created.elapsed();
    if let Some(p) = phase(latest, Instant::now()) {
        // A blue/green, canary or linear deployment keeps the rolling shape (nothing
        // documents another): the new revision PRIMARY and the one it replaces ACTIVE while
        // both run; on a rollback the previous deployment PRIMARY again with the failed one
        // ACTIVE until the rollback is done.
        let new = |rollout| {
            entry(
                &latest.ecs_id,
                "PRIMARY",
                td,
                count,
                latest.created_at,
                rollout,
            )
        };
        let older = (h.deployments.len() > 1).then(|| &h.deployments[h.deployments.len() - 2]);
        let old = |status, rollout| {
            let (o, src) = (older?, latest.source?);
            let old_td = &h.revisions[src].task_definition;
            Some(entry(
                &o.ecs_id,
                status,
                old_td,
                count,
                o.created_at,
                rollout,
            ))
        };
        return match p.status {
            "IN_PROGRESS" => [Some(new("IN_PROGRESS")), old("ACTIVE", "COMPLETED")]
                .into_iter()
                .flatten()
                .collect(),
            "SUCCESSFUL" => vec![new("COMPLETED")],
            "ROLLBACK_SUCCESSFUL" => old("PRIMARY", "COMPLETED").into_iter().collect(),
            "STOPPED" => vec![new("FAILED")],
            _ => {
                let failed = entry(
                    &latest.ecs_id,
                    "ACTIVE",
                    td,
                    count,
                    latest.created_at,
                    "FAILED",
                );
                [old("PRIMARY", "IN_PROGRESS"), Some(failed)]
                    .into_iter()
                    .flatten()
                    .collect()
            }
        };
    }
    if latest.own_failure && age >= window {
        if let (true, Some(src)) = (latest.rollback, latest.source) {
            // ECS takes the last completed deployment up again (ECS API
            // DeploymentCircuitBreaker.rollback; the developer guide describes it going from
            // COMPLETED to IN_PROGRESS): the previous deployment, PRIMARY once more, in
            // progress for a window, with the failed one ACTIVE until it is done.
            let older = &h.deployments[h.deployments.len() - 2];
            // A rollback starts tasks again: as long as a deployment (here three windows),
            // so that a wait polling with backoff sees the failure before it is over.
            let done = age >= window * 4;
            let back = entry(
                &older.ecs_id,
                "PRIMARY",
                &h.revisions[src].task_definition,
                count,
                older.created_at,
                if done { "COMPLETED" } else { "IN_PROGRESS" },
            );
            if done {
                return vec![back];
            }
            let failed = entry(
                &latest.ecs_id,
                "ACTIVE",
                td,
                count,
                latest.created_at,
                "FAILED",
            );
            return vec![back, failed];
        }
        return vec![entry(
            &latest.ecs_id,
            "PRIMARY",
            td,
            count,
            latest.created_at,
            "FAILED",
        )];
    }
    let mut list = vec![entry(
        &latest.ecs_id,
        "PRIMARY",
        td,
        count,
        latest.created_at,
        "COMPLETED",
    )];
    if let (true, Some(src)) = (age < window, latest.source) {
        let older = &h.deployments[h.deployments.len() - 2];
        let old_td = &h.revisions[src].task_definition;
        list.push(entry(
            &older.ecs_id,
            "ACTIVE",
            old_td,
            count,
            older.created_at,
            "COMPLETED",
        ));
    }
    list
}

struct Revision {
    arn: String,
    task_definition: String,
    created: f64,
}

struct ServiceDeployment {
    arn: String,
    /// The id DescribeServices gives it (`Service.deployments[].id`).
    ecs_id: String,
    created: Instant,
    created_at: f64,
    target: usize,
    source: Option<usize>,
    /// The service's tasks never start (`Realism::failing_services`, or
    /// `failing_revisions`), or never become healthy ([`Failing::unreachable`]).
    fails: bool,
    /// ... because of this deployment (its revision, or a load balancer that cannot reach
    /// its tasks), not the whole service: then this layer also shows the failure and the
    /// circuit breaker's rollback in DescribeServices (a failing service's is shown by
    /// `Realism::service_states`).
    own_failure: bool,
    /// The circuit breaker rolls a failure back.
    rollback: bool,
    /// When StopServiceDeployment asked for a rollback.
    rollback_requested: Option<(Instant, f64)>,
    /// When a newer deployment replaced it while in flight.
    superseded: Option<f64>,
    /// A blue/green, canary or linear deployment's timeline ([`super::strategies`]).
    plan: Option<Plan>,
}

/// The strings of a JSON array (none for anything else).
pub(super) fn strings_of(v: &Value) -> Vec<String> {
    strings(v).into_iter().map(str::to_owned).collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn service_name(op: &str, req: &Value) -> String {
    let name = match op {
        "CreateService" => req["serviceName"].as_str(),
        _ => req["service"].as_str(),
    };
    let name = name.unwrap_or_default();
    name.rsplit('/').next().unwrap_or(name).to_owned()
}

/// `(status, reason, lifecycle stage, finished)` of a deployment at `now`.
fn status(
    d: &ServiceDeployment,
    now: Instant,
    window: Duration,
) -> (&'static str, &'static str, Option<&'static str>, bool) {
    if d.superseded.is_none() {
        if let Some(p) = phase(d, now) {
            return (p.status, p.reason, p.stage, p.finished);
        }
    }
    if let Some((t, _)) = d.rollback_requested {
        let age = now.duration_since(t);
        return if age < window / 4 {
            (
                "ROLLBACK_REQUESTED",
                "Rollback requested by StopServiceDeployment.",
                Some("RECONCILE_SERVICE"),
                false,
            )
        } else if age < window {
            (
                "ROLLBACK_IN_PROGRESS",
                "Rolling back to the previous service revision.",
                Some("SCALE_UP"),
                false,
            )
        } else {
            (
                "ROLLBACK_SUCCESSFUL",
                "Rolled back to the previous service revision.",
                None,
                true,
            )
        };
    }
    if d.superseded.is_some() {
        return (
            "STOPPED",
            "A newer service deployment replaced it.",
            None,
            true,
        );
    }
    if now.duration_since(d.created) < window {
        return ("IN_PROGRESS", "", Some("SCALE_UP"), false);
    }
    match (d.fails, d.rollback) {
        (true, true) if now.duration_since(d.created) < window * 4 => (
            "ROLLBACK_IN_PROGRESS",
            "ECS deployment circuit breaker: tasks failed to start.",
            Some("SCALE_UP"),
            false,
        ),
        (true, true) => (
            "ROLLBACK_SUCCESSFUL",
            "ECS deployment circuit breaker: tasks failed to start.",
            None,
            true,
        ),
        (true, false) => (
            "STOPPED",
            "ECS deployment circuit breaker: tasks failed to start.",
            None,
            true,
        ),
        _ => ("SUCCESSFUL", "", None, true),
    }
}

impl DeploymentsSeen {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("rl{:020}", self.next_id)
    }

    /// Records what a successful CreateService / UpdateService / DeleteService started;
    /// whether it started a deployment.
    pub(super) fn after(
        &mut self,
        op: &str,
        req: &Value,
        answer: &Value,
        failing: &Failing,
        window: Duration,
        strategies: Context,
    ) -> bool {
        let svc = &answer["service"];
        let name = service_name(op, req);
        match op {
            "CreateService" => {
                let service_arn = svc["serviceArn"].as_str().unwrap_or_default().to_owned();
                let cluster_arn = svc["clusterArn"].as_str().unwrap_or_default().to_owned();
                self.services.insert(
                    name.clone(),
                    History {
                        service_arn,
                        cluster_arn,
                        revisions: vec![],
                        deployments: vec![],
                        rolled_back_to: None,
                    },
                );
            }
            "UpdateService" => {}
            "DeleteService" => {
                self.services.remove(&name);
                return false;
            }
            _ => return false,
        }
        let Some(h) = self.services.get(&name) else {
            return false;
        };
        // What the service runs: the rolled-back-to revision after a rollback.
        let current = running(h, window);
        // The revision's task definition: the one the request names (moto's answer has it
        // as an ARN), else the one the service runs.
        let answered = svc["taskDefinition"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let td = match (&current, req["taskDefinition"].is_null()) {
            (Some(running), true) => running.clone(),
            _ => answered,
        };
        // ECS developer guide, "Amazon ECS service deployments": a new service revision
        // and deployment for a new task definition, a forced deployment, or a change of
        // what the tasks run with (network, load balancers, capacity, Service Connect).
        let starts = op == "CreateService"
            || req["forceNewDeployment"] == true
            || (!req["taskDefinition"].is_null() && current.as_deref() != Some(td.as_str()))
            || [
                "networkConfiguration",
                "loadBalancers",
                "capacityProviderStrategy",
                "serviceConnectConfiguration",
            ]
            .iter()
            .any(|k| !req[*k].is_null());
        let rollback = svc["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"]
            .as_bool()
            .or_else(|| {
                req["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"].as_bool()
            })
            .unwrap_or(false);
        if !req["taskDefinition"].is_null() {
            if let Some(h) = self.services.get_mut(&name) {
                h.rolled_back_to = None;
            }
        }
        if !starts {
            return false;
        }
        // A blue/green, canary or linear deployment: its timeline, with blue and green chosen
        // from the production rule's weights as they are now.
        let dc = &svc["deploymentConfiguration"];
        let shifting = super::strategies::is_shifting(dc["strategy"].as_str().unwrap_or(""));
        let routes = shifting.then(|| {
            super::strategies::routes(&svc["loadBalancers"], &|rule| {
                self.current_weights(rule, strategies.rules)
            })
        });
        let (rev_id, dep_id) = (self.new_id(), self.new_id());
        let Some(h) = self.services.get_mut(&name) else {
            return false;
        };
        let now_epoch = epoch();
        let base = h.service_arn.replacen(":service/", ":service-revision/", 1);
        h.revisions.push(Revision {
            arn: format!("{base}/{rev_id}"),
            task_definition: td,
            created: now_epoch,
        });
        // The revision the service runs: a rolled-back deployment's source.
        let source = h.deployments.last().map(|d| {
            let back = went_back(d, window);
            match (back, d.source) {
                (true, Some(src)) => src,
                _ => d.target,
            }
        });
        // One still in flight is replaced (a finished one stays as it ended).
        let now = Instant::now();
        for d in h.deployments.iter_mut() {
            let in_flight = match &d.plan {
                Some(_) => !status(d, now, window).3,
                None => d.created.elapsed() < window,
            };
            if in_flight && d.superseded.is_none() && d.rollback_requested.is_none() {
                d.superseded = Some(now_epoch);
            }
        }
        let by_revision = h.revisions.last().is_some_and(|r| {
            failing
                .revisions
                .iter()
                .any(|f| names_revision(&r.task_definition, f))
        });
        let in_bake = h.revisions.last().is_some_and(|r| {
            failing
                .during_bake
                .iter()
                .any(|f| names_revision(&r.task_definition, f))
        });
        let own_failure = by_revision || failing.unreachable;
        let failure = if own_failure || failing.services.contains(&name) {
            Some(Failure::TasksFail)
        } else if in_bake {
            Some(Failure::AlarmInBake)
        } else {
            None
        };
        let plan = routes.map(|routes| Plan::new(dc, routes, strategies.times, failure));
        let base = h
            .service_arn
            .replacen(":service/", ":service-deployment/", 1);
        let ecs_id = match svc["deployments"]
            .as_array()
            .and_then(|l| l.iter().find(|d| d["status"] == "PRIMARY"))
            .and_then(|d| d["id"].as_str())
        {
            // The service's first deployment is moto's own.
            Some(id) if op == "CreateService" => id.to_owned(),
            _ => format!("ecs-svc/{}", dep_id.trim_start_matches("rl")),
        };
        h.deployments.push(ServiceDeployment {
            arn: format!("{base}/{dep_id}"),
            ecs_id,
            created: Instant::now(),
            created_at: now_epoch,
            target: h.revisions.len() - 1,
            source,
            fails: own_failure || failing.services.contains(&name),
            own_failure,
            rollback,
            rollback_requested: None,
            superseded: None,
            plan,
        });
        true
    }

    /// Whether the deployment DescribeServices shows as `ecs_id` in service `service`
    /// fails because of itself (its revision, an unreachable target): the first one, from
    /// CreateService, is moto's and shown as moto has it, so `Realism::service_states`
    /// fails it there as it does a failing service's.
    pub(super) fn fails_alone(&self, service: &str, ecs_id: &str) -> bool {
        self.services.get(service).is_some_and(|h| {
            h.deployments
                .iter()
                .any(|d| d.ecs_id == ecs_id && d.own_failure)
        })
    }

    /// The forward weights of listener rule `rule` as they are now: those the latest
    /// strategy deployment routing through it has set since a client last set them, else
    /// the client's.
    pub(super) fn current_weights(&self, rule: &str, rules: &RulesSeen) -> Option<Weights> {
        let client = rules.rules.get(rule);
        let now = Instant::now();
        let latest = self
            .services
            .values()
            .flat_map(|h| h.deployments.iter())
            .filter(|d| client.is_none_or(|(_, at)| d.created > *at))
            .filter_map(|d| Some((d, d.plan.as_ref()?)))
            .filter(|(_, p)| {
                p.routes
                    .iter()
                    .any(|r| r.production_rule == rule || r.test_rule.as_deref() == Some(rule))
            })
            .max_by_key(|(d, _)| d.created);
        latest
            .and_then(|(d, plan)| plan.weights(rule, &phase(d, now)?))
            .or_else(|| client.map(|(w, _)| w.clone()))
    }

    /// Rewrites the services of an answer that shows them as AWS shows them: once an
    /// UpdateService started a deployment (moto starts none), it is the PRIMARY one, with
    /// the one it replaces ACTIVE until it finishes; and a rollback's task definition.
    /// Whether anything changed.
    pub(super) fn rewrite(&self, answer: &mut Value, window: Duration) -> bool {
        let mut changed = false;
        let services = match answer.get_mut("services") {
            Some(Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
            _ => answer.get_mut("service").into_iter().collect(),
        };
        for svc in services {
            let name = svc["serviceName"].as_str().unwrap_or_default().to_owned();
            let Some(h) = self.services.get(&name) else {
                continue;
            };
            if svc["status"] != "ACTIVE" {
                continue;
            }
            // ECS API Service.currentServiceDeployment: the ARN of the service's latest
            // service deployment (moto has none).
            if let Some(d) = h.deployments.last() {
                svc["currentServiceDeployment"] = d.arn.clone().into();
                changed = true;
            }
            if h.deployments.len() > 1 {
                svc["deployments"] = shown(h, &svc["desiredCount"], window).into();
                changed = true;
            }
            if let Some(td) = rolled_back(h, window) {
                for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                    if d["status"] == "PRIMARY" {
                        d["taskDefinition"] = td.clone().into();
                    }
                }
                svc["taskDefinition"] = td.into();
                changed = true;
            }
            if let Some(td) = &h.rolled_back_to {
                svc["taskDefinition"] = td.clone().into();
                for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                    if d["status"] == "PRIMARY" {
                        d["taskDefinition"] = td.clone().into();
                    }
                }
                changed = true;
            }
        }
        changed
    }

    /// Answers the service-deployment operations moto lacks; `None` for any other.
    pub(super) fn answer(&mut self, op: &str, req: &Value, window: Duration) -> Option<Answer> {
        let now = Instant::now();
        Some(match op {
            "ListServiceDeployments" => {
                let name = service_name("UpdateService", req);
                let mut briefs: Vec<Value> = self
                    .services
                    .get(&name)
                    .map(|h| {
                        h.deployments
                            .iter()
                            .map(|d| self.brief(h, d, now, window))
                            .collect()
                    })
                    .unwrap_or_default();
                // Oldest first, in pages: the API promises no order (callers sort), and
                // `maxResults` is 20 unless asked (at most 100), with a `nextToken`.
                let wanted = strings(&req["status"]);
                if !wanted.is_empty() {
                    briefs.retain(|b| wanted.contains(&b["status"].as_str().unwrap_or_default()));
                }
                let size = req["maxResults"].as_u64().unwrap_or(20).clamp(1, 100) as usize;
                let from: usize = req["nextToken"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let page: Vec<Value> = briefs.iter().skip(from).take(size).cloned().collect();
                let mut answer = json!({"serviceDeployments": page});
                if from + size < briefs.len() {
                    answer["nextToken"] = (from + size).to_string().into();
                }
                Ok(answer)
            }
            "DescribeServiceDeployments" => {
                let arns = strings(&req["serviceDeploymentArns"]);
                let mut found = Vec::new();
                let mut failures = Vec::new();
                for arn in arns {
                    match self.find(arn) {
                        Some((h, d)) => found.push(self.full(h, d, now, window)),
                        None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
                    }
                }
                Ok(json!({"serviceDeployments": found, "failures": failures}))
            }
            "DescribeServiceRevisions" => {
                let arns = strings(&req["serviceRevisionArns"]);
                let mut found = Vec::new();
                let mut failures = Vec::new();
                for arn in arns {
                    let hit = self
                        .services
                        .values()
                        .find_map(|h| h.revisions.iter().find(|r| r.arn == arn).map(|r| (h, r)));
                    match hit {
                        Some((h, r)) => found.push(json!({
                            "serviceRevisionArn": r.arn,
                            "serviceArn": h.service_arn,
                            "clusterArn": h.cluster_arn,
                            "taskDefinition": r.task_definition,
                            "launchType": "FARGATE",
                            "createdAt": r.created,
                        })),
                        None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
                    }
                }
                Ok(json!({"serviceRevisions": found, "failures": failures}))
            }
            "StopServiceDeployment" => self.stop(req, now, window),
            _ => return None,
        })
    }

    fn find(&self, arn: &str) -> Option<(&History, &ServiceDeployment)> {
        self.services
            .values()
            .find_map(|h| h.deployments.iter().find(|d| d.arn == arn).map(|d| (h, d)))
    }

    fn stop(&mut self, req: &Value, now: Instant, window: Duration) -> Answer {
        let arn = req["serviceDeploymentArn"].as_str().unwrap_or_default();
        if req["stopType"].as_str().unwrap_or("ROLLBACK") != "ROLLBACK" {
            return Err((
                "InvalidParameterException",
                "The valid stop type is ROLLBACK.".into(),
            ));
        }
        let Some(h) = self
            .services
            .values_mut()
            .find(|h| h.deployments.iter().any(|d| d.arn == arn))
        else {
            return Err((
                "ServiceDeploymentNotFoundException",
                format!("The service deployment {arn} does not exist."),
            ));
        };
        let i = h
            .deployments
            .iter()
            .position(|d| d.arn == arn)
            .expect("found above");
        let (state, ..) = status(&h.deployments[i], now, window);
        match state {
            "PENDING" | "IN_PROGRESS" => {}
            "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" => {
                return Ok(json!({"serviceDeploymentArn": arn}))
            }
            other => {
                return Err((
                    "ConflictException",
                    format!("The service deployment {arn} is {other} and cannot be stopped."),
                ))
            }
        }
        let d = &mut h.deployments[i];
        d.rollback_requested = Some((now, epoch()));
        if let Some(src) = d.source {
            h.rolled_back_to = Some(h.revisions[src].task_definition.clone());
        }
        Ok(json!({"serviceDeploymentArn": arn}))
    }

    fn brief(&self, h: &History, d: &ServiceDeployment, now: Instant, window: Duration) -> Value {
        let (state, reason, _, finished) = status(d, now, window);
        let mut v = json!({
            "serviceDeploymentArn": d.arn,
            "serviceArn": h.service_arn,
            "clusterArn": h.cluster_arn,
            "createdAt": d.created_at,
            "startedAt": d.created_at,
            "targetServiceRevisionArn": h.revisions[d.target].arn,
            "status": state,
        });
        if !reason.is_empty() {
            v["statusReason"] = reason.into();
        }
        if finished {
            let took = match &d.plan {
                Some(plan) => {
                    let stopped = d
                        .rollback_requested
                        .map(|(t, _)| t.duration_since(d.created));
                    plan.finish(stopped)
                }
                None => window,
            };
            v["finishedAt"] = (d.superseded.unwrap_or(d.created_at + took.as_secs_f64())).into();
        }
        v
    }

    fn full(&self, h: &History, d: &ServiceDeployment, now: Instant, window: Duration) -> Value {
        let (_, _, stage, _) = status(d, now, window);
        let mut v = self.brief(h, d, now, window);
        let summary = |i: usize| -> Value {
            let arn = &h.revisions[i].arn;
            json!({"arn": arn, "requestedTaskCount": 1, "runningTaskCount": 1, "pendingTaskCount": 0})
        };
        let source: Vec<Value> = d.source.into_iter().map(summary).collect();
        v["targetServiceRevision"] = summary(d.target);
        v["sourceServiceRevisions"] = source.into();
        if let Some(stage) = stage {
            v["lifecycleStage"] = stage.into();
        }
        if let (Some(p), Some(plan), None) = (phase(d, now), &d.plan, d.rollback_requested) {
            if p.rolled_back {
                // ECS API ServiceDeployment.rollback ("The reason the rollback happened") and
                // .alarms (triggeredAlarmNames) for a failure ECS detected itself.
                let (at, why) = plan.failure().expect("a rollback has a failure");
                v["rollback"] = json!({
                    "reason": p.reason,
                    "startedAt": d.created_at + at.as_secs_f64(),
                    "serviceRevisionArn": d.source.map(|i| h.revisions[i].arn.clone()),
                });
                if why == Failure::AlarmInBake {
                    v["alarms"] = json!({
                        "status": "TRIGGERED",
                        "alarmNames": plan.alarms,
                        "triggeredAlarmNames": plan.alarms,
                    });
                }
            }
        }
        if let Some((_, at)) = d.rollback_requested {
            v["rollback"] = json!({
                "reason": "StopServiceDeployment with stop type ROLLBACK",
                "startedAt": at,
                "serviceRevisionArn": d.source.map(|i| h.revisions[i].arn.clone()),
            });
        }
        v
    }
}
