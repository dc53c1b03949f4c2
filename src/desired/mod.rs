//! Desired state: what the config says should exist, as plain data (no AWS calls).

mod build;
mod resource;
mod spec;

pub use build::*;
pub use resource::*;
pub use spec::*;
