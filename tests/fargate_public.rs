//! End to end on reference system 2 (`fargate-public`): the real binary against moto.
//! Every assertion about what exists is made with describe calls, and write calls are
//! counted by the recording proxy in front of moto.

mod common;

use std::path::{Path, PathBuf};

use common::{example, owned_by, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const APP: &str = "fargate-public";

struct Aws {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    ecr: aws_sdk_ecr::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

async fn aws(proxy: &Proxy) -> Aws {
    let c = sdk_config(proxy, REGION).await;
    Aws {
        ec2: aws_sdk_ec2::Client::new(&c),
        ecs: aws_sdk_ecs::Client::new(&c),
        ecr: aws_sdk_ecr::Client::new(&c),
        iam: aws_sdk_iam::Client::new(&c),
        logs: aws_sdk_cloudwatchlogs::Client::new(&c),
    }
}

fn config_path() -> PathBuf {
    example("fargate-public")
}

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

/// A copy of the example with one text replacement, in a temp dir.
fn edited(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(config_path()).unwrap();
    assert!(text.contains(from), "example lacks {from:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (dir, path)
}

async fn service(aws: &Aws, name: &str) -> Option<aws_sdk_ecs::types::Service> {
    let out = aws
        .ecs
        .describe_services()
        .cluster("fargate-public-cluster")
        .services(name)
        .send()
        .await
        .ok()?;
    out.services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .cloned()
}

async fn assert_reference_system(aws: &Aws) {
    // Network: VPC with DNS on, two public subnets in two AZs, IGW, default route.
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "exactly one VPC");
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    let vpc_id = vpc.vpc_id().unwrap();
    for attr in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let a = aws
            .ec2
            .describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(attr.clone())
            .send()
            .await
            .unwrap();
        let on = a
            .enable_dns_support()
            .or(a.enable_dns_hostnames())
            .and_then(|v| v.value());
        assert_eq!(on, Some(true), "{attr:?}");
    }
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    let mut cidrs: Vec<(String, String)> = subnets
        .subnets()
        .iter()
        .map(|s| {
            assert_eq!(s.vpc_id(), Some(vpc_id));
            (
                s.cidr_block().unwrap().to_string(),
                s.availability_zone().unwrap().to_string(),
            )
        })
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        vec![
            ("10.0.1.0/24".into(), "ap-northeast-1a".into()),
            ("10.0.2.0/24".into(), "ap-northeast-1c".into()),
        ]
    );
    let subnet_ids: Vec<String> = subnets
        .subnets()
        .iter()
        .map(|s| s.subnet_id().unwrap().to_string())
        .collect();
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let igw = &igws.internet_gateways()[0];
    assert_eq!(igw.attachments()[0].vpc_id(), Some(vpc_id));
    let rts = aws
        .ec2
        .describe_route_tables()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(rts.route_tables().len(), 1);
    let rt = &rts.route_tables()[0];
    assert!(rt.routes().iter().any(|r| {
        r.destination_cidr_block() == Some("0.0.0.0/0")
            && r.gateway_id() == igw.internet_gateway_id()
    }));
    let mut associated: Vec<String> = rt
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(str::to_string))
        .collect();
    associated.sort();
    let mut expected = subnet_ids.clone();
    expected.sort();
    assert_eq!(associated, expected);

    // Security groups admit HTTP (80) as configured.
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(sgs.security_groups().len(), 2);
    for sg in sgs.security_groups() {
        let perm = &sg.ip_permissions()[0];
        assert_eq!((perm.from_port(), perm.to_port()), (Some(80), Some(80)));
        assert_eq!(perm.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
    }

    // ECR repository named after the app, scanning on push.
    let repos = aws
        .ecr
        .describe_repositories()
        .repository_names(APP)
        .send()
        .await
        .unwrap();
    let repo = &repos.repositories()[0];
    assert_eq!(
        repo.image_scanning_configuration()
            .map(|c| c.scan_on_push()),
        Some(true)
    );
    let repo_uri = repo.repository_uri().unwrap().to_string();

    // Cluster, execution role with the AWS managed policy, log group with retention.
    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters("fargate-public-cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.clusters()[0].status(), Some("ACTIVE"));
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name("fargate-public-execution")
        .send()
        .await
        .unwrap();
    let policies: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(policies, vec!["AmazonECSTaskExecutionRolePolicy"]);
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/fargate-public")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(14));

    // Services: Fargate, public IP, both public subnets, cpu 512 / memory 1024, images.
    for (svc, image) in [
        ("fargate-public-service1", "nginx:latest".to_string()),
        ("fargate-public-service2", format!("{repo_uri}:latest")),
    ] {
        let s = service(aws, svc)
            .await
            .unwrap_or_else(|| panic!("{svc} missing"));
        assert_eq!(s.desired_count(), 1);
        assert_eq!(s.launch_type().map(|l| l.as_str()), Some("FARGATE"));
        let net = s
            .network_configuration()
            .unwrap()
            .awsvpc_configuration()
            .unwrap();
        assert_eq!(net.assign_public_ip().map(|a| a.as_str()), Some("ENABLED"));
        let mut sn = net.subnets().to_vec();
        sn.sort();
        assert_eq!(sn, expected);
        let td = aws
            .ecs
            .describe_task_definition()
            .task_definition(s.task_definition().unwrap())
            .send()
            .await
            .unwrap();
        let td = td.task_definition().unwrap();
        assert_eq!((td.cpu(), td.memory()), (Some("512"), Some("1024")));
        assert_eq!(td.network_mode().map(|m| m.as_str()), Some("awsvpc"));
        let c = &td.container_definitions()[0];
        assert_eq!(c.image(), Some(image.as_str()), "{svc}");
        assert_eq!(c.port_mappings()[0].container_port(), Some(80));
        assert_eq!(
            c.log_configuration().unwrap().log_driver().as_str(),
            "awslogs"
        );
        assert!(td
            .execution_role_arn()
            .unwrap()
            .ends_with("/fargate-public-execution"));
        assert!(td
            .task_role_arn()
            .unwrap()
            .contains("fargate-public-service"));
    }
}

async fn assert_nothing_owned(aws: &Aws) {
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty(), "VPC left behind");
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(subnets.subnets().is_empty(), "subnets left behind");
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(
        sgs.security_groups().is_empty(),
        "security groups left behind"
    );
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(igws.internet_gateways().is_empty(), "IGW left behind");
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/ecsdeploy/fargate-public/")
        .send()
        .await
        .unwrap();
    assert!(roles.roles().is_empty(), "roles left behind");
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/fargate-public")
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "log group left behind");
    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters("fargate-public-cluster")
        .send()
        .await
        .unwrap();
    assert!(
        clusters
            .clusters()
            .iter()
            .all(|c| c.status() != Some("ACTIVE")),
        "cluster left behind"
    );
    let tds = aws
        .ecs
        .list_task_definitions()
        .family_prefix("fargate-public-")
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert!(
        tds.task_definition_arns().is_empty(),
        "task definitions left active"
    );
}

