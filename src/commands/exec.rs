//! `ecsdeploy exec SERVICE -- CMD`: ECS Exec into a running task. ExecuteCommand opens an
//! SSM session; the AWS session-manager-plugin (a separate program, as for `aws ecs
//! execute-command`) connects the terminal to it.

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::types::{DesiredStatus, Task};
use serde_json::json;

use super::Session;
use crate::aws::err;
use crate::cli::ExecArgs;
use crate::error::UsageError;

pub const PLUGIN: &str = "session-manager-plugin";

pub const MISSING_PLUGIN: &str = "the AWS Session Manager plugin (`session-manager-plugin`) \
     is not installed or not on PATH; ECS Exec needs it to connect your terminal to the task. \
     Install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/\
     session-manager-working-with-install-plugin.html";

/// The SSM target of a container: `ecs:<cluster>_<task id>_<container runtime id>`.
pub fn target(cluster_arn: &str, task_arn: &str, runtime_id: &str) -> String {
    let last = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
    format!("ecs:{}_{}_{runtime_id}", last(cluster_arn), last(task_arn))
}

/// The plugin's arguments, as the AWS CLI passes them (awscli/customizations/ecs/
/// executecommand.py): the session (JSON), the region, `StartSession`, the profile (may be
/// empty), the request parameters (JSON) and the ECS client's endpoint URL.
pub fn plugin_args(
    session_id: &str,
    stream_url: &str,
    token: &str,
    region: &str,
    profile: &str,
    target: &str,
    endpoint: &str,
) -> Vec<String> {
    vec![
        json!({"SessionId": session_id, "StreamUrl": stream_url, "TokenValue": token}).to_string(),
        region.to_string(),
        "StartSession".to_string(),
        profile.to_string(),
        json!({ "Target": target }).to_string(),
        endpoint.to_string(),
    ]
}

/// The ECS endpoint the calls go to: `--endpoint-url` / `AWS_ENDPOINT_URL_ECS` /
/// `AWS_ENDPOINT_URL` when set, else the region's public one.
pub fn ecs_endpoint(configured: Option<&str>, region: &str) -> String {
    let from_env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    configured
        .map(str::to_string)
        .or_else(|| from_env("AWS_ENDPOINT_URL_ECS"))
        .or_else(|| from_env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| {
            let domain = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://ecs.{region}.{domain}")
        })
}

