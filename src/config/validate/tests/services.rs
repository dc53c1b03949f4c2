//! `[services.<key>]`: keys, names, image, size, ports, environment, ingress, task IAM,
//! dependencies, deployment and autoscaling.

use super::load_balancer::{alb_listeners, http_web};
use super::*;

#[test]
fn service_key_rules() {
    one(
        &format!("{BASE}[services.Web]\nimage = \"nginx\"\n"),
        "services.Web",
        "service key `Web` is invalid (it contains `W`)",
    );
    one(
        &format!("{BASE}[services.1web]\nimage = \"nginx\"\n"),
        "services.1web",
        "does not start with a lowercase letter",
    );
    let long = "s".repeat(33);
    one(
        &format!("{BASE}[services.{long}]\nimage = \"nginx\"\n"),
        &format!("services.{long}"),
        "it is 33 characters long",
    );
}

#[test]
fn service_name_rules() {
    let d = one(
        &svc("name = \"web.app\"\n"),
        "services.web.name",
        "contains `.`",
    );
    assert_eq!((d.line, d.col), (5, 1));
    one(
        &svc(&format!("name = \"{}\"\n", "n".repeat(256))),
        "services.web.name",
        "256 characters long; the limit is 255",
    );
}

#[test]
fn duplicate_service_names() {
    let text = format!(
        "{BASE}[services.api]\nimage = \"nginx\"\n[services.web]\nimage = \"nginx\"\nname = \"demo-api\"\n"
    );
    let d = one(
        &text,
        "services.web.name",
        "`demo-api` is also the name of services.api",
    );
    assert_eq!((d.line, d.col), (7, 1));
}

#[test]
fn image_reference_rules() {
    let empty = format!("{BASE}[services.web]\nimage = \"\"\n");
    one(&empty, "services.web.image", "image is empty");
    let space = format!("{BASE}[services.web]\nimage = \"nginx latest\"\n");
    let d = one(&space, "services.web.image", "contains whitespace");
    assert_eq!((d.line, d.col), (4, 1));
    let long = format!("{BASE}[services.web]\nimage = \"{}\"\n", "a".repeat(1025));
    one(
        &long,
        "services.web.image",
        "1025 characters long; the limit is 1024",
    );
}

#[test]
fn image_repository_must_be_declared() {
    let text = format!(
        "{BASE}[repositories.api]\n[repositories.worker]\n\
         [services.web]\nimage = {{ repository = \"wbe\", tag = \"v1\" }}\n"
    );
    let d = one(
        &text,
        "services.web.image.repository",
        "`wbe` is not a key of [repositories]; declared repositories: `api`, `worker`",
    );
    assert_eq!(d.line, 6);
    let none = format!("{BASE}[services.web]\nimage = {{ repository = \"web\" }}\n");
    one(
        &none,
        "services.web.image.repository",
        "no repositories are declared; add a [repositories.web] section",
    );
}

#[test]
fn image_tag_rules() {
    let tag = |t: &str| {
        format!(
            "{BASE}[repositories.web]\n[services.web]\nimage = {{ repository = \"web\", tag = \"{t}\" }}\n"
        )
    };
    one(
        &tag("-v1"),
        "services.web.image.tag",
        "starts with `.` or `-`",
    );
    one(&tag("v1/2"), "services.web.image.tag", "contains `/`");
    one(&tag(""), "services.web.image.tag", "it is empty");
    one(
        &tag(&"t".repeat(129)),
        "services.web.image.tag",
        "129 characters",
    );
    assert!(diags(&tag("v1.2_3-rc")).is_empty());
}

#[test]
fn unknown_cpu_lists_valid_cpus() {
    let d = one(
        &svc("cpu = 300\nmemory = 1024\n"),
        "services.web.cpu",
        "cpu 300 is not a Fargate task size; use one of: 256, 512, 1024, 2048, 4096, 8192, 16384",
    );
    assert_eq!((d.line, d.col), (5, 1));
}

#[test]
fn memory_invalid_for_cpu_lists_valid_memory() {
    let d = one(
        &svc("cpu = 1024\nmemory = 1024\n"),
        "services.web.memory",
        "memory 1024 MiB is not valid with cpu 1024 on Fargate; with cpu 1024 memory must be 2048 to 8192 in steps of 1024",
    );
    assert_eq!((d.line, d.col), (6, 1));
    one(
        &svc("cpu = 256\nmemory = 4096\n"),
        "services.web.memory",
        "512, 1024 or 2048",
    );
    one(
        &svc("cpu = 8192\nmemory = 17408\n"),
        "services.web.memory",
        "16384 to 61440 in steps of 4096",
    );
}

