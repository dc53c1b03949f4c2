//! One module per resource kind, each with the same four functions:
//!
//! - `observe(ctx, desired) -> Vec<Observed>`: find what exists — the desired resources
//!   (by ownership tag or deterministic name) *and* owned ones the config no longer has —
//!   in as few (batched) describe calls as the API allows. Never writes.
//! - `create(ctx, resource, spec, resolve) -> Outputs`: create with ownership tags in the
//!   create call itself, then any follow-up settings.
//! - `update(ctx, resource, spec, observed, resolve) -> Outputs`: bring an existing resource
//!   to the desired fields (recomputing the diff with references resolved). A kind with
//!   nothing to change in place re-exports [`support::updates::unchanged`] as its `update`;
//!   one whose single call both creates and updates (a put, a register, a task run)
//!   generates both with `support::updates::create_and_update_by!`.
//! - `delete(ctx, observed)`: delete; already-gone is success. Only `ecr_repository` can
//!   keep what it was asked to delete ([`Deleted::Kept`]).
//!
//! This file only dispatches by kind and holds what all steps share.

pub mod support;

pub use service::{
    describe_services, follow, history, judge, owned, restart, rollback, scale, scale_bounds,
    short, traffic_back, wait_stable, Judgement, WaitOutcome,
};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::aws::Clients;
use crate::desired::{
    with_kinds, Kind, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;
use crate::report::Reporter;

/// Everything a step needs.
#[derive(Clone)]
pub struct Ctx {
    pub aws: Clients,
    pub app: String,
    /// Name of the app's ECS cluster (services are found inside it).
    pub cluster: String,
    pub report: Arc<dyn Reporter>,
    /// How long `up` waits for a service deployment; `None` = do not wait.
    pub service_wait: Option<Duration>,
    /// `down --delete-images`: delete ECR repositories even when they hold images.
    pub delete_images: bool,
    /// How long deletes retry `DependencyViolation` (ENIs draining) before giving up.
    pub delete_deadline: Duration,
    /// `down --delete-data --skip-final-snapshot`: delete databases without a final snapshot.
    pub skip_final_snapshot: bool,
    /// Observe the facts only `status` shows (target health), at one call per resource;
    /// `plan`, `up` and `down` skip them.
    pub status_details: bool,
}

impl Ctx {
    /// Ownership tags every created resource carries, as (key, value) pairs.
    pub fn tags(&self, id: &ResourceId, name: &str) -> Vec<(String, String)> {
        vec![
            ("Name".to_string(), name.to_string()),
            (TAG_APP.to_string(), self.app.clone()),
            (TAG_RESOURCE.to_string(), id.to_string()),
        ]
    }
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted, or gone already.
    Gone,
    /// Left in place on purpose.
    Kept(Kept),
}

/// A resource a delete left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Why, in a few words (the step's line: "kept NAME (NOTE)").
    pub note: String,
    /// What was kept and what the user can do (the summary's list of kept resources).
    pub message: String,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A kind's `delete` answers `()` when it always deletes, or [`Deleted`] when it may keep.
trait IntoDeleted {
    fn into_deleted(self) -> Deleted;
}

impl IntoDeleted for () {
    fn into_deleted(self) -> Deleted {
        Deleted::Gone
    }
}

impl IntoDeleted for Deleted {
    fn into_deleted(self) -> Deleted {
        self
    }
}

/// The step modules and the four dispatchers, from the kinds table
/// (`src/desired/kinds.rs`). `create` and `update` hand each module its own spec type.
macro_rules! define_steps {
    ( ; $($variant:ident($spec:ident) = $name:literal => $module:ident,)*) => {
        $(mod $module;)*

        /// Observe every resource of `kind`: desired ones and owned orphans.
        pub async fn observe(ctx: &Ctx, kind: Kind, desired: &[&Resource]) -> Result<Vec<Observed>> {
            match kind {
                $(Kind::$variant => $module::observe(ctx, desired).await,)*
            }
        }

        pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
            match &r.spec {
                $(Spec::$variant(s) => $module::create(ctx, r, s, res).await,)*
            }
        }

        pub async fn update(
            ctx: &Ctx,
            r: &Resource,
            o: &Observed,
            res: &dyn Resolve,
        ) -> Result<Outputs> {
            match &r.spec {
                $(Spec::$variant(s) => $module::update(ctx, r, s, o, res).await,)*
            }
        }

        pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<Deleted> {
            match o.id.kind {
                $(Kind::$variant => $module::delete(ctx, o).await.map(IntoDeleted::into_deleted),)*
            }
        }
    };
}

with_kinds!(define_steps);
