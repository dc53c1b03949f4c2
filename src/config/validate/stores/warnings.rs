//! Warnings about the data stores: unused ones, deletion protection turned off, no
//! backups, ambiguous secret names, roles that cannot be granted, endpoints a private
//! task needs, and plain environment values that look like credentials.

use std::collections::BTreeMap;

use super::secrets::{has_arn_like_suffix, secret_name_problem};
use super::{kind_name, store_path};
use crate::config::diagnostic::{KeyPath, Problem};
use crate::config::model::{Config, StoreKind, Use};
use crate::config::validate::names::looks_secret;
use crate::config::validate::{environments, root, service_path};

/// A plain environment value that looks like a credential: what it looks like.
fn value_looks_secret(v: &str) -> Option<&'static str> {
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("a PEM private key");
    }
    let b = v.as_bytes();
    if b.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some("an AWS access key id");
    }
    if let Some((_, rest)) = v.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()) {
                return Some("a URL with a password in it");
            }
        }
    }
    // A long token of random-looking characters: all three character classes, frequent
    // switches between them and a high per-character entropy.
    let len = v.chars().count();
    let token = len >= 24
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-.".contains(c));
    if token
        && v.chars().any(|c| c.is_ascii_uppercase())
        && v.chars().any(|c| c.is_ascii_lowercase())
        && v.chars().any(|c| c.is_ascii_digit())
    {
        let class = |c: char| {
            if c.is_ascii_uppercase() {
                0
            } else if c.is_ascii_lowercase() {
                1
            } else if c.is_ascii_digit() {
                2
            } else {
                3
            }
        };
        let chars: Vec<char> = v.chars().collect();
        let switches = chars
            .windows(2)
            .filter(|w| class(w[0]) != class(w[1]))
            .count();
        let mut counts: BTreeMap<char, usize> = BTreeMap::new();
        for c in &chars {
            *counts.entry(*c).or_default() += 1;
        }
        let n = len as f64;
        let entropy: f64 = counts
            .values()
            .map(|&k| {
                let p = k as f64 / n;
                -p * p.log2()
            })
            .sum();
        if switches as f64 >= 0.45 * (n - 1.0) && entropy >= 4.0 {
            return Some("a random token (an API key or a password)");
        }
    }
    None
}

/// Private tasks in a created network without NAT reach AWS only through VPC endpoints:
/// secrets need `secretsmanager` (ECS fetches them at task start) and tables `dynamodb`.
fn endpoint_warnings(c: &Config) -> Vec<Problem> {
    let net = &c.network;
    if net.existing.is_some() || net.nat != crate::config::NatMode::None {
        return vec![];
    }
    let mut out = Vec::new();
    for (key, s) in c
        .services
        .iter()
        .filter(|(_, s)| s.subnets == crate::config::SubnetKind::Private)
    {
        let needs = |kind: StoreKind| {
            s.uses
                .iter()
                .any(|u| u.target().is_some_and(|t| t.0 == kind))
        };
        for (kind, endpoint) in [
            (StoreKind::Secret, "secretsmanager"),
            (StoreKind::Database, "secretsmanager"),
            (StoreKind::Table, "dynamodb"),
        ] {
            if needs(kind) && !net.endpoints.iter().any(|e| e == endpoint) {
                out.push(Problem::at(
                    KeyPath::root().key("services").key(key).key("uses"),
                    format!(
                        "service `{key}` runs in private subnets without a NAT gateway and uses a \
                         {}, which it reaches only through the VPC endpoint `{endpoint}`; add \
                         \"{endpoint}\" to network.endpoints or set network.nat",
                        kind_name(kind)
                    ),
                ));
            }
        }
    }
    out.dedup_by(|a, b| a.message == b.message);
    out
}

