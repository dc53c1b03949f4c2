//! One test per mapping of a manifest field, and the workspace as a whole.

use std::path::{Path, PathBuf};

use toml::Value;

use super::environment::{self, EnvOut};
use super::service::{self, Paths, Registry, ServiceOut, BACKEND, LB_WEB};
use super::track::{not_converted, Cx, NotConverted, Tracker};
use crate::migrate::yaml::{parse, Node};

/// What `convert` makes of the manifest `text` (as file `file`), and the fields it left.
fn converted<T>(
    file: &str,
    text: &str,
    convert: impl FnOnce(&mut Cx, &Node) -> T,
) -> (T, Vec<NotConverted>) {
    let m = parse(text).unwrap();
    let mut t = Tracker::default();
    let mut cx = Cx {
        file,
        track: &mut t,
        env: None,
    };
    let out = convert(&mut cx, &m);
    (out, not_converted(file, &m, &t))
}

fn conv(kind: &str, text: &str) -> (ServiceOut, Vec<NotConverted>) {
    let paths = Paths {
        root: PathBuf::from("."),
    };
    converted("m.yml", text, |cx, m| {
        service::convert(cx, m, "web", kind, &paths, &mut Registry::default())
    })
}

fn get<'a>(s: &'a ServiceOut, path: &str) -> Option<&'a Value> {
    s.service.get(path)
}

fn fields(nc: &[NotConverted]) -> Vec<&str> {
    nc.iter().map(|n| n.field.as_str()).collect()
}

#[test]
fn build_as_a_dockerfile_path() {
    let (s, nc) = conv(LB_WEB, "image:\n  build: ./web/Dockerfile.prod\n");
    assert_eq!(
        get(&s, "image").unwrap().to_string(),
        r#"{ build = { context = "web", dockerfile = "Dockerfile.prod" } }"#
    );
    assert!(nc.is_empty(), "{nc:?}");
}

#[test]
fn build_as_a_table_with_args_and_an_unconverted_cache() {
    let (s, nc) = conv(
        LB_WEB,
        "image:\n  build:\n    dockerfile: web/docker/Dockerfile\n    context: web\n    args:\n      A: '1'\n    target: prod\n    cache_from: [x]\n",
    );
    let b = &get(&s, "image").unwrap()["build"];
    assert_eq!(b["context"].as_str(), Some("web"));
    assert_eq!(b["dockerfile"].as_str(), Some("docker/Dockerfile"));
    assert_eq!(b["args"]["A"].as_str(), Some("1"));
    assert_eq!(b["target"].as_str(), Some("prod"));
    assert_eq!(fields(&nc), ["image.build.cache_from"]);
    assert_eq!(nc[0].line, 8);
}

#[test]
fn location_and_port() {
    let (s, _) = conv(BACKEND, "image:\n  location: nginx:1\n  port: 8080\n");
    assert_eq!(get(&s, "image").unwrap().as_str(), Some("nginx:1"));
    assert_eq!(get(&s, "ports").unwrap().to_string(), "[8080]");
}

#[test]
fn count_as_a_number() {
    let (s, _) = conv(BACKEND, "count: 3\n");
    assert_eq!(get(&s, "desired_count").unwrap().as_integer(), Some(3));
}

#[test]
fn count_range_becomes_autoscaling_on_the_first_metric() {
    let (s, nc) = conv(
        LB_WEB,
        "image:\n  location: x\n  port: 80\nhttp:\n  path: /\ncount:\n  range: 1-10\n  cooldown:\n    in: 60s\n    out: 30s\n  cpu_percentage: 70\n  requests: 30\n  response_time: 2s\n",
    );
    let a = get(&s, "autoscaling").unwrap();
    assert_eq!(a["min"].as_integer(), Some(1));
    assert_eq!(a["max"].as_integer(), Some(10));
    assert_eq!(a["cpu"].as_float(), Some(70.0));
    assert_eq!(a["scale_out_cooldown"].as_integer(), Some(30));
    assert_eq!(get(&s, "desired_count").unwrap().as_integer(), Some(1));
    assert_eq!(fields(&nc), ["count.requests", "count.response_time"]);
}

