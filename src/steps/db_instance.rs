//! RDS database instances (MySQL, PostgreSQL). The master password is a secret that
//! ecsdeploy generates (`secret.database.<key>`, JSON `{"username", "password"}`) and RDS
//! never rotates: ECS reads a task's secrets only when the task starts, so the 7-day
//! rotation of an RDS-managed password (`ManageMasterUserPassword`) would leave every
//! running task with a stale one. An instance made by an earlier version with an
//! RDS-managed password is moved onto the generated secret with its *current* password,
//! so that running tasks keep working. Create and update return the outputs only once the
//! instance is `available`, because services read its endpoint.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use aws_sdk_rds::types::DbInstance;
use serde_json::{json, Value};

use super::support::field_map;
use super::support::ownership::not_owned;
use super::support::tags::{owned_tags, tag};
use super::Ctx;
use crate::aws::{answer, code_of, err, poll, retry_until, sent, unless_gone};
use crate::desired::DbInstanceSpec;
use crate::desired::{sorted, Attr, Fields, Outputs, Resolve, Resource, ResourceId, Spec};
use crate::desired::{TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

/// How long create and update wait for the instance to become available.
const AVAILABLE_WAIT: Duration = Duration::from_secs(40 * 60);

/// The engine version to report: the configured one (`8.0`) when the observed one
/// (`8.0.39`, AWS picked the newest minor) lies within it, otherwise the observed one.
pub fn normal_version(desired: &str, observed: &str) -> String {
    let within = observed == desired
        || observed
            .strip_prefix(desired)
            .is_some_and(|rest| rest.starts_with('.'));
    if within && !desired.is_empty() {
        desired.to_string()
    } else {
        observed.to_string()
    }
}

/// The major version: the first component for PostgreSQL 10 and later, the first two
/// otherwise (MySQL `8.0`, `8.4`; PostgreSQL `9.6`).
fn major(engine: &str, v: &str) -> String {
    let parts: Vec<&str> = v.split('.').collect();
    let first: u32 = parts[0].parse().unwrap_or(0);
    if engine.starts_with("postgres") && first >= 10 || parts.len() < 2 {
        parts[0].to_string()
    } else {
        format!("{}.{}", parts[0], parts[1])
    }
}

fn status_of(d: &DbInstance) -> &str {
    d.db_instance_status().unwrap_or("unknown")
}

/// The port the instance listens on: the endpoint's, or (while creating) the instance's
/// own when set (AWS reports 0 there for instances outside a cluster).
fn port_of(d: &DbInstance) -> Option<i32> {
    d.endpoint()
        .and_then(|e| e.port())
        .or(d.db_instance_port().filter(|p| *p > 0))
}

/// The normalised fields, shaped exactly like `Spec::DbInstance`'s. `want_version` is the
/// configured engine version, when the instance is a desired one.
fn fields_of(d: &DbInstance, want_version: Option<&str>) -> Fields {
    let version = d.engine_version().unwrap_or_default();
    let groups = d
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .map(str::to_string);
    field_map([
        ("engine", json!(d.engine())),
        (
            "engine_version",
            json!(normal_version(want_version.unwrap_or(version), version)),
        ),
        ("instance_class", json!(d.db_instance_class())),
        ("allocated_storage", json!(d.allocated_storage())),
        ("storage_type", json!(d.storage_type())),
        ("storage_encrypted", json!(d.storage_encrypted())),
        ("multi_az", json!(d.multi_az())),
        ("backup_retention_days", json!(d.backup_retention_period())),
        ("deletion_protection", json!(d.deletion_protection())),
        ("db_name", json!(d.db_name())),
        ("master_username", json!(d.master_username())),
        ("port", json!(port_of(d))),
        ("publicly_accessible", json!(d.publicly_accessible())),
        (
            "db_subnet_group",
            json!(d.db_subnet_group().and_then(|g| g.db_subnet_group_name())),
        ),
        ("security_groups", sorted(groups)),
        (
            "password_rotated_by_rds",
            json!(d.master_user_secret().is_some()),
        ),
    ])
}

fn outputs_of(d: &DbInstance) -> Outputs {
    let mut o = Outputs::with_id(d.db_instance_identifier().unwrap_or_default())
        .arn(d.db_instance_arn().unwrap_or_default());
    if let Some(a) = d.endpoint().and_then(|e| e.address()) {
        o = o.with(Attr::Endpoint, a);
    }
    if let Some(p) = port_of(d) {
        o = o.with(Attr::Port, p.to_string());
    }
    o
}

fn observed(id: ResourceId, d: &DbInstance, want_version: Option<&str>) -> Observed {
    let endpoint = match (d.endpoint().and_then(|e| e.address()), port_of(d)) {
        (Some(a), Some(p)) => json!(format!("{a}:{p}")),
        (Some(a), None) => json!(a),
        _ => Value::Null,
    };
    Observed {
        id,
        name: d.db_instance_identifier().unwrap_or_default().to_string(),
        outputs: outputs_of(d),
        fields: fields_of(d, want_version),
        state: status_of(d).to_string(),
        details: json!({
            "endpoint": endpoint,
            "engine": d.engine(),
            "class": d.db_instance_class(),
        }),
    }
}

fn ours(ctx: &Ctx, d: &DbInstance) -> bool {
    tag(d.tag_list(), TAG_APP) == Some(ctx.app.as_str())
}

/// What to do about a DB instance of the configured identifier that another app owns.
const ANOTHER_IDENTIFIER: &str = "set another `identifier` for the database in the config";

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found = Vec::new();
    let mut pages = ctx.aws.rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        for d in page.db_instances() {
            let Some(ident) = d.db_instance_identifier() else {
                continue;
            };
            match desired.iter().find(|r| r.name == ident) {
                Some(_) if !ours(ctx, d) => {
                    return Err(not_owned(
                        ctx,
                        &format!("DB instance {ident}"),
                        ANOTHER_IDENTIFIER,
                    ))
                }
                Some(r) => {
                    let version = match &r.spec {
                        Spec::DbInstance(s) => Some(s.engine_version.as_str()),
                        _ => None,
                    };
                    found.push(observed(r.id.clone(), d, version));
                }
                None if ours(ctx, d) => {
                    let id = tag(d.tag_list(), TAG_RESOURCE).and_then(ResourceId::parse);
                    if let Some(id) = id.filter(|id| !desired.iter().any(|r| &r.id == id)) {
                        found.push(observed(id, d, None));
                    }
                }
                None => {}
            }
        }
    }
    Ok(found)
}

