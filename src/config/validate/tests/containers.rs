//! Container health checks, stop timeout, ulimits, sidecars and container dependencies.

use super::*;

/// A container health check on the main container (`[services.web.health_check]`).
fn chc(body: &str) -> String {
    svc(&format!(
        "[services.web.health_check]\ncommand = \"curl -f http://localhost/ || exit 1\"\n{body}"
    ))
}

#[test]
fn container_health_check_rules() {
    let p = "services.web.health_check";
    assert!(diags(&chc("")).is_empty());
    assert!(diags(&chc(
        "interval = 300\ntimeout = 60\nretries = 10\nstart_period = 300\n"
    ))
    .is_empty());
    one(
        &svc("[services.web.health_check]\ncommand = \" \"\n"),
        &format!("{p}.command"),
        "command is empty",
    );
    one(
        &chc("interval = 4\ntimeout = 2\n"),
        &format!("{p}.interval"),
        "interval is 4; it must be 5 to 300",
    );
    one(
        &chc("interval = 301\n"),
        &format!("{p}.interval"),
        "interval is 301",
    );
    one(
        &chc("interval = 100\ntimeout = 61\n"),
        &format!("{p}.timeout"),
        "timeout is 61; it must be 2 to 60",
    );
    one(
        &chc("timeout = 1\n"),
        &format!("{p}.timeout"),
        "timeout is 1",
    );
    one(
        &chc("interval = 10\ntimeout = 10\n"),
        &format!("{p}.timeout"),
        "timeout (10 s) must be less than interval (10 s)",
    );
    one(
        &chc("retries = 0\n"),
        &format!("{p}.retries"),
        "retries is 0; it must be 1 to 10",
    );
    one(
        &chc("retries = 11\n"),
        &format!("{p}.retries"),
        "retries is 11",
    );
    one(
        &chc("start_period = 301\n"),
        &format!("{p}.start_period"),
        "start_period is 301; it must be 0 to 300",
    );
}

#[test]
fn sidecar_health_check_rules() {
    one(
        &svc(
            "[[services.web.sidecars]]\nname = \"agent\"\nimage = \"busybox\"\n\
              health_check = { command = \"true\", retries = 0 }\n",
        ),
        "services.web.sidecars[0].health_check.retries",
        "retries is 0; it must be 1 to 10",
    );
    one(
        &svc(
            "[[services.web.sidecars]]\nname = \"agent\"\nimage = \"busybox\"\n\
              health_check = { command = \"\" }\n",
        ),
        "services.web.sidecars[0].health_check.command",
        "command is empty",
    );
}

#[test]
fn stop_timeout_range() {
    assert!(diags(&svc("stop_timeout = 2\n")).is_empty());
    assert!(diags(&svc("stop_timeout = 120\n")).is_empty());
    for t in [1, 121] {
        one(
            &svc(&format!("stop_timeout = {t}\n")),
            "services.web.stop_timeout",
            &format!("stop_timeout is {t} seconds; it must be 2 to 120"),
        );
    }
}

#[test]
fn release_needs_a_command_and_a_bounded_timeout() {
    assert!(diags(&svc(
        "release = { command = [\"./manage.py\", \"migrate\"] }\n"
    ))
    .is_empty());
    one(
        &svc("release = { command = [] }\n"),
        "services.web.release.command",
        "command is empty",
    );
    one(
        &svc("release = { command = [\"migrate\"], timeout = 0 }\n"),
        "services.web.release.timeout",
        "timeout is 0 seconds; it must be 1 to 86400",
    );
}

#[test]
fn ulimit_names() {
    assert!(diags(&svc(
        "ulimits = { nofile = { soft = 65536, hard = 65536 } }\n"
    ))
    .is_empty());
    let d = one(
        &svc("ulimits = { files = { soft = 1, hard = 1 } }\n"),
        "services.web.ulimits.files",
        "`files` is not a resource limit a container can set; use one of: core, cpu,",
    );
    assert!(d.message.contains("nofile"), "{}", d.message);
}

