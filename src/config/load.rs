//! Reading a config file: TOML syntax, serde types, unknown keys and validation, every
//! problem reported with `file:line:col` and the key, all at once, before any AWS call.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{Diagnostic, KeyPath, Problem, Seg};
use super::environments;
use super::model::{Config, Image, Repository, RepositoryImage, TagMutability};
use super::native::place as native_place;
use super::typed;
use super::validate;
use super::variables::{self, Lookup};

/// Every problem of one config file. Exit code 2.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A config that parsed and validated, with warnings that did not stop it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
    pub warnings: Vec<Diagnostic>,
}

/// How to read a config: for which environment, with which variables.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// `[environments.<name>]` to apply (`--env`), or the base config.
    pub environment: Option<&'a str>,
    /// Where `${NAME}` comes from.
    pub variables: Lookup<'a>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            environment: None,
            variables: &variables::from_process,
        }
    }
}

/// Read and validate `path` (the base config, variables from the process environment).
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    load_file_with(path, Options::default())
}

/// Read and validate `path`. An unreadable file is a config error too (exit 2).
pub fn load_file_with(path: &Path, options: Options) -> Result<Loaded, ConfigErrors> {
    load_str_with(&read(path)?, path, options)
}

fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| ConfigErrors {
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: 1,
            col: 1,
            key: String::new(),
            message: format!("cannot read config file: {e}"),
        }],
    })
}

/// `validate`: the base config and every environment it defines (or only `environment`,
/// when one is chosen), each problem reported once.
pub fn load_all(path: &Path, options: Options) -> Result<Vec<Loaded>, ConfigErrors> {
    let text = read(path)?;
    let mut names: Vec<Option<String>> = match options.environment {
        Some(e) => vec![Some(e.to_string())],
        None => vec![None],
    };
    if options.environment.is_none() {
        let (doc, _) = DeTable::parse_recoverable(&text);
        names.extend(environments::names(&doc).into_iter().map(Some));
    }
    let mut loaded = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for name in &names {
        let one = Options {
            environment: name.as_deref(),
            ..options
        };
        match load_str_with(&text, path, one) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                for d in e.diagnostics {
                    if !diagnostics.contains(&d) {
                        diagnostics.push(d);
                    }
                }
            }
        }
    }
    if diagnostics.is_empty() {
        Ok(loaded)
    } else {
        diagnostics.sort_by_key(|d| (d.line, d.col));
        Err(ConfigErrors { diagnostics })
    }
}

/// Parse and validate the base config's text (variables from the process environment);
/// `path` is used only in messages.
pub fn load_str(text: &str, path: &Path) -> Result<Loaded, ConfigErrors> {
    load_str_with(text, path, Options::default())
}

