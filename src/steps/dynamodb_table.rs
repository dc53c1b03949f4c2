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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CreateGlobalSecondaryIndexAction,
    DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
    KeySchemaElement, KeyType, PointInTimeRecoverySpecification, Projection, ProjectionType,
    ProvisionedThroughput, PutRequest, ScalarAttributeType, TableClass, TableDescription, Tag,
    TimeToLiveSpecification, UpdateGlobalSecondaryIndexAction, WriteRequest,
};
use aws_smithy_types::Blob;
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::ownership::{not_owned, not_owned_because};
use super::Ctx;
use crate::aws::{code_of, err, is_gone, poll, retry_until, CONSISTENCY};
use crate::desired::{
    Attr, Fields, IndexSpec, KeyAttr, Kind, Outputs, Resolve, Resource, ResourceId, SeedSpec, Spec,
    TableSpec, TAG_APP, TAG_RESOURCE,
};
use crate::plan::{diff_fields, Observed};

/// Tag recording that the seed items were written: the seed file's sha256.
pub const TAG_SEEDED: &str = "ecsdeploy:seeded";

/// How long a table (or an index being built) may take to become ACTIVE.
const ACTIVE_WAIT: Duration = Duration::from_secs(1800);

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;

/// How many times one batch is sent while DynamoDB leaves items unprocessed.
const BATCH_ATTEMPTS: u32 = 10;

type Tags = BTreeMap<String, String>;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let prefix = format!("{}-", ctx.app);
    let names: Vec<String> = ctx
        .aws
        .dynamodb
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(err)
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

/// The normal form of `Spec::fields` for a described table. `seeded` only when the config
/// has seed items (true iff the table carries the `ecsdeploy:seeded` tag).
fn fields_of(
    t: &TableDescription,
    pitr: bool,
    ttl: Option<String>,
    tags: &Tags,
    with_seed: bool,
) -> Fields {
    let types: BTreeMap<&str, &str> = t
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    let key_schema = |ks: &[KeySchemaElement]| -> Value {
        let mut ks: Vec<&KeySchemaElement> = ks.iter().collect();
        // HASH before RANGE.
        ks.sort_by_key(|k| k.key_type().as_str().to_string());
        Value::Array(
            ks.iter()
                .map(|k| {
                    json!({
                        "attribute": k.attribute_name(),
                        "type": types.get(k.attribute_name()).copied().unwrap_or_default(),
                        "key": k.key_type().as_str(),
                    })
                })
                .collect(),
        )
    };
    let billing = t
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map_or("PROVISIONED", |m| m.as_str());
    let provisioned = billing == "PROVISIONED";
    let capacity = |p: Option<&aws_sdk_dynamodb::types::ProvisionedThroughputDescription>| {
        if provisioned {
            (
                json!(p.and_then(|p| p.read_capacity_units())),
                json!(p.and_then(|p| p.write_capacity_units())),
            )
        } else {
            (Value::Null, Value::Null)
        }
    };
    let mut indexes: Vec<Value> = t
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let mut non_key: Vec<&str> = i
                .projection()
                .map(|p| p.non_key_attributes().iter().map(String::as_str).collect())
                .unwrap_or_default();
            non_key.sort_unstable();
            let (read, write) = capacity(i.provisioned_throughput());
            json!({
                "name": i.index_name(),
                "key_schema": key_schema(i.key_schema()),
                "projection": i
                    .projection()
                    .and_then(|p| p.projection_type())
                    .map_or("ALL", |p| p.as_str()),
                "non_key_attributes": non_key,
                "read_capacity": read,
                "write_capacity": write,
            })
        })
        .collect();
    indexes.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_string());
    let (read, write) = capacity(t.provisioned_throughput());
    let mut fields: Fields = [
        ("key_schema", key_schema(t.key_schema())),
        ("billing_mode", json!(billing)),
        ("read_capacity", read),
        ("write_capacity", write),
        (
            "table_class",
            json!(t
                .table_class_summary()
                .and_then(|c| c.table_class())
                .map_or("STANDARD", |c| c.as_str())),
        ),
        ("point_in_time_recovery", json!(pitr)),
        ("ttl_attribute", json!(ttl)),
        (
            "deletion_protection",
            json!(t.deletion_protection_enabled().unwrap_or(false)),
        ),
        ("indexes", Value::Array(indexes)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if with_seed {
        fields.insert("seeded".into(), json!(tags.contains_key(TAG_SEEDED)));
    }
    fields
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
        let out = ctx
            .aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(err);
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

// ---- requests ---------------------------------------------------------------------------

fn key_element(name: &str, key: KeyType) -> Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key)
        .build()?)
}

