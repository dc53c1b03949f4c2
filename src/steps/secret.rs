//! Secrets Manager secrets that ecsdeploy generates (existing ones are only referenced),
//! including each database's master password. The value is drawn by Secrets Manager
//! (GetRandomPassword) once, at creation, and never changed, logged or kept: only the
//! description is managed afterwards. (The one exception is a database's secret when the
//! database step moves an older database off RDS-managed passwords: it writes the
//! database's current password there, see `db_instance`.) A secret deleted by
//! `down --delete-data` stays recoverable for 7 days; `up` within that window restores it
//! with its old value.

use anyhow::{bail, Context, Result};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::ownership::not_owned;
use super::support::tags::owned_tags;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{code_of, err, is_gone, sent};
use crate::desired::SecretSpec;
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

/// `Observed.state` of a secret deleted with a recovery window.
const SCHEDULED: &str = "scheduled for deletion";

/// Days a deleted secret stays recoverable.
const RECOVERY_DAYS: i64 = 7;

/// What observe needs of a secret, from DescribeSecret or a ListSecrets entry. No value.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    name: String,
    arn: String,
    description: String,
    tags: Vec<Tag>,
    scheduled: bool,
    last_changed: Option<String>,
}

impl Seen {
    fn of_describe(d: &DescribeSecretOutput) -> Seen {
        Seen {
            name: d.name().unwrap_or_default().to_string(),
            arn: d.arn().unwrap_or_default().to_string(),
            description: d.description().unwrap_or_default().to_string(),
            tags: d.tags().to_vec(),
            scheduled: d.deleted_date().is_some(),
            last_changed: d.last_changed_date().map(|t| t.to_string()),
        }
    }

    fn ours(&self, app: &str) -> bool {
        tag(&self.tags, TAG_APP) == Some(app)
    }
}

/// Normal form: the description. A secret scheduled for deletion reads as such, so the
/// plan shows it is restored (by `update`).
fn fields_of(s: &Seen) -> Fields {
    let description = if s.scheduled {
        format!("({SCHEDULED})")
    } else {
        s.description.clone()
    };
    [("description".to_string(), Value::String(description))]
        .into_iter()
        .collect()
}

fn observed(id: ResourceId, s: &Seen) -> Observed {
    Observed {
        id,
        name: s.name.clone(),
        outputs: Outputs::with_id(&s.name).arn(&s.arn),
        fields: fields_of(s),
        state: if s.scheduled { SCHEDULED } else { "active" }.to_string(),
        // Names and dates only; never a value.
        details: json!({ "last_changed": s.last_changed }),
    }
}

/// One secret by name or ARN; `None` when there is none. DescribeSecret is consistent and
/// also answers for secrets scheduled for deletion (ListSecrets lags by minutes).
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Seen>> {
    match ctx.aws.secrets.describe_secret().secret_id(id).send().await {
        Ok(d) => Ok(Some(Seen::of_describe(&d))),
        Err(e) => {
            let e = err(e);
            if is_gone(&e) {
                Ok(None)
            } else {
                Err(e).with_context(|| format!("describing secret {id}"))
            }
        }
    }
}

/// The app's live secrets, by their ownership tags (ListSecrets filters match prefixes,
/// so the tags are checked again here).
async fn owned(ctx: &Ctx) -> Result<Vec<Seen>> {
    let mut out = Vec::new();
    let mut pages = ctx
        .aws
        .secrets
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(TAG_APP)
                .build(),
        )
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values(&ctx.app)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        out.extend(page.secret_list().iter().map(|s| Seen {
            name: s.name().unwrap_or_default().to_string(),
            arn: s.arn().unwrap_or_default().to_string(),
            description: s.description().unwrap_or_default().to_string(),
            tags: s.tags().to_vec(),
            scheduled: s.deleted_date().is_some(),
            last_changed: s.last_changed_date().map(|t| t.to_string()),
        }));
    }
    Ok(out.into_iter().filter(|s| s.ours(&ctx.app)).collect())
}

