//! EventBridge Scheduler schedules of the app's jobs: one per job, in the app's schedule
//! group, starting one Fargate task of the job's task definition in the app's cluster.
//! Scheduler has no tags on schedules; every schedule in the app's own group (see
//! `support::scheduler`) is the app's, and its name is the job key.
//!
//! Scheduler checks at CreateSchedule and UpdateSchedule that it can assume the target's
//! role; a role made a moment ago is retried as not yet propagated
//! (`aws::SCHEDULER_ROLE_MESSAGE`).

use anyhow::Result;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{
    AssignPublicIp, AwsVpcConfiguration, EcsParameters, FlexibleTimeWindow, FlexibleTimeWindowMode,
    LaunchType, NetworkConfiguration, ScheduleState, Target,
};
use serde_json::{json, Value};

use super::support::runs::last_runs;
use super::support::scheduler::find_group;
use super::support::{made_or_existing, object_fields, Made};
use super::Ctx;
use crate::aws::{
    answer, bounded, client_token, err, gone_ok, is_gone, not_yet_propagated, retry_while_settling,
    sent, unless_gone, FAN_OUT, PROPAGATION,
};
use crate::desired::{Kind, Outputs, Resolve, Resource, ResourceId, ScheduleSpec};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    // The app's group, named like the app; someone else's group is reported by the
    // schedule_group kind and never listed into here.
    let Some(group) = find_group(ctx, &ctx.app, !desired.is_empty()).await? else {
        return Ok(vec![]);
    };
    if !group.is_ours(ctx) {
        return Ok(vec![]);
    }
    let mut names = Vec::new();
    let mut pages = ctx
        .aws
        .scheduler
        .list_schedules()
        .group_name(&group.name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(err)?;
        names.extend(
            page.schedules()
                .iter()
                .filter_map(|s| s.name())
                .map(String::from),
        );
    }
    let got = bounded(
        names.iter().map(|name| {
            let call = ctx
                .aws
                .scheduler
                .get_schedule()
                .group_name(&group.name)
                .name(name);
            // Deleted between the listing and now: not there.
            async move { unless_gone(is_gone, answer(call.send()).await) }
        }),
        FAN_OUT,
    )
    .await?;
    let mut found = Vec::new();
    for s in got.iter().flatten() {
        let name = s.name().unwrap_or_default();
        let id = desired
            .iter()
            .find(|r| r.name == name)
            .map_or_else(|| ResourceId::new(Kind::Schedule, name), |r| r.id.clone());
        let mut details = json!({
            "group": s.group_name(),
            "expression": s.schedule_expression(),
            "timezone": s.schedule_expression_timezone().unwrap_or("UTC"),
        });
        if ctx.status_details {
            // The family of the task definition the schedule runs: the job's own.
            let family = s
                .target()
                .and_then(|t| t.ecs_parameters())
                .map(|e| e.task_definition_arn())
                .and_then(|a| a.rsplit('/').next())
                .and_then(|a| a.split(':').next());
            if let Some(family) = family {
                details["runs"] = last_runs(ctx, family).await?;
            }
        }
        found.push(Observed {
            id,
            name: name.to_string(),
            outputs: Outputs::with_id(name).arn(s.arn().unwrap_or_default()),
            fields: object_fields(fields(s)),
            state: s.state().map_or("unknown", |st| st.as_str()).to_string(),
            details,
        });
    }
    Ok(found)
}

