//! The live service's load balancing → `[services.<key>.target_group]` and
//! `[load_balancer]` with the listeners and rules that reach the service. Listeners and
//! rules that serve other services stay with the old load balancer, and are listed.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::{Action, Listener, LoadBalancer, Rule, TargetGroup};

use super::text::{q, strings};
use super::{Keys, Live};

/// One listener of the new load balancer.
#[derive(Debug, Default)]
pub struct ListenerOut {
    pub keys: Keys,
    /// `fixed_response = { ... }`, as one inline value, in `keys`.
    pub rules: Vec<Keys>,
}

/// What the load balancing becomes.
#[derive(Debug, Default)]
pub struct Routing {
    pub target_group: Keys,
    pub health_check: Keys,
    pub load_balancer: Keys,
    pub listeners: Vec<ListenerOut>,
    /// The load balancer's subnets and whether it is internet-facing.
    pub lb_subnets: Vec<String>,
    pub internet_facing: bool,
}

impl Routing {
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty()
    }
}

/// Convert the first load balancer of the service that is an ALB's target group; note the
/// rest. `ports`: the main container's ports; `key` the service key.
pub fn convert(
    live: &Live,
    key: &str,
    main: &str,
    ports: &[u16],
    notes: &mut Vec<String>,
) -> Routing {
    let mut out = Routing::default();
    let mut chosen: Option<(&TargetGroup, &LoadBalancer, u16)> = None;
    for l in live.service.load_balancers() {
        if let Some(name) = l.load_balancer_name() {
            notes.push(format!(
                "service load balancer `{name}`: a Classic Load Balancer; ecsdeploy uses \
                 Application Load Balancers only"
            ));
            continue;
        }
        let arn = l.target_group_arn().unwrap_or_default();
        let Some(tg) = live
            .target_groups
            .iter()
            .find(|t| t.target_group_arn() == Some(arn))
        else {
            notes.push(format!("target group {arn}: not found; dropped"));
            continue;
        };
        let tg_name = tg.target_group_name().unwrap_or(arn);
        let lb = tg.load_balancer_arns().first().and_then(|a| {
            live.load_balancers
                .iter()
                .find(|lb| lb.load_balancer_arn() == Some(a.as_str()))
        });
        let Some(lb) = lb else {
            notes.push(format!(
                "target group `{tg_name}`: no load balancer forwards to it; dropped"
            ));
            continue;
        };
        if lb.r#type().is_some_and(|t| t.as_str() != "application") {
            notes.push(format!(
                "target group `{tg_name}` of the {} load balancer `{}`: ecsdeploy makes \
                 Application Load Balancers only; dropped",
                lb.r#type().map(|t| t.as_str()).unwrap_or_default(),
                lb.load_balancer_name().unwrap_or_default()
            ));
            continue;
        }
        let port = l.container_port().and_then(|p| u16::try_from(p).ok());
        let container = l.container_name().unwrap_or_default();
        match port {
            Some(p) if container == main && ports.contains(&p) => {
                if chosen.is_some() {
                    notes.push(format!(
                        "target group `{tg_name}`: a second target group of the service; \
                         ecsdeploy gives a service one"
                    ));
                } else {
                    chosen = Some((tg, lb, p));
                }
            }
            _ => notes.push(format!(
                "target group `{tg_name}` addresses container `{container}` port {}, not a \
                 port of the main container; dropped",
                port.map(|p| p.to_string()).unwrap_or_default()
            )),
        }
    }
    let Some((tg, lb, port)) = chosen else {
        return out;
    };
    let tg_arn = tg.target_group_arn().unwrap_or_default();
    let listeners = listeners(live, lb, tg_arn, key, notes);
    if listeners.is_empty() {
        notes.push(format!(
            "target group `{}`: no HTTP or HTTPS listener of `{}` forwards to it in a way \
             ecsdeploy can express; the new service gets no load balancer",
            tg.target_group_name().unwrap_or_default(),
            lb.load_balancer_name().unwrap_or_default()
        ));
        return out;
    }
    out.listeners = listeners;
    target_group(live, tg, port, notes, &mut out);
    let internet_facing = lb.scheme().is_none_or(|s| s.as_str() == "internet-facing");
    out.internet_facing = internet_facing;
    out.lb_subnets = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    out.load_balancer.push((
        "scheme".into(),
        q(if internet_facing {
            "internet-facing"
        } else {
            "internal"
        }),
    ));
    if !lb.security_groups().is_empty() {
        out.load_balancer
            .push(("security_groups".into(), strings(lb.security_groups())));
    }
    let attributes = live
        .load_balancer_attributes
        .get(lb.load_balancer_arn().unwrap_or_default())
        .cloned()
        .unwrap_or_default();
    load_balancer_attributes(&attributes, &mut out.load_balancer);
    out
}

