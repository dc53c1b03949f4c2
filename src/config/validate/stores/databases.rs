//! `[databases.<key>]`: RDS identifiers, engine versions, instance classes, storage,
//! database names and user names.

use std::collections::BTreeMap;

use super::store_path;
use crate::config::model::{Database, Engine, StoreKind};
use crate::config::validate::names::{hyphens_problem, shape_problem};
use crate::config::validate::{az_count, Validator};

/// Major versions RDS offers, per engine.
pub const MYSQL_VERSIONS: [&str; 3] = ["5.7", "8.0", "8.4"];

pub const POSTGRES_VERSIONS: std::ops::RangeInclusive<u32> = 11..=17;

/// Storage types ecsdeploy configures.
/// Provisioned-IOPS storage (io1, io2) needs an IOPS figure the config has no key for yet.
pub const STORAGE_TYPES: [&str; 2] = ["gp2", "gp3"];

/// Instance sizes in ascending order, as they appear in `db.<family>.<size>`.
const BURSTABLE_SIZES: &[&str] = &["micro", "small", "medium", "large", "xlarge", "2xlarge"];

const SIZES_24: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
];

const SIZES_16: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
];

const SIZES_32: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
    "32xlarge",
];

const SIZES_48: &[&str] = &[
    "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
    "48xlarge",
];

/// The RDS instance families MySQL and PostgreSQL run on, with their sizes.
pub const DB_FAMILIES: &[(&str, &[&str])] = &[
    ("t3", BURSTABLE_SIZES),
    ("t4g", BURSTABLE_SIZES),
    ("m5", SIZES_24),
    ("m5d", SIZES_24),
    ("m6g", SIZES_16),
    ("m6gd", SIZES_16),
    ("m6i", SIZES_32),
    ("m6id", SIZES_32),
    ("m7g", SIZES_16),
    ("m7i", SIZES_48),
    ("m8g", SIZES_48),
    ("r5", SIZES_24),
    ("r5b", SIZES_24),
    ("r5d", SIZES_24),
    ("r6g", SIZES_16),
    ("r6gd", SIZES_16),
    ("r6i", SIZES_32),
    ("r6id", SIZES_32),
    ("r7g", SIZES_16),
    ("r7i", SIZES_48),
    ("r8g", SIZES_48),
];

/// Words neither engine accepts as a database or user name.
const SQL_RESERVED: &[&str] = &[
    "all",
    "and",
    "as",
    "asc",
    "by",
    "case",
    "check",
    "column",
    "constraint",
    "create",
    "cross",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "exists",
    "false",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "inner",
    "insert",
    "into",
    "is",
    "join",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "right",
    "select",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "using",
    "when",
    "where",
    "with",
];

const MYSQL_RESERVED: &[&str] = &["database", "databases", "index", "key", "keys", "schema"];

const POSTGRES_RESERVED: &[&str] = &["current_role", "current_user", "session_user", "user"];

/// Databases the engine (or RDS) already has.
const MYSQL_SYSTEM_DBS: &[&str] = &[
    "information_schema",
    "mysql",
    "performance_schema",
    "sys",
    "rdsadmin",
];

const POSTGRES_SYSTEM_DBS: &[&str] = &["postgres", "rdsadmin", "template0", "template1"];

/// Users RDS keeps for itself.
const RDS_USERS: &[&str] = &["rdsadmin", "rdsrepladmin", "rdsproxyadmin"];

/// PostgreSQL role names it refuses (besides `pg_*`).
const POSTGRES_ROLES: &[&str] = &["none", "public"];

/// What is wrong with an RDS instance identifier: 1..=63 letters, digits and hyphens,
/// starting with a letter, not ending with a hyphen, no `--`.
fn db_identifier_problem(id: &str) -> Option<String> {
    shape_problem(id, 63, |c| c.is_ascii_alphanumeric() || c == '-')
        .or_else(|| {
            (!id.starts_with(|c: char| c.is_ascii_alphabetic()))
                .then(|| "it does not start with a letter".into())
        })
        .or_else(|| hyphens_problem(id))
}

