//! A service described by a native ECS task-definition JSON file (the `aws ecs
//! register-task-definition --cli-input-json` format ecspresso uses): registered with what
//! ecsdeploy owns filled in, read back through describe, and stable across `up`s.

mod common;

use std::path::PathBuf;

use common::{run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "us-east-1";

const TASKDEF: &str = r#"{
  "family": "ignored-family",
  "cpu": "512",
  "memory": "1024",
  "networkMode": "bridge",
  "requiresCompatibilities": ["EC2"],
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "executionRoleArn": "arn:aws:iam::123456789012:role/someone-elses-role",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "public.ecr.aws/nginx/nginx:1.27",
      "essential": true,
      "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp", "name": "http", "appProtocol": "http"}],
      "mountPoints": [], "volumesFrom": [], "systemControls": [], "privileged": false,
      "startTimeout": 45,
      "environment": [{"name": "MODE", "value": "prod"}],
      "entryPoint": ["/docker-entrypoint.sh"],
      "command": ["nginx", "-g", "daemon off;"],
      "workingDirectory": "/srv",
      "user": "101",
      "readonlyRootFilesystem": true,
      "pseudoTerminal": true, "versionConsistency": "disabled",
      "restartPolicy": {"enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
      "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
      "linuxParameters": {"initProcessEnabled": true, "capabilities": {"add": ["SYS_PTRACE"], "drop": []}},
      "memoryReservation": 256,
      "dockerLabels": {"team": "web"},
      "healthCheck": {"command": ["CMD", "curl", "-f", "http://localhost/"], "interval": 10, "retries": 2},
      "stopTimeout": 20,
      "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/elsewhere"}}
    },
    {
      "name": "log-router",
      "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
      "essential": false,
      "dependsOn": [],
      "mountPoints": [
        {"sourceVolume": "scratch", "containerPath": "/fluent-bit/buffer"},
        {"sourceVolume": "shared", "containerPath": "/shared", "readOnly": true}
      ]
    }
  ],
  "volumes": [
    {"name": "scratch", "host": null},
    {"name": "shared", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", "rootDirectory": "/logs", "transitEncryption": "ENABLED"}}
  ],
  "ephemeralStorage": {"sizeInGiB": 30},
  "pidMode": "task",
  "enableFaultInjection": true
}"#;

const CONFIG: &str = r#"app = "nativetd"
[services.web]
task_definition = "web-taskdef.json"
ingress = [{ port = 80, cidrs = ["10.0.0.0/16"] }]
"#;

fn project(taskdef: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("web-taskdef.json"), taskdef).unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, CONFIG).unwrap();
    (dir, path)
}

