//! `ecsdeploy verify`: the preflight checks ([`crate::ops::preflight`]) of every image and
//! setting the config names, against the live account, writing nothing. Exit 2 when a
//! check fails.

use anyhow::Result;
use serde_json::json;

use super::{print_json, Session};
use crate::cli::OutputFormat;
use crate::observe::observe;
use crate::ops::preflight::{self, Images, Level};
use crate::plan::plan_up;

/// Returns the exit code: 0, or 2 when a finding is an error.
pub async fn run(s: &Session) -> Result<u8> {
    let observed = observe(&s.ctx, &s.desired).await?;
    let plan = plan_up(&s.desired, &observed);
    let findings = preflight::check(s, &plan, Images::All).await?;
    let failed = findings.iter().any(|f| f.level == Level::Error);
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "ok": !failed,
            "findings": findings,
        })),
        OutputFormat::Text => {
            for line in preflight::lines(&findings) {
                println!("{line}");
            }
            let app = super::app_label(&s.config);
            if failed {
                println!("verify {app}: the deploy would fail; nothing was changed");
            } else {
                println!("verify {app}: ok");
            }
        }
    }
    Ok(if failed { crate::error::EXIT_USAGE } else { 0 })
}
