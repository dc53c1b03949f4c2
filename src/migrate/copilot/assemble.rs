//! The converted services (and an environment manifest) put together into one config
//! table: the network, the Service Connect namespace, the one load balancer with a rule
//! per routed service, the services and the secrets and file systems they use.

use toml::{Table, Value};

use super::environment::EnvOut;
use super::out::Out;
use super::service::{Route, ServiceOut};
use super::track::NotConverted;

/// The ALB allows five condition values (paths and hosts together) per rule.
const MAX_CONDITION_VALUES: usize = 5;

pub struct Inputs<'a> {
    pub app: &'a str,
    pub region: Option<&'a str>,
    pub namespace: String,
    pub services: &'a [ServiceOut],
    pub env: Option<&'a EnvOut>,
}

/// The config, and the routes another service's route shadows (not written: the load
/// balancer would never use them).
pub fn config(x: &Inputs) -> (Out, Vec<NotConverted>) {
    let mut out = Out::default();
    out.put("app", x.app, None);
    if let Some(r) = x.region {
        out.put("region", r, None);
    }
    if let Some(env) = x.env {
        for (k, v) in &env.out.table {
            out.put(k, v.clone(), None);
        }
        out.sources.extend(env.out.sources.clone());
    }
    let existing = x.env.is_some_and(|e| e.existing);
    if existing {
        out.put("network.nat", "none", None);
    } else if x.services.iter().any(|s| s.private) {
        // Copilot's VPC gives private tasks a NAT gateway in each zone.
        out.put(
            "network.nat",
            "per-az",
            Some("network.vpc.placement: private (Copilot's NAT gateway per zone)".into()),
        );
    }
    if x.services.iter().any(|s| s.connect) {
        out.put(
            "service_connect.namespace",
            x.namespace.as_str(),
            Some("network.connect (Copilot's namespace <env>.<app>.local)".into()),
        );
    }
    let shadowed = load_balancer(&mut out, x);
    for s in x.services {
        out.nest(&format!("services.{}", s.key), s.service.clone());
        for (k, v) in &s.extra.table {
            merge_into(&mut out.table, k, v);
        }
        out.sources.extend(s.extra.sources.clone());
    }
    // A target group no listener uses is refused: the shadowed services get none (nor
    // autoscaling on requests per target).
    for (key, _) in &shadowed {
        if let Some(Value::Table(svc)) = out
            .table
            .get_mut("services")
            .and_then(|t| t.get_mut(key.as_str()))
        {
            svc.remove("target_group");
            let on_requests = svc
                .get("autoscaling")
                .and_then(|a| a.get("requests_per_target"))
                .is_some();
            if on_requests {
                svc.remove("autoscaling");
            }
        }
    }
    (out, shadowed.into_iter().map(|(_, n)| n).collect())
}

fn merge_into(t: &mut Table, k: &str, v: &Value) {
    match (t.get_mut(k), v) {
        (Some(Value::Table(a)), Value::Table(b)) => {
            for (k2, v2) in b {
                merge_into(a, k2, v2);
            }
        }
        _ => {
            t.insert(k.to_string(), v.clone());
        }
    }
}

