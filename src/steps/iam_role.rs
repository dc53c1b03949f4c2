//! IAM roles: trust policy, attached managed policies and the inline policy named after the
//! role. Every role the app owns lives under the path `/ecsdeploy/<app>/`, so one ListRoles
//! finds them all; the path is the ownership mark (IAM role names are account-wide, so a
//! desired name taken by a role outside that path belongs to someone else).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Result};
use aws_sdk_iam::types::{Role, Tag};
use futures::future::try_join_all;
use serde_json::{json, Map, Value};

use super::support::{made_or_existing, Made};
use super::support::{field_map, field_strings};
use super::support::ownership::not_owned_because;
use super::support::tags::owned_tags;
use super::Ctx;
use crate::aws::{answer, code_of, err, gone_ok, is_gone, retry_until, sent, PROPAGATION};
use crate::desired::{RoleSpec, 
    role_path, Fields, Kind, Outputs, Resolve, Resource, ResourceId, TAG_RESOURCE,
};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let path = role_path(&ctx.app);
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let call = ctx.aws.iam.list_roles().path_prefix(&path);
    let mut roles: Vec<Role> = answer(call.into_paginator().items().send().try_collect()).await?;
    // A desired name missing from the listing is either free, taken outside our path (an
    // error), or ours but not listed yet (IAM is eventually consistent).
    let listed: BTreeSet<String> = roles.iter().map(|r| r.role_name().to_string()).collect();
    let unlisted = desired.iter().filter(|r| !listed.contains(&r.name));
    for role in try_join_all(unlisted.map(|r| get_unlisted(ctx, &r.name, &path))).await? {
        roles.extend(role);
    }
    let found = try_join_all(roles.iter().map(|role| async {
        let desired = wanted.get(role.role_name()).copied();
        match observe_role(ctx, role, desired, &desired_ids).await {
            // Deleted while we looked.
            Err(e) if is_gone(&e) => Ok(None),
            other => other,
        }
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// GetRole for a desired name ListRoles did not return: `None` when there is no such role,
/// the role when it is under our path, an error when someone else's role has the name.
async fn get_unlisted(ctx: &Ctx, name: &str, path: &str) -> Result<Option<Role>> {
    match ctx
        .aws
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(err)
    {
        Ok(out) => match out.role() {
            Some(role) if role.path().starts_with(path) => Ok(Some(role.clone())),
            Some(role) => Err(not_owned_because(
                ctx,
                &format!("IAM role {name}"),
                &format!("its path is {}, not {path}", role.path()),
                "delete it or use another app name",
            )),
            None => Ok(None),
        },
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

async fn observe_role(
    ctx: &Ctx,
    role: &Role,
    desired: Option<&Resource>,
    desired_ids: &BTreeSet<&ResourceId>,
) -> Result<Option<Observed>> {
    let name = role.role_name();
    let id = match desired {
        Some(r) => r.id.clone(),
        None => match logical_id(ctx, name).await? {
            Some(id) if id.kind == Kind::IamRole && !desired_ids.contains(&id) => id,
            _ => return Ok(None),
        },
    };
    let want = desired.map(|r| r.spec.fields(&BTreeMap::<ResourceId, Outputs>::new()));
    let want = |k: &str| want.as_ref().and_then(|w| w.get(k));

    // The inline policy ecsdeploy writes is named after the role: read it directly (one
    // call, no ListRolePolicies first).
    let (attached, inline) = tokio::try_join!(attached_arns(ctx, name), inline_policy(ctx, name))?;
    let inline = match inline {
        Some(doc) => shaped_like(decode_policy(&doc)?, want("inline_policy")),
        None => Value::Null,
    };
    let trust = match role.assume_role_policy_document() {
        Some(doc) => shaped_like(decode_policy(doc)?, want("assume_role_policy")),
        None => Value::Null,
    };
    let fields: Fields = field_map([
        ("path", json!(role.path())),
        ("assume_role_policy", trust),
        ("managed_policy_arns", json!(attached)),
        ("inline_policy", inline),
    ]);
    Ok(Some(Observed {
        id,
        name: name.to_string(),
        outputs: Outputs::with_id(name).arn(role.arn()),
        fields,
        state: "ACTIVE".to_string(),
        details: Value::Null,
    }))
}

/// The logical id of a role under our path that the config no longer names: its
/// `ecsdeploy:resource` tag, or, if that is missing, the name without the `<app>-` prefix.
async fn logical_id(ctx: &Ctx, name: &str) -> Result<Option<ResourceId>> {
    let call = ctx.aws.iam.list_role_tags().role_name(name);
    let tags: Vec<Tag> = answer(call.into_paginator().items().send().try_collect()).await?;
    let tagged = tags
        .iter()
        .find(|t| t.key() == TAG_RESOURCE)
        .and_then(|t| ResourceId::parse(t.value()));
    Ok(tagged.or_else(|| {
        name.strip_prefix(&format!("{}-", ctx.app))
            .filter(|n| !n.is_empty())
            .map(|n| ResourceId::new(Kind::IamRole, n))
    }))
}

/// ARNs of the managed policies attached to a role, sorted.
async fn attached_arns(ctx: &Ctx, role: &str) -> Result<Vec<String>> {
    let call = ctx.aws.iam.list_attached_role_policies().role_name(role);
    let attached: Vec<_> = answer(call.into_paginator().items().send().try_collect()).await?;
    let arns: BTreeSet<String> = attached
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    Ok(arns.into_iter().collect())
}

/// Names of a role's inline policies.
/// The document of the role's inline policy named like the role, if it has one.
async fn inline_policy(ctx: &Ctx, role: &str) -> Result<Option<String>> {
    match ctx
        .aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(role)
        .send()
        .await
        .map_err(err)
    {
        Ok(out) => Ok(Some(out.policy_document().to_string())),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

async fn inline_names(ctx: &Ctx, role: &str) -> Result<Vec<String>> {
    let call = ctx.aws.iam.list_role_policies().role_name(role);
    answer(call.into_paginator().items().send().try_collect()).await
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &RoleSpec, res: &dyn Resolve) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let trust = serde_json::to_string(&want["assume_role_policy"])?;
    let mut req = ctx
        .aws
        .iam
        .create_role()
        .role_name(&r.name)
        .path(&s.path)
        .assume_role_policy_document(trust);
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    let out = req.send().await.map_err(err);
    let out = match made_or_existing(ctx, r, out, "EntityAlreadyExists", observe).await? {
        Made::New(out) => out,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    let arn = out.role().map(|r| r.arn()).unwrap_or_default().to_string();
    try_join_all(s.managed_policies.iter().map(|p| attach(ctx, &r.name, p))).await?;
    if !s.inline_policy.is_empty() {
        put_inline(ctx, &r.name, &want["inline_policy"]).await?;
    }
    Ok(Outputs::with_id(&r.name).arn(arn))
}

pub async fn update(ctx: &Ctx, r: &Resource, _spec: &RoleSpec, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let name = o.outputs.id();
    let differs = |k: &str| o.fields.get(k) != want.get(k);

    if differs("assume_role_policy") {
        let doc = serde_json::to_string(&want["assume_role_policy"])?;
        let call = ctx.aws.iam.update_assume_role_policy().role_name(name);
        sent(call.policy_document(doc).send()).await?;
    }

    let arns = |f: &Fields| -> BTreeSet<String> {
        f.get("managed_policy_arns").map(field_strings).unwrap_or_default()
    };
    let (have, need) = (arns(&o.fields), arns(&want));
    try_join_all(need.difference(&have).map(|p| attach(ctx, name, p))).await?;
    try_join_all(have.difference(&need).map(|p| detach(ctx, name, p))).await?;

    if differs("inline_policy") {
        match &want["inline_policy"] {
            Value::Null => delete_inline(ctx, name, name).await?,
            doc => put_inline(ctx, name, doc).await?,
        }
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.outputs.id();
    gone_ok(
        async {
            let (attached, inline) =
                tokio::try_join!(attached_arns(ctx, name), inline_names(ctx, name))?;
            try_join_all(attached.iter().map(|p| detach(ctx, name, p))).await?;
            try_join_all(inline.iter().map(|p| delete_inline(ctx, name, p))).await?;
            sent(ctx.aws.iam.delete_role().role_name(name).send()).await
        }
        .await,
    )
}

/// IAM refuses concurrent changes to one role (`ConcurrentModification`, as when its
/// policies are attached in parallel): each change is sent again for a while
/// (terraform-provider-aws `iam/role_policy_attachment.go` retries it the same way).
async fn changing<F, Fut>(op: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    retry_until(PROPAGATION, |e| code_of(e) == Some("ConcurrentModification"), op).await
}

async fn attach(ctx: &Ctx, role: &str, arn: &str) -> Result<()> {
    let call = ctx.aws.iam.attach_role_policy().role_name(role).policy_arn(arn);
    changing(|| sent(call.clone().send())).await
}

async fn detach(ctx: &Ctx, role: &str, arn: &str) -> Result<()> {
    let call = ctx.aws.iam.detach_role_policy().role_name(role).policy_arn(arn);
    gone_ok(changing(|| sent(call.clone().send())).await)
}

/// The inline policy is named after the role.
async fn put_inline(ctx: &Ctx, role: &str, doc: &Value) -> Result<()> {
    let call = ctx
        .aws
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(role)
        .policy_document(serde_json::to_string(doc)?);
    changing(|| sent(call.clone().send())).await
}

async fn delete_inline(ctx: &Ctx, role: &str, policy: &str) -> Result<()> {
    let call = ctx.aws.iam.delete_role_policy().role_name(role).policy_name(policy);
    gone_ok(changing(|| sent(call.clone().send())).await)
}

/// A policy document as IAM returns it: URL-encoded JSON (RFC 3986, as in GetRole and
/// GetRolePolicy), or plain JSON (what the emulator's ListRoles returns).
fn decode_policy(doc: &str) -> Result<Value> {
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
fn shaped_like(observed: Value, desired: Option<&Value>) -> Value {
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
