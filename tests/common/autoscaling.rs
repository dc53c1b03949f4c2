//! The realism layer's Application Auto Scaling (part of [`super::realism`]). moto 5.2.5
//! (`moto/applicationautoscaling/models.py`) puts scaling policies and scheduled actions on
//! targets nobody registered, accepts a minimum above the maximum and a scheduled action
//! that sets neither, keeps a target's policies and scheduled actions when it is
//! deregistered, deletes a missing scheduled action without a word, and says
//! `ValidationException` for a missing policy or target. AWS:
//!
//! - PutScalingPolicy / PutScheduledAction on a target that is not registered: 400
//!   `ObjectNotFoundException` "No scalable target registered for service namespace: ecs,
//!   resource ID: service/<cluster>/<service>, scalable dimension: ecs:service:DesiredCount"
//!   (quoted in ansible/ansible#35632 and #40237, cloudposse/terraform-aws-ecs-cloudwatch-
//!   autoscaling#36). A target registered a moment ago is not visible yet either:
//!   cloudposse#36 met the error with the policy ordered after the target ("race
//!   condition"), terraform-provider-aws retries PutScalingPolicy (PR #8273) and
//!   PutScheduledAction (`internal/service/appautoscaling/scheduled_action.go`, 5 minutes) on
//!   `ObjectNotFoundException`. Here: each of the two operations is refused once per target
//!   within [`super::realism::Realism::propagation`] of its registration, as the EC2 ids
//!   created a moment ago are; and always while moto has no such target (never registered,
//!   or deregistered and not registered again).
//! - ScalableTargetAction with MinCapacity above MaxCapacity: 400 `ValidationException`
//!   "Maximum capacity cannot be less than minimum capacity" (terraform-provider-aws PR
//!   #8777); with neither: "At least one of minimum capacity and maximum capacity should be
//!   provided" (aws-cloudformation/community-registry-extensions#255). RegisterScalableTarget
//!   sending both with the minimum above the maximum: the same first message (terraform's
//!   "Error creating application autoscaling target: ValidationException: Maximum capacity
//!   cannot be less than minimum capacity", as a deployment linter in public code quotes it;
//!   its repository was not identified).
//! - DeregisterScalableTarget: "Deregistering a scalable target deletes the scaling policies
//!   and the scheduled actions that are associated with it" (Application Auto Scaling API
//!   reference, DeregisterScalableTarget). The proxy sends moto those deletes itself once
//!   moto no longer has the target ([`cascade`]).
//! - DeleteScalingPolicy, DeleteScheduledAction, DeregisterScalableTarget of what does not
//!   exist: 400 `ObjectNotFoundException`, "For any operation that deletes or deregisters a
//!   resource, this exception is thrown if the resource cannot be found" (API reference,
//!   the Errors of each; met by eagletmt/hako#69 and terraform-provider-aws#18114 for a
//!   target). The messages are moto's (for the scheduled action, in the same form), under
//!   AWS's code.
//!
//! What exists is asked of moto (its Describe calls, sent by the proxy as
//! [`super::cross_account`] does), so targets, policies and actions made through another
//! proxy of the same account count too; what was registered when is the layer's own
//! ([`AutoscalingSeen`]).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::faults::{error, Protocol};
use super::{Call, ProxyBody, ProxyState};

/// The signing name of Application Auto Scaling calls (`Call::service`).
pub(super) const SERVICE: &str = "application-autoscaling";
const TARGET_PREFIX: &str = "AnyScaleFrontendService.";

/// A scalable target: (service namespace, resource id, scalable dimension).
type Target = (String, String, String);

fn target_of(req: &Value) -> Target {
    let s = |k: &str| req[k].as_str().unwrap_or_default().to_owned();
    (
        s("ServiceNamespace"),
        s("ResourceId"),
        s("ScalableDimension"),
    )
}

fn described((ns, id, dim): &Target) -> String {
    format!("service namespace: {ns}, resource ID: {id}, scalable dimension: {dim}")
}

/// What the layer has seen of scalable targets in one account.
#[derive(Default)]
pub(super) struct AutoscalingSeen {
    /// Target → when this proxy registered it (an update of a registered one keeps it).
    registered: HashMap<Target, Instant>,
    /// (target, operation) already refused while the target was fresh.
    refused: HashSet<(Target, String)>,
}

