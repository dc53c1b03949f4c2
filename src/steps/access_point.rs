//! EFS access points: the POSIX identity and root directory tasks mount the file system
//! through. Every setting is immutable. The create is sent once with a client token derived
//! from the app, the logical id, the file system and the settings (AWS answers a repeat with
//! `AccessPointAlreadyExists`; moto ignores the token and would make a second one), and a
//! lost answer is settled by looking the access point up by its ownership tags.

use anyhow::{bail, Context, Result};
use aws_sdk_efs::types::{AccessPointDescription, CreationInfo, PosixUser, RootDirectory, Tag};
use serde_json::json;

use super::support::create_once;
use super::support::field_map;
use super::support::tags::owned_tags;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{answer, code_of, err, err_classified, gone_ok, poll, sent};
use crate::desired::{
    AccessPointSpec, Fields, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

const WAIT: std::time::Duration = std::time::Duration::from_secs(300);

fn fields_of(a: &AccessPointDescription) -> Fields {
    let user = a.posix_user();
    let root = a.root_directory();
    let info = root.and_then(|r| r.creation_info());
    field_map([
        ("file_system_id", json!(a.file_system_id())),
        (
            "posix_user",
            json!({"uid": user.map(|u| u.uid()), "gid": user.map(|u| u.gid())}),
        ),
        (
            "root_directory",
            json!({
                "path": root.and_then(|r| r.path()).unwrap_or("/"),
                "owner_uid": info.map(|i| i.owner_uid()),
                "owner_gid": info.map(|i| i.owner_gid()),
                "permissions": info.map(|i| i.permissions()),
            }),
        ),
    ])
}

fn observed(id: ResourceId, name: &str, a: &AccessPointDescription) -> Observed {
    Observed {
        id,
        name: name.to_string(),
        outputs: Outputs::with_id(a.access_point_id().unwrap_or_default())
            .arn(a.access_point_arn().unwrap_or_default()),
        fields: fields_of(a),
        state: a
            .life_cycle_state()
            .map_or("unknown", |s| s.as_str())
            .to_string(),
        details: json!({ "file_system_id": a.file_system_id() }),
    }
}

/// True while an access point is (or is becoming) usable: not on its way out.
fn alive(a: &AccessPointDescription) -> bool {
    !a.life_cycle_state()
        .is_some_and(|s| matches!(s.as_str(), "deleting" | "deleted"))
}

/// Idempotency token (at most 64 characters): the same app, logical id, file system and
/// settings give the same token; a new file system or new settings (a replacement) give a
/// new one, so a token AWS remembers from a deleted access point is never reused.
fn client_token(app: &str, id: &ResourceId, fs: &str, s: &AccessPointSpec) -> String {
    crate::aws::client_token(
        &[
            app,
            &id.to_string(),
            fs,
            &s.uid.to_string(),
            &s.gid.to_string(),
            &s.path,
            &s.permissions,
        ],
        0,
    )
}

/// Access points of one file system, or of the account.
async fn list(ctx: &Ctx, fs: Option<&str>) -> Result<Vec<AccessPointDescription>> {
    let mut out = Vec::new();
    let mut pages = ctx
        .aws
        .efs
        .describe_access_points()
        .set_file_system_id(fs.map(str::to_string))
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        out.extend(page.access_points().iter().filter(|a| alive(a)).cloned());
    }
    Ok(out)
}

fn owned_as(ctx: &Ctx, a: &AccessPointDescription) -> Option<ResourceId> {
    if tag(a.tags(), TAG_APP) != Some(ctx.app.as_str()) {
        return None;
    }
    tag(a.tags(), TAG_RESOURCE).and_then(ResourceId::parse)
}

