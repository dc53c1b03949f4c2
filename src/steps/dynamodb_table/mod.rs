//! DynamoDB tables: keys, billing and capacities, table class, point-in-time recovery, TTL,
//! deletion protection, global secondary indexes, and seed items written once after
//! creation.
//!
//! Found by name: one ListTables, then DescribeTable and ListTagsOfResource for the desired
//! names and for every table named `<app>-...` (orphans are looked for among those only, so
//! a table given a custom `name` that no longer is in the config is not found; listing the
//! tags of every table in the account would not stay bounded). Owned tables also get
//! DescribeContinuousBackups and DescribeTimeToLive.
//!
//! Seeding: once the table is ACTIVE its seed items are written with BatchWriteItem and the
//! table is tagged `ecsdeploy:seeded` = the seed file's sha256. The tag is what `seeded`
//! reports, so a run that died between creating and seeding seeds on the next `up`; puts
//! of the same keys overwrite, so writing twice is harmless.

mod seed;
mod shape;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::types::{
    BillingMode, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, PointInTimeRecoverySpecification, TableClass, TableDescription,
    Tag, TimeToLiveSpecification, UpdateGlobalSecondaryIndexAction,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use self::seed::seed_table;
use self::shape::*;
use super::support::ownership::{not_owned, not_owned_because};
use super::Ctx;
use crate::aws::{answer, code_of, err, is_gone, poll, retry_until, sent, CONSISTENCY};
use crate::desired::{
    Attr, IndexSpec, Kind, Outputs, Resolve, Resource, ResourceId, Spec, TableSpec, TAG_APP,
    TAG_RESOURCE,
};
use crate::plan::{diff_fields, Observed};

/// Tag recording that the seed items were written: the seed file's sha256.
pub const TAG_SEEDED: &str = "ecsdeploy:seeded";

/// How long a table (or an index being built) may take to become ACTIVE.
const ACTIVE_WAIT: Duration = Duration::from_secs(1800);

type Tags = BTreeMap<String, String>;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let prefix = format!("{}-", ctx.app);
    let call = ctx.aws.dynamodb.list_tables();
    let names: Vec<String> = answer(call.into_paginator().items().send().try_collect())
        .await
        .context("listing DynamoDB tables")?;
    let candidates = names
        .iter()
        .filter(|n| wanted.contains_key(n.as_str()) || n.starts_with(&prefix));
    let found = try_join_all(
        candidates.map(|n| observe_one(ctx, n, wanted.get(n.as_str()).copied(), &desired_ids)),
    )
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// One table of the listing: `None` when it is gone or not ours (and not desired).
async fn observe_one(
    ctx: &Ctx,
    name: &str,
    want: Option<&Resource>,
    desired_ids: &BTreeSet<&ResourceId>,
) -> Result<Option<Observed>> {
    let Some(t) = describe(ctx, name).await? else {
        return Ok(None);
    };
    let Some(tags) = tags_of(ctx, t.table_arn().unwrap_or_default()).await? else {
        return Ok(None);
    };
    let ours = tags.get(TAG_APP) == Some(&ctx.app);
    let id = match want {
        Some(r) if ours => r.id.clone(),
        Some(_) => {
            let what = format!("DynamoDB table {name}");
            return Err(not_owned(
                ctx,
                &what,
                "rename it in the config or delete it",
            ));
        }
        None => match tags.get(TAG_RESOURCE).and_then(|v| ResourceId::parse(v)) {
            Some(id) if ours && id.kind == Kind::DynamodbTable && !desired_ids.contains(&id) => id,
            _ => return Ok(None),
        },
    };
    let (pitr, ttl) = futures::try_join!(pitr_of(ctx, name), ttl_of(ctx, name))?;
    let (Some(pitr), Some(ttl)) = (pitr, ttl) else {
        return Ok(None); // deleted meanwhile
    };
    let with_seed =
        want.is_some_and(|r| matches!(&r.spec, Spec::DynamodbTable(s) if s.seed.is_some()));
    Ok(Some(observed(id, &t, pitr, ttl, &tags, with_seed)))
}

fn observed(
    id: ResourceId,
    t: &TableDescription,
    pitr: bool,
    ttl: Option<String>,
    tags: &Tags,
    with_seed: bool,
) -> Observed {
    Observed {
        id,
        name: t.table_name().unwrap_or_default().to_string(),
        outputs: outputs(t),
        fields: fields_of(t, pitr, ttl, tags, with_seed),
        state: t
            .table_status()
            .map_or("UNKNOWN", |s| s.as_str())
            .to_string(),
        details: json!({
            "item_count": t.item_count(),
            "size_bytes": t.table_size_bytes(),
        }),
    }
}

fn outputs(t: &TableDescription) -> Outputs {
    Outputs::with_id(t.table_name().unwrap_or_default()).arn(t.table_arn().unwrap_or_default())
}

/// DescribeTable; `None` when there is no such table.
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<TableDescription>> {
    match ctx
        .aws
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(err)
    {
        Ok(out) => Ok(out.table().cloned()),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e.context(format!("describing table {name}"))),
    }
}