/// What is wrong with an engine version for `engine`, naming the supported ones.
fn engine_version_problem(engine: Engine, v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split('.').collect();
    let shape_ok = !v.is_empty()
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    match engine {
        Engine::Mysql => {
            let supported = format!(
                "RDS offers MySQL {} (write the major version, e.g. `8.0`, or a full one, e.g. \
                 `8.0.39`)",
                MYSQL_VERSIONS.join(", ")
            );
            if !shape_ok || !(2..=3).contains(&parts.len()) {
                return Some(format!(
                    "`{v}` is not a MySQL engine version (digits separated by dots: major.minor \
                     or major.minor.patch); {supported}"
                ));
            }
            let major = format!("{}.{}", parts[0], parts[1]);
            (!MYSQL_VERSIONS.contains(&major.as_str())).then(|| {
                format!(
                    "MySQL {major} (engine_version `{v}`) is not a version RDS offers; {supported}"
                )
            })
        }
        Engine::Postgres => {
            let majors: Vec<String> = POSTGRES_VERSIONS.map(|m| m.to_string()).collect();
            let supported = format!(
                "RDS offers PostgreSQL {} (write the major version, e.g. `16`, or a full one, \
                 e.g. `16.4`)",
                majors.join(", ")
            );
            if !shape_ok || !(1..=2).contains(&parts.len()) {
                return Some(format!(
                    "`{v}` is not a PostgreSQL engine version (major or major.minor, e.g. `16` or \
                     `16.4`); {supported}"
                ));
            }
            let major: u32 = parts[0].parse().unwrap_or(0);
            (!POSTGRES_VERSIONS.contains(&major)).then(|| {
                format!(
                    "PostgreSQL {} (engine_version `{v}`) is not a version RDS offers; {supported}",
                    parts[0]
                )
            })
        }
    }
}

/// What is wrong with an RDS instance class (`db.<family>.<size>`), if anything.
fn instance_class_problem(engine: Engine, class: &str) -> Option<String> {
    let families: Vec<&str> = DB_FAMILIES.iter().map(|(f, _)| *f).collect();
    let parts: Vec<&str> = class.split('.').collect();
    if parts.len() != 3 || parts[0] != "db" {
        return Some(format!(
            "`{class}` is not an RDS instance class; instance classes are `db.<family>.<size>`, \
             e.g. `db.t4g.micro`, `db.m6g.large` or `db.r6i.xlarge`"
        ));
    }
    let (family, size) = (parts[1], parts[2]);
    let Some((_, sizes)) = DB_FAMILIES.iter().find(|(f, _)| *f == family) else {
        return Some(format!(
            "`{class}` is not an instance class RDS offers for {}: there is no family `{family}`; \
             use one of the families {} (e.g. `db.t4g.micro`)",
            engine.as_aws(),
            families.join(", ")
        ));
    };
    (!sizes.contains(&size)).then(|| {
        format!(
            "`{class}` does not exist: db.{family} comes in the sizes {} (e.g. `db.{family}.{}`)",
            sizes.join(", "),
            sizes[0]
        )
    })
}

/// What is wrong with a database or user name: letters, digits and `_`, starting with a
/// letter, at most `max`.
fn sql_name_problem(name: &str, max: usize) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > max {
        Some(format!("it is {len} characters long, the maximum is {max}"))
    } else if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        Some(format!("it contains `{ch}`"))
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("it does not start with a letter".into())
    } else {
        None
    }
}

fn is_sql_reserved(engine: Engine, lower: &str) -> bool {
    SQL_RESERVED.contains(&lower)
        || match engine {
            Engine::Mysql => MYSQL_RESERVED.contains(&lower),
            Engine::Postgres => POSTGRES_RESERVED.contains(&lower),
        }
}

fn db_name_problem(engine: Engine, name: &str) -> Option<String> {
    let max = match engine {
        Engine::Mysql => 64,
        Engine::Postgres => 63,
    };
    if let Some(p) = sql_name_problem(name, max) {
        return Some(format!(
            "{p}; a database name is 1 to {max} letters, digits and `_`, starting with a letter"
        ));
    }
    let lower = name.to_ascii_lowercase();
    let system = match engine {
        Engine::Mysql => MYSQL_SYSTEM_DBS,
        Engine::Postgres => POSTGRES_SYSTEM_DBS,
    };
    if system.contains(&lower.as_str()) {
        Some(format!(
            "`{name}` is a database {} already has; choose another name",
            engine.as_aws()
        ))
    } else if is_sql_reserved(engine, &lower) {
        Some(format!(
            "`{name}` is a word reserved by {}; choose another name",
            engine.as_aws()
        ))
    } else {
        None
    }
}