/// One listener (HTTP on 80, or HTTPS on 443 with HTTP redirected when the environment
/// has certificates), the first service routed at `/` as its default action, a rule for
/// each other route.
/// Returns the services whose route another one shadows, with their note.
fn load_balancer(out: &mut Out, x: &Inputs) -> Vec<(String, NotConverted)> {
    let routes: Vec<(&str, &Route)> = x
        .services
        .iter()
        .filter_map(|s| s.route.as_ref().map(|r| (s.key.as_str(), r)))
        .collect();
    if routes.is_empty() {
        return Vec::new();
    }
    let default = routes
        .iter()
        .find(|(_, r)| r.paths.is_empty() && r.hosts.is_empty())
        .map(|(k, _)| *k);
    let mut ruled: Vec<(&str, &Route)> = routes
        .iter()
        .filter(|(k, r)| Some(*k) != default || !(r.paths.is_empty() && r.hosts.is_empty()))
        .copied()
        .collect();
    // The more specific first: host and path, then the longest paths, then hosts only.
    ruled.sort_by_key(|(k, r)| {
        (
            r.paths.is_empty(),
            r.hosts.is_empty(),
            std::cmp::Reverse(r.paths.iter().map(String::len).max().unwrap_or(0)),
            k.to_string(),
        )
    });
    let mut rules = Vec::new();
    let mut shadowed = Vec::new();
    let mut seen: Vec<(&Vec<String>, &Vec<String>, &str)> = Vec::new();
    if let Some(d) = default {
        let r = routes
            .iter()
            .find(|(k, _)| *k == d)
            .expect("the default is a route")
            .1;
        seen.push((&r.paths, &r.hosts, d));
    }
    for (k, r) in ruled {
        if let Some((_, _, first)) = seen
            .iter()
            .find(|(p, h, _)| **p == r.paths && **h == r.hosts)
        {
            let (file, line, col, field) = r.place.clone();
            shadowed.push((
                k.to_string(),
                NotConverted {
                    file,
                    line,
                    col,
                    field,
                    reason: format!(
                        "service `{first}` has the same path and aliases, and the load \
                         balancer sends those requests to it: `{k}` gets no rule and no \
                         target group"
                    ),
                },
            ));
            continue;
        }
        seen.push((&r.paths, &r.hosts, k));
        let paths = if r.paths.is_empty() && r.hosts.is_empty() {
            vec!["/*".to_string()]
        } else {
            r.paths.clone()
        };
        let room = MAX_CONDITION_VALUES.saturating_sub(paths.len()).max(1);
        let host_groups: Vec<Vec<String>> = if r.hosts.is_empty() {
            vec![Vec::new()]
        } else {
            r.hosts.chunks(room).map(<[String]>::to_vec).collect()
        };
        for hosts in host_groups {
            let mut rule = Table::new();
            rule.insert("service".into(), k.into());
            if !paths.is_empty() {
                rule.insert("paths".into(), strings(&paths));
            }
            if !hosts.is_empty() {
                rule.insert("hosts".into(), strings(&hosts));
            }
            rules.push((rule, r.src.clone()));
        }
    }
    let mut listener = Table::new();
    let certificates = x.env.map(|e| e.certificates.clone()).unwrap_or_default();
    if certificates.is_empty() {
        listener.insert("port".into(), 80.into());
        listener.insert("protocol".into(), "HTTP".into());
    } else {
        let mut redirect = Table::new();
        redirect.insert("port".into(), 80.into());
        redirect.insert("protocol".into(), "HTTP".into());
        redirect.insert("redirect_https_port".into(), 443.into());
        out.push("load_balancer.listeners", redirect, None);
        listener.insert("port".into(), 443.into());
        listener.insert("protocol".into(), "HTTPS".into());
        listener.insert("certificates".into(), strings(&certificates));
    }
    match default {
        Some(k) => {
            listener.insert("service".into(), k.into());
        }
        None => {
            let mut fixed = Table::new();
            fixed.insert("status".into(), 404.into());
            listener.insert("fixed_response".into(), Value::Table(fixed));
        }
    }
    if !rules.is_empty() {
        listener.insert(
            "rules".into(),
            Value::Array(rules.iter().map(|(r, _)| Value::Table(r.clone())).collect()),
        );
    }
    let n = match out.get("load_balancer.listeners") {
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    };
    let src = match default {
        Some(k) => routes
            .iter()
            .find(|(x, _)| *x == k)
            .map(|(_, r)| r.src.clone()),
        None => x.env.and_then(|e| e.certificates_src.clone()),
    };
    out.push("load_balancer.listeners", listener, src);
    for (i, (_, s)) in rules.iter().enumerate() {
        out.sources.insert(
            format!("load_balancer.listeners[{n}].rules[{i}]"),
            s.clone(),
        );
    }
    shadowed
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(key: &str, paths: &[&str], hosts: &[&str]) -> ServiceOut {
        let mut s = ServiceOut {
            key: key.into(),
            route: Some(Route {
                paths: paths.iter().map(|s| s.to_string()).collect(),
                hosts: hosts.iter().map(|s| s.to_string()).collect(),
                src: format!("{key}:1 http"),
                place: (key.into(), 1, 1, "http".into()),
            }),
            ..ServiceOut::default()
        };
        s.service.put("image", "nginx", None);
        s
    }

    fn inputs<'a>(services: &'a [ServiceOut], env: Option<&'a EnvOut>) -> Inputs<'a> {
        Inputs {
            app: "shop",
            region: None,
            namespace: "shop.local".into(),
            services,
            env,
        }
    }

    #[test]
    fn one_listener_default_and_rules_by_specificity() {
        let services = [
            svc("web", &[], &[]),
            svc("api", &["/api", "/api/*"], &[]),
            svc("admin", &[], &["admin.example.com"]),
        ];
        let (out, _) = config(&inputs(&services, None));
        let text = toml::to_string(&out.table).unwrap();
        let l = &out
            .get("load_balancer.listeners")
            .unwrap()
            .as_array()
            .unwrap()[0];
        assert_eq!(l["service"].as_str(), Some("web"), "{text}");
        let rules = l["rules"].as_array().unwrap();
        assert_eq!(rules[0]["service"].as_str(), Some("api"));
        assert_eq!(rules[1]["hosts"][0].as_str(), Some("admin.example.com"));
    }

    #[test]
    fn no_root_service_answers_404_and_many_hosts_split() {
        let hosts: Vec<String> = (0..5).map(|i| format!("h{i}.example.com")).collect();
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let services = [svc("api", &["/api", "/api/*"], &hosts)];
        let (out, _) = config(&inputs(&services, None));
        let l = &out
            .get("load_balancer.listeners")
            .unwrap()
            .as_array()
            .unwrap()[0];
        assert_eq!(l["fixed_response"]["status"].as_integer(), Some(404));
        assert_eq!(l["rules"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_route_another_service_has_is_listed_not_written() {
        let services = [
            svc("web", &[], &[]),
            svc("www", &[], &[]),
            svc("api", &["/a"], &[]),
            svc("b", &["/a"], &[]),
        ];
        let (out, shadowed) = config(&inputs(&services, None));
        let l = &out
            .get("load_balancer.listeners")
            .unwrap()
            .as_array()
            .unwrap()[0];
        assert_eq!(l["rules"].as_array().unwrap().len(), 1);
        let who: Vec<&str> = shadowed.iter().map(|n| n.file.as_str()).collect();
        assert_eq!(who, ["b", "www"]);
        assert!(out.get("services.www.target_group").is_none());
        assert!(out.get("services.web.target_group").is_none());
        assert!(out.get("services.web.image").is_some());
        assert!(shadowed[1].reason.contains("service `web`"), "{shadowed:?}");
    }

    #[test]
    fn certificates_make_https_with_a_redirect() {
        let env = EnvOut {
            certificates: vec!["arn:aws:acm:us-east-1:123456789012:certificate/x".into()],
            ..EnvOut::default()
        };
        let services = [svc("web", &[], &[])];
        let (out, _) = config(&inputs(&services, Some(&env)));
        let ls = out
            .get("load_balancer.listeners")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(ls[0]["redirect_https_port"].as_integer(), Some(443));
        assert_eq!(ls[1]["protocol"].as_str(), Some("HTTPS"));
    }
}
