//! RDS DB subnet groups: the private subnets a database instance is placed in. Found by
//! name among all the account's groups (one paginated describe); ownership and orphans are
//! read from each group's tags.

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_rds::types::{DbSubnetGroup, Tag};
use serde_json::json;

use super::support::delete_when_free;
use super::support::ownership::not_owned;
use super::support::tags::{owned_tags, tag};
use super::support::{field_map, field_strings};
use super::Ctx;
use crate::aws::{answer, code_of, err, sent, unless_gone};
use crate::desired::DbSubnetGroupSpec;
use crate::desired::{sorted, Fields, Outputs, Resolve, Resource, ResourceId};
use crate::desired::{TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

/// What to do about a DB subnet group of the configured name that another app owns.
const RENAME: &str = "rename the database in the config or delete the group";

/// The normalised fields, shaped exactly like `Spec::DbSubnetGroup`'s.
fn fields_of(g: &DbSubnetGroup) -> Fields {
    let subnets = g
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .map(str::to_string);
    field_map([
        ("description", json!(g.db_subnet_group_description())),
        ("subnet_ids", sorted(subnets)),
    ])
}

fn observed(id: ResourceId, g: &DbSubnetGroup) -> Observed {
    let name = g.db_subnet_group_name().unwrap_or_default().to_string();
    Observed {
        id,
        outputs: Outputs::with_id(&name).arn(g.db_subnet_group_arn().unwrap_or_default()),
        name,
        fields: fields_of(g),
        state: g.subnet_group_status().unwrap_or("unknown").to_string(),
        details: json!({ "vpc_id": g.vpc_id(), "subnets": g.subnets().len() }),
    }
}

async fn tags_of(ctx: &Ctx, arn: &str) -> Result<Vec<Tag>> {
    let call = ctx.aws.rds.list_tags_for_resource().resource_name(arn);
    let out = answer(call.send()).await?;
    Ok(out.tag_list().to_vec())
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut groups = Vec::new();
    let mut pages = ctx
        .aws
        .rds
        .describe_db_subnet_groups()
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        groups.extend(page.db_subnet_groups().iter().cloned());
    }
    let mut found = Vec::new();
    for g in &groups {
        let (Some(name), Some(arn)) = (g.db_subnet_group_name(), g.db_subnet_group_arn()) else {
            continue;
        };
        if name == "default" {
            continue;
        }
        let wanted = desired.iter().find(|r| r.name == name);
        let tags = tags_of(ctx, arn)
            .await
            .with_context(|| format!("reading tags of DB subnet group {name}"))?;
        let ours = tag(&tags, TAG_APP) == Some(ctx.app.as_str());
        match wanted {
            Some(_) if !ours => {
                return Err(not_owned(ctx, &format!("DB subnet group {name}"), RENAME))
            }
            Some(r) => found.push(observed(r.id.clone(), g)),
            None if ours => {
                let id = tag(&tags, TAG_RESOURCE).and_then(ResourceId::parse);
                if let Some(id) = id.filter(|id| !desired.iter().any(|r| &r.id == id)) {
                    found.push(observed(id, g));
                }
            }
            None => {}
        }
    }
    Ok(found)
}

/// The group named `name`; `None` when it does not exist.
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<DbSubnetGroup>> {
    let call = ctx
        .aws
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name(name);
    let gone = |e: &anyhow::Error| code_of(e) == Some("DBSubnetGroupNotFoundFault");
    let out = unless_gone(gone, answer(call.send()).await)?;
    Ok(out.and_then(|o| o.db_subnet_groups().first().cloned()))
}

