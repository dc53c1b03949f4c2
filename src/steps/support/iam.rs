//! What the IAM kinds share: whose a role is (IAM is global: the app's roles in this
//! region, or another region's), policy documents as IAM returns them (URL-encoded JSON)
//! and in the normal form the kinds compare, and the `ConcurrentModification` retry.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

use aws_sdk_iam::types::{Role, Tag};

use crate::aws::{answer, code_of, retry_until, PROPAGATION};
use crate::desired::{legacy_role_path, role_path, TAG_REGION};
use crate::steps::Ctx;

/// IAM refuses concurrent changes to one role (`ConcurrentModification`, as when its
/// policies are attached in parallel): each change is sent again for a while
/// (terraform-provider-aws `iam/role_policy_attachment.go` retries it the same way).
pub async fn changing<F, Fut>(op: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    retry_until(
        PROPAGATION,
        |e| code_of(e) == Some("ConcurrentModification"),
        op,
    )
    .await
}

/// Whose a role under the app's IAM path is.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    /// This region's deployment: (the region the role records, if any).
    Ours(Option<String>),
    /// The same app's deployment in another region.
    Region(String),
}

/// Whose `role` is, by its path and, under the legacy path, its region tag.
pub async fn owner(ctx: &Ctx, role: &Role) -> Result<Option<Owner>> {
    let region = &ctx.aws.region;
    let path = role.path();
    if path == role_path(&ctx.app, region) {
        return Ok(Some(Owner::Ours(Some(region.clone()))));
    }
    if path == legacy_role_path(&ctx.app) {
        let tags = role_tags(ctx, role.role_name()).await?;
        let tagged = tags
            .iter()
            .find(|t| t.key() == TAG_REGION)
            .map(|t| t.value());
        return Ok(Some(match tagged {
            Some(r) if r != region => Owner::Region(r.to_string()),
            r => Owner::Ours(r.map(str::to_string)),
        }));
    }
    let other = path
        .strip_prefix(&legacy_role_path(&ctx.app))
        .and_then(|rest| rest.strip_suffix('/'))
        .filter(|r| !r.is_empty() && !r.contains('/'));
    Ok(other.map(|r| Owner::Region(r.to_string())))
}

/// A role's tags.
pub async fn role_tags(ctx: &Ctx, name: &str) -> Result<Vec<Tag>> {
    let call = ctx.aws.iam.list_role_tags().role_name(name);
    answer(call.into_paginator().items().send().try_collect()).await
}

/// A policy document as IAM returns it: URL-encoded JSON (RFC 3986, as in GetRole and
/// GetRolePolicy), or plain JSON (what the emulator's ListRoles returns).
pub fn decode_policy(doc: &str) -> Result<Value> {
    if let Ok(v) = serde_json::from_str(doc) {
        return Ok(v);
    }
    let text = percent_decode(doc)
        .ok_or_else(|| anyhow!("IAM returned a policy document that is not URL-encoded text"))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow!("IAM returned a policy document that is not JSON: {e}"))
}

/// Decode `%XX` escapes. `+` stays `+`: IAM encodes spaces as `%20`. `None` on a malformed
/// escape or when the bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Canonical shape of a policy document, so that documents meaning the same compare equal:
/// `Statement` is an array; `Action`, `NotAction`, `Resource` and `NotResource` are sorted
/// arrays of strings; each `Principal`/`NotPrincipal` entry (`Service`, `AWS`, ...) is a
/// single string when it names one principal, else a sorted array. Other keys are kept.
pub fn normalize_policy(policy: Value) -> Value {
    let Value::Object(mut doc) = policy else {
        return policy;
    };
    if let Some(st) = doc.remove("Statement") {
        let list = match st {
            Value::Array(a) => a,
            one => vec![one],
        };
        doc.insert(
            "Statement".to_string(),
            Value::Array(list.into_iter().map(normalize_statement).collect()),
        );
    }
    Value::Object(doc)
}