/// All tags of a table; `None` when it is gone.
async fn tags_of(ctx: &Ctx, arn: &str) -> Result<Option<Tags>> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    loop {
        let call = ctx.aws.dynamodb.list_tags_of_resource().resource_arn(arn);
        let call = call.set_next_token(token.take());
        let out = answer(call.send()).await;
        let out = match out {
            Ok(out) => out,
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => return Err(e.context(format!("reading the tags of {arn}"))),
        };
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(Some(tags)),
        }
    }
}

/// Point-in-time recovery on?; `None` when the table is gone.
async fn pitr_of(ctx: &Ctx, name: &str) -> Result<Option<bool>> {
    match ctx
        .aws
        .dynamodb
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .map_err(err)
    {
        Ok(out) => Ok(Some(
            out.continuous_backups_description()
                .and_then(|d| d.point_in_time_recovery_description())
                .and_then(|p| p.point_in_time_recovery_status())
                .is_some_and(|s| s.as_str() == "ENABLED"),
        )),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e.context(format!("reading point-in-time recovery of table {name}"))),
    }
}

/// The TTL attribute (`Some(None)` when TTL is off); `None` when the table is gone.
async fn ttl_of(ctx: &Ctx, name: &str) -> Result<Option<Option<String>>> {
    match ctx
        .aws
        .dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(err)
    {
        Ok(out) => Ok(Some(out.time_to_live_description().and_then(|d| {
            let on = d
                .time_to_live_status()
                .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"));
            on.then(|| d.attribute_name().unwrap_or_default().to_string())
        }))),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e.context(format!("reading the TTL of table {name}"))),
    }
}

// ---- create -----------------------------------------------------------------------------

pub async fn create(ctx: &Ctx, r: &Resource, s: &TableSpec, res: &dyn Resolve) -> Result<Outputs> {
    let key = r.id.to_string();
    let mut req = ctx
        .aws
        .dynamodb
        .create_table()
        .table_name(&r.name)
        .set_attribute_definitions(Some(attribute_definitions(s, &s.indexes)?))
        .set_key_schema(Some(key_schema(&s.hash_key, s.range_key.as_ref())?))
        .billing_mode(BillingMode::from(s.billing_mode.as_str()))
        .table_class(TableClass::from(s.table_class.as_str()))
        .deletion_protection_enabled(s.deletion_protection);
    if provisioned(s) {
        req = req.provisioned_throughput(throughput(s.read_capacity, s.write_capacity)?);
    }
    for i in &s.indexes {
        req = req.global_secondary_indexes(gsi(s, i)?);
    }
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build()?);
    }
    match req.send().await.map_err(err) {
        Ok(_) => {}
        // Exists: our earlier create whose answer was lost, a crashed run, or a table
        // still being deleted.
        Err(e) if code_of(&e) == Some("ResourceInUseException") => {
            return adopt(ctx, r, s, res).await;
        }
        Err(e) => return Err(e.context(format!("creating table {}", r.name))),
    }
    let t = wait_active(ctx, &key, &r.name).await?;
    if s.point_in_time_recovery {
        set_pitr(ctx, &r.name, true).await?;
    }
    if let Some(attr) = &s.ttl_attribute {
        set_ttl(ctx, &r.name, attr, true).await?;
    }
    if let Some(seed) = &s.seed {
        seed_table(ctx, &key, &r.name, t.table_arn().unwrap_or_default(), seed).await?;
    }
    Ok(outputs(&t))
}

/// CreateTable said the table exists: take it over when it is ours, then converge it like
/// an update. A table of ours still being deleted is waited for and created anew.
async fn adopt(ctx: &Ctx, r: &Resource, s: &TableSpec, res: &dyn Resolve) -> Result<Outputs> {
    let key = r.id.to_string();
    let Some(t) = describe(ctx, &r.name).await? else {
        bail!(
            "table {} was reported to exist but cannot be found; run the command again",
            r.name
        );
    };
    if t.table_status().is_some_and(|s| s.as_str() == "DELETING") {
        wait_gone(ctx, &key, &r.name, ACTIVE_WAIT).await?;
        return Box::pin(create(ctx, r, s, res)).await;
    }
    // Tags are read once the table is ACTIVE (a table being created may not answer yet).
    let t = wait_active(ctx, &key, &r.name).await?;
    let tags = tags_of(ctx, t.table_arn().unwrap_or_default())
        .await?
        .unwrap_or_default();
    if tags.get(TAG_APP) != Some(&ctx.app)
        || tags.get(TAG_RESOURCE).map(String::as_str) != Some(key.as_str())
    {
        let why = format!("as {key}: tags {TAG_APP}, {TAG_RESOURCE}");
        let what = format!("DynamoDB table {}", r.name);
        return Err(not_owned_because(
            ctx,
            &what,
            &why,
            "rename it in the config or delete it",
        ));
    }
    let desired_ids = BTreeSet::from([&r.id]);
    let o = observe_one(ctx, &r.name, Some(r), &desired_ids)
        .await?
        .ok_or_else(|| anyhow!("table {} disappeared while it was being adopted", r.name))?;
    if diff_fields(&o.fields, &r.spec.fields(res)).is_empty() {
        return Ok(o.outputs);
    }
    update(ctx, r, s, &o, res).await
}

