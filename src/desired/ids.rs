//! Logical ids of every resource ecsdeploy manages: stable, derived from config keys.

use super::resource::{Kind, ResourceId};
use crate::config::az_letter;

pub fn vpc_id() -> ResourceId {
    ResourceId::new(Kind::Vpc, "main")
}
pub fn public_subnet_id(i: usize) -> ResourceId {
    ResourceId::new(Kind::Subnet, format!("public-{}", az_letter(i)))
}
pub fn private_subnet_id(i: usize) -> ResourceId {
    ResourceId::new(Kind::Subnet, format!("private-{}", az_letter(i)))
}
pub fn igw_id() -> ResourceId {
    ResourceId::new(Kind::InternetGateway, "main")
}
pub fn public_rt_id() -> ResourceId {
    ResourceId::new(Kind::RouteTable, "public")
}
/// The shared private route table (`None`) or the one of AZ `i` (NAT per AZ).
pub fn private_rt_id(az: Option<usize>) -> ResourceId {
    match az {
        Some(i) => ResourceId::new(Kind::RouteTable, format!("private-{}", az_letter(i))),
        None => ResourceId::new(Kind::RouteTable, "private"),
    }
}
pub fn nat_id(i: usize) -> ResourceId {
    ResourceId::new(Kind::NatGateway, az_letter(i).to_string())
}
pub fn eip_id(i: usize) -> ResourceId {
    ResourceId::new(Kind::ElasticIp, format!("nat-{}", az_letter(i)))
}
pub fn endpoint_id(service: &str) -> ResourceId {
    ResourceId::new(Kind::VpcEndpoint, service.replace('.', "-"))
}
pub fn endpoint_sg_id() -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, "endpoints")
}
pub fn lb_id() -> ResourceId {
    ResourceId::new(Kind::LoadBalancer, "main")
}
pub fn lb_sg_id() -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, "alb")
}
/// Target group of a service. A derived name carries a hash of the immutable properties,
/// and so does the id: changing them makes a new resource, and the old one is deleted
/// after the listener and the service have moved to the new one.
pub fn target_group_id(svc: &str, hash: Option<&str>) -> ResourceId {
    match hash {
        Some(h) => ResourceId::new(Kind::TargetGroup, format!("{svc}-{h}")),
        None => ResourceId::new(Kind::TargetGroup, svc),
    }
}
/// The second target group of a service whose traffic ECS shifts between two groups.
pub fn alternate_target_group_id(svc: &str, hash: Option<&str>) -> ResourceId {
    match hash {
        Some(h) => ResourceId::new(Kind::TargetGroup, format!("{svc}-{h}-alt")),
        None => ResourceId::new(Kind::TargetGroup, format!("{svc}-alt")),
    }
}
/// The catch-all rule on listener `port` that routes to a service whose traffic ECS shifts.
pub fn shifting_rule_id(port: u16, svc: &str) -> ResourceId {
    ResourceId::new(Kind::ListenerRule, format!("{port}-{svc}"))
}
/// The role ECS moves load balancer traffic with.
pub fn infrastructure_role_id() -> ResourceId {
    ResourceId::new(Kind::IamRole, "ecs-infrastructure")
}
pub fn listener_id(port: u16) -> ResourceId {
    ResourceId::new(Kind::Listener, port.to_string())
}
pub fn listener_rule_id(port: u16, position: usize) -> ResourceId {
    ResourceId::new(Kind::ListenerRule, format!("{port}-{}", position + 1))
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
/// The execution role's own inline policy granting database `db`'s master password secret.
pub fn db_secret_policy_id(db: &str) -> ResourceId {
    ResourceId::new(Kind::IamRolePolicy, format!("execution-db-{db}"))
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
/// The image a service builds from source and pushes.
pub fn image_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::Image, svc)
}
pub fn task_def_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::TaskDefinition, svc)
}
/// The release task run before each deploy of service `svc`.
pub fn release_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::Release, svc)
}
pub fn service_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::Service, svc)
}
pub fn namespace_id() -> ResourceId {
    ResourceId::new(Kind::Namespace, "main")
}
pub fn scalable_target_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::ScalableTarget, svc)
}
pub fn scaling_policy_id(svc: &str) -> ResourceId {
    ResourceId::new(Kind::ScalingPolicy, svc)
}
/// `scheduled_action.<service key>.<schedule name>`: neither part has a dot.
pub fn scheduled_action_id(svc: &str, name: &str) -> ResourceId {
    ResourceId::new(Kind::ScheduledAction, format!("{svc}.{name}"))
}
pub fn table_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::DynamodbTable, key)
}
pub fn db_subnet_group_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::DbSubnetGroup, key)
}
pub fn db_instance_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::DbInstance, key)
}
/// A database's security group. The `database.` prefix cannot clash with a service key
/// (service keys have no dots) and tells `down` the group belongs to a data store.
pub fn db_sg_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, format!("database.{key}"))
}
pub fn file_system_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::FileSystem, key)
}
pub fn mount_target_id(key: &str, az: usize) -> ResourceId {
    ResourceId::new(Kind::MountTarget, format!("{key}-{}", az_letter(az)))
}
pub fn access_point_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::AccessPoint, key)
}
/// A file system's security group (NFS from the services that mount it).
pub fn efs_sg_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, format!("file_system.{key}"))
}
pub fn secret_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::Secret, key)
}
/// The generated secret holding database `key`'s master password. The `database.` prefix
/// cannot clash with a key of `[secrets]` (keys have no dots).
pub fn db_password_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::Secret, format!("database.{key}"))
}

/// The task definition of job `key`. The `job.` prefix cannot clash with a service key
/// (keys have no dots).
pub fn job_task_def_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::TaskDefinition, format!("job.{key}"))
}
/// The role EventBridge Scheduler assumes to run job `key`.
pub fn scheduler_role_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::IamRole, format!("job.{key}.scheduler"))
}
/// The security group of a job with its own image.
pub fn job_sg_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::SecurityGroup, format!("job.{key}"))
}
/// The app's schedule group.
pub fn schedule_group_id() -> ResourceId {
    ResourceId::new(Kind::ScheduleGroup, "main")
}
pub fn schedule_id(key: &str) -> ResourceId {
    ResourceId::new(Kind::Schedule, key)
}

/// True for the security group of a data store (kept with the store by `down`).
pub fn is_store_sg(id: &ResourceId) -> bool {
    id.kind == Kind::SecurityGroup
        && (id.name.starts_with("database.") || id.name.starts_with("file_system."))
}
