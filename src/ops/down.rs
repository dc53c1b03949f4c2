//! `down`: delete everything the app owns, dependents first, keeping data unless asked.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use super::{Session, Settings};
use crate::desired::{Kind, ResourceId};
use crate::engine::{apply, ApplyResult};
use crate::observe::observe;
use crate::plan::{plan_down, Observed, Plan};

/// What `down` is asked to do beyond the config.
#[derive(Debug, Clone)]
pub struct DownOptions {
    /// Delete ECR repositories even when they hold images.
    pub delete_images: bool,
    /// Delete data stores too (and lift their deletion protection).
    pub delete_data: bool,
    /// How long deletes retry while AWS still reports dependencies.
    pub deadline: Duration,
    /// Delete databases without a final snapshot.
    pub skip_final_snapshot: bool,
}

impl DownOptions {
    /// The session settings `down` needs (deleting data deletes images too).
    pub fn settings(&self) -> Settings {
        Settings {
            delete_images: self.delete_images || self.delete_data,
            delete_deadline: self.deadline,
            skip_final_snapshot: self.skip_final_snapshot,
            ..Settings::default()
        }
    }
}

/// What `down` would delete, read from AWS; refuses before anything is deleted when a
/// load balancer's deletion protection would stop it halfway.
pub async fn plan(s: &Session, o: &DownOptions) -> Result<(BTreeMap<ResourceId, Observed>, Plan)> {
    let observed = observe(&s.ctx, &s.desired).await?;
    refuse_protected(&observed)?;
    let plan = plan_down(&observed, &s.desired, o.delete_data);
    Ok((observed, plan))
}

/// Delete what `plan` says.
pub async fn run(
    s: &Session,
    plan: &Plan,
    observed: &BTreeMap<ResourceId, Observed>,
) -> ApplyResult {
    apply(&s.ctx, plan, &[], observed, s.concurrency, s.cancel.clone()).await
}

/// A load balancer with deletion protection on would stop `down` halfway (after its
/// listeners and target groups are gone): refuse before deleting anything.
fn refuse_protected(observed: &BTreeMap<ResourceId, Observed>) -> Result<()> {
    let protected: Vec<&str> = observed
        .values()
        .filter(|o| o.id.kind == Kind::LoadBalancer)
        .filter(|o| {
            o.fields
                .get("attributes")
                .and_then(|a| a.get("deletion_protection.enabled"))
                .is_some_and(|v| v == "true")
        })
        .map(|o| o.name.as_str())
        .collect();
    if protected.is_empty() {
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "nothing was deleted: load balancer {} has deletion protection on; set \
         load_balancer.deletion_protection = false, run `ecsdeploy up`, then `down`",
        protected.join(", ")
    ))
}
