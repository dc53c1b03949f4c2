//! One service manifest (Load Balanced Web Service, Backend Service) → `[services.<key>]`
//! and what it brings along: secrets, file systems, its load balancer route. Pure: the
//! manifest tree in, TOML tables out; every field read is marked in the tracker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::containers::{
    command_words, container_health_check, depends_on, sidecars, COMMAND_NOT_WORDS,
};
use super::http::http;
pub use super::http::Route;
use super::out::Out;
use super::track::Cx;
use super::units::{display, duration_secs, key, normalize, relative, unique_key};
use crate::migrate::yaml::{Entry, Node, Value as Y};

pub const LB_WEB: &str = "Load Balanced Web Service";
pub const BACKEND: &str = "Backend Service";

/// The ECS Exec actions Copilot grants a service with `exec: true`; they support no
/// resource ARN.
pub const EXEC_ACTIONS: [&str; 4] = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
];

/// Keys shared by all services of the workspace: the secrets and file systems they make.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    /// Secrets Manager name → `[secrets]` key.
    pub secrets: BTreeMap<String, String>,
    /// (service key, volume name) → `[file_systems]` key.
    pub file_systems: BTreeMap<(String, String), String>,
}

/// Where the config is written, relative to the workspace: how build paths are rewritten.
pub struct Paths {
    /// The workspace root (the directory holding `copilot/`) seen from the config's
    /// directory.
    pub root: PathBuf,
}

/// One converted service.
#[derive(Debug, Clone, Default)]
pub struct ServiceOut {
    pub key: String,
    /// The service table, and the top-level tables it needs (`secrets.*`,
    /// `file_systems.*`) under their full paths.
    pub service: Out,
    pub extra: Out,
    pub route: Option<Route>,
    pub connect: bool,
    pub private: bool,
    /// A Scheduled Job: written under `[jobs]`, not `[services]`.
    pub job: bool,
}

/// Convert a service manifest (already merged with an environment's block, if any).
pub fn convert(
    cx: &mut Cx,
    m: &Node,
    svc_key: &str,
    kind: &str,
    paths: &Paths,
    reg: &mut Registry,
) -> ServiceOut {
    let mut s = ServiceOut {
        key: svc_key.to_string(),
        ..ServiceOut::default()
    };
    cx.take(m, "name");
    cx.take(m, "type");
    let port = image(cx, m, &mut s, paths);
    resources(cx, m, &mut s);
    count(cx, m, &mut s, kind == LB_WEB && port.is_some());
    if let Some(e) = cx.entry(m, "exec") {
        if e.value.as_bool() == Some(true) {
            cx.used(&e.value);
            let src = cx.src(e, "exec");
            s.service
                .put("enable_execute_command", true, Some(src.clone()));
            let mut st = Table::new();
            st.insert(
                "actions".into(),
                Value::Array(EXEC_ACTIONS.iter().map(|a| Value::from(*a)).collect()),
            );
            st.insert("resources".into(), Value::Array(vec!["*".into()]));
            s.service.push("task_policy", st, Some(src));
        } else if e.value.as_bool() == Some(false) {
            cx.used(&e.value);
        }
    }
    command(cx, m, &mut s);
    variables(cx, m, &mut s);
    secrets(cx, m, &mut s, reg);
    network(cx, m, &mut s, port);
    deployment(cx, m, &mut s);
    storage(cx, m, &mut s, reg);
    sidecars(cx, m, &mut s.service, &s.key);
    if kind == LB_WEB {
        s.route = http(cx, m, &mut s.service, port);
    } else if let Some(e) = cx.entry(m, "http") {
        if e.value.as_bool() == Some(false) {
            cx.used(&e.value);
        } else {
            cx.skip(
                e,
                "http",
                "a Backend Service behind an internal load balancer: ecsdeploy has one load \
                 balancer per app; reach the service through Service Connect instead",
            );
        }
    }
    s
}

