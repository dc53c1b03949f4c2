//! One-off tasks: a task started outside a service from one of its task definitions, with
//! its network (`ecsdeploy run`, release tasks), then watched until it stops, its logs read
//! as it goes. What the main container's exit says is decided here too, apart from the calls.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, ContainerOverride, LaunchType, NetworkConfiguration,
    TaskDefinition, TaskOverride,
};
use aws_sdk_ecs::types::{Tag, Task};

use super::log_events::{Follower, Line, Streams};
use crate::aws::{answer, err, not_yet_propagated, retry_while_settling, Backoff, PROPAGATION};
use crate::desired::TAG_APP;
use crate::steps::Ctx;

/// What to start.
#[derive(Debug, Clone)]
pub struct Launch {
    pub cluster: String,
    pub task_definition: String,
    pub network: NetworkConfiguration,
    /// The service's capacity providers; empty: the FARGATE launch type.
    pub capacity: Vec<CapacityProviderStrategyItem>,
    pub platform_version: Option<String>,
    /// The container whose exit decides, and whose command `command` replaces.
    pub container: String,
    /// Empty: the task definition's command.
    pub command: Vec<String>,
    /// `startedBy` (letters, digits, `-`, `_`, `/`): what `ecsdeploy status` and the console
    /// show as the task's origin.
    pub started_by: String,
}

/// Starts the task (RunTask, one task, tagged with the app); its ARN.
pub async fn start(ctx: &Ctx, l: &Launch) -> Result<String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // One token per start: the SDK's retry of a request whose answer was lost does not
    // start a second task (a second migration).
    let token = crate::aws::client_token(
        &[
            &l.task_definition,
            &nanos.to_string(),
            &std::process::id().to_string(),
        ],
        0,
    );
    let mut call = ctx
        .aws
        .ecs
        .run_task()
        .cluster(&l.cluster)
        .task_definition(&l.task_definition)
        .count(1)
        .network_configuration(l.network.clone())
        .set_platform_version(l.platform_version.clone())
        .started_by(&l.started_by)
        .tags(Tag::builder().key(TAG_APP).value(&ctx.app).build())
        .client_token(token);
    call = if l.capacity.is_empty() {
        call.launch_type(LaunchType::Fargate)
    } else {
        call.set_capacity_provider_strategy(Some(l.capacity.clone()))
    };
    if !l.command.is_empty() {
        call = call.overrides(
            TaskOverride::builder()
                .container_overrides(
                    ContainerOverride::builder()
                        .name(&l.container)
                        .set_command(Some(l.command.clone()))
                        .build(),
                )
                .build(),
        );
    }
    // On a first deploy the roles were made a moment ago: ECS cannot assume them yet
    // (aws::not_yet_propagated), as for CreateService. The same token makes a resend safe.
    let started = std::time::Instant::now();
    let retryable = |e: &anyhow::Error| not_yet_propagated(e) && started.elapsed() < PROPAGATION;
    let out = retry_while_settling(PROPAGATION, retryable, || answer(call.clone().send())).await?;
    if let Some(arn) = out.tasks().first().and_then(|t| t.task_arn()) {
        return Ok(arn.to_string());
    }
    let why: Vec<String> = out
        .failures()
        .iter()
        .map(|f| {
            format!(
                "{}{}",
                f.reason().unwrap_or("unknown"),
                f.detail().map(|d| format!(" ({d})")).unwrap_or_default()
            )
        })
        .collect();
    bail!(
        "ECS started no task from {}: {}",
        l.task_definition,
        if why.is_empty() {
            "no reason given".to_string()
        } else {
            why.join("; ")
        }
    )
}

/// Asks ECS to stop the task (its containers get SIGTERM, then SIGKILL).
pub async fn stop(ctx: &Ctx, cluster: &str, task: &str, reason: &str) -> Result<()> {
    ctx.aws
        .ecs
        .stop_task()
        .cluster(cluster)
        .task(task)
        .reason(reason)
        .send()
        .await
        .map_err(err)?;
    Ok(())
}

/// The task definition `arn`, as registered.
pub async fn task_definition(ctx: &Ctx, arn: &str) -> Result<TaskDefinition> {
    let out = ctx
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(err)?;
    out.task_definition()
        .cloned()
        .ok_or_else(|| anyhow!("DescribeTaskDefinition answered without {arn}"))
}

/// The names of a task definition's containers.
pub fn containers(td: &TaskDefinition) -> Vec<&str> {
    td.container_definitions()
        .iter()
        .filter_map(|c| c.name())
        .collect()
}

