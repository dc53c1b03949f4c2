//! `[load_balancer]`: settings, listeners, TLS, default actions, authentication, rules.

use super::*;

/// A valid ALB setup: `web` (port 8080) behind `listeners`. `[services.web]` is on line 3,
/// `svc_extra` starts on line 6.
pub(super) fn alb(svc_extra: &str, tg_extra: &str, lb_extra: &str, listeners: &str) -> String {
    format!(
        "{BASE}[services.web]\nimage = \"nginx:1.27\"\nports = [8080]\n{svc_extra}\
         [services.web.target_group]\nport = 8080\n{tg_extra}\
         [load_balancer]\n{lb_extra}{listeners}"
    )
}

/// `alb` with only `listeners` added.
pub(super) fn alb_listeners(listeners: &str) -> String {
    alb("", "", "", listeners)
}

/// `[[load_balancer.listeners]]` with `port`, `protocol` and `rest`.
fn listener(port: u16, protocol: &str, rest: &str) -> String {
    format!("[[load_balancer.listeners]]\nport = {port}\nprotocol = \"{protocol}\"\n{rest}")
}

const CERT: &str = "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc-123";
const USER_POOL: &str =
    "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_Ab";

pub(super) fn http_web() -> String {
    listener(80, "HTTP", "service = \"web\"\n")
}

fn https_web(rest: &str) -> String {
    listener(
        443,
        "HTTPS",
        &format!("certificates = [\"{CERT}\"]\nservice = \"web\"\n{rest}"),
    )
}

