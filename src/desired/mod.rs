//! Desired state: what the config says should exist, as plain data (no AWS calls).

mod build;
mod ids;
mod load_balancer;
mod network;
mod resource;
mod spec;

pub use build::*;
pub use ids::*;
pub use resource::*;
pub use spec::*;
