//! The data stores (`[tables]`, `[databases]`, `[file_systems]`, `[secrets]`) and the
//! services' `uses` entries that wire them in.

use serde::{Deserialize, Serialize};

use super::yes;

/// `[[services.<key>.uses]]`: exactly one of `table`, `database`, `file_system`, `secret`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Use {
    /// Key of a `[tables]` entry.
    pub table: Option<String>,
    /// Key of a `[databases]` entry.
    pub database: Option<String>,
    /// Key of a `[file_systems]` entry.
    pub file_system: Option<String>,
    /// Key of a `[secrets]` entry.
    pub secret: Option<String>,
    /// Table: the DynamoDB actions granted on the table (and its indexes), e.g.
    /// `["dynamodb:Scan"]`. Default: the read actions (GetItem, BatchGetItem, Query, Scan,
    /// DescribeTable); with `write = true` also PutItem, UpdateItem, DeleteItem,
    /// BatchWriteItem.
    pub actions: Option<Vec<String>>,
    /// Table: grant the write actions too (ignored when `actions` is given). File system:
    /// mount read-write. Default false for tables, true for file systems.
    pub write: Option<bool>,
    /// Table: the variable holding the table name. Default `<KEY>_TABLE` (upper case).
    /// Secret: the variable ECS fills with the secret. Default `<KEY>` (upper case).
    pub env: Option<String>,
    /// Database: prefix of the variables `HOST`, `PORT`, `NAME`, `USER` and `PASSWORD` (a
    /// secret). Default `DB_`.
    pub env_prefix: Option<String>,
    /// File system: where it is mounted in the main container.
    pub path: Option<String>,
}

impl Use {
    /// The (kind, key) this entry names, when exactly one is set.
    pub fn target(&self) -> Option<(StoreKind, &str)> {
        let all = [
            (StoreKind::Table, &self.table),
            (StoreKind::Database, &self.database),
            (StoreKind::FileSystem, &self.file_system),
            (StoreKind::Secret, &self.secret),
        ];
        let mut set = all
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)));
        let first = set.next()?;
        set.next().is_none().then_some(first)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Table,
    Database,
    FileSystem,
    Secret,
}

impl StoreKind {
    pub fn key(self) -> &'static str {
        match self {
            StoreKind::Table => "table",
            StoreKind::Database => "database",
            StoreKind::FileSystem => "file_system",
            StoreKind::Secret => "secret",
        }
    }
    /// The config section its entries live in.
    pub fn section(self) -> &'static str {
        match self {
            StoreKind::Table => "tables",
            StoreKind::Database => "databases",
            StoreKind::FileSystem => "file_systems",
            StoreKind::Secret => "secrets",
        }
    }
}

/// `[tables.<key>]`: a DynamoDB table.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Table {
    /// Table name. Default `<app>-<key>`.
    pub name: Option<String>,
    pub hash_key: KeyAttribute,
    pub range_key: Option<KeyAttribute>,
    /// `on-demand` (default) or `provisioned`.
    #[serde(default)]
    pub billing: Billing,
    /// Provisioned read capacity units (provisioned billing only).
    pub read_capacity: Option<u32>,
    /// Provisioned write capacity units (provisioned billing only).
    pub write_capacity: Option<u32>,
    /// `STANDARD` (default) or `STANDARD_INFREQUENT_ACCESS`.
    #[serde(default)]
    pub table_class: TableClass,
    /// Continuous backups with point-in-time recovery. Default false.
    #[serde(default)]
    pub point_in_time_recovery: bool,
    /// Attribute holding each item's expiry time (epoch seconds); absent = no TTL.
    pub ttl_attribute: Option<String>,
    /// Refuse DeleteTable until turned off. Default true (`down --delete-data` lifts it).
    #[serde(default = "yes")]
    pub deletion_protection: bool,
    /// Global secondary indexes.
    #[serde(default)]
    pub indexes: Vec<TableIndex>,
    /// JSON file of items in DynamoDB JSON, written once when the table is created. Path
    /// relative to the config file.
    pub seed: Option<String>,
    /// The seed file's items, read and checked by the loader.
    #[serde(skip)]
    pub seed_items: Option<SeedItems>,
}