/// The error for a secret of the configured name that another app owns.
fn refuse(ctx: &Ctx, r: &Resource) -> anyhow::Error {
    let remedy = format!(
        "give the generated secret another name (secrets.{}.name) or use the existing one \
         with `existing`",
        r.id.name
    );
    not_owned(ctx, &format!("secret {}", r.name), &remedy)
}

/// Desired secrets by name (DescribeSecret, concurrently; one scheduled for deletion is
/// reported as such) and the app's orphans (ListSecrets by tag; ones already scheduled for
/// deletion are on their way out and left alone).
pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let (wanted, listed) = futures::try_join!(
        try_join_all(desired.iter().map(|r| describe(ctx, &r.name))),
        owned(ctx)
    )?;
    let mut found = Vec::new();
    for (r, s) in desired.iter().zip(wanted) {
        let Some(s) = s else { continue };
        if !s.ours(&ctx.app) {
            return Err(refuse(ctx, r));
        }
        found.push(observed(r.id.clone(), &s));
    }
    for s in listed {
        if s.scheduled || desired.iter().any(|r| r.name == s.name) {
            continue;
        }
        let Some(id) = tag(&s.tags, TAG_RESOURCE).and_then(ResourceId::parse) else {
            continue;
        };
        if found.iter().all(|o| o.id != id) {
            found.push(observed(id, &s));
        }
    }
    Ok(found)
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &SecretSpec, res: &dyn Resolve) -> Result<Outputs> {
    // A secret of that name deleted by `down --delete-data` and still recoverable: restore
    // it (and its value) rather than fail on the name.
    if let Some(existing) = describe(ctx, &r.name).await? {
        if existing.scheduled && existing.ours(&ctx.app) {
            return update(ctx, r, s, &observed(r.id.clone(), &existing), res).await;
        }
    }
    let random = ctx
        .aws
        .secrets
        .get_random_password()
        .password_length(i64::from(s.length))
        .set_exclude_characters(
            (!s.exclude_characters.is_empty()).then(|| s.exclude_characters.clone()),
        )
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
    let Some(random) = random.random_password() else {
        bail!("GetRandomPassword answered no value for secret {}", r.name);
    };
    let value = match &s.json_username {
        Some(username) => json!({ "username": username, "password": random }).to_string(),
        None => random.to_string(),
    };
    let mut req = ctx
        .aws
        .secrets
        .create_secret()
        .name(&r.name)
        .description(&s.description)
        .secret_string(value);
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    // The SDK sends the same ClientRequestToken on its retries, so AWS answers a retry of a
    // create that happened with success; moto answers ResourceExistsException.
    let e = match req.send().await {
        Ok(out) => return Ok(Outputs::with_id(&r.name).arn(out.arn().unwrap_or_default())),
        Err(e) => err(e),
    };
    // An earlier create whose answer was lost (ResourceExistsException), or a secret
    // scheduled for deletion in between (InvalidRequestException): adopt it if ours.
    if !matches!(
        code_of(&e),
        Some("ResourceExistsException" | "InvalidRequestException")
    ) {
        return Err(e).with_context(|| format!("creating secret {}", r.name));
    }
    match describe(ctx, &r.name).await? {
        Some(existing) if existing.ours(&ctx.app) => {
            ctx.report.progress(
                &r.id.to_string(),
                &format!("already exists; adopting {}", existing.name),
            );
            update(ctx, r, s, &observed(r.id.clone(), &existing), res).await
        }
        Some(_) => Err(e).context(refuse(ctx, r)),
        None => Err(e).with_context(|| format!("creating secret {}", r.name)),
    }
}

