//! IAM roles: trust policy, attached managed policies and the inline policy named after the
//! role. IAM is global: every role the app owns in a region lives under the path
//! `/ecsdeploy/<app>/<region>/`, so one ListRoles finds them all and another region's
//! deployment of the same app is never taken for ours (IAM role names are account-wide, so
//! a desired name taken by a role outside that path belongs to someone else). Roles that
//! earlier versions made under `/ecsdeploy/<app>/` are ours when their `ecsdeploy:region`
//! tag names this region, or when they have none yet (the first region to deploy after the
//! upgrade adopts them and writes the tag).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_iam::types::{Role, Tag};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::iam::{changing, decode_policy, owner, role_tags, shaped_like, Owner};
use super::support::ownership::not_owned_because;
use super::support::tags::owned_tags;
use super::support::{field_map, field_strings, made_or_existing, Made};
use super::Ctx;
use crate::aws::{answer, code_of, err, gone_ok, is_gone, sent};
use crate::desired::{
    legacy_role_path, role_path, Fields, Kind, Outputs, Resolve, Resource, ResourceId, RoleSpec,
    TAG_REGION, TAG_RESOURCE,
};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    // Every region's roles and the legacy ones: one listing.
    let call = ctx
        .aws
        .iam
        .list_roles()
        .path_prefix(legacy_role_path(&ctx.app));
    let mut roles: Vec<Role> = answer(call.into_paginator().items().send().try_collect()).await?;
    // A desired name missing from the listing is either free, taken outside our path (an
    // error), or ours but not listed yet (IAM is eventually consistent).
    let listed: BTreeSet<String> = roles.iter().map(|r| r.role_name().to_string()).collect();
    let unlisted = desired.iter().filter(|r| !listed.contains(&r.name));
    for role in try_join_all(unlisted.map(|r| get_unlisted(ctx, &r.name))).await? {
        roles.extend(role);
    }
    let found = try_join_all(roles.iter().map(|role| async {
        let desired = wanted.get(role.role_name()).copied();
        let owner = match owner(ctx, role).await {
            Err(e) if is_gone(&e) => return Ok(None),
            other => other?,
        };
        let recorded = match (owner, desired) {
            (Some(Owner::Ours(recorded)), _) => recorded,
            (Some(Owner::Region(r)), Some(_)) => {
                return Err(another_region(ctx, role.role_name(), &r));
            }
            _ => return Ok(None),
        };
        match observe_role(ctx, role, recorded, desired, &desired_ids).await {
            // Deleted while we looked.
            Err(e) if is_gone(&e) => Ok(None),
            other => other,
        }
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The error for a desired role name that the same app's deployment in another region has.
fn another_region(ctx: &Ctx, name: &str, region: &str) -> anyhow::Error {
    not_owned_because(
        ctx,
        &format!("IAM role {name}"),
        &format!(
            "it belongs to this app's deployment in {region} (IAM names are global, one per \
             account)"
        ),
        "deploy this region under another app name",
    )
}

/// GetRole for a desired name ListRoles did not return: `None` when there is no such role,
/// the role when it is under the app's path, an error when someone else's role has the name.
async fn get_unlisted(ctx: &Ctx, name: &str) -> Result<Option<Role>> {
    let path = role_path(&ctx.app, &ctx.aws.region);
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
            Some(role) if role.path().starts_with(&legacy_role_path(&ctx.app)) => {
                Ok(Some(role.clone()))
            }
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

/// `recorded`: the region the role records (its path, or its tag under the legacy path).
async fn observe_role(
    ctx: &Ctx,
    role: &Role,
    recorded: Option<String>,
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
    // A role under the legacy path keeps it (IAM paths cannot change): it counts as being
    // where this version puts roles, not as a path to replace the role over.
    let path = if role.path() == legacy_role_path(&ctx.app) {
        role_path(&ctx.app, &ctx.aws.region)
    } else {
        role.path().to_string()
    };
    let fields: Fields = field_map([
        ("path", json!(path)),
        ("region", json!(recorded)),
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
    let tags = role_tags(ctx, name).await?;
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
    let mut tags: Vec<Tag> = owned_tags(ctx, &r.id, &r.name)?;
    tags.push(
        Tag::builder()
            .key(TAG_REGION)
            .value(&ctx.aws.region)
            .build()?,
    );
    req = req.set_tags(Some(tags));
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

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    _spec: &RoleSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let name = o.outputs.id();
    let differs = |k: &str| o.fields.get(k) != want.get(k);

    // A role an earlier version made, adopted by this region: mark it as this region's.
    if differs("region") {
        let tag = Tag::builder()
            .key(TAG_REGION)
            .value(&ctx.aws.region)
            .build()?;
        let call = ctx.aws.iam.tag_role().role_name(name).tags(tag);
        changing(|| sent(call.clone().send())).await?;
    }

    if differs("assume_role_policy") {
        let doc = serde_json::to_string(&want["assume_role_policy"])?;
        let call = ctx.aws.iam.update_assume_role_policy().role_name(name);
        sent(call.policy_document(doc).send()).await?;
    }

    let arns = |f: &Fields| -> BTreeSet<String> {
        f.get("managed_policy_arns")
            .map(field_strings)
            .unwrap_or_default()
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
            ctx.aws
                .iam
                .delete_role()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(err)
        }
        .await,
    )
}

async fn attach(ctx: &Ctx, role: &str, arn: &str) -> Result<()> {
    let call = ctx
        .aws
        .iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(arn);
    changing(|| sent(call.clone().send())).await
}

async fn detach(ctx: &Ctx, role: &str, arn: &str) -> Result<()> {
    let call = ctx
        .aws
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(arn);
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
    let call = ctx
        .aws
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy);
    gone_ok(changing(|| sent(call.clone().send())).await)
}
