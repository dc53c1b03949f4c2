//! Extra inline policies on the app's roles (`RolePolicySpec`), for grants that only some
//! services need: the execution role's grant of a database's master password secret. Each is named `ecsdeploy-<what>`, which is the ownership mark (the role is the
//! app's, under its IAM path; the policy named like the role belongs to the role's step).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use futures::future::try_join_all;
use serde_json::json;

use super::support::field_map;
use super::support::iam::{changing, decode_policy, owner, shaped_like, Owner};
use super::Ctx;
use crate::aws::{answer, code_of, gone_ok, sent};
use crate::desired::{Kind, Outputs, Resolve, Resource, ResourceId, RolePolicySpec, Spec};
use crate::plan::Observed;

/// The prefix of every policy name this kind owns.
const PREFIX: &str = "ecsdeploy-";

/// The role a policy observed on `role` belongs to, as the id's first part: `execution`
/// for `<app>-execution`.
fn role_key<'a>(ctx: &Ctx, role: &'a str) -> &'a str {
    role.strip_prefix(&format!("{}-", ctx.app)).unwrap_or(role)
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    // The execution role holds them today; a desired policy names its own role.
    let mut roles: BTreeSet<String> = BTreeSet::from([format!("{}-execution", ctx.app)]);
    roles.extend(desired.iter().filter_map(|r| match &r.spec {
        Spec::IamRolePolicy(s) => Some(s.role.clone()),
        _ => None,
    }));
    let found = try_join_all(roles.iter().map(|role| observe_role(ctx, role, desired))).await?;
    Ok(found.into_iter().flatten().collect())
}

/// The app's policies on one role: none when the role does not exist or is not this
/// region's (IAM is global: the same app's role in another region is never ours).
async fn observe_role(ctx: &Ctx, role: &str, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let found = match answer(ctx.aws.iam.get_role().role_name(role).send()).await {
        Ok(out) => out.role().cloned(),
        Err(e) if code_of(&e) == Some("NoSuchEntity") => None,
        Err(e) => return Err(e),
    };
    let Some(found) = found else {
        return Ok(vec![]);
    };
    if !matches!(owner(ctx, &found).await?, Some(Owner::Ours(_))) {
        return Ok(vec![]);
    }
    let call = ctx.aws.iam.list_role_policies().role_name(role);
    let listed = answer(call.into_paginator().items().send().try_collect()).await;
    let names: Vec<String> = match listed {
        Ok(names) => names,
        Err(e) if code_of(&e) == Some("NoSuchEntity") => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let ours = names.into_iter().filter(|n| n.starts_with(PREFIX));
    try_join_all(ours.map(|name| observe_policy(ctx, role, name, desired))).await
}

async fn observe_policy(
    ctx: &Ctx,
    role: &str,
    name: String,
    desired: &[&Resource],
) -> Result<Observed> {
    let want = desired.iter().find(|r| match &r.spec {
        Spec::IamRolePolicy(s) => s.role == role && r.name == name,
        _ => false,
    });
    let id = match want {
        Some(r) => r.id.clone(),
        None => {
            let what = name.strip_prefix(PREFIX).unwrap_or(&name);
            ResourceId::new(
                Kind::IamRolePolicy,
                format!("{}-{what}", role_key(ctx, role)),
            )
        }
    };
    let call = ctx
        .aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(&name);
    let out = answer(call.send()).await?;
    let doc = decode_policy(out.policy_document())?;
    // Unresolved references are fine: the desired shape is kept only when it means the same.
    let none = BTreeMap::<ResourceId, Outputs>::new();
    let desired_doc = want.map(|r| r.spec.fields(&none)["policy"].clone());
    Ok(Observed {
        id,
        name: name.clone(),
        outputs: Outputs::with_id(&name),
        fields: field_map([
            ("role", json!(role)),
            ("policy", shaped_like(doc, desired_doc.as_ref())),
        ]),
        state: "ACTIVE".to_string(),
        details: serde_json::Value::Null,
    })
}

super::support::updates::create_and_update_by!(
    /// The same call: PutRolePolicy replaces the document of that name.
    put(RolePolicySpec)
);

/// PutRolePolicy creates or replaces the document.
async fn put(ctx: &Ctx, r: &Resource, s: &RolePolicySpec, res: &dyn Resolve) -> Result<Outputs> {
    let doc = serde_json::to_string(&r.spec.fields(res)["policy"])?;
    let call = ctx.aws.iam.put_role_policy().role_name(&s.role);
    let call = call.policy_name(&r.name).policy_document(doc);
    changing(|| sent(call.clone().send())).await?;
    Ok(Outputs::with_id(&r.name))
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let role = o
        .fields
        .get("role")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let call = ctx.aws.iam.delete_role_policy().role_name(role);
    let call = call.policy_name(o.outputs.id());
    gone_ok(changing(|| sent(call.clone().send())).await)
}
