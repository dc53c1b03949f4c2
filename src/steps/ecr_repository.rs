//! ECR repositories: scan on push and tag mutability. Found by name (desired ones) and by
//! ownership tag among the repositories named `<app>-...` (orphans). ECR has no server-side
//! tag filter, so ownership is read with one ListTagsForResource per candidate.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use futures::future::try_join_all;
use serde_json::json;

use super::support::field_map;
use super::support::ownership::{claim, not_owned};
use super::support::tags::owned_tags;
use super::support::tags::tag;
use super::support::{made_or_existing, Made};
use super::{Ctx, Deleted, Kept};
use crate::aws::{answer, code_of, err, gone_ok, is_gone, sent, unless_gone};
use crate::desired::{
    EcrSpec, Fields, Kind, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let prefix = format!("{}-", ctx.app);
    // One listing (1000 per page) instead of DescribeRepositories(names), which fails as a
    // whole with RepositoryNotFoundException when any name is missing and cannot find orphans.
    let call = ctx.aws.ecr.describe_repositories();
    let repos: Vec<Repository> = answer(call.into_paginator().items().send().try_collect()).await?;
    let candidates: Vec<&Repository> = repos
        .iter()
        .filter(|r| {
            r.repository_name()
                .is_some_and(|n| wanted.contains_key(n) || n.starts_with(&prefix))
        })
        .collect();
    let (tags, kept) = futures::try_join!(
        try_join_all(candidates.iter().map(|r| tags_of(ctx, r))),
        try_join_all(candidates.iter().map(|r| keep_images_of(ctx, r))),
    )?;

    let mut found = Vec::new();
    for ((repo, tags), keep) in candidates.into_iter().zip(tags).zip(kept) {
        // Deleted between the listing and the tag read.
        let Some(tags) = tags else {
            continue;
        };
        let name = repo.repository_name().unwrap_or_default();
        let tags = (tag(&tags, TAG_APP), tag(&tags, TAG_RESOURCE));
        let refuse = || {
            let what = format!("ECR repository {name}");
            not_owned(ctx, &what, "rename it in the config or delete it")
        };
        let want = wanted.get(name).copied();
        let Some(id) = claim(ctx, Kind::EcrRepository, want, tags, &desired_ids, refuse)? else {
            continue;
        };
        let mut o = observed(id, repo);
        o.fields.insert("keep_images".into(), keep);
        found.push(o);
    }
    Ok(found)
}

/// A repository's tags; `None` when it is gone.
async fn tags_of(ctx: &Ctx, repo: &Repository) -> Result<Option<Vec<Tag>>> {
    let call = ctx.aws.ecr.list_tags_for_resource();
    let call = call.resource_arn(repo.repository_arn().unwrap_or_default());
    let out = answer(call.send()).await;
    Ok(unless_gone(is_gone, out)?.map(|out| out.tags().to_vec()))
}

/// The lifecycle policy ecsdeploy puts on a repository keeping the newest `keep` images:
/// untagged images expire a day after their push (rule 1), and of the rest only the newest
/// `keep` stay (rule 2; `any` must be the last rule, ECR User Guide "Lifecycle policy
/// properties"). An image a task definition still names can expire too: keep enough.
pub fn lifecycle_policy(keep: u32) -> String {
    json!({
        "rules": [
            {
                "rulePriority": 1,
                "description": "ecsdeploy: untagged images after a day",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1
                },
                "action": { "type": "expire" }
            },
            {
                "rulePriority": 2,
                "description": format!("ecsdeploy: the newest {keep} images"),
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep
                },
                "action": { "type": "expire" }
            }
        ]
    })
    .to_string()
}

