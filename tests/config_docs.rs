//! docs/configuration.md cannot drift from the config types: every key path of the JSON
//! Schema (`ecsdeploy schema`, derived from `src/config/model/`) is documented in a
//! reference table of the page, and every key of those tables exists in the schema.
//!
//! How the page is read. A *reference table* is a Markdown table whose header is
//! `| Key | Type | Default | Description and rules |`; its first column lists keys in
//! backticks (`<key>` stands for the table key of a map entry). The *subject* of a table, the
//! config table it documents, is named by
//!
//! * the line right before it, when that line starts with `**` (a bold lead-in such as
//!   `**Key attributes** (`hash_key`, ...)`): its first name in backticks; else
//! * the closest heading above it: a path in backticks (`` `[services.<key>.target_group]` ``,
//!   `` `[[load_balancer.listeners]]` ``: `<key>` and `[[...]]` stand for any key or item),
//!   or a single key name in backticks (`` `fixed_response` ``), or "Top level".
//!
//! A single key name is looked up among the schema's paths, preferring those under the
//! enclosing section; every match must be the same kind of table. A table documents its
//! subject's *type*, so one table covers every place that type appears: the container health
//! check table covers `services.*.health_check` and `services.*.sidecars.*.health_check`.
//!
//! The Type column is checked too: `string`, `integer`, `number`, `boolean`, `table`,
//! `array of <kind>s`, `table of <kind>s` and `<kind> or <kind>` must match the schema.

use std::collections::{BTreeMap, BTreeSet};

use ecsdeploy::commands::schema::{config_schema, key_paths, shapes};
use serde_json::Value;

const DOC: &str = include_str!("../docs/configuration.md");
const HEADER: &str = "| Key | Type | Default | Description and rules |";

/// One reference table: where it is, what it documents, its keys.
#[derive(Debug)]
struct DocTable {
    line: usize,
    /// The heading or lead-in it was attributed to.
    context: String,
    subject: Subject,
    keys: Vec<String>,
    /// The Type cell of each key's row.
    types: Vec<String>,
}

#[derive(Debug, Clone)]
enum Subject {
    /// A dotted path with `*` (from a `[...]` heading), or the root (empty).
    Path(String),
    /// A bare key name, to be found in the schema; `within` is the enclosing section's path.
    Name { name: String, within: String },
}

/// The schema, indexed: every key path with the object shapes its value may take.
struct Index {
    root: Value,
    /// path → the JSON of each object shape (with properties) at that path.
    objects: BTreeMap<String, Vec<Value>>,
    /// Every key path, in schema order.
    paths: Vec<String>,
}

