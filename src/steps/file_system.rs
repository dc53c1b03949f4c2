//! EFS file systems: always encrypted; the creation token is the deterministic name, so a
//! create retried after a lost answer meets the file system the first call made.

use anyhow::{bail, Context, Result};
use aws_sdk_efs::types::{FileSystemDescription, PerformanceMode, Tag, ThroughputMode};
use serde_json::json;

use super::{gone_ok, nat_gateway::poll, retry_until, Ctx};
use crate::aws::{code_of, err};
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

const WAIT: std::time::Duration = std::time::Duration::from_secs(600);

pub(super) fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == key).map(|t| t.value())
}

fn fields_of(f: &FileSystemDescription) -> Fields {
    [
        ("encrypted", json!(f.encrypted().unwrap_or(false))),
        ("performance_mode", json!(f.performance_mode().as_str())),
        (
            "throughput_mode",
            json!(f.throughput_mode().map_or("bursting", |t| t.as_str())),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn observed(id: ResourceId, name: &str, f: &FileSystemDescription) -> Observed {
    Observed {
        id,
        name: name.to_string(),
        outputs: Outputs::with_id(f.file_system_id()).arn(f.file_system_arn().unwrap_or_default()),
        fields: fields_of(f),
        state: f.life_cycle_state().as_str().to_string(),
        details: json!({
            "size_bytes": f.size_in_bytes().map(|s| s.value()),
            "mount_targets": f.number_of_mount_targets(),
        }),
    }
}

/// Every file system of the account (one paginated describe).
pub(super) async fn all(ctx: &Ctx) -> Result<Vec<FileSystemDescription>> {
    let mut out = Vec::new();
    let mut pages = ctx.aws.efs.describe_file_systems().into_paginator().send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        out.extend(page.file_systems().iter().cloned());
    }
    Ok(out)
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found = Vec::new();
    for f in all(ctx).await? {
        let ours = tag(f.tags(), TAG_APP) == Some(ctx.app.as_str());
        if let Some(r) = desired.iter().find(|r| f.creation_token() == r.name) {
            if !ours {
                bail!(
                    "EFS file system {} (creation token {}) exists but is not owned by app {} \
                     (tag {TAG_APP})",
                    f.file_system_id(),
                    r.name,
                    ctx.app
                );
            }
            found.push(observed(r.id.clone(), &r.name, &f));
        } else if ours {
            if let Some(id) = tag(f.tags(), TAG_RESOURCE).and_then(ResourceId::parse) {
                found.push(observed(id, f.creation_token(), &f));
            }
        }
    }
    Ok(found)
}

async fn by_token(ctx: &Ctx, token: &str) -> Result<Option<FileSystemDescription>> {
    let out = ctx
        .aws
        .efs
        .describe_file_systems()
        .creation_token(token)
        .send()
        .await
        .map_err(err)?;
    Ok(out.file_systems().first().cloned())
}

async fn wait_available(ctx: &Ctx, r: &Resource, id: &str) -> Result<FileSystemDescription> {
    poll(
        WAIT,
        &format!("file system {id} to become available"),
        || async {
            let f = ctx
                .aws
                .efs
                .describe_file_systems()
                .file_system_id(id)
                .send()
                .await
                .map_err(err)?;
            let Some(f) = f.file_systems().first() else {
                return Ok(None);
            };
            let state = f.life_cycle_state().as_str().to_string();
            ctx.report
                .progress(&r.id.to_string(), &format!("status: {state}"));
            Ok((state == "available").then(|| f.clone()))
        },
    )
    .await
}

pub async fn create(ctx: &Ctx, r: &Resource, _res: &dyn Resolve) -> Result<Outputs> {
    let Spec::FileSystem(s) = &r.spec else {
        unreachable!()
    };
    let mut req = ctx
        .aws
        .efs
        .create_file_system()
        .creation_token(&r.name)
        .encrypted(true)
        .performance_mode(PerformanceMode::from(s.performance_mode.as_str()))
        .throughput_mode(ThroughputMode::from(s.throughput_mode.as_str()));
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build()?);
    }
    let id = match req.send().await {
        Ok(f) => f.file_system_id().to_string(),
        Err(e) => {
            let e = err(e);
            if code_of(&e) != Some("FileSystemAlreadyExists") {
                return Err(e).with_context(|| format!("creating file system {}", r.name));
            }
            // Same creation token: our earlier create (its answer lost), if tagged ours.
            match by_token(ctx, &r.name).await? {
                Some(f) if tag(f.tags(), TAG_APP) == Some(ctx.app.as_str()) => {
                    f.file_system_id().to_string()
                }
                _ => {
                    return Err(e).with_context(|| {
                        format!("creating file system {}: the token is taken", r.name)
                    })
                }
            }
        }
    };
    let f = wait_available(ctx, r, &id).await?;
    Ok(Outputs::with_id(f.file_system_id()).arn(f.file_system_arn().unwrap_or_default()))
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if o.fields.get("throughput_mode") != want.get("throughput_mode") {
        let mode = want["throughput_mode"].as_str().unwrap_or("bursting");
        ctx.aws
            .efs
            .update_file_system()
            .file_system_id(o.outputs.id())
            .throughput_mode(ThroughputMode::from(mode))
            .send()
            .await
            .map_err(err)
            .with_context(|| format!("updating file system {}", r.name))?;
        wait_available(ctx, r, o.outputs.id()).await?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let id = o.outputs.id().to_string();
    // "FileSystemInUse" while its mount targets are still being deleted.
    gone_ok(
        retry_until(
            ctx.delete_deadline,
            |e| code_of(e) == Some("FileSystemInUse"),
            || async {
                ctx.aws
                    .efs
                    .delete_file_system()
                    .file_system_id(&id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(err)
            },
        )
        .await,
    )?;
    poll(
        ctx.delete_deadline,
        &format!("file system {id} to be deleted"),
        || async {
            match ctx
                .aws
                .efs
                .describe_file_systems()
                .file_system_id(&id)
                .send()
                .await
            {
                Ok(f) => Ok(f.file_systems().is_empty().then_some(())),
                Err(e) => {
                    let e = err(e);
                    if super::is_gone(&e) {
                        Ok(Some(()))
                    } else {
                        Err(e)
                    }
                }
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::FileSystemSpec;
    use aws_sdk_efs::types::{LifeCycleState, PerformanceMode};
    use std::collections::BTreeMap;

    #[test]
    fn an_encrypted_file_system_diffs_to_nothing() {
        let f = FileSystemDescription::builder()
            .owner_id("1")
            .creation_token("wp-content")
            .file_system_id("fs-1")
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(2)
            .size_in_bytes(
                aws_sdk_efs::types::FileSystemSize::builder()
                    .value(6144)
                    .build(),
            )
            .performance_mode(PerformanceMode::GeneralPurpose)
            .encrypted(true)
            .throughput_mode(ThroughputMode::Bursting)
            .set_tags(Some(vec![]))
            .build()
            .unwrap();
        let spec = Spec::FileSystem(FileSystemSpec {
            performance_mode: "generalPurpose".into(),
            throughput_mode: "bursting".into(),
        });
        let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&f), &spec.fields(&none)),
            vec![]
        );
    }
}
