//! Ownership: a resource belongs to the app whose name is in its `TAG_APP` tag, and stands
//! for the logical resource in its `TAG_RESOURCE` tag. One way to claim what observe finds
//! ([`claim`]) and one wording of the refusal ([`not_owned`]).

use std::collections::BTreeSet;

use anyhow::anyhow;

use crate::desired::{Kind, ResourceId, TAG_APP};
use crate::steps::Ctx;

/// True when the app tag's value names this app.
pub fn is_ours(ctx: &Ctx, app_tag: Option<&str>) -> bool {
    app_tag == Some(ctx.app.as_str())
}

/// The error for a resource that has a desired resource's name but is someone else's:
/// `what` names it ("ECR repository web"), `remedy` says what the user can do.
pub fn not_owned(ctx: &Ctx, what: &str, remedy: &str) -> anyhow::Error {
    not_owned_because(ctx, what, &format!("tag {TAG_APP}"), remedy)
}

/// [`not_owned`] for resources whose ownership is not a tag: `why` says what shows it.
pub fn not_owned_because(ctx: &Ctx, what: &str, why: &str, remedy: &str) -> anyhow::Error {
    anyhow!(
        "{what} exists but is not owned by app {} ({why}); {remedy}",
        ctx.app
    )
}

/// Which logical resource a resource found by name stands for: the desired one named
/// `wanted` (an error from `refuse` when it is not ours), else the owned resource of `kind`
/// in its resource tag that the config no longer has (an orphan), else none (someone
/// else's, or one the config still has under another name).
pub fn claim(
    ctx: &Ctx,
    kind: Kind,
    wanted: Option<&ResourceId>,
    (app_tag, resource_tag): (Option<&str>, Option<&str>),
    desired_ids: &BTreeSet<&ResourceId>,
    refuse: impl FnOnce() -> anyhow::Error,
) -> anyhow::Result<Option<ResourceId>> {
    let ours = is_ours(ctx, app_tag);
    match wanted {
        Some(id) if ours => Ok(Some(id.clone())),
        Some(_) => Err(refuse()),
        None => Ok(resource_tag
            .and_then(ResourceId::parse)
            .filter(|id| ours && id.kind == kind && !desired_ids.contains(id))),
    }
}