async fn ecsdeploy(proxy: &Proxy, config: &std::path::Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_the_file_with_what_ecsdeploy_owns_and_converges() {
    let proxy = Proxy::start(&unique_account()).await;
    let (dir, config) = project(TASKDEF);
    let up = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    up.assert_success();
    assert!(
        up.stderr
            .contains("`executionRoleArn` in the task-definition file is ignored"),
        "{up}"
    );

    let ecs = aws_sdk_ecs::Client::new(&sdk_config(&proxy, REGION).await);
    let td = ecs
        .describe_task_definition()
        .task_definition("nativetd-web")
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    // Owned by ecsdeploy: family, awsvpc, Fargate, its own execution role, logs.
    assert_eq!(td.family(), Some("nativetd-web"));
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("awsvpc"));
    assert_eq!(
        td.requires_compatibilities()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        ["FARGATE"]
    );
    assert!(
        td.execution_role_arn()
            .unwrap()
            .ends_with(":role/ecsdeploy/nativetd/us-east-1/nativetd-execution"),
        "{:?}",
        td.execution_role_arn()
    );
    // From the file: size, architecture, both containers and their settings.
    assert_eq!((td.cpu(), td.memory()), (Some("512"), Some("1024")));
    assert_eq!(
        td.runtime_platform()
            .and_then(|r| r.cpu_architecture())
            .map(|a| a.as_str()),
        Some("ARM64")
    );
    let names: Vec<&str> = td
        .container_definitions()
        .iter()
        .filter_map(|c| c.name())
        .collect();
    assert_eq!(names, ["app", "log-router"]);
    let app = &td.container_definitions()[0];
    assert_eq!(app.image(), Some("public.ecr.aws/nginx/nginx:1.27"));
    assert_eq!(app.entry_point(), ["/docker-entrypoint.sh"]);
    assert_eq!(app.command(), ["nginx", "-g", "daemon off;"]);
    assert_eq!(app.working_directory(), Some("/srv"));
    assert_eq!(app.user(), Some("101"));
    assert_eq!(app.readonly_root_filesystem(), Some(true));
    assert_eq!(app.memory_reservation(), Some(256));
    assert_eq!(
        app.docker_labels()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("web")
    );
    assert_eq!(
        app.health_check().unwrap().command(),
        ["CMD", "curl", "-f", "http://localhost/"]
    );
    assert_eq!(app.port_mappings()[0].container_port(), Some(80));
    assert_eq!(
        app.port_mappings()[0].app_protocol().map(|a| a.as_str()),
        Some("http")
    );
    assert_eq!(app.start_timeout(), Some(45));
    let lp = app.linux_parameters().unwrap();
    assert_eq!(lp.init_process_enabled(), Some(true));
    assert_eq!(lp.capabilities().unwrap().add(), ["SYS_PTRACE"]);
    // Task storage, volumes and their mount points, as the file says.
    assert_eq!(td.ephemeral_storage().map(|e| e.size_in_gib()), Some(30));
    let sent: serde_json::Value =
        serde_json::from_str(&proxy.bodies("RegisterTaskDefinition")[0]).unwrap();
    assert_eq!(sent["enableFaultInjection"], true, "{sent}");
    assert_eq!(td.pid_mode().map(|m| m.as_str()), Some("task"));
    assert_eq!(
        sent["containerDefinitions"][0]["pseudoTerminal"], true,
        "{sent}"
    );
    assert_eq!(
        sent["containerDefinitions"][0]["versionConsistency"],
        "disabled"
    );
    assert_eq!(
        sent["containerDefinitions"][0]["restartPolicy"]["ignoredExitCodes"],
        serde_json::json!([0])
    );
    assert_eq!(
        sent["containerDefinitions"][0]["systemControls"][0]["namespace"],
        "net.core.somaxconn"
    );
    let volumes: Vec<(&str, Option<&str>)> = td
        .volumes()
        .iter()
        .map(|v| {
            let efs = v.efs_volume_configuration();
            (v.name().unwrap(), efs.map(|e| e.file_system_id()))
        })
        .collect();
    assert_eq!(
        volumes,
        [("scratch", None), ("shared", Some("fs-12345678"))]
    );
    let shared = td.volumes()[1].efs_volume_configuration().unwrap();
    assert_eq!(shared.root_directory(), Some("/logs"));
    let log = app.log_configuration().unwrap();
    assert_eq!(log.log_driver().as_str(), "awslogs");
    let options = log.options().unwrap();
    assert_eq!(
        options.get("awslogs-group").map(String::as_str),
        Some("/ecs/nativetd")
    );
    assert_eq!(
        options.get("awslogs-stream-prefix").map(String::as_str),
        Some("web")
    );
    let router = &td.container_definitions()[1];
    assert_eq!(router.essential(), Some(false));
    let mounts: Vec<(&str, &str, Option<bool>)> = router
        .mount_points()
        .iter()
        .map(|m| {
            (
                m.source_volume().unwrap(),
                m.container_path().unwrap(),
                m.read_only(),
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            ("scratch", "/fluent-bit/buffer", Some(false)),
            ("shared", "/shared", Some(true))
        ]
    );
    assert_eq!(
        router
            .log_configuration()
            .and_then(|l| l.options())
            .and_then(|o| o.get("awslogs-stream-prefix"))
            .map(String::as_str),
        Some("web-log-router")
    );

    // Read back, the registered definition equals the file: nothing to do.
    proxy.clear();
    let again = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    again.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());

    // An edit in the file is a field diff and a new revision.
    std::fs::write(
        dir.path().join("web-taskdef.json"),
        TASKDEF.replace("\"prod\"", "\"staging\""),
    )
    .unwrap();
    let plan = ecsdeploy(&proxy, &config, &["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("task_definition.web"), "{plan}");
    assert!(plan.stdout.contains("staging"), "{plan}");
    ecsdeploy(&proxy, &config, &["up", "--no-wait"])
        .await
        .assert_success();
    let td = ecs
        .describe_task_definition()
        .task_definition("nativetd-web")
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!(td.revision(), 2);
    let env = td.container_definitions()[0].environment();
    assert_eq!(env[0].value(), Some("staging"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_ecsdeploy_cannot_register_faithfully_is_refused_before_any_call() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, config) = project(&TASKDEF.replace(
        "\"initProcessEnabled\": true,",
        "\"initProcessEnabled\": true, \"tmpfs\": [{\"containerPath\": \"/tmp\", \"size\": 64}],",
    ));
    let out = ecsdeploy(&proxy, &config, &["up"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("services.web.task_definition"), "{out}");
    assert!(
        out.stderr
            .contains("linuxParameters.tmpfs` is not supported on Fargate"),
        "{out}"
    );
    assert!(proxy.calls().is_empty(), "{:?}", proxy.calls());

    // Container keys in TOML next to a task-definition file are a conflict.
    std::fs::write(&config, format!("{CONFIG}cpu = 1024\n")).unwrap();
    let out = ecsdeploy(&proxy, &config, &["up"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("services.web.cpu"), "{out}");
    assert!(
        out.stderr
            .contains("cannot be combined with `task_definition`"),
        "{out}"
    );
}

/// Keys ECS reads with the execution role, and FireLens: a router, an app container whose
/// logs go through it, environment files in S3, registry credentials given by name, and a
/// port range.
const TASKDEF_KEYS: &str = r#"{
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "registry.example.com/team/app:1",
      "essential": true,
      "repositoryCredentials": {"credentialsParameter": "registry-creds"},
      "environmentFiles": [
        {"value": "arn:aws:s3:::nativetd-config/prod/app.env", "type": "s3"},
        {"value": "arn:aws:s3:::nativetd-shared/common.env", "type": "s3"}
      ],
      "portMappings": [{"containerPort": 80}, {"containerPortRange": "8000-8010", "protocol": "udp"}],
      "logConfiguration": {
        "logDriver": "awsfirelens",
        "options": {"Name": "firehose", "region": "us-east-1", "delivery_stream": "app-logs"},
        "secretOptions": [{"name": "apikey", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:log-key-AbCdEf"}]
      }
    },
    {
      "name": "log-router",
      "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
      "essential": true,
      "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
      "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/elsewhere"}}
    }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_files_registry_credentials_and_firelens_are_registered_and_granted() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let creds = aws_sdk_secretsmanager::Client::new(&conf)
        .create_secret()
        .name("registry-creds")
        .secret_string("{\"username\":\"u\",\"password\":\"p\"}")
        .send()
        .await
        .unwrap();
    let creds_arn = creds.arn().unwrap().to_string();
    let (dir, config) = project(TASKDEF_KEYS);
    let up = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    up.assert_success();
    assert!(
        up.stderr.contains("FireLens log router `log-router`")
            && up.stderr.contains("`task_policy`"),
        "{up}"
    );

    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .describe_task_definition()
        .task_definition("nativetd-web")
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    let (app, router) = (
        &td.container_definitions()[0],
        &td.container_definitions()[1],
    );
    // Registered as the file says.
    let files: Vec<(&str, &str)> = app
        .environment_files()
        .iter()
        .map(|f| (f.value(), f.r#type().as_str()))
        .collect();
    assert_eq!(
        files,
        [
            ("arn:aws:s3:::nativetd-config/prod/app.env", "s3"),
            ("arn:aws:s3:::nativetd-shared/common.env", "s3")
        ]
    );
    assert_eq!(
        app.repository_credentials()
            .map(|r| r.credentials_parameter()),
        Some("registry-creds")
    );
    let ranges: Vec<(Option<&str>, Option<&str>)> = app
        .port_mappings()
        .iter()
        .map(|p| (p.container_port_range(), p.protocol().map(|x| x.as_str())))
        .collect();
    assert_eq!(
        ranges,
        [(None, Some("tcp")), (Some("8000-8010"), Some("udp"))]
    );
    let log = app.log_configuration().unwrap();
    assert_eq!(log.log_driver().as_str(), "awsfirelens");
    assert_eq!(
        log.options()
            .and_then(|o| o.get("delivery_stream"))
            .map(String::as_str),
        Some("app-logs")
    );
    assert_eq!(log.secret_options()[0].name(), "apikey");
    let firelens = router.firelens_configuration().unwrap();
    assert_eq!(firelens.r#type().as_str(), "fluentbit");
    // The router's own logs go to the app's log group, as every other container's.
    let own = router.log_configuration().unwrap();
    assert_eq!(own.log_driver().as_str(), "awslogs");
    assert_eq!(
        own.options()
            .and_then(|o| o.get("awslogs-group"))
            .map(String::as_str),
        Some("/ecs/nativetd")
    );

    // The execution role reads exactly what the file names, the registry secret by its ARN.
    let iam = aws_sdk_iam::Client::new(&conf);
    let doc = common::inline_policy(&iam, "nativetd-execution").await;
    assert!(!doc.to_string().contains("\"*\""), "{doc}");
    let mut grants: Vec<(Vec<String>, Vec<String>)> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                common::string_list(&st["Action"]),
                common::string_list(&st["Resource"]),
            )
        })
        .collect();
    grants.sort();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // A name ending like Secrets Manager's suffix may be a full ARN or a partial one
    // (`log-key-AbCdEf` could be the secret `log-key-AbCdEf-XXXXXX`): both are granted.
    let mut secrets = vec![
        creds_arn.clone(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:log-key-AbCdEf".to_string(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:log-key-AbCdEf-??????".to_string(),
    ];
    secrets.sort();
    assert_eq!(
        grants,
        [
            (
                strings(&["s3:GetBucketLocation"]),
                strings(&[
                    "arn:aws:s3:::nativetd-config",
                    "arn:aws:s3:::nativetd-shared"
                ])
            ),
            (
                strings(&["s3:GetObject"]),
                strings(&[
                    "arn:aws:s3:::nativetd-config/prod/app.env",
                    "arn:aws:s3:::nativetd-shared/common.env"
                ])
            ),
            (strings(&["secretsmanager:GetSecretValue"]), secrets),
        ]
    );

    // Read back, nothing differs: no write.
    proxy.clear();
    let again = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    again.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());

    // A change to the router's options is an update of the task definition.
    std::fs::write(
        dir.path().join("web-taskdef.json"),
        TASKDEF_KEYS.replace("\"app-logs\"", "\"app-logs-2\""),
    )
    .unwrap();
    let plan = ecsdeploy(&proxy, &config, &["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("task_definition.web"), "{plan}");
    assert!(plan.stdout.contains("app-logs-2"), "{plan}");
}

/// Registry credentials named by a secret name that does not exist: `up` stops before any
/// change, naming the key (the execution role could not be granted the secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_credentials_naming_no_secret_stop_up_before_any_change() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, config) = project(TASKDEF_KEYS);
    let out = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains(
            "services.web.task_definition: containerDefinitions[0].repositoryCredentials.\
             credentialsParameter: secret `registry-creds` does not exist"
        ),
        "{out}"
    );
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
}

/// Domainless gMSA for a Linux container on Fargate: the CredSpec in S3.
const TASKDEF_GMSA: &str = r#"{
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "arn:aws:iam::123456789012:role/gmsa-exec",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "public.ecr.aws/nginx/nginx:1.27",
      "essential": true,
      "portMappings": [{"containerPort": 80}],
      "credentialSpecs": ["credentialspecdomainless:arn:aws:s3:::nativetd-gmsa/web-credspec.json"]
    }
  ]
}"#;

