//! The keys RegisterTaskDefinition takes that ecsdeploy does not register, each with its
//! reason, and the error that names such a key.

/// Keys RegisterTaskDefinition takes that ecsdeploy does not register, with the reason:
/// Fargate's own refusal where Fargate refuses the key (ECS developer guide, "Amazon ECS
/// task definition differences for Fargate").
const UNSUPPORTED: &[(&str, &str)] = &[
    ("dnsServers", "not supported on Fargate (tasks use the VPC's DNS)"),
    ("dnsSearchDomains", "not supported on Fargate"),
    ("extraHosts", "not supported on Fargate"),
    ("hostname", "not supported on Fargate (awsvpc tasks get the network interface's name)"),
    ("links", "not supported with awsvpc networking, which Fargate uses: containers of a task reach each other on localhost"),
    ("disableNetworking", "not supported on Fargate"),
    ("dockerSecurityOptions", "not supported on Fargate"),
    ("resourceRequirements", "not supported on Fargate (no GPUs)"),
    ("ipcMode", "not supported on Fargate"),
    ("placementConstraints", "not supported on Fargate (no container instances to place on)"),
    ("inferenceAccelerators", "not supported on Fargate"),
    ("dockerVolumeConfiguration", "Docker volumes are not supported on Fargate; use a bind-mount volume (name only) or EFS"),
    ("fsxWindowsFileServerVolumeConfiguration", "FSx for Windows volumes need Windows tasks; ecsdeploy runs Linux"),
    ("hostPortRange", "not taken in a task definition: with awsvpc the host port range is the containerPortRange (ECS sets it)"),
    ("proxyConfiguration", "App Mesh proxy configuration: AWS App Mesh reached its end of support on 30 September 2026; use Service Connect (`connect` in the TOML)"),
];

/// The error for a key ecsdeploy does not register: with the reason when it is known.
pub(super) fn unsupported(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    match UNSUPPORTED.iter().find(|(k, _)| *k == last) {
        Some((_, why)) => format!("`{path}`: {why}"),
        None => format!(
            "`{path}` is not supported by ecsdeploy in task-definition files (it would be \
             dropped on register); remove it or describe the service in TOML"
        ),
    }
}