/// `keep_images` as the policy text says it: the count of [`lifecycle_policy`], 0 for no
/// policy, and `"(another lifecycle policy)"` for one ecsdeploy did not write.
pub fn keep_images_in(policy: Option<&str>) -> serde_json::Value {
    let Some(text) = policy else {
        return json!(0);
    };
    let parsed: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let count = parsed["rules"]
        .as_array()
        .and_then(|rules| rules.get(1))
        .and_then(|r| r["selection"]["countNumber"].as_u64());
    match count {
        Some(n)
            if serde_json::from_str::<serde_json::Value>(&lifecycle_policy(n as u32)).ok()
                == Some(parsed.clone()) =>
        {
            json!(n)
        }
        _ => json!("(another lifecycle policy)"),
    }
}

async fn keep_images_of(ctx: &Ctx, repo: &Repository) -> Result<serde_json::Value> {
    let call = ctx.aws.ecr.get_lifecycle_policy();
    let call = call.repository_name(repo.repository_name().unwrap_or_default());
    match call.send().await.map_err(err) {
        Ok(out) => Ok(keep_images_in(out.lifecycle_policy_text())),
        Err(e) if code_of(&e) == Some("LifecyclePolicyNotFoundException") || is_gone(&e) => {
            Ok(json!(0))
        }
        Err(e) => Err(e),
    }
}

/// Puts (or, for 0, deletes) the repository's lifecycle policy.
async fn set_lifecycle(ctx: &Ctx, name: &str, keep: u32) -> Result<()> {
    if keep == 0 {
        let call = ctx.aws.ecr.delete_lifecycle_policy().repository_name(name);
        return match sent(call.send()).await {
            Err(e) if code_of(&e) == Some("LifecyclePolicyNotFoundException") => Ok(()),
            other => other,
        };
    }
    let call = ctx.aws.ecr.put_lifecycle_policy().repository_name(name);
    sent(call.lifecycle_policy_text(lifecycle_policy(keep)).send()).await
}

fn observed(id: ResourceId, repo: &Repository) -> Observed {
    let name = repo.repository_name().unwrap_or_default();
    let fields: Fields = field_map([
        (
            "scan_on_push",
            json!(repo
                .image_scanning_configuration()
                .is_some_and(|c| c.scan_on_push())),
        ),
        (
            "image_tag_mutability",
            json!(repo
                .image_tag_mutability()
                .map_or("MUTABLE", |m| m.as_str())),
        ),
    ]);
    Observed {
        id,
        name: name.to_string(),
        outputs: outputs(repo),
        fields,
        state: "ACTIVE".to_string(),
        details: json!({ "uri": repo.repository_uri() }),
    }
}

fn outputs(repo: &Repository) -> Outputs {
    Outputs::with_id(repo.repository_name().unwrap_or_default())
        .arn(repo.repository_arn().unwrap_or_default())
        .uri(repo.repository_uri().unwrap_or_default())
}

fn scanning(scan_on_push: bool) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(scan_on_push)
        .build()
}

