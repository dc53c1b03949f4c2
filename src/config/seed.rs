//! Seed files of `[tables.<key>] seed = "file"`: items in DynamoDB JSON, checked when the
//! config is loaded so a bad file stops `up` before any AWS call (pure).
//!
//! Two shapes are accepted:
//! - a JSON array of items: `[{"Artist": {"S": "Acme"}, "Awards": {"N": "10"}}, ...]`;
//! - the `aws dynamodb batch-write-item --request-items` file, for exactly one table:
//!   `{"<TableName>": [{"PutRequest": {"Item": {...}}}, ...]}`.
//!
//! The file is parsed once, here, into typed items ([`SeedItem`]): the table step writes
//! those without reading DynamoDB JSON again.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::model::{KeyAttribute, KeyType, SeedItems};

/// The type descriptors of DynamoDB JSON.
const DESCRIPTORS: &str = "S, N, B, BOOL, NULL, M, L, SS, NS, BS";

/// One item of a seed file: attribute name → value.
pub type SeedItem = BTreeMap<String, SeedValue>;

/// One attribute value of a seed item, checked: numbers are valid DynamoDB numbers (kept
/// as written), binaries decoded, sets non-empty and without repeats.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedValue {
    S(String),
    N(String),
    B(Vec<u8>),
    Bool(bool),
    /// `{"NULL": true}`.
    Null,
    M(BTreeMap<String, SeedValue>),
    L(Vec<SeedValue>),
    Ss(Vec<String>),
    Ns(Vec<String>),
    Bs(Vec<Vec<u8>>),
}

impl SeedValue {
    /// The value in DynamoDB JSON (binaries in base64).
    pub fn to_json(&self) -> Value {
        let b64 = |b: &Vec<u8>| Value::String(aws_smithy_types::base64::encode(b));
        let strings =
            |v: &Vec<String>| Value::Array(v.iter().cloned().map(Value::String).collect());
        let (ty, inner) = match self {
            SeedValue::S(s) => ("S", Value::String(s.clone())),
            SeedValue::N(n) => ("N", Value::String(n.clone())),
            SeedValue::B(b) => ("B", b64(b)),
            SeedValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            SeedValue::Null => ("NULL", Value::Bool(true)),
            SeedValue::M(m) => (
                "M",
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            ),
            SeedValue::L(l) => (
                "L",
                Value::Array(l.iter().map(SeedValue::to_json).collect()),
            ),
            SeedValue::Ss(v) => ("SS", strings(v)),
            SeedValue::Ns(v) => ("NS", strings(v)),
            SeedValue::Bs(v) => ("BS", Value::Array(v.iter().map(b64).collect())),
        };
        Value::Object(Map::from_iter([(ty.to_string(), inner)]))
    }
}

/// A value equals the DynamoDB JSON that writes it.
impl PartialEq<Value> for SeedValue {
    fn eq(&self, other: &Value) -> bool {
        self.to_json() == *other
    }
}

/// Parse and check a seed file's text against the table's key attributes. Every problem
/// is returned, each naming the item (by index, from 0) and the attribute.
pub fn parse_seed(
    text: &str,
    hash: &KeyAttribute,
    range: Option<&KeyAttribute>,
) -> Result<SeedItems, Vec<String>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| vec![json_error(&e)])?;
    let raw = items_of(doc)?;
    let mut errors = Vec::new();
    let mut items = Vec::with_capacity(raw.len());
    // Key of each item -> index of the first item with it: BatchWriteItem refuses a batch
    // that puts the same key twice.
    let mut keys: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
    for (i, item) in raw.into_iter().enumerate() {
        let Value::Object(map) = item else {
            errors.push(format!(
                "item [{i}]: an item must be a JSON object of attributes, found {}",
                json_type(&item)
            ));
            continue;
        };
        let before = errors.len();
        let mut typed = SeedItem::new();
        for (name, v) in &map {
            if let Some(v) = parse_value(v, &format!("item [{i}]: attribute `{name}`"), &mut errors)
            {
                typed.insert(name.clone(), v);
            }
        }
        let mut key = Vec::new();
        for k in std::iter::once(hash).chain(range) {
            match check_key(&map, k) {
                Ok(v) => key.push((k.name.clone(), v)),
                Err(Some(m)) => errors.push(format!("item [{i}]: {m}")),
                Err(None) => {}
            }
        }
        if errors.len() == before && key.len() == 1 + usize::from(range.is_some()) {
            match keys.get(&key) {
                Some(first) => errors.push(format!(
                    "item [{i}]: same key as item [{first}] ({}); BatchWriteItem refuses \
                     duplicate keys",
                    describe_key(&key)
                )),
                None => {
                    keys.insert(key, i);
                }
            }
        }
        items.push(typed);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SeedItems {
        items,
        digest: digest(text),
    })
}