/// Poll until the table and all its indexes are ACTIVE.
async fn wait_active(ctx: &Ctx, key: &str, name: &str) -> Result<TableDescription> {
    let start = tokio::time::Instant::now();
    let what = format!("table {name} to become ACTIVE");
    poll(ACTIVE_WAIT, &what, || async {
        let Some(t) = describe(ctx, name).await? else {
            if start.elapsed() < CONSISTENCY {
                return Ok(None); // not visible yet right after CreateTable
            }
            bail!("table {name} disappeared while waiting for it to become ACTIVE");
        };
        match pending(&t) {
            None => Ok(Some(t)),
            Some(status) => {
                ctx.report.progress(key, &format!("status: {status}"));
                Ok(None)
            }
        }
    })
    .await
}

async fn set_pitr(ctx: &Ctx, name: &str, on: bool) -> Result<()> {
    let spec = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(on)
        .build()?;
    // Right after CreateTable, continuous backups may not be ready yet.
    retry_until(
        Duration::from_secs(120),
        |e| code_of(e) == Some("ContinuousBackupsUnavailableException"),
        || async {
            let call = ctx
                .aws
                .dynamodb
                .update_continuous_backups()
                .table_name(name);
            let call = call.point_in_time_recovery_specification(spec.clone());
            answer(call.send()).await
        },
    )
    .await
    .with_context(|| {
        format!(
            "turning point-in-time recovery {} for table {name}",
            if on { "on" } else { "off" }
        )
    })?;
    Ok(())
}

async fn set_ttl(ctx: &Ctx, name: &str, attr: &str, on: bool) -> Result<()> {
    ctx.aws
        .dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(on)
                .attribute_name(attr)
                .build()?,
        )
        .send()
        .await
        .map_err(err)
        .with_context(|| {
            format!(
                "turning TTL on attribute {attr} {} for table {name}",
                if on { "on" } else { "off" }
            )
        })?;
    Ok(())
}

