//! `ecsdeploy init --from-copilot DIR`: an AWS Copilot workspace (`copilot/.workspace`,
//! `copilot/<name>/manifest.yml`, `copilot/environments/<env>/manifest.yml`) converted into
//! one commented ecsdeploy config. Each environment of the workspace becomes an
//! `[environments.<name>]` table: what its manifest blocks and its environment manifest
//! change over the base. Every manifest field that is not in the config is listed, with its
//! file and line, in the result and at the top of the file.
//!
//! This module reads the workspace; the conversions themselves (`service`, `environment`,
//! `assemble`, `render`) are pure.

pub mod assemble;
pub mod containers;
pub mod environment;
pub mod http;
pub mod out;
pub mod render;
pub mod service;
pub mod track;
pub mod units;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use self::assemble::Inputs;
use self::environment::EnvOut;
use self::out::diff;
use self::service::{Paths, Registry, ServiceOut, BACKEND, LB_WEB};
use self::track::{Cx, NotConverted, Tracker};
use crate::error::UsageError;
use crate::migrate::yaml::{self, Node, Value};

/// Longest app name ecsdeploy takes.
const MAX_APP: usize = 20;

/// The converted config and what it did not take.
#[derive(Debug, Clone, Serialize)]
pub struct Conversion {
    pub app: String,
    pub services: Vec<String>,
    pub environments: Vec<String>,
    pub not_converted: Vec<NotConverted>,
    #[serde(skip)]
    pub text: String,
}

/// A parsed manifest and its place in the workspace.
struct Manifest {
    /// `copilot/<dir>/manifest.yml`, as messages name it.
    file: String,
    root: Node,
    kind: String,
    key: String,
}

