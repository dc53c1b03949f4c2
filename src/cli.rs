//! Command-line definitions (clap). Nothing here runs anything.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  ecsdeploy plan                          # what `up` would change, changing nothing
  ecsdeploy up -c config/examples/fargate-public.toml
  IMAGE_TAG=$GIT_SHA ecsdeploy --env staging up   # [environments.staging], ${IMAGE_TAG}
  ecsdeploy status --output json          # machine-readable state
  ecsdeploy down --yes                    # delete everything the app owns
  ecsdeploy logs web --follow --since 1h  # the service's logs, all tasks
  ecsdeploy exec web -- sh                # a shell in a running task (ECS Exec)
  ecsdeploy init && ecsdeploy validate    # a starter config, checked offline
  ecsdeploy verify                        # images, certificates, quotas: checked live
  ecsdeploy init --from-service prod/web  # a config reproducing a live ECS service
  ecsdeploy completions bash > /etc/bash_completion.d/ecsdeploy
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 ecsdeploy up   # against a local emulator

Exit codes:
  0    success (for `plan --detailed-exitcode`: no changes, every deployment settled)
  1    failure (an AWS call or a deployment failed, in this run or, unchanged since, before)
  2    usage or configuration error, or a preflight check failed (nothing was changed);
       `plan --detailed-exitcode`: changes are pending, or a service's deployment is still
       in progress or failed
  3    locked: another `up`/`down` of the same app is running (nothing was changed)
  130  interrupted (Ctrl-C)";

#[derive(Debug, Parser)]
#[command(
    name = "ecsdeploy",
    version,
    about = "Deploy containerized web apps to AWS ECS Fargate by calling the AWS APIs directly",
    long_about = "Deploy containerized web apps to AWS ECS Fargate by calling the AWS APIs \
                  directly: no CloudFormation, no state file. One TOML config describes the \
                  network, repositories, cluster, roles, logs and services; `up` creates what is \
                  missing and changes only what differs.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Config file.
    #[arg(short, long, global = true, default_value = "ecsdeploy.toml")]
    pub config: PathBuf,
    /// The environment to deploy: `[environments.<name>]` of the config, applied over its
    /// base; the app is then `<app>-<name>` unless the environment sets `app`.
    #[arg(
        long = "env",
        global = true,
        env = "ECSDEPLOY_ENV",
        value_name = "NAME"
    )]
    pub env: Option<String>,
    /// AWS region (overrides the config's `region` and the AWS environment).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config (SSO profiles work).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a local emulator). AWS_ENDPOINT_URL is
    /// honoured too.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Result format on stdout. With `json`, stderr carries no progress.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// No progress bars, even on a terminal (plain lines instead).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// More detail on stderr (-v: ecsdeploy debug, -vv: AWS SDK debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// At most this many AWS steps at once; throttling is absorbed by the SDK's adaptive
    /// retry.
    #[arg(long, global = true, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update everything the config describes; delete what it no longer has.
    Up(UpArgs),
    /// Delete everything the app owns, dependents first.
    Down(DownArgs),
    /// Show every resource the app owns, with ids, states and service rollouts.
    Status,
    /// Show what `up` would do, making no change.
    Plan(PlanArgs),
    /// Print a service's CloudWatch logs: all its tasks and containers, interleaved by
    /// time, each line prefixed with the task id and container.
    Logs(LogsArgs),
    /// Run a command in a running task of a service (ECS Exec; needs the AWS
    /// session-manager-plugin).
    Exec(ExecArgs),
    /// Start a new deployment of the revision a service runs (its tasks start again and
    /// read their secrets afresh, e.g. after a rotation), waited for like `up`'s.
    Restart(RestartArgs),
    /// Roll a service back: a deployment in flight is stopped and rolled back by ECS;
    /// otherwise the previous revision that deployed successfully is deployed again.
    /// Waited for like `up`; the next `up` deploys the config's revision again.
    Rollback(RollbackArgs),
    /// Set a service's task count, or (for an autoscaled service) its autoscaling bounds;
    /// waited for like `up`.
    Scale(ScaleArgs),
    /// Check the config offline: no AWS call, no credentials needed.
    Validate,
    /// Write a commented starter config (asks on a terminal; flags for scripts).
    Init(InitArgs),
    /// Print the JSON Schema of the config (for editors: completion and checks).
    Schema,
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Check against the live account what would fail minutes into a deploy: images in
    /// ECR, certificates, Cognito pools, quotas, existing roles (`up` runs it before its
    /// first write). Writes nothing; exit 2 when a check fails.
    Verify,
    /// Run a one-off task from the task definition a service runs, with its network, roles
    /// and secrets (e.g. a migration or a console command); stream its logs, wait for it to
    /// stop and exit with its main container's exit code.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
}

const RUN_HELP: &str = "\
Examples:
  ecsdeploy run web -- python manage.py migrate
  ecsdeploy run web --container worker -- ./bin/reindex --all
  ecsdeploy run web --detach -- ./bin/backfill   # prints the task ARN and returns

