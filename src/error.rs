//! The errors every layer may end a run with, and the exit codes they map to (the table in
//! `ecsdeploy --help`). They sit on the ground floor so that the lock, the operations and
//! the commands can all return them without importing one another.

use thiserror::Error;

/// The command did what it was asked.
pub const EXIT_OK: u8 = 0;
/// A step failed, or AWS refused something.
pub const EXIT_FAILURE: u8 = 1;
/// The config or the arguments are wrong; nothing was changed.
pub const EXIT_USAGE: u8 = 2;
/// Another `up`/`down` of the same app holds the run lock.
pub const EXIT_LOCKED: u8 = 3;
/// Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A usage problem found after parsing (exit code 2), e.g. `down` without `--yes` in CI.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The run was interrupted (exit code 130); the summary was already printed.
#[derive(Debug, Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Another run holds the lock (exit code 3).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct Locked(pub String);

/// What the user can do next about an error; `main` prints it under the error as `hint: …`.
pub trait Hint {
    fn hint(&self) -> Option<String>;
}

/// How `main` shows an error that ends a run: the error itself, then each cause on its own
/// line (outermost first, as cargo does), then the hint if there is one.
pub fn render(e: &anyhow::Error, hint: Option<String>) -> String {
    let mut out = format!("error: {e}\n");
    let mut causes = e.chain().skip(1).peekable();
    if causes.peek().is_some() {
        out.push_str("\nCaused by:\n");
        for c in causes {
            out.push_str(&format!("    {c}\n"));
        }
    }
    if let Some(h) = hint {
        out.push_str(&format!("\nhint: {h}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn an_error_shows_its_causes_one_a_line_and_then_the_hint() {
        let e = Err::<(), _>(anyhow::anyhow!("AccessDenied: no"))
            .context("listing availability zones")
            .unwrap_err();
        assert_eq!(
            render(&e, Some("ask for the permission".into())),
            "error: listing availability zones\n\nCaused by:\n    AccessDenied: no\n\nhint: ask for the permission\n"
        );
        assert_eq!(render(&anyhow::anyhow!("boom"), None), "error: boom\n");
    }
}
