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
        (c.jobs.len(), "scheduled job"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if c.load_balancer.is_some() {
        parts.push("a load balancer".into());
    }
    let within = match &c.environment {
        Some(e) => format!(" (environment {e})"),
        None => String::new(),
    };
    format!(
        "{}: config OK for app {}{within}: {}",
        loaded.path.display(),
        c.app,
        parts.join(", ")
    )
}

/// The warnings of every environment, each once.
fn warnings(all: &[Loaded]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in all.iter().flat_map(|l| &l.warnings) {
        let w = w.to_string();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Prints the result of the base config and each environment checked; returns the exit
/// code (0 valid, 2 not).
pub fn report(result: Result<Vec<Loaded>, ConfigErrors>, output: OutputFormat) -> u8 {
    match (result, output) {
        (Ok(all), OutputFormat::Text) => {
            for w in warnings(&all) {
                eprintln!("warning: {w}");
            }
            for l in &all {
                println!("{}", summary(l));
            }
            0
        }
        (Ok(all), OutputFormat::Json) => {
            let apps: Vec<serde_json::Value> = all
                .iter()
                .map(|l| json!({"environment": l.config.environment, "app": l.config.app}))
                .collect();
            let app = all.first().map(|l| l.config.app.clone());
            println!(
                "{}",
                json!({
                    "valid": true,
                    "app": app,
                    "environments": apps,
                    "errors": [],
                    "warnings": warnings(&all),
                })
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
