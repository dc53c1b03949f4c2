//! External programs ecsdeploy runs (docker, the session-manager-plugin), found on PATH.

use std::path::{Path, PathBuf};

/// The first executable file called `name` in a directory of PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_sh_and_not_a_made_up_name() {
        assert!(super::on_path("sh").is_some());
        assert!(super::on_path("no-such-program-ecsdeploy").is_none());
    }
}