/// Hex sha256 of the file's text.
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `not valid JSON at line L:C: <what>`, from serde_json's error.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let what = match full.rfind(" at line ") {
        Some(at) => &full[..at],
        None => full.as_str(),
    };
    format!("not valid JSON at line {}:{}: {what}", e.line(), e.column())
}

/// The items of either accepted shape, unchecked.
fn items_of(doc: Value) -> Result<Vec<Value>, Vec<String>> {
    const SHAPES: &str = "expected a JSON array of items in DynamoDB JSON \
        ([{\"Id\": {\"S\": \"a\"}}, ...]) or the `aws dynamodb batch-write-item \
        --request-items` format ({\"<TableName>\": [{\"PutRequest\": {\"Item\": {...}}}, ...]})";
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(tables) if tables.len() == 1 => {
            let (table, requests) = tables.into_iter().next().expect("one entry");
            let Value::Array(requests) = requests else {
                return Err(vec![format!(
                    "table `{table}`: the requests must be a JSON array; {SHAPES}"
                )]);
            };
            let mut errors = Vec::new();
            let mut items = Vec::with_capacity(requests.len());
            for (i, req) in requests.into_iter().enumerate() {
                match put_item(req) {
                    Ok(item) => items.push(item),
                    Err(m) => errors.push(format!("item [{i}]: {m}")),
                }
            }
            if errors.is_empty() {
                Ok(items)
            } else {
                Err(errors)
            }
        }
        Value::Object(tables) if tables.len() > 1 => Err(vec![format!(
            "the batch-write-item format must name exactly one table, found {} ({})",
            tables.len(),
            tables
                .keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )]),
        other => Err(vec![format!("found {}; {SHAPES}", json_type(&other))]),
    }
}

