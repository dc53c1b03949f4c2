//! A task's containers besides the main one's image: container health checks, sidecars and
//! the start order between containers.

use toml::{Table, Value};

use super::out::Out;
use super::track::Cx;
use super::units::duration_secs;
use crate::migrate::yaml::{Entry, Node, Value as Y};

/// `image.healthcheck` → `health_check` (ecsdeploy runs the command as `CMD-SHELL`).
pub fn container_health_check(cx: &mut Cx, hc: &Node, out: &mut Out, prefix: &str) {
    let Some(e) = cx.entry(hc, "command") else {
        return;
    };
    let words: Vec<&str> = e.value.items().iter().filter_map(Node::str).collect();
    let command = match (e.value.str(), words.as_slice()) {
        (Some(c), _) => Some(c.to_string()),
        (None, ["CMD-SHELL", c]) => Some(c.to_string()),
        (None, ["CMD", rest @ ..]) if !rest.is_empty() && rest.iter().all(|w| plain_word(w)) => {
            Some(rest.join(" "))
        }
        _ => None,
    };
    let Some(command) = command else {
        cx.skip(
            e,
            &format!("{prefix}.command"),
            "only a `CMD-SHELL` command, or `CMD` with plain words, becomes a shell command",
        );
        return;
    };
    cx.used(&e.value);
    let src = cx.src(e, &format!("{prefix}.command"));
    out.put("health_check.command", command, Some(src));
    // ECS's defaults, which ecsdeploy's are too: the timeout must stay below the interval.
    let interval = hc
        .get("interval")
        .and_then(Node::str)
        .and_then(duration_secs)
        .unwrap_or(30);
    for (name, key, lo, hi) in [
        ("interval", "interval", 5, 300),
        ("timeout", "timeout", 2, 60),
        ("start_period", "start_period", 0, 300),
    ] {
        if let Some(e) = cx.entry(hc, name) {
            let path = format!("{prefix}.{name}");
            match e.value.str().and_then(duration_secs) {
                Some(v) if name == "timeout" && v >= interval => cx.skip(
                    e,
                    &path,
                    format!("ecsdeploy wants the timeout below the interval ({interval} s); its default 5 applies"),
                ),
                Some(v) if (lo..=hi).contains(&v) => {
                    cx.used(&e.value);
                    let src = cx.src(e, &path);
                    out.put(&format!("health_check.{key}"), v as i64, Some(src));
                }
                _ => cx.skip(
                    e,
                    &path,
                    format!("ecsdeploy takes {lo} to {hi} whole seconds here; its default applies"),
                ),
            }
        }
    }
    if let Some(e) = cx.entry(hc, "retries") {
        match e.value.as_u64() {
            Some(v) if (1..=10).contains(&v) => {
                cx.used(&e.value);
                let src = cx.src(e, &format!("{prefix}.retries"));
                out.put("health_check.retries", v as i64, Some(src));
            }
            _ => cx.skip(
                e,
                &format!("{prefix}.retries"),
                "ecsdeploy takes 1 to 10 retries; its default 3 applies",
            ),
        }
    }
}

pub fn plain_word(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
}

/// Why a `command` is not converted: [`command_words`] found no words in it.
pub const COMMAND_NOT_WORDS: &str =
    "a command string with quotes or shell syntax: write it as a list";

/// A `command` (of the service or a sidecar) as ecsdeploy's list: Copilot's list, or its
/// string split at white space when every word is plain (no quotes, no shell syntax).
/// `None` for anything else, and for no words at all.
pub fn command_words(n: &Node) -> Option<Value> {
    let words: Option<Vec<Value>> = match &n.value {
        Y::Scalar { text, .. } if text.split_whitespace().all(plain_word) => {
            Some(text.split_whitespace().map(Value::from).collect())
        }
        Y::Seq(items) => items.iter().map(|n| n.str().map(Value::from)).collect(),
        _ => None,
    };
    words.filter(|w| !w.is_empty()).map(Value::Array)
}

/// `depends_on: { container: condition }` → `[{ container, condition }]`; the main
/// container (named after the service in Copilot) is the service key in ecsdeploy.
pub fn depends_on(cx: &mut Cx, e: &Entry, path: &str, main: &str, svc_key: &str) -> Option<Value> {
    let mut deps = Vec::new();
    for d in e.value.entries() {
        let condition = match d.value.str().map(str::to_ascii_lowercase).as_deref() {
            Some("start") => "START",
            Some("complete") => "COMPLETE",
            Some("success") => "SUCCESS",
            Some("healthy") => "HEALTHY",
            _ => {
                cx.skip(
                    e,
                    path,
                    format!("`{}` is not start, complete, success or healthy", d.key),
                );
                return None;
            }
        };
        let container = if d.key == main {
            svc_key
        } else {
            d.key.as_str()
        };
        let mut t = Table::new();
        t.insert("container".into(), container.into());
        t.insert("condition".into(), condition.into());
        deps.push(Value::Table(t));
    }
    cx.used(&e.value);
    (!deps.is_empty()).then_some(Value::Array(deps))
}

