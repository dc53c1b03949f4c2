//! Entry point: parse arguments, pick a reporter, run the command, map the outcome to a
//! documented exit code (see `ecsdeploy --help`).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use ecsdeploy::cli::{Cli, Command, Global, OutputFormat};
use ecsdeploy::commands;
use ecsdeploy::config::ConfigErrors;
use ecsdeploy::error::{
    self, Hint, Interrupted, Locked, UsageError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_LOCKED,
    EXIT_USAGE,
};
use ecsdeploy::lock;
use ecsdeploy::report::{Events, Plain, Quiet, Reporter, Tty};
use tokio::sync::watch;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let report = reporter(&cli.global, &cli.command);
    match runtime.block_on(run(cli, report)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(exit_code(&e)),
    }
}

/// By default ecsdeploy's own warnings only: the AWS SDK's (three "failed to load region
/// from IMDS" lines with debug dumps before ecsdeploy says "no AWS region") are noise to a
/// user, whom ecsdeploy tells what is wrong itself. -v: ecsdeploy's debug lines and the
/// SDK's warnings; -vv: the SDK's debug lines too. `RUST_LOG` overrides all of it.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "ecsdeploy=warn",
        1 => "ecsdeploy=debug,warn",
        _ => "debug,hyper=info,h2=info,rustls=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose > 1)
        .init();
}

/// Bars on a terminal; plain lines in CI, pipes, with --no-progress or with -v (so that
/// debug lines do not tear the bars); with JSON, events on stdout for `up`/`down` and
/// nothing for the other commands (they print one document).
fn reporter(g: &Global, command: &Command) -> Arc<dyn Reporter> {
    let streams = matches!(command, Command::Up(_) | Command::Down(_));
    if g.output == OutputFormat::Json && streams {
        Arc::new(Events::new(std::io::stdout()))
    } else if g.output == OutputFormat::Json {
        Arc::new(Quiet)
    } else if g.no_progress
        || g.verbose > 0
        || std::env::var_os("CI").is_some()
        || !std::io::stderr().is_terminal()
    {
        Arc::new(Plain::new())
    } else {
        Arc::new(Tty::new())
    }
}

/// The held run lock's [`lock::Releaser`], once there is one: what a second Ctrl-C releases.
type HeldLock = Arc<std::sync::Mutex<Option<lock::Releaser>>>;

/// How long a second Ctrl-C gives the lock's release before exiting anyway.
const RELEASE_ON_EXIT: std::time::Duration = std::time::Duration::from_secs(3);

/// First Ctrl-C: start no new steps and end the waits of running ones (the engine and
/// `aws::interruptible`); the run then unwinds, releases the lock and exits 130. Second:
/// release the lock and exit 130 at once. The sender also serves the run lock, which
/// cancels the run the same way when the lock is lost.
fn cancellation(held: HeldLock) -> (Arc<watch::Sender<bool>>, watch::Receiver<bool>) {
    let (tx, rx) = watch::channel(false);
    let tx = Arc::new(tx);
    let signal_tx = tx.clone();
    tokio::spawn(async move {
        let tx = signal_tx;
        let Ok(mut interrupts) = Interrupts::listen() else {
            return;
        };
        if interrupts.next().await {
            let _ = tx.send(true);
            if interrupts.next().await {
                eprintln!(
                    "interrupted again: exiting now; AWS carries on with what was already \
                     started (`ecsdeploy status` shows where it stands)"
                );
                let releaser = held.lock().unwrap().clone();
                if let Some(r) = releaser {
                    r.release_now(RELEASE_ON_EXIT).await;
                }
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        }
    });
    (tx, rx)
}

/// Ctrl-C, one after the other. On Unix one SIGINT listener serves both, so a second
/// Ctrl-C that comes before the first is handled is not lost.
struct Interrupts {
    #[cfg(unix)]
    sigint: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> std::io::Result<Interrupts> {
        Ok(Interrupts {
            #[cfg(unix)]
            sigint: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?,
        })
    }

    /// The next Ctrl-C (false: none can come any more).
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        return self.sigint.recv().await.is_some();
        #[cfg(not(unix))]
        return tokio::signal::ctrl_c().await.is_ok();
    }
}

