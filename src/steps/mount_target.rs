//! EFS mount targets, one per private subnet. They carry no tags: a mount target belongs to
//! the app when its file system does, and its logical id follows from the file system's
//! logical id and the subnet's (its ownership tag, or its literal id in an imported network).

use anyhow::{Context, Result};
use aws_sdk_efs::types::MountTargetDescription;
use serde_json::json;

use super::{gone_ok, nat_gateway::poll, Ctx};
use crate::aws::{code_of, err};
use crate::desired::{
    sorted, Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec, Val, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

const WAIT: std::time::Duration = std::time::Duration::from_secs(600);

fn fields_of(m: &MountTargetDescription, groups: &[String]) -> Fields {
    [
        ("file_system_id", json!(m.file_system_id())),
        ("subnet_id", json!(m.subnet_id())),
        ("security_groups", sorted(groups.iter().cloned())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// How a desired subnet reads before anything is resolved: its logical id, or a literal id.
fn subnet_key(v: &Val) -> String {
    match v {
        Val::Lit(s) => s.clone(),
        Val::Ref(r) | Val::Suffixed(r, _) => r.id.to_string(),
    }
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    // The app's file systems and their logical ids.
    let systems: Vec<(String, ResourceId)> = super::file_system::all(ctx)
        .await?
        .into_iter()
        .filter(|f| super::file_system::tag(f.tags(), TAG_APP) == Some(ctx.app.as_str()))
        .filter_map(|f| {
            let id = super::file_system::tag(f.tags(), TAG_RESOURCE)
                .and_then(ResourceId::parse)
                .filter(|id| id.kind == Kind::FileSystem)?;
            Some((f.file_system_id().to_string(), id))
        })
        .collect();
    let mut targets: Vec<(MountTargetDescription, ResourceId)> = Vec::new();
    for (fs_id, fs_logical) in &systems {
        let out = ctx
            .aws
            .efs
            .describe_mount_targets()
            .file_system_id(fs_id)
            .send()
            .await
            .map_err(err)?;
        targets.extend(
            out.mount_targets()
                .iter()
                .map(|m| (m.clone(), fs_logical.clone())),
        );
    }
    if targets.is_empty() {
        return Ok(vec![]);
    }
    // Subnet id → logical id (`subnet.private-a`) for created networks.
    let subnet_ids: Vec<String> = targets
        .iter()
        .map(|(m, _)| m.subnet_id().to_string())
        .collect();
    let subnets = ctx
        .aws
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids))
        .send()
        .await
        .map_err(err)?;
    let logical_subnet = |subnet_id: &str| -> String {
        subnets
            .subnets()
            .iter()
            .find(|s| s.subnet_id() == Some(subnet_id))
            .and_then(|s| super::ec2_util::tag(s.tags(), TAG_RESOURCE))
            .unwrap_or(subnet_id)
            .to_string()
    };
    let mut found = Vec::new();
    for (m, fs_logical) in &targets {
        let groups = ctx
            .aws
            .efs
            .describe_mount_target_security_groups()
            .mount_target_id(m.mount_target_id())
            .send()
            .await
            .map_err(err)?
            .security_groups()
            .to_vec();
        let subnet = logical_subnet(m.subnet_id());
        let matched = desired.iter().find(|r| match &r.spec {
            Spec::MountTarget(s) => {
                s.file_system.as_ref().is_some_and(|f| f.id == *fs_logical)
                    && (subnet_key(&s.subnet) == subnet || subnet_key(&s.subnet) == m.subnet_id())
            }
            _ => false,
        });
        let (id, name) = match matched {
            Some(r) => (r.id.clone(), r.name.clone()),
            None => {
                let name = format!("{}-{}", fs_logical.name, m.subnet_id());
                (ResourceId::new(Kind::MountTarget, &name), name)
            }
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

async fn wait(ctx: &Ctx, r: &Resource, fs: &str, subnet: &str) -> Result<MountTargetDescription> {
    poll(
        WAIT,
        &format!("the mount target of {fs} in {subnet}"),
        || async {
            let out = ctx
                .aws
                .efs
                .describe_mount_targets()
                .file_system_id(fs)
                .send()
                .await
                .map_err(err)?;
            let Some(m) = out.mount_targets().iter().find(|m| m.subnet_id() == subnet) else {
                return Ok(None);
            };
            let state = m.life_cycle_state().as_str().to_string();
            ctx.report
                .progress(&r.id.to_string(), &format!("status: {state}"));
            Ok((state == "available").then(|| m.clone()))
        },
    )
    .await
}

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::MountTarget(s) = &r.spec else {
        unreachable!()
    };
    let fs = res.need(&s.file_system)?;
    let subnet = res.need(&s.subnet)?;
    let groups = s
        .security_groups
        .iter()
        .map(|g| res.need(g))
        .collect::<Result<Vec<_>>>()?;
    let sent = ctx
        .aws
        .efs
        .create_mount_target()
        .file_system_id(&fs)
        .subnet_id(&subnet)
        .set_security_groups(Some(groups))
        .send()
        .await;
    if let Err(e) = sent {
        let e = err(e);
        // One mount target per subnet and file system: an earlier create (answer lost)
        // already made it; the wait below finds it.
        if code_of(&e) != Some("MountTargetConflict") {
            return Err(e).with_context(|| format!("creating mount target {}", r.name));
        }
    }
    let m = wait(ctx, r, &fs, &subnet).await?;
    Ok(Outputs::with_id(m.mount_target_id()))
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if o.fields.get("security_groups") != want.get("security_groups") {
        let groups: Vec<String> = want["security_groups"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        ctx.aws
            .efs
            .modify_mount_target_security_groups()
            .mount_target_id(o.outputs.id())
            .set_security_groups(Some(groups))
            .send()
            .await
            .map_err(err)
            .with_context(|| format!("updating the security groups of {}", r.name))?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let id = o.outputs.id().to_string();
    gone_ok(
        ctx.aws
            .efs
            .delete_mount_target()
            .mount_target_id(&id)
            .send()
            .await
            .map(|_| ())
            .map_err(err),
    )?;
    // Its network interface holds the subnet and the security group until it is gone.
    poll(
        ctx.delete_deadline,
        &format!("mount target {id} to be deleted"),
        || async {
            match ctx
                .aws
                .efs
                .describe_mount_targets()
                .mount_target_id(&id)
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .mount_targets()
                    .iter()
                    .all(|m| m.life_cycle_state().as_str() == "deleted")
                    .then_some(())),
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
    use crate::desired::{MountTargetSpec, Ref};
    use aws_sdk_efs::types::LifeCycleState;
    use std::collections::BTreeMap;

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
        let spec = Spec::MountTarget(MountTargetSpec {
            file_system: Val::Ref(Ref::id(&fs)),
            subnet: Val::Ref(Ref::id(&subnet)),
            security_groups: vec![Val::Ref(Ref::id(&sg))],
        });
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
                &spec.fields(&outputs)
            ),
            vec![]
        );
        assert_eq!(subnet_key(&Val::Ref(Ref::id(&subnet))), "subnet.private-a");
    }
}
