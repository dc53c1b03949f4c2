//! The parsed document into the serde model, with every type error at once. serde stops
//! at the first error; here each error's key is taken out of the document and the rest is
//! read again, so `cpu = "256"` is reported together with the file's other type errors
//! and, when the key was optional, with every validation problem of the rest. Each error
//! names its key path.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{KeyPath, Problem, Seg};
use super::model::Config;

/// At most this many type errors are collected (each costs one more read of the file).
const MAX_ERRORS: usize = 50;

/// The outcome of reading the document into the model.
pub struct Typed {
    /// The config without the keys that had type errors; `None` when a required key had
    /// one (the model cannot be built without it).
    pub config: Option<Config>,
    /// One problem per type error, located and with its key path.
    pub errors: Vec<Problem>,
    /// Keys serde did not know (serde_ignored's dotted paths) in the last read.
    pub unknown: Vec<String>,
    /// The keys taken out: validation problems about them (their defaults) are moot.
    pub removed: Vec<KeyPath>,
}

pub fn read(doc: &Spanned<DeTable<'_>>) -> Typed {
    let mut doc = doc.clone();
    let mut errors: Vec<Problem> = Vec::new();
    let mut removed: Vec<KeyPath> = Vec::new();
    loop {
        let mut unknown = Vec::new();
        let de = toml::de::Deserializer::from(doc.clone());
        let parsed: Result<Config, toml::de::Error> =
            serde_ignored::deserialize(de, |p| unknown.push(p.to_string()));
        let e = match parsed {
            Ok(config) => {
                return Typed {
                    config: Some(config),
                    errors,
                    unknown,
                    removed,
                }
            }
            Err(e) => e,
        };
        let message = first_line(e.message());
        let span = e.span();
        let path = span.clone().map(|s| path_at(&doc, &s)).unwrap_or_default();
        // A key taken out because of its type was required: what is wrong is said already,
        // and the table that needs it goes too (its problems would be about a default).
        let missing = missing_field(&message);
        let was_removed = missing.is_some_and(|field| removed.contains(&path.key(field)));
        if missing.is_some() && !was_removed {
            errors.push(Problem {
                path,
                message,
                span,
            });
            return Typed {
                config: None,
                errors,
                unknown,
                removed,
            };
        }
        if !was_removed {
            errors.push(Problem {
                path: path.clone(),
                message,
                span,
            });
        }
        let last_key = path.0.iter().rposition(|s| matches!(s, Seg::Key(_)));
        let target = last_key.map(|i| KeyPath(path.0[..=i].to_vec()));
        match target {
            Some(t) if errors.len() < MAX_ERRORS && remove(doc.get_mut(), &t.0) => removed.push(t),
            _ => {
                return Typed {
                    config: None,
                    errors,
                    unknown,
                    removed,
                }
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").to_string()
}

/// `missing field `image`` → `image`.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

/// The key path of the deepest value in `doc` whose span holds `span`. Searched through
/// the whole tree: the span of a table written as `[header]` sections need not hold its
/// keys' spans.
pub fn path_at(doc: &Spanned<DeTable>, span: &Range<usize>) -> KeyPath {
    let mut best = KeyPath::root();
    search(doc.get_ref(), span, &KeyPath::root(), &mut best);
    best
}

fn search(t: &DeTable, span: &Range<usize>, path: &KeyPath, best: &mut KeyPath) {
    for (k, v) in t {
        visit(v, span, &path.key(k.get_ref().as_ref()), best);
    }
}

fn visit(v: &Spanned<DeValue>, span: &Range<usize>, path: &KeyPath, best: &mut KeyPath) {
    let s = v.span();
    if s.start <= span.start && span.end <= s.end && path.0.len() > best.0.len() {
        *best = path.clone();
    }
    match v.get_ref() {
        DeValue::Table(t) => search(t, span, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visit(item, span, &path.index(i), best);
            }
        }
        _ => {}
    }
}

/// Takes the key at `path` (keys and array indexes) out of `t`; false when it is not there.
fn remove(t: &mut DeTable, path: &[Seg]) -> bool {
    let Some((Seg::Key(first), rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return t.remove(first.as_str()).is_some();
    }
    let Some(v) = t.get_mut(first.as_str()) else {
        return false;
    };
    remove_in(v.get_mut(), rest)
}

fn remove_in(v: &mut DeValue, path: &[Seg]) -> bool {
    match (v, path.first()) {
        (DeValue::Table(t), Some(Seg::Key(_))) => remove(t, path),
        (DeValue::Array(items), Some(Seg::Index(i))) => items
            .get_mut(*i)
            .is_some_and(|item| remove_in(item.get_mut(), &path[1..])),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Typed {
        let (doc, errors) = DeTable::parse_recoverable(text);
        assert!(errors.is_empty(), "{errors:?}");
        read(&doc)
    }

    #[test]
    fn every_type_error_with_its_key_path_and_the_rest_of_the_config() {
        let t = typed(
            "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = \"256\"\n\
             [services.api]\nimage = \"nginx\"\ndesired_count = \"two\"\n\
             ingress = [{ port = 80, cidrs = [] }, { port = \"http\", cidrs = [] }]\n",
        );
        let paths: Vec<String> = t.errors.iter().map(|p| p.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "services.api.desired_count",
                "services.api.ingress[1].port",
                "services.web.cpu"
            ]
        );
        let c = t.config.expect("the rest is read");
        assert_eq!(c.services["web"].cpu, 256, "cpu was read as unset");
        // `port` is required in an ingress rule: the list that needs it was taken out too.
        assert!(c.services["api"].ingress.is_empty());
        let removed: Vec<String> = t.removed.iter().map(ToString::to_string).collect();
        assert!(
            removed.contains(&"services.api.ingress".to_string()),
            "{removed:?}"
        );
        assert!(t.errors.iter().all(|p| p.span.is_some()));
    }

    #[test]
    fn a_required_key_with_a_type_error_is_reported_once() {
        let t = typed("app = 5\n[services.web]\nimage = \"nginx\"\n");
        assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
        assert_eq!(t.errors[0].path.to_string(), "app");
        assert!(t.config.is_none());
    }

    #[test]
    fn a_missing_key_is_reported_at_its_table() {
        let t = typed("[services.web]\nimage = \"nginx\"\n");
        assert_eq!(t.errors.len(), 1, "{:?}", t.errors);
        assert!(t.errors[0].message.contains("missing field `app`"));
    }
}
