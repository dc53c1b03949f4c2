//! `ecsdeploy init --from-service`: a service made the way a console user makes one (a VPC
//! with public and private subnets, an internet-facing load balancer with a target group and
//! a listener, CPU autoscaling, a Secrets Manager secret in the container), read back into a
//! config that `validate` accepts and whose `plan` creates a new deployment beside the old
//! one, in the existing VPC, and nothing of the network. And a service with a UDP sidecar,
//! imported and deployed with `up`: the registered task definition keeps the UDP port; the
//! same service scaled by scheduled actions, deployed through the realism layer: the new
//! service's actions run at the same times with the same ranges.

mod common;

use std::path::Path;

use aws_sdk_ec2::types::{IpPermission, UserIdGroupPair};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, KeyValuePair,
    LaunchType, LoadBalancer, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
    PortMapping, Secret, TransportProtocol,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, ProtocolEnum, RuleCondition, TargetTypeEnum,
};
use common::realism::Realism;
use common::{run_async, scheduled_actions, sdk_config, unique_account, Proxy};

const REGION: &str = "eu-west-1";
const SECRET_VALUE: &str = "s3cr3t-value-never-shown";

struct Console {
    vpc: String,
    public: Vec<String>,
    private: Vec<String>,
    web_sg: String,
    alb_sg: String,
    secret_arn: String,
}

