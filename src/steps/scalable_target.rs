//! Application Auto Scaling target for an ECS service's desired count
//! (`service/<cluster>/<service>`, dimension `ecs:service:DesiredCount`): min and max.
//!
//! One paginated DescribeScalableTargets (ECS namespace) answers for everything: the
//! desired targets are picked out by resource id (they are ours by name: the service they
//! scale is the app's), and the other targets of services in the app's cluster are orphan
//! candidates. (Asking for the desired ids separately would only repeat part of the scan.)
//! A candidate is ours when its tags (ListTagsForResource on its ARN, called
//! only for candidates) say so, and its logical id is read from them. When the endpoint
//! reports no ARN or cannot list tags (moto neither stores nor lists them), ownership falls
//! back to the name: a target whose service is named `<app>-<key>` is the orphan
//! `scalable_target.<key>` — the id the tag would carry for a default-named service.
//!
//! Also shares with `scaling_policy` the namespace, dimension and error classification.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use anyhow::Result;
use aws_sdk_applicationautoscaling::error::SdkError;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetFluentBuilder;
use aws_sdk_applicationautoscaling::types::ScalableTarget;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::autoscaling::{cluster_prefix, DIMENSION, NAMESPACE};
use super::support::field_map;
use super::Ctx;
use crate::aws::{
    answer, err, gone_ok_if, is_autoscaling_gone, retry_until, says, sent, CONSISTENCY,
};
use crate::desired::ScalableTargetSpec;
use crate::desired::{
    Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

/// RegisterScalableTarget right after CreateService can miss the new service for a moment.
fn service_not_visible(e: &anyhow::Error) -> bool {
    says(e, "ValidationException", "service doesn't exist")
        || says(e, "ValidationException", "service does not exist")
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let prefix = cluster_prefix(&ctx.cluster);
    // No ScalableDimension filter: AWS accepts it only together with resource ids.
    let call = ctx
        .aws
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(NAMESPACE);
    let targets: Vec<ScalableTarget> =
        answer(call.into_paginator().items().send().try_collect()).await?;

    let mut found = Vec::new();
    let mut taken: BTreeSet<ResourceId> = BTreeSet::new();
    let mut candidates = Vec::new();
    for t in &targets {
        if t.scalable_dimension() != &DIMENSION {
            continue;
        }
        match wanted.get(t.resource_id()) {
            Some(r) if taken.insert(r.id.clone()) => {
                found.push(as_scheduled(r, observed(r.id.clone(), t)))
            }
            Some(_) => {}
            None if t.resource_id().starts_with(&prefix) => candidates.push(t),
            None => {}
        }
    }

    let tags = try_join_all(candidates.iter().map(|t| tags_of(ctx, t))).await?;
    for (t, tags) in candidates.into_iter().zip(tags) {
        let Some(id) = orphan_id(&ctx.app, &prefix, t.resource_id(), tags.as_ref()) else {
            continue;
        };
        // A target whose natural id is desired (or already claimed) but whose resource id
        // is not the desired one is a leftover of another incarnation: keep it apart.
        let id = if desired_ids.contains(&id) || taken.contains(&id) {
            ResourceId::new(Kind::ScalableTarget, format!("@{}", t.resource_id()))
        } else {
            id
        };
        taken.insert(id.clone());
        found.push(observed(id, t));
    }
    Ok(found)
}

/// The tags of a target; `None` when they cannot be known (no ARN reported, or an
/// endpoint that does not implement ListTagsForResource).
async fn tags_of(ctx: &Ctx, t: &ScalableTarget) -> Result<Option<HashMap<String, String>>> {
    let Some(arn) = t.scalable_target_arn().filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let out = ctx
        .aws
        .autoscaling
        .list_tags_for_resource()
        .resource_arn(arn)
        .customize()
        // An endpoint without the operation answers 500; do not spend the client's full
        // retry budget (minutes of backoff) learning that.
        .config_override(
            aws_sdk_applicationautoscaling::config::Builder::default().retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(200)),
            ),
        )
        .send()
        .await;
    match out {
        Ok(o) => Ok(Some(o.tags().cloned().unwrap_or_default())),
        Err(e) if tags_unsupported(&e) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

/// An answer without an AWS error code (moto's HTML 500 page for an unimplemented
/// operation), or a code that says the operation does not exist.
fn tags_unsupported<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(_))
        && matches!(
            e.code(),
            None | Some(
                "NotImplemented"
                    | "NotImplementedException"
                    | "UnknownOperationException"
                    | "InvalidAction"
            )
        )
}

