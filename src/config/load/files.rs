//! The files a config names, read relative to the config file's directory: each table's
//! `seed` file, each `image.build` context and Dockerfile, and each service's
//! `task_definition` file (whose task size, architecture, ports and image are taken into
//! the service). Problems are located at the key that names the file.

use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::diagnostic::{KeyPath, Problem};
use crate::config::model::{Config, Image, RepositoryImage};

/// The text of the file at `full`, or why it cannot be read (`what` names the file's role).
fn read(full: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(full).map_err(|e| format!("cannot read {what} {}: {e}", full.display()))
}

/// Read and check the seed file of every table that has one (relative to the config file's
/// directory), storing the items in the table's `seed_items`; problems are located at the
/// table's `seed` key.
pub(super) fn read_seeds(config: &mut Config, path: &Path) -> Vec<Problem> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for (key, t) in config.tables.iter_mut() {
        let Some(file) = &t.seed else { continue };
        let at = || KeyPath::root().key("tables").key(key.as_str()).key("seed");
        let full = dir.join(file);
        let text = match read(&full, "seed file") {
            Ok(text) => text,
            Err(m) => {
                problems.push(Problem::at(at(), m));
                continue;
            }
        };
        match crate::config::seed::parse_seed(&text, &t.hash_key, t.range_key.as_ref()) {
            Ok(items) => t.seed_items = Some(items),
            Err(errors) => problems.extend(
                errors
                    .into_iter()
                    .map(|m| Problem::at(at(), format!("seed file {}: {m}", full.display()))),
            ),
        }
    }
    problems
}

/// Resolve each `image.build` context (relative to the config file's directory) and its
/// Dockerfile (relative to the context), and check both exist.
pub(super) fn check_builds(config: &mut Config, path: &Path) -> Vec<Problem> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for (key, s) in config.services.iter_mut() {
        let Some(Image::Repository(RepositoryImage { build: Some(b), .. })) = &mut s.image else {
            continue;
        };
        let at = |k: &str| {
            KeyPath::root()
                .key("services")
                .key(key.as_str())
                .key("image")
                .key("build")
                .key(k)
        };
        if b.context.trim().is_empty() {
            continue; // reported by validation
        }
        let context = dir.join(&b.context);
        if !context.is_dir() {
            problems.push(Problem::at(
                at("context"),
                format!(
                    "build context {} is not a directory (paths are relative to the config file)",
                    context.display()
                ),
            ));
            continue;
        }
        let dockerfile = context.join(b.dockerfile.as_deref().unwrap_or("Dockerfile"));
        if !dockerfile.is_file() {
            problems.push(Problem::at(
                if b.dockerfile.is_some() {
                    at("dockerfile")
                } else {
                    at("context")
                },
                format!(
                    "no Dockerfile at {} (the dockerfile path is relative to the context)",
                    dockerfile.display()
                ),
            ));
            continue;
        }
        b.context_dir = Some(std::fs::canonicalize(&context).unwrap_or(context));
        b.dockerfile_path = Some(std::fs::canonicalize(&dockerfile).unwrap_or(dockerfile));
    }
    problems
}

/// Service keys that describe the containers, which a task-definition file replaces.
const CONTAINER_KEYS: &[&str] = &[
    "cpu",
    "memory",
    "cpu_architecture",
    "ports",
    "command",
    "environment",
    "health_check",
    "stop_timeout",
    "ulimits",
    "sidecars",
    "container_depends_on",
];

