//! Desired specification of each resource kind (pure data). `fields` renders the
//! normalised shape that diffs compare against what the step modules observe in AWS.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::resource::{Fields, Kind, Ref, Resolve, ResourceId, Val};

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: ResourceId,
    /// The AWS name (or `Name` tag for EC2 resources).
    pub name: String,
    pub spec: Spec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    Vpc(VpcSpec),
    Subnet(SubnetSpec),
    InternetGateway(IgwSpec),
    RouteTable(RouteTableSpec),
    ElasticIp(ElasticIpSpec),
    NatGateway(NatGatewaySpec),
    VpcEndpoint(VpcEndpointSpec),
    SecurityGroup(SecurityGroupSpec),
    LoadBalancer(LoadBalancerSpec),
    TargetGroup(TargetGroupSpec),
    Listener(ListenerSpec),
    ListenerRule(ListenerRuleSpec),
    EcrRepository(EcrSpec),
    Image(ImageSpec),
    Namespace(NamespaceSpec),
    Cluster(ClusterSpec),
    IamRole(RoleSpec),
    LogGroup(LogGroupSpec),
    TaskDefinition(TaskDefSpec),
    Service(ServiceSpec),
    ScalableTarget(ScalableTargetSpec),
    ScalingPolicy(ScalingPolicySpec),
    DynamodbTable(TableSpec),
    DbSubnetGroup(DbSubnetGroupSpec),
    DbInstance(DbInstanceSpec),
    FileSystem(FileSystemSpec),
    MountTarget(MountTargetSpec),
    AccessPoint(AccessPointSpec),
    Secret(SecretSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct VpcSpec {
    pub cidr: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubnetSpec {
    pub vpc: Val,
    pub cidr: String,
    pub az: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IgwSpec {
    pub vpc: Val,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteTableSpec {
    pub vpc: Val,
    /// Destination CIDR → gateway.
    pub routes: Vec<(String, Val)>,
    pub subnets: Vec<Val>,
}

/// Where an ingress rule admits traffic from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Cidr(String),
    /// Another security group (by id): the load balancer's, a peer service's.
    Group(Val),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IngressRule {
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub source: Source,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ElasticIpSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct NatGatewaySpec {
    pub subnet: Val,
    pub allocation: Val,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointType {
    Gateway,
    Interface,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VpcEndpointSpec {
    pub vpc: Val,
    /// Full service name, e.g. `com.amazonaws.ap-northeast-1.ecr.api`.
    pub service_name: String,
    pub endpoint_type: EndpointType,
    /// Gateway endpoints: the route tables that get the prefix-list route.
    pub route_tables: Vec<Val>,
    /// Interface endpoints: subnets and security groups; private DNS on.
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerSpec {
    pub scheme: String,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    /// The attributes ecsdeploy manages (key → value as AWS spells them).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckSpec {
    pub path: String,
    pub port: String,
    pub protocol: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroupSpec {
    pub vpc: Val,
    pub protocol: String,
    pub port: i32,
    pub health_check: HealthCheckSpec,
    pub deregistration_delay: u32,
}

/// One listener or rule action, in the order ALB runs them.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    Forward(Val),
    RedirectHttps {
        port: u16,
    },
    Fixed {
        status: u16,
        content_type: String,
        body: Option<String>,
    },
    Cognito {
        user_pool_arn: String,
        client_id: String,
        domain: String,
        on_unauthenticated: String,
        scope: Option<String>,
        session_timeout: Option<u32>,
    },
    Oidc {
        issuer: String,
        authorization_endpoint: String,
        token_endpoint: String,
        user_info_endpoint: String,
        client_id: String,
        /// Environment variable holding the client secret at apply time.
        client_secret_env: String,
        on_unauthenticated: String,
        scope: Option<String>,
        session_timeout: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerSpec {
    pub load_balancer: Val,
    pub port: u16,
    pub protocol: String,
    pub certificates: Vec<String>,
    pub ssl_policy: Option<String>,
    pub default_actions: Vec<ActionSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerRuleSpec {
    pub listener: Val,
    pub priority: u32,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    pub actions: Vec<ActionSpec>,
}

/// A service's attachment to a target group.
#[derive(Debug, Clone, PartialEq)]
pub struct LbAttachment {
    pub target_group: Val,
    pub container_name: String,
    pub container_port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroupSpec {
    pub vpc: Val,
    pub description: String,
    pub ingress: Vec<IngressRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EcrSpec {
    pub scan_on_push: bool,
    pub tag_mutability: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    pub container_insights: String,
    /// Default Service Connect namespace (name or ARN), if any.
    pub service_connect_namespace: Option<Val>,
}

/// A Cloud Map HTTP namespace (the resource name is the namespace name).
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceSpec;

/// Application Auto Scaling target for one ECS service's desired count.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalableTargetSpec {
    /// The service (its name); the target is `service/<cluster>/<service>`.
    pub service: Val,
    pub cluster: String,
    pub min: u32,
    pub max: u32,
}

/// A target-tracking policy on a scalable target.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicySpec {
    /// The scalable target (its `service/<cluster>/<service>` resource id).
    pub target: Val,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or
    /// `ALBRequestCountPerTarget`.
    pub metric: String,
    /// For ALB requests: the target group's ARN (the label is derived from it and the LB's).
    pub target_group: Option<Val>,
    pub load_balancer: Option<Val>,
    pub target_value: f64,
    pub scale_in_cooldown: u32,
    pub scale_out_cooldown: u32,
    pub disable_scale_in: bool,
}

/// A container health check as ECS runs it (`CMD-SHELL`).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckCmd {
    /// The full ECS form: `["CMD-SHELL", "<shell command>"]` or `["CMD", exe, args...]`.
    pub command: Vec<String>,
    pub interval: u32,
    pub timeout: u32,
    pub retries: u32,
    pub start_period: u32,
}

/// One published Service Connect port.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectServiceSpec {
    pub port_name: String,
    pub discovery_name: String,
    pub dns_name: String,
    pub client_port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConnectSpec {
    /// Namespace name or ARN.
    pub namespace: Val,
    /// Published ports; empty = client only.
    pub services: Vec<ConnectServiceSpec>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    /// Service principal allowed to assume the role.
    pub principal: String,
    pub path: String,
    pub managed_policies: Vec<String>,
    /// Statements of the inline policy (named after the role); empty = no inline policy.
    pub inline_policy: Vec<PolicyStatement>,
}

/// One statement of a generated or configured inline policy. Resources may reference
/// other resources' ARNs (a table, a secret), known only once those exist.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStatement {
    /// `Allow` or `Deny`.
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupSpec {
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: Val,
    pub essential: bool,
    pub ports: Vec<u16>,
    /// Names of port mappings (Service Connect refers to ports by name).
    pub port_names: BTreeMap<u16, String>,
    pub health_check: Option<HealthCheckCmd>,
    pub stop_timeout: Option<u32>,
    /// name → (soft, hard)
    pub ulimits: BTreeMap<String, (u32, u32)>,
    /// (container, condition)
    pub depends_on: Vec<(String, String)>,
    /// Plain environment variables; values may reference other resources (a DB endpoint).
    pub environment: Vec<(String, Val)>,
    /// Environment variables ECS fills from Secrets Manager: name → `valueFrom` (a secret
    /// ARN, or `<arn>:<json-key>::`).
    pub secrets: Vec<(String, Val)>,
    pub mount_points: Vec<MountPointSpec>,
    pub command: Option<Vec<String>>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
    /// Settings only task-definition files give (TOML services leave them unset).
    pub extra: ContainerExtra,
}

/// Container settings of native task-definition files beyond what the TOML describes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerExtra {
    pub entry_point: Option<Vec<String>>,
    pub working_directory: Option<String>,
    pub user: Option<String>,
    pub readonly_root_filesystem: Option<bool>,
    /// Container CPU units; 0 and unset are the same to ECS.
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub memory_reservation: Option<u32>,
    pub docker_labels: BTreeMap<String, String>,
}

impl ContainerExtra {
    /// `container` (a JSON object) with these settings' fields added.
    pub fn merged_into(&self, mut container: Value) -> Value {
        if let (Value::Object(c), Value::Object(x)) = (&mut container, self.fields()) {
            c.extend(x);
        }
        container
    }

    /// Normal form shared by the desired and the observed side.
    pub fn fields(&self) -> Value {
        json!({
            "entry_point": self.entry_point.as_ref().filter(|e| !e.is_empty()),
            "working_directory": self.working_directory,
            "user": self.user,
            // false and unset are the same to ECS.
            "readonly_root_filesystem": self.readonly_root_filesystem.filter(|r| *r),
            "cpu": self.cpu.filter(|c| *c != 0),
            "memory": self.memory,
            "memory_reservation": self.memory_reservation,
            "docker_labels": self.docker_labels,
        })
    }
}

/// An image built from source and pushed to an ECR repository of the app. Its `uri`
/// output is the pushed image by digest (`<repository uri>@sha256:...`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// The repository's URI (a reference: known once the repository exists).
    pub repository_uri: Val,
    /// The repository's name (known offline; observe looks the tag up by it).
    pub repository_name: String,
    /// Tag from the source (git commit, or a digest of the context's files).
    pub tag: String,
    /// `linux/amd64` or `linux/arm64`, from the task's CPU architecture.
    pub platform: String,
    pub context: std::path::PathBuf,
    pub dockerfile: std::path::PathBuf,
    pub build_args: Vec<(String, String)>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefSpec {
    pub cpu: u32,
    pub memory: u32,
    pub cpu_architecture: String,
    pub execution_role: Val,
    pub task_role: Option<Val>,
    pub containers: Vec<ContainerSpec>,
    /// EFS volumes of the task.
    pub volumes: Vec<EfsVolumeSpec>,
    /// Resources that must exist before tasks can start (log group); not referenced by value.
    pub after: Vec<ResourceId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountPointSpec {
    pub volume: String,
    pub container_path: String,
    pub read_only: bool,
}

/// An EFS volume mounted through an access point, with TLS and IAM authorization.
#[derive(Debug, Clone, PartialEq)]
pub struct EfsVolumeSpec {
    pub name: String,
    pub file_system: Val,
    pub access_point: Val,
}

/// A DynamoDB key attribute: name and type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAttr {
    pub name: String,
    pub attr_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub name: String,
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    /// For `INCLUDE`.
    pub non_key_attributes: Vec<String>,
    /// Provisioned tables only.
    pub read_capacity: Option<u32>,
    pub write_capacity: Option<u32>,
}

/// Items written once, when the table is created (DynamoDB JSON, already validated).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSpec {
    /// The file as written in the config (for messages).
    pub file: String,
    pub items: Vec<serde_json::Map<String, Value>>,
    /// sha256 of the file, recorded in the `ecsdeploy:seeded` tag once written.
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub hash_key: KeyAttr,
    pub range_key: Option<KeyAttr>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub read_capacity: Option<u32>,
    pub write_capacity: Option<u32>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: String,
    pub point_in_time_recovery: bool,
    pub ttl_attribute: Option<String>,
    pub deletion_protection: bool,
    pub indexes: Vec<IndexSpec>,
    pub seed: Option<SeedSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbSubnetGroupSpec {
    pub description: String,
    pub subnets: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DbInstanceSpec {
    /// `mysql` or `postgres`.
    pub engine: String,
    /// As configured (`8.0`, `16.4`); AWS picks the newest minor of a major version.
    pub engine_version: String,
    pub instance_class: String,
    pub allocated_storage: u32,
    pub storage_type: String,
    pub multi_az: bool,
    pub backup_retention_days: u32,
    pub deletion_protection: bool,
    pub db_name: String,
    pub username: String,
    pub port: u16,
    /// The subnet group (its name).
    pub subnet_group: Val,
    pub security_groups: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileSystemSpec {
    /// `generalPurpose` or `maxIO`.
    pub performance_mode: String,
    /// `bursting` or `elastic`.
    pub throughput_mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountTargetSpec {
    pub file_system: Val,
    pub subnet: Val,
    pub security_groups: Vec<Val>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccessPointSpec {
    pub file_system: Val,
    pub uid: u32,
    pub gid: u32,
    /// Root directory of the access point, created with `uid:gid` and `permissions`.
    pub path: String,
    /// Octal, e.g. `755`.
    pub permissions: String,
}

/// A secret ecsdeploy creates with a random value (Secrets Manager's GetRandomPassword).
#[derive(Debug, Clone, PartialEq)]
pub struct SecretSpec {
    pub description: String,
    pub length: u32,
    pub exclude_characters: String,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    pub require_each_included_type: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub desired_count: u32,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
    pub load_balancers: Vec<LbAttachment>,
    pub health_check_grace_period: Option<u32>,
    /// `None` when autoscaling owns the desired count (then it is not compared).
    pub desired_count_managed: bool,
    pub enable_execute_command: bool,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub rollback: bool,
    pub service_connect: Option<ServiceConnectSpec>,
    /// Listeners and rules that must route to the target group before the service
    /// attaches to it (ECS rejects a target group without a load balancer).
    pub after: Vec<ResourceId>,
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Vpc(_) => Kind::Vpc,
            Spec::Subnet(_) => Kind::Subnet,
            Spec::InternetGateway(_) => Kind::InternetGateway,
            Spec::RouteTable(_) => Kind::RouteTable,
            Spec::ElasticIp(_) => Kind::ElasticIp,
            Spec::NatGateway(_) => Kind::NatGateway,
            Spec::VpcEndpoint(_) => Kind::VpcEndpoint,
            Spec::SecurityGroup(_) => Kind::SecurityGroup,
            Spec::LoadBalancer(_) => Kind::LoadBalancer,
            Spec::TargetGroup(_) => Kind::TargetGroup,
            Spec::Listener(_) => Kind::Listener,
            Spec::ListenerRule(_) => Kind::ListenerRule,
            Spec::EcrRepository(_) => Kind::EcrRepository,
            Spec::Image(_) => Kind::Image,
            Spec::Cluster(_) => Kind::Cluster,
            Spec::Namespace(_) => Kind::Namespace,
            Spec::ScalableTarget(_) => Kind::ScalableTarget,
            Spec::ScalingPolicy(_) => Kind::ScalingPolicy,
            Spec::IamRole(_) => Kind::IamRole,
            Spec::LogGroup(_) => Kind::LogGroup,
            Spec::TaskDefinition(_) => Kind::TaskDefinition,
            Spec::Service(_) => Kind::Service,
            Spec::DynamodbTable(_) => Kind::DynamodbTable,
            Spec::DbSubnetGroup(_) => Kind::DbSubnetGroup,
            Spec::DbInstance(_) => Kind::DbInstance,
            Spec::FileSystem(_) => Kind::FileSystem,
            Spec::MountTarget(_) => Kind::MountTarget,
            Spec::AccessPoint(_) => Kind::AccessPoint,
            Spec::Secret(_) => Kind::Secret,
        }
    }

    /// References to other resources' values.
    pub fn refs(&self) -> Vec<&Ref> {
        let vals: Vec<&Val> = match self {
            Spec::Vpc(_) | Spec::EcrRepository(_) | Spec::Namespace(_) => vec![],
            Spec::Image(s) => vec![&s.repository_uri],
            Spec::Cluster(s) => s.service_connect_namespace.iter().collect(),
            Spec::ScalableTarget(s) => vec![&s.service],
            Spec::ScalingPolicy(s) => std::iter::once(&s.target)
                .chain(s.target_group.iter())
                .chain(s.load_balancer.iter())
                .collect(),
            Spec::IamRole(s) => s
                .inline_policy
                .iter()
                .flat_map(|st| st.resources.iter())
                .collect(),
            Spec::LogGroup(_) | Spec::ElasticIp(_) => vec![],
            Spec::DynamodbTable(_) | Spec::FileSystem(_) | Spec::Secret(_) => vec![],
            Spec::DbSubnetGroup(s) => s.subnets.iter().collect(),
            Spec::DbInstance(s) => std::iter::once(&s.subnet_group)
                .chain(s.security_groups.iter())
                .collect(),
            Spec::MountTarget(s) => std::iter::once(&s.file_system)
                .chain(std::iter::once(&s.subnet))
                .chain(s.security_groups.iter())
                .collect(),
            Spec::AccessPoint(s) => vec![&s.file_system],
            Spec::NatGateway(s) => vec![&s.subnet, &s.allocation],
            Spec::VpcEndpoint(s) => std::iter::once(&s.vpc)
                .chain(s.route_tables.iter())
                .chain(s.subnets.iter())
                .chain(s.security_groups.iter())
                .collect(),
            Spec::LoadBalancer(s) => s.subnets.iter().chain(s.security_groups.iter()).collect(),
            Spec::TargetGroup(s) => vec![&s.vpc],
            Spec::Listener(s) => std::iter::once(&s.load_balancer)
                .chain(action_vals(&s.default_actions))
                .collect(),
            Spec::ListenerRule(s) => std::iter::once(&s.listener)
                .chain(action_vals(&s.actions))
                .collect(),
            Spec::Subnet(s) => vec![&s.vpc],
            Spec::InternetGateway(s) => vec![&s.vpc],
            Spec::RouteTable(s) => std::iter::once(&s.vpc)
                .chain(s.routes.iter().map(|(_, v)| v))
                .chain(s.subnets.iter())
                .collect(),
            Spec::SecurityGroup(s) => std::iter::once(&s.vpc)
                .chain(s.ingress.iter().filter_map(|r| match &r.source {
                    Source::Group(v) => Some(v),
                    Source::Cidr(_) => None,
                }))
                .collect(),
            Spec::TaskDefinition(s) => std::iter::once(&s.execution_role)
                .chain(s.task_role.iter())
                .chain(s.containers.iter().map(|c| &c.image))
                .chain(
                    s.containers
                        .iter()
                        .flat_map(|c| c.environment.iter().chain(c.secrets.iter()).map(|(_, v)| v)),
                )
                .chain(
                    s.volumes
                        .iter()
                        .flat_map(|v| [&v.file_system, &v.access_point]),
                )
                .collect(),
            Spec::Service(s) => [&s.cluster, &s.task_definition]
                .into_iter()
                .chain(s.subnets.iter())
                .chain(s.security_groups.iter())
                .chain(s.load_balancers.iter().map(|l| &l.target_group))
                .chain(s.service_connect.iter().map(|c| &c.namespace))
                .collect(),
        };
        vals.into_iter().filter_map(Val::as_ref).collect()
    }

    /// Every resource this one must come after: referenced ones plus ordering-only ones.
    pub fn deps(&self) -> Vec<ResourceId> {
        let mut d: Vec<ResourceId> = self.refs().into_iter().map(|r| r.id.clone()).collect();
        match self {
            Spec::TaskDefinition(t) => d.extend(t.after.iter().cloned()),
            Spec::Service(s) => d.extend(s.after.iter().cloned()),
            _ => {}
        }
        d.sort();
        d.dedup();
        d
    }

    /// Fields another actor owns once the resource exists (autoscaling owns a scaled
    /// service's desired count): never compared.
    pub fn unmanaged_fields(&self) -> &'static [&'static str] {
        match self {
            Spec::Service(s) if s.desired_count_managed => &["desired_count"],
            _ => &[],
        }
    }

    /// Fields whose change cannot be applied in place: the resource is replaced.
    pub fn immutable_fields(&self) -> &'static [&'static str] {
        match self {
            Spec::Vpc(_) => &["cidr_block"],
            Spec::Subnet(_) => &["vpc_id", "cidr_block", "availability_zone"],
            Spec::RouteTable(_) => &["vpc_id"],
            Spec::SecurityGroup(_) => &["vpc_id", "description"],
            Spec::IamRole(_) => &["path"],
            Spec::Service(_) => &["cluster", "launch_type"],
            Spec::NatGateway(_) => &["subnet_id", "allocation_id", "connectivity_type"],
            Spec::VpcEndpoint(_) => &["vpc_id", "service_name", "vpc_endpoint_type"],
            Spec::LoadBalancer(_) => &["type", "scheme"],
            Spec::TargetGroup(_) => &["vpc_id", "protocol", "port", "target_type"],
            Spec::ListenerRule(_) => &["listener_arn"],
            Spec::ScalableTarget(_) => &["resource_id"],
            Spec::ScalingPolicy(_) => &["resource_id"],
            Spec::Listener(_) => &["load_balancer_arn"],
            Spec::DynamodbTable(_) => &["key_schema"],
            Spec::DbInstance(_) => &[
                "engine",
                "db_name",
                "master_username",
                "storage_encrypted",
                "db_subnet_group",
            ],
            Spec::FileSystem(_) => &["encrypted", "performance_mode"],
            Spec::MountTarget(_) => &["file_system_id", "subnet_id"],
            Spec::AccessPoint(_) => &["file_system_id", "posix_user", "root_directory"],
            _ => &[],
        }
    }

    /// The normalised fields a diff compares, references resolved through `r`.
    pub fn fields(&self, r: &dyn Resolve) -> Fields {
        let v = match self {
            Spec::Vpc(s) => json!({
                "cidr_block": s.cidr,
                "enable_dns_support": true,
                "enable_dns_hostnames": true,
            }),
            Spec::Subnet(s) => json!({
                "vpc_id": r.val(&s.vpc),
                "cidr_block": s.cidr,
                "availability_zone": s.az,
            }),
            Spec::InternetGateway(s) => json!({ "attached_vpc_id": r.val(&s.vpc) }),
            Spec::RouteTable(s) => {
                let mut routes: Vec<Value> = s
                    .routes
                    .iter()
                    .map(|(d, g)| json!({ "destination": d, "gateway_id": r.val(g) }))
                    .collect();
                routes.sort_by_key(|v| v.to_string());
                json!({
                    "vpc_id": r.val(&s.vpc),
                    "routes": routes,
                    "subnet_associations": sorted(s.subnets.iter().map(|v| r.val(v))),
                })
            }
            Spec::SecurityGroup(s) => json!({
                "vpc_id": r.val(&s.vpc),
                "description": s.description,
                "ingress": ingress_fields(&s.ingress, r),
            }),
            Spec::ElasticIp(_) => json!({ "domain": "vpc" }),
            Spec::NatGateway(s) => json!({
                "subnet_id": r.val(&s.subnet),
                "allocation_id": r.val(&s.allocation),
                "connectivity_type": "public",
            }),
            Spec::VpcEndpoint(s) => match s.endpoint_type {
                EndpointType::Gateway => json!({
                    "vpc_id": r.val(&s.vpc),
                    "service_name": s.service_name,
                    "vpc_endpoint_type": "Gateway",
                    "route_table_ids": sorted(s.route_tables.iter().map(|v| r.val(v))),
                }),
                EndpointType::Interface => json!({
                    "vpc_id": r.val(&s.vpc),
                    "service_name": s.service_name,
                    "vpc_endpoint_type": "Interface",
                    "subnet_ids": sorted(s.subnets.iter().map(|v| r.val(v))),
                    "security_group_ids": sorted(s.security_groups.iter().map(|v| r.val(v))),
                    "private_dns_enabled": true,
                }),
            },
            Spec::LoadBalancer(s) => json!({
                "type": "application",
                "scheme": s.scheme,
                "ip_address_type": "ipv4",
                "subnets": sorted(s.subnets.iter().map(|v| r.val(v))),
                "security_groups": sorted(s.security_groups.iter().map(|v| r.val(v))),
                "attributes": s.attributes,
            }),
            Spec::TargetGroup(s) => json!({
                "vpc_id": r.val(&s.vpc),
                "protocol": s.protocol,
                "port": s.port,
                "target_type": "ip",
                "health_check_path": s.health_check.path,
                "health_check_port": s.health_check.port,
                "health_check_protocol": s.health_check.protocol,
                "health_check_interval": s.health_check.interval,
                "health_check_timeout": s.health_check.timeout,
                "healthy_threshold": s.health_check.healthy_threshold,
                "unhealthy_threshold": s.health_check.unhealthy_threshold,
                "matcher": s.health_check.matcher,
                "deregistration_delay": s.deregistration_delay,
            }),
            Spec::Listener(s) => json!({
                "load_balancer_arn": r.val(&s.load_balancer),
                "port": s.port,
                "protocol": s.protocol,
                "certificates": s.certificates,
                "ssl_policy": s.ssl_policy,
                "default_actions": actions_fields(&s.default_actions, r),
            }),
            Spec::ListenerRule(s) => json!({
                "listener_arn": r.val(&s.listener),
                "priority": s.priority,
                "conditions": conditions_fields(&s.paths, &s.hosts),
                "actions": actions_fields(&s.actions, r),
            }),
            Spec::EcrRepository(s) => json!({
                "scan_on_push": s.scan_on_push,
                "image_tag_mutability": s.tag_mutability,
            }),
            Spec::Cluster(s) => json!({
                "container_insights": s.container_insights,
                "service_connect_namespace": s.service_connect_namespace.as_ref().map(|v| r.val(v)),
            }),
            Spec::Namespace(_) => json!({ "type": "HTTP" }),
            Spec::ScalableTarget(s) => json!({
                "resource_id": format!("service/{}/{}", s.cluster, r.val(&s.service)),
                "min_capacity": s.min,
                "max_capacity": s.max,
            }),
            Spec::ScalingPolicy(s) => json!({
                "resource_id": r.val(&s.target),
                "policy_type": "TargetTrackingScaling",
                "metric": s.metric,
                "resource_label": match (&s.load_balancer, &s.target_group) {
                    (Some(lb), Some(tg)) => json!(resource_label(&r.val(lb), &r.val(tg))),
                    _ => Value::Null,
                },
                "target_value": s.target_value,
                "scale_in_cooldown": s.scale_in_cooldown,
                "scale_out_cooldown": s.scale_out_cooldown,
                "disable_scale_in": s.disable_scale_in,
            }),
            Spec::IamRole(s) => json!({
                "path": s.path,
                "assume_role_policy": assume_role_policy(&s.principal),
                "managed_policy_arns": sorted(s.managed_policies.iter().cloned()),
                "inline_policy": policy_document(&s.inline_policy, r),
            }),
            Spec::DynamodbTable(s) => table_fields(s),
            Spec::DbSubnetGroup(s) => json!({
                "description": s.description,
                "subnet_ids": sorted(s.subnets.iter().map(|v| r.val(v))),
            }),
            Spec::DbInstance(s) => json!({
                "engine": s.engine,
                "engine_version": s.engine_version,
                "instance_class": s.instance_class,
                "allocated_storage": s.allocated_storage,
                "storage_type": s.storage_type,
                "storage_encrypted": true,
                "multi_az": s.multi_az,
                "backup_retention_days": s.backup_retention_days,
                "deletion_protection": s.deletion_protection,
                "db_name": s.db_name,
                "master_username": s.username,
                "port": s.port,
                "publicly_accessible": false,
                "db_subnet_group": r.val(&s.subnet_group),
                "security_groups": sorted(s.security_groups.iter().map(|v| r.val(v))),
            }),
            Spec::FileSystem(s) => json!({
                "encrypted": true,
                "performance_mode": s.performance_mode,
                "throughput_mode": s.throughput_mode,
            }),
            Spec::MountTarget(s) => json!({
                "file_system_id": r.val(&s.file_system),
                "subnet_id": r.val(&s.subnet),
                "security_groups": sorted(s.security_groups.iter().map(|v| r.val(v))),
            }),
            Spec::AccessPoint(s) => json!({
                "file_system_id": r.val(&s.file_system),
                "posix_user": {"uid": s.uid, "gid": s.gid},
                "root_directory": {
                    "path": s.path,
                    "owner_uid": s.uid,
                    "owner_gid": s.gid,
                    "permissions": s.permissions,
                },
            }),
            Spec::Secret(s) => json!({ "description": s.description }),
            Spec::LogGroup(s) => json!({ "retention_in_days": s.retention_days }),
            // Observed images report only their tag (found by it); the rest is shown when
            // the image is to be built.
            Spec::Image(s) => json!({
                "tag": s.tag,
                "platform": s.platform,
                "context": s.context.display().to_string(),
            }),
            Spec::TaskDefinition(s) => task_def_fields(s, r),
            Spec::Service(s) => json!({
                "cluster": r.val(&s.cluster),
                "launch_type": "FARGATE",
                "task_definition": r.val(&s.task_definition),
                "desired_count": s.desired_count,
                "subnets": sorted(s.subnets.iter().map(|v| r.val(v))),
                "security_groups": sorted(s.security_groups.iter().map(|v| r.val(v))),
                "assign_public_ip": s.assign_public_ip,
                "load_balancers": lb_fields(&s.load_balancers, r),
                "health_check_grace_period": s.health_check_grace_period,
                "enable_execute_command": s.enable_execute_command,
                "deployment": {
                    "minimum_healthy_percent": s.minimum_healthy_percent,
                    "maximum_percent": s.maximum_percent,
                    "circuit_breaker": {"enable": true, "rollback": s.rollback},
                },
                "service_connect": s.service_connect.as_ref().map(|c| service_connect_fields(c, r)),
            }),
        };
        match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!("fields are always an object"),
        }
    }
}

/// Sorted list of strings as a JSON array: the normal form of every unordered set.
pub fn sorted(items: impl Iterator<Item = String>) -> Value {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v.dedup();
    json!(v)
}

/// Normal form of ingress rules, shared by the desired side and the observed side
/// (where sources are literal ids).
pub fn ingress_fields(rules: &[IngressRule], r: &dyn Resolve) -> Value {
    let mut out: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let (cidr, group) = match &rule.source {
                Source::Cidr(c) => (Some(c.clone()), None),
                Source::Group(v) => (None, Some(r.val(v))),
            };
            json!({
                "protocol": rule.protocol,
                "from_port": rule.from_port,
                "to_port": rule.to_port,
                "cidr": cidr,
                "source_group": group,
                "description": rule.description,
            })
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out.dedup();
    Value::Array(out)
}

fn action_vals(actions: &[ActionSpec]) -> impl Iterator<Item = &Val> {
    actions.iter().filter_map(|a| match a {
        ActionSpec::Forward(v) => Some(v),
        _ => None,
    })
}

/// Normal form of ALB actions: `order` is the position (1-based), as ALB runs them.
pub fn actions_fields(actions: &[ActionSpec], r: &dyn Resolve) -> Value {
    Value::Array(
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut v = match a {
                    ActionSpec::Forward(tg) => {
                        json!({"type": "forward", "target_group_arn": r.val(tg)})
                    }
                    ActionSpec::RedirectHttps { port } => json!({
                        "type": "redirect", "protocol": "HTTPS", "port": port.to_string(),
                        "status_code": "HTTP_301",
                    }),
                    ActionSpec::Fixed {
                        status,
                        content_type,
                        body,
                    } => json!({
                        "type": "fixed-response", "status_code": status.to_string(),
                        "content_type": content_type, "message_body": body,
                    }),
                    ActionSpec::Cognito {
                        user_pool_arn,
                        client_id,
                        domain,
                        on_unauthenticated,
                        scope,
                        session_timeout,
                    } => json!({
                        "type": "authenticate-cognito", "user_pool_arn": user_pool_arn,
                        "user_pool_client_id": client_id, "user_pool_domain": domain,
                        "on_unauthenticated_request": on_unauthenticated,
                        "scope": scope.clone().unwrap_or_else(|| "openid".into()),
                        "session_timeout": session_timeout.unwrap_or(604800),
                    }),
                    ActionSpec::Oidc {
                        issuer,
                        authorization_endpoint,
                        token_endpoint,
                        user_info_endpoint,
                        client_id,
                        on_unauthenticated,
                        scope,
                        session_timeout,
                        ..
                    } => json!({
                        "type": "authenticate-oidc", "issuer": issuer,
                        "authorization_endpoint": authorization_endpoint,
                        "token_endpoint": token_endpoint, "user_info_endpoint": user_info_endpoint,
                        "client_id": client_id,
                        "on_unauthenticated_request": on_unauthenticated,
                        "scope": scope.clone().unwrap_or_else(|| "openid".into()),
                        "session_timeout": session_timeout.unwrap_or(604800),
                    }),
                };
                v["order"] = json!(i + 1);
                v
            })
            .collect(),
    )
}

/// Normal form of rule conditions (values sorted).
pub fn conditions_fields(paths: &[String], hosts: &[String]) -> Value {
    let mut out = Vec::new();
    if !hosts.is_empty() {
        out.push(json!({"field": "host-header", "values": sorted(hosts.iter().cloned())}));
    }
    if !paths.is_empty() {
        out.push(json!({"field": "path-pattern", "values": sorted(paths.iter().cloned())}));
    }
    Value::Array(out)
}

fn lb_fields(lbs: &[LbAttachment], r: &dyn Resolve) -> Value {
    let mut out: Vec<Value> = lbs
        .iter()
        .map(|l| {
            json!({
                "target_group_arn": r.val(&l.target_group),
                "container_name": l.container_name,
                "container_port": l.container_port,
            })
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    Value::Array(out)
}

/// The trust policy of a role assumable by one service principal.
pub fn assume_role_policy(principal: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": principal },
            "Action": "sts:AssumeRole",
        }],
    })
}

fn task_def_fields(s: &TaskDefSpec, r: &dyn Resolve) -> Value {
    let containers: Vec<Value> = s
        .containers
        .iter()
        .map(|c| {
            c.extra.merged_into(json!({
                "name": c.name,
                "image": r.val(&c.image),
                "essential": c.essential,
                "port_mappings": c.ports.iter().map(|p| json!({
                    "container_port": p,
                    "protocol": "tcp",
                    "name": c.port_names.get(p),
                })).collect::<Vec<_>>(),
                "health_check": c.health_check.as_ref().map(|h| json!({
                    "command": h.command,
                    "interval": h.interval,
                    "timeout": h.timeout,
                    "retries": h.retries,
                    "start_period": h.start_period,
                })),
                "stop_timeout": c.stop_timeout,
                "ulimits": c.ulimits.iter().map(|(n, (soft, hard))| json!({"name": n, "soft": soft, "hard": hard})).collect::<Vec<_>>(),
                "depends_on": c.depends_on.iter().map(|(n, cond)| json!({"container": n, "condition": cond})).collect::<Vec<_>>(),
                "environment": c.environment.iter().map(|(k, v)| json!({"name": k, "value": r.val(v)})).collect::<Vec<_>>(),
                "secrets": c.secrets.iter().map(|(k, v)| json!({"name": k, "value_from": r.val(v)})).collect::<Vec<_>>(),
                "mount_points": c.mount_points.iter().map(|m| json!({
                    "source_volume": m.volume,
                    "container_path": m.container_path,
                    "read_only": m.read_only,
                })).collect::<Vec<_>>(),
                "command": c.command,
                "log_configuration": {
                    "driver": "awslogs",
                    "options": {
                        "awslogs-group": c.log_group,
                        "awslogs-region": c.log_region,
                        "awslogs-stream-prefix": c.log_stream_prefix,
                    },
                },
            }))
        })
        .collect();
    json!({
        "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"],
        "cpu": s.cpu.to_string(),
        "memory": s.memory.to_string(),
        "cpu_architecture": s.cpu_architecture,
        "operating_system_family": "LINUX",
        "execution_role_arn": r.val(&s.execution_role),
        "task_role_arn": s.task_role.as_ref().map(|t| r.val(t)),
        "containers": containers,
        "volumes": s.volumes.iter().map(|v| json!({
            "name": v.name,
            "file_system_id": r.val(&v.file_system),
            "access_point_id": r.val(&v.access_point),
            "transit_encryption": "ENABLED",
            "iam": "ENABLED",
        })).collect::<Vec<_>>(),
    })
}

/// Normal form of a service's Service Connect configuration.
pub fn service_connect_fields(c: &ServiceConnectSpec, r: &dyn Resolve) -> Value {
    json!({
        "namespace": r.val(&c.namespace),
        "services": c.services.iter().map(|s| json!({
            "port_name": s.port_name,
            "discovery_name": s.discovery_name,
            "client_aliases": [{"port": s.client_port, "dns_name": s.dns_name}],
        })).collect::<Vec<_>>(),
        "log_configuration": {
            "driver": "awslogs",
            "options": {
                "awslogs-group": c.log_group,
                "awslogs-region": c.log_region,
                "awslogs-stream-prefix": c.log_stream_prefix,
            },
        },
    })
}

/// The inline policy document of a role, or null when it has no statements. Actions and
/// resources are sorted lists: the normal form the IAM step compares against.
pub fn policy_document(statements: &[PolicyStatement], r: &dyn Resolve) -> Value {
    if statements.is_empty() {
        return Value::Null;
    }
    json!({
        "Version": "2012-10-17",
        "Statement": statements.iter().map(|st| json!({
            "Effect": st.effect,
            "Action": sorted(st.actions.iter().cloned()),
            "Resource": sorted(st.resources.iter().map(|v| r.val(v))),
        })).collect::<Vec<_>>(),
    })
}

fn key_schema(hash: &KeyAttr, range: Option<&KeyAttr>) -> Value {
    Value::Array(
        std::iter::once(json!({"attribute": hash.name, "type": hash.attr_type, "key": "HASH"}))
            .chain(range.map(|k| json!({"attribute": k.name, "type": k.attr_type, "key": "RANGE"})))
            .collect(),
    )
}

/// Normal form of a table. `seeded` appears only when the config has seed data.
fn table_fields(s: &TableSpec) -> Value {
    let mut indexes: Vec<Value> = s
        .indexes
        .iter()
        .map(|i| {
            let mut non_key = i.non_key_attributes.clone();
            non_key.sort();
            json!({
                "name": i.name,
                "key_schema": key_schema(&i.hash_key, i.range_key.as_ref()),
                "projection": i.projection,
                "non_key_attributes": non_key,
                "read_capacity": i.read_capacity,
                "write_capacity": i.write_capacity,
            })
        })
        .collect();
    indexes.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_string());
    let mut v = json!({
        "key_schema": key_schema(&s.hash_key, s.range_key.as_ref()),
        "billing_mode": s.billing_mode,
        "read_capacity": s.read_capacity,
        "write_capacity": s.write_capacity,
        "table_class": s.table_class,
        "point_in_time_recovery": s.point_in_time_recovery,
        "ttl_attribute": s.ttl_attribute,
        "deletion_protection": s.deletion_protection,
        "indexes": indexes,
    });
    if s.seed.is_some() {
        v["seeded"] = json!(true);
    }
    v
}

/// `app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>` from the two ARNs: the label
/// target tracking on ALB requests needs.
pub fn resource_label(lb_arn: &str, tg_arn: &str) -> String {
    let lb = lb_arn
        .split_once(":loadbalancer/")
        .map_or(lb_arn, |(_, x)| x);
    let tg = tg_arn
        .split_once(":targetgroup/")
        .map_or(tg_arn, |(_, x)| x);
    format!("{lb}/targetgroup/{tg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_resource_label() {
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:loadbalancer/app/web/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web-tg/943f017f100becff"
            ),
            "app/web/50dc6c495c0c9188/targetgroup/web-tg/943f017f100becff"
        );
    }
}
