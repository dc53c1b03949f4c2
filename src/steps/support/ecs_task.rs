//! What the ECS tasks of a service, of its release and of its task definition's containers
//! are set up with alike, sent and read back: the awsvpc network (subnets, security groups,
//! a public IP or not) and the `awslogs` log configuration.

use anyhow::Result;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, LogConfiguration, LogDriver, NetworkConfiguration,
};
use serde_json::{json, Value};

use crate::desired::{Resolve, Val};

/// The network configuration RunTask, CreateService and UpdateService take, references
/// resolved.
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

/// Logs to CloudWatch group `group` in `region`, streams prefixed `stream_prefix`.
pub fn awslogs(group: &str, region: &str, stream_prefix: &str) -> Result<LogConfiguration> {
    Ok(LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", group)
        .options("awslogs-region", region)
        .options("awslogs-stream-prefix", stream_prefix)
        .build()?)
}

/// A log configuration as AWS reports it, in the shape of
/// [`crate::desired::awslogs_fields`]: its driver and options.
pub fn log_fields(l: &LogConfiguration) -> Value {
    json!({
        "driver": l.log_driver().as_str(),
        "options": l.options().cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awslogs_reads_back_as_desired() {
        let sent = awslogs("/ecs/demo", "ap-northeast-1", "web").unwrap();
        assert_eq!(
            log_fields(&sent),
            crate::desired::awslogs_fields("/ecs/demo", "ap-northeast-1", "web")
        );
    }
}