/// AWS's defaults of the ALB attributes DescribeLoadBalancerAttributes reports: an attribute
/// at its default is not written.
const ALB_DEFAULTS: &[(&str, &str)] = &[
    ("access_logs.s3.enabled", "false"),
    ("client_keep_alive.seconds", "3600"),
    ("connection_logs.s3.enabled", "false"),
    ("health_check_logs.s3.enabled", "false"),
    ("load_balancing.cross_zone.enabled", "true"),
    ("routing.http.desync_mitigation_mode", "defensive"),
    ("routing.http.drop_invalid_header_fields.enabled", "false"),
    ("routing.http.preserve_host_header.enabled", "false"),
    (
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
        "false",
    ),
    ("routing.http.xff_client_port.enabled", "false"),
    ("routing.http.xff_header_processing.mode", "append"),
    ("routing.http2.enabled", "true"),
    ("waf.fail_open.enabled", "false"),
    ("zonal_shift.config.enabled", "false"),
];

/// `idle_timeout`, `deletion_protection`, and the other attributes that differ from AWS's
/// defaults as `attributes` (an unknown one when it is neither empty nor `false`).
fn load_balancer_attributes(a: &BTreeMap<String, String>, keys: &mut Keys) {
    if let Some(t) = a
        .get("idle_timeout.timeout_seconds")
        .filter(|t| t.as_str() != "60")
        .and_then(|t| t.parse::<u32>().ok())
    {
        keys.push(("idle_timeout".into(), t.to_string()));
    }
    if a.get("deletion_protection.enabled").map(String::as_str) == Some("true") {
        keys.push(("deletion_protection".into(), "true".into()));
    }
    let rest: Vec<String> = a
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "idle_timeout.timeout_seconds" | "deletion_protection.enabled"
            )
        })
        .filter(|(k, v)| match ALB_DEFAULTS.iter().find(|(d, _)| d == k) {
            Some((_, default)) => v != default,
            None => !v.is_empty() && v.as_str() != "false",
        })
        .map(|(k, v)| format!("{} = {}", q(k), q(v)))
        .collect();
    if !rest.is_empty() {
        keys.push(("attributes".into(), format!("{{ {} }}", rest.join(", "))));
    }
}

