//! The configuration file: model, loading with located errors, validation, derived names.

mod diagnostic;
mod environments;
mod load;
pub mod model;
mod names;
pub mod native;
pub mod network;
pub mod schedule;
pub mod secrecy;
mod seed;
mod shape;
mod typed;
pub mod validate;
pub mod variables;

pub use diagnostic::{Diagnostic, KeyPath, Problem, Seg};
pub use load::{
    load_all, load_file, load_file_with, load_str, load_str_with, ConfigErrors, Loaded, Options,
};
pub use model::*;
pub use names::{az_letter, env_name, slug, target_group_hash};
pub use seed::{parse_seed, SeedItem, SeedValue};
