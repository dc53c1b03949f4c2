//! Data stores (DynamoDB tables, RDS databases, EFS file systems, secrets) and how they are
//! wired into the services that `use` them: environment variables, task-definition
//! secrets and volumes, and IAM grants scoped to exactly those resources (pure).

use std::collections::BTreeMap;

use super::env::Env;
use super::ids::*;
use super::network::Net;
use super::resource::{Attr, Ref, ResourceId, Val};
use super::spec::*;
use crate::config::{env_name, Config, StoreKind, SubnetKind, Use};

/// DynamoDB actions a `uses` entry grants by default (read) and with `write = true`.
pub const TABLE_READ_ACTIONS: [&str; 5] = [
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
pub const TABLE_WRITE_ACTIONS: [&str; 4] = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

/// What the stores a service uses add to its task definition and roles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wiring {
    pub environment: Vec<(String, Val)>,
    pub secrets: Vec<(String, Val)>,
    pub mount_points: Vec<MountPointSpec>,
    pub volumes: Vec<EfsVolumeSpec>,
    /// Grants of the service's task role.
    pub task_statements: Vec<PolicyStatement>,
    /// Resources the service must come after without referencing them (mount targets).
    pub after: Vec<ResourceId>,
}

/// The stores' resources, and the wiring of each service (by key).
#[derive(Debug, Clone, Default)]
pub struct Stores {
    pub wiring: BTreeMap<String, Wiring>,
    /// Secrets the execution role must read (ARNs, or references to them).
    pub execution_secrets: Vec<Val>,
    /// Databases whose master password secret the execution role must read, by key: granted by
    /// a policy of their own ([`db_secret_policy_id`]), so that only the services that use
    /// a database wait for it.
    pub databases: std::collections::BTreeSet<String>,
}

/// The security groups a service's tasks run with, as references or literal ids.
pub fn service_groups(c: &Config, env: &Env, key: &str) -> Vec<Val> {
    let s = &c.services[key];
    if s.security_groups.is_empty() {
        vec![Val::Ref(Ref::id(&service_sg_id(key)))]
    } else {
        s.security_groups
            .iter()
            .map(|g| env.imported_sg(g))
            .collect()
    }
}

/// The secret that holds database `key`'s master password: generated once by Secrets
/// Manager and never rotated (see [`DbInstanceSpec::password`]). Letters and digits only,
/// 32 of them (about 190 bits; MySQL allows at most 41 characters): RDS refuses `/`, `"`,
/// `@` and spaces, and apps that put the password into a connection URL or a shell
/// command break on other punctuation.
fn db_password(c: &Config, key: &str, username: &str) -> Resource {
    Resource {
        id: db_password_id(key),
        name: c.db_password_name(key),
        spec: Spec::Secret(SecretSpec {
            description: format!("ecsdeploy {} database {key} master password", c.app),
            length: 32,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: true,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
            json_username: Some(username.to_string()),
        }),
    }
}