#[test]
fn requests_alone_scale_a_routed_service() {
    let (s, nc) = conv(
        LB_WEB,
        "image:\n  location: x\n  port: 80\nhttp:\n  path: /\ncount:\n  range: {min: 2, max: 4}\n  requests: 30\n",
    );
    assert_eq!(
        get(&s, "autoscaling.requests_per_target")
            .unwrap()
            .as_float(),
        Some(30.0)
    );
    assert!(nc.is_empty(), "{nc:?}");
}

#[test]
fn a_range_without_a_metric_is_a_fixed_count() {
    let (s, nc) = conv(BACKEND, "count:\n  range: 2-5\n");
    assert_eq!(get(&s, "desired_count").unwrap().as_integer(), Some(2));
    assert!(get(&s, "autoscaling").is_none());
    assert_eq!(fields(&nc), ["count.range"]);
}

#[test]
fn variables_and_cloudformation_values() {
    let (s, nc) = conv(
        BACKEND,
        "variables:\n  LOG_LEVEL: info\n  N: 3\n  Q:\n    from_cfn: stack-out\n",
    );
    assert_eq!(
        get(&s, "environment.LOG_LEVEL").unwrap().as_str(),
        Some("info")
    );
    assert_eq!(get(&s, "environment.N").unwrap().as_str(), Some("3"));
    assert_eq!(fields(&nc), ["variables.Q"]);
}

#[test]
fn secrets_manager_secrets_are_used_ssm_parameters_are_listed() {
    let (s, nc) = conv(
        BACKEND,
        "secrets:\n  GH: GH_TOKEN\n  DB:\n    secretsmanager: 'mysql'\n  PW:\n    secretsmanager: 'mysql:password::'\n  K: arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf\n",
    );
    assert_eq!(
        s.extra.get("secrets.db.existing").unwrap().as_str(),
        Some("mysql")
    );
    assert_eq!(
        s.extra.get("secrets.k.existing").unwrap().as_str(),
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf")
    );
    assert_eq!(
        get(&s, "uses").unwrap().to_string(),
        r#"[{ env = "DB", secret = "db" }, { env = "K", secret = "k" }]"#
    );
    assert_eq!(fields(&nc), ["secrets.GH", "secrets.PW"]);
    assert!(nc[0].reason.contains("SSM"));
    assert!(nc[1].reason.contains("JSON key"));
}

#[test]
fn http_path_alias_and_target_health_check() {
    let (s, nc) = conv(
        LB_WEB,
        "image:\n  location: x\n  port: 8080\nhttp:\n  path: api\n  alias: ['a.example.com', {name: b.example.com, hosted_zone: Z1}]\n  healthcheck:\n    path: /health\n    port: 8080\n    success_codes: '200,301'\n    healthy_threshold: 4\n    unhealthy_threshold: 2\n    interval: 15s\n    timeout: 10s\n    grace_period: 2m\n  deregistration_delay: 50s\n  stickiness: true\n",
    );
    let r = s.route.as_ref().unwrap();
    assert_eq!(r.paths, ["/api", "/api/*"]);
    assert_eq!(r.hosts, ["a.example.com", "b.example.com"]);
    let tg = get(&s, "target_group").unwrap();
    assert_eq!(tg["port"].as_integer(), Some(8080));
    assert_eq!(tg["deregistration_delay"].as_integer(), Some(50));
    assert_eq!(tg["health_check_grace_period"].as_integer(), Some(120));
    let hc = &tg["health_check"];
    assert_eq!(hc["path"].as_str(), Some("/health"));
    assert_eq!(hc["port"].as_str(), Some("8080"));
    assert_eq!(hc["matcher"].as_str(), Some("200,301"));
    assert_eq!(hc["healthy_threshold"].as_integer(), Some(4));
    assert_eq!(hc["interval"].as_integer(), Some(15));
    assert_eq!(hc["timeout"].as_integer(), Some(10));
    assert_eq!(fields(&nc), ["http.alias.hosted_zone", "http.stickiness"]);
}

