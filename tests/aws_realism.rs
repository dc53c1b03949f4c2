//! Every example under config/examples/ through the AWS-realism layer (tests/common/realism.rs):
//! propagation windows, preconditions, timelines and throttling as AWS has them, in
//! compressed time. Each must `up` in one run, a second `up` must make zero writes, and
//! `down --delete-data` must leave nothing the app owned. (alb-https-cognito, which needs an
//! existing network and a certificate first, has its own in tests/alb_https_cognito.rs.)
//!
//! The layer's own answers are checked first, so that a layer that stopped acting cannot
//! make these tests pass vacuously.

mod common;

use aws_sdk_ec2::types::ResourceType;
use common::realism::Realism;
use common::{example, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

/// A service's name and the rollout state of its primary deployment, for each service
/// in `cluster`.
async fn services(proxy: &Proxy, cluster: &str) -> Vec<(String, String, String)> {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(proxy, REGION).await);
    // Page by page (the layer answers ListServices a page at a time); DescribeServices takes
    // at most 10 services, a page at most as many.
    let mut pages = ecs
        .list_services()
        .cluster(cluster)
        .max_results(10)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let arns = match page {
            Ok(page) => page.service_arns().to_vec(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                return vec![];
            }
            Err(e) => panic!("{e:?}"),
        };
        if arns.is_empty() {
            continue;
        }
        let out = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(arns))
            .send()
            .await
            .unwrap();
        all.extend(out.services().iter().map(|s| {
            let rollout = s
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.rollout_state())
                .map_or("none", |r| r.as_str());
            (
                s.service_name().unwrap_or_default().to_string(),
                s.status().unwrap_or_default().to_string(),
                rollout.to_string(),
            )
        }));
    }
    all
}

/// What the layer answers on every example's first `up`: the service-linked role, EC2 ids
/// not yet visible, deployments in progress.
const EVERY_FIRST_UP: &[&str] = &[
    "CreateCluster: InvalidParameterException",
    ".NotFound",
    "DescribeServices: timeline",
];

/// `up` in one run, a second `up` with zero writes, `down --delete-data` to nothing.
async fn one_run_then_no_writes_then_nothing(name: &str, cluster: &str, expected: &[&str]) {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let cfg = example(name);
    let cfg = cfg.to_str().unwrap();

    let up = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    up.assert_success();
    let acted = proxy.realism_acted();
    for want in EVERY_FIRST_UP.iter().chain(expected) {
        assert!(
            acted.iter().any(|a| a.contains(want)),
            "{name}: the layer never answered `{want}`: {acted:#?}"
        );
    }
    let deployed = services(&proxy, cluster).await;
    assert!(!deployed.is_empty(), "{name}: no service");
    for (service, status, rollout) in &deployed {
        assert_eq!(status, "ACTIVE", "{name}: {service}");
        assert_eq!(rollout, "COMPLETED", "{name}: {service}");
    }

    proxy.clear();
    let again = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    again.assert_success();
    assert_eq!(proxy.writes(), vec![], "{name}: a second up writes nothing");

    let down = run_async(
        &proxy,
        REGION,
        &["-c", cfg, "down", "--yes", "--delete-data"],
    )
    .await;
    down.assert_success();
    let acted = proxy.realism_acted();
    assert!(
        acted.iter().any(|a| a.ends_with(": DependencyViolation")),
        "{name}: task ENIs lingered after the services were deleted: {acted:#?}"
    );
    let left = services(&proxy, cluster).await;
    assert!(
        left.iter().all(|(_, status, _)| status != "ACTIVE"),
        "{name}: {left:?}"
    );
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&proxy, REGION).await);
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let owned = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.tags().iter().any(|t| t.key() == Some("ecsdeploy:app")))
        .count();
    assert_eq!(owned, 0, "{name}: its VPC is deleted");
}

#[tokio::test]
async fn fargate_public_under_aws_behaviour() {
    one_run_then_no_writes_then_nothing("fargate-public", "fargate-public-cluster", &[]).await;
}

#[tokio::test]
async fn service_connect_under_aws_behaviour() {
    // Its scaling policy meets the target registered a moment ago.
    one_run_then_no_writes_then_nothing(
        "service-connect",
        "ecs-web-app-cluster",
        &["PutScalingPolicy: ObjectNotFoundException"],
    )
    .await;
}

