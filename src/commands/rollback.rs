//! `ecsdeploy rollback SERVICE`: prints what [`crate::steps::rollback`] did.

use anyhow::Result;
use serde_json::json;

use super::{print_json, Session};
use crate::cli::{OutputFormat, RollbackArgs};
use crate::steps::short;

pub async fn run(s: &Session, a: &RollbackArgs) -> Result<()> {
    s.service("rollback", &a.service)?;
    let name = s.config.service_name(&a.service);
    let done = crate::steps::rollback(&s.ctx, &name).await?;
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "service": a.service,
            "rollback": done,
        })),
        OutputFormat::Text => {
            let to = done.to.as_deref().map_or("the previous revision", short);
            match done.action {
                "already_rolled_back" => println!(
                    "rollback {}: nothing to do: ECS already rolled the latest deployment (of \
                     {}) back; the service runs {to}",
                    a.service,
                    short(&done.from)
                ),
                "stopped_with_rollback" => println!(
                    "rollback {}: deployment of {} stopped, back on {to}; {}",
                    a.service,
                    short(&done.from),
                    done.result
                ),
                _ => println!(
                    "rollback {}: {} → {to}; {}",
                    a.service,
                    short(&done.from),
                    done.result
                ),
            }
            println!(
                "The config still names the newer revision: the next `ecsdeploy up` deploys it \
                 again. Fix the config (e.g. its image tag) to stay on {to}."
            );
        }
    }
    Ok(())
}
