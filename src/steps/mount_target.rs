//! EFS mount targets, one per private subnet. They carry no tags: a mount target belongs to
//! the app when its file system does, and its logical id follows from the file system's
//! logical id and the subnet's (its ownership tag, or its literal id in an imported network).
//! A mount target no desired one matches is an orphan named
//! `mount_target.<file system key>-<subnet id>`.

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types::Filter;
use aws_sdk_efs::types::MountTargetDescription;
use futures::future::try_join_all;
use serde_json::json;

use super::support::efs;
use super::support::tags::tag;
use super::support::{field_map, field_strings};
use super::Ctx;
use crate::aws::{answer, code_of, err, gone_ok, is_gone, poll, sent, unless_gone};
use crate::desired::MountTargetSpec;
use crate::desired::{
    sorted, Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec, Val, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

const WAIT: std::time::Duration = std::time::Duration::from_secs(600);

fn fields_of(m: &MountTargetDescription, groups: &[String]) -> Fields {
    field_map([
        ("file_system_id", json!(m.file_system_id())),
        ("subnet_id", json!(m.subnet_id())),
        ("security_groups", sorted(groups.iter().cloned())),
    ])
}

/// True while a mount target is (or is becoming) usable: not on its way out.
fn alive(m: &MountTargetDescription) -> bool {
    !matches!(m.life_cycle_state().as_str(), "deleting" | "deleted")
}

/// How a desired subnet reads before anything is resolved: its logical id, or a literal id.
fn subnet_key(v: &Val) -> String {
    match v {
        Val::Lit(s) => s.clone(),
        Val::Ref(r) | Val::Suffixed(r, _) => r.id.to_string(),
    }
}

/// The desired mount target for the file system `fs` (logical id) in the subnet
/// `subnet_id`, whose ownership tag (created network) is `subnet_logical`.
fn matching<'a>(
    desired: &[&'a Resource],
    fs: &ResourceId,
    subnet_id: &str,
    subnet_logical: Option<&str>,
) -> Option<&'a Resource> {
    desired.iter().copied().find(|r| match &r.spec {
        Spec::MountTarget(s) => {
            let key = subnet_key(&s.subnet);
            s.file_system.as_ref().is_some_and(|f| f.id == *fs)
                && (key == subnet_id || Some(key.as_str()) == subnet_logical)
        }
        _ => false,
    })
}

/// The logical id and name of a mount target no desired resource matches.
fn orphan_id(fs: &ResourceId, subnet_id: &str) -> (ResourceId, String) {
    let name = format!("{}-{subnet_id}", fs.name);
    (ResourceId::new(Kind::MountTarget, &name), name)
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    // The app's file systems and their logical ids.
    let systems: Vec<(String, ResourceId)> = efs::all(ctx)
        .await?
        .into_iter()
        .filter(efs::alive)
        .filter(|f| tag(f.tags(), TAG_APP) == Some(ctx.app.as_str()))
        .filter_map(|f| {
            let id = tag(f.tags(), TAG_RESOURCE)
                .and_then(ResourceId::parse)
                .filter(|id| id.kind == Kind::FileSystem)?;
            Some((f.file_system_id().to_string(), id))
        })
        .collect();
    // Their mount targets: one describe per file system (the API takes one), concurrently.
    let per_system = try_join_all(systems.iter().map(|(fs_id, fs_logical)| async move {
        let mut out = Vec::new();
        let mut pages = ctx
            .aws
            .efs
            .describe_mount_targets()
            .file_system_id(fs_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.try_next().await.map_err(err)? {
            out.extend(
                page.mount_targets()
                    .iter()
                    .filter(|m| alive(m))
                    .map(|m| (m.clone(), fs_logical.clone())),
            );
        }
        anyhow::Ok(out)
    }))
    .await?;
    let targets: Vec<(MountTargetDescription, ResourceId)> =
        per_system.into_iter().flatten().collect();
    if targets.is_empty() {
        return Ok(vec![]);
    }
    // Subnet id → logical id (`subnet.private-a`) for created networks: one describe, by
    // filter so that a subnet that is gone is just not answered.
    let mut subnet_ids: Vec<String> = targets
        .iter()
        .map(|(m, _)| m.subnet_id().to_string())
        .collect();
    subnet_ids.sort();
    subnet_ids.dedup();
    let subnets = ctx
        .aws
        .ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("subnet-id")
                .set_values(Some(subnet_ids))
                .build(),
        )
        .send()
        .await
        .map_err(err)?;
    let logical_subnet = |subnet_id: &str| -> Option<String> {
        subnets
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(subnet_id))
            .and_then(|s| tag(s.tags(), TAG_RESOURCE))
            .map(str::to_string)
    };
    // Security groups: one call per mount target (there is no batch form), concurrently.
    let groups = try_join_all(targets.iter().map(|(m, _)| async move {
        let call = ctx.aws.efs.describe_mount_target_security_groups();
        let call = call.mount_target_id(m.mount_target_id());
        let out = answer(call.send()).await?;
        anyhow::Ok(out.security_groups().to_vec())
    }))
    .await?;
    let mut found = Vec::new();
    for ((m, fs_logical), groups) in targets.iter().zip(groups) {
        let subnet = logical_subnet(m.subnet_id());
        let (id, name) = match matching(desired, fs_logical, m.subnet_id(), subnet.as_deref()) {
            Some(r) => (r.id.clone(), r.name.clone()),
            None => orphan_id(fs_logical, m.subnet_id()),
        };
        found.push(Observed {
            id,
            name,
            outputs: Outputs::with_id(m.mount_target_id()),
            fields: fields_of(m, &groups),
            state: m.life_cycle_state().as_str().to_string(),
            details: json!({ "ip_address": m.ip_address(), "az": m.availability_zone_name() }),
        });
    }
    Ok(found)
}