impl AutoscalingSeen {
    /// AWS's refusal (code, message) of `req` that needs no question to moto.
    pub(super) fn refusal(
        &mut self,
        op: &str,
        req: &Value,
        now: Instant,
        propagation: Duration,
    ) -> Option<(&'static str, String)> {
        let invalid = |m: &str| Some(("ValidationException", m.to_owned()));
        let above = |min: &Value, max: &Value| matches!((min.as_i64(), max.as_i64()), (Some(min), Some(max)) if min > max);
        match op {
            "RegisterScalableTarget" if above(&req["MinCapacity"], &req["MaxCapacity"]) => {
                invalid("Maximum capacity cannot be less than minimum capacity")
            }
            "PutScheduledAction" | "PutScalingPolicy" => {
                let action = &req["ScalableTargetAction"];
                if action.is_object() {
                    let (min, max) = (&action["MinCapacity"], &action["MaxCapacity"]);
                    if min.is_null() && max.is_null() {
                        return invalid(
                            "At least one of minimum capacity and maximum capacity should be \
                             provided",
                        );
                    }
                    if above(min, max) {
                        return invalid("Maximum capacity cannot be less than minimum capacity");
                    }
                }
                let target = target_of(req);
                let fresh = self
                    .registered
                    .get(&target)
                    .is_some_and(|t| now.duration_since(*t) < propagation);
                (fresh && self.refused.insert((target.clone(), op.to_owned())))
                    .then(|| not_registered(&target))
            }
            _ => None,
        }
    }

    /// Records a call moto answered with success.
    pub(super) fn after(&mut self, op: &str, req: &Value, now: Instant) {
        let target = target_of(req);
        match op {
            "RegisterScalableTarget" if !self.registered.contains_key(&target) => {
                self.refused.retain(|(t, _)| *t != target);
                self.registered.insert(target, now);
            }
            "DeregisterScalableTarget" => {
                self.registered.remove(&target);
            }
            _ => {}
        }
    }
}

fn not_registered(target: &Target) -> (&'static str, String) {
    let message = format!("No scalable target registered for {}", described(target));
    ("ObjectNotFoundException", message)
}