/// What a console user clicks together, through the same API calls.
async fn console_service(proxy: &Proxy) -> Console {
    let conf = sdk_config(proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let aas = aws_sdk_applicationautoscaling::Client::new(&conf);
    let sm = aws_sdk_secretsmanager::Client::new(&conf);
    let account = proxy.account().to_string();

    // The network: a VPC, an internet gateway, public subnets routed to it, private ones.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.30.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let mut subnet = Vec::new();
    for (cidr, az) in [
        ("10.30.0.0/24", "eu-west-1a"),
        ("10.30.1.0/24", "eu-west-1b"),
        ("10.30.8.0/24", "eu-west-1a"),
        ("10.30.9.0/24", "eu-west-1b"),
    ] {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnet.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let (public, private) = (subnet[..2].to_vec(), subnet[2..].to_vec());
    let rt = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap();
    let rt = rt
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.create_route()
        .route_table_id(&rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    for s in &public {
        ec2.associate_route_table()
            .route_table_id(&rt)
            .subnet_id(s)
            .send()
            .await
            .unwrap();
    }

    // Security groups: the load balancer's, and the tasks' admitting it.
    let group = |name: &'static str| {
        let (ec2, vpc) = (ec2.clone(), vpc.clone());
        async move {
            let g = ec2
                .create_security_group()
                .group_name(name)
                .description(name)
                .vpc_id(vpc)
                .send()
                .await
                .unwrap();
            g.group_id().unwrap().to_string()
        }
    };
    let alb_sg = group("shop-alb-sg").await;
    let web_sg = group("shop-web-sg").await;
    ec2.authorize_security_group_ingress()
        .group_id(&web_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&alb_sg).build())
                .build(),
        )
        .send()
        .await
        .unwrap();

    // The load balancer, the service's target group, the listener, and a rule for another
    // service's target group.
    let lb = elb
        .create_load_balancer()
        .name("shop")
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .set_subnets(Some(public.clone()))
        .security_groups(&alb_sg)
        .send()
        .await
        .unwrap();
    let lb = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let target_group = |name: &'static str| {
        let (elb, vpc) = (elb.clone(), vpc.clone());
        async move {
            let tg = elb
                .create_target_group()
                .name(name)
                .protocol(ProtocolEnum::Http)
                .port(8080)
                .vpc_id(vpc)
                .target_type(TargetTypeEnum::Ip)
                .health_check_path("/health")
                .health_check_interval_seconds(20)
                .send()
                .await
                .unwrap();
            tg.target_groups()[0]
                .target_group_arn()
                .unwrap()
                .to_string()
        }
    };
    let tg = target_group("shop-web").await;
    let api_tg = target_group("shop-api").await;
    let forward = |arn: &str| {
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(arn)
            .build()
    };
    let listener = elb
        .create_listener()
        .load_balancer_arn(&lb)
        .port(80)
        .protocol(ProtocolEnum::Http)
        .default_actions(forward(&tg))
        .send()
        .await
        .unwrap();
    let listener = listener.listeners()[0].listener_arn().unwrap().to_string();
    elb.create_rule()
        .listener_arn(&listener)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .values("/api/*")
                .build(),
        )
        .actions(forward(&api_tg))
        .send()
        .await
        .unwrap();

    // The secret, the task definition that injects it, the cluster and the service.
    let secret = sm
        .create_secret()
        .name("shop/db-password")
        .secret_string(SECRET_VALUE)
        .send()
        .await
        .unwrap();
    let secret_arn = secret.arn().unwrap().to_string();
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    // The console creates the log group its task definition names, `/ecs/<family>`.
    aws_sdk_cloudwatchlogs::Client::new(&conf)
        .create_log_group()
        .log_group_name("/ecs/shop-web")
        .send()
        .await
        .unwrap();
    let container = ContainerDefinition::builder()
        .name("web")
        .image("public.ecr.aws/nginx/nginx:1.27")
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(8080)
                .host_port(8080)
                .protocol(TransportProtocol::Tcp)
                .name("http")
                .build(),
        )
        .environment(KeyValuePair::builder().name("MODE").value("prod").build())
        .secrets(
            Secret::builder()
                .name("DB_PASSWORD")
                .value_from(&secret_arn)
                .build()
                .unwrap(),
        )
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/shop-web")
                .options("awslogs-region", REGION)
                .options("awslogs-stream-prefix", "ecs")
                .build()
                .unwrap(),
        )
        .build();
    let td = ecs
        .register_task_definition()
        .family("shop-web")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .execution_role_arn(format!("arn:aws:iam::{account}:role/ecsTaskExecutionRole"))
        .container_definitions(container)
        .send()
        .await
        .unwrap();
    let td = td
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster("prod")
        .service_name("shop-web")
        .task_definition(&td)
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&tg)
                .container_name("web")
                .container_port(8080)
                .build(),
        )
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(private.clone()))
                        .security_groups(&web_sg)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Autoscaling on CPU, as the console's "Service auto scaling" makes it.
    use aws_sdk_applicationautoscaling::types::{
        MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
        TargetTrackingScalingPolicyConfiguration,
    };
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/prod/shop-web")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(6)
        .send()
        .await
        .unwrap();
    aas.put_scaling_policy()
        .policy_name("cpu60")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/prod/shop-web")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(60.0)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                        .build()
                        .unwrap(),
                )
                .scale_in_cooldown(120)
                .scale_out_cooldown(60)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    Console {
        vpc,
        public,
        private,
        web_sg,
        alb_sg,
        secret_arn,
    }
}

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_service_is_imported_and_planned_beside_the_old_one() {
    let proxy = Proxy::start(&unique_account()).await;
    let live = console_service(&proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecsdeploy.toml");

    proxy.clear();
    let init = ecsdeploy(
        &proxy,
        &config,
        &["init", "--from-service", "prod/shop-web"],
    )
    .await;
    init.assert_success();
    // Only reads.
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
    assert!(!init.stdout.contains(SECRET_VALUE) && !init.stderr.contains(SECRET_VALUE));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(SECRET_VALUE));
    assert!(
        !dir.path().join("web.task-definition.json").exists(),
        "one container with TOML keys needs no native file"
    );

    // What cannot be expressed: in the output and at the top of the file.
    let expected = [
        "listener 80 of `shop`: 1 rule(s) that do not forward to the service stay with the old load balancer",
        "container `web` logs to the log group `/ecs/shop-web`",
    ];
    for e in expected {
        assert!(init.stdout.contains(e), "{e} missing\n{init}");
        let flat = text.replace("\n#     ", " ");
        assert!(flat.contains(e), "{e} missing from the file\n{text}");
    }
    assert!(
        init.stdout.contains("Not expressible in ecsdeploy (2;"),
        "{init}"
    );

    // The file reproduces the service in its network.
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let existing = &parsed["network"]["existing"];
    assert_eq!(existing["vpc"].as_str(), Some(live.vpc.as_str()));
    let list = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let mut public = live.public.clone();
    public.sort();
    let mut private = live.private.clone();
    private.sort();
    assert_eq!(list(&existing["public_subnets"]), public);
    assert_eq!(list(&existing["private_subnets"]), private);
    let web = &parsed["services"]["web"];
    assert_eq!(web["subnets"].as_str(), Some("private"));
    assert_eq!(list(&web["security_groups"]), [live.web_sg.as_str()]);
    assert_eq!(
        list(&parsed["load_balancer"]["security_groups"]),
        [live.alb_sg.as_str()]
    );
    assert_eq!(web["autoscaling"]["cpu"].as_integer(), Some(60));
    assert_eq!(web["autoscaling"]["max"].as_integer(), Some(6));
    assert_eq!(
        web["target_group"]["health_check"]["path"].as_str(),
        Some("/health")
    );
    assert_eq!(
        parsed["secrets"]["db-password"]["existing"].as_str(),
        Some(live.secret_arn.as_str())
    );

    // init never overwrites.
    let again = ecsdeploy(
        &proxy,
        &config,
        &["init", "--from-service", "prod/shop-web"],
    )
    .await;
    assert_eq!(again.code, Some(2), "{again}");
    assert!(again.stderr.contains("exists; pass --force"), "{again}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

    ecsdeploy(&proxy, &config, &["validate"])
        .await
        .assert_success();

    // For machines: one document on stdout, the same list.
    let other = dir.path().join("json").join("ecsdeploy.toml");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    let json = ecsdeploy(
        &proxy,
        &other,
        &[
            "init",
            "--from-service",
            "prod/shop-web",
            "--output",
            "json",
        ],
    )
    .await;
    json.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["service_key"], "web");
    assert_eq!(doc["task_definition"], serde_json::Value::Null);
    assert_eq!(
        doc["not_expressible"].as_array().unwrap().len(),
        2,
        "{doc:#}"
    );
    assert!(json.stderr.is_empty(), "{json}");

    // The plan: a new deployment beside the old one, nothing of the network.
    proxy.clear();
    let plan = ecsdeploy(&proxy, &config, &["plan", "--output", "json"]).await;
    plan.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let mut created: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["action"], "create", "{c}");
            c["kind"].as_str().unwrap().to_string()
        })
        .collect();
    created.sort();
    created.dedup();
    assert_eq!(
        created,
        [
            "cluster",
            "iam_role",
            "listener",
            "load_balancer",
            "log_group",
            "scalable_target",
            "scaling_policy",
            "service",
            "target_group",
            "task_definition",
        ],
        "{plan:#}"
    );
    let service = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "service")
        .unwrap();
    assert_eq!(service["name"], "shop-web-web");
    // The live service's log group is not taken over: the new one has a name of its own.
    let group = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "log_group")
        .unwrap();
    assert_eq!(group["name"], "/ecsdeploy/shop-web");
    // The one role created is the task role (the live task had none; the execution role is
    // reused).
    let roles: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "iam_role")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["iam_role.web-task"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_service_is_a_usage_error_that_names_it() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    aws_sdk_ecs::Client::new(&conf)
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecsdeploy.toml");
    let out = ecsdeploy(&proxy, &config, &["init", "--from-service", "prod/nope"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("`nope`") && out.stderr.contains("`prod`"),
        "{out}"
    );
    assert!(!config.exists());
    let bad = ecsdeploy(&proxy, &config, &["init", "--from-service", "nope"]).await;
    assert_eq!(bad.code, Some(2), "{bad}");
    assert!(bad.stderr.contains("CLUSTER/SERVICE"), "{bad}");
}

/// A worker with a DogStatsD agent beside it, as a console user adds one: the agent takes
/// metrics on 8125/udp and traces on 8126/tcp; no load balancer. Private subnets of a VPC,
/// the service's security group, the console's execution role.
async fn service_with_a_udp_sidecar(proxy: &Proxy) {
    let conf = sdk_config(proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.40.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = Vec::new();
    for (cidr, az) in [
        ("10.40.8.0/24", "eu-west-1a"),
        ("10.40.9.0/24", "eu-west-1b"),
    ] {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let sg = ec2
        .create_security_group()
        .group_name("metrics-sg")
        .description("metrics")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let sg = sg.group_id().unwrap().to_string();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = iam
        .create_role()
        .role_name("ecsTaskExecutionRole")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap().arn().to_string();
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let port = |p: i32, protocol: TransportProtocol, name: &str| {
        PortMapping::builder()
            .container_port(p)
            .host_port(p)
            .protocol(protocol)
            .name(name)
            .build()
    };
    let worker = ContainerDefinition::builder()
        .name("worker")
        .image("public.ecr.aws/docker/library/busybox:1.36")
        .essential(true)
        .command("sleep")
        .command("infinity")
        .environment(
            KeyValuePair::builder()
                .name("DD_AGENT_HOST")
                .value("localhost")
                .build(),
        )
        .build();
    let agent = ContainerDefinition::builder()
        .name("datadog-agent")
        .image("public.ecr.aws/datadog/agent:7")
        .essential(false)
        .port_mappings(port(8125, TransportProtocol::Udp, "dogstatsd"))
        .port_mappings(port(8126, TransportProtocol::Tcp, "apm"))
        .build();
    let td = ecs
        .register_task_definition()
        .family("metrics-worker-live")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .execution_role_arn(role)
        .container_definitions(worker)
        .container_definitions(agent)
        .send()
        .await
        .unwrap();
    let td = td
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster("prod")
        .service_name("metrics")
        .task_definition(&td)
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(subnets))
                        .security_groups(&sg)
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// The (container port, protocol) of each of a container's port mappings.
fn mappings(c: &ContainerDefinition) -> Vec<(Option<i32>, Option<&str>)> {
    c.port_mappings()
        .iter()
        .map(|p| (p.container_port(), p.protocol().map(|x| x.as_str())))
        .collect()
}

/// `init --from-service prod/metrics --output json` writing `config`: its JSON answer.
async fn init_metrics(proxy: &Proxy, config: &Path) -> serde_json::Value {
    let init = ecsdeploy(
        proxy,
        config,
        &["init", "--from-service", "prod/metrics", "--output", "json"],
    )
    .await;
    init.assert_success();
    serde_json::from_str(&init.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sidecars_udp_port_survives_init_and_up() {
    let proxy = Proxy::start(&unique_account()).await;
    service_with_a_udp_sidecar(&proxy).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecsdeploy.toml");

    let doc = init_metrics(&proxy, &config).await;
    let (app, key) = (
        doc["app"].as_str().unwrap(),
        doc["service_key"].as_str().unwrap(),
    );
    assert_eq!(key, "worker", "{doc:#}");
    let file = doc["task_definition"].as_str().expect("a native file");
    let native = std::fs::read_to_string(dir.path().join(file)).unwrap();
    assert!(native.contains("\"udp\""), "{native}");
    // Nothing about the port is listed: it is kept.
    let notes = doc["not_expressible"].to_string();
    assert!(!notes.contains("8125"), "{notes}");

    // Deployed, the sidecar still takes its metrics over UDP.
    let up = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    up.assert_success();
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    let td = ecs
        .describe_task_definition()
        .task_definition(format!("{app}-{key}"))
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    let agent = td
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some("datadog-agent"))
        .expect("the sidecar is registered");
    assert_eq!(
        mappings(agent),
        [(Some(8125), Some("udp")), (Some(8126), Some("tcp"))]
    );

    // Read back, the registered definition is the file's: nothing to do.
    proxy.clear();
    ecsdeploy(&proxy, &config, &["up", "--no-wait"])
        .await
        .assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
}

/// The worker service of [`service_with_a_udp_sidecar`], scaled by two scheduled actions
/// alone (no policy), as `aws application-autoscaling put-scheduled-action` makes them:
/// `Weekday_Morning` (a name ecsdeploy does not take) in Paris time, `night` with one
/// bound and no time zone (UTC).
async fn scheduled_worker(proxy: &Proxy) {
    use aws_sdk_applicationautoscaling::types::{
        ScalableDimension, ScalableTargetAction, ServiceNamespace,
    };
    service_with_a_udp_sidecar(proxy).await;
    let aas = aws_sdk_applicationautoscaling::Client::new(&sdk_config(proxy, REGION).await);
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/prod/metrics")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(4)
        .send()
        .await
        .unwrap();
    for (name, schedule, timezone, min, max) in [
        (
            "Weekday_Morning",
            "cron(0 8 ? * MON-FRI *)",
            Some("Europe/Paris"),
            Some(2),
            Some(4),
        ),
        ("night", "cron(0 20 * * ? *)", None, None, Some(1)),
    ] {
        aas.put_scheduled_action()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/prod/metrics")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .scheduled_action_name(name)
            .schedule(schedule)
            .set_timezone(timezone.map(str::to_string))
            .scalable_target_action(
                ScalableTargetAction::builder()
                    .set_min_capacity(min)
                    .set_max_capacity(max)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_actions_become_schedules_the_new_service_runs() {
    // Made through a plain proxy (the fixture's ids are old by the time init reads them);
    // init and up through the realism layer, in the same account.
    let account = unique_account();
    scheduled_worker(&Proxy::start(&account).await).await;
    let proxy = Proxy::start_realistic(&account, Realism::aws()).await;
    let aas = aws_sdk_applicationautoscaling::Client::new(&sdk_config(&proxy, REGION).await);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ecsdeploy.toml");

    let doc = init_metrics(&proxy, &config).await;
    let (app, key) = (
        doc["app"].as_str().unwrap(),
        doc["service_key"].as_str().unwrap(),
    );
    let notes = doc["not_expressible"].to_string();
    assert!(
        notes.contains(&format!(
            "is the schedule `weekday-morning` (a schedule's name is lowercase letters, digits \
             and hyphens): the new service's action is `{app}-{key}-weekday-morning`"
        )),
        "{notes}"
    );
    assert!(!notes.contains("not supported"), "{notes}");

    // The file: the range, no metric, and the two schedules.
    let text = std::fs::read_to_string(&config).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let scaling = parsed["services"][key]["autoscaling"].as_table().unwrap();
    let scalar = |v: &toml::Value| v.to_string();
    let mut keys: Vec<(&str, String)> = scaling
        .iter()
        .filter(|(k, _)| *k != "schedules")
        .map(|(k, v)| (k.as_str(), scalar(v)))
        .collect();
    keys.sort();
    assert_eq!(keys, [("max", "4".into()), ("min", "1".into())], "{text}");
    let schedules = scaling["schedules"].as_table().unwrap();
    let morning = schedules["weekday-morning"].as_table().unwrap();
    assert_eq!(
        morning
            .iter()
            .map(|(k, v)| (k.as_str(), scalar(v)))
            .collect::<Vec<_>>(),
        [
            ("max", "4".into()),
            ("min", "2".into()),
            ("schedule", "\"cron(0 8 ? * MON-FRI *)\"".into()),
            ("timezone", "\"Europe/Paris\"".into()),
        ],
        "{text}"
    );
    let night = schedules["night"].as_table().unwrap();
    assert_eq!(
        night
            .iter()
            .map(|(k, v)| (k.as_str(), scalar(v)))
            .collect::<Vec<_>>(),
        [
            ("max", "1".into()),
            ("schedule", "\"cron(0 20 * * ? *)\"".into()),
        ],
        "{text}"
    );
    assert_eq!(schedules.len(), 2, "{text}");

    // Deployed: the new service's target has the same actions under the new names; the
    // old service's are as they were.
    let old = scheduled_actions(&aas, Some("service/prod/metrics")).await;
    ecsdeploy(&proxy, &config, &["up", "--no-wait"])
        .await
        .assert_success();
    let new_target = format!("service/{app}-cluster/{app}-{key}");
    assert_eq!(
        scheduled_actions(&aas, Some(&new_target)).await,
        [
            (
                format!("{app}-{key}-night"),
                new_target.clone(),
                "cron(0 20 * * ? *)".into(),
                Some("UTC".into()),
                None,
                Some(1)
            ),
            (
                format!("{app}-{key}-weekday-morning"),
                new_target.clone(),
                "cron(0 8 ? * MON-FRI *)".into(),
                Some("Europe/Paris".into()),
                Some(2),
                Some(4)
            ),
        ]
    );
    assert_eq!(
        scheduled_actions(&aas, Some("service/prod/metrics")).await,
        old
    );
    assert_eq!(old.len(), 2);
}
