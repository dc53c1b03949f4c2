//! Reference system 5 (`wordpress`) end to end: RDS MySQL and EFS in the private subnets,
//! each guarded by a security group that admits only the service; the password and the
//! eight keys and salts in Secrets Manager, injected as task-definition secrets; and `down`
//! keeping the data unless `--delete-data`.

mod common;

use std::path::Path;

use common::realism::form;
use common::{
    example, inline_policy, owned_by, policy_json, run_async, sdk_config, string_list,
    unique_account, Proxy,
};

const REGION: &str = "ap-northeast-1";
const APP: &str = "wordpress";
const DB: &str = "wordpress-db";

struct Aws {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    iam: aws_sdk_iam::Client,
    rds: aws_sdk_rds::Client,
    efs: aws_sdk_efs::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

async fn aws(proxy: &Proxy) -> Aws {
    let c = sdk_config(proxy, REGION).await;
    Aws {
        ec2: aws_sdk_ec2::Client::new(&c),
        ecs: aws_sdk_ecs::Client::new(&c),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&c),
        iam: aws_sdk_iam::Client::new(&c),
        rds: aws_sdk_rds::Client::new(&c),
        efs: aws_sdk_efs::Client::new(&c),
        secrets: aws_sdk_secretsmanager::Client::new(&c),
    }
}

