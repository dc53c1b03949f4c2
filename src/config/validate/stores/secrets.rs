//! `[secrets.<key>]`: generated or existing Secrets Manager secrets.

use std::collections::BTreeMap;

use super::store_path;
use crate::config::diagnostic::KeyPath;
use crate::config::model::{Secret, StoreKind};
use crate::config::validate::names::check_regional_arn;
use crate::config::validate::Validator;

/// Secrets Manager's punctuation for generated passwords.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

fn is_secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// Ends with a hyphen and six letters or digits: Secrets Manager appends `-` and six random
/// letters and digits to a secret's ARN, so such a name is ambiguous in partial ARNs.
pub(super) fn has_arn_like_suffix(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    n >= 7 && chars[n - 7] == '-' && chars[n - 6..].iter().all(char::is_ascii_alphanumeric)
}

pub(super) fn secret_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 512 {
        Some(format!("it is {len} characters long, the maximum is 512"))
    } else {
        name.chars()
            .find(|c| !is_secret_name_char(*c))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

impl Validator<'_> {
    pub(super) fn secret<'k>(
        &mut self,
        key: &'k str,
        s: &Secret,
        key_ok: bool,
        names: &mut BTreeMap<String, &'k str>,
    ) {
        let c = self.c;
        let sp = store_path(StoreKind::Secret, key);
        match (&s.generate, &s.existing) {
            (None, None) => self.err(
                sp.clone(),
                "a secret needs `generate` (ecsdeploy creates it with a random value) or \
                 `existing` (the name or ARN of a secret that exists); set one of them",
            ),
            (Some(_), Some(_)) => self.err(
                sp.key("existing"),
                "`generate` and `existing` are mutually exclusive: ecsdeploy either creates the \
                 secret or uses an existing one; remove one of them",
            ),
            _ => {}
        }
        if let Some(d) = &s.description {
            let len = d.chars().count();
            if s.existing.is_some() && s.generate.is_none() {
                self.err(
                    sp.key("description"),
                    "description only applies to a generated secret; ecsdeploy does not modify \
                     an existing one, so remove description",
                );
            } else if len > 2048 {
                self.err(
                    sp.key("description"),
                    format!("description is {len} characters long; the limit is 2048"),
                );
            }
        }
        if let Some(existing) = &s.existing {
            let xp = sp.key("existing");
            if s.name.is_some() && s.generate.is_none() {
                self.err(
                    sp.key("name"),
                    "name only applies to a generated secret; an existing secret is named by \
                     `existing` (its name or ARN), so remove name",
                );
            }
            if existing.trim().is_empty() {
                self.err(
                    xp,
                    "existing is empty; give the name (`prod/api-key`) or the ARN of the secret",
                );
            } else if existing.starts_with("arn:") {
                if let Err(m) = check_regional_arn(
                    existing,
                    "a Secrets Manager secret ARN",
                    "secretsmanager",
                    "secret:",
                    "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/api-key-AbCdEf",
                ) {
                    self.err(xp, m);
                }
            } else if let Some(reason) = secret_name_problem(existing) {
                self.err(
                    xp,
                    format!(
                        "`{existing}` is neither a secret ARN nor a secret name ({reason}); names \
                         are 1 to 512 letters, digits and `/_+=.@-`"
                    ),
                );
            }
        }
        if let Some(g) = &s.generate {
            let gp = sp.key("generate");
            let explicit = s.name.is_some();
            let name = c.secret_name(key);
            let name_path = sp.key_if(explicit, "name");
            if explicit || (self.app_ok && key_ok) {
                if let Some(reason) = secret_name_problem(&name) {
                    self.err(
                        name_path.clone(),
                        format!(
                            "`{name}` is not a valid secret name ({reason}); names are 1 to 512 \
                             letters, digits and `/_+=.@-`"
                        ),
                    );
                }
            }
            if let Some(db) = c.databases.keys().find(|db| c.db_password_name(db) == name) {
                self.err(
                    name_path.clone(),
                    format!(
                        "secret name `{name}` is the name of the secret that holds \
                         databases.{db}'s master password; give this secret another name"
                    ),
                );
            }
            self.unique(names, name, key, name_path, |name, prev| {
                format!(
                    "secret name `{name}` is also the name of secrets.{prev}; every \
                     generated secret needs its own name"
                )
            });
            if !(1..=4096).contains(&g.length) {
                self.err(
                    gp.key("length"),
                    format!("length is {}; it must be 1 to 4096", g.length),
                );
            }
            self.generated_chars(&gp, g);
        }
    }

    /// The character classes a generated secret may draw from: at least one, and each of
    /// them possible when every one is required.
    fn generated_chars(&mut self, gp: &KeyPath, g: &crate::config::model::Generate) {
        let excluded = |c: char| g.exclude_characters.contains(c);
        let classes: [(&str, &str, bool, String); 5] = [
            (
                "lowercase letters",
                "exclude_lowercase",
                !g.exclude_lowercase,
                ('a'..='z').collect(),
            ),
            (
                "uppercase letters",
                "exclude_uppercase",
                !g.exclude_uppercase,
                ('A'..='Z').collect(),
            ),
            (
                "digits",
                "exclude_numbers",
                !g.exclude_numbers,
                ('0'..='9').collect(),
            ),
            (
                "punctuation",
                "exclude_punctuation",
                !g.exclude_punctuation,
                PUNCTUATION.to_string(),
            ),
            ("spaces", "include_space", g.include_space, " ".to_string()),
        ];
        let included: Vec<&(&str, &str, bool, String)> =
            classes.iter().filter(|(_, _, on, _)| *on).collect();
        let usable: Vec<&&(&str, &str, bool, String)> = included
            .iter()
            .filter(|(_, _, _, chars)| chars.chars().any(|c| !excluded(c)))
            .collect();
        if usable.is_empty() {
            self.err(
                gp.clone(),
                "every character is excluded, so no value can be generated; turn one of \
                 exclude_lowercase, exclude_uppercase, exclude_numbers, exclude_punctuation off \
                 or shorten exclude_characters",
            );
            return;
        }
        if !g.require_each_included_type {
            return;
        }
        for (what, _, _, _) in included
            .iter()
            .filter(|x| !usable.iter().any(|u| **u == **x))
        {
            self.err(
                gp.key("exclude_characters"),
                format!(
                    "exclude_characters removes all {what}, but require_each_included_type asks \
                     for at least one of them; exclude that class with its exclude_* switch \
                     instead"
                ),
            );
        }
        if (1..=4096).contains(&g.length) && (g.length as usize) < included.len() {
            self.err(
                gp.key("length"),
                format!(
                    "length is {}, too short to hold one character of each of the {} included \
                     types (require_each_included_type); make it at least {}",
                    g.length,
                    included.len(),
                    included.len()
                ),
            );
        }
    }
}