/// `image`: build or location, the port and the container health check. Returns the port.
fn image(cx: &mut Cx, m: &Node, s: &mut ServiceOut, paths: &Paths) -> Option<u16> {
    let img = cx.entry(m, "image")?.value.clone();
    if let Some(e) = cx.take(&img, "location") {
        match e.value.str() {
            Some(loc) => {
                let src = cx.src(e, "image.location");
                s.service.put("image", loc, Some(src));
            }
            None => cx.skip(e, "image.location", "not a string"),
        }
    }
    if let Some(e) = cx.entry(&img, "build") {
        let src = cx.src(e, "image.build");
        if let Some(b) = build(cx, &e.value, paths) {
            let mut image = Table::new();
            image.insert("build".into(), Value::Table(b));
            s.service.put("image", image, Some(src));
        }
    }
    let mut port = None;
    if let Some(e) = cx.entry(&img, "port") {
        match e
            .value
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
        {
            Some(p) => {
                cx.used(&e.value);
                let src = cx.src(e, "image.port");
                s.service
                    .put("ports", Value::Array(vec![(p as i64).into()]), Some(src));
                port = Some(p);
            }
            None => cx.skip(e, "image.port", "not a port number"),
        }
    }
    if let Some(e) = cx.entry(&img, "depends_on").cloned() {
        let main = m
            .get("name")
            .and_then(Node::str)
            .unwrap_or_default()
            .to_string();
        if let Some(deps) = depends_on(cx, &e, "image.depends_on", &main, &s.key) {
            let src = cx.src(&e, "image.depends_on");
            s.service.put("container_depends_on", deps, Some(src));
        }
    }
    if let Some(e) = cx.entry(&img, "healthcheck") {
        let hc = e.value.clone();
        container_health_check(cx, &hc, &mut s.service, "image.healthcheck");
    }
    port
}

/// `image.build`: a Dockerfile path, or `{ dockerfile, context, args, target }`; paths are
/// relative to the workspace root in Copilot and to the config file in ecsdeploy.
fn build(cx: &mut Cx, b: &Node, paths: &Paths) -> Option<Table> {
    let at_root = |p: &str| normalize(&paths.root.join(p));
    let mut t = Table::new();
    if let Some(dockerfile) = b.str() {
        cx.used(b);
        let df = Path::new(dockerfile);
        let ctx = df.parent().unwrap_or(Path::new(""));
        t.insert(
            "context".into(),
            display(&at_root(&ctx.to_string_lossy())).into(),
        );
        if let Some(name) = df.file_name() {
            if name != "Dockerfile" {
                t.insert(
                    "dockerfile".into(),
                    name.to_string_lossy().into_owned().into(),
                );
            }
        }
        return Some(t);
    }
    cx.enter(b);
    let dockerfile = cx
        .take(b, "dockerfile")
        .and_then(|e| e.value.str().map(str::to_string));
    let context = cx
        .take(b, "context")
        .and_then(|e| e.value.str().map(str::to_string));
    let ctx = match (&context, &dockerfile) {
        (Some(c), _) => PathBuf::from(c),
        (None, Some(d)) => Path::new(d).parent().unwrap_or(Path::new("")).to_path_buf(),
        (None, None) => PathBuf::new(),
    };
    t.insert(
        "context".into(),
        display(&at_root(&ctx.to_string_lossy())).into(),
    );
    if let Some(d) = &dockerfile {
        let rel = relative(&normalize(&ctx), &normalize(Path::new(d)));
        if rel != Path::new("Dockerfile") {
            t.insert("dockerfile".into(), display(&rel).into());
        }
    }
    if let Some(e) = cx.entry(b, "args") {
        let mut args = Table::new();
        cx.enter(&e.value);
        for a in e.value.entries() {
            if let Some(v) = a.value.str() {
                cx.used(&a.value);
                args.insert(a.key.clone(), v.into());
            }
        }
        if !args.is_empty() {
            t.insert("args".into(), Value::Table(args));
        }
    }
    if let Some(e) = cx.take(b, "target") {
        if let Some(v) = e.value.str() {
            t.insert("target".into(), v.into());
        }
    }
    Some(t)
}

