//! What a conversion read, and what it did not convert. Every manifest node a converter
//! converts is marked used; a mapping it looked into is marked entered. What is neither, at
//! the end, is listed with its file, line and column, so that nothing is dropped silently.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::migrate::yaml::{Entry, Node, Value};

/// A manifest field that is not in the written config, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotConverted {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The field's path in its manifest, such as `http.stickiness` or
    /// `environments.test.count`.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for NotConverted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, self.field, self.reason
        )
    }
}

/// Used and entered nodes of one file, and the fields skipped with a reason of their own.
#[derive(Debug, Default)]
pub struct Tracker {
    used: HashSet<usize>,
    entered: HashSet<usize>,
    pub notes: Vec<NotConverted>,
}

/// One conversion of one manifest (its base, or its base with an environment's block).
pub struct Cx<'a> {
    pub file: &'a str,
    pub track: &'a mut Tracker,
    /// Ids of the nodes inside `environments.<env>` of this file, when converting for
    /// that environment: fields found there are named with that prefix.
    pub env: Option<(&'a str, &'a HashSet<usize>)>,
}

impl Cx<'_> {
    /// Mark a node converted.
    pub fn used(&mut self, n: &Node) {
        self.track.used.insert(n.id);
    }

    /// Mark a mapping or sequence looked into (its unconverted children are listed).
    pub fn enter(&mut self, n: &Node) {
        self.track.entered.insert(n.id);
        self.track.entered.extend(n.merged_from.iter().copied());
    }

    /// The entry `key` of `map`, marking `map` entered (not the entry).
    pub fn entry<'n>(&mut self, map: &'n Node, key: &str) -> Option<&'n Entry> {
        self.enter(map);
        map.entry(key).filter(|e| !e.value.is_null())
    }

    /// The value at `key`, marked used.
    pub fn take<'n>(&mut self, map: &'n Node, key: &str) -> Option<&'n Entry> {
        let e = self.entry(map, key)?;
        self.used(&e.value);
        Some(e)
    }

    /// Where a field comes from, for the comment beside its key: `file:line field`.
    pub fn src(&self, e: &Entry, path: &str) -> String {
        format!(
            "{}:{} {}",
            self.file,
            e.key_line,
            self.field(&e.value, path)
        )
    }

    /// A field's name as the list shows it (`environments.<env>.` before a field of an
    /// environment's block).
    pub fn field_name(&self, n: &Node, path: &str) -> String {
        self.field(n, path)
    }

    fn field(&self, n: &Node, path: &str) -> String {
        match self.env {
            Some((env, ids)) if ids.contains(&n.id) => format!("environments.{env}.{path}"),
            _ => path.to_string(),
        }
    }

    /// A field read but not converted, with the reason.
    pub fn skip(&mut self, e: &Entry, path: &str, reason: impl Into<String>) {
        self.used(&e.value);
        let note = NotConverted {
            file: self.file.to_string(),
            line: e.key_line,
            col: e.key_col,
            field: self.field(&e.value, path),
            reason: reason.into(),
        };
        if !self.track.notes.contains(&note) {
            self.track.notes.push(note);
        }
    }

    /// A note about a whole file or block (`line` of its own).
    pub fn note(&mut self, line: usize, col: usize, field: &str, reason: impl Into<String>) {
        let note = NotConverted {
            file: self.file.to_string(),
            line,
            col,
            field: field.to_string(),
            reason: reason.into(),
        };
        if !self.track.notes.contains(&note) {
            self.track.notes.push(note);
        }
    }
}

/// Every field of `root` that no conversion used, with a reason by field (the explicit
/// notes first), sorted by place.
pub fn not_converted(file: &str, root: &Node, track: &Tracker) -> Vec<NotConverted> {
    let mut out: Vec<NotConverted> = track
        .notes
        .iter()
        .filter(|n| n.file == file)
        .cloned()
        .collect();
    if !track.used.contains(&root.id) {
        walk(file, root, "", track, &mut out);
    }
    let mut seen = BTreeMap::new();
    out.retain(|n| seen.insert((n.line, n.col), ()).is_none());
    out.sort();
    out
}