#[tokio::test]
async fn wordpress_under_aws_behaviour() {
    one_run_then_no_writes_then_nothing(
        "wordpress",
        "wordpress",
        &[
            "DescribeDBInstances: timeline",
            "DescribeNatGateways: timeline",
        ],
    )
    .await;
}

#[tokio::test]
async fn django_postgres_under_aws_behaviour() {
    // Its release task (the migrations) runs on the first `up`, and not on the second.
    one_run_then_no_writes_then_nothing(
        "django-postgres",
        "django-postgres-cluster",
        &["DescribeDBInstances: timeline", "RunTask: HTTP 200"],
    )
    .await;
}

#[tokio::test]
async fn dynamodb_webapp_under_aws_behaviour() {
    one_run_then_no_writes_then_nothing(
        "dynamodb-webapp",
        "dynamodb-webapp-cluster",
        &["PutScalingPolicy: ObjectNotFoundException"],
    )
    .await;
}

/// The (code, message) of an AWS error.
fn code(e: &dyn aws_smithy_types::error::metadata::ProvideErrorMetadata) -> (String, String) {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

/// The (code, message) AWS refuses the SDK call `$call` (a future) with; panics when it
/// succeeds.
macro_rules! refused {
    ($call:expr) => {
        code(&$call.await.unwrap_err().into_service_error())
    };
}

/// The layer's refusals, as the SDK sees them: codes and messages as AWS sends them.
#[tokio::test]
async fn the_layer_answers_as_aws_does() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);

    // A VPC created a moment ago is not yet visible to the next call that names it.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = || {
        ec2.create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.9.1.0/24")
            .availability_zone("ap-northeast-1a")
            .send()
    };
    let e = subnet().await.unwrap_err().into_service_error();
    assert_eq!(code(&e).0, "InvalidVpcID.NotFound");
    assert!(code(&e).1.contains(&vpc), "{e:?}");
    let subnet = subnet().await.unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();

    // An internet-facing load balancer in a VPC without an internet gateway.
    let e = elb
        .create_load_balancer()
        .name("no-igw")
        .subnets(&subnet)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "InvalidSubnet");
    assert_eq!(code(&e).1, format!("VPC {vpc} has no internet gateway"));
    let internal = elb
        .create_load_balancer()
        .name("internal")
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .subnets(&subnet)
        .send()
        .await;
    assert!(internal.is_ok(), "{internal:?}");
    let igw = ec2
        .create_internet_gateway()
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(ResourceType::InternetGateway)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap();
    ec2.attach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let lb = elb
        .create_load_balancer()
        .name("public")
        .subnets(&subnet)
        .send()
        .await
        .unwrap();
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let state = elb
        .describe_load_balancers()
        .load_balancer_arns(&lb_arn)
        .send()
        .await
        .unwrap();
    let state = state.load_balancers()[0].state().unwrap().code().unwrap();
    assert_eq!(
        state.as_str(),
        "provisioning",
        "a new load balancer provisions first"
    );

    // An account's first ECS use: the service-linked role is not assumable yet.
    let e = ecs
        .create_cluster()
        .cluster_name("first")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "InvalidParameterException");
    assert!(code(&e).1.contains("service linked role"), "{e:?}");

    // RDS's master password rules, which moto does not check.
    let rds = aws_sdk_rds::Client::new(&conf);
    let db = |password: Option<&str>| {
        rds.create_db_instance()
            .db_instance_identifier("pw")
            .engine("mysql")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .master_username("app")
            .set_master_user_password(password.map(str::to_string))
    };
    let e = db(None).send().await.unwrap_err().into_service_error();
    assert_eq!(code(&e).0, "InvalidParameterValue");
    assert!(code(&e).1.contains("must be provided"), "{e:?}");
    let e = db(Some("has/slash1"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "InvalidParameterValue");
    assert!(code(&e).1.contains("not a valid password"), "{e:?}");
    let e = db(Some("Abcdefgh12"))
        .manage_master_user_password(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "InvalidParameterCombination");
    db(Some("Abcdefgh12")).send().await.unwrap();
    let e = rds
        .modify_db_instance()
        .db_instance_identifier("pw")
        .manage_master_user_password(false)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "InvalidParameterCombination");
}

