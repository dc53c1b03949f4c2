//! `[file_systems.<key>]`: EFS modes and the access point.

use super::store_path;
use crate::config::model::{FileSystem, StoreKind};
use crate::config::validate::Validator;

/// What is wrong with an access point directory, per EFS: absolute, not `/`, at most 100
/// characters and 4 components, no component starting with `.`, no shell metacharacters.
fn access_point_path_problem(path: &str) -> Option<String> {
    let len = path.chars().count();
    if !path.starts_with('/') {
        return Some("it is not absolute (it must start with `/`)".into());
    }
    if path == "/" {
        return Some(
            "it is the root of the file system, which would share everything with every client"
                .into(),
        );
    }
    if len > 100 {
        return Some(format!("it is {len} characters long, the maximum is 100"));
    }
    if let Some(ch) = path.chars().find(|c| "$#<>;`|&?{}^*\n\\".contains(*c)) {
        return Some(format!("it contains `{ch}`"));
    }
    let segs: Vec<&str> = path[1..].split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Some("it has an empty component (a trailing or double `/`)".into());
    }
    if segs.contains(&"..") {
        return Some("it contains `..`".into());
    }
    if let Some(s) = segs.iter().find(|s| s.starts_with('.')) {
        return Some(format!("component `{s}` starts with `.`"));
    }
    if segs.len() > 4 {
        return Some(format!(
            "it has {} components, the maximum is 4",
            segs.len()
        ));
    }
    None
}

impl Validator<'_> {
    pub(super) fn file_system(&mut self, key: &str, f: &FileSystem) {
        let fp = store_path(StoreKind::FileSystem, key);
        let perf_ok = ["generalPurpose", "maxIO"].contains(&f.performance_mode.as_str());
        if !perf_ok {
            self.err(
                fp.key("performance_mode"),
                format!(
                    "`{}` is not an EFS performance mode; use `generalPurpose` (the default) or \
                     `maxIO`",
                    f.performance_mode
                ),
            );
        }
        match f.throughput_mode.as_str() {
            "bursting" => {}
            "elastic" if f.performance_mode == "maxIO" => self.err(
                fp.key("throughput_mode"),
                "throughput_mode = \"elastic\" cannot be combined with performance_mode = \
                 \"maxIO\" (EFS offers elastic throughput with generalPurpose only); use \
                 generalPurpose or bursting",
            ),
            "elastic" => {}
            other => self.err(
                fp.key("throughput_mode"),
                format!(
                    "`{other}` is not a throughput mode ecsdeploy configures; use `bursting` (the \
                     default) or `elastic`"
                ),
            ),
        }
        let ap = fp.key("access_point");
        if let Some(reason) = access_point_path_problem(&f.access_point.path) {
            self.err(
                ap.key("path"),
                format!(
                    "access_point.path `{}` is invalid ({reason}); give the directory the tasks \
                     see as the root, e.g. `/data`: absolute, not `/`, at most 4 components and \
                     100 characters, no `..` and no component starting with `.`",
                    f.access_point.path
                ),
            );
        }
        let perm = &f.access_point.permissions;
        if !((3..=4).contains(&perm.len()) && perm.chars().all(|c| ('0'..='7').contains(&c))) {
            self.err(
                ap.key("permissions"),
                format!(
                    "permissions `{perm}` are not octal permissions; write 3 or 4 octal digits, \
                     e.g. \"755\" or \"0750\""
                ),
            );
        }
        self.private_store(&fp, &format!("file_systems.{key}"));
    }
}
