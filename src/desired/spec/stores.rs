//! Data store specs: DynamoDB tables, RDS instances, EFS file systems, secrets.

use serde_json::{json, Value};

use super::kind_spec::{sorted_vals, KindSpec};
use crate::config::SeedItem;
use crate::desired::resource::{Kind, Resolve, Val};

/// A DynamoDB key attribute: name and type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAttr {
    pub name: String,
    pub attr_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub name: String,
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// For `INCLUDE`.
    pub non_key_attributes: Vec<String>,
    /// Provisioned tables only.
    pub read_capacity: Option<u32>,
    pub write_capacity: Option<u32>,
}

/// Items written once, when the table is created (parsed and checked at load).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSpec {
    /// The file as written in the config (for messages).
    pub file: String,
    pub items: Vec<SeedItem>,
    /// sha256 of the file, recorded in the `ecsdeploy:seeded` tag once written.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub read_capacity: Option<u32>,
    pub write_capacity: Option<u32>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: String,
    pub point_in_time_recovery: bool,
    pub ttl_attribute: Option<String>,
    pub deletion_protection: bool,
    pub indexes: Vec<IndexSpec>,
    pub seed: Option<SeedSpec>,
}

fn key_schema(hash: &KeyAttr, range: Option<&KeyAttr>) -> Value {
    Value::Array(
        std::iter::once(json!({"attribute": hash.name, "type": hash.attr_type, "key": "HASH"}))
            .chain(range.map(|k| json!({"attribute": k.name, "type": k.attr_type, "key": "RANGE"})))
            .collect(),
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbSubnetGroupSpec {
    pub description: String,
    pub subnets: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbInstanceSpec {
    /// `mysql` or `postgres`.
    pub engine: String,
    /// As configured (`8.0`, `16.4`); AWS picks the newest minor of a major version.
    pub engine_version: String,
    pub instance_class: String,
    pub allocated_storage: u32,
    pub storage_type: String,
    pub multi_az: bool,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    pub db_name: String,
    pub username: String,
    pub port: u16,
    /// The subnet group (its name).
    pub subnet_group: Val,
    pub security_groups: Vec<Val>,
    /// The ARN of the generated secret that holds the master password (as RDS's own
    /// secrets do: JSON `{"username", "password"}`). Never rotated by RDS: ECS reads a
    /// secret only when a task starts, so a password RDS rotated every 7 days would leave
    /// running tasks with a stale one.
    pub password: Val,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileSystemSpec {
    /// `generalPurpose` or `maxIO`.
    pub performance_mode: String,
    /// `bursting` or `elastic`.
    pub throughput_mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountTargetSpec {
    pub file_system: Val,
    pub subnet: Val,
    pub security_groups: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessPointSpec {
    pub file_system: Val,
    pub uid: u32,
    pub gid: u32,
    /// Root directory of the access point, created with `uid:gid` and `permissions`.
    pub path: String,
    /// Octal, e.g. `755`.
    pub permissions: String,
}

/// An EFS volume mounted through an access point, with TLS and IAM authorization.
#[derive(Debug, Clone, PartialEq)]
pub struct EfsVolumeSpec {
    pub name: String,
    pub file_system: Val,
    pub access_point: Val,
}

/// A secret ecsdeploy creates with a random value (Secrets Manager's GetRandomPassword).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretSpec {
    pub description: String,
    pub length: u32,
    pub exclude_characters: String,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    pub require_each_included_type: bool,
    /// When set, the value is RDS's JSON shape `{"username": <this>, "password":
    /// <random>}` (a database's master password); otherwise the random string itself.
    pub json_username: Option<String>,
}

impl KindSpec for TableSpec {
    const KIND: Kind = Kind::DynamodbTable;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::TaskDefinition, Kind::IamRole];
    const HOLDS_DATA: bool = true;
    const IMMUTABLE: &'static [&'static str] = &["key_schema"];

    /// Normal form of a table. `seeded` appears only when the config has seed data.
    fn fields(&self, _r: &dyn Resolve) -> Value {
        let mut indexes: Vec<Value> = self
            .indexes
            .iter()
            .map(|i| {
                let mut non_key = i.non_key_attributes.clone();
                non_key.sort();
                json!({
                    "name": i.name,
                    "key_schema": key_schema(&i.hash_key, i.range_key.as_ref()),
                    "projection": i.projection,
                    "non_key_attributes": non_key,
                    "read_capacity": i.read_capacity,
                    "write_capacity": i.write_capacity,
                })
            })
            .collect();
        indexes.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_string());
        let mut v = json!({
            "key_schema": key_schema(&self.hash_key, self.range_key.as_ref()),
            "billing_mode": self.billing_mode,
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
            "table_class": self.table_class,
            "point_in_time_recovery": self.point_in_time_recovery,
            "ttl_attribute": self.ttl_attribute,
            "deletion_protection": self.deletion_protection,
            "indexes": indexes,
        });
        if self.seed.is_some() {
            v["seeded"] = json!(true);
        }
        v
    }
}

impl KindSpec for DbSubnetGroupSpec {
    const KIND: Kind = Kind::DbSubnetGroup;
    const DELETED_AFTER: &'static [Kind] = &[Kind::DbInstance];
    const HOLDS_DATA: bool = true;

    fn vals(&self) -> Vec<&Val> {
        self.subnets.iter().collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "description": self.description,
            "subnet_ids": sorted_vals(&self.subnets, r),
        })
    }
}

