//! The service security group's rules for a task-definition file's ports.

use super::*;

/// Service `a` depends on `b`, whose task-definition file maps 8125/udp (statsd), 8126/tcp
/// and the range 10000-10099/udp on its main container, and opens 8125 to a CIDR.
fn with_native_udp() -> Vec<Resource> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        r#"{"containerDefinitions": [{"name": "b", "image": "statsd:1",
            "portMappings": [{"containerPort": 8125, "protocol": "udp"},
                             {"containerPort": 8126, "protocol": "tcp"},
                             {"containerPortRange": "10000-10099", "protocol": "udp"}]}]}"#,
    )
    .unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(
        &path,
        r#"app = "demo"
region = "ap-northeast-1"
[services.a]
image = "busybox:1.36"
depends_on = ["b"]
[services.b]
task_definition = "b.json"
ingress = [{ port = 8125, cidrs = ["10.0.0.0/16"] }]
"#,
    )
    .unwrap();
    let loaded = crate::config::load_file(&path).unwrap();
    crate::desired::build(&loaded.config, &crate::plan::fixtures::tokyo())
}

#[test]
fn peers_reach_each_native_port_and_range_on_its_protocol() {
    let rs = with_native_udp();
    let sg = rs
        .iter()
        .find(|r| r.id == service_sg_id("b"))
        .expect("b's security group");
    let Spec::SecurityGroup(sg) = &sg.spec else {
        panic!("not a security group")
    };
    let from_a = Source::Group(Val::Ref(Ref::id(&service_sg_id("a"))));
    let rules: Vec<(&str, i32, i32, &Source)> = sg
        .ingress
        .iter()
        .map(|r| (r.protocol.as_str(), r.from_port, r.to_port, &r.source))
        .collect();
    let cidr = Source::Cidr("10.0.0.0/16".to_string());
    assert_eq!(
        rules,
        [
            ("tcp", 8126, 8126, &from_a),
            ("udp", 8125, 8125, &cidr),
            ("udp", 8125, 8125, &from_a),
            ("udp", 10000, 10099, &from_a),
        ],
        "{:#?}",
        sg.ingress
    );
}
