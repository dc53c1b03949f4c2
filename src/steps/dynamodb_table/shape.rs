//! The pure side of the table step: the normal form of a described table (what a diff
//! compares with `Spec::fields`), the pieces of CreateTable/UpdateTable requests, and what
//! an update does to the indexes.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, TableDescription,
};
use serde_json::{json, Value};

use super::{Tags, TAG_SEEDED};
use crate::desired::{Fields, IndexSpec, KeyAttr, TableSpec};

/// The normal form of `Spec::fields` for a described table. `seeded` only when the config
/// has seed items (true iff the table carries the `ecsdeploy:seeded` tag).
pub(super) fn fields_of(
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

pub(super) fn key_element(name: &str, key: KeyType) -> Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key)
        .build()?)
}

pub(super) fn key_schema(hash: &KeyAttr, range: Option<&KeyAttr>) -> Result<Vec<KeySchemaElement>> {
    std::iter::once(key_element(&hash.name, KeyType::Hash))
        .chain(range.map(|k| key_element(&k.name, KeyType::Range)))
        .collect()
}

/// Attribute definitions for the key attributes of the table and of `indexes`, each name
/// once (the first definition wins; validation keeps the types of a name consistent).
pub(super) fn attribute_definitions<'a>(
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

pub(super) fn throughput(read: Option<u32>, write: Option<u32>) -> Result<ProvisionedThroughput> {
    Ok(ProvisionedThroughput::builder()
        .read_capacity_units(i64::from(read.unwrap_or(5)))
        .write_capacity_units(i64::from(write.unwrap_or(5)))
        .build()?)
}

pub(super) fn projection(i: &IndexSpec) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(i.projection.as_str()))
        .set_non_key_attributes((i.projection == "INCLUDE").then(|| i.non_key_attributes.clone()))
        .build()
}

pub(super) fn provisioned(s: &TableSpec) -> bool {
    s.billing_mode == "PROVISIONED"
}

pub(super) fn gsi(s: &TableSpec, i: &IndexSpec) -> Result<GlobalSecondaryIndex> {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(&i.name)
        .set_key_schema(Some(key_schema(&i.hash_key, i.range_key.as_ref())?))
        .projection(projection(i));
    if provisioned(s) {
        b = b.provisioned_throughput(throughput(i.read_capacity, i.write_capacity)?);
    }
    Ok(b.build()?)
}

/// What the table is still busy with (`CREATING`, `index byGenre CREATING`), or `None`
/// when it and every index are ACTIVE.
pub(super) fn pending(t: &TableDescription) -> Option<String> {
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

/// The `indexes` field as name -> index.
pub(super) fn index_map(fields: &Fields) -> BTreeMap<String, Value> {
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
pub(super) fn same_definition(a: &Value, b: &Value) -> bool {
    ["key_schema", "projection", "non_key_attributes"]
        .iter()
        .all(|k| a.get(k) == b.get(k))
}

pub(super) fn same_capacity(a: &Value, b: &Value) -> bool {
    ["read_capacity", "write_capacity"]
        .iter()
        .all(|k| a.get(k) == b.get(k))
}

/// What an update does to the indexes, in order: delete (removed or redefined), update
/// capacities of the kept ones, create (new or redefined).
#[derive(Debug, Default, PartialEq)]
pub(super) struct IndexChanges {
    pub(super) delete: Vec<String>,
    pub(super) capacity: Vec<String>,
    pub(super) create: Vec<String>,
}

pub(super) fn index_changes(have: &Fields, want: &Fields) -> IndexChanges {
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
