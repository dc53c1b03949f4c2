//! The services' `uses` entries: which store, which options, the environment variables
//! and the table actions they add.

use std::collections::BTreeMap;

use super::{kind_name, listed, store_key_problem};
use crate::config::diagnostic::KeyPath;
use crate::config::env_name;
use crate::config::model::{Service, StoreKind, Use};
use crate::config::validate::names::is_env_name;
use crate::config::validate::{service_path, Validator};

/// Keys of a `uses` entry and the kinds of store each applies to.
const USE_OPTIONS: [(&str, &[StoreKind]); 5] = [
    ("actions", &[StoreKind::Table]),
    ("write", &[StoreKind::Table, StoreKind::FileSystem]),
    ("env", &[StoreKind::Table, StoreKind::Secret]),
    ("env_prefix", &[StoreKind::Database]),
    ("path", &[StoreKind::FileSystem]),
];

/// The variables a database use adds, after its prefix.
const DB_VARS: [&str; 5] = ["HOST", "PORT", "NAME", "USER", "PASSWORD"];

/// What is wrong with a container mount path: absolute, not `/`, no `..`.
fn mount_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        Some("it is not absolute (it must start with `/`)".into())
    } else if path.trim_end_matches('/').is_empty() {
        Some("it is `/`, the container's root, which cannot be a mount point".into())
    } else if path.split('/').any(|s| s == "..") {
        Some("it contains `..`".into())
    } else if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace".into())
    } else {
        None
    }
}

/// The environment variables a `uses` entry adds, with the key path that sets each name.
fn use_env_vars(u: &Use, up: &KeyPath) -> Vec<(String, KeyPath)> {
    let Some((kind, key)) = u.target() else {
        return Vec::new();
    };
    let named = |explicit: &Option<String>, option: &str, default: String| match explicit {
        Some(e) => vec![(e.clone(), up.key(option))],
        None => vec![(default, up.clone())],
    };
    match kind {
        StoreKind::Table => named(&u.env, "env", format!("{}_TABLE", env_name(key))),
        StoreKind::Secret => named(&u.env, "env", env_name(key)),
        StoreKind::Database => {
            let (p, path) = match &u.env_prefix {
                Some(p) => (p.clone(), up.key("env_prefix")),
                None => ("DB_".to_string(), up.clone()),
            };
            DB_VARS
                .iter()
                .map(|v| (format!("{p}{v}"), path.clone()))
                .collect()
        }
        StoreKind::FileSystem => Vec::new(),
    }
}

fn describe_use(i: usize, u: &Use) -> String {
    match u.target() {
        Some((kind, key)) => format!("uses[{i}] ({} `{key}`)", kind_name(kind)),
        None => format!("uses[{i}]"),
    }
}

