//! The network part of the desired state: a created VPC with public (and, when needed,
//! private) subnets, gateways, route tables, NAT and endpoints — or an imported network,
//! which contributes ids only and is never managed.

use super::env::Env;
use super::ids::*;
use super::resource::{Ref, ResourceId, Val};
use super::spec::*;
use crate::config::network::{self, GATEWAY_ENDPOINTS};
use crate::config::{Config, NatMode, SubnetKind};

/// Where things go: the VPC and the subnets of each kind, as references or literal ids.
#[derive(Debug, Clone)]
pub struct Net {
    pub vpc: Val,
    pub public: Vec<Val>,
    pub private: Vec<Val>,
    /// Route tables the private subnets use (gateway endpoints attach to these).
    pub private_route_tables: Vec<Val>,
    /// The internet gateway ecsdeploy attaches (none in an imported network).
    pub igw: Option<ResourceId>,
    /// What a task in the public subnets needs to reach ECR and CloudWatch Logs: the public
    /// route table (its default route to the attached internet gateway, its subnet
    /// associations). Ordering only; empty in an imported network.
    pub public_ready: Vec<ResourceId>,
    /// The same for the private subnets: their route tables (default routes to the NAT
    /// gateways) and the VPC endpoints.
    pub private_ready: Vec<ResourceId>,
}

impl Net {
    /// What must exist before a task in subnets of `kind` can pull its image and ship logs.
    pub fn ready(&self, kind: SubnetKind) -> Vec<ResourceId> {
        match kind {
            SubnetKind::Public => self.public_ready.clone(),
            SubnetKind::Private => self.private_ready.clone(),
        }
    }

    pub fn subnets(&self, kind: SubnetKind) -> Vec<Val> {
        match kind {
            SubnetKind::Public => self.public.clone(),
            SubnetKind::Private => self.private.clone(),
        }
    }

    /// A security group in the VPC admitting `ingress`.
    pub fn security_group(
        &self,
        id: ResourceId,
        name: String,
        description: String,
        ingress: Vec<IngressRule>,
    ) -> Resource {
        Resource {
            id,
            name,
            spec: Spec::SecurityGroup(SecurityGroupSpec {
                vpc: self.vpc.clone(),
                description,
                ingress,
            }),
        }
    }
}

pub fn build(c: &Config, env: &Env, out: &mut Vec<Resource>) -> Net {
    if let Some(imported) = &env.imported {
        return Net {
            vpc: Val::lit(&imported.vpc_id),
            public: imported.public_subnets.iter().map(Val::lit).collect(),
            private: imported.private_subnets.iter().map(Val::lit).collect(),
            private_route_tables: vec![],
            igw: None,
            public_ready: vec![],
            private_ready: vec![],
        };
    }
    let vpc = Val::Ref(Ref::id(&vpc_id()));
    out.push(Resource {
        id: vpc_id(),
        name: c.vpc_name(),
        spec: Spec::Vpc(VpcSpec {
            cidr: c.network.vpc_cidr.clone(),
        }),
    });
    let vpc_net = network::parse_cidr(&c.network.vpc_cidr).expect("validated");
    let n = env.azs.len();
    let public_cidrs =
        c.network.public_subnets.clone().unwrap_or_else(|| {
            cidrs(network::derive_public_subnets(&vpc_net, n).expect("validated"))
        });
    let public = subnets(
        c,
        env,
        &vpc,
        &public_cidrs,
        public_subnet_id,
        |i| c.public_subnet_name(i),
        out,
    );
    out.push(Resource {
        id: igw_id(),
        name: c.igw_name(),
        spec: Spec::InternetGateway(IgwSpec { vpc: vpc.clone() }),
    });
    out.push(Resource {
        id: public_rt_id(),
        name: c.public_route_table_name(),
        spec: Spec::RouteTable(RouteTableSpec {
            vpc: vpc.clone(),
            routes: vec![("0.0.0.0/0".to_string(), Val::Ref(Ref::id(&igw_id())))],
            subnets: public.clone(),
        }),
    });
    let mut net = Net {
        vpc,
        public,
        private: vec![],
        private_route_tables: vec![],
        igw: Some(igw_id()),
        public_ready: vec![public_rt_id()],
        private_ready: vec![],
    };
    if c.needs_private() {
        private_network(c, env, &vpc_net, &mut net, out);
        endpoints(c, env, &mut net, out);
    }
    net
}

fn cidrs(nets: Vec<ipnet::Ipv4Net>) -> Vec<String> {
    nets.iter().map(ToString::to_string).collect()
}

fn subnets(
    _c: &Config,
    env: &Env,
    vpc: &Val,
    cidrs: &[String],
    id: fn(usize) -> super::resource::ResourceId,
    name: impl Fn(usize) -> String,
    out: &mut Vec<Resource>,
) -> Vec<Val> {
    cidrs
        .iter()
        .zip(&env.azs)
        .enumerate()
        .map(|(i, (cidr, az))| {
            out.push(Resource {
                id: id(i),
                name: name(i),
                spec: Spec::Subnet(SubnetSpec {
                    vpc: vpc.clone(),
                    cidr: cidr.clone(),
                    az: az.clone(),
                }),
            });
            Val::Ref(Ref::id(&id(i)))
        })
        .collect()
}