/// The instance as it is now; `None` when it does not exist.
async fn describe(ctx: &Ctx, ident: &str) -> Result<Option<DbInstance>> {
    let call = ctx
        .aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(ident);
    let gone = |e: &anyhow::Error| code_of(e) == Some("DBInstanceNotFound");
    let out = unless_gone(gone, answer(call.send()).await)?;
    Ok(out.and_then(|o| o.db_instances().first().cloned()))
}

/// Wait until the instance is `available` with a known endpoint, reporting each new status.
async fn wait_available(ctx: &Ctx, key: &str, ident: &str) -> Result<DbInstance> {
    let last = Mutex::new(String::new());
    let what = format!(
        "DB instance {ident} to become available (it continues in AWS; \
         the next `up` picks it up)"
    );
    poll(AVAILABLE_WAIT, &what, || async {
        let Some(d) = describe(ctx, ident).await? else {
            bail!("DB instance {ident} disappeared while waiting for it to become available");
        };
        let status = status_of(&d).to_string();
        let ready = matches!(status.as_str(), "available" | "storage-optimization")
            && d.endpoint().and_then(|e| e.address()).is_some();
        if ready {
            return Ok(Some(d));
        }
        if status == "failed"
            || status.starts_with("incompatible-")
            || matches!(
                status.as_str(),
                "deleting" | "inaccessible-encryption-credentials"
            )
        {
            bail!("DB instance {ident} is {status}; see the RDS console for why");
        }
        let mut seen = last.lock().expect("status lock");
        if *seen != status {
            ctx.report.progress(key, &format!("status: {status}"));
            *seen = status;
        }
        Ok(None)
    })
    .await
}

/// The `password` field of a secret in RDS's JSON shape (`{"username", "password"}`).
/// Neither the value nor the parse error's context ever reaches a message.
async fn password_in(ctx: &Ctx, secret: &str) -> Result<String> {
    let out = ctx
        .aws
        .secrets
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("reading the master password from secret {secret}"))?;
    let password = out
        .secret_string()
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|v| {
            v.get("password")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    match password {
        Some(p) => Ok(p),
        None => bail!(
            "secret {secret} holds no JSON object with a string field `password`; \
             it must have RDS's shape {{\"username\": …, \"password\": …}}"
        ),
    }
}

