//! Container settings of task-definition files that ECS reads with the execution role or
//! that change where logs go: `environmentFiles`, `repositoryCredentials`, `credentialSpecs`, FireLens
//! (`firelensConfiguration` and the `awsfirelens` log driver) and `containerPortRange`, in
//! the normal form both sides of a diff use.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// A port mapping over a range of ports (`containerPortRange`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortRangeSpec {
    /// `"8000-8010"`.
    pub range: String,
    /// `tcp` (the default) or `udp`.
    pub protocol: String,
    pub name: Option<String>,
    pub app_protocol: Option<String>,
}

/// The `awsfirelens` log configuration of a container that routes its logs through the
/// task's log router, as the file gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FirelensLogSpec {
    pub options: BTreeMap<String, String>,
    /// (name, valueFrom)
    pub secret_options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileKeys {
    /// `environmentFiles`: (type, S3 object ARN), in order (ECS reads them top down).
    pub environment_files: Vec<(String, String)>,
    /// `repositoryCredentials.credentialsParameter`.
    pub repository_credentials: Option<String>,
    /// `firelensConfiguration`: (type, options).
    pub firelens: Option<(String, BTreeMap<String, String>)>,
    /// Registered in place of the awslogs configuration ecsdeploy gives other containers.
    pub firelens_log: Option<FirelensLogSpec>,
    pub port_ranges: Vec<PortRangeSpec>,
    /// `credentialSpecs`: `credentialspecdomainless:<ARN>` of a gMSA CredSpec, as written.
    pub credential_specs: Vec<String>,
}

impl FileKeys {
    /// The fields of these settings, added to a container's (`log_configuration` replaces
    /// the awslogs one when the container routes through FireLens).
    pub fn add_to(&self, c: &mut serde_json::Map<String, Value>) {
        c.insert(
            "environment_files".into(),
            self.environment_files
                .iter()
                .map(|(t, v)| json!({"type": t, "value": v}))
                .collect(),
        );
        c.insert("credential_specs".into(), json!(self.credential_specs));
        c.insert(
            "repository_credentials".into(),
            json!(self.repository_credentials),
        );
        c.insert(
            "firelens_configuration".into(),
            json!(self
                .firelens
                .as_ref()
                .map(|(t, o)| json!({"type": t, "options": o}))),
        );
        c.insert(
            "port_ranges".into(),
            self.port_ranges
                .iter()
                .map(|p| {
                    json!({
                        "container_port_range": p.range,
                        "protocol": p.protocol,
                        "name": p.name,
                        "app_protocol": p.app_protocol,
                    })
                })
                .collect(),
        );
        if let Some(l) = &self.firelens_log {
            let mut secrets = l.secret_options.clone();
            secrets.sort();
            c.insert(
                "log_configuration".into(),
                json!({
                    "driver": "awsfirelens",
                    "options": l.options,
                    "secret_options": secrets
                        .iter()
                        .map(|(n, v)| json!({"name": n, "value_from": v}))
                        .collect::<Vec<_>>(),
                }),
            );
        }
    }
}