/// `cpu`, `memory`, `platform`.
pub(super) fn resources(cx: &mut Cx, m: &Node, s: &mut ServiceOut) {
    for f in ["cpu", "memory"] {
        if let Some(e) = cx.entry(m, f) {
            match e.value.as_u64() {
                Some(v) => {
                    cx.used(&e.value);
                    let src = cx.src(e, f);
                    s.service.put(f, v as i64, Some(src));
                }
                None => cx.skip(e, f, "not a whole number"),
            }
        }
    }
    if let Some(e) = cx.entry(m, "platform") {
        let p = e.value.clone();
        let text = match p.str() {
            Some(t) => Some(t.to_string()),
            None => {
                cx.enter(&p);
                let os = p.get("osfamily").and_then(Node::str);
                let arch = p.get("architecture").and_then(Node::str);
                match (os, arch) {
                    (Some(os), Some(arch)) => Some(format!("{os}/{arch}")),
                    _ => None,
                }
            }
        };
        let arch = match text.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("linux/x86_64" | "linux/amd64") => Some("X86_64"),
            Some("linux/arm64" | "linux/arm") => Some("ARM64"),
            _ => None,
        };
        match arch {
            Some(a) => {
                cx.used(&p);
                let src = cx.src(e, "platform");
                s.service.put("cpu_architecture", a, Some(src));
            }
            None => cx.skip(
                e,
                "platform",
                "ecsdeploy runs Linux tasks on X86_64 or ARM64 only",
            ),
        }
    }
}

/// `count`: a number, or autoscaling (`range`, `cooldown`, `cpu_percentage`,
/// `memory_percentage`, `requests`, `response_time`).
fn count(cx: &mut Cx, m: &Node, s: &mut ServiceOut, has_target_group: bool) {
    let Some(e) = cx.entry(m, "count") else {
        return;
    };
    if let Some(n) = e.value.as_u64() {
        cx.used(&e.value);
        let src = cx.src(e, "count");
        s.service.put("desired_count", n as i64, Some(src));
        return;
    }
    let c = e.value.clone();
    cx.enter(&c);
    let range = cx.entry(&c, "range").cloned();
    let bounds = range.as_ref().and_then(|r| match &r.value.value {
        Y::Scalar { text, .. } => {
            let (a, b) = text.split_once('-')?;
            Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?))
        }
        Y::Map(_) => {
            let min = r.value.get("min")?.as_u64()? as u32;
            let max = r.value.get("max")?.as_u64()? as u32;
            Some((min, max))
        }
        _ => None,
    });
    // The metrics, in the order ecsdeploy's one policy is chosen from.
    let mut metrics: Vec<(&str, &str, Entry, f64)> = Vec::new();
    for (field, key) in [
        ("cpu_percentage", "cpu"),
        ("memory_percentage", "memory"),
        ("requests", "requests_per_target"),
    ] {
        if let Some(me) = cx.entry(&c, field).cloned() {
            let v = me
                .value
                .as_f64()
                .or_else(|| me.value.get("value").and_then(Node::as_f64));
            match v {
                Some(v) if key != "requests_per_target" || has_target_group => {
                    metrics.push((field, key, me, v))
                }
                Some(_) => cx.skip(
                    &me,
                    &format!("count.{field}"),
                    "requests per target need a load balancer target group",
                ),
                None => cx.skip(&me, &format!("count.{field}"), "not a number"),
            }
        }
    }
    if let Some(me) = cx.entry(&c, "response_time").cloned() {
        cx.skip(
            &me,
            "count.response_time",
            "ecsdeploy scales on CPU, memory or requests per target only",
        );
    }
    for f in ["spot"] {
        if let Some(me) = cx.entry(&c, f).cloned() {
            cx.skip(
                &me,
                &format!("count.{f}"),
                "ecsdeploy runs on Fargate, not Fargate Spot",
            );
        }
    }
    let Some(r) = range else {
        for (field, _, me, _) in &metrics {
            cx.skip(
                me,
                &format!("count.{field}"),
                "autoscaling needs `count.range`",
            );
        }
        return;
    };
    let Some((min, max)) = bounds else {
        cx.skip(&r, "count.range", "not a range `min-max`");
        return;
    };
    if metrics.is_empty() {
        cx.skip(
            &r,
            "count.range",
            format!(
                "ecsdeploy autoscaling tracks CPU, memory or requests per target, and none is \
                 set: desired_count = {min} is written instead"
            ),
        );
        s.service.put("desired_count", min as i64, None);
        return;
    }
    cx.used(&r.value);
    if let Y::Map(_) = r.value.value {
        if let Some(sf) = r.value.entry("spot_from") {
            cx.skip(
                sf,
                "count.range.spot_from",
                "ecsdeploy runs on Fargate, not Fargate Spot",
            );
        }
    }
    let src = cx.src(&r, "count.range");
    s.service
        .put("desired_count", min as i64, Some(src.clone()));
    s.service
        .put("autoscaling.min", min as i64, Some(src.clone()));
    s.service.put("autoscaling.max", max as i64, Some(src));
    let (field, key, me, v) = metrics.remove(0);
    cx.used(&me.value);
    let src = cx.src(&me, &format!("count.{field}"));
    s.service.put(&format!("autoscaling.{key}"), v, Some(src));
    for (field, _, me, _) in metrics {
        cx.skip(
            &me,
            &format!("count.{field}"),
            format!(
                "ecsdeploy tracks one metric per service; count.{} is used",
                me_name(key)
            ),
        );
        let _ = field;
    }
    if let Some(cd) = cx.entry(&c, "cooldown").cloned() {
        cx.enter(&cd.value);
        for (f, k) in [("in", "scale_in_cooldown"), ("out", "scale_out_cooldown")] {
            if let Some(x) = cx.entry(&cd.value, f).cloned() {
                match x.value.str().and_then(duration_secs).filter(|v| *v <= 3600) {
                    Some(v) => {
                        cx.used(&x.value);
                        let src = cx.src(&x, &format!("count.cooldown.{f}"));
                        s.service
                            .put(&format!("autoscaling.{k}"), v as i64, Some(src));
                    }
                    None => cx.skip(&x, &format!("count.cooldown.{f}"), "not 0 to 3600 seconds"),
                }
            }
        }
    }
}

