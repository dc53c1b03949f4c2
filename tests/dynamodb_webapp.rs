//! Reference system 1 (`dynamodb-webapp`) end to end: private subnets reached through VPC
//! endpoints (no NAT), an internet-facing ALB, a target group and listener, and a service
//! in the private subnets reachable only from the ALB.

mod common;

use std::path::Path;

use common::{example, owned_by, run_async, sdk_config, tagged, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const APP: &str = "dynamodb-webapp";

struct Aws {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

async fn aws(proxy: &Proxy) -> Aws {
    let c = sdk_config(proxy, REGION).await;
    Aws {
        ec2: aws_sdk_ec2::Client::new(&c),
        ecs: aws_sdk_ecs::Client::new(&c),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&c),
    }
}

async fn up(proxy: &Proxy, cfg: &Path) -> common::Output {
    run_async(proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await
}

async fn sg_id(aws: &Aws, logical: &str) -> String {
    let g = common::owned_security_group(&aws.ec2, APP, logical).await;
    g.group_id().unwrap().to_string()
}

async fn subnet_ids(aws: &Aws, prefix: &str) -> Vec<String> {
    common::owned_subnets(&aws.ec2, APP, prefix).await
}

/// A temp dir holding the example's seed file, and where an edited config goes beside it.
fn copy_example() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let seed = "dynamodb-webapp-music.json";
    std::fs::copy(example(APP).with_file_name(seed), dir.path().join(seed)).unwrap();
    let cfg = dir.path().join("ecsdeploy.toml");
    (dir, cfg)
}

#[tokio::test]
async fn alb_in_front_of_a_private_service_with_endpoints() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();

    // Private subnets with the seed's CIDRs, one private route table, no NAT.
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    let mut cidrs: Vec<&str> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.cidr_block())
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        vec!["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"]
    );
    let private = subnet_ids(&aws, "subnet.private-").await;
    let public = subnet_ids(&aws, "subnet.public-").await;
    let nats = aws
        .ec2
        .describe_nat_gateways()
        .filter(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(nats.nat_gateways().is_empty(), "no NAT in this system");
    let rts = aws
        .ec2
        .describe_route_tables()
        .filters(owned_by(APP))
        .filters(tagged("route_table.private"))
        .send()
        .await
        .unwrap();
    let private_rt = &rts.route_tables()[0];
    let mut members: Vec<String> = private_rt
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(str::to_string))
        .collect();
    members.sort();
    assert_eq!(members, private);

    // Endpoints: gateway ones on the private route table, interface ones in the private
    // subnets behind the endpoint SG that admits 443 from the container SG only.
    let eps = aws
        .ec2
        .describe_vpc_endpoints()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = eps
        .vpc_endpoints()
        .iter()
        .map(|e| {
            e.service_name()
                .unwrap()
                .rsplit(&format!("{REGION}."))
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, vec!["dynamodb", "ecr.api", "ecr.dkr", "logs", "s3"]);
    let container_sg = sg_id(&aws, "security_group.bottle").await;
    let alb_sg = sg_id(&aws, "security_group.alb").await;
    let endpoint_sg = sg_id(&aws, "security_group.endpoints").await;
    for e in eps.vpc_endpoints() {
        let name = e.service_name().unwrap();
        if name.ends_with(".s3") || name.ends_with(".dynamodb") {
            assert_eq!(
                e.route_table_ids(),
                &[private_rt.route_table_id().unwrap().to_string()]
            );
        } else {
            let mut sn = e.subnet_ids().to_vec();
            sn.sort();
            assert_eq!(sn, private, "{name}");
            assert_eq!(e.private_dns_enabled(), Some(true), "{name}");
            assert_eq!(e.groups()[0].group_id(), Some(endpoint_sg.as_str()));
        }
    }

    // The security group graph: internet → ALB:80 → container:8080 → endpoints:443.
    let groups = aws
        .ec2
        .describe_security_groups()
        .group_ids(&alb_sg)
        .group_ids(&container_sg)
        .group_ids(&endpoint_sg)
        .send()
        .await
        .unwrap();
    for g in groups.security_groups() {
        let perms = g.ip_permissions();
        assert_eq!(perms.len(), 1, "{:?}", g.group_name());
        let p = &perms[0];
        let id = g.group_id().unwrap();
        if id == alb_sg {
            assert_eq!(p.from_port(), Some(80));
            assert_eq!(p.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
        } else if id == container_sg {
            assert_eq!(p.from_port(), Some(8080));
            assert!(p.ip_ranges().is_empty(), "no CIDR reaches the container");
            assert_eq!(p.user_id_group_pairs()[0].group_id(), Some(alb_sg.as_str()));
        } else {
            assert_eq!(p.from_port(), Some(443));
            assert!(p.ip_ranges().is_empty());
            assert_eq!(
                p.user_id_group_pairs()[0].group_id(),
                Some(container_sg.as_str())
            );
        }
    }

    // ALB, target group, listener.
    let lbs = aws
        .elb
        .describe_load_balancers()
        .names("dynamodb-webapp-ALB")
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    let mut lb_subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    lb_subnets.sort();
    assert_eq!(lb_subnets, public);
    assert_eq!(lb.security_groups(), std::slice::from_ref(&alb_sg));
    let tgs = aws
        .elb
        .describe_target_groups()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let tg = &tgs.target_groups()[0];
    assert_eq!(tg.port(), Some(8080));
    assert_eq!(tg.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(tg.health_check_path(), Some("/"));
    assert_eq!(
        (
            tg.healthy_threshold_count(),
            tg.unhealthy_threshold_count(),
            tg.health_check_timeout_seconds(),
            tg.health_check_interval_seconds()
        ),
        (Some(5), Some(2), Some(5), Some(30))
    );
    assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200"));
    let attrs = aws
        .elb
        .describe_target_group_attributes()
        .target_group_arn(tg.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let delay = attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value());
    assert_eq!(delay, Some("30"));
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let l = &listeners.listeners()[0];
    assert_eq!(
        (l.port(), l.protocol().map(|p| p.as_str())),
        (Some(80), Some("HTTP"))
    );
    assert_eq!(
        l.default_actions()[0].target_group_arn(),
        tg.target_group_arn()
    );

    // The service: private subnets, no public IP, the container SG, attached on 8080, and
    // created only after the listener.
    let svc = aws
        .ecs
        .describe_services()
        .cluster("dynamodb-webapp-cluster")
        .services("dynamodb-webapp-service")
        .send()
        .await
        .unwrap();
    let s = &svc.services()[0];
    let net = s
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    let mut sn = net.subnets().to_vec();
    sn.sort();
    assert_eq!(sn, private);
    assert_eq!(net.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
    assert_eq!(net.security_groups(), std::slice::from_ref(&container_sg));
    let attached = &s.load_balancers()[0];
    assert_eq!(attached.target_group_arn(), tg.target_group_arn());
    assert_eq!(attached.container_port(), Some(8080));
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(s.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!(
        td.runtime_platform()
            .and_then(|r| r.cpu_architecture())
            .map(|a| a.as_str()),
        Some("ARM64")
    );
}

#[tokio::test]
async fn second_up_is_write_free_and_the_listener_precedes_the_service() {
    let proxy = Proxy::start(&unique_account()).await;
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();
    let listener = proxy
        .position("CreateListener")
        .expect("CreateListener sent");
    let service = proxy.position("CreateService").expect("CreateService sent");
    assert!(
        listener < service,
        "the service attaches only after the listener exists"
    );

    proxy.clear();
    up(&proxy, &cfg).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");

    let status = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "status", "--output", "json"],
    )
    .await;
    status.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let url = doc["urls"][0].as_str().unwrap_or_default();
    assert!(
        url.starts_with("http://dynamodb-webapp-ALB"),
        "app URL from the ALB's DNS name: {doc}"
    );
    let tg = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "target_group")
        .expect("target group in status");
    assert!(
        tg["details"]["targets"].is_array(),
        "target health reported: {tg}"
    );
}

#[tokio::test]
async fn a_health_check_edit_updates_the_target_group_in_place() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    up(&proxy, &example(APP)).await.assert_success();

    let text = std::fs::read_to_string(example(APP)).unwrap();
    assert!(
        text.contains("interval = 30"),
        "example sets the seed's interval"
    );
    let (_dir, cfg) = copy_example();
    std::fs::write(&cfg, text.replacen("interval = 30", "interval = 20", 1)).unwrap();

    proxy.clear();
    let plan = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "plan"]).await;
    assert!(
        plan.stdout.contains("health_check_interval: 30 → 20"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("1 to update"), "{}", plan.stdout);
    up(&proxy, &cfg).await.assert_success();
    let ops: Vec<String> = proxy.writes().iter().map(|c| c.operation.clone()).collect();
    assert_eq!(ops, vec!["ModifyTargetGroup"]);
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(
        tgs.target_groups()[0].health_check_interval_seconds(),
        Some(20)
    );
}