/// Runs the command; returns the plugin's exit code.
pub async fn run(
    s: &Session,
    a: &ExecArgs,
    profile: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<u8> {
    let service = s.service("exec", &a.service)?;
    if !service.enable_execute_command {
        return Err(UsageError(format!(
            "exec: service `{}` does not allow ECS Exec; set `enable_execute_command = true` \
             in [services.{}] (and give the task role the ssmmessages actions, see \
             docs/configuration.md), run `ecsdeploy up`, and try again once new tasks run",
            a.service, a.service
        ))
        .into());
    }
    let plugin = crate::tools::on_path(PLUGIN).ok_or_else(|| anyhow!(MISSING_PLUGIN))?;
    let cluster = s.config.cluster_name();
    let service_name = s.config.service_name(&a.service);
    let container = a
        .container
        .clone()
        .unwrap_or_else(|| s.config.container_name(&a.service));
    let ecs = &s.ctx.aws.ecs;
    let arns = ecs
        .list_tasks()
        .cluster(&cluster)
        .service_name(&service_name)
        .desired_status(DesiredStatus::Running)
        // Every page (100 tasks each): the task `--task` names may be on a later one.
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(err);
    let arns = match arns {
        Err(e) if crate::aws::code_of(&e) == Some("ClusterNotFoundException") => bail!(
            "exec: cluster {cluster} does not exist: the app is not deployed in {}; run \
             `ecsdeploy up` first",
            s.ctx.aws.region
        ),
        other => other.with_context(|| format!("listing the tasks of service {service_name}"))?,
    };
    let mut arns: Vec<String> = match &a.task {
        Some(id) => arns
            .into_iter()
            .filter(|t| t.ends_with(id.as_str()))
            .collect(),
        None => arns,
    };
    if arns.is_empty() {
        bail!(
            "exec: no running task of service {service_name}{}; see `ecsdeploy status`",
            a.task
                .as_ref()
                .map(|t| format!(" with id {t}"))
                .unwrap_or_default()
        );
    }
    // DescribeTasks takes at most 100 tasks (more: InvalidParameterException); any running
    // task will do, so a larger service's first 100 are enough.
    arns.truncate(100);
    let tasks = ecs
        .describe_tasks()
        .cluster(&cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .map_err(err)
        .context("describing the service's tasks")?;
    let (task, runtime_id) = pick(tasks.tasks(), &container).ok_or_else(|| {
        anyhow!(
            "exec: no running task of service {service_name} has a running container \
             `{container}`"
        )
    })?;
    let command = if a.command.is_empty() {
        "/bin/sh".to_string()
    } else {
        a.command.join(" ")
    };
    let task_arn = task.task_arn().unwrap_or_default();
    let out = ecs
        .execute_command()
        .cluster(&cluster)
        .task(task_arn)
        .container(&container)
        .interactive(true)
        .command(&command)
        .send()
        .await
        .map_err(err)
        .with_context(|| {
            format!(
                "starting ECS Exec in {container} of task {task_arn}; the task must have been \
                 started after enable_execute_command was set"
            )
        })?;
    let session = out
        .session()
        .ok_or_else(|| anyhow!("ExecuteCommand answered without a session"))?;
    let args = plugin_args(
        session.session_id().unwrap_or_default(),
        session.stream_url().unwrap_or_default(),
        session.token_value().unwrap_or_default(),
        &s.ctx.aws.region,
        profile.unwrap_or_default(),
        &target(out.cluster_arn().unwrap_or(&cluster), task_arn, &runtime_id),
        &ecs_endpoint(endpoint_url, &s.ctx.aws.region),
    );
    let status = tokio::process::Command::new(&plugin)
        .args(&args)
        .status()
        .await
        .with_context(|| format!("running {}", plugin.display()))?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}

/// The first RUNNING task with `container` running, and that container's runtime id.
fn pick<'a>(tasks: &'a [Task], container: &str) -> Option<(&'a Task, String)> {
    tasks.iter().find_map(|t| {
        let c = t
            .containers()
            .iter()
            .find(|c| c.name() == Some(container))?;
        Some((t, c.runtime_id().unwrap_or_default().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_cluster_task_and_runtime() {
        assert_eq!(
            target(
                "arn:aws:ecs:us-east-1:1:cluster/shop",
                "arn:aws:ecs:us-east-1:1:task/shop/0123abcd",
                "0123abcd-111"
            ),
            "ecs:shop_0123abcd_0123abcd-111"
        );
    }

    #[test]
    fn plugin_arguments_in_the_aws_cli_order() {
        let a = plugin_args(
            "s-1",
            "wss://x",
            "tok",
            "eu-west-1",
            "",
            "ecs:c_t_r",
            &ecs_endpoint(Some("https://ecs.eu-west-1.amazonaws.com"), "eu-west-1"),
        );
        assert_eq!(a.len(), 6);
        let session: serde_json::Value = serde_json::from_str(&a[0]).unwrap();
        assert_eq!(session["SessionId"], "s-1");
        assert_eq!(session["TokenValue"], "tok");
        assert_eq!(&a[1..4], ["eu-west-1", "StartSession", ""]);
        let params: serde_json::Value = serde_json::from_str(&a[4]).unwrap();
        assert_eq!(params["Target"], "ecs:c_t_r");
        assert_eq!(a[5], "https://ecs.eu-west-1.amazonaws.com");
        assert_eq!(
            ecs_endpoint(Some("http://127.0.0.1:5000"), "x"),
            "http://127.0.0.1:5000"
        );
    }
}