#[test]
fn load_balancer_baseline_is_valid() {
    let text = alb_listeners(&http_web());
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    assert!(warns(&text).is_empty());
    let full = alb(
        "subnets = \"private\"\n",
        "deregistration_delay = 0\n[services.web.target_group.health_check]\npath = \"/health\"\n\
         port = \"8081\"\ninterval = 300\ntimeout = 120\nmatcher = \"200-299,302\"\n",
        "scheme = \"internal\"\nidle_timeout = 4000\ningress_cidrs = [\"10.0.0.0/8\"]\n\
         attributes = { \"routing.http2.enabled\" = \"false\" }\n",
        &format!(
            "{}{}\n[[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/api/*\"]\n\
             hosts = [\"*.example.com\"]\npriority = 50000\n",
            listener(80, "HTTP", "redirect_https_port = 443\n"),
            https_web(&format!(
                "ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"\n\
                 cognito = {{ user_pool_arn = \"{USER_POOL}\", client_id = \"c\", domain = \"d\", \
                 session_timeout = 604800 }}"
            ))
        ),
    );
    assert!(diags(&full).is_empty(), "{:#?}", diags(&full));
}

#[test]
fn load_balancer_name_rules() {
    let named = |n: &str| alb("", "", &format!("name = \"{n}\"\n"), &http_web());
    let d = one(
        &named("my_alb"),
        "load_balancer.name",
        "`my_alb` is not a valid load balancer name (it contains `_`)",
    );
    assert_eq!(d.line, 9);
    one(
        &named("internal-web"),
        "load_balancer.name",
        "it starts with `internal-`",
    );
    one(
        &named("-web"),
        "load_balancer.name",
        "starts or ends with a hyphen",
    );
    one(
        &named(&"a".repeat(33)),
        "load_balancer.name",
        "it is 33 characters long",
    );
    one(&named(""), "load_balancer.name", "it is empty");
    // The default name is the app name.
    one(
        &alb_listeners(&http_web()).replace("app = \"demo\"", "app = \"internal-tools\""),
        "load_balancer",
        "`internal-tools` is not a valid load balancer name (the default, the app name",
    );
}

#[test]
fn internet_facing_load_balancer_needs_public_subnets() {
    one(
        &alb("", "", "subnets = \"private\"\n", &http_web()),
        "load_balancer.subnets",
        "an internet-facing load balancer needs public subnets",
    );
    // internal in public subnets is allowed.
    assert!(diags(&alb(
        "",
        "",
        "scheme = \"internal\"\nsubnets = \"public\"\n",
        &http_web()
    ))
    .is_empty());
}

#[test]
fn load_balancer_needs_two_zones() {
    let text = alb_listeners(&http_web()).replace(
        "[services.web]",
        "[network]\nazs = [\"ap-northeast-1a\"]\npublic_subnets = [\"10.0.0.0/24\"]\n[services.web]",
    );
    one(
        &text,
        "network.azs",
        "`azs` lists 1 zone(s), but an Application Load Balancer needs subnets in at least \
         two availability zones",
    );
    let text = alb_listeners(&http_web())
        .replace("[services.web]", "[network]\naz_count = 1\n[services.web]");
    one(&text, "network.az_count", "`az_count` is 1, but");
    let existing = alb_listeners(&http_web()).replace(
        "[services.web]",
        "[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\"]\n[services.web]",
    );
    one(
        &existing,
        "load_balancer",
        "the load balancer would use 1 subnet (network.existing.public_subnets)",
    );
    let no_private = alb("", "", "scheme = \"internal\"\n", &http_web()).replace(
        "[services.web]",
        "[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\", \"b\"]\n[services.web]",
    );
    one(
        &no_private,
        "load_balancer",
        "the load balancer runs in private subnets, but network.existing.private_subnets is empty",
    );
}

#[test]
fn load_balancer_settings() {
    one(
        &alb("", "", "idle_timeout = 0\n", &http_web()),
        "load_balancer.idle_timeout",
        "idle_timeout is 0 seconds; it must be 1 to 4000",
    );
    one(
        &alb("", "", "idle_timeout = 4001\n", &http_web()),
        "load_balancer.idle_timeout",
        "idle_timeout is 4001",
    );
    one(
        &alb("", "", "ingress_cidrs = []\n", &http_web()),
        "load_balancer.ingress_cidrs",
        "ingress_cidrs is empty",
    );
    one(
        &alb(
            "",
            "",
            "ingress_cidrs = [\"10.0.0.0/8\", \"10.1.0.1/16\"]\n",
            &http_web(),
        ),
        "load_balancer.ingress_cidrs[1]",
        "host bits set",
    );
    one(
        &alb(
            "",
            "",
            "ingress_cidrs = [\"10.0.0.0/8\", \"10.0.0.0/8\"]\n",
            &http_web(),
        ),
        "load_balancer.ingress_cidrs[1]",
        "listed twice (also ingress_cidrs[0])",
    );
    one(
        &format!(
            "{}{}",
            alb("", "", "security_groups = [\"sg-0a\", \"\"]\n", &http_web()),
            super::network::EXISTING
        ),
        "load_balancer.security_groups[1]",
        "security group is empty",
    );
    one(
        &(alb(
            "",
            "",
            "security_groups = [\"sg-0a\", \"sg-0a\"]\n",
            &http_web(),
        ) + super::network::EXISTING),
        "load_balancer.security_groups[1]",
        "`sg-0a` is listed twice",
    );
    one(
        &(alb(
            "",
            "",
            "security_groups = [\"alb-sg\"]\ningress_cidrs = [\"10.0.0.0/8\"]\n",
            &http_web(),
        ) + super::network::EXISTING),
        "load_balancer.ingress_cidrs",
        "ingress_cidrs has no effect with security_groups",
    );
}

#[test]
fn load_balancer_attributes() {
    one(
        &alb(
            "",
            "",
            "attributes = { \"idle_timeout.timeout_seconds\" = \"30\" }\n",
            &http_web(),
        ),
        "load_balancer.attributes.idle_timeout.timeout_seconds",
        "has its own key: set load_balancer.idle_timeout",
    );
    one(
        &alb(
            "",
            "",
            "attributes = { \"deletion_protection.enabled\" = \"true\" }\n",
            &http_web(),
        ),
        "load_balancer.attributes.deletion_protection.enabled",
        "set load_balancer.deletion_protection",
    );
    one(
        &alb("", "", "attributes = { \"\" = \"x\" }\n", &http_web()),
        "load_balancer.attributes.",
        "attribute key is empty",
    );
}

#[test]
fn load_balancer_needs_a_listener() {
    let text = alb("", "", "idle_timeout = 60\n", "");
    let d = diags(&text);
    assert_eq!(d.len(), 2, "{d:#?}");
    has(&text, "load_balancer", "the load balancer has no listeners");
    has(
        &text,
        "services.web.target_group",
        "not used by any listener",
    );
}

#[test]
fn listener_ports() {
    let d = one(
        &alb_listeners(&format!(
            "{}{}",
            http_web(),
            listener(80, "HTTP", "redirect_https_port = 443\n")
        )),
        "load_balancer.listeners[1].port",
        "port 80 is already the port of listeners[0]",
    );
    assert_eq!(d.line, 14);
    one(
        &alb_listeners(&listener(0, "HTTP", "service = \"web\"\n")),
        "load_balancer.listeners[0].port",
        "port 0 is not a valid port",
    );
}

#[test]
fn https_listener_certificates() {
    one(
        &alb_listeners(&listener(443, "HTTPS", "service = \"web\"\n")),
        "load_balancer.listeners[0].certificates",
        "an HTTPS listener needs at least one ACM certificate",
    );
    let cert = |c: &str| {
        alb_listeners(&listener(
            443,
            "HTTPS",
            &format!("certificates = [\"{c}\"]\nservice = \"web\"\n"),
        ))
    };
    one(
        &cert("arn:aws:acm:ap-northeast-1:123456789012:cert/x"),
        "load_balancer.listeners[0].certificates[0]",
        "is not an ACM certificate ARN (the resource `cert/x` is not `certificate/<id>`)",
    );
    one(
        &cert("arn:aws:iam::123456789012:server-certificate/x"),
        "load_balancer.listeners[0].certificates[0]",
        "the service is `iam`, not `acm`",
    );
    one(
        &cert("arn:aws:acm:tokyo:123456789012:certificate/x"),
        "load_balancer.listeners[0].certificates[0]",
        "`tokyo` is not a region",
    );
    one(
        &cert("arn:aws:acm:ap-northeast-1:1234:certificate/x"),
        "load_balancer.listeners[0].certificates[0]",
        "`1234` is not a 12-digit account id",
    );
    one(
        &cert("my-cert"),
        "load_balancer.listeners[0].certificates[0]",
        "it does not have the form",
    );
}

#[test]
fn http_listener_has_no_tls_settings() {
    one(
        &alb_listeners(&listener(
            80,
            "HTTP",
            &format!("certificates = [\"{CERT}\"]\nservice = \"web\"\n"),
        )),
        "load_balancer.listeners[0].certificates",
        "an HTTP listener does not use certificates",
    );
    one(
        &alb_listeners(&listener(
            80,
            "HTTP",
            "ssl_policy = \"ELBSecurityPolicy-2016-08\"\nservice = \"web\"\n",
        )),
        "load_balancer.listeners[0].ssl_policy",
        "an HTTP listener has no TLS policy",
    );
    one(
        &alb_listeners(&https_web("ssl_policy = \"TLS13\"\n")),
        "load_balancer.listeners[0].ssl_policy",
        "`TLS13` is not an ELB security policy",
    );
}

#[test]
fn listener_default_action() {
    one(
        &alb_listeners(&format!("{}{}", http_web(), listener(8080, "HTTP", ""))),
        "load_balancer.listeners[1]",
        "the listener has no default action; set exactly one of `service`, \
         `redirect_https_port` or `fixed_response`",
    );
    one(
        &alb_listeners(&listener(
            80,
            "HTTP",
            "service = \"web\"\nfixed_response = { status = 404 }\n",
        )),
        "load_balancer.listeners[0].fixed_response",
        "`service` and `fixed_response` are both set",
    );
}

#[test]
fn listener_service_must_have_a_target_group() {
    // A second listener forwarding to `service`, next to a `worker` without a target group.
    let forward_to = |service: &str| {
        let second = listener(81, "HTTP", &format!("service = \"{service}\"\n"));
        format!(
            "{}[services.worker]\nimage = \"busybox\"\n",
            alb_listeners(&format!("{}{second}", http_web()))
        )
    };
    one(
        &forward_to("wbe"),
        "load_balancer.listeners[1].service",
        "`wbe` is not a key of [services]; services with a target_group: `web`",
    );
    one(
        &forward_to("worker"),
        "load_balancer.listeners[1].service",
        "services.worker has no target_group, so the load balancer cannot forward to it",
    );
}

#[test]
fn redirect_on_https_listener() {
    one(
        &alb_listeners(&format!(
            "{}{}",
            http_web(),
            listener(
                443,
                "HTTPS",
                &format!("certificates = [\"{CERT}\"]\nredirect_https_port = 443\n")
            )
        )),
        "load_balancer.listeners[1].redirect_https_port",
        "redirect_https_port on an HTTPS listener would redirect HTTPS to itself",
    );
}

#[test]
fn fixed_response_rules() {
    let fixed = |f: &str| {
        alb_listeners(&format!(
            "{}{}",
            http_web(),
            listener(81, "HTTP", &format!("fixed_response = {{ {f} }}\n"))
        ))
    };
    assert!(diags(&fixed(
        "status = 503, content_type = \"application/json\", body = \"{}\""
    ))
    .is_empty());
    one(
        &fixed("status = 100"),
        "load_balancer.listeners[1].fixed_response.status",
        "status 100 is not an HTTP status from 200 to 599",
    );
    one(
        &fixed("status = 200, content_type = \"text/xml\""),
        "load_balancer.listeners[1].fixed_response.content_type",
        "use one of: text/plain, text/css, text/html, application/javascript, application/json",
    );
    one(
        &fixed(&format!("status = 200, body = \"{}\"", "b".repeat(1025))),
        "load_balancer.listeners[1].fixed_response.body",
        "body is 1025 characters long; the limit is 1024",
    );
}

fn cognito(extra: &str) -> String {
    format!(
        "cognito = {{ user_pool_arn = \"{USER_POOL}\", client_id = \"c\", domain = \"d\"{extra} }}\n"
    )
}

fn oidc(extra: &str) -> String {
    format!(
        "[load_balancer.listeners.oidc]\nissuer = \"https://idp.example.com\"\n\
         authorization_endpoint = \"https://idp.example.com/auth\"\n\
         token_endpoint = \"https://idp.example.com/token\"\n\
         user_info_endpoint = \"https://idp.example.com/userinfo\"\nclient_id = \"c\"\n\
         client_secret_env = \"OIDC_SECRET\"\n{extra}"
    )
}

#[test]
fn authentication_rules() {
    assert!(diags(&alb_listeners(&https_web(&oidc("session_timeout = 1\n")))).is_empty());
    one(
        &alb_listeners(&https_web(&format!("{}{}", cognito(""), oidc("")))),
        "load_balancer.listeners[0].oidc",
        "cognito and oidc are mutually exclusive",
    );
    one(
        &alb_listeners(&listener(
            80,
            "HTTP",
            &format!("service = \"web\"\n{}", cognito("")),
        )),
        "load_balancer.listeners[0].cognito",
        "cognito sign-in needs an HTTPS listener: the ALB runs authenticate actions only on HTTPS",
    );
    one(
        &alb_listeners(&listener(
            80,
            "HTTP",
            &format!("service = \"web\"\n{}", oidc("")),
        )),
        "load_balancer.listeners[0].oidc",
        "oidc sign-in needs an HTTPS listener",
    );
    one(
        &alb_listeners(&https_web(&cognito(", session_timeout = 604801"))),
        "load_balancer.listeners[0].cognito.session_timeout",
        "session_timeout is 604801 seconds; it must be 1 to 604800",
    );
    one(
        &alb_listeners(&https_web(&oidc("session_timeout = 0\n"))),
        "load_balancer.listeners[0].oidc.session_timeout",
        "session_timeout is 0 seconds",
    );
}

#[test]
fn cognito_values() {
    let text = alb_listeners(&https_web(
        "cognito = { user_pool_arn = \"arn:aws:cognito-idp:ap-northeast-1:123456789012:pool/x\", \
             client_id = \"\", domain = \" \" }\n",
    ));
    let d = diags(&text);
    assert_eq!(d.len(), 3, "{d:#?}");
    has(
        &text,
        "load_balancer.listeners[0].cognito.user_pool_arn",
        "is not a Cognito user pool ARN (the resource `pool/x` is not `userpool/<id>`)",
    );
    has(
        &text,
        "load_balancer.listeners[0].cognito.client_id",
        "client_id is empty",
    );
    has(
        &text,
        "load_balancer.listeners[0].cognito.domain",
        "domain is empty",
    );
}

#[test]
fn oidc_values() {
    let text = alb_listeners(&https_web(
        &oidc("")
            .replace(
                "\"https://idp.example.com/token\"",
                "\"http://idp.example.com/token\"",
            )
            .replace("\"OIDC_SECRET\"", "\"OIDC-SECRET\"")
            .replace("client_id = \"c\"", "client_id = \"\""),
    ));
    let d = diags(&text);
    assert_eq!(d.len(), 3, "{d:#?}");
    has(
        &text,
        "load_balancer.listeners[0].oidc.token_endpoint",
        "token_endpoint `http://idp.example.com/token` is not an https:// URL",
    );
    has(
        &text,
        "load_balancer.listeners[0].oidc.client_id",
        "client_id is empty",
    );
    let d = has(
        &text,
        "load_balancer.listeners[0].oidc.client_secret_env",
        "client_secret_env is not a valid environment variable name (its value is not shown",
    );
    assert!(!d.message.contains("OIDC-SECRET"), "{d}");
}

/// `http_web()` plus the rules in `rules` (each a `[[...rules]]` body).
fn with_rules(rules: &[&str]) -> String {
    let mut text = alb_listeners(&http_web());
    for r in rules {
        text.push_str("[[load_balancer.listeners.rules]]\n");
        text.push_str(r);
    }
    text
}

#[test]
fn rule_service_and_conditions() {
    one(
        &format!(
            "{}[services.worker]\nimage = \"busybox\"\n",
            with_rules(&["service = \"worker\"\npaths = [\"/w\"]\n"])
        ),
        "load_balancer.listeners[0].rules[0].service",
        "services.worker has no target_group",
    );
    one(
        &with_rules(&["service = \"web\"\n"]),
        "load_balancer.listeners[0].rules[0]",
        "the rule has no condition; give at least one of `paths`",
    );
    one(
        &with_rules(&[
            "service = \"web\"\npaths = [\"/a\", \"/b\", \"/c\"]\nhosts = [\"a.example.com\", \"b.example.com\", \"c.example.com\"]\n",
        ]),
        "load_balancer.listeners[0].rules[0]",
        "the rule has 6 condition values (paths and hosts together); an ALB rule allows at most 5",
    );
}

#[test]
fn rule_patterns() {
    let path = |p: &str| with_rules(&[&format!("service = \"web\"\npaths = [\"/ok\", \"{p}\"]\n")]);
    assert!(diags(&path("/a-b_c.$~'@:+&*?/Z9")).is_empty());
    one(
        &path("api/*"),
        "load_balancer.listeners[0].rules[0].paths[1]",
        "it does not start with `/`",
    );
    one(
        &path("/a b"),
        "load_balancer.listeners[0].rules[0].paths[1]",
        "path pattern `/a b` is invalid (it contains ` `)",
    );
    one(
        &path(""),
        "load_balancer.listeners[0].rules[0].paths[1]",
        "it is empty",
    );
    one(
        &path(&format!("/{}", "p".repeat(128))),
        "load_balancer.listeners[0].rules[0].paths[1]",
        "it is 129 characters long",
    );
    let host = |h: &str| with_rules(&[&format!("service = \"web\"\nhosts = [\"{h}\"]\n")]);
    assert!(diags(&host("*.Example-1.com?")).is_empty());
    one(
        &host("example.com/x"),
        "load_balancer.listeners[0].rules[0].hosts[0]",
        "host pattern `example.com/x` is invalid (it contains `/`)",
    );
    one(
        &host(&"h".repeat(129)),
        "load_balancer.listeners[0].rules[0].hosts[0]",
        "129 characters",
    );
}

#[test]
fn rule_priorities() {
    one(
        &with_rules(&["service = \"web\"\npaths = [\"/a\"]\npriority = 0\n"]),
        "load_balancer.listeners[0].rules[0].priority",
        "priority is 0; it must be 1 to 50000",
    );
    one(
        &with_rules(&["service = \"web\"\npaths = [\"/a\"]\npriority = 50001\n"]),
        "load_balancer.listeners[0].rules[0].priority",
        "priority is 50001",
    );
    // rules[0] explicitly takes 20, which rules[1] gets by position.
    let d = one(
        &with_rules(&[
            "service = \"web\"\npaths = [\"/a\"]\npriority = 20\n",
            "service = \"web\"\npaths = [\"/b\"]\n",
        ]),
        "load_balancer.listeners[0].rules[1]",
        "rule priority clash: rules[1] and rules[0] both have priority 20 (rules[1]: by \
         position: 10 × 2; rules[0]: set)",
    );
    assert_eq!(d.line, 17);
    // Priorities that differ (40, 10 and 30 by position), in any order, are fine.
    assert!(diags(&with_rules(&[
        "service = \"web\"\npaths = [\"/a\"]\npriority = 40\n",
        "service = \"web\"\npaths = [\"/b\"]\npriority = 10\n",
        "service = \"web\"\npaths = [\"/c\"]\n",
    ]))
    .is_empty());
    // Rules of different listeners may share priorities.
    let two = format!(
        "{}[[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/a\"]\n{}\
         [[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/a\"]\n",
        alb_listeners(&http_web()),
        https_web("")
    );
    assert!(diags(&two).is_empty(), "{:#?}", diags(&two));
}