#[test]
fn ingress_same_port_and_cidr_twice_is_an_error() {
    one(
        &svc("ports = [80]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"] }, { port = 80, cidrs = [\"0.0.0.0/0\"], description = \"x\" }]\n"),
        "services.web.ingress[1].cidrs[0]",
        "already opened by ingress[0]",
    );
}

#[test]
fn ingress_empty_description_is_an_error() {
    one(
        &svc("ports = [80]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"], description = \"\" }]\n"),
        "services.web.ingress[0].description",
        "omit the key",
    );
}

#[test]
fn default_memory_is_valid_for_every_cpu() {
    for cpu in [256, 512, 1024, 2048, 4096, 8192, 16384] {
        let text = format!("app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = {cpu}\n");
        let loaded = crate::config::load_str(&text, std::path::Path::new("t.toml"));
        assert!(loaded.is_ok(), "cpu {cpu}: {:?}", loaded.err());
    }
}

#[test]
fn fargate_table() {
    let count = |cpu| fargate_memory(cpu).unwrap().0.len();
    assert_eq!(count(256), 3);
    assert_eq!(count(512), 4);
    assert_eq!(count(1024), 7);
    assert_eq!(count(2048), 13);
    assert_eq!(count(4096), 23);
    assert_eq!(count(8192), 12);
    assert_eq!(count(16384), 12);
    assert!(fargate_memory(128).is_none());
}

#[test]
fn port_zero() {
    one(
        &svc("ports = [80, 0]\n"),
        "services.web.ports[1]",
        "port 0 is not a valid port",
    );
}

#[test]
fn duplicate_port_points_at_duplicate() {
    let d = one(
        &svc("ports = [80, 443, 80]\n"),
        "services.web.ports[2]",
        "port 80 is listed twice (also ports[0])",
    );
    assert_eq!((d.line, d.col), (5, 19));
}

#[test]
fn environment_names() {
    let d = one(
        &svc("environment = { \"1ST\" = \"x\", OK = \"y\" }\n"),
        "services.web.environment.1ST",
        "`1ST` is not a valid environment variable name",
    );
    assert_eq!((d.line, d.col), (5, 17));
    one(
        &svc("environment = { \"MY-VAR\" = \"x\" }\n"),
        "services.web.environment.MY-VAR",
        "not a valid environment variable name",
    );
    let long = "V".repeat(256);
    one(
        &svc(&format!("environment = {{ {long} = \"x\" }}\n")),
        &format!("services.web.environment.{long}"),
        "256 characters long; the limit is 255",
    );
}

#[test]
fn empty_command() {
    one(
        &svc("command = []\n"),
        "services.web.command",
        "command is an empty list",
    );
}

#[test]
fn desired_count_limit() {
    one(
        &svc("desired_count = 1001\n"),
        "services.web.desired_count",
        "desired_count is 1001; the limit is 1000",
    );
    assert!(diags(&svc("desired_count = 0\n")).is_empty());
}

#[test]
fn imported_service_security_groups() {
    let svc = |body: &str| format!("{}{}", svc(body), super::network::EXISTING);
    one(
        &svc("security_groups = [\"sg-0a\", \"\"]\n"),
        "services.web.security_groups[1]",
        "security group is empty",
    );
    let d = one(
        &svc("ports = [80]\nsecurity_groups = [\"web-sg\"]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"] }]\n"),
        "services.web.ingress",
        "ingress rules cannot be added to imported security groups",
    );
    assert_eq!(d.line, 7);
    assert!(diags(&svc("security_groups = [\"web-sg\", \"sg-0123abcd\"]\n")).is_empty());
}

#[test]
fn service_key_must_not_clash_with_generated_groups() {
    let text = alb_listeners(&http_web())
        .replace("services.web", "services.alb")
        .replace("\"web\"", "\"alb\"");
    one(
        &text,
        "services.alb",
        "service key `alb` gives the service a security group named `demo-alb`, the name of \
         the load balancer's security group",
    );
    one(
        &format!(
            "{BASE}[network]\nendpoints = [\"logs\"]\n[services.endpoints]\nimage = \"nginx\"\n"
        ),
        "services.endpoints",
        "the name of the security group of the interface endpoints",
    );
    // Gateway endpoints have no security group.
    assert!(diags(&format!(
        "{BASE}[network]\nendpoints = [\"s3\"]\n[services.endpoints]\nimage = \"nginx\"\n"
    ))
    .is_empty());
}