#[test]
fn http_to_a_sidecar_is_not_converted() {
    let (s, nc) = conv(
        LB_WEB,
        "name: web\nimage:\n  location: x\n  port: 80\nhttp:\n  path: /\n  target_container: envoy\n",
    );
    assert!(s.route.is_none());
    assert!(fields(&nc).contains(&"http.target_container"), "{nc:?}");
}

#[test]
fn container_health_check_and_out_of_range_values() {
    let (s, nc) = conv(
        BACKEND,
        "image:\n  location: x\n  healthcheck:\n    command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1']\n    interval: 6s\n    retries: 0\n    timeout: 20s\n    start_period: 15s\n",
    );
    let hc = get(&s, "health_check").unwrap();
    assert_eq!(
        hc["command"].as_str(),
        Some("curl -f http://localhost/ || exit 1")
    );
    assert_eq!(hc["interval"].as_integer(), Some(6));
    assert_eq!(hc["start_period"].as_integer(), Some(15));
    assert_eq!(
        fields(&nc),
        ["image.healthcheck.retries", "image.healthcheck.timeout"]
    );
}

#[test]
fn cpu_memory_and_platform() {
    let (s, nc) = conv(BACKEND, "cpu: 1024\nmemory: 2048\nplatform: linux/arm64\n");
    assert_eq!(get(&s, "cpu").unwrap().as_integer(), Some(1024));
    assert_eq!(get(&s, "memory").unwrap().as_integer(), Some(2048));
    assert_eq!(get(&s, "cpu_architecture").unwrap().as_str(), Some("ARM64"));
    assert!(nc.is_empty());
    let (_, nc) = conv(BACKEND, "platform: windows/x86_64\n");
    assert_eq!(fields(&nc), ["platform"]);
}