fn key_schema(hash: &KeyAttr, range: Option<&KeyAttr>) -> Result<Vec<KeySchemaElement>> {
    std::iter::once(key_element(&hash.name, KeyType::Hash))
        .chain(range.map(|k| key_element(&k.name, KeyType::Range)))
        .collect()
}

/// Attribute definitions for the key attributes of the table and of `indexes`, each name
/// once (the first definition wins; validation keeps the types of a name consistent).
fn attribute_definitions<'a>(
    s: &'a TableSpec,
    indexes: impl IntoIterator<Item = &'a IndexSpec>,
) -> Result<Vec<AttributeDefinition>> {
    let mut seen = BTreeSet::new();
    let mut defs = Vec::new();
    let keys = std::iter::once(&s.hash_key)
        .chain(s.range_key.as_ref())
        .chain(
            indexes
                .into_iter()
                .flat_map(|i| std::iter::once(&i.hash_key).chain(i.range_key.as_ref())),
        );
    for k in keys {
        if seen.insert(k.name.as_str()) {
            defs.push(
                AttributeDefinition::builder()
                    .attribute_name(&k.name)
                    .attribute_type(ScalarAttributeType::from(k.attr_type.as_str()))
                    .build()?,
            );
        }
    }
    Ok(defs)
}

fn throughput(read: Option<u32>, write: Option<u32>) -> Result<ProvisionedThroughput> {
    Ok(ProvisionedThroughput::builder()
        .read_capacity_units(i64::from(read.unwrap_or(5)))
        .write_capacity_units(i64::from(write.unwrap_or(5)))
        .build()?)
}

fn projection(i: &IndexSpec) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(i.projection.as_str()))
        .set_non_key_attributes((i.projection == "INCLUDE").then(|| i.non_key_attributes.clone()))
        .build()
}

fn provisioned(s: &TableSpec) -> bool {
    s.billing_mode == "PROVISIONED"
}

fn gsi(s: &TableSpec, i: &IndexSpec) -> Result<GlobalSecondaryIndex> {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(&i.name)
        .set_key_schema(Some(key_schema(&i.hash_key, i.range_key.as_ref())?))
        .projection(projection(i));
    if provisioned(s) {
        b = b.provisioned_throughput(throughput(i.read_capacity, i.write_capacity)?);
    }
    Ok(b.build()?)
}

