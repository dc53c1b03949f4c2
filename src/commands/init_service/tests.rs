//! The conversion on services built from the SDK's shapes, as DescribeServices and the
//! other reads answer them: no AWS.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_applicationautoscaling::types as aas;
use aws_sdk_ec2::types as ec2;
use aws_sdk_ecs::types as ecs;
use aws_sdk_elasticloadbalancingv2::types as elb;

use super::*;

mod scheduled_actions;

const TG: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/1";
const OTHER_TG: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/2";
const LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/3";
const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf";

fn container(name: &str, port: i32) -> ecs::builders::ContainerDefinitionBuilder {
    ecs::ContainerDefinition::builder()
        .name(name)
        .image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4")
        .essential(true)
        .port_mappings(
            ecs::PortMapping::builder()
                .container_port(port)
                .host_port(port)
                .protocol(ecs::TransportProtocol::Tcp)
                .name("http")
                .build(),
        )
        .environment(
            ecs::KeyValuePair::builder()
                .name("MODE")
                .value("prod")
                .build(),
        )
        .secrets(
            ecs::Secret::builder()
                .name("DB_PASSWORD")
                .value_from(SECRET)
                .build()
                .unwrap(),
        )
        .log_configuration(
            ecs::LogConfiguration::builder()
                .log_driver(ecs::LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/shop-web")
                .build()
                .unwrap(),
        )
}

fn task_definition(containers: Vec<ecs::ContainerDefinition>) -> ecs::TaskDefinition {
    ecs::TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:7")
        .family("shop-web")
        .cpu("512")
        .memory("1024")
        .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        .task_role_arn("arn:aws:iam::123456789012:role/shop-web-task")
        .runtime_platform(
            ecs::RuntimePlatform::builder()
                .cpu_architecture(ecs::CpuArchitecture::Arm64)
                .build(),
        )
        .set_container_definitions(Some(containers))
        .build()
}

fn service() -> ecs::Service {
    ecs::Service::builder()
        .service_arn("arn:aws:ecs:eu-west-1:123456789012:service/prod/shop-web")
        .service_name("shop-web")
        .cluster_arn("arn:aws:ecs:eu-west-1:123456789012:cluster/prod")
        .status("ACTIVE")
        .desired_count(2)
        .launch_type(ecs::LaunchType::Fargate)
        .task_definition("arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:7")
        .load_balancers(
            ecs::LoadBalancer::builder()
                .target_group_arn(TG)
                .container_name("web")
                .container_port(8080)
                .build(),
        )
        .health_check_grace_period_seconds(90)
        .network_configuration(
            ecs::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    ecs::AwsVpcConfiguration::builder()
                        .subnets("subnet-0cc1")
                        .subnets("subnet-0dd1")
                        .security_groups("sg-0e1")
                        .assign_public_ip(ecs::AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .deployment_configuration(
            ecs::DeploymentConfiguration::builder()
                .minimum_healthy_percent(50)
                .maximum_percent(200)
                .deployment_circuit_breaker(
                    ecs::DeploymentCircuitBreaker::builder()
                        .enable(true)
                        .rollback(true)
                        .build(),
                )
                .build(),
        )
        .deployments(
            ecs::Deployment::builder()
                .status("PRIMARY")
                .service_connect_configuration(
                    ecs::ServiceConnectConfiguration::builder()
                        .enabled(true)
                        .namespace("arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-1")
                        .services(
                            ecs::ServiceConnectService::builder()
                                .port_name("http")
                                .discovery_name("shop-web")
                                .client_aliases(
                                    ecs::ServiceConnectClientAlias::builder()
                                        .port(80)
                                        .dns_name("web.internal")
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build(),
        )
        .capacity_provider_strategy(
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE_SPOT")
                .weight(1)
                .build()
                .unwrap(),
        )
        .build()
}

fn forward(tg: &str) -> elb::Action {
    elb::Action::builder()
        .r#type(elb::ActionTypeEnum::Forward)
        .target_group_arn(tg)
        .build()
}

fn rule(priority: &str, field: &str, value: &str, tg: &str) -> elb::Rule {
    elb::Rule::builder()
        .priority(priority)
        .is_default(false)
        .conditions(
            elb::RuleCondition::builder()
                .field(field)
                .values(value)
                .build(),
        )
        .actions(forward(tg))
        .build()
}

fn route_table(subnets: &[&str], igw: bool) -> ec2::RouteTable {
    let mut b = ec2::RouteTable::builder();
    for s in subnets {
        b = b.associations(ec2::RouteTableAssociation::builder().subnet_id(*s).build());
    }
    if igw {
        b = b.routes(
            ec2::Route::builder()
                .destination_cidr_block("0.0.0.0/0")
                .gateway_id("igw-1")
                .build(),
        );
    }
    b.build()
}

/// A console-made service: private tasks behind an internet-facing ALB with an HTTP → HTTPS
/// redirect, a path rule to the service and one to another service, CPU autoscaling,
/// Service Connect, a secret, and Fargate Spot.
fn live() -> Live {
    let lb = elb::LoadBalancer::builder()
        .load_balancer_arn(LB)
        .load_balancer_name("shop")
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
        .availability_zones(
            elb::AvailabilityZone::builder()
                .subnet_id("subnet-0aa1")
                .build(),
        )
        .availability_zones(
            elb::AvailabilityZone::builder()
                .subnet_id("subnet-0bb1")
                .build(),
        )
        .security_groups("sg-0f1")
        .build();
    let listener = |port: i32, protocol: elb::ProtocolEnum, action: elb::Action| {
        elb::Listener::builder()
            .listener_arn(format!("listener-{port}"))
            .load_balancer_arn(LB)
            .port(port)
            .protocol(protocol)
            .default_actions(action)
            .build()
    };
    let redirect = elb::Action::builder()
        .r#type(elb::ActionTypeEnum::Redirect)
        .redirect_config(
            elb::RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .host("#{host}")
                .path("/#{path}")
                .query("#{query}")
                .status_code(elb::RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build();
    let https = elb::Listener::builder()
        .listener_arn("listener-443")
        .load_balancer_arn(LB)
        .port(443)
        .protocol(elb::ProtocolEnum::Https)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .certificates(
            elb::Certificate::builder()
                .certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/c-1")
                .build(),
        )
        .default_actions(forward(TG))
        .build();
    let mut rules = BTreeMap::new();
    rules.insert(
        "listener-443".to_string(),
        vec![
            rule("5", "path-pattern", "/api/*", OTHER_TG),
            rule("10", "path-pattern", "/shop/*", TG),
        ],
    );
    let mut attributes = BTreeMap::new();
    attributes.insert(
        TG.to_string(),
        BTreeMap::from([
            (
                "deregistration_delay.timeout_seconds".to_string(),
                "120".to_string(),
            ),
            ("stickiness.enabled".to_string(), "true".to_string()),
        ]),
    );
    Live {
        region: "eu-west-1".into(),
        cluster: "prod".into(),
        service: service(),
        task_definition: task_definition(vec![container("web", 8080).build()]),
        target_groups: vec![elb::TargetGroup::builder()
            .target_group_arn(TG)
            .target_group_name("web-tg")
            .protocol(elb::ProtocolEnum::Http)
            .port(8080)
            .health_check_path("/health")
            .health_check_interval_seconds(30)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(5)
            .unhealthy_threshold_count(2)
            .matcher(elb::Matcher::builder().http_code("200-299").build())
            .load_balancer_arns(LB)
            .build()],
        target_group_attributes: attributes,
        load_balancers: vec![lb],
        load_balancer_attributes: BTreeMap::from([(
            LB.to_string(),
            BTreeMap::from([
                (
                    "idle_timeout.timeout_seconds".to_string(),
                    "120".to_string(),
                ),
                (
                    "deletion_protection.enabled".to_string(),
                    "false".to_string(),
                ),
                ("routing.http2.enabled".to_string(), "true".to_string()),
                (
                    "routing.http.drop_invalid_header_fields.enabled".to_string(),
                    "true".to_string(),
                ),
                ("access_logs.s3.bucket".to_string(), "".to_string()),
            ]),
        )]),
        listener_certificates: BTreeMap::from([(
            "listener-443".to_string(),
            vec![
                elb::Certificate::builder()
                    .certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/c-2")
                    .is_default(false)
                    .build(),
                elb::Certificate::builder()
                    .certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/c-1")
                    .is_default(true)
                    .build(),
            ],
        )]),
        listeners: vec![
            listener(80, elb::ProtocolEnum::Http, redirect),
            https,
            listener(9000, elb::ProtocolEnum::Http, forward(OTHER_TG)),
        ],
        rules,
        subnets: vec![ec2::Subnet::builder()
            .subnet_id("subnet-0cc1")
            .vpc_id("vpc-01")
            .build()],
        route_tables: vec![
            route_table(&["subnet-0aa1", "subnet-0bb1"], true),
            route_table(&["subnet-0cc1", "subnet-0dd1"], false),
        ],
        security_groups: vec![ec2::SecurityGroup::builder()
            .group_id("sg-0e1")
            .group_name("shop-web")
            .ip_permissions(
                ec2::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(8080)
                    .to_port(8080)
                    .user_id_group_pairs(ec2::UserIdGroupPair::builder().group_id("sg-0f1").build())
                    .build(),
            )
            .build()],
        scalable_target: Some(
            aas::ScalableTarget::builder()
                .service_namespace(aas::ServiceNamespace::Ecs)
                .resource_id("service/prod/shop-web")
                .scalable_dimension(aas::ScalableDimension::EcsServiceDesiredCount)
                .min_capacity(2)
                .max_capacity(8)
                .role_arn("arn:aws:iam::123456789012:role/aas")
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap(),
        ),
        scaling_policies: vec![aas::ScalingPolicy::builder()
            .policy_arn("arn:policy")
            .policy_name("cpu70")
            .service_namespace(aas::ServiceNamespace::Ecs)
            .resource_id("service/prod/shop-web")
            .scalable_dimension(aas::ScalableDimension::EcsServiceDesiredCount)
            .policy_type(aas::PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(
                aas::TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(70.0)
                    .predefined_metric_specification(
                        aas::PredefinedMetricSpecification::builder()
                            .predefined_metric_type(
                                aas::MetricType::EcsServiceAverageCpuUtilization,
                            )
                            .build()
                            .unwrap(),
                    )
                    .scale_in_cooldown(120)
                    .build()
                    .unwrap(),
            )
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()],
        scheduled_actions: Vec::new(),
    }
}

/// 2026-06-01T00:00:00Z: the conversion's "now".
const NOW_SECS: u64 = 1_780_272_000;

fn options() -> Options {
    Options {
        source: "prod/shop-web".into(),
        app: None,
        task_definition_file: TASK_DEFINITION_FILE.into(),
        now: std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW_SECS),
    }
}

/// Load the conversion's files from a scratch directory, as `validate` would.
fn load(c: &Conversion) -> crate::config::Loaded {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, &c.config).unwrap();
    if let Some((name, text)) = &c.task_definition {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    crate::config::load_file(&path).unwrap_or_else(|e| panic!("{e}\n{}", c.config))
}

#[test]
fn a_console_service_becomes_a_config_in_its_network() {
    let c = convert(&live(), &options());
    assert!(c.task_definition.is_none(), "{:?}", c.task_definition);
    let loaded = load(&c);
    let cfg = &loaded.config;
    assert_eq!(cfg.app, "shop-web");
    assert_eq!(cfg.region.as_deref(), Some("eu-west-1"));
    let net = cfg.network.existing.as_ref().unwrap();
    assert_eq!(net.vpc, "vpc-01");
    assert_eq!(net.public_subnets, ["subnet-0aa1", "subnet-0bb1"]);
    assert_eq!(net.private_subnets, ["subnet-0cc1", "subnet-0dd1"]);
    assert_eq!(
        cfg.iam.execution_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
    );
    let web = &cfg.services["web"];
    assert_eq!((web.cpu, web.memory), (512, Some(1024)));
    assert_eq!(web.cpu_architecture, crate::config::CpuArchitecture::Arm64);
    assert_eq!(web.ports, [8080]);
    assert_eq!(web.desired_count, 2);
    assert_eq!(web.subnets, crate::config::SubnetKind::Private);
    assert_eq!(web.security_groups, ["sg-0e1"]);
    assert_eq!(web.environment["MODE"], "prod");
    assert_eq!(web.deployment.minimum_healthy_percent, 50);
    let tg = web.target_group.as_ref().unwrap();
    assert_eq!(
        (
            tg.port,
            tg.deregistration_delay,
            tg.health_check_grace_period
        ),
        (8080, 120, 90)
    );
    assert_eq!(tg.health_check.path, "/health");
    assert_eq!(tg.health_check.matcher, "200-299");
    let a = web.autoscaling.as_ref().unwrap();
    assert_eq!(
        (
            a.min,
            a.max,
            a.cpu,
            a.scale_in_cooldown,
            a.scale_out_cooldown
        ),
        (2, 8, Some(70.0), 120, 300)
    );
    // The secret: an existing one the service uses, by ARN.
    assert_eq!(cfg.secrets["db-password"].existing.as_deref(), Some(SECRET));
    assert_eq!(web.uses.len(), 1);
    // Service Connect with the live namespace.
    let sc = cfg.service_connect.as_ref().unwrap();
    assert!(sc.existing);
    let publish = &web.connect.as_ref().unwrap().publish[0];
    assert_eq!(publish.port, 8080);
    assert_eq!(publish.discovery_name.as_deref(), Some("shop-web"));
    assert_eq!(publish.client_port, Some(80));
    // The load balancer: the redirect and the HTTPS listener with the service's rule; the
    // other service's rule and listener stay behind.
    let lb = cfg.load_balancer.as_ref().unwrap();
    assert_eq!(lb.security_groups, ["sg-0f1"]);
    assert_eq!(lb.idle_timeout, 120);
    assert!(!lb.deletion_protection);
    assert_eq!(
        lb.attributes.iter().collect::<Vec<_>>(),
        [(
            &"routing.http.drop_invalid_header_fields.enabled".to_string(),
            &"true".to_string()
        )]
    );
    // The default certificate first, then the SNI one.
    assert_eq!(
        lb.listeners[1].certificates,
        [
            "arn:aws:acm:eu-west-1:123456789012:certificate/c-1",
            "arn:aws:acm:eu-west-1:123456789012:certificate/c-2"
        ]
    );
    let ports: Vec<u16> = lb.listeners.iter().map(|l| l.port).collect();
    assert_eq!(ports, [80, 443]);
    assert_eq!(lb.listeners[0].redirect_https_port, Some(443));
    assert_eq!(lb.listeners[1].service.as_deref(), Some("web"));
    assert_eq!(lb.listeners[1].rules.len(), 1);
    assert_eq!(lb.listeners[1].rules[0].paths, ["/shop/*"]);
    assert_eq!(lb.listeners[1].rules[0].priority, Some(10));

    let notes = c.not_expressible.join("\n");
    // All on Fargate Spot: expressible now.
    assert!(
        c.config
            .contains("capacity = { spot = 100, on_demand_base = 0 }"),
        "{}",
        c.config
    );
    for expected in [
        "stickiness.enabled",
        "listener 443 of `shop`: 1 rule(s) that do not forward to the service",
        "listener 9000 of `shop` (HTTP) does not forward to the service",
        "logs to the log group `/ecs/shop-web`",
    ] {
        assert!(
            notes.contains(expected),
            "{expected} missing from:\n{notes}"
        );
    }
    assert_eq!(c.not_expressible.len(), 4, "{notes}");
    // The list is at the top of the file too.
    let top: String = c.config.lines().take(30).collect::<Vec<_>>().join("\n");
    assert!(top.contains("Not expressible in ecsdeploy (4)"), "{top}");
    assert!(top.contains("stickiness.enabled"), "{top}");
}

#[test]
fn a_task_the_toml_keys_cannot_hold_gets_a_native_file() {
    let mut l = live();
    let main = container("web", 8080)
        .entry_point("/entry.sh")
        .secrets(
            ecs::Secret::builder()
                .name("API_KEY")
                .value_from("arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-key")
                .build()
                .unwrap(),
        )
        .mount_points(
            ecs::MountPoint::builder()
                .source_volume("data")
                .container_path("/data")
                .build(),
        )
        .build();
    let sidecar = ecs::ContainerDefinition::builder()
        .name("otel")
        .image("public.ecr.aws/aws-observability/aws-otel-collector:latest")
        .essential(false)
        .build();
    // The load balancer's container is not the first one.
    l.task_definition = task_definition(vec![sidecar, main]);
    let c = convert(&l, &options());
    let (name, text) = c.task_definition.as_ref().expect("a native file");
    assert_eq!(name, "web.task-definition.json");
    let parsed = crate::config::native::parse(text);
    assert!(parsed.errors.is_empty(), "{:?}\n{text}", parsed.errors);
    let def = parsed.def.unwrap();
    assert_eq!(
        def.container_definitions[0].name, "web",
        "main container first"
    );
    assert_eq!(def.container_definitions[0].secrets.len(), 2);
    assert!(c
        .config
        .contains("task_definition = \"web.task-definition.json\""));
    assert!(
        c.config.contains("needed for: 2 containers"),
        "{}",
        c.config
    );
    // The secrets stay in the file (the reused execution role reads them): no `uses`.
    let loaded = load(&c);
    assert!(loaded.config.services["web"].uses.is_empty());
    assert!(loaded.config.secrets.is_empty());
    let notes = c.not_expressible.join("\n");
    // A mount of a volume the task does not have: the reader refuses it, so it is listed.
    assert!(notes.contains("`data` is not a volume"), "{notes}");
    assert!(notes.contains("`mountPoints` are dropped"), "{notes}");

    // With the EFS volume it mounts, both are carried into the file.
    let mut td = l.task_definition.clone();
    td = ecs::TaskDefinition::builder()
        .set_container_definitions(Some(td.container_definitions().to_vec()))
        .cpu("512")
        .memory("1024")
        .volumes(
            ecs::Volume::builder()
                .name("data")
                .efs_volume_configuration(
                    ecs::EfsVolumeConfiguration::builder()
                        .file_system_id("fs-0123abcd")
                        .transit_encryption(ecs::EfsTransitEncryption::Enabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build();
    l.task_definition = td;
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().unwrap();
    assert!(
        text.contains("fs-0123abcd") && text.contains("\"mountPoints\""),
        "{text}"
    );
    assert!(!c.not_expressible.join("\n").contains("mountPoints"));
    load(&c);
}

#[test]
fn a_plain_public_service_has_nothing_to_list() {
    let mut l = live();
    let mut svc = ecs::Service::builder()
        .service_arn("arn:aws:ecs:eu-west-1:123456789012:service/prod/hello")
        .service_name("hello")
        .desired_count(1)
        .network_configuration(
            ecs::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    ecs::AwsVpcConfiguration::builder()
                        .subnets("subnet-0aa1")
                        .assign_public_ip(ecs::AssignPublicIp::Enabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        );
    svc = svc.launch_type(ecs::LaunchType::Fargate);
    l.service = svc.build();
    l.task_definition = ecs::TaskDefinition::builder()
        .cpu("256")
        .memory("512")
        .container_definitions(
            ecs::ContainerDefinition::builder()
                .name("hello")
                .image("nginx:1.27")
                .command("nginx")
                .build(),
        )
        .build();
    l.scalable_target = None;
    l.scaling_policies.clear();
    let c = convert(&l, &options());
    assert!(c.not_expressible.is_empty(), "{:?}", c.not_expressible);
    assert!(c
        .config
        .contains("# Everything the live service has is expressed below."));
    let loaded = load(&c);
    let s = &loaded.config.services["hello"];
    assert_eq!(s.subnets, crate::config::SubnetKind::Public);
    assert!(s.target_group.is_none() && s.security_groups.is_empty());
    assert!(loaded.config.load_balancer.is_none());
    assert_eq!(s.command.as_deref(), Some(&["nginx".to_string()][..]));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// A step-scaling policy `steps` on the live service's target: one ecsdeploy cannot express.
fn step_policy() -> aas::ScalingPolicy {
    aas::ScalingPolicy::builder()
        .policy_arn("arn:p")
        .policy_name("steps")
        .service_namespace(aas::ServiceNamespace::Ecs)
        .resource_id("service/prod/shop-web")
        .scalable_dimension(aas::ScalableDimension::EcsServiceDesiredCount)
        .policy_type(aas::PolicyType::StepScaling)
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap()
}

#[test]
fn autoscaling_without_an_expressible_policy_is_listed() {
    let mut l = live();
    l.scaling_policies = vec![step_policy()];
    let c = convert(&l, &options());
    let notes = c.not_expressible.join("\n");
    assert!(
        notes.contains("scaling policy `steps` (StepScaling)"),
        "{notes}"
    );
    assert!(
        notes.contains("autoscaling between 2 and 8 tasks"),
        "{notes}"
    );
    assert!(load(&c).config.services["web"].autoscaling.is_none());
}

#[test]
fn names_and_sources() {
    assert_eq!(key_from("Web_Server"), "web-server");
    assert_eq!(key_from("1st"), "st");
    assert_eq!(key_from("__"), "web");
    assert_eq!(
        parse_source("prod/web").unwrap(),
        ("prod".to_string(), "web".to_string())
    );
    for bad in ["prod", "/web", "prod/", "a/b/c"] {
        assert!(parse_source(bad).is_err(), "{bad}");
    }
    assert!(containers::whole_secret(SECRET));
    assert!(!containers::whole_secret(&format!("{SECRET}:password::")));
    assert!(!containers::whole_secret("/shop/api-key"));
    let _ = Path::new("");
}

#[test]
fn a_task_without_a_fargate_size_is_listed() {
    let mut l = live();
    l.task_definition = ecs::TaskDefinition::builder()
        .container_definitions(container("web", 8080).build())
        .build();
    let c = convert(&l, &options());
    let notes = c.not_expressible.join("\n");
    assert!(notes.contains("no task-level cpu and memory"), "{notes}");
    let web = &load(&c).config.services["web"];
    assert_eq!((web.cpu, web.memory_mib()), (256, 512));
}

#[test]
fn names_the_live_service_holds_are_not_derived_again() {
    let mut l = live();
    l.cluster = "shop-cluster".into();
    let mut lb = elb::LoadBalancer::builder()
        .load_balancer_arn(LB)
        .load_balancer_name("shop")
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
        .security_groups("sg-0f1");
    for s in ["subnet-0aa1", "subnet-0bb1"] {
        lb = lb.availability_zones(elb::AvailabilityZone::builder().subnet_id(s).build());
    }
    l.load_balancers = vec![lb.build()];
    l.task_definition = task_definition(vec![container("web", 8080)
        .log_configuration(
            ecs::LogConfiguration::builder()
                .log_driver(ecs::LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/shop")
                .build()
                .unwrap(),
        )
        .build()]);
    let mut o = options();
    o.app = Some("shop".into());
    let c = convert(&l, &o);
    let cfg = load(&c).config;
    assert_eq!(cfg.cluster_name(), "shop-ecsdeploy");
    assert_eq!(cfg.logs.group.as_deref(), Some("/ecsdeploy/shop"));
    assert_eq!(
        cfg.load_balancer.unwrap().name.as_deref(),
        Some("shop-ecsdeploy")
    );
    // The live family is `shop-web` (the task definition's), which `<app>-<key>` would be.
    assert_eq!(
        cfg.services["web"].name.as_deref(),
        Some("shop-web-ecsdeploy")
    );
}

const REGISTRY: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-QwErTy";
const DD_KEY: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-AbC123";
const GMSA: &str = "credentialspecdomainless:arn:aws:s3:::shop-gmsa/web-credspec.json";

/// A FireLens log router and a container that uses the keys ecsdeploy's native reader
/// registers: system controls, an env file, registry credentials, a restart policy, a
/// terminal, the awsfirelens log driver and a port range; `pidMode` `task`.
fn firelens_task() -> (
    ecs::builders::ContainerDefinitionBuilder,
    ecs::builders::ContainerDefinitionBuilder,
) {
    let router = ecs::ContainerDefinition::builder()
        .name("log_router")
        .image("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable")
        .essential(true)
        .firelens_configuration(
            ecs::FirelensConfiguration::builder()
                .r#type(ecs::FirelensConfigurationType::Fluentbit)
                .options("enable-ecs-log-metadata", "true")
                .options("config-file-type", "file")
                .options("config-file-value", "/fluent-bit/configs/parse-json.conf")
                .build()
                .unwrap(),
        );
    let web = container("web", 8080)
        .port_mappings(
            ecs::PortMapping::builder()
                .container_port_range("9000-9010")
                .protocol(ecs::TransportProtocol::Udp)
                .build(),
        )
        .system_controls(
            ecs::SystemControl::builder()
                .namespace("net.core.somaxconn")
                .value("1024")
                .build(),
        )
        .environment_files(
            ecs::EnvironmentFile::builder()
                .value("arn:aws:s3:::shop-config/prod/web.env")
                .r#type(ecs::EnvironmentFileType::S3)
                .build()
                .unwrap(),
        )
        .repository_credentials(
            ecs::RepositoryCredentials::builder()
                .credentials_parameter(REGISTRY)
                .build()
                .unwrap(),
        )
        .credential_specs(GMSA)
        .restart_policy(
            ecs::ContainerRestartPolicy::builder()
                .enabled(true)
                .ignored_exit_codes(0)
                .restart_attempt_period(120)
                .build()
                .unwrap(),
        )
        .interactive(true)
        .pseudo_terminal(true)
        .log_configuration(
            ecs::LogConfiguration::builder()
                .log_driver(ecs::LogDriver::Awsfirelens)
                .options("Name", "datadog")
                .options("dd_service", "shop-web")
                .secret_options(
                    ecs::Secret::builder()
                        .name("apikey")
                        .value_from(DD_KEY)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        );
    (router, web)
}

fn with_pid_mode(td: ecs::TaskDefinition, pid: ecs::PidMode) -> ecs::TaskDefinition {
    ecs::TaskDefinition::builder()
        .set_container_definitions(Some(td.container_definitions().to_vec()))
        // A gMSA CredSpec needs the service's own execution role, which init keeps.
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
        .cpu("512")
        .memory("1024")
        .pid_mode(pid)
        .build()
}

#[test]
fn keys_the_native_reader_registers_are_carried_into_the_file() {
    let mut l = live();
    let (router, web) = firelens_task();
    l.task_definition = with_pid_mode(
        task_definition(vec![router.build(), web.build()]),
        ecs::PidMode::Task,
    );
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    let parsed = crate::config::native::parse(text);
    assert!(parsed.errors.is_empty(), "{:?}\n{text}", parsed.errors);
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(file["pidMode"], "task", "{text}");
    let web = &file["containerDefinitions"][0];
    assert_eq!(web["name"], "web", "{text}");
    let want = serde_json::json!({
        "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
        "environmentFiles": [{"value": "arn:aws:s3:::shop-config/prod/web.env", "type": "s3"}],
        "repositoryCredentials": {"credentialsParameter": REGISTRY},
        "credentialSpecs": [GMSA],
        "restartPolicy": {"enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 120},
        "interactive": true,
        "pseudoTerminal": true,
        "logConfiguration": {
            "logDriver": "awsfirelens",
            "options": {"Name": "datadog", "dd_service": "shop-web"},
            "secretOptions": [{"name": "apikey", "valueFrom": DD_KEY}]
        },
        "portMappings": [
            {"containerPort": 8080, "protocol": "tcp", "name": "http"},
            {"containerPortRange": "9000-9010", "protocol": "udp"}
        ]
    });
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&web[k], v, "{k}: {text}");
    }
    let router = &file["containerDefinitions"][1];
    assert_eq!(
        router["firelensConfiguration"],
        serde_json::json!({"type": "fluentbit", "options": {
            "config-file-type": "file",
            "config-file-value": "/fluent-bit/configs/parse-json.conf",
            "enable-ecs-log-metadata": "true"
        }}),
        "{text}"
    );
    // The router's own awslogs configuration stays ecsdeploy's.
    assert!(router.get("logConfiguration").is_none(), "{text}");
    let def = parsed.def.unwrap();
    assert_eq!(def.pid_mode.as_deref(), Some("task"));
    let log = def.container_definitions[0]
        .firelens_log()
        .unwrap()
        .unwrap();
    assert_eq!(log.secret_options[0].value_from, DD_KEY);

    let notes = c.not_expressible.join("\n");
    for key in [
        "systemControls",
        "environmentFiles",
        "firelensConfiguration",
        "repositoryCredentials",
        "credentialSpecs",
        "restartPolicy",
        "interactive",
        "pseudoTerminal",
        "pidMode",
        "containerPortRange",
    ] {
        assert!(!notes.contains(key), "{key}: {notes}");
    }
    assert!(!notes.contains("dropped"), "{notes}");
    assert!(
        notes.contains("`web` uses the log driver `awsfirelens`: its logConfiguration"),
        "{notes}"
    );
    assert!(notes.contains("kept as written"), "{notes}");
    for reason in [
        "pidMode",
        "systemControls",
        "environmentFiles",
        "repositoryCredentials",
        "credentialSpecs",
        "firelensConfiguration",
        "the awsfirelens log driver",
        "restartPolicy",
        "interactive/pseudoTerminal",
        "containerPortRange",
    ] {
        assert!(c.config.contains(reason), "{reason}: {}", c.config);
    }
    load(&c);

    // One container alone: each key is a reason for the native file.
    let (_, web) = firelens_task();
    let single = ecs::ContainerDefinition::builder()
        .name("web")
        .image("x")
        .set_system_controls(Some(web.build().system_controls().to_vec()))
        .build();
    l.task_definition = task_definition(vec![single]);
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    assert!(text.contains("net.core.somaxconn"), "{text}");
    assert!(
        c.config.contains("needed for: systemControls"),
        "{}",
        c.config
    );
}

#[test]
fn what_the_native_reader_refuses_is_still_listed() {
    let mut l = live();
    let (router, web) = firelens_task();
    // A FireLens type ECS does not take, a file that is not a `.env`, and `pidMode` `host`.
    let router = router
        .firelens_configuration(
            ecs::FirelensConfiguration::builder()
                .r#type(ecs::FirelensConfigurationType::from("logstash"))
                .build()
                .unwrap(),
        )
        .build();
    let web = web
        .environment_files(
            ecs::EnvironmentFile::builder()
                .value("arn:aws:s3:::shop-config/prod/web.txt")
                .r#type(ecs::EnvironmentFileType::S3)
                .build()
                .unwrap(),
        )
        .hostname("web")
        // Domain-joined gMSA, which Fargate does not take (and a second CredSpec).
        .credential_specs("credentialspec:arn:aws:s3:::gmsa-specs/web.json")
        // Overlaps the container's port 8080: only this mapping is left out.
        .port_mappings(
            ecs::PortMapping::builder()
                .container_port_range("8070-8090")
                .build(),
        )
        .build();
    l.task_definition = with_pid_mode(task_definition(vec![router, web]), ecs::PidMode::Host);
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    let parsed = crate::config::native::parse(text);
    assert!(parsed.errors.is_empty(), "{:?}\n{text}", parsed.errors);
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    assert!(file.get("pidMode").is_none(), "{text}");
    let web = &file["containerDefinitions"][0];
    // What the reader refuses is left out; the rest of the container stays.
    for gone in ["environmentFiles", "logConfiguration", "credentialSpecs"] {
        assert!(web.get(gone).is_none(), "{gone}: {text}");
    }
    assert!(file["containerDefinitions"][1]
        .get("firelensConfiguration")
        .is_none());
    assert_eq!(
        web["repositoryCredentials"]["credentialsParameter"],
        REGISTRY
    );
    assert_eq!(web["systemControls"][0]["value"], "1024");
    assert_eq!(web["portMappings"][1]["containerPortRange"], "9000-9010");
    assert_eq!(web["portMappings"].as_array().unwrap().len(), 2, "{text}");
    let notes = c.not_expressible.join("\n");
    for want in [
        "`pidMode`: `host` is dropped (Fargate takes only `task`)",
        "`web` `hostname`: not supported by ecsdeploy; dropped",
        "firelensConfiguration.type` is `logstash`",
        "the file must have the `.env` extension",
        "logConfiguration.logDriver` is `awsfirelens`, but no container",
        "`containerDefinitions[0].portMappings[2]` overlaps `portMappings[0]`",
        "credentialSpecs[1]`: `credentialspec:` is domain-joined gMSA",
        "`containerPortRange`, `credentialSpecs`, `environmentFiles`, `firelensConfiguration`, \
         `logConfiguration` are dropped",
    ] {
        assert!(notes.contains(want), "{want}: {notes}");
    }
    load(&c);

    // awsfirelens without a log router in the task: ecsdeploy's awslogs, listed.
    let (_, web) = firelens_task();
    l.task_definition = task_definition(vec![web.build()]);
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    assert!(!text.contains("awsfirelens"), "{text}");
    assert!(
        crate::config::native::parse(text).errors.is_empty(),
        "{text}"
    );
    let notes = c.not_expressible.join("\n");
    assert!(
        notes.contains("no container of the task is a FireLens log router"),
        "{notes}"
    );
}

/// A sidecar's port on `protocol`, as a DogStatsD agent or a DNS sidecar maps it.
fn port(p: i32, protocol: ecs::TransportProtocol, name: &str) -> ecs::PortMapping {
    ecs::PortMapping::builder()
        .container_port(p)
        .host_port(p)
        .protocol(protocol)
        .name(name)
        .build()
}

/// The port mappings the desired task definition registers for `container`, as
/// `(container port, protocol)`.
fn registered_ports(c: &Conversion, container: &str) -> Vec<(u16, String)> {
    let loaded = load(c);
    let env = crate::desired::Env {
        region: "eu-west-1".into(),
        ..Default::default()
    };
    let resources = crate::desired::build(&loaded.config, &env);
    let td = resources
        .iter()
        .find_map(|r| match &r.spec {
            crate::desired::Spec::TaskDefinition(td) => Some(td),
            _ => None,
        })
        .expect("a task definition");
    let ct = td
        .containers
        .iter()
        .find(|x| x.name == container)
        .unwrap_or_else(|| panic!("no container `{container}`"));
    ct.ports
        .iter()
        .map(|p| {
            let protocol = ct.extra.protocols.get(p).map_or("tcp", String::as_str);
            (*p, protocol.to_string())
        })
        .collect()
}

#[test]
fn udp_ports_are_kept_in_the_native_file_and_registered() {
    let mut l = live();
    // A DogStatsD agent beside the app: metrics on 8125/udp, traces on 8126/tcp.
    let agent = ecs::ContainerDefinition::builder()
        .name("datadog-agent")
        .image("public.ecr.aws/datadog/agent:7")
        .essential(false)
        .port_mappings(port(8125, ecs::TransportProtocol::Udp, "dogstatsd"))
        .port_mappings(port(8126, ecs::TransportProtocol::Tcp, "apm"))
        .build();
    l.task_definition = task_definition(vec![container("web", 8080).build(), agent]);
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        file["containerDefinitions"][1]["portMappings"],
        serde_json::json!([
            {"containerPort": 8125, "protocol": "udp", "name": "dogstatsd"},
            {"containerPort": 8126, "protocol": "tcp", "name": "apm"}
        ]),
        "{text}"
    );
    let notes = c.not_expressible.join("\n");
    assert!(!notes.contains("8125"), "{notes}");
    assert_eq!(
        registered_ports(&c, "datadog-agent"),
        [(8125, "udp".to_string()), (8126, "tcp".to_string())]
    );

    // The main container's UDP port: the TOML `ports` are TCP ports, so the native file
    // holds it, and it is registered, not dropped.
    let web = container("web", 8080)
        .port_mappings(port(8125, ecs::TransportProtocol::Udp, "statsd"))
        .build();
    l.task_definition = task_definition(vec![web]);
    let c = convert(&l, &options());
    let (_, text) = c
        .task_definition
        .as_ref()
        .expect("a native file for the UDP port");
    assert!(c.config.contains("needed for: a UDP port"), "{}", c.config);
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        file["containerDefinitions"][0]["portMappings"][1],
        serde_json::json!({"containerPort": 8125, "protocol": "udp", "name": "statsd"}),
        "{text}"
    );
    let notes = c.not_expressible.join("\n");
    assert!(!notes.contains("8125"), "{notes}");
    assert_eq!(
        registered_ports(&c, "web"),
        [(8080, "tcp".to_string()), (8125, "udp".to_string())]
    );
    // The load balancer still addresses the TCP port.
    assert!(c.config.contains("port = 8080"), "{}", c.config);
}

#[test]
fn a_port_on_both_protocols_keeps_one_mapping_and_says_so() {
    let mut l = live();
    // A DNS sidecar and a main container that map one port on UDP and on TCP: ecsdeploy
    // registers a container port once, so the second mapping is left out and listed.
    let dns = ecs::ContainerDefinition::builder()
        .name("dns")
        .image("public.ecr.aws/docker/library/coredns:1.11")
        .essential(false)
        .port_mappings(port(53, ecs::TransportProtocol::Udp, "dns"))
        .port_mappings(port(53, ecs::TransportProtocol::Tcp, "dns-tcp"))
        .build();
    let web = container("web", 8080)
        .port_mappings(port(9125, ecs::TransportProtocol::Tcp, "metrics"))
        .port_mappings(port(9125, ecs::TransportProtocol::Udp, "metrics-udp"))
        .build();
    l.task_definition = task_definition(vec![web, dns]);
    let c = convert(&l, &options());
    let (_, text) = c.task_definition.as_ref().expect("a native file");
    let file: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        file["containerDefinitions"][1]["portMappings"],
        serde_json::json!([{"containerPort": 53, "protocol": "udp", "name": "dns"}]),
        "{text}"
    );
    assert_eq!(
        file["containerDefinitions"][0]["portMappings"][1],
        serde_json::json!({"containerPort": 9125, "protocol": "tcp", "name": "metrics"}),
        "{text}"
    );
    assert_eq!(
        file["containerDefinitions"][0]["portMappings"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{text}"
    );
    let notes = c.not_expressible.join("\n");
    for want in [
        "`containerDefinitions[1].portMappings[1]` maps container port 53 again",
        "`containerDefinitions[0].portMappings[2]` maps container port 9125 again",
        "so the task definition's `portMappings[…]` are dropped",
    ] {
        assert!(notes.contains(want), "{want}: {notes}");
    }
    // The file loads (the main container's ports are not listed twice) and registers UDP.
    assert_eq!(registered_ports(&c, "dns"), [(53, "udp".to_string())]);
    assert_eq!(
        registered_ports(&c, "web"),
        [(8080, "tcp".to_string()), (9125, "tcp".to_string())]
    );
}
