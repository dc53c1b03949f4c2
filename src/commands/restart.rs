//! `ecsdeploy restart SERVICE`: prints what [`crate::steps::restart`] did.

use anyhow::Result;
use serde_json::json;

use super::{print_json, Session};
use crate::cli::{OutputFormat, RestartArgs};

pub async fn run(s: &Session, a: &RestartArgs) -> Result<()> {
    s.service("restart", &a.service)?;
    let name = s.config.service_name(&a.service);
    let done = crate::steps::restart(&s.ctx, &name).await?;
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "service": a.service,
            "result": done,
        })),
        OutputFormat::Text => println!("restart {}: {done}", a.service),
    }
    Ok(())
}
