//! The load balancer part of the desired state: the ALB and its security group, one
//! target group per exposed service, listeners and rules.

use std::collections::BTreeMap;

use super::env::Env;
use super::ids::*;
use super::network::Net;
use super::resource::{Ref, ResourceId, Val};
use super::spec::*;
use crate::config::{
    target_group_hash, Config, Listener, LoadBalancer, Scheme, DEFAULT_SSL_POLICY,
};

/// What services need to know about the load balancer.
#[derive(Debug, Clone, Default)]
pub struct LbWiring {
    /// The ALB's security groups: sources of the services' ingress rules.
    pub security_groups: Vec<Val>,
    /// Service key → its target group.
    pub target_groups: BTreeMap<String, ResourceId>,
    /// Service key → listeners and rules forwarding to it.
    pub routes_to: BTreeMap<String, Vec<ResourceId>>,
    /// Service key → the traffic-shifting wiring of a blue/green, canary or linear service.
    pub shifting: BTreeMap<String, Shifting>,
}

/// What ECS moves traffic with for one service: its second target group, the production
/// rule (and the test rule) forwarding to both groups, the role.
#[derive(Debug, Clone)]
pub struct Shifting {
    pub alternate: ResourceId,
    pub production_rule: ResourceId,
    pub test_rule: Option<ResourceId>,
}

/// Priority of the catch-all rule (`/*`) that stands in for a listener's default action
/// when ECS shifts its traffic: the last one (ELBv2 priorities are 1 to 50000), so the
/// listener's other rules still match first. ECS takes a rule, not a listener, as an
/// Application Load Balancer's production route (ECS API AdvancedConfiguration).
const CATCH_ALL_PRIORITY: u32 = 50000;

pub fn build(c: &Config, env: &Env, net: &Net, out: &mut Vec<Resource>) -> LbWiring {
    let Some(lb) = &c.load_balancer else {
        return LbWiring::default();
    };
    let mut w = LbWiring {
        security_groups: security_groups(c, env, lb, net, out),
        ..Default::default()
    };
    for (key, s) in &c.services {
        let Some(tg) = &s.target_group else { continue };
        let hash = tg.name.is_none().then(|| target_group_hash(tg));
        let id = target_group_id(key, hash.as_deref());
        let spec = Spec::TargetGroup(TargetGroupSpec {
            vpc: net.vpc.clone(),
            protocol: tg.protocol.as_aws().to_string(),
            port: i32::from(tg.port),
            health_check: HealthCheckSpec {
                path: tg.health_check.path.clone(),
                port: tg.health_check.port.clone(),
                protocol: tg.protocol.as_aws().to_string(),
                interval: tg.health_check.interval as i32,
                timeout: tg.health_check.timeout as i32,
                healthy_threshold: tg.health_check.healthy_threshold as i32,
                unhealthy_threshold: tg.health_check.unhealthy_threshold as i32,
                matcher: tg.health_check.matcher.clone(),
            },
            deregistration_delay: tg.deregistration_delay,
        });
        if s.deployment.strategy.shifts_traffic() {
            let alternate = alternate_target_group_id(key, hash.as_deref());
            out.push(Resource {
                id: alternate.clone(),
                name: c
                    .alternate_target_group_name(key)
                    .expect("service has a target group"),
                spec: spec.clone(),
            });
            w.shifting.insert(
                key.clone(),
                Shifting {
                    alternate,
                    // Set by the listener or rule that routes to the service (validated:
                    // exactly one).
                    production_rule: shifting_rule_id(0, key),
                    test_rule: None,
                },
            );
        }
        out.push(Resource {
            id: id.clone(),
            name: c
                .target_group_name(key)
                .expect("service has a target group"),
            spec,
        });
        w.target_groups.insert(key.clone(), id);
    }

    let mut attributes: BTreeMap<String, String> = lb.attributes.clone();
    attributes.insert(
        "idle_timeout.timeout_seconds".into(),
        lb.idle_timeout.to_string(),
    );
    attributes.insert(
        "deletion_protection.enabled".into(),
        lb.deletion_protection.to_string(),
    );
    out.push(Resource {
        id: lb_id(),
        name: c.load_balancer_name(),
        spec: Spec::LoadBalancer(LoadBalancerSpec {
            scheme: lb.scheme.as_aws().to_string(),
            subnets: net.subnets(lb.subnet_kind()),
            security_groups: w.security_groups.clone(),
            attributes,
            after: match lb.scheme {
                Scheme::InternetFacing => net.igw.iter().cloned().collect(),
                Scheme::Internal => vec![],
            },
        }),
    });
    for l in &lb.listeners {
        listener(l, &mut w, out);
    }
    for (key, s) in &c.services {
        if let (Some(port), true) = (s.deployment.test_port, w.shifting.contains_key(key)) {
            test_listener(port, key, &mut w, out);
        }
    }
    w
}