fn target_group(
    live: &Live,
    tg: &TargetGroup,
    port: u16,
    notes: &mut Vec<String>,
    out: &mut Routing,
) {
    let name = tg.target_group_name().unwrap_or_default();
    let protocol = tg.protocol().map(|p| p.as_str()).unwrap_or("HTTP");
    out.target_group.push(("port".into(), port.to_string()));
    if protocol == "HTTPS" {
        out.target_group.push(("protocol".into(), q("HTTPS")));
    }
    let attributes = live
        .target_group_attributes
        .get(tg.target_group_arn().unwrap_or_default())
        .cloned()
        .unwrap_or_default();
    if let Some(d) = attributes
        .get("deregistration_delay.timeout_seconds")
        .and_then(|d| d.parse::<u32>().ok())
    {
        out.target_group
            .push(("deregistration_delay".into(), d.to_string()));
    }
    out.target_group.push((
        "health_check_grace_period".into(),
        live.service
            .health_check_grace_period_seconds()
            .unwrap_or(0)
            .to_string(),
    ));
    for (attribute, default, what) in [
        ("stickiness.enabled", "false", "sticky sessions"),
        (
            "load_balancing.algorithm.type",
            "round_robin",
            "the load balancing algorithm",
        ),
        ("slow_start.duration_seconds", "0", "slow start"),
    ] {
        if let Some(v) = attributes.get(attribute).filter(|v| v.as_str() != default) {
            notes.push(format!(
                "target group `{name}` attribute `{attribute}` = `{v}` ({what}): the new \
                 target group has AWS's default"
            ));
        }
    }
    if let Some(v) = tg.protocol_version().filter(|v| *v != "HTTP1") {
        notes.push(format!(
            "target group `{name}` protocol version `{v}`: ecsdeploy's target groups use HTTP1"
        ));
    }
    if tg
        .health_check_protocol()
        .is_some_and(|p| p.as_str() != protocol)
    {
        notes.push(format!(
            "target group `{name}` health check protocol `{}`: ecsdeploy checks with the \
             target group's protocol ({protocol})",
            tg.health_check_protocol()
                .map(|p| p.as_str())
                .unwrap_or_default()
        ));
    }
    if tg.health_check_enabled() == Some(false) {
        notes.push(format!(
            "target group `{name}` has its health check off: ecsdeploy's target groups check"
        ));
    }
    let hc = &mut out.health_check;
    if let Some(p) = tg.health_check_path() {
        hc.push(("path".into(), q(p)));
    }
    if let Some(p) = tg.health_check_port().filter(|p| *p != "traffic-port") {
        hc.push(("port".into(), q(p)));
    }
    for (k, v) in [
        ("interval", tg.health_check_interval_seconds()),
        ("timeout", tg.health_check_timeout_seconds()),
        ("healthy_threshold", tg.healthy_threshold_count()),
        ("unhealthy_threshold", tg.unhealthy_threshold_count()),
    ] {
        if let Some(v) = v {
            hc.push((k.into(), v.to_string()));
        }
    }
    match tg.matcher() {
        Some(m) if m.http_code().is_some() => {
            hc.push(("matcher".into(), q(m.http_code().unwrap_or_default())))
        }
        Some(m) if m.grpc_code().is_some() => notes.push(format!(
            "target group `{name}` gRPC health check matcher: ecsdeploy checks HTTP codes"
        )),
        _ => {}
    }
}

/// What an action does, as ecsdeploy can say it.
enum Does {
    /// Forward to the service's target group.
    Service,
    Redirect(String),
    Fixed(String),
    /// Something ecsdeploy cannot express (or another target group): why.
    Other(String),
}

