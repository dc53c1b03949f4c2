//! Network specs: VPC, subnets, gateways, route tables, endpoints, security groups.

use serde_json::{json, Value};

use super::kind_spec::{sorted_vals, KindSpec};
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

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

#[derive(Debug, Clone, PartialEq)]
pub struct ElasticIpSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct NatGatewaySpec {
    pub subnet: Val,
    pub allocation: Val,
    /// Ordering only: a public NAT gateway made before the VPC's internet gateway is
    /// attached is created and then goes `failed` (Gateway.NotAttached).
    pub after: Vec<ResourceId>,
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

impl IngressRule {
    /// TCP on one port.
    pub fn tcp(port: u16, source: Source, description: Option<String>) -> Self {
        Self::port("tcp", port, source, description)
    }

    /// One port on `protocol`, `tcp` or `udp`: EC2's `IpPermission` takes either, with a
    /// port range (EC2 API Reference, "IpPermission": "IpProtocol: The IP protocol name
    /// (tcp, udp, icmp, icmpv6) or number"; "FromPort: ... the start of port range for the
    /// TCP and UDP protocols"). The security-group step reads the answer's `IpProtocol`
    /// back as it is, so a UDP rule compares equal to itself on the next run.
    pub fn port(protocol: &str, port: u16, source: Source, description: Option<String>) -> Self {
        Self::ports(protocol, (port, port), source, description)
    }

    /// The ports `first` to `last` on `protocol` (a task-definition file's
    /// `containerPortRange`).
    pub fn ports(
        protocol: &str,
        (first, last): (u16, u16),
        source: Source,
        description: Option<String>,
    ) -> Self {
        IngressRule {
            protocol: protocol.to_string(),
            from_port: i32::from(first),
            to_port: i32::from(last),
            source,
            description,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroupSpec {
    pub vpc: Val,
    pub description: String,
    pub ingress: Vec<IngressRule>,
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

impl KindSpec for VpcSpec {
    const KIND: Kind = Kind::Vpc;
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::Subnet,
        Kind::SecurityGroup,
        Kind::RouteTable,
        Kind::InternetGateway,
        Kind::NatGateway,
        Kind::ElasticIp,
        Kind::VpcEndpoint,
        Kind::LoadBalancer,
        Kind::TargetGroup,
        Kind::DbInstance,
        Kind::DbSubnetGroup,
        Kind::MountTarget,
    ];
    const IMMUTABLE: &'static [&'static str] = &["cidr_block"];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({
            "cidr_block": self.cidr,
            "enable_dns_support": true,
            "enable_dns_hostnames": true,
        })
    }
}

impl KindSpec for SubnetSpec {
    const KIND: Kind = Kind::Subnet;
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::NatGateway,
        Kind::VpcEndpoint,
        Kind::LoadBalancer,
        Kind::DbSubnetGroup,
        Kind::DbInstance,
        Kind::MountTarget,
        Kind::Schedule,
    ];
    const IMMUTABLE: &'static [&'static str] = &["vpc_id", "cidr_block", "availability_zone"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.vpc]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "vpc_id": r.val(&self.vpc),
            "cidr_block": self.cidr,
            "availability_zone": self.az,
        })
    }
}

impl KindSpec for IgwSpec {
    const KIND: Kind = Kind::InternetGateway;
    /// "has some mapped public address(es)" while a NAT, ALB or public task remains.
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::NatGateway,
        Kind::ElasticIp,
        Kind::LoadBalancer,
    ];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.vpc]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({ "attached_vpc_id": r.val(&self.vpc) })
    }
}

impl KindSpec for RouteTableSpec {
    const KIND: Kind = Kind::RouteTable;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::VpcEndpoint, Kind::NatGateway];
    const IMMUTABLE: &'static [&'static str] = &["vpc_id"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.vpc)
            .chain(self.routes.iter().map(|(_, v)| v))
            .chain(self.subnets.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        let mut routes: Vec<Value> = self
            .routes
            .iter()
            .map(|(d, g)| json!({ "destination": d, "gateway_id": r.val(g) }))
            .collect();
        routes.sort_by_key(|v| v.to_string());
        json!({
            "vpc_id": r.val(&self.vpc),
            "routes": routes,
            "subnet_associations": sorted_vals(&self.subnets, r),
        })
    }
}

impl KindSpec for ElasticIpSpec {
    const KIND: Kind = Kind::ElasticIp;
    const DELETED_AFTER: &'static [Kind] = &[Kind::NatGateway];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({ "domain": "vpc" })
    }
}

impl KindSpec for NatGatewaySpec {
    const KIND: Kind = Kind::NatGateway;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];
    const IMMUTABLE: &'static [&'static str] = &["subnet_id", "allocation_id", "connectivity_type"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.subnet, &self.allocation]
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "subnet_id": r.val(&self.subnet),
            "allocation_id": r.val(&self.allocation),
            "connectivity_type": "public",
        })
    }
}

impl KindSpec for VpcEndpointSpec {
    const KIND: Kind = Kind::VpcEndpoint;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];
    const IMMUTABLE: &'static [&'static str] = &["vpc_id", "service_name", "vpc_endpoint_type"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.vpc)
            .chain(self.route_tables.iter())
            .chain(self.subnets.iter())
            .chain(self.security_groups.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        match self.endpoint_type {
            EndpointType::Gateway => json!({
                "vpc_id": r.val(&self.vpc),
                "service_name": self.service_name,
                "vpc_endpoint_type": "Gateway",
                "route_table_ids": sorted_vals(&self.route_tables, r),
            }),
            EndpointType::Interface => json!({
                "vpc_id": r.val(&self.vpc),
                "service_name": self.service_name,
                "vpc_endpoint_type": "Interface",
                "subnet_ids": sorted_vals(&self.subnets, r),
                "security_group_ids": sorted_vals(&self.security_groups, r),
                "private_dns_enabled": true,
            }),
        }
    }
}

impl KindSpec for SecurityGroupSpec {
    const KIND: Kind = Kind::SecurityGroup;
    /// Security groups reference each other (service ← ALB, endpoint ← service);
    /// the DependencyViolation retry in the step settles the order among them.
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::LoadBalancer,
        Kind::VpcEndpoint,
        Kind::DbInstance,
        Kind::MountTarget,
    ];
    const IMMUTABLE: &'static [&'static str] = &["vpc_id", "description"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.vpc)
            .chain(self.ingress.iter().filter_map(|r| match &r.source {
                Source::Group(v) => Some(v),
                Source::Cidr(_) => None,
            }))
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "vpc_id": r.val(&self.vpc),
            "description": self.description,
            "ingress": ingress_fields(&self.ingress, r),
        })
    }
}