impl Validator<'_> {
    /// `[[services.<key>.uses]]`: the store exists, the options fit its kind, and the wiring
    /// leaves no two things with one name.
    pub(super) fn uses(&mut self, skey: &str, s: &Service) {
        let c = self.c;
        let sp = service_path(skey);
        let up = sp.key("uses");
        let mut env: BTreeMap<String, String> = s
            .environment
            .keys()
            .map(|n| (n.clone(), format!("environment.{n}")))
            .collect();
        let mut mounts: Vec<(String, usize)> = Vec::new();
        let mut granted: Vec<String> = Vec::new();
        for (i, u) in s.uses.iter().enumerate() {
            let ip = up.index(i);
            let set: Vec<StoreKind> = [
                (StoreKind::Table, &u.table),
                (StoreKind::Database, &u.database),
                (StoreKind::FileSystem, &u.file_system),
                (StoreKind::Secret, &u.secret),
            ]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect();
            match set.as_slice() {
                [] => {
                    self.err(
                        ip.clone(),
                        "a `uses` entry naming no store; set exactly one of `table`, `database`, \
                         `file_system` or `secret` to the key of that store",
                    );
                    continue;
                }
                [_] => {}
                [first, rest @ ..] => {
                    for k in rest {
                        self.err(
                            ip.key(k.key()),
                            format!(
                                "a `uses` entry names one store, but this one sets both `{}` and \
                                 `{}`; split it into one entry per store",
                                first.key(),
                                k.key()
                            ),
                        );
                    }
                    continue;
                }
            }
            let Some((kind, key)) = u.target() else {
                continue;
            };
            let keys: Vec<&String> = match kind {
                StoreKind::Table => c.tables.keys().collect(),
                StoreKind::Database => c.databases.keys().collect(),
                StoreKind::FileSystem => c.file_systems.keys().collect(),
                StoreKind::Secret => c.secrets.keys().collect(),
            };
            let section = kind.section();
            let exists = keys.iter().any(|k| k.as_str() == key);
            if !exists {
                let hint = if keys.is_empty() {
                    format!("no {section} are declared; add a [{section}.{key}] section")
                } else {
                    format!("declared {section}: {}", listed(&keys))
                };
                self.err(
                    ip.key(kind.key()),
                    format!("`{key}` is not a key of [{section}]; {hint}"),
                );
            }
            if let Some(j) = s.uses[..i]
                .iter()
                .position(|o| o.target() == Some((kind, key)))
            {
                self.err(
                    ip.key(kind.key()),
                    format!(
                        "{} `{key}` is used twice by this service (also uses[{j}]); merge the two \
                         entries",
                        kind_name(kind)
                    ),
                );
            }

            // Options of other kinds.
            let given = [
                u.actions.is_some(),
                u.write.is_some(),
                u.env.is_some(),
                u.env_prefix.is_some(),
                u.path.is_some(),
            ];
            for ((option, kinds), on) in USE_OPTIONS.iter().zip(given) {
                if on && !kinds.contains(&kind) {
                    let fits: Vec<&str> = USE_OPTIONS
                        .iter()
                        .filter(|(_, ks)| ks.contains(&kind))
                        .map(|(o, _)| *o)
                        .collect();
                    self.err(
                        ip.key(*option),
                        format!(
                            "`{option}` does not apply to a {}; a {} use takes {}",
                            kind_name(kind),
                            kind_name(kind),
                            listed(&fits)
                        ),
                    );
                }
            }

            match kind {
                StoreKind::Table => {
                    granted.push(describe_use(i, u));
                    if let Some(actions) = &u.actions {
                        self.table_actions(&ip.key("actions"), actions);
                        if u.write.is_some() {
                            self.err(
                                ip.key("write"),
                                "write has no effect when actions is given (actions lists \
                                 exactly what is granted); remove write, or remove actions to \
                                 get the default read actions plus the write actions",
                            );
                        }
                    }
                }
                StoreKind::FileSystem => {
                    granted.push(describe_use(i, u));
                    match &u.path {
                        None => self.err(
                            ip.clone(),
                            format!(
                                "a file system use needs `path`, where file system `{key}` is \
                                 mounted in the container, e.g. path = \"/data\""
                            ),
                        ),
                        Some(p) => {
                            if let Some(reason) = mount_path_problem(p) {
                                self.err(
                                    ip.key("path"),
                                    format!(
                                        "path `{p}` is not a mount point ({reason}); give an \
                                         absolute directory, e.g. \"/var/www/html/wp-content\""
                                    ),
                                );
                            } else {
                                let norm = p.trim_end_matches('/').to_string();
                                if let Some((_, j)) = mounts.iter().find(|(m, _)| *m == norm) {
                                    self.err(
                                        ip.key("path"),
                                        format!(
                                            "path `{p}` is also where uses[{j}] is mounted; two \
                                             file systems cannot be mounted at one path"
                                        ),
                                    );
                                } else {
                                    mounts.push((norm, i));
                                }
                            }
                        }
                    }
                }
                StoreKind::Database | StoreKind::Secret => {}
            }

            let (option, value) = match kind {
                StoreKind::Database => ("env_prefix", &u.env_prefix),
                _ => ("env", &u.env),
            };
            let mut names_ok = true;
            if let (Some(v), true) = (value, kind != StoreKind::FileSystem) {
                let longest = if kind == StoreKind::Database {
                    format!("{v}PASSWORD")
                } else {
                    v.clone()
                };
                if !is_env_name(v) {
                    names_ok = false;
                    let what = if kind == StoreKind::Database {
                        "prefix of environment variable names"
                    } else {
                        "environment variable name"
                    };
                    self.err(
                        ip.key(option),
                        format!(
                            "`{v}` is not a valid {what}; use letters, digits and `_`, not \
                             starting with a digit (e.g. `{}`)",
                            if kind == StoreKind::Database {
                                "WORDPRESS_DB_"
                            } else {
                                "TABLE_NAME"
                            }
                        ),
                    );
                } else if longest.chars().count() > 255 {
                    names_ok = false;
                    self.err(
                        ip.key(option),
                        format!(
                            "environment variable `{longest}` is {} characters long; the limit \
                             is 255",
                            longest.chars().count()
                        ),
                    );
                }
            }
            if names_ok && store_key_problem(key).is_none() {
                let me = describe_use(i, u);
                // Clashing names, grouped by what else sets them.
                let mut clashes: Vec<(String, KeyPath, Vec<String>)> = Vec::new();
                for (name, path) in use_env_vars(u, &ip) {
                    match env.get(&name) {
                        Some(other) => match clashes.iter_mut().find(|(o, _, _)| o == other) {
                            Some((_, _, names)) => names.push(name),
                            None => clashes.push((other.clone(), path, vec![name])),
                        },
                        None => {
                            env.insert(name, me.clone());
                        }
                    }
                }
                for (other, path, names) in clashes {
                    let hint = if other.starts_with("environment.") {
                        format!("remove it from environment or set another `{option}` here")
                    } else {
                        format!("set another `{option}` here or rename the other one")
                    };
                    let (what, verb) = if names.len() == 1 {
                        ("environment variable", "is")
                    } else {
                        ("environment variables", "are")
                    };
                    self.err(
                        path,
                        format!(
                            "{what} {} of {me} {verb} also set by {other}; {hint}",
                            listed(&names)
                        ),
                    );
                }
            }
        }
        if let (Some(_), false) = (&s.task_role, granted.is_empty()) {
            self.err(
                sp.key("task_role"),
                format!(
                    "task_role names an existing role, but {} need(s) a grant on the task role, \
                     which ecsdeploy cannot add to a role it does not own; remove task_role \
                     (ecsdeploy then creates {} with exactly those grants) or remove those `uses` \
                     entries and grant the access in your role yourself",
                    granted.join(", "),
                    c.task_role_name(skey)
                ),
            );
        }
    }

    pub(super) fn table_actions(&mut self, ap: &KeyPath, actions: &[String]) {
        let hint = "list the actions the service needs, e.g. [\"dynamodb:GetItem\", \
                    \"dynamodb:Query\"], or omit actions to get the read actions (BatchGetItem, \
                    DescribeTable, GetItem, Query, Scan; with write = true also BatchWriteItem, \
                    DeleteItem, PutItem, UpdateItem)";
        if actions.is_empty() {
            self.err(
                ap.clone(),
                format!("actions is empty, which grants nothing; {hint}"),
            );
        }
        for (j, a) in actions.iter().enumerate() {
            let xp = ap.index(j);
            if a.contains('*') {
                self.err(
                    xp,
                    format!(
                        "`{a}` is a wildcard; a table use grants only named actions (least \
                         privilege): {hint}"
                    ),
                );
                continue;
            }
            let valid = a.strip_prefix("dynamodb:").is_some_and(|act| {
                act.starts_with(|c: char| c.is_ascii_uppercase())
                    && act.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !valid {
                self.err(
                    xp,
                    format!(
                        "`{a}` is not a DynamoDB action; write `dynamodb:<Action>`, e.g. \
                         `dynamodb:GetItem` (grants on other services belong in task_policy)"
                    ),
                );
            } else if let Some(k) = actions[..j].iter().position(|o| o == a) {
                self.err(xp, format!("`{a}` is listed twice (also actions[{k}])"));
            }
        }
    }
}
