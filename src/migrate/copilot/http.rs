//! `http` of a Load Balanced Web Service: its route on the app's one load balancer, its
//! target group and the target group's health check.

use super::out::Out;
use super::track::Cx;
use super::units::duration_secs;
use crate::migrate::yaml::{Entry, Node, Value as Y};

/// A service's load balancer route: ALB path patterns (none: the listener's default) and
/// host names.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    pub src: String,
    /// Where `http` is, for a route another service's shadows.
    pub place: (String, usize, usize, String),
}

/// `http` of a Load Balanced Web Service: the route, the target group and its health check.
pub fn http(cx: &mut Cx, m: &Node, service: &mut Out, port: Option<u16>) -> Option<Route> {
    let e = cx.entry(m, "http")?;
    if e.value.as_bool() == Some(false) {
        cx.used(&e.value);
        return None;
    }
    let h = e.value.clone();
    let src = cx.src(e, "http");
    if let Some(tc) = cx.entry(&h, "target_container").cloned() {
        if tc.value.str() != Some(m.get("name").and_then(Node::str).unwrap_or_default()) {
            cx.skip(
                &tc,
                "http.target_container",
                "ecsdeploy's target group addresses the main container only",
            );
            cx.skip(e, "http", "the load balancer routes to a sidecar");
            return None;
        }
        cx.used(&tc.value);
    }
    let target_port = match cx.entry(&h, "target_port").cloned() {
        Some(tp) => match tp.value.as_u64().and_then(|p| u16::try_from(p).ok()) {
            Some(p) if Some(p) == port => {
                cx.used(&tp.value);
                Some(p)
            }
            _ => {
                cx.skip(
                    &tp,
                    "http.target_port",
                    "a target port other than image.port is not a container port ecsdeploy declares",
                );
                port
            }
        },
        None => port,
    };
    let Some(target_port) = target_port else {
        cx.skip(
            e,
            "http",
            "no image.port for the load balancer to send traffic to",
        );
        return None;
    };
    service.put("target_group.port", target_port as i64, Some(src.clone()));
    let mut route = Route {
        paths: Vec::new(),
        hosts: Vec::new(),
        src: src.clone(),
        place: (
            cx.file.to_string(),
            e.key_line,
            e.key_col,
            cx.field_name(&e.value, "http"),
        ),
    };
    if let Some(p) = cx.take(&h, "path") {
        let path = p.value.str().unwrap_or_default().trim_matches('/');
        if !path.is_empty() {
            route.paths = vec![format!("/{path}"), format!("/{path}/*")];
        }
    }
    if let Some(a) = cx.entry(&h, "alias").cloned() {
        route.hosts = aliases(cx, &a);
    }
    if let Some(hz) = cx.entry(&h, "hosted_zone").cloned() {
        cx.skip(
            &hz,
            "http.hosted_zone",
            "ecsdeploy writes no DNS records: point the names at the load balancer yourself",
        );
    }
    if let Some(hc) = cx.entry(&h, "healthcheck").cloned() {
        target_health_check(cx, &hc, service);
    }
    if let Some(d) = cx.entry(&h, "deregistration_delay").cloned() {
        match d.value.str().and_then(duration_secs).filter(|v| *v <= 3600) {
            Some(v) => {
                cx.used(&d.value);
                let src = cx.src(&d, "http.deregistration_delay");
                service.put("target_group.deregistration_delay", v as i64, Some(src));
            }
            None => cx.skip(&d, "http.deregistration_delay", "not 0 to 3600 seconds"),
        }
    }
    Some(route)
}

