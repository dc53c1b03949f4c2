//! Desired specification of each resource kind (pure data), by area. Each kind's spec
//! says itself (through [`KindSpec`]) what it references, the normalised fields a diff
//! compares against what the step modules observe in AWS, and which of those force a
//! replacement; [`Spec`] only dispatches to the variant's spec.

mod autoscaling;
mod deployment;
mod ecs;
mod file_keys;
mod iam;
mod jobs;
mod kind_spec;
mod load_balancer;
mod network;
mod service;
mod stores;

pub use autoscaling::*;
pub use deployment::*;
pub use ecs::*;
pub use file_keys::*;
pub use iam::*;
pub use jobs::*;
pub use kind_spec::{sorted, sorted_vals, KindSpec};
pub use load_balancer::*;
pub use network::*;
pub use service::*;
pub use stores::*;

use serde_json::Value;

use super::kinds::with_kinds;
use super::resource::{Fields, Kind, Ref, Resolve, ResourceId, Val};

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: ResourceId,
    /// The AWS name (or `Name` tag for EC2 resources).
    pub name: String,
    pub spec: Spec,
}

/// `Spec` from the kinds table: one variant per kind, holding the kind's spec type.
macro_rules! define_spec {
    ( ; $($variant:ident($spec:ident) = $name:literal => $module:ident,)*) => {
        #[derive(Debug, Clone, PartialEq)]
        pub enum Spec {
            $($variant($spec),)*
        }
    };
}
with_kinds!(define_spec);

/// `Kind::deleted_after` and `Kind::holds_data`, from each kind's spec type.
macro_rules! define_kind_constants {
    ( ; $($variant:ident($spec:ident) = $name:literal => $module:ident,)*) => {
        impl Kind {
            /// See [`KindSpec::DELETED_AFTER`].
            pub fn deleted_after(self) -> &'static [Kind] {
                match self {
                    $(Kind::$variant => <$spec as KindSpec>::DELETED_AFTER,)*
                }
            }

            /// See [`KindSpec::HOLDS_DATA`].
            pub fn holds_data(self) -> bool {
                match self {
                    $(Kind::$variant => <$spec as KindSpec>::HOLDS_DATA,)*
                }
            }
        }
    };
}
with_kinds!(define_kind_constants);

/// `match $spec { Spec::<each kind>($s) => $e }`, from the kinds table.
macro_rules! each_kind_match {
    ($spec:expr, $s:ident => $e:expr ; $($variant:ident($ty:ident) = $name:literal => $module:ident,)*) => {
        match $spec {
            $(Spec::$variant($s) => $e,)*
        }
    };
}

/// `$e` with `$s` bound to the spec of whichever variant `$spec` is.
macro_rules! each_kind {
    ($spec:expr, $s:ident => $e:expr) => {
        with_kinds!(each_kind_match, $spec, $s => $e)
    };
}

impl Spec {
    pub fn kind(&self) -> Kind {
        fn kind_of<T: KindSpec>(_: &T) -> Kind {
            T::KIND
        }
        each_kind!(self, s => kind_of(s))
    }

    /// References to other resources' values.
    pub fn refs(&self) -> Vec<&Ref> {
        each_kind!(self, s => s.vals())
            .into_iter()
            .filter_map(Val::as_ref)
            .collect()
    }

    /// Every resource this one must come after: referenced ones plus ordering-only ones.
    pub fn deps(&self) -> Vec<ResourceId> {
        let mut d: Vec<ResourceId> = self.refs().into_iter().map(|r| r.id.clone()).collect();
        d.extend(each_kind!(self, s => s.after()).iter().cloned());
        d.sort();
        d.dedup();
        d
    }

    /// Fields another actor owns once the resource exists (autoscaling owns a scaled
    /// service's desired count): never compared.
    pub fn unmanaged_fields(&self) -> &'static [&'static str] {
        each_kind!(self, s => s.unmanaged())
    }

    /// Fields whose change cannot be applied in place: the resource is replaced.
    pub fn immutable_fields(&self) -> &'static [&'static str] {
        fn immutable_of<T: KindSpec>(_: &T) -> &'static [&'static str] {
            T::IMMUTABLE
        }
        each_kind!(self, s => immutable_of(s))
    }

    /// The normalised fields a diff compares, references resolved through `r`.
    pub fn fields(&self, r: &dyn Resolve) -> Fields {
        match each_kind!(self, s => s.fields(r)) {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!("fields are always an object"),
        }
    }
}