#[test]
fn depends_on_must_name_another_service() {
    let text = |deps: &str| services(&[("api", ""), ("web", &format!("depends_on = [{deps}]\n"))]);
    assert!(diags(&text("\"api\"")).is_empty());
    one(
        &text("\"api\", \"nope\""),
        "services.web.depends_on[1]",
        "unknown dependency `nope`: it is not a key of [services]; services: `api`, `web`",
    );
}

#[test]
fn depends_on_itself() {
    one(
        &svc("depends_on = [\"web\"]\n"),
        "services.web.depends_on[0]",
        "services.web depends on itself",
    );
}

#[test]
fn depends_on_duplicate() {
    one(
        &services(&[("api", ""), ("web", "depends_on = [\"api\", \"api\"]\n")]),
        "services.web.depends_on[1]",
        "`api` is listed twice (also depends_on[0])",
    );
}

#[test]
fn dependency_cycle_is_named_once() {
    let d = one(
        &services(&[
            ("frontend", "depends_on = [\"backend\"]\n"),
            ("backend", "depends_on = [\"frontend\"]\n"),
        ]),
        "services.backend.depends_on",
        "dependency cycle: backend → frontend → backend",
    );
    assert_eq!(d.line, 8, "on the first service of the cycle: {d:#?}");
    // A longer cycle, with a service outside it that depends on it.
    one(
        &services(&[
            ("c", "depends_on = [\"a\"]\n"),
            ("b", "depends_on = [\"c\"]\n"),
            ("a", "depends_on = [\"b\"]\n"),
            ("d", "depends_on = [\"a\"]\n"),
        ]),
        "services.a.depends_on",
        "dependency cycle: a → b → c → a",
    );
    // Two separate cycles: two problems.
    let d = diags(&services(&[
        ("a", "depends_on = [\"b\"]\n"),
        ("b", "depends_on = [\"a\"]\n"),
        ("x", "depends_on = [\"y\"]\n"),
        ("y", "depends_on = [\"x\"]\n"),
    ]));
    let got: Vec<&str> = d.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(
        got,
        ["services.a.depends_on", "services.x.depends_on"],
        "{d:#?}"
    );
    assert!(d[1].message.contains("x → y → x"), "{d:#?}");
}

#[test]
fn deployment_percent_ranges() {
    let dep = |body: &str| svc(&format!("[services.web.deployment]\n{body}"));
    let p = "services.web.deployment";
    assert!(diags(&dep("minimum_healthy_percent = 0\nmaximum_percent = 100\n")).is_empty());
    assert!(diags(&dep("minimum_healthy_percent = 50\nrollback = false\n")).is_empty());
    one(
        &dep("minimum_healthy_percent = 101\n"),
        &format!("{p}.minimum_healthy_percent"),
        "minimum_healthy_percent is 101; it must be 0 to 100",
    );
    one(
        &dep("minimum_healthy_percent = 50\nmaximum_percent = 99\n"),
        &format!("{p}.maximum_percent"),
        "maximum_percent is 99; it must be 100 to 200",
    );
    one(
        &dep("maximum_percent = 201\n"),
        &format!("{p}.maximum_percent"),
        "maximum_percent is 201",
    );
}

#[test]
fn deployment_needs_room_to_roll_out() {
    one(
        &svc("[services.web.deployment]\nmaximum_percent = 100\n"),
        "services.web.deployment.maximum_percent",
        "maximum_percent 100 with minimum_healthy_percent 100 leaves no room to roll out",
    );
}

#[test]
fn ingress_port_must_be_a_service_port() {
    let d = one(
        &svc("ports = [80, 443]\n[[services.web.ingress]]\nport = 8080\ncidrs = [\"0.0.0.0/0\"]\n"),
        "services.web.ingress[0].port",
        "port 8080 is not one of the service's ports (80, 443)",
    );
    assert_eq!((d.line, d.col), (7, 1));
    one(
        &svc("[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\n"),
        "services.web.ingress[0].port",
        "the service declares no `ports`",
    );
}

#[test]
fn ingress_cidrs() {
    one(
        &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = []\n"),
        "services.web.ingress[0].cidrs",
        "cidrs is empty",
    );
    let d = one(
        &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"10.0.0.0/8\", \"1.2.3.4/24\"]\n"),
        "services.web.ingress[0].cidrs[1]",
        "host bits set; the network address is 1.2.3.0/24",
    );
    assert_eq!((d.line, d.col), (8, 24));
}

#[test]
fn ingress_description_length() {
    one(
        &svc(&format!(
            "ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\ndescription = \"{}\"\n",
            "d".repeat(256)
        )),
        "services.web.ingress[0].description",
        "256 characters long; the limit is 255",
    );
}

