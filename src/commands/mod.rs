//! The commands: each turns its arguments into options, calls the operation in
//! [`crate::ops`] (or reads AWS through the session itself, for `status`, `plan`, `logs`
//! and `exec`), and prints the result. Results go to stdout, progress to stderr.

pub mod down;
pub mod exec;
pub mod init;
pub mod init_copilot;
pub mod init_service;
pub mod logs;
pub mod plan;
pub mod restart;
pub mod rollback;
pub mod run;
pub mod scale;
pub mod schema;
pub mod status;
pub mod up;
pub mod validate;
pub mod verify;

use anyhow::Result;

use crate::cli::{Command, Global};
use crate::config::{self, Loaded};
use crate::ops::down::DownOptions;
use crate::ops::up::UpOptions;
use crate::ops::Settings;
use crate::report::Reporter;

pub use crate::ops::{connect, open, Session};

/// How to read the config: the environment `--env` (or `ECSDEPLOY_ENV`) names, and
/// variables from the process environment.
pub fn options(global: &Global) -> config::Options<'_> {
    config::Options {
        environment: global.env.as_deref(),
        ..config::Options::default()
    }
}

/// Load and validate the config (no AWS call before it is valid), then connect.
pub fn load_config(global: &Global, report: &dyn Reporter) -> Result<Loaded> {
    let loaded = config::load_file_with(&global.config, options(global))?;
    for w in &loaded.warnings {
        report.warn(&w.to_string());
    }
    Ok(loaded)
}

/// The session settings a command needs, decided from its arguments before the session
/// opens, so that nothing patches the session afterwards.
pub fn settings(command: &Command) -> Settings {
    match command {
        Command::Up(a) => up_options(a).settings(),
        Command::Down(a) => down_options(a).settings(),
        Command::Restart(crate::cli::RestartArgs { wait, .. })
        | Command::Rollback(crate::cli::RollbackArgs { wait, .. })
        | Command::Scale(crate::cli::ScaleArgs { wait, .. }) => Settings {
            service_wait: wait.service_wait(),
            ..Settings::default()
        },
        Command::Status => Settings {
            status_details: true,
            ..Settings::default()
        },
        _ => Settings::default(),
    }
}

pub fn up_options(a: &crate::cli::UpArgs) -> UpOptions {
    UpOptions {
        wait: a.wait.service_wait(),
        preflight: !a.no_verify,
    }
}

pub fn down_options(a: &crate::cli::DownArgs) -> DownOptions {
    DownOptions {
        delete_images: a.delete_images,
        delete_data: a.delete_data,
        deadline: a.timeout,
        skip_final_snapshot: a.skip_final_snapshot,
    }
}

/// The app as text output names it: `shop-production (environment production)`.
pub fn app_label(c: &config::Config) -> String {
    match &c.environment {
        Some(e) => format!("{} (environment {e})", c.app),
        None => c.app.clone(),
    }
}

/// The JSON result of `up`/`down`: the last event of the run's event stream, or (for a
/// reporter that streams none) one document on stdout.
pub fn result_json(s: &Session, v: &serde_json::Value) {
    if !s.ctx.report.result(v) {
        print_json(v);
    }
}

/// Print a JSON document on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values always serialise")
    );
}