/// Moves an instance whose master password RDS manages (and rotates) onto the generated
/// secret `ours`, keeping the password it has now: running tasks hold that password, so
/// nothing they do breaks. The current value goes into `ours` first; the returned request
/// then turns RDS's management off, which needs the password (RDS deletes its own secret,
/// ModifyDBInstance `ManageMasterUserPassword`).
async fn off_managed_password(
    ctx: &Ctx,
    r: &Resource,
    s: &DbInstanceSpec,
    d: &DbInstance,
    ours: &str,
) -> Result<String> {
    let Some(managed) = d.master_user_secret().and_then(|m| m.secret_arn()) else {
        bail!("DB instance {}: RDS names no secret of its own", r.name);
    };
    let password = password_in(ctx, managed).await?;
    let value = json!({ "username": s.username, "password": password }).to_string();
    let call = ctx.aws.secrets.put_secret_value().secret_id(ours);
    sent(call.secret_string(value).send())
        .await
        .with_context(|| {
            format!(
                "copying the master password of DB instance {} to {ours}",
                r.name
            )
        })?;
    ctx.report.info(&format!(
        "DB instance {}: its master password moves from RDS's rotating secret to {ours}, \
         unchanged (running tasks keep working; RDS deletes its own secret)",
        r.name
    ));
    Ok(password)
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &DbInstanceSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let group = res.need(&s.subnet_group)?;
    let sgs = res.need_all(&s.security_groups)?;
    let password = password_in(ctx, &res.need(&s.password)?).await?;
    let made = ctx
        .aws
        .rds
        .create_db_instance()
        .db_instance_identifier(&r.name)
        .engine(&s.engine)
        .engine_version(&s.engine_version)
        .db_instance_class(&s.instance_class)
        .allocated_storage(i32::try_from(s.allocated_storage)?)
        .storage_type(&s.storage_type)
        .storage_encrypted(true)
        .multi_az(s.multi_az)
        .backup_retention_period(i32::try_from(s.backup_retention_days)?)
        .deletion_protection(s.deletion_protection)
        .db_name(&s.db_name)
        .master_username(&s.username)
        .master_user_password(password)
        .port(i32::from(s.port))
        .publicly_accessible(false)
        .db_subnet_group_name(group)
        .set_vpc_security_group_ids(Some(sgs))
        .copy_tags_to_snapshot(true)
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
        .send()
        .await
        .map_err(err);
    match made {
        Ok(_) => {}
        // An earlier create whose answer was lost: adopt the instance when it is ours.
        Err(e) if code_of(&e) == Some("DBInstanceAlreadyExists") => {
            let d = describe(ctx, &r.name).await?.ok_or(e)?;
            let id = r.id.to_string();
            if !ours(ctx, &d) || tag(d.tag_list(), TAG_RESOURCE) != Some(id.as_str()) {
                return Err(not_owned(
                    ctx,
                    &format!("DB instance {}", r.name),
                    ANOTHER_IDENTIFIER,
                ));
            }
        }
        Err(e) => return Err(e).with_context(|| format!("creating DB instance {}", r.name)),
    }
    let d = wait_available(ctx, &r.id.to_string(), &r.name).await?;
    Ok(outputs_of(&d))
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &DbInstanceSpec,
    _o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let key = r.id.to_string();
    // An earlier run may have left it `creating` (or it is still applying a change).
    let d = wait_available(ctx, &key, &r.name).await?;
    let have = fields_of(&d, Some(&s.engine_version));
    let want = r.spec.fields(res);
    let differs = |k: &str| have.get(k) != want.get(k);
    let mut req = ctx
        .aws
        .rds
        .modify_db_instance()
        .db_instance_identifier(&r.name)
        .apply_immediately(true);
    let mut any = false;
    if differs("instance_class") {
        req = req.db_instance_class(&s.instance_class);
        any = true;
    }
    if differs("allocated_storage") {
        let now = d.allocated_storage().unwrap_or(0);
        let to = i32::try_from(s.allocated_storage)?;
        if to < now {
            bail!(
                "DB instance {}: allocated storage cannot shrink from {now} to {to} GiB \
                 (RDS only grows storage); keep allocated_storage at {now} or more",
                r.name
            );
        }
        req = req.allocated_storage(to);
        any = true;
    }
    if differs("storage_type") {
        req = req.storage_type(&s.storage_type);
        any = true;
    }
    if differs("multi_az") {
        req = req.multi_az(s.multi_az);
        any = true;
    }
    if differs("backup_retention_days") {
        req = req.backup_retention_period(i32::try_from(s.backup_retention_days)?);
        any = true;
    }
    if differs("deletion_protection") {
        req = req.deletion_protection(s.deletion_protection);
        any = true;
    }
    if differs("publicly_accessible") {
        req = req.publicly_accessible(false);
        any = true;
    }
    if differs("port") {
        req = req.db_port_number(i32::from(s.port));
        any = true;
    }
    if differs("security_groups") {
        let sgs = res.need_all(&s.security_groups)?;
        req = req.set_vpc_security_group_ids(Some(sgs));
        any = true;
    }
    if d.master_user_secret().is_some() {
        let ours = res.need(&s.password)?;
        let password = off_managed_password(ctx, r, s, &d, &ours).await?;
        req = req
            .manage_master_user_password(false)
            .master_user_password(password);
        any = true;
    }
    if differs("engine_version") {
        let now = d.engine_version().unwrap_or_default();
        let engine = d.engine().unwrap_or_default();
        req = req.engine_version(&s.engine_version);
        if major(engine, now) != major(engine, &s.engine_version) {
            req = req.allow_major_version_upgrade(true);
        }
        any = true;
    }
    if !any {
        return Ok(outputs_of(&d));
    }
    req.send()
        .await
        .map_err(err)
        .with_context(|| format!("modifying DB instance {}", r.name))?;
    let d = wait_available(ctx, &key, &r.name).await?;
    Ok(outputs_of(&d))
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// True while the instance is busy (creating, modifying, backing up): retry later.
fn busy(e: &anyhow::Error) -> bool {
    code_of(e) == Some("InvalidDBInstanceState")
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let ident = o.outputs.id();
    let key = o.id.to_string();
    let Some(d) = describe(ctx, ident).await? else {
        return Ok(());
    };
    if status_of(&d) != "deleting" {
        if d.deletion_protection() == Some(true) {
            let call = ctx
                .aws
                .rds
                .modify_db_instance()
                .db_instance_identifier(ident);
            let call = call.deletion_protection(false).apply_immediately(true);
            retry_until(ctx.delete_deadline, busy, || sent(call.clone().send()))
                .await
                .with_context(|| {
                    format!("turning off deletion protection of DB instance {ident}")
                })?;
        }
        let snapshot = format!("{ident}-final-{}", unix_secs());
        let deleted = retry_until(ctx.delete_deadline, busy, || async {
            let req = ctx
                .aws
                .rds
                .delete_db_instance()
                .db_instance_identifier(ident)
                .delete_automated_backups(false);
            let req = if ctx.skip_final_snapshot {
                req.skip_final_snapshot(true)
            } else {
                req.final_db_snapshot_identifier(&snapshot)
            };
            sent(req.send()).await
        })
        .await;
        match deleted {
            Ok(()) if ctx.skip_final_snapshot => {
                ctx.report.info(&format!(
                    "DB instance {ident}: deleted without a final snapshot"
                ));
            }
            Ok(()) => ctx.report.info(&format!(
                "DB instance {ident}: final snapshot {snapshot} (kept after deletion)"
            )),
            Err(e) if code_of(&e) == Some("DBInstanceNotFound") => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("deleting DB instance {ident}")),
        }
    }
    // The subnets, the subnet group and the security group stay in use until it is gone.
    let what = format!("DB instance {ident} to be deleted");
    let last = Mutex::new(String::new());
    poll(ctx.delete_deadline.max(AVAILABLE_WAIT), &what, || async {
        match describe(ctx, ident).await? {
            None => Ok(Some(())),
            Some(d) => {
                let status = status_of(&d).to_string();
                let mut seen = last.lock().expect("status lock");
                if *seen != status {
                    ctx.report.progress(&key, &format!("status: {status}"));
                    *seen = status;
                }
                Ok(None)
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_rds::types::{
        DbSubnetGroup, Endpoint, MasterUserSecret, Tag, VpcSecurityGroupMembership,
    };

    use super::*;
    use crate::desired::{DbInstanceSpec, Kind, Ref, Val};

    fn spec(sg: &ResourceId, group: &ResourceId) -> Spec {
        Spec::DbInstance(DbInstanceSpec {
            engine: "mysql".into(),
            engine_version: "8.0".into(),
            instance_class: "db.t4g.micro".into(),
            allocated_storage: 20,
            storage_type: "gp3".into(),
            multi_az: false,
            backup_retention_days: 7,
            deletion_protection: true,
            db_name: "wordpress".into(),
            username: "admin".into(),
            port: 3306,
            subnet_group: Val::Ref(Ref::id(group)),
            security_groups: vec![Val::Ref(Ref::id(sg))],
            password: Val::Ref(Ref::arn(&ResourceId::new(Kind::Secret, "database.db"))),
        })
    }

    /// The desired fields of the instance `instance()` describes.
    fn wanted() -> Fields {
        let sg = ResourceId::new(Kind::SecurityGroup, "db-db");
        let group = ResourceId::new(Kind::DbSubnetGroup, "db");
        let known: BTreeMap<ResourceId, Outputs> = [
            (sg.clone(), Outputs::with_id("sg-1")),
            (group.clone(), Outputs::with_id("demo-db")),
        ]
        .into_iter()
        .collect();
        spec(&sg, &group).fields(&known)
    }

    /// What DescribeDBInstances answers for a converged instance (shape seen in moto; AWS
    /// reports `DbInstancePort` 0 outside clusters).
    fn instance() -> DbInstance {
        DbInstance::builder()
            .db_instance_identifier("demo-db")
            .db_instance_arn("arn:aws:rds:ap-northeast-1:1:db:demo-db")
            .db_instance_status("available")
            .engine("mysql")
            .engine_version("8.0.39")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .storage_type("gp3")
            .storage_encrypted(true)
            .multi_az(false)
            .backup_retention_period(7)
            .deletion_protection(true)
            .db_name("wordpress")
            .master_username("admin")
            .db_instance_port(0)
            .publicly_accessible(false)
            .endpoint(
                Endpoint::builder()
                    .address("demo-db.x.rds.amazonaws.com")
                    .port(3306)
                    .build(),
            )
            .db_subnet_group(
                DbSubnetGroup::builder()
                    .db_subnet_group_name("demo-db")
                    .build(),
            )
            .vpc_security_groups(
                VpcSecurityGroupMembership::builder()
                    .vpc_security_group_id("sg-1")
                    .status("active")
                    .build(),
            )
            .tag_list(Tag::builder().key(TAG_APP).value("demo").build())
            .build()
    }

    #[test]
    fn converged_instance_diffs_to_nothing() {
        let want = wanted();
        let o = observed(
            ResourceId::new(Kind::DbInstance, "db"),
            &instance(),
            Some("8.0"),
        );
        assert_eq!(crate::plan::diff_fields(&o.fields, &want), vec![]);
        assert_eq!(o.fields, want);
        assert_eq!(
            o.outputs.get(Attr::Endpoint),
            Some("demo-db.x.rds.amazonaws.com")
        );
        assert_eq!(o.outputs.get(Attr::Port), Some("3306"));
        assert_eq!(
            o.details["endpoint"],
            json!("demo-db.x.rds.amazonaws.com:3306")
        );
        assert_eq!(o.state, "available");
    }

    #[test]
    fn an_rds_managed_password_is_a_change() {
        let want = wanted();
        let mut d = instance();
        d.master_user_secret = Some(
            MasterUserSecret::builder()
                .secret_arn("arn:aws:secretsmanager:ap-northeast-1:1:secret:rds!db-1")
                .build(),
        );
        let o = observed(ResourceId::new(Kind::DbInstance, "db"), &d, Some("8.0"));
        let diffs = crate::plan::diff_fields(&o.fields, &want);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(o.fields["password_rotated_by_rds"], json!(true));
        assert_eq!(want["password_rotated_by_rds"], json!(false));
    }

    #[test]
    fn engine_version_keeps_the_configured_prefix() {
        assert_eq!(normal_version("8.0", "8.0.39"), "8.0");
        assert_eq!(normal_version("8.0", "8.0"), "8.0");
        assert_eq!(normal_version("16", "16.4"), "16");
        assert_eq!(normal_version("16.4", "16.4"), "16.4");
        // Not on a dot boundary, or a different version: the observed one.
        assert_eq!(normal_version("8.0", "8.01"), "8.01");
        assert_eq!(normal_version("8.0", "8.4.3"), "8.4.3");
        assert_eq!(normal_version("16.4", "16.3"), "16.3");
        assert_eq!(normal_version("", "8.0.39"), "8.0.39");
    }

    #[test]
    fn major_versions() {
        assert_eq!(major("mysql", "8.0.39"), "8.0");
        assert_eq!(major("mysql", "8.4"), "8.4");
        assert_eq!(major("postgres", "16.4"), "16");
        assert_eq!(major("postgres", "9.6.24"), "9.6");
        assert_eq!(major("postgres", "17"), "17");
    }
}
