//! `[environments.<name>]` and `${VARIABLES}`, through the loader: every problem located
//! where it is written, all at once.

use super::*;
use crate::config::{load_all, load_str_with, Options};

fn vars(name: &str) -> Option<String> {
    (name == "TAG").then(|| "v42".to_string())
}

fn load(text: &str, env: Option<&str>) -> Result<crate::config::Loaded, Vec<Diagnostic>> {
    let options = Options {
        environment: env,
        variables: &vars,
    };
    load_str_with(text, Path::new("t.toml"), options).map_err(|e| e.diagnostics)
}

/// Lines: 3 `[services.web]`, 4 image, 5 `desired_count`, 6 `[environments.production...]`,
/// 7 `desired_count`, 8 `[environments.staging]`, 9 `app`.
fn config(production: &str) -> String {
    svc(&format!(
        "desired_count = 1\n[environments.production.services.web]\n{production}\n\
         [environments.staging]\napp = \"demo-test\"\n"
    ))
}

#[test]
fn an_environment_is_its_own_app_with_its_overrides() {
    let text = config("desired_count = 3");
    let base = load(&text, None).unwrap().config;
    assert_eq!(base.app, "demo");
    assert_eq!(base.services["web"].desired_count, 1);
    assert_eq!(base.environment, None);
    let prod = load(&text, Some("production")).unwrap().config;
    assert_eq!(prod.app, "demo-production");
    assert_eq!(prod.environment.as_deref(), Some("production"));
    assert_eq!(prod.services["web"].desired_count, 3);
    assert_eq!(
        load(&text, Some("staging")).unwrap().config.app,
        "demo-test"
    );
}

#[test]
fn a_problem_in_an_override_is_located_in_the_override() {
    let text = config("desired_count = 100000\ncpuu = 256");
    let d = load(&text, Some("production")).unwrap_err();
    assert_eq!(d.len(), 2, "{d:#?}");
    let unknown = d
        .iter()
        .find(|d| d.message.contains("unknown key `cpuu`"))
        .unwrap();
    assert_eq!(
        (unknown.line, unknown.key.as_str()),
        (8, "services.web.cpuu")
    );
    let count = d
        .iter()
        .find(|d| d.key == "services.web.desired_count")
        .unwrap();
    assert_eq!(count.line, 7, "{count}");
    // The base alone is fine.
    assert!(load(&text, None).is_ok());
}

#[test]
fn an_unknown_environment_changes_nothing_and_says_what_exists() {
    let d = load(&config("desired_count = 3"), Some("prod")).unwrap_err();
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("no environment `prod` in the config; it defines production, staging"),
        "{d:#?}"
    );
}

#[test]
fn variables_are_expanded_and_an_unset_one_is_reported_with_the_rest() {
    let text = format!(
        "{BASE}[services.web]\nimage = \"repo/web:${{TAG}}\"\n\
         [services.api]\nimage = \"repo/api:${{API_TAG}}\"\ndesired_count = 100000\n\
         [services.db]\nimage = \"${{DB_IMAGE:-postgres:16}}\"\n"
    );
    let d = load(&text, None).unwrap_err();
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0].key, "services.api.image");
    assert_eq!((d[0].line, d[0].col), (6, 9));
    assert!(d[0]
        .message
        .contains("environment variable `API_TAG` is not set"));
    assert_eq!(d[1].key, "services.api.desired_count");

    let ok = text
        .replace("${API_TAG}", "$${literal}")
        .replace("100000", "1");
    let c = load(&ok, None).unwrap().config;
    let image = |k: &str| match &c.services[k].image {
        Some(crate::config::Image::Reference(r)) => r.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(image("web"), "repo/web:v42");
    assert_eq!(image("db"), "postgres:16");
    assert_eq!(image("api"), "repo/api:${literal}");
}

#[test]
fn validate_checks_the_base_and_every_environment_reporting_each_problem_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    // A problem in the base (every environment inherits it) and one in production only.
    let text = config("desired_count = 100000").replace("image = \"nginx:1.27\"", "image = \"\"");
    std::fs::write(&path, &text).unwrap();
    let options = Options {
        environment: None,
        variables: &vars,
    };
    let d = load_all(&path, options).unwrap_err().diagnostics;
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0].key, "services.web.image");
    assert_eq!(
        (d[1].key.as_str(), d[1].line),
        ("services.web.desired_count", 7)
    );

    std::fs::write(&path, config("desired_count = 3")).unwrap();
    let all = load_all(&path, options).unwrap();
    let apps: Vec<&str> = all.iter().map(|l| l.config.app.as_str()).collect();
    assert_eq!(apps, ["demo", "demo-production", "demo-test"]);
}

#[test]
fn an_app_name_the_environment_makes_too_long_says_so_once() {
    let text = config("desired_count = 3").replace("app = \"demo\"", "app = \"demo-shop-web\"");
    let d = load(&text, Some("production")).unwrap_err();
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].key.as_str(), d[0].line), ("app", 1));
    assert!(
        d[0].message
            .contains("environment `production` is the app `demo-shop-web-production`"),
        "{d:#?}"
    );
}
