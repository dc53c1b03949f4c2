//! `up` and `down` through a proxy that injects faults (tests/common/faults.rs): latency and
//! throttling/503 answers, answers lost after the call executed, `DependencyViolation` on
//! deletes and ECS's "unable to assume the role" on CreateService. Every run is bounded in
//! time, every seed fixed.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use common::faults::{Faults, Injection};
use common::{example, owned_by, run_async, sdk_config, unique_account, Output, Proxy};

const REGION: &str = "ap-northeast-1";

/// Fails the test when `f` runs longer than `secs`.
async fn bounded<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

async fn up(proxy: &Proxy, config: &str) -> Output {
    let cfg = example(config);
    run_async(proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await
}

/// What the app owns, by kind: EC2 resources counted per ownership tag (`kind` and
/// `kind resource-id`, the latter must be 1), the rest by listing the (per-test) account.
async fn inventory(proxy: &Proxy, app: &str, cluster: &str) -> BTreeMap<String, usize> {
    let c = sdk_config(proxy, REGION).await;
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
    let mut active_families = 0;
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
    }
    inv.insert("task_families".into(), active_families);
    let cloudmap = aws_sdk_servicediscovery::Client::new(&c);
    let namespaces = cloudmap.list_namespaces().send().await.unwrap();
    inv.insert("namespaces".into(), namespaces.namespaces().len());
    // Data stores.
    let dynamodb = aws_sdk_dynamodb::Client::new(&c);
    let tables = dynamodb.list_tables().send().await.unwrap();
    let tables = tables
        .table_names()
        .iter()
        .filter(|t| t.as_str() != common::LOCK_TABLE)
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
fn assert_each_tag_once(inv: &BTreeMap<String, usize>, context: &str) {
    for (k, n) in inv {
        if k.contains(' ') {
            assert_eq!(*n, 1, "{context}: {k} exists {n} times\n{inv:#?}");
        }
    }
}

#[tokio::test]
async fn up_converges_through_latency_and_errors() {
    bounded(900, "latency + errors", async {
        for (config, seed) in [("fargate-public", 7), ("service-connect", 11)] {
            let faults = Faults {
                latency: Duration::from_millis(20),
                error_rate: 0.10,
                seed,
                ..Faults::default()
            };
            let proxy = Proxy::start_with(&unique_account(), faults).await;
            up(&proxy, config).await.assert_success();
            let injected = proxy.faults_injected();
            assert!(injected > 0, "{config}: no fault injected");
            eprintln!(
                "{config}: {injected} faults in {} calls",
                proxy.calls().len()
            );
            proxy.clear();
            up(&proxy, config).await.assert_success();
            assert_eq!(proxy.writes(), vec![], "{config}: second up wrote");
        }
    })
    .await;
}

#[tokio::test]
async fn lost_answers_never_duplicate_resources() {
    bounded(1500, "lost answers", async {
        let cases = [
            (
                "fargate-public",
                "fargate-public",
                "fargate-public-cluster",
                &[1, 2, 3][..],
            ),
            (
                "service-connect",
                "ecs-web-app",
                "ecs-web-app-cluster",
                &[4][..],
            ),
            // Data stores: RDS (and its managed secret), EFS with mount targets and an
            // access point, generated secrets, a seeded DynamoDB table.
            ("wordpress", "wordpress", "wordpress", &[5][..]),
            (
                "dynamodb-webapp",
                "dynamodb-webapp",
                "dynamodb-webapp-cluster",
                &[6][..],
            ),
        ];
        for (config, app, cluster, seeds) in cases {
            let reference = Proxy::start(&unique_account()).await;
            up(&reference, config).await.assert_success();
            let want = inventory(&reference, app, cluster).await;
            assert_each_tag_once(&want, "faultless");
            for &seed in seeds {
                let faults = Faults {
                    lost_response_rate: 0.30,
                    only_writes: true,
                    seed,
                    ..Faults::default()
                };
                let proxy = Proxy::start_with(&unique_account(), faults).await;
                let mut runs = 0;
                loop {
                    runs += 1;
                    let out = up(&proxy, config).await;
                    if out.success() {
                        break;
                    }
                    assert!(
                        runs < 5,
                        "{config} seed {seed}: up failed {runs} times:\n{out}"
                    );
                    eprintln!("{config} seed {seed}: run {runs} failed:\n{}", out.stderr);
                }
                let injected = proxy.faults_injected();
                eprintln!("{config} seed {seed}: {injected} lost answers, {runs} runs");
                assert!(injected > 0, "{config} seed {seed}: no answer lost");
                let got = inventory(&proxy, app, cluster).await;
                assert_each_tag_once(&got, &format!("{config} seed {seed}"));
                assert_eq!(got, want, "{config} seed {seed}: owned resources differ");
                proxy.clear();
                let again = up(&proxy, config).await;
                if !again.success() {
                    let cfg = example(config);
                    let plan = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "plan"]).await;
                    panic!("{config} seed {seed}: up after convergence failed:\n{again}\nplan:\n{plan}");
                }
                assert_eq!(
                    proxy.writes(),
                    vec![],
                    "{config} seed {seed}: not converged"
                );
            }
        }
    })
    .await;
}

