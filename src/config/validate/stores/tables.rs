//! `[tables.<key>]`: DynamoDB table and index names, key attributes, capacities.

use std::collections::BTreeMap;

use super::store_path;
use crate::config::diagnostic::KeyPath;
use crate::config::model::{Billing, KeyAttribute, KeyType, Projection, StoreKind, Table};
use crate::config::validate::Validator;

/// Global secondary indexes one table may have (the AWS default quota).
pub const MAX_TABLE_INDEXES: usize = 20;

/// Non-key attributes all `INCLUDE` indexes of one table may project, together.
pub const MAX_PROJECTED_ATTRIBUTES: usize = 100;

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

impl Validator<'_> {
    pub(super) fn table<'k>(
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
        let name_path = tp.key_if(explicit, "name");
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
        self.unique(names, name, key, name_path, |name, prev| {
            format!(
                "table name `{name}` is also the name of tables.{prev}; every table needs its \
                 own name"
            )
        });

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
    pub(super) fn capacities(
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
}