/// Restores a secret scheduled for deletion, then brings the description in line. Never
/// touches the value: rotating an app's keys would, e.g., log every WordPress user out.
pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    _spec: &SecretSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    let mut live = o.fields.get("description").cloned();
    if o.state == SCHEDULED {
        let call = ctx.aws.secrets.restore_secret().secret_id(o.outputs.id());
        sent(call.send())
            .await
            .with_context(|| format!("restoring secret {}", r.name))?;
        ctx.report.info(&format!(
            "restored secret {} (scheduled for deletion by an earlier `down --delete-data`) \
             with its old value",
            r.name
        ));
        live = describe(ctx, o.outputs.id())
            .await?
            .map(|s| Value::String(s.description));
    }
    if live.as_ref() != want.get("description") {
        let description = want["description"].as_str().unwrap_or_default();
        let call = ctx.aws.secrets.update_secret().secret_id(o.outputs.id());
        sent(call.description(description).send())
            .await
            .with_context(|| format!("updating the description of secret {}", r.name))?;
    }
    Ok(o.outputs.clone())
}

/// Schedules the secret for deletion with a 7-day recovery window (only `down
/// --delete-data` deletes secrets); one already scheduled is left as it is.
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    if o.state == SCHEDULED {
        ctx.report.info(&format!(
            "secret {} was already scheduled for deletion (recoverable until its window ends)",
            o.name
        ));
        return Ok(());
    }
    let call = ctx.aws.secrets.delete_secret().secret_id(o.outputs.id());
    let deleted = sent(call.recovery_window_in_days(RECOVERY_DAYS).send()).await;
    match deleted {
        Ok(()) => {}
        Err(e) if is_gone(&e) => return Ok(()),
        // "marked for deletion" (a delete whose answer was lost, or a stale listing).
        Err(e) if code_of(&e) == Some("InvalidRequestException") => {
            match describe(ctx, o.outputs.id()).await? {
                None => return Ok(()),
                Some(s) if s.scheduled => {}
                Some(_) => {
                    return Err(e).with_context(|| format!("deleting secret {}", o.name));
                }
            }
        }
        Err(e) => return Err(e).with_context(|| format!("deleting secret {}", o.name)),
    }
    ctx.report.info(&format!(
        "secret {} is scheduled for deletion: recoverable for {RECOVERY_DAYS} days \
         (`ecsdeploy up` restores it with its value)",
        o.name
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{Kind, SecretSpec};
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
            json_username: None,
        })
    }

    fn described(deleted: bool) -> DescribeSecretOutput {
        let b = DescribeSecretOutput::builder()
            .arn("arn:aws:secretsmanager:ap-northeast-1:1:secret:wp/auth-key-AbCdEf")
            .name("wp/auth-key")
            .description("ecsdeploy wp secret auth-key")
            .tags(Tag::builder().key(TAG_APP).value("wp").build())
            .tags(
                Tag::builder()
                    .key(TAG_RESOURCE)
                    .value("secret.auth-key")
                    .build(),
            );
        if deleted {
            b.deleted_date(aws_smithy_types::DateTime::from_secs(1))
                .build()
        } else {
            b.build()
        }
    }

    #[test]
    fn a_live_secret_diffs_to_nothing_and_a_deleted_one_is_restored() {
        let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        let id = ResourceId::new(Kind::Secret, "auth-key");
        let live = observed(id.clone(), &Seen::of_describe(&described(false)));
        assert_eq!(
            crate::plan::diff_fields(&live.fields, &spec().fields(&none)),
            vec![]
        );
        assert_eq!(live.state, "active");
        assert_eq!(live.outputs.id(), "wp/auth-key");
        assert!(live.outputs.0["arn"].ends_with("wp/auth-key-AbCdEf"));

        let deleted = observed(id, &Seen::of_describe(&described(true)));
        assert_eq!(deleted.state, SCHEDULED);
        let diffs = crate::plan::diff_fields(&deleted.fields, &spec().fields(&none));
        assert_eq!(diffs.len(), 1);
        assert_eq!(
            deleted.fields["description"],
            json!("(scheduled for deletion)")
        );
    }

    #[test]
    fn ownership_comes_from_the_tags() {
        let s = Seen::of_describe(&described(false));
        assert!(s.ours("wp"));
        assert!(!s.ours("wp2"));
        let untagged = Seen::of_describe(&DescribeSecretOutput::builder().name("x").build());
        assert!(!untagged.ours("wp"));
    }
}