/// The log group and streams of task `task_id`'s containers that log with awslogs to the
/// same group as `container` (`<prefix>/<container>/<task id>`); `None` when `container`
/// does not log with awslogs.
pub fn task_streams(
    td: &TaskDefinition,
    container: &str,
    task_id: &str,
) -> Option<(String, Streams)> {
    let awslogs = |name: &str| {
        let c = td
            .container_definitions()
            .iter()
            .find(|c| c.name() == Some(name))?;
        let l = c.log_configuration()?;
        if l.log_driver().as_str() != "awslogs" {
            return None;
        }
        let o = l.options()?;
        Some((
            o.get("awslogs-group")?.clone(),
            o.get("awslogs-stream-prefix")?.clone(),
        ))
    };
    let (group, _) = awslogs(container)?;
    let streams = containers(td)
        .into_iter()
        .filter_map(|name| {
            let (g, prefix) = awslogs(name)?;
            (g == group).then(|| format!("{prefix}/{name}/{task_id}"))
        })
        .collect();
    Some((group, Streams::Named(streams)))
}

/// How far before a task's start its log reading starts: the streams are the task's own, so
/// nothing else is read, and a local clock ahead of CloudWatch's loses no early line.
pub const CLOCK_SLACK: Duration = Duration::from_secs(300);

/// The id at the end of a task ARN.
pub fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// How a stopped task ended, for its `container`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ended {
    /// The container's exit code; `None` when it never ran (or ECS lost it).
    pub exit_code: Option<i32>,
    /// ECS's `stopCode`: `EssentialContainerExited`, `TaskFailedToStart`, `UserInitiated`, ...
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    /// The container's own reason (`CannotPullContainerError: ...`).
    pub container_reason: Option<String>,
}

impl Ended {
    /// The task's end when it has stopped, else `None`.
    pub fn of(task: &Task, container: &str) -> Option<Ended> {
        if task.last_status() != Some("STOPPED") {
            return None;
        }
        let c = task
            .containers()
            .iter()
            .find(|c| c.name() == Some(container));
        Some(Ended {
            exit_code: c.and_then(|c| c.exit_code()),
            stop_code: task.stop_code().map(|s| s.as_str().to_string()),
            stopped_reason: task.stopped_reason().map(str::to_string),
            container_reason: c.and_then(|c| c.reason()).map(str::to_string),
        })
    }

    /// Whether the container ran and exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// The process exit code that stands for this end: the container's (0 to 255), or 1
    /// when it never ran or exited outside that range.
    pub fn process_code(&self) -> u8 {
        self.exit_code
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1)
    }

    /// `exit code 3`, or why the task stopped without an exit code (it failed to start).
    pub fn describe(&self) -> String {
        match self.exit_code {
            Some(c) => format!("exit code {c}"),
            None => {
                let mut why: Vec<&str> = vec![];
                for r in [&self.stopped_reason, &self.container_reason]
                    .into_iter()
                    .flatten()
                {
                    if !why.contains(&r.as_str()) {
                        why.push(r);
                    }
                }
                format!(
                    "no exit code ({}): {}",
                    self.stop_code.as_deref().unwrap_or("stopped"),
                    if why.is_empty() {
                        "ECS gave no reason".to_string()
                    } else {
                        why.join("; ")
                    }
                )
            }
        }
    }
}

/// How many of the task's last log lines [`Watched`] keeps.
pub const TAIL: usize = 20;

/// What watching a task saw.
#[derive(Debug, Clone)]
pub struct Watched {
    /// `None`: still running at the deadline.
    pub ended: Option<Ended>,
    /// The task's last [`TAIL`] log lines.
    pub tail: Vec<Line>,
}