fn action(actions: &[Action], tg_arn: &str) -> Does {
    let auth = actions.iter().any(|a| {
        a.r#type()
            .is_some_and(|t| t.as_str().starts_with("authenticate"))
    });
    let Some(last) = actions.iter().max_by_key(|a| a.order().unwrap_or(0)) else {
        return Does::Other("no action".into());
    };
    let kind = last.r#type().map(|t| t.as_str()).unwrap_or_default();
    let target = match kind {
        "forward" => {
            let tgs: Vec<&str> = match last.forward_config() {
                Some(f) if !f.target_groups().is_empty() => f
                    .target_groups()
                    .iter()
                    .filter_map(|t| t.target_group_arn())
                    .collect(),
                _ => last.target_group_arn().into_iter().collect(),
            };
            match tgs.as_slice() {
                [only] if *only == tg_arn => Does::Service,
                [other] => Does::Other(format!("forwards to another target group ({other})")),
                _ => Does::Other("forwards to several weighted target groups".into()),
            }
        }
        "redirect" => match last.redirect_config() {
            Some(r)
                if r.protocol() == Some("HTTPS")
                    && r.host().is_none_or(|h| h == "#{host}")
                    && r.path().is_none_or(|p| p == "/#{path}")
                    && r.query().is_none_or(|x| x == "#{query}")
                    && r.status_code().is_some_and(|s| s.as_str() == "HTTP_301")
                    && r.port().is_some_and(|p| p.parse::<u16>().is_ok()) =>
            {
                Does::Redirect(r.port().unwrap_or_default().to_string())
            }
            _ => Does::Other("a redirect other than HTTP 301 to HTTPS on the same URL".into()),
        },
        "fixed-response" => {
            let f = last.fixed_response_config();
            let status = f.and_then(|f| f.status_code()).unwrap_or("404");
            let mut parts = vec![format!("status = {status}")];
            if let Some(c) = f.and_then(|f| f.content_type()) {
                parts.push(format!("content_type = {}", q(c)));
            }
            if let Some(b) = f.and_then(|f| f.message_body()) {
                parts.push(format!("body = {}", q(b)));
            }
            Does::Fixed(format!("{{ {} }}", parts.join(", ")))
        }
        other => Does::Other(format!("a `{other}` action")),
    };
    if auth && !matches!(target, Does::Other(_)) {
        return Does::Other("signs users in first (authenticate-cognito/oidc)".into());
    }
    target
}

