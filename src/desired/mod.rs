//! Desired state: what the config says should exist, as plain data (no AWS calls).

mod build;
mod env;
mod ids;
mod load_balancer;
mod network;
mod resource;
mod spec;
mod stores;

pub use crate::config::env_name;
pub use build::*;
pub use env::*;
pub use ids::*;
pub use resource::*;
pub use spec::*;
pub use stores::{Stores, Wiring, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS};