/// Access points carry their ownership tags, so one listing of the account's access
/// points finds the desired ones and the orphans alike.
pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found: Vec<Observed> = Vec::new();
    for a in list(ctx, None).await? {
        let Some(id) = owned_as(ctx, &a) else {
            continue;
        };
        if found.iter().any(|o| o.id == id) {
            continue;
        }
        let name = desired.iter().find(|r| r.id == id).map_or_else(
            || tag(a.tags(), "Name").unwrap_or_default().to_string(),
            |r| r.name.clone(),
        );
        found.push(observed(id, &name, &a));
    }
    Ok(found)
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &AccessPointSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let fs = res.need(&s.file_system)?;
    let tags: Vec<Tag> = owned_tags(ctx, &r.id, &r.name)?;
    let user = PosixUser::builder()
        .uid(i64::from(s.uid))
        .gid(i64::from(s.gid))
        .build()?;
    let root = RootDirectory::builder()
        .path(&s.path)
        .creation_info(
            CreationInfo::builder()
                .owner_uid(i64::from(s.uid))
                .owner_gid(i64::from(s.gid))
                .permissions(&s.permissions)
                .build()?,
        )
        .build();
    let token = client_token(&ctx.app, &r.id, &fs, s);
    let find = || async {
        Ok(list(ctx, Some(&fs))
            .await?
            .into_iter()
            .find(|a| owned_as(ctx, a).as_ref() == Some(&r.id))
            .and_then(|a| a.access_point_id().map(str::to_string)))
    };
    let create = || async {
        let sent = ctx
            .aws
            .efs
            .create_access_point()
            .client_token(&token)
            .file_system_id(&fs)
            .posix_user(user.clone())
            .root_directory(root.clone())
            .set_tags(Some(tags.clone()))
            .customize()
            .config_override(
                aws_sdk_efs::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match sent {
            Ok(out) => match out.access_point_id() {
                Some(id) => Ok(id.to_string()),
                None => bail!("CreateAccessPoint returned no id for {}", r.name),
            },
            Err(e) => {
                let e = err_classified(e);
                // The token's access point exists: an earlier create whose answer was lost.
                if code_of(&e) == Some("AccessPointAlreadyExists") {
                    if let Some(id) = find().await? {
                        return Ok(id);
                    }
                }
                Err(e)
            }
        }
    };
    let id = create_once(ctx, &r.id, create, &find)
        .await
        .with_context(|| format!("creating access point {}", r.name))?;
    let a = poll(
        WAIT,
        &format!("access point {id} to become available"),
        || async {
            let call = ctx.aws.efs.describe_access_points().access_point_id(&id);
            let d = answer(call.send()).await?;
            let Some(a) = d.access_points().first() else {
                return Ok(None);
            };
            let state = a.life_cycle_state().map_or("unknown", |s| s.as_str());
            if state == "error" {
                bail!("access point {id} ({}) is in state `error`", r.name);
            }
            ctx.report
                .progress(&r.id.to_string(), &format!("status: {state}"));
            Ok((state == "available").then(|| a.clone()))
        },
    )
    .await?;
    Ok(Outputs::with_id(&id).arn(a.access_point_arn().unwrap_or_default()))
}

/// Every field is immutable (the planner replaces instead), so there is nothing to change.
pub use super::support::updates::unchanged as update;

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let id = o.outputs.id();
    let call = ctx.aws.efs.delete_access_point().access_point_id(id);
    gone_ok(sent(call.send()).await)
        .with_context(|| format!("deleting access point {} ({id})", o.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{Kind, Ref, Val};
    use aws_sdk_efs::types::LifeCycleState;
    use std::collections::BTreeMap;

    fn spec(fs: &ResourceId, path: &str) -> AccessPointSpec {
        AccessPointSpec {
            file_system: Val::Ref(Ref::id(fs)),
            uid: 33,
            gid: 33,
            path: path.into(),
            permissions: "755".into(),
        }
    }

    #[test]
    fn an_access_point_diffs_to_nothing() {
        let fs = ResourceId::new(Kind::FileSystem, "content");
        let outputs: BTreeMap<ResourceId, Outputs> = [(fs.clone(), Outputs::with_id("fs-1"))]
            .into_iter()
            .collect();
        let a = AccessPointDescription::builder()
            .file_system_id("fs-1")
            .access_point_id("fsap-1")
            .life_cycle_state(LifeCycleState::Available)
            .posix_user(PosixUser::builder().uid(33).gid(33).build().unwrap())
            .root_directory(
                RootDirectory::builder()
                    .path("/wp-content")
                    .creation_info(
                        CreationInfo::builder()
                            .owner_uid(33)
                            .owner_gid(33)
                            .permissions("755")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let want = Spec::AccessPoint(spec(&fs, "/wp-content"));
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&a), &want.fields(&outputs)),
            vec![]
        );
        let moved = Spec::AccessPoint(spec(&fs, "/uploads"));
        let diffs = crate::plan::diff_fields(&fields_of(&a), &moved.fields(&outputs));
        assert_eq!(diffs.len(), 1);
        assert!(moved.immutable_fields().contains(&diffs[0].field.as_str()));
        assert!(alive(&a));
        let o = observed(
            ResourceId::new(Kind::AccessPoint, "content"),
            "wp-content",
            &a,
        );
        assert_eq!((o.outputs.id(), o.state.as_str()), ("fsap-1", "available"));
    }

    #[test]
    fn client_tokens_are_stable_short_and_specific() {
        let fs = ResourceId::new(Kind::FileSystem, "content");
        let id = ResourceId::new(Kind::AccessPoint, "content");
        let s = spec(&fs, "/wp-content");
        let t = client_token("wp", &id, "fs-1", &s);
        assert_eq!(t, client_token("wp", &id, "fs-1", &s));
        assert!(t.len() <= 64, "{t}");
        assert_ne!(t, client_token("other", &id, "fs-1", &s));
        assert_ne!(t, client_token("wp", &id, "fs-2", &s));
        assert_ne!(t, client_token("wp", &id, "fs-1", &spec(&fs, "/uploads")));
    }
}