/// The logical id of a non-desired target in the app's cluster, if the app owns it: by its
/// tags when they are known, else by its service's name (`<app>-<key>` → `<key>`).
fn orphan_id(
    app: &str,
    prefix: &str,
    resource_id: &str,
    tags: Option<&HashMap<String, String>>,
) -> Option<ResourceId> {
    match tags {
        Some(tags) => {
            if tags.get(TAG_APP).map(String::as_str) != Some(app) {
                return None;
            }
            tags.get(TAG_RESOURCE)
                .and_then(|s| ResourceId::parse(s))
                .filter(|id| id.kind == Kind::ScalableTarget)
        }
        None => {
            let service = resource_id.strip_prefix(prefix)?;
            let key = service.strip_prefix(app)?.strip_prefix('-')?;
            (!key.is_empty() && !key.contains('/'))
                .then(|| ResourceId::new(Kind::ScalableTarget, key))
        }
    }
}

fn observed(id: ResourceId, t: &ScalableTarget) -> Observed {
    let rid = t.resource_id();
    let mut outputs = Outputs::with_id(rid);
    if let Some(arn) = t.scalable_target_arn().filter(|a| !a.is_empty()) {
        outputs = outputs.arn(arn);
    }
    let suspended = t.suspended_state().filter(|s| {
        s.dynamic_scaling_in_suspended() == Some(true)
            || s.dynamic_scaling_out_suspended() == Some(true)
            || s.scheduled_scaling_suspended() == Some(true)
    });
    Observed {
        id,
        name: rid.to_string(),
        outputs,
        fields: fields(t),
        state: if suspended.is_some() {
            "suspended"
        } else {
            "registered"
        }
        .to_string(),
        details: match suspended {
            Some(s) => json!({
                "dynamic_scaling_in_suspended": s.dynamic_scaling_in_suspended(),
                "dynamic_scaling_out_suspended": s.dynamic_scaling_out_suspended(),
                "scheduled_scaling_suspended": s.scheduled_scaling_suspended(),
            }),
            None => Value::Null,
        },
    }
}

/// A desired target whose range is one its scheduled actions set is up to date: its
/// fields say the configured range (so `plan` shows no change and `up` does not undo the
/// schedule), and its details the range in force.
fn as_scheduled(r: &Resource, mut o: Observed) -> Observed {
    let Spec::ScalableTarget(s) = &r.spec else {
        return o;
    };
    let live = |k: &str| o.fields.get(k).and_then(Value::as_u64).map(u32::try_from);
    let (Some(Ok(min)), Some(Ok(max))) = (live("min_capacity"), live("max_capacity")) else {
        return o;
    };
    if s.set_by_schedules(min, max) {
        o.fields.insert("min_capacity".to_string(), json!(s.min));
        o.fields.insert("max_capacity".to_string(), json!(s.max));
        let mut details = o.details.as_object().cloned().unwrap_or_default();
        details.insert("scheduled_range".into(), json!({ "min": min, "max": max }));
        o.details = Value::Object(details);
    }
    o
}

/// The same shape as `Spec::fields` renders for a scalable target.
fn fields(t: &ScalableTarget) -> Fields {
    field_map([
        ("resource_id", json!(t.resource_id())),
        ("min_capacity", json!(t.min_capacity())),
        ("max_capacity", json!(t.max_capacity())),
    ])
}

/// RegisterScalableTarget: creates the target, or sets min/max of an existing one.
fn register(
    ctx: &Ctx,
    resource_id: &str,
    min: u32,
    max: u32,
) -> Result<RegisterScalableTargetFluentBuilder> {
    Ok(ctx
        .aws
        .autoscaling
        .register_scalable_target()
        .service_namespace(NAMESPACE)
        .resource_id(resource_id)
        .scalable_dimension(DIMENSION)
        .min_capacity(i32::try_from(min)?)
        .max_capacity(i32::try_from(max)?))
}

async fn send(req: RegisterScalableTargetFluentBuilder) -> Result<Option<String>> {
    let out = retry_until(CONSISTENCY, service_not_visible, || {
        answer(req.clone().send())
    })
    .await?;
    Ok(out.scalable_target_arn().map(str::to_string))
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ScalableTargetSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let resource_id = format!("service/{}/{}", s.cluster, res.need(&s.service)?);
    let mut req = register(ctx, &resource_id, s.min, s.max)?;
    // Tags are accepted only when the target is created (TagResource tags existing ones).
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(k, v);
    }
    let outputs = Outputs::with_id(&resource_id);
    Ok(match send(req).await? {
        Some(arn) if !arn.is_empty() => outputs.arn(arn),
        _ => outputs,
    })
}

