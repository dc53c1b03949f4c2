//! The services' target groups and their health checks.

use super::load_balancer::{alb, alb_listeners, http_web};
use super::*;

#[test]
fn target_group_must_be_used_and_needs_a_load_balancer() {
    let text = format!(
        "{}[services.api]\nimage = \"nginx\"\nports = [80]\n[services.api.target_group]\nport = 80\n",
        alb_listeners(&http_web())
    );
    one(
        &text,
        "services.api.target_group",
        "target group of service api is not used by any listener",
    );
    let d = one(
        &svc("ports = [80]\n[services.web.target_group]\nport = 80\n"),
        "services.web.target_group",
        "a target_group needs a load balancer",
    );
    assert_eq!(d.line, 6);
}

#[test]
fn target_group_port_and_name() {
    one(
        &alb_listeners(&http_web()).replace("port = 8080\n[load", "port = 9090\n[load"),
        "services.web.target_group.port",
        "port 9090 is not one of the service's ports (8080)",
    );
    let named = |n: &str| alb("", &format!("name = \"{n}\"\n"), "", &http_web());
    one(
        &named("web_tg"),
        "services.web.target_group.name",
        "`web_tg` is not a valid target group name (it contains `_`)",
    );
    one(
        &named("web-"),
        "services.web.target_group.name",
        "starts or ends with a hyphen",
    );
    one(
        &named(&"t".repeat(33)),
        "services.web.target_group.name",
        "33 characters long",
    );
    assert!(diags(&named("bedrock-target-group")).is_empty());
    let dup = format!(
        "{}[services.api]\nimage = \"nginx\"\nports = [80]\n\
         [services.api.target_group]\nport = 80\nname = \"shared\"\n\
         [[load_balancer.listeners.rules]]\nservice = \"api\"\npaths = [\"/api/*\"]\n",
        named("shared")
    );
    one(
        &dup,
        "services.web.target_group.name",
        "target group name `shared` is also the target group name of services.api",
    );
}

#[test]
fn target_group_timings() {
    one(
        &alb("", "deregistration_delay = 3601\n", "", &http_web()),
        "services.web.target_group.deregistration_delay",
        "deregistration_delay is 3601 seconds; it must be 0 to 3600",
    );
    one(
        &alb(
            "",
            "health_check_grace_period = 2147483648\n",
            "",
            &http_web(),
        ),
        "services.web.target_group.health_check_grace_period",
        "it must be 0 to 2147483647",
    );
}

fn hc(body: &str) -> String {
    alb(
        "",
        &format!("[services.web.target_group.health_check]\n{body}"),
        "",
        &http_web(),
    )
}

#[test]
fn health_check_rules() {
    let p = "services.web.target_group.health_check";
    one(
        &hc("path = \"health\"\n"),
        &format!("{p}.path"),
        "health check path `health` does not start with `/`",
    );
    one(
        &hc(&format!("path = \"/{}\"\n", "h".repeat(1024))),
        &format!("{p}.path"),
        "1025 characters long; the limit is 1024",
    );
    for port in ["0", "65536", "http", "080"] {
        one(
            &hc(&format!("port = \"{port}\"\n")),
            &format!("{p}.port"),
            "neither `traffic-port`",
        );
    }
    one(
        &hc("interval = 4\ntimeout = 2\n"),
        &format!("{p}.interval"),
        "interval is 4; it must be 5 to 300",
    );
    one(
        &hc("interval = 301\n"),
        &format!("{p}.interval"),
        "interval is 301",
    );
    one(
        &hc("timeout = 1\n"),
        &format!("{p}.timeout"),
        "timeout is 1; it must be 2 to 120",
    );
    one(
        &hc("interval = 10\ntimeout = 10\n"),
        &format!("{p}.timeout"),
        "timeout (10 s) must be less than interval (10 s)",
    );
    one(
        &hc("healthy_threshold = 1\n"),
        &format!("{p}.healthy_threshold"),
        "healthy_threshold is 1; it must be 2 to 10",
    );
    one(
        &hc("unhealthy_threshold = 11\n"),
        &format!("{p}.unhealthy_threshold"),
        "unhealthy_threshold is 11",
    );
}

#[test]
fn health_check_matcher() {
    let m = |v: &str| hc(&format!("matcher = \"{v}\"\n"));
    let p = "services.web.target_group.health_check.matcher";
    for ok in ["200", "200,302", "200-299", "200-299,404", "499"] {
        assert!(diags(&m(ok)).is_empty(), "{ok}");
    }
    one(
        &m("500"),
        p,
        "matcher `500` is invalid (500 is outside 200 to 499)",
    );
    one(&m("200, 302"), p, "` 302` is not an HTTP status code");
    one(
        &m("299-200"),
        p,
        "range `299-200` does not go from low to high",
    );
    one(&m("2xx"), p, "`2xx` is not an HTTP status code");
    one(&m(""), p, "it is empty");
    one(&m("200,"), p, "`` is not an HTTP status code");
}

/// A task-definition file's UDP port is no target port and no Service Connect port: both
/// carry TCP. The error names the key, before any AWS call.
#[test]
fn a_udp_port_of_a_task_definition_file_is_refused_as_target_and_published_port() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("web.json"),
        r#"{"containerDefinitions": [{"name": "web", "image": "statsd:1",
            "portMappings": [{"containerPort": 8080}, {"containerPort": 8125, "protocol": "udp"}]}]}"#,
    )
    .unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    let load = |target: u16, published: u16| {
        let text = format!(
            "{BASE}[services.web]\ntask_definition = \"web.json\"\n\
             [services.web.target_group]\nport = {target}\n\
             [services.web.connect]\npublish = [{{ port = {published} }}]\n\
             [load_balancer]\n{}[service_connect]\nnamespace = \"local\"\n",
            http_web()
        );
        std::fs::write(&path, text).unwrap();
        match crate::config::load_file(&path) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics,
        }
    };
    assert_eq!(load(8080, 8080), []);
    only(
        load(8125, 8080),
        "problem",
        "services.web.target_group.port",
        "port 8125 is a UDP port of the task-definition file's main container; the load \
         balancer forwards HTTP(S) over TCP",
    );
    only(
        load(8080, 8125),
        "problem",
        "services.web.connect.publish[0].port",
        "port 8125 is a UDP port of the task-definition file's main container; Service \
         Connect proxies TCP only",
    );
}