fn me_name(key: &str) -> &'static str {
    match key {
        "cpu" => "cpu_percentage",
        "memory" => "memory_percentage",
        _ => "requests",
    }
}

/// `command`: a list, or a string of plain words.
pub(super) fn command(cx: &mut Cx, m: &Node, s: &mut ServiceOut) {
    let Some(e) = cx.entry(m, "command") else {
        return;
    };
    match command_words(&e.value) {
        Some(w) => {
            cx.used(&e.value);
            let src = cx.src(e, "command");
            s.service.put("command", w, Some(src));
        }
        None => cx.skip(e, "command", COMMAND_NOT_WORDS),
    }
}

/// `variables` → `environment`.
pub(super) fn variables(cx: &mut Cx, m: &Node, s: &mut ServiceOut) {
    let Some(e) = cx.entry(m, "variables") else {
        return;
    };
    let vars = e.value.clone();
    cx.enter(&vars);
    for v in vars.entries() {
        let path = format!("variables.{}", v.key);
        match &v.value.value {
            Y::Scalar { text, .. } => {
                cx.used(&v.value);
                let src = cx.src(v, &path);
                s.service
                    .put(&format!("environment.{}", v.key), text.as_str(), Some(src));
            }
            Y::Map(_) => cx.skip(
                v,
                &path,
                "a value from a CloudFormation output (`from_cfn`): ecsdeploy reads no stacks",
            ),
            _ => cx.skip(v, &path, "not a string"),
        }
    }
}