/// Min/max change in place: RegisterScalableTarget is an upsert. (The resource id is
/// immutable: a change replaces the target.)
pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    s: &ScalableTargetSpec,
    o: &Observed,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let arn = send(register(ctx, o.outputs.id(), s.min, s.max)?).await?;
    Ok(match arn {
        Some(arn) if !arn.is_empty() => o.outputs.clone().arn(arn),
        _ => o.outputs.clone(),
    })
}

/// Deregistering a target also deletes its scaling policies (in AWS; moto keeps them).
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let call = ctx.aws.autoscaling.deregister_scalable_target();
    let call = call
        .service_namespace(NAMESPACE)
        .resource_id(o.outputs.id());
    let out = sent(call.scalable_dimension(DIMENSION).send()).await;
    gone_ok_if(is_autoscaling_gone, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{NoRefs, ScalableTargetSpec, Val};

    fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn orphans_by_tag() {
        let p = cluster_prefix("shop-cluster");
        let ours = tags(&[(TAG_APP, "shop"), (TAG_RESOURCE, "scalable_target.web")]);
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/anything", Some(&ours)),
            Some(ResourceId::new(Kind::ScalableTarget, "web"))
        );
        let other = tags(&[(TAG_APP, "blog"), (TAG_RESOURCE, "scalable_target.web")]);
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/shop-web", Some(&other)),
            None
        );
        // Tags readable but absent: not ours, whatever the name says.
        assert_eq!(
            orphan_id(
                "shop",
                &p,
                "service/shop-cluster/shop-web",
                Some(&tags(&[]))
            ),
            None
        );
        let wrong_kind = tags(&[(TAG_APP, "shop"), (TAG_RESOURCE, "service.web")]);
        assert_eq!(orphan_id("shop", &p, "x", Some(&wrong_kind)), None);
    }

    #[test]
    fn orphans_by_name_without_tags() {
        let p = cluster_prefix("shop-cluster");
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/shop-web", None),
            Some(ResourceId::new(Kind::ScalableTarget, "web"))
        );
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/web", None),
            None
        );
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/shop-", None),
            None
        );
        assert_eq!(
            orphan_id("shop", &p, "service/shop-cluster/shopweb", None),
            None
        );
        assert_eq!(orphan_id("shop", &p, "service/other/shop-web", None), None);
    }

    fn spec(schedules: Vec<(Option<u32>, Option<u32>)>) -> Spec {
        Spec::ScalableTarget(ScalableTargetSpec {
            service: Val::lit("shop-web"),
            cluster: "shop-cluster".to_string(),
            min: 1,
            max: 5,
            schedules,
        })
    }

    fn target(min: i32, max: i32) -> ScalableTarget {
        ScalableTarget::builder()
            .service_namespace(NAMESPACE)
            .resource_id("service/shop-cluster/shop-web")
            .scalable_dimension(DIMENSION)
            .min_capacity(min)
            .max_capacity(max)
            .role_arn("arn:aws:iam::1:role/x")
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    #[test]
    fn converged_target_diffs_to_nothing() {
        assert_eq!(fields(&target(1, 5)), spec(vec![]).fields(&NoRefs));
    }

    #[test]
    fn a_range_a_schedule_set_is_up_to_date_and_said() {
        let r = |schedules| Resource {
            id: ResourceId::new(Kind::ScalableTarget, "web"),
            name: "service/shop-cluster/shop-web".to_string(),
            spec: spec(schedules),
        };
        let id = || ResourceId::new(Kind::ScalableTarget, "web");
        let night = r(vec![(Some(0), Some(0))]);
        let o = as_scheduled(&night, observed(id(), &target(0, 0)));
        assert_eq!(o.fields, night.spec.fields(&NoRefs));
        assert_eq!(o.details["scheduled_range"], json!({ "min": 0, "max": 0 }));
        // A range no schedule sets stays as it is, and differs.
        let o = as_scheduled(&night, observed(id(), &target(2, 3)));
        assert_ne!(o.fields, night.spec.fields(&NoRefs));
        assert_eq!(o.details, Value::Null);
        // Without schedules, the live range is compared as it is.
        let o = as_scheduled(&r(vec![]), observed(id(), &target(0, 0)));
        assert_eq!(o.fields["min_capacity"], json!(0));
    }
}