impl Index {
    fn new() -> Index {
        let root = config_schema();
        let mut objects: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        objects.insert(String::new(), vec![root.clone()]);
        let mut paths = Vec::new();
        for (path, v) in key_paths(&root) {
            for shape in shapes(&root, &v) {
                if shape.get("properties").is_some() {
                    objects.entry(path.clone()).or_default().push(shape.clone());
                }
                // Map values and array items: `<path>.*`.
                for inner in ["additionalProperties", "items"] {
                    if let Some(inner @ Value::Object(_)) = shape.get(inner) {
                        for s in shapes(&root, inner) {
                            if s.get("properties").is_some() {
                                objects
                                    .entry(format!("{path}.*"))
                                    .or_default()
                                    .push(s.clone());
                            }
                        }
                    }
                }
            }
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        for shapes in objects.values_mut() {
            shapes.dedup();
        }
        Index {
            root,
            objects,
            paths,
        }
    }

    fn properties(shape: &Value) -> BTreeSet<String> {
        shape["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The object path(s) a subject documents, or why it cannot be told.
    fn resolve(&self, subject: &Subject) -> Result<Vec<String>, String> {
        match subject {
            Subject::Path(p) => {
                // As in a TOML header, a key that holds an array of tables stands for its
                // last item: `[[load_balancer.listeners.rules]]` are the rules of a listener.
                let segs: Vec<&str> = p.split('.').filter(|s| !s.is_empty()).collect();
                let mut path = String::new();
                for (i, seg) in segs.iter().enumerate() {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(seg);
                    let next_is_item = segs.get(i + 1) == Some(&"*");
                    if i + 1 < segs.len()
                        && !next_is_item
                        && !self.objects.contains_key(&path)
                        && self.objects.contains_key(&format!("{path}.*"))
                    {
                        path.push_str(".*");
                    }
                }
                if self.objects.contains_key(&path) {
                    Ok(vec![path])
                } else {
                    Err(format!("`{p}` is not a table of the schema"))
                }
            }
            Subject::Name { name, within } => {
                let ends = |p: &str| p == name || p.ends_with(&format!(".{name}"));
                let all: Vec<String> = self
                    .objects
                    .keys()
                    .filter(|p| ends(p) || p.strip_suffix(".*").is_some_and(ends))
                    .cloned()
                    .collect();
                let under: Vec<String> = all
                    .iter()
                    .filter(|p| !within.is_empty() && p.starts_with(&format!("{within}.")))
                    .cloned()
                    .collect();
                let found = if under.is_empty() { all } else { under };
                if found.is_empty() {
                    return Err(format!("no table `{name}` in the schema"));
                }
                let kinds: BTreeSet<String> = found
                    .iter()
                    .flat_map(|p| self.objects[p].iter().map(|s| s.to_string()))
                    .collect();
                if kinds.len() > 1 {
                    return Err(format!(
                        "`{name}` names tables of different kinds: {found:?}; use a `[path]` \
                         heading"
                    ));
                }
                Ok(found)
            }
        }
    }
}

/// `[services.<key>.ingress]` → `services.*.ingress`; `[[x.y]]` → `x.y.*`. Any `<word>`
/// (`<key>`, `<name>`) stands for a map entry's key.
fn heading_path(code: &str) -> Option<String> {
    let array = code.starts_with("[[") && code.ends_with("]]");
    let inner = code.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner.trim_start_matches('[').trim_end_matches(']');
    let path = inner
        .split('.')
        .map(|part| match part.starts_with('<') && part.ends_with('>') {
            true => "*",
            false => part,
        })
        .collect::<Vec<_>>()
        .join(".");
    Some(if array { format!("{path}.*") } else { path })
}

/// The spans in backticks of a line.
fn code_spans(line: &str) -> Vec<String> {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn parse_doc() -> Result<Vec<DocTable>, Vec<String>> {
    let lines: Vec<&str> = DOC.lines().collect();
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    let mut in_code = false;
    // (heading text, subject) of the closest heading; the path of the enclosing `##` section.
    let mut heading: Option<(String, Option<Subject>)> = None;
    let mut section = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("```") {
            in_code = !in_code;
            i += 1;
            continue;
        }
        if in_code {
            i += 1;
            continue;
        }
        if let Some(text) = line.strip_prefix('#') {
            let level = 1 + text.chars().take_while(|c| *c == '#').count();
            let text = text.trim_start_matches('#').trim().to_string();
            let spans = code_spans(&text);
            let subject = if text == "Top level" {
                Some(Subject::Path(String::new()))
            } else if let Some(path) = spans.first().and_then(|c| heading_path(c)) {
                Some(Subject::Path(path))
            } else if let [name] = spans.as_slice() {
                Some(Subject::Name {
                    name: name.clone(),
                    within: section.clone(),
                })
            } else {
                None
            };
            if level == 2 {
                section = match &subject {
                    Some(Subject::Path(p)) => p.clone(),
                    _ => String::new(),
                };
            }
            heading = Some((text, subject));
            i += 1;
            continue;
        }
        if line == HEADER {
            let before = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
                .unwrap_or("");
            let lead_in = before
                .starts_with("**")
                .then(|| code_spans(before).into_iter().next())
                .flatten();
            let (context, subject) = match (lead_in, &heading) {
                (Some(name), _) => (
                    before.to_string(),
                    Some(Subject::Name {
                        name,
                        within: section.clone(),
                    }),
                ),
                (None, Some((text, subject))) => (format!("## {text}"), subject.clone()),
                (None, None) => ("(no heading)".to_string(), None),
            };
            let mut keys = Vec::new();
            let mut types = Vec::new();
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().starts_with('|') {
                let row = lines[j].trim();
                if !row.starts_with("|---") {
                    let mut cells = row.trim_start_matches('|').split('|');
                    let first = cells.next().unwrap_or("");
                    match code_spans(first).as_slice() {
                        [key] => {
                            keys.push(key.clone());
                            types.push(cells.next().unwrap_or("").trim().to_string());
                        }
                        _ => problems.push(format!(
                            "docs/configuration.md:{}: the first cell of a reference table \
                             row must be one key in backticks: {row}",
                            j + 1
                        )),
                    }
                }
                j += 1;
            }
            match subject {
                Some(subject) => tables.push(DocTable {
                    line: i + 1,
                    context,
                    subject,
                    keys,
                    types,
                }),
                None => problems.push(format!(
                    "docs/configuration.md:{}: cannot tell which config table the reference \
                     table under `{context}` documents; name it in the heading",
                    i + 1
                )),
            }
            i = j;
            continue;
        }
        i += 1;
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

/// The kinds of value a Type cell names: `string`, `integer`, `number`, `boolean`, `table`,
/// `array of <kind>s`, `table of <kind>s` (a map), `<kind> or <kind>`.
fn doc_types(cell: &str) -> BTreeSet<String> {
    fn one(t: &str) -> String {
        let t = t.trim();
        let singular = |s: &str| s.trim().trim_end_matches('s').to_string();
        if let Some(of) = t.strip_prefix("array of ") {
            format!("array of {}", singular(of))
        } else if let Some(of) = t.strip_prefix("table of ") {
            format!("table of {}", singular(of))
        } else {
            t.to_string()
        }
    }
    cell.split(" or ").map(one).collect()
}

/// The same kinds, read from the schema of a value.
fn schema_types(root: &Value, prop: &Value) -> BTreeSet<String> {
    fn kind(root: &Value, s: &Value, nested: bool) -> Vec<String> {
        let mut out = Vec::new();
        for shape in shapes(root, s) {
            let ty = shape["type"].as_str().unwrap_or("");
            match ty {
                "object" if shape.get("properties").is_some() => out.push("table".into()),
                "object" => {
                    let values = shape
                        .get("additionalProperties")
                        .map(|v| kind(root, v, true))
                        .unwrap_or_default();
                    for v in values {
                        if nested {
                            out.push("table".into());
                        } else {
                            out.push(format!("table of {v}"));
                        }
                    }
                }
                "array" if !nested => {
                    for item in kind(root, &shape["items"], true) {
                        out.push(format!("array of {item}"));
                    }
                }
                "" => out.push(format!("(no type: {shape})")),
                other => out.push(other.to_string()),
            }
        }
        out
    }
    kind(root, prop, false).into_iter().collect()
}

/// What the page documents: for each kind of table (its schema shape), the keys listed.
fn documented(
    index: &Index,
    tables: &[DocTable],
) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let mut by_kind: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for t in tables {
        let at = format!("docs/configuration.md:{} ({})", t.line, t.context);
        let paths = match index.resolve(&t.subject) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        for path in &paths {
            for shape in &index.objects[path] {
                let props = Index::properties(shape);
                for (key, doc_type) in t.keys.iter().zip(&t.types) {
                    if let Some(prop) = shape["properties"].get(key) {
                        let (want, got) = (doc_types(doc_type), schema_types(&index.root, prop));
                        if want != got {
                            problems.push(format!(
                                "{at}: `{key}` is documented as `{doc_type}` ({want:?}) but \
                                 the schema has {got:?}"
                            ));
                        }
                    }
                    if key == "<key>" {
                        if !path.ends_with('*') {
                            problems.push(format!(
                                "{at}: `<key>` row, but `{path}` is not an entry of a table \
                                 of tables"
                            ));
                        }
                    } else if !props.contains(key) {
                        problems.push(format!(
                            "{at}: documents `{key}`, which `{}` does not have (schema keys: \
                             {})",
                            if path.is_empty() {
                                "the top level"
                            } else {
                                path
                            },
                            props.iter().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                }
                by_kind
                    .entry(shape.to_string())
                    .or_default()
                    .extend(t.keys.iter().cloned());
            }
        }
    }
    problems.dedup();
    (by_kind, problems)
}

#[test]
fn every_documented_key_exists_in_the_schema() {
    let index = Index::new();
    let tables = parse_doc().unwrap_or_else(|p| panic!("{}", p.join("\n")));
    assert!(
        tables.len() > 30,
        "found only {} reference tables",
        tables.len()
    );
    let (_, problems) = documented(&index, &tables);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_schema_key_path_is_documented() {
    let index = Index::new();
    let tables = parse_doc().unwrap_or_else(|p| panic!("{}", p.join("\n")));
    let (by_kind, _) = documented(&index, &tables);
    let mut missing = Vec::new();
    for path in &index.paths {
        let (parent, key) = match path.rsplit_once('.') {
            Some((parent, key)) => (parent.to_string(), key.to_string()),
            None => (String::new(), path.clone()),
        };
        if key == "*" {
            continue; // a table key or an item: documented with its table's keys
        }
        let Some(parents) = index.objects.get(&parent) else {
            continue;
        };
        for shape in parents {
            if !Index::properties(shape).contains(&key) {
                continue; // another shape of a value that may take several
            }
            let documented = by_kind
                .get(&shape.to_string())
                .is_some_and(|keys| keys.contains(&key));
            if !documented {
                missing.push(path.clone());
            }
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "key paths of the schema missing from the reference tables of \
         docs/configuration.md:\n  {}",
        missing.join("\n  ")
    );
    // The walk reaches deep paths, so the check is not vacuous.
    for p in [
        "services.*.target_group.health_check.path",
        "services.*.sidecars.*.depends_on.*.condition",
        "services.*.image.tag",
        "tables.*.indexes.*.hash_key.type",
        "load_balancer.listeners.*.rules.*.priority",
    ] {
        assert!(index.paths.iter().any(|x| x == p), "{p} not walked");
    }
    assert!(index.root.get("definitions").is_some());
}

#[test]
fn reading_rules() {
    assert_eq!(
        heading_path("[services.<key>.target_group]").as_deref(),
        Some("services.*.target_group")
    );
    assert_eq!(
        heading_path("[[load_balancer.listeners]]").as_deref(),
        Some("load_balancer.listeners.*")
    );
    assert_eq!(
        heading_path("[services.<key>.autoscaling.schedules.<name>]").as_deref(),
        Some("services.*.autoscaling.schedules.*")
    );
    assert_eq!(heading_path("fixed_response"), None);
    assert_eq!(
        doc_types("string or table"),
        BTreeSet::from(["string".to_string(), "table".to_string()])
    );
    assert_eq!(
        doc_types("array of integers"),
        BTreeSet::from(["array of integer".to_string()])
    );
    let index = Index::new();
    assert_eq!(
        index
            .resolve(&Subject::Path("load_balancer.listeners.*.rules.*".into()))
            .unwrap(),
        ["load_balancer.listeners.*.rules.*"]
    );
    assert_eq!(
        index
            .resolve(&Subject::Path("load_balancer.listeners.rules.*".into()))
            .unwrap(),
        ["load_balancer.listeners.*.rules.*"]
    );
    let name = |n: &str, within: &str| Subject::Name {
        name: n.into(),
        within: within.into(),
    };
    assert_eq!(
        index.resolve(&name("hash_key", "tables.*")).unwrap(),
        ["tables.*.hash_key", "tables.*.indexes.*.hash_key"]
    );
    assert_eq!(
        index.resolve(&name("ulimits", "services.*")).unwrap(),
        ["services.*.ulimits.*"]
    );
    assert_eq!(
        index.resolve(&name("image", "services.*")).unwrap(),
        ["services.*.image"]
    );
    // Both health checks are tables, but of different kinds.
    assert!(index.resolve(&name("health_check", "")).is_err());
}