/// `http.alias`: a name, a list of names, or `{ name, hosted_zone }` entries.
fn aliases(cx: &mut Cx, a: &Entry) -> Vec<String> {
    let mut hosts = Vec::new();
    let mut one = |cx: &mut Cx, n: &Node, e: &Entry| match &n.value {
        Y::Scalar { text, .. } => {
            cx.used(n);
            hosts.push(text.clone());
        }
        Y::Map(_) => {
            cx.enter(n);
            if let Some(name) = cx
                .take(n, "name")
                .and_then(|x| x.value.str().map(str::to_string))
            {
                hosts.push(name);
            }
            if let Some(hz) = n.entry("hosted_zone") {
                cx.skip(
                    hz,
                    "http.alias.hosted_zone",
                    "ecsdeploy writes no DNS records: point the name at the load balancer yourself",
                );
            }
        }
        _ => cx.skip(e, "http.alias", "not a name"),
    };
    match &a.value.value {
        Y::Seq(items) => {
            cx.enter(&a.value);
            for n in items {
                one(cx, n, a);
            }
        }
        _ => one(cx, &a.value, a),
    }
    hosts
}

/// `http.healthcheck`: a path, or the target group's health check settings.
fn target_health_check(cx: &mut Cx, hc: &Entry, service: &mut Out) {
    if let Some(p) = hc.value.str() {
        cx.used(&hc.value);
        let src = cx.src(hc, "http.healthcheck");
        service.put("target_group.health_check.path", p, Some(src));
        return;
    }
    let h = hc.value.clone();
    cx.enter(&h);
    let base = "target_group.health_check";
    // Copilot's field, ecsdeploy's key, and the value written when the field is no scalar.
    for (f, k, default) in [
        ("path", "path", "/"),
        ("port", "port", "traffic-port"),
        ("success_codes", "matcher", "200"),
    ] {
        if let Some(e) = cx.take(&h, f) {
            let src = cx.src(e, &format!("http.healthcheck.{f}"));
            service.put(
                &format!("{base}.{k}"),
                e.value.str().unwrap_or(default),
                Some(src),
            );
        }
    }
    for (f, k) in [
        ("healthy_threshold", "healthy_threshold"),
        ("unhealthy_threshold", "unhealthy_threshold"),
    ] {
        if let Some(e) = cx.entry(&h, f).cloned() {
            match e.value.as_u64().filter(|v| (2..=10).contains(v)) {
                Some(v) => {
                    cx.used(&e.value);
                    let src = cx.src(&e, &format!("http.healthcheck.{f}"));
                    service.put(&format!("{base}.{k}"), v as i64, Some(src));
                }
                None => cx.skip(
                    &e,
                    &format!("http.healthcheck.{f}"),
                    "ecsdeploy takes 2 to 10",
                ),
            }
        }
    }
    let interval = h
        .get("interval")
        .and_then(Node::str)
        .and_then(duration_secs);
    for (f, lo, hi) in [("interval", 5, 300), ("timeout", 2, 120)] {
        if let Some(e) = cx.entry(&h, f).cloned() {
            let v = e.value.str().and_then(duration_secs);
            let ok = match (f, v) {
                (_, Some(v)) if !(lo..=hi).contains(&v) => false,
                ("timeout", Some(t)) => interval.is_none_or(|i| t < i),
                (_, v) => v.is_some(),
            };
            match v.filter(|_| ok) {
                Some(v) => {
                    cx.used(&e.value);
                    let src = cx.src(&e, &format!("http.healthcheck.{f}"));
                    service.put(&format!("{base}.{f}"), v as i64, Some(src));
                }
                None => cx.skip(
                    &e,
                    &format!("http.healthcheck.{f}"),
                    format!(
                        "ecsdeploy takes {lo} to {hi} whole seconds (a timeout below the interval)"
                    ),
                ),
            }
        }
    }
    if let Some(e) = cx.entry(&h, "grace_period").cloned() {
        match e.value.str().and_then(duration_secs) {
            Some(v) => {
                cx.used(&e.value);
                let src = cx.src(&e, "http.healthcheck.grace_period");
                service.put(
                    "target_group.health_check_grace_period",
                    v as i64,
                    Some(src),
                );
            }
            None => cx.skip(&e, "http.healthcheck.grace_period", "not whole seconds"),
        }
    }
}
