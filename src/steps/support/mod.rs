//! The support kit every kind module builds on (the kind modules import this, never each
//! other): ownership and its one error wording, tags per SDK, create-once for creates
//! without an idempotency token, the `update`s a kind need not write out (`updates`), and
//! per-service helpers more than one kind needs.
//! Error classification, retries, waits and client tokens are in `crate::aws`.

pub mod autoscaling;
pub mod cloudmap;
pub mod create_once;
pub mod ec2;
pub mod ecs_task;
pub mod efs;
pub mod elb;
pub mod elb_actions;
pub mod iam;
pub mod log_events;
pub mod one_off;
pub mod ownership;
pub mod revisions;
pub mod runs;
pub mod scheduler;
pub mod tags;
pub mod updates;

use std::future::Future;

use anyhow::Result;

use super::Ctx;
use crate::aws::{code_of, gone_ok, retry_until, sent};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

use crate::desired::{Fields, Resource};
use crate::plan::Observed;

pub use create_once::{create_once, no_sdk_retry, tagged};

/// The resource a create was told already exists, when `found` (what the kind's `observe`
/// found for `r`; observe refuses resources other apps own) holds it: typically a create
/// whose answer was lost and that was sent again. Otherwise the create's error `e`.
pub fn adopted(
    ctx: &Ctx,
    r: &Resource,
    found: Vec<Observed>,
    e: anyhow::Error,
) -> Result<Observed> {
    let o = found.into_iter().find(|o| o.id == r.id).ok_or(e)?;
    ctx.report.progress(
        &r.id.to_string(),
        &format!("already exists; adopting {}", o.outputs.id()),
    );
    Ok(o)
}

/// What a create made, or the resource it found in its way.
pub enum Made<T> {
    /// The create's answer.
    New(T),
    /// The resource exists already and is ours ([`adopted`]); the caller brings it to the
    /// desired state.
    Existing(Observed),
}

/// What the create answered (`made`); or, when it failed with the error code `exists` (a
/// create whose answer was lost and that was sent again), the resource the kind's
/// `observe` finds (observe refuses anyone else's; see [`adopted`]).
pub async fn made_or_existing<T>(
    ctx: &Ctx,
    r: &Resource,
    made: Result<T>,
    exists: &str,
    observe: impl AsyncFn(&Ctx, &[&Resource]) -> Result<Vec<Observed>>,
) -> Result<Made<T>> {
    match made {
        Err(e) if code_of(&e) == Some(exists) => {
            let found = observe(ctx, &[r]).await?;
            Ok(Made::Existing(adopted(ctx, r, found, e)?))
        }
        other => Ok(Made::New(other?)),
    }
}

/// Delete (or detach) with the SDK call `call` makes, sent again while `busy` says
/// something still holds the resource (until `ctx.delete_deadline`); already gone is
/// success. The call's answer is dropped ([`sent`]).
pub async fn delete_when_free<F, Fut, T, E, R>(
    ctx: &Ctx,
    busy: impl Fn(&anyhow::Error) -> bool,
    mut call: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    gone_ok(retry_until(ctx.delete_deadline, busy, || sent(call())).await)
}

/// Observed fields from `(name, value)` pairs.
pub fn field_map<const N: usize>(pairs: [(&str, Value); N]) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Observed fields from the members of a JSON object (none when `v` is not an object).
pub fn object_fields(v: Value) -> Fields {
    match v {
        Value::Object(members) => members.into_iter().collect(),
        _ => Fields::new(),
    }
}

/// The strings of a field holding a JSON array of strings (none when it holds no array).
pub fn field_strings<C: FromIterator<String>>(v: &Value) -> C {
    let strings = v.as_array().into_iter().flatten().filter_map(Value::as_str);
    strings.map(str::to_string).collect()
}