/// What [`watch`] sees as it goes.
pub enum Seen<'a> {
    /// The task's status changed (`PROVISIONING`, `PENDING`, `RUNNING`, `STOPPED`, ...).
    Status(&'a str),
    /// A new log line of the task's containers.
    Line(&'a Line),
}

/// Polls the task on the [`Backoff::watching`] schedule until it stops or `deadline` passes, handing
/// each new task status and each new log line to `on`. Reading logs is
/// best effort: a failure is reported once and the wait goes on without them. Inside
/// [`interruptible`](crate::aws::interruptible), an interrupt ends it with
/// [`StoppedWaiting`](crate::aws::StoppedWaiting).
pub async fn watch(
    ctx: &Ctx,
    cluster: &str,
    task: &str,
    container: &str,
    mut logs: Option<Follower>,
    deadline: Duration,
    mut on: impl FnMut(Seen),
) -> Result<Watched> {
    let mut tail: VecDeque<Line> = VecDeque::new();
    let mut status = String::new();
    let mut backoff = Backoff::watching(deadline);
    loop {
        let described = describe(ctx, cluster, task).await?;
        let now = described.last_status().unwrap_or_default();
        if now != status {
            status = now.to_string();
            on(Seen::Status(&status));
        }
        let ended = Ended::of(&described, container);
        // After the task stopped: one more read, for what the log driver sent last.
        if let Some(f) = logs.as_mut() {
            match f.next(&ctx.aws.logs).await {
                Ok(lines) => {
                    for l in lines {
                        on(Seen::Line(&l));
                        tail.push_back(l);
                        if tail.len() > TAIL {
                            tail.pop_front();
                        }
                    }
                }
                Err(e) => {
                    ctx.report
                        .warn(&format!("not showing the task's logs: {e:#}"));
                    logs = None;
                }
            }
        }
        if ended.is_some() {
            return Ok(Watched {
                ended,
                tail: tail.into(),
            });
        }
        if !backoff.pause().await? {
            return Ok(Watched {
                ended: None,
                tail: tail.into(),
            });
        }
    }
}

async fn describe(ctx: &Ctx, cluster: &str, task: &str) -> Result<Task> {
    let out = ctx
        .aws
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task)
        .send()
        .await
        .map_err(err)?;
    out.tasks().first().cloned().ok_or_else(|| {
        anyhow!(
            "ECS does not know task {task} in cluster {cluster}: {}",
            out.failures()
                .iter()
                .filter_map(|f| f.reason())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{
        Container, ContainerDefinition, LogConfiguration, LogDriver, TaskStopCode,
    };

    fn logged(name: &str, group: &str, prefix: &str) -> ContainerDefinition {
        ContainerDefinition::builder()
            .name(name)
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", group)
                    .options("awslogs-stream-prefix", prefix)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn streams_of_the_task_in_the_containers_group() {
        let td = TaskDefinition::builder()
            .container_definitions(logged("web", "/ecs/shop", "web"))
            .container_definitions(logged("router", "/ecs/shop", "web-router"))
            .container_definitions(logged("other", "/elsewhere", "x"))
            .container_definitions(ContainerDefinition::builder().name("quiet").build())
            .build();
        let (group, streams) = task_streams(&td, "web", "abc123").unwrap();
        assert_eq!(group, "/ecs/shop");
        match streams {
            Streams::Named(n) => assert_eq!(n, ["web/web/abc123", "web-router/router/abc123"]),
            other => panic!("{other:?}"),
        }
        assert!(task_streams(&td, "quiet", "abc123").is_none());
        assert_eq!(containers(&td), ["web", "router", "other", "quiet"]);
        assert_eq!(
            task_id("arn:aws:ecs:us-east-1:1:task/shop/abc123"),
            "abc123"
        );
    }

    fn task(status: &str, code: Option<i32>, stop: Option<TaskStopCode>, reason: &str) -> Task {
        let mut c = Container::builder().name("web").set_exit_code(code);
        if code.is_none() {
            c = c.reason("CannotPullContainerError: pull image manifest: not found");
        }
        Task::builder()
            .last_status(status)
            .set_stop_code(stop)
            .stopped_reason(reason)
            .containers(c.build())
            .containers(Container::builder().name("sidecar").exit_code(9).build())
            .build()
    }

    #[test]
    fn the_main_containers_exit_decides() {
        assert_eq!(Ended::of(&task("RUNNING", None, None, ""), "web"), None);
        let ok = Ended::of(
            &task(
                "STOPPED",
                Some(0),
                Some(TaskStopCode::EssentialContainerExited),
                "Essential container in task exited",
            ),
            "web",
        )
        .unwrap();
        assert!(ok.succeeded());
        assert_eq!(
            (ok.process_code(), ok.describe()),
            (0, "exit code 0".into())
        );
        let three = Ended::of(&task("STOPPED", Some(3), None, "x"), "web").unwrap();
        assert_eq!((three.succeeded(), three.process_code()), (false, 3));
        let big = Ended::of(&task("STOPPED", Some(300), None, "x"), "web").unwrap();
        assert_eq!(big.process_code(), 1);
        let never = Ended::of(
            &task(
                "STOPPED",
                None,
                Some(TaskStopCode::TaskFailedToStart),
                "CannotPullContainerError: pull image manifest: not found",
            ),
            "web",
        )
        .unwrap();
        assert!(!never.succeeded());
        assert_eq!(never.process_code(), 1);
        assert_eq!(
            never.describe(),
            "no exit code (TaskFailedToStart): CannotPullContainerError: pull image manifest: \
             not found"
        );
        // The sidecar's exit does not count.
        assert_eq!(
            Ended::of(&task("STOPPED", Some(0), None, ""), "sidecar")
                .unwrap()
                .exit_code,
            Some(9)
        );
    }
}