/// Convert the workspace at `dir` (the directory holding `copilot/`, or `copilot/`
/// itself) into the text of a config to be written at `config_path`.
pub fn convert(
    dir: &Path,
    config_path: &Path,
    app: Option<&str>,
    region: Option<&str>,
) -> Result<Conversion> {
    let root = workspace_root(dir)?;
    let copilot = root.join("copilot");
    let ws_text = std::fs::read_to_string(copilot.join(".workspace"))
        .with_context(|| format!("reading {}", copilot.join(".workspace").display()))?;
    let ws = parse("copilot/.workspace", &ws_text)?;
    let application = ws
        .get("application")
        .and_then(Node::str)
        .unwrap_or("app")
        .to_string();
    let app = app
        .map(str::to_string)
        .unwrap_or_else(|| app_name(&application));

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut unread: Vec<String> = Vec::new();
    list_files(&copilot, "copilot", &mut files)?;
    let mut workloads = Vec::new();
    let mut env_files = Vec::new();
    for (name, path) in files {
        let parts: Vec<&str> = name.split('/').collect();
        match parts.as_slice() {
            ["copilot", ".workspace"] => {}
            ["copilot", "environments", _, "manifest.yml"] => env_files.push((name, path)),
            ["copilot", d, "manifest.yml"] if *d != "environments" => workloads.push((name, path)),
            _ => unread.push(name),
        }
    }

    let mut trackers: BTreeMap<String, Tracker> = BTreeMap::new();
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (file, path) in &workloads {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {file}"))?;
        let m = parse(file, &text)?;
        let track = trackers.entry(file.clone()).or_default();
        let dir_name = file.split('/').nth(1).unwrap_or_default();
        let name = m.get("name").and_then(Node::str).unwrap_or(dir_name);
        let kind = m
            .get("type")
            .and_then(Node::str)
            .unwrap_or_default()
            .to_string();
        if kind != LB_WEB && kind != BACKEND {
            whole_file_not_converted(file, &m, &kind, track);
            continue;
        }
        let key = units::unique_key(&units::key(name), &|k| taken.iter().any(|t| t == k));
        let mut cx = Cx {
            file,
            track,
            env: None,
        };
        if key != name {
            let why = if units::key(name) == name {
                "another manifest has the same name"
            } else {
                "ecsdeploy keys are lowercase letters, digits and `-`"
            };
            if let Some(e) = m.entry("name") {
                cx.note(
                    e.key_line,
                    e.key_col,
                    "name",
                    format!("the service's key is `{key}` ({why})"),
                );
            }
        }
        taken.push(key.clone());
        manifests.push(Manifest {
            file: file.clone(),
            root: m,
            kind,
            key,
        });
    }

    let mut envs: Vec<(String, Option<(String, Node)>)> = Vec::new();
    for (file, path) in &env_files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {file}"))?;
        let m = parse(file, &text)?;
        let name = file.split('/').nth(2).unwrap_or_default().to_string();
        envs.push((name, Some((file.clone(), m))));
    }
    for m in &manifests {
        for e in m
            .root
            .get("environments")
            .map(Node::entries)
            .unwrap_or_default()
        {
            if !envs.iter().any(|(n, _)| n == &e.key) {
                envs.push((e.key.clone(), None));
            }
        }
    }

    let config_dir = absolute(config_path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let paths = Paths {
        root: units::relative(&config_dir, &absolute(&root)),
    };
    let mut reg = Registry::default();

    // The base: every service as its manifest says outside `environments`.
    let mut base_services = Vec::new();
    for m in &manifests {
        let track = trackers.entry(m.file.clone()).or_default();
        let mut cx = Cx {
            file: &m.file,
            track,
            env: None,
        };
        if let Some(e) = m.root.get("environments") {
            cx.enter(e);
        }
        base_services.push(service::convert(
            &mut cx, &m.root, &m.key, &m.kind, &paths, &mut reg,
        ));
    }
    let (base, shadowed) = assemble::config(&Inputs {
        app: &app,
        region,
        namespace: format!("{app}.local"),
        services: &base_services,
        env: None,
    });
    for n in shadowed {
        trackers.entry(n.file.clone()).or_default().notes.push(n);
    }

    let mut out = base.clone();
    let mut env_names = Vec::new();
    for (env, env_manifest) in &envs {
        let name = env_key(env);
        env_names.push(name.clone());
        let mut services: Vec<ServiceOut> = Vec::new();
        for m in &manifests {
            let track = trackers.entry(m.file.clone()).or_default();
            let block = environment::block(&m.root, env);
            let ids = block.map(|b| ids_under(&b.value)).unwrap_or_default();
            let merged = match block {
                Some(b) => yaml::merge(&m.root, &b.value),
                None => m.root.clone(),
            };
            let mut cx = Cx {
                file: &m.file,
                track,
                env: Some((env, &ids)),
            };
            if let Some(b) = block {
                if !matches!(b.value.value, Value::Map(_) | Value::Null) {
                    cx.skip(b, &format!("environments.{env}"), "not a mapping");
                }
            }
            services.push(service::convert(
                &mut cx, &merged, &m.key, &m.kind, &paths, &mut reg,
            ));
        }
        let env_out: Option<EnvOut> = env_manifest.as_ref().map(|(file, m)| {
            let track = trackers.entry(file.clone()).or_default();
            let mut cx = Cx {
                file,
                track,
                env: None,
            };
            environment::convert(&mut cx, m)
        });
        let (full, shadowed) = assemble::config(&Inputs {
            app: &app,
            region,
            namespace: format!("{name}.{app}.local"),
            services: &services,
            env: env_out.as_ref(),
        });
        for n in shadowed {
            let t = trackers.entry(n.file.clone()).or_default();
            if !t.notes.contains(&n) {
                t.notes.push(n);
            }
        }
        let (mut table, removed) = diff(&base.table, &full.table, "");
        for path in removed {
            let (file, line, col) = removal_place(&path, env, &manifests, env_manifest.as_ref());
            let note = NotConverted {
                file: file.clone(),
                line,
                col,
                field: format!("environments.{env}"),
                reason: format!(
                    "in this environment `{path}` would be gone, and an [environments] table \
                     cannot remove a key of the base config"
                ),
            };
            trackers.entry(file).or_default().notes.push(note);
        }
        if app.len() + 1 + name.len() > MAX_APP {
            let room = MAX_APP.saturating_sub(name.len() + 1);
            let short = format!(
                "{}-{name}",
                app[..room.min(app.len())].trim_end_matches('-')
            );
            table.insert("app".into(), short.into());
        }
        let prefix = format!("environments.{name}");
        out.put(&prefix, toml::Value::Table(table), None);
        for (k, s) in &full.sources {
            out.sources.insert(format!("{prefix}.{k}"), s.clone());
        }
        if name != *env {
            if let Some((file, _)) = env_manifest {
                trackers.entry(file.clone()).or_default().notes.push(NotConverted {
                    file: file.clone(),
                    line: 1,
                    col: 1,
                    field: "name".into(),
                    reason: format!("the environment is `{name}` (ecsdeploy environment names are 1 to 16 lowercase letters, digits and `-`)"),
                });
            }
        }
    }

    let mut not_converted: Vec<NotConverted> = Vec::new();
    for m in &manifests {
        not_converted.extend(track::not_converted(&m.file, &m.root, &trackers[&m.file]));
    }
    for (_, em) in &envs {
        if let Some((file, m)) = em {
            not_converted.extend(track::not_converted(file, m, &trackers[file]));
        }
    }
    for (file, t) in &trackers {
        if !manifests.iter().any(|m| &m.file == file)
            && !envs
                .iter()
                .any(|(_, e)| e.as_ref().is_some_and(|(f, _)| f == file))
        {
            not_converted.extend(t.notes.iter().cloned());
        }
    }
    for f in unread {
        not_converted.push(NotConverted {
            reason: if f.contains("/addons/") {
                track::reason_for("addons").to_string()
            } else {
                "not a manifest ecsdeploy reads".to_string()
            },
            file: f,
            line: 1,
            col: 1,
            field: "(file)".into(),
        });
    }
    not_converted.sort();
    not_converted.dedup();

    let header = vec![
        format!("ecsdeploy configuration converted from the AWS Copilot workspace of application `{application}`"),
        "by `ecsdeploy init --from-copilot`. Every key is described in docs/configuration.md; the".into(),
        "comment beside a key names the manifest field it comes from. `--env <name>` selects one".into(),
        "of the [environments] below (each is its own app, with its own network and load balancer).".into(),
        String::new(),
        "Copilot also made DNS records and certificates for `http.alias` names, and a private".into(),
        "DNS name (<service>.<env>.<app>.local) for each service; ecsdeploy does neither: point the".into(),
        "names at the load balancer, add an HTTPS listener with your certificate, and call".into(),
        "services by their Service Connect names.".into(),
    ];
    let text = render::render(&header, &not_converted, &out.table, &out.sources);
    Ok(Conversion {
        app,
        services: manifests.iter().map(|m| m.key.clone()).collect(),
        environments: env_names,
        not_converted,
        text,
    })
}