/// The mount target of `fs` in `subnet`, if any.
async fn in_subnet(ctx: &Ctx, fs: &str, subnet: &str) -> Result<Option<MountTargetDescription>> {
    let call = ctx.aws.efs.describe_mount_targets().file_system_id(fs);
    let out = answer(call.send()).await?;
    Ok(out
        .mount_targets()
        .iter()
        .find(|m| m.subnet_id() == subnet)
        .cloned())
}

async fn wait_available(
    ctx: &Ctx,
    r: &Resource,
    fs: &str,
    subnet: &str,
) -> Result<MountTargetDescription> {
    poll(
        WAIT,
        &format!("the mount target of {fs} in {subnet} to become available"),
        || async {
            let Some(m) = in_subnet(ctx, fs, subnet).await? else {
                return Ok(None);
            };
            let state = m.life_cycle_state().as_str().to_string();
            if matches!(state.as_str(), "error" | "deleting" | "deleted") {
                bail!(
                    "mount target {} ({}) is in state `{state}`",
                    m.mount_target_id(),
                    r.name
                );
            }
            ctx.report
                .progress(&r.id.to_string(), &format!("status: {state}"));
            Ok((state == "available").then_some(m))
        },
    )
    .await
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &MountTargetSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let fs = res.need(&s.file_system)?;
    let subnet = res.need(&s.subnet)?;
    let groups = s
        .security_groups
        .iter()
        .map(|g| res.need(g))
        .collect::<Result<Vec<_>>>()?;
    let send = || {
        ctx.aws
            .efs
            .create_mount_target()
            .file_system_id(&fs)
            .subnet_id(&subnet)
            .set_security_groups(Some(groups.clone()))
            .send()
    };
    let mut waited = false;
    loop {
        let e = match send().await {
            Ok(_) => break,
            Err(e) => err(e),
        };
        // One mount target per file system and AZ.
        if code_of(&e) != Some("MountTargetConflict") {
            return Err(e).with_context(|| format!("creating mount target {}", r.name));
        }
        match in_subnet(ctx, &fs, &subnet).await? {
            // An earlier create (its answer lost) made it: wait for it below.
            Some(m) if alive(&m) => {
                ctx.report.progress(
                    &r.id.to_string(),
                    &format!("already exists; adopting {}", m.mount_target_id()),
                );
                break;
            }
            // The one an earlier run deleted is still going away.
            Some(m) if !waited => {
                ctx.report.progress(
                    &r.id.to_string(),
                    &format!("waiting for the deletion of {}", m.mount_target_id()),
                );
                wait_gone(ctx, WAIT, m.mount_target_id()).await?;
                waited = true;
            }
            // Another subnet of the same AZ has the file system's mount target.
            _ => {
                return Err(e).with_context(|| {
                    format!(
                        "creating mount target {} in {subnet}: file system {fs} already has a \
                         mount target in that subnet's availability zone",
                        r.name
                    )
                })
            }
        }
    }
    let m = wait_available(ctx, r, &fs, &subnet).await?;
    Ok(Outputs::with_id(m.mount_target_id()))
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    _spec: &MountTargetSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if o.fields.get("security_groups") != want.get("security_groups") {
        let groups: Vec<String> = field_strings(&want["security_groups"]);
        let call = ctx.aws.efs.modify_mount_target_security_groups();
        let call = call.mount_target_id(o.outputs.id());
        sent(call.set_security_groups(Some(groups)).send())
            .await
            .with_context(|| format!("updating the security groups of mount target {}", r.name))?;
    }
    Ok(o.outputs.clone())
}

