//! Secrets Manager secrets that ecsdeploy generates (existing ones are only referenced).
//! The value is drawn by Secrets Manager (GetRandomPassword) once, at creation, and never
//! changed, logged or kept: only the description is managed afterwards. A secret deleted by
//! `down --delete-data` stays recoverable for 7 days; `up` within that window restores it
//! with its old value.

use anyhow::{bail, Context, Result};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry, Tag};
use serde_json::{json, Value};

use super::Ctx;
use crate::aws::{code_of, err};
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

const SCHEDULED: &str = "scheduled for deletion";

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Normal form: the description; a secret scheduled for deletion reads as having none, so
/// the plan updates (restores) it.
fn fields_of(s: &SecretListEntry) -> Fields {
    let description = if s.deleted_date().is_some() {
        Value::Null
    } else {
        json!(s.description().unwrap_or_default())
    };
    [("description".to_string(), description)]
        .into_iter()
        .collect()
}

fn observed(id: ResourceId, s: &SecretListEntry) -> Observed {
    let name = s.name().unwrap_or_default().to_string();
    Observed {
        id,
        outputs: Outputs::with_id(&name).arn(s.arn().unwrap_or_default()),
        name,
        fields: fields_of(s),
        state: if s.deleted_date().is_some() {
            SCHEDULED.to_string()
        } else {
            "active".to_string()
        },
        // Names and dates only; never a value.
        details: json!({ "last_changed": s.last_changed_date().map(|d| d.to_string()) }),
    }
}