/// A valid ecsdeploy app name made from Copilot's application name.
fn app_name(application: &str) -> String {
    let mut a = units::key(application);
    a.truncate(MAX_APP);
    a.trim_end_matches('-').to_string()
}

/// The directory holding `copilot/.workspace`: `dir` itself or its parent (when `dir` is
/// the `copilot` directory).
fn workspace_root(dir: &Path) -> Result<PathBuf> {
    if dir.join("copilot").join(".workspace").is_file() {
        return Ok(dir.to_path_buf());
    }
    if dir.join(".workspace").is_file() {
        if let Some(p) = absolute(dir).parent() {
            return Ok(p.to_path_buf());
        }
    }
    Err(UsageError(format!(
        "{} is not a Copilot workspace: there is no {} (give the directory that holds \
         `copilot/`)",
        dir.display(),
        dir.join("copilot").join(".workspace").display()
    ))
    .into())
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// Every file under `dir`, sorted, named from `prefix`.
fn list_files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}/{}", e.file_name().to_string_lossy());
        if e.file_type()?.is_dir() {
            list_files(&e.path(), &name, out)?;
        } else {
            out.push((name, e.path()));
        }
    }
    Ok(())
}

fn parse(file: &str, text: &str) -> Result<Node> {
    yaml::parse(text).map_err(|e| {
        UsageError(format!(
            "{file}:{}:{}: invalid YAML: {}",
            e.line, e.col, e.message
        ))
        .into()
    })
}

/// A workload ecsdeploy has no place for yet (a Scheduled Job, a Worker Service, ...):
/// one entry for the file, at its `type`, and none for each of its fields.
fn whole_file_not_converted(file: &str, m: &Node, kind: &str, track: &mut Tracker) {
    let (line, col) = m
        .entry("type")
        .map(|e| (e.key_line, e.key_col))
        .unwrap_or((1, 1));
    let name = m.get("name").and_then(Node::str).unwrap_or_default();
    let reason = match kind {
        "Scheduled Job" => {
            let schedule = m
                .get("on")
                .and_then(|o| o.get("schedule"))
                .and_then(Node::str)
                .map(|s| format!(" (schedule `{s}`)"))
                .unwrap_or_default();
            format!(
                "Scheduled Job `{name}`{schedule}: ecsdeploy has no scheduled jobs yet; \
                 nothing of this manifest is converted"
            )
        }
        "" => "no `type`: not a Copilot workload manifest; nothing of it is converted".into(),
        other => format!(
            "{other} `{name}`: ecsdeploy converts Load Balanced Web Services and Backend \
             Services only; nothing of this manifest is converted"
        ),
    };
    track.notes.push(NotConverted {
        file: file.to_string(),
        line,
        col,
        field: "type".into(),
        reason,
    });
    mark_all(m, track);
}

fn mark_all(n: &Node, track: &mut Tracker) {
    let mut cx = Cx {
        file: "",
        track,
        env: None,
    };
    cx.used(n);
}

/// Ids of every node under `n` (an `environments.<env>` block).
fn ids_under(n: &Node) -> HashSet<usize> {
    let mut ids = HashSet::new();
    let mut stack = vec![n];
    while let Some(x) = stack.pop() {
        ids.insert(x.id);
        match &x.value {
            Value::Map(m) => stack.extend(m.iter().map(|e| &e.value)),
            Value::Seq(s) => stack.extend(s.iter()),
            _ => {}
        }
    }
    ids
}

/// An ecsdeploy environment name for a Copilot one.
fn env_key(env: &str) -> String {
    let mut k = units::key(env);
    k.truncate(16);
    k.trim_end_matches('-').to_string()
}

/// Where to report a key an environment would remove: the service manifest's
/// `environments.<env>` block, else the environment manifest.
fn removal_place(
    path: &str,
    env: &str,
    manifests: &[Manifest],
    env_manifest: Option<&(String, Node)>,
) -> (String, usize, usize) {
    if let Some(rest) = path.strip_prefix("services.") {
        let key = rest.split('.').next().unwrap_or_default();
        if let Some(m) = manifests.iter().find(|m| m.key == key) {
            if let Some(b) = environment::block(&m.root, env) {
                return (m.file.clone(), b.key_line, b.key_col);
            }
            return (m.file.clone(), 1, 1);
        }
    }
    match env_manifest {
        Some((f, _)) => (f.clone(), 1, 1),
        None => ("copilot/.workspace".into(), 1, 1),
    }
}

#[cfg(test)]
mod tests;