/// The item of `{"PutRequest": {"Item": {...}}}`.
fn put_item(req: Value) -> Result<Value, String> {
    let Value::Object(mut req) = req else {
        return Err(format!(
            "expected {{\"PutRequest\": {{\"Item\": {{...}}}}}}, found {}",
            json_type(&req)
        ));
    };
    if req.contains_key("DeleteRequest") {
        return Err("only PutRequest entries can seed a table, found a DeleteRequest".into());
    }
    let keys: Vec<String> = req.keys().cloned().collect();
    match (req.remove("PutRequest"), keys.len()) {
        (Some(Value::Object(mut put)), 1) => match put.remove("Item") {
            Some(item) if put.is_empty() => Ok(item),
            _ => Err("a PutRequest must hold exactly one key, `Item`".into()),
        },
        (Some(other), 1) => Err(format!(
            "a PutRequest must be an object, found {}",
            json_type(&other)
        )),
        _ => Err(format!(
            "expected {{\"PutRequest\": {{\"Item\": {{...}}}}}}, found keys {}",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parse one DynamoDB JSON attribute value (recursively); `at` names it in messages.
/// `None` when it is malformed: every problem found is in `errors`.
fn parse_value(v: &Value, at: &str, errors: &mut Vec<String>) -> Option<SeedValue> {
    let Value::Object(m) = v else {
        errors.push(format!(
            "{at}: expected a DynamoDB JSON value such as {{\"S\": \"text\"}}, found {}",
            json_type(v)
        ));
        return None;
    };
    if m.len() != 1 {
        let found = if m.is_empty() {
            "none".to_string()
        } else {
            m.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        errors.push(format!(
            "{at}: needs exactly one type descriptor ({DESCRIPTORS}), found {found}"
        ));
        return None;
    }
    let (ty, inner) = m.iter().next().expect("one entry");
    let mut fail = |m: String| {
        errors.push(m);
        None
    };
    let wrong = |want: &str| format!("{at}: {ty} needs {want}, found {}", json_type(inner));
    match (ty.as_str(), inner) {
        ("S", Value::String(s)) => Some(SeedValue::S(s.clone())),
        ("N", Value::String(s)) if is_number(s) => Some(SeedValue::N(s.clone())),
        ("N", Value::String(s)) => fail(format!("{at}: N value \"{s}\" is not a number")),
        ("B", Value::String(s)) => match decode_base64(s) {
            Some(b) => Some(SeedValue::B(b)),
            None => fail(format!("{at}: B value is not valid base64")),
        },
        ("BOOL", Value::Bool(b)) => Some(SeedValue::Bool(*b)),
        ("NULL", Value::Bool(true)) => Some(SeedValue::Null),
        ("NULL", Value::Bool(false)) => fail(format!("{at}: NULL must be true")),
        ("M", Value::Object(fields)) => {
            let parsed: BTreeMap<String, Option<SeedValue>> = fields
                .iter()
                .map(|(k, v)| (k.clone(), parse_value(v, &format!("{at}.{k}"), errors)))
                .collect();
            let fields: Option<BTreeMap<String, SeedValue>> =
                parsed.into_iter().map(|(k, v)| v.map(|v| (k, v))).collect();
            fields.map(SeedValue::M)
        }
        ("L", Value::Array(vals)) => {
            let parsed: Vec<Option<SeedValue>> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| parse_value(v, &format!("{at}[{i}]"), errors))
                .collect();
            let vals: Option<Vec<SeedValue>> = parsed.into_iter().collect();
            vals.map(SeedValue::L)
        }
        (set @ ("SS" | "NS" | "BS"), Value::Array(vals)) => {
            let strings = parse_set(set, vals, at, errors)?;
            Some(match set {
                "SS" => SeedValue::Ss(strings),
                "NS" => SeedValue::Ns(strings),
                _ => SeedValue::Bs(
                    strings
                        .iter()
                        .map(|s| decode_base64(s).expect("checked by parse_set"))
                        .collect(),
                ),
            })
        }
        ("S" | "N" | "B", _) => fail(wrong("a string")),
        ("BOOL" | "NULL", _) => fail(wrong("a boolean")),
        ("M", _) => fail(wrong("an object")),
        ("L" | "SS" | "NS" | "BS", _) => fail(wrong("an array")),
        _ => fail(format!(
            "{at}: unknown type descriptor `{ty}` (expected one of {DESCRIPTORS})"
        )),
    }
}

/// SS, NS, BS: non-empty arrays of distinct strings of the element type. The elements,
/// or `None` when any is wrong (all reported in `errors`).
fn parse_set(set: &str, vals: &[Value], at: &str, errors: &mut Vec<String>) -> Option<Vec<String>> {
    if vals.is_empty() {
        errors.push(format!(
            "{at}: {set} must not be empty (DynamoDB has no empty sets)"
        ));
        return None;
    }
    let before = errors.len();
    let mut seen = std::collections::BTreeSet::new();
    for (i, v) in vals.iter().enumerate() {
        let Value::String(s) = v else {
            errors.push(format!(
                "{at}[{i}]: {set} elements must be strings, found {}",
                json_type(v)
            ));
            continue;
        };
        match set {
            "NS" if !is_number(s) => {
                errors.push(format!("{at}[{i}]: NS element \"{s}\" is not a number"));
            }
            "BS" if decode_base64(s).is_none() => {
                errors.push(format!("{at}[{i}]: BS element is not valid base64"));
            }
            _ if !seen.insert(s.as_str()) => {
                errors.push(format!("{at}[{i}]: {set} holds \"{s}\" twice"));
            }
            _ => {}
        }
    }
    (errors.len() == before).then(|| {
        vals.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    })
}

/// The key attribute `k` of an item, checked: present, of the key's type, not empty.
/// Answers the value's canonical text (for duplicate detection); `Err(None)` when the value
/// is malformed, which `parse_value` has already reported.
fn check_key(item: &Map<String, Value>, k: &KeyAttribute) -> Result<String, Option<String>> {
    let want = k.attr_type.as_aws();
    let Some(v) = item.get(&k.name) else {
        return Err(Some(format!(
            "key attribute `{}` ({want}) is missing",
            k.name
        )));
    };
    let Some((ty, inner)) = v
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        return Err(None);
    };
    if ty != want {
        return Err(Some(format!(
            "key attribute `{}` must be of type {want} (the table's key type), found {ty}",
            k.name
        )));
    }
    let Some(text) = inner.as_str() else {
        return Err(None);
    };
    if text.is_empty() {
        return Err(Some(format!(
            "key attribute `{}` must not be empty",
            k.name
        )));
    }
    Ok(match k.attr_type {
        // 1, 1.0 and 10e-1 are the same number, hence the same key.
        KeyType::N => canonical_number(text),
        KeyType::S | KeyType::B => text.to_string(),
    })
}

fn describe_key(key: &[(String, String)]) -> String {
    key.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A DynamoDB number: optional minus, digits with an optional fraction, optional exponent.
pub fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') || b.first() == Some(&b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut n = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        n += digits(&mut i);
    }
    if n == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A number's value as text that is equal for equal numbers (`1`, `1.0`, `10e-1`).
fn canonical_number(s: &str) -> String {
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], s[at + 1..].parse::<i64>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let exp = exp + int.len() as i64;
    let lead = digits.len() - digits.trim_start_matches('0').len();
    let digits = digits.trim_matches('0');
    if digits.is_empty() {
        return "0".to_string();
    }
    let exp = exp - lead as i64;
    format!("{}0.{digits}e{exp}", if neg { "-" } else { "" })
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    aws_smithy_types::base64::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, t: KeyType) -> KeyAttribute {
        KeyAttribute {
            name: name.into(),
            attr_type: t,
        }
    }

    fn parse(text: &str) -> Result<SeedItems, Vec<String>> {
        parse_seed(
            text,
            &key("Artist", KeyType::S),
            Some(&key("Song", KeyType::S)),
        )
    }

    fn one_error(text: &str) -> String {
        let e = parse(text).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        e[0].clone()
    }

    #[test]
    fn array_of_items() {
        let text = r#"[
            {"Artist": {"S": "Acme"}, "Song": {"S": "One"}, "Awards": {"N": "10"}},
            {"Artist": {"S": "Acme"}, "Song": {"S": "Two"},
             "Info": {"M": {"tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2.5"]},
                            "raw": {"B": "aGVsbG8="}, "bins": {"BS": ["aGVsbG8="]},
                            "ok": {"BOOL": false}, "none": {"NULL": true},
                            "list": {"L": [{"S": "x"}, {"N": "-1e3"}]}}}}
        ]"#;
        let s = parse(text).unwrap();
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[0]["Awards"], serde_json::json!({"N": "10"}));
        assert_eq!(s.digest, digest(text));
        assert_eq!(s.digest.len(), 64);
    }

    #[test]
    fn batch_write_item_format() {
        let text = r#"{"Music": [
            {"PutRequest": {"Item": {"Artist": {"S": "A"}, "Song": {"S": "1"}}}},
            {"PutRequest": {"Item": {"Artist": {"S": "A"}, "Song": {"S": "2"}}}}
        ]}"#;
        let s = parse(text).unwrap();
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[1]["Song"], serde_json::json!({"S": "2"}));
    }

    #[test]
    fn the_example_seed_file_parses() {
        let text = include_str!("../../config/examples/dynamodb-webapp-music.json");
        let s = parse_seed(
            text,
            &key("Artist", KeyType::S),
            Some(&key("SongTitle", KeyType::S)),
        )
        .unwrap();
        assert_eq!(s.items.len(), 4);
    }

    #[test]
    fn empty_array_is_no_items() {
        assert!(parse("[]").unwrap().items.is_empty());
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn not_json_has_line_and_col() {
        let e = one_error("[\n  {\"Artist\": }\n]");
        assert!(e.starts_with("not valid JSON at line 2:"), "{e}");
        assert!(!e.contains(" at line 2 column"), "{e}");
    }

    #[test]
    fn other_shapes_are_refused() {
        assert!(one_error("\"x\"").contains("found a string; expected a JSON array"));
        assert!(one_error(r#"{"Artist": {"S": "A"}}"#).contains("must be a JSON array"));
        let e = one_error(r#"{"A": [], "B": []}"#);
        assert!(e.contains("exactly one table, found 2 (`A`, `B`)"), "{e}");
        let e = one_error(r#"{"T": [{"DeleteRequest": {"Key": {}}}]}"#);
        assert!(e.starts_with("item [0]: only PutRequest"), "{e}");
        let e = one_error(r#"{"T": [{"Put": {}}]}"#);
        assert!(e.starts_with("item [0]: expected {\"PutRequest\""), "{e}");
        let e = one_error(r#"[{"Artist": {"S": "A"}, "Song": {"S": "1"}}, 5]"#);
        assert_eq!(
            e,
            "item [1]: an item must be a JSON object of attributes, found a number"
        );
    }

    #[test]
    fn invalid_values_name_item_and_attribute() {
        let item = |attr: &str| {
            format!(r#"[{{"Artist": {{"S": "A"}}, "Song": {{"S": "1"}}, "X": {attr}}}]"#)
        };
        let cases = [
            (
                r#""plain""#,
                "item [0]: attribute `X`: expected a DynamoDB JSON value",
            ),
            (
                r#"{"S": "a", "N": "1"}"#,
                "needs exactly one type descriptor",
            ),
            (r#"{}"#, "found none"),
            (r#"{"STR": "a"}"#, "unknown type descriptor `STR`"),
            (
                r#"{"S": 5}"#,
                "attribute `X`: S needs a string, found a number",
            ),
            (r#"{"N": 5}"#, "N needs a string, found a number"),
            (r#"{"N": "abc"}"#, "N value \"abc\" is not a number"),
            (r#"{"N": "NaN"}"#, "is not a number"),
            (r#"{"B": "not base64!"}"#, "B value is not valid base64"),
            (
                r#"{"BOOL": "true"}"#,
                "BOOL needs a boolean, found a string",
            ),
            (r#"{"NULL": false}"#, "NULL must be true"),
            (r#"{"M": []}"#, "M needs an object, found an array"),
            (r#"{"L": {}}"#, "L needs an array, found an object"),
            (r#"{"SS": []}"#, "SS must not be empty"),
            (
                r#"{"SS": ["a", 1]}"#,
                "attribute `X`[1]: SS elements must be strings",
            ),
            (r#"{"SS": ["a", "a"]}"#, "SS holds \"a\" twice"),
            (
                r#"{"NS": ["1", "x"]}"#,
                "`X`[1]: NS element \"x\" is not a number",
            ),
            (r#"{"BS": ["%%"]}"#, "BS element is not valid base64"),
            (
                r#"{"M": {"inner": {"N": "z"}}}"#,
                "attribute `X`.inner: N value \"z\"",
            ),
            (
                r#"{"L": [{"S": "a"}, {"Q": 1}]}"#,
                "attribute `X`[1]: unknown type descriptor",
            ),
        ];
        for (attr, want) in cases {
            let e = one_error(&item(attr));
            assert!(e.contains(want), "{attr}: {e}");
            assert!(e.starts_with("item [0]: attribute `X`"), "{attr}: {e}");
        }
    }

    /// Moved from the table step, which no longer reads DynamoDB JSON: what it refused
    /// when writing, the loader refuses.
    #[test]
    fn malformed_dynamodb_json_is_an_error() {
        for bad in [
            r#""x""#,
            r#"{}"#,
            r#"{"S": "a", "N": "1"}"#,
            r#"{"S": 1}"#,
            r#"{"B": "%%"}"#,
            r#"{"L": {}}"#,
            r#"{"M": []}"#,
            r#"{"BOOL": "yes"}"#,
            r#"{"Q": 1}"#,
        ] {
            let text = format!(r#"[{{"Id": {{"N": "1"}}, "a": {bad}}}]"#);
            let e = parse_seed(&text, &key("Id", KeyType::N), None).unwrap_err();
            assert!(e[0].starts_with("item [0]: attribute `a`"), "{bad}: {e:?}");
        }
        let e = parse_seed(
            r#"[{"Id": {"N": "1"}, "a": {"M": {"b": {"S": 1}}}}]"#,
            &key("Id", KeyType::N),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e,
            vec!["item [0]: attribute `a`.b: S needs a string, found a number"]
        );
    }

    #[test]
    fn typed_items_keep_every_value() {
        let s = parse(
            r#"[{"Artist": {"S": "A"}, "Song": {"S": "1"}, "raw": {"B": "aGk="},
                 "bins": {"BS": ["aGk="]}, "none": {"NULL": true},
                 "m": {"M": {"l": {"L": [{"N": "1.0"}, {"BOOL": false}]}}},
                 "tags": {"SS": ["x", "y"]}, "nums": {"NS": ["1", "2"]}}]"#,
        )
        .unwrap();
        let item = &s.items[0];
        assert_eq!(item["raw"], SeedValue::B(b"hi".to_vec()));
        assert_eq!(item["bins"], SeedValue::Bs(vec![b"hi".to_vec()]));
        assert_eq!(item["none"], SeedValue::Null);
        assert_eq!(
            item["m"],
            SeedValue::M(BTreeMap::from([(
                "l".to_string(),
                SeedValue::L(vec![SeedValue::N("1.0".into()), SeedValue::Bool(false)])
            )]))
        );
        assert_eq!(item["tags"], SeedValue::Ss(vec!["x".into(), "y".into()]));
        assert_eq!(item["nums"], SeedValue::Ns(vec!["1".into(), "2".into()]));
        assert_eq!(item["raw"], serde_json::json!({"B": "aGk="}));
    }

    #[test]
    fn numbers() {
        for ok in ["0", "-1", "+2", "3.14", ".5", "5.", "1e10", "-2.5E-3"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in [
            "", "-", ".", "1e", "e5", "1.2.3", "inf", "NaN", " 1", "0x10",
        ] {
            assert!(!is_number(bad), "{bad}");
        }
        assert_eq!(canonical_number("1"), canonical_number("1.0"));
        assert_eq!(canonical_number("1"), canonical_number("10e-1"));
        assert_eq!(canonical_number("0.00"), "0");
        assert_ne!(canonical_number("1"), canonical_number("-1"));
        assert_ne!(canonical_number("1"), canonical_number("10"));
    }

    #[test]
    fn missing_and_mistyped_keys() {
        let e = one_error(r#"[{"Artist": {"S": "A"}}]"#);
        assert_eq!(e, "item [0]: key attribute `Song` (S) is missing");
        let e = one_error(r#"[{"Artist": {"N": "1"}, "Song": {"S": "x"}}]"#);
        assert_eq!(
            e,
            "item [0]: key attribute `Artist` must be of type S (the table's key type), found N"
        );
        let e = one_error(r#"[{"Artist": {"S": ""}, "Song": {"S": "x"}}]"#);
        assert_eq!(e, "item [0]: key attribute `Artist` must not be empty");
        // Hash-only table: no range key needed.
        let s = parse_seed(r#"[{"Id": {"N": "1"}}]"#, &key("Id", KeyType::N), None).unwrap();
        assert_eq!(s.items.len(), 1);
        let e = parse_seed(r#"[{"Id": {"S": "1"}}]"#, &key("Id", KeyType::N), None).unwrap_err();
        assert!(e[0].contains("must be of type N"), "{e:?}");
    }

    #[test]
    fn a_malformed_key_value_is_reported_once() {
        let e = one_error(r#"[{"Artist": {"S": 5}, "Song": {"S": "x"}}]"#);
        assert_eq!(
            e,
            "item [0]: attribute `Artist`: S needs a string, found a number"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let e = parse_seed(
            r#"[{"Id": {"N": "1"}}, {"Id": {"N": "2"}}, {"Id": {"N": "1.0"}}]"#,
            &key("Id", KeyType::N),
            None,
        )
        .unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("item [2]: same key as item [0]"), "{e:?}");
    }

    #[test]
    fn every_error_is_reported() {
        let e = parse(
            r#"[{"Artist": {"S": "A"}},
                {"Artist": {"S": "B"}, "Song": {"N": "1"}, "Bad": {"N": "x"}},
                {"Artist": {"S": "C"}, "Song": {"S": "3"}}]"#,
        )
        .unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("item [0]: key attribute `Song`"), "{e:?}");
        assert!(e[1].starts_with("item [1]: attribute `Bad`"), "{e:?}");
        assert!(
            e[2].starts_with("item [1]: key attribute `Song` must be of type S"),
            "{e:?}"
        );
    }
}