/// The test listener of a service (`deployment.test_port`, plain HTTP): a 404 unless its
/// one rule matches, which forwards every path to both groups; ECS points it at the new
/// revision while the deployment's test traffic stage lasts.
fn test_listener(port: u16, service: &str, w: &mut LbWiring, out: &mut Vec<Resource>) {
    let l = Listener {
        port,
        protocol: crate::config::Protocol::HTTP,
        certificates: vec![],
        ssl_policy: None,
        service: None,
        redirect_https_port: None,
        fixed_response: None,
        cognito: None,
        oidc: None,
        rules: vec![],
    };
    let id = listener_id(port);
    out.push(Resource {
        id: id.clone(),
        name: format!("HTTP {port} (test traffic for {service})"),
        spec: Spec::Listener(ListenerSpec {
            load_balancer: Val::Ref(Ref::arn(&lb_id())),
            port,
            protocol: "HTTP".to_string(),
            certificates: vec![],
            ssl_policy: None,
            default_actions: vec![ActionSpec::Fixed {
                status: 404,
                content_type: "text/plain".to_string(),
                body: Some("no test route".to_string()),
            }],
        }),
    });
    let rule = catch_all_rule(&l, &id, w, service, out);
    if let Some(sh) = w.shifting.get_mut(service) {
        sh.test_rule = Some(rule);
    }
}

/// The ALB's own security group admitting only the listener ports, or the imported ones.
fn security_groups(
    c: &Config,
    env: &Env,
    lb: &LoadBalancer,
    net: &Net,
    out: &mut Vec<Resource>,
) -> Vec<Val> {
    if !lb.security_groups.is_empty() {
        return lb
            .security_groups
            .iter()
            .map(|g| env.imported_sg(g))
            .collect();
    }
    let mut ingress = Vec::new();
    for l in &lb.listeners {
        for cidr in &lb.ingress_cidrs {
            ingress.push(IngressRule::tcp(
                l.port,
                Source::Cidr(cidr.clone()),
                Some(format!("{} listener", l.protocol.as_aws())),
            ));
        }
    }
    // The test listeners of services whose traffic ECS shifts, open like the others.
    let test_ports = c.services.values().filter_map(|s| {
        s.deployment
            .test_port
            .filter(|_| s.deployment.strategy.shifts_traffic() && s.target_group.is_some())
    });
    for port in test_ports {
        for cidr in &lb.ingress_cidrs {
            ingress.push(IngressRule::tcp(
                port,
                Source::Cidr(cidr.clone()),
                Some("HTTP test listener".to_string()),
            ));
        }
    }
    out.push(net.security_group(
        lb_sg_id(),
        c.load_balancer_sg_name(),
        format!("ecsdeploy {} load balancer", c.app),
        ingress,
    ));
    vec![Val::Ref(Ref::id(&lb_sg_id()))]
}

/// Sign-in actions of a listener, run before every forward.
fn auth_actions(l: &Listener) -> Vec<ActionSpec> {
    let mut v = Vec::new();
    if let Some(a) = &l.cognito {
        v.push(ActionSpec::Cognito {
            user_pool_arn: a.user_pool_arn.clone(),
            client_id: a.client_id.clone(),
            domain: a.domain.clone(),
            on_unauthenticated: a.on_unauthenticated.as_aws().to_string(),
            scope: a.scope.clone(),
            session_timeout: a.session_timeout,
        });
    }
    if let Some(a) = &l.oidc {
        v.push(ActionSpec::Oidc {
            issuer: a.issuer.clone(),
            authorization_endpoint: a.authorization_endpoint.clone(),
            token_endpoint: a.token_endpoint.clone(),
            user_info_endpoint: a.user_info_endpoint.clone(),
            client_id: a.client_id.clone(),
            client_secret_env: a.client_secret_env.clone(),
            on_unauthenticated: a.on_unauthenticated.as_aws().to_string(),
            scope: a.scope.clone(),
            session_timeout: a.session_timeout,
        });
    }
    v
}