#[tokio::test]
async fn up_converges_then_is_write_free_and_down_removes_everything() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = config_path();

    let out = ecsdeploy(&proxy, &cfg, &["up"]).await;
    out.assert_success();
    assert_reference_system(&aws).await;
    // Ownership tags are written by the create calls themselves: no separate tagging.
    assert_eq!(proxy.count("CreateTags"), 0);

    proxy.clear();
    let again = ecsdeploy(&proxy, &cfg, &["up"]).await;
    again.assert_success();
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");

    let plan = ecsdeploy(&proxy, &cfg, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, Some(0), "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("0 to create, 0 to update, 0 to delete, 0 to replace, 17 unchanged"),
        "{}",
        plan.stdout
    );
    let status = ecsdeploy(&proxy, &cfg, &["status", "--output", "json"]).await;
    status.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["resources"].as_array().unwrap().len(), 17);
    assert_eq!(doc["missing"], serde_json::json!([]));
    assert_eq!(proxy.writes(), vec![], "plan and status make no write call");

    proxy.clear();
    let down = ecsdeploy(&proxy, &cfg, &["down", "--yes"]).await;
    down.assert_success();
    assert_nothing_owned(&aws).await;
    let repos = aws.ecr.describe_repositories().send().await.unwrap();
    assert!(
        repos.repositories().is_empty(),
        "empty repository is deleted"
    );

    // A second down finds nothing and says so.
    let again = ecsdeploy(&proxy, &cfg, &["down", "--yes"]).await;
    again.assert_success();
    assert!(
        again.stdout.contains("Nothing to delete"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn plan_shows_exactly_an_edit_and_up_applies_only_it() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();

    let (_dir, cfg) = edited("desired_count = 1", "desired_count = 2");
    proxy.clear();
    let plan = ecsdeploy(
        &proxy,
        &cfg,
        &["plan", "--detailed-exitcode", "--output", "json"],
    )
    .await;
    assert_eq!(plan.code, Some(2), "{}{}", plan.stdout, plan.stderr);
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let pending: Vec<&serde_json::Value> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["id"], "service.service1");
    assert_eq!(pending[0]["action"], "update");
    assert_eq!(
        pending[0]["fields"],
        serde_json::json!([{"field": "desired_count", "old": 1, "new": 2}])
    );
    let text = ecsdeploy(&proxy, &cfg, &["plan"]).await;
    assert!(
        text.stdout.contains("desired_count: 1 → 2"),
        "{}",
        text.stdout
    );
    assert_eq!(proxy.writes(), vec![]);

    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let ops: Vec<String> = proxy.writes().iter().map(|c| c.operation.clone()).collect();
    assert_eq!(ops, vec!["UpdateService"]);
    let s = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(s.desired_count(), 2);
}