Exit codes:
  0-255  the main container's exit code (or --container's)
  1      the task failed to start (the reason is printed: CannotPullContainerError,
         ResourceInitializationError, ...), it was still running at --timeout, or an AWS
         call failed
  2      usage or configuration error (no task was started)
  130    interrupted (Ctrl-C): the task was stopped (asked on a terminal, or --yes), or
         left running and named";

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The service's key in the config.
    pub service: String,
    /// Keep printing new events until interrupted (Ctrl-C ends it with exit code 0).
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start, e.g. `10m`, `2h`, `1d`.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub since: Duration,
    /// CloudWatch Logs filter pattern, e.g. `ERROR` or `"status=500"`.
    #[arg(long)]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The service's key in the config.
    pub service: String,
    /// The container whose command is replaced and whose exit code counts (default: the
    /// service's main container).
    #[arg(long)]
    pub container: Option<String>,
    /// Print the task's ARN and return at once, without waiting or showing logs.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// On Ctrl-C, stop the task without asking (without a terminal and without --yes it is
    /// left running).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait for the task to stop; it keeps running after that.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// The command, after `--` (default: the task definition's).
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// The service's key in the config.
    pub service: String,
    /// Container to run in (default: the service's main container).
    #[arg(long)]
    pub container: Option<String>,
    /// Task id (default: the first running task of the service).
    #[arg(long)]
    pub task: Option<String>,
    /// The command, after `--` (default `/bin/sh`).
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct InitArgs {
    /// App name (default: the current directory's name, made valid).
    #[arg(long)]
    pub app: Option<String>,
    /// Container image of the first service.
    #[arg(long)]
    pub image: Option<String>,
    /// Container port of the first service.
    #[arg(long)]
    pub port: Option<u16>,
    /// Put an Application Load Balancer in front of the service.
    #[arg(long, conflicts_with = "no_load_balancer")]
    pub load_balancer: bool,
    /// No load balancer: the tasks get public IPs.
    #[arg(long)]
    pub no_load_balancer: bool,
    /// Run on ARM64 (Graviton) instead of X86_64.
    #[arg(long)]
    pub arm64: bool,
    /// Accept the defaults for everything not given, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Convert the AWS Copilot workspace in DIR (the directory holding `copilot/`) instead
    /// of asking: its services, environments and what could not be converted, with file
    /// and line.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["image", "port", "load_balancer", "no_load_balancer", "arm64"])]
    pub from_copilot: Option<PathBuf>,
    /// Write a config that reproduces a live ECS service inside its existing network
    /// (`network.existing`), read with read-only AWS calls: its task definition (a native
    /// task-definition file when the TOML keys cannot hold it), load balancer listeners and
    /// rules, security groups, autoscaling and Service Connect. What ecsdeploy cannot express
    /// is listed at the top of the file and in the output. Uses --region, --profile and
    /// AWS_ENDPOINT_URL like the other commands; --app names the new app.
    #[arg(
        long,
        value_name = "CLUSTER/SERVICE",
        conflicts_with_all = ["image", "port", "load_balancer", "no_load_balancer", "arm64", "yes", "from_copilot"]
    )]
    pub from_service: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// The service's key in the config.
    pub service: String,
    /// The number of tasks (a service without autoscaling).
    pub count: Option<u32>,
    /// The fewest tasks autoscaling may leave (an autoscaled service).
    #[arg(long, requires = "max", conflicts_with = "count")]
    pub min: Option<u32>,
    /// The most tasks autoscaling may start (an autoscaled service).
    #[arg(long, requires = "min", conflicts_with = "count")]
    pub max: Option<u32>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// The service's key in the config.
    pub service: String,
    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The service's key in the config.
    pub service: String,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// What the commands that change services and wait for them share: `up`, `restart`,
/// `scale`.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// How long to wait for each service deployment to complete.
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    pub wait_timeout: Duration,
    /// Return once the changes are sent, without waiting for deployments.
    #[arg(long)]
    pub no_wait: bool,
    /// Delete the app's run lock first, whoever holds it (when a run died and you cannot
    /// wait for its lease to expire).
    #[arg(long)]
    pub force_unlock: bool,
}

impl WaitArgs {
    /// How long to wait for a deployment; `None` with `--no-wait`.
    pub fn service_wait(&self) -> Option<Duration> {
        (!self.no_wait).then_some(self.wait_timeout)
    }
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub wait: WaitArgs,
    /// End with a timeline of the steps: when each started, how long it took, and which
    /// step it waited for.
    #[arg(long)]
    pub timeline: bool,
    /// Skip the preflight checks (`ecsdeploy verify`) that run before the first write.
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also delete ECR repositories that still contain images.
    #[arg(long)]
    pub delete_images: bool,
    /// Also delete the app's data: DynamoDB tables (deletion protection is lifted first),
    /// RDS databases (after a final snapshot), EFS file systems, generated secrets (7-day
    /// recovery window), ECR images, and the network they kept.
    #[arg(long)]
    pub delete_data: bool,
    /// With --delete-data: delete databases without a final snapshot.
    #[arg(long, requires = "delete_data")]
    pub skip_final_snapshot: bool,
    /// How long to retry deletes that AWS refuses while dependencies drain (ENIs).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Delete the app's run lock first, whoever holds it (when a run died and you cannot
    /// wait for its lease to expire).
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Exit 2 when changes are pending or a service's deployment has not settled (in
    /// progress or failed), 0 when there are none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print the dependency graph of the changes instead of the plan, with the chain that
    /// decides the expected time on AWS marked: a Mermaid flowchart or Graphviz DOT.
    #[arg(long, value_name = "FORMAT")]
    pub graph: Option<GraphFormat>,
}

/// `plan --graph` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["ecsdeploy", "plan", "--region", "eu-west-1", "-c", "x.toml"])
                .unwrap();
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cli.global.config, PathBuf::from("x.toml"));
    }

    #[test]
    fn wait_timeout_parses_durations() {
        let cli = Cli::try_parse_from(["ecsdeploy", "up", "--wait-timeout", "90s"]).unwrap();
        match cli.command {
            Command::Up(a) => assert_eq!(a.wait.wait_timeout, Duration::from_secs(90)),
            _ => panic!(),
        }
    }
}
