//! Reading AWS before anything is planned: what the desired state depends on (the region's
//! zones, the imported network and secrets), and every owned resource of every kind. Only
//! reads; `plan`, `status`, `up` and `down` share it.

pub mod imported;
pub mod zones;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use futures::future::try_join_all;

use crate::desired::{Kind, Resource, ResourceId};
use crate::plan::Observed;
use crate::steps::Ctx;

/// Observe every kind at once (one batched describe per kind where the API allows).
pub async fn observe(ctx: &Ctx, desired: &[Resource]) -> Result<BTreeMap<ResourceId, Observed>> {
    let per_kind = Kind::ALL.into_iter().map(|kind| {
        let desired: Vec<&Resource> = desired.iter().filter(|r| r.id.kind == kind).collect();
        async move {
            let started = std::time::Instant::now();
            let found = crate::steps::observe(ctx, kind, &desired)
                .await
                .with_context(|| format!("observing {kind} resources"));
            tracing::debug!(
                "observed {kind}: {} found in {} ms",
                found.as_ref().map_or(0, Vec::len),
                started.elapsed().as_millis()
            );
            found
        }
    });
    let mut all = BTreeMap::new();
    for o in try_join_all(per_kind).await?.into_iter().flatten() {
        if let Some(prev) = all.get(&o.id) {
            let prev: &Observed = prev;
            ctx.report.warn(&format!(
                "two AWS resources claim to be {} ({} and {}); using the first — delete the \
                 other by hand",
                o.id,
                prev.outputs.id(),
                o.outputs.id()
            ));
            continue;
        }
        all.insert(o.id.clone(), o);
    }
    Ok(all)
}