#[tokio::test]
async fn image_change_registers_a_revision_and_rolls_the_service() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();

    let (_dir, cfg) = edited("image = \"nginx:latest\"", "image = \"nginx:1.27\"");
    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let ops: Vec<String> = proxy.writes().iter().map(|c| c.operation.clone()).collect();
    assert_eq!(ops, vec!["RegisterTaskDefinition", "UpdateService"]);
    let s = service(&aws, "fargate-public-service1").await.unwrap();
    assert!(s
        .task_definition()
        .unwrap()
        .ends_with("fargate-public-service1:2"));
    // The other service is untouched.
    let other = service(&aws, "fargate-public-service2").await.unwrap();
    assert!(other
        .task_definition()
        .unwrap()
        .ends_with("fargate-public-service2:1"));
}

#[tokio::test]
async fn service_removed_from_config_is_deleted_with_what_it_owned() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();

    let text = std::fs::read_to_string(config_path()).unwrap();
    let cut = text.find("# Task 2").expect("example has a Task 2 section");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    // service2 referenced the repository; without it the repository still stays declared.
    std::fs::write(&cfg, &text[..cut]).unwrap();

    let plan = ecsdeploy(&proxy, &cfg, &["plan"]).await;
    for id in [
        "service.service2",
        "task_definition.service2",
        "security_group.service2",
        "iam_role.service2-task",
    ] {
        assert!(
            plan.stdout.contains(&format!("delete {id}")),
            "{id}: {}",
            plan.stdout
        );
    }
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    assert!(service(&aws, "fargate-public-service2").await.is_none());
    assert!(service(&aws, "fargate-public-service1").await.is_some());
    let role = aws
        .iam
        .get_role()
        .role_name("fargate-public-service2-task")
        .send()
        .await;
    assert!(role.is_err(), "task role of the removed service is deleted");
    let sgs = aws
        .ec2
        .describe_security_groups()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(sgs.security_groups().len(), 1);

    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![]);
}

#[tokio::test]
async fn down_keeps_a_repository_with_images_unless_asked() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = config_path();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    aws.ecr
        .put_image()
        .repository_name(APP)
        .image_tag("latest")
        .image_manifest(r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, "layers": []}"#)
        .send()
        .await
        .expect("PutImage");

    let down = ecsdeploy(&proxy, &cfg, &["down", "--yes"]).await;
    down.assert_success();
    assert!(
        down.stdout.contains("kept: ") && down.stdout.contains("--delete-images"),
        "{}",
        down.stdout
    );
    let repos = aws.ecr.describe_repositories().send().await.unwrap();
    assert_eq!(repos.repositories().len(), 1, "repository with images kept");
    assert_nothing_owned(&aws).await;

    let down = ecsdeploy(&proxy, &cfg, &["down", "--yes", "--delete-images"]).await;
    down.assert_success();
    let repos = aws.ecr.describe_repositories().send().await.unwrap();
    assert!(repos.repositories().is_empty());
}

