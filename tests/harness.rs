//! Tests of the integration-test harness itself (tests/common), so product tests can rely on
//! it: account isolation through the proxy, call recording for both AWS protocols, the
//! read/write rule, and running the binary.

mod common;

use common::{moto, run, run_async, sdk_config, unique_account, Call, Proxy};

const REGION: &str = "us-east-1";

async fn clients(proxy: &Proxy) -> (aws_sdk_ec2::Client, aws_sdk_ecs::Client) {
    let config = sdk_config(proxy, REGION).await;
    (
        aws_sdk_ec2::Client::new(&config),
        aws_sdk_ecs::Client::new(&config),
    )
}

async fn vpc_ids(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    vpcs.vpcs()
        .iter()
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect()
}

async fn create_vpc(ec2: &aws_sdk_ec2::Client) -> String {
    let created = ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    created.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned()
}

#[tokio::test]
async fn accounts_are_isolated() {
    let (a, b) = (
        Proxy::start(&unique_account()).await,
        Proxy::start(&unique_account()).await,
    );
    assert_ne!(a.account(), b.account());
    let ((ec2_a, _), (ec2_b, _)) = (clients(&a).await, clients(&b).await);

    let vpc = create_vpc(&ec2_a).await;

    assert!(vpc_ids(&ec2_a).await.contains(&vpc));
    assert!(
        !vpc_ids(&ec2_b).await.contains(&vpc),
        "account B sees A's VPC"
    );
}

#[tokio::test]
async fn records_query_and_json_protocol_calls() {
    let proxy = Proxy::start(&unique_account()).await;
    let (ec2, ecs) = clients(&proxy).await;

    create_vpc(&ec2).await;
    ecs.create_cluster()
        .cluster_name("harness")
        .send()
        .await
        .expect("CreateCluster");

    let calls = proxy.calls();
    assert!(calls.contains(&Call::new("ec2", "CreateVpc")), "{calls:?}");
    assert!(
        calls.contains(&Call::new("ecs", "CreateCluster")),
        "{calls:?}"
    );
    assert!(proxy.position("CreateVpc") < proxy.position("CreateCluster"));
}

#[tokio::test]
async fn writes_exclude_reads_and_clear_forgets() {
    let proxy = Proxy::start(&unique_account()).await;
    let (ec2, _) = clients(&proxy).await;
    vpc_ids(&ec2).await;
    proxy.clear();
    assert!(proxy.calls().is_empty());

    vpc_ids(&ec2).await;
    create_vpc(&ec2).await;

    assert_eq!(proxy.operations(), ["DescribeVpcs", "CreateVpc"]);
    assert_eq!(proxy.writes(), [Call::new("ec2", "CreateVpc")]);
    assert_eq!(proxy.count("DescribeVpcs"), 1);
    assert_eq!(proxy.position("DescribeVpcs"), Some(0));
}

#[test]
fn read_write_rule() {
    for read in [
        "DescribeServices",
        "ListTagsForResource",
        "GetRole",
        "GET /x",
    ] {
        assert!(Call::new("s", read).is_read(), "{read}");
    }
    for write in [
        "CreateService",
        "PutRolePolicy",
        "RegisterTaskDefinition",
        "POST /x",
    ] {
        assert!(!Call::new("s", write).is_read(), "{write}");
    }
}

#[tokio::test]
async fn unnamed_calls_are_recorded_as_method_and_path() {
    let proxy = Proxy::start(&unique_account()).await;
    let url = format!("{}/moto-api/?probe=1", proxy.url());
    let status = raw_get(&url).await;
    assert!(status.is_success(), "moto answered {status}");
    assert_eq!(proxy.calls(), [Call::new("unknown", "GET /moto-api/")]);
}

async fn raw_get(url: &str) -> hyper::StatusCode {
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    let client =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    client.get(url.parse().unwrap()).await.unwrap().status()
}

#[test]
fn unique_accounts_are_distinct_12_digit_ids() {
    let ids: Vec<String> = (0..50).map(|_| unique_account()).collect();
    assert!(ids
        .iter()
        .all(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())));
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
}

#[test]
fn moto_is_shared_and_answering() {
    assert_eq!(moto().port(), moto().port());
    assert!(moto().url().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn runs_the_binary_blocking_and_async() {
    let proxy = Proxy::start(&unique_account()).await;
    run(&proxy, REGION, &["--help"]).assert_success();
    run_async(&proxy, REGION, &["--help"])
        .await
        .assert_success();
}

#[tokio::test]
async fn ecs_services_report_completed_deployments() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_, ecs) = clients(&proxy).await;
    ecs.create_cluster().cluster_name("c").send().await.unwrap();
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("web")
        .image("nginx")
        .memory(512)
        .build();
    ecs.register_task_definition()
        .family("web")
        .container_definitions(container)
        .send()
        .await
        .unwrap();

    let created = ecs
        .create_service()
        .cluster("c")
        .service_name("web")
        .task_definition("web")
        .desired_count(1)
        .send()
        .await
        .unwrap();

    let deployment = &created.service().unwrap().deployments()[0];
    let state = deployment.rollout_state().map(|s| s.as_str());
    assert_eq!(
        state,
        Some("COMPLETED"),
        "MOTO_ECS_SERVICE_RUNNING not applied"
    );
}