/// Deterministic complement of the random test above: the first answer of *every* write
/// operation an `up` makes is lost (the call executes, the answer is a 503), for apps that
/// together use every resource kind. Each create must re-find what it made instead of
/// making it again.
#[tokio::test]
async fn every_write_survives_its_first_answer_being_lost() {
    bounded(1200, "first answers lost", async {
        let cases = [
            ("service-connect", "ecs-web-app", "ecs-web-app-cluster"),
            ("wordpress", "wordpress", "wordpress"),
            (
                "dynamodb-webapp",
                "dynamodb-webapp",
                "dynamodb-webapp-cluster",
            ),
        ];
        for (config, app, cluster) in cases {
            let reference = Proxy::start(&unique_account()).await;
            reference.clear();
            up(&reference, config).await.assert_success();
            let want = inventory(&reference, app, cluster).await;
            let mut ops: Vec<String> = reference
                .writes()
                .into_iter()
                .map(|c| c.operation)
                .collect();
            ops.sort();
            ops.dedup();
            let faults = Faults {
                lose_first: ops.iter().map(|op| (op.clone(), 1)).collect(),
                ..Faults::default()
            };
            let proxy = Proxy::start_with(&unique_account(), faults).await;
            let mut runs = 0;
            loop {
                runs += 1;
                let out = up(&proxy, config).await;
                if out.success() {
                    break;
                }
                assert!(runs < 4, "{config}: up failed {runs} times:\n{out}");
                eprintln!("{config}: run {runs} failed:\n{}", out.stderr);
            }
            assert!(proxy.faults_injected() >= ops.len(), "{config}: {ops:?}");
            let got = inventory(&proxy, app, cluster).await;
            assert_each_tag_once(&got, config);
            assert_eq!(got, want, "{config}: owned resources differ ({runs} runs)");
            proxy.clear();
            up(&proxy, config).await.assert_success();
            assert_eq!(proxy.writes(), vec![], "{config}: not converged");
        }
    })
    .await;
}

#[tokio::test]
async fn down_retries_dependency_violations() {
    bounded(600, "dependency violations", async {
        let ops = [
            "DeleteSecurityGroup",
            "DeleteSubnet",
            "DetachInternetGateway",
        ];
        let faults = Faults {
            dependency_violation: ops.iter().map(|op| (op.to_string(), 3)).collect(),
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), faults).await;
        up(&proxy, "fargate-public").await.assert_success();
        assert_eq!(proxy.faults_injected(), 0);
        let cfg = example("fargate-public");
        run_async(
            &proxy,
            REGION,
            &["-c", cfg.to_str().unwrap(), "down", "--yes"],
        )
        .await
        .assert_success();
        assert_eq!(proxy.faults_injected(), 9, "3 for each operation");
        for op in ops {
            assert!(proxy.count(op) > 3, "{op} not retried past the violations");
        }
        let left = inventory(&proxy, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(left, BTreeMap::new(), "down left owned resources");
    })
    .await;
}

#[tokio::test]
async fn create_service_waits_for_a_draining_namesake() {
    bounded(300, "service still draining", async {
        let faults = Faults {
            inject: vec![Injection::new(
                "CreateService",
                2,
                400,
                "InvalidParameterException",
                "Unable to Start a service that is still Draining.",
            )],
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), faults).await;
        up(&proxy, "fargate-public").await.assert_success();
        assert_eq!(proxy.faults_injected(), 2);
        let inv = inventory(&proxy, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(inv.get("services"), Some(&2));
    })
    .await;
}

#[tokio::test]
async fn create_service_waits_for_the_role_to_be_assumable() {
    bounded(300, "unable to assume role", async {
        let message = "ECS was unable to assume the role \
            'arn:aws:iam::123456789012:role/x' that was provided for this task. Please verify \
            that the role being passed has the proper trust relationship and permissions and \
            that your IAM user has permissions to pass this role.";
        let faults = Faults {
            inject: vec![
                Injection::new(
                    "CreateService",
                    1,
                    400,
                    "InvalidParameterException",
                    message,
                ),
                // The next call, whichever service it is for, gets the other code ECS uses.
                Injection::new("CreateService", 2, 400, "ClientException", message),
            ],
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), faults).await;
        up(&proxy, "fargate-public").await.assert_success();
        assert_eq!(proxy.faults_injected(), 2);
        // Two services, two refused calls.
        assert_eq!(proxy.count("CreateService"), 4);
        let inv = inventory(&proxy, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(inv.get("services"), Some(&2));
    })
    .await;
}
