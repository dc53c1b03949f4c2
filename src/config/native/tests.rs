//! The reader of task-definition files as a whole: what `parse` reads, warns about and
//! refuses.

use super::*;

/// Asserts `errors` are as many as `want`, and that each of `want` is part of one.
#[track_caller]
pub(super) fn assert_errors(errors: &[String], want: &[&str]) {
    for w in want {
        assert!(errors.iter().any(|e| e.contains(w)), "{w}: {errors:#?}");
    }
    assert_eq!(errors.len(), want.len(), "{errors:#?}");
}

const ECSPRESSO_STYLE: &str = r#"{
      "family": "web",
      "cpu": "512",
      "memory": "1024",
      "networkMode": "awsvpc",
      "requiresCompatibilities": ["FARGATE"],
      "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
      "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
      "containerDefinitions": [
        {
          "name": "app",
          "image": "nginx:1.27",
          "essential": true,
          "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp", "name": "http"}],
          "environment": [{"name": "MODE", "value": "prod"}],
          "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:tok"}],
          "entryPoint": ["/docker-entrypoint.sh"],
          "command": ["nginx", "-g", "daemon off;"],
          "healthCheck": {"command": ["CMD", "curl", "-f", "http://localhost/"], "interval": 10},
          "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/x"}}
        },
        {"name": "sidecar", "image": "busybox", "essential": false,
         "dependsOn": [{"containerName": "app", "condition": "START"}]}
      ]
    }"#;

#[test]
fn reads_an_ecspresso_style_file() {
    let p = parse(ECSPRESSO_STYLE);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let d = p.def.unwrap();
    assert_eq!(d.cpu.as_ref().and_then(Units::value), Some(512));
    assert_eq!(d.container_definitions.len(), 2);
    assert_eq!(d.main_container("web").unwrap().name, "app");
    assert_eq!(d.main_container("sidecar").unwrap().name, "sidecar");
    let owned: Vec<&String> = p.warnings.iter().collect();
    assert!(
        owned.iter().any(|w| w.contains("`executionRoleArn`")),
        "{owned:?}"
    );
    assert!(
        owned.iter().any(|w| w.contains("logConfiguration")),
        "{owned:?}"
    );
}

#[test]
fn unsupported_keys_are_errors_with_their_path() {
    let text = ECSPRESSO_STYLE.replace(
        "\"essential\": true,",
        "\"essential\": true, \"dnsServers\": [\"10.0.0.2\"],",
    );
    let p = parse(&text);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(
        p.errors[0].contains("containerDefinitions.0.dnsServers")
            || p.errors[0].contains("containerDefinitions[0].dnsServers"),
        "{:?}",
        p.errors
    );
    let p = parse(&ECSPRESSO_STYLE.replace("\"family\": \"web\",", "\"pidMode\": \"host\","));
    assert!(p.errors[0].contains("pidMode"), "{:?}", p.errors);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let p = parse("{\n  \"containerDefinitions\": [\n    {\"name\": \"a\",}\n  ]\n}");
    assert_eq!(p.errors.len(), 1);
    assert!(p.errors[0].contains("at line 3 column"), "{:?}", p.errors);
}

#[test]
fn checks_what_ecs_would_refuse() {
    let text = ECSPRESSO_STYLE
        .replace("\"hostPort\": 80", "\"hostPort\": 8080")
        .replace("\"containerName\": \"app\"", "\"containerName\": \"nope\"")
        .replace(
            "\"cpuArchitecture\": \"ARM64\"",
            "\"cpuArchitecture\": \"MIPS\"",
        );
    let p = parse(&text);
    let all = p.errors.join("\n");
    assert!(all.contains("hostPort"), "{all}");
    assert!(all.contains("`nope` is not another container"), "{all}");
    assert!(all.contains("MIPS"), "{all}");
}

/// What AWS accepts and a file from the wild has: nulls and empty lists, the read-only
/// fields of a describe-task-definition output, sizes in vCPU and GB, `privileged:
/// false`, a health check without the `CMD` prefix.
#[test]
fn accepts_what_register_task_definition_accepts() {
    let text = r#"{
          "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
          "revision": 7, "status": "ACTIVE", "compatibilities": ["EC2", "FARGATE"],
          "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
          "registeredAt": "2024-01-01T00:00:00Z", "registeredBy": "arn:aws:iam::123456789012:root",
          "family": "web", "cpu": ".25 vcpu", "memory": ".5 gb",
          "volumes": [], "placementConstraints": [], "ipcMode": null, "proxyConfiguration": null,
          "containerDefinitions": [{
            "name": "web", "image": "nginx", "privileged": false,
            "mountPoints": [], "volumesFrom": [], "systemControls": [], "environmentFiles": [],
            "portMappings": null, "environment": [],
            "healthCheck": {"command": ["curl -f http://localhost/ || exit 1"]}
          }]
        }"#;
    let p = parse(text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let d = p.def.unwrap();
    assert_eq!(d.cpu.as_ref().and_then(Units::value), Some(256));
    assert_eq!(d.memory.as_ref().and_then(Units::value), Some(512));
    let w = p.warnings.join("\n");
    assert!(
        w.contains("`taskDefinitionArn`, `revision`, `status`"),
        "{w}"
    );
    assert!(w.contains("read-only"), "{w}");
    assert!(w.contains("does not start with `CMD`"), "{w}");
}