async fn ecsdeploy(proxy: &Proxy, cfg: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

async fn sg(aws: &Aws, logical: &str) -> aws_sdk_ec2::types::SecurityGroup {
    common::owned_security_group(&aws.ec2, APP, logical).await
}

async fn private_subnets(aws: &Aws) -> Vec<String> {
    common::owned_subnets(&aws.ec2, APP, "subnet.private-").await
}

/// The only rule of a store's group: `port` from the service's group, no CIDR.
fn admits_only(group: &aws_sdk_ec2::types::SecurityGroup, port: i32, source: &str) {
    let perms = group.ip_permissions();
    assert_eq!(perms.len(), 1, "{:?}", group.group_name());
    let p = &perms[0];
    assert_eq!((p.from_port(), p.to_port()), (Some(port), Some(port)));
    assert!(p.ip_ranges().is_empty(), "no CIDR reaches the store");
    let sources: Vec<&str> = p
        .user_id_group_pairs()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(sources, [source]);
}

async fn secret_values(aws: &Aws) -> Vec<String> {
    let list = aws.secrets.list_secrets().send().await.unwrap();
    let mut values = Vec::new();
    for s in list.secret_list() {
        if let Ok(v) = aws
            .secrets
            .get_secret_value()
            .secret_id(s.arn().unwrap())
            .send()
            .await
        {
            values.extend(v.secret_string().map(str::to_string));
        }
    }
    values
}

#[tokio::test]
async fn stores_are_wired_by_reference_and_guarded_by_their_groups() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = example(APP);
    // With the SDK's own traces on: the run that generates the secrets must not show them.
    let up = ecsdeploy(&proxy, &cfg, &["up", "-vv"]).await;
    up.assert_success();
    assert!(
        up.stderr.contains("aws_smithy_runtime"),
        "SDK traces were off"
    );
    let private = private_subnets(&aws).await;
    assert_eq!(private.len(), 2);
    let service_sg = sg(&aws, "security_group.web").await;
    let service_sg = service_sg.group_id().unwrap();

    // RDS: private, protected, encrypted, in a subnet group over the private subnets, its
    // group admitting 3306 from the service only.
    let dbs = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(DB)
        .send()
        .await
        .unwrap();
    let db = &dbs.db_instances()[0];
    assert_eq!(db.engine(), Some("mysql"));
    assert_eq!(db.db_name(), Some("wordpress"));
    assert_eq!(db.master_username(), Some("wordpress"));
    assert_eq!(db.deletion_protection(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    assert_eq!(db.storage_encrypted(), Some(true));
    let mut db_subnets: Vec<String> = db
        .db_subnet_group()
        .unwrap()
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_string))
        .collect();
    db_subnets.sort();
    assert_eq!(db_subnets, private);
    let db_sg = sg(&aws, "security_group.database.db").await;
    let db_groups: Vec<&str> = db
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(db_groups, [db_sg.group_id().unwrap()]);
    admits_only(&db_sg, 3306, service_sg);
    // The master password: a secret ecsdeploy generated (RDS's JSON shape, letters and
    // digits), which the instance was created with, and which RDS does not rotate.
    assert!(
        db.master_user_secret().is_none(),
        "RDS must not manage (and rotate) the password: {:?}",
        db.master_user_secret()
    );
    let generated = aws
        .secrets
        .get_secret_value()
        .secret_id("wordpress/databases/db")
        .send()
        .await
        .unwrap();
    let master_secret = generated.arn().unwrap().to_string();
    let value: serde_json::Value =
        serde_json::from_str(generated.secret_string().unwrap()).unwrap();
    assert_eq!(value["username"], "wordpress");
    let password = value["password"].as_str().unwrap();
    assert_eq!(password.len(), 32);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    let created = proxy.bodies("CreateDBInstance");
    assert_eq!(created.len(), 1);
    let created = form(created[0].as_bytes());
    assert!(
        created.contains(&("MasterUserPassword".into(), password.into())),
        "the instance is created with the generated password"
    );
    assert!(!created.iter().any(|(k, _)| k == "ManageMasterUserPassword"));
    let rotation = aws
        .secrets
        .describe_secret()
        .secret_id(&master_secret)
        .send()
        .await
        .unwrap();
    assert_ne!(rotation.rotation_enabled(), Some(true));
    let endpoint = db.endpoint().and_then(|e| e.address()).unwrap().to_string();

    // EFS: encrypted, a mount target per private subnet behind its group, which admits NFS
    // from the service only; an access point owned by www-data.
    let fss = aws.efs.describe_file_systems().send().await.unwrap();
    assert_eq!(fss.file_systems().len(), 1);
    let fs = &fss.file_systems()[0];
    assert!(fs.encrypted().unwrap_or(false));
    let fs_id = fs.file_system_id().to_string();
    let mts = aws
        .efs
        .describe_mount_targets()
        .file_system_id(&fs_id)
        .send()
        .await
        .unwrap();
    let mut mt_subnets: Vec<String> = mts
        .mount_targets()
        .iter()
        .map(|m| m.subnet_id().to_string())
        .collect();
    mt_subnets.sort();
    assert_eq!(mt_subnets, private);
    let efs_sg = sg(&aws, "security_group.file_system.content").await;
    for m in mts.mount_targets() {
        let groups = aws
            .efs
            .describe_mount_target_security_groups()
            .mount_target_id(m.mount_target_id())
            .send()
            .await
            .unwrap();
        assert_eq!(groups.security_groups(), [efs_sg.group_id().unwrap()]);
    }
    admits_only(&efs_sg, 2049, service_sg);
    let aps = aws
        .efs
        .describe_access_points()
        .file_system_id(&fs_id)
        .send()
        .await
        .unwrap();
    assert_eq!(aps.access_points().len(), 1);
    let ap = &aps.access_points()[0];
    assert_eq!(ap.posix_user().map(|u| (u.uid(), u.gid())), Some((33, 33)));
    let ap_id = ap.access_point_id().unwrap().to_string();

    // The task definition: secrets by reference, plain values only for what is not secret,
    // the EFS volume with TLS and IAM authorization through the access point.
    let svc = aws
        .ecs
        .describe_services()
        .cluster("wordpress")
        .services("wordpress-web")
        .send()
        .await
        .unwrap();
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(svc.services()[0].task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    let c = &td.container_definitions()[0];
    let env: std::collections::BTreeMap<&str, &str> = c
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
        .collect();
    assert_eq!(env.get("WORDPRESS_DB_HOST"), Some(&endpoint.as_str()));
    assert_eq!(env.get("WORDPRESS_DB_NAME"), Some(&"wordpress"));
    assert_eq!(env.get("WORDPRESS_DB_USER"), Some(&"wordpress"));
    assert!(
        env.keys()
            .all(|k| !k.contains("PASSWORD") && !k.ends_with("_KEY") && !k.ends_with("_SALT")),
        "no secret as a plain value: {env:?}"
    );
    let secrets: std::collections::BTreeMap<&str, &str> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(secrets.len(), 9, "{secrets:?}");
    assert_eq!(
        secrets["WORDPRESS_DB_PASSWORD"],
        format!("{master_secret}:password::")
    );
    for name in [
        "AUTH_KEY",
        "SECURE_AUTH_KEY",
        "LOGGED_IN_KEY",
        "NONCE_KEY",
        "AUTH_SALT",
        "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT",
        "NONCE_SALT",
    ] {
        let from = secrets[format!("WORDPRESS_{name}").as_str()];
        assert!(from.contains(":secretsmanager:"), "{name}: {from}");
    }
    let vol = &td.volumes()[0];
    let efs = vol.efs_volume_configuration().unwrap();
    assert_eq!(efs.file_system_id(), fs_id);
    assert_eq!(
        efs.transit_encryption().map(|t| t.as_str()),
        Some("ENABLED")
    );
    let auth = efs.authorization_config().unwrap();
    assert_eq!(auth.access_point_id(), Some(ap_id.as_str()));
    assert_eq!(auth.iam().map(|i| i.as_str()), Some("ENABLED"));
    assert_eq!(
        c.mount_points()[0].container_path(),
        Some("/var/www/html/wp-content")
    );

    // Least privilege: the execution role reads exactly the nine secrets, the database's
    // through a policy of its own (so that the role and the services that use no database
    // need not wait for it); the task role may mount and write this file system. No `*`
    // anywhere.
    let exec = inline_policy(&aws.iam, "wordpress-execution").await;
    let db_grant = aws
        .iam
        .get_role_policy()
        .role_name("wordpress-execution")
        .policy_name("ecsdeploy-db-db")
        .send()
        .await
        .unwrap();
    let db_grant = policy_json(db_grant.policy_document());
    let mut granted = vec![];
    for doc in [&exec, &db_grant] {
        assert!(!doc.to_string().contains("\"*\""), "{doc}");
        let st = &doc["Statement"][0];
        assert_eq!(
            string_list(&st["Action"]),
            ["secretsmanager:GetSecretValue"]
        );
        granted.extend(string_list(&st["Resource"]));
    }
    let db_secret = secrets["WORDPRESS_DB_PASSWORD"].trim_end_matches(":password::");
    assert_eq!(
        string_list(&db_grant["Statement"][0]["Resource"]),
        [db_secret]
    );
    granted.sort();
    let mut want: Vec<String> = secrets
        .values()
        .map(|v| v.trim_end_matches(":password::").to_string())
        .collect();
    want.sort();
    assert_eq!(granted, want);
    let task = inline_policy(&aws.iam, "wordpress-web-task").await;
    assert!(!task.to_string().contains("\"*\""), "{task}");
    let st = &task["Statement"][0];
    assert_eq!(
        string_list(&st["Action"]),
        [
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite"
        ]
    );
    assert_eq!(
        string_list(&st["Resource"]),
        [fs.file_system_arn().unwrap()]
    );

    // WordPress answers 302 until it is installed.
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(
        tgs.target_groups()[0].matcher().and_then(|m| m.http_code()),
        Some("200,302")
    );

    // A second `up` writes nothing; no secret value ever reaches the output.
    proxy.clear();
    let again = ecsdeploy(&proxy, &cfg, &["up", "-v"]).await;
    again.assert_success();
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");
    let status = ecsdeploy(&proxy, &cfg, &["status"]).await;
    status.assert_success();
    assert!(status.stdout.contains(DB), "{status}");
    assert!(status.stdout.contains(&endpoint), "{status}");
    let values = secret_values(&aws).await;
    assert_eq!(
        values.len(),
        9,
        "eight generated secrets and the database's password"
    );
    for out in [&up, &again, &status] {
        for v in &values {
            assert!(!out.stdout.contains(v.as_str()) && !out.stderr.contains(v.as_str()));
        }
    }
}

/// A database made by an earlier version, whose master password RDS manages and rotates
/// every 7 days, moves onto the generated secret with the password it has now: the running
/// tasks hold that password, so they keep working.
#[tokio::test]
async fn an_rds_managed_password_moves_to_the_generated_secret_unchanged() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = example(APP);
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    // What an earlier version left: RDS manages the password, no generated secret.
    aws.secrets
        .delete_secret()
        .secret_id("wordpress/databases/db")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let managed = aws
        .rds
        .modify_db_instance()
        .db_instance_identifier(DB)
        .manage_master_user_password(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let managed = managed
        .db_instance()
        .and_then(|d| d.master_user_secret())
        .and_then(|s| s.secret_arn())
        .unwrap()
        .to_string();
    let current = aws
        .secrets
        .get_secret_value()
        .secret_id(&managed)
        .send()
        .await
        .unwrap();
    let current: serde_json::Value =
        serde_json::from_str(current.secret_string().unwrap()).unwrap();
    let current = current["password"].as_str().unwrap().to_string();

    let plan = ecsdeploy(&proxy, &cfg, &["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("password_rotated_by_rds"), "{plan}");
    proxy.clear();
    let up = ecsdeploy(&proxy, &cfg, &["up"]).await;
    up.assert_success();
    assert!(
        up.stderr
            .contains("master password moves from RDS's rotating secret"),
        "{up}"
    );

    let dbs = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(DB)
        .send()
        .await
        .unwrap();
    assert!(dbs.db_instances()[0].master_user_secret().is_none());
    let modified = proxy.bodies("ModifyDBInstance");
    assert_eq!(modified.len(), 1);
    let modified = form(modified[0].as_bytes());
    assert!(modified.contains(&("ManageMasterUserPassword".into(), "false".into())));
    assert!(
        modified.contains(&("MasterUserPassword".into(), current.clone())),
        "the instance keeps its current password"
    );
    let ours = aws
        .secrets
        .get_secret_value()
        .secret_id("wordpress/databases/db")
        .send()
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(ours.secret_string().unwrap()).unwrap();
    assert_eq!(value["password"], current.as_str());
    assert_eq!(value["username"], "wordpress");
    // RDS's own secret is gone, and the service reads the generated one.
    assert!(aws
        .secrets
        .describe_secret()
        .secret_id(&managed)
        .send()
        .await
        .map_or(true, |d| d.deleted_date().is_some()));
    let families = aws.ecs.list_task_definitions().send().await.unwrap();
    let latest = families.task_definition_arns().last().unwrap();
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(latest)
        .send()
        .await
        .unwrap();
    let from: Vec<&str> = td.task_definition().unwrap().container_definitions()[0]
        .secrets()
        .iter()
        .filter(|s| s.name() == "WORDPRESS_DB_PASSWORD")
        .map(|s| s.value_from())
        .collect();
    assert_eq!(from, [format!("{}:password::", ours.arn().unwrap())]);
    for out in [&plan, &up] {
        assert!(!out.stdout.contains(&current) && !out.stderr.contains(&current));
    }

    // Converged: the next `up` writes nothing.
    proxy.clear();
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    assert_eq!(proxy.writes(), vec![]);
}

#[tokio::test]
async fn down_keeps_the_data_and_delete_data_removes_it_after_a_final_snapshot() {
    let proxy = Proxy::start(&unique_account()).await;
    let aws = aws(&proxy).await;
    let cfg = example(APP);
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let auth_key = aws
        .secrets
        .get_secret_value()
        .secret_id("wordpress/auth-key")
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_string();

    let down = ecsdeploy(&proxy, &cfg, &["down", "--yes"]).await;
    down.assert_success();
    for kept in [
        "kept: db_instance.db (wordpress-db)",
        "kept: file_system.content",
        "kept: secret.auth-key (wordpress/auth-key)",
        "kept: vpc.main",
    ] {
        assert!(down.stdout.contains(kept), "{kept}\n{down}");
    }
    // The data is there; what only served the app is gone.
    let dbs = aws.rds.describe_db_instances().send().await.unwrap();
    assert_eq!(dbs.db_instances().len(), 1);
    assert_eq!(
        aws.efs
            .describe_file_systems()
            .send()
            .await
            .unwrap()
            .file_systems()
            .len(),
        1
    );
    assert_eq!(private_subnets(&aws).await.len(), 2);
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    assert!(lbs.load_balancers().is_empty());
    let nats = aws
        .ec2
        .describe_nat_gateways()
        .filter(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(nats
        .nat_gateways()
        .iter()
        .all(|n| matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting"))));

    // `up` brings the app back onto the same data: the same secret value, one database.
    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();
    let again = aws
        .secrets
        .get_secret_value()
        .secret_id("wordpress/auth-key")
        .send()
        .await
        .unwrap();
    assert_eq!(again.secret_string(), Some(auth_key.as_str()));
    let dbs = aws.rds.describe_db_instances().send().await.unwrap();
    assert_eq!(dbs.db_instances().len(), 1);

    let gone = ecsdeploy(&proxy, &cfg, &["down", "--yes", "--delete-data"]).await;
    gone.assert_success();
    let dbs = aws.rds.describe_db_instances().send().await.unwrap();
    assert!(dbs.db_instances().is_empty(), "database deleted");
    let snaps = aws.rds.describe_db_snapshots().send().await.unwrap();
    assert!(
        snaps.db_snapshots().iter().any(|s| s
            .db_snapshot_identifier()
            .unwrap_or("")
            .starts_with("wordpress-db-final-")),
        "a final snapshot is taken: {:?}",
        snaps.db_snapshots()
    );
    let fss = aws.efs.describe_file_systems().send().await.unwrap();
    assert!(fss.file_systems().is_empty(), "file system deleted");
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(owned_by(APP))
        .send()
        .await
        .unwrap();
    assert!(
        vpcs.vpcs().is_empty(),
        "the kept network goes with the data"
    );
    for key in ["auth-key", "nonce-salt"] {
        let s = aws
            .secrets
            .describe_secret()
            .secret_id(format!("wordpress/{key}"))
            .send()
            .await;
        match s {
            Ok(s) => assert!(s.deleted_date().is_some(), "{key} scheduled for deletion"),
            Err(e) => assert!(format!("{e:?}").contains("ResourceNotFound"), "{e:?}"),
        }
    }
}
