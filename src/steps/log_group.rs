//! CloudWatch Logs group: retention. Found by its exact name only (there is no cheap way to
//! search log groups by tag); ownership is read from its tags.

use anyhow::Result;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use serde_json::{json, Value};

use super::support::field_map;
use super::support::ownership::not_owned;
use super::support::{made_or_existing, Made};
use super::Ctx;
use crate::aws::{answer, err, gone_ok, sent};
use crate::desired::{Fields, LogGroupSpec, Outputs, Resolve, Resource, TAG_APP};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut found = Vec::new();
    for r in desired {
        let Some(g) = find(ctx, &r.name).await? else {
            continue;
        };
        let arn = arn_of(&g);
        let call = ctx.aws.logs.list_tags_for_resource().resource_arn(&arn);
        let tags = answer(call.send()).await?;
        let owner = tags.tags().and_then(|t| t.get(TAG_APP));
        if owner != Some(&ctx.app) {
            let what = format!("log group {}", r.name);
            return Err(not_owned(
                ctx,
                &what,
                "rename it in the config or delete it",
            ));
        }
        let fields: Fields = field_map([("retention_in_days", json!(g.retention_in_days()))]);
        found.push(Observed {
            id: r.id.clone(),
            name: r.name.clone(),
            outputs: Outputs::with_id(&r.name).arn(arn),
            fields,
            state: "ACTIVE".to_string(),
            details: match g.stored_bytes() {
                Some(b) => json!({ "stored_bytes": b }),
                None => Value::Null,
            },
        });
    }
    Ok(found)
}

/// The log group named exactly `name`: DescribeLogGroups only filters by prefix.
async fn find(ctx: &Ctx, name: &str) -> Result<Option<LogGroup>> {
    let mut pages = ctx
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        if let Some(g) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        {
            return Ok(Some(g.clone()));
        }
    }
    Ok(None)
}

/// The group's ARN without the `:*` suffix of the `arn` field: the tagging APIs want that
/// form (with the suffix, the emulator answers with no tags at all).
fn arn_of(g: &LogGroup) -> String {
    match (g.log_group_arn(), g.arn()) {
        (Some(a), _) => a.to_string(),
        (None, Some(a)) => a.strip_suffix(":*").unwrap_or(a).to_string(),
        (None, None) => String::new(),
    }
}

async fn put_retention(ctx: &Ctx, name: &str, days: i32) -> Result<()> {
    let call = ctx.aws.logs.put_retention_policy().log_group_name(name);
    sent(call.retention_in_days(days).send()).await
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &LogGroupSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let mut req = ctx.aws.logs.create_log_group().log_group_name(&r.name);
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(k, v);
    }
    let out = req.send().await.map_err(err);
    let exists = "ResourceAlreadyExistsException";
    if let Made::Existing(o) = made_or_existing(ctx, r, out, exists, observe).await? {
        return update(ctx, r, s, &o, res).await;
    }
    put_retention(ctx, &r.name, s.retention_days).await?;
    // CreateLogGroup answers nothing; read the ARN back.
    let outputs = Outputs::with_id(&r.name);
    Ok(match find(ctx, &r.name).await? {
        Some(g) => outputs.arn(arn_of(&g)),
        None => outputs,
    })
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    _spec: &LogGroupSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let days = want.get("retention_in_days").unwrap_or(&Value::Null);
    if o.fields.get("retention_in_days") != Some(days) {
        match days.as_i64() {
            Some(d) => put_retention(ctx, o.outputs.id(), i32::try_from(d)?).await?,
            None => {
                let call = ctx.aws.logs.delete_retention_policy();
                sent(call.log_group_name(o.outputs.id()).send()).await?;
            }
        }
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let call = ctx
        .aws
        .logs
        .delete_log_group()
        .log_group_name(o.outputs.id());
    gone_ok(sent(call.send()).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_drops_the_stream_wildcard() {
        let g = LogGroup::builder()
            .arn("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop:*")
            .build();
        assert_eq!(
            arn_of(&g),
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/shop"
        );
        let g = LogGroup::builder()
            .arn("arn:aws:logs:us-east-1:1:log-group:/x:*")
            .log_group_arn("arn:aws:logs:us-east-1:1:log-group:/x")
            .build();
        assert_eq!(arn_of(&g), "arn:aws:logs:us-east-1:1:log-group:/x");
    }
}
