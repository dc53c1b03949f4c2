//! ELBv2 helpers the load balancer, target group, listener and listener rule steps share:
//! tags read back in batches, ownership by tags, the app's load balancers and listeners.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer};
use futures::future::try_join_all;

use super::ownership;
use crate::aws::{answer, bounded, gone_ok_if, is_elb_gone, FAN_OUT};
use crate::desired::{Kind, ResourceId, TAG_APP, TAG_RESOURCE};
use crate::steps::Ctx;

/// DescribeTags takes at most 20 resource ARNs per call.
const TAGS_BATCH: usize = 20;

/// A resource's tags, key → value.
pub type Tags = BTreeMap<String, String>;

/// True when the tags name this app as the owner.
pub fn is_ours(ctx: &Ctx, tags: Option<&Tags>) -> bool {
    ownership::is_ours(ctx, tags.and_then(|t| t.get(TAG_APP)).map(String::as_str))
}

/// The logical id in an owned resource's tags, if it is of `kind`.
pub fn owned_id(ctx: &Ctx, tags: Option<&Tags>, kind: Kind) -> Option<ResourceId> {
    if !is_ours(ctx, tags) {
        return None;
    }
    tags?
        .get(TAG_RESOURCE)
        .and_then(|s| ResourceId::parse(s))
        .filter(|id| id.kind == kind)
}

/// The id of an owned resource the config does not have under this name. When the config
/// still has its id (the name was changed in the config), it gets an id of its own,
/// `<id>@<name>`, so that it is deleted like any orphan (after what used it has moved to its
/// successor) instead of standing in for the desired resource.
pub fn orphan_id(id: ResourceId, name: &str, desired: &BTreeSet<&ResourceId>) -> ResourceId {
    if desired.contains(&id) {
        ResourceId::new(id.kind, format!("{}@{name}", id.name))
    } else {
        id
    }
}

/// Load balancer or target group attributes as key → value; `kv` reads one's key and value.
pub fn attribute_map<'a, A>(
    attrs: &'a [A],
    kv: impl Fn(&'a A) -> (Option<&'a str>, Option<&'a str>),
) -> BTreeMap<String, String> {
    let pair = |a| match kv(a) {
        (Some(k), Some(v)) => Some((k.to_string(), v.to_string())),
        _ => None,
    };
    attrs.iter().filter_map(pair).collect()
}

/// `arn:...:listener/app/name/lb-id/listener-id` → `listener-id`.
pub fn last_segment(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, s)| s)
}

/// Tags of the given resources (any ELBv2 kind), 20 ARNs per call, [`FAN_OUT`] calls at a
/// time (an account may hold thousands of target groups). A resource deleted meanwhile is
/// left out.
pub async fn tags_of(ctx: &Ctx, arns: &[String]) -> Result<BTreeMap<String, Tags>> {
    let batches = arns.chunks(TAGS_BATCH).map(|chunk| async move {
        match describe_tags(ctx, chunk).await {
            Err(e) if is_elb_gone(&e) => {
                // One of them is gone: ask one by one and skip the missing.
                let mut found = Vec::new();
                for arn in chunk {
                    match describe_tags(ctx, std::slice::from_ref(arn)).await {
                        Ok(t) => found.extend(t),
                        Err(e) if is_elb_gone(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(found)
            }
            other => other,
        }
    });
    Ok(bounded(batches, FAN_OUT)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

async fn describe_tags(ctx: &Ctx, arns: &[String]) -> Result<Vec<(String, Tags)>> {
    let arns = Some(arns.to_vec());
    let call = ctx.aws.elb.describe_tags().set_resource_arns(arns);
    let out = answer(call.send()).await?;
    Ok(out
        .tag_descriptions()
        .iter()
        .filter_map(|d| {
            let tags = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect();
            Some((d.resource_arn()?.to_string(), tags))
        })
        .collect())
}

/// Every load balancer in the region with its tags.
pub async fn all_with_tags(ctx: &Ctx) -> Result<Vec<(LoadBalancer, Tags)>> {
    let call = ctx.aws.elb.describe_load_balancers();
    let lbs: Vec<LoadBalancer> = answer(call.into_paginator().items().send().try_collect()).await?;
    let arns: Vec<String> = lbs
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect();
    let mut tags = tags_of(ctx, &arns).await?;
    Ok(lbs
        .into_iter()
        .filter_map(|l| {
            let t = tags.remove(l.load_balancer_arn()?)?;
            Some((l, t))
        })
        .collect())
}

/// The load balancers this app owns, as (ARN, name).
pub async fn owned_load_balancers(ctx: &Ctx) -> Result<Vec<(String, String)>> {
    Ok(all_with_tags(ctx)
        .await?
        .into_iter()
        .filter(|(_, t)| is_ours(ctx, Some(t)))
        .filter_map(|(l, _)| {
            Some((
                l.load_balancer_arn()?.to_string(),
                l.load_balancer_name()?.to_string(),
            ))
        })
        .collect())
}

/// The listeners of a load balancer (none if it is gone).
pub async fn listeners_of(ctx: &Ctx, lb_arn: &str) -> Result<Vec<Listener>> {
    let call = ctx.aws.elb.describe_listeners().load_balancer_arn(lb_arn);
    let listed = answer(call.into_paginator().items().send().try_collect()).await;
    gone_ok_if(is_elb_gone, listed)
}

/// The listeners of every load balancer the app owns.
pub async fn owned_listeners(ctx: &Ctx) -> Result<Vec<Listener>> {
    let lbs = owned_load_balancers(ctx).await?;
    Ok(
        try_join_all(lbs.iter().map(|(arn, _)| listeners_of(ctx, arn)))
            .await?
            .into_iter()
            .flatten()
            .collect(),
    )
}
