//! EventBridge Scheduler schedule group of the app (named like the app): found by its name,
//! owned by its tags (see `support::scheduler`). It has no settings to update.

use anyhow::Result;

use super::support::ownership::not_owned;
use super::support::scheduler::find_group;
use super::support::tags::owned_tags;
use super::support::{made_or_existing, Made};
use super::Ctx;
use crate::aws::{client_token, err, gone_ok, sent};
use crate::desired::{Fields, Kind, Outputs, Resolve, Resource, ResourceId, ScheduleGroupSpec};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    // The group is named like the app: looked up even when the config has no job, so an
    // orphaned one is found (and `down` deletes it).
    let wanted = desired.first();
    let name = wanted.map_or(ctx.app.as_str(), |r| r.name.as_str());
    let Some(g) = find_group(ctx, name, wanted.is_some()).await? else {
        return Ok(vec![]);
    };
    let id = match (wanted, g.is_ours(ctx)) {
        (Some(r), true) => r.id.clone(),
        (Some(_), false) => {
            let what = format!("EventBridge Scheduler schedule group {name}");
            return Err(not_owned(ctx, &what, "delete it or rename the app"));
        }
        (None, true) => g
            .resource
            .as_deref()
            .and_then(ResourceId::parse)
            .filter(|id| id.kind == Kind::ScheduleGroup)
            .unwrap_or_else(crate::desired::schedule_group_id),
        (None, false) => return Ok(vec![]),
    };
    Ok(vec![Observed {
        id,
        name: g.name.clone(),
        outputs: Outputs::with_id(&g.name).arn(&g.arn),
        fields: Fields::new(),
        state: g.state.clone(),
        details: serde_json::Value::Null,
    }])
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    _s: &ScheduleGroupSpec,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let call = ctx
        .aws
        .scheduler
        .create_schedule_group()
        .name(&r.name)
        .client_token(client_token(&["schedule-group", &ctx.app, &r.name], 0))
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    let made = call.send().await.map_err(err);
    match made_or_existing(ctx, r, made, "ConflictException", observe).await? {
        Made::Existing(o) => Ok(o.outputs),
        Made::New(out) => Ok(Outputs::with_id(&r.name).arn(out.schedule_group_arn())),
    }
}

/// Nothing to change in place: the group has no settings.
pub use super::support::updates::unchanged as update;

/// Deleting a group deletes the schedules still in it (AWS does so asynchronously); the
/// app's schedules are deleted first anyway (`Kind::deleted_after`). A delete whose answer
/// was lost and that failed when sent again is a success when the group is gone (the
/// emulator answers a second delete with a 500, not `ResourceNotFoundException`).
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.outputs.id();
    let call = ctx.aws.scheduler.delete_schedule_group().name(name);
    match gone_ok(sent(call.send()).await) {
        Err(e) if find_group(ctx, name, true).await?.is_none() => {
            tracing::debug!("schedule group {name} is gone after: {e:#}");
            Ok(())
        }
        other => other,
    }
}
