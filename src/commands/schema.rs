//! `ecsdeploy schema` and `ecsdeploy completions`: editor and shell support, offline.

use clap::CommandFactory;
use serde_json::Value;

use crate::cli::Cli;
use crate::config::Config;

/// The JSON Schema of the config file, derived from the config types (doc comments become
/// descriptions; unknown keys are refused, as the loader refuses them).
pub fn schema() -> Value {
    let mut v = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.insert("title".into(), "ecsdeploy configuration".into());
        m.insert(
            "$id".into(),
            "https://github.com/ecsdeploy/ecsdeploy/config.schema.json".into(),
        );
    }
    v
}

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ecsdeploy", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn schema_has_every_section_and_refuses_unknown_keys() {
        let s = schema();
        let props = s["properties"].as_object().unwrap();
        for k in [
            "app",
            "network",
            "services",
            "tables",
            "databases",
            "secrets",
        ] {
            assert!(props.contains_key(k), "{k}");
        }
        assert_eq!(s["additionalProperties"], Value::Bool(false));
        assert_eq!(s["required"], serde_json::json!(["app"]));
    }

    #[test]
    fn completions_for_every_shell() {
        for shell in clap_complete::Shell::value_variants() {
            let script = String::from_utf8(completions(*shell)).unwrap();
            assert!(script.contains("ecsdeploy"), "{shell}");
            assert!(script.contains("logs"), "{shell}: subcommands completed");
        }
    }
}