pub fn build(c: &Config, env: &Env, net: &Net, out: &mut Vec<Resource>) -> Stores {
    let users = |kind: StoreKind, store: &str| -> Vec<Val> {
        c.services
            .iter()
            .filter(|(_, s)| s.uses.iter().any(|u| u.target() == Some((kind, store))))
            .flat_map(|(k, _)| service_groups(c, env, k))
            .collect()
    };
    for (key, t) in &c.tables {
        out.push(table(c, key, t));
    }
    let private = net.subnets(SubnetKind::Private);
    for (key, d) in &c.databases {
        let sg = db_sg_id(key);
        out.push(store_sg(
            net,
            sg.clone(),
            c.db_sg_name(key),
            format!("ecsdeploy {} database {key}", c.app),
            d.engine.port(),
            users(StoreKind::Database, key),
        ));
        out.push(Resource {
            id: db_subnet_group_id(key),
            name: c.db_subnet_group_name(key),
            spec: Spec::DbSubnetGroup(DbSubnetGroupSpec {
                description: format!("ecsdeploy {} database {key}", c.app),
                subnets: private.clone(),
            }),
        });
        out.push(db_password(c, key, &d.username));
        out.push(Resource {
            id: db_instance_id(key),
            name: c.db_identifier(key),
            spec: Spec::DbInstance(DbInstanceSpec {
                engine: d.engine.as_aws().to_string(),
                engine_version: d.version(),
                instance_class: d.instance_class.clone(),
                allocated_storage: d.allocated_storage,
                storage_type: d.storage_type.clone(),
                multi_az: d.multi_az,
                backup_retention_days: d.backup_retention_days,
                deletion_protection: d.deletion_protection,
                db_name: c.db_name(key),
                username: d.username.clone(),
                port: d.engine.port(),
                subnet_group: Val::Ref(Ref::id(&db_subnet_group_id(key))),
                security_groups: vec![Val::Ref(Ref::id(&sg))],
                password: Val::Ref(Ref::arn(&db_password_id(key))),
            }),
        });
    }
    for (key, f) in &c.file_systems {
        let sg = efs_sg_id(key);
        out.push(store_sg(
            net,
            sg.clone(),
            c.efs_sg_name(key),
            format!("ecsdeploy {} file system {key}", c.app),
            2049,
            users(StoreKind::FileSystem, key),
        ));
        let fs = Val::Ref(Ref::id(&file_system_id(key)));
        out.push(Resource {
            id: file_system_id(key),
            name: c.file_system_name(key),
            spec: Spec::FileSystem(FileSystemSpec {
                performance_mode: f.performance_mode.clone(),
                throughput_mode: f.throughput_mode.clone(),
            }),
        });
        for (i, subnet) in private.iter().enumerate() {
            out.push(Resource {
                id: mount_target_id(key, i),
                name: format!(
                    "{}-{}",
                    c.file_system_name(key),
                    crate::config::az_letter(i)
                ),
                spec: Spec::MountTarget(MountTargetSpec {
                    file_system: fs.clone(),
                    subnet: subnet.clone(),
                    security_groups: vec![Val::Ref(Ref::id(&sg))],
                }),
            });
        }
        out.push(Resource {
            id: access_point_id(key),
            name: c.file_system_name(key),
            spec: Spec::AccessPoint(AccessPointSpec {
                file_system: fs,
                uid: f.access_point.uid,
                gid: f.access_point.gid,
                path: f.access_point.path.clone(),
                permissions: f.access_point.permissions.clone(),
            }),
        });
    }
    for (key, s) in &c.secrets {
        if let Some(g) = &s.generate {
            out.push(Resource {
                id: secret_id(key),
                name: c.secret_name(key),
                spec: Spec::Secret(SecretSpec {
                    description: s
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("ecsdeploy {} secret {key}", c.app)),
                    length: g.length,
                    exclude_characters: g.exclude_characters.clone(),
                    exclude_numbers: g.exclude_numbers,
                    exclude_punctuation: g.exclude_punctuation,
                    exclude_uppercase: g.exclude_uppercase,
                    exclude_lowercase: g.exclude_lowercase,
                    include_space: g.include_space,
                    require_each_included_type: g.require_each_included_type,
                    json_username: None,
                }),
            });
        }
    }

    let mut stores = Stores::default();
    for (key, s) in &c.services {
        let mut w = Wiring::default();
        for u in &s.uses {
            wire(c, env, net, u, &mut w, &mut stores);
        }
        w.environment.sort_by(|a, b| a.0.cmp(&b.0));
        w.secrets.sort_by(|a, b| a.0.cmp(&b.0));
        stores.wiring.insert(key.clone(), w);
    }
    stores.execution_secrets.sort();
    stores.execution_secrets.dedup();
    stores
}

/// The value ECS reads a secret from: a generated secret's ARN, or an existing one's
/// (resolved to its full ARN at `up`).
pub fn secret_val(c: &Config, env: &Env, key: &str) -> Val {
    match c.secrets.get(key).and_then(|s| s.existing.as_ref()) {
        Some(written) => Val::lit(
            env.secrets
                .get(written)
                .cloned()
                .unwrap_or_else(|| written.clone()),
        ),
        None => Val::Ref(Ref::arn(&secret_id(key))),
    }
}

