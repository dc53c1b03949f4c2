//! Pure tests of the table step: normal forms, requests, index changes.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingModeSummary, GlobalSecondaryIndexDescription, IndexStatus,
    KeySchemaElement, KeyType, Projection, ProjectionType, ProvisionedThroughputDescription,
    ScalarAttributeType, TableClassSummary, TableStatus,
};

use super::*;
use crate::desired::{KeyAttr, NoRefs, SeedSpec, TableSpec};

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
