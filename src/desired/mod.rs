//! Desired state: what the config says should exist, as plain data (no AWS calls).

mod build;
mod env;
mod iam;
mod ids;
mod jobs;
mod kinds;
mod load_balancer;
mod network;
mod resource;
mod services;
mod spec;
mod stores;

pub use crate::config::env_name;
pub use build::*;
pub use env::*;
pub use iam::{legacy_role_path, role_path, ECS_TASKS_PRINCIPAL, TAG_REGION};
pub use ids::*;
pub use jobs::SCHEDULER_PRINCIPAL;
pub(crate) use kinds::with_kinds;
pub use resource::*;
pub use spec::*;
pub use stores::{Stores, Wiring, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS};