/// ECS lists come a page at a time (tests/common/pages.rs): one call answers part of them
/// with a `nextToken`, the paginator all of them, in moto's order.
#[tokio::test]
async fn the_layer_answers_ecs_lists_a_page_at_a_time() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    let families = ["paged-a", "paged-b", "paged-c", "paged-d", "paged-e"];
    for f in families {
        let container = aws_sdk_ecs::types::ContainerDefinition::builder()
            .name("c")
            .image("busybox:1.36")
            .memory(128)
            .build();
        let call = ecs.register_task_definition().family(f);
        call.container_definitions(container).send().await.unwrap();
    }
    let list = || ecs.list_task_definition_families().family_prefix("paged-");
    let first = list().send().await.unwrap();
    assert_eq!(first.families(), &families[..2]);
    assert!(first.next_token().is_some());
    let one = list().max_results(1).send().await.unwrap();
    assert_eq!(one.families(), &families[..1]);
    let all: Vec<String> = list()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, families);
}

/// Application Auto Scaling as AWS answers it where moto does not
/// (tests/common/autoscaling.rs): no policy or scheduled action on a target that is not
/// registered, or was registered a moment ago; AWS's capacity checks; a deregistered
/// target takes its policies and scheduled actions with it; deleting what is not there is
/// `ObjectNotFoundException`.
#[tokio::test]
async fn the_layer_answers_application_auto_scaling_as_aws_does() {
    use aws_sdk_applicationautoscaling::types::{
        MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension,
        ScalableTargetAction, ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
    };
    // The service is made through a plain proxy (moto checks that it exists); the
    // autoscaling calls go through the layer, in the same account.
    let account = unique_account();
    let setup = Proxy::start(&account).await;
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&setup, REGION).await);
    ecs.create_cluster()
        .cluster_name("aas")
        .send()
        .await
        .unwrap();
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("web")
        .image("nginx")
        .memory(128)
        .build();
    ecs.register_task_definition()
        .family("aas")
        .container_definitions(container)
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("aas")
        .service_name("web")
        .task_definition("aas")
        .desired_count(1)
        .send()
        .await
        .unwrap();

    let realism = Realism::aws();
    let window = realism.propagation;
    let proxy = Proxy::start_realistic(&account, realism).await;
    let aas = aws_sdk_applicationautoscaling::Client::new(&sdk_config(&proxy, REGION).await);
    let id = "service/aas/web";
    let not_registered = format!(
        "No scalable target registered for service namespace: ecs, resource ID: {id}, \
         scalable dimension: ecs:service:DesiredCount"
    );
    let register = |min: i32, max: i32| {
        aas.register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(min)
            .max_capacity(max)
            .send()
    };
    let policy = || {
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
            .build()
            .unwrap();
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(50.0)
            .predefined_metric_specification(metric)
            .build()
            .unwrap();
        aas.put_scaling_policy()
            .policy_name("cpu")
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
    };
    let scheduled = |name: &str, min: Option<i32>, max: Option<i32>| {
        let action = ScalableTargetAction::builder()
            .set_min_capacity(min)
            .set_max_capacity(max)
            .build();
        aas.put_scheduled_action()
            .scheduled_action_name(name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .schedule("cron(0 22 * * ? *)")
            .scalable_target_action(action)
            .send()
    };

    // No target registered: neither a policy nor a scheduled action.
    assert_eq!(
        refused!(policy()),
        ("ObjectNotFoundException".into(), not_registered.clone())
    );
    assert_eq!(
        refused!(scheduled("night", Some(0), Some(1))),
        ("ObjectNotFoundException".into(), not_registered.clone())
    );

    // A minimum above the maximum.
    let above = "Maximum capacity cannot be less than minimum capacity";
    assert_eq!(
        refused!(register(5, 2)),
        ("ValidationException".into(), above.into())
    );
    register(1, 4).await.unwrap();
    assert_eq!(
        refused!(scheduled("night", Some(3), Some(1))),
        ("ValidationException".into(), above.into())
    );
    assert_eq!(
        refused!(scheduled("night", None, None)),
        (
            "ValidationException".into(),
            "At least one of minimum capacity and maximum capacity should be provided".into()
        )
    );

    // The target registered a moment ago is not visible yet, to either operation; after
    // the window it is.
    assert_eq!(
        refused!(policy()),
        ("ObjectNotFoundException".into(), not_registered.clone())
    );
    assert_eq!(
        refused!(scheduled("night", Some(0), Some(1))),
        ("ObjectNotFoundException".into(), not_registered.clone())
    );
    tokio::time::sleep(window).await;
    policy().await.unwrap();
    scheduled("night", Some(0), Some(1)).await.unwrap();
    scheduled("morning", Some(1), Some(4)).await.unwrap();

    // Deleting what is not there.
    let e = aas
        .delete_scheduled_action()
        .scheduled_action_name("noon")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "ObjectNotFoundException", "{e:?}");
    assert!(code(&e).1.contains("scheduled action name: noon"), "{e:?}");
    aas.delete_scheduled_action()
        .scheduled_action_name("morning")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .unwrap();
    let e = aas
        .delete_scaling_policy()
        .policy_name("memory")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&e).0, "ObjectNotFoundException", "{e:?}");
    assert!(code(&e).1.contains("policy name: memory"), "{e:?}");

    // Deregistering the target deletes its policy and its scheduled action.
    let deregister = || {
        aas.deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
    };
    deregister().await.unwrap();
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policies.scaling_policies(),
        &[],
        "the policy went with its target"
    );
    let actions = aas
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        actions.scheduled_actions(),
        &[],
        "the action went with its target"
    );
    let e = deregister().await.unwrap_err().into_service_error();
    assert_eq!(code(&e).0, "ObjectNotFoundException", "{e:?}");

    // A deregistered target stays unknown, window or not.
    tokio::time::sleep(window).await;
    assert_eq!(
        refused!(policy()),
        ("ObjectNotFoundException".into(), not_registered)
    );
    assert!(
        proxy
            .realism_acted()
            .contains(&"DeregisterScalableTarget: cascade".to_string()),
        "{:#?}",
        proxy.realism_acted()
    );
}

