//! Service Connect: the namespace, published ports, discovery and DNS names.

use super::*;

/// `svc(body)` plus a `[service_connect]` section with namespace `local`.
fn sc(body: &str) -> String {
    format!("{}[service_connect]\nnamespace = \"local\"\n", svc(body))
}

#[test]
fn service_connect_namespace_name() {
    let ns = |name: &str| format!("{BASE}[service_connect]\nnamespace = \"{name}\"\n");
    let p = "service_connect.namespace";
    for ok in ["local", "internal.example", "a-1.b2"] {
        assert!(diags(&ns(ok)).is_empty(), "{ok}");
    }
    one(&ns(""), p, "`` is not a valid namespace name (it is empty)");
    one(&ns("my_ns"), p, "(it contains `_`)");
    one(&ns("-local"), p, "starts or ends with a dot or a hyphen");
    one(&ns("local."), p, "starts or ends with a dot or a hyphen");
    one(&ns("a..b"), p, "it contains `..`");
    one(&ns(&"n".repeat(1025)), p, "it is 1025 characters long");
}

#[test]
fn existing_service_connect_namespace_by_arn() {
    let arn = "arn:aws:servicediscovery:ap-northeast-1:123456789012:namespace/ns-abc123";
    let ns = |name: &str, existing: bool| {
        format!("{BASE}[service_connect]\nnamespace = \"{name}\"\nexisting = {existing}\n")
    };
    let p = "service_connect.namespace";
    assert!(diags(&ns(arn, true)).is_empty());
    assert!(diags(&ns("shared.internal", true)).is_empty());
    one(
        &ns(arn, false),
        p,
        "an ARN names a namespace that already exists: set existing = true",
    );
    one(
        &ns(
            "arn:aws:servicediscovery:ap-northeast-1:123456789012:service/srv-1",
            true,
        ),
        p,
        "is not a Cloud Map namespace ARN (the resource `service/srv-1` is not \
         `namespace/<id>`)",
    );
}

#[test]
fn a_default_dns_name_from_the_namespace_must_be_a_valid_client_alias() {
    // The default `<discovery name>.<namespace>` inherits the namespace's capitals, which a
    // client alias refuses; a written dns_name sidesteps it.
    let with = |ns: &str, publish: &str| {
        format!(
            "{}[service_connect]\nnamespace = \"{ns}\"\n",
            svc(&format!(
                "ports = [80]\n[services.web.connect]\npublish = [{publish}]\n"
            ))
        )
    };
    assert!(diags(&with("local", "{ port = 80 }")).is_empty());
    one(
        &with("Local", "{ port = 80 }"),
        "services.web.connect.publish[0]",
        "its default DNS name `web.Local` (<discovery name>.<namespace>) is not a valid client alias",
    );
    assert!(diags(&with("Local", "{ port = 80, dns_name = \"web.local\" }")).is_empty());
}

#[test]
fn connect_needs_service_connect() {
    one(
        &svc("ports = [80]\n[services.web.connect]\n"),
        "services.web.connect",
        "connect needs a namespace: add a [service_connect] section",
    );
    assert!(diags(&sc("ports = [80]\n[services.web.connect]\n")).is_empty());
}

#[test]
fn service_connect_without_connected_services_warns() {
    let w = warns(&format!("{BASE}[service_connect]\nnamespace = \"local\"\n"));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "service_connect");
    assert!(
        w[0].message.contains("no service has `connect`"),
        "{}",
        w[0].message
    );
}

/// `sc` with `ports` and one `[[services.web.connect.publish]]` entry.
fn publish(ports: &str, entry: &str) -> String {
    sc(&format!(
        "ports = {ports}\n[services.web.connect]\n[[services.web.connect.publish]]\n{entry}"
    ))
}

#[test]
fn published_port_must_be_a_service_port() {
    assert!(diags(&publish("[80]", "port = 80\n")).is_empty());
    one(
        &publish("[80]", "port = 81\n"),
        "services.web.connect.publish[0].port",
        "port 81 is not one of the service's ports (80)",
    );
}

#[test]
fn client_alias_needs_a_named_port_mapping() {
    let d = diags(&publish("[80]", "port = 81\nclient_port = 8081\n"));
    assert_eq!(d.len(), 2, "{d:#?}");
    has(
        &publish("[80]", "port = 81\nclient_port = 8081\n"),
        "services.web.connect.publish[0].client_port",
        "client alias port 8081 without a named port mapping",
    );
}

#[test]
fn client_port_zero() {
    one(
        &publish("[80]", "port = 80\nclient_port = 0\n"),
        "services.web.connect.publish[0].client_port",
        "client_port 0 is not a valid port",
    );
}

#[test]
fn published_port_twice() {
    one(
        &publish(
            "[80]",
            "port = 80\nname = \"a\"\n[[services.web.connect.publish]]\nport = 80\nname = \"b\"\n",
        ),
        "services.web.connect.publish[1].port",
        "port 80 is already published by publish[0]",
    );
}