#[tokio::test]
async fn a_target_port_change_creates_the_new_group_first_and_deletes_the_old_one() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    up(&proxy, &example(APP)).await.assert_success();
    // The pipeline pushes the app's image once its repository exists (preflight checks it
    // before a new revision is deployed).
    common::push_image(&proxy, REGION, "dynamodb-webapp-app", "latest").await;
    let before = aws.elb.describe_target_groups().send().await.unwrap();
    let old_arn = before.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();

    let text = std::fs::read_to_string(example(APP)).unwrap();
    let (_dir, cfg) = copy_example();
    std::fs::write(&cfg, text.replace("8080", "8081")).unwrap();
    proxy.clear();
    up(&proxy, &cfg).await.assert_success();
    let ops = proxy.operations();
    let pos = |op: &str| {
        ops.iter()
            .position(|o| o == op)
            .unwrap_or_else(|| panic!("{op} not sent: {ops:?}"))
    };
    assert!(pos("CreateTargetGroup") < pos("ModifyListener"));
    assert!(pos("ModifyListener") < pos("DeleteTargetGroup"));
    assert!(pos("UpdateService") < pos("DeleteTargetGroup"));
    let after = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(after.target_groups().len(), 1);
    assert_ne!(
        after.target_groups()[0].target_group_arn(),
        Some(old_arn.as_str())
    );
    assert_eq!(after.target_groups()[0].port(), Some(8081));
}

