//! A Scheduled Job manifest → `[jobs.<key>]`: its image (a location: a job runs an image,
//! it does not build one), `on.schedule` as a Scheduler expression, cpu and memory, command,
//! variables and placement. Copilot schedules run in UTC, ecsdeploy's default time zone.
//! What a job table cannot hold (secrets, retries, timeout, a build, an ARM platform) is
//! listed, as every unread field is.

use super::schedule::aws_schedule;
use super::service::{command, resources, variables, ServiceOut};
use super::track::Cx;
use crate::migrate::yaml::Node;

pub const JOB: &str = "Scheduled Job";

/// `None` (and a note at its `type`) when the job has no schedule or image it can be
/// written with.
pub fn convert(cx: &mut Cx, m: &Node, key: &str) -> Option<ServiceOut> {
    let mut s = ServiceOut {
        key: key.to_string(),
        job: true,
        ..ServiceOut::default()
    };
    let name = m.get("name").and_then(Node::str).unwrap_or(key).to_string();
    let schedule = m.get("on").and_then(|o| o.entry("schedule")).cloned();
    let expr = schedule
        .as_ref()
        .and_then(|e| e.value.str())
        .and_then(aws_schedule);
    let location = m
        .get("image")
        .and_then(|i| i.entry("location"))
        .filter(|e| e.value.str().is_some())
        .cloned();
    let (Some(expr), Some(location), Some(schedule)) = (expr.clone(), location, schedule) else {
        // Not written: one note at `type`, and every field stays listed.
        let why = if m.get("image").and_then(|i| i.get("build")).is_some() {
            "its image is built (`image.build`), and a job runs an image, it does not build \
             one: push the image and give its location, or build it as a service's image and \
             set the job's `service`"
        } else if expr.is_none() {
            "its `on.schedule` has no EventBridge Scheduler equivalent (both day fields \
             restricted, seconds, or none)"
        } else {
            "it has no `image.location`"
        };
        let hint = match &expr {
            Some(e) => format!(" with `schedule = \"{e}\"`"),
            None => String::new(),
        };
        let (line, col) = m
            .entry("type")
            .map(|e| (e.key_line, e.key_col))
            .unwrap_or((1, 1));
        cx.note(
            line,
            col,
            "type",
            format!(
                "Scheduled Job `{name}` not converted: {why}; declare it as `[jobs.{key}]` by \
                 hand{hint}"
            ),
        );
        return None;
    };
    cx.take(m, "name");
    cx.take(m, "type");
    cx.enter(m.get("on").expect("has the schedule"));
    cx.used(&schedule.value);
    let src = cx.src(&schedule, "on.schedule");
    s.service.put("schedule", expr.as_str(), Some(src));
    cx.enter(m.get("image").expect("has the location"));
    cx.used(&location.value);
    let src = cx.src(&location, "image.location");
    s.service
        .put("image", location.value.str().unwrap_or_default(), Some(src));
    resources(cx, m, &mut s);
    // Jobs have no `cpu_architecture`: an ARM image is not converted.
    if let Some(arch) = s.service.table.remove("cpu_architecture") {
        if arch.as_str() != Some("X86_64") {
            if let Some(e) = m.entry("platform") {
                cx.skip(e, "platform", "ecsdeploy runs jobs on X86_64 only");
            }
        }
    }
    command(cx, m, &mut s);
    variables(cx, m, &mut s);
    if let Some(net) = cx.entry(m, "network").cloned() {
        if let Some(v) = cx.entry(&net.value, "vpc").cloned() {
            if let Some(p) = cx.entry(&v.value, "placement").cloned() {
                if let Some(kind @ ("public" | "private")) = p.value.str() {
                    cx.used(&p.value);
                    let src = cx.src(&p, "network.vpc.placement");
                    s.private = kind == "private";
                    s.service.put("subnets", kind, Some(src));
                }
            }
        }
    }
    Some(s)
}
