//! `ecsdeploy run SERVICE [-- CMD...]`: a one-off task like the service's tasks (the task
//! definition the live service runs, its network configuration and capacity, so its roles
//! and secrets), its logs streamed on stdout, then the main container's exit code.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{anyhow, Context, Result};
use serde_json::json;

use super::logs::print_line;
use super::{print_json, Session};
use crate::aws::{interruptible, StoppedWaiting};
use crate::cli::{OutputFormat, RunArgs};
use crate::error::{Interrupted, UsageError};
use crate::steps::support::log_events::{start_ms, text, Follower};
use crate::steps::support::one_off::{self, Ended, Launch, Seen};

/// `startedBy` of the tasks `run` starts.
pub const STARTED_BY: &str = "ecsdeploy/run";

pub async fn run(s: &Session, a: &RunArgs) -> Result<u8> {
    s.service("run", &a.service)?;
    let name = s.config.service_name(&a.service);
    let ctx = &s.ctx;
    let svc = crate::steps::owned(ctx, &name).await?;
    let td_arn = svc
        .task_definition()
        .ok_or_else(|| anyhow!("service {name} reports no task definition"))?
        .to_string();
    let td = one_off::task_definition(ctx, &td_arn).await?;
    let container = a
        .container
        .clone()
        .unwrap_or_else(|| s.config.container_name(&a.service));
    let names = one_off::containers(&td);
    if !names.contains(&container.as_str()) {
        return Err(UsageError(format!(
            "run: task definition {td_arn} has no container `{container}`; its containers: {}",
            names.join(", ")
        ))
        .into());
    }
    let launch = Launch {
        cluster: ctx.cluster.clone(),
        task_definition: td_arn.clone(),
        network: svc.network_configuration().cloned().ok_or_else(|| {
            anyhow!("service {name} reports no network configuration (not a Fargate service?)")
        })?,
        capacity: svc.capacity_provider_strategy().to_vec(),
        platform_version: svc.platform_version().map(str::to_string),
        container: container.clone(),
        command: a.command.clone(),
        started_by: STARTED_BY.to_string(),
    };
    let since = start_ms(one_off::CLOCK_SLACK);
    let arn = one_off::start(ctx, &launch).await?;
    let id = one_off::task_id(&arn).to_string();
    let result = |ended: Option<&Ended>| {
        json!({
            "app": s.config.app,
            "service": a.service,
            "task_arn": arn,
            "task_definition": td_arn,
            "container": container,
            "detached": ended.is_none(),
            "exit_code": ended.and_then(|e| e.exit_code),
            "stop_code": ended.and_then(|e| e.stop_code.clone()),
            "stopped_reason": ended.and_then(|e| e.stopped_reason.clone()),
            "container_reason": ended.and_then(|e| e.container_reason.clone()),
        })
    };
    if a.detach {
        match s.output {
            OutputFormat::Json => print_json(&result(None)),
            OutputFormat::Text => println!("{arn}"),
        }
        return Ok(0);
    }
    ctx.report.info(&format!(
        "run {}: task {id} of {} started{}",
        a.service,
        short_td(&td_arn),
        if a.command.is_empty() {
            String::new()
        } else {
            format!(" ({container}: {})", a.command.join(" "))
        }
    ));
    let logs = one_off::task_streams(&td, &container, &id)
        .map(|(group, streams)| Follower::new(group, streams, None, since));
    if logs.is_none() {
        ctx.report.warn(&format!(
            "container {container} does not log with awslogs: its output is not shown"
        ));
    }
    // Logs are the task's output: on stdout as text, on stderr with --output json (stdout
    // then holds only the result).
    let output = s.output;
    let on = |seen: Seen| match seen {
        Seen::Line(l) if output == OutputFormat::Text => print_line(output, l),
        Seen::Line(l) => eprintln!("{}", text(l)),
        Seen::Status(st) => ctx.report.info(&format!("task {id}: {st}")),
    };
    let watched = interruptible(
        s.cancel.clone(),
        one_off::watch(ctx, &ctx.cluster, &arn, &container, logs, a.timeout, on),
    )
    .await;
    let watched = match watched {
        Ok(w) => w,
        Err(e) if e.downcast_ref::<StoppedWaiting>().is_some() => {
            interrupted(s, a, &arn).await?;
            return Err(Interrupted.into());
        }
        Err(e) => return Err(e),
    };
    let Some(ended) = watched.ended else {
        anyhow::bail!(
            "task {arn} was still running after {}; it carries on (`ecsdeploy logs {}` shows \
             its output; `aws ecs stop-task --cluster {} --task {id}` stops it)",
            humantime::format_duration(a.timeout),
            a.service,
            ctx.cluster
        );
    };
    match s.output {
        OutputFormat::Json => print_json(&result(Some(&ended))),
        OutputFormat::Text if ended.exit_code.is_some() => ctx.report.info(&format!(
            "task {id} stopped: {container} {}",
            ended.describe()
        )),
        OutputFormat::Text => {}
    }
    if ended.exit_code.is_none() {
        // Failed to start: the reason is the result, whatever the output format.
        eprintln!(
            "error: task {id} did not run {container}: {}",
            ended.describe()
        );
    }
    Ok(ended.process_code())
}

/// `family:revision` of a task-definition ARN.
fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// After Ctrl-C: stop the task when `--yes` says so or the user says so on a terminal;
/// otherwise leave it running and say how to stop it.
async fn interrupted(s: &Session, a: &RunArgs, arn: &str) -> Result<()> {
    let id = one_off::task_id(arn).to_string();
    let stop = a.yes || (std::io::stdin().is_terminal() && ask(&id).await);
    if stop {
        one_off::stop(
            &s.ctx,
            &s.ctx.cluster,
            arn,
            "Stopped by ecsdeploy run (Ctrl-C)",
        )
        .await
        .with_context(|| format!("stopping task {arn}"))?;
        eprintln!("stopped task {id}");
    } else {
        eprintln!(
            "task {id} is still running; `aws ecs stop-task --cluster {} --task {id}` stops it",
            s.ctx.cluster
        );
    }
    Ok(())
}

/// Asks on the terminal whether to stop the task (default no).
async fn ask(id: &str) -> bool {
    let question = format!("\nstop task {id}? [y/N] ");
    tokio::task::spawn_blocking(move || {
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes")
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn the_command_follows_the_double_dash() {
        let cli = Cli::try_parse_from([
            "ecsdeploy",
            "run",
            "web",
            "--container",
            "worker",
            "--",
            "python",
            "manage.py",
            "migrate",
            "--noinput",
        ])
        .unwrap();
        let Command::Run(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.service, "web");
        assert_eq!(a.container.as_deref(), Some("worker"));
        assert_eq!(a.command, ["python", "manage.py", "migrate", "--noinput"]);
        assert!(!a.detach && !a.yes);
        assert_eq!(
            short_td("arn:aws:ecs:us-east-1:1:task-definition/shop-web:7"),
            "shop-web:7"
        );
    }
}
