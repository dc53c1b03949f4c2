//! `[tables.<key>]`: names, keys, capacities and indexes.

use super::*;

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
        .map(|i| {
            format!(
                "[[tables.music.indexes]]\nname = \"ix{i:02}\"\nhash_key = {{ name = \"A\" }}\n"
            )
        })
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
