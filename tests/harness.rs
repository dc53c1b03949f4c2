//! Tests of the integration-test harness itself (tests/common), so product tests can rely on
//! it: account isolation through the proxy, call recording for both AWS protocols, the
//! read/write rule, running the binary, and the fault proxy (a lost answer executes; each
//! protocol gets its own throttling code).

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

/// The fault proxy itself (tests/common/faults.rs): a lost answer reaches moto (the call
/// executes) while the client sees a 503, so the tests of lost answers test what they claim.
#[tokio::test]
async fn a_lost_answer_is_executed_and_answered_with_503() {
    use common::faults::Faults;
    let faults = Faults {
        lose_first: vec![("CreateVpc".into(), 1)],
        ..Faults::default()
    };
    let proxy = Proxy::start_with(&unique_account(), faults).await;
    let config = sdk_config(&proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&config)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    let e = ec2
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .expect_err("the answer is lost");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(proxy.faults_injected(), 1);
    let found = ec2
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("cidr")
                .values("10.77.0.0/16")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(found.vpcs().len(), 1, "the lost CreateVpc did not execute");
    // Only the first call: the second goes through.
    ec2.create_vpc()
        .cidr_block("10.78.0.0/16")
        .send()
        .await
        .expect("second CreateVpc");
}

/// Throttling is written in each protocol's own error format, so the SDK reads the code AWS
/// would send: EC2 (`RequestLimitExceeded`), awsQuery (IAM: `Throttling`), awsJson (ECS:
/// `ThrottlingException`) and restJson (EFS: 429 `ThrottlingException`).
#[tokio::test]
async fn throttling_answers_carry_each_protocols_code() {
    use aws_sdk_ec2::error::ProvideErrorMetadata;
    use common::faults::Faults;
    let faults = Faults {
        error_rate: 1.0,
        seed: 3,
        ..Faults::default()
    };
    let proxy = Proxy::start_with(&unique_account(), faults).await;
    let config = sdk_config(&proxy, REGION).await;
    let off = aws_config::retry::RetryConfig::disabled;
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&config)
            .retry_config(off())
            .build(),
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config)
            .retry_config(off())
            .build(),
    );
    let ecs = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::config::Builder::from(&config)
            .retry_config(off())
            .build(),
    );
    let efs = aws_sdk_efs::Client::from_conf(
        aws_sdk_efs::config::Builder::from(&config)
            .retry_config(off())
            .build(),
    );
    // error_rate 1.0 answers every call with a throttle or a bare 503 (a seeded coin per
    // call): up to 12 calls each find the throttle.
    let mut codes: Vec<(String, u16)> = Vec::new();
    let mut calls = 0;
    macro_rules! throttled {
        ($send:expr) => {{
            let mut found = None;
            for _ in 0..12 {
                calls += 1;
                let e = $send
                    .await
                    .expect_err("every call is answered with an error");
                if let Some(code) = e
                    .code()
                    .filter(|c| c.contains("Throttl") || *c == "RequestLimitExceeded")
                {
                    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
                    found = Some((code.to_string(), status));
                    break;
                }
            }
            codes.push(found.expect("no throttling answer in 12 calls"));
        }};
    }
    throttled!(ec2.describe_vpcs().send());
    throttled!(iam.list_roles().send());
    throttled!(ecs.list_clusters().send());
    throttled!(efs.describe_file_systems().send());
    assert_eq!(
        codes,
        [
            ("RequestLimitExceeded".to_string(), 503),
            ("Throttling".to_string(), 400),
            ("ThrottlingException".to_string(), 400),
            ("ThrottlingException".to_string(), 429),
        ]
    );
    assert_eq!(proxy.faults_injected(), calls, "every call was a fault");
}
