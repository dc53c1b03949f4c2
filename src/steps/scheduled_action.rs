//! Scheduled action on a service's scalable target: when it runs (`cron`, `rate` or `at`,
//! in a time zone) and the range it sets (min and/or max).
//!
//! Scheduled actions carry no tags, and their target's resource id is not known before the
//! target's step has run, so one paginated DescribeScheduledActions (ECS namespace) reads
//! them all, and only those on the desired count of services in the app's cluster count.
//! An action is the desired one when its name is a desired name (`<app>-<key>-<name>`);
//! another action there whose name starts with `<app>-` is an orphan of the app, with
//! logical id `scheduled_action.@<name>` (the service key and the schedule's name cannot be
//! told apart in a hyphenated name). docs/configuration.md asks that actions made by hand
//! on the app's services be named otherwise.
//!
//! PutScheduledAction is an upsert. Whether it keeps a bound the new call leaves out is not
//! documented (Application Auto Scaling API reference, PutScheduledAction:
//! "ScalableTargetAction ... You can set both values or just one"), so an update that drops
//! a bound deletes the action and puts it again.

use anyhow::Result;
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ScheduledAction};
use serde_json::{json, Value};

use super::support::autoscaling::{
    claim, cluster_prefix, target_not_visible, target_of, DIMENSION, NAMESPACE,
};
use super::support::field_map;
use super::Ctx;
use crate::aws::{answer, gone_ok_if, is_autoscaling_gone, retry_until, sent, CONSISTENCY};
use crate::desired::ScheduledActionSpec;
use crate::desired::{Fields, Kind, Outputs, Resolve, Resource, ResourceId};
use crate::plan::Observed;

const KIND: Kind = Kind::ScheduledAction;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let prefix = cluster_prefix(&ctx.cluster);
    let call = ctx
        .aws
        .autoscaling
        .describe_scheduled_actions()
        .service_namespace(NAMESPACE);
    let actions: Vec<ScheduledAction> =
        answer(call.into_paginator().items().send().try_collect()).await?;
    let on_the_app = actions.iter().filter(|a| {
        a.resource_id().starts_with(&prefix) && a.scalable_dimension() == Some(&DIMENSION)
    });
    let app_prefix = format!("{}-", ctx.app);
    let ours = |name: &str| name.starts_with(&app_prefix);
    let claimed = claim(
        KIND,
        on_the_app,
        desired,
        |a| (a.scheduled_action_name(), a.resource_id()),
        ours,
    );
    Ok(claimed.into_iter().map(|(id, a)| observed(id, a)).collect())
}

fn observed(id: ResourceId, a: &ScheduledAction) -> Observed {
    Observed {
        id,
        name: a.scheduled_action_name().to_string(),
        outputs: Outputs::with_id(a.scheduled_action_name()).arn(a.scheduled_action_arn()),
        fields: fields(a),
        state: "active".to_string(),
        details: Value::Null,
    }
}

/// The same shape as `Spec::fields` renders for a scheduled action. An action put without
/// a time zone runs in UTC (PutScheduledAction `Timezone`).
fn fields(a: &ScheduledAction) -> Fields {
    let range = a.scalable_target_action();
    field_map([
        ("resource_id", json!(a.resource_id())),
        ("schedule", json!(a.schedule())),
        ("timezone", json!(a.timezone().unwrap_or("UTC"))),
        ("min_capacity", json!(range.and_then(|r| r.min_capacity()))),
        ("max_capacity", json!(range.and_then(|r| r.max_capacity()))),
    ])
}

/// PutScheduledAction (an upsert) with the desired schedule and range.
async fn put(
    ctx: &Ctx,
    r: &Resource,
    s: &ScheduledActionSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let resource_id = res.need(&s.target)?;
    let bound = |v: Option<u32>| v.map(i32::try_from).transpose();
    let range = ScalableTargetAction::builder()
        .set_min_capacity(bound(s.min)?)
        .set_max_capacity(bound(s.max)?)
        .build();
    let req = ctx
        .aws
        .autoscaling
        .put_scheduled_action()
        .scheduled_action_name(&r.name)
        .service_namespace(NAMESPACE)
        .resource_id(&resource_id)
        .scalable_dimension(DIMENSION)
        .schedule(&s.schedule)
        .timezone(&s.timezone)
        .scalable_target_action(range);
    retry_until(CONSISTENCY, target_not_visible, || {
        answer(req.clone().send())
    })
    .await?;
    // PutScheduledAction answers nothing; the ARN is read by the next observe.
    Ok(Outputs::with_id(&r.name))
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ScheduledActionSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    put(ctx, r, s, res).await
}

/// The schedule, time zone and range change in place; a bound the action no longer sets
/// first deletes it (see the module doc); a changed resource id replaces it.
pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ScheduledActionSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let set = |k: &str| o.fields.get(k).is_some_and(|v| !v.is_null());
    let dropped =
        (s.min.is_none() && set("min_capacity")) || (s.max.is_none() && set("max_capacity"));
    if dropped {
        delete(ctx, o).await?;
    }
    put(ctx, r, s, res).await
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let resource_id = target_of(o)?;
    let call = ctx
        .aws
        .autoscaling
        .delete_scheduled_action()
        .scheduled_action_name(&o.name)
        .service_namespace(NAMESPACE)
        .resource_id(resource_id);
    let out = sent(call.scalable_dimension(DIMENSION).send()).await;
    gone_ok_if(is_autoscaling_gone, out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::desired::{Ref, Spec, Val};

    fn action(tz: Option<&str>, min: Option<i32>, max: Option<i32>) -> ScheduledAction {
        ScheduledAction::builder()
            .scheduled_action_name("shop-web-night")
            .scheduled_action_arn("arn:aws:autoscaling:x")
            .service_namespace(NAMESPACE)
            .schedule("cron(0 20 * * ? *)")
            .set_timezone(tz.map(str::to_string))
            .resource_id("service/shop-cluster/shop-web")
            .scalable_dimension(DIMENSION)
            .scalable_target_action(
                ScalableTargetAction::builder()
                    .set_min_capacity(min)
                    .set_max_capacity(max)
                    .build(),
            )
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    #[test]
    fn converged_action_diffs_to_nothing() {
        let target = ResourceId::new(Kind::ScalableTarget, "web");
        let spec = |tz: &str, min: Option<u32>| {
            Spec::ScheduledAction(ScheduledActionSpec {
                target: Val::Ref(Ref::id(&target)),
                schedule: "cron(0 20 * * ? *)".to_string(),
                timezone: tz.to_string(),
                min,
                max: Some(1),
            })
        };
        let mut outputs: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        outputs.insert(
            target.clone(),
            Outputs::with_id("service/shop-cluster/shop-web"),
        );
        let live = fields(&action(Some("Asia/Tokyo"), Some(1), Some(1)));
        assert_eq!(live, spec("Asia/Tokyo", Some(1)).fields(&outputs));
        // No time zone in the answer is UTC.
        let live = fields(&action(None, Some(1), Some(1)));
        assert_eq!(live, spec("UTC", Some(1)).fields(&outputs));
        // A bound the action does not set is null on both sides, and differs from a set one.
        let live = fields(&action(Some("UTC"), None, Some(1)));
        assert_eq!(live, spec("UTC", None).fields(&outputs));
        assert_ne!(live, spec("UTC", Some(0)).fields(&outputs));
    }
}
