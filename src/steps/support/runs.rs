//! The last runs of a scheduled job, for `status`: the tasks of the job's task-definition
//! family in the app's cluster (running, and stopped ones, which ECS keeps for about an hour
//! after they stop), newest first, with each container's exit code. A job's family is its
//! own (`<app>-job-<key>`), so every task of it is one of the job's runs.

use anyhow::Result;
use aws_sdk_ecs::types::{DesiredStatus, Task};
use serde_json::{json, Value};

use crate::aws::{answer, bounded, gone_ok, FAN_OUT};
use crate::steps::Ctx;

/// How many runs `status` shows per job.
pub const SHOWN: usize = 5;

/// The runs of `family`, newest first, at most [`SHOWN`] (JSON, as `status` shows them).
pub async fn last_runs(ctx: &Ctx, family: &str) -> Result<Value> {
    // Running and stopped tasks are listed at once, each over every page (100 tasks each):
    // a job that runs every minute leaves more stopped tasks than that, in no order, so the
    // newest may be on any page. No cluster (yet): no runs.
    let lists = [DesiredStatus::Running, DesiredStatus::Stopped].map(|status| async move {
        let call = ctx
            .aws
            .ecs
            .list_tasks()
            .cluster(&ctx.cluster)
            .family(family)
            .desired_status(status);
        let listed = answer(call.into_paginator().items().send().try_collect()).await;
        gone_ok(listed.map(Some)).map(Option::unwrap_or_default)
    });
    let arns: Vec<String> = bounded(lists, 2).await?.concat();
    // DescribeTasks takes at most 100 tasks a call; a busy family's calls go out a few at a
    // time.
    let calls = arns.chunks(DESCRIBE_TASKS_MAX).map(|chunk| {
        let call = ctx.aws.ecs.describe_tasks().cluster(&ctx.cluster);
        answer(call.set_tasks(Some(chunk.to_vec())).send())
    });
    let described = bounded(calls, FAN_OUT).await?;
    let tasks: Vec<Task> = described
        .into_iter()
        .flat_map(|d| d.tasks.unwrap_or_default())
        .collect();
    Ok(runs(&tasks))
}

/// The most tasks one DescribeTasks call takes (ECS API reference, DescribeTasks: "up to
/// 100 tasks").
const DESCRIBE_TASKS_MAX: usize = 100;

/// The runs of `tasks`, newest first, at most [`SHOWN`].
pub fn runs(tasks: &[Task]) -> Value {
    let mut tasks: Vec<&Task> = tasks.iter().collect();
    let started = |t: &Task| t.started_at().or(t.created_at()).map(|d| d.as_secs_f64());
    tasks.sort_by(|a, b| {
        started(b)
            .partial_cmp(&started(a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let stamp = |d: Option<&aws_smithy_types::DateTime>| {
        d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
    };
    Value::Array(
        tasks
            .into_iter()
            .take(SHOWN)
            .map(|t| {
                json!({
                    "task": t.task_arn().and_then(|a| a.rsplit('/').next()),
                    "status": t.last_status(),
                    "started_at": stamp(t.started_at().or(t.created_at())),
                    "stopped_at": stamp(t.stopped_at()),
                    "stopped_reason": t.stopped_reason(),
                    "exit_codes": t
                        .containers()
                        .iter()
                        .map(|c| (c.name().unwrap_or("?").to_string(), json!(c.exit_code())))
                        .collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect(),
    )
}

/// One run as `status` prints it: `2026-12-07T03:00:12Z 0f1e… STOPPED exit web=0`.
pub fn run_line(run: &Value) -> String {
    let mut line = format!(
        "{} {} {}",
        run["started_at"].as_str().unwrap_or("-"),
        run["task"].as_str().unwrap_or("?"),
        run["status"].as_str().unwrap_or("?"),
    );
    let codes: Vec<String> = run["exit_codes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, code)| !code.is_null())
        .map(|(name, code)| format!("{name}={code}"))
        .collect();
    if !codes.is_empty() {
        line.push_str(&format!(" exit {}", codes.join(" ")));
    }
    if let Some(reason) = run["stopped_reason"].as_str() {
        line.push_str(&format!(" ({reason})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Container;
    use aws_smithy_types::DateTime;

    fn task(id: &str, started: i64, code: Option<i32>) -> Task {
        let mut c = Container::builder().name("web");
        if let Some(code) = code {
            c = c.exit_code(code);
        }
        Task::builder()
            .task_arn(format!("arn:aws:ecs:r:1:task/cluster/{id}"))
            .last_status("STOPPED")
            .started_at(DateTime::from_secs(started))
            .stopped_reason("Essential container in task exited")
            .containers(c.build())
            .build()
    }

    #[test]
    fn newest_first_with_exit_codes_at_most_five() {
        let tasks: Vec<Task> = (0..7)
            .map(|i| task(&format!("t{i}"), 1_000 + i, Some(i as i32)))
            .collect();
        let v = runs(&tasks);
        let ids: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["task"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["t6", "t5", "t4", "t3", "t2"]);
        assert_eq!(
            run_line(&v[0]),
            "1970-01-01T00:16:46Z t6 STOPPED exit web=6 (Essential container in task exited)"
        );
    }

    #[test]
    fn a_run_without_an_exit_code_says_none() {
        let v = runs(&[task("t1", 0, None)]);
        assert_eq!(
            run_line(&v[0]),
            "1970-01-01T00:00:00Z t1 STOPPED (Essential container in task exited)"
        );
    }
}