/// Twenty services at `--concurrency 32`: AWS's token buckets throttle the burst
/// (`ThrottlingException`, `RequestLimitExceeded`), and the run still converges in one go.
#[tokio::test]
async fn twenty_services_at_concurrency_32_ride_out_throttling() {
    let mut text = String::from(
        "app = \"twenty\"\nregion = \"ap-northeast-1\"\n\n[network]\nvpc_cidr = \
         \"10.0.0.0/16\"\nazs = [\"ap-northeast-1a\", \"ap-northeast-1c\"]\npublic_subnets = \
         [\"10.0.1.0/24\", \"10.0.2.0/24\"]\n",
    );
    for i in 1..=20 {
        text.push_str(&format!(
            "\n[services.s{i}]\nimage = \"nginx:latest\"\ncpu = 256\nmemory = 512\nports = \
             [80]\nsubnets = \"public\"\nassign_public_ip = true\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let realism = Realism {
        // Half of AWS's buckets (ECS: 25 tokens, 10 a second): the run takes seconds
        // where AWS takes minutes, so its calls come that much closer together.
        throttle_scale: 0.5,
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;

    let up = run_async(&proxy, REGION, &["-c", cfg, "up", "--concurrency", "32"]).await;
    up.assert_success();
    let acted = proxy.realism_acted();
    assert!(
        acted.iter().any(|a| a.ends_with(": ThrottlingException")),
        "the ECS bucket ran dry at least once: {acted:#?}"
    );
    let deployed = services(&proxy, "twenty-cluster").await;
    assert_eq!(deployed.len(), 20, "{deployed:?}");
    assert!(deployed
        .iter()
        .all(|(_, s, r)| s == "ACTIVE" && r == "COMPLETED"));

    proxy.clear();
    let again = run_async(&proxy, REGION, &["-c", cfg, "up", "--concurrency", "32"]).await;
    again.assert_success();
    assert_eq!(proxy.writes(), vec![], "a second up writes nothing");
    run_async(&proxy, REGION, &["-c", cfg, "down", "--yes"])
        .await
        .assert_success();
}

/// The most calls of `operation` whose request body contains `about` that were in flight
/// at once.
fn most_in_flight(proxy: &Proxy, operation: &str, about: &str) -> usize {
    let since = std::time::Instant::now() - std::time::Duration::from_secs(3600);
    let calls = proxy
        .timeline(since)
        .into_iter()
        .filter(|(c, _, _)| c.operation == operation);
    // `bodies` lists the same calls in the same order.
    let mut edges: Vec<(std::time::Duration, i32)> = calls
        .zip(proxy.bodies(operation))
        .filter(|(_, body)| body.contains(about))
        .flat_map(|((_, start, took), _)| [(start, 1), (start + took, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

/// A family with many revisions is deregistered a few calls at a time (src/aws/fanout.rs),
/// not all at once: AWS's token buckets and the SDK's retry quota would run dry.
#[tokio::test]
async fn down_deregisters_many_revisions_a_few_at_a_time() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let cfg = example("fargate-public");
    let cfg = cfg.to_str().unwrap();
    run_async(&proxy, REGION, &["-c", cfg, "up", "--no-wait"])
        .await
        .assert_success();
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    // Forty earlier deploys: revisions carrying the app's tags, as `up` registers them.
    let tags = tags_of(&ecs, "fargate-public-service1").await;
    for _ in 0..40 {
        register(&ecs, "fargate-public-service1", tags.clone()).await;
    }

    proxy.clear();
    run_async(&proxy, REGION, &["-c", cfg, "down", "--yes"])
        .await
        .assert_success();
    let n = proxy.count("DeregisterTaskDefinition");
    assert!(n >= 41, "{n} deregistered; ops {:?}", proxy.operations());
    // One family's revisions (the other family's delete runs beside it).
    let most = most_in_flight(
        &proxy,
        "DeregisterTaskDefinition",
        "fargate-public-service1:",
    );
    assert!((2..=8).contains(&most), "{most} deregistrations at once");
    assert_eq!(
        active(&ecs, "fargate-public-service1").await,
        [] as [String; 0]
    );
}

/// The tags of `family`'s latest revision.
async fn tags_of(ecs: &aws_sdk_ecs::Client, family: &str) -> Vec<aws_sdk_ecs::types::Tag> {
    let current = ecs
        .describe_task_definition()
        .task_definition(family)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    current.tags().to_vec()
}

/// Registers a revision of `family` (one nginx container) with `tags`.
async fn register(ecs: &aws_sdk_ecs::Client, family: &str, tags: Vec<aws_sdk_ecs::types::Tag>) {
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("web")
        .image("nginx:latest")
        .memory(512)
        .build();
    let call = ecs.register_task_definition().family(family);
    let call = call.container_definitions(container).set_tags(Some(tags));
    call.send().await.unwrap();
}

/// The ACTIVE revisions of `family`, from every page.
async fn active(ecs: &aws_sdk_ecs::Client, family: &str) -> Vec<String> {
    let call = ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active);
    call.into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
}

/// The task definitions of a service gone from the config are deleted even when their
/// family comes on a later page of ListTaskDefinitionFamilies than the first (found by the
/// app's prefix; AWS answers 100 families a call, the layer 2).
#[tokio::test]
async fn a_removed_service_s_family_on_a_later_page_is_deregistered() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let cfg = example("fargate-public");
    let cfg = cfg.to_str().unwrap();
    let up = ["-c", cfg, "up", "--no-wait"];
    run_async(&proxy, REGION, &up).await.assert_success();
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    // A family `up` registered for a service the config has since lost: the app's tags
    // with another logical id, listed after the app's two families.
    let tags = tags_of(&ecs, "fargate-public-service1")
        .await
        .into_iter()
        .map(|t| {
            let value = match t.key() {
                Some("ecsdeploy:resource") => Some("task_definition.gone"),
                _ => t.value(),
            };
            let tag = aws_sdk_ecs::types::Tag::builder().set_key(t.key().map(str::to_owned));
            tag.set_value(value.map(str::to_owned)).build()
        });
    register(&ecs, "fargate-public-gone", tags.collect()).await;

    run_async(&proxy, REGION, &up).await.assert_success();
    assert_eq!(active(&ecs, "fargate-public-gone").await, [] as [String; 0]);
    assert!(proxy.count("DeregisterTaskDefinition") >= 1);
}

/// A service whose tasks never start: the circuit breaker fails its deployment, `up`
/// reports it with ECS's reason and exits 1; the other service still deploys.
#[tokio::test]
async fn a_deployment_the_circuit_breaker_fails_fails_the_run() {
    let realism = Realism {
        failing_services: vec!["fargate-public-service1".into()],
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let cfg = example("fargate-public");
    let out = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("service.service1")
            && out
                .stderr
                .contains("circuit breaker: tasks failed to start"),
        "{out}"
    );
    let deployed = services(&proxy, "fargate-public-cluster").await;
    let rollout = |name: &str| {
        deployed
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, r)| r.clone())
    };
    assert_eq!(
        rollout("fargate-public-service1").as_deref(),
        Some("FAILED")
    );
    assert_eq!(
        rollout("fargate-public-service2").as_deref(),
        Some("COMPLETED")
    );
}

/// The DescribeServices calls among `proxy`'s calls so far.
fn describes(proxy: &Proxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeServices")
        .count()
}

/// A run that meets a deployment still in progress (the first `up --no-wait` returned
/// once the services were created) waits for it as for a fresh one, reading only, and
/// reports its success instead of "No changes"; `plan` reports it as not converged.
#[tokio::test]
async fn a_rerun_waits_for_a_deployment_still_in_progress() {
    // Each deployment is IN_PROGRESS in the first 3 answers that show it, whatever the
    // time: the second run's plan and observe are two of them, its wait the third, then
    // it completes.
    let realism = Realism {
        deployment_looks: 3,
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let cfg = example("fargate-public");
    let cfg = cfg.to_str().unwrap();
    let first = run_async(&proxy, REGION, &["-c", cfg, "up", "--no-wait"]).await;
    assert_eq!(first.code, Some(0), "{first}");

    proxy.clear();
    let plan = run_async(&proxy, REGION, &["-c", cfg, "plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(2), "in progress is not converged: {plan}");
    for key in ["service1", "service2"] {
        assert!(
            plan.stdout
                .contains(&format!("… wait service.{key} (fargate-public-{key})")),
            "{plan}"
        );
    }
    assert!(plan.stdout.contains("2 to wait for"), "{plan}");

    proxy.clear();
    let again = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(again.code, Some(0), "{again}");
    assert!(!again.stdout.contains("No changes"), "{again}");
    assert!(again.stderr.contains("rollout IN_PROGRESS"), "{again}");
    for key in ["service1", "service2"] {
        let done = format!("service.{key}: deployment ecs-svc/");
        assert!(
            again
                .stderr
                .lines()
                .any(|l| l.contains(&done) && l.contains(" completed")),
            "{again}"
        );
    }
    // The events of the deployment it waited for, each once (they are newer than it).
    for what in ["has started 1 tasks.", "has reached a steady state."] {
        let line = format!("service.service1: (service fargate-public-service1) {what}");
        assert_eq!(again.stderr.matches(&line).count(), 1, "{what}: {again}");
    }
    assert_eq!(proxy.writes(), vec![], "waiting writes nothing");
    // Observed once, then polled until COMPLETED: more than one look per service.
    assert!(describes(&proxy) >= 3, "{:?}", proxy.calls());
    let deployed = services(&proxy, "fargate-public-cluster").await;
    assert!(
        deployed
            .iter()
            .all(|(_, _, rollout)| rollout == "COMPLETED"),
        "{deployed:?}"
    );

    // Settled: now there is nothing to do.
    proxy.clear();
    let third = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(third.code, Some(0), "{third}");
    assert!(third.stdout.contains("No changes"), "{third}");
    assert_eq!(proxy.writes(), vec![]);
}

/// A run after the circuit breaker failed a deployment, with nothing changed since: `up`
/// fails again with ECS's reason and writes nothing (the same revision would fail the same
/// way); `plan --detailed-exitcode` and `status` report the service as not converged.
#[tokio::test]
async fn a_rerun_after_a_failed_deployment_fails_and_plan_and_status_say_so() {
    let realism = Realism {
        failing_services: vec!["fargate-public-service1".into()],
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let cfg = example("fargate-public");
    let cfg = cfg.to_str().unwrap();
    let first = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(first.code, Some(1), "{first}");

    proxy.clear();
    let again = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(again.code, Some(1), "{again}");
    assert!(!again.stdout.contains("No changes"), "{again}");
    assert!(
        again.stderr.lines().any(|l| l.contains("service.service1")
            && l.contains("circuit breaker: tasks failed to start")),
        "{again}"
    );
    assert!(again.stderr.contains("it was not redeployed"), "{again}");
    assert!(
        !again.stderr.contains("service.service2: FAILED"),
        "{again}"
    );
    assert_eq!(proxy.writes(), vec![], "nothing is redeployed");

    let plan = run_async(&proxy, REGION, &["-c", cfg, "plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(2), "{plan}");
    assert!(
        plan.stdout
            .contains("! failed service.service1 (fargate-public-service1)"),
        "{plan}"
    );
    assert!(plan.stdout.contains("tasks failed to start"), "{plan}");
    assert!(!plan.stdout.contains("service.service2"), "{plan}");
    assert!(plan.stdout.contains("1 failed"), "{plan}");

    let status = run_async(&proxy, REGION, &["-c", cfg, "status"]).await;
    assert_eq!(status.code, Some(0), "{status}");
    let line = status
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("service.service1 "))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(
        line.contains("not converged") && line.contains("tasks failed to start"),
        "{status}"
    );
    let json = run_async(&proxy, REGION, &["-c", cfg, "status", "--output", "json"]).await;
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let converged = |id: &str| {
        doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["converged"].clone())
    };
    assert_eq!(converged("service.service1"), Some(false.into()), "{doc}");
    assert_eq!(converged("service.service2"), Some(true.into()), "{doc}");
    assert_eq!(proxy.writes(), vec![], "plan and status write nothing");
    let deployed = services(&proxy, "fargate-public-cluster").await;
    assert!(
        deployed
            .iter()
            .any(|(n, _, r)| n == "fargate-public-service1" && r == "FAILED"),
        "{deployed:?}"
    );
}

/// Progress during a wait shows only the service events newer than the mutation it
/// follows: the first `up` streams ECS's "has started" and "has reached a steady state"
/// once each; an `up` that then changes the desired count does not replay them.
#[tokio::test]
async fn a_wait_shows_only_events_newer_than_its_mutation() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    std::fs::write(&cfg, &text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let first = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(first.code, Some(0), "{first}");
    let shown = |out: &common::Output, what: &str| {
        out.stderr
            .lines()
            .filter(|l| l.contains("service.service1: (service fargate-public-service1)"))
            .filter(|l| l.contains(what))
            .count()
    };
    assert_eq!(shown(&first, "has started 1 tasks."), 1, "{first}");
    assert_eq!(shown(&first, "has reached a steady state."), 1, "{first}");

    assert!(text.contains("desired_count = 1"));
    std::fs::write(
        dir.path().join("ecsdeploy.toml"),
        text.replacen("desired_count = 1", "desired_count = 2", 1),
    )
    .unwrap();
    let second = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
    assert_eq!(second.code, Some(0), "{second}");
    assert!(
        second.stderr.contains("service.service1: updated"),
        "the wait ran: {second}"
    );
    assert!(
        !second.stderr.contains("(service fargate-public-"),
        "{second}"
    );
}

/// `up --timeline` ends with every step that ran, in start order, each with the step it
/// waited for: a step starts when the dependency named ends, and the service's step lasts
/// at least its deployment (seconds here, as the layer's timeline says).
#[tokio::test]
async fn up_timeline_shows_when_each_step_ran_and_what_it_waited_for() {
    let realism = Realism {
        deployment: std::time::Duration::from_secs(4),
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let cfg = example("fargate-public");
    let cfg = cfg.to_str().unwrap();
    let out = run_async(&proxy, REGION, &["-c", cfg, "up", "--timeline"]).await;
    assert_eq!(out.code, Some(0), "{out}");
    let at = out
        .stdout
        .find("Timeline (after the steps began):\n")
        .unwrap_or_else(|| panic!("no timeline\n{out}"));
    let rows: Vec<Vec<&str>> = out.stdout[at..]
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 17, "one row a step\n{out}");
    let secs = |s: &str| -> f64 {
        match s.split_once('m') {
            Some((m, rest)) => {
                m.parse::<f64>().unwrap() * 60.0
                    + rest.trim_end_matches('s').parse::<f64>().unwrap()
            }
            None => s.trim_end_matches('s').parse().unwrap(),
        }
    };
    let starts: Vec<f64> = rows.iter().map(|r| secs(r[0])).collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "start order\n{out}"
    );
    assert_eq!(rows[0][3], "-", "the first step waited for nothing\n{out}");
    let row = |step: &str| {
        rows.iter()
            .find(|r| r[2] == step)
            .unwrap_or_else(|| panic!("no {step}\n{out}"))
    };
    assert_eq!(row("subnet.public-a")[3], "vpc.main", "{out}");
    for r in rows.iter().filter(|r| r[3] != "-") {
        let gate = row(r[3]);
        let ended = secs(gate[0]) + secs(gate[1]);
        assert!(
            (secs(r[0]) - ended).abs() <= 0.25,
            "{} starts when {} ends\n{out}",
            r[2],
            r[3]
        );
    }
    assert!(secs(row("service.service1")[1]) >= 4.0, "{out}");
}