/// `sidecars.<name>`: image (a location), port, essential (Copilot's default: true),
/// variables, command, health check and start order. Anything else of a sidecar is listed.
pub fn sidecars(cx: &mut Cx, m: &Node, service: &mut Out, svc_key: &str) {
    let Some(e) = cx.entry(m, "sidecars").cloned() else {
        return;
    };
    cx.enter(&e.value);
    let main = m
        .get("name")
        .and_then(Node::str)
        .unwrap_or_default()
        .to_string();
    for sc in e.value.entries() {
        let path = format!("sidecars.{}", sc.key);
        cx.enter(&sc.value);
        let image = match sc.value.get("image").map(|n| &n.value) {
            Some(Y::Scalar { text, .. }) => Some(text.clone()),
            Some(Y::Map(_)) => sc
                .value
                .get("image")
                .and_then(|i| i.get("location"))
                .and_then(Node::str)
                .map(str::to_string),
            _ => None,
        };
        let Some(image) = image else {
            cx.skip(
                sc,
                &path,
                "a sidecar built from source: ecsdeploy's sidecars take an image reference",
            );
            continue;
        };
        let mut out = Out::default();
        let img = sc.value.entry("image").expect("read above");
        let src = cx.src(img, &format!("{path}.image"));
        if let Y::Map(_) = img.value.value {
            cx.enter(&img.value);
            cx.take(&img.value, "location");
        } else {
            cx.used(&img.value);
        }
        out.put("name", sc.key.as_str(), Some(cx.src(sc, &path)));
        out.put("image", image, Some(src));
        let essential = match cx.entry(&sc.value, "essential").cloned() {
            Some(x) => match x.value.as_bool() {
                Some(b) => {
                    cx.used(&x.value);
                    b
                }
                None => true,
            },
            None => true,
        };
        out.put("essential", essential, None);
        if let Some(p) = cx.entry(&sc.value, "port").cloned() {
            let text = p.value.str().unwrap_or_default();
            let port = text
                .strip_suffix("/tcp")
                .unwrap_or(text)
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0);
            match port {
                Some(n) => {
                    cx.used(&p.value);
                    let src = cx.src(&p, &format!("{path}.port"));
                    out.put("ports", Value::Array(vec![(n as i64).into()]), Some(src));
                }
                None => cx.skip(&p, &format!("{path}.port"), "not a TCP port"),
            }
        }
        if let Some(v) = cx.entry(&sc.value, "variables").cloned() {
            cx.enter(&v.value);
            for x in v.value.entries() {
                let vp = format!("{path}.variables.{}", x.key);
                match x.value.str() {
                    Some(t) => {
                        cx.used(&x.value);
                        let src = cx.src(x, &vp);
                        out.put(&format!("environment.{}", x.key), t, Some(src));
                    }
                    None => cx.skip(x, &vp, "not a plain value"),
                }
            }
        }
        if let Some(c) = cx.entry(&sc.value, "command").cloned() {
            match command_words(&c.value) {
                Some(w) => {
                    cx.used(&c.value);
                    let src = cx.src(&c, &format!("{path}.command"));
                    out.put("command", w, Some(src));
                }
                None => cx.skip(&c, &format!("{path}.command"), COMMAND_NOT_WORDS),
            }
        }
        if let Some(h) = cx.entry(&sc.value, "healthcheck").cloned() {
            container_health_check(cx, &h.value, &mut out, &format!("{path}.healthcheck"));
        }
        if let Some(d) = cx.entry(&sc.value, "depends_on").cloned() {
            if let Some(deps) = depends_on(cx, &d, &format!("{path}.depends_on"), &main, svc_key) {
                let src = cx.src(&d, &format!("{path}.depends_on"));
                out.put("depends_on", deps, Some(src));
            }
        }
        let n = match service.get("sidecars") {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        for (k, v) in &out.sources {
            service
                .sources
                .insert(format!("sidecars[{n}].{k}"), v.clone());
        }
        service.push("sidecars", out.table, None);
    }
}