/// Seed items as parsed from the seed file (see `seed.rs`) and the file's sha256.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeedItems {
    pub items: Vec<crate::config::seed::SeedItem>,
    pub digest: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KeyAttribute {
    pub name: String,
    /// `S` (default), `N` or `B`.
    #[serde(default, rename = "type")]
    pub attr_type: KeyType,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
pub enum KeyType {
    #[default]
    S,
    N,
    B,
}

impl KeyType {
    pub fn as_aws(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Billing {
    #[default]
    OnDemand,
    Provisioned,
}

impl Billing {
    pub fn as_aws(self) -> &'static str {
        match self {
            Billing::OnDemand => "PAY_PER_REQUEST",
            Billing::Provisioned => "PROVISIONED",
        }
    }
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TableClass {
    #[default]
    Standard,
    StandardInfrequentAccess,
}

impl TableClass {
    pub fn as_aws(self) -> &'static str {
        match self {
            TableClass::Standard => "STANDARD",
            TableClass::StandardInfrequentAccess => "STANDARD_INFREQUENT_ACCESS",
        }
    }
}

/// `[[tables.<key>.indexes]]`: a global secondary index.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TableIndex {
    pub name: String,
    pub hash_key: KeyAttribute,
    pub range_key: Option<KeyAttribute>,
    /// `ALL` (default), `KEYS_ONLY` or `INCLUDE`.
    #[serde(default)]
    pub projection: Projection,
    /// Attributes copied into the index (`projection = "INCLUDE"` only).
    #[serde(default)]
    pub include: Vec<String>,
    /// Provisioned tables: the index's capacities. Default: the table's.
    pub read_capacity: Option<u32>,
    pub write_capacity: Option<u32>,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Projection {
    #[default]
    All,
    KeysOnly,
    Include,
}

impl Projection {
    pub fn as_aws(self) -> &'static str {
        match self {
            Projection::All => "ALL",
            Projection::KeysOnly => "KEYS_ONLY",
            Projection::Include => "INCLUDE",
        }
    }
}

/// `[databases.<key>]`: an RDS instance in the private subnets.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Database {
    /// DB instance identifier. Default `<app>-<key>`.
    pub identifier: Option<String>,
    /// `mysql` or `postgres`.
    pub engine: Engine,
    /// Engine version, e.g. `8.0` (AWS picks the newest minor) or `8.0.39`. Default: `8.0`
    /// for MySQL, `16` for PostgreSQL.
    pub engine_version: Option<String>,
    /// Instance class. Default `db.t4g.micro`.
    #[serde(default = "default_db_class")]
    pub instance_class: String,
    /// Storage in GiB (20..=65536). Default 20.
    #[serde(default = "default_db_storage")]
    pub allocated_storage: u32,
    /// `gp3` (default) or `gp2`.
    #[serde(default = "default_storage_type")]
    pub storage_type: String,
    /// A standby in a second AZ. Default false.
    #[serde(default)]
    pub multi_az: bool,
    /// Days of automated backups (0..=35). Default 7.
    #[serde(default = "default_backup_days")]
    pub backup_retention_days: u32,
    /// Refuse deletion until turned off. Default true (`down --delete-data` lifts it).
    #[serde(default = "yes")]
    pub deletion_protection: bool,
    /// Name of the database created in the instance. Default: the key with `-` as `_`.
    pub db_name: Option<String>,
    /// Master user name. Default `app`. The password is generated by RDS into Secrets
    /// Manager; it is never in the config and ecsdeploy never reads it.
    #[serde(default = "default_db_user")]
    pub username: String,
}

fn default_db_class() -> String {
    "db.t4g.micro".to_string()
}

fn default_db_storage() -> u32 {
    20
}

fn default_storage_type() -> String {
    "gp3".to_string()
}

fn default_backup_days() -> u32 {
    7
}

fn default_db_user() -> String {
    "app".to_string()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Mysql,
    Postgres,
}

impl Engine {
    pub fn as_aws(self) -> &'static str {
        match self {
            Engine::Mysql => "mysql",
            Engine::Postgres => "postgres",
        }
    }
    pub fn port(self) -> u16 {
        match self {
            Engine::Mysql => 3306,
            Engine::Postgres => 5432,
        }
    }
    pub fn default_version(self) -> &'static str {
        match self {
            Engine::Mysql => "8.0",
            Engine::Postgres => "16",
        }
    }
}

impl Database {
    pub fn version(&self) -> String {
        self.engine_version
            .clone()
            .unwrap_or_else(|| self.engine.default_version().to_string())
    }
}

/// `[file_systems.<key>]`: an encrypted EFS file system with mount targets in the private
/// subnets and one access point.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FileSystem {
    /// `generalPurpose` (default) or `maxIO`.
    #[serde(default = "default_performance_mode")]
    pub performance_mode: String,
    /// `bursting` (default) or `elastic`.
    #[serde(default = "default_throughput_mode")]
    pub throughput_mode: String,
    /// The access point tasks mount through.
    #[serde(default)]
    pub access_point: AccessPoint,
}

fn default_performance_mode() -> String {
    "generalPurpose".to_string()
}

fn default_throughput_mode() -> String {
    "bursting".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AccessPoint {
    /// POSIX user id files are created as. Default 1000.
    #[serde(default = "default_posix_id")]
    pub uid: u32,
    /// POSIX group id. Default 1000.
    #[serde(default = "default_posix_id")]
    pub gid: u32,
    /// Directory the access point exposes as the root (created on first use). Default `/data`.
    #[serde(default = "default_ap_path")]
    pub path: String,
    /// Octal permissions of that directory. Default `755`.
    #[serde(default = "default_ap_permissions")]
    pub permissions: String,
}

impl Default for AccessPoint {
    fn default() -> Self {
        AccessPoint {
            uid: default_posix_id(),
            gid: default_posix_id(),
            path: default_ap_path(),
            permissions: default_ap_permissions(),
        }
    }
}

fn default_posix_id() -> u32 {
    1000
}

fn default_ap_path() -> String {
    "/data".to_string()
}

fn default_ap_permissions() -> String {
    "755".to_string()
}

/// `[secrets.<key>]`: generated (`generate`) or existing (`existing`), not both.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Secret {
    /// Secret name for a generated secret. Default `<app>/<key>`.
    pub name: Option<String>,
    /// Generate a random value when the secret is created (never again).
    pub generate: Option<Generate>,
    /// An existing secret's name or ARN; ecsdeploy only grants access to it.
    pub existing: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Generate {
    /// Characters (1..=4096). Default 32.
    #[serde(default = "default_secret_length")]
    pub length: u32,
    /// Characters never used, e.g. `"'\\` for values pasted into config files.
    #[serde(default)]
    pub exclude_characters: String,
    #[serde(default)]
    pub exclude_numbers: bool,
    #[serde(default)]
    pub exclude_punctuation: bool,
    #[serde(default)]
    pub exclude_uppercase: bool,
    #[serde(default)]
    pub exclude_lowercase: bool,
    #[serde(default)]
    pub include_space: bool,
    /// At least one character of every included type. Default true.
    #[serde(default = "yes")]
    pub require_each_included_type: bool,
}

impl Default for Generate {
    fn default() -> Self {
        Generate {
            length: default_secret_length(),
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

fn default_secret_length() -> u32 {
    32
}
