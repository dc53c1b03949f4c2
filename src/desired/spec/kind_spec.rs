//! The interface every resource kind's spec implements, and the normal form of sets
//! shared by all of them.

use serde_json::{json, Value};

use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

/// What a resource kind's spec tells the plan about itself.
pub trait KindSpec {
    const KIND: Kind;

    /// Kinds whose resources must be gone before a resource of this kind can be deleted.
    /// Used to order `down` and the deletion of orphans; instance-level dependencies are
    /// not known for resources that are no longer in the config.
    const DELETED_AFTER: &'static [Kind];

    /// The kind holds the app's data (or is a part a data store cannot work without):
    /// `down` keeps it unless `--delete-data`, and `up` never deletes it.
    const HOLDS_DATA: bool = false;

    /// Fields whose change cannot be applied in place: the resource is replaced.
    const IMMUTABLE: &'static [&'static str] = &[];

    /// The values that may reference other resources.
    fn vals(&self) -> Vec<&Val> {
        Vec::new()
    }

    /// Resources to come after without referencing any of their values.
    fn after(&self) -> &[ResourceId] {
        &[]
    }

    /// Fields another actor owns once the resource exists: never compared.
    fn unmanaged(&self) -> &'static [&'static str] {
        &[]
    }

    /// The normalised fields (a JSON object), references resolved through `r`.
    fn fields(&self, r: &dyn Resolve) -> Value;
}

/// Sorted list of strings as a JSON array: the normal form of every unordered set.
pub fn sorted(items: impl Iterator<Item = String>) -> Value {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v.dedup();
    json!(v)
}

/// The resolved values of `vals` as a sorted set (subnets, security groups, ...).
pub fn sorted_vals(vals: &[Val], r: &dyn Resolve) -> Value {
    sorted(vals.iter().map(|v| r.val(v)))
}
