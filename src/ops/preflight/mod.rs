//! Preflight: what would otherwise fail minutes into a deploy, checked against the live
//! account before the first write — `ecsdeploy verify`, and `up` unless `--no-verify`.
//! Each check reads only, and each finding names the config key it is about. The checks
//! that are pure arithmetic or parsing live beside the reads, unit-tested.

mod certificates;
mod cognito;
mod images;
mod quotas;
mod reference;
mod registry;
mod roles;

use anyhow::Result;
use serde::Serialize;

use super::Session;
use crate::plan::Plan;

/// One thing preflight found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The config key it is about (`services.web.image`).
    pub key: String,
    /// `error`: the deploy would fail (nothing is written); `warning`: it may not work
    /// as expected; `note`: what was not checked, and why.
    pub level: Level,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

impl Finding {
    fn error(key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            key: key.into(),
            level: Level::Error,
            message: message.into(),
        }
    }

    fn warning(key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            key: key.into(),
            level: Level::Warning,
            message: message.into(),
        }
    }

    fn note(key: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            key: key.into(),
            level: Level::Note,
            message: message.into(),
        }
    }
}

/// Which images to check: every one the config names (`verify`), or those of the task
/// definitions the plan registers (`up`: an unchanged service keeps running what it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Images {
    All,
    Deployed,
}

/// Every check, concurrently. An AWS error of a check itself (not the answer "not found")
/// ends the run: a preflight that could not look says so rather than passing.
pub async fn check(s: &Session, plan: &Plan, images: Images) -> Result<Vec<Finding>> {
    let (a, b, c, d, e) = tokio::try_join!(
        images::check(s, plan, images),
        certificates::check(s),
        cognito::check(s),
        quotas::check(s, plan),
        roles::check(s),
    )?;
    Ok([a, b, c, d, e].into_iter().flatten().collect())
}

/// The findings as text lines, errors first.
pub fn lines(findings: &[Finding]) -> Vec<String> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| match f.level {
        Level::Error => 0,
        Level::Warning => 1,
        Level::Note => 2,
    });
    sorted
        .iter()
        .map(|f| {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            format!("{level}: {}: {}", f.key, f.message)
        })
        .collect()
}

/// `Err` (a usage error: exit 2, nothing written) when any finding is an error.
pub fn verdict(findings: &[Finding]) -> Result<()> {
    let errors: Vec<String> = lines(findings)
        .into_iter()
        .filter(|l| l.starts_with("error: "))
        .map(|l| l.trim_start_matches("error: ").to_string())
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(crate::error::UsageError(format!(
        "preflight found {} problem(s) that would fail the deploy; nothing was changed:\n  {}",
        errors.len(),
        errors.join("\n  ")
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_come_first_and_fail_the_verdict() {
        let f = vec![
            Finding::note("a", "n"),
            Finding::warning("b", "w"),
            Finding::error("c", "e"),
        ];
        assert_eq!(lines(&f), ["error: c: e", "warning: b: w", "note: a: n"]);
        let e = verdict(&f).unwrap_err().to_string();
        assert!(e.contains("1 problem(s)") && e.contains("c: e"), "{e}");
        assert!(verdict(&f[..2]).is_ok());
    }
}