/// Parse and validate config text for `options`; `path` is used only in messages.
pub fn load_str_with(text: &str, path: &Path, options: Options) -> Result<Loaded, ConfigErrors> {
    let loc = Locator::new(text, path);
    let (mut doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let diagnostics = syntax
            .iter()
            .map(|e| loc.at_span(e.span(), String::new(), first_line(e.message())))
            .collect();
        return Err(ConfigErrors { diagnostics });
    }

    let shape: Vec<Diagnostic> = super::shape::arrays_for_tables(&doc)
        .into_iter()
        .map(|(key, span)| {
            loc.at_span(
                Some(span),
                key.clone(),
                format!("invalid type: sequence, expected a table (`{key}` is a table of settings, not an array)"),
            )
        })
        .collect();
    if !shape.is_empty() {
        let mut diagnostics = shape;
        diagnostics.sort_by_key(|d| (d.line, d.col));
        return Err(ConfigErrors { diagnostics });
    }

    // The environment first (its values are written like the base's), then the variables
    // of the result; their problems come with every other one.
    let mut early = environments::check(&doc);
    if let Some(name) = options.environment {
        early.extend(
            environments::apply(&mut doc, name)
                .err()
                .into_iter()
                .flatten(),
        );
    }
    let unset = variables::expand(&mut doc, options.variables);
    let early_diags = |loc: &Locator, doc: &Spanned<DeTable>| -> Vec<Diagnostic> {
        early
            .iter()
            .chain(&unset)
            .map(|p| loc.locate(doc, p))
            .collect()
    };

    let typed = typed::read(&doc);
    let unknown = typed.unknown;
    let type_errors: Vec<Diagnostic> = typed.errors.iter().map(|p| loc.locate(&doc, p)).collect();
    let Some(mut config) = typed.config else {
        let mut diags = type_errors;
        diags.extend(unknown_diags(&loc, &doc, &unknown));
        diags.extend(early_diags(&loc, &doc));
        diags.sort_by_key(|d| (d.line, d.col));
        return Err(ConfigErrors { diagnostics: diags });
    };
    config.environment = options.environment.map(str::to_string);

    implicit_repositories(&mut config);
    let (mut problems, native_warnings) = read_task_definitions(&mut config, path, &doc);
    problems.extend(validate::validate(&config));
    problems.extend(read_seeds(&mut config, path));
    problems.extend(check_builds(&mut config, path));
    let warnings: Vec<Diagnostic> = validate::warnings(&config)
        .into_iter()
        .chain(native_warnings)
        .map(|p| loc.locate(&doc, &p))
        .collect();
    let mut diags = unknown_diags(&loc, &doc, &unknown);
    // A value whose variable is not set, or an app name an environment made too long, is
    // reported as that, not as the invalid value it would otherwise be.
    problems.retain(|p| !unset.iter().chain(&early).any(|u| u.path == p.path));
    // A key with a type error was read as absent: what validation says of its default is
    // beside the point.
    problems.retain(|p| !typed.removed.iter().any(|r| about_removed(p, r)));
    let written = |key: &str, field: &str| {
        let at = KeyPath::root().key("services").key(key).key(field);
        find_span(&doc, &at.0) != find_span(&doc, &at.0[..2])
    };
    diags.extend(native_place::relocate(
        &config,
        path,
        &written,
        &mut problems,
    ));
    diags.extend(problems.drain(..).map(|p| loc.locate(&doc, &p)));
    diags.extend(early_diags(&loc, &doc));
    diags.extend(type_errors);
    if !diags.is_empty() {
        diags.sort_by_key(|d| (d.line, d.col));
        return Err(ConfigErrors { diagnostics: diags });
    }
    Ok(Loaded {
        config,
        path: path.to_path_buf(),
        warnings,
    })
}

/// Read and check the seed file of every table that has one (relative to the config file's
/// directory), storing the items in the table's `seed_items`; problems are located at the
/// table's `seed` key.
fn read_seeds(config: &mut Config, path: &Path) -> Vec<Problem> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for (key, t) in config.tables.iter_mut() {
        let Some(file) = &t.seed else { continue };
        let at = || KeyPath::root().key("tables").key(key.as_str()).key("seed");
        let full = dir.join(file);
        let text = match std::fs::read_to_string(&full) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Problem::at(
                    at(),
                    format!("cannot read seed file {}: {e}", full.display()),
                ));
                continue;
            }
        };
        match super::seed::parse_seed(&text, &t.hash_key, t.range_key.as_ref()) {
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

/// A service that builds its image without naming a repository pushes to the repository
/// keyed like the service, declared with default settings when the config has none.
fn implicit_repositories(config: &mut Config) {
    for (key, s) in config.services.iter_mut() {
        let Some(Image::Repository(ri)) = &mut s.image else {
            continue;
        };
        if ri.repository.is_none() && ri.build.is_some() {
            ri.repository = Some(key.clone());
            config
                .repositories
                .entry(key.clone())
                .or_insert_with(|| Repository {
                    name: None,
                    scan_on_push: true,
                    tag_mutability: TagMutability::Mutable,
                    keep_images: super::model::DEFAULT_KEEP_IMAGES,
                });
        }
    }
}

/// Resolve each `image.build` context (relative to the config file's directory) and its
/// Dockerfile (relative to the context), and check both exist.
fn check_builds(config: &mut Config, path: &Path) -> Vec<Problem> {
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
fn read_task_definitions(
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
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem::at(
                    at(),
                    format!("cannot read task-definition file {}: {e}", full.display()),
                ));
                continue;
            }
        };
        let parsed = super::native::parse(&text);
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
                super::model::CpuArchitecture::Arm64
            } else {
                super::model::CpuArchitecture::X86_64
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
fn gmsa_needs_a_role(def: &super::native::NativeTaskDef) -> Option<String> {
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

/// True when validation problem `p` is about key `removed`, which had a type error and was
/// read as absent: it is under it, or at its table and names it (`missing `image``).
fn about_removed(p: &Problem, removed: &KeyPath) -> bool {
    if p.path.0.starts_with(&removed.0) {
        return true;
    }
    match removed.0.split_last() {
        Some((Seg::Key(k), parent)) => p.path.0 == parent && p.message.contains(&format!("`{k}`")),
        _ => false,
    }
}

fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").to_string()
}

fn unknown_diags(loc: &Locator, doc: &Spanned<DeTable>, unknown: &[String]) -> Vec<Diagnostic> {
    unknown
        .iter()
        .map(|dotted| {
            let path = parse_ignored_path(dotted);
            let key = path.to_string();
            let name = match path.0.last() {
                Some(Seg::Key(k)) => k.clone(),
                _ => key.clone(),
            };
            loc.locate(
                doc,
                &Problem::at(
                    path,
                    format!("unknown key `{name}`; see docs/configuration.md"),
                ),
            )
        })
        .collect()
}

/// serde_ignored prints paths as `services.web.ports.1`: turn numeric segments into indexes.
fn parse_ignored_path(s: &str) -> KeyPath {
    KeyPath(
        s.split('.')
            // `?` stands for the inside of an `Option` (`services.web.image.?.tagg`).
            .filter(|seg| *seg != "?")
            .map(|seg| match seg.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(seg.to_string()),
            })
            .collect(),
    )
}