fn outputs_of(g: &DbSubnetGroup) -> Outputs {
    Outputs::with_id(g.db_subnet_group_name().unwrap_or_default())
        .arn(g.db_subnet_group_arn().unwrap_or_default())
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &DbSubnetGroupSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let subnets = res.need_all(&s.subnets)?;
    let made = ctx
        .aws
        .rds
        .create_db_subnet_group()
        .db_subnet_group_name(&r.name)
        .db_subnet_group_description(&s.description)
        .set_subnet_ids(Some(subnets))
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
        .send()
        .await
        .map_err(err);
    match made {
        Ok(out) => {
            let g = out
                .db_subnet_group()
                .ok_or_else(|| anyhow!("CreateDBSubnetGroup answered without a group"))?;
            Ok(outputs_of(g))
        }
        // An earlier create whose answer was lost: adopt the group when it is ours.
        Err(e) if code_of(&e) == Some("DBSubnetGroupAlreadyExists") => {
            let g = describe(ctx, &r.name).await?.ok_or(e)?;
            let tags = tags_of(ctx, g.db_subnet_group_arn().unwrap_or_default()).await?;
            if tag(&tags, TAG_RESOURCE) != Some(r.id.to_string().as_str())
                || tag(&tags, TAG_APP) != Some(ctx.app.as_str())
            {
                return Err(not_owned(
                    ctx,
                    &format!("DB subnet group {}", r.name),
                    RENAME,
                ));
            }
            update_group(ctx, r, s, &g, res).await
        }
        Err(e) => Err(e),
    }
    .with_context(|| format!("creating DB subnet group {}", r.name))
}

async fn update_group(
    ctx: &Ctx,
    r: &Resource,
    s: &DbSubnetGroupSpec,
    g: &DbSubnetGroup,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if fields_of(g) == want {
        return Ok(outputs_of(g));
    }
    let subnets: Vec<String> = field_strings(&want["subnet_ids"]);
    let description = want["description"].as_str().unwrap_or_default();
    let call = ctx
        .aws
        .rds
        .modify_db_subnet_group()
        .db_subnet_group_name(&r.name);
    let call = call.db_subnet_group_description(description);
    sent(call.set_subnet_ids(Some(subnets)).send())
        .await
        .with_context(|| format!("modifying DB subnet group {}", r.name))?;
    match describe(ctx, &r.name).await? {
        Some(g) => Ok(outputs_of(&g)),
        // moto 5.2.5's ModifyDBSubnetGroup drops the group from its store (a bug); AWS
        // never does this. Create it again so the run converges.
        None => Box::pin(create(ctx, r, s, res)).await,
    }
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &DbSubnetGroupSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    match describe(ctx, &r.name).await? {
        Some(g) => update_group(ctx, r, s, &g, res).await,
        None => bail!(
            "DB subnet group {} disappeared; run the command again",
            o.name
        ),
    }
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.outputs.id();
    // The group stays in use for a while after its instance is deleted.
    delete_when_free(
        ctx,
        |e| code_of(e) == Some("InvalidDBSubnetGroupStateFault"),
        || {
            ctx.aws
                .rds
                .delete_db_subnet_group()
                .db_subnet_group_name(name)
                .send()
        },
    )
    .await
    .with_context(|| format!("deleting DB subnet group {name}"))
}

#[cfg(test)]
mod tests {
    use crate::desired::Spec;
    use std::collections::BTreeMap;

    use aws_sdk_rds::types::Subnet;

    use super::*;
    use crate::desired::{DbSubnetGroupSpec, Kind, Ref, Val};

    #[test]
    fn observed_group_diffs_to_nothing() {
        let a = ResourceId::new(Kind::Subnet, "private-0");
        let b = ResourceId::new(Kind::Subnet, "private-1");
        let known: BTreeMap<ResourceId, Outputs> = [
            (a.clone(), Outputs::with_id("subnet-a")),
            (b.clone(), Outputs::with_id("subnet-b")),
        ]
        .into_iter()
        .collect();
        let spec = Spec::DbSubnetGroup(DbSubnetGroupSpec {
            description: "ecsdeploy demo database db".to_string(),
            subnets: vec![Val::Ref(Ref::id(&b)), Val::Ref(Ref::id(&a))],
        });
        let g = DbSubnetGroup::builder()
            .db_subnet_group_name("demo-db")
            .db_subnet_group_description("ecsdeploy demo database db")
            .vpc_id("vpc-1")
            .subnet_group_status("Complete")
            .subnets(Subnet::builder().subnet_identifier("subnet-b").build())
            .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
            .db_subnet_group_arn("arn:aws:rds:ap-northeast-1:1:subgrp:demo-db")
            .build();
        let o = observed(ResourceId::new(Kind::DbSubnetGroup, "db"), &g);
        assert_eq!(
            crate::plan::diff_fields(&o.fields, &spec.fields(&known)),
            vec![]
        );
        assert_eq!(o.outputs.id(), "demo-db");
        assert_eq!(o.state, "Complete");
    }
}