/// The SDK leaves `scanOnPush` out of the request when it is false (the model's default).
/// AWS reads the missing flag as false, but the emulator (moto) then keeps the old value, so
/// turning scan on push off never converges there. Send the flag explicitly.
fn explicit_scan_flag(req: &mut HttpRequest) {
    let Some(text) = req.body().bytes().and_then(|b| std::str::from_utf8(b).ok()) else {
        return;
    };
    let fixed = text.replace(
        r#""imageScanningConfiguration":{}"#,
        r#""imageScanningConfiguration":{"scanOnPush":false}"#,
    );
    if fixed != text {
        let len = fixed.len();
        *req.body_mut() = SdkBody::from(fixed);
        req.headers_mut().insert("content-length", len.to_string());
    }
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &EcrSpec, res: &dyn Resolve) -> Result<Outputs> {
    let mut req = ctx
        .aws
        .ecr
        .create_repository()
        .repository_name(&r.name)
        .image_scanning_configuration(scanning(s.scan_on_push))
        .image_tag_mutability(ImageTagMutability::from(s.tag_mutability.as_str()));
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    let out = req.send().await.map_err(err);
    let exists = "RepositoryAlreadyExistsException";
    let out = match made_or_existing(ctx, r, out, exists, observe).await? {
        Made::New(out) => out,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    if s.keep_images > 0 {
        set_lifecycle(ctx, &r.name, s.keep_images).await?;
    }
    Ok(out.repository().map(outputs).unwrap_or_default())
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &EcrSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let differs = |k: &str| o.fields.get(k) != want.get(k);
    if differs("scan_on_push") {
        let call = ctx.aws.ecr.put_image_scanning_configuration();
        let call = call.repository_name(o.outputs.id());
        let call = call.image_scanning_configuration(scanning(s.scan_on_push));
        sent(call.customize().mutate_request(explicit_scan_flag).send()).await?;
    }
    if differs("image_tag_mutability") {
        let mutability = ImageTagMutability::from(s.tag_mutability.as_str());
        let call = ctx.aws.ecr.put_image_tag_mutability();
        let call = call.repository_name(o.outputs.id());
        sent(call.image_tag_mutability(mutability).send()).await?;
    }
    if differs("keep_images") {
        set_lifecycle(ctx, o.outputs.id(), s.keep_images).await?;
    }
    Ok(o.outputs.clone())
}

/// Delete the repository: with `down --delete-images` together with its images; else one
/// that still has images is kept.
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<Deleted> {
    let name = o.outputs.id();
    let call = ctx.aws.ecr.delete_repository().repository_name(name);
    let result = sent(call.set_force(ctx.delete_images.then_some(true)).send()).await;
    match result {
        Err(e) if !ctx.delete_images && code_of(&e) == Some("RepositoryNotEmptyException") => {
            Ok(Deleted::Kept(kept_not_empty(name)))
        }
        other => gone_ok(other).map(|()| Deleted::Gone),
    }
}

/// Why a repository with images is kept.
fn kept_not_empty(name: &str) -> Kept {
    Kept {
        note: "it holds images".to_string(),
        message: format!(
            "repository {name} still has images; kept (use --delete-images to delete it with its images)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_policy_reads_back_as_its_count() {
        assert_eq!(keep_images_in(Some(&lifecycle_policy(30))), json!(30));
        assert_eq!(keep_images_in(None), json!(0));
        let foreign = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        assert_eq!(
            keep_images_in(Some(foreign)),
            json!("(another lifecycle policy)")
        );
        let policy: serde_json::Value = serde_json::from_str(&lifecycle_policy(7)).unwrap();
        assert_eq!(policy["rules"][1]["selection"]["tagStatus"], "any");
        assert_eq!(policy["rules"][1]["selection"]["countNumber"], 7);
    }

    #[test]
    fn kept_not_empty_says_why() {
        let k = kept_not_empty("demo-web");
        assert_eq!(
            k.to_string(),
            "repository demo-web still has images; kept (use --delete-images to delete it with its images)"
        );
        assert_eq!(k.note, "it holds images");
    }

    #[test]
    fn scan_flag_false_is_sent_explicitly() {
        let body = r#"{"repositoryName":"demo-web","imageScanningConfiguration":{}}"#;
        let mut req = HttpRequest::new(SdkBody::from(body));
        req.headers_mut()
            .insert("content-length", body.len().to_string());
        explicit_scan_flag(&mut req);
        let sent = std::str::from_utf8(req.body().bytes().unwrap()).unwrap();
        assert_eq!(
            sent,
            r#"{"repositoryName":"demo-web","imageScanningConfiguration":{"scanOnPush":false}}"#
        );
        assert_eq!(
            req.headers().get("content-length"),
            Some(sent.len().to_string().as_str())
        );
        // A request that already carries the flag is left alone.
        let on = r#"{"imageScanningConfiguration":{"scanOnPush":true}}"#;
        let mut req = HttpRequest::new(SdkBody::from(on));
        explicit_scan_flag(&mut req);
        assert_eq!(req.body().bytes(), Some(on.as_bytes()));
    }
}
