//! What an app owns in a test's moto account, by kind, for comparing a run that went through
//! faults or kills with a faultless reference run: EC2 resources counted per ownership tag
//! (each `kind resource-id` must be 1), the rest by listing the account (tests use one
//! account each, so everything listed is the app's).

use std::collections::BTreeMap;

use super::{owned_by, sdk_config, Proxy};

/// What the app owns, by kind: EC2 resources counted per ownership tag (`kind` and
/// `kind resource-id`, the latter must be 1), the rest by listing the (per-test) account.
pub async fn inventory(
    proxy: &Proxy,
    region: &str,
    app: &str,
    cluster: &str,
) -> BTreeMap<String, usize> {
    let c = sdk_config(proxy, region).await;
    let ec2 = aws_sdk_ec2::Client::new(&c);
    let mut inv: BTreeMap<String, usize> = BTreeMap::new();
    let mut add = |kind: &str, tags: &[aws_sdk_ec2::types::Tag]| {
        let id = tags
            .iter()
            .find(|t| t.key() == Some("ecsdeploy:resource"))
            .and_then(|t| t.value())
            .unwrap_or("(untagged)");
        *inv.entry(kind.to_string()).or_default() += 1;
        *inv.entry(format!("{kind} {id}")).or_default() += 1;
    };
    let owned = || owned_by(app);
    let vpcs = ec2.describe_vpcs().filters(owned()).send().await.unwrap();
    vpcs.vpcs().iter().for_each(|v| add("vpc", v.tags()));
    let subnets = ec2
        .describe_subnets()
        .filters(owned())
        .send()
        .await
        .unwrap();
    subnets
        .subnets()
        .iter()
        .for_each(|s| add("subnet", s.tags()));
    let igws = ec2
        .describe_internet_gateways()
        .filters(owned())
        .send()
        .await
        .unwrap();
    igws.internet_gateways()
        .iter()
        .for_each(|g| add("igw", g.tags()));
    let rtbs = ec2
        .describe_route_tables()
        .filters(owned())
        .send()
        .await
        .unwrap();
    rtbs.route_tables()
        .iter()
        .for_each(|t| add("route_table", t.tags()));
    let sgs = ec2
        .describe_security_groups()
        .filters(owned())
        .send()
        .await
        .unwrap();
    sgs.security_groups()
        .iter()
        .for_each(|g| add("security_group", g.tags()));
    let eips = ec2
        .describe_addresses()
        .filters(owned())
        .send()
        .await
        .unwrap();
    eips.addresses()
        .iter()
        .for_each(|a| add("elastic_ip", a.tags()));

    let ecs = aws_sdk_ecs::Client::new(&c);
    // moto keeps deleted clusters and services listed, as INACTIVE.
    let arns = ecs
        .list_clusters()
        .send()
        .await
        .unwrap()
        .cluster_arns()
        .to_vec();
    let clusters = ecs
        .describe_clusters()
        .set_clusters(Some(arns))
        .send()
        .await
        .unwrap();
    let active = |s: Option<&str>| s == Some("ACTIVE");
    let n = clusters
        .clusters()
        .iter()
        .filter(|c| active(c.status()))
        .count();
    inv.insert("clusters".into(), n);
    let services = match ecs.list_services().cluster(cluster).send().await {
        Ok(out) if !out.service_arns().is_empty() => ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(out.service_arns().to_vec()))
            .send()
            .await
            .unwrap()
            .services()
            .iter()
            .filter(|s| active(s.status()))
            .count(),
        _ => 0, // none, or no cluster
    };
    inv.insert("services".into(), services);
    let iam = aws_sdk_iam::Client::new(&c);
    let roles = iam
        .list_roles()
        .path_prefix(format!("/ecsdeploy/{app}/"))
        .send()
        .await
        .unwrap();
    inv.insert("roles".into(), roles.roles().len());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&c);
    let groups = logs.describe_log_groups().send().await.unwrap();
    inv.insert("log_groups".into(), groups.log_groups().len());
    let ecr = aws_sdk_ecr::Client::new(&c);
    let repos = ecr.describe_repositories().send().await.unwrap();
    inv.insert("repositories".into(), repos.repositories().len());
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    inv.insert("load_balancers".into(), lbs.load_balancers().len());
    // Named once per account: a duplicate shows as a second entry.
    let tgs = elb.describe_target_groups().send().await.unwrap();
    inv.insert("target_groups".into(), tgs.target_groups().len());
    let families = ecs
        .list_task_definition_families()
        .status(aws_sdk_ecs::types::TaskDefinitionFamilyStatus::Active)
        .send()
        .await
        .unwrap();
    // moto lists families whatever their status: count those with ACTIVE revisions.
    // A revision registered twice (a lost answer, retried) shows as an extra revision.
    let mut active_families = 0;
    let mut active_revisions = 0;
    for f in families.families() {
        let revisions = ecs
            .list_task_definitions()
            .family_prefix(f)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .unwrap();
        if !revisions.task_definition_arns().is_empty() {
            active_families += 1;
        }
        active_revisions += revisions.task_definition_arns().len();
    }
    inv.insert("task_families".into(), active_families);
    inv.insert("task_revisions".into(), active_revisions);
    let cloudmap = aws_sdk_servicediscovery::Client::new(&c);
    let namespaces = cloudmap.list_namespaces().send().await.unwrap();
    inv.insert("namespaces".into(), namespaces.namespaces().len());
    // Data stores.
    let dynamodb = aws_sdk_dynamodb::Client::new(&c);
    let tables = dynamodb.list_tables().send().await.unwrap();
    let tables = tables
        .table_names()
        .iter()
        .filter(|t| t.as_str() != super::LOCK_TABLE)
        .count();
    inv.insert("tables".into(), tables);
    let rds = aws_sdk_rds::Client::new(&c);
    let dbs = rds.describe_db_instances().send().await.unwrap();
    inv.insert("db_instances".into(), dbs.db_instances().len());
    let groups = rds.describe_db_subnet_groups().send().await.unwrap();
    inv.insert("db_subnet_groups".into(), groups.db_subnet_groups().len());
    let efs = aws_sdk_efs::Client::new(&c);
    let filesystems = efs.describe_file_systems().send().await.unwrap();
    inv.insert("file_systems".into(), filesystems.file_systems().len());
    let mut mount_targets = 0;
    for fs in filesystems.file_systems() {
        let mts = efs
            .describe_mount_targets()
            .file_system_id(fs.file_system_id())
            .send()
            .await
            .unwrap();
        mount_targets += mts.mount_targets().len();
    }
    inv.insert("mount_targets".into(), mount_targets);
    let aps = efs.describe_access_points().send().await.unwrap();
    inv.insert("access_points".into(), aps.access_points().len());
    let secrets = aws_sdk_secretsmanager::Client::new(&c);
    let listed = secrets.list_secrets().send().await.unwrap();
    inv.insert("secrets".into(), listed.secret_list().len());
    inv.retain(|_, n| *n > 0);
    inv
}

/// Each tagged EC2 resource exists once.
pub fn assert_each_tag_once(inv: &BTreeMap<String, usize>, context: &str) {
    for (k, n) in inv {
        if k.contains(' ') {
            assert_eq!(*n, 1, "{context}: {k} exists {n} times\n{inv:#?}");
        }
    }
}
