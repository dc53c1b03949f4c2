//! The interface every resource kind's spec implements, and the normal form of sets
//! shared by all of them.

use serde_json::{json, Value};

use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

/// What a resource kind's spec tells the plan about itself.
pub trait KindSpec {
    const KIND: Kind;

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
