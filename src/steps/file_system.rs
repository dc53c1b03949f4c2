//! EFS file systems: always encrypted; the creation token is the deterministic name, so a
//! create retried after a lost answer meets the file system the first call made
//! (`FileSystemAlreadyExists`) and adopts it when it carries the app's tags.

use anyhow::{bail, Context, Result};
use aws_sdk_efs::types::{FileSystemDescription, PerformanceMode, Tag, ThroughputMode};
use serde_json::json;

use super::support::delete_when_free;
use super::support::efs::{alive, all};
use super::support::field_map;
use super::support::ownership::not_owned;
use super::support::tags::owned_tags;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{answer, code_of, err, is_gone, poll, sent, unless_gone};
use crate::desired::{
    Fields, FileSystemSpec, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

/// What to do about a file system of the configured creation token that another app owns.
const ANOTHER_NAME: &str = "give the app another name or delete that file system";

const WAIT: std::time::Duration = std::time::Duration::from_secs(600);

fn fields_of(f: &FileSystemDescription) -> Fields {
    field_map([
        ("encrypted", json!(f.encrypted().unwrap_or(false))),
        ("performance_mode", json!(f.performance_mode().as_str())),
        (
            "throughput_mode",
            json!(f.throughput_mode().map_or("bursting", |t| t.as_str())),
        ),
    ])
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

/// The desired file systems (by creation token = name) and the app's orphans (by tags).
/// File systems being deleted are left out: they are gone for every purpose but `create`,
/// which waits for them.
pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found: Vec<Observed> = Vec::new();
    let systems: Vec<FileSystemDescription> = all(ctx).await?.into_iter().filter(alive).collect();
    for f in &systems {
        let ours = tag(f.tags(), TAG_APP) == Some(ctx.app.as_str());
        if let Some(r) = desired.iter().find(|r| f.creation_token() == r.name) {
            if !ours {
                let what = format!(
                    "EFS file system {} (creation token {})",
                    f.file_system_id(),
                    r.name
                );
                return Err(not_owned(ctx, &what, ANOTHER_NAME));
            }
            found.push(observed(r.id.clone(), &r.name, f));
        }
    }
    for f in &systems {
        if tag(f.tags(), TAG_APP) != Some(ctx.app.as_str())
            || desired.iter().any(|r| f.creation_token() == r.name)
        {
            continue;
        }
        let Some(id) = tag(f.tags(), TAG_RESOURCE).and_then(ResourceId::parse) else {
            continue;
        };
        // One observation per logical id: the one found by its creation token wins.
        if found.iter().all(|o| o.id != id) {
            found.push(observed(id, f.creation_token(), f));
        }
    }
    Ok(found)
}

async fn by_token(ctx: &Ctx, token: &str) -> Result<Option<FileSystemDescription>> {
    let call = ctx.aws.efs.describe_file_systems().creation_token(token);
    let out = answer(call.send()).await?;
    Ok(out.file_systems().first().cloned())
}

async fn wait_available(ctx: &Ctx, r: &Resource, id: &str) -> Result<FileSystemDescription> {
    poll(
        WAIT,
        &format!("file system {id} to become available"),
        || async {
            let call = ctx.aws.efs.describe_file_systems().file_system_id(id);
            let f = answer(call.send()).await?;
            let Some(f) = f.file_systems().first() else {
                return Ok(None);
            };
            let state = f.life_cycle_state().as_str().to_string();
            if state == "error" {
                bail!("file system {id} ({}) is in state `error`", r.name);
            }
            ctx.report
                .progress(&r.id.to_string(), &format!("status: {state}"));
            Ok((state == "available").then(|| f.clone()))
        },
    )
    .await
}

/// Waits until no file system answers to `id` any more.
async fn wait_gone(ctx: &Ctx, deadline: std::time::Duration, id: &str) -> Result<()> {
    poll(
        deadline,
        &format!("file system {id} to be deleted"),
        || async {
            let call = ctx.aws.efs.describe_file_systems().file_system_id(id);
            let out = answer(call.send()).await;
            Ok(match unless_gone(is_gone, out)? {
                Some(f) => f.file_systems().iter().all(|f| !alive(f)).then_some(()),
                None => Some(()),
            })
        },
    )
    .await
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &FileSystemSpec,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let tags: Vec<Tag> = owned_tags(ctx, &r.id, &r.name)?;
    let send = || {
        ctx.aws
            .efs
            .create_file_system()
            .creation_token(&r.name)
            .encrypted(true)
            .performance_mode(PerformanceMode::from(s.performance_mode.as_str()))
            .throughput_mode(ThroughputMode::from(s.throughput_mode.as_str()))
            .set_tags(Some(tags.clone()))
            .send()
    };
    // At most three tries: the first, one after the token's file system vanished between
    // the create and the lookup, one after waiting out an earlier file system's deletion.
    let mut tries = 0;
    let id = loop {
        tries += 1;
        let e = match send().await {
            Ok(f) => break f.file_system_id().to_string(),
            Err(e) => err(e),
        };
        if code_of(&e) != Some("FileSystemAlreadyExists") || tries >= 3 {
            return Err(e).with_context(|| format!("creating file system {}", r.name));
        }
        // Same creation token: our earlier create (its answer lost), if tagged ours.
        let Some(f) = by_token(ctx, &r.name).await? else {
            continue;
        };
        if tag(f.tags(), TAG_APP) != Some(ctx.app.as_str()) {
            let what = format!(
                "EFS file system {} (creation token {})",
                f.file_system_id(),
                r.name
            );
            return Err(e).context(not_owned(ctx, &what, ANOTHER_NAME));
        }
        if alive(&f) {
            ctx.report.progress(
                &r.id.to_string(),
                &format!("already exists; adopting {}", f.file_system_id()),
            );
            break f.file_system_id().to_string();
        }
        // An earlier `down --delete-data` is still deleting it: the token is free once
        // it is gone.
        ctx.report.progress(
            &r.id.to_string(),
            &format!(
                "waiting for the deletion of {} to finish",
                f.file_system_id()
            ),
        );
        wait_gone(ctx, WAIT, f.file_system_id()).await?;
    };
    let f = wait_available(ctx, r, &id).await?;
    Ok(Outputs::with_id(f.file_system_id()).arn(f.file_system_arn().unwrap_or_default()))
}

/// Only the throughput mode can change in place (`encrypted` and `performance_mode` are
/// immutable: the planner replaces instead).
pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    _spec: &FileSystemSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if o.fields.get("throughput_mode") != want.get("throughput_mode") {
        let mode = want["throughput_mode"].as_str().unwrap_or("bursting");
        let call = ctx
            .aws
            .efs
            .update_file_system()
            .file_system_id(o.outputs.id());
        sent(call.throughput_mode(ThroughputMode::from(mode)).send())
            .await
            .with_context(|| {
                format!(
                    "changing the throughput mode of file system {} to {mode}",
                    r.name
                )
            })?;
        wait_available(ctx, r, o.outputs.id()).await?;
    }
    Ok(o.outputs.clone())
}

