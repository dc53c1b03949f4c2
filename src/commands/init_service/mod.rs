//! `ecsdeploy init --from-service CLUSTER/SERVICE`: read a live ECS service with read-only
//! AWS calls (`read.rs`) and write a commented config that reproduces it inside its existing
//! network, plus a native task-definition file when the TOML keys cannot hold the task
//! (`convert.rs`, pure). What cannot be expressed is listed at the top of the config and in
//! the command's output.

mod containers;
mod convert;
mod native_file;
mod network;
mod read;
mod routing;
mod scaling;
mod schedules;
#[cfg(test)]
mod tests;
mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use convert::{convert, key_from, Conversion, Options};
pub use read::read;

use crate::aws::{Clients, Target};
use crate::cli::{Global, InitArgs, OutputFormat};
use crate::error::UsageError;

/// `key = value` lines (values already TOML), in order.
pub type Keys = Vec<(String, String)>;

/// Everything read about the live service, as AWS describes it.
#[derive(Debug, Clone)]
pub struct Live {
    pub region: String,
    /// The cluster's name.
    pub cluster: String,
    pub service: aws_sdk_ecs::types::Service,
    pub task_definition: aws_sdk_ecs::types::TaskDefinition,
    pub target_groups: Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    /// Target group ARN → its attributes.
    pub target_group_attributes: BTreeMap<String, BTreeMap<String, String>>,
    pub load_balancers: Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>,
    /// Load balancer ARN → its attributes.
    pub load_balancer_attributes: BTreeMap<String, BTreeMap<String, String>>,
    pub listeners: Vec<aws_sdk_elasticloadbalancingv2::types::Listener>,
    /// Listener ARN → every certificate (the default one and those served by SNI).
    pub listener_certificates:
        BTreeMap<String, Vec<aws_sdk_elasticloadbalancingv2::types::Certificate>>,
    /// Listener ARN → its rules (the default rule included).
    pub rules: BTreeMap<String, Vec<aws_sdk_elasticloadbalancingv2::types::Rule>>,
    /// The subnets of the service and of its load balancers.
    pub subnets: Vec<aws_sdk_ec2::types::Subnet>,
    /// The route tables of their VPC.
    pub route_tables: Vec<aws_sdk_ec2::types::RouteTable>,
    /// The security groups of the service and of its load balancers.
    pub security_groups: Vec<aws_sdk_ec2::types::SecurityGroup>,
    pub scalable_target: Option<aws_sdk_applicationautoscaling::types::ScalableTarget>,
    pub scaling_policies: Vec<aws_sdk_applicationautoscaling::types::ScalingPolicy>,
    pub scheduled_actions: Vec<aws_sdk_applicationautoscaling::types::ScheduledAction>,
}

/// `CLUSTER/SERVICE` → its two parts, or a usage error.
pub fn parse_source(source: &str) -> Result<(String, String)> {
    match source.split_once('/') {
        Some((c, s)) if !c.is_empty() && !s.is_empty() && !s.contains('/') => {
            Ok((c.to_string(), s.to_string()))
        }
        _ => Err(UsageError(format!(
            "--from-service `{source}`: give the cluster and the service as CLUSTER/SERVICE, \
             e.g. `prod/web`"
        ))
        .into()),
    }
}

/// The file name of the native task-definition file, next to the config.
pub const TASK_DEFINITION_FILE: &str = "{key}.task-definition.json";

/// Read, convert, check, write; print the result. Returns the exit code.
pub async fn run(global: &Global, a: &InitArgs, source: &str) -> Result<u8> {
    let (cluster, service) = parse_source(source)?;
    let path = &global.config;
    super::init::refuse_overwrite(path, a.force)?;
    let target = Target {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        ..Target::default()
    };
    let aws = Clients::new(&target).await?;
    if global.output == OutputFormat::Text {
        eprintln!(
            "reading service {service} of cluster {cluster} in {}",
            aws.region
        );
    }
    let live = read(&aws, &cluster, &service).await?;
    let conversion = convert(
        &live,
        &Options {
            source: source.to_string(),
            app: a.app.clone(),
            task_definition_file: TASK_DEFINITION_FILE.to_string(),
            now: std::time::SystemTime::now(),
        },
    );
    let dir = path.parent().unwrap_or(Path::new(""));
    let native_path = conversion
        .task_definition
        .as_ref()
        .map(|(name, _)| dir.join(name));
    if let Some(p) = &native_path {
        super::init::refuse_overwrite(p, a.force)?;
    }
    let warnings = check(path, &conversion)?;
    if let (Some(p), Some((_, text))) = (&native_path, &conversion.task_definition) {
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    std::fs::write(path, &conversion.config)
        .with_context(|| format!("writing {}", path.display()))?;
    print(
        global,
        path,
        native_path.as_deref(),
        &conversion,
        &warnings,
        &live,
    );
    Ok(0)
}

/// Load the written files from a scratch directory before writing them where they belong:
/// the config must be valid (its warnings are returned), or nothing is written.
fn check(path: &Path, c: &Conversion) -> Result<Vec<String>> {
    let scratch = std::env::temp_dir().join(format!(
        "ecsdeploy-init-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let name = path
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ecsdeploy.toml"));
    let result = (|| -> Result<Vec<String>> {
        std::fs::write(scratch.join(&name), &c.config)?;
        if let Some((file, text)) = &c.task_definition {
            std::fs::write(scratch.join(file), text)?;
        }
        let loaded = crate::config::load_file(&scratch.join(&name)).map_err(|e| {
            anyhow::anyhow!(
                "the service converts to a config that does not load (nothing was written); \
                 please report this:\n{e}"
            )
        })?;
        Ok(loaded
            .warnings
            .iter()
            .map(|w| w.to_string().replace(&scratch.display().to_string(), "."))
            .collect())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn print(
    global: &Global,
    path: &Path,
    native: Option<&Path>,
    c: &Conversion,
    warnings: &[String],
    live: &Live,
) {
    if global.output == OutputFormat::Json {
        super::print_json(&serde_json::json!({
            "service": live.service.service_arn(),
            "task_definition_arn": live.task_definition.task_definition_arn(),
            "config": path.display().to_string(),
            "task_definition": native.map(|p| p.display().to_string()),
            "app": c.app,
            "service_key": c.key,
            "not_expressible": c.not_expressible,
            "warnings": warnings,
        }));
        return;
    }
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut out = format!(
        "wrote {}{}: app {}, service {}, from {}.\n",
        path.display(),
        native
            .map(|p| format!(" and {}", p.display()))
            .unwrap_or_default(),
        c.app,
        c.key,
        live.service.service_arn().unwrap_or_default()
    );
    if c.not_expressible.is_empty() {
        out.push_str("Everything the live service has is expressed.\n");
    } else {
        out.push_str(&format!(
            "Not expressible in ecsdeploy ({}; also listed at the top of the config):\n",
            c.not_expressible.len()
        ));
        for n in &c.not_expressible {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out.push_str(
        "Next: `ecsdeploy validate`, then `ecsdeploy plan` to see what a new deployment beside \
         the old one would create.",
    );
    println!("{out}");
}