#[tokio::test]
async fn bad_config_is_rejected_with_every_problem_and_no_aws_call() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, cfg) = edited(
        "cpu = 512\nmemory = 1024",
        "cpu = 512\nmemory = 999\nport = 80",
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("10.0.2.0/24", "10.1.2.0/24")).unwrap();
    let out = ecsdeploy(&proxy, &cfg, &["up"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let name = cfg.display().to_string();
    for needle in [
        "services.service1.memory",
        "services.service1.port: unknown key",
        "network.public_subnets[1]",
    ] {
        assert!(
            out.stderr.contains(needle),
            "missing {needle:?} in:\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains(&format!("{name}:")), "{}", out.stderr);
    assert_eq!(proxy.calls(), vec![], "no AWS call for a bad config");

    for cmd in ["plan", "status"] {
        let out = ecsdeploy(&proxy, &cfg, &[cmd]).await;
        assert_eq!(out.code, Some(2));
    }
    assert_eq!(proxy.calls(), vec![]);
}

#[tokio::test]
async fn a_zone_the_region_lacks_is_a_usage_error_before_any_write() {
    // moto's ap-northeast-1 has the zones a, c and d (1b is apne1-az3, where Fargate does
    // not run on AWS either).
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, cfg) = edited(
        "azs = [\"ap-northeast-1a\", \"ap-northeast-1c\"]",
        "azs = [\"ap-northeast-1a\", \"ap-northeast-1b\"]",
    );
    for cmd in ["plan", "up"] {
        let out = ecsdeploy(&proxy, &cfg, &[cmd]).await;
        assert_eq!(out.code, Some(2), "{cmd}: {out}");
        assert!(
            out.stderr
                .contains("network.azs[1]: `ap-northeast-1b` is not an available zone of region ap-northeast-1"),
            "{cmd}: {out}"
        );
    }
    assert_eq!(proxy.writes(), vec![], "nothing is written");
    // Asking for more zones than the region has is the same kind of error (exit 2).
    let (_dir, cfg) = edited(
        "azs = [\"ap-northeast-1a\", \"ap-northeast-1c\"]",
        "az_count = 4",
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "public_subnets = [\"10.0.1.0/24\", \"10.0.2.0/24\"]",
            "public_subnets = [\"10.0.1.0/24\", \"10.0.2.0/24\", \"10.0.3.0/24\", \"10.0.4.0/24\"]",
        ),
    )
    .unwrap();
    let out = ecsdeploy(&proxy, &cfg, &["up"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("network.az_count: 4 zones asked for"),
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![]);
}

#[tokio::test]
async fn down_without_yes_off_a_terminal_refuses_before_any_call() {
    let proxy = Proxy::start(&unique_account()).await;
    let out = ecsdeploy(&proxy, &config_path(), &["down"]).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(proxy.calls(), vec![]);
}

#[tokio::test]
async fn a_same_named_resource_the_app_does_not_own_is_never_adopted() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    aws.ecr
        .create_repository()
        .repository_name(APP)
        .send()
        .await
        .unwrap();
    proxy.clear();
    let out = ecsdeploy(&proxy, &config_path(), &["up"]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("not owned"), "{}", out.stderr);
    assert_eq!(
        proxy.writes(),
        vec![],
        "nothing is created when observation fails"
    );
}

#[tokio::test]
async fn a_same_named_service_the_app_does_not_own_is_refused_before_any_write() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    ecsdeploy(&proxy, &config_path(), &["up", "--no-wait"])
        .await
        .assert_success();
    // service1 loses its ownership tags: a same-named service someone else made.
    let arn = service(&aws, "fargate-public-service1")
        .await
        .expect("service1 exists")
        .service_arn()
        .unwrap()
        .to_string();
    aws.ecs
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("ecsdeploy:app")
        .tag_keys("ecsdeploy:resource")
        .send()
        .await
        .unwrap();
    proxy.clear();
    for cmd in ["plan", "up"] {
        let out = ecsdeploy(&proxy, &config_path(), &[cmd]).await;
        assert_eq!(out.code, Some(1), "{cmd}: {out}");
        assert!(
            out.stderr.contains(
                "ECS service fargate-public-service1 in cluster fargate-public-cluster exists \
                 but is not owned by app fargate-public"
            ),
            "{cmd}: {out}"
        );
    }
    assert_eq!(proxy.writes(), vec![], "nothing is written");
}