/// Deletes the file system (only `down --delete-data` and replacements get here) once its
/// mount targets are gone, and waits until it is.
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let id = o.outputs.id().to_string();
    // "FileSystemInUse" while its mount targets are still being deleted.
    delete_when_free(
        ctx,
        |e| code_of(e) == Some("FileSystemInUse"),
        || ctx.aws.efs.delete_file_system().file_system_id(&id).send(),
    )
    .await
    .with_context(|| format!("deleting file system {} ({id})", o.name))?;
    wait_gone(ctx, ctx.delete_deadline, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::FileSystemSpec;
    use crate::desired::Spec;
    use aws_sdk_efs::types::{FileSystemSize, LifeCycleState};
    use std::collections::BTreeMap;

    fn described(state: LifeCycleState, throughput: ThroughputMode) -> FileSystemDescription {
        FileSystemDescription::builder()
            .owner_id("1")
            .set_tags(Some(vec![]))
            .creation_token("wp-content")
            .file_system_id("fs-1")
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .life_cycle_state(state)
            .number_of_mount_targets(2)
            .size_in_bytes(FileSystemSize::builder().value(6144).build())
            .performance_mode(PerformanceMode::GeneralPurpose)
            .encrypted(true)
            .throughput_mode(throughput)
            .build()
            .unwrap()
    }

    fn spec(throughput: &str) -> Spec {
        Spec::FileSystem(FileSystemSpec {
            performance_mode: "generalPurpose".into(),
            throughput_mode: throughput.into(),
        })
    }

    #[test]
    fn an_encrypted_file_system_diffs_to_nothing() {
        let f = described(LifeCycleState::Available, ThroughputMode::Bursting);
        let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&f), &spec("bursting").fields(&none)),
            vec![]
        );
        let changed = crate::plan::diff_fields(&fields_of(&f), &spec("elastic").fields(&none));
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].field, "throughput_mode");

        let o = observed(
            ResourceId::new(crate::desired::Kind::FileSystem, "content"),
            "wp-content",
            &f,
        );
        assert_eq!(o.state, "available");
        assert_eq!(o.details, json!({"size_bytes": 6144, "mount_targets": 2}));
        assert_eq!(o.outputs.id(), "fs-1");
    }

    #[test]
    fn unencrypted_reads_as_such_and_deleting_is_not_alive() {
        let f = FileSystemDescription::builder()
            .owner_id("1")
            .set_tags(Some(vec![]))
            .creation_token("x")
            .file_system_id("fs-2")
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .life_cycle_state(LifeCycleState::Deleting)
            .number_of_mount_targets(0)
            .size_in_bytes(FileSystemSize::builder().value(0).build())
            .performance_mode(PerformanceMode::MaxIo)
            .build()
            .unwrap();
        let fields = fields_of(&f);
        assert_eq!(fields["encrypted"], json!(false));
        assert_eq!(fields["performance_mode"], json!("maxIO"));
        assert_eq!(fields["throughput_mode"], json!("bursting"));
        assert!(!alive(&f));
        assert!(alive(&described(
            LifeCycleState::Creating,
            ThroughputMode::Elastic
        )));
    }
}