/// `secrets`: Secrets Manager ones become `[secrets.<key>] existing` and a `uses` entry;
/// SSM parameters and CloudFormation outputs are not converted.
fn secrets(cx: &mut Cx, m: &Node, s: &mut ServiceOut, reg: &mut Registry) {
    let Some(e) = cx.entry(m, "secrets") else {
        return;
    };
    let secs = e.value.clone();
    cx.enter(&secs);
    for v in secs.entries() {
        let path = format!("secrets.{}", v.key);
        let name = match &v.value.value {
            Y::Scalar { text, .. }
                if text.starts_with("arn:") && text.contains(":secretsmanager:") =>
            {
                Some(text.clone())
            }
            Y::Scalar { .. } => {
                cx.skip(
                    v,
                    &path,
                    "an SSM Parameter Store parameter: ecsdeploy injects Secrets Manager \
                     secrets only; move it to a secret and add [secrets.<key>] existing = \
                     \"<name>\" with a `uses` entry",
                );
                continue;
            }
            Y::Map(_) => match v.value.get("secretsmanager").and_then(Node::str) {
                Some(n) => Some(n.to_string()),
                None => {
                    cx.skip(
                        v,
                        &path,
                        "a value from a CloudFormation output: ecsdeploy reads no stacks",
                    );
                    continue;
                }
            },
            _ => None,
        };
        let Some(name) = name.filter(|n| secret_name_ok(n)) else {
            cx.skip(
                v,
                &path,
                "a JSON key or version of a secret (`name:key::`): ecsdeploy injects whole \
                 secrets only",
            );
            continue;
        };
        cx.used(&v.value);
        if let Y::Map(_) = v.value.value {
            cx.enter(&v.value);
        }
        let k = match reg.secrets.get(&name) {
            Some(k) => k.clone(),
            None => {
                let taken: Vec<String> = reg.secrets.values().cloned().collect();
                let k = unique_key(&key(&v.key), &|k| taken.iter().any(|t| t == k));
                reg.secrets.insert(name.clone(), k.clone());
                k
            }
        };
        let src = cx.src(v, &path);
        s.extra.put(
            &format!("secrets.{k}.existing"),
            name.as_str(),
            Some(src.clone()),
        );
        let mut u = Table::new();
        u.insert("secret".into(), k.into());
        u.insert("env".into(), v.key.clone().into());
        s.service.push("uses", u, Some(src));
    }
}

