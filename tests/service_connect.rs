//! Reference system 3 (`service-connect`) end to end: a Cloud Map namespace, frontend and
//! backend wired with Service Connect, the backend deployed and judged stable before the
//! frontend is created, the security-group chain ALB → frontend → backend, and
//! autoscaling on memory. moto accepts but does not echo Service Connect, ECS Exec and
//! deployment settings, so those are asserted on what the binary sent.

mod common;

use common::{example, owned_by, run_async, sdk_config, tagged, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "ap-northeast-1";
const APP: &str = "ecs-web-app";

/// (index in the call log, parsed body) of each CreateService, keyed by service name.
fn create_service_requests(proxy: &Proxy) -> Vec<(usize, Value)> {
    let positions: Vec<usize> = proxy
        .operations()
        .iter()
        .enumerate()
        .filter(|(_, o)| *o == "CreateService")
        .map(|(i, _)| i)
        .collect();
    positions
        .into_iter()
        .zip(proxy.bodies("CreateService"))
        .map(|(i, b)| (i, serde_json::from_str(&b).expect("JSON body")))
        .collect()
}

fn request_for<'a>(reqs: &'a [(usize, Value)], name: &str) -> &'a (usize, Value) {
    reqs.iter()
        .find(|(_, b)| b["serviceName"] == name)
        .unwrap_or_else(|| panic!("no CreateService for {name}"))
}

#[tokio::test]
async fn backend_first_service_connect_and_autoscaling() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let cfg = example("service-connect");
    let cfg = cfg.to_str().unwrap();

    run_async(&proxy, REGION, &["-c", cfg, "up"])
        .await
        .assert_success();
    let ops = proxy.operations();
    let reqs = create_service_requests(&proxy);
    let (backend_at, backend) = request_for(&reqs, "backend-service");
    let (frontend_at, frontend) = request_for(&reqs, "frontend-service");

    // Order: namespace, then backend created and judged stable, then frontend.
    let namespace_at = proxy
        .position("CreateHttpNamespace")
        .expect("namespace created");
    assert!(namespace_at < *backend_at && namespace_at < *frontend_at);
    assert!(backend_at < frontend_at, "backend before frontend: {ops:?}");
    assert!(
        ops[*backend_at..*frontend_at]
            .iter()
            .any(|o| o == "DescribeServices"),
        "the backend's deployment is checked before the frontend is created: {ops:?}"
    );

    // What was sent: Service Connect, ECS Exec, circuit breaker.
    let sc = &backend["serviceConnectConfiguration"];
    assert_eq!(sc["enabled"], true);
    assert_eq!(sc["services"][0]["portName"], "backend");
    assert_eq!(sc["services"][0]["discoveryName"], "backend-container");
    assert_eq!(sc["services"][0]["clientAliases"][0]["port"], 5000);
    assert_eq!(
        sc["services"][0]["clientAliases"][0]["dnsName"],
        "backend-container.local"
    );
    assert_eq!(
        sc["logConfiguration"]["options"]["awslogs-stream-prefix"],
        "backend-traffic"
    );
    assert_eq!(
        frontend["serviceConnectConfiguration"]["services"][0]["discoveryName"],
        "frontend-container"
    );
    for body in [backend, frontend] {
        assert_eq!(body["enableExecuteCommand"], true);
        assert_eq!(
            body["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"],
            true
        );
    }
    let registered: Vec<Value> = proxy
        .bodies("RegisterTaskDefinition")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let backend_td = registered
        .iter()
        .find(|b| b["family"] == "backend-service")
        .expect("backend task definition");
    let container = &backend_td["containerDefinitions"][0];
    assert_eq!(container["portMappings"][0]["name"], "backend");
    assert_eq!(
        container["healthCheck"]["command"],
        serde_json::json!([
            "CMD-SHELL",
            "curl -f http://localhost:5000/healthcheck || exit 1"
        ])
    );
    assert_eq!(
        (
            container["healthCheck"]["interval"].as_i64(),
            container["healthCheck"]["startPeriod"].as_i64()
        ),
        (Some(30), Some(10))
    );

    // The namespace exists.
    let cloudmap = aws_sdk_servicediscovery::Client::new(&conf);
    let namespaces = cloudmap.list_namespaces().send().await.unwrap();
    assert!(namespaces
        .namespaces()
        .iter()
        .any(|n| n.name() == Some("local")));

    // Security-group chain: ALB → frontend:3000 → backend:5000, by group only.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let group = |id: &'static str| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2
                .describe_security_groups()
                .filters(owned_by(APP))
                .filters(tagged(id))
                .send()
                .await
                .unwrap();
            out.security_groups()[0].clone()
        }
    };
    let (alb, front, back) = (
        group("security_group.alb").await,
        group("security_group.frontend").await,
        group("security_group.backend").await,
    );
    let only_from = |g: &aws_sdk_ec2::types::SecurityGroup, port: i32, source: &str| {
        let p = &g.ip_permissions();
        assert_eq!(p.len(), 1, "{:?}", g.group_name());
        assert_eq!(p[0].from_port(), Some(port));
        assert!(
            p[0].ip_ranges().is_empty(),
            "no CIDR admitted to {:?}",
            g.group_name()
        );
        assert_eq!(p[0].user_id_group_pairs()[0].group_id(), Some(source));
    };
    only_from(&front, 3000, alb.group_id().unwrap());
    only_from(&back, 5000, front.group_id().unwrap());

    // Autoscaling: 1..5 on memory 20 % with 60 s cooldowns, for both services.
    let aas = aws_sdk_applicationautoscaling::Client::new(&conf);
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = targets
        .scalable_targets()
        .iter()
        .map(|t| {
            assert_eq!((t.min_capacity(), t.max_capacity()), (1, 5));
            t.resource_id().to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "service/ecs-web-app-cluster/backend-service",
            "service/ecs-web-app-cluster/frontend-service"
        ]
    );
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    assert_eq!(policies.scaling_policies().len(), 2);
    for p in policies.scaling_policies() {
        let c = p.target_tracking_scaling_policy_configuration().unwrap();
        assert_eq!(c.target_value(), 20.0);
        assert_eq!(
            (c.scale_in_cooldown(), c.scale_out_cooldown()),
            (Some(60), Some(60))
        );
        assert_eq!(
            c.predefined_metric_specification()
                .unwrap()
                .predefined_metric_type()
                .as_str(),
            "ECSServiceAverageMemoryUtilization"
        );
    }

    // Converged: the next up writes nothing.
    proxy.clear();
    run_async(&proxy, REGION, &["-c", cfg, "up"])
        .await
        .assert_success();
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");

    // Down goes in reverse: the frontend first.
    proxy.clear();
    run_async(&proxy, REGION, &["-c", cfg, "down", "--yes"])
        .await
        .assert_success();
    let deletes: Vec<String> = proxy
        .bodies("DeleteService")
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["service"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(deletes, vec!["frontend-service", "backend-service"]);
    let namespaces = cloudmap.list_namespaces().send().await.unwrap();
    assert!(namespaces
        .namespaces()
        .iter()
        .all(|n| n.name() != Some("local")));
}