#[test]
fn sizes_and_type_errors_say_where() {
    for (cpu, want) in [
        ("\"1 vCPU\"", Some(1024)),
        ("\"2048\"", Some(2048)),
        ("\"0.3 vcpu\"", None),
    ] {
        let units: Units = serde_json::from_str(cpu).unwrap();
        assert_eq!(units.value(), want, "{cpu}");
    }
    let p = parse(&ECSPRESSO_STYLE.replace("\"essential\": true,", "\"essential\": \"yes\","));
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert!(
        p.errors[0].starts_with("`containerDefinitions[0].essential`"),
        "{:?}",
        p.errors
    );
    let p = parse(&ECSPRESSO_STYLE.replace(
        "\"image\": \"nginx:1.27\",",
        "\"image\": \"nginx\", \"privileged\": true,",
    ));
    assert!(
        p.errors
            .iter()
            .any(|e| e.contains("not supported on Fargate")),
        "{:?}",
        p.errors
    );
}

#[test]
fn a_file_for_ec2_says_what_changes_for_fargate() {
    let p = parse(
        &ECSPRESSO_STYLE
            .replace("\"awsvpc\"", "\"bridge\"")
            .replace("[\"FARGATE\"]", "[\"EC2\"]"),
    );
    let w = p.warnings.join("\n");
    assert!(w.contains("written for EC2; registered for Fargate"), "{w}");
    assert!(w.contains("networkMode `bridge` becomes `awsvpc`"), "{w}");
    assert!(w.contains("[\"EC2\"] becomes [\"FARGATE\"]"), "{w}");
    let p = parse(ECSPRESSO_STYLE);
    assert!(!p.warnings.join("\n").contains("written for EC2"));
}

#[test]
fn volumes_linux_parameters_and_storage_are_read_and_checked() {
    let ok = r#"{
          "containerDefinitions": [
            {"name": "app", "image": "x", "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
             "linuxParameters": {"initProcessEnabled": true, "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}},
             "portMappings": [{"containerPort": 2000, "protocol": "udp"}]},
            {"name": "side", "image": "y", "volumesFrom": [{"sourceContainer": "app", "readOnly": true}]}
          ],
          "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ENABLED",
                       "authorizationConfig": {"accessPointId": "fsap-1", "iam": "ENABLED"}}},
                      {"name": "tmp", "host": {}}],
          "ephemeralStorage": {"sizeInGiB": 40},
          "enableFaultInjection": true
        }"#;
    let p = parse(ok);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let d = p.def.unwrap();
    assert_eq!(d.volumes.len(), 2);
    assert_eq!(d.ephemeral_storage.map(|e| e.size_in_gib), Some(40));
    let bad = ok
        .replace("\"transitEncryption\": \"ENABLED\",", "")
        .replace("\"SYS_PTRACE\"", "\"NET_ADMIN\"")
        .replace("\"sourceVolume\": \"data\"", "\"sourceVolume\": \"nope\"")
        .replace("\"sizeInGiB\": 40", "\"sizeInGiB\": 500")
        .replace(
            "\"sourceContainer\": \"app\"",
            "\"sourceContainer\": \"side\"",
        );
    assert_errors(
        &parse(&bad).errors,
        &[
            "`volumes[0].efsVolumeConfiguration.transitEncryption` must be ENABLED",
            "`containerDefinitions[0].linuxParameters.capabilities.add[0]`: `NET_ADMIN`",
            "`containerDefinitions[0].mountPoints[0].sourceVolume`: `nope`",
            "`ephemeralStorage.sizeInGiB` is 500",
            "`containerDefinitions[1].volumesFrom[0].sourceContainer`: `side`",
        ],
    );
}

#[test]
fn a_describe_answer_with_a_byte_order_mark_is_read() {
    let text = "\u{feff}{\"taskDefinition\": {\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\", \"portMappings\": [{\"containerPort\": 80, \"hostPort\": 0}]}], \"revision\": 3}, \"tags\": []}";
    let p = parse(text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let w = p.warnings.join("\n");
    assert!(w.contains("whole describe-task-definition answer"), "{w}");
    assert!(w.contains("`revision`"), "{w}");
    assert!(
        w.contains("hostPort dropped from containerDefinitions[0].portMappings[0]"),
        "{w}"
    );
    assert_eq!(
        p.def.unwrap().container_definitions[0].port_mappings[0].host_port,
        None
    );
}

#[test]
fn keys_fargate_refuses_say_why() {
    let p = parse(&ECSPRESSO_STYLE.replace("\"family\": \"web\",", "\"ipcMode\": \"host\","));
    assert!(
        p.errors[0].contains("`ipcMode`: not supported on Fargate"),
        "{:?}",
        p.errors
    );
}

#[test]
fn a_container_port_is_in_one_mapping_whatever_its_protocol() {
    let file = |ports: &str| {
        format!(
            r#"{{"containerDefinitions": [
                 {{"name": "app", "image": "x", "portMappings": [{{"containerPort": 80}}]}},
                 {{"name": "dns", "image": "y", "portMappings": [{ports}]}}
               ]}}"#
        )
    };
    let udp = file(r#"{"containerPort": 53, "protocol": "udp"}, {"containerPort": 80}"#);
    let p = parse(&udp);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let ports = &p.def.unwrap().container_definitions[1].port_mappings;
    assert_eq!(ports[0].protocol.as_deref(), Some("udp"));
    // The same port on TCP too: ecsdeploy registers a container port once.
    let both = file(
        r#"{"containerPort": 53, "protocol": "udp"}, {"containerPort": 80},
           {"containerPort": 53, "protocol": "tcp"}"#,
    );
    assert_errors(
        &parse(&both).errors,
        &[
            "`containerDefinitions[1].portMappings[2]` maps container port 53 again (also \
           `portMappings[0]`)",
        ],
    );
}