#[test]
fn exec_grants_the_ssm_channels() {
    let (s, _) = conv(BACKEND, "exec: true\n");
    assert_eq!(
        get(&s, "enable_execute_command"),
        Some(&Value::Boolean(true))
    );
    let p = get(&s, "task_policy").unwrap().to_string();
    assert!(p.contains("ssmmessages:OpenDataChannel") && p.contains(r#"resources = ["*"]"#));
}

#[test]
fn recreate_deployments_stop_before_starting() {
    let (s, _) = conv(BACKEND, "deployment:\n  rolling: recreate\n");
    assert_eq!(
        get(&s, "deployment.minimum_healthy_percent")
            .unwrap()
            .as_integer(),
        Some(0)
    );
    assert_eq!(
        get(&s, "deployment.maximum_percent").unwrap().as_integer(),
        Some(100)
    );
}

#[test]
fn managed_efs_volumes_become_file_systems() {
    let (s, nc) = conv(
        BACKEND,
        "storage:\n  volumes:\n    wp:\n      path: /data\n      read_only: true\n      efs:\n        uid: 33\n        gid: 33\n    other:\n      path: /x\n      efs:\n        id: fs-1234\n",
    );
    assert_eq!(
        s.extra
            .get("file_systems.wp.access_point")
            .unwrap()
            .to_string(),
        r#"{ gid = 33, path = "/web", uid = 33 }"#
    );
    assert_eq!(
        get(&s, "uses").unwrap().to_string(),
        r#"[{ file_system = "wp", path = "/data", write = false }]"#
    );
    assert_eq!(fields(&nc), ["storage.volumes.other"]);
}

#[test]
fn connect_with_an_alias_and_private_placement() {
    let (s, nc) = conv(
        BACKEND,
        "image:\n  location: x\n  port: 8080\nnetwork:\n  connect:\n    alias: frontend\n  vpc:\n    placement: private\n    security_groups: [sg-1]\n",
    );
    assert!(s.connect && s.private);
    assert_eq!(
        get(&s, "connect").unwrap().to_string(),
        r#"{ publish = [{ discovery_name = "frontend", dns_name = "frontend", port = 8080 }] }"#
    );
    assert_eq!(get(&s, "subnets").unwrap().as_str(), Some("private"));
    assert_eq!(fields(&nc), ["network.vpc.security_groups"]);
}

#[test]
fn backend_http_is_not_converted() {
    let (s, nc) = conv(
        BACKEND,
        "image:\n  location: x\n  port: 80\nhttp:\n  path: /\n",
    );
    assert!(s.route.is_none());
    assert_eq!(fields(&nc), ["http"]);
}

fn env_conv(text: &str) -> (EnvOut, Vec<NotConverted>) {
    converted("e.yml", text, environment::convert)
}

#[test]
fn an_imported_vpc_is_network_existing() {
    let (e, nc) = env_conv(
        "name: x\ntype: Environment\nnetwork:\n  vpc:\n    id: vpc-1\n    subnets:\n      public:\n        - id: subnet-1\n      private:\n        - id: subnet-2\ncdn: true\n",
    );
    assert!(e.existing);
    assert_eq!(
        e.out.get("network.existing").unwrap().to_string(),
        r#"{ private_subnets = ["subnet-2"], public_subnets = ["subnet-1"], vpc = "vpc-1" }"#
    );
    assert_eq!(fields(&nc), ["cdn"]);
}

#[test]
fn a_configured_vpc_certificates_and_insights() {
    let (e, nc) = env_conv(
        "network:\n  vpc:\n    cidr: 10.1.0.0/16\n    subnets:\n      public:\n        - cidr: 10.1.0.0/24\n          az: us-east-2a\nhttp:\n  public:\n    certificates: [arn:aws:acm:us-east-2:123456789012:certificate/x]\n    ingress:\n      cdn: true\nobservability:\n  container_insights: true\n",
    );
    assert_eq!(
        e.out.get("network.vpc_cidr").unwrap().as_str(),
        Some("10.1.0.0/16")
    );
    assert_eq!(
        e.out.get("network.azs").unwrap().to_string(),
        r#"["us-east-2a"]"#
    );
    assert_eq!(e.certificates.len(), 1);
    assert_eq!(
        e.out.get("cluster.container_insights").unwrap().as_str(),
        Some("enabled")
    );
    assert_eq!(fields(&nc), ["http.public.ingress"]);
}

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let path = d.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    d
}

#[test]
fn environment_blocks_become_environment_tables() {
    let d = workspace(&[
        ("copilot/.workspace", "application: shop\n"),
        (
            "copilot/web/manifest.yml",
            "name: web\ntype: Backend Service\nimage:\n  location: nginx\ncount: 1\nenvironments:\n  prod:\n    count: 3\n    logging:\n      retention: 7\n",
        ),
        (
            "copilot/job/manifest.yml",
            "name: job\ntype: Scheduled Job\non:\n  schedule: '@daily'\nimage:\n  location: x\n",
        ),
        ("copilot/web/addons/db.yml", "Resources: {}\n"),
    ]);
    let c = super::convert(d.path(), &d.path().join("ecsdeploy.toml"), None, None).unwrap();
    let t: toml::Table = toml::from_str(&c.text).unwrap();
    assert_eq!(
        t["environments"]["prod"]["services"]["web"]["desired_count"].as_integer(),
        Some(3)
    );
    let list: Vec<String> = c.not_converted.iter().map(|n| n.to_string()).collect();
    assert!(
        list.iter()
            .any(|l| l
                .starts_with("copilot/web/manifest.yml:9:5: environments.prod.logging: FireLens")),
        "{list:#?}"
    );
    // The Scheduled Job is a job: its `@daily` in Scheduler's terms.
    assert_eq!(
        t["jobs"]["job"]["schedule"].as_str(),
        Some("cron(0 0 * * ? *)")
    );
    assert_eq!(t["jobs"]["job"]["image"].as_str(), Some("x"));
    assert!(
        !list.iter().any(|l| l.starts_with("copilot/job/")),
        "{list:#?}"
    );
    assert!(
        list.iter()
            .any(|l| l.starts_with("copilot/web/addons/db.yml:1:1: (file)")),
        "{list:#?}"
    );
    assert_eq!(c.services, ["web"]);
    assert_eq!(c.jobs, ["job"]);
    assert_eq!(c.environments, ["prod"]);
    let path = d.path().join("ecsdeploy.toml");
    crate::config::load_str(&c.text, &path).unwrap_or_else(|e| panic!("{e}\n{}", c.text));
    let prod = crate::config::Options {
        environment: Some("prod"),
        ..crate::config::Options::default()
    };
    crate::config::load_str_with(&c.text, &path, prod).unwrap();
}

#[test]
fn an_environment_cannot_remove_what_the_base_sets() {
    let d = workspace(&[
        ("copilot/.workspace", "application: shop\n"),
        (
            "copilot/web/manifest.yml",
            "name: web\ntype: Backend Service\nimage:\n  location: nginx\ncount:\n  range: 1-3\n  cpu_percentage: 50\nenvironments:\n  test:\n    count: 1\n",
        ),
    ]);
    let c = super::convert(d.path(), &d.path().join("ecsdeploy.toml"), None, None).unwrap();
    let n = c
        .not_converted
        .iter()
        .find(|n| n.field == "environments.test")
        .expect("the removal is listed");
    assert_eq!((n.file.as_str(), n.line), ("copilot/web/manifest.yml", 9));
    assert!(n.reason.contains("services.web.autoscaling"), "{n}");
}

#[test]
fn not_a_workspace_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    let e = super::convert(d.path(), Path::new("x.toml"), None, None).unwrap_err();
    assert!(
        e.downcast_ref::<crate::error::UsageError>().is_some(),
        "{e}"
    );
}