/// Maps byte offsets and key paths to line:col.
struct Locator<'a> {
    text: &'a str,
    file: PathBuf,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str, file: &Path) -> Self {
        Locator {
            text,
            file: file.to_path_buf(),
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn at_span(&self, span: Option<Range<usize>>, key: String, message: String) -> Diagnostic {
        let (line, col) = self.line_col(span.map_or(0, |s| s.start));
        Diagnostic {
            file: self.file.clone(),
            line,
            col,
            key,
            message,
        }
    }

    /// Locate a problem: its explicit span if it has one, else the deepest part of its key
    /// path present in the document (the key itself, or the table a missing key belongs to).
    fn locate(&self, doc: &Spanned<DeTable>, p: &Problem) -> Diagnostic {
        let span = p.span.clone().unwrap_or_else(|| find_span(doc, &p.path.0));
        self.at_span(Some(span), p.path.to_string(), p.message.clone())
    }
}

fn find_span(doc: &Spanned<DeTable>, path: &[Seg]) -> Range<usize> {
    let mut best = doc.span();
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    let mut array: Option<&toml::de::DeArray> = None;
    for seg in path {
        let next: Option<&Spanned<DeValue>> = match seg {
            Seg::Key(k) => table.and_then(|t| {
                t.iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                    .map(|(key, v)| {
                        best = key.span();
                        v
                    })
            }),
            Seg::Index(i) => array.and_then(|a| a.get(*i)).inspect(|v| {
                best = v.span();
            }),
        };
        let Some(v) = next else { break };
        table = None;
        array = None;
        match v.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(text: &str) -> Vec<String> {
        match load_str(text, Path::new("t.toml")) {
            Ok(_) => vec![],
            Err(e) => e.diagnostics.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn syntax_error_has_line_and_col() {
        let e = errs("app = \"x\"\n[network\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("t.toml:2:"), "{e:?}");
    }

    #[test]
    fn type_error_has_location() {
        let e = errs("app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = \"lots\"\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("t.toml:4:"), "{e:?}");
    }

    #[test]
    fn all_unknown_keys_reported_at_once() {
        let e = errs(
            "app = \"demo\"\ncolour = 1\n[network]\nvpc_cidr = \"10.0.0.0/16\"\nazz = 3\n\
             [services.web]\nimage = { repository = \"r\", tagg = \"x\" }\n[repositories.r]\n",
        );
        let joined = e.join("\n");
        assert!(
            joined.contains("t.toml:2:1: colour: unknown key `colour`"),
            "{joined}"
        );
        assert!(
            joined.contains("t.toml:5:1: network.azz: unknown key `azz`"),
            "{joined}"
        );
        assert!(joined.contains("services.web.image.tagg"), "{joined}");
    }

    #[test]
    fn missing_required_key_points_at_table() {
        let e = errs("app = \"demo\"\n[services.web]\ncpu = 256\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("image"), "{e:?}");
    }

    #[test]
    fn path_display() {
        let p = KeyPath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(2);
        assert_eq!(p.to_string(), "services.web.ports[2]");
    }

    #[test]
    fn locates_nested_array_items() {
        let text = "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80, 80]\n";
        let (doc, _) = DeTable::parse_recoverable(text);
        let path = KeyPath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(1);
        let span = find_span(&doc, &path.0);
        assert_eq!(&text[span], "80");
    }

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
        assert_eq!(items.digest, super::super::seed::digest(seed));
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