// ---- create -----------------------------------------------------------------------------

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::DynamodbTable(s) = &r.spec else {
        unreachable!()
    };
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
            return adopt(ctx, r, res).await;
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
async fn adopt(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let key = r.id.to_string();
    let Some(t) = describe(ctx, &r.name).await? else {
        bail!(
            "table {} was reported to exist but cannot be found; run the command again",
            r.name
        );
    };
    if t.table_status().is_some_and(|s| s.as_str() == "DELETING") {
        wait_gone(ctx, &key, &r.name, ACTIVE_WAIT).await?;
        return Box::pin(create(ctx, r, res)).await;
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
    update(ctx, r, &o, res).await
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

/// What the table is still busy with (`CREATING`, `index byGenre CREATING`), or `None`
/// when it and every index are ACTIVE.
fn pending(t: &TableDescription) -> Option<String> {
    let status = t.table_status().map_or("UNKNOWN", |s| s.as_str());
    if status != "ACTIVE" {
        return Some(status.to_string());
    }
    t.global_secondary_indexes().iter().find_map(|i| {
        let st = i.index_status().map_or("UNKNOWN", |s| s.as_str());
        (st != "ACTIVE").then(|| {
            let backfill = if i.backfilling() == Some(true) {
                ", backfilling"
            } else {
                ""
            };
            format!(
                "index {} {st}{backfill}",
                i.index_name().unwrap_or_default()
            )
        })
    })
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
            ctx.aws
                .dynamodb
                .update_continuous_backups()
                .table_name(name)
                .point_in_time_recovery_specification(spec.clone())
                .send()
                .await
                .map_err(err)
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

// ---- seed -------------------------------------------------------------------------------

/// Write the seed items, then tag the table as seeded.
async fn seed_table(ctx: &Ctx, key: &str, name: &str, arn: &str, seed: &SeedSpec) -> Result<()> {
    let items = seed
        .items
        .iter()
        .map(item_of)
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("seed file {}", seed.file))?;
    let total = items.len();
    let mut written = 0;
    for chunk in items.chunks(BATCH) {
        let requests = chunk
            .iter()
            .map(|item| {
                Ok(WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build()?)
                    .build())
            })
            .collect::<Result<Vec<_>>>()?;
        write_batch(
            requests,
            BATCH_ATTEMPTS,
            Duration::from_millis(200),
            |reqs| async move {
                let out = ctx
                    .aws
                    .dynamodb
                    .batch_write_item()
                    .request_items(name, reqs)
                    .send()
                    .await
                    .map_err(err)?;
                Ok(out
                    .unprocessed_items()
                    .and_then(|u| u.get(name))
                    .cloned()
                    .unwrap_or_default())
            },
        )
        .await
        .with_context(|| {
            format!(
                "seeding table {name} from {} (items {}..{} of {total}); run the command \
                 again to write the seed again",
                seed.file,
                written,
                written + chunk.len()
            )
        })?;
        written += chunk.len();
        ctx.report
            .progress(key, &format!("seeding: {written}/{total} items"));
    }
    ctx.aws
        .dynamodb
        .tag_resource()
        .resource_arn(arn)
        .tags(Tag::builder().key(TAG_SEEDED).value(&seed.digest).build()?)
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("tagging table {name} as seeded"))?;
    Ok(())
}

/// Send `pending` with `send` (which answers the unprocessed requests) until none are
/// left, pausing with exponential backoff between attempts; at most `attempts` sends.
async fn write_batch<F, Fut>(
    mut pending: Vec<WriteRequest>,
    attempts: u32,
    first_pause: Duration,
    mut send: F,
) -> Result<()>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>>>,
{
    let mut pause = first_pause;
    for attempt in 1..=attempts {
        pending = send(pending).await?;
        if pending.is_empty() {
            return Ok(());
        }
        if attempt < attempts {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    }
    bail!(
        "{} item(s) were still unprocessed after {attempts} attempts (throttled: is the \
         table's write capacity too low?)",
        pending.len()
    )
}

/// An item in DynamoDB JSON as the SDK's attribute map.
fn item_of(item: &serde_json::Map<String, Value>) -> Result<HashMap<String, AttributeValue>> {
    item.iter()
        .map(|(k, v)| {
            attribute_value(v)
                .with_context(|| format!("attribute `{k}`"))
                .map(|v| (k.clone(), v))
        })
        .collect()
}

/// One DynamoDB JSON value (`{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, `{"M": {...}}`
/// ...) as an `AttributeValue`.
pub fn attribute_value<'a>(v: &'a Value) -> Result<AttributeValue> {
    let m = v
        .as_object()
        .filter(|m| m.len() == 1)
        .ok_or_else(|| anyhow!("expected exactly one type descriptor, found {v}"))?;
    let (ty, inner) = m.iter().next().expect("one entry");
    let text = |x: &Value| -> Result<String> {
        x.as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{ty} needs a string, found {x}"))
    };
    let blob = |x: &Value| -> Result<Blob> {
        let s = text(x)?;
        Ok(Blob::new(
            aws_smithy_types::base64::decode(&s).map_err(|e| anyhow!("{ty}: bad base64: {e}"))?,
        ))
    };
    let list = |x: &'a Value| -> Result<&'a [Value]> {
        x.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| anyhow!("{ty} needs an array, found {x}"))
    };
    let flag = |x: &Value| -> Result<bool> {
        x.as_bool()
            .ok_or_else(|| anyhow!("{ty} needs a boolean, found {x}"))
    };
    Ok(match ty.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        "N" => AttributeValue::N(text(inner)?),
        "B" => AttributeValue::B(blob(inner)?),
        "BOOL" => AttributeValue::Bool(flag(inner)?),
        "NULL" => AttributeValue::Null(flag(inner)?),
        "M" => AttributeValue::M(
            inner
                .as_object()
                .ok_or_else(|| anyhow!("M needs an object, found {inner}"))?
                .iter()
                .map(|(k, v)| {
                    attribute_value(v)
                        .with_context(|| format!("in `{k}`"))
                        .map(|v| (k.clone(), v))
                })
                .collect::<Result<_>>()?,
        ),
        "L" => AttributeValue::L(
            list(inner)?
                .iter()
                .map(attribute_value)
                .collect::<Result<_>>()?,
        ),
        "SS" => AttributeValue::Ss(list(inner)?.iter().map(text).collect::<Result<_>>()?),
        "NS" => AttributeValue::Ns(list(inner)?.iter().map(text).collect::<Result<_>>()?),
        "BS" => AttributeValue::Bs(list(inner)?.iter().map(blob).collect::<Result<_>>()?),
        other => bail!("unknown type descriptor `{other}`"),
    })
}