fn listeners(
    live: &Live,
    lb: &LoadBalancer,
    tg_arn: &str,
    key: &str,
    notes: &mut Vec<String>,
) -> Vec<ListenerOut> {
    let lb_arn = lb.load_balancer_arn().unwrap_or_default();
    let lb_name = lb.load_balancer_name().unwrap_or_default();
    let mut mine: Vec<&Listener> = live
        .listeners
        .iter()
        .filter(|l| l.load_balancer_arn() == Some(lb_arn))
        .collect();
    mine.sort_by_key(|l| l.port());
    let empty = Vec::new();
    // Listeners that reach the service, by port.
    let mut kept: BTreeMap<i32, ListenerOut> = BTreeMap::new();
    let mut redirects: Vec<(i32, String)> = Vec::new();
    for l in &mine {
        let port = l.port().unwrap_or_default();
        let protocol = l.protocol().map(|p| p.as_str()).unwrap_or_default();
        let at = format!("listener {port} of `{lb_name}`");
        let rules: &Vec<Rule> = live
            .rules
            .get(l.listener_arn().unwrap_or_default())
            .unwrap_or(&empty);
        let mut rule_out = Vec::new();
        let mut elsewhere = 0;
        let mut sorted: Vec<&Rule> = rules
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .collect();
        sorted.sort_by_key(|r| r.priority().and_then(|p| p.parse::<u32>().ok()));
        for r in sorted {
            let priority = r.priority().unwrap_or_default();
            match action(r.actions(), tg_arn) {
                Does::Service if !r.transforms().is_empty() => notes.push(format!(
                    "{at}, rule {priority} forwards to the service but rewrites the request                      (transforms); not reproduced"
                )),
                Does::Service => match conditions(r) {
                    Ok(mut keys) => {
                        keys.insert(0, ("service".into(), q(key)));
                        keys.push(("priority".into(), priority.to_string()));
                        rule_out.push(keys);
                    }
                    Err(why) => notes.push(format!(
                        "{at}, rule {priority} forwards to the service but {why}; not reproduced"
                    )),
                },
                Does::Other(_) | Does::Redirect(_) | Does::Fixed(_) => elsewhere += 1,
            }
        }
        let default = action(l.default_actions(), tg_arn);
        let reaches = matches!(default, Does::Service) || !rule_out.is_empty();
        if !reaches {
            if let Does::Redirect(to) = &default {
                redirects.push((port, to.clone()));
            } else {
                notes.push(format!(
                    "{at} ({protocol}) does not forward to the service; it stays with the old \
                     load balancer"
                ));
            }
            continue;
        }
        if protocol != "HTTP" && protocol != "HTTPS" {
            notes.push(format!(
                "{at}: protocol {protocol}; ecsdeploy makes HTTP and HTTPS listeners"
            ));
            continue;
        }
        if l.mutual_authentication()
            .and_then(|m| m.mode())
            .is_some_and(|m| m != "off")
        {
            notes.push(format!(
                "{at}: mutual TLS is not supported by ecsdeploy; dropped"
            ));
        }
        if !l.alpn_policy().is_empty() {
            notes.push(format!(
                "{at}: ALPN policy {}: not supported by ecsdeploy; dropped",
                l.alpn_policy().join(", ")
            ));
        }
        if elsewhere > 0 {
            notes.push(format!(
                "{at}: {elsewhere} rule(s) that do not forward to the service stay with the old \
                 load balancer"
            ));
        }
        let mut keys: Keys = vec![
            ("port".into(), port.to_string()),
            ("protocol".into(), q(protocol)),
        ];
        if protocol == "HTTPS" {
            let mut certs: Vec<&str> = Vec::new();
            let mut sorted = live
                .listener_certificates
                .get(l.listener_arn().unwrap_or_default())
                .filter(|c| !c.is_empty())
                .cloned()
                .unwrap_or_else(|| l.certificates().to_vec());
            sorted.sort_by_key(|c| c.is_default() != Some(true));
            certs.extend(sorted.iter().filter_map(|c| c.certificate_arn()));
            keys.push(("certificates".into(), strings(&certs)));
            if let Some(p) = l.ssl_policy() {
                keys.push(("ssl_policy".into(), q(p)));
            }
        }
        match default {
            Does::Service => keys.push(("service".into(), q(key))),
            Does::Redirect(to) => keys.push(("redirect_https_port".into(), to)),
            Does::Fixed(f) => keys.push(("fixed_response".into(), f)),
            Does::Other(why) => {
                notes.push(format!(
                    "{at} default action {why}; the new listener answers 404 instead"
                ));
                keys.push(("fixed_response".into(), "{ status = 404 }".into()));
            }
        }
        kept.insert(
            port,
            ListenerOut {
                keys,
                rules: rule_out,
            },
        );
    }
    // An HTTP listener that redirects to a kept HTTPS listener comes along.
    for (port, to) in redirects {
        if kept.keys().any(|p| p.to_string() == to) {
            kept.insert(
                port,
                ListenerOut {
                    keys: vec![
                        ("port".into(), port.to_string()),
                        ("protocol".into(), q("HTTP")),
                        ("redirect_https_port".into(), to),
                    ],
                    rules: Vec::new(),
                },
            );
        } else {
            notes.push(format!(
                "listener {port} of `{lb_name}` redirects to port {to}, which does not forward \
                 to the service; it stays with the old load balancer"
            ));
        }
    }
    kept.into_values().collect()
}

/// `paths` and `hosts` of a rule, or why its conditions cannot be expressed.
fn conditions(r: &Rule) -> Result<Keys, String> {
    let (mut paths, mut hosts) = (Vec::new(), Vec::new());
    for c in r.conditions() {
        match c.field() {
            Some("path-pattern") => paths.extend(
                c.path_pattern_config()
                    .map(|p| p.values().to_vec())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| c.values().to_vec()),
            ),
            Some("host-header") => hosts.extend(
                c.host_header_config()
                    .map(|p| p.values().to_vec())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| c.values().to_vec()),
            ),
            Some(other) => return Err(format!("matches on `{other}`")),
            None => return Err("has a condition without a field".into()),
        }
    }
    if paths.is_empty() && hosts.is_empty() {
        return Err("has no path or host condition".into());
    }
    let mut keys = Keys::new();
    if !paths.is_empty() {
        keys.push(("paths".into(), strings(&paths)));
    }
    if !hosts.is_empty() {
        keys.push(("hosts".into(), strings(&hosts)));
    }
    Ok(keys)
}
