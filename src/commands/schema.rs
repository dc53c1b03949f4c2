//! `ecsdeploy schema`: the JSON Schema of `ecsdeploy.toml`, derived from the config types in
//! `config/model/` (their doc comments become the descriptions), for editors such as taplo
//! (Even Better TOML) and for CI checks. No config is read and no AWS call is made.
//!
//! The schema describes what the loader accepts *structurally*: key names, value types,
//! enum values, required keys (those without a serde default) and no unknown keys. The
//! rules between keys (memory valid for cpu, names that must exist, ...) are checked by
//! `ecsdeploy validate`, not by the schema.

use schemars::generate::SchemaSettings;
use schemars::Schema;
use serde_json::{json, Map, Value};

use crate::config::Config;

/// The `title` of the schema.
pub const TITLE: &str = "ecsdeploy configuration (ecsdeploy.toml)";

/// The JSON Schema (draft 7, which taplo and most editors support) of the config file.
pub fn config_schema() -> Value {
    let generator = SchemaSettings::draft07()
        .with_transform(schemars::transform::RecursiveTransform(toml_shape))
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Config>();
    schema.insert("title".into(), TITLE.into());
    schema.insert(
        "description".into(),
        "The configuration file of ecsdeploy, which deploys web apps to AWS ECS Fargate. \
         Every key is described in docs/configuration.md; `ecsdeploy validate` checks the \
         rules between keys that a schema cannot express."
            .into(),
    );
    schema.to_value()
}

/// The completion script of `ecsdeploy completions <shell>`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::Cli::command(),
        "ecsdeploy",
        &mut out,
    );
    out
}

/// Make one (sub)schema match what the TOML loader accepts:
///
/// * an object with named properties admits no others (`additionalProperties: false`): the
///   loader reports every unknown key as an error (`load.rs`, via `serde_ignored`);
/// * no `null`: TOML has none, an optional key is simply left out (serde's `Option` would
///   otherwise add `null` to every optional key's type and `default: null`).
fn toml_shape(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    if obj.get("default") == Some(&Value::Null) {
        obj.remove("default");
    }
    if let Some(Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            obj.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = obj.get_mut(key) {
            branches.retain(|b| b != &json!({ "type": "null" }) && b != &json!({ "const": null }));
        }
    }
}

/// Every key path of the schema, dotted, `*` for a table key or an array item
/// (`services.*.target_group.health_check.path`), with the schema of its value. `$ref`s are
/// followed; for a value that may take several shapes (`image`: a string or a table) the
/// paths of every shape are listed.
pub fn key_paths(schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(schema, schema, "", &mut out, &mut Vec::new());
    out
}

/// Follow `$ref`s (and single-branch wrappers) to the schema that says what the value is.
pub fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    for _ in 0..32 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let pointer = r.trim_start_matches('#');
            match root.pointer(pointer) {
                Some(target) => s = target,
                None => return s,
            }
        } else if let Some([only]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            s = only;
        } else {
            return s;
        }
    }
    s
}

/// The shapes a value may take: the branches of `anyOf` / `oneOf`, resolved, else itself.
pub fn shapes<'a>(root: &'a Value, s: &'a Value) -> Vec<&'a Value> {
    let s = resolve(root, s);
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            return branches.iter().flat_map(|b| shapes(root, b)).collect();
        }
    }
    vec![s]
}

fn walk(
    root: &Value,
    s: &Value,
    prefix: &str,
    out: &mut Vec<(String, Value)>,
    seen: &mut Vec<String>,
) {
    for shape in shapes(root, s) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        if let Some(props) = shape.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let path = join(k);
                out.push((path.clone(), v.clone()));
                if !seen.contains(&path) {
                    seen.push(path.clone());
                    walk(root, v, &path, out, seen);
                }
            }
        }
        if let Some(v @ Value::Object(_)) = shape.get("additionalProperties") {
            walk(root, v, &join("*"), out, seen);
        }
        if let Some(v) = shape.get("items") {
            walk(root, v, &join("*"), out, seen);
        }
    }
}

