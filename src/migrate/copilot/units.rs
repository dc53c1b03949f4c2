//! Small conversions of Copilot values: Go durations, names made into ecsdeploy keys, and
//! workspace paths made relative to the config file.

use std::path::{Component, Path, PathBuf};

/// Whole seconds of a Go duration (`10s`, `1m30s`, `2h`, `0s`); `None` for anything else,
/// or for a fraction of a second.
pub fn duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut total_ms: u64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(n.checked_mul(ms)?)?;
        rest = &rest[unit_len..];
    }
    (total_ms % 1000 == 0).then_some(total_ms / 1000)
}

/// A key of `[services]`, `[secrets]` or `[file_systems]` made from a Copilot name: lowercase
/// letters, digits and single hyphens, starting with a letter, at most 32 characters.
pub fn key(name: &str) -> String {
    crate::config::slug(name, 32, "x")
}

/// `key`, made different from every key in `taken` with a number.
pub fn unique_key(base: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| {
            let suffix = format!("-{i}");
            let mut b = base.to_string();
            b.truncate(32 - suffix.len());
            format!("{}{suffix}", b.trim_end_matches('-'))
        })
        .find(|k| !taken(k))
        .expect("some number is free")
}

/// `path` with `.` and `..` resolved lexically (no file system access).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

/// `to` relative to the directory `from` (both absolute, or both relative to one place).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = normalize(from)
        .components()
        .map(|c| c.as_os_str().to_owned())
        .collect();
    let to: Vec<_> = normalize(to)
        .components()
        .map(|c| c.as_os_str().to_owned())
        .collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

/// A path for the config: `/` separators, `.` for the directory itself.
pub fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_in_whole_seconds() {
        assert_eq!(duration_secs("10s"), Some(10));
        assert_eq!(duration_secs("1m30s"), Some(90));
        assert_eq!(duration_secs("2h"), Some(7200));
        assert_eq!(duration_secs("0s"), Some(0));
        assert_eq!(duration_secs("1500ms"), None);
        assert_eq!(duration_secs("2000ms"), Some(2));
        assert_eq!(duration_secs("ten"), None);
        assert_eq!(duration_secs("10"), None);
    }

    #[test]
    fn keys_from_copilot_names() {
        assert_eq!(key("front-end"), "front-end");
        assert_eq!(key("GITHUB_TOKEN"), "github-token");
        assert_eq!(key("2fa_Service"), "fa-service");
        let taken = |k: &str| k == "web" || k == "web-2";
        assert_eq!(unique_key("web", &taken), "web-3");
        assert_eq!(unique_key("api", &taken), "api");
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/b/c")),
            PathBuf::from("c")
        );
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/d")),
            PathBuf::from("../d")
        );
        assert_eq!(display(&relative(Path::new("/a"), Path::new("/a"))), ".");
        assert_eq!(
            normalize(Path::new("./x/../y/./Dockerfile")),
            PathBuf::from("y/Dockerfile")
        );
    }
}
