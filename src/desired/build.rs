//! Config → desired resources (pure). Everything AWS-specific that is not known offline
//! (the region's AZ names) comes in through [`Env`].

use std::collections::BTreeMap;

use serde_json::json;

use super::resource::{Kind, Ref, ResourceId, Val};
use super::spec::*;
use crate::config::{network, Config, Image, SubnetKind};

/// Facts about the target account/region the desired state depends on.
#[derive(Debug, Clone)]
pub struct Env {
    pub region: String,
    /// AZ names, one per public subnet, in config order.
    pub azs: Vec<String>,
}

/// ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

pub const ECS_TASKS_PRINCIPAL: &str = "ecs-tasks.amazonaws.com";

pub fn vpc_id() -> ResourceId {
    ResourceId::new(Kind::Vpc, "main")
}
pub fn public_subnet_id(i: usize) -> ResourceId {
    ResourceId::new(
        Kind::Subnet,
        format!("public-{}", crate::config::az_letter(i)),
    )
}
pub fn igw_id() -> ResourceId {
    ResourceId::new(Kind::InternetGateway, "main")
}
pub fn public_rt_id() -> ResourceId {
    ResourceId::new(Kind::RouteTable, "public")
}
pub fn cluster_id() -> ResourceId {
    ResourceId::new(Kind::Cluster, "main")
}
pub fn log_group_id() -> ResourceId {
    ResourceId::new(Kind::LogGroup, "main")
}
pub fn execution_role_id() -> ResourceId {
    ResourceId::new(Kind::IamRole, "execution")
}
pub fn task_role_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::IamRole, format!("{svc}-task"))
}
pub fn service_sg_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, svc)
}
pub fn repository_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::EcrRepository, key)
}
pub fn task_def_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::TaskDefinition, svc)
}
pub fn service_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::Service, svc)
}

/// IAM path of every role ecsdeploy creates for `app`; lets `down` find them all.
pub fn role_path(app: &str) -> String {
    format!("/ecsdeploy/{app}/")
}

/// The complete desired state, in dependency-friendly order.
pub fn build(c: &Config, env: &Env) -> Vec<Resource> {
    let mut out = Vec::new();
    network_resources(c, env, &mut out);
    for (key, r) in &c.repositories {
        out.push(Resource {
            id: repository_id(key),
            name: c.repository_name(key),
            spec: Spec::EcrRepository(EcrSpec {
                scan_on_push: r.scan_on_push,
                tag_mutability: r.tag_mutability.as_aws().to_string(),
            }),
        });
    }
    out.push(Resource {
        id: cluster_id(),
        name: c.cluster_name(),
        spec: Spec::Cluster(ClusterSpec {
            container_insights: c.cluster.container_insights.as_aws().to_string(),
        }),
    });
    out.push(Resource {
        id: log_group_id(),
        name: c.log_group_name(),
        spec: Spec::LogGroup(LogGroupSpec {
            retention_days: c.logs.retention_days as i32,
        }),
    });
    if c.iam.execution_role.is_none() && !c.services.is_empty() {
        out.push(Resource {
            id: execution_role_id(),
            name: c.execution_role_name(),
            spec: Spec::IamRole(RoleSpec {
                principal: ECS_TASKS_PRINCIPAL.to_string(),
                path: role_path(&c.app),
                managed_policies: vec![format!(
                    "arn:{}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                    partition(&env.region)
                )],
                inline_policy: None,
            }),
        });
    }
    for key in c.services.keys() {
        service_resources(c, env, key, &mut out);
    }
    out
}

fn network_resources(c: &Config, env: &Env, out: &mut Vec<Resource>) {
    let vpc = vpc_id();
    out.push(Resource {
        id: vpc.clone(),
        name: c.vpc_name(),
        spec: Spec::Vpc(VpcSpec {
            cidr: c.network.vpc_cidr.clone(),
        }),
    });
    let cidrs: Vec<String> = match &c.network.public_subnets {
        Some(v) => v.clone(),
        None => {
            let net = network::parse_cidr(&c.network.vpc_cidr).expect("validated");
            network::derive_public_subnets(&net, env.azs.len())
                .expect("validated")
                .iter()
                .map(|n| n.to_string())
                .collect()
        }
    };
    let mut subnet_refs = Vec::new();
    for (i, (cidr, az)) in cidrs.iter().zip(&env.azs).enumerate() {
        let id = public_subnet_id(i);
        subnet_refs.push(Val::Ref(Ref::id(&id)));
        out.push(Resource {
            id,
            name: c.public_subnet_name(i),
            spec: Spec::Subnet(SubnetSpec {
                vpc: Val::Ref(Ref::id(&vpc)),
                cidr: cidr.clone(),
                az: az.clone(),
            }),
        });
    }
    out.push(Resource {
        id: igw_id(),
        name: c.igw_name(),
        spec: Spec::InternetGateway(IgwSpec {
            vpc: Val::Ref(Ref::id(&vpc)),
        }),
    });
    out.push(Resource {
        id: public_rt_id(),
        name: c.public_route_table_name(),
        spec: Spec::RouteTable(RouteTableSpec {
            vpc: Val::Ref(Ref::id(&vpc)),
            routes: vec![("0.0.0.0/0".to_string(), Val::Ref(Ref::id(&igw_id())))],
            subnets: subnet_refs,
        }),
    });
}

