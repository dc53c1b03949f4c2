//! The one table of resource kinds. A row names the kind (its `Kind` and `Spec` variant),
//! its spec type (in `spec/`), its name in resource ids and ownership tags, and its step
//! module (in `src/steps/`). The rows are listed in the order `plan` and `status` show
//! the kinds, which is also `Kind`'s order.
//!
//! `Kind` is generated from the table here, `Spec` and its per-variant dispatch in
//! `spec/mod.rs`, and the step modules with their four dispatchers in `src/steps/mod.rs`.
//! A new kind is therefore one row here, its spec type (which also says its deletion
//! order and whether it holds data), and its step module.

/// Calls `$callback! { <extra tokens> ; <rows> }` with every row of the table; `extra`
/// lets a caller pass its own arguments through.
macro_rules! with_kinds {
    ($callback:ident $(, $($extra:tt)*)?) => {
        $callback! {
            $($($extra)*)? ;
            Vpc(VpcSpec) = "vpc" => vpc,
            Subnet(SubnetSpec) = "subnet" => subnet,
            InternetGateway(IgwSpec) = "internet_gateway" => internet_gateway,
            RouteTable(RouteTableSpec) = "route_table" => route_table,
            ElasticIp(ElasticIpSpec) = "elastic_ip" => elastic_ip,
            NatGateway(NatGatewaySpec) = "nat_gateway" => nat_gateway,
            VpcEndpoint(VpcEndpointSpec) = "vpc_endpoint" => vpc_endpoint,
            SecurityGroup(SecurityGroupSpec) = "security_group" => security_group,
            LoadBalancer(LoadBalancerSpec) = "load_balancer" => load_balancer,
            TargetGroup(TargetGroupSpec) = "target_group" => target_group,
            Listener(ListenerSpec) = "listener" => listener,
            ListenerRule(ListenerRuleSpec) = "listener_rule" => listener_rule,
            EcrRepository(EcrSpec) = "ecr_repository" => ecr_repository,
            Image(ImageSpec) = "image" => image,
            Namespace(NamespaceSpec) = "namespace" => namespace,
            Cluster(ClusterSpec) = "cluster" => cluster,
            IamRole(RoleSpec) = "iam_role" => iam_role,
            IamRolePolicy(RolePolicySpec) = "iam_role_policy" => iam_role_policy,
            LogGroup(LogGroupSpec) = "log_group" => log_group,
            TaskDefinition(TaskDefSpec) = "task_definition" => task_definition,
            Release(ReleaseSpec) = "release" => release,
            Service(ServiceSpec) = "service" => service,
            ScalableTarget(ScalableTargetSpec) = "scalable_target" => scalable_target,
            ScalingPolicy(ScalingPolicySpec) = "scaling_policy" => scaling_policy,
            ScheduledAction(ScheduledActionSpec) = "scheduled_action" => scheduled_action,
            DynamodbTable(TableSpec) = "dynamodb_table" => dynamodb_table,
            DbSubnetGroup(DbSubnetGroupSpec) = "db_subnet_group" => db_subnet_group,
            DbInstance(DbInstanceSpec) = "db_instance" => db_instance,
            FileSystem(FileSystemSpec) = "file_system" => file_system,
            MountTarget(MountTargetSpec) = "mount_target" => mount_target,
            AccessPoint(AccessPointSpec) = "access_point" => access_point,
            Secret(SecretSpec) = "secret" => secret,
            ScheduleGroup(ScheduleGroupSpec) = "schedule_group" => schedule_group,
            Schedule(ScheduleSpec) = "schedule" => schedule,
        }
    };
}
pub(crate) use with_kinds;

/// `Kind`, `Kind::ALL` and `Kind::as_str` from the table.
macro_rules! define_kind {
    ( ; $($variant:ident($spec:ident) = $name:literal => $module:ident,)*) => {
        /// Resource kinds, in the order `plan` and `status` list them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($variant,)*
        }

        const KIND_COUNT: usize = [$($name,)*].len();

        impl Kind {
            pub const ALL: [Kind; KIND_COUNT] = [$(Kind::$variant,)*];

            /// The kind's name in resource ids (`subnet.public-a`) and ownership tags.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }
    };
}

with_kinds!(define_kind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_name_and_parses_back() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }

    #[test]
    fn all_lists_the_kinds_in_their_order() {
        assert!(Kind::ALL.windows(2).all(|w| w[0] < w[1]));
    }
}
