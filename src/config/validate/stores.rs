//! Validation of the data stores (`[tables]`, `[databases]`, `[file_systems]`, `[secrets]`)
//! and of the services' `uses` entries that wire them in (pure).
//!
//! Seed files are read and checked by the loader (`seed.rs`), not here.

use std::collections::BTreeMap;

use super::{az_count, check_regional_arn, is_env_name, root, service_path, Validator};
use crate::config::load::{KeyPath, Problem};
use crate::config::model::{
    Billing, Config, Database, Engine, FileSystem, KeyAttribute, KeyType, Projection, Secret,
    Service, StoreKind, SubnetKind, Table, Use,
};
use crate::desired::env_name;

/// Longest store key: keys become parts of AWS names and of environment variable names.
pub const MAX_STORE_KEY_LEN: usize = 32;
/// Global secondary indexes one table may have (the AWS default quota).
pub const MAX_TABLE_INDEXES: usize = 20;
/// Non-key attributes all `INCLUDE` indexes of one table may project, together.
pub const MAX_PROJECTED_ATTRIBUTES: usize = 100;
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
/// Secrets Manager's punctuation for generated passwords.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Keys of a `uses` entry and the kinds of store each applies to.
const USE_OPTIONS: [(&str, &[StoreKind]); 5] = [
    ("actions", &[StoreKind::Table]),
    ("write", &[StoreKind::Table, StoreKind::FileSystem]),
    ("env", &[StoreKind::Table, StoreKind::Secret]),
    ("env_prefix", &[StoreKind::Database]),
    ("path", &[StoreKind::FileSystem]),
];

/// The variables a database use adds, after its prefix.
const DB_VARS: [&str; 5] = ["HOST", "PORT", "NAME", "USER", "PASSWORD"];

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
    let len = key.chars().count();
    if key.is_empty() {
        Some("it is empty".into())
    } else if len > MAX_STORE_KEY_LEN {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(format!("it contains `{ch}`"))
    } else if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it does not start with a lowercase letter".into())
    } else {
        None
    }
}

/// What is wrong with a DynamoDB table or index name: 3..=255 of `[A-Za-z0-9_.-]`.
fn dynamo_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len < 3 {
        Some(format!("it is {len} character(s) long, the minimum is 3"))
    } else if len > 255 {
        Some(format!("it is {len} characters long, the maximum is 255"))
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

/// What is wrong with an RDS instance identifier: 1..=63 letters, digits and hyphens,
/// starting with a letter, not ending with a hyphen, no `--`.
fn db_identifier_problem(id: &str) -> Option<String> {
    let len = id.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 63 {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        Some(format!("it contains `{ch}`"))
    } else if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("it does not start with a letter".into())
    } else if id.ends_with('-') {
        Some("it ends with a hyphen".into())
    } else if id.contains("--") {
        Some("it contains `--`".into())
    } else {
        None
    }
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

/// What is wrong with an access point directory, per EFS: absolute, not `/`, at most 100
/// characters and 4 components, no component starting with `.`, no shell metacharacters.
fn access_point_path_problem(path: &str) -> Option<String> {
    let len = path.chars().count();
    if !path.starts_with('/') {
        return Some("it is not absolute (it must start with `/`)".into());
    }
    if path == "/" {
        return Some(
            "it is the root of the file system, which would share everything with every client"
                .into(),
        );
    }
    if len > 100 {
        return Some(format!("it is {len} characters long, the maximum is 100"));
    }
    if let Some(ch) = path.chars().find(|c| "$#<>;`|&?{}^*\n\\".contains(*c)) {
        return Some(format!("it contains `{ch}`"));
    }
    let segs: Vec<&str> = path[1..].split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Some("it has an empty component (a trailing or double `/`)".into());
    }
    if segs.contains(&"..") {
        return Some("it contains `..`".into());
    }
    if let Some(s) = segs.iter().find(|s| s.starts_with('.')) {
        return Some(format!("component `{s}` starts with `.`"));
    }
    if segs.len() > 4 {
        return Some(format!(
            "it has {} components, the maximum is 4",
            segs.len()
        ));
    }
    None
}

/// What is wrong with a container mount path: absolute, not `/`, no `..`.
fn mount_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        Some("it is not absolute (it must start with `/`)".into())
    } else if path.trim_end_matches('/').is_empty() {
        Some("it is `/`, the container's root, which cannot be a mount point".into())
    } else if path.split('/').any(|s| s == "..") {
        Some("it contains `..`".into())
    } else if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace".into())
    } else {
        None
    }
}

fn is_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// Ends with a hyphen and six letters or digits: Secrets Manager appends `-` and six random
/// letters and digits to a secret's ARN, so such a name is ambiguous in partial ARNs.
fn has_arn_like_suffix(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    n >= 7 && chars[n - 7] == '-' && chars[n - 6..].iter().all(char::is_ascii_alphanumeric)
}

