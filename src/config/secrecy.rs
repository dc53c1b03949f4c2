//! What looks like a secret: environment variable names (`DB_PASSWORD`, `STRIPE_KEY`) and
//! values (an AWS access key id, a URL with a password, a PEM key, a long random token).
//! Validation warns about them; `plan` and `status` never print such a value.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Environment variable names that probably hold a secret.
pub fn looks_secret(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.contains("PASSWORD") || up.contains("SECRET") || up.contains("TOKEN") || up.ends_with("KEY")
}

/// A plain environment value that looks like a credential: what it looks like.
pub fn value_looks_secret(v: &str) -> Option<&'static str> {
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("a PEM private key");
    }
    let b = v.as_bytes();
    if b.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some("an AWS access key id");
    }
    if let Some((_, rest)) = v.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()) {
                return Some("a URL with a password in it");
            }
        }
    }
    // A long token of random-looking characters: all three character classes, frequent
    // switches between them and a high per-character entropy.
    let len = v.chars().count();
    let token = len >= 24
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-.".contains(c));
    if token
        && v.chars().any(|c| c.is_ascii_uppercase())
        && v.chars().any(|c| c.is_ascii_lowercase())
        && v.chars().any(|c| c.is_ascii_digit())
    {
        let class = |c: char| {
            if c.is_ascii_uppercase() {
                0
            } else if c.is_ascii_lowercase() {
                1
            } else if c.is_ascii_digit() {
                2
            } else {
                3
            }
        };
        let chars: Vec<char> = v.chars().collect();
        let switches = chars
            .windows(2)
            .filter(|w| class(w[0]) != class(w[1]))
            .count();
        let mut counts: BTreeMap<char, usize> = BTreeMap::new();
        for c in &chars {
            *counts.entry(*c).or_default() += 1;
        }
        let n = len as f64;
        let entropy: f64 = counts
            .values()
            .map(|&k| {
                let p = k as f64 / n;
                -p * p.log2()
            })
            .sum();
        if switches as f64 >= 0.45 * (n - 1.0) && entropy >= 4.0 {
            return Some("a random token (an API key or a password)");
        }
    }
    None
}

/// `value` as output shows it when the variable `name` or the value itself looks like a
/// secret: a fingerprint (the first 8 hex digits of its SHA-256), enough to see that it
/// changed, nothing that helps to guess it.
pub fn shown_value(name: &str, value: &str) -> Option<String> {
    (looks_secret(name) || value_looks_secret(value).is_some()).then(|| {
        let digest = Sha256::digest(value.as_bytes());
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("(hidden: looks like a secret; sha256 {hex}…)")
    })
}

/// `v` with the value of every `{"name": …, "value": …}` pair (a container's environment
/// variable, as the task definition's fields hold them) hidden when it looks like a secret.
pub fn mask_secrets(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let pair = (m.get("name"), m.get("value"));
            if let (Some(Value::String(name)), Some(Value::String(value))) = pair {
                if let Some(hidden) = shown_value(name, value) {
                    let mut out = m.clone();
                    out.insert("value".into(), Value::String(hidden));
                    return Value::Object(out);
                }
            }
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), mask_secrets(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(mask_secrets).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn value_heuristics() {
        for secret in [
            "Zx8Qp2LmN4vR7tYw1KbC9dFh3JsG6aE5",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "mysql://root:pw@host/db",
        ] {
            assert!(value_looks_secret(secret).is_some(), "{secret}");
        }
        for plain in [
            "ThisIsAVeryLongConfigurationValue1",
            "com.example.MyApplication2024",
            "/usr/local/bin/something-else",
            "550e8400-e29b-41d4-a716-446655440000",
            "redis://cache:6379/0",
            "mysql://root@host/db",
            "arn:aws:sqs:ap-northeast-1:123456789012:jobs",
            "PYTHONDONTWRITEBYTECODE1PLEASE",
        ] {
            assert!(value_looks_secret(plain).is_none(), "{plain}");
        }
    }

    #[test]
    fn names() {
        assert!(looks_secret("stripe_key") && looks_secret("Session_Secret"));
        assert!(!looks_secret("KEYBOARD_LAYOUT"));
    }

    #[test]
    fn secret_looking_values_are_hidden_but_their_changes_show() {
        let fields = json!({"containers": [{"name": "web", "environment": [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "abc"},
            {"name": "DATABASE_URL", "value": "postgres://app:hunter2@db/app"},
            {"name": "MODE", "value": "production"},
        ]}]});
        let shown = mask_secrets(&fields).to_string();
        assert!(
            !shown.contains("abc") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("production"), "{shown}");
        assert_ne!(shown_value("X_KEY", "a"), shown_value("X_KEY", "b"));
        assert_eq!(shown_value("MODE", "production"), None);
    }
}