fn normalize_statement(st: Value) -> Value {
    let Value::Object(mut st) = st else {
        return st;
    };
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = st.remove(key) {
            st.insert(key.to_string(), string_set(v));
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(Value::Object(p)) = st.get(key).cloned() {
            let p: Map<String, Value> = p
                .into_iter()
                .map(|(k, v)| (k, one_or_many(string_set(v))))
                .collect();
            st.insert(key.to_string(), Value::Object(p));
        }
    }
    Value::Object(st)
}

/// A string or an array of strings → sorted, deduplicated array. Anything else unchanged.
fn string_set(v: Value) -> Value {
    match v {
        Value::String(s) => json!([s]),
        Value::Array(a) if a.iter().all(Value::is_string) => {
            let set: BTreeSet<String> = a
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            json!(set)
        }
        other => other,
    }
}

fn one_or_many(v: Value) -> Value {
    match v {
        Value::Array(mut a) if a.len() == 1 => a.remove(0),
        other => other,
    }
}

/// The observed document, reported in exactly the desired document's shape when both mean
/// the same (so a converged role diffs to nothing), else in canonical shape.
pub fn shaped_like(observed: Value, desired: Option<&Value>) -> Value {
    let observed = normalize_policy(observed);
    match desired {
        Some(d) if normalize_policy(d.clone()) == observed => d.clone(),
        _ => observed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::assume_role_policy;

    #[test]
    fn percent_decoder() {
        assert_eq!(
            percent_decode("%7B%22a%22%3A%20%22b/%2A%22%7D").as_deref(),
            Some(r#"{"a": "b/*"}"#)
        );
        assert_eq!(percent_decode("a+b%2Bc").as_deref(), Some("a+b+c"));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("%7b").as_deref(), Some("{"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%+f"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn decodes_both_forms_iam_returns() {
        let want = assume_role_policy("ecs-tasks.amazonaws.com");
        // GetRole: URL-encoded; moto's ListRoles: plain JSON.
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%22ecs-tasks.amazonaws.com%22%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(decode_policy(encoded).unwrap(), want);
        assert_eq!(decode_policy(&want.to_string()).unwrap(), want);
        assert!(decode_policy("%7Bnot json").is_err());
    }

    #[test]
    fn normaliser_unifies_shapes() {
        let a = json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
            },
        });
        let b = assume_role_policy("ecs-tasks.amazonaws.com");
        assert_eq!(normalize_policy(a.clone()), normalize_policy(b.clone()));
        assert_eq!(
            normalize_policy(a),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": ["sts:AssumeRole"],
                }],
            })
        );

        let inline = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
        });
        assert_eq!(
            normalize_policy(inline)["Statement"][0],
            json!({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]})
        );
        // Several principals stay an array (sorted); "*" principals are kept as they are.
        let many =
            json!({"Statement": [{"Principal": {"Service": ["b", "a"]}, "NotPrincipal": "*"}]});
        assert_eq!(
            normalize_policy(many)["Statement"][0],
            json!({"Principal": {"Service": ["a", "b"]}, "NotPrincipal": "*"})
        );
        // Idempotent.
        let n = normalize_policy(b);
        assert_eq!(normalize_policy(n.clone()), n);
    }

    #[test]
    fn observed_policy_takes_the_desired_shape_only_when_equivalent() {
        let desired = assume_role_policy("ecs-tasks.amazonaws.com");
        let same = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
            }],
        });
        assert_eq!(shaped_like(same, Some(&desired)), desired);

        let inline = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": ["*"]}],
        });
        let reordered = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}],
        });
        assert_eq!(shaped_like(reordered, Some(&inline)), inline);

        let other = assume_role_policy("lambda.amazonaws.com");
        let shown = shaped_like(other, Some(&desired));
        assert_ne!(shown, desired);
        assert_eq!(
            shown["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        // No desired document (an orphan): canonical shape.
        assert_eq!(
            shaped_like(desired.clone(), None),
            normalize_policy(desired)
        );
    }
}