#[test]
fn sidecars_with_an_image_and_the_start_order() {
    let (s, nc) = conv(
        LB_WEB,
        "name: web\nimage:\n  location: x\n  port: 80\n  depends_on:\n    bootstrap: success\nsidecars:\n  bootstrap:\n    image: busybox:1\n    essential: false\n    command: ['sh', '-c', 'echo hi']\n    mount_points:\n      - source_volume: wp\n        path: /x\n  envoy:\n    port: 443/tcp\n    image: envoy:1\n    depends_on:\n      web: start\n    healthcheck:\n      command: ['CMD-SHELL', 'true']\n  built:\n    image:\n      build: ./b/Dockerfile\n",
    );
    assert_eq!(
        get(&s, "container_depends_on").unwrap().to_string(),
        r#"[{ condition = "SUCCESS", container = "bootstrap" }]"#
    );
    let sc = get(&s, "sidecars").unwrap().as_array().unwrap();
    assert_eq!(sc.len(), 2);
    assert_eq!(sc[0]["essential"].as_bool(), Some(false));
    assert_eq!(sc[0]["command"].to_string(), r#"["sh", "-c", "echo hi"]"#);
    assert_eq!(sc[1]["essential"].as_bool(), Some(true));
    assert_eq!(sc[1]["ports"].to_string(), "[443]");
    assert_eq!(
        sc[1]["depends_on"].to_string(),
        r#"[{ condition = "START", container = "web" }]"#
    );
    assert_eq!(sc[1]["health_check"]["command"].as_str(), Some("true"));
    assert_eq!(
        fields(&nc),
        ["sidecars.bootstrap.mount_points", "sidecars.built"]
    );
}

#[test]
fn a_manifest_that_is_not_yaml_is_named_with_its_place() {
    let d = workspace(&[
        ("copilot/.workspace", "application: shop\n"),
        (
            "copilot/web/manifest.yml",
            "name: web\nimage: [x\ntype: Backend Service\n",
        ),
    ]);
    let e = super::convert(d.path(), &d.path().join("ecsdeploy.toml"), None, None).unwrap_err();
    assert!(
        e.downcast_ref::<crate::error::UsageError>().is_some(),
        "{e}"
    );
    assert!(
        e.to_string().starts_with("copilot/web/manifest.yml:"),
        "{e}"
    );
}

#[test]
fn the_copilot_directory_itself_and_an_app_name_made_valid() {
    let d = workspace(&[
        (
            "copilot/.workspace",
            "application: My_Very_Long_Copilot_Application\n",
        ),
        (
            "copilot/web/manifest.yml",
            "name: web\ntype: Backend Service\nimage:\n  location: nginx\n",
        ),
    ]);
    let c = super::convert(
        &d.path().join("copilot"),
        &d.path().join("e.toml"),
        None,
        None,
    )
    .unwrap();
    assert_eq!(c.app, "my-very-long-copilot");
    assert!(c.not_converted.is_empty(), "{:?}", c.not_converted);
}
