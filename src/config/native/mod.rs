//! Native ECS task-definition files: the JSON of `aws ecs register-task-definition
//! --cli-input-json` (what ecspresso and the GitHub deploy actions use), read in place of a
//! service's container keys.
//!
//! ecsdeploy owns `family`, `networkMode`, `requiresCompatibilities`, `executionRoleArn`,
//! `taskRoleArn`, each container's `logConfiguration` and the tags: those are filled in (a
//! value in the file is replaced, with a warning). Everything else it reads, registers and
//! diffs. A key it cannot register faithfully is an error naming the key, never dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod fargate;
mod keys;
mod parse;
pub(super) mod place;
mod unsupported;

pub use keys::{
    existing_role_needs, ExecutionReads, FirelensLog, NativeEnvironmentFile, NativeFirelens,
    NativeRepositoryCredentials,
};
pub use parse::{parse, Parsed};

/// The task-level keys.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeTaskDef {
    #[serde(default)]
    pub family: Option<String>,
    /// Task CPU units; ECS writes them as strings (`"256"`), numbers are accepted.
    #[serde(default)]
    pub cpu: Option<Units>,
    #[serde(default)]
    pub memory: Option<Units>,
    #[serde(default)]
    pub runtime_platform: Option<RuntimePlatform>,
    pub container_definitions: Vec<NativeContainer>,
    #[serde(default)]
    pub network_mode: Option<String>,
    #[serde(default)]
    pub requires_compatibilities: Option<Vec<String>>,
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub task_role_arn: Option<String>,
    #[serde(default)]
    pub tags: Option<serde_json::Value>,
    /// Task storage beyond Fargate's 20 GiB: `{ "sizeInGiB": 21..=200 }`.
    #[serde(default)]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Allow AWS Fault Injection Service actions on the tasks.
    #[serde(default)]
    pub enable_fault_injection: Option<bool>,
    /// `task`: the containers of a task share a process namespace (Fargate takes no other).
    #[serde(default)]
    pub pid_mode: Option<String>,
    /// Bind-mount (task storage) and EFS volumes.
    #[serde(default)]
    pub volumes: Vec<NativeVolume>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct EphemeralStorage {
    #[serde(rename = "sizeInGiB")]
    pub size_in_gib: u32,
}

/// A task volume: a bind mount on the task's storage (name only) or an EFS file system.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeVolume {
    pub name: String,
    #[serde(default)]
    pub efs_volume_configuration: Option<NativeEfs>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeEfs {
    pub file_system_id: String,
    #[serde(default)]
    pub root_directory: Option<String>,
    /// `ENABLED` or `DISABLED` (the default).
    #[serde(default)]
    pub transit_encryption: Option<String>,
    #[serde(default)]
    pub transit_encryption_port: Option<u32>,
    #[serde(default)]
    pub authorization_config: Option<NativeEfsAuth>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeEfsAuth {
    #[serde(default)]
    pub access_point_id: Option<String>,
    /// `ENABLED` or `DISABLED` (the default).
    #[serde(default)]
    pub iam: Option<String>,
}

/// `"256"` or `256`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Units {
    Text(String),
    Number(u32),
}