/// The normal form of a schedule as GetSchedule answers it (the same shape as
/// `ScheduleSpec::fields`; unset values read as Scheduler's defaults).
fn fields(s: &GetScheduleOutput) -> Value {
    let target = s.target();
    let ecs = target.and_then(|t| t.ecs_parameters());
    let vpc = ecs
        .and_then(|e| e.network_configuration())
        .and_then(|n| n.awsvpc_configuration());
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    json!({
        "group": s.group_name(),
        "expression": s.schedule_expression(),
        "timezone": s.schedule_expression_timezone().unwrap_or("UTC"),
        "state": s.state().map_or("ENABLED", |st| st.as_str()),
        "flexible_time_window": s.flexible_time_window().map(|f| f.mode().as_str()),
        "target": {
            "arn": target.map(|t| t.arn()),
            "role_arn": target.map(|t| t.role_arn()),
            "task_definition_arn": ecs.map(|e| e.task_definition_arn()),
            "launch_type": ecs.and_then(|e| e.launch_type()).map(|l| l.as_str()),
            "task_count": ecs.map(|e| e.task_count().unwrap_or(1)),
            "subnets": sorted(vpc.map_or(&[][..], |v| v.subnets())),
            "security_groups": sorted(vpc.map_or(&[][..], |v| v.security_groups())),
            "assign_public_ip": vpc
                .and_then(|v| v.assign_public_ip())
                .map_or("DISABLED", |a| a.as_str()),
        },
    })
}

/// The schedule's target and settings, references resolved.
struct Request {
    group: String,
    target: Target,
    window: FlexibleTimeWindow,
}

fn request(s: &ScheduleSpec, res: &dyn Resolve) -> Result<Request> {
    let mut vpc = AwsVpcConfiguration::builder().assign_public_ip(if s.assign_public_ip {
        AssignPublicIp::Enabled
    } else {
        AssignPublicIp::Disabled
    });
    for subnet in res.need_all(&s.subnets)? {
        vpc = vpc.subnets(subnet);
    }
    for sg in res.need_all(&s.security_groups)? {
        vpc = vpc.security_groups(sg);
    }
    let ecs = EcsParameters::builder()
        .task_definition_arn(res.need(&s.task_definition)?)
        .launch_type(LaunchType::Fargate)
        .task_count(1)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc.build()?)
                .build(),
        )
        .build()?;
    Ok(Request {
        group: res.need(&s.group)?,
        target: Target::builder()
            .arn(res.need(&s.cluster)?)
            .role_arn(res.need(&s.role)?)
            .ecs_parameters(ecs)
            .build()?,
        window: FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()?,
    })
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ScheduleSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let q = request(s, res)?;
    let call = ctx
        .aws
        .scheduler
        .create_schedule()
        .name(&r.name)
        .group_name(&q.group)
        .schedule_expression(&s.expression)
        .schedule_expression_timezone(&s.timezone)
        .state(ScheduleState::Enabled)
        .flexible_time_window(q.window)
        .target(q.target)
        .client_token(client_token(&["schedule", &ctx.app, &r.name], 0));
    // Scheduler checks that it can assume the role, which may be a moment old.
    let made = retry_while_settling(PROPAGATION, not_yet_propagated, || {
        answer(call.clone().send())
    })
    .await;
    match made_or_existing(ctx, r, made, "ConflictException", observe).await? {
        Made::Existing(o) => update(ctx, r, s, &o, res).await,
        Made::New(out) => Ok(Outputs::with_id(&r.name).arn(out.schedule_arn())),
    }
}

/// UpdateSchedule replaces the whole schedule: everything is sent again.
pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ScheduleSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let q = request(s, res)?;
    let call = ctx
        .aws
        .scheduler
        .update_schedule()
        .name(&r.name)
        .group_name(&q.group)
        .schedule_expression(&s.expression)
        .schedule_expression_timezone(&s.timezone)
        .state(ScheduleState::Enabled)
        .flexible_time_window(q.window)
        .target(q.target);
    let out = retry_while_settling(PROPAGATION, not_yet_propagated, || {
        answer(call.clone().send())
    })
    .await?;
    let arn = out.schedule_arn();
    Ok(o.outputs.clone().arn(arn))
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let group = o
        .fields
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or(&ctx.app);
    let call = ctx
        .aws
        .scheduler
        .delete_schedule()
        .group_name(group)
        .name(o.outputs.id());
    gone_ok(sent(call.send()).await)
}