#[test]
fn ingress_description_charset() {
    one(
        &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\ndescription = \"office's VPN\"\n"),
        "services.web.ingress[0].description",
        "description contains `'`; EC2 rule descriptions allow only",
    );
}

#[test]
fn task_role_and_task_policy_are_exclusive() {
    one(
        &svc("task_role = \"arn:aws:iam::123456789012:role/r\"\n\
              [[services.web.task_policy]]\nactions = [\"s3:GetObject\"]\nresources = [\"*\"]\n"),
        "services.web.task_policy",
        "task_policy and task_role are mutually exclusive",
    );
}

#[test]
fn task_role_arn() {
    one(
        &svc("task_role = \"arn:aws:s3:::bucket\"\n"),
        "services.web.task_role",
        "is not an IAM role ARN",
    );
}

#[test]
fn task_policy_actions() {
    one(
        &svc("[[services.web.task_policy]]\nactions = []\nresources = [\"*\"]\n"),
        "services.web.task_policy[0].actions",
        "actions is empty",
    );
    one(
        &svc("[[services.web.task_policy]]\nactions = [\"s3:GetObject\", \"GetObject\"]\nresources = [\"*\"]\n"),
        "services.web.task_policy[0].actions[1]",
        "`GetObject` is not an IAM action",
    );
    one(
        &svc("[[services.web.task_policy]]\nactions = [\"s3::x\"]\nresources = [\"*\"]\n"),
        "services.web.task_policy[0].actions[0]",
        "is not an IAM action",
    );
}

#[test]
fn task_policy_resources() {
    one(
        &svc("[[services.web.task_policy]]\nactions = [\"*\"]\nresources = []\n"),
        "services.web.task_policy[0].resources",
        "resources is empty",
    );
    one(
        &svc("[[services.web.task_policy]]\nactions = [\"*\"]\nresources = [\"my-bucket\"]\n"),
        "services.web.task_policy[0].resources[0]",
        "`my-bucket` is not a resource ARN",
    );
}

#[test]
fn derived_task_role_name_length() {
    // app (20) + key (32) + "-task" + "-" = 58: always fits, so no problem for the longest.
    let app = "a".repeat(20);
    let key = "k".repeat(32);
    assert!(diags(&format!(
        "app = \"{app}\"\n[services.{key}]\nimage = \"nginx\"\n"
    ))
    .is_empty());
}

#[test]
fn secret_looking_environment_warns() {
    let w = warns(&svc(
        "environment = { DB_PASSWORD = \"x\", api_key = \"y\", GithubToken = \"z\", MODE = \"prod\" }\n",
    ));
    let keys: Vec<&str> = w.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "services.web.environment.DB_PASSWORD",
            "services.web.environment.GithubToken",
            "services.web.environment.api_key",
        ]
    );
    assert!(w[0].message.contains(
        "looks like a secret; plain environment values are visible in the task definition"
    ));
}

#[test]
fn public_subnet_without_public_ip_warns() {
    let w = warns(&svc("assign_public_ip = false\n"));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "services.web.assign_public_ip");
    assert_eq!((w[0].line, w[0].col), (5, 1));
    assert!(
        w[0].message.contains("cannot pull images"),
        "{}",
        w[0].message
    );
    assert!(warns(&svc("assign_public_ip = true\n")).is_empty());
}

/// A type error no longer hides the file's other problems: `cpu = "256"` comes with the
/// validation problems of the rest, each with its key path.
#[test]
fn a_type_error_comes_with_every_other_problem() {
    let text = services(&[
        ("web", "cpu = \"256\"\n"),
        ("api", "desired_count = 100000\nmemory = true\n"),
    ]);
    let d = diags(&text);
    let keys: Vec<&str> = d.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "services.web.cpu",
            "services.api.desired_count",
            "services.api.memory"
        ],
        "{d:#?}"
    );
    assert!(
        d[0].message
            .contains("invalid type: string \"256\", expected"),
        "{d:#?}"
    );
    assert_eq!((d[0].line, d[1].line, d[2].line), (5, 8, 9), "{d:#?}");
}

#[test]
fn capacity_bounds() {
    let cap = |body: &str| svc(&format!("[services.web.capacity]\n{body}"));
    assert!(diags(&cap("spot = 100\non_demand_base = 2\n")).is_empty());
    assert!(diags(&cap("spot = 0\n")).is_empty());
    one(
        &cap("spot = 101\n"),
        "services.web.capacity.spot",
        "spot is 101; it is the percentage (0 to 100)",
    );
    one(
        &cap("spot = 50\non_demand_base = 100001\n"),
        "services.web.capacity.on_demand_base",
        "on_demand_base is 100001; ECS allows 0 to 100000",
    );
}