#[tokio::test]
async fn json_output_keeps_stderr_free_of_progress() {
    let proxy = Proxy::start(&unique_account()).await;
    let out = ecsdeploy(&proxy, &config_path(), &["up", "--output", "json"]).await;
    out.assert_success();
    // One event per line, as the run goes; the result is the last one.
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line of stdout is one JSON event"))
        .collect();
    assert!(
        events.iter().all(|e| e["schema_version"] == 1),
        "{}",
        out.stdout
    );
    let kind = |e: &serde_json::Value| e["event"].as_str().unwrap_or_default().to_string();
    let started = events.iter().filter(|e| kind(e) == "step_started").count();
    let finished: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| kind(e) == "step_finished")
        .collect();
    assert_eq!(started, 17);
    assert_eq!(finished.len(), 17);
    assert!(finished
        .iter()
        .all(|e| e["status"] == "done" && e["seconds"].is_f64()));
    let doc = events.last().unwrap();
    assert_eq!(kind(doc), "summary");
    assert_eq!(doc["planned"]["create"], 17);
    assert!(out.stderr.trim().is_empty(), "stderr: {}", out.stderr);
}

#[tokio::test]
async fn a_deployment_that_never_settles_is_reported_as_a_timeout() {
    let proxy = Proxy::start(&unique_account()).await;
    // moto runs one task per new service (MOTO_ECS_SERVICE_RUNNING=1): with two desired,
    // the deployment stays IN_PROGRESS for ever.
    let (_dir, cfg) = edited("desired_count = 1", "desired_count = 2");
    let started = std::time::Instant::now();
    let out = ecsdeploy(&proxy, &cfg, &["up", "--wait-timeout", "3s"]).await;
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("timed out after 3s waiting for deployment"),
        "{all}"
    );
    assert!(
        all.contains("1/2 running"),
        "the last state is reported: {all}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60));

    // Against the clock: the last look at the service is at the deadline, 3 s after
    // CreateService answered (the wait starts then), not before it.
    let service1 = |op: &str| -> Vec<(std::time::Duration, std::time::Duration)> {
        let timeline = proxy.timeline(started);
        let calls = timeline.iter().filter(|(c, _, _)| c.operation == op);
        calls
            .zip(proxy.bodies(op))
            .filter(|(_, body)| body.contains("fargate-public-service1"))
            .map(|((_, start, took), _)| (*start, *start + *took))
            .collect()
    };
    let created = service1("CreateService")[0].1;
    let looks: Vec<_> = service1("DescribeServices")
        .into_iter()
        .map(|(start, _)| start)
        .filter(|start| *start > created)
        .collect();
    let last = *looks.last().expect("the wait looked at the service");
    assert!(
        last >= created + std::time::Duration::from_secs(3),
        "last look {last:?}, created {created:?}: {looks:?}"
    );
}

/// `restart` starts a new deployment of the revision the service runs (its tasks read
/// their secrets afresh), waits for it, and leaves `up` nothing to undo.
#[tokio::test]
async fn restart_redeploys_the_same_revision_and_up_has_nothing_to_undo() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = config_path();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let before = service(&aws, "fargate-public-service1").await.unwrap();
    let deployment = |s: &aws_sdk_ecs::types::Service| {
        s.deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.id())
            .map(str::to_string)
    };

    proxy.clear();
    let out = ecsdeploy(&proxy, &cfg, &["restart", "service1"]).await;
    out.assert_success();
    assert!(
        out.stdout.contains("restart service1: deployment "),
        "{out}"
    );
    assert!(out.stdout.contains("completed"), "{out}");
    let sent = proxy.bodies("UpdateService");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
    assert_eq!(sent["forceNewDeployment"], true);
    assert!(
        sent.get("taskDefinition").is_none(),
        "the same revision: {sent}"
    );
    let after = service(&aws, "fargate-public-service1").await.unwrap();
    assert_ne!(deployment(&before), deployment(&after));
    assert_eq!(before.task_definition(), after.task_definition());
    // The run lock was taken and released, as for `up`.
    assert!(!proxy.lock_calls().is_empty());

    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    assert_eq!(
        proxy.writes(),
        vec![],
        "restart changed nothing the config says"
    );

    // A key the config does not have: a usage error, nothing written.
    proxy.clear();
    let out = ecsdeploy(&proxy, &cfg, &["restart", "nope"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("`nope` is not a service of this config"),
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![]);
}

