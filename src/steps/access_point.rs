//! EFS access points: the POSIX identity and root directory tasks mount the file system
//! through. Every setting is immutable; the client token makes a retried create return the
//! access point the first call made.

use anyhow::{bail, Context, Result};
use aws_sdk_efs::types::{AccessPointDescription, CreationInfo, PosixUser, RootDirectory, Tag};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{gone_ok, nat_gateway::poll, Ctx};
use crate::aws::err;
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

const WAIT: std::time::Duration = std::time::Duration::from_secs(300);

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == key).map(|t| t.value())
}

fn fields_of(a: &AccessPointDescription) -> Fields {
    let user = a.posix_user();
    let root = a.root_directory();
    let info = root.and_then(|r| r.creation_info());
    [
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
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
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

/// Idempotency token: the same app and logical id give the same token (at most 64 chars).
fn client_token(app: &str, id: &ResourceId) -> String {
    let mut h = Sha256::new();
    h.update(app.as_bytes());
    h.update([0]);
    h.update(id.to_string().as_bytes());
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..40]
        .to_string()
}

async fn all(ctx: &Ctx) -> Result<Vec<AccessPointDescription>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = ctx
            .aws
            .efs
            .describe_access_points()
            .set_next_token(next.clone())
            .send()
            .await
            .map_err(err)?;
        out.extend(page.access_points().iter().cloned());
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            return Ok(out);
        }
    }
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found = Vec::new();
    for a in all(ctx).await? {
        if tag(a.tags(), TAG_APP) != Some(ctx.app.as_str()) {
            continue;
        }
        let Some(id) = tag(a.tags(), TAG_RESOURCE).and_then(ResourceId::parse) else {
            continue;
        };
        let name = desired.iter().find(|r| r.id == id).map_or_else(
            || a.name().unwrap_or_default().to_string(),
            |r| r.name.clone(),
        );
        found.push(observed(id, &name, &a));
    }
    Ok(found)
}

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::AccessPoint(s) = &r.spec else {
        unreachable!()
    };
    let fs = res.need(&s.file_system)?;
    let mut req = ctx
        .aws
        .efs
        .create_access_point()
        .client_token(client_token(&ctx.app, &r.id))
        .file_system_id(&fs)
        .posix_user(
            PosixUser::builder()
                .uid(i64::from(s.uid))
                .gid(i64::from(s.gid))
                .build()?,
        )
        .root_directory(
            RootDirectory::builder()
                .path(&s.path)
                .creation_info(
                    CreationInfo::builder()
                        .owner_uid(i64::from(s.uid))
                        .owner_gid(i64::from(s.gid))
                        .permissions(&s.permissions)
                        .build()?,
                )
                .build(),
        );
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build()?);
    }
    let out = req
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("creating access point {}", r.name))?;
    let Some(id) = out.access_point_id().map(str::to_string) else {
        bail!("CreateAccessPoint returned no id for {}", r.name);
    };
    let a = poll(
        WAIT,
        &format!("access point {id} to become available"),
        || async {
            let d = ctx
                .aws
                .efs
                .describe_access_points()
                .access_point_id(&id)
                .send()
                .await
                .map_err(err)?;
            Ok(d.access_points()
                .first()
                .filter(|a| {
                    a.life_cycle_state()
                        .is_some_and(|s| s.as_str() == "available")
                })
                .cloned())
        },
    )
    .await?;
    Ok(Outputs::with_id(&id).arn(a.access_point_arn().unwrap_or_default()))
}

/// Every field is immutable (the planner replaces instead), so there is nothing to change.
pub async fn update(
    _ctx: &Ctx,
    _r: &Resource,
    o: &Observed,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    gone_ok(
        ctx.aws
            .efs
            .delete_access_point()
            .access_point_id(o.outputs.id())
            .send()
            .await
            .map(|_| ())
            .map_err(err),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{AccessPointSpec, Kind, Ref, Val};
    use std::collections::BTreeMap;

    #[test]
    fn an_access_point_diffs_to_nothing_and_tokens_are_stable() {
        let fs = ResourceId::new(Kind::FileSystem, "content");
        let outputs: BTreeMap<ResourceId, Outputs> = [(fs.clone(), Outputs::with_id("fs-1"))]
            .into_iter()
            .collect();
        let spec = Spec::AccessPoint(AccessPointSpec {
            file_system: Val::Ref(Ref::id(&fs)),
            uid: 33,
            gid: 33,
            path: "/wp-content".into(),
            permissions: "755".into(),
        });
        let a = AccessPointDescription::builder()
            .file_system_id("fs-1")
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
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&a), &spec.fields(&outputs)),
            vec![]
        );
        let id = ResourceId::new(Kind::AccessPoint, "content");
        assert_eq!(client_token("wp", &id), client_token("wp", &id));
        assert_ne!(client_token("wp", &id), client_token("other", &id));
        assert_eq!(client_token("wp", &id).len(), 40);
    }
}
