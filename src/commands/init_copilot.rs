//! `ecsdeploy init --from-copilot DIR`: convert a Copilot workspace, check the result as
//! `validate` would (the base and every environment), write it, and list what was not
//! converted (text, or `--output json`, on stdout).

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{Global, InitArgs, OutputFormat};
use crate::config::{self, Options};
use crate::migrate::copilot::{self, Conversion};

pub fn run(global: &Global, a: &InitArgs) -> Result<u8> {
    let path = &global.config;
    let dir = a
        .from_copilot
        .as_deref()
        .expect("called with --from-copilot");
    if path.exists() && !a.force {
        return Err(crate::error::UsageError(format!(
            "{} exists; pass --force to overwrite it, or --config to write elsewhere",
            path.display()
        ))
        .into());
    }
    let c = copilot::convert(dir, path, a.app.as_deref(), global.region.as_deref())?;
    check(&c, path)?;
    std::fs::write(path, &c.text).with_context(|| format!("writing {}", path.display()))?;
    match global.output {
        OutputFormat::Json => {
            let mut v = serde_json::to_value(&c).expect("plain data");
            v["config"] = path.display().to_string().into();
            super::print_json(&v);
        }
        OutputFormat::Text => print!("{}", summary(&c, path, dir)),
    }
    Ok(0)
}

/// The converted text must load as the base config and as each of its environments.
/// Variables (`${AWS_REGION}` in a certificate ARN, say) are expanded as ecsdeploy will
/// when it runs; one that is not set here gets a stand-in, since it is checked again then.
pub fn check(c: &Conversion, path: &Path) -> Result<()> {
    let lookup = |name: &str| {
        std::env::var(name).ok().or_else(|| {
            Some(
                match name {
                    "AWS_REGION" | "AWS_DEFAULT_REGION" => "us-east-1",
                    "AWS_ACCOUNT_ID" => "123456789012",
                    _ => "x",
                }
                .to_string(),
            )
        })
    };
    let mut envs: Vec<Option<&str>> = vec![None];
    envs.extend(c.environments.iter().map(|e| Some(e.as_str())));
    for env in envs {
        let options = Options {
            environment: env,
            variables: &lookup,
        };
        config::load_str_with(&c.text, path, options).map_err(|e| {
            anyhow::anyhow!(
                "the converted config is not valid{} (nothing was written):\n{e}",
                env.map(|e| format!(" for environment {e}"))
                    .unwrap_or_default()
            )
        })?;
    }
    Ok(())
}

/// What `init --from-copilot` says when it has written the file.
pub fn summary(c: &Conversion, path: &Path, dir: &Path) -> String {
    let mut s = format!(
        "wrote {} from the Copilot workspace {}: app {}, services: {}; environments: {}.\n",
        path.display(),
        dir.display(),
        c.app,
        list(&c.services),
        list(&c.environments),
    );
    if c.not_converted.is_empty() {
        s.push_str("Every manifest field was converted.\n");
    } else {
        s.push_str(&format!(
            "Not converted ({}; also listed at the top of the file):\n",
            c.not_converted.len()
        ));
        for n in &c.not_converted {
            s.push_str(&format!("  {n}\n"));
        }
    }
    s.push_str(
        "Next: `ecsdeploy validate`, `ecsdeploy plan` (`--env <name>` for an environment).\n",
    );
    s
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