async fn run(cli: Cli, report: Arc<dyn Reporter>) -> anyhow::Result<u8> {
    // Offline commands: no config load into a session, no AWS.
    match &cli.command {
        Command::Schema => {
            commands::print_json(&commands::schema::config_schema());
            return Ok(0);
        }
        Command::Completions(a) => {
            use std::io::Write;
            std::io::stdout().write_all(&commands::schema::completions(a.shell))?;
            return Ok(0);
        }
        Command::Validate => {
            let result =
                ecsdeploy::config::load_all(&cli.global.config, commands::options(&cli.global));
            return Ok(commands::validate::report(result, cli.global.output));
        }
        Command::Init(a) if a.from_copilot.is_some() => {
            return commands::init_copilot::run(&cli.global, a).map_err(print_error);
        }
        Command::Init(a) if a.from_service.is_some() => {
            let source = a.from_service.as_deref().unwrap_or_default();
            return commands::init_service::run(&cli.global, a, source)
                .await
                .map_err(print_error);
        }
        Command::Init(a) => {
            let message = commands::init::run(&cli.global.config, a, cli.global.region.as_deref())
                .map_err(print_error)?;
            println!("{message}");
            return Ok(0);
        }
        _ => {}
    }
    if let Command::Down(args) = &cli.command {
        commands::down::check_confirmable(args).map_err(print_error)?;
    }
    // `up` and `down` hold the app's run lock; `plan` and `status` take none.
    let locking = match &cli.command {
        Command::Up(a) => Some(("up", a.wait.force_unlock)),
        Command::Down(a) => Some(("down", a.force_unlock)),
        Command::Restart(a) => Some(("restart", a.wait.force_unlock)),
        Command::Rollback(a) => Some(("rollback", a.wait.force_unlock)),
        Command::Scale(a) => Some(("scale", a.wait.force_unlock)),
        _ => None,
    };
    let lease = match locking {
        Some(_) => lock::lease_from_env().map_err(print_error)?,
        None => lock::DEFAULT_LEASE,
    };
    let loaded = commands::load_config(&cli.global, report.as_ref()).map_err(print_error)?;
    let held_lock = HeldLock::default();
    let (cancel_tx, cancel) = cancellation(held_lock.clone());
    let aws = commands::connect(&cli.global, &loaded.config, report.clone())
        .await
        .map_err(print_error)?;
    // The session's reads (zones, imported network, secrets) and the lock are independent:
    // one round trip less on every `up`/`down`.
    let setup = std::time::Instant::now();
    let (dynamodb, app) = (aws.dynamodb.clone(), loaded.config.app.clone());
    let lock_cancel = cancel.clone();
    let locked = ecsdeploy::aws::interruptible(lock_cancel, async {
        match locking {
            Some((command, force)) => lock::acquire(
                &dynamodb,
                &app,
                command,
                force,
                lease,
                cancel_tx,
                report.clone(),
            )
            .await
            .map(|l| {
                *held_lock.lock().unwrap() = Some(l.releaser());
                Some(l)
            }),
            None => Ok(None),
        }
    });
    let (session, held) = tokio::join!(
        commands::open(
            &cli.global,
            loaded,
            aws,
            report.clone(),
            cancel,
            commands::settings(&cli.command)
        ),
        locked
    );
    let held = held.map_err(print_error)?;
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            let e = match held {
                Some(l) => l.release::<()>(Err(e)).await.unwrap_err(),
                None => e,
            };
            return Err(print_error(e));
        }
    };
    let setup_seconds = setup.elapsed().as_secs_f64();
    let result = match &cli.command {
        Command::Up(a) => commands::up::run(&session, setup_seconds, a.timeline)
            .await
            .map(|_| 0),
        Command::Down(a) => commands::down::run(&session, a).await.map(|_| 0),
        Command::Status => commands::status::run(&session).await.map(|_| 0),
        Command::Plan(a) => commands::plan::run(&session, a).await.map(|pending| {
            if a.detailed_exitcode && pending {
                2
            } else {
                0
            }
        }),
        Command::Logs(a) => commands::logs::run(&session, a).await.map(|_| 0),
        // Their waits end at the first Ctrl-C, as `up`'s do.
        Command::Restart(a) => {
            interruptible_wait(&session, commands::restart::run(&session, a)).await
        }
        Command::Rollback(a) => {
            interruptible_wait(&session, commands::rollback::run(&session, a)).await
        }
        Command::Scale(a) => interruptible_wait(&session, commands::scale::run(&session, a)).await,
        Command::Exec(a) => {
            commands::exec::run(
                &session,
                a,
                cli.global.profile.as_deref(),
                cli.global.endpoint_url.as_deref(),
            )
            .await
        }
        Command::Verify => commands::verify::run(&session).await,
        Command::Schema | Command::Completions(_) | Command::Validate | Command::Init(_) => {
            unreachable!("offline commands return above")
        }
        Command::Run(a) => commands::run::run(&session, a).await,
    };
    let result = match held {
        Some(l) => l.release(result).await,
        None => result,
    };
    result.map_err(print_error)
}

/// A command that waits for a deployment, run so that the first Ctrl-C ends its wait: then
/// it says so and exits 130 (AWS carries on).
async fn interruptible_wait(
    session: &ecsdeploy::ops::Session,
    fut: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<u8> {
    match ecsdeploy::aws::interruptible(session.cancel.clone(), fut).await {
        Ok(()) => Ok(0),
        Err(e) if e.downcast_ref::<ecsdeploy::aws::StoppedWaiting>().is_some() => {
            eprintln!("{e:#}");
            Err(Interrupted.into())
        }
        Err(e) => Err(e),
    }
}

fn print_error(e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<ConfigErrors>().is_some() {
        eprint!("{e}");
    } else if e.downcast_ref::<Interrupted>().is_none() {
        eprint!("{}", error::render(&e, e.hint()));
    }
    e
}

fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<ConfigErrors>().is_some() || e.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else if e.downcast_ref::<Locked>().is_some() {
        EXIT_LOCKED
    } else if e.downcast_ref::<Interrupted>().is_some() {
        EXIT_INTERRUPTED
    } else {
        EXIT_FAILURE
    }
}