fn walk(file: &str, node: &Node, path: &str, track: &Tracker, out: &mut Vec<NotConverted>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    let report = |out: &mut Vec<NotConverted>, field: String, line, col| {
        out.push(NotConverted {
            file: file.to_string(),
            line,
            col,
            reason: reason_for(&field).to_string(),
            field,
        })
    };
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let p = join(&e.key);
                // An empty value (`variables:`) holds nothing to convert.
                if track.used.contains(&e.value.id) || e.value.is_null() {
                    continue;
                }
                if is_container(&e.value) && track.entered.contains(&e.value.id) {
                    walk(file, &e.value, &p, track, out);
                } else {
                    report(out, p, e.key_line, e.key_col);
                }
            }
        }
        Value::Seq(items) => {
            for (i, n) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if track.used.contains(&n.id) {
                    continue;
                }
                if is_container(n) && track.entered.contains(&n.id) {
                    walk(file, n, &p, track, out);
                } else {
                    report(out, p, n.line, n.col);
                }
            }
        }
        _ => {}
    }
}

fn is_container(n: &Node) -> bool {
    matches!(n.value, Value::Map(_) | Value::Seq(_))
}

/// Why a field without a note of its own is not converted, by what it is.
pub fn reason_for(field: &str) -> &'static str {
    let field = match field.strip_prefix("environments.") {
        Some(rest) => rest.split_once('.').map_or(rest, |(_, f)| f),
        None => field,
    };
    match field {
        "storage.ephemeral" => {
            return "ecsdeploy keeps Fargate's default ephemeral storage (20 GiB)";
        }
        "storage.readonly_fs" => return "ecsdeploy has no read-only root file system key",
        "http.stickiness" => return "ecsdeploy's target groups have no stickiness setting",
        "http.allowed_source_ips" => {
            return "a per-service source list: ecsdeploy's `load_balancer.ingress_cidrs` \
                    applies to the whole load balancer";
        }
        _ => {}
    }
    let top = field.split(['.', '[']).next().unwrap_or_default();
    match top {
        "logging" => "FireLens log routing: ecsdeploy sends container logs to CloudWatch Logs (awslogs)",
        "observability" => "tracing is not set up by ecsdeploy (a sidecar can run a collector)",
        "taskdef_overrides" => "CloudFormation overrides of the task definition: write a task-definition file (services.<key>.task_definition) instead",
        "publish" => "SNS topics are not managed by ecsdeploy",
        "nlb" => "Network Load Balancers are not managed by ecsdeploy",
        "entrypoint" => "ecsdeploy has no entrypoint key (a task-definition file can set entryPoint)",
        "env_file" => "ecsdeploy has no env_file: copy its variables into `environment`",
        "sidecars" => "this sidecar setting has no ecsdeploy sidecar key",
        "storage" => "ecsdeploy mounts only the EFS file systems it creates (`efs: true`)",
        "cdn" => "CloudFront is not managed by ecsdeploy",
        "addons" => "CloudFormation addons are not converted",
        _ => "no ecsdeploy key holds this",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::yaml::parse;

    #[test]
    fn what_is_neither_used_nor_entered_is_listed_with_its_place() {
        let doc =
            parse("name: web\nhttp:\n  path: /\n  stickiness: true\nlogging:\n  x: 1\n").unwrap();
        let mut t = Tracker::default();
        let mut cx = Cx {
            file: "copilot/web/manifest.yml",
            track: &mut t,
            env: None,
        };
        cx.take(&doc, "name");
        let http = cx.entry(&doc, "http").unwrap().value.clone();
        cx.take(&http, "path");
        let list = not_converted("copilot/web/manifest.yml", &doc, &t);
        let fields: Vec<_> = list.iter().map(|n| (n.field.as_str(), n.line)).collect();
        assert_eq!(fields, [("http.stickiness", 4), ("logging", 5)]);
        assert!(list[1].reason.contains("FireLens"));
        assert_eq!(
            list[0].to_string(),
            "copilot/web/manifest.yml:4:3: http.stickiness: ecsdeploy's target groups have no stickiness setting"
        );
    }

    #[test]
    fn skipped_fields_keep_their_own_reason() {
        let doc = parse("secrets:\n  A: ssm-name\n").unwrap();
        let mut t = Tracker::default();
        let mut cx = Cx {
            file: "f",
            track: &mut t,
            env: None,
        };
        let s = cx.entry(&doc, "secrets").unwrap().value.clone();
        cx.enter(&s);
        let a = s.entry("A").unwrap();
        cx.skip(a, "secrets.A", "SSM");
        let list = not_converted("f", &doc, &t);
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].field.as_str(), list[0].reason.as_str()),
            ("secrets.A", "SSM")
        );
    }
}
