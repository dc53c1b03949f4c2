//! Release tasks (`services.<key>.release`): one task of the service's new revision, with the
//! service's network, run to completion after the revision is registered and before the
//! service is updated to it (the service's step comes after this one). Nothing is kept in
//! AWS: a release is observed as the revision the live service runs, so the plan runs it
//! exactly when the service is about to move to another revision (or is created), and a
//! release that failed runs again on the next `up` (the service still runs the old one).

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use super::support::ecs_task;
use super::support::log_events::{start_ms, text, Follower, Line};
use super::support::one_off::{self, Launch, Seen};
use super::Ctx;
use crate::aws::StoppedWaiting;
use crate::desired::{Outputs, ReleaseSpec, Resolve, Resource, Spec, TAG_APP};
use crate::plan::Observed;
use crate::steps::support::tags::tag;

/// `startedBy` of release tasks.
pub const STARTED_BY: &str = "ecsdeploy/release";

fn spec(r: &Resource) -> &ReleaseSpec {
    match &r.spec {
        Spec::Release(s) => s,
        _ => unreachable!("release step given {}", r.id),
    }
}

/// The revision each desired release's service runs, for the app's ACTIVE services.
pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    if desired.is_empty() {
        return Ok(vec![]);
    }
    let names: Vec<String> = desired.iter().map(|r| r.name.clone()).collect();
    let found = super::describe_services(ctx, &names).await?;
    let mut out = vec![];
    for r in desired {
        let live = found.iter().find(|s| {
            s.service_name() == Some(r.name.as_str())
                && s.status() == Some("ACTIVE")
                && tag(s.tags(), TAG_APP) == Some(ctx.app.as_str())
        });
        let Some(td) = live.and_then(|s| s.task_definition()) else {
            continue;
        };
        out.push(Observed {
            id: r.id.clone(),
            name: r.name.clone(),
            outputs: Outputs::with_id(td),
            fields: [
                ("task_definition".to_string(), json!(td)),
                // Not recorded by AWS: shown as configured.
                ("command".to_string(), json!(spec(r).command)),
            ]
            .into_iter()
            .collect(),
            state: format!("service on {}", td.rsplit('/').next().unwrap_or(td)),
            details: json!({ "task_definition": td }),
        });
    }
    Ok(out)
}

super::support::updates::create_and_update_by!(
    /// A release runs again whenever its service is about to move to another revision: the
    /// plan updates it exactly then (see the module doc).
    release(ReleaseSpec)
);

/// Nothing to delete: a release task leaves nothing behind.
pub async fn delete(_ctx: &Ctx, _o: &Observed) -> Result<()> {
    Ok(())
}

/// Runs the release task and waits for it; an error (with its last log lines) unless its
/// main container exits 0.
async fn release(ctx: &Ctx, r: &Resource, s: &ReleaseSpec, res: &dyn Resolve) -> Result<Outputs> {
    let key = r.id.to_string();
    let cluster = res.need(&s.cluster)?;
    let td_arn = res.need(&s.task_definition)?;
    let launch = Launch {
        cluster: cluster.clone(),
        task_definition: td_arn.clone(),
        network: ecs_task::network(s.assign_public_ip, &s.subnets, &s.security_groups, res)?,
        capacity: vec![],
        platform_version: None,
        container: s.container.clone(),
        command: s.command.clone(),
        started_by: STARTED_BY.to_string(),
    };
    let td = one_off::task_definition(ctx, &td_arn).await?;
    let since = start_ms(one_off::CLOCK_SLACK);
    let arn = one_off::start(ctx, &launch)
        .await
        .with_context(|| format!("starting the release task of {}", r.name))?;
    let id = one_off::task_id(&arn).to_string();
    ctx.report
        .progress(&key, &format!("release task {id}: {}", s.command.join(" ")));
    let logs = one_off::task_streams(&td, &s.container, &id)
        .map(|(group, streams)| Follower::new(group, streams, None, since));
    let on = |seen: Seen| match seen {
        Seen::Status(st) => ctx.report.progress(&key, &format!("task {id}: {st}")),
        Seen::Line(l) => ctx
            .report
            .progress(&key, &format!("| {}", l.message.trim_end())),
    };
    let timeout = Duration::from_secs(u64::from(s.timeout_seconds));
    let watched = one_off::watch(ctx, &cluster, &arn, &s.container, logs, timeout, on).await;
    let watched = match watched {
        Ok(w) => w,
        Err(e) if e.downcast_ref::<StoppedWaiting>().is_some() => {
            return Err(e.context(format!(
                "release task {arn} of {} is still running; the service was not updated",
                r.name
            )))
        }
        Err(e) => return Err(e),
    };
    let Some(ended) = watched.ended else {
        one_off::stop(ctx, &cluster, &arn, "release timed out (ecsdeploy)").await?;
        bail!(
            "release task {id} of {} ran longer than its timeout ({} s) and was stopped; the \
             service was not updated{}",
            r.name,
            s.timeout_seconds,
            tail(&watched.tail)
        );
    };
    if !ended.succeeded() {
        return Err(anyhow!(
            "release task {id} of {} failed: {}; the service was not updated{}",
            r.name,
            ended.describe(),
            tail(&watched.tail)
        ));
    }
    Ok(Outputs::with_id(&arn).arn(&arn))
}

/// The task's last log lines, for an error: `; its last log lines:\n  <line>...`.
fn tail(lines: &[Line]) -> String {
    if lines.is_empty() {
        return "; it wrote no log lines".to_string();
    }
    let shown: Vec<String> = lines.iter().map(|l| format!("  {}", text(l))).collect();
    format!("; its last log lines:\n{}", shown.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_names_the_lines_or_their_absence() {
        assert_eq!(tail(&[]), "; it wrote no log lines");
        let l = Line {
            timestamp: 1_795_000_000_123,
            task: "0123456789abcdef".into(),
            container: "web".into(),
            message: "django.db.utils.OperationalError: no such table\n".into(),
            event_id: "1".into(),
        };
        assert_eq!(
            tail(&[l]),
            "; its last log lines:\n  2026-11-18T11:06:40.123Z 01234567 web | \
             django.db.utils.OperationalError: no such table"
        );
    }
}