/// Warnings about the data stores: unused ones, deletion protection turned off, no
/// backups, ambiguous secret names, an imported execution role that must read secrets,
/// and plain environment values that look like credentials.
pub(in crate::config::validate) fn warnings(c: &Config) -> Vec<Problem> {
    let mut out = endpoint_warnings(c);
    let used = |kind: StoreKind, key: &str| {
        c.services
            .values()
            .any(|s| s.uses.iter().any(|u| u.target() == Some((kind, key))))
    };
    let sections: [(StoreKind, Vec<&String>); 4] = [
        (StoreKind::Table, c.tables.keys().collect()),
        (StoreKind::Database, c.databases.keys().collect()),
        (StoreKind::FileSystem, c.file_systems.keys().collect()),
        (StoreKind::Secret, c.secrets.keys().collect()),
    ];
    for (kind, keys) in sections {
        for key in keys.into_iter().filter(|k| !used(kind, k)) {
            let what = if kind == StoreKind::Secret && c.secrets[key.as_str()].generate.is_none() {
                "so this entry has no effect"
            } else {
                "ecsdeploy still creates it, but nothing reaches it"
            };
            out.push(Problem::at(
                store_path(kind, key),
                format!(
                    "{} `{key}` is not used by any service ({what}); add {{ {} = \"{key}\" }} to \
                     the `uses` of the service that needs it, or remove [{}.{key}]",
                    kind_name(kind),
                    kind.key(),
                    kind.section()
                ),
            ));
        }
    }
    let unprotected =
        "deletion_protection = false: AWS will not refuse to delete it, so `ecsdeploy \
                       down --delete-data` (and anyone with delete permissions) can destroy the \
                       data with nothing else in the way; keep the default (true) unless the data \
                       is disposable";
    for (key, t) in &c.tables {
        if !t.deletion_protection {
            out.push(Problem::at(
                store_path(StoreKind::Table, key).key("deletion_protection"),
                format!("table `{key}` has {unprotected}"),
            ));
        }
    }
    for (key, d) in &c.databases {
        let dp = store_path(StoreKind::Database, key);
        if !d.deletion_protection {
            out.push(Problem::at(
                dp.key("deletion_protection"),
                format!("database `{key}` has {unprotected}"),
            ));
        }
        if d.backup_retention_days == 0 {
            out.push(Problem::at(
                dp.key("backup_retention_days"),
                "backup_retention_days = 0 turns automated backups off: no point-in-time \
                 recovery, and no way back after a bad migration or a deleted row; keep at least \
                 1 day (default 7)",
            ));
        }
    }
    for (key, s) in &c.secrets {
        if s.generate.is_none() {
            continue;
        }
        let name = c.secret_name(key);
        if has_arn_like_suffix(&name) && secret_name_problem(&name).is_none() {
            let path = if s.name.is_some() {
                store_path(StoreKind::Secret, key).key("name")
            } else {
                store_path(StoreKind::Secret, key)
            };
            out.push(Problem::at(
                path,
                format!(
                    "secret name `{name}` ends with a hyphen and six characters, like the random \
                     suffix Secrets Manager adds to secret ARNs, so tools that look a secret up \
                     by a partial ARN can pick the wrong one; choose a name that does not end \
                     that way"
                ),
            ));
        }
    }
    if c.iam.execution_role.is_some() {
        let mut reads: Vec<String> = Vec::new();
        for (kind, key) in c
            .services
            .values()
            .flat_map(|s| s.uses.iter().filter_map(Use::target))
        {
            let item = match kind {
                StoreKind::Secret => match c.secrets.get(key) {
                    Some(s) => match &s.existing {
                        Some(e) if s.generate.is_none() => format!("`{e}` (secrets.{key})"),
                        _ => format!("`{}` (secrets.{key})", c.secret_name(key)),
                    },
                    None => continue,
                },
                StoreKind::Database if c.databases.contains_key(key) => format!(
                    "`{}` (the master password of databases.{key})",
                    c.db_password_name(key)
                ),
                _ => continue,
            };
            if !reads.contains(&item) {
                reads.push(item);
            }
        }
        if !reads.is_empty() {
            out.push(Problem::at(
                root("iam").key("execution_role"),
                format!(
                    "the existing execution role must allow secretsmanager:GetSecretValue on {} \
                     (and kms:Decrypt if they use a customer managed key), or the tasks fail to \
                     start; ecsdeploy grants this only to the execution role it creates",
                    reads.join(", ")
                ),
            ));
        }
    }
    for (key, s) in &c.services {
        let sp = service_path(key);
        for (ep, env) in environments(&sp, s) {
            for (name, value) in env {
                if looks_secret(name) {
                    continue; // warned about by name already
                }
                if let Some(what) = value_looks_secret(value) {
                    out.push(Problem::at(
                        ep.key(name),
                        format!(
                            "the value of `{name}` looks like {what}; plain environment values are \
                             visible in the task definition to anyone who can describe it: put it \
                             in [secrets.<key>] (existing = \"<name or ARN>\") and add \
                             {{ secret = \"<key>\", env = \"{name}\" }} to uses"
                        ),
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_heuristics() {
        for secret in [
            "Zx8Qp2LmN4vR7tYw1KbC9dFh3JsG6aE5",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "mysql://root:pw@host/db",
        ] {
            assert!(value_looks_secret(secret).is_some(), "{secret}");
        }
        for plain in [
            "ThisIsAVeryLongConfigurationValue1",
            "com.example.MyApplication2024",
            "/usr/local/bin/something-else",
            "550e8400-e29b-41d4-a716-446655440000",
            "redis://cache:6379/0",
            "mysql://root@host/db",
            "arn:aws:sqs:ap-northeast-1:123456789012:jobs",
            "PYTHONDONTWRITEBYTECODE1PLEASE",
        ] {
            assert!(value_looks_secret(plain).is_none(), "{plain}");
        }
    }
}