/// `scale` sets the task count of a service without autoscaling, says that `up` will
/// restore the config's, and refuses what does not apply, before any write.
#[tokio::test]
async fn scale_sets_the_count_and_says_up_restores_it() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = config_path();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    proxy.clear();
    // moto runs one task per service, so a wait for three would not end: --no-wait.
    let out = ecsdeploy(&proxy, &cfg, &["scale", "service1", "3", "--no-wait"]).await;
    out.assert_success();
    assert!(out.stdout.contains("scale service1: 1 → 3 tasks"), "{out}");
    assert!(
        out.stdout
            .contains("the next `ecsdeploy up` sets it back to desired_count = 1"),
        "{out}"
    );
    let s = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(s.desired_count(), 3);

    for (args, says) in [
        (
            vec!["scale", "service1", "--min", "1", "--max", "3"],
            "has no autoscaling",
        ),
        (vec!["scale", "service1"], "give the number of tasks"),
    ] {
        proxy.clear();
        let out = ecsdeploy(&proxy, &cfg, &args).await;
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(out.stderr.contains(says), "{args:?}: {out}");
        assert_eq!(proxy.writes(), vec![], "{args:?}");
    }

    // `up` puts the config's count back.
    ecsdeploy(&proxy, &cfg, &["up", "--no-wait"])
        .await
        .assert_success();
    let s = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(s.desired_count(), 1);
}

/// The repository gets a lifecycle policy keeping the newest `keep_images` images (and
/// untagged ones a day); a new count is put in place, and an unchanged one is left alone.
#[tokio::test]
async fn the_repository_keeps_the_newest_images_only() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let kept = |text: Option<&str>| -> (u64, String) {
        let p: serde_json::Value = serde_json::from_str(text.unwrap()).unwrap();
        let rules = p["rules"].as_array().unwrap().clone();
        (
            rules[1]["selection"]["countNumber"].as_u64().unwrap(),
            rules[0]["selection"]["tagStatus"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    ecsdeploy(&proxy, &config_path(), &["up", "--no-wait"])
        .await
        .assert_success();
    let policy = aws
        .ecr
        .get_lifecycle_policy()
        .repository_name("fargate-public")
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept(policy.lifecycle_policy_text()),
        (30, "untagged".into())
    );

    let (_dir, cfg) = edited("keep_images = 30", "keep_images = 5");
    ecsdeploy(&proxy, &cfg, &["up", "--no-wait"])
        .await
        .assert_success();
    let policy = aws
        .ecr
        .get_lifecycle_policy()
        .repository_name("fargate-public")
        .send()
        .await
        .unwrap();
    assert_eq!(kept(policy.lifecycle_policy_text()).0, 5);
    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up", "--no-wait"])
        .await
        .assert_success();
    assert_eq!(proxy.writes(), vec![]);
}

/// After a deploy, the family keeps its newest `keep_revisions` revisions (10 by default)
/// and never loses one a deployment uses.
#[tokio::test]
async fn a_deploy_deregisters_revisions_beyond_keep_revisions() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("web")
        .image("nginx:latest")
        .memory(512)
        .build();
    for _ in 0..14 {
        aws.ecs
            .register_task_definition()
            .family("fargate-public-service1")
            .container_definitions(container.clone())
            .send()
            .await
            .unwrap();
    }
    let active = || async {
        aws.ecs
            .list_task_definitions()
            .family_prefix("fargate-public-service1")
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .send()
            .await
            .unwrap()
            .task_definition_arns()
            .to_vec()
    };
    assert_eq!(active().await.len(), 15);
    // A deploy of service1: a new revision, then the old ones beyond ten go.
    let (_dir, cfg) = edited("image = \"nginx:latest\"", "image = \"nginx:1.27\"");
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let left = active().await;
    let svc = service(&aws, "fargate-public-service1").await.unwrap();
    let running = svc.task_definition().unwrap().to_string();
    assert!(running.ends_with(":16"), "{running}");
    // The newest ten stay, and any older one a deployment still names (moto keeps listing
    // the replaced deployment; AWS drops it once the new one completes).
    let revision = |a: &str| -> u32 { a.rsplit(':').next().unwrap().parse().unwrap() };
    let named: Vec<String> = svc
        .deployments()
        .iter()
        .filter_map(|d| d.task_definition().map(str::to_string))
        .collect();
    let mut want: Vec<u32> = (7..=16).collect();
    want.extend(named.iter().map(|a| revision(a)).filter(|r| *r < 7));
    want.sort();
    let mut got: Vec<u32> = left.iter().map(|a| revision(a)).collect();
    got.sort();
    assert_eq!(got, want, "deployments name {named:?}");
    assert!(got.len() < 15, "old revisions were deregistered: {got:?}");
}

