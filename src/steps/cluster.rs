//! ECS cluster: Container Insights setting and default Service Connect namespace. The
//! desired cluster is found by name, orphans (clusters tagged with the app but no longer in
//! the config) through ListClusters; both are described together, 100 per DescribeClusters
//! call, with their tags and settings.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Result;
use aws_sdk_ecs::types::{
    Cluster, ClusterField, ClusterServiceConnectDefaultsRequest, ClusterSetting, ClusterSettingName,
};
use futures::future::try_join_all;
use serde_json::json;

use super::support::cloudmap::{as_configured, forms_differ, literal, names_by_arn};
use super::support::delete_when_free;
use super::support::field_map;
use super::support::ownership::{claim, not_owned};
use super::support::tags::owned_tags;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{
    answer, code_of, err, not_yet_propagated, retry_until, retry_while_settling, PROPAGATION,
};
use crate::desired::{
    Attr, Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE,
};
use crate::desired::{ClusterSpec, FARGATE_PROVIDERS};
use crate::plan::Observed;

/// DescribeClusters accepts at most 100 clusters per call.
const DESCRIBE_BATCH: usize = 100;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    // The default namespace as the config writes it, when it names an existing one.
    let configured_ns: BTreeMap<&str, &str> = desired
        .iter()
        .filter_map(|r| match &r.spec {
            Spec::Cluster(s) => Some((
                r.name.as_str(),
                literal(s.service_connect_namespace.as_ref())?,
            )),
            _ => None,
        })
        .collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let call = ctx.aws.ecs.list_clusters();
    let arns: Vec<String> = answer(call.into_paginator().items().send().try_collect()).await?;
    // Desired names are described even when the listing (eventually consistent) lacks them.
    let names: Vec<String> = arns
        .iter()
        .map(|a| name_of_arn(a).to_string())
        .chain(wanted.keys().map(|n| n.to_string()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let described = try_join_all(names.chunks(DESCRIBE_BATCH).map(|c| describe(ctx, c))).await?;

    // ARN → name of every namespace, read only when a reported default namespace and the
    // configured one are written in different forms.
    let needs_names = described.iter().flatten().any(|c| {
        match (
            configured_ns.get(c.cluster_name().unwrap_or_default()),
            reported_namespace(c),
        ) {
            (Some(want), Some(got)) => forms_differ(got, want),
            _ => false,
        }
    });
    let names = if needs_names {
        names_by_arn(ctx).await?
    } else {
        BTreeMap::new()
    };

    let mut found = Vec::new();
    for c in described.iter().flatten() {
        // INACTIVE clusters linger in DescribeClusters for a while after deletion.
        if c.status() != Some("ACTIVE") {
            continue;
        }
        let name = c.cluster_name().unwrap_or_default();
        let tags = (tag(c.tags(), TAG_APP), tag(c.tags(), TAG_RESOURCE));
        let refuse = || {
            let what = format!("ECS cluster {name}");
            not_owned(ctx, &what, "rename it in the config or delete it")
        };
        let want = wanted.get(name).copied();
        let Some(id) = claim(ctx, Kind::Cluster, want, tags, &desired_ids, refuse)? else {
            continue;
        };
        let namespace = reported_namespace(c).map(|got| match configured_ns.get(name) {
            Some(want) => as_configured(got, want, &names),
            None => got.to_string(),
        });
        found.push(observed(id, c, namespace));
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

/// The Container Insights value; AWS omits the setting on clusters where it was never set,
/// which means disabled.
fn container_insights(c: &Cluster) -> &str {
    c.settings()
        .iter()
        .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
        .and_then(|s| s.value())
        .unwrap_or("disabled")
}

/// The default Service Connect namespace AWS reports (an ARN; emulators echo what they were
/// given). Removing it leaves an empty string in some answers: that means none.
fn reported_namespace(c: &Cluster) -> Option<&str> {
    c.service_connect_defaults()
        .and_then(|d| d.namespace())
        .filter(|n| !n.is_empty())
}

/// `namespace`: the reported default namespace, in the configured form when it is the
/// configured one.
fn observed(id: ResourceId, c: &Cluster, namespace: Option<String>) -> Observed {
    let name = c.cluster_name().unwrap_or_default();
    let mut providers: Vec<&str> = c.capacity_providers().iter().map(String::as_str).collect();
    providers.sort();
    let fields: Fields = field_map([
        ("container_insights", json!(container_insights(c))),
        ("service_connect_namespace", json!(namespace)),
        ("capacity_providers", json!(providers)),
    ]);
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
    let arn = c.cluster_arn().unwrap_or_default();
    // `arn:aws:ecs:<region>:<account>:` (what a job's scheduler role scopes RunTask with).
    let prefix = arn.split_once("cluster/").map_or("", |(p, _)| p);
    let account = arn.split(':').nth(4).unwrap_or_default();
    Outputs::with_id(c.cluster_name().unwrap_or_default())
        .arn(arn)
        .with(Attr::ArnPrefix, prefix)
        .with(Attr::Account, account)
}

fn insights(value: &str) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(value)
        .build()
}

/// The default Service Connect namespace to send; the empty name removes it.
fn sc_defaults(namespace: &str) -> Result<ClusterServiceConnectDefaultsRequest> {
    Ok(ClusterServiceConnectDefaultsRequest::builder()
        .namespace(namespace)
        .build()?)
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ClusterSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let mut req = ctx
        .aws
        .ecs
        .create_cluster()
        .cluster_name(&r.name)
        .settings(insights(&s.container_insights));
    if let Some(ns) = &s.service_connect_namespace {
        req = req.service_connect_defaults(sc_defaults(&res.need(ns)?)?);
    }
    if s.spot {
        req = req.set_capacity_providers(Some(providers()));
    }
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    // An account's first ECS use: the service-linked role is not assumable for a while.
    let out = retry_while_settling(PROPAGATION, not_yet_propagated, || {
        answer(req.clone().send())
    })
    .await?;
    Ok(out.cluster().map(outputs).unwrap_or_default())
}

/// Settings go through UpdateCluster, which takes the same `settings` as
/// UpdateClusterSettings (the emulator only implements the former), together with the
/// default Service Connect namespace, in one call.
pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ClusterSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    if s.spot && changed("capacity_providers") {
        put_providers(ctx, o.outputs.id()).await?;
    }
    if !changed("container_insights") && !changed("service_connect_namespace") {
        return Ok(o.outputs.clone());
    }
    let mut req = ctx.aws.ecs.update_cluster().cluster(o.outputs.id());
    if changed("container_insights") {
        req = req.settings(insights(&s.container_insights));
    }
    if changed("service_connect_namespace") {
        let ns = match &s.service_connect_namespace {
            Some(v) => res.need(v)?,
            None => String::new(),
        };
        req = req.service_connect_defaults(sc_defaults(&ns)?);
    }
    req.send().await.map_err(err)?;
    Ok(o.outputs.clone())
}

fn providers() -> Vec<String> {
    FARGATE_PROVIDERS.iter().map(|p| p.to_string()).collect()
}

/// How long a capacity provider change waits out another update of the cluster.
const PROVIDERS_UPDATE: Duration = Duration::from_secs(300);

/// Associates `FARGATE` and `FARGATE_SPOT` with the cluster (no default strategy: every
/// service names its own). A cluster still being created or updated refuses for a while:
/// terraform-provider-aws `retryClusterCapacityProvidersPut` retries "Cluster was not
/// ACTIVE", `ResourceInUseException` and `UpdateInProgressException`.
async fn put_providers(ctx: &Ctx, cluster: &str) -> Result<()> {
    let req = ctx
        .aws
        .ecs
        .put_cluster_capacity_providers()
        .cluster(cluster)
        .set_capacity_providers(Some(providers()))
        .set_default_capacity_provider_strategy(Some(vec![]));
    let busy = |e: &anyhow::Error| {
        matches!(
            code_of(e),
            Some("ResourceInUseException" | "UpdateInProgressException")
        ) || (code_of(e) == Some("ClientException")
            && e.to_string().contains("Cluster was not ACTIVE"))
    };
    retry_until(PROVIDERS_UPDATE, busy, || answer(req.clone().send())).await?;
    Ok(())
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
    delete_when_free(ctx, is_busy, || {
        ctx.aws.ecs.delete_cluster().cluster(&name).send()
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

    fn with_namespace(ns: &str) -> Cluster {
        Cluster::builder()
            .cluster_name("c")
            .service_connect_defaults(
                aws_sdk_ecs::types::ClusterServiceConnectDefaults::builder()
                    .namespace(ns)
                    .build(),
            )
            .build()
    }

    #[test]
    fn removed_default_namespace_reads_as_none() {
        assert_eq!(reported_namespace(&with_namespace("")), None);
        assert_eq!(reported_namespace(&Cluster::builder().build()), None);
        assert_eq!(reported_namespace(&with_namespace("local")), Some("local"));
    }

    #[test]
    fn observed_fields_match_the_desired_ones() {
        use crate::desired::{ClusterSpec, NoRefs, Val};
        let arn = "arn:aws:servicediscovery:ap-northeast-1:1:namespace/ns-abc";
        for (ns, spot) in [(Some(arn), false), (None, false), (None, true)] {
            let spec = Spec::Cluster(ClusterSpec {
                container_insights: "disabled".into(),
                service_connect_namespace: ns.map(Val::lit),
                spot,
            });
            let mut c = ns.map_or_else(
                || Cluster::builder().cluster_name("c").build(),
                with_namespace,
            );
            if spot {
                // AWS lists them in the order they were associated.
                c.capacity_providers = Some(vec!["FARGATE_SPOT".into(), "FARGATE".into()]);
            }
            let mut o = observed(
                ResourceId::new(Kind::Cluster, "main"),
                &c,
                reported_namespace(&c).map(str::to_string),
            );
            for k in spec.unmanaged_fields() {
                o.fields.remove(*k);
            }
            assert_eq!(
                crate::plan::diff_fields(&o.fields, &spec.fields(&NoRefs)),
                vec![]
            );
        }
    }
}