fn secret_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 512 {
        Some(format!("it is {len} characters long, the maximum is 512"))
    } else {
        name.chars()
            .find(|c| !is_secret_name_char(*c))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

/// A plain environment value that looks like a credential: what it looks like.
pub(super) fn value_looks_secret(v: &str) -> Option<&'static str> {
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

/// The environment variables a `uses` entry adds, with the key path that sets each name.
fn use_env_vars(u: &Use, up: &KeyPath) -> Vec<(String, KeyPath)> {
    let Some((kind, key)) = u.target() else {
        return Vec::new();
    };
    let named = |explicit: &Option<String>, option: &str, default: String| match explicit {
        Some(e) => vec![(e.clone(), up.key(option))],
        None => vec![(default, up.clone())],
    };
    match kind {
        StoreKind::Table => named(&u.env, "env", format!("{}_TABLE", env_name(key))),
        StoreKind::Secret => named(&u.env, "env", env_name(key)),
        StoreKind::Database => {
            let (p, path) = match &u.env_prefix {
                Some(p) => (p.clone(), up.key("env_prefix")),
                None => ("DB_".to_string(), up.clone()),
            };
            DB_VARS
                .iter()
                .map(|v| (format!("{p}{v}"), path.clone()))
                .collect()
        }
        StoreKind::FileSystem => Vec::new(),
    }
}

fn describe_use(i: usize, u: &Use) -> String {
    match u.target() {
        Some((kind, key)) => format!("uses[{i}] ({} `{key}`)", kind_name(kind)),
        None => format!("uses[{i}]"),
    }
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

    fn table<'k>(
        &mut self,
        key: &'k str,
        t: &Table,
        key_ok: bool,
        names: &mut BTreeMap<String, &'k str>,
    ) {
        let c = self.c;
        let tp = store_path(StoreKind::Table, key);
        let explicit = t.name.is_some();
        let name = c.table_name(key);
        let name_path = if explicit { tp.key("name") } else { tp.clone() };
        if explicit || (self.app_ok && key_ok) {
            if let Some(reason) = dynamo_name_problem(&name) {
                self.err(
                    name_path.clone(),
                    format!(
                        "`{name}` is not a valid DynamoDB table name ({reason}); table names are 3 \
                         to 255 letters, digits, `_`, `.` and `-`"
                    ),
                );
            }
        }
        if let Some(prev) = names.get(&name) {
            self.err(
                name_path,
                format!(
                    "table name `{name}` is also the name of tables.{prev}; every table needs its \
                     own name"
                ),
            );
        } else {
            names.insert(name, key);
        }

        // Every attribute used as a key, with its type and where it was first declared:
        // DynamoDB's AttributeDefinitions hold one type per name.
        let mut attrs: BTreeMap<&str, (KeyType, String)> = BTreeMap::new();
        self.key_attr(&tp.key("hash_key"), "hash_key", &t.hash_key, &mut attrs);
        if let Some(rk) = &t.range_key {
            self.key_attr(&tp.key("range_key"), "range_key", rk, &mut attrs);
            if rk.name == t.hash_key.name {
                self.err(
                    tp.key("range_key").key("name"),
                    format!(
                        "range_key `{}` is also the hash_key; the range (sort) key must be a \
                         different attribute, or remove range_key",
                        rk.name
                    ),
                );
            }
        }

        let provisioned = t.billing == Billing::Provisioned;
        self.capacities(&tp, t.read_capacity, t.write_capacity, provisioned, "table");

        if let Some(ttl) = &t.ttl_attribute {
            let len = ttl.chars().count();
            if len == 0 || len > 255 {
                self.err(
                    tp.key("ttl_attribute"),
                    format!(
                        "ttl_attribute is {len} characters long; give the name (1 to 255 \
                         characters) of the attribute holding each item's expiry time in epoch \
                         seconds, or remove it"
                    ),
                );
            }
        }

        let ip = tp.key("indexes");
        if t.indexes.len() > MAX_TABLE_INDEXES {
            self.err(
                ip.clone(),
                format!(
                    "{} indexes; a table has at most {MAX_TABLE_INDEXES} global secondary indexes",
                    t.indexes.len()
                ),
            );
        }
        let mut projected = 0;
        for (i, ix) in t.indexes.iter().enumerate() {
            let xp = ip.index(i);
            if let Some(reason) = dynamo_name_problem(&ix.name) {
                self.err(
                    xp.key("name"),
                    format!(
                        "`{}` is not a valid index name ({reason}); index names are 3 to 255 \
                         letters, digits, `_`, `.` and `-`",
                        ix.name
                    ),
                );
            } else if let Some(j) = t.indexes[..i].iter().position(|o| o.name == ix.name) {
                self.err(
                    xp.key("name"),
                    format!(
                        "index name `{}` is used twice (also indexes[{j}]); index names must be \
                         unique in a table",
                        ix.name
                    ),
                );
            }
            let label = format!("indexes[{i}].hash_key");
            self.key_attr(&xp.key("hash_key"), &label, &ix.hash_key, &mut attrs);
            if let Some(rk) = &ix.range_key {
                let label = format!("indexes[{i}].range_key");
                self.key_attr(&xp.key("range_key"), &label, rk, &mut attrs);
                if rk.name == ix.hash_key.name {
                    self.err(
                        xp.key("range_key").key("name"),
                        format!(
                            "range_key `{}` is also the index's hash_key; use a different \
                             attribute or remove range_key",
                            rk.name
                        ),
                    );
                }
            }
            match (ix.projection, ix.include.is_empty()) {
                (Projection::Include, true) => self.err(
                    xp.key("projection"),
                    "projection = \"INCLUDE\" needs the attributes to copy into the index: list \
                     them in `include`, or use projection \"KEYS_ONLY\" or \"ALL\"",
                ),
                (Projection::Include, false) => {}
                (p, false) => self.err(
                    xp.key("include"),
                    format!(
                        "include only applies to projection = \"INCLUDE\", but the projection is \
                         \"{}\"; set projection = \"INCLUDE\" or remove include",
                        p.as_aws()
                    ),
                ),
                (_, true) => {}
            }
            for (j, a) in ix.include.iter().enumerate() {
                if a.is_empty() || a.chars().count() > 255 {
                    self.err(
                        xp.key("include").index(j),
                        "an included attribute name must be 1 to 255 characters long",
                    );
                } else if let Some(k) = ix.include[..j].iter().position(|o| o == a) {
                    self.err(
                        xp.key("include").index(j),
                        format!("`{a}` is listed twice (also include[{k}])"),
                    );
                }
            }
            if ix.projection == Projection::Include {
                projected += ix.include.len();
            }
            self.capacities(
                &xp,
                ix.read_capacity,
                ix.write_capacity,
                provisioned,
                "index",
            );
        }
        if projected > MAX_PROJECTED_ATTRIBUTES {
            self.err(
                ip,
                format!(
                    "the indexes project {projected} non-key attributes (`include`) in all; \
                     DynamoDB allows at most {MAX_PROJECTED_ATTRIBUTES} per table"
                ),
            );
        }
    }

    /// A key attribute: a name of 1..=255 characters, and the same type wherever it is used.
    fn key_attr<'c>(
        &mut self,
        kp: &KeyPath,
        label: &str,
        k: &'c KeyAttribute,
        attrs: &mut BTreeMap<&'c str, (KeyType, String)>,
    ) {
        let len = k.name.chars().count();
        if len == 0 || len > 255 {
            self.err(
                kp.key("name"),
                format!("the key attribute name is {len} characters long; it must be 1 to 255"),
            );
            return;
        }
        match attrs.get(k.name.as_str()) {
            Some((t, first)) if *t != k.attr_type => self.err(
                kp.key("type"),
                format!(
                    "attribute `{}` is type {} here but type {} in {first}; an attribute has one \
                     type in a table (its AttributeDefinitions), so use {} here too or another \
                     attribute",
                    k.name,
                    k.attr_type.as_aws(),
                    t.as_aws(),
                    t.as_aws()
                ),
            ),
            Some(_) => {}
            None => {
                attrs.insert(&k.name, (k.attr_type, label.to_string()));
            }
        }
    }

    /// Provisioned capacities of a table or index: only with provisioned billing, at least 1.
    fn capacities(
        &mut self,
        p: &KeyPath,
        read: Option<u32>,
        write: Option<u32>,
        provisioned: bool,
        what: &str,
    ) {
        for (k, v) in [("read_capacity", read), ("write_capacity", write)] {
            let Some(v) = v else { continue };
            if !provisioned {
                self.err(
                    p.key(k),
                    format!(
                        "{k} only applies to billing = \"provisioned\"; an on-demand {what} has no \
                         capacity to set, so remove {k} or set billing = \"provisioned\" on the table"
                    ),
                );
            } else if v == 0 {
                self.err(
                    p.key(k),
                    format!("{k} is 0; a provisioned {what} needs at least 1 capacity unit"),
                );
            }
        }
    }

    fn database<'k>(
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
        let id_path = if explicit {
            dp.key("identifier")
        } else {
            dp.clone()
        };
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
        if let Some(prev) = ids.get(&id) {
            self.err(
                id_path,
                format!(
                    "instance identifier `{id}` is also the identifier of databases.{prev} \
                     (identifiers are case-insensitive); every database needs its own"
                ),
            );
        } else {
            ids.insert(id, key);
        }

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

    /// A store in the private subnets needs some: a created network makes them, an imported
    /// one must list them.
    fn private_store(&mut self, path: &KeyPath, who: &str) {
        self.imported_subnets_present(path.clone(), SubnetKind::Private, &format!("{who} runs"));
    }

    fn file_system(&mut self, key: &str, f: &FileSystem) {
        let fp = store_path(StoreKind::FileSystem, key);
        let perf_ok = ["generalPurpose", "maxIO"].contains(&f.performance_mode.as_str());
        if !perf_ok {
            self.err(
                fp.key("performance_mode"),
                format!(
                    "`{}` is not an EFS performance mode; use `generalPurpose` (the default) or \
                     `maxIO`",
                    f.performance_mode
                ),
            );
        }
        match f.throughput_mode.as_str() {
            "bursting" => {}
            "elastic" if f.performance_mode == "maxIO" => self.err(
                fp.key("throughput_mode"),
                "throughput_mode = \"elastic\" cannot be combined with performance_mode = \
                 \"maxIO\" (EFS offers elastic throughput with generalPurpose only); use \
                 generalPurpose or bursting",
            ),
            "elastic" => {}
            other => self.err(
                fp.key("throughput_mode"),
                format!(
                    "`{other}` is not a throughput mode ecsdeploy configures; use `bursting` (the \
                     default) or `elastic`"
                ),
            ),
        }
        let ap = fp.key("access_point");
        if let Some(reason) = access_point_path_problem(&f.access_point.path) {
            self.err(
                ap.key("path"),
                format!(
                    "access_point.path `{}` is invalid ({reason}); give the directory the tasks \
                     see as the root, e.g. `/data`: absolute, not `/`, at most 4 components and \
                     100 characters, no `..` and no component starting with `.`",
                    f.access_point.path
                ),
            );
        }
        let perm = &f.access_point.permissions;
        if !((3..=4).contains(&perm.len()) && perm.chars().all(|c| ('0'..='7').contains(&c))) {
            self.err(
                ap.key("permissions"),
                format!(
                    "permissions `{perm}` are not octal permissions; write 3 or 4 octal digits, \
                     e.g. \"755\" or \"0750\""
                ),
            );
        }
        self.private_store(&fp, &format!("file_systems.{key}"));
    }

    fn secret<'k>(
        &mut self,
        key: &'k str,
        s: &Secret,
        key_ok: bool,
        names: &mut BTreeMap<String, &'k str>,
    ) {
        let c = self.c;
        let sp = store_path(StoreKind::Secret, key);
        match (&s.generate, &s.existing) {
            (None, None) => self.err(
                sp.clone(),
                "a secret needs `generate` (ecsdeploy creates it with a random value) or \
                 `existing` (the name or ARN of a secret that exists); set one of them",
            ),
            (Some(_), Some(_)) => self.err(
                sp.key("existing"),
                "`generate` and `existing` are mutually exclusive: ecsdeploy either creates the \
                 secret or uses an existing one; remove one of them",
            ),
            _ => {}
        }
        if let Some(d) = &s.description {
            let len = d.chars().count();
            if s.existing.is_some() && s.generate.is_none() {
                self.err(
                    sp.key("description"),
                    "description only applies to a generated secret; ecsdeploy does not modify \
                     an existing one, so remove description",
                );
            } else if len > 2048 {
                self.err(
                    sp.key("description"),
                    format!("description is {len} characters long; the limit is 2048"),
                );
            }
        }
        if let Some(existing) = &s.existing {
            let xp = sp.key("existing");
            if s.name.is_some() && s.generate.is_none() {
                self.err(
                    sp.key("name"),
                    "name only applies to a generated secret; an existing secret is named by \
                     `existing` (its name or ARN), so remove name",
                );
            }
            if existing.trim().is_empty() {
                self.err(
                    xp,
                    "existing is empty; give the name (`prod/api-key`) or the ARN of the secret",
                );
            } else if existing.starts_with("arn:") {
                if let Err(m) = check_regional_arn(
                    existing,
                    "a Secrets Manager secret ARN",
                    "secretsmanager",
                    "secret:",
                    "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/api-key-AbCdEf",
                ) {
                    self.err(xp, m);
                }
            } else if let Some(reason) = secret_name_problem(existing) {
                self.err(
                    xp,
                    format!(
                        "`{existing}` is neither a secret ARN nor a secret name ({reason}); names \
                         are 1 to 512 letters, digits and `/_+=.@-`"
                    ),
                );
            }
        }
        if let Some(g) = &s.generate {
            let gp = sp.key("generate");
            let explicit = s.name.is_some();
            let name = c.secret_name(key);
            let name_path = if explicit { sp.key("name") } else { sp.clone() };
            if explicit || (self.app_ok && key_ok) {
                if let Some(reason) = secret_name_problem(&name) {
                    self.err(
                        name_path.clone(),
                        format!(
                            "`{name}` is not a valid secret name ({reason}); names are 1 to 512 \
                             letters, digits and `/_+=.@-`"
                        ),
                    );
                }
            }
            if let Some(prev) = names.get(&name) {
                self.err(
                    name_path,
                    format!(
                        "secret name `{name}` is also the name of secrets.{prev}; every \
                         generated secret needs its own name"
                    ),
                );
            } else {
                names.insert(name, key);
            }
            if !(1..=4096).contains(&g.length) {
                self.err(
                    gp.key("length"),
                    format!("length is {}; it must be 1 to 4096", g.length),
                );
            }
            self.generated_chars(&gp, g);
        }
    }

    /// The character classes a generated secret may draw from: at least one, and each of
    /// them possible when every one is required.
    fn generated_chars(&mut self, gp: &KeyPath, g: &crate::config::model::Generate) {
        let excluded = |c: char| g.exclude_characters.contains(c);
        let classes: [(&str, &str, bool, String); 5] = [
            (
                "lowercase letters",
                "exclude_lowercase",
                !g.exclude_lowercase,
                ('a'..='z').collect(),
            ),
            (
                "uppercase letters",
                "exclude_uppercase",
                !g.exclude_uppercase,
                ('A'..='Z').collect(),
            ),
            (
                "digits",
                "exclude_numbers",
                !g.exclude_numbers,
                ('0'..='9').collect(),
            ),
            (
                "punctuation",
                "exclude_punctuation",
                !g.exclude_punctuation,
                PUNCTUATION.to_string(),
            ),
            ("spaces", "include_space", g.include_space, " ".to_string()),
        ];
        let included: Vec<&(&str, &str, bool, String)> =
            classes.iter().filter(|(_, _, on, _)| *on).collect();
        let usable: Vec<&&(&str, &str, bool, String)> = included
            .iter()
            .filter(|(_, _, _, chars)| chars.chars().any(|c| !excluded(c)))
            .collect();
        if usable.is_empty() {
            self.err(
                gp.clone(),
                "every character is excluded, so no value can be generated; turn one of \
                 exclude_lowercase, exclude_uppercase, exclude_numbers, exclude_punctuation off \
                 or shorten exclude_characters",
            );
            return;
        }
        if !g.require_each_included_type {
            return;
        }
        for (what, _, _, _) in included
            .iter()
            .filter(|x| !usable.iter().any(|u| **u == **x))
        {
            self.err(
                gp.key("exclude_characters"),
                format!(
                    "exclude_characters removes all {what}, but require_each_included_type asks \
                     for at least one of them; exclude that class with its exclude_* switch \
                     instead"
                ),
            );
        }
        if (1..=4096).contains(&g.length) && (g.length as usize) < included.len() {
            self.err(
                gp.key("length"),
                format!(
                    "length is {}, too short to hold one character of each of the {} included \
                     types (require_each_included_type); make it at least {}",
                    g.length,
                    included.len(),
                    included.len()
                ),
            );
        }
    }

    /// `[[services.<key>.uses]]`: the store exists, the options fit its kind, and the wiring
    /// leaves no two things with one name.
    fn uses(&mut self, skey: &str, s: &Service) {
        let c = self.c;
        let sp = service_path(skey);
        let up = sp.key("uses");
        let mut env: BTreeMap<String, String> = s
            .environment
            .keys()
            .map(|n| (n.clone(), format!("environment.{n}")))
            .collect();
        let mut mounts: Vec<(String, usize)> = Vec::new();
        let mut granted: Vec<String> = Vec::new();
        for (i, u) in s.uses.iter().enumerate() {
            let ip = up.index(i);
            let set: Vec<StoreKind> = [
                (StoreKind::Table, &u.table),
                (StoreKind::Database, &u.database),
                (StoreKind::FileSystem, &u.file_system),
                (StoreKind::Secret, &u.secret),
            ]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect();
            match set.as_slice() {
                [] => {
                    self.err(
                        ip.clone(),
                        "a `uses` entry naming no store; set exactly one of `table`, `database`, \
                         `file_system` or `secret` to the key of that store",
                    );
                    continue;
                }
                [_] => {}
                [first, rest @ ..] => {
                    for k in rest {
                        self.err(
                            ip.key(k.key()),
                            format!(
                                "a `uses` entry names one store, but this one sets both `{}` and \
                                 `{}`; split it into one entry per store",
                                first.key(),
                                k.key()
                            ),
                        );
                    }
                    continue;
                }
            }
            let Some((kind, key)) = u.target() else {
                continue;
            };
            let keys: Vec<&String> = match kind {
                StoreKind::Table => c.tables.keys().collect(),
                StoreKind::Database => c.databases.keys().collect(),
                StoreKind::FileSystem => c.file_systems.keys().collect(),
                StoreKind::Secret => c.secrets.keys().collect(),
            };
            let section = kind.section();
            let exists = keys.iter().any(|k| k.as_str() == key);
            if !exists {
                let hint = if keys.is_empty() {
                    format!("no {section} are declared; add a [{section}.{key}] section")
                } else {
                    format!("declared {section}: {}", listed(&keys))
                };
                self.err(
                    ip.key(kind.key()),
                    format!("`{key}` is not a key of [{section}]; {hint}"),
                );
            }
            if let Some(j) = s.uses[..i]
                .iter()
                .position(|o| o.target() == Some((kind, key)))
            {
                self.err(
                    ip.key(kind.key()),
                    format!(
                        "{} `{key}` is used twice by this service (also uses[{j}]); merge the two \
                         entries",
                        kind_name(kind)
                    ),
                );
            }

            // Options of other kinds.
            let given = [
                u.actions.is_some(),
                u.write.is_some(),
                u.env.is_some(),
                u.env_prefix.is_some(),
                u.path.is_some(),
            ];
            for ((option, kinds), on) in USE_OPTIONS.iter().zip(given) {
                if on && !kinds.contains(&kind) {
                    let fits: Vec<&str> = USE_OPTIONS
                        .iter()
                        .filter(|(_, ks)| ks.contains(&kind))
                        .map(|(o, _)| *o)
                        .collect();
                    self.err(
                        ip.key(*option),
                        format!(
                            "`{option}` does not apply to a {}; a {} use takes {}",
                            kind_name(kind),
                            kind_name(kind),
                            listed(&fits)
                        ),
                    );
                }
            }

            match kind {
                StoreKind::Table => {
                    granted.push(describe_use(i, u));
                    if let Some(actions) = &u.actions {
                        self.table_actions(&ip.key("actions"), actions);
                        if u.write.is_some() {
                            self.err(
                                ip.key("write"),
                                "write has no effect when actions is given (actions lists \
                                 exactly what is granted); remove write, or remove actions to \
                                 get the default read actions plus the write actions",
                            );
                        }
                    }
                }
                StoreKind::FileSystem => {
                    granted.push(describe_use(i, u));
                    match &u.path {
                        None => self.err(
                            ip.clone(),
                            format!(
                                "a file system use needs `path`, where file system `{key}` is \
                                 mounted in the container, e.g. path = \"/data\""
                            ),
                        ),
                        Some(p) => {
                            if let Some(reason) = mount_path_problem(p) {
                                self.err(
                                    ip.key("path"),
                                    format!(
                                        "path `{p}` is not a mount point ({reason}); give an \
                                         absolute directory, e.g. \"/var/www/html/wp-content\""
                                    ),
                                );
                            } else {
                                let norm = p.trim_end_matches('/').to_string();
                                if let Some((_, j)) = mounts.iter().find(|(m, _)| *m == norm) {
                                    self.err(
                                        ip.key("path"),
                                        format!(
                                            "path `{p}` is also where uses[{j}] is mounted; two \
                                             file systems cannot be mounted at one path"
                                        ),
                                    );
                                } else {
                                    mounts.push((norm, i));
                                }
                            }
                        }
                    }
                }
                StoreKind::Database | StoreKind::Secret => {}
            }

            let (option, value) = match kind {
                StoreKind::Database => ("env_prefix", &u.env_prefix),
                _ => ("env", &u.env),
            };
            let mut names_ok = true;
            if let (Some(v), true) = (value, kind != StoreKind::FileSystem) {
                let longest = if kind == StoreKind::Database {
                    format!("{v}PASSWORD")
                } else {
                    v.clone()
                };
                if !is_env_name(v) {
                    names_ok = false;
                    let what = if kind == StoreKind::Database {
                        "prefix of environment variable names"
                    } else {
                        "environment variable name"
                    };
                    self.err(
                        ip.key(option),
                        format!(
                            "`{v}` is not a valid {what}; use letters, digits and `_`, not \
                             starting with a digit (e.g. `{}`)",
                            if kind == StoreKind::Database {
                                "WORDPRESS_DB_"
                            } else {
                                "TABLE_NAME"
                            }
                        ),
                    );
                } else if longest.chars().count() > 255 {
                    names_ok = false;
                    self.err(
                        ip.key(option),
                        format!(
                            "environment variable `{longest}` is {} characters long; the limit \
                             is 255",
                            longest.chars().count()
                        ),
                    );
                }
            }
            if names_ok && store_key_problem(key).is_none() {
                let me = describe_use(i, u);
                // Clashing names, grouped by what else sets them.
                let mut clashes: Vec<(String, KeyPath, Vec<String>)> = Vec::new();
                for (name, path) in use_env_vars(u, &ip) {
                    match env.get(&name) {
                        Some(other) => match clashes.iter_mut().find(|(o, _, _)| o == other) {
                            Some((_, _, names)) => names.push(name),
                            None => clashes.push((other.clone(), path, vec![name])),
                        },
                        None => {
                            env.insert(name, me.clone());
                        }
                    }
                }
                for (other, path, names) in clashes {
                    let hint = if other.starts_with("environment.") {
                        format!("remove it from environment or set another `{option}` here")
                    } else {
                        format!("set another `{option}` here or rename the other one")
                    };
                    let (what, verb) = if names.len() == 1 {
                        ("environment variable", "is")
                    } else {
                        ("environment variables", "are")
                    };
                    self.err(
                        path,
                        format!(
                            "{what} {} of {me} {verb} also set by {other}; {hint}",
                            listed(&names)
                        ),
                    );
                }
            }
        }
        if let (Some(_), false) = (&s.task_role, granted.is_empty()) {
            self.err(
                sp.key("task_role"),
                format!(
                    "task_role names an existing role, but {} need(s) a grant on the task role, \
                     which ecsdeploy cannot add to a role it does not own; remove task_role \
                     (ecsdeploy then creates {} with exactly those grants) or remove those `uses` \
                     entries and grant the access in your role yourself",
                    granted.join(", "),
                    c.task_role_name(skey)
                ),
            );
        }
    }

    fn table_actions(&mut self, ap: &KeyPath, actions: &[String]) {
        let hint = "list the actions the service needs, e.g. [\"dynamodb:GetItem\", \
                    \"dynamodb:Query\"], or omit actions to get the read actions (BatchGetItem, \
                    DescribeTable, GetItem, Query, Scan; with write = true also BatchWriteItem, \
                    DeleteItem, PutItem, UpdateItem)";
        if actions.is_empty() {
            self.err(
                ap.clone(),
                format!("actions is empty, which grants nothing; {hint}"),
            );
        }
        for (j, a) in actions.iter().enumerate() {
            let xp = ap.index(j);
            if a.contains('*') {
                self.err(
                    xp,
                    format!(
                        "`{a}` is a wildcard; a table use grants only named actions (least \
                         privilege): {hint}"
                    ),
                );
                continue;
            }
            let valid = a.strip_prefix("dynamodb:").is_some_and(|act| {
                act.starts_with(|c: char| c.is_ascii_uppercase())
                    && act.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !valid {
                self.err(
                    xp,
                    format!(
                        "`{a}` is not a DynamoDB action; write `dynamodb:<Action>`, e.g. \
                         `dynamodb:GetItem` (grants on other services belong in task_policy)"
                    ),
                );
            } else if let Some(k) = actions[..j].iter().position(|o| o == a) {
                self.err(xp, format!("`{a}` is listed twice (also actions[{k}])"));
            }
        }
    }
}

/// Warnings about the data stores: unused ones, deletion protection turned off, no
/// backups, ambiguous secret names, an imported execution role that must read secrets,
/// and plain environment values that look like credentials.
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

pub(super) fn warnings(c: &Config) -> Vec<Problem> {
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
                    "the master password secret RDS creates for databases.{key} (`rds!db-...`)"
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
        let containers = std::iter::once((sp.key("environment"), &s.environment)).chain(
            s.sidecars.iter().enumerate().map(|(i, sc)| {
                (
                    sp.key("sidecars").index(i).key("environment"),
                    &sc.environment,
                )
            }),
        );
        for (ep, env) in containers {
            for (name, value) in env {
                if super::looks_secret(name) {
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
    use std::path::Path;

    use super::*;
    use crate::config::{load_str, Diagnostic};

    /// `app` on line 1, `region` on line 2.
    const BASE: &str = "app = \"demo\"\nregion = \"ap-northeast-1\"\n";

    fn diags(text: &str) -> Vec<Diagnostic> {
        match load_str(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics,
        }
    }

    fn warns(text: &str) -> Vec<Diagnostic> {
        match load_str(text, Path::new("t.toml")) {
            Ok(l) => l.warnings,
            Err(e) => panic!("unexpected errors: {e}"),
        }
    }

    /// Asserts `text` has exactly one problem, at `key`, whose message contains `msg`.
    #[track_caller]
    fn one(text: &str, key: &str, msg: &str) -> Diagnostic {
        let d = diags(text);
        assert_eq!(d.len(), 1, "expected exactly one problem, got {d:#?}");
        assert_eq!(d[0].key, key, "{d:#?}");
        assert!(
            d[0].message.contains(msg),
            "message {:?} does not contain {msg:?}",
            d[0].message
        );
        d[0].clone()
    }

    /// Asserts `text` has exactly one warning, at `key`, containing `msg`.
    #[track_caller]
    fn one_warning(text: &str, key: &str, msg: &str) -> Diagnostic {
        let w = warns(text);
        assert_eq!(w.len(), 1, "expected exactly one warning, got {w:#?}");
        assert_eq!(w[0].key, key, "{w:#?}");
        assert!(
            w[0].message.contains(msg),
            "message {:?} does not contain {msg:?}",
            w[0].message
        );
        w[0].clone()
    }

    /// BASE, a service `web` (lines 5-6) using `uses`, then `rest` (from line 7 + the
    /// number of lines of `uses`).
    fn with(uses: &str, rest: &str) -> String {
        format!("{BASE}[services.web]\nimage = \"nginx\"\n{uses}{rest}")
    }

    const TABLE: &str = "[tables.music]\nhash_key = { name = \"Artist\" }\n";
    const USE_TABLE: &str = "uses = [{ table = \"music\" }]\n";

    /// A used table with `body` after its hash_key (line 10 on).
    fn table(body: &str) -> String {
        with(USE_TABLE, &format!("{TABLE}{body}"))
    }

    /// A used database with `body` after its engine (line 10 on).
    fn db(body: &str) -> String {
        with(
            "uses = [{ database = \"db\" }]\n",
            &format!("[databases.db]\nengine = \"mysql\"\n{body}"),
        )
    }

    fn pg(body: &str) -> String {
        with(
            "uses = [{ database = \"db\" }]\n",
            &format!("[databases.db]\nengine = \"postgres\"\n{body}"),
        )
    }

    /// A used file system with `body` in its table (line 9 on).
    fn fs(body: &str) -> String {
        with(
            "uses = [{ file_system = \"files\", path = \"/data\" }]\n",
            &format!("[file_systems.files]\n{body}"),
        )
    }

    /// A used secret with `body` in its table (line 9 on).
    fn secret(body: &str) -> String {
        with(
            "uses = [{ secret = \"token\" }]\n",
            &format!("[secrets.token]\n{body}"),
        )
    }

    const WORDPRESS: &str = include_str!("../../../config/examples/wordpress.toml");
    const DYNAMODB: &str = include_str!("../../../config/examples/dynamodb-webapp.toml");

    #[test]
    fn examples_are_valid_without_warnings() {
        for text in [WORDPRESS, DYNAMODB] {
            // The seed file of the DynamoDB example is read relative to the config.
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/x.toml");
            let loaded = load_str(text, &path).unwrap_or_else(|e| panic!("{e}"));
            assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
        }
    }

    #[test]
    fn valid_stores_have_no_problems() {
        let text = with(
            "[[services.web.uses]]\ntable = \"music\"\nwrite = true\nenv = \"MUSIC\"\n\
             [[services.web.uses]]\ndatabase = \"db\"\n\
             [[services.web.uses]]\ndatabase = \"other\"\nenv_prefix = \"OTHER_\"\n\
             [[services.web.uses]]\nfile_system = \"files\"\npath = \"/srv/files/\"\nwrite = false\n\
             [[services.web.uses]]\nsecret = \"api-token\"\n\
             [[services.web.uses]]\nsecret = \"old\"\nenv = \"OLD\"\n",
            "[tables.music]\nhash_key = { name = \"Artist\" }\nrange_key = { name = \"Song\", type = \"N\" }\n\
             billing = \"provisioned\"\nread_capacity = 2\nttl_attribute = \"expires\"\n\
             [[tables.music.indexes]]\nname = \"by-year\"\nhash_key = { name = \"Year\", type = \"N\" }\n\
             range_key = { name = \"Song\", type = \"N\" }\nprojection = \"INCLUDE\"\ninclude = [\"Album\"]\n\
             write_capacity = 3\n\
             [databases.db]\nengine = \"postgres\"\nengine_version = \"16.4\"\ninstance_class = \"db.r6g.16xlarge\"\n\
             storage_type = \"gp2\"\nallocated_storage = 100\nusername = \"postgres\"\ndb_name = \"Shop_1\"\n\
             [databases.other]\nengine = \"mysql\"\nengine_version = \"8.4\"\nidentifier = \"Other-DB\"\n\
             [file_systems.files]\nperformance_mode = \"maxIO\"\naccess_point = { path = \"/a/b/c/d\", permissions = \"0750\", uid = 4294967295 }\n\
             [secrets.api-token]\ngenerate = { length = 5, exclude_characters = \"abc\" }\n\
             [secrets.old]\nexisting = \"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/x-AbCdEf\"\n",
        );
        assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
        assert!(warns(&text).is_empty(), "{:#?}", warns(&text));
    }

    // --- store keys

    #[test]
    fn store_key_charset() {
        let d = one(
            &with(
                "uses = [{ table = \"My_Table\" }]\n",
                "[tables.My_Table]\nhash_key = { name = \"Id\" }\n",
            ),
            "tables.My_Table",
            "table key `My_Table` is invalid (it contains `M`); store keys are 1 to 32 lowercase",
        );
        assert_eq!((d.line, d.col), (6, 9));
        one(
            &with(
                "uses = [{ secret = \"1x\" }]\n",
                "[secrets.1x]\nexisting = \"x\"\n",
            ),
            "secrets.1x",
            "it does not start with a lowercase letter",
        );
        let long = "a".repeat(33);
        one(
            &with(
                &format!("uses = [{{ file_system = \"{long}\", path = \"/d\" }}]\n"),
                &format!("[file_systems.{long}]\n"),
            ),
            &format!("file_systems.{long}"),
            "it is 33 characters long",
        );
    }

    // --- tables

    #[test]
    fn table_name_rules() {
        let d = one(
            &table("name = \"ab\"\n"),
            "tables.music.name",
            "`ab` is not a valid DynamoDB table name (it is 2 character(s) long, the minimum is 3)",
        );
        assert_eq!((d.line, d.col), (8, 1));
        one(
            &table("name = \"a b c\"\n"),
            "tables.music.name",
            "it contains ` `",
        );
    }

    #[test]
    fn duplicate_table_names() {
        one(
            &with(
                "uses = [{ table = \"a\" }, { table = \"b\" }]\n",
                "[tables.a]\nhash_key = { name = \"Id\" }\n[tables.b]\nname = \"demo-a\"\nhash_key = { name = \"Id\" }\n",
            ),
            "tables.b.name",
            "table name `demo-a` is also the name of tables.a",
        );
    }

    #[test]
    fn key_attribute_names() {
        let d = one(
            &with(USE_TABLE, "[tables.music]\nhash_key = { name = \"\" }\n"),
            "tables.music.hash_key.name",
            "the key attribute name is 0 characters long; it must be 1 to 255",
        );
        assert_eq!((d.line, d.col), (7, 14));
        one(
            &table(&format!(
                "range_key = {{ name = \"{}\" }}\n",
                "x".repeat(256)
            )),
            "tables.music.range_key.name",
            "256 characters long",
        );
    }

    #[test]
    fn range_key_must_differ_from_hash_key() {
        one(
            &table("range_key = { name = \"Artist\" }\n"),
            "tables.music.range_key.name",
            "range_key `Artist` is also the hash_key",
        );
    }

    #[test]
    fn capacities_only_with_provisioned_billing() {
        let d = one(
            &table("read_capacity = 5\n"),
            "tables.music.read_capacity",
            "read_capacity only applies to billing = \"provisioned\"",
        );
        assert_eq!((d.line, d.col), (8, 1));
        one(
            &table("billing = \"on-demand\"\nwrite_capacity = 5\n"),
            "tables.music.write_capacity",
            "an on-demand table has no capacity",
        );
        one(
            &table("billing = \"provisioned\"\nwrite_capacity = 0\n"),
            "tables.music.write_capacity",
            "write_capacity is 0; a provisioned table needs at least 1",
        );
        // Provisioned without capacities: the default (5) applies.
        assert!(diags(&table("billing = \"provisioned\"\n")).is_empty());
    }

    #[test]
    fn ttl_attribute_not_empty() {
        one(
            &table("ttl_attribute = \"\"\n"),
            "tables.music.ttl_attribute",
            "ttl_attribute is 0 characters long",
        );
    }

    fn index(body: &str) -> String {
        table(&format!(
            "[[tables.music.indexes]]\nname = \"by-album\"\nhash_key = {{ name = \"Album\" }}\n{body}"
        ))
    }

    #[test]
    fn index_names() {
        one(
            &table("[[tables.music.indexes]]\nname = \"ix\"\nhash_key = { name = \"A\" }\n"),
            "tables.music.indexes[0].name",
            "`ix` is not a valid index name",
        );
        let d = one(
            &index("[[tables.music.indexes]]\nname = \"by-album\"\nhash_key = { name = \"B\" }\n"),
            "tables.music.indexes[1].name",
            "index name `by-album` is used twice (also indexes[0])",
        );
        assert_eq!((d.line, d.col), (12, 1));
    }

    #[test]
    fn at_most_twenty_indexes() {
        let many: String = (0..21)
            .map(|i| format!("[[tables.music.indexes]]\nname = \"ix{i:02}\"\nhash_key = {{ name = \"A\" }}\n"))
            .collect();
        one(
            &table(&many),
            "tables.music.indexes",
            "21 indexes; a table has at most 20 global secondary indexes",
        );
    }

    #[test]
    fn include_needs_include_projection() {
        one(
            &index("include = [\"Year\"]\n"),
            "tables.music.indexes[0].include",
            "include only applies to projection = \"INCLUDE\", but the projection is \"ALL\"",
        );
        one(
            &index("projection = \"INCLUDE\"\n"),
            "tables.music.indexes[0].projection",
            "projection = \"INCLUDE\" needs the attributes",
        );
        one(
            &index("projection = \"INCLUDE\"\ninclude = [\"Year\", \"Year\"]\n"),
            "tables.music.indexes[0].include[1]",
            "`Year` is listed twice (also include[0])",
        );
        assert!(diags(&index("projection = \"KEYS_ONLY\"\n")).is_empty());
    }

    #[test]
    fn at_most_100_projected_attributes() {
        let attrs: Vec<String> = (0..101).map(|i| format!("\"a{i}\"")).collect();
        one(
            &index(&format!(
                "projection = \"INCLUDE\"\ninclude = [{}]\n",
                attrs.join(", ")
            )),
            "tables.music.indexes",
            "the indexes project 101 non-key attributes",
        );
    }

    #[test]
    fn index_capacities_only_when_provisioned() {
        one(
            &index("read_capacity = 1\n"),
            "tables.music.indexes[0].read_capacity",
            "an on-demand index has no capacity to set",
        );
    }

    #[test]
    fn index_range_key_must_differ_from_its_hash_key() {
        one(
            &index("range_key = { name = \"Album\" }\n"),
            "tables.music.indexes[0].range_key.name",
            "is also the index's hash_key",
        );
    }

    #[test]
    fn attribute_types_must_agree() {
        let d = one(
            &index("range_key = { name = \"Artist\", type = \"N\" }\n"),
            "tables.music.indexes[0].range_key.type",
            "attribute `Artist` is type N here but type S in hash_key",
        );
        assert_eq!((d.line, d.col), (11, 32));
        // Without a `type` the default S counts, located at the key attribute.
        let text = table(
            "range_key = { name = \"Song\", type = \"B\" }\n\
             [[tables.music.indexes]]\nname = \"by-song\"\nhash_key = { name = \"Song\" }\n",
        );
        let d = one(
            &text,
            "tables.music.indexes[0].hash_key.type",
            "attribute `Song` is type S here but type B in range_key",
        );
        assert_eq!((d.line, d.col), (11, 1));
        // Across two indexes.
        one(
            &index(
                "[[tables.music.indexes]]\nname = \"by-album-2\"\nhash_key = { name = \"Album\", type = \"N\" }\n",
            ),
            "tables.music.indexes[1].hash_key.type",
            "type S in indexes[0].hash_key",
        );
    }

    // --- databases

    #[test]
    fn database_identifier_rules() {
        let d = one(
            &db("identifier = \"1db\"\n"),
            "databases.db.identifier",
            "`1db` is not a valid RDS instance identifier (it does not start with a letter)",
        );
        assert_eq!((d.line, d.col), (8, 1));
        one(
            &db("identifier = \"a--b\"\n"),
            "databases.db.identifier",
            "it contains `--`",
        );
        one(
            &db("identifier = \"ab-\"\n"),
            "databases.db.identifier",
            "it ends with a hyphen",
        );
        one(
            &db("identifier = \"a_b\"\n"),
            "databases.db.identifier",
            "it contains `_`",
        );
        one(
            &db(&format!("identifier = \"{}\"\n", "a".repeat(64))),
            "databases.db.identifier",
            "it is 64 characters long",
        );
        // A derived identifier from a key ending with a hyphen.
        one(
            &with("uses = [{ database = \"db-\" }]\n", "[databases.db-]\nengine = \"mysql\"\n"),
            "databases.db-",
            "`demo-db-` is not a valid RDS instance identifier (the default `<app>-<key>`; set identifier)",
        );
    }

    #[test]
    fn duplicate_identifiers_ignore_case() {
        one(
            &with(
                "uses = [{ database = \"a\" }, { database = \"b\", env_prefix = \"B_\" }]\n",
                "[databases.a]\nengine = \"mysql\"\n[databases.b]\nengine = \"mysql\"\nidentifier = \"Demo-A\"\n",
            ),
            "databases.b.identifier",
            "instance identifier `demo-a` is also the identifier of databases.a",
        );
    }

    #[test]
    fn engine_versions() {
        one(
            &db("engine_version = \"5.6\"\n"),
            "databases.db.engine_version",
            "MySQL 5.6 (engine_version `5.6`) is not a version RDS offers; RDS offers MySQL 5.7, 8.0, 8.4",
        );
        one(
            &db("engine_version = \"8\"\n"),
            "databases.db.engine_version",
            "`8` is not a MySQL engine version",
        );
        one(
            &db("engine_version = \"8.0.x\"\n"),
            "databases.db.engine_version",
            "digits separated by dots",
        );
        one(
            &pg("engine_version = \"9.6\"\n"),
            "databases.db.engine_version",
            "PostgreSQL 9 (engine_version `9.6`) is not a version RDS offers; RDS offers PostgreSQL 11, 12, 13, 14, 15, 16, 17",
        );
        one(
            &pg("engine_version = \"16.4.1\"\n"),
            "databases.db.engine_version",
            "`16.4.1` is not a PostgreSQL engine version",
        );
        for ok in ["5.7", "8.0", "8.0.39", "8.4.3"] {
            assert!(
                diags(&db(&format!("engine_version = \"{ok}\"\n"))).is_empty(),
                "{ok}"
            );
        }
        for ok in ["11", "17", "16.4"] {
            assert!(
                diags(&pg(&format!("engine_version = \"{ok}\"\n"))).is_empty(),
                "{ok}"
            );
        }
    }

    #[test]
    fn instance_classes() {
        one(
            &db("instance_class = \"t4g.micro\"\n"),
            "databases.db.instance_class",
            "`t4g.micro` is not an RDS instance class; instance classes are `db.<family>.<size>`",
        );
        one(
            &db("instance_class = \"db.t2.micro\"\n"),
            "databases.db.instance_class",
            "`db.t2.micro` is not an instance class RDS offers for mysql: there is no family `t2`; use one of the families t3, t4g,",
        );
        one(
            &db("instance_class = \"db.m5.micro\"\n"),
            "databases.db.instance_class",
            "`db.m5.micro` does not exist: db.m5 comes in the sizes large, xlarge,",
        );
        one(
            &pg("instance_class = \"db.t3.4xlarge\"\n"),
            "databases.db.instance_class",
            "db.t3 comes in the sizes micro, small, medium, large, xlarge, 2xlarge",
        );
        for ok in [
            "db.t3.micro",
            "db.m6i.32xlarge",
            "db.r7g.large",
            "db.m7i.48xlarge",
        ] {
            assert!(
                diags(&db(&format!("instance_class = \"{ok}\"\n"))).is_empty(),
                "{ok}"
            );
        }
    }

    #[test]
    fn storage() {
        one(
            &db("storage_type = \"standard\"\n"),
            "databases.db.storage_type",
            "`standard` is not a storage type ecsdeploy configures; use `gp3` (the default) or `gp2`",
        );
        one(
            &db("allocated_storage = 10\n"),
            "databases.db.allocated_storage",
            "allocated_storage is 10 GiB; gp3 storage for mysql must be 20 to 65536 GiB",
        );
        one(
            &db("storage_type = \"io1\"\n"),
            "databases.db.storage_type",
            "`io1` is not a storage type ecsdeploy configures",
        );
        one(
            &db("allocated_storage = 65537\n"),
            "databases.db.allocated_storage",
            "65537 GiB",
        );
    }

    #[test]
    fn backup_retention() {
        one(
            &db("backup_retention_days = 36\n"),
            "databases.db.backup_retention_days",
            "backup_retention_days is 36; RDS keeps automated backups 0 to 35 days",
        );
        one_warning(
            &db("backup_retention_days = 0\n"),
            "databases.db.backup_retention_days",
            "turns automated backups off",
        );
    }

    #[test]
    fn db_names() {
        one(
            &db("db_name = \"1shop\"\n"),
            "databases.db.db_name",
            "db_name `1shop` is invalid: it does not start with a letter; a database name is 1 to 64",
        );
        one(
            &pg(&format!("db_name = \"{}\"\n", "a".repeat(64))),
            "databases.db.db_name",
            "the maximum is 63",
        );
        assert!(diags(&db(&format!("db_name = \"{}\"\n", "a".repeat(64)))).is_empty());
        one(
            &db("db_name = \"my-db\"\n"),
            "databases.db.db_name",
            "it contains `-`",
        );
        one(
            &db("db_name = \"MySQL\"\n"),
            "databases.db.db_name",
            "`MySQL` is a database mysql already has",
        );
        one(
            &pg("db_name = \"postgres\"\n"),
            "databases.db.db_name",
            "`postgres` is a database postgres already has",
        );
        one(
            &db("db_name = \"select\"\n"),
            "databases.db.db_name",
            "`select` is a word reserved by mysql",
        );
        // The default db_name comes from the key.
        one(
            &with(
                "uses = [{ database = \"mysql\" }]\n",
                "[databases.mysql]\nengine = \"mysql\"\n",
            ),
            "databases.mysql",
            "db_name `mysql` (the default: the key with `-` as `_`; set db_name) is invalid",
        );
    }

    #[test]
    fn usernames() {
        one(
            &db("username = \"a_very_long_user_name\"\n"),
            "databases.db.username",
            "username `a_very_long_user_name` is invalid (it is 21 characters long, the maximum is 16)",
        );
        assert!(diags(&pg("username = \"a_very_long_user_name\"\n")).is_empty());
        one(
            &db("username = \"_app\"\n"),
            "databases.db.username",
            "it does not start with a letter",
        );
        one(
            &db("username = \"rdsadmin\"\n"),
            "databases.db.username",
            "is reserved by RDS or mysql",
        );
        one(
            &pg("username = \"pg_app\"\n"),
            "databases.db.username",
            "is reserved by RDS or postgres",
        );
        one(
            &pg("username = \"user\"\n"),
            "databases.db.username",
            "reserved",
        );
        assert!(diags(&db("username = \"admin\"\n")).is_empty());
    }

    #[test]
    fn database_in_an_imported_network_needs_private_subnets() {
        let text = "app = \"demo\"\n[network.existing]\nvpc = \"vpc-1\"\n\
                    public_subnets = [\"subnet-1\", \"subnet-2\"]\n\
                    [services.web]\nimage = \"nginx\"\nuses = [{ database = \"db\" }]\n\
                    [databases.db]\nengine = \"mysql\"\n";
        let d = one(
            text,
            "databases.db",
            "databases.db runs in private subnets, but network.existing.private_subnets is empty",
        );
        assert_eq!((d.line, d.col), (8, 12));
        let one_subnet = text.replace(
            "public_subnets",
            "private_subnets = [\"subnet-3\"]\npublic_subnets",
        );
        one(
            &one_subnet,
            "databases.db",
            "an RDS DB subnet group needs subnets in at least two availability zones",
        );
        let two = text.replace(
            "public_subnets",
            "private_subnets = [\"subnet-3\", \"subnet-4\"]\npublic_subnets",
        );
        assert!(diags(&two).is_empty(), "{:#?}", diags(&two));
    }

    #[test]
    fn database_needs_two_zones() {
        one(
            &db("").replace("[services.web]", "[network]\naz_count = 1\n[services.web]"),
            "databases.db",
            "`az_count` is 1, but an RDS DB subnet group needs subnets in at least two availability zones",
        );
    }

    #[test]
    fn stores_get_private_subnets_in_a_created_network() {
        // A public service using a database: the private subnets exist for the database.
        let text =
            "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nuses = [{ database = \"db\" }]\n\
                    [databases.db]\nengine = \"mysql\"\n";
        assert!(diags(text).is_empty(), "{:#?}", diags(text));
        let loaded = load_str(text, Path::new("t.toml")).unwrap();
        assert!(loaded.config.needs_private() && loaded.config.runs_private());
        // And NAT is not "serving nobody" then.
        let nat = text.replace(
            "[services.web]",
            "[network]\nnat = \"single\"\n[services.web]",
        );
        assert!(warns(&nat).is_empty(), "{:#?}", warns(&nat));
        let fs = "app = \"demo\"\n[file_systems.files]\n";
        let loaded = load_str(fs, Path::new("t.toml")).unwrap();
        assert!(loaded.config.needs_private());
    }

    // --- file systems

    #[test]
    fn file_system_modes() {
        let d = one(
            &fs("performance_mode = \"general\"\n"),
            "file_systems.files.performance_mode",
            "`general` is not an EFS performance mode; use `generalPurpose` (the default) or `maxIO`",
        );
        assert_eq!((d.line, d.col), (7, 1));
        one(
            &fs("throughput_mode = \"provisioned\"\n"),
            "file_systems.files.throughput_mode",
            "`provisioned` is not a throughput mode ecsdeploy configures",
        );
        one(
            &fs("performance_mode = \"maxIO\"\nthroughput_mode = \"elastic\"\n"),
            "file_systems.files.throughput_mode",
            "cannot be combined with performance_mode = \"maxIO\"",
        );
        assert!(diags(&fs("throughput_mode = \"elastic\"\n")).is_empty());
    }

    #[test]
    fn access_point_paths() {
        for (path, reason) in [
            ("data", "it is not absolute"),
            ("/", "it is the root of the file system"),
            ("/a/../b", "it contains `..`"),
            ("/a//b", "empty component"),
            ("/a/", "empty component"),
            ("/.hidden", "component `.hidden` starts with `.`"),
            ("/a/b/c/d/e", "it has 5 components, the maximum is 4"),
            ("/a$b", "it contains `$`"),
        ] {
            let d = one(
                &fs(&format!("access_point = {{ path = \"{path}\" }}\n")),
                "file_systems.files.access_point.path",
                reason,
            );
            assert_eq!((d.line, d.col), (7, 18), "{path}");
        }
        one(
            &fs(&format!(
                "access_point = {{ path = \"/{}\" }}\n",
                "a".repeat(100)
            )),
            "file_systems.files.access_point.path",
            "101 characters long",
        );
    }

    #[test]
    fn access_point_permissions() {
        for bad in ["75", "12345", "789", "rwx"] {
            one(
                &fs(&format!("access_point = {{ permissions = \"{bad}\" }}\n")),
                "file_systems.files.access_point.permissions",
                &format!("permissions `{bad}` are not octal permissions"),
            );
        }
    }

    #[test]
    fn file_system_in_an_imported_network_needs_private_subnets() {
        one(
            "app = \"demo\"\n[network.existing]\nvpc = \"vpc-1\"\npublic_subnets = [\"subnet-1\"]\n\
             [services.web]\nimage = \"nginx\"\nuses = [{ file_system = \"files\", path = \"/d\" }]\n\
             [file_systems.files]\n",
            "file_systems.files",
            "file_systems.files runs in private subnets, but network.existing.private_subnets is empty",
        );
    }

    // --- secrets

    #[test]
    fn generate_or_existing() {
        let d = one(
            &secret("description = \"x\"\n"),
            "secrets.token",
            "a secret needs `generate` (ecsdeploy creates it with a random value) or `existing`",
        );
        assert_eq!((d.line, d.col), (6, 10));
        one(
            &secret("generate = {}\nexisting = \"prod/token\"\n"),
            "secrets.token.existing",
            "`generate` and `existing` are mutually exclusive",
        );
    }

    #[test]
    fn name_and_description_only_with_generate() {
        one(
            &secret("existing = \"prod/token\"\nname = \"x\"\n"),
            "secrets.token.name",
            "name only applies to a generated secret",
        );
        one(
            &secret("existing = \"prod/token\"\ndescription = \"x\"\n"),
            "secrets.token.description",
            "description only applies to a generated secret",
        );
    }

    #[test]
    fn secret_names() {
        one(
            &secret("generate = {}\nname = \"a b\"\n"),
            "secrets.token.name",
            "`a b` is not a valid secret name (it contains ` `)",
        );
        one(
            &secret(&format!(
                "generate = {{}}\nname = \"{}\"\n",
                "a".repeat(513)
            )),
            "secrets.token.name",
            "it is 513 characters long, the maximum is 512",
        );
        one(
            &with(
                "uses = [{ secret = \"a\" }, { secret = \"b\" }]\n",
                "[secrets.a]\ngenerate = {}\n[secrets.b]\ngenerate = {}\nname = \"demo/a\"\n",
            ),
            "secrets.b.name",
            "secret name `demo/a` is also the name of secrets.a",
        );
    }

    #[test]
    fn secret_name_with_an_arn_like_suffix_warns() {
        one_warning(
            &secret("generate = {}\nname = \"prod/db-passwd\"\n"),
            "secrets.token.name",
            "secret name `prod/db-passwd` ends with a hyphen and six characters",
        );
        // The derived name too (`demo/db-secret`).
        one_warning(
            &with(
                "uses = [{ secret = \"db-secret\" }]\n",
                "[secrets.db-secret]\ngenerate = {}\n",
            ),
            "secrets.db-secret",
            "`demo/db-secret` ends with a hyphen",
        );
        assert!(warns(&secret("generate = {}\nname = \"prod/db-pass\"\n")).is_empty());
    }

    #[test]
    fn generate_length() {
        one(
            &secret("generate = { length = 0 }\n"),
            "secrets.token.generate.length",
            "length is 0; it must be 1 to 4096",
        );
        one(
            &secret("generate = { length = 4097 }\n"),
            "secrets.token.generate.length",
            "length is 4097",
        );
        one(
            &secret("generate = { length = 3 }\n"),
            "secrets.token.generate.length",
            "too short to hold one character of each of the 4 included types",
        );
        assert!(diags(&secret(
            "generate = { length = 3, require_each_included_type = false }\n"
        ))
        .is_empty());
    }

    #[test]
    fn not_every_character_excluded() {
        let d = one(
            &secret(
                "generate = { exclude_lowercase = true, exclude_uppercase = true, \
                 exclude_numbers = true, exclude_punctuation = true }\n",
            ),
            "secrets.token.generate",
            "every character is excluded",
        );
        assert_eq!((d.line, d.col), (7, 1));
        one(
            &secret(
                "generate = { exclude_lowercase = true, exclude_uppercase = true, \
                 exclude_punctuation = true, exclude_characters = \"0123456789\" }\n",
            ),
            "secrets.token.generate",
            "every character is excluded",
        );
        // A space is a character.
        assert!(diags(&secret(
            "generate = { exclude_lowercase = true, exclude_uppercase = true, \
             exclude_numbers = true, exclude_punctuation = true, include_space = true }\n",
        ))
        .is_empty());
        one(
            &secret("generate = { exclude_characters = \"0123456789\" }\n"),
            "secrets.token.generate.exclude_characters",
            "exclude_characters removes all digits, but require_each_included_type asks for at least one",
        );
    }

    #[test]
    fn existing_secrets() {
        one(
            &secret("existing = \" \"\n"),
            "secrets.token.existing",
            "existing is empty",
        );
        one(
            &secret("existing = \"arn:aws:secretsmanager:ap-northeast-1:123:secret:x\"\n"),
            "secrets.token.existing",
            "is not a Secrets Manager secret ARN (`123` is not a 12-digit account id)",
        );
        one(
            &secret("existing = \"arn:aws:ssm:ap-northeast-1:123456789012:parameter/x\"\n"),
            "secrets.token.existing",
            "the service is `ssm`, not `secretsmanager`",
        );
        one(
            &secret("existing = \"my secret\"\n"),
            "secrets.token.existing",
            "`my secret` is neither a secret ARN nor a secret name (it contains ` `)",
        );
        assert!(diags(&secret("existing = \"prod/api_key+x=y.z@w-1\"\n")).is_empty());
    }

    // --- uses

    #[test]
    fn uses_naming_no_store() {
        let d = one(
            &with("[[services.web.uses]]\nenv = \"X\"\n", ""),
            "services.web.uses[0]",
            "a `uses` entry naming no store; set exactly one of `table`, `database`, `file_system` or `secret`",
        );
        assert_eq!(d.line, 5);
    }

    #[test]
    fn uses_naming_two_stores() {
        let d = one(
            &with(
                "[[services.web.uses]]\ntable = \"music\"\nsecret = \"token\"\n",
                &format!("{TABLE}[secrets.token]\nexisting = \"x\"\n"),
            ),
            "services.web.uses[0].secret",
            "sets both `table` and `secret`; split it into one entry per store",
        );
        assert_eq!((d.line, d.col), (7, 1));
    }

    #[test]
    fn uses_unknown_store() {
        one(
            &with("uses = [{ table = \"musik\" }]\n", TABLE),
            "services.web.uses[0].table",
            "`musik` is not a key of [tables]; declared tables: `music`",
        );
        one(
            &with("uses = [{ secret = \"token\" }]\n", ""),
            "services.web.uses[0].secret",
            "`token` is not a key of [secrets]; no secrets are declared; add a [secrets.token] section",
        );
    }

    #[test]
    fn uses_options_of_other_kinds() {
        let d = one(
            &with("uses = [{ table = \"music\", path = \"/x\" }]\n", TABLE),
            "services.web.uses[0].path",
            "`path` does not apply to a table; a table use takes `actions`, `write` and `env`",
        );
        assert_eq!((d.line, d.col), (5, 28));
        one(
            &with(
                "uses = [{ database = \"db\", env = \"X\" }]\n",
                "[databases.db]\nengine = \"mysql\"\n",
            ),
            "services.web.uses[0].env",
            "a database use takes `env_prefix`",
        );
        one(
            &with(
                "uses = [{ secret = \"s\", write = true }]\n",
                "[secrets.s]\nexisting = \"x\"\n",
            ),
            "services.web.uses[0].write",
            "a secret use takes `env`",
        );
        one(
            &fs("").replace("path = \"/data\"", "path = \"/data\", actions = []"),
            "services.web.uses[0].actions",
            "a file system use takes `write` and `path`",
        );
    }

    #[test]
    fn table_actions() {
        let t = |actions: &str| {
            with(
                &format!("uses = [{{ table = \"music\", actions = {actions} }}]\n"),
                TABLE,
            )
        };
        one(
            &t("[]"),
            "services.web.uses[0].actions",
            "actions is empty, which grants nothing",
        );
        for wild in ["*", "dynamodb:*", "dynamodb:Get*"] {
            one(
                &t(&format!("[\"dynamodb:Query\", \"{wild}\"]")),
                "services.web.uses[0].actions[1]",
                "is a wildcard; a table use grants only named actions (least privilege): list the actions",
            );
        }
        one(
            &t("[\"s3:GetObject\"]"),
            "services.web.uses[0].actions[0]",
            "`s3:GetObject` is not a DynamoDB action",
        );
        one(
            &t("[\"dynamodb:scan\"]"),
            "services.web.uses[0].actions[0]",
            "not a DynamoDB action",
        );
        one(
            &t("[\"dynamodb:Scan\", \"dynamodb:Scan\"]"),
            "services.web.uses[0].actions[1]",
            "listed twice (also actions[0])",
        );
        one(
            &with(
                "uses = [{ table = \"music\", actions = [\"dynamodb:Scan\"], write = true }]\n",
                TABLE,
            ),
            "services.web.uses[0].write",
            "write has no effect when actions is given",
        );
    }

    #[test]
    fn env_names_of_uses() {
        one(
            &with("uses = [{ table = \"music\", env = \"1X\" }]\n", TABLE),
            "services.web.uses[0].env",
            "`1X` is not a valid environment variable name",
        );
        one(
            &with(
                "uses = [{ database = \"db\", env_prefix = \"DB-\" }]\n",
                "[databases.db]\nengine = \"mysql\"\n",
            ),
            "services.web.uses[0].env_prefix",
            "`DB-` is not a valid prefix of environment variable names",
        );
        one(
            &secret("existing = \"x\"\n").replace(
                "secret = \"token\"",
                &format!("secret = \"token\", env = \"{}\"", "A".repeat(256)),
            ),
            "services.web.uses[0].env",
            "is 256 characters long; the limit is 255",
        );
    }

    #[test]
    fn file_system_paths_of_uses() {
        let u = |path: &str| {
            with(
                &format!("uses = [{{ file_system = \"files\"{path} }}]\n"),
                "[file_systems.files]\n",
            )
        };
        one(
            &u(""),
            "services.web.uses[0]",
            "a file system use needs `path`",
        );
        one(
            &u(", path = \"data\""),
            "services.web.uses[0].path",
            "it is not absolute",
        );
        one(
            &u(", path = \"/\""),
            "services.web.uses[0].path",
            "it is `/`",
        );
        one(
            &u(", path = \"/a/../b\""),
            "services.web.uses[0].path",
            "it contains `..`",
        );
        one(
            &with(
                "uses = [{ file_system = \"a\", path = \"/data\" }, { file_system = \"b\", path = \"/data/\" }]\n",
                "[file_systems.a]\n[file_systems.b]\n",
            ),
            "services.web.uses[1].path",
            "path `/data/` is also where uses[0] is mounted",
        );
    }

    #[test]
    fn same_store_twice() {
        one(
            &with(
                "uses = [{ table = \"music\" }, { table = \"music\", env = \"M\" }]\n",
                TABLE,
            ),
            "services.web.uses[1].table",
            "table `music` is used twice by this service (also uses[0])",
        );
    }

    #[test]
    fn env_var_clashes() {
        // Two tables, one set explicitly to the other's default.
        one(
            &with(
                "uses = [{ table = \"music\" }, { table = \"songs\", env = \"MUSIC_TABLE\" }]\n",
                &format!("{TABLE}[tables.songs]\nhash_key = {{ name = \"Id\" }}\n"),
            ),
            "services.web.uses[1].env",
            "environment variable `MUSIC_TABLE` of uses[1] (table `songs`) is also set by uses[0] (table `music`); set another `env` here or rename the other one",
        );
        // Two databases with the default prefix.
        one(
            &with(
                "uses = [{ database = \"a\" }, { database = \"b\" }]\n",
                "[databases.a]\nengine = \"mysql\"\n[databases.b]\nengine = \"mysql\"\n",
            ),
            "services.web.uses[1]",
            "environment variables `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER` and `DB_PASSWORD` of uses[1] (database `b`) are also set by uses[0] (database `a`); set another `env_prefix` here",
        );
        // A secret and the plain environment.
        let d = one(
            &with(
                "environment = { API_TOKEN = \"x\" }\nuses = [{ secret = \"api-token\" }]\n",
                "[secrets.api-token]\nexisting = \"x\"\n",
            ),
            "services.web.uses[0]",
            "environment variable `API_TOKEN` of uses[0] (secret `api-token`) is also set by environment.API_TOKEN; remove it from environment or set another `env` here",
        );
        assert_eq!(d.line, 6);
    }

    #[test]
    fn existing_task_role_cannot_get_grants() {
        let role = "task_role = \"arn:aws:iam::123456789012:role/mine\"\n";
        let d = one(
            &with(&format!("{role}{USE_TABLE}"), TABLE),
            "services.web.task_role",
            "task_role names an existing role, but uses[0] (table `music`) need(s) a grant on the task role, which ecsdeploy cannot add to a role it does not own; remove task_role (ecsdeploy then creates demo-web-task",
        );
        assert_eq!(d.line, 5);
        // Secrets go through the execution role: fine with an existing task role.
        assert!(diags(&with(
            &format!("{role}uses = [{{ secret = \"s\" }}]\n"),
            "[secrets.s]\nexisting = \"x\"\n"
        ))
        .is_empty());
    }

    #[test]
    fn existing_execution_role_must_read_the_secrets() {
        let text = format!(
            "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/exec\"\n\
             [services.web]\nimage = \"nginx\"\nuses = [{{ secret = \"s\" }}, {{ database = \"db\" }}, {{ table = \"t\" }}]\n\
             [secrets.s]\nexisting = \"prod/s\"\n[databases.db]\nengine = \"mysql\"\n\
             [tables.t]\nhash_key = {{ name = \"Id\" }}\n"
        );
        let w = one_warning(
            &text,
            "iam.execution_role",
            "the existing execution role must allow secretsmanager:GetSecretValue on `prod/s` (secrets.s), the master password secret RDS creates for databases.db",
        );
        assert_eq!(w.line, 4);
        let tables_only = format!(
            "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/exec\"\n\
             [services.web]\nimage = \"nginx\"\n{USE_TABLE}{TABLE}"
        );
        assert!(warns(&tables_only).is_empty());
    }

    // --- warnings

    #[test]
    fn unused_stores_warn() {
        let text = format!(
            "{BASE}{TABLE}[databases.db]\nengine = \"mysql\"\n[file_systems.f]\n\
             [secrets.g]\ngenerate = {{}}\n[secrets.e]\nexisting = \"x\"\n"
        );
        let w = warns(&text);
        let keys: Vec<&str> = w.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "tables.music",
                "databases.db",
                "file_systems.f",
                "secrets.e",
                "secrets.g"
            ],
            "{w:#?}"
        );
        assert!(w[0].message.contains(
            "table `music` is not used by any service (ecsdeploy still creates it, but nothing \
             reaches it); add { table = \"music\" } to the `uses` of the service"
        ));
        assert!(w[3].message.contains("so this entry has no effect"));
        assert_eq!((w[0].line, w[0].col), (3, 9));
    }

    #[test]
    fn deletion_protection_off_warns() {
        let w = one_warning(
            &table("deletion_protection = false\n"),
            "tables.music.deletion_protection",
            "table `music` has deletion_protection = false: AWS will not refuse to delete it, so `ecsdeploy down --delete-data`",
        );
        assert_eq!(w.line, 8);
        one_warning(
            &db("deletion_protection = false\n"),
            "databases.db.deletion_protection",
            "database `db` has deletion_protection = false",
        );
    }

    #[test]
    fn secret_looking_environment_values_warn() {
        let w = warns(&with(
            "environment = { A = \"AKIAIOSFODNN7EXAMPLE\", B = \"postgres://app:hunter2@db:5432/x\", \
             C = \"Xk9pQ2vL7mN3rT8wY1bC4dF6hJ0sG5aE/zU+iO2q\", D = \"info\", \
             E = \"https://example.com/path\", F = \"3f786850e387550fdab836ed7e6dc881de23001b\", \
             G = \"ThisIsAVeryLongConfigurationValue1\", DB_PASSWORD = \"AKIAIOSFODNN7EXAMPLE\" }\n\
             [[services.web.sidecars]]\nname = \"agent\"\nimage = \"x\"\n\
             environment = { K = \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\" }\n",
            "",
        ));
        let got: Vec<(&str, bool)> = w
            .iter()
            .map(|d| (d.key.as_str(), d.message.contains("the value of")))
            .collect();
        assert_eq!(
            got,
            [
                ("services.web.environment.DB_PASSWORD", false),
                ("services.web.environment.A", true),
                ("services.web.environment.B", true),
                ("services.web.environment.C", true),
                ("services.web.sidecars[0].environment.K", true),
            ],
            "{w:#?}"
        );
        assert!(w[1].message.contains("looks like an AWS access key id"));
        assert!(w[2]
            .message
            .contains("looks like a URL with a password in it"));
        assert!(w[3].message.contains("looks like a random token"));
        assert!(w[4].message.contains("a PEM private key"));
    }

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

    #[test]
    fn all_store_problems_are_reported_at_once() {
        let text = with(
            "uses = [{ table = \"music\", actions = [\"dynamodb:*\"] }, {}]\n",
            "[tables.music]\nhash_key = { name = \"\" }\nread_capacity = 1\n\
             [databases.db]\nengine = \"mysql\"\ninstance_class = \"db.x1.huge\"\nbackup_retention_days = 40\n\
             [file_systems.f]\nthroughput_mode = \"fast\"\n\
             [secrets.s]\n",
        );
        let d = diags(&text);
        let got: Vec<(usize, &str)> = d.iter().map(|x| (x.line, x.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (5, "services.web.uses[0].actions[0]"),
                (5, "services.web.uses[1]"),
                (7, "tables.music.hash_key.name"),
                (8, "tables.music.read_capacity"),
                (11, "databases.db.instance_class"),
                (12, "databases.db.backup_retention_days"),
                (14, "file_systems.f.throughput_mode"),
                (15, "secrets.s"),
            ],
            "{d:#?}"
        );
    }

    #[test]
    fn private_users_without_nat_need_the_endpoints() {
        let base = "app = \"demo\"\n[network]\nendpoints = [\"ecr.api\", \"ecr.dkr\", \"logs\", \"s3\"]\n\
                    [services.web]\nimage = \"x.dkr.ecr.ap-northeast-1.amazonaws.com/web:1\"\nports = [80]\n\
                    subnets = \"private\"\nuses = [{ table = \"t\" }, { secret = \"k\" }]\n\
                    [tables.t]\nhash_key = { name = \"id\" }\n[secrets.k]\ngenerate = {}\n";
        let w: Vec<String> = warns(base).iter().map(|d| d.message.clone()).collect();
        assert!(
            w.iter().any(|m| m.contains("VPC endpoint `dynamodb`")),
            "{w:#?}"
        );
        assert!(
            w.iter()
                .any(|m| m.contains("VPC endpoint `secretsmanager`")),
            "{w:#?}"
        );
        let with = base.replace("\"s3\"]", "\"s3\", \"dynamodb\", \"secretsmanager\"]");
        let w: Vec<String> = warns(&with).iter().map(|d| d.message.clone()).collect();
        assert!(w.iter().all(|m| !m.contains("VPC endpoint")), "{w:#?}");
    }
}