/// `credentialSpecs` is registered as written and read back (a second `up` writes nothing)
/// with an existing execution role; with the role ecsdeploy would create (which could not
/// read the domain user's secret the CredSpec names) `up` stops before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_specs_are_registered_with_an_existing_execution_role() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;

    // The role ecsdeploy creates: refused, naming the key and the file's own role.
    let (dir, config) = project(TASKDEF_GMSA);
    let out = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains(
            "`containerDefinitions[0].credentialSpecs` (gMSA) needs an existing execution role"
        ) && out
            .stderr
            .contains("`arn:aws:iam::123456789012:role/gmsa-exec`"),
        "{out}"
    );
    assert!(proxy.calls().is_empty(), "{:?}", proxy.calls());

    let iam = aws_sdk_iam::Client::new(&conf);
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}"#;
    let role = iam
        .create_role()
        .role_name("gmsa-exec")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let arn = role.role().unwrap().arn().to_string();
    std::fs::write(
        &config,
        CONFIG.replacen(
            "[services.web]",
            &format!("[iam]\nexecution_role = \"{arn}\"\n\n[services.web]"),
            1,
        ),
    )
    .unwrap();
    let up = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    up.assert_success();
    // What the existing role must allow, said as a warning.
    assert!(
        up.stderr.contains(
            "s3:GetObject and s3:GetObjectVersion on the CredSpec \
             `arn:aws:s3:::nativetd-gmsa/web-credspec.json` and s3:ListBucket on \
             `arn:aws:s3:::nativetd-gmsa`"
        ) && up
            .stderr
            .contains("secretsmanager:GetSecretValue on the domain user's secret"),
        "{up}"
    );

    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .describe_task_definition()
        .task_definition("nativetd-web")
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!(td.execution_role_arn(), Some(arn.as_str()));
    assert_eq!(
        td.container_definitions()[0].credential_specs(),
        ["credentialspecdomainless:arn:aws:s3:::nativetd-gmsa/web-credspec.json"]
    );
    // The existing role is not modified: no inline policy, and no role of ecsdeploy's.
    let policies = iam
        .list_role_policies()
        .role_name("gmsa-exec")
        .send()
        .await
        .unwrap();
    assert!(policies.policy_names().is_empty(), "{policies:?}");
    assert!(iam
        .get_role()
        .role_name("nativetd-execution")
        .send()
        .await
        .is_err());

    // Read back, nothing differs: no write.
    proxy.clear();
    let again = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    again.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());

    // The CredSpec moved to SSM: an update of the task definition.
    let ssm = "credentialspecdomainless:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/web";
    std::fs::write(
        dir.path().join("web-taskdef.json"),
        TASKDEF_GMSA.replace(
            "credentialspecdomainless:arn:aws:s3:::nativetd-gmsa/web-credspec.json",
            ssm,
        ),
    )
    .unwrap();
    let plan = ecsdeploy(&proxy, &config, &["plan"]).await;
    plan.assert_success();
    assert!(plan.stdout.contains("task_definition.web"), "{plan}");
    assert!(plan.stdout.contains("parameter/gmsa/web"), "{plan}");
}