#[test]
fn ulimit_soft_above_hard() {
    one(
        &svc("ulimits = { nofile = { soft = 10, hard = 5 } }\n"),
        "services.web.ulimits.nofile.soft",
        "the soft limit 10 is above the hard limit 5",
    );
}

/// `svc(body)` plus one `[[services.web.sidecars]]` per entry (the entry's keys).
fn sidecars(body: &str, entries: &[&str]) -> String {
    let mut text = svc(body);
    for e in entries {
        text.push_str(&format!("[[services.web.sidecars]]\n{e}"));
    }
    text
}

#[test]
fn sidecars_baseline_is_valid() {
    let text = sidecars(
        "ports = [80]\ncontainer_depends_on = [{ container = \"init\", condition = \"SUCCESS\" }, \
         { container = \"proxy\", condition = \"HEALTHY\" }]\n",
        &[
            "name = \"init\"\nimage = \"busybox\"\ncommand = [\"true\"]\n",
            "name = \"proxy\"\nimage = \"envoyproxy/envoy:v1.31\"\nessential = true\n\
             ports = [9901]\nhealth_check = { command = \"true\" }\n\
             depends_on = [{ container = \"init\", condition = \"COMPLETE\" }]\n",
        ],
    );
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
}

#[test]
fn sidecar_name_rules() {
    let named = |n: &str| sidecars("", &[&format!("name = \"{n}\"\nimage = \"busybox\"\n")]);
    let p = "services.web.sidecars[0].name";
    one(
        &named("log router"),
        p,
        "sidecar name `log router` contains ` `",
    );
    one(&named(""), p, "sidecar name is empty");
    one(
        &named(&"s".repeat(256)),
        p,
        "is 256 characters long; the limit is 255",
    );
    one(
        &named("web"),
        p,
        "sidecar name `web` is the name of the main container (the service key)",
    );
}

#[test]
fn sidecar_names_unique() {
    one(
        &sidecars(
            "",
            &[
                "name = \"agent\"\nimage = \"busybox\"\n",
                "name = \"agent\"\nimage = \"busybox\"\n",
            ],
        ),
        "services.web.sidecars[1].name",
        "`agent` is already the name of sidecars[0]",
    );
}

#[test]
fn sidecar_image_rules() {
    let img = |i: &str| sidecars("", &[&format!("name = \"agent\"\nimage = \"{i}\"\n")]);
    let p = "services.web.sidecars[0].image";
    one(&img(""), p, "image is empty");
    one(&img("busy box"), p, "contains whitespace");
}

#[test]
fn ports_unique_across_the_task() {
    one(
        &sidecars(
            "ports = [80]\n",
            &["name = \"proxy\"\nimage = \"envoy\"\nports = [80]\n"],
        ),
        "services.web.sidecars[0].ports[0]",
        "port 80 is already used by the main container `web` (ports)",
    );
    one(
        &sidecars(
            "",
            &[
                "name = \"a\"\nimage = \"busybox\"\nports = [9000]\n",
                "name = \"b\"\nimage = \"busybox\"\nports = [9000]\n",
            ],
        ),
        "services.web.sidecars[1].ports[0]",
        "port 9000 is already used by sidecars[0] `a`",
    );
    one(
        &sidecars("", &["name = \"a\"\nimage = \"busybox\"\nports = [0]\n"]),
        "services.web.sidecars[0].ports[0]",
        "port 0 is not a valid port",
    );
}