fn wire(c: &Config, env: &Env, net: &Net, u: &Use, w: &mut Wiring, stores: &mut Stores) {
    let exec = &mut stores.execution_secrets;
    let Some((kind, key)) = u.target() else {
        return;
    };
    match kind {
        StoreKind::Table => {
            let Some(t) = c.tables.get(key) else { return };
            let id = table_id(key);
            w.environment.push((
                u.env
                    .clone()
                    .unwrap_or_else(|| format!("{}_TABLE", env_name(key))),
                Val::lit(c.table_name(key)),
            ));
            let actions: Vec<String> = match &u.actions {
                Some(a) => a.clone(),
                None => TABLE_READ_ACTIONS
                    .iter()
                    .chain(if u.write == Some(true) {
                        TABLE_WRITE_ACTIONS.iter()
                    } else {
                        [].iter()
                    })
                    .map(|s| s.to_string())
                    .collect(),
            };
            let resources = std::iter::once(Val::Ref(Ref::arn(&id)))
                .chain(
                    t.indexes
                        .iter()
                        .map(|i| Val::Suffixed(Ref::arn(&id), format!("/index/{}", i.name))),
                )
                .collect();
            w.task_statements.push(PolicyStatement {
                effect: "Allow".to_string(),
                actions,
                resources,
            });
        }
        StoreKind::Database => {
            let Some(d) = c.databases.get(key) else {
                return;
            };
            let id = db_instance_id(key);
            let p = u.env_prefix.clone().unwrap_or_else(|| "DB_".to_string());
            w.environment.extend([
                (format!("{p}HOST"), Val::Ref(Ref::attr(&id, Attr::Endpoint))),
                (format!("{p}PORT"), Val::Ref(Ref::attr(&id, Attr::Port))),
                (format!("{p}NAME"), Val::lit(c.db_name(key))),
                (format!("{p}USER"), Val::lit(&d.username)),
            ]);
            // The master password's secret is JSON {"username", "password"}, as RDS's are.
            w.secrets.push((
                format!("{p}PASSWORD"),
                Val::Suffixed(Ref::arn(&db_password_id(key)), ":password::".to_string()),
            ));
            // The execution role reads it through a policy of its own, so that services
            // that use no database never wait for one; the role an existing ARN names is
            // the user's to grant.
            if c.iam.execution_role.is_none() {
                stores.databases.insert(key.to_string());
                w.after.push(db_secret_policy_id(key));
            }
        }
        StoreKind::FileSystem => {
            if !c.file_systems.contains_key(key) {
                return;
            }
            let fs = file_system_id(key);
            let write = u.write.unwrap_or(true);
            w.volumes.push(EfsVolumeSpec {
                name: key.to_string(),
                file_system: Val::Ref(Ref::id(&fs)),
                access_point: Val::Ref(Ref::id(&access_point_id(key))),
            });
            w.mount_points.push(MountPointSpec {
                volume: key.to_string(),
                container_path: u.path.clone().unwrap_or_default(),
                read_only: !write,
            });
            let mut actions = vec!["elasticfilesystem:ClientMount".to_string()];
            if write {
                actions.push("elasticfilesystem:ClientWrite".to_string());
            }
            w.task_statements.push(PolicyStatement {
                effect: "Allow".to_string(),
                actions,
                resources: vec![Val::Ref(Ref::arn(&fs))],
            });
            let n = net.private.len();
            w.after.extend((0..n).map(|i| mount_target_id(key, i)));
        }
        StoreKind::Secret => {
            if !c.secrets.contains_key(key) {
                return;
            }
            let v = secret_val(c, env, key);
            w.secrets
                .push((u.env.clone().unwrap_or_else(|| env_name(key)), v.clone()));
            exec.push(v);
        }
    }
}

fn table(c: &Config, key: &str, t: &crate::config::Table) -> Resource {
    let attr = |k: &crate::config::KeyAttribute| KeyAttr {
        name: k.name.clone(),
        attr_type: k.attr_type.as_aws().to_string(),
    };
    let provisioned = t.billing == crate::config::Billing::Provisioned;
    Resource {
        id: table_id(key),
        name: c.table_name(key),
        spec: Spec::DynamodbTable(TableSpec {
            hash_key: attr(&t.hash_key),
            range_key: t.range_key.as_ref().map(attr),
            billing_mode: t.billing.as_aws().to_string(),
            read_capacity: provisioned.then(|| t.read_capacity.unwrap_or(5)),
            write_capacity: provisioned.then(|| t.write_capacity.unwrap_or(5)),
            table_class: t.table_class.as_aws().to_string(),
            point_in_time_recovery: t.point_in_time_recovery,
            ttl_attribute: t.ttl_attribute.clone(),
            deletion_protection: t.deletion_protection,
            indexes: t
                .indexes
                .iter()
                .map(|i| IndexSpec {
                    name: i.name.clone(),
                    hash_key: attr(&i.hash_key),
                    range_key: i.range_key.as_ref().map(attr),
                    projection: i.projection.as_aws().to_string(),
                    non_key_attributes: i.include.clone(),
                    read_capacity: provisioned
                        .then(|| i.read_capacity.or(t.read_capacity).unwrap_or(5)),
                    write_capacity: provisioned
                        .then(|| i.write_capacity.or(t.write_capacity).unwrap_or(5)),
                })
                .collect(),
            seed: match (&t.seed, &t.seed_items) {
                (Some(file), Some(s)) => Some(SeedSpec {
                    file: file.clone(),
                    items: s.items.clone(),
                    digest: s.digest.clone(),
                }),
                _ => None,
            },
        }),
    }
}

/// A data store's security group: `port` from the groups of the services that use it,
/// nothing else.
fn store_sg(
    net: &Net,
    id: ResourceId,
    name: String,
    description: String,
    port: u16,
    sources: Vec<Val>,
) -> Resource {
    let mut ingress: Vec<IngressRule> = sources
        .into_iter()
        .map(|g| {
            IngressRule::tcp(
                port,
                Source::Group(g),
                Some("from a service that uses it".to_string()),
            )
        })
        .collect();
    ingress.sort();
    ingress.dedup();
    net.security_group(id, name, description, ingress)
}
