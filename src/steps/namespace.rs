//! Cloud Map HTTP namespace for Service Connect (the resource name is the namespace name).
//! Namespaces are listed (HTTP only) and their tags read one by one: ListNamespaces does not
//! return tags. Create and delete are asynchronous in Cloud Map: both answer with an
//! operation id that is polled until it succeeds or fails.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_sdk_servicediscovery::operation::create_http_namespace::CreateHttpNamespaceError;
use aws_sdk_servicediscovery::operation::delete_namespace::DeleteNamespaceError;
use aws_sdk_servicediscovery::types::{
    NamespaceSummary, NamespaceType, Operation, OperationStatus, OperationTargetType, Tag,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use super::support::cloudmap::list;
use super::support::ownership::{claim, not_owned};
use super::support::tags::owned_tags;
use super::Ctx;
use crate::aws::{
    answer, client_token, code_of, err, retry_until, Backoff, CONSISTENCY, TOKEN_ATTEMPTS,
};
use crate::desired::{
    Kind, NamespaceSpec, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE,
};
use crate::plan::Observed;

/// How long a Cloud Map operation (create, delete) may take.
const OPERATION_WAIT: Duration = Duration::from_secs(300);

/// How long a create is resent after transient failures.
const CREATE_RETRY: Duration = Duration::from_secs(120);

/// What to do about a namespace of the configured name that another app owns.
const USE_EXISTING: &str = "set service_connect.existing = true to use it";

/// Tag listings run this many at a time (one call per namespace).
const TAG_CONCURRENCY: usize = 8;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    // The TYPE filter is asked for, and checked again here (emulators ignore it).
    let http: Vec<NamespaceSummary> = list(ctx, true)
        .await?
        .into_iter()
        .filter(|n| n.r#type() == Some(&NamespaceType::Http))
        .collect();
    let tagged: Vec<(NamespaceSummary, BTreeMap<String, String>)> =
        futures::stream::iter(http.into_iter().map(|n| {
            let is_wanted = n.name().is_some_and(|x| wanted.contains_key(x));
            async move {
                let tags = match tags_of(ctx, n.arn().unwrap_or_default()).await {
                    Ok(t) => t,
                    // Someone else's namespace (shared from another account, or deleted a
                    // moment ago) that is not even named like ours: not ours.
                    Err(e) if !is_wanted && unreadable(&e) => BTreeMap::new(),
                    Err(e) => return Err(e),
                };
                Ok::<_, anyhow::Error>((n, tags))
            }
        }))
        .buffer_unordered(TAG_CONCURRENCY)
        .try_collect()
        .await?;

    let mut found = Vec::new();
    for (n, tags) in &tagged {
        let name = n.name().unwrap_or_default();
        let tags = (
            tags.get(TAG_APP).map(String::as_str),
            tags.get(TAG_RESOURCE).map(String::as_str),
        );
        let refuse = || not_owned(ctx, &format!("namespace {name}"), USE_EXISTING);
        let want = wanted.get(name).copied();
        let Some(id) = claim(ctx, Kind::Namespace, want, tags, &desired_ids, refuse)? else {
            continue;
        };
        found.push(observed(id, n));
    }
    Ok(found)
}

async fn tags_of(ctx: &Ctx, arn: &str) -> Result<BTreeMap<String, String>> {
    let call = ctx.aws.cloudmap.list_tags_for_resource().resource_arn(arn);
    let out = answer(call.send()).await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// Errors that say a namespace's tags cannot be read by us at all.
fn unreadable(e: &anyhow::Error) -> bool {
    matches!(
        code_of(e),
        Some("ResourceNotFoundException" | "AccessDeniedException" | "AccessDenied")
    )
}

fn observed(id: ResourceId, n: &NamespaceSummary) -> Observed {
    Observed {
        id,
        name: n.name().unwrap_or_default().to_string(),
        outputs: Outputs::with_id(n.id().unwrap_or_default()).arn(n.arn().unwrap_or_default()),
        fields: [("type".to_string(), json!("HTTP"))].into_iter().collect(),
        state: "available".to_string(),
        details: json!({ "services": n.service_count() }),
    }
}

/// The creator request id of a create: the same app and name give the same id, so a
/// create repeated after its answer was lost (by the next run) returns the first one's
/// operation instead of creating a second namespace. `attempt` moves on to a fresh id
/// when Cloud Map answers with the operation of a namespace deleted since.
fn creator_request_id(app: &str, name: &str, attempt: u32) -> String {
    client_token(&[app, "namespace", name], attempt)
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    _spec: &NamespaceSpec,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let key = r.id.to_string();
    let tags: Vec<Tag> = owned_tags(ctx, &r.id, &r.name)?;
    for attempt in 0..TOKEN_ATTEMPTS {
        let token = creator_request_id(&ctx.app, &r.name, attempt);
        // Sent once (SDK retries off): after a lost answer, Cloud Map honours the request id
        // on a resend, but an emulator may not, so the namespace is looked up first.
        let send = || {
            ctx.aws
                .cloudmap
                .create_http_namespace()
                .name(&r.name)
                .creator_request_id(&token)
                .description(format!("ecsdeploy app {}", ctx.app))
                .set_tags(Some(tags.clone()))
                .customize()
                .config_override(
                    aws_sdk_servicediscovery::config::Builder::default()
                        .retry_config(aws_config::retry::RetryConfig::disabled()),
                )
                .send()
        };
        let mut backoff = Backoff::new(CREATE_RETRY);
        let sent = loop {
            let sent = send().await;
            match &sent {
                Err(e) if crate::aws::is_transient_sdk(e) && backoff.elapsed() < CREATE_RETRY => {
                    if let Some(o) = observe(ctx, &[r]).await?.into_iter().find(|o| o.id == r.id) {
                        ctx.report.progress(
                            &key,
                            "create answered with an error but had happened; using it",
                        );
                        return Ok(o.outputs);
                    }
                    backoff.pause().await?;
                }
                _ => break sent,
            }
        };
        let op_id = match sent {
            Ok(out) => out
                .operation_id()
                .ok_or_else(|| anyhow!("CreateHttpNamespace answered without an operation id"))?
                .to_string(),
            Err(e) => match e.as_service_error() {
                // The same request is still being worked on: wait for that operation.
                Some(CreateHttpNamespaceError::DuplicateRequest(d))
                    if d.duplicate_operation_id().is_some() =>
                {
                    d.duplicate_operation_id().unwrap_or_default().to_string()
                }
                // An earlier run with this very request id made it.
                Some(CreateHttpNamespaceError::NamespaceAlreadyExists(x))
                    if x.creator_request_id() == Some(token.as_str()) =>
                {
                    let ns_id = x.namespace_id().unwrap_or_default().to_string();
                    match arn_of(ctx, &ns_id).await? {
                        Some(arn) => return Ok(Outputs::with_id(ns_id).arn(arn)),
                        None => continue,
                    }
                }
                Some(CreateHttpNamespaceError::NamespaceAlreadyExists(_)) => {
                    return Err(not_owned(
                        ctx,
                        &format!("namespace {}", r.name),
                        USE_EXISTING,
                    ))
                }
                _ => return Err(err(e)),
            },
        };
        let op = wait_operation(ctx, &key, &op_id).await?;
        let ns_id = op
            .targets()
            .and_then(|t| t.get(&OperationTargetType::Namespace))
            .ok_or_else(|| anyhow!("Cloud Map operation {op_id} names no namespace"))?
            .clone();
        match arn_of(ctx, &ns_id).await? {
            Some(arn) => return Ok(Outputs::with_id(ns_id).arn(arn)),
            // This request id's namespace was deleted since: Cloud Map answers with its
            // old operation.
            None => continue,
        }
    }
    bail!("CreateHttpNamespace kept answering with namespaces deleted since")
}

/// The ARN of a namespace, `None` when it does not exist (after a short wait: it may have
/// been created a moment ago).
async fn arn_of(ctx: &Ctx, ns_id: &str) -> Result<Option<String>> {
    let got = retry_until(
        Duration::from_secs(10),
        |e| code_of(e) == Some("NamespaceNotFound"),
        || async {
            let call = ctx.aws.cloudmap.get_namespace().id(ns_id);
            answer(call.send()).await
        },
    )
    .await;
    match got {
        Ok(out) => Ok(Some(
            out.namespace()
                .and_then(|n| n.arn())
                .ok_or_else(|| anyhow!("GetNamespace {ns_id} answered without an ARN"))?
                .to_string(),
        )),
        Err(e) if code_of(&e) == Some("NamespaceNotFound") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Poll a Cloud Map operation until it succeeds (its description is returned) or fails
/// (an error with Cloud Map's message), on the [`Backoff::watching`] schedule for at most 5 min.
async fn wait_operation(ctx: &Ctx, key: &str, op_id: &str) -> Result<Operation> {
    let mut backoff = Backoff::watching(OPERATION_WAIT);
    loop {
        let status = match ctx
            .aws
            .cloudmap
            .get_operation()
            .operation_id(op_id)
            .send()
            .await
        {
            Ok(out) => {
                let op = out
                    .operation()
                    .cloned()
                    .ok_or_else(|| anyhow!("GetOperation {op_id} answered without it"))?;
                match op.status() {
                    Some(OperationStatus::Success) => return Ok(op),
                    Some(OperationStatus::Fail) => bail!(
                        "Cloud Map operation {op_id} failed: {} ({})",
                        op.error_message().unwrap_or("no reason given"),
                        op.error_code().unwrap_or("no code")
                    ),
                    other => other.map_or("unknown", |s| s.as_str()).to_string(),
                }
            }
            // Not visible to every endpoint right after the call that started it.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_operation_not_found())
                    && backoff.elapsed() < CONSISTENCY =>
            {
                "SUBMITTED".to_string()
            }
            Err(e) => return Err(err(e)),
        };
        ctx.report
            .progress(key, &format!("operation {op_id} {status}"));
        if !backoff.pause().await? {
            bail!(
                "timed out after {} waiting for Cloud Map operation {op_id} ({status})",
                humantime::format_duration(OPERATION_WAIT)
            );
        }
    }
}

/// Nothing to change in place: an HTTP namespace only has its name.
pub use super::support::updates::unchanged as update;

/// True while Cloud Map still holds services in the namespace (ECS deregisters the
/// Service Connect services of deleted ECS services asynchronously).
fn in_use(e: &anyhow::Error) -> bool {
    code_of(e) == Some("ResourceInUse")
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let ns_id = o.outputs.id().to_string();
    let key = o.id.to_string();
    let op_id = retry_until(ctx.delete_deadline, in_use, || async {
        match ctx.aws.cloudmap.delete_namespace().id(&ns_id).send().await {
            Ok(out) => Ok(out.operation_id().map(str::to_string)),
            Err(e) => match e.as_service_error() {
                Some(DeleteNamespaceError::NamespaceNotFound(_)) => Ok(None),
                // A delete is already under way: wait for it.
                Some(DeleteNamespaceError::DuplicateRequest(d))
                    if d.duplicate_operation_id().is_some() =>
                {
                    Ok(d.duplicate_operation_id().map(str::to_string))
                }
                Some(DeleteNamespaceError::ResourceInUse(_)) => {
                    ctx.report
                        .progress(&key, "waiting for its services to be deregistered");
                    Err(err(e))
                }
                _ => Err(err(e)),
            },
        }
    })
    .await?;
    let Some(op_id) = op_id else {
        return Ok(()); // already gone
    };
    match wait_operation(ctx, &key, &op_id).await {
        Ok(_) => Ok(()),
        // The operation record went away with the namespace (emulators prune them).
        Err(e)
            if code_of(&e) == Some("OperationNotFound") && arn_of(ctx, &ns_id).await?.is_none() =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creator_request_id_is_deterministic_and_short() {
        let a = creator_request_id("shop", "local", 0);
        assert_eq!(a, creator_request_id("shop", "local", 0));
        assert_ne!(a, creator_request_id("shop", "local", 1));
        assert_ne!(a, creator_request_id("blog", "local", 0));
        assert!(a.len() <= 64, "{a}");
    }
}
