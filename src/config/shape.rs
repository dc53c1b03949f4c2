//! Where the config needs a table, an array is a type error. serde's derived `Deserialize`
//! accepts a sequence for a struct and fills its fields by position, so `deployment =
//! [50, 150]` would silently become percentages; this check runs on the parsed document
//! before deserializing and names every such key.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Key patterns whose value must be a table. `*` matches any key or array index.
/// Kept next to the model (`model/`): every struct- or map-typed field appears here.
const TABLES: &[&str] = &[
    "network",
    "network.existing",
    "repositories",
    "repositories.*",
    "cluster",
    "iam",
    "logs",
    "load_balancer",
    "load_balancer.attributes",
    "load_balancer.listeners.*",
    "load_balancer.listeners.*.fixed_response",
    "load_balancer.listeners.*.cognito",
    "load_balancer.listeners.*.oidc",
    "load_balancer.listeners.*.rules.*",
    "service_connect",
    "services",
    "services.*",
    "services.*.environment",
    "services.*.image.build",
    "services.*.image.build.args",
    "services.*.ingress.*",
    "services.*.target_group",
    "services.*.target_group.health_check",
    "services.*.connect",
    "services.*.connect.publish.*",
    "services.*.deployment",
    "services.*.health_check",
    "services.*.ulimits",
    "services.*.ulimits.*",
    "services.*.sidecars.*",
    "services.*.sidecars.*.environment",
    "services.*.sidecars.*.health_check",
    "services.*.sidecars.*.depends_on.*",
    "services.*.container_depends_on.*",
    "services.*.autoscaling",
    "services.*.task_policy.*",
    "services.*.uses.*",
    "tables",
    "tables.*",
    "tables.*.hash_key",
    "tables.*.range_key",
    "tables.*.indexes.*",
    "tables.*.indexes.*.hash_key",
    "tables.*.indexes.*.range_key",
    "databases",
    "databases.*",
    "file_systems",
    "file_systems.*",
    "file_systems.*.access_point",
    "secrets",
    "secrets.*",
    "secrets.*.generate",
];

/// Every key whose value is an array where a table belongs: (dotted path, span of the key).
pub fn arrays_for_tables(doc: &Spanned<DeTable>) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    walk_table(doc.get_ref(), &mut Vec::new(), &mut out);
    out
}

fn walk_table<'a>(
    t: &'a DeTable<'a>,
    path: &mut Vec<String>,
    out: &mut Vec<(String, Range<usize>)>,
) {
    for (key, value) in t.iter() {
        path.push(key.get_ref().to_string());
        walk_value(value, key.span(), path, out);
        path.pop();
    }
}

fn walk_value<'a>(
    v: &'a Spanned<DeValue<'a>>,
    span: Range<usize>,
    path: &mut Vec<String>,
    out: &mut Vec<(String, Range<usize>)>,
) {
    match v.get_ref() {
        DeValue::Table(t) => walk_table(t, path, out),
        DeValue::Array(a) => {
            if must_be_table(path) {
                out.push((display(path), span));
                return;
            }
            for (i, item) in a.iter().enumerate() {
                path.push(i.to_string());
                walk_value(item, item.span(), path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn must_be_table(path: &[String]) -> bool {
    TABLES.iter().any(|pattern| {
        let parts: Vec<&str> = pattern.split('.').collect();
        parts.len() == path.len()
            && parts
                .iter()
                .zip(path)
                .all(|(p, seg)| *p == "*" || *p == seg.as_str())
    })
}

/// `services.web.uses[0]` from the segments (numeric ones are indices).
fn display(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let (doc, errors) = DeTable::parse_recoverable(text);
        assert!(errors.is_empty());
        arrays_for_tables(&doc)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn arrays_where_tables_belong_are_found() {
        assert_eq!(
            found("network = []\nlogs = [14]\n[services.web]\ndeployment = [50, 150]\n"),
            ["logs", "network", "services.web.deployment"]
        );
        assert_eq!(
            found("[[services.web.uses]]\ntable = \"t\"\n[services.api]\nuses = [[1]]\n"),
            ["services.api.uses[0]"]
        );
    }

    #[test]
    fn real_arrays_and_arrays_of_tables_pass() {
        assert!(found(
            "[network]\nazs = [\"a\"]\n[services.web]\nports = [80]\n\
             ingress = [{ port = 80, cidrs = [\"0.0.0.0/0\"] }]\n\
             [[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\n"
        )
        .is_empty());
    }

    #[test]
    fn every_example_has_the_right_shape() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert_eq!(found(&text), Vec::<String>::new(), "{}", path.display());
            }
        }
    }
}
