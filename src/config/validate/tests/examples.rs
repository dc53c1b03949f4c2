//! Whole files: the shipped examples, the documentation's example, all problems at once.

use super::*;
use crate::config::model::Protocol;

#[test]
fn full_valid_config_has_no_problems() {
    let loaded = load_str(FULL, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert!(validate(&loaded.config).is_empty());
}

#[test]
fn example_in_docs_is_valid() {
    let doc = include_str!("../../../../docs/configuration.md");
    let start = doc.rfind("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("closed block");
    let loaded =
        load_str(&doc[start..end], Path::new("configuration.md")).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert_eq!(loaded.config.services.len(), 2);
}

#[test]
fn minimal_config_without_services_is_valid() {
    assert!(diags("app = \"a\"\n").is_empty());
    assert!(diags("app = \"x1-y2\"\n[network]\naz_count = 8\n").is_empty());
}

#[test]
fn examples_load_without_problems() {
    for name in [
        "dynamodb-webapp.toml",
        "alb-https-cognito.toml",
        "fargate-public.toml",
        "service-connect.toml",
        "django-postgres.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config/examples")
            .join(name);
        let loaded = crate::config::load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(loaded.warnings.is_empty(), "{name}: {:#?}", loaded.warnings);
    }
}

#[test]
fn django_postgres_example_releases_its_migrations() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/django-postgres.toml");
    let c = crate::config::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let r = c.services["web"].release.as_ref().expect("a release task");
    assert_eq!(r.command, ["python", "manage.py", "migrate", "--noinput"]);
    assert_eq!(r.timeout, 900);
}

#[test]
fn dynamodb_webapp_example_matches_the_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/dynamodb-webapp.toml");
    let c = crate::config::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(c.load_balancer_name(), "dynamodb-webapp-ALB");
    assert_eq!(c.cluster_name(), "dynamodb-webapp-cluster");
    assert_eq!(c.log_group_name(), "dynamodb-webapp-LogGroup");
    assert_eq!(c.service_name("bottle"), "dynamodb-webapp-service");
    let s = &c.services["bottle"];
    assert_eq!(s.subnets, SubnetKind::Private);
    let hc = &s.target_group.as_ref().unwrap().health_check;
    assert_eq!(
        (
            hc.interval,
            hc.timeout,
            hc.healthy_threshold,
            hc.unhealthy_threshold
        ),
        (30, 5, 5, 2)
    );
}

#[test]
fn alb_https_cognito_example_matches_the_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/alb-https-cognito.toml");
    let c = crate::config::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(c.load_balancer_name(), "bedrock-alb");
    assert_eq!(c.cluster_name(), "ecs-cls");
    assert_eq!(
        c.target_group_name("bedrock").as_deref(),
        Some("bedrock-target-group")
    );
    assert_eq!(c.task_role_name("bedrock"), "bsc-bedrock-task");
    let l = &c.load_balancer.as_ref().unwrap().listeners[0];
    assert_eq!((l.port, l.protocol), (443, Protocol::HTTPS));
    assert!(l.cognito.is_some());
    assert!(c.network.existing.is_some());
}

#[test]
fn service_connect_example_matches_the_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/service-connect.toml");
    let c = crate::config::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(c.app, "ecs-web-app");
    assert_eq!(c.cluster_name(), "ecs-web-app-cluster");
    assert_eq!(c.log_group_name(), "ecs-web-app");
    let sc = c.service_connect.as_ref().unwrap();
    assert_eq!((sc.namespace.as_str(), sc.cluster_default), ("local", true));
    assert_eq!(c.service_name("frontend"), "frontend-service");
    assert_eq!(c.service_name("backend"), "backend-service");
    let l = &c.load_balancer.as_ref().unwrap().listeners[0];
    assert_eq!((l.port, l.protocol), (80, Protocol::HTTP));
    assert_eq!(l.service.as_deref(), Some("frontend"));
    for (key, port, name, discovery, prefix, hc) in [
        (
            "frontend",
            3000,
            "frontend",
            "frontend-container",
            "frontend-traffic",
            "curl -f http://localhost:3000 || exit 1",
        ),
        (
            "backend",
            5000,
            "backend",
            "backend-container",
            "backend-traffic",
            "curl -f http://localhost:5000/healthcheck || exit 1",
        ),
    ] {
        let s = &c.services[key];
        assert_eq!(s.ports, [port]);
        assert_eq!(s.subnets, SubnetKind::Public);
        assert_eq!(s.assign_public_ip, Some(true));
        assert!(s.enable_execute_command);
        let conn = s.connect.as_ref().unwrap();
        assert_eq!(conn.log_stream_prefix.as_deref(), Some(prefix));
        let p = &conn.publish[0];
        assert_eq!(
            (p.port, p.name.as_deref(), p.discovery_name.as_deref()),
            (port, Some(name), Some(discovery))
        );
        let h = s.health_check.as_ref().unwrap();
        assert_eq!(
            (
                h.command.as_str(),
                h.interval,
                h.timeout,
                h.retries,
                h.start_period
            ),
            (hc, 30, 5, 3, 10)
        );
        let a = s.autoscaling.as_ref().unwrap();
        assert_eq!((a.min, a.max, a.memory), (1, 5, Some(20.0)));
        assert_eq!((a.scale_in_cooldown, a.scale_out_cooldown), (60, 60));
        assert!(a.cpu.is_none() && a.requests_per_target.is_none());
        // ECS Exec works only when the task role may open the SSM channels.
        assert!(s.task_policy[0]
            .actions
            .iter()
            .any(|x| x == "ssmmessages:OpenDataChannel"));
    }
    assert_eq!(c.services["frontend"].depends_on, ["backend"]);
    assert!(c.services["backend"].depends_on.is_empty());
    let tg = c.services["frontend"].target_group.as_ref().unwrap();
    assert_eq!(
        (
            tg.port,
            tg.health_check.path.as_str(),
            tg.health_check.matcher.as_str()
        ),
        (3000, "/", "200")
    );
    assert_eq!(c.network.nat, NatMode::None);
    assert!(!c.needs_private());
}

#[test]
fn all_problems_reported_together_in_file_order() {
    let text = "app = \"Demo\"\n\
                region = \"japan\"\n\
                [network]\n\
                vpc_cidr = \"10.0.0.0/8\"\n\
                az_count = 12\n\
                [logs]\n\
                retention_days = 2\n\
                [services.web]\n\
                image = \"nginx\"\n\
                cpu = 256\n\
                memory = 4096\n\
                ports = [80, 80]\n\
                desired_count = 5000\n";
    let d = diags(text);
    let got: Vec<(usize, &str)> = d.iter().map(|x| (x.line, x.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, "app"),
            (2, "region"),
            (4, "network.vpc_cidr"),
            (5, "network.az_count"),
            (7, "logs.retention_days"),
            (11, "services.web.memory"),
            (12, "services.web.ports[1]"),
            (13, "services.web.desired_count"),
        ],
        "{d:#?}"
    );
    has(text, "services.web.memory", "512, 1024 or 2048");
    has(text, "network.az_count", "az_count is 12");
    let shown = d[2].to_string();
    assert!(
        shown.starts_with("t.toml:4:1: network.vpc_cidr: `10.0.0.0/8` has prefix /8"),
        "{shown}"
    );
}
