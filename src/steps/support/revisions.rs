//! A task-definition family's revisions: listing the ACTIVE ones, deregistering them, and
//! pruning those beyond `keep_revisions` once a service deployment has settled. The
//! task-definition step deletes with it and the service step prunes with it.

use anyhow::Result;
use aws_sdk_ecs::types::TaskDefinitionStatus;

use crate::aws::{bounded, err, gone_ok, sent, FAN_OUT};
use crate::steps::Ctx;

/// Deregister every ACTIVE revision of `family` (not just the latest).
pub async fn deregister_all(ctx: &Ctx, family: &str) -> Result<()> {
    let arns = active_revisions(ctx, family).await?;
    deregister(ctx, &arns).await
}

/// After a deploy: deregisters the ACTIVE revisions of `family` beyond the newest `keep`,
/// except those in `in_use` (the task definitions of the service's deployments). Returns
/// how many went. `keep` 0 keeps all.
pub async fn prune(ctx: &Ctx, family: &str, keep: u32, in_use: &[String]) -> Result<usize> {
    if keep == 0 {
        return Ok(0);
    }
    let arns = active_revisions(ctx, family).await?;
    let old = beyond(arns, keep as usize, in_use);
    deregister(ctx, &old).await?;
    Ok(old.len())
}

/// The revisions of `arns` beyond the newest `keep` (by revision number), but none in
/// `in_use`.
fn beyond(mut arns: Vec<String>, keep: usize, in_use: &[String]) -> Vec<String> {
    let revision = |a: &String| {
        a.rsplit(':')
            .next()
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0)
    };
    arns.sort_by_key(|a| std::cmp::Reverse(revision(a)));
    arns.into_iter()
        .skip(keep)
        .filter(|a| !in_use.contains(a))
        .collect()
}

/// A few at a time: a family may have hundreds of revisions (aws::bounded).
async fn deregister(ctx: &Ctx, arns: &[String]) -> Result<()> {
    let calls = arns.iter().map(|arn| {
        let call = ctx
            .aws
            .ecs
            .deregister_task_definition()
            .task_definition(arn);
        async move { gone_ok(sent(call.send()).await) }
    });
    bounded(calls, FAN_OUT).await?;
    Ok(())
}

/// The ACTIVE revisions of exactly `family`.
async fn active_revisions(ctx: &Ctx, family: &str) -> Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut pages = ctx
        .aws
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(err)?;
        // familyPrefix also matches longer families (`web` matches `web2`): keep exact ones.
        arns.extend(
            page.task_definition_arns()
                .iter()
                .filter(|a| family_of(a) == Some(family))
                .cloned(),
        );
    }
    Ok(arns)
}

/// `arn:aws:ecs:region:acct:task-definition/family:3` → `family`.
pub fn family_of(arn: &str) -> Option<&str> {
    arn.rsplit_once('/')?.1.rsplit_once(':').map(|(f, _)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_from_arn() {
        let arn = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/demo-web:12";
        assert_eq!(family_of(arn), Some("demo-web"));
    }

    #[test]
    fn beyond_keeps_the_newest_and_those_in_use() {
        let arn = |r: u32| format!("arn:aws:ecs:r:1:task-definition/web:{r}");
        let all: Vec<String> = [3, 12, 1, 11, 2, 10].iter().map(|r| arn(*r)).collect();
        assert_eq!(beyond(all.clone(), 3, &[]), [arn(3), arn(2), arn(1)]);
        assert_eq!(beyond(all.clone(), 3, &[arn(2)]), [arn(3), arn(1)]);
        assert!(beyond(all, 10, &[]).is_empty());
    }
}
