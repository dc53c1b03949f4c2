//! ECS cluster: Container Insights setting. The desired cluster is found by name, orphans
//! (clusters tagged with the app but no longer in the config) through ListClusters; both are
//! described together, 100 per DescribeClusters call, with their tags and settings.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{Cluster, ClusterField, ClusterSetting, ClusterSettingName, Tag};
use futures::future::try_join_all;
use serde_json::json;

use super::{gone_ok, Ctx};
use crate::aws::{code_of, err};
use crate::desired::{
    Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

/// DescribeClusters accepts at most 100 clusters per call.
const DESCRIBE_BATCH: usize = 100;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let arns: Vec<String> = ctx
        .aws
        .ecs
        .list_clusters()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(err)?;
    // Desired names are described even when the listing (eventually consistent) lacks them.
    let names: Vec<String> = arns
        .iter()
        .map(|a| name_of_arn(a).to_string())
        .chain(wanted.keys().map(|n| n.to_string()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let described = try_join_all(names.chunks(DESCRIBE_BATCH).map(|c| describe(ctx, c))).await?;

    let mut found = Vec::new();
    for c in described.iter().flatten() {
        // INACTIVE clusters linger in DescribeClusters for a while after deletion.
        if c.status() != Some("ACTIVE") {
            continue;
        }
        let name = c.cluster_name().unwrap_or_default();
        let ours = tag(c.tags(), TAG_APP) == Some(ctx.app.as_str());
        let id = match wanted.get(name) {
            Some(id) if ours => (*id).clone(),
            Some(_) => bail!(
                "ECS cluster {name} exists but is not owned by app {} (tag {TAG_APP}); \
                 rename it in the config or delete it",
                ctx.app
            ),
            None => match tag(c.tags(), TAG_RESOURCE).and_then(ResourceId::parse) {
                Some(id) if ours && id.kind == Kind::Cluster && !desired_ids.contains(&id) => id,
                _ => continue,
            },
        };
        found.push(observed(id, c));
    }
    Ok(found)
}

async fn describe(ctx: &Ctx, names: &[String]) -> Result<Vec<Cluster>> {
    let out = ctx
        .aws
        .ecs
        .describe_clusters()
        .set_clusters(Some(names.to_vec()))
        .include(ClusterField::Tags)
        // Without SETTINGS, AWS leaves the settings out of the answer.
        .include(ClusterField::Settings)
        .send()
        .await
        .map_err(err)?;
    Ok(out.clusters().to_vec())
}

/// `arn:aws:ecs:region:account:cluster/name` → `name`.
fn name_of_arn(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, n)| n)
}

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The Container Insights value; AWS omits the setting on clusters where it was never set,
/// which means disabled.
fn container_insights(c: &Cluster) -> &str {
    c.settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value())
        .unwrap_or("disabled")
}

fn observed(id: ResourceId, c: &Cluster) -> Observed {
    let name = c.cluster_name().unwrap_or_default();
    let fields: Fields = [("container_insights", json!(container_insights(c)))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Observed {
        id,
        name: name.to_string(),
        outputs: outputs(c),
        fields,
        state: c.status().unwrap_or("unknown").to_string(),
        details: json!({
            "running_tasks": c.running_tasks_count(),
            "active_services": c.active_services_count(),
        }),
    }
}

fn outputs(c: &Cluster) -> Outputs {
    Outputs::with_id(c.cluster_name().unwrap_or_default()).arn(c.cluster_arn().unwrap_or_default())
}

fn insights(value: &str) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(value)
        .build()
}

pub async fn create(ctx: &Ctx, r: &Resource, _res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Cluster(s) = &r.spec else {
        unreachable!()
    };
    let mut req = ctx
        .aws
        .ecs
        .create_cluster()
        .cluster_name(&r.name)
        .settings(insights(&s.container_insights));
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    let out = req.send().await.map_err(err)?;
    Ok(out.cluster().map(outputs).unwrap_or_default())
}

/// Settings go through UpdateCluster, which takes the same `settings` as
/// UpdateClusterSettings (the emulator only implements the former).
pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Cluster(s) = &r.spec else {
        unreachable!()
    };
    let want = r.spec.fields(res);
    if o.fields.get("container_insights") != want.get("container_insights") {
        ctx.aws
            .ecs
            .update_cluster()
            .cluster(o.outputs.id())
            .settings(insights(&s.container_insights))
            .send()
            .await
            .map_err(err)?;
    }
    Ok(o.outputs.clone())
}

/// True while the cluster still has services or tasks that are draining.
fn is_busy(e: &anyhow::Error) -> bool {
    matches!(
        code_of(e),
        Some("ClusterContainsServicesException" | "ClusterContainsTasksException")
    )
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.outputs.id().to_string();
    super::retry_until(ctx.delete_deadline, is_busy, || async {
        gone_ok(
            ctx.aws
                .ecs
                .delete_cluster()
                .cluster(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(err),
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_name_from_arn() {
        assert_eq!(
            name_of_arn("arn:aws:ecs:us-east-1:123456789012:cluster/shop-cluster"),
            "shop-cluster"
        );
        assert_eq!(name_of_arn("plain"), "plain");
    }

    #[test]
    fn absent_container_insights_means_disabled() {
        let bare = Cluster::builder().cluster_name("c").build();
        assert_eq!(container_insights(&bare), "disabled");
        let set = Cluster::builder()
            .cluster_name("c")
            .settings(insights("enhanced"))
            .build();
        assert_eq!(container_insights(&set), "enhanced");
    }
}