// ---- update -----------------------------------------------------------------------------

/// The `indexes` field as name -> index.
fn index_map(fields: &Fields) -> BTreeMap<String, Value> {
    fields
        .get("indexes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap_or_default().to_string(),
                        i.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Same keys and projection: the index can stay (capacities are updated in place).
fn same_definition(a: &Value, b: &Value) -> bool {
    ["key_schema", "projection", "non_key_attributes"]
        .iter()
        .all(|k| a.get(k) == b.get(k))
}

fn same_capacity(a: &Value, b: &Value) -> bool {
    ["read_capacity", "write_capacity"]
        .iter()
        .all(|k| a.get(k) == b.get(k))
}

/// What an update does to the indexes, in order: delete (removed or redefined), update
/// capacities of the kept ones, create (new or redefined).
#[derive(Debug, Default, PartialEq)]
struct IndexChanges {
    delete: Vec<String>,
    capacity: Vec<String>,
    create: Vec<String>,
}

fn index_changes(have: &Fields, want: &Fields) -> IndexChanges {
    let have = index_map(have);
    let want = index_map(want);
    let mut c = IndexChanges::default();
    for (name, h) in &have {
        match want.get(name) {
            Some(w) if same_definition(h, w) => {
                if !same_capacity(h, w) {
                    c.capacity.push(name.clone());
                }
            }
            _ => c.delete.push(name.clone()),
        }
    }
    for (name, w) in &want {
        if !have.get(name).is_some_and(|h| same_definition(h, w)) {
            c.create.push(name.clone());
        }
    }
    c
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::DynamodbTable(s) = &r.spec else {
        unreachable!()
    };
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
        let lifted = retry_until(ctx.delete_deadline, busy, || async {
            ctx.aws
                .dynamodb
                .update_table()
                .table_name(name)
                .deletion_protection_enabled(false)
                .send()
                .await
                .map(|_| ())
                .map_err(err)
        })
        .await;
        match lifted {
            Ok(()) => {}
            Err(e) if is_gone(&e) => return Ok(()),
            Err(e) => {
                return Err(e.context(format!("turning deletion protection off for table {name}")))
            }
        }
    }
    let deleted = retry_until(ctx.delete_deadline, busy, || async {
        ctx.aws
            .dynamodb
            .delete_table()
            .table_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(err)
    })
    .await;
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use aws_sdk_dynamodb::types::{
        BillingModeSummary, GlobalSecondaryIndexDescription, IndexStatus,
        ProvisionedThroughputDescription, TableClassSummary, TableStatus,
    };

    use super::*;
    use crate::desired::NoRefs;

    fn attr(name: &str, t: &str) -> KeyAttr {
        KeyAttr {
            name: name.into(),
            attr_type: t.into(),
        }
    }

    fn spec() -> TableSpec {
        TableSpec {
            hash_key: attr("Artist", "S"),
            range_key: Some(attr("Song", "S")),
            billing_mode: "PAY_PER_REQUEST".into(),
            read_capacity: None,
            write_capacity: None,
            table_class: "STANDARD".into(),
            point_in_time_recovery: true,
            ttl_attribute: Some("expires".into()),
            deletion_protection: true,
            indexes: vec![
                IndexSpec {
                    name: "byYear".into(),
                    hash_key: attr("Year", "N"),
                    range_key: None,
                    projection: "KEYS_ONLY".into(),
                    non_key_attributes: vec![],
                    read_capacity: None,
                    write_capacity: None,
                },
                IndexSpec {
                    name: "byGenre".into(),
                    hash_key: attr("Genre", "S"),
                    range_key: Some(attr("Song", "S")),
                    projection: "INCLUDE".into(),
                    non_key_attributes: vec!["b".into(), "a".into()],
                    read_capacity: None,
                    write_capacity: None,
                },
            ],
            seed: Some(SeedSpec {
                file: "music.json".into(),
                items: vec![],
                digest: "abc".into(),
            }),
        }
    }

    fn def(name: &str, t: &str) -> AttributeDefinition {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::from(t))
            .build()
            .unwrap()
    }

    fn ks(name: &str, k: KeyType) -> KeySchemaElement {
        key_element(name, k).unwrap()
    }

    fn capacity(r: i64, w: i64) -> ProvisionedThroughputDescription {
        ProvisionedThroughputDescription::builder()
            .read_capacity_units(r)
            .write_capacity_units(w)
            .number_of_decreases_today(0)
            .build()
    }

    /// As DynamoDB (and moto) describe the table `spec()` makes: on-demand tables report
    /// zero capacities, no table class summary, key schema range-first here on purpose.
    fn described(billing: &str, cap: (i64, i64)) -> TableDescription {
        TableDescription::builder()
            .table_name("demo-music")
            .table_arn("arn:aws:dynamodb:ap-northeast-1:1:table/demo-music")
            .table_status(TableStatus::Active)
            .attribute_definitions(def("Artist", "S"))
            .attribute_definitions(def("Song", "S"))
            .attribute_definitions(def("Genre", "S"))
            .attribute_definitions(def("Year", "N"))
            .key_schema(ks("Song", KeyType::Range))
            .key_schema(ks("Artist", KeyType::Hash))
            .billing_mode_summary(
                BillingModeSummary::builder()
                    .billing_mode(BillingMode::from(billing))
                    .build(),
            )
            .provisioned_throughput(capacity(cap.0, cap.1))
            .deletion_protection_enabled(true)
            .item_count(4)
            .table_size_bytes(120)
            .global_secondary_indexes(
                GlobalSecondaryIndexDescription::builder()
                    .index_name("byGenre")
                    .key_schema(ks("Genre", KeyType::Hash))
                    .key_schema(ks("Song", KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .non_key_attributes("b")
                            .non_key_attributes("a")
                            .build(),
                    )
                    .index_status(IndexStatus::Active)
                    .provisioned_throughput(capacity(cap.0, cap.1))
                    .build(),
            )
            .global_secondary_indexes(
                GlobalSecondaryIndexDescription::builder()
                    .index_name("byYear")
                    .key_schema(ks("Year", KeyType::Hash))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .index_status(IndexStatus::Active)
                    .provisioned_throughput(capacity(cap.0, cap.1))
                    .build(),
            )
            .build()
    }

    fn seeded_tags() -> Tags {
        Tags::from([
            (TAG_APP.to_string(), "demo".to_string()),
            (TAG_SEEDED.to_string(), "abc".to_string()),
        ])
    }

    #[test]
    fn converged_on_demand_table_diffs_to_nothing() {
        let s = spec();
        let want = Spec::DynamodbTable(s).fields(&NoRefs);
        let t = described("PAY_PER_REQUEST", (0, 0));
        let have = fields_of(&t, true, Some("expires".into()), &seeded_tags(), true);
        assert_eq!(diff_fields(&have, &want), vec![]);
        assert_eq!(have["read_capacity"], Value::Null);
        assert_eq!(have["indexes"][0]["non_key_attributes"], json!(["a", "b"]));
    }

    #[test]
    fn converged_provisioned_table_diffs_to_nothing() {
        let mut s = spec();
        s.billing_mode = "PROVISIONED".into();
        s.read_capacity = Some(7);
        s.write_capacity = Some(3);
        for i in &mut s.indexes {
            i.read_capacity = Some(7);
            i.write_capacity = Some(3);
        }
        s.table_class = "STANDARD_INFREQUENT_ACCESS".into();
        s.seed = None;
        let want = Spec::DynamodbTable(s).fields(&NoRefs);
        let mut t = described("PROVISIONED", (7, 3));
        t.table_class_summary = Some(
            TableClassSummary::builder()
                .table_class(TableClass::StandardInfrequentAccess)
                .build(),
        );
        // Tables that were always provisioned may have no billing mode summary.
        t.billing_mode_summary = None;
        let have = fields_of(&t, true, Some("expires".into()), &seeded_tags(), false);
        assert_eq!(diff_fields(&have, &want), vec![]);
        assert!(!have.contains_key("seeded"));
    }

    #[test]
    fn seeded_is_the_tag() {
        let t = described("PAY_PER_REQUEST", (0, 0));
        let tags = Tags::from([(TAG_APP.to_string(), "demo".to_string())]);
        let have = fields_of(&t, false, None, &tags, true);
        assert_eq!(have["seeded"], json!(false));
        assert_eq!(have["point_in_time_recovery"], json!(false));
        assert_eq!(have["ttl_attribute"], Value::Null);
        assert_eq!(have["table_class"], json!("STANDARD"));
        let o = observed(
            ResourceId::new(Kind::DynamodbTable, "music"),
            &t,
            false,
            None,
            &tags,
            true,
        );
        assert_eq!(o.state, "ACTIVE");
        assert_eq!(o.details, json!({"item_count": 4, "size_bytes": 120}));
        assert_eq!(o.outputs.id(), "demo-music");
        assert_eq!(
            o.outputs.get(Attr::Arn),
            Some("arn:aws:dynamodb:ap-northeast-1:1:table/demo-music")
        );
    }

    #[test]
    fn pending_names_what_is_not_active() {
        let t = described("PAY_PER_REQUEST", (0, 0));
        assert_eq!(pending(&t), None);
        let mut t2 = t.clone();
        t2.table_status = Some(TableStatus::Creating);
        assert_eq!(pending(&t2).as_deref(), Some("CREATING"));
        let mut t3 = t.clone();
        t3.global_secondary_indexes = Some(vec![GlobalSecondaryIndexDescription::builder()
            .index_name("byGenre")
            .index_status(IndexStatus::Creating)
            .backfilling(true)
            .build()]);
        assert_eq!(
            pending(&t3).as_deref(),
            Some("index byGenre CREATING, backfilling")
        );
    }

    #[test]
    fn attribute_definitions_cover_every_key_once() {
        let s = spec();
        let defs = attribute_definitions(&s, &s.indexes).unwrap();
        let names: Vec<(&str, &str)> = defs
            .iter()
            .map(|d| (d.attribute_name(), d.attribute_type().as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Artist", "S"),
                ("Song", "S"),
                ("Year", "N"),
                ("Genre", "S")
            ]
        );
        let table_only = attribute_definitions(&s, []).unwrap();
        assert_eq!(table_only.len(), 2);
    }

    #[test]
    fn gsi_capacities_only_when_provisioned() {
        let mut s = spec();
        let g = gsi(&s, &s.indexes[1]).unwrap();
        assert!(g.provisioned_throughput().is_none());
        let p = g.projection().unwrap();
        assert_eq!(p.projection_type(), Some(&ProjectionType::Include));
        assert_eq!(p.non_key_attributes(), ["b", "a"]);
        let g = gsi(&s, &s.indexes[0]).unwrap();
        assert!(g.projection().unwrap().non_key_attributes.is_none());
        s.billing_mode = "PROVISIONED".into();
        s.indexes[0].read_capacity = Some(9);
        let g = gsi(&s, &s.indexes[0]).unwrap();
        assert_eq!(g.provisioned_throughput().unwrap().read_capacity_units(), 9);
    }

    #[test]
    fn index_changes_delete_update_create() {
        let base = spec();
        let have = Spec::DynamodbTable(base.clone()).fields(&NoRefs);
        assert_eq!(index_changes(&have, &have), IndexChanges::default());

        let mut s = base.clone();
        s.indexes.remove(0); // byYear gone
        s.indexes[0].non_key_attributes = vec!["c".into()]; // byGenre redefined
        s.indexes.push(IndexSpec {
            name: "byAlbum".into(),
            hash_key: attr("Album", "S"),
            range_key: None,
            projection: "ALL".into(),
            non_key_attributes: vec![],
            read_capacity: None,
            write_capacity: None,
        });
        let want = Spec::DynamodbTable(s).fields(&NoRefs);
        assert_eq!(
            index_changes(&have, &want),
            IndexChanges {
                delete: vec!["byGenre".into(), "byYear".into()],
                capacity: vec![],
                create: vec!["byAlbum".into(), "byGenre".into()],
            }
        );

        let mut s = base;
        s.indexes[0].read_capacity = Some(10);
        let want = Spec::DynamodbTable(s).fields(&NoRefs);
        assert_eq!(
            index_changes(&have, &want),
            IndexChanges {
                capacity: vec!["byYear".into()],
                ..Default::default()
            }
        );
    }

    #[test]
    fn dynamodb_json_to_attribute_values() {
        let v = json!({
            "s": {"S": "x"}, "n": {"N": "10"}, "b": {"B": "aGk="}, "t": {"BOOL": true},
            "z": {"NULL": true},
            "m": {"M": {"inner": {"L": [{"S": "a"}, {"N": "1"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["aGk=", "eW8="]}
        });
        let item = item_of(v.as_object().unwrap()).unwrap();
        assert_eq!(item["s"], AttributeValue::S("x".into()));
        assert_eq!(item["n"], AttributeValue::N("10".into()));
        assert_eq!(item["b"], AttributeValue::B(Blob::new(b"hi".to_vec())));
        assert_eq!(item["t"], AttributeValue::Bool(true));
        assert_eq!(item["z"], AttributeValue::Null(true));
        assert_eq!(
            item["m"],
            AttributeValue::M(HashMap::from([(
                "inner".to_string(),
                AttributeValue::L(vec![
                    AttributeValue::S("a".into()),
                    AttributeValue::N("1".into())
                ])
            )]))
        );
        assert_eq!(item["ss"], AttributeValue::Ss(vec!["a".into(), "b".into()]));
        assert_eq!(item["ns"], AttributeValue::Ns(vec!["1".into(), "2".into()]));
        assert_eq!(
            item["bs"],
            AttributeValue::Bs(vec![Blob::new(b"hi".to_vec()), Blob::new(b"yo".to_vec())])
        );
    }

    #[test]
    fn malformed_dynamodb_json_is_an_error() {
        for bad in [
            json!("x"),
            json!({}),
            json!({"S": "a", "N": "1"}),
            json!({"S": 1}),
            json!({"B": "%%"}),
            json!({"L": {}}),
            json!({"M": []}),
            json!({"BOOL": "yes"}),
            json!({"Q": 1}),
        ] {
            assert!(attribute_value(&bad).is_err(), "{bad}");
        }
        let e = item_of(json!({"a": {"M": {"b": {"S": 1}}}}).as_object().unwrap()).unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "attribute `a`: in `b`: S needs a string, found 1"
        );
    }

    fn put(id: &str) -> WriteRequest {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .item("id", AttributeValue::S(id.into()))
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[tokio::test]
    async fn unprocessed_items_are_sent_again() {
        let sent = RefCell::new(Vec::new());
        let r = write_batch(
            vec![put("a"), put("b"), put("c")],
            5,
            Duration::ZERO,
            |reqs| {
                sent.borrow_mut().push(reqs.len());
                // Each send leaves the last request unprocessed while more than one is left.
                let mut reqs = reqs;
                let left = if reqs.len() > 1 {
                    reqs.split_off(reqs.len() - 1)
                } else {
                    vec![]
                };
                async move { Ok(left) }
            },
        )
        .await;
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(*sent.borrow(), vec![3, 1]);
    }

    #[tokio::test]
    async fn unprocessed_items_give_up_after_the_attempts() {
        let calls = RefCell::new(0);
        let r = write_batch(vec![put("a"), put("b")], 4, Duration::ZERO, |reqs| {
            *calls.borrow_mut() += 1;
            async move { Ok(reqs) }
        })
        .await;
        assert_eq!(*calls.borrow(), 4);
        let e = r.unwrap_err().to_string();
        assert!(
            e.starts_with("2 item(s) were still unprocessed after 4 attempts"),
            "{e}"
        );

        let r = write_batch(vec![put("a")], 4, Duration::ZERO, |_| async {
            bail!("ValidationException: bad")
        })
        .await;
        assert_eq!(r.unwrap_err().to_string(), "ValidationException: bad");
    }
}
