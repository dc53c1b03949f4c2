//! Validation of the data stores (`[tables]`, `[databases]`, `[file_systems]`, `[secrets]`)
//! and of the services' `uses` entries that wire them in (pure).
//!
//! Seed files are read and checked by the loader (`seed.rs`), not here.

use std::collections::BTreeMap;

use super::names::key_problem;
use super::{root, Validator};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{StoreKind, SubnetKind};

mod databases;
mod file_systems;
mod secrets;
mod tables;
mod uses;
mod warnings;

pub(super) use warnings::warnings;

/// Longest store key: keys become parts of AWS names and of environment variable names.
pub const MAX_STORE_KEY_LEN: usize = 32;

fn store_path(kind: StoreKind, key: &str) -> KeyPath {
    root(kind.section()).key(key)
}

fn kind_name(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::Table => "table",
        StoreKind::Database => "database",
        StoreKind::FileSystem => "file system",
        StoreKind::Secret => "secret",
    }
}

/// `` `a`, `b` and `c` `` for messages.
fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// What is wrong with a store key, if anything.
fn store_key_problem(key: &str) -> Option<String> {
    key_problem(key, MAX_STORE_KEY_LEN)
}

impl Validator<'_> {
    /// Every rule of the data stores and of the services' `uses`.
    pub(super) fn stores(&mut self) {
        let c = self.c;
        let mut tables: BTreeMap<String, &str> = BTreeMap::new();
        for (key, t) in &c.tables {
            let key_ok = self.store_key(StoreKind::Table, key);
            self.table(key, t, key_ok, &mut tables);
        }
        let mut ids: BTreeMap<String, &str> = BTreeMap::new();
        for (key, d) in &c.databases {
            let key_ok = self.store_key(StoreKind::Database, key);
            self.database(key, d, key_ok, &mut ids);
        }
        for (key, f) in &c.file_systems {
            self.store_key(StoreKind::FileSystem, key);
            self.file_system(key, f);
        }
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        for (key, s) in &c.secrets {
            let key_ok = self.store_key(StoreKind::Secret, key);
            self.secret(key, s, key_ok, &mut names);
        }
        for (key, s) in &c.services {
            self.uses(key, s);
        }
    }

    fn store_key(&mut self, kind: StoreKind, key: &str) -> bool {
        let Some(reason) = store_key_problem(key) else {
            return true;
        };
        self.err(
            store_path(kind, key),
            format!(
                "{} key `{key}` is invalid ({reason}); store keys are 1 to {MAX_STORE_KEY_LEN} \
                 lowercase letters, digits and hyphens, starting with a letter (they become parts \
                 of AWS names and of environment variable names)",
                kind_name(kind)
            ),
        );
        false
    }

    /// A store in the private subnets needs some: a created network makes them, an imported
    /// one must list them.
    fn private_store(&mut self, path: &KeyPath, who: &str) {
        self.imported_subnets_present(path.clone(), SubnetKind::Private, &format!("{who} runs"));
    }
}