#[tokio::test]
async fn down_removes_everything_owned() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();
    run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "down", "--yes"],
    )
    .await
    .assert_success();
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(vpcs.vpcs().is_empty());
    let eps = aws
        .ec2
        .describe_vpc_endpoints()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(eps.vpc_endpoints().iter().all(|e| matches!(
        e.state().map(|s| s.as_str()),
        Some("deleted") | Some("deleting")
    )));
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    assert!(lbs.load_balancers().is_empty());
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    assert!(tgs.target_groups().is_empty());
}

async fn dynamodb(proxy: &Proxy) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(proxy, REGION).await)
}

const TABLE: &str = "dynamodb-webapp-Music";

/// (Artist, SongTitle) of every item, sorted.
async fn scanned_keys(db: &aws_sdk_dynamodb::Client) -> Vec<(String, String)> {
    let out = db.scan().table_name(TABLE).send().await.unwrap();
    let s = |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
             k: &str| item[k].as_s().unwrap().clone();
    let mut keys: Vec<(String, String)> = out
        .items()
        .iter()
        .map(|i| (s(i, "Artist"), s(i, "SongTitle")))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn the_table_is_seeded_once_and_the_task_role_may_only_scan_it() {
    let proxy = Proxy::start(&unique_account()).await;
    let db = dynamodb(&proxy).await;
    let c = sdk_config(&proxy, REGION).await;
    let iam = aws_sdk_iam::Client::new(&c);
    let ecs = aws_sdk_ecs::Client::new(&c);
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();

    let t = db.describe_table().table_name(TABLE).send().await.unwrap();
    let t = t.table().unwrap();
    let keys: Vec<(String, String)> = t
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("Artist".to_string(), "HASH".to_string()),
            ("SongTitle".to_string(), "RANGE".to_string())
        ]
    );
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(t.deletion_protection_enabled(), Some(true));
    let table_arn = t.table_arn().unwrap().to_string();
    let expected = vec![
        ("Acme Band".to_string(), "Happy Day".to_string()),
        ("Acme Band".to_string(), "PartiQL Rocks".to_string()),
        ("No One You Know".to_string(), "Call Me Today".to_string()),
        ("No One You Know".to_string(), "Howdy".to_string()),
    ];
    assert_eq!(scanned_keys(&db).await, expected);
    let full = db.scan().table_name(TABLE).send().await.unwrap();
    let awards: Vec<&str> = full
        .items()
        .iter()
        .map(|i| i["Awards"].as_n().unwrap().as_str())
        .collect();
    assert_eq!(awards.len(), 4);
    assert!(
        awards.contains(&"10") && awards.contains(&"8"),
        "{awards:?}"
    );

    // The task role: dynamodb:Scan on this table's ARN, nothing else.
    let policy = common::inline_policy(&iam, "dynamodb-webapp-bottle-task").await;
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy}");
    assert_eq!(
        common::string_list(&statements[0]["Action"]),
        ["dynamodb:Scan"]
    );
    assert_eq!(common::string_list(&statements[0]["Resource"]), [table_arn]);

    // The container learns the table name from TABLE_NAME.
    let svc = ecs
        .describe_services()
        .cluster("dynamodb-webapp-cluster")
        .services("dynamodb-webapp-service")
        .send()
        .await
        .unwrap();
    let td = ecs
        .describe_task_definition()
        .task_definition(svc.services()[0].task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let env = td.task_definition().unwrap().container_definitions()[0].environment();
    assert!(
        env.iter()
            .any(|kv| kv.name() == Some("TABLE_NAME") && kv.value() == Some(TABLE)),
        "{env:?}"
    );

    // Someone changes an item; a second `up` neither rewrites nor duplicates the seed.
    db.delete_item()
        .table_name(TABLE)
        .key(
            "Artist",
            aws_sdk_dynamodb::types::AttributeValue::S("Acme Band".into()),
        )
        .key(
            "SongTitle",
            aws_sdk_dynamodb::types::AttributeValue::S("Happy Day".into()),
        )
        .send()
        .await
        .unwrap();
    proxy.clear();
    up(&proxy, &cfg).await.assert_success();
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");
    assert_eq!(
        scanned_keys(&db).await.len(),
        3,
        "the seed is not written again"
    );

    // status: the table, its state and item estimate; no secret anywhere.
    let status = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "status", "--output", "json"],
    )
    .await;
    status.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let table = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "dynamodb_table")
        .expect("table in status");
    assert_eq!(table["state"], "ACTIVE");
    assert!(table["details"]["item_count"].is_number(), "{table}");
}