/// The JSON-typed view of a TOML document (what the schema describes).
pub fn toml_to_json(text: &str) -> Result<Value, toml::de::Error> {
    let v: toml::Value = toml::from_str(text)?;
    Ok(to_json(v))
}

fn to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.into_iter()
                .map(|(k, v)| (k, to_json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        config_schema()
    }

    /// The resolved schema of the value at `path`.
    fn at(root: &Value, path: &str) -> Value {
        let paths = key_paths(root);
        let (_, v) = paths
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no key path {path}"));
        resolve(root, v).clone()
    }

    #[test]
    fn has_meta_schema_and_title() {
        let s = schema();
        assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(s["title"], TITLE);
        assert_eq!(s["required"], json!(["app"]));
        assert_eq!(s["additionalProperties"], false);
    }

    #[test]
    fn defaults_are_not_required_and_required_keys_are() {
        let s = schema();
        let service = &s["definitions"]["Service"];
        // `image` may be left out for a `task_definition` file (the loader says when missing).
        assert!(service.get("required").is_none(), "{service}");
        assert_eq!(service["properties"]["cpu"]["default"], 256);
        let hc = &s["definitions"]["HealthCheck"];
        assert!(hc.get("required").is_none(), "{hc}");
    }

    #[test]
    fn renamed_enums_are_string_enums() {
        let s = schema();
        assert_eq!(
            at(&s, "network.nat")["enum"],
            json!(["none", "single", "per-az"])
        );
        assert_eq!(
            at(&s, "services.*.cpu_architecture")["enum"],
            json!(["X86_64", "ARM64"])
        );
        assert_eq!(
            at(&s, "tables.*.billing")["enum"],
            json!(["on-demand", "provisioned"])
        );
    }

    #[test]
    fn image_is_a_string_or_a_repository_table() {
        let s = schema();
        let paths: Vec<String> = key_paths(&s).into_iter().map(|(p, _)| p).collect();
        assert!(paths.contains(&"services.*.image.repository".to_string()));
        assert!(paths.contains(&"services.*.image.tag".to_string()));
        let image = paths.iter().position(|p| p == "services.*.image").unwrap();
        let (_, v) = &key_paths(&s)[image];
        let kinds: Vec<Value> = shapes(&s, v).iter().map(|b| b["type"].clone()).collect();
        assert_eq!(kinds, vec![json!("string"), json!("object")]);
    }

    #[test]
    fn skipped_fields_are_absent_and_no_nulls_remain() {
        let s = schema();
        let text = s.to_string();
        assert!(!text.contains("seed_items"), "{text}");
        assert!(!text.contains("\"null\""), "{text}");
        assert!(!text.contains("\"default\":null"), "{text}");
    }

    #[test]
    fn every_table_rejects_unknown_keys() {
        let s = schema();
        for (path, v) in key_paths(&s) {
            for shape in shapes(&s, &v) {
                if shape.get("properties").is_some() {
                    assert_eq!(shape["additionalProperties"], false, "{path}");
                }
            }
        }
    }

    #[test]
    fn completions_for_every_shell() {
        use clap::ValueEnum;
        for shell in clap_complete::Shell::value_variants() {
            let script = String::from_utf8(completions(*shell)).unwrap();
            assert!(script.contains("ecsdeploy"), "{shell}");
            assert!(script.contains("logs"), "{shell}: subcommands completed");
        }
    }

    #[test]
    fn toml_converts_to_json() {
        let v = toml_to_json("app = \"x\"\n[services.web]\nports = [80]\ncpu = 0.5\n").unwrap();
        assert_eq!(
            v,
            json!({"app": "x", "services": {"web": {"ports": [80], "cpu": 0.5}}})
        );
    }
}
