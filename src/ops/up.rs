//! `up`: observe, plan, refuse replacements, apply, wait for service deployments.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};

use super::{preflight, Session, Settings};
use crate::desired::{Kind, ResourceId};
use crate::engine::{apply, ApplyResult};
use crate::observe::observe;
use crate::plan::{plan_up, Action, Observed, Plan};

/// What `up` is asked to do beyond the config.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// How long to wait for each service deployment; `None` = do not wait.
    pub wait: Option<Duration>,
    /// Run the preflight checks before the first write.
    pub preflight: bool,
}

impl UpOptions {
    /// The session settings `up` needs.
    pub fn settings(&self) -> Settings {
        Settings {
            service_wait: self.wait,
            preflight: self.preflight,
            ..Settings::default()
        }
    }
}

/// What `up` found and did.
pub struct UpReport {
    pub plan: Plan,
    pub observe_seconds: f64,
    /// What ran between the plan and the first write: the docker check, the preflight
    /// checks, and traffic brought back for a service leaving a traffic-shifting strategy.
    pub preflight_seconds: f64,
    /// `None` when nothing needed changing.
    pub applied: Option<ApplyResult>,
}

pub async fn up(s: &Session) -> Result<UpReport> {
    let observing = std::time::Instant::now();
    let observed: BTreeMap<ResourceId, Observed> = observe(&s.ctx, &s.desired).await?;
    let observe_seconds = observing.elapsed().as_secs_f64();
    let plan = plan_up(&s.desired, &observed);

    let replacements = plan.replacements();
    if !replacements.is_empty() {
        let names: Vec<String> = replacements.iter().map(|c| c.id.to_string()).collect();
        bail!(
            "nothing changed: {} would need replacing ({}) because a field AWS cannot modify \
             in place changed; see `ecsdeploy plan`, then revert the change or run \
             `ecsdeploy down` followed by `up`",
            names.len(),
            names.join(", ")
        );
    }
    if !plan.has_changes() {
        return Ok(UpReport {
            plan,
            observe_seconds,
            preflight_seconds: 0.0,
            applied: None,
        });
    }
    let checking = std::time::Instant::now();
    // Building needs docker: say so before changing anything, not halfway through.
    if plan
        .pending()
        .any(|c| c.id.kind == Kind::Image && c.action == Action::Create)
    {
        crate::image::docker::find_docker()?;
    }
    if s.preflight && plan.pending().any(|c| c.action.unsettled().is_none()) {
        let findings = preflight::check(s, &plan, preflight::Images::Deployed).await?;
        // Warnings only: what was not checked is `verify`'s to say.
        for line in preflight::lines(&findings) {
            if let Some(w) = line.strip_prefix("warning: ") {
                s.ctx.report.warn(&format!("preflight: {w}"));
            }
        }
        preflight::verdict(&findings)?;
    }
    // A service leaving blue/green, canary or linear for rolling first gets its traffic
    // back on the target group it keeps.
    let leaving = super::leave_shifting::leaving(&plan, &s.desired, &observed);
    super::leave_shifting::bring_back(&s.ctx, &leaving).await?;
    let preflight_seconds = checking.elapsed().as_secs_f64();
    let unsettled = plan
        .pending()
        .filter(|c| c.action.unsettled().is_some())
        .count();
    let changes = plan.pending().count() - unsettled;
    let (app, region) = (&s.config.app, &s.ctx.aws.region);
    s.ctx.report.info(&match (changes, unsettled) {
        (n, 0) => format!("Applying {n} changes to app {app} in {region} ..."),
        (0, m) => format!(
            "Nothing to change in app {app} in {region}; following {m} service deployment(s) \
             that had not settled ..."
        ),
        (n, m) => format!(
            "Applying {n} changes to app {app} in {region}, and following {m} service \
             deployment(s) that had not settled ..."
        ),
    });
    let result = apply(
        &s.ctx,
        &plan,
        &s.desired,
        &observed,
        s.concurrency,
        s.cancel.clone(),
    )
    .await;
    Ok(UpReport {
        plan,
        observe_seconds,
        preflight_seconds,
        applied: Some(result),
    })
}