fn username_problem(engine: Engine, name: &str) -> Option<String> {
    let max = match engine {
        Engine::Mysql => 16,
        Engine::Postgres => 63,
    };
    if let Some(p) = sql_name_problem(name, max) {
        return Some(format!(
            "username `{name}` is invalid ({p}); the {} master user name is 1 to {max} letters, \
             digits and `_`, starting with a letter",
            engine.as_aws()
        ));
    }
    let lower = name.to_ascii_lowercase();
    let reserved = RDS_USERS.contains(&lower.as_str())
        || lower.starts_with("rds_")
        || is_sql_reserved(engine, &lower)
        || (engine == Engine::Postgres
            && (lower.starts_with("pg_") || POSTGRES_ROLES.contains(&lower.as_str())));
    reserved.then(|| {
        format!(
            "username `{name}` is reserved by RDS or {} (`rdsadmin`, `rds_*`{}, SQL keywords); \
             choose another name, e.g. `app`",
            engine.as_aws(),
            if engine == Engine::Postgres {
                ", `pg_*`, `public`"
            } else {
                ""
            }
        )
    })
}

impl Validator<'_> {
    pub(super) fn database<'k>(
        &mut self,
        key: &'k str,
        d: &Database,
        key_ok: bool,
        ids: &mut BTreeMap<String, &'k str>,
    ) {
        let c = self.c;
        let dp = store_path(StoreKind::Database, key);
        let engine = d.engine;

        let explicit = d.identifier.is_some();
        let id = c.db_identifier(key);
        let id_path = dp.key_if(explicit, "identifier");
        if explicit || (self.app_ok && key_ok) {
            if let Some(reason) = db_identifier_problem(&id) {
                let what = if explicit {
                    String::new()
                } else {
                    " (the default `<app>-<key>`; set identifier)".to_string()
                };
                self.err(
                    id_path.clone(),
                    format!(
                        "`{id}` is not a valid RDS instance identifier{what} ({reason}); \
                         identifiers are 1 to 63 letters, digits and hyphens, start with a letter, \
                         do not end with a hyphen and do not contain `--`"
                    ),
                );
            }
        }
        self.unique(ids, id, key, id_path, |id, prev| {
            format!(
                "instance identifier `{id}` is also the identifier of databases.{prev} \
                 (identifiers are case-insensitive); every database needs its own"
            )
        });

        if let Some(v) = &d.engine_version {
            if let Some(m) = engine_version_problem(engine, v) {
                self.err(dp.key("engine_version"), m);
            }
        }
        if let Some(m) = instance_class_problem(engine, &d.instance_class) {
            self.err(dp.key("instance_class"), m);
        }
        if !STORAGE_TYPES.contains(&d.storage_type.as_str()) {
            self.err(
                dp.key("storage_type"),
                format!(
                    "`{}` is not a storage type ecsdeploy configures; use `gp3` (the default) \
                     or `gp2`",
                    d.storage_type
                ),
            );
        } else {
            let min = 20;
            if !(min..=65536).contains(&d.allocated_storage) {
                self.err(
                    dp.key("allocated_storage"),
                    format!(
                        "allocated_storage is {} GiB; {} storage for {} must be {min} to 65536 GiB",
                        d.allocated_storage,
                        d.storage_type,
                        engine.as_aws()
                    ),
                );
            }
        }
        if d.backup_retention_days > 35 {
            self.err(
                dp.key("backup_retention_days"),
                format!(
                    "backup_retention_days is {}; RDS keeps automated backups 0 to 35 days",
                    d.backup_retention_days
                ),
            );
        }

        let explicit = d.db_name.is_some();
        if explicit || key_ok {
            let name = c.db_name(key);
            if let Some(m) = db_name_problem(engine, &name) {
                let (path, what) = if explicit {
                    (dp.key("db_name"), String::new())
                } else {
                    (
                        dp.clone(),
                        " (the default: the key with `-` as `_`; set db_name)".to_string(),
                    )
                };
                self.err(path, format!("db_name `{name}`{what} is invalid: {m}"));
            }
        }
        if let Some(m) = username_problem(engine, &d.username) {
            self.err(dp.key("username"), m);
        }

        self.private_store(&dp, &format!("databases.{key}"));
        match &c.network.existing {
            Some(ex) if ex.private_subnets.len() == 1 => self.err(
                dp.clone(),
                format!(
                    "databases.{key} would get 1 subnet (network.existing.private_subnets), but an \
                     RDS DB subnet group needs subnets in at least two availability zones; list \
                     at least two private subnets in different zones"
                ),
            ),
            Some(_) => {}
            None => {
                let (n, n_source) = az_count(c);
                if n == 1 {
                    self.err(
                        dp.clone(),
                        format!(
                            "{n_source}, but an RDS DB subnet group needs subnets in at least two \
                             availability zones (even without multi_az); use two or more zones"
                        ),
                    );
                }
            }
        }
    }
}