#[tokio::test]
async fn down_keeps_the_table_and_delete_data_removes_it() {
    let proxy = Proxy::start(&unique_account()).await;
    let db = dynamodb(&proxy).await;
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();
    let down = run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "down", "--yes"],
    )
    .await;
    down.assert_success();
    assert!(
        down.stdout
            .contains("kept: dynamodb_table.music (dynamodb-webapp-Music)"),
        "{down}"
    );
    assert!(down.stdout.contains("--delete-data"), "{down}");
    assert_eq!(scanned_keys(&db).await.len(), 4, "the data survives `down`");

    // `up` again adopts the kept table: no second seed, no duplicate.
    up(&proxy, &cfg).await.assert_success();
    assert_eq!(scanned_keys(&db).await.len(), 4);

    let gone = run_async(
        &proxy,
        REGION,
        &[
            "-c",
            cfg.to_str().unwrap(),
            "down",
            "--yes",
            "--delete-data",
        ],
    )
    .await;
    gone.assert_success();
    let err = db
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect_err("table deleted");
    assert!(
        format!("{err:?}").contains("ResourceNotFoundException"),
        "{err:?}"
    );
    let ops = proxy.operations();
    let lift = ops.iter().rposition(|o| o == "UpdateTable");
    let delete = ops.iter().rposition(|o| o == "DeleteTable");
    assert!(
        lift.is_some() && lift < delete,
        "deletion protection is lifted before the delete: {ops:?}"
    );
}

/// `scale` on an autoscaled service moves autoscaling's bounds, not the count, and says
/// that `up` restores the config's bounds; a bare count is refused before any write.
#[tokio::test]
async fn scale_moves_an_autoscaled_services_bounds() {
    let proxy = Proxy::start(&unique_account()).await;
    let cfg = example(APP);
    up(&proxy, &cfg).await.assert_success();
    let c = cfg.to_str().unwrap();
    let out = run_async(
        &proxy,
        REGION,
        &["-c", c, "scale", "bottle", "--min", "2", "--max", "6"],
    )
    .await;
    out.assert_success();
    assert!(
        out.stdout.contains("autoscaling keeps 2 to 6 tasks"),
        "{out}"
    );
    assert!(
        out.stdout.contains("sets the bounds back to 1 to 3"),
        "{out}"
    );
    let autoscaling =
        aws_sdk_applicationautoscaling::Client::new(&sdk_config(&proxy, REGION).await);
    let targets = autoscaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let bounds: Vec<(i32, i32)> = targets
        .scalable_targets()
        .iter()
        .map(|t| (t.min_capacity(), t.max_capacity()))
        .collect();
    assert_eq!(bounds, [(2, 6)]);

    proxy.clear();
    let out = run_async(&proxy, REGION, &["-c", c, "scale", "bottle", "4"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("is autoscaled (1 to 3 tasks)"), "{out}");
    assert_eq!(proxy.writes(), vec![]);
}
