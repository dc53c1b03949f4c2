//! The awsvpc network of ECS tasks, a service's and its release task's alike: subnets,
//! security groups and whether the tasks get a public IP, references resolved.

use anyhow::Result;
use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, NetworkConfiguration};

use crate::desired::{Resolve, Val};

/// The network configuration RunTask, CreateService and UpdateService take.
pub fn network(
    assign_public_ip: bool,
    subnets: &[Val],
    security_groups: &[Val],
    res: &dyn Resolve,
) -> Result<NetworkConfiguration> {
    let mut vpc = AwsVpcConfiguration::builder().assign_public_ip(if assign_public_ip {
        AssignPublicIp::Enabled
    } else {
        AssignPublicIp::Disabled
    });
    for v in subnets {
        vpc = vpc.subnets(res.need(v)?);
    }
    for v in security_groups {
        vpc = vpc.security_groups(res.need(v)?);
    }
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc.build()?)
        .build())
}