/// Read each service's `task_definition` file (relative to the config file), check it,
/// and take the task's size, architecture, ports and (unless `image` is given) image from
/// it, so the rest of validation and planning see them as if written in TOML. Returns
/// problems and warnings, located at the `task_definition` key.
pub(super) fn read_task_definitions(
    config: &mut Config,
    path: &Path,
    doc: &Spanned<DeTable>,
) -> (Vec<Problem>, Vec<Problem>) {
    let dir = path.parent().unwrap_or(Path::new(""));
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    let owned_role = config.iam.execution_role.is_none();
    for (key, s) in config.services.iter_mut() {
        let service_path = || KeyPath::root().key("services").key(key.as_str());
        let given = |k: &str| {
            doc.get_ref()
                .get("services")
                .and_then(|v| match v.get_ref() {
                    DeValue::Table(t) => t.get(key.as_str()),
                    _ => None,
                })
                .is_some_and(|v| matches!(v.get_ref(), DeValue::Table(t) if t.contains_key(k)))
        };
        let Some(file) = &s.task_definition else {
            if s.image.is_none() {
                problems.push(Problem::at(
                    service_path(),
                    "missing `image` (an image reference, { repository = ... } or { build = ... }), or `task_definition` (a task-definition JSON file)",
                ));
            }
            continue;
        };
        let at = || service_path().key("task_definition");
        for k in CONTAINER_KEYS.iter().filter(|k| given(k)) {
            problems.push(Problem::at(
                service_path().key(*k),
                format!(
                    "`{k}` cannot be combined with `task_definition`: the task-definition \
                     file describes the containers; set it there"
                ),
            ));
        }
        let full = dir.join(file);
        let text = match read(&full, "task-definition file") {
            Ok(t) => t,
            Err(m) => {
                problems.push(Problem::at(at(), m));
                continue;
            }
        };
        let parsed = crate::config::native::parse(&text);
        let shown = full.display();
        problems.extend(
            parsed
                .errors
                .iter()
                .map(|e| Problem::at(at(), format!("task-definition file {shown}: {e}"))),
        );
        warnings.extend(
            parsed
                .warnings
                .iter()
                .map(|w| Problem::at(at(), format!("task-definition file {shown}: {w}"))),
        );
        let Some(def) = parsed.def else { continue };
        if !parsed.errors.is_empty() {
            continue;
        }
        if owned_role {
            if let Some(e) = gmsa_needs_a_role(&def) {
                problems.push(Problem::at(
                    at(),
                    format!("task-definition file {shown}: {e}"),
                ));
            }
        }
        if let Some(cpu) = def.cpu.as_ref().and_then(|u| u.value()) {
            s.cpu = cpu;
        }
        s.memory = def.memory.as_ref().and_then(|u| u.value()).or(s.memory);
        if let Some(a) = def
            .runtime_platform
            .as_ref()
            .and_then(|r| r.cpu_architecture.as_deref())
        {
            s.cpu_architecture = if a == "ARM64" {
                crate::config::model::CpuArchitecture::Arm64
            } else {
                crate::config::model::CpuArchitecture::X86_64
            };
        }
        let main = def.main_container(key).cloned().unwrap_or_default();
        s.ports = main
            .port_mappings
            .iter()
            .filter_map(|p| p.container_port)
            .collect();
        if s.image.is_none() {
            match &main.image {
                Some(i) => s.image = Some(Image::Reference(i.clone())),
                None => problems.push(Problem::at(
                    at(),
                    format!(
                        "task-definition file {shown}: the main container `{}` has no image; \
                         give `image` in the file or in the service",
                        main.name
                    ),
                )),
            }
        }
        s.native = Some(def);
    }
    (problems, warnings)
}