/// The listener's sign-in actions, then a forward to the service's target group, or to
/// both of its groups when ECS shifts its traffic.
fn forward(l: &Listener, w: &LbWiring, service: &str) -> Vec<ActionSpec> {
    let mut v = auth_actions(l);
    let primary = Val::Ref(Ref::arn(&w.target_groups[service]));
    v.push(match w.shifting.get(service) {
        Some(sh) => ActionSpec::WeightedForward(vec![primary, Val::Ref(Ref::arn(&sh.alternate))]),
        None => ActionSpec::Forward(primary),
    });
    v
}

/// A rule forwarding every path (`/*`, the last priority) to both target groups of a
/// service whose traffic ECS shifts: the production route of a listener whose default
/// action forwards to the service, or the test listener's only rule.
fn catch_all_rule(
    l: &Listener,
    listener: &ResourceId,
    w: &mut LbWiring,
    service: &str,
    out: &mut Vec<Resource>,
) -> ResourceId {
    let id = shifting_rule_id(l.port, service);
    w.routes_to
        .entry(service.to_string())
        .or_default()
        .push(id.clone());
    out.push(Resource {
        id: id.clone(),
        name: format!("{} {} rule for {service}", l.protocol.as_aws(), l.port),
        spec: Spec::ListenerRule(ListenerRuleSpec {
            listener: Val::Ref(Ref::arn(listener)),
            priority: CATCH_ALL_PRIORITY,
            paths: vec!["/*".to_string()],
            hosts: vec![],
            actions: forward(l, w, service),
        }),
    });
    id
}

fn listener(l: &Listener, w: &mut LbWiring, out: &mut Vec<Resource>) {
    let id = listener_id(l.port);
    let default_actions = if let Some(svc) = &l.service {
        w.routes_to.entry(svc.clone()).or_default().push(id.clone());
        // The default action keeps forwarding to the first group; the catch-all rule
        // made below matches every request before it.
        let mut v = auth_actions(l);
        v.push(ActionSpec::Forward(Val::Ref(Ref::arn(
            &w.target_groups[svc],
        ))));
        v
    } else if let Some(port) = l.redirect_https_port {
        vec![ActionSpec::RedirectHttps { port }]
    } else {
        let f = l
            .fixed_response
            .as_ref()
            .expect("validated: one default action");
        vec![ActionSpec::Fixed {
            status: f.status,
            content_type: f.content_type.clone(),
            body: f.body.clone(),
        }]
    };
    let https = l.protocol == crate::config::Protocol::HTTPS;
    out.push(Resource {
        id: id.clone(),
        name: format!("{} {}", l.protocol.as_aws(), l.port),
        spec: Spec::Listener(ListenerSpec {
            load_balancer: Val::Ref(Ref::arn(&lb_id())),
            port: l.port,
            protocol: l.protocol.as_aws().to_string(),
            certificates: l.certificates.clone(),
            ssl_policy: https.then(|| {
                l.ssl_policy
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string())
            }),
            default_actions,
        }),
    });
    if let Some(svc) = l.service.as_ref().filter(|s| w.shifting.contains_key(*s)) {
        let rule = catch_all_rule(l, &id, w, svc, out);
        if let Some(sh) = w.shifting.get_mut(svc) {
            sh.production_rule = rule;
        }
    }
    for (i, rule) in l.rules.iter().enumerate() {
        let rid = listener_rule_id(l.port, i);
        if let Some(sh) = w.shifting.get_mut(&rule.service) {
            sh.production_rule = rid.clone();
        }
        w.routes_to
            .entry(rule.service.clone())
            .or_default()
            .push(rid.clone());
        out.push(Resource {
            id: rid,
            name: format!("{} {} rule {}", l.protocol.as_aws(), l.port, i + 1),
            spec: Spec::ListenerRule(ListenerRuleSpec {
                listener: Val::Ref(Ref::arn(&id)),
                priority: rule.priority.unwrap_or(10 * (i as u32 + 1)),
                paths: rule.paths.clone(),
                hosts: rule.hosts.clone(),
                actions: forward(l, w, &rule.service),
            }),
        });
    }
}