/// A secret name or ARN ecsdeploy's `existing` takes: no JSON key, version stage or id.
fn secret_name_ok(n: &str) -> bool {
    if let Some(rest) = n.strip_prefix("arn:") {
        // arn:partition:secretsmanager:region:account:secret:name-XXXXXX, nothing after.
        return rest.split(':').count() == 6;
    }
    !n.is_empty()
        && !n.contains(':')
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// `network`: `connect` (Service Connect) and `vpc.placement`.
fn network(cx: &mut Cx, m: &Node, s: &mut ServiceOut, port: Option<u16>) {
    let Some(e) = cx.entry(m, "network") else {
        return;
    };
    let net = e.value.clone();
    if let Some(c) = cx.entry(&net, "connect").cloned() {
        let alias = match &c.value.value {
            Y::Map(_) => {
                cx.enter(&c.value);
                cx.take(&c.value, "alias")
                    .and_then(|a| a.value.str().map(str::to_string))
            }
            _ => None,
        };
        match c.value.as_bool() {
            Some(false) => cx.used(&c.value),
            _ => {
                if c.value.as_bool() == Some(true) {
                    cx.used(&c.value);
                }
                let src = cx.src(&c, "network.connect");
                s.connect = true;
                s.service.put("connect", Table::new(), Some(src.clone()));
                if let Some(p) = port {
                    // Copilot's clients call http://<service name>:<port>; keep that name.
                    let name = alias.unwrap_or_else(|| s.key.clone());
                    let mut publish = Table::new();
                    publish.insert("port".into(), (p as i64).into());
                    publish.insert("discovery_name".into(), key(&name).into());
                    publish.insert("dns_name".into(), name.to_ascii_lowercase().into());
                    s.service.push("connect.publish", publish, Some(src));
                }
            }
        }
    }
    if let Some(v) = cx.entry(&net, "vpc").cloned() {
        if let Some(p) = cx.entry(&v.value, "placement").cloned() {
            match p.value.str() {
                Some(kind @ ("public" | "private")) => {
                    cx.used(&p.value);
                    let src = cx.src(&p, "network.vpc.placement");
                    s.private = kind == "private";
                    s.service.put("subnets", kind, Some(src));
                }
                _ => cx.skip(
                    &p,
                    "network.vpc.placement",
                    "placement in chosen subnets: ecsdeploy places tasks in the public or \
                     the private subnets",
                ),
            }
        }
        if let Some(sg) = cx.entry(&v.value, "security_groups").cloned() {
            cx.skip(
                &sg,
                "network.vpc.security_groups",
                "Copilot adds these groups to its own; ecsdeploy's `security_groups` replaces \
                 the generated group, which would change who may reach the service",
            );
        }
    }
}

/// `deployment.rolling`.
fn deployment(cx: &mut Cx, m: &Node, s: &mut ServiceOut) {
    let Some(e) = cx.entry(m, "deployment") else {
        return;
    };
    let d = e.value.clone();
    if let Some(r) = cx.entry(&d, "rolling").cloned() {
        match r.value.str() {
            Some("recreate") => {
                cx.used(&r.value);
                let src = cx.src(&r, "deployment.rolling");
                s.service
                    .put("deployment.minimum_healthy_percent", 0, Some(src.clone()));
                s.service.put("deployment.maximum_percent", 100, Some(src));
            }
            Some("default") => cx.used(&r.value),
            _ => cx.skip(&r, "deployment.rolling", "neither `default` nor `recreate`"),
        }
    }
}

/// `storage.volumes.<name>` with a Copilot-managed EFS file system → `[file_systems]` and a
/// `uses` entry.
fn storage(cx: &mut Cx, m: &Node, s: &mut ServiceOut, reg: &mut Registry) {
    let Some(e) = cx.entry(m, "storage") else {
        return;
    };
    let st = e.value.clone();
    let Some(vols) = cx.entry(&st, "volumes").cloned() else {
        return;
    };
    cx.enter(&vols.value);
    for v in vols.value.entries() {
        let path = format!("storage.volumes.{}", v.key);
        cx.enter(&v.value);
        let efs = v.value.get("efs");
        let managed = match efs.map(|n| &n.value) {
            Some(Y::Map(_)) => {
                let n = efs.unwrap();
                n.get("id").is_none()
                    && n.entries().iter().all(|x| x.key == "uid" || x.key == "gid")
            }
            Some(_) => efs.and_then(Node::as_bool) == Some(true),
            None => false,
        };
        let mount = v.value.get("path").and_then(Node::str);
        let (true, Some(mount)) = (managed, mount) else {
            cx.skip(
                v,
                &path,
                "only a Copilot-managed EFS volume (`efs: true`) with a `path` converts: \
                 ecsdeploy mounts only the file systems it creates",
            );
            continue;
        };
        let k = match reg.file_systems.get(&(s.key.clone(), v.key.clone())) {
            Some(k) => k.clone(),
            None => {
                let taken: Vec<String> = reg.file_systems.values().cloned().collect();
                let k = unique_key(&key(&v.key), &|k| taken.iter().any(|t| t == k));
                reg.file_systems
                    .insert((s.key.clone(), v.key.clone()), k.clone());
                k
            }
        };
        let src = cx.src(v, &path);
        let e_efs = v.value.entry("efs").expect("checked above");
        cx.used(&e_efs.value);
        if let Some(p) = v.value.entry("path") {
            cx.used(&p.value);
        }
        let fs = format!("file_systems.{k}");
        // Copilot gives each service its own directory of the environment's file system.
        s.extra.put(
            &format!("{fs}.access_point.path"),
            format!("/{}", s.key),
            Some(src.clone()),
        );
        for id in ["uid", "gid"] {
            if let Some(x) = e_efs.value.get(id).and_then(Node::as_u64) {
                s.extra.put(
                    &format!("{fs}.access_point.{id}"),
                    x as i64,
                    Some(src.clone()),
                );
            }
        }
        let mut u = Table::new();
        u.insert("file_system".into(), k.into());
        u.insert("path".into(), mount.into());
        if let Some(ro) = v.value.entry("read_only") {
            if let Some(b) = ro.value.as_bool() {
                cx.used(&ro.value);
                u.insert("write".into(), (!b).into());
            }
        }
        s.service.push("uses", u, Some(src));
    }
}
