//! An environment manifest (`copilot/environments/<env>/manifest.yml`) → what the
//! environment's `[environments.<name>]` table needs: its network, its certificates and
//! Container Insights.

use toml::Value;

use super::out::Out;
use super::track::Cx;
use crate::migrate::yaml::{Entry, Node};

/// What an environment manifest says that ecsdeploy can hold.
#[derive(Debug, Clone, Default)]
pub struct EnvOut {
    /// Top-level keys (`network.*`, `cluster.*`).
    pub out: Out,
    /// An imported VPC (`network.existing`): no NAT of ecsdeploy's then.
    pub existing: bool,
    /// Certificates of the public load balancer: HTTPS on 443, HTTP redirected.
    pub certificates: Vec<String>,
    pub certificates_src: Option<String>,
}

pub fn convert(cx: &mut Cx, m: &Node) -> EnvOut {
    let mut env = EnvOut::default();
    cx.take(m, "name");
    cx.take(m, "type");
    if let Some(n) = cx.entry(m, "network").cloned() {
        if let Some(v) = cx.entry(&n.value, "vpc").cloned() {
            vpc(cx, &v.value, &mut env);
        }
    }
    if let Some(h) = cx.entry(m, "http").cloned() {
        if let Some(p) = cx.entry(&h.value, "public").cloned() {
            if let Some(c) = cx.entry(&p.value, "certificates").cloned() {
                let certs: Option<Vec<String>> = c
                    .value
                    .items()
                    .iter()
                    .map(|n| n.str().map(str::to_string))
                    .collect();
                let certs = certs.filter(|c| !c.is_empty() && c.iter().all(|a| acm_arn(a)));
                match certs {
                    Some(certs) => {
                        cx.used(&c.value);
                        env.certificates_src = Some(cx.src(&c, "http.public.certificates"));
                        env.certificates = certs;
                    }
                    None => cx.skip(
                        &c,
                        "http.public.certificates",
                        "not a list of ACM certificate ARNs",
                    ),
                }
            }
        }
    }
    if let Some(o) = cx.entry(m, "observability").cloned() {
        if let Some(ci) = cx.entry(&o.value, "container_insights").cloned() {
            match ci.value.as_bool() {
                Some(b) => {
                    cx.used(&ci.value);
                    let src = cx.src(&ci, "observability.container_insights");
                    let v = if b { "enabled" } else { "disabled" };
                    env.out.put("cluster.container_insights", v, Some(src));
                }
                None => cx.skip(
                    &ci,
                    "observability.container_insights",
                    "not true or false (ecsdeploy's `enhanced` has no Copilot spelling)",
                ),
            }
        }
    }
    env
}

/// `network.vpc`: an imported VPC by id, or the CIDRs of the one Copilot makes.
fn vpc(cx: &mut Cx, v: &Node, env: &mut EnvOut) {
    if let Some(id) = cx.take(v, "id") {
        let src = cx.src(id, "network.vpc.id");
        env.existing = true;
        env.out.put(
            "network.existing.vpc",
            id.value.str().unwrap_or_default(),
            Some(src),
        );
    } else if let Some(c) = cx.take(v, "cidr") {
        let src = cx.src(c, "network.vpc.cidr");
        env.out.put(
            "network.vpc_cidr",
            c.value.str().unwrap_or_default(),
            Some(src),
        );
    }
    let Some(subnets) = cx.entry(v, "subnets").cloned() else {
        return;
    };
    let mut azs: Option<Vec<String>> = None;
    for kind in ["public", "private"] {
        let Some(list) = cx.entry(&subnets.value, kind).cloned() else {
            continue;
        };
        cx.enter(&list.value);
        let field = if env.existing { "id" } else { "cidr" };
        let mut values = Vec::new();
        let mut zones = Vec::new();
        for item in list.value.items() {
            cx.enter(item);
            if let Some(x) = cx.take(item, field).and_then(|e| e.value.str()) {
                values.push(Value::from(x));
            }
            if !env.existing {
                if let Some(az) = cx.take(item, "az").and_then(|e| e.value.str()) {
                    zones.push(az.to_string());
                }
            }
        }
        let src = cx.src(&list, &format!("network.vpc.subnets.{kind}"));
        let key = if env.existing {
            format!("network.existing.{kind}_subnets")
        } else {
            format!("network.{kind}_subnets")
        };
        env.out.put(&key, Value::Array(values), Some(src));
        if !zones.is_empty() && azs.is_none() {
            azs = Some(zones);
        }
    }
    if let Some(z) = azs {
        env.out.put(
            "network.azs",
            Value::Array(z.into_iter().map(Value::from).collect()),
            None,
        );
    }
}

/// The `environments.<name>` entry of a manifest, if it has one.
pub fn block<'n>(m: &'n Node, env: &str) -> Option<&'n Entry> {
    m.get("environments").and_then(|e| e.entry(env))
}

/// An ACM certificate ARN (variables such as `${AWS_REGION}` are expanded when ecsdeploy
/// runs).
fn acm_arn(a: &str) -> bool {
    a.starts_with("arn:") && a.contains(":acm:") && a.contains(":certificate/")
}