impl Units {
    /// CPU units or MiB. RegisterTaskDefinition also takes `"1 vCPU"` / `".25 vcpu"` for
    /// cpu and `"2 GB"` / `".5 gb"` for memory (1 vCPU = 1024 units, 1 GB = 1024 MiB).
    pub fn value(&self) -> Option<u32> {
        match self {
            Units::Number(n) => Some(*n),
            Units::Text(s) => {
                let t = s.trim().to_ascii_lowercase();
                if let Ok(n) = t.parse() {
                    return Some(n);
                }
                let scaled = t
                    .strip_suffix("vcpu")
                    .or_else(|| t.strip_suffix("gb"))?
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)?;
                let v = scaled * 1024.0;
                (v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePlatform {
    #[serde(default)]
    pub cpu_architecture: Option<String>,
    #[serde(default)]
    pub operating_system_family: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeContainer {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub essential: Option<bool>,
    #[serde(default)]
    pub cpu: Option<u32>,
    #[serde(default)]
    pub memory: Option<u32>,
    #[serde(default)]
    pub memory_reservation: Option<u32>,
    #[serde(default)]
    pub port_mappings: Vec<NativePort>,
    #[serde(default)]
    pub environment: Vec<NameValue>,
    #[serde(default)]
    pub secrets: Vec<NativeSecret>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub entry_point: Option<Vec<String>>,
    #[serde(default)]
    pub working_directory: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub readonly_root_filesystem: Option<bool>,
    /// Only `false` (the default) on Fargate.
    #[serde(default, skip_serializing)]
    pub privileged: Option<bool>,
    #[serde(default)]
    pub docker_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub health_check: Option<NativeHealthCheck>,
    #[serde(default)]
    pub stop_timeout: Option<u32>,
    #[serde(default)]
    pub start_timeout: Option<u32>,
    #[serde(default)]
    pub ulimits: Vec<NativeUlimit>,
    #[serde(default)]
    pub depends_on: Vec<NativeDependency>,
    /// Owned by ecsdeploy (awslogs to the app's log group) and replaced, but for the
    /// `awsfirelens` driver, registered as written (see [`NativeContainer::firelens_log`]).
    #[serde(default)]
    pub log_configuration: Option<serde_json::Value>,
    /// `.env` files in S3 (the execution role reads them).
    #[serde(default)]
    pub environment_files: Vec<NativeEnvironmentFile>,
    /// Credentials of a private registry, in Secrets Manager (the execution role reads them).
    #[serde(default)]
    pub repository_credentials: Option<NativeRepositoryCredentials>,
    /// The container is the task's FireLens log router.
    #[serde(default)]
    pub firelens_configuration: Option<NativeFirelens>,
    #[serde(default)]
    pub mount_points: Vec<NativeMountPoint>,
    #[serde(default)]
    pub volumes_from: Vec<NativeVolumeFrom>,
    /// On Fargate: `initProcessEnabled` and `capabilities` (adding only `SYS_PTRACE`).
    #[serde(default)]
    pub linux_parameters: Option<NativeLinuxParameters>,
    #[serde(default)]
    pub pseudo_terminal: Option<bool>,
    #[serde(default)]
    pub interactive: Option<bool>,
    /// Restart the container in place when it exits (Fargate platform 1.4).
    #[serde(default)]
    pub restart_policy: Option<NativeRestartPolicy>,
    /// `enabled` (ECS resolves the tag to a digest, the default) or `disabled`.
    #[serde(default)]
    pub version_consistency: Option<String>,
    /// Namespaced kernel parameters (`net.*` on Fargate).
    #[serde(default)]
    pub system_controls: Vec<NameValueSysctl>,
    /// Domainless gMSA for Linux on Fargate: `credentialspecdomainless:<S3 object or SSM
    /// parameter ARN>` of the CredSpec file (the execution role reads it).
    #[serde(default)]
    pub credential_specs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeRestartPolicy {
    pub enabled: bool,
    #[serde(default)]
    pub ignored_exit_codes: Vec<i32>,
    #[serde(default)]
    pub restart_attempt_period: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NameValueSysctl {
    pub namespace: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeVolumeFrom {
    pub source_container: String,
    #[serde(default)]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeMountPoint {
    pub source_volume: String,
    pub container_path: String,
    #[serde(default)]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeLinuxParameters {
    #[serde(default)]
    pub init_process_enabled: Option<bool>,
    #[serde(default)]
    pub capabilities: Option<NativeCapabilities>,
    /// Not on Fargate (refused with AWS's reason): kept to name them in the error.
    #[serde(default, skip_serializing)]
    pub devices: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub shared_memory_size: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub tmpfs: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub max_swap: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub swappiness: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NativeCapabilities {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub drop: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativePort {
    /// Absent with `containerPortRange`.
    #[serde(default)]
    pub container_port: Option<u16>,
    /// `"8000-8010"`: a range of ports, each its own host port with awsvpc.
    #[serde(default)]
    pub container_port_range: Option<String>,
    /// With awsvpc the host port must equal the container port.
    #[serde(default)]
    pub host_port: Option<u16>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `http`, `http2` or `grpc` (for Service Connect and load balancer metrics).
    #[serde(default)]
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeSecret {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeHealthCheck {
    pub command: Vec<String>,
    #[serde(default)]
    pub interval: Option<u32>,
    #[serde(default)]
    pub timeout: Option<u32>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub start_period: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeUlimit {
    pub name: String,
    pub soft_limit: u32,
    pub hard_limit: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeDependency {
    pub container_name: String,
    pub condition: String,
}

impl NativePort {
    /// The first and last port of `containerPortRange`, when it is a valid one.
    pub fn range(&self) -> Option<(u16, u16)> {
        let (lo, hi) = keys::parse_range(self.container_port_range.as_deref()?)?;
        Some((u16::try_from(lo).ok()?, u16::try_from(hi).ok()?))
    }
}

impl NativeTaskDef {
    /// The service's main container: the one named like the service, else the first.
    pub fn main_container(&self, service_key: &str) -> Option<&NativeContainer> {
        self.container_definitions
            .iter()
            .find(|c| c.name == service_key)
            .or_else(|| self.container_definitions.first())
    }
}

#[cfg(test)]
mod tests;
