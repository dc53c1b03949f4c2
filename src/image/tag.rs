//! The tag of a built image: the git commit of its build context, so the tag says which
//! source runs. A context with uncommitted changes gets `<commit>-dirty-<digest of the
//! changes>`, so two different dirty states never share a tag; a context outside git gets
//! `content-<digest of its files>`. Equal sources give equal tags, which is what lets a
//! second `up` find the image already pushed and make no change.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

/// Length of the commit prefix and of the content digests in tags.
const SHORT: usize = 12;

/// The tag for the image built from `context`.
pub fn source_tag(context: &Path) -> std::io::Result<String> {
    match git_state(context) {
        Some(GitState {
            commit,
            changes: None,
        }) => Ok(commit),
        Some(GitState {
            commit,
            changes: Some(digest),
        }) => Ok(format!("{commit}-dirty-{}", &digest[..8])),
        None => Ok(format!("content-{}", &content_digest(context)?[..SHORT])),
    }
}

struct GitState {
    /// Short commit id of HEAD.
    commit: String,
    /// Digest of the uncommitted changes inside the context, if there are any.
    changes: Option<String>,
}

/// HEAD's commit and the uncommitted changes under `context`, or `None` when the context
/// is not in a git work tree with at least one commit (or git is not installed).
fn git_state(context: &Path) -> Option<GitState> {
    let commit = git(context, &["rev-parse", &format!("--short={SHORT}"), "HEAD"])?;
    let commit = String::from_utf8(commit).ok()?.trim().to_string();
    if commit.is_empty() {
        return None;
    }
    // Tracked changes (staged or not) and untracked files that .gitignore does not
    // exclude, limited to the context directory.
    let diff = git(context, &["diff", "HEAD", "--binary", "--", "."])?;
    let untracked = git(
        context,
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "-z",
            "--",
            ".",
        ],
    )?;
    if diff.is_empty() && untracked.is_empty() {
        return Some(GitState {
            commit,
            changes: None,
        });
    }
    let mut h = Sha256::new();
    h.update(&diff);
    for name in untracked.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        h.update(name);
        h.update([0]);
        // Paths are relative to the context (git runs there).
        let path = context.join(String::from_utf8_lossy(name).as_ref());
        if let Ok(bytes) = std::fs::read(path) {
            h.update(Sha256::digest(&bytes));
        }
    }
    Some(GitState {
        commit,
        changes: Some(hex(&h.finalize())),
    })
}

/// `git -C <dir> <args>`'s stdout when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// Digest over every file under `dir` (relative path and contents, in path order),
/// skipping `.git`. Symbolic links are hashed by their target path, not followed.
pub fn content_digest(dir: &Path) -> std::io::Result<String> {
    let mut files = Vec::new();
    collect(dir, Path::new(""), &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        let full = dir.join(&rel);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        let meta = std::fs::symlink_metadata(&full)?;
        if meta.file_type().is_symlink() {
            h.update(std::fs::read_link(&full)?.to_string_lossy().as_bytes());
        } else {
            h.update(Sha256::digest(std::fs::read(&full)?));
        }
    }
    Ok(hex(&h.finalize()))
}

fn collect(root: &Path, rel: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let path = rel.join(&name);
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        sh(dir.path(), &["init", "-q"]);
        std::fs::create_dir(dir.path().join("backend")).unwrap();
        std::fs::write(dir.path().join("backend/Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join("README"), "top\n").unwrap();
        sh(dir.path(), &["add", "."]);
        sh(dir.path(), &["commit", "-q", "-m", "one"]);
        dir
    }

    fn head(dir: &Path) -> String {
        let out = git(dir, &["rev-parse", "HEAD"]).unwrap();
        String::from_utf8(out).unwrap().trim()[..SHORT].to_string()
    }

    #[test]
    fn clean_context_is_tagged_with_the_commit() {
        let dir = repo();
        let ctx = dir.path().join("backend");
        assert_eq!(source_tag(&ctx).unwrap(), head(dir.path()));
    }

    #[test]
    fn changes_outside_the_context_do_not_dirty_it() {
        let dir = repo();
        std::fs::write(dir.path().join("README"), "changed\n").unwrap();
        let ctx = dir.path().join("backend");
        assert_eq!(source_tag(&ctx).unwrap(), head(dir.path()));
    }

    #[test]
    fn dirty_context_gets_a_suffix_that_follows_the_changes() {
        let dir = repo();
        let ctx = dir.path().join("backend");
        std::fs::write(ctx.join("Dockerfile"), "FROM busybox\n").unwrap();
        let a = source_tag(&ctx).unwrap();
        assert!(
            a.starts_with(&format!("{}-dirty-", head(dir.path()))),
            "{a}"
        );
        assert_eq!(source_tag(&ctx).unwrap(), a, "same changes, same tag");
        std::fs::write(ctx.join("app.py"), "print(1)\n").unwrap();
        let b = source_tag(&ctx).unwrap();
        assert_ne!(a, b, "an untracked file changes the tag");
        std::fs::write(ctx.join("app.py"), "print(2)\n").unwrap();
        assert_ne!(source_tag(&ctx).unwrap(), b, "its content too");
        assert!(b.len() <= 128, "ECR tags are at most 128 characters");
    }

    #[test]
    fn context_outside_git_is_tagged_by_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let a = source_tag(dir.path()).unwrap();
        assert!(a.starts_with("content-") && a.len() == "content-".len() + SHORT);
        assert_eq!(source_tag(dir.path()).unwrap(), a);
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.go"), "package main\n").unwrap();
        assert_ne!(source_tag(dir.path()).unwrap(), a);
    }
}