// ---- update -----------------------------------------------------------------------------

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &TableSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let have = &o.fields;
    let differs = |k: &str| have.get(k) != want.get(k);
    let name = o.outputs.id();
    let key = r.id.to_string();
    let index = |n: &str| -> Result<&IndexSpec> {
        s.indexes
            .iter()
            .find(|i| i.name == n)
            .ok_or_else(|| anyhow!("internal: index {n} of table {name} is not in the config"))
    };
    let changes = index_changes(have, &want);
    // An earlier run may have left the table or an index busy: UpdateTable would refuse.
    wait_active(ctx, &key, name).await?;
    let table_update = || ctx.aws.dynamodb.update_table().table_name(name);
    let ctx_msg = |what: &str| format!("updating table {name}: {what}");

    // Indexes removed (or redefined: dropped and built again below), one per call.
    for n in &changes.delete {
        table_update()
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .delete(
                        DeleteGlobalSecondaryIndexAction::builder()
                            .index_name(n)
                            .build()?,
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(err)
            .with_context(|| ctx_msg(&format!("deleting index {n}")))?;
        wait_active(ctx, &key, name).await?;
    }

    if differs("deletion_protection") {
        table_update()
            .deletion_protection_enabled(s.deletion_protection)
            .send()
            .await
            .map_err(err)
            .with_context(|| ctx_msg("deletion protection"))?;
    }

    if differs("table_class") {
        table_update()
            .table_class(TableClass::from(s.table_class.as_str()))
            .send()
            .await
            .map_err(err)
            .with_context(|| ctx_msg("table class"))?;
        wait_active(ctx, &key, name).await?;
    }

    // Billing mode and capacities, with those of the indexes that stay (switching to
    // provisioned needs every index's capacities in the same call).
    let billing_changes = differs("billing_mode");
    let table_capacity = differs("read_capacity") || differs("write_capacity");
    if billing_changes || table_capacity || !changes.capacity.is_empty() {
        let mut req = table_update();
        if billing_changes {
            req = req.billing_mode(BillingMode::from(s.billing_mode.as_str()));
        }
        if provisioned(s) {
            if billing_changes || table_capacity {
                req = req.provisioned_throughput(throughput(s.read_capacity, s.write_capacity)?);
            }
            let kept = index_map(have)
                .into_keys()
                .filter(|n| !changes.delete.contains(n));
            for n in kept {
                if !billing_changes && !changes.capacity.contains(&n) {
                    continue;
                }
                let i = index(&n)?;
                req = req.global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder()
                        .update(
                            UpdateGlobalSecondaryIndexAction::builder()
                                .index_name(&n)
                                .provisioned_throughput(throughput(
                                    i.read_capacity,
                                    i.write_capacity,
                                )?)
                                .build()?,
                        )
                        .build(),
                );
            }
        }
        req.send()
            .await
            .map_err(err)
            .with_context(|| ctx_msg("billing mode and capacities"))?;
        wait_active(ctx, &key, name).await?;
    }

    // New indexes, one per call, each built before the next.
    let mut present: Vec<&IndexSpec> = index_map(have)
        .into_keys()
        .filter(|n| !changes.delete.contains(n))
        .filter_map(|n| s.indexes.iter().find(|i| i.name == n))
        .collect();
    for n in &changes.create {
        let i = index(n)?;
        present.push(i);
        let g = gsi(s, i)?;
        let mut create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(&i.name)
            .set_key_schema(Some(g.key_schema().to_vec()))
            .set_projection(g.projection().cloned());
        if let Some(t) = g.provisioned_throughput() {
            create = create.provisioned_throughput(t.clone());
        }
        table_update()
            .set_attribute_definitions(Some(attribute_definitions(s, present.iter().copied())?))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(create.build()?)
                    .build(),
            )
            .send()
            .await
            .map_err(err)
            .with_context(|| ctx_msg(&format!("creating index {n}")))?;
        wait_active(ctx, &key, name).await?;
    }

    if differs("point_in_time_recovery") {
        set_pitr(ctx, name, s.point_in_time_recovery).await?;
    }

    if differs("ttl_attribute") {
        // One TTL attribute at a time: turn the old one off before the new one goes on
        // (AWS then refuses another change for about an hour).
        let old = have.get("ttl_attribute").and_then(Value::as_str);
        if let Some(old) = old {
            set_ttl(ctx, name, old, false).await?;
        }
        if let Some(new) = &s.ttl_attribute {
            let on = set_ttl(ctx, name, new, true).await;
            match old {
                Some(old) => on.with_context(|| {
                    format!(
                        "TTL on {old} was turned off just now; AWS accepts the next TTL change \
                         of a table about an hour later: run `up` again then"
                    )
                })?,
                None => on?,
            }
        }
    }

    // Seed items never written (a run died between creating and seeding).
    if let Some(seed) = &s.seed {
        if have.get("seeded") != Some(&json!(true)) {
            seed_table(
                ctx,
                &key,
                name,
                o.outputs.get(Attr::Arn).unwrap_or_default(),
                seed,
            )
            .await?;
        }
    }
    Ok(o.outputs.clone())
}

// ---- delete -----------------------------------------------------------------------------

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.outputs.id();
    let key = o.id.to_string();
    // A table busy with an update answers ResourceInUseException: retry until it is not.
    let busy = |e: &anyhow::Error| code_of(e) == Some("ResourceInUseException");
    if o.fields.get("deletion_protection") == Some(&json!(true)) {
        let call = ctx.aws.dynamodb.update_table().table_name(name);
        let call = call.deletion_protection_enabled(false);
        let lifted = retry_until(ctx.delete_deadline, busy, || sent(call.clone().send())).await;
        match lifted {
            Ok(()) => {}
            Err(e) if is_gone(&e) => return Ok(()),
            Err(e) => {
                return Err(e.context(format!("turning deletion protection off for table {name}")))
            }
        }
    }
    let call = ctx.aws.dynamodb.delete_table().table_name(name);
    let deleted = retry_until(ctx.delete_deadline, busy, || sent(call.clone().send())).await;
    match deleted {
        Ok(()) => {}
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(e.context(format!("deleting table {name}"))),
    }
    wait_gone(ctx, &key, name, ctx.delete_deadline).await
}

/// Poll until DescribeTable no longer finds the table (a table being deleted keeps its
/// name taken).
async fn wait_gone(ctx: &Ctx, key: &str, name: &str, deadline: Duration) -> Result<()> {
    let what = format!("table {name} to be deleted");
    poll(deadline, &what, || async {
        match describe(ctx, name).await? {
            None => Ok(Some(())),
            Some(t) => {
                let status = t.table_status().map_or("UNKNOWN", |s| s.as_str());
                ctx.report.progress(key, &format!("status: {status}"));
                Ok(None)
            }
        }
    })
    .await
}
