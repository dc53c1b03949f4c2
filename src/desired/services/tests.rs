//! The service security group's rules: a task-definition file's ports, the load balancer's.

use super::*;

/// The resources of a config (`ecsdeploy.toml`) beside the given files, in Tokyo.
fn with_files(config: &str, files: &[(&str, &str)]) -> Vec<Resource> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, config).unwrap();
    let loaded = crate::config::load_file(&path).unwrap();
    crate::desired::build(&loaded.config, &crate::plan::fixtures::tokyo())
}

/// Service `a` depends on `b`, whose task-definition file maps 8125/udp (statsd), 8126/tcp
/// and the range 10000-10099/udp on its main container, and opens 8125 to a CIDR.
fn with_native_udp() -> Vec<Resource> {
    let b = r#"{"containerDefinitions": [{"name": "b", "image": "statsd:1",
            "portMappings": [{"containerPort": 8125, "protocol": "udp"},
                             {"containerPort": 8126, "protocol": "tcp"},
                             {"containerPortRange": "10000-10099", "protocol": "udp"}]}]}"#;
    let config = r#"app = "demo"
region = "ap-northeast-1"
[services.a]
image = "busybox:1.36"
depends_on = ["b"]
[services.b]
task_definition = "b.json"
ingress = [{ port = 8125, cidrs = ["10.0.0.0/16"] }]
"#;
    with_files(config, &[("b.json", b)])
}

#[test]
fn peers_reach_each_native_port_and_range_on_its_protocol() {
    let rs = with_native_udp();
    let from_a = Source::Group(Val::Ref(Ref::id(&service_sg_id("a"))));
    let cidr = Source::Cidr("10.0.0.0/16".to_string());
    let rule = |p: &str, from, to, source: &Source| (p.to_string(), from, to, source.clone());
    assert_eq!(
        rules_of(&rs, "b"),
        [
            rule("tcp", 8126, 8126, &from_a),
            rule("udp", 8125, 8125, &cidr),
            rule("udp", 8125, 8125, &from_a),
            rule("udp", 10000, 10099, &from_a),
        ]
    );
}

/// The security group's rules as (protocol, from, to, source).
fn rules_of(rs: &[Resource], key: &str) -> Vec<(String, i32, i32, Source)> {
    let sg = rs
        .iter()
        .find(|r| r.id == service_sg_id(key))
        .expect("the service's security group");
    let Spec::SecurityGroup(sg) = &sg.spec else {
        panic!("not a security group")
    };
    sg.ingress
        .iter()
        .map(|r| (r.protocol.clone(), r.from_port, r.to_port, r.source.clone()))
        .collect()
}

#[test]
fn the_load_balancer_reaches_a_health_check_on_another_port() {
    use crate::plan::fixtures::{behind_alb, desired};
    let with_health_port = |port: &str| {
        desired(&format!(
            "{}[services.web.target_group.health_check]\nport = \"{port}\"\n",
            behind_alb("")
        ))
    };
    let from_lb = Source::Group(Val::Ref(Ref::id(&lb_sg_id())));
    let tcp = |port| ("tcp".to_string(), port, port, from_lb.clone());
    assert_eq!(
        rules_of(&with_health_port("8081"), "web"),
        [tcp(80), tcp(8081)]
    );
    // The traffic port written as a number is one rule, not two.
    assert_eq!(rules_of(&with_health_port("80"), "web"), [tcp(80)]);
}