impl KindSpec for DbInstanceSpec {
    const KIND: Kind = Kind::DbInstance;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];
    const HOLDS_DATA: bool = true;
    const IMMUTABLE: &'static [&'static str] = &[
        "engine",
        "db_name",
        "master_username",
        "storage_encrypted",
        "db_subnet_group",
    ];

    fn vals(&self) -> Vec<&Val> {
        [&self.subnet_group, &self.password]
            .into_iter()
            .chain(self.security_groups.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "engine": self.engine,
            "engine_version": self.engine_version,
            "instance_class": self.instance_class,
            "allocated_storage": self.allocated_storage,
            "storage_type": self.storage_type,
            "storage_encrypted": true,
            "multi_az": self.multi_az,
            "backup_retention_days": self.backup_retention_days,
            "deletion_protection": self.deletion_protection,
            "db_name": self.db_name,
            "master_username": self.username,
            "port": self.port,
            "publicly_accessible": false,
            "db_subnet_group": r.val(&self.subnet_group),
            "security_groups": sorted_vals(&self.security_groups, r),
            "password_rotated_by_rds": false,
        })
    }
}

impl KindSpec for FileSystemSpec {
    const KIND: Kind = Kind::FileSystem;
    const DELETED_AFTER: &'static [Kind] = &[Kind::MountTarget, Kind::AccessPoint];
    const HOLDS_DATA: bool = true;
    const IMMUTABLE: &'static [&'static str] = &["encrypted", "performance_mode"];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({
            "encrypted": true,
            "performance_mode": self.performance_mode,
            "throughput_mode": self.throughput_mode,
        })
    }
}

impl KindSpec for MountTargetSpec {
    const KIND: Kind = Kind::MountTarget;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];
    const HOLDS_DATA: bool = true;
    const IMMUTABLE: &'static [&'static str] = &["file_system_id", "subnet_id"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.file_system)
            .chain(std::iter::once(&self.subnet))
            .chain(self.security_groups.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "file_system_id": r.val(&self.file_system),
            "subnet_id": r.val(&self.subnet),
            "security_groups": sorted_vals(&self.security_groups, r),
        })
    }
}

impl KindSpec for AccessPointSpec {
    const KIND: Kind = Kind::AccessPoint;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];
    const HOLDS_DATA: bool = true;
    const IMMUTABLE: &'static [&'static str] = &["file_system_id", "posix_user", "root_directory"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.file_system]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "file_system_id": r.val(&self.file_system),
            "posix_user": {"uid": self.uid, "gid": self.gid},
            "root_directory": {
                "path": self.path,
                "owner_uid": self.uid,
                "owner_gid": self.gid,
                "permissions": self.permissions,
            },
        })
    }
}

impl KindSpec for SecretSpec {
    const KIND: Kind = Kind::Secret;
    /// A database's master password outlives the database.
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::TaskDefinition,
        Kind::IamRole,
        Kind::DbInstance,
    ];
    const HOLDS_DATA: bool = true;

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({ "description": self.description })
    }
}
