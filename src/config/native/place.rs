//! Problems that validation finds in what a service took from its task-definition file
//! (the task size, the CPU architecture) belong to that file: they are reported at the
//! file's key, with the JSON key path, not at the TOML service that names the file.

use std::path::Path;

use crate::config::diagnostic::{Diagnostic, Problem, Seg};
use crate::config::model::Config;

/// A service's keys that come from its task-definition file, and their JSON key paths.
const FROM_FILE: [(&str, &[&str]); 3] = [
    ("cpu", &["cpu"]),
    ("memory", &["memory"]),
    ("cpu_architecture", &["runtimePlatform", "cpuArchitecture"]),
];

/// Takes the problems about values a service read from its task-definition file out of
/// `problems`, and returns them located in that file.
/// `written(key, field)` says whether the TOML itself sets the service's key (a problem
/// about that is the TOML's).
pub fn relocate(
    config: &Config,
    config_path: &Path,
    written: &dyn Fn(&str, &str) -> bool,
    problems: &mut Vec<Problem>,
) -> Vec<Diagnostic> {
    let dir = config_path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    problems.retain(|p| {
        let [Seg::Key(services), Seg::Key(key), Seg::Key(field)] = p.path.0.as_slice() else {
            return true;
        };
        let Some((_, json_path)) = FROM_FILE.iter().find(|(f, _)| f == field) else {
            return true;
        };
        let file = config
            .services
            .get(key)
            .and_then(|s| s.task_definition.as_ref());
        let (true, Some(file)) = (services == "services", file) else {
            return true;
        };
        if written(key, field) {
            return true;
        }
        let full = dir.join(file);
        let text = std::fs::read_to_string(&full).unwrap_or_default();
        let (line, col) = key_position(&text, json_path).unwrap_or((1, 1));
        out.push(Diagnostic {
            file: full,
            line,
            col,
            key: json_path.join("."),
            message: format!("{} (the task-definition file of services.{key})", p.message),
        });
        false
    });
    out
}

/// Line and column (1-based) of the key at `path` (object keys from the top) in the JSON
/// `text`; `None` when it is not there. A small scanner: strings, nesting and keys only.
pub fn key_position(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    // For each open object or array: the key path that leads to it (`None` once an array
    // is on the way: keys inside array items are not the top-level keys looked for).
    let mut open: Vec<Option<Vec<String>>> = Vec::new();
    let mut last_key: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                let parent = match open.last() {
                    None => Some(Vec::new()),
                    Some(p) => p.clone(),
                };
                let here = match (parent, last_key.take()) {
                    (Some(mut keys), Some(k)) if bytes[i] == b'{' => {
                        keys.push(k);
                        Some(keys)
                    }
                    (Some(keys), None) if open.is_empty() && bytes[i] == b'{' => Some(keys),
                    _ => None,
                };
                open.push(here);
            }
            b'}' | b']' => {
                open.pop();
                last_key = None;
            }
            b',' => last_key = None,
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let s = &text[start + 1..i.min(text.len())];
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if bytes.get(j) == Some(&b':') {
                    if let Some(Some(keys)) = open.last() {
                        let found = keys.len() + 1 == path.len()
                            && keys.iter().zip(path).all(|(a, b)| a == b)
                            && path.last() == Some(&s);
                        if found {
                            let before = &text[..start];
                            let line = before.matches('\n').count() + 1;
                            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
                            return Some((line, col + 1));
                        }
                    }
                    last_key = Some(s.to_string());
                    i = j;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
  "family": "web",
  "containerDefinitions": [{ "name": "web", "image": "nginx", "cpu": 10 }],
  "cpu": "300",
  "runtimePlatform": { "operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64" }
}"#;

    #[test]
    fn top_level_and_nested_keys_are_found_where_they_are_written() {
        assert_eq!(key_position(FILE, &["cpu"]), Some((4, 3)));
        assert_eq!(
            key_position(FILE, &["runtimePlatform", "cpuArchitecture"]),
            Some((5, 58))
        );
        assert_eq!(key_position(FILE, &["memory"]), None);
        assert_eq!(key_position(FILE, &["name"]), None, "not a top-level key");
    }

    #[test]
    fn a_bad_size_in_the_file_is_reported_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("td.json"),
            FILE.replace("\"cpu\": \"300\"", "\"cpu\": \"300\", \"memory\": \"512\""),
        )
        .unwrap();
        let config = dir.path().join("ecsdeploy.toml");
        std::fs::write(
            &config,
            "app = \"demo\"\n[services.web]\ntask_definition = \"td.json\"\n",
        )
        .unwrap();
        let d = crate::config::load_file(&config).unwrap_err().diagnostics;
        let cpu = d
            .iter()
            .find(|d| d.key == "cpu")
            .unwrap_or_else(|| panic!("{d:#?}"));
        assert_eq!(cpu.file, dir.path().join("td.json"));
        assert_eq!((cpu.line, cpu.col), (4, 3));
        assert!(
            cpu.message.contains("cpu 300 is not a Fargate task size"),
            "{cpu}"
        );
        assert!(cpu
            .message
            .contains("(the task-definition file of services.web)"));
    }
}