/// AWS's refusal of a call that names a target, policy or scheduled action moto does not
/// have (see the module doc); `None` forwards it. Asks moto; forwards when moto does not
/// answer.
pub(super) async fn refusal(
    state: &ProxyState,
    call: &Call,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response<ProxyBody>> {
    if call.service != SERVICE {
        return None;
    }
    let req: Value = serde_json::from_slice(body).ok()?;
    let target = target_of(&req);
    let name = |k: &str| req[k].as_str().unwrap_or_default().to_owned();
    let missing = match call.operation.as_str() {
        "PutScalingPolicy" | "PutScheduledAction" => {
            (!target_exists(state, headers, &target).await?).then(|| not_registered(&target).1)
        }
        "DeregisterScalableTarget" => (!target_exists(state, headers, &target).await?)
            .then(|| format!("No scalable target found for {}", described(&target))),
        "DeleteScalingPolicy" => {
            let policy = name("PolicyName");
            let policies = policies(state, headers, &target).await?;
            (!policies.contains(&policy)).then(|| {
                format!(
                    "No scaling policy found for {}, policy name: {policy}",
                    described(&target)
                )
            })
        }
        "DeleteScheduledAction" => {
            let action = name("ScheduledActionName");
            let actions = scheduled_actions(state, headers, &target).await?;
            (!actions.contains(&action)).then(|| {
                format!(
                    "No scheduled action found for {}, scheduled action name: {action}",
                    described(&target)
                )
            })
        }
        _ => None,
    }?;
    Some(error(
        Protocol::AwsJson,
        400,
        "ObjectNotFoundException",
        &missing,
    ))
}

/// Whether the proxy must call [`cascade`] once `call` was answered.
pub(super) fn cascades(call: &Call) -> bool {
    call.service == SERVICE && call.operation == "DeregisterScalableTarget"
}

/// After a DeregisterScalableTarget (`body`): when moto no longer has the target, deletes
/// its scaling policies and scheduled actions there, as AWS's deregistration does. Whether
/// anything was deleted.
pub(super) async fn cascade(state: &ProxyState, headers: &HeaderMap, body: &[u8]) -> bool {
    let req: Value = serde_json::from_slice(body).unwrap_or_default();
    let target = target_of(&req);
    if target_exists(state, headers, &target).await != Some(false) {
        return false;
    }
    let (ns, id, dim) = &target;
    let mut deleted = false;
    for policy in policies(state, headers, &target).await.unwrap_or_default() {
        let body = json!({"ServiceNamespace": ns, "ResourceId": id,
                          "ScalableDimension": dim, "PolicyName": policy});
        deleted |= moto(state, headers, "DeleteScalingPolicy", body)
            .await
            .is_some();
    }
    for action in scheduled_actions(state, headers, &target)
        .await
        .unwrap_or_default()
    {
        let body = json!({"ServiceNamespace": ns, "ResourceId": id,
                          "ScalableDimension": dim, "ScheduledActionName": action});
        deleted |= moto(state, headers, "DeleteScheduledAction", body)
            .await
            .is_some();
    }
    deleted
}

/// Whether moto has `target`; `None` when moto did not answer.
async fn target_exists(state: &ProxyState, headers: &HeaderMap, target: &Target) -> Option<bool> {
    let (ns, id, dim) = target;
    let body = json!({"ServiceNamespace": ns, "ResourceIds": [id], "ScalableDimension": dim});
    let answer = moto(state, headers, "DescribeScalableTargets", body).await?;
    let found = answer["ScalableTargets"].as_array().is_some_and(|all| {
        all.iter()
            .any(|t| t["ResourceId"] == id.as_str() && t["ScalableDimension"] == dim.as_str())
    });
    Some(found)
}

/// The names of the scaling policies moto has on `target` (every page; moto matches
/// `ResourceId` as a substring, so the target is compared here).
async fn policies(state: &ProxyState, headers: &HeaderMap, target: &Target) -> Option<Vec<String>> {
    let (ns, id, dim) = target;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"ServiceNamespace": ns, "ResourceId": id, "ScalableDimension": dim});
        if let Some(t) = &token {
            body["NextToken"] = t.clone().into();
        }
        let answer = moto(state, headers, "DescribeScalingPolicies", body).await?;
        for p in answer["ScalingPolicies"].as_array().into_iter().flatten() {
            if p["ResourceId"] == id.as_str() && p["ScalableDimension"] == dim.as_str() {
                names.extend(p["PolicyName"].as_str().map(str::to_owned));
            }
        }
        token = answer["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            return Some(names);
        }
    }
}

/// The names of the scheduled actions moto has on `target`.
async fn scheduled_actions(
    state: &ProxyState,
    headers: &HeaderMap,
    target: &Target,
) -> Option<Vec<String>> {
    let (ns, id, dim) = target;
    let body = json!({"ServiceNamespace": ns, "ResourceId": id, "ScalableDimension": dim});
    let answer = moto(state, headers, "DescribeScheduledActions", body).await?;
    let names = answer["ScheduledActions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["ResourceId"] == id.as_str() && a["ScalableDimension"] == dim.as_str())
        .filter_map(|a| a["ScheduledActionName"].as_str().map(str::to_owned))
        .collect();
    Some(names)
}

/// One Application Auto Scaling call straight to moto, in the proxy's account and the
/// region `headers` are signed for; its answer, `None` unless it succeeded.
async fn moto(state: &ProxyState, headers: &HeaderMap, op: &str, body: Value) -> Option<Value> {
    let mut request = Request::post(format!("http://127.0.0.1:{}/", state.moto_port))
        .header("x-amz-target", format!("{TARGET_PREFIX}{op}"))
        .header(CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-moto-account-id", state.account.clone());
    if let Some(auth) = headers.get(AUTHORIZATION) {
        request = request.header(AUTHORIZATION, auth); // moto's service and region
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .ok()?;
    let answer = state.client.request(request).await.ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let bytes = answer.into_body().collect().await.ok()?.to_bytes();
    serde_json::from_slice(&bytes).ok()
}