/// Waits until the mount target `id` is gone (its network interface holds the subnet and
/// the security groups until then).
async fn wait_gone(ctx: &Ctx, deadline: std::time::Duration, id: &str) -> Result<()> {
    poll(
        deadline,
        &format!("mount target {id} to be deleted"),
        || async {
            let call = ctx.aws.efs.describe_mount_targets().mount_target_id(id);
            let out = answer(call.send()).await;
            Ok(match unless_gone(is_gone, out)? {
                Some(out) => {
                    let mut ts = out.mount_targets().iter();
                    ts.all(|m| m.life_cycle_state().as_str() == "deleted")
                        .then_some(())
                }
                None => Some(()),
            })
        },
    )
    .await
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let id = o.outputs.id().to_string();
    let call = ctx.aws.efs.delete_mount_target().mount_target_id(&id);
    gone_ok(sent(call.send()).await)
        .with_context(|| format!("deleting mount target {} ({id})", o.name))?;
    wait_gone(ctx, ctx.delete_deadline, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{MountTargetSpec, Ref};
    use aws_sdk_efs::types::LifeCycleState;
    use std::collections::BTreeMap;

    fn desired(fs: &ResourceId, subnet: Val, sg: &ResourceId, name: &str) -> Resource {
        Resource {
            id: ResourceId::new(Kind::MountTarget, name),
            name: format!("wp-{name}"),
            spec: Spec::MountTarget(MountTargetSpec {
                file_system: Val::Ref(Ref::id(fs)),
                subnet,
                security_groups: vec![Val::Ref(Ref::id(sg))],
            }),
        }
    }

    #[test]
    fn a_mount_target_diffs_to_nothing() {
        let fs = ResourceId::new(Kind::FileSystem, "content");
        let subnet = ResourceId::new(Kind::Subnet, "private-a");
        let sg = ResourceId::new(Kind::SecurityGroup, "file_system.content");
        let outputs: BTreeMap<ResourceId, Outputs> = [
            (fs.clone(), Outputs::with_id("fs-1")),
            (subnet.clone(), Outputs::with_id("subnet-1")),
            (sg.clone(), Outputs::with_id("sg-1")),
        ]
        .into_iter()
        .collect();
        let r = desired(&fs, Val::Ref(Ref::id(&subnet)), &sg, "content-a");
        let m = MountTargetDescription::builder()
            .mount_target_id("fsmt-1")
            .file_system_id("fs-1")
            .subnet_id("subnet-1")
            .life_cycle_state(LifeCycleState::Available)
            .build()
            .unwrap();
        assert_eq!(
            crate::plan::diff_fields(
                &fields_of(&m, &["sg-1".to_string()]),
                &r.spec.fields(&outputs)
            ),
            vec![]
        );
        // Two groups in any order read the same; a missing one is a change.
        let two = Spec::MountTarget(MountTargetSpec {
            file_system: Val::Ref(Ref::id(&fs)),
            subnet: Val::Ref(Ref::id(&subnet)),
            security_groups: vec![Val::Lit("sg-2".into()), Val::Ref(Ref::id(&sg))],
        });
        assert_eq!(
            crate::plan::diff_fields(
                &fields_of(&m, &["sg-1".to_string(), "sg-2".to_string()]),
                &two.fields(&outputs)
            ),
            vec![]
        );
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&m, &["sg-1".to_string()]), &two.fields(&outputs))
                .len(),
            1
        );
        assert!(alive(&m));
    }

    #[test]
    fn observed_mount_targets_are_matched_by_file_system_and_subnet() {
        let fs = ResourceId::new(Kind::FileSystem, "content");
        let other_fs = ResourceId::new(Kind::FileSystem, "media");
        let sg = ResourceId::new(Kind::SecurityGroup, "file_system.content");
        let a = desired(
            &fs,
            Val::Ref(Ref::id(&ResourceId::new(Kind::Subnet, "private-a"))),
            &sg,
            "content-a",
        );
        let imported = desired(&fs, Val::Lit("subnet-77".into()), &sg, "content-b");
        let all = [&a, &imported];
        // A created network's subnet, by its ownership tag.
        assert_eq!(
            matching(&all, &fs, "subnet-1", Some("subnet.private-a")).map(|r| &r.id),
            Some(&a.id)
        );
        // An imported subnet, by its literal id.
        assert_eq!(
            matching(&all, &fs, "subnet-77", None).map(|r| &r.id),
            Some(&imported.id)
        );
        // Another file system, or a subnet no desired mount target has: an orphan.
        assert!(matching(&all, &other_fs, "subnet-1", Some("subnet.private-a")).is_none());
        assert!(matching(&all, &fs, "subnet-9", Some("subnet.private-c")).is_none());
        let (id, name) = orphan_id(&fs, "subnet-9");
        assert_eq!(id.to_string(), "mount_target.content-subnet-9");
        assert_eq!(name, "content-subnet-9");
    }
}
