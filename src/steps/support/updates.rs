//! The `update` a kind module need not write out: [`unchanged`], for kinds with nothing to
//! change in place. Each module says at the re-export why that is so for its kind.

use anyhow::Result;

use crate::desired::{Outputs, Resolve, Resource};
use crate::plan::Observed;
use crate::steps::Ctx;

/// The `update` of a kind with nothing to change in place (every field immutable, so the
/// planner replaces instead, or nothing there to change): the resource stays as observed.
/// A module takes it as its own with `pub use super::support::updates::unchanged as
/// update;`; generic over the spec type, so the dispatcher hands it the kind's spec.
pub async fn unchanged<S>(
    _: &Ctx,
    _: &Resource,
    _: &S,
    o: &Observed,
    _: &dyn Resolve,
) -> Result<Outputs> {
    Ok(o.outputs.clone())
}