/// The subnet ids a service runs in. Validation rejects `private` until private subnets
/// exist, so every service runs in the public subnets for now.
fn service_subnets(env: &Env, _kind: SubnetKind) -> Vec<Val> {
    (0..env.azs.len())
        .map(|i| Val::Ref(Ref::id(&public_subnet_id(i))))
        .collect()
}

fn service_resources(c: &Config, env: &Env, key: &str, out: &mut Vec<Resource>) {
    let s = &c.services[key];
    let sg = service_sg_id(key);
    let mut ingress: Vec<IngressRule> = s
        .ingress
        .iter()
        .flat_map(|rule| {
            rule.cidrs.iter().map(move |cidr| IngressRule {
                protocol: "tcp".to_string(),
                from_port: i32::from(rule.port),
                to_port: i32::from(rule.port),
                cidr: cidr.clone(),
                description: rule.description.clone(),
            })
        })
        .collect();
    ingress.sort();
    out.push(Resource {
        id: sg.clone(),
        name: c.service_sg_name(key),
        spec: Spec::SecurityGroup(SecurityGroupSpec {
            vpc: Val::Ref(Ref::id(&vpc_id())),
            description: format!("ecsdeploy {} service {}", c.app, key),
            ingress,
        }),
    });

    let task_role = match (&s.task_role, s.task_policy.is_empty()) {
        (Some(arn), _) => Some(Val::lit(arn)),
        (None, no_policy) => {
            let id = task_role_id(key);
            let inline_policy = (!no_policy).then(|| {
                json!({
                    "Version": "2012-10-17",
                    "Statement": s.task_policy.iter().map(|st| json!({
                        "Effect": format!("{:?}", st.effect),
                        "Action": st.actions,
                        "Resource": st.resources,
                    })).collect::<Vec<_>>(),
                })
            });
            out.push(Resource {
                id: id.clone(),
                name: c.task_role_name(key),
                spec: Spec::IamRole(RoleSpec {
                    principal: ECS_TASKS_PRINCIPAL.to_string(),
                    path: role_path(&c.app),
                    managed_policies: vec![],
                    inline_policy,
                }),
            });
            Some(Val::Ref(Ref::arn(&id)))
        }
    };

    let image = match &s.image {
        Image::Reference(r) => Val::lit(r),
        Image::Repository(r) => Val::Ref(Ref::uri(&repository_id(&r.repository))),
    };
    let image_tag = match &s.image {
        Image::Repository(r) => Some(r.tag.clone()),
        Image::Reference(_) => None,
    };
    let execution_role = match &c.iam.execution_role {
        Some(arn) => Val::lit(arn),
        None => Val::Ref(Ref::arn(&execution_role_id())),
    };
    let td = task_def_id(key);
    out.push(Resource {
        id: td.clone(),
        name: c.family(key),
        spec: Spec::TaskDefinition(TaskDefSpec {
            cpu: s.cpu,
            memory: s.memory_mib(),
            cpu_architecture: s.cpu_architecture.as_aws().to_string(),
            execution_role,
            task_role,
            containers: vec![ContainerSpec {
                name: c.container_name(key),
                image: with_tag(image, image_tag),
                ports: s.ports.clone(),
                environment: s
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>()
                    .into_iter()
                    .collect(),
                command: s.command.clone(),
                log_group: c.log_group_name(),
                log_region: env.region.clone(),
                log_stream_prefix: key.to_string(),
            }],
            after: vec![log_group_id()],
        }),
    });

    out.push(Resource {
        id: service_id(key),
        name: c.service_name(key),
        spec: Spec::Service(ServiceSpec {
            cluster: Val::Ref(Ref::id(&cluster_id())),
            task_definition: Val::Ref(Ref::arn(&td)),
            desired_count: s.desired_count,
            subnets: service_subnets(env, s.subnets),
            security_groups: vec![Val::Ref(Ref::id(&sg))],
            assign_public_ip: s
                .assign_public_ip
                .unwrap_or(s.subnets == SubnetKind::Public),
        }),
    });
}

/// An image from a declared repository is the repository URI plus `:tag`.
fn with_tag(image: Val, tag: Option<String>) -> Val {
    match (image, tag) {
        (Val::Ref(r), Some(tag)) => Val::Suffixed(r, format!(":{tag}")),
        (v, _) => v,
    }
}