/// A statsd service whose file maps 8125/udp and 8126/tcp on its main container, and a
/// client that depends on it.
const TASKDEF_STATSD: &str = r#"{"containerDefinitions": [{
  "name": "web", "image": "public.ecr.aws/docker/library/busybox:1.36",
  "portMappings": [{"containerPort": 8125, "protocol": "udp"}, {"containerPort": 8126, "protocol": "tcp"},
                   {"containerPortRange": "10000-10099", "protocol": "udp"}]
}]}"#;

/// The client reaches the statsd service's UDP port over UDP, its TCP port over TCP and its
/// UDP port range over UDP, from the client's group only; no TCP rule for the UDP port. Read back, the rules equal
/// the desired ones: a second `up` writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_reaches_the_files_udp_ports_and_ranges_over_udp() {
    let proxy = Proxy::start(&unique_account()).await;
    let (_dir, config) = project(TASKDEF_STATSD);
    std::fs::write(
        &config,
        "app = \"nativetd\"\n[services.web]\ntask_definition = \"web-taskdef.json\"\n\
         [services.client]\nimage = \"public.ecr.aws/docker/library/busybox:1.36\"\n\
         depends_on = [\"web\"]\n",
    )
    .unwrap();
    ecsdeploy(&proxy, &config, &["up", "--no-wait"])
        .await
        .assert_success();

    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&proxy, REGION).await);
    let group = |name: &str| {
        let filter = aws_sdk_ec2::types::Filter::builder()
            .name("group-name")
            .values(name)
            .build();
        ec2.describe_security_groups().filters(filter).send()
    };
    let client = group("nativetd-client").await.unwrap();
    let client = client.security_groups()[0].group_id().unwrap().to_string();
    let web = group("nativetd-web").await.unwrap();
    // Each permission as `protocol from-to <- source groups`.
    let mut rules: Vec<String> = web.security_groups()[0]
        .ip_permissions()
        .iter()
        .map(|p| {
            let from: Vec<&str> = p
                .user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id())
                .collect();
            format!(
                "{} {:?}-{:?} <- {}",
                p.ip_protocol().unwrap_or_default(),
                p.from_port(),
                p.to_port(),
                from.join(",")
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            format!("tcp Some(8126)-Some(8126) <- {client}"),
            format!("udp Some(10000)-Some(10099) <- {client}"),
            format!("udp Some(8125)-Some(8125) <- {client}"),
        ]
    );

    proxy.clear();
    let again = ecsdeploy(&proxy, &config, &["up", "--no-wait"]).await;
    again.assert_success();
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
}
