//! `[environments.<name>]`: one config for staging and production. An environment's table
//! overrides keys of the base config — tables merge, arrays and scalars replace — and the
//! environment is its own app (`<app>-<name>` unless it sets `app`), so that two
//! environments never share a resource, an ownership tag or a run lock. This works on the
//! parsed document, before serde, so that every value keeps the place it was written: a
//! problem in an override is reported at its line in the override.

use std::borrow::Cow;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{KeyPath, Problem};

/// The top-level key of the environments.
pub const KEY: &str = "environments";

/// Longest environment name: it becomes part of the app name.
const MAX_NAME: usize = 16;

/// Longest app name (`validate/app.rs` says why).
const MAX_APP: usize = 20;

/// The environments `doc` defines, in file order (names only; a malformed `environments`
/// is reported by serde).
pub fn names(doc: &Spanned<DeTable>) -> Vec<String> {
    match doc.get_ref().get(KEY).map(Spanned::get_ref) {
        Some(DeValue::Table(t)) => t.keys().map(|k| k.get_ref().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Problems with the environments' names and shape, located at the name.
pub fn check(doc: &Spanned<DeTable>) -> Vec<Problem> {
    let Some(DeValue::Table(envs)) = doc.get_ref().get(KEY).map(Spanned::get_ref) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (name, value) in envs {
        let path = KeyPath::root().key(KEY).key(name.get_ref().as_ref());
        if let Some(reason) = name_problem(name.get_ref()) {
            problems.push(Problem {
                path: path.clone(),
                message: format!(
                    "environment name `{}` is invalid: {reason}; it becomes part of the app \
                     name, so it is 1 to {MAX_NAME} lowercase letters, digits and `-`, \
                     starting with a letter",
                    name.get_ref()
                ),
                span: Some(name.span()),
            });
        }
        if let DeValue::Table(t) = value.get_ref() {
            if let Some((k, _)) = t.get_key_value(KEY) {
                problems.push(Problem {
                    path: path.key(KEY),
                    message: "an environment cannot define environments; move them to the \
                              top level"
                        .into(),
                    span: Some(k.span()),
                });
            }
        }
    }
    problems
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Some(format!("it is {} characters long", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("it contains `{c}`"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("it does not start with a letter".into());
    }
    None
}

/// Applies environment `name` to `doc`: its keys override the base's, and the app becomes
/// `<app>-<name>` unless the environment sets `app` itself. An environment the config does
/// not define is a problem that lists the ones it does.
pub fn apply(doc: &mut Spanned<DeTable<'_>>, name: &str) -> Result<(), Vec<Problem>> {
    let span = doc.get_ref().get(KEY).map(Spanned::span);
    let over = match doc.get_ref().get(KEY).map(Spanned::get_ref) {
        Some(DeValue::Table(envs)) => envs.get(name).cloned(),
        _ => None,
    };
    let Some(over) = over else {
        let known = names(doc);
        let listed = if known.is_empty() {
            "it defines none (add an [environments.<name>] table)".to_string()
        } else {
            format!("it defines {}", known.join(", "))
        };
        return Err(vec![Problem {
            path: KeyPath::root().key(KEY),
            message: format!("no environment `{name}` in the config; {listed}"),
            span: span.or(Some(0..0)),
        }]);
    };
    let DeValue::Table(over) = over.into_inner() else {
        // serde reports the type.
        return Ok(());
    };
    let sets_app = over.contains_key("app");
    let mut overridden = Vec::new();
    merge(doc.get_mut(), over, &KeyPath::root(), &mut overridden);
    let shared = shared_names(doc.get_ref(), &overridden, name);
    if !shared.is_empty() {
        return Err(shared);
    }
    if !sets_app {
        if let Some(app) = doc.get_mut().get_mut("app") {
            let span = app.span();
            if let DeValue::String(s) = app.get_mut() {
                let named = format!("{s}-{name}");
                if named.len() > MAX_APP {
                    return Err(vec![Problem {
                        path: KeyPath::root().key("app"),
                        message: format!(
                            "environment `{name}` is the app `{named}`, which is {} characters \
                             long; app names are at most {MAX_APP}, so set a shorter `app` \
                             under [{KEY}.{name}]",
                            named.len()
                        ),
                        span: Some(span),
                    }]);
                }
                *s = Cow::Owned(named);
            }
        }
    }
    Ok(())
}

/// Keys that give a resource an explicit AWS name (`*` for any table key). Two
/// environments are two apps, and an app owns what it names: a name inherited unchanged
/// from the base would make the second environment meet the first one's resource.
const NAMING_KEYS: &[&[&str]] = &[
    &["cluster", "name"],
    &["logs", "group"],
    &["load_balancer", "name"],
    &["repositories", "*", "name"],
    &["services", "*", "target_group", "name"],
    &["tables", "*", "name"],
    &["databases", "*", "identifier"],
    &["secrets", "*", "name"],
];

/// A problem for each explicit name the environment inherits from the base.
fn shared_names(doc: &DeTable, overridden: &[KeyPath], env: &str) -> Vec<Problem> {
    let mut found = Vec::new();
    for pattern in NAMING_KEYS {
        named(doc, pattern, KeyPath::root(), &mut found);
    }
    found
        .into_iter()
        .filter(|(path, _)| !overridden.contains(path))
        .map(|(path, span)| Problem {
            message: format!(
                "`{path}` names an AWS resource, and environment `{env}` inherits the name \
                 from the base config; environments are separate apps and cannot share a \
                 resource, so give it its own name under [{KEY}.{env}]"
            ),
            path,
            span: Some(span),
        })
        .collect()
}

/// The places in `t` that match `pattern`, with the span of each key.
fn named(
    t: &DeTable,
    pattern: &[&str],
    path: KeyPath,
    out: &mut Vec<(KeyPath, std::ops::Range<usize>)>,
) {
    let Some((first, rest)) = pattern.split_first() else {
        return;
    };
    for (k, v) in t {
        let key = k.get_ref().as_ref();
        if *first != "*" && *first != key {
            continue;
        }
        let here = path.key(key);
        match (rest.is_empty(), v.get_ref()) {
            (true, _) => out.push((here, k.span())),
            (false, DeValue::Table(inner)) => named(inner, rest, here, out),
            _ => {}
        }
    }
}

/// `over` on top of `base`: tables merge key by key, anything else replaces. A replaced
/// key takes the override's place in the file, so that problems point at the override;
/// its path goes into `overridden`.
fn merge<'i>(
    base: &mut DeTable<'i>,
    over: DeTable<'i>,
    path: &KeyPath,
    overridden: &mut Vec<KeyPath>,
) {
    for (key, value) in over {
        let both_tables = matches!(value.get_ref(), DeValue::Table(_))
            && matches!(
                base.get(key.get_ref().as_ref()).map(Spanned::get_ref),
                Some(DeValue::Table(_))
            );
        if both_tables {
            let DeValue::Table(o) = value.into_inner() else {
                unreachable!("checked above")
            };
            let here = path.key(key.get_ref().as_ref());
            if let Some(DeValue::Table(b)) =
                base.get_mut(key.get_ref().as_ref()).map(Spanned::get_mut)
            {
                merge(b, o, &here, overridden);
            }
        } else {
            overridden.push(path.key(key.get_ref().as_ref()));
            base.remove(key.get_ref().as_ref());
            base.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Spanned<DeTable<'_>> {
        let (doc, errors) = DeTable::parse_recoverable(text);
        assert!(errors.is_empty(), "{errors:?}");
        doc
    }

    fn get<'a>(doc: &'a Spanned<DeTable>, path: &[&str]) -> Option<&'a DeValue<'a>> {
        let mut v: &DeValue = doc.get_ref().get(path[0]).map(Spanned::get_ref)?;
        for k in &path[1..] {
            let DeValue::Table(t) = v else { return None };
            v = t.get(*k).map(Spanned::get_ref)?;
        }
        Some(v)
    }

    fn string(v: Option<&DeValue>) -> Option<String> {
        match v {
            Some(DeValue::String(s)) => Some(s.to_string()),
            _ => None,
        }
    }

    const BASE: &str = r#"
app = "shop"
[services.web]
image = "nginx"
desired_count = 1
environment = { A = "1", B = "2" }
ports = [80]
[environments.production.services.web]
desired_count = 4
environment = { B = "prod" }
ports = [8080, 9090]
[environments.staging]
app = "shop-test"
"#;

    #[test]
    fn tables_merge_and_the_rest_replaces() {
        let mut d = doc(BASE);
        apply(&mut d, "production").unwrap();
        assert_eq!(
            string(get(&d, &["app"])).as_deref(),
            Some("shop-production")
        );
        let web = ["services", "web"];
        assert_eq!(
            string(get(&d, &[web[0], web[1], "image"])).as_deref(),
            Some("nginx")
        );
        assert!(matches!(
            get(&d, &[web[0], web[1], "desired_count"]),
            Some(DeValue::Integer(i)) if i.as_str() == "4"
        ));
        assert_eq!(
            string(get(&d, &[web[0], web[1], "environment", "A"])).as_deref(),
            Some("1")
        );
        assert_eq!(
            string(get(&d, &[web[0], web[1], "environment", "B"])).as_deref(),
            Some("prod")
        );
        let Some(DeValue::Array(ports)) = get(&d, &[web[0], web[1], "ports"]) else {
            panic!("ports")
        };
        assert_eq!(ports.len(), 2, "an array replaces, it does not append");
    }

    #[test]
    fn an_override_keeps_its_place_in_the_file() {
        let mut d = doc(BASE);
        apply(&mut d, "production").unwrap();
        let DeValue::Table(web) = get(&d, &["services", "web"]).unwrap() else {
            panic!()
        };
        let (key, _) = web.get_key_value("desired_count").unwrap();
        let at = &BASE[key.span()];
        assert_eq!(at, "desired_count");
        assert!(key.span().start > BASE.find("[environments.production").unwrap());
    }

    #[test]
    fn an_environment_that_sets_app_keeps_it() {
        let mut d = doc(BASE);
        apply(&mut d, "staging").unwrap();
        assert_eq!(string(get(&d, &["app"])).as_deref(), Some("shop-test"));
    }

    #[test]
    fn an_unknown_environment_lists_the_known_ones() {
        let mut d = doc(BASE);
        let e = apply(&mut d, "prod").unwrap_err();
        assert_eq!(
            e[0].message,
            "no environment `prod` in the config; it defines production, staging"
        );
        let mut d = doc("app = \"x\"\n");
        let e = apply(&mut d, "prod").unwrap_err();
        assert!(e[0].message.contains("it defines none"), "{e:?}");
    }

    #[test]
    fn an_explicit_name_must_not_be_inherited() {
        let text = "app = \"a\"\n[tables.orders]\nname = \"orders\"\n\
                    [repositories.web]\nname = \"web\"\n\
                    [environments.p.tables.orders]\nname = \"orders-p\"\n";
        let mut d = doc(text);
        let e = apply(&mut d, "p").unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].path.to_string(), "repositories.web.name");
        assert!(
            e[0].message.contains("inherits the name"),
            "{}",
            e[0].message
        );
        assert_eq!(&text[e[0].span.clone().unwrap()], "name");
        let without = text.replace("[repositories.web]\nname = \"web\"\n", "");
        let mut d = doc(&without);
        apply(&mut d, "p").unwrap();
    }

    #[test]
    fn names_are_checked_where_they_are_written() {
        let text = "app = \"x\"\n[environments.Prod]\n[environments.ok.environments.x]\n";
        let d = doc(text);
        let problems = check(&d);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("it contains `P`"));
        assert_eq!(&text[problems[0].span.clone().unwrap()], "Prod");
        assert_eq!(problems[1].path.to_string(), "environments.ok.environments");
    }
}