#[test]
fn port_names_unique_within_the_service() {
    // Both default to the service key.
    one(
        &publish(
            "[80, 81]",
            "port = 80\n[[services.web.connect.publish]]\nport = 81\n",
        ),
        "services.web.connect.publish[1]",
        "port name `web` is also the name of publish[0]",
    );
    one(
        &publish(
            "[80, 81]",
            "port = 80\nname = \"http\"\n[[services.web.connect.publish]]\nport = 81\nname = \"http\"\n",
        ),
        "services.web.connect.publish[1].name",
        "port name `http` is also the name of publish[0]",
    );
}

#[test]
fn port_name_rules() {
    let p = "services.web.connect.publish[0].name";
    let named = |n: &str| publish("[80]", &format!("port = 80\nname = \"{n}\"\n"));
    assert!(diags(&named("http-1")).is_empty());
    one(
        &named("Http"),
        p,
        "`Http` is not a valid port name (it contains `H`)",
    );
    one(&named("a_b"), p, "(it contains `_`)");
    one(&named("-a"), p, "(it starts with a hyphen)");
    one(&named(""), p, "(it is empty)");
    one(&named(&"a".repeat(65)), p, "(it is 65 characters long)");
}

#[test]
fn discovery_name_rules() {
    one(
        &publish("[80]", "port = 80\ndiscovery_name = \"Web\"\n"),
        "services.web.connect.publish[0].discovery_name",
        "`Web` is not a valid discovery name (it contains `W`)",
    );
}

/// `api` and `web` with Service Connect, each publishing port 80 with `api_entry` /
/// `web_entry` added to the publish entry.
fn two_connected(api_entry: &str, web_entry: &str) -> String {
    let entry = |key: &str, extra: &str| {
        format!(
            "ports = [80]\n[services.{key}.connect]\n[[services.{key}.connect.publish]]\n\
             port = 80\n{extra}"
        )
    };
    format!(
        "{}[service_connect]\nnamespace = \"local\"\n",
        services(&[
            ("api", &entry("api", api_entry)),
            ("web", &entry("web", web_entry))
        ])
    )
}

#[test]
fn discovery_names_unique_across_services() {
    assert!(diags(&two_connected("", "")).is_empty());
    let d = one(
        &two_connected(
            "discovery_name = \"shared\"\n",
            "discovery_name = \"shared\"\n",
        ),
        "services.web.connect.publish[0].discovery_name",
        "discovery name `shared` of services.web is also the discovery name of \
         services.api.connect.publish[0]",
    );
    assert!(
        d.message.contains("unique in the namespace"),
        "{}",
        d.message
    );
    // Defaults clash too: web's port is named `api`, so is its discovery name.
    one(
        &two_connected("", "name = \"api\"\n"),
        "services.web.connect.publish[0]",
        "discovery name `api` of services.web is also the discovery name of services.api",
    );
}

#[test]
fn dns_names_unique_across_services() {
    one(
        &two_connected("dns_name = \"shared\"\n", "dns_name = \"shared\"\n"),
        "services.web.connect.publish[0].dns_name",
        "DNS name `shared` of services.web is also the DNS name of \
         services.api.connect.publish[0]",
    );
    // web's alias is api's default DNS name (`<discovery name>.<namespace>`).
    one(
        &two_connected("", "dns_name = \"api.local\"\n"),
        "services.web.connect.publish[0].dns_name",
        "DNS name `api.local` of services.web is also the DNS name of services.api",
    );
}

#[test]
fn dns_name_rules() {
    let dns = |n: &str| publish("[80]", &format!("port = 80\ndns_name = \"{n}\"\n"));
    let p = "services.web.connect.publish[0].dns_name";
    assert!(diags(&dns("backend-container.local")).is_empty());
    assert!(diags(&dns("legacy_db.local")).is_empty(), "AWS allows `_`");
    one(
        &dns("Backend"),
        p,
        "`Backend` is not a valid DNS name (it contains `B`)",
    );
    one(&dns(".x"), p, "starts with a hyphen or a dot");
    one(&dns("x."), p, "ends with a dot");
    one(&dns("a..b"), p, "it contains `..`");
    one(&dns(&"d".repeat(128)), p, "it is 128 characters long");
}

#[test]
fn connect_log_stream_prefix() {
    let prefix = |v: &str| {
        sc(&format!(
            "ports = [80]\n[services.web.connect]\nlog_stream_prefix = \"{v}\"\n"
        ))
    };
    let p = "services.web.connect.log_stream_prefix";
    assert!(diags(&prefix("web-traffic")).is_empty());
    one(
        &prefix(""),
        p,
        "log_stream_prefix is empty; omit it for the default `web-connect`",
    );
    one(&prefix("a:b"), p, "contains `:`");
    one(&prefix("a*"), p, "contains `*`");
}
