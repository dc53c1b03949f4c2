//! EventBridge Scheduler: the app's schedule group, which both the `schedule_group` and the
//! `schedule` kinds look up. Scheduler tags groups but not schedules, so the group's tags
//! are what makes its schedules the app's: a group named like the app that another app (or
//! nobody) tagged is never listed into, and its schedules are never deleted.

use std::collections::BTreeMap;

use anyhow::Result;

use super::tags::tag;
use crate::aws::{answer, code_of, err, is_gone};
use crate::desired::{TAG_APP, TAG_RESOURCE};
use crate::steps::Ctx;

/// The schedule group named for the app, as found.
pub struct Group {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, or `DELETING` for a while after DeleteScheduleGroup.
    pub state: String,
    /// `ecsdeploy:app`.
    pub app: Option<String>,
    /// `ecsdeploy:resource`.
    pub resource: Option<String>,
}

impl Group {
    pub fn is_ours(&self, ctx: &Ctx) -> bool {
        self.app.as_deref() == Some(ctx.app.as_str())
    }
}

/// The group named `name` with its ownership tags, or none. Without a desired job, a
/// deployer not allowed to read Scheduler (an app that never had jobs, under a policy from
/// before them) reads as "no group" (`AccessDeniedException` is not taken as absence when
/// the config has jobs).
pub async fn find_group(ctx: &Ctx, name: &str, wanted: bool) -> Result<Option<Group>> {
    let got = ctx
        .aws
        .scheduler
        .get_schedule_group()
        .name(name)
        .send()
        .await;
    let g = match got.map_err(err) {
        Ok(g) => g,
        Err(e) if is_gone(&e) => return Ok(None),
        Err(e) if !wanted && code_of(&e) == Some("AccessDeniedException") => return Ok(None),
        Err(e) => return Err(e),
    };
    let arn = g.arn().unwrap_or_default().to_string();
    let call = ctx
        .aws
        .scheduler
        .list_tags_for_resource()
        .resource_arn(&arn);
    let tags = answer(call.send()).await?;
    let tags: BTreeMap<&str, &str> = [TAG_APP, TAG_RESOURCE]
        .into_iter()
        .filter_map(|k| Some((k, tag(tags.tags(), k)?)))
        .collect();
    Ok(Some(Group {
        name: g.name().unwrap_or(name).to_string(),
        app: tags.get(TAG_APP).map(|v| v.to_string()),
        resource: tags.get(TAG_RESOURCE).map(|v| v.to_string()),
        state: g.state().map_or("ACTIVE", |s| s.as_str()).to_string(),
        arn,
    }))
}
