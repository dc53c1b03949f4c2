//! Reading a config file: TOML syntax, serde types, unknown keys and validation, every
//! problem reported with `file:line:col` and the key, all at once, before any AWS call.
//! The files a config names are read in `files.rs`; `locate.rs` turns key paths and byte
//! offsets into `file:line:col`.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::de::DeTable;
use toml::Spanned;

mod files;
mod locate;

use super::diagnostic::{Diagnostic, KeyPath, Problem, Seg};
use super::environments;
use super::model::{Config, Image, Repository, TagMutability};
use super::native::place as native_place;
use super::typed;
use super::validate;
use super::variables::{self, Lookup};
use files::{check_builds, read_seeds, read_task_definitions};
use locate::{find_span, first_line, unknown_diags, Locator};

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
}
