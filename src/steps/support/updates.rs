//! The two `update`s a kind module need not write out: [`unchanged`], for kinds with
//! nothing to change in place, and `create_and_update_by!`, for kinds whose one call
//! both makes the resource and brings an existing one to the desired state. Each module
//! says at the re-export or the macro call why that is so for its kind.

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

/// `create` and `update` of a kind whose one call both creates the resource and brings an
/// existing one to the desired state (a put or register that overwrites, or a task run
/// again): both are `$call(ctx, r, spec, res)`, a function of the calling module; `update`
/// ignores what was observed. Doc comments before the call go on the generated `update`:
/// say there why the same call is the right update.
///
/// ```text
/// create_and_update_by!(
///     /// PutScalingPolicy overwrites the policy of that name.
///     put(ScalingPolicySpec)
/// );
/// ```
macro_rules! create_and_update_by {
    ($(#[$update_doc:meta])* $call:ident($spec:ty)) => {
        #[doc = concat!("Creates with `", stringify!($call), "`.")]
        pub async fn create(
            ctx: &$crate::steps::Ctx,
            r: &$crate::desired::Resource,
            s: &$spec,
            res: &dyn $crate::desired::Resolve,
        ) -> ::anyhow::Result<$crate::desired::Outputs> {
            $call(ctx, r, s, res).await
        }

        $(#[$update_doc])*
        pub async fn update(
            ctx: &$crate::steps::Ctx,
            r: &$crate::desired::Resource,
            s: &$spec,
            _: &$crate::plan::Observed,
            res: &dyn $crate::desired::Resolve,
        ) -> ::anyhow::Result<$crate::desired::Outputs> {
            $call(ctx, r, s, res).await
        }
    };
}
pub(crate) use create_and_update_by;
