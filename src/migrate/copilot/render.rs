//! The converted config as commented TOML: the list of what was not converted at the top,
//! then the keys, each with the manifest field it comes from beside it.

use std::collections::BTreeMap;
use std::fmt::Write;

use toml::{Table, Value};

use super::track::NotConverted;

/// Top-level sections in the order a reader expects them.
const ORDER: [&str; 11] = [
    "app",
    "region",
    "network",
    "cluster",
    "service_connect",
    "load_balancer",
    "services",
    "secrets",
    "file_systems",
    "environments",
    "",
];

/// An inline table or array longer than this gets sections of its own.
const INLINE_MAX: usize = 90;

pub fn render(
    header: &[String],
    not_converted: &[NotConverted],
    table: &Table,
    sources: &BTreeMap<String, String>,
) -> String {
    let mut w = String::new();
    for line in header {
        if line.is_empty() {
            w.push_str("#\n");
        } else {
            let _ = writeln!(w, "# {line}");
        }
    }
    w.push_str("#\n");
    if not_converted.is_empty() {
        w.push_str("# Every manifest field was converted.\n");
    } else {
        let _ = writeln!(
            w,
            "# Not converted ({}): these manifest fields have no place in this file.",
            not_converted.len()
        );
        for n in not_converted {
            let _ = writeln!(w, "#   {n}");
        }
    }
    w.push('\n');
    emit(&mut w, "", "", table, sources, Header::Root);
    w
}

/// The source of `path` as a trailing comment; for a value written inline (`inner`), the
/// first source inside it when it has none of its own.
fn comment(sources: &BTreeMap<String, String>, path: &str, inner: bool) -> String {
    let exact = sources.get(path);
    let first_inside = || {
        sources
            .range(path.to_string()..)
            .next()
            .filter(|(k, _)| {
                k.starts_with(&format!("{path}.")) || k.starts_with(&format!("{path}["))
            })
            .map(|(_, v)| v)
    };
    match exact.or_else(|| if inner { first_inside() } else { None }) {
        Some(s) => format!("  # {s}"),
        None => String::new(),
    }
}

fn join(prefix: &str, k: &str) -> String {
    let k = bare_or_quoted(k);
    if prefix.is_empty() {
        k
    } else {
        format!("{prefix}.{k}")
    }
}

fn bare_or_quoted(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

/// A value written on one line (`key = value`), or `None` when it needs sections.
fn inline(v: &Value) -> Option<String> {
    let text = match v {
        Value::Table(_) => v.to_string(),
        Value::Array(a) if a.iter().any(Value::is_table) => {
            if a.iter()
                .all(|t| inline(t).is_some_and(|s| s.len() <= INLINE_MAX))
                && !a.is_empty()
            {
                let items: Vec<String> = a.iter().filter_map(inline).collect();
                return Some(format!("[\n  {},\n]", items.join(",\n  ")));
            }
            return None;
        }
        _ => return Some(v.to_string()),
    };
    (text.len() <= INLINE_MAX && !text.contains('\n')).then_some(text)
}

#[derive(Clone, Copy, PartialEq)]
enum Header {
    /// The top level: no header.
    Root,
    /// `[path]` is written before the table's first line, if it has any.
    Pending,
    /// `[[path]]` is written already.
    Done,
}

/// Write `t`, whose TOML path is `path` and whose source path (array elements numbered)
/// is `src`.
fn emit(
    w: &mut String,
    path: &str,
    src: &str,
    t: &Table,
    sources: &BTreeMap<String, String>,
    header: Header,
) {
    let mut lines = Vec::new();
    let mut sections = Vec::new();
    let mut keys: Vec<(&String, &Value)> = t.iter().collect();
    if header == Header::Root {
        keys.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    }
    for (k, v) in keys {
        let p = join(path, k);
        let sp = if src.is_empty() {
            k.clone()
        } else {
            format!("{src}.{k}")
        };
        let as_line = match v {
            // Tables of tables (services, environments) always get sections.
            Value::Table(_) if header == Header::Root => None,
            // A table holding tables reads better as a section (`image` stays one line).
            Value::Table(inner)
                if inner.is_empty() || (inner.values().any(Value::is_table) && k != "image") =>
            {
                None
            }
            _ => inline(v),
        };
        match as_line {
            Some(text) => lines.push(format!(
                "{} = {text}{}",
                bare_or_quoted(k),
                comment(sources, &sp, true)
            )),
            None => sections.push((p, sp, v)),
        }
    }
    if header == Header::Pending && (!lines.is_empty() || t.is_empty()) {
        let _ = writeln!(w, "\n[{path}]{}", comment(sources, src, false));
    }
    for l in lines {
        let _ = writeln!(w, "{l}");
    }
    for (p, sp, v) in sections {
        match v {
            Value::Table(inner) => emit(w, &p, &sp, inner, sources, Header::Pending),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{sp}[{i}]");
                    let _ = writeln!(w, "\n[[{p}]]{}", comment(sources, &ip, false));
                    if let Value::Table(inner) = item {
                        emit(w, &p, &ip, inner, sources, Header::Done);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_valid_toml_with_sources_beside_keys() {
        let t: Table = toml::from_str(
            r#"
app = "shop"
[services.web]
image = { build = { context = "./web" } }
ports = [80]
uses = [{ secret = "a", env = "A" }]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"
rules = [{ service = "api", paths = ["/api", "/api/*"] }]
[environments.test]
[environments.prod.services.web]
cpu = 512
"#,
        )
        .unwrap();
        let mut sources = BTreeMap::new();
        sources.insert(
            "services.web.ports".into(),
            "copilot/web/manifest.yml:5 image.port".into(),
        );
        sources.insert(
            "load_balancer.listeners[0].rules[0]".into(),
            "copilot/api/manifest.yml:9 http".into(),
        );
        let nc = vec![NotConverted {
            file: "copilot/web/manifest.yml".into(),
            line: 7,
            col: 3,
            field: "http.stickiness".into(),
            reason: "no ecsdeploy key holds this".into(),
        }];
        let text = render(&["converted".into()], &nc, &t, &sources);
        let back: Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, t, "{text}");
        assert!(
            text.contains("ports = [80]  # copilot/web/manifest.yml:5 image.port"),
            "{text}"
        );
        assert!(
            text.contains("#   copilot/web/manifest.yml:7:3: http.stickiness"),
            "{text}"
        );
        assert!(text.contains("[environments.test]"), "{text}");
        assert!(text.contains("copilot/api/manifest.yml:9 http"), "{text}");
    }
}
