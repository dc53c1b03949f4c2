//! Config → desired resources (pure). Everything AWS-specific that is not known offline
//! (the region's AZ names, imported network ids) comes in through [`Env`].

use std::collections::BTreeMap;

use serde_json::json;

use super::ids::*;
use super::load_balancer::{self, LbWiring};
use super::network::{self, Net};
use super::resource::{Ref, Val};
use super::spec::*;
use crate::config::{Config, Image, SubnetKind};

/// Facts about the target account/region the desired state depends on.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub region: String,
    /// AZ names, one per subnet pair, in config order (created networks).
    pub azs: Vec<String>,
    /// The imported network, resolved and checked before building.
    pub imported: Option<ImportedNetwork>,
    /// Imported security groups as written in the config (id or Name tag) → group id.
    pub security_groups: BTreeMap<String, String>,
}

/// An existing network, by id, as found in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedNetwork {
    pub vpc_id: String,
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
}

impl Env {
    /// The id of an imported security group named in the config.
    pub fn imported_sg(&self, written: &str) -> Val {
        Val::lit(
            self.security_groups
                .get(written)
                .cloned()
                .unwrap_or_else(|| written.to_string()),
        )
    }
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

/// IAM path of every role ecsdeploy creates for `app`; lets `down` find them all.
pub fn role_path(app: &str) -> String {
    format!("/ecsdeploy/{app}/")
}

/// The complete desired state, in dependency-friendly order.
pub fn build(c: &Config, env: &Env) -> Vec<Resource> {
    let mut out = Vec::new();
    let net = network::build(c, env, &mut out);
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
    let lb = load_balancer::build(c, env, &net, &mut out);
    for key in c.services.keys() {
        service_resources(c, env, &net, &lb, key, &mut out);
    }
    out
}

fn service_resources(
    c: &Config,
    env: &Env,
    net: &Net,
    lb: &LbWiring,
    key: &str,
    out: &mut Vec<Resource>,
) {
    let s = &c.services[key];
    let security_groups = if s.security_groups.is_empty() {
        out.push(service_sg(c, net, lb, key));
        vec![Val::Ref(Ref::id(&service_sg_id(key)))]
    } else {
        s.security_groups
            .iter()
            .map(|g| env.imported_sg(g))
            .collect()
    };

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

    let load_balancers: Vec<LbAttachment> = match (&s.target_group, lb.target_groups.get(key)) {
        (Some(tg), Some(id)) => vec![LbAttachment {
            target_group: Val::Ref(Ref::arn(id)),
            container_name: c.container_name(key),
            container_port: tg.port,
        }],
        _ => vec![],
    };
    out.push(Resource {
        id: service_id(key),
        name: c.service_name(key),
        spec: Spec::Service(ServiceSpec {
            cluster: Val::Ref(Ref::id(&cluster_id())),
            task_definition: Val::Ref(Ref::arn(&td)),
            desired_count: s.desired_count,
            subnets: net.subnets(s.subnets),
            security_groups,
            assign_public_ip: s
                .assign_public_ip
                .unwrap_or(s.subnets == SubnetKind::Public),
            health_check_grace_period: s.target_group.as_ref().map(|t| t.health_check_grace_period),
            load_balancers,
            after: lb.routes_to.get(key).cloned().unwrap_or_default(),
        }),
    });
}

/// The service's security group: the configured CIDR rules, plus its target port from
/// the load balancer's security groups. Nothing else reaches the container.
fn service_sg(c: &Config, net: &Net, lb: &LbWiring, key: &str) -> Resource {
    let s = &c.services[key];
    let tcp = |port: u16, source: Source, description: Option<String>| IngressRule {
        protocol: "tcp".to_string(),
        from_port: i32::from(port),
        to_port: i32::from(port),
        source,
        description,
    };
    let mut ingress: Vec<IngressRule> = s
        .ingress
        .iter()
        .flat_map(|rule| {
            rule.cidrs.iter().map(move |cidr| {
                tcp(
                    rule.port,
                    Source::Cidr(cidr.clone()),
                    rule.description.clone(),
                )
            })
        })
        .collect();
    if let Some(tg) = &s.target_group {
        for g in &lb.security_groups {
            ingress.push(tcp(
                tg.port,
                Source::Group(g.clone()),
                Some("from the load balancer".to_string()),
            ));
        }
    }
    ingress.sort();
    Resource {
        id: service_sg_id(key),
        name: c.service_sg_name(key),
        spec: Spec::SecurityGroup(SecurityGroupSpec {
            vpc: net.vpc.clone(),
            description: format!("ecsdeploy {} service {}", c.app, key),
            ingress,
        }),
    }
}

/// An image from a declared repository is the repository URI plus `:tag`.
fn with_tag(image: Val, tag: Option<String>) -> Val {
    match (image, tag) {
        (Val::Ref(r), Some(tag)) => Val::Suffixed(r, format!(":{tag}")),
        (v, _) => v,
    }
}