/// The example with its namespace replaced by an existing one, given by ARN.
fn with_namespace_arn(arn: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(example("service-connect")).unwrap();
    let from = "namespace = \"local\"";
    assert!(text.contains(from));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    let to = format!("namespace = \"{arn}\"\nexisting = true");
    std::fs::write(&path, text.replacen(from, &to, 1)).unwrap();
    (dir, path)
}

#[tokio::test]
async fn a_namespace_given_by_arn_gives_default_dns_names_from_its_name() {
    // The namespace is made through a plain proxy; ecsdeploy runs through the AWS-realism
    // layer, in the same account.
    let account = unique_account();
    let setup = Proxy::start(&account).await;
    let proxy = Proxy::start_realistic(&account, common::realism::Realism::aws()).await;
    let conf = sdk_config(&setup, REGION).await;
    let cloudmap = aws_sdk_servicediscovery::Client::new(&conf);
    cloudmap
        .create_http_namespace()
        .name("shared.local")
        .send()
        .await
        .unwrap();
    let ns = cloudmap.list_namespaces().send().await.unwrap();
    let arn = ns.namespaces()[0].arn().unwrap().to_string();

    // A namespace that is not there: a usage error before anything is written.
    let missing = arn.replace(ns.namespaces()[0].id().unwrap(), "ns-0000000000000000");
    let (_dir, cfg) = with_namespace_arn(&missing);
    let out = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "plan"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("service_connect.namespace: no Cloud Map namespace"),
        "{out}"
    );

    let (_dir, cfg) = with_namespace_arn(&arn);
    run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "up", "--no-wait"],
    )
    .await
    .assert_success();
    assert_eq!(
        proxy.position("CreateHttpNamespace"),
        None,
        "it is not ours"
    );
    let reqs = create_service_requests(&proxy);
    let (_, backend) = request_for(&reqs, "backend-service");
    assert_eq!(
        backend["serviceConnectConfiguration"]["services"][0]["clientAliases"][0]["dnsName"],
        "backend-container.shared.local",
        "<discovery name>.<namespace name>, not the ARN"
    );
}