#[test]
fn sidecar_environment_and_command() {
    one(
        &sidecars(
            "",
            &["name = \"a\"\nimage = \"busybox\"\nenvironment = { \"1X\" = \"y\" }\n"],
        ),
        "services.web.sidecars[0].environment.1X",
        "`1X` is not a valid environment variable name",
    );
    one(
        &sidecars("", &["name = \"a\"\nimage = \"busybox\"\ncommand = []\n"]),
        "services.web.sidecars[0].command",
        "command is an empty list",
    );
    let w = warns(&sidecars(
        "",
        &["name = \"a\"\nimage = \"busybox\"\nenvironment = { API_TOKEN = \"y\" }\n"],
    ));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "services.web.sidecars[0].environment.API_TOKEN");
}

#[test]
fn container_dependency_must_name_a_container_of_the_task() {
    one(
        &sidecars(
            "container_depends_on = [{ container = \"db\" }]\n",
            &["name = \"log\"\nimage = \"busybox\"\n"],
        ),
        "services.web.container_depends_on[0].container",
        "`db` is not a container of this task; its containers are `web`, `log`",
    );
    one(
        &sidecars(
            "",
            &["name = \"log\"\nimage = \"busybox\"\ndepends_on = [{ container = \"nope\" }]\n"],
        ),
        "services.web.sidecars[0].depends_on[0].container",
        "`nope` is not a container of this task",
    );
}

#[test]
fn container_dependency_on_itself() {
    one(
        &svc("container_depends_on = [{ container = \"web\" }]\n"),
        "services.web.container_depends_on[0].container",
        "container `web` depends on itself",
    );
    one(
        &sidecars(
            "",
            &["name = \"log\"\nimage = \"busybox\"\ndepends_on = [{ container = \"log\" }]\n"],
        ),
        "services.web.sidecars[0].depends_on[0].container",
        "container `log` depends on itself",
    );
}

#[test]
fn container_dependency_duplicate() {
    one(
        &sidecars(
            "container_depends_on = [{ container = \"log\" }, { container = \"log\" }]\n",
            &["name = \"log\"\nimage = \"busybox\"\n"],
        ),
        "services.web.container_depends_on[1].container",
        "`log` is listed twice (also [0])",
    );
}

#[test]
fn healthy_condition_needs_a_health_check() {
    one(
        &sidecars(
            "container_depends_on = [{ container = \"proxy\", condition = \"HEALTHY\" }]\n",
            &["name = \"proxy\"\nimage = \"envoy\"\n"],
        ),
        "services.web.container_depends_on[0].condition",
        "condition HEALTHY needs a health_check on container `proxy`",
    );
    // The main container, without a health check.
    one(
        &sidecars(
            "",
            &["name = \"log\"\nimage = \"busybox\"\n\
               depends_on = [{ container = \"web\", condition = \"HEALTHY\" }]\n"],
        ),
        "services.web.sidecars[0].depends_on[0].condition",
        "condition HEALTHY needs a health_check on container `web`",
    );
}

#[test]
fn complete_condition_on_an_essential_container() {
    one(
        &sidecars(
            "",
            &["name = \"log\"\nimage = \"busybox\"\n\
               depends_on = [{ container = \"web\", condition = \"COMPLETE\" }]\n"],
        ),
        "services.web.sidecars[0].depends_on[0].condition",
        "condition COMPLETE waits for container `web` to exit, but it is essential",
    );
    one(
        &sidecars(
            "container_depends_on = [{ container = \"init\", condition = \"SUCCESS\" }]\n",
            &["name = \"init\"\nimage = \"busybox\"\nessential = true\n"],
        ),
        "services.web.container_depends_on[0].condition",
        "condition SUCCESS waits for container `init` to exit",
    );
}

#[test]
fn container_dependency_cycle() {
    one(
        &sidecars(
            "container_depends_on = [{ container = \"b\" }]\n",
            &[
                "name = \"b\"\nimage = \"busybox\"\ndepends_on = [{ container = \"a\" }]\n",
                "name = \"a\"\nimage = \"busybox\"\ndepends_on = [{ container = \"web\" }]\n",
            ],
        ),
        "services.web.sidecars[1].depends_on",
        "container dependency cycle: a → web → b → a",
    );
}