/// Every secret the app owns (including ones scheduled for deletion), plus any secret with
/// a desired name.
async fn list(ctx: &Ctx, names: &[&str]) -> Result<Vec<SecretListEntry>> {
    let mut out = Vec::new();
    let mut pages = ctx
        .aws
        .secrets
        .list_secrets()
        .include_planned_deletion(true)
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(TAG_APP)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        out.extend(page.secret_list().iter().cloned());
    }
    for name in names {
        if out.iter().any(|s| s.name() == Some(name)) {
            continue;
        }
        if let Some(s) = describe(ctx, name).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// One secret by name, in the shape ListSecrets gives.
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<SecretListEntry>> {
    match ctx
        .aws
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
    {
        Ok(d) => Ok(Some(
            SecretListEntry::builder()
                .set_arn(d.arn().map(str::to_string))
                .set_name(d.name().map(str::to_string))
                .set_description(d.description().map(str::to_string))
                .set_tags(Some(d.tags().to_vec()))
                .set_deleted_date(d.deleted_date().cloned())
                .set_last_changed_date(d.last_changed_date().cloned())
                .build(),
        )),
        Err(e) => {
            let e = err(e);
            if super::is_gone(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let names: Vec<&str> = desired.iter().map(|r| r.name.as_str()).collect();
    let all = list(ctx, &names).await?;
    let mut found = Vec::new();
    for s in &all {
        let tags = s.tags();
        let ours = tag(tags, TAG_APP) == Some(ctx.app.as_str());
        if let Some(r) = desired.iter().find(|r| s.name() == Some(r.name.as_str())) {
            if !ours {
                bail!(
                    "secret {} exists but is not owned by app {} (tag {TAG_APP}); rename it \
                     in the config (secrets.{}.name) or use it with `existing`",
                    r.name,
                    ctx.app,
                    r.id.name
                );
            }
            found.push(observed(r.id.clone(), s));
        } else if ours {
            if let Some(id) = tag(tags, TAG_RESOURCE).and_then(ResourceId::parse) {
                // A deleted orphan is already on its way out.
                if s.deleted_date().is_none() {
                    found.push(observed(id, s));
                }
            }
        }
    }
    Ok(found)
}

pub async fn create(ctx: &Ctx, r: &Resource, _res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Secret(s) = &r.spec else {
        unreachable!()
    };
    let random = ctx
        .aws
        .secrets
        .get_random_password()
        .password_length(i64::from(s.length))
        .exclude_characters(&s.exclude_characters)
        .exclude_numbers(s.exclude_numbers)
        .exclude_punctuation(s.exclude_punctuation)
        .exclude_uppercase(s.exclude_uppercase)
        .exclude_lowercase(s.exclude_lowercase)
        .include_space(s.include_space)
        .require_each_included_type(s.require_each_included_type)
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("generating a value for secret {}", r.name))?;
    let value = random.random_password().unwrap_or_default();
    let mut req = ctx
        .aws
        .secrets
        .create_secret()
        .name(&r.name)
        .description(&s.description)
        .secret_string(value);
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    match req.send().await {
        Ok(out) => Ok(Outputs::with_id(&r.name).arn(out.arn().unwrap_or_default())),
        Err(e) => {
            let e = err(e);
            // An earlier create whose answer was lost, or a secret deleted by
            // `down --delete-data` and still in its recovery window: adopt it if ours.
            if code_of(&e) != Some("ResourceExistsException")
                && code_of(&e) != Some("InvalidRequestException")
            {
                return Err(e).with_context(|| format!("creating secret {}", r.name));
            }
            let Some(existing) = describe(ctx, &r.name).await? else {
                return Err(e).with_context(|| format!("creating secret {}", r.name));
            };
            if tag(existing.tags(), TAG_APP) != Some(ctx.app.as_str()) {
                return Err(e).with_context(|| {
                    format!(
                        "creating secret {}: a secret of that name exists and is not owned \
                         by app {}",
                        r.name, ctx.app
                    )
                });
            }
            let o = observed(r.id.clone(), &existing);
            update(ctx, r, &o, _res).await
        }
    }
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let want = r.spec.fields(res);
    if o.state == SCHEDULED {
        ctx.aws
            .secrets
            .restore_secret()
            .secret_id(o.outputs.id())
            .send()
            .await
            .map_err(err)
            .with_context(|| format!("restoring secret {}", r.name))?;
        ctx.report.info(&format!(
            "restored secret {} (scheduled for deletion by an earlier `down --delete-data`) \
             with its old value",
            r.name
        ));
    }
    let live = describe(ctx, o.outputs.id())
        .await?
        .map(|s| json!(s.description().unwrap_or_default()));
    if live.as_ref() != want.get("description") {
        // The value is never touched: rotating an app's keys would log everyone out.
        ctx.aws
            .secrets
            .update_secret()
            .secret_id(o.outputs.id())
            .description(want["description"].as_str().unwrap_or_default())
            .send()
            .await
            .map_err(err)
            .with_context(|| format!("updating the description of secret {}", r.name))?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    if o.state == SCHEDULED {
        return Ok(());
    }
    super::gone_ok(
        ctx.aws
            .secrets
            .delete_secret()
            .secret_id(o.outputs.id())
            .recovery_window_in_days(7)
            .send()
            .await
            .map(|_| ())
            .map_err(err),
    )?;
    ctx.report.info(&format!(
        "secret {} is scheduled for deletion: recoverable for 7 days (`ecsdeploy up` restores \
         it with its value)",
        o.name
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::SecretSpec;
    use std::collections::BTreeMap;

    fn spec() -> Spec {
        Spec::Secret(SecretSpec {
            description: "ecsdeploy wp secret auth-key".into(),
            length: 64,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        })
    }

    #[test]
    fn a_live_secret_diffs_to_nothing_and_a_deleted_one_is_restored() {
        let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        let live = SecretListEntry::builder()
            .name("wp/auth-key")
            .description("ecsdeploy wp secret auth-key")
            .build();
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&live), &spec().fields(&none)),
            vec![]
        );
        let deleted = SecretListEntry::builder()
            .name("wp/auth-key")
            .description("ecsdeploy wp secret auth-key")
            .deleted_date(aws_smithy_types::DateTime::from_secs(1))
            .build();
        assert_eq!(
            crate::plan::diff_fields(&fields_of(&deleted), &spec().fields(&none)).len(),
            1
        );
    }
}