/// gMSA (`credentialSpecs`) with the execution role ecsdeploy creates: that role could
/// read the CredSpec, but not the domain user's secret the CredSpec names (inside the file,
/// out of ecsdeploy's sight), so every task would fail to start. The error names the role
/// the file itself gives, if any.
fn gmsa_needs_a_role(def: &crate::config::native::NativeTaskDef) -> Option<String> {
    let i = def
        .container_definitions
        .iter()
        .position(|c| !c.credential_specs.is_empty())?;
    let theirs = def.execution_role_arn.as_deref();
    Some(format!(
        "`containerDefinitions[{i}].credentialSpecs` (gMSA) needs an existing execution role: \
         the CredSpec names the domain user's secret, which the role must read and which \
         ecsdeploy cannot see to grant, so tasks with the role ecsdeploy creates would fail to \
         start; set `iam.execution_role` to a role allowed to read the CredSpec and that \
         secret{}",
        theirs
            .map(|r| format!(" (the file's `executionRoleArn` is `{r}`)"))
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn with_seed(seed: Option<&str>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("app.toml");
        std::fs::write(
            &cfg,
            "app = \"demo\"\n\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
             range_key = { name = \"Song\" }\nseed = \"data/music.json\"\n",
        )
        .unwrap();
        if let Some(seed) = seed {
            std::fs::create_dir(dir.path().join("data")).unwrap();
            std::fs::write(dir.path().join("data/music.json"), seed).unwrap();
        }
        (dir, cfg)
    }

    /// A config in a temp dir whose `api` service has `image = <image>`; `files` are
    /// created (relative to the config's directory).
    fn with_build(image: &str, files: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "FROM scratch\n").unwrap();
        }
        let cfg = dir.path().join("app.toml");
        std::fs::write(
            &cfg,
            format!("app = \"demo\"\n\n[services.api]\nimage = {image}\nports = [80]\n"),
        )
        .unwrap();
        (dir, cfg)
    }

    #[test]
    fn build_without_repository_gets_the_service_repository() {
        let (dir, cfg) = with_build(
            r#"{ build = { context = "api", dockerfile = "docker/prod.Dockerfile" } }"#,
            &["api/docker/prod.Dockerfile"],
        );
        let c = load_file(&cfg).unwrap().config;
        let Image::Repository(ri) = c.services["api"].image() else {
            panic!()
        };
        assert_eq!(ri.repository.as_deref(), Some("api"));
        let repo = &c.repositories["api"];
        assert!(
            repo.scan_on_push,
            "implicit repository has the documented defaults"
        );
        let b = ri.build.as_ref().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(b.context_dir.as_deref(), Some(root.join("api").as_path()));
        assert_eq!(
            b.dockerfile_path.as_deref(),
            Some(root.join("api/docker/prod.Dockerfile").as_path())
        );
    }

    #[test]
    fn build_problems_are_located_at_their_keys() {
        let (_d, cfg) = with_build(r#"{ build = { context = "nowhere" } }"#, &[]);
        let e = load_file(&cfg).unwrap_err().to_string();
        assert!(e.contains("services.api.image.build.context"), "{e}");
        assert!(e.contains("is not a directory"), "{e}");

        let (_d, cfg) = with_build(r#"{ build = { context = "api" } }"#, &["api/other"]);
        let e = load_file(&cfg).unwrap_err().to_string();
        assert!(e.contains("no Dockerfile at"), "{e}");

        let (_d, cfg) = with_build(
            r#"{ build = { context = "api" }, tag = "v1" }"#,
            &["api/Dockerfile"],
        );
        let e = load_file(&cfg).unwrap_err().to_string();
        assert!(e.contains("services.api.image.tag"), "{e}");
        assert!(e.contains("cannot be combined with `build`"), "{e}");

        let (_d, cfg) = with_build(r#"{ tag = "v1" }"#, &[]);
        let e = load_file(&cfg).unwrap_err().to_string();
        assert!(e.contains("give `repository`"), "{e}");

        let (_d, cfg) = with_build(r#"{ build = { contxt = "api" } }"#, &[]);
        let e = load_file(&cfg).unwrap_err().to_string();
        assert!(e.contains("context"), "{e}");
    }

    #[test]
    fn seed_file_is_read_relative_to_the_config() {
        let seed = r#"[{"Artist": {"S": "A"}, "Song": {"S": "1"}, "Awards": {"N": "3"}}]"#;
        let (_dir, cfg) = with_seed(Some(seed));
        let loaded = load_file(&cfg).unwrap();
        let items = loaded.config.tables["music"].seed_items.clone().unwrap();
        assert_eq!(items.items.len(), 1);
        assert_eq!(items.digest, crate::config::seed::digest(seed));
    }

    #[test]
    fn seed_errors_are_located_at_the_seed_key() {
        let seed = r#"[{"Artist": {"S": "A"}}, {"Artist": {"N": "1"}, "Song": {"S": "x"}}]"#;
        let (_dir, cfg) = with_seed(Some(seed));
        let e = load_file(&cfg).unwrap_err().diagnostics;
        assert_eq!(e.len(), 2, "{e:?}");
        let text = e.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let file = cfg.parent().unwrap().join("data/music.json");
        assert_eq!(
            text[0],
            format!(
                "{}:6:1: tables.music.seed: seed file {}: item [0]: key attribute `Song` (S) \
                 is missing",
                cfg.display(),
                file.display()
            )
        );
        assert!(
            text[1].contains("item [1]: key attribute `Artist` must be of type S"),
            "{text:?}"
        );
    }

    #[test]
    fn unreadable_seed_file_is_a_config_error() {
        let (_dir, cfg) = with_seed(None);
        let e = load_file(&cfg).unwrap_err().diagnostics;
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!((e[0].line, e[0].col), (6, 1));
        assert_eq!(e[0].key, "tables.music.seed");
        assert!(e[0].message.starts_with("cannot read seed file "), "{e:?}");
        assert!(e[0].message.contains("data/music.json"), "{e:?}");
    }

    #[test]
    fn seed_errors_come_with_the_other_problems() {
        let (_dir, cfg) = with_seed(Some("[{"));
        let text = std::fs::read_to_string(&cfg).unwrap() + "colour = 1\n";
        let e = load_str(&text, &cfg).unwrap_err().diagnostics;
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.contains("not valid JSON at line 1:"), "{e:?}");
        assert_eq!(e[1].key, "tables.music.colour");
    }
}