/// Private subnets, their route table(s) and the NAT gateways (with Elastic IPs) that give
/// them a default route.
fn private_network(
    c: &Config,
    env: &Env,
    vpc_net: &ipnet::Ipv4Net,
    net: &mut Net,
    out: &mut Vec<Resource>,
) {
    let n = env.azs.len();
    let private_cidrs =
        c.network.private_subnets.clone().unwrap_or_else(|| {
            cidrs(network::derive_private_subnets(vpc_net, n).expect("validated"))
        });
    net.private = subnets(
        c,
        env,
        &net.vpc,
        &private_cidrs,
        private_subnet_id,
        |i| c.private_subnet_name(i),
        out,
    );

    let nat_azs: Vec<usize> = match c.network.nat {
        NatMode::None => vec![],
        NatMode::Single => vec![0],
        NatMode::PerAz => (0..n).collect(),
    };
    for &i in &nat_azs {
        out.push(Resource {
            id: eip_id(i),
            name: c.nat_name(i),
            spec: Spec::ElasticIp(ElasticIpSpec),
        });
        out.push(Resource {
            id: nat_id(i),
            name: c.nat_name(i),
            spec: Spec::NatGateway(NatGatewaySpec {
                subnet: net.public[i].clone(),
                allocation: Val::Ref(Ref::id(&eip_id(i))),
                after: net.igw.iter().cloned().collect(),
            }),
        });
    }
    /// One private route table: its AZ (per-AZ NAT), member subnets and routes.
    struct Table {
        az: Option<usize>,
        members: Vec<usize>,
        routes: Vec<(String, Val)>,
    }
    let nat_route = |i: usize| ("0.0.0.0/0".to_string(), Val::Ref(Ref::id(&nat_id(i))));
    let shared = |routes| Table {
        az: None,
        members: (0..n).collect(),
        routes,
    };
    let tables: Vec<Table> = match c.network.nat {
        NatMode::PerAz => (0..n)
            .map(|i| Table {
                az: Some(i),
                members: vec![i],
                routes: vec![nat_route(i)],
            })
            .collect(),
        NatMode::Single => vec![shared(vec![nat_route(0)])],
        NatMode::None => vec![shared(vec![])],
    };
    for Table {
        az,
        members,
        routes,
    } in tables
    {
        let id = private_rt_id(az);
        net.private_route_tables.push(Val::Ref(Ref::id(&id)));
        net.private_ready.push(id.clone());
        out.push(Resource {
            id,
            name: c.private_route_table_name(az),
            spec: Spec::RouteTable(RouteTableSpec {
                vpc: net.vpc.clone(),
                routes,
                subnets: members.iter().map(|&i| net.private[i].clone()).collect(),
            }),
        });
    }
}

/// VPC endpoints. Interface endpoints sit in the private subnets behind a security group
/// that admits HTTPS only from the services' (and jobs') security groups.
fn endpoints(c: &Config, env: &Env, net: &mut Net, out: &mut Vec<Resource>) {
    let interface: Vec<&String> = c
        .network
        .endpoints
        .iter()
        .filter(|e| !GATEWAY_ENDPOINTS.contains(&e.as_str()))
        .collect();
    if !interface.is_empty() {
        let ingress = c
            .services
            .iter()
            .filter(|(_, s)| s.security_groups.is_empty())
            .map(|(key, _)| {
                IngressRule::tcp(
                    443,
                    Source::Group(Val::Ref(Ref::id(&service_sg_id(key)))),
                    Some(format!("HTTPS from service {key}")),
                )
            })
            // Jobs with their own image and group (the others run in a service's group).
            .chain(
                c.jobs
                    .iter()
                    .filter(|(_, j)| j.service.is_none())
                    .map(|(key, _)| {
                        IngressRule::tcp(
                            443,
                            Source::Group(Val::Ref(Ref::id(&job_sg_id(key)))),
                            Some(format!("HTTPS from job {key}")),
                        )
                    }),
            )
            .collect();
        out.push(net.security_group(
            endpoint_sg_id(),
            c.endpoint_sg_name(),
            format!("ecsdeploy {} VPC endpoints", c.app),
            ingress,
        ));
    }
    for e in &c.network.endpoints {
        net.private_ready.push(endpoint_id(e));
        let gateway = GATEWAY_ENDPOINTS.contains(&e.as_str());
        out.push(Resource {
            id: endpoint_id(e),
            name: c.endpoint_name(e),
            spec: Spec::VpcEndpoint(VpcEndpointSpec {
                vpc: net.vpc.clone(),
                service_name: format!("com.amazonaws.{}.{e}", env.region),
                endpoint_type: if gateway {
                    EndpointType::Gateway
                } else {
                    EndpointType::Interface
                },
                route_tables: if gateway {
                    net.private_route_tables.clone()
                } else {
                    vec![]
                },
                subnets: if gateway { vec![] } else { net.private.clone() },
                security_groups: if gateway {
                    vec![]
                } else {
                    vec![Val::Ref(Ref::id(&endpoint_sg_id()))]
                },
            }),
        });
    }
}
