//! Desired specification of each resource kind (pure data). `fields` renders the
//! normalised shape that diffs compare against what the step modules observe in AWS.

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
    SecurityGroup(SecurityGroupSpec),
    EcrRepository(EcrSpec),
    Cluster(ClusterSpec),
    IamRole(RoleSpec),
    LogGroup(LogGroupSpec),
    TaskDefinition(TaskDefSpec),
    Service(ServiceSpec),
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

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IngressRule {
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: String,
    pub description: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    /// Service principal allowed to assume the role.
    pub principal: String,
    pub path: String,
    pub managed_policies: Vec<String>,
    /// Inline policy document (name = role name), if any.
    pub inline_policy: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupSpec {
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: Val,
    pub ports: Vec<u16>,
    pub environment: Vec<(String, String)>,
    pub command: Option<Vec<String>>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefSpec {
    pub cpu: u32,
    pub memory: u32,
    pub cpu_architecture: String,
    pub execution_role: Val,
    pub task_role: Option<Val>,
    pub containers: Vec<ContainerSpec>,
    /// Resources that must exist before tasks can start (log group); not referenced by value.
    pub after: Vec<ResourceId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub desired_count: u32,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Vpc(_) => Kind::Vpc,
            Spec::Subnet(_) => Kind::Subnet,
            Spec::InternetGateway(_) => Kind::InternetGateway,
            Spec::RouteTable(_) => Kind::RouteTable,
            Spec::SecurityGroup(_) => Kind::SecurityGroup,
            Spec::EcrRepository(_) => Kind::EcrRepository,
            Spec::Cluster(_) => Kind::Cluster,
            Spec::IamRole(_) => Kind::IamRole,
            Spec::LogGroup(_) => Kind::LogGroup,
            Spec::TaskDefinition(_) => Kind::TaskDefinition,
            Spec::Service(_) => Kind::Service,
        }
    }

    /// References to other resources' values.
    pub fn refs(&self) -> Vec<&Ref> {
        let vals: Vec<&Val> = match self {
            Spec::Vpc(_) | Spec::EcrRepository(_) | Spec::Cluster(_) => vec![],
            Spec::IamRole(_) | Spec::LogGroup(_) => vec![],
            Spec::Subnet(s) => vec![&s.vpc],
            Spec::InternetGateway(s) => vec![&s.vpc],
            Spec::RouteTable(s) => std::iter::once(&s.vpc)
                .chain(s.routes.iter().map(|(_, v)| v))
                .chain(s.subnets.iter())
                .collect(),
            Spec::SecurityGroup(s) => vec![&s.vpc],
            Spec::TaskDefinition(s) => std::iter::once(&s.execution_role)
                .chain(s.task_role.iter())
                .chain(s.containers.iter().map(|c| &c.image))
                .collect(),
            Spec::Service(s) => [&s.cluster, &s.task_definition]
                .into_iter()
                .chain(s.subnets.iter())
                .chain(s.security_groups.iter())
                .collect(),
        };
        vals.into_iter().filter_map(Val::as_ref).collect()
    }

    /// Every resource this one must come after: referenced ones plus ordering-only ones.
    pub fn deps(&self) -> Vec<ResourceId> {
        let mut d: Vec<ResourceId> = self.refs().into_iter().map(|r| r.id.clone()).collect();
        if let Spec::TaskDefinition(t) = self {
            d.extend(t.after.iter().cloned());
        }
        d.sort();
        d.dedup();
        d
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
                "ingress": ingress_fields(&s.ingress),
            }),
            Spec::EcrRepository(s) => json!({
                "scan_on_push": s.scan_on_push,
                "image_tag_mutability": s.tag_mutability,
            }),
            Spec::Cluster(s) => json!({ "container_insights": s.container_insights }),
            Spec::IamRole(s) => json!({
                "path": s.path,
                "assume_role_policy": assume_role_policy(&s.principal),
                "managed_policy_arns": sorted(s.managed_policies.iter().cloned()),
                "inline_policy": s.inline_policy.clone().unwrap_or(Value::Null),
            }),
            Spec::LogGroup(s) => json!({ "retention_in_days": s.retention_days }),
            Spec::TaskDefinition(s) => task_def_fields(s, r),
            Spec::Service(s) => json!({
                "cluster": r.val(&s.cluster),
                "launch_type": "FARGATE",
                "task_definition": r.val(&s.task_definition),
                "desired_count": s.desired_count,
                "subnets": sorted(s.subnets.iter().map(|v| r.val(v))),
                "security_groups": sorted(s.security_groups.iter().map(|v| r.val(v))),
                "assign_public_ip": s.assign_public_ip,
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

/// Normal form of ingress rules, shared by the desired side and the observed side.
pub fn ingress_fields(rules: &[IngressRule]) -> Value {
    let mut rules = rules.to_vec();
    rules.sort();
    rules.dedup();
    Value::Array(
        rules
            .iter()
            .map(|r| {
                json!({
                    "protocol": r.protocol,
                    "from_port": r.from_port,
                    "to_port": r.to_port,
                    "cidr": r.cidr,
                    "description": r.description,
                })
            })
            .collect(),
    )
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
            json!({
                "name": c.name,
                "image": r.val(&c.image),
                "essential": true,
                "port_mappings": c.ports.iter().map(|p| json!({"container_port": p, "protocol": "tcp"})).collect::<Vec<_>>(),
                "environment": c.environment.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
                "command": c.command,
                "log_configuration": {
                    "driver": "awslogs",
                    "options": {
                        "awslogs-group": c.log_group,
                        "awslogs-region": c.log_region,
                        "awslogs-stream-prefix": c.log_stream_prefix,
                    },
                },
            })
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
    })
}
