//! `${NAME}` and `${NAME:-default}` in string values, from the process environment (the
//! image tag a CI pipeline passes, an account id, ...); `$${` is a literal `${`. Expanded on
//! the parsed document, before serde and validation, so that validation and `plan` see the
//! values `up` will use, and a variable that is not set is reported where it is written,
//! together with every other problem.

use std::borrow::Cow;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{KeyPath, Problem};
use super::environments;

/// Where variables come from: the process environment in the binary, a map in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (a variable that is not valid Unicode counts as unset).
pub fn from_process(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Expands every string value of `doc` except those under `[environments]` (an
/// environment's values are expanded once it is applied, as part of the base). Returns a
/// problem, at the value, for each variable that is not set and has no default, and for
/// each malformed reference.
pub fn expand(doc: &mut Spanned<DeTable<'_>>, lookup: Lookup) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value) in doc.get_mut().iter_mut() {
        if key.get_ref().as_ref() == environments::KEY {
            continue;
        }
        walk(
            value,
            &KeyPath::root().key(key.get_ref().as_ref()),
            lookup,
            &mut problems,
        );
    }
    problems
}

fn walk(value: &mut Spanned<DeValue<'_>>, path: &KeyPath, lookup: Lookup, out: &mut Vec<Problem>) {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) => match expand_str(s, lookup) {
            Ok(Some(expanded)) => *s = Cow::Owned(expanded),
            Ok(None) => {}
            Err(messages) => out.extend(messages.into_iter().map(|message| Problem {
                path: path.clone(),
                message,
                span: Some(span.clone()),
            })),
        },
        DeValue::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), lookup, out);
            }
        }
        DeValue::Table(t) => {
            for (k, v) in t.iter_mut() {
                walk(v, &path.key(k.get_ref().as_ref()), lookup, out);
            }
        }
        _ => {}
    }
}

/// `s` with its references replaced: `None` when it has none (nothing to copy), or every
/// problem in it.
pub fn expand_str(s: &str, lookup: Lookup) -> Result<Option<String>, Vec<String>> {
    if !s.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut problems = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                problems.push(format!(
                    "`${{` without a closing `}}` in `{s}`; write `$${{` for a literal `${{`"
                ));
                rest = "";
                break;
            };
            let inner = &tail[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !is_name(name) {
                problems.push(format!(
                    "`${{{inner}}}` is not a variable reference: a name is letters, digits and \
                     `_`, not starting with a digit (`${{NAME}}` or `${{NAME:-default}}`); \
                     write `$${{` for a literal `${{`"
                ));
            } else {
                match (lookup(name), default) {
                    (Some(v), _) => out.push_str(&v),
                    (None, Some(d)) => out.push_str(d),
                    (None, None) => problems.push(format!(
                        "environment variable `{name}` is not set; set it, or give a default \
                         with `${{{name}:-default}}`"
                    )),
                }
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(Some(out))
    } else {
        Err(problems)
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("abc123".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn x(s: &str) -> Result<Option<String>, Vec<String>> {
        expand_str(s, &vars)
    }

    #[test]
    fn references_defaults_and_literals() {
        assert_eq!(x("nginx"), Ok(None));
        assert_eq!(x("repo:${TAG}"), Ok(Some("repo:abc123".into())));
        assert_eq!(x("${TAG}-${TAG}"), Ok(Some("abc123-abc123".into())));
        assert_eq!(x("${MISSING:-latest}"), Ok(Some("latest".into())));
        assert_eq!(x("${MISSING:-}"), Ok(Some(String::new())));
        // Set but empty is set (as in POSIX `${X-d}`, not `${X:-d}`): the value wins.
        assert_eq!(x("[${EMPTY:-d}]"), Ok(Some("[]".into())));
        assert_eq!(x("cost $5"), Ok(Some("cost $5".into())));
        assert_eq!(x("$${TAG}"), Ok(Some("${TAG}".into())));
        assert_eq!(x("a$"), Ok(Some("a$".into())));
    }

    #[test]
    fn every_problem_of_a_value_is_reported() {
        let e = x("${A}/${TAG}/${B}").unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(
            e[0].starts_with("environment variable `A` is not set"),
            "{e:?}"
        );
        assert!(e[1].contains("`B`"), "{e:?}");
        let e = x("${1X}").unwrap_err();
        assert!(e[0].contains("is not a variable reference"), "{e:?}");
        let e = x("x${TAG").unwrap_err();
        assert!(e[0].contains("without a closing"), "{e:?}");
    }

    #[test]
    fn the_document_is_expanded_but_not_the_environments() {
        let text = "app = \"a\"\nimage = [\"${TAG}\", \"${NOPE}\"]\n\
                    [environments.p]\nimage = \"${NOPE}\"\n";
        let (mut doc, errors) = DeTable::parse_recoverable(text);
        assert!(errors.is_empty());
        let problems = expand(&mut doc, &vars);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path.to_string(), "image[1]");
        assert_eq!(&text[problems[0].span.clone().unwrap()], "\"${NOPE}\"");
        let Some(DeValue::Array(a)) = doc.get_ref().get("image").map(Spanned::get_ref) else {
            panic!()
        };
        assert!(matches!(a[0].get_ref(), DeValue::String(s) if s == "abc123"));
    }
}
