//! Validation of `[load_balancer]`: listeners, rules, the services' target groups and
//! their health checks.

use std::collections::BTreeMap;

use super::names::{
    check_regional_arn, elb_name_problem, host_pattern_problem, is_env_name, matcher_problem,
    not_a_service_port, path_pattern_problem, set_keys, PATH_PATTERN_PUNCT,
};
use super::{
    az_count, root, service_path, Validator, DEFAULT_LB_CIDR, FIXED_RESPONSE_CONTENT_TYPES,
    MAX_RULE_CONDITION_VALUES, MAX_RULE_PRIORITY, MAX_SESSION_TIMEOUT,
};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{
    HealthCheck, Listener, Protocol, Scheme, Service, SubnetKind, TargetGroup, DEFAULT_SSL_POLICY,
};
use crate::config::network::parse_cidr;

impl Validator<'_> {
    /// `[services.<key>.target_group]`: the checks that need only the service.
    pub(super) fn target_group<'k>(
        &mut self,
        sp: &KeyPath,
        key: &'k str,
        s: &Service,
        tg: &TargetGroup,
        derive_ok: bool,
        names: &mut BTreeMap<String, &'k str>,
    ) {
        let tp = sp.key("target_group");
        if self.c.load_balancer.is_none() {
            self.err(
                tp.clone(),
                "a target_group needs a load balancer: add a [load_balancer] section with a \
                 listener forwarding to this service, or remove target_group",
            );
        }
        if !s.ports.contains(&tg.port) {
            self.err(tp.key("port"), not_a_service_port(tg.port, &s.ports));
        } else if s.port_protocol(key, tg.port) == "udp" {
            // The target group is HTTP or HTTPS: the load balancer reaches the target over
            // TCP, and the service's group admits the target port on TCP only ("Target
            // groups for your Application Load Balancers", Routing configuration:
            // "Protocols: HTTP, HTTPS"). Caught here, not by ECS or by failing health checks.
            self.err(
                tp.key("port"),
                format!(
                    "port {} is a UDP port of the task-definition file's main container; the \
                     load balancer forwards HTTP(S) over TCP, so give a TCP port",
                    tg.port
                ),
            );
        }
        let explicit = tg.name.is_some();
        let np = tp.key_if(explicit, "name");
        if let Some(name) = self.c.target_group_name(key) {
            if explicit || derive_ok {
                if let Some(reason) = elb_name_problem(&name) {
                    let what = if explicit { "" } else { " (derived)" };
                    self.err(
                        np.clone(),
                        format!(
                            "`{name}` is not a valid target group name{what} ({reason}); target \
                             group names are 1 to 32 letters, digits and hyphens, not starting \
                             or ending with a hyphen"
                        ),
                    );
                }
            }
            self.unique(names, name, key, np, |name, prev| {
                format!(
                    "target group name `{name}` is also the target group name of \
                     services.{prev}; each service needs its own target group"
                )
            });
        }
        if tg.deregistration_delay > 3600 {
            self.err(
                tp.key("deregistration_delay"),
                format!(
                    "deregistration_delay is {} seconds; it must be 0 to 3600",
                    tg.deregistration_delay
                ),
            );
        }
        if tg.health_check_grace_period > i32::MAX as u32 {
            self.err(
                tp.key("health_check_grace_period"),
                format!(
                    "health_check_grace_period is {} seconds; it must be 0 to {}",
                    tg.health_check_grace_period,
                    i32::MAX
                ),
            );
        }
        self.health_check(&tp.key("health_check"), &tg.health_check);
    }

    pub(super) fn health_check(&mut self, hp: &KeyPath, hc: &HealthCheck) {
        let len = hc.path.chars().count();
        if !hc.path.starts_with('/') {
            self.err(
                hp.key("path"),
                format!(
                    "health check path `{}` does not start with `/`; write the request path, \
                     e.g. `/` or `/health`",
                    hc.path
                ),
            );
        } else if len > 1024 {
            self.err(
                hp.key("path"),
                format!("health check path is {len} characters long; the limit is 1024"),
            );
        }
        let port_ok = hc.port == "traffic-port"
            || hc.port.parse::<u16>().is_ok_and(|p| p != 0) && !hc.port.starts_with(['+', '0']);
        if !port_ok {
            self.err(
                hp.key("port"),
                format!(
                    "health check port `{}` is neither `traffic-port` (the target's own port) \
                     nor a port number 1 to 65535 written as a string, e.g. \"8081\"",
                    hc.port
                ),
            );
        }
        let ranges = [
            ("interval", hc.interval, 5, 300),
            ("timeout", hc.timeout, 2, 120),
            ("healthy_threshold", hc.healthy_threshold, 2, 10),
            ("unhealthy_threshold", hc.unhealthy_threshold, 2, 10),
        ];
        self.check_timing(hp, &ranges, hc.timeout, hc.interval);
        if let Some(reason) = matcher_problem(&hc.matcher) {
            self.err(
                hp.key("matcher"),
                format!(
                    "matcher `{}` is invalid ({reason}); write HTTP codes from 200 to 499, \
                     separated by commas, or a range: `200`, `200,302`, `200-299`",
                    hc.matcher
                ),
            );
        }
    }

    /// `[load_balancer]` and its listeners, and the services' target groups it must serve.
    pub(super) fn load_balancer(&mut self) {
        let c = self.c;
        let Some(lb) = &c.load_balancer else {
            return;
        };
        let lp = root("load_balancer");

        let explicit = lb.name.is_some();
        if explicit || self.app_ok {
            let name = c.load_balancer_name();
            let reason = elb_name_problem(&name).or_else(|| {
                name.starts_with("internal-")
                    .then(|| "it starts with `internal-`".to_string())
            });
            if let Some(reason) = reason {
                let (path, what) = if explicit {
                    (lp.key("name"), "")
                } else {
                    (
                        lp.clone(),
                        " (the default, the app name; set load_balancer.name)",
                    )
                };
                self.err(
                    path,
                    format!(
                        "`{name}` is not a valid load balancer name{what} ({reason}); ALB names \
                         are 1 to 32 letters, digits and hyphens, not starting or ending with a \
                         hyphen and not starting with `internal-`"
                    ),
                );
            }
        }

        let kind = lb.subnet_kind();
        let subnets_path = lp.key_if(lb.subnets.is_some(), "subnets");
        if lb.scheme == Scheme::InternetFacing && kind == SubnetKind::Private {
            self.err(
                lp.key("subnets"),
                "an internet-facing load balancer needs public subnets (subnets = \"private\" \
                 has no route from the internet); use subnets = \"public\" (the default) or \
                 scheme = \"internal\"",
            );
        }
        match &c.network.existing {
            Some(ex) => {
                let (list, name) = match kind {
                    SubnetKind::Public => (&ex.public_subnets, "public"),
                    SubnetKind::Private => (&ex.private_subnets, "private"),
                };
                if list.is_empty() {
                    self.imported_subnets_present(
                        subnets_path.clone(),
                        kind,
                        "the load balancer runs",
                    );
                } else if list.len() < 2 {
                    self.err(
                        subnets_path.clone(),
                        format!(
                            "the load balancer would use 1 subnet (network.existing.{name}_subnets), \
                             but an Application Load Balancer needs subnets in at least two \
                             availability zones; list at least two (the zones of imported subnets \
                             are only known at `up`, so AWS checks that they differ)"
                        ),
                    );
                }
            }
            None => {
                let (n, n_source) = az_count(c);
                if n == 1 {
                    let key = if c.network.azs.is_some() {
                        "azs"
                    } else {
                        "az_count"
                    };
                    self.err(
                        root("network").key(key),
                        format!(
                            "{n_source}, but an Application Load Balancer needs subnets in at \
                             least two availability zones; use two or more zones"
                        ),
                    );
                }
            }
        }

        if lb.idle_timeout == 0 || lb.idle_timeout > 4000 {
            self.err(
                lp.key("idle_timeout"),
                format!(
                    "idle_timeout is {} seconds; it must be 1 to 4000",
                    lb.idle_timeout
                ),
            );
        }
        if lb.ingress_cidrs.is_empty() {
            self.err(
                lp.key("ingress_cidrs"),
                "ingress_cidrs is empty; give at least one source CIDR, e.g. [\"0.0.0.0/0\"] \
                 for everyone (the default)",
            );
        }
        for (i, cidr) in lb.ingress_cidrs.iter().enumerate() {
            let ip = lp.key("ingress_cidrs").index(i);
            if let Err(e) = parse_cidr(cidr) {
                self.err(ip, e);
            } else if let Some(j) = lb.ingress_cidrs[..i].iter().position(|x| x == cidr) {
                self.err(
                    ip,
                    format!("`{cidr}` is listed twice (also ingress_cidrs[{j}])"),
                );
            }
        }
        self.security_groups(&lp.key("security_groups"), &lb.security_groups);
        if !lb.security_groups.is_empty() && lb.ingress_cidrs != [DEFAULT_LB_CIDR] {
            self.err(
                lp.key("ingress_cidrs"),
                "ingress_cidrs has no effect with security_groups: ecsdeploy then creates no \
                 load balancer security group and never modifies imported ones; admit the \
                 sources on the imported group yourself and remove ingress_cidrs",
            );
        }
        for key in lb.attributes.keys() {
            let ap = lp.key("attributes").key(key);
            if key.trim().is_empty() {
                self.err(
                    ap,
                    "attribute key is empty; use a load balancer attribute name such as \
                     `routing.http2.enabled`",
                );
            } else if let Some(own) = match key.as_str() {
                "idle_timeout.timeout_seconds" => Some("idle_timeout"),
                "deletion_protection.enabled" => Some("deletion_protection"),
                _ => None,
            } {
                self.err(
                    ap,
                    format!(
                        "`{key}` has its own key: set load_balancer.{own} instead of this \
                         attribute"
                    ),
                );
            }
        }

        if lb.listeners.is_empty() {
            self.err(
                lp.clone(),
                "the load balancer has no listeners; add a [[load_balancer.listeners]] section, \
                 e.g. port = 80, protocol = \"HTTP\", service = \"<service key>\"",
            );
        }
        for (i, l) in lb.listeners.iter().enumerate() {
            let path = lp.key("listeners").index(i);
            if l.port == 0 {
                self.err(
                    path.key("port"),
                    "port 0 is not a valid port; ports are 1 to 65535",
                );
            } else if let Some(j) = lb.listeners[..i].iter().position(|x| x.port == l.port) {
                self.err(
                    path.key("port"),
                    format!(
                        "port {} is already the port of listeners[{j}]; each listener needs its \
                         own port",
                        l.port
                    ),
                );
            }
            self.listener(&path, l);
        }
    }

    pub(super) fn listener(&mut self, lp: &KeyPath, l: &Listener) {
        let https = l.protocol == Protocol::HTTPS;
        if https {
            if l.certificates.is_empty() {
                self.err(
                    lp.key("certificates"),
                    "an HTTPS listener needs at least one ACM certificate: set certificates = \
                     [\"arn:aws:acm:<region>:<account>:certificate/<id>\"]",
                );
            }
            for (i, arn) in l.certificates.iter().enumerate() {
                if let Err(m) = check_regional_arn(
                    arn,
                    "an ACM certificate ARN",
                    "acm",
                    "certificate/",
                    "arn:aws:acm:ap-northeast-1:123456789012:certificate/<id>",
                ) {
                    self.err(lp.key("certificates").index(i), m);
                }
            }
        } else {
            if !l.certificates.is_empty() {
                self.err(
                    lp.key("certificates"),
                    "an HTTP listener does not use certificates; remove them or set protocol = \
                     \"HTTPS\"",
                );
            }
            if l.ssl_policy.is_some() {
                self.err(
                    lp.key("ssl_policy"),
                    "an HTTP listener has no TLS policy; remove ssl_policy or set protocol = \
                     \"HTTPS\"",
                );
            }
        }
        if let Some(p) = &l.ssl_policy {
            if https && !p.starts_with("ELBSecurityPolicy-") {
                self.err(
                    lp.key("ssl_policy"),
                    format!(
                        "`{p}` is not an ELB security policy: their names start with \
                         `ELBSecurityPolicy-` (default {DEFAULT_SSL_POLICY})"
                    ),
                );
            }
        }

        // Exactly one default action.
        let actions = set_keys(&[
            ("service", l.service.is_some()),
            ("redirect_https_port", l.redirect_https_port.is_some()),
            ("fixed_response", l.fixed_response.is_some()),
        ]);
        match actions.as_slice() {
            [] => self.err(
                lp.clone(),
                "the listener has no default action; set exactly one of `service`, \
                 `redirect_https_port` or `fixed_response`",
            ),
            [_] => {}
            [first, rest @ ..] => {
                for second in rest {
                    self.err(
                        lp.key(*second),
                        format!(
                            "`{first}` and `{second}` are both set; a listener has exactly one \
                             default action: `service`, `redirect_https_port` or \
                             `fixed_response`"
                        ),
                    );
                }
            }
        }
        if let Some(svc) = &l.service {
            self.forward_target(lp.key("service"), svc);
        }
        if let Some(port) = l.redirect_https_port {
            if https {
                self.err(
                    lp.key("redirect_https_port"),
                    "redirect_https_port on an HTTPS listener would redirect HTTPS to itself; \
                     use it on an HTTP listener (e.g. port 80 redirecting to 443)",
                );
            } else if port == 0 {
                self.err(
                    lp.key("redirect_https_port"),
                    "port 0 is not a valid port; ports are 1 to 65535",
                );
            }
        }
        if let Some(f) = &l.fixed_response {
            let fp = lp.key("fixed_response");
            if !(200..=599).contains(&f.status) {
                self.err(
                    fp.key("status"),
                    format!("status {} is not an HTTP status from 200 to 599", f.status),
                );
            }
            if !FIXED_RESPONSE_CONTENT_TYPES.contains(&f.content_type.as_str()) {
                self.err(
                    fp.key("content_type"),
                    format!(
                        "content_type `{}` is not one the ALB accepts; use one of: {}",
                        f.content_type,
                        FIXED_RESPONSE_CONTENT_TYPES.join(", ")
                    ),
                );
            }
            if let Some(body) = &f.body {
                let len = body.chars().count();
                if len > 1024 {
                    self.err(
                        fp.key("body"),
                        format!("body is {len} characters long; the limit is 1024"),
                    );
                }
            }
        }

        // Sign-in.
        if l.cognito.is_some() && l.oidc.is_some() {
            self.err(
                lp.key("oidc"),
                "cognito and oidc are mutually exclusive: a listener signs users in with one \
                 provider; remove one of them",
            );
        }
        for (key, set) in [("cognito", l.cognito.is_some()), ("oidc", l.oidc.is_some())] {
            if set && !https {
                self.err(
                    lp.key(key),
                    format!(
                        "{key} sign-in needs an HTTPS listener: the ALB runs authenticate \
                         actions only on HTTPS; set protocol = \"HTTPS\" with a certificate (and \
                         redirect HTTP to it with redirect_https_port)"
                    ),
                );
            }
        }
        if let Some(a) = &l.cognito {
            let ap = lp.key("cognito");
            if let Err(m) = check_regional_arn(
                &a.user_pool_arn,
                "a Cognito user pool ARN",
                "cognito-idp",
                "userpool/",
                "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEf",
            ) {
                self.err(ap.key("user_pool_arn"), m);
            }
            if a.client_id.trim().is_empty() {
                self.err(
                    ap.key("client_id"),
                    "client_id is empty; give the id of the user pool's app client",
                );
            }
            if a.domain.trim().is_empty() {
                self.err(
                    ap.key("domain"),
                    "domain is empty; give the user pool domain prefix (e.g. `my-app-auth`) or \
                     its custom domain",
                );
            }
            self.session_timeout(&ap, a.session_timeout);
        }
        if let Some(a) = &l.oidc {
            let ap = lp.key("oidc");
            for (key, url) in [
                ("issuer", &a.issuer),
                ("authorization_endpoint", &a.authorization_endpoint),
                ("token_endpoint", &a.token_endpoint),
                ("user_info_endpoint", &a.user_info_endpoint),
            ] {
                let ok = url
                    .strip_prefix("https://")
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
                if !ok {
                    self.err(
                        ap.key(key),
                        format!(
                            "{key} `{url}` is not an https:// URL; the ALB talks to OIDC \
                             providers over HTTPS only"
                        ),
                    );
                }
            }
            if a.client_id.trim().is_empty() {
                self.err(
                    ap.key("client_id"),
                    "client_id is empty; give the client id registered with the provider",
                );
            }
            if !is_env_name(&a.client_secret_env) {
                self.err(
                    ap.key("client_secret_env"),
                    // The value is not echoed: a client secret pasted here by mistake
                    // must not reach the terminal or a CI log.
                    "client_secret_env is not a valid environment variable name (its value is \
                     not shown, in case it is the client secret itself: if so, remove it from \
                     the file and rotate the secret); client_secret_env names the variable \
                     that holds the client secret at `up` time (letters, digits and `_`, not \
                     starting with a digit, e.g. `OIDC_CLIENT_SECRET`)",
                );
            }
            self.session_timeout(&ap, a.session_timeout);
        }

        self.rules(lp, l);
    }

    pub(super) fn session_timeout(&mut self, ap: &KeyPath, t: Option<u32>) {
        if let Some(t) = t {
            if !(1..=MAX_SESSION_TIMEOUT).contains(&t) {
                self.err(
                    ap.key("session_timeout"),
                    format!(
                        "session_timeout is {t} seconds; it must be 1 to {MAX_SESSION_TIMEOUT} \
                         (7 days)"
                    ),
                );
            }
        }
    }

    pub(super) fn rules(&mut self, lp: &KeyPath, l: &Listener) {
        // (effective priority, rule index, explicit?)
        let mut priorities: Vec<(u32, usize, bool)> = Vec::new();
        for (i, rule) in l.rules.iter().enumerate() {
            let rp = lp.key("rules").index(i);
            self.forward_target(rp.key("service"), &rule.service);
            if rule.paths.is_empty() && rule.hosts.is_empty() {
                self.err(
                    rp.clone(),
                    "the rule has no condition; give at least one of `paths` (e.g. [\"/api/*\"]) \
                     or `hosts` (e.g. [\"api.example.com\"])",
                );
            }
            let total = rule.paths.len() + rule.hosts.len();
            if total > MAX_RULE_CONDITION_VALUES {
                self.err(
                    rp.clone(),
                    format!(
                        "the rule has {total} condition values (paths and hosts together); an \
                         ALB rule allows at most {MAX_RULE_CONDITION_VALUES}, so split it into \
                         several rules"
                    ),
                );
            }
            for (j, p) in rule.paths.iter().enumerate() {
                if let Some(reason) = path_pattern_problem(p) {
                    self.err(
                        rp.key("paths").index(j),
                        format!(
                            "path pattern `{p}` is invalid ({reason}); a path pattern is 1 to \
                             128 characters starting with `/`, of letters, digits and \
                             {PATH_PATTERN_PUNCT} (`*` matches any characters, `?` exactly one)"
                        ),
                    );
                }
            }
            for (j, h) in rule.hosts.iter().enumerate() {
                if let Some(reason) = host_pattern_problem(h) {
                    self.err(
                        rp.key("hosts").index(j),
                        format!(
                            "host pattern `{h}` is invalid ({reason}); a host pattern is 1 to 128 \
                             letters, digits, `-`, `.`, `*` and `?` (e.g. `*.example.com`)"
                        ),
                    );
                }
            }
            let explicit = rule.priority.is_some();
            let pp = rp.key_if(explicit, "priority");
            let priority = rule.priority.unwrap_or(10 * (i as u32 + 1));
            if !(1..=MAX_RULE_PRIORITY).contains(&priority) {
                self.err(
                    pp,
                    format!("priority is {priority}; it must be 1 to {MAX_RULE_PRIORITY}"),
                );
                continue;
            }
            let how = |explicit: bool, i: usize| {
                if explicit {
                    "set".to_string()
                } else {
                    format!("by position: 10 × {}", i + 1)
                }
            };
            if let Some(&(_, j, other_explicit)) =
                priorities.iter().find(|(p, _, _)| *p == priority)
            {
                self.err(
                    pp,
                    format!(
                        "rule priority clash: rules[{i}] and rules[{j}] both have priority \
                         {priority} (rules[{i}]: {}; rules[{j}]: {}); every rule of a listener \
                         needs its own priority",
                        how(explicit, i),
                        how(other_explicit, j)
                    ),
                );
            } else {
                priorities.push((priority, i, explicit));
            }
        }
    }

    /// A listener or rule forwards to `svc`: it must be a service with a target group.
    fn forward_target(&mut self, path: KeyPath, svc: &str) {
        let with_tg: Vec<String> = self
            .c
            .services
            .iter()
            .filter(|(_, s)| s.target_group.is_some())
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        let candidates = if with_tg.is_empty() {
            "no service has a target_group yet; add [services.<key>.target_group] with the \
             container port to expose"
                .to_string()
        } else {
            format!("services with a target_group: {}", with_tg.join(", "))
        };
        match self.c.services.get(svc) {
            None => self.err(
                path,
                format!("`{svc}` is not a key of [services]; {candidates}"),
            ),
            Some(s) if s.target_group.is_none() => self.err(
                path,
                format!(
                    "services.{svc} has no target_group, so the load balancer cannot forward to \
                     it; add [services.{svc}.target_group] with the container port to expose \
                     ({candidates})"
                ),
            ),
            Some(_) => {}
        }
    }

    /// Every target group must be the destination of some listener or rule.
    pub(super) fn target_groups_used(&mut self) {
        let c = self.c;
        let Some(lb) = &c.load_balancer else {
            return;
        };
        let forwarded: Vec<&str> = lb
            .listeners
            .iter()
            .flat_map(|l| {
                l.service
                    .iter()
                    .map(String::as_str)
                    .chain(l.rules.iter().map(|r| r.service.as_str()))
            })
            .collect();
        for (key, s) in &c.services {
            if s.target_group.is_some() && !forwarded.contains(&key.as_str()) {
                self.err(
                    service_path(key).key("target_group"),
                    format!(
                        "target group of service {key} is not used by any listener: set \
                         `service = \"{key}\"` on a listener or a rule of [load_balancer], or \
                         remove target_group"
                    ),
                );
            }
        }
    }
}