/// `capacity = { spot, on_demand_base }`, through the AWS-realism layer (which keeps and
/// reports the strategy as AWS does, and refuses a provider the cluster lacks): the
/// cluster gets the Fargate providers before the service names them, a second `up` writes
/// nothing, and leaving Spot is an in-place update that replaces the tasks.
#[tokio::test]
async fn spot_capacity_is_a_strategy_on_a_cluster_with_the_fargate_providers() {
    use common::realism::Realism;
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let aws = aws(&proxy).await;
    let spot =
        "keep_revisions = 10                # older task-definition revisions are deregistered\n\
                capacity = { spot = 75, on_demand_base = 1 }";
    let (_dir, cfg) = edited(
        "keep_revisions = 10                # older task-definition revisions are deregistered",
        spot,
    );
    let strategy = |s: &aws_sdk_ecs::types::Service| -> Vec<(String, i32, i32)> {
        let mut v: Vec<_> = s
            .capacity_provider_strategy()
            .iter()
            .map(|i| (i.capacity_provider().to_string(), i.base(), i.weight()))
            .collect();
        v.sort();
        v
    };

    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let cluster = aws
        .ecs
        .describe_clusters()
        .clusters("fargate-public-cluster")
        .send()
        .await
        .unwrap();
    let mut providers = cluster.clusters()[0].capacity_providers().to_vec();
    providers.sort();
    assert_eq!(providers, ["FARGATE", "FARGATE_SPOT"]);
    let s1 = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(
        strategy(&s1),
        [("FARGATE".into(), 1, 1), ("FARGATE_SPOT".into(), 0, 3)]
    );
    let created: Vec<serde_json::Value> = proxy
        .bodies("CreateService")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let of = |name: &str| {
        created
            .iter()
            .find(|b| b["serviceName"] == name)
            .cloned()
            .unwrap()
    };
    assert!(of("fargate-public-service1").get("launchType").is_none());
    assert_eq!(of("fargate-public-service2")["launchType"], "FARGATE");
    let s2 = service(&aws, "fargate-public-service2").await.unwrap();
    assert!(
        strategy(&s2).is_empty(),
        "service2 stays on the launch type"
    );

    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "converged with Spot");

    // Off Spot: regular Fargate alone, with a new deployment; the providers stay.
    proxy.clear();
    let out = ecsdeploy(&proxy, &config_path(), &["plan"]).await;
    assert!(out.stdout.contains("capacity:"), "{out}");
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();
    let sent = proxy.bodies("UpdateService");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent: serde_json::Value = serde_json::from_str(&sent[0]).unwrap();
    assert_eq!(sent["forceNewDeployment"], true, "{sent}");
    assert_eq!(proxy.count("PutClusterCapacityProviders"), 0);
    let s1 = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(strategy(&s1), [("FARGATE".into(), 0, 1)]);
    proxy.clear();
    ecsdeploy(&proxy, &config_path(), &["up"])
        .await
        .assert_success();
    assert_eq!(proxy.writes(), vec![], "converged off Spot");

    // Back on Spot on a cluster whose providers were taken away meanwhile: they are
    // associated again before the service names them (the layer refuses otherwise).
    aws.ecs
        .put_cluster_capacity_providers()
        .cluster("fargate-public-cluster")
        .set_capacity_providers(Some(vec![]))
        .set_default_capacity_provider_strategy(Some(vec![]))
        .send()
        .await
        .unwrap();
    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let put = proxy.position("PutClusterCapacityProviders").unwrap();
    assert!(put < proxy.position("UpdateService").unwrap());
    let s1 = service(&aws, "fargate-public-service1").await.unwrap();
    assert_eq!(strategy(&s1).len(), 2);
}
