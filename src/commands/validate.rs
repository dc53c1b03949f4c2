//! `ecsdeploy validate`: the loader and validation `up` runs, offline.

use serde_json::json;

use crate::cli::OutputFormat;
use crate::config::{ConfigErrors, Loaded};

/// What `validate` prints for a valid config.
pub fn summary(loaded: &Loaded) -> String {
    let c = &loaded.config;
    let mut parts = vec![format!(
        "{} service{}",
        c.services.len(),
        if c.services.len() == 1 { "" } else { "s" }
    )];
    for (n, what) in [
        (c.tables.len(), "table"),
        (c.databases.len(), "database"),
        (c.file_systems.len(), "file system"),
        (c.secrets.len(), "secret"),
        (c.repositories.len(), "repository"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if c.load_balancer.is_some() {
        parts.push("a load balancer".into());
    }
    format!(
        "{}: config OK for app {}: {}",
        loaded.path.display(),
        c.app,
        parts.join(", ")
    )
}

/// Prints the result; returns the exit code (0 valid, 2 not).
pub fn report(result: Result<Loaded, ConfigErrors>, output: OutputFormat) -> u8 {
    match (result, output) {
        (Ok(l), OutputFormat::Text) => {
            for w in &l.warnings {
                eprintln!("warning: {w}");
            }
            println!("{}", summary(&l));
            0
        }
        (Ok(l), OutputFormat::Json) => {
            let warnings: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
            println!(
                "{}",
                json!({"valid": true, "app": l.config.app, "errors": [], "warnings": warnings})
            );
            0
        }
        (Err(e), OutputFormat::Text) => {
            eprint!("{e}");
            2
        }
        (Err(e), OutputFormat::Json) => {
            let errors: Vec<serde_json::Value> = e
                .diagnostics
                .iter()
                .map(|d| {
                    json!({
                        "file": d.file.display().to_string(),
                        "line": d.line,
                        "col": d.col,
                        "key": d.key,
                        "message": d.message,
                    })
                })
                .collect();
            println!("{}", json!({"valid": false, "errors": errors}));
            2
        }
    }
}
