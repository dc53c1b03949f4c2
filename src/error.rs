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
