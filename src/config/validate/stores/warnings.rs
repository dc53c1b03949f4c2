//! Warnings about the data stores: unused ones, deletion protection turned off, no
//! backups, ambiguous secret names, roles that cannot be granted, endpoints a private
//! task needs, and plain environment values that look like credentials.

use super::secrets::{has_arn_like_suffix, secret_name_problem};
use super::{kind_name, store_path};
use crate::config::diagnostic::{KeyPath, Problem};
use crate::config::model::{Config, StoreKind, Use};
use crate::config::secrecy::{looks_secret, value_looks_secret};
use crate::config::validate::{environments, root, service_path};

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
            let path = store_path(StoreKind::Secret, key).key_if(s.name.is_some(), "name");
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
    out.extend(file_reads(c));
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

/// With an existing execution role, what the services' task-definition files need it to
/// allow (registry credentials, environment files, secrets, FireLens `secretOptions`), as
/// ecsdeploy grants it to the role it creates; one warning per service. With the role
/// ecsdeploy creates, the values it cannot grant (given by name).
fn file_reads(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    for (key, s) in &c.services {
        let Some(def) = &s.native else { continue };
        let reads = def.execution_reads();
        if c.iam.execution_role.is_none() {
            if !reads.unscoped.is_empty() {
                out.push(Problem::at(
                    service_path(key).key("task_definition"),
                    format!(
                        "{} in the task-definition file {} given by name, not ARN: the \
                         execution role ecsdeploy creates is granted only secrets and \
                         parameters named by ARN; give the full ARN, or the tasks cannot read \
                         it",
                        reads
                            .unscoped
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if reads.unscoped.len() == 1 {
                            "is"
                        } else {
                            "are"
                        }
                    ),
                ));
            }
            continue;
        }
        let needs = crate::config::native::existing_role_needs(&reads);
        if needs.is_empty() {
            continue;
        }
        out.push(Problem::at(
            root("iam").key("execution_role"),
            format!(
                "the existing execution role must allow {} for the task-definition file of \
                 services.{key} (and kms:Decrypt if a secret uses a customer managed key), or \
                 its tasks fail to start; ecsdeploy grants this only to the execution role it \
                 creates",
                needs.join("; ")
            ),
        ));
    }
    out
}
