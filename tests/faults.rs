//! `up` and `down` through a proxy that injects faults (tests/common/faults.rs): latency and
//! throttling/503 answers, answers lost after the call executed, `DependencyViolation` on
//! deletes, EC2's `*.NotFound` right after a create, and ECS's "unable to assume the role"
//! and "still Draining" on CreateService. Every run is bounded in time, every seed fixed.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use common::faults::{Faults, Injection};
use common::inventory::{assert_each_tag_once, inventory};
use common::{example, run_async, unique_account, Output, Proxy};

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
            let want = inventory(&reference, REGION, app, cluster).await;
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
                let got = inventory(&proxy, REGION, app, cluster).await;
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
            let want = inventory(&reference, REGION, app, cluster).await;
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
            // Every lost answer is a transient error the run handles itself: one run.
            let out = up(&proxy, config).await;
            assert!(out.success(), "{config}: up failed:\n{out}");
            assert!(proxy.faults_injected() >= ops.len(), "{config}: {ops:?}");
            let got = inventory(&proxy, REGION, app, cluster).await;
            assert_each_tag_once(&got, config);
            assert_eq!(got, want, "{config}: owned resources differ");
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
            "DeleteRouteTable",
            "DeleteVpc",
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
        assert_eq!(
            proxy.faults_injected(),
            3 * ops.len(),
            "3 for each operation"
        );
        for op in ops {
            assert!(proxy.count(op) > 3, "{op} not retried past the violations");
        }
        let left = inventory(&proxy, REGION, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(left, BTreeMap::new(), "down left owned resources");
    })
    .await;
}

/// EC2 is eventually consistent: right after a create, another endpoint may not know the new
/// id yet and answers `*.NotFound`. Every such follow-up call is retried until it is seen.
#[tokio::test]
async fn calls_on_a_just_created_resource_retry_not_found() {
    bounded(300, "not yet visible", async {
        let faults = Faults {
            inject: vec![
                Injection::new(
                    "AuthorizeSecurityGroupIngress",
                    2,
                    400,
                    "InvalidGroup.NotFound",
                    "The security group 'sg-1' does not exist",
                ),
                Injection::new(
                    "AttachInternetGateway",
                    1,
                    400,
                    "InvalidInternetGatewayID.NotFound",
                    "The internetGateway ID 'igw-1' does not exist",
                ),
                Injection::new(
                    "CreateRoute",
                    1,
                    400,
                    "InvalidRouteTableID.NotFound",
                    "The routeTable ID 'rtb-1' does not exist",
                ),
            ],
            ..Faults::default()
        };
        let reference = Proxy::start(&unique_account()).await;
        up(&reference, "fargate-public").await.assert_success();
        let want = inventory(
            &reference,
            REGION,
            "fargate-public",
            "fargate-public-cluster",
        )
        .await;

        let proxy = Proxy::start_with(&unique_account(), faults).await;
        up(&proxy, "fargate-public").await.assert_success();
        assert_eq!(proxy.faults_injected(), 4);
        for op in [
            "AuthorizeSecurityGroupIngress",
            "AttachInternetGateway",
            "CreateRoute",
        ] {
            assert!(
                proxy.count(op) > reference.count(op),
                "{op} was not sent again after NotFound"
            );
        }
        let got = inventory(&proxy, REGION, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(got, want);
        proxy.clear();
        up(&proxy, "fargate-public").await.assert_success();
        assert_eq!(proxy.writes(), vec![], "not converged");
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
        let inv = inventory(&proxy, REGION, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(inv.get("services"), Some(&2));
    })
    .await;
}

/// A role ECS never manages to assume (a wrong trust policy, not propagation) fails the run
/// once the propagation wait (60 s) is over: the retry has a deadline, and the error names
/// the service and ECS's message.
#[tokio::test]
async fn create_service_gives_up_on_a_role_that_never_becomes_assumable() {
    bounded(240, "role never assumable", async {
        let message = "ECS was unable to assume the role \
            'arn:aws:iam::123456789012:role/x' that was provided for this task.";
        let faults = Faults {
            inject: vec![Injection::new(
                "CreateService",
                1000,
                400,
                "InvalidParameterException",
                message,
            )],
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), faults).await;
        let started = std::time::Instant::now();
        let out = up(&proxy, "fargate-public").await;
        let took = started.elapsed();
        assert_eq!(out.code, Some(1), "{out}");
        assert!(
            out.stderr.contains("creating service.service1")
                && out.stderr.contains("unable to assume the role"),
            "{out}"
        );
        assert!(
            took >= Duration::from_secs(60) && took < Duration::from_secs(120),
            "gave up after {took:?}, not once the 60 s propagation wait was over"
        );
        // Retried on the watching schedule (src/aws/retry.rs: pauses of at most max(2 s, a
        // tenth of the time waited), jittered to half of that): 25 to 35 calls a service in
        // 60 s, never a tight loop.
        let sent = proxy.count("CreateService");
        assert!(
            (4..=80).contains(&sent),
            "{sent} CreateService calls for two services in ~60 s"
        );
        let inv = inventory(&proxy, REGION, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(inv.get("services"), None, "{inv:?}");
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
        let inv = inventory(&proxy, REGION, "fargate-public", "fargate-public-cluster").await;
        assert_eq!(inv.get("services"), Some(&2));
    })
    .await;
}

/// IAM refuses concurrent changes to one role: the first attach and the first inline-policy
/// put answer `ConcurrentModification` (HTTP 409, awsQuery), and `up` sends them again.
#[tokio::test]
async fn iam_concurrent_modification_is_sent_again() {
    bounded(240, "concurrent modification", async {
        let message = "Cannot perform the operation on the role because another operation \
                       is in progress.";
        let faults = Faults {
            inject: vec![
                Injection::new(
                    "AttachRolePolicy",
                    1,
                    409,
                    "ConcurrentModification",
                    message,
                ),
                Injection::new("PutRolePolicy", 1, 409, "ConcurrentModification", message),
            ],
            ..Faults::default()
        };
        // Through the AWS-realism layer too: wordpress's roles meet the rest of AWS's
        // propagation on the way.
        let realism = Some(common::realism::Realism::aws());
        let proxy = Proxy::start_full(&unique_account(), faults, realism).await;
        up(&proxy, "wordpress").await.assert_success();
        assert_eq!(proxy.faults_injected(), 2);
        assert!(proxy.count("AttachRolePolicy") >= 2);
        assert!(proxy.count("PutRolePolicy") >= 2);
    })
    .await;
}
