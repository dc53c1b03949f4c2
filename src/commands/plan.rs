//! `ecsdeploy plan`: what `up` would do, making no write call. Observes and prints; the
//! rendering itself is pure and lives in [`crate::plan::render`] (and, for `--graph`,
//! [`crate::plan::diagram`]).

use std::io::IsTerminal;

use anyhow::Result;

use super::{print_json, Session};
use crate::cli::{GraphFormat, OutputFormat, PlanArgs};
use crate::observe::observe;
use crate::plan::{diagram, estimate, plan_up, render};

pub use crate::plan::render::{service_order, summary_json};

/// Returns whether changes are pending.
pub async fn run(s: &Session, args: &PlanArgs) -> Result<bool> {
    let observed = observe(&s.ctx, &s.desired).await?;
    let plan = plan_up(&s.desired, &observed);
    if let Some(g) = args.graph {
        let format = match g {
            GraphFormat::Mermaid => diagram::Format::Mermaid,
            GraphFormat::Dot => diagram::Format::Dot,
        };
        print!(
            "{}",
            diagram::render(&plan, &estimate::estimate(&plan), format)
        );
        return Ok(plan.has_changes());
    }
    let (app, region) = (&s.config.app, &s.ctx.aws.region);
    match s.output {
        OutputFormat::Json => {
            let mut doc = render::json(app, region, &plan, &s.desired);
            if let (Some(e), Some(o)) = (&s.config.environment, doc.as_object_mut()) {
                o.insert("environment".into(), e.clone().into());
            }
            print_json(&doc)
        }
        OutputFormat::Text => {
            let colour = render::use_colour(
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            let app = super::app_label(&s.config);
            print!("{}", render::text(&app, region, &plan, &s.desired, colour));
        }
    }
    Ok(plan.has_changes())
}
