//! Non-idempotent creates (EC2's CreateVpc, CreateSubnet, ... take no client token that
//! every emulator honours; ECS's RegisterTaskDefinition takes none at all) must not run
//! twice because their answer was lost: the SDK would retry a 503 on its own and make a
//! second VPC or revision. So such a create is sent once, without the SDK's retries
//! ([`no_sdk_retry`]), and [`create_once`] decides what a transient failure means: it looks
//! the resource up first (EC2: by the ownership tags the create call itself set; a task
//! definition: the family's latest revision, if it is exactly the one being registered),
//! and creates again only when it is not there.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_ec2::types::Filter;

use crate::aws::{is_transient, jitter, not_yet_propagated, Backoff, PROPAGATION};
use crate::desired::{ResourceId, TAG_APP, TAG_RESOURCE};
use crate::steps::Ctx;

/// How long a create keeps trying after transient failures.
const CREATE_DEADLINE: Duration = Duration::from_secs(120);

/// How long a lookup waits for a resource whose create answer was lost to become visible
/// (EC2's describes are eventually consistent): delays between the lookups.
const FIND_DELAYS: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Config override for one EC2 call: no SDK retries (see the module doc).
pub fn no_sdk_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// EC2 filters for the resource whose ownership tags name this app and `id`.
pub fn tagged(ctx: &Ctx, id: &ResourceId) -> Vec<Filter> {
    vec![
        Filter::builder()
            .name(format!("tag:{TAG_APP}"))
            .values(ctx.app.clone())
            .build(),
        Filter::builder()
            .name(format!("tag:{TAG_RESOURCE}"))
            .values(id.to_string())
            .build(),
    ]
}

/// Run `create` (a single attempt, SDK retries off) until it succeeds. After a transient
/// failure ([`is_transient`]: 5xx, throttling, timeout, connection failure) the create may
/// or may not have happened: `find` looks for the resource by its ownership tags (a few
/// times, for eventual consistency) and its answer is returned when found; otherwise the
/// create is tried again on the [`Backoff`] schedule until [`CREATE_DEADLINE`]. Other errors are returned
/// as they are.
pub async fn create_once<T, C, CF, F, FF>(
    ctx: &Ctx,
    id: &ResourceId,
    mut create: C,
    mut find: F,
) -> Result<T>
where
    C: FnMut() -> CF,
    CF: Future<Output = Result<T>>,
    F: FnMut() -> FF,
    FF: Future<Output = Result<Option<T>>>,
{
    let mut backoff = Backoff::new(CREATE_DEADLINE);
    loop {
        let e = match create().await {
            Ok(v) => return Ok(v),
            Err(e) if is_transient(&e) => e,
            // What the create names was made a moment ago and is not visible yet (EC2's
            // `InvalidVpcID.NotFound` for a new VPC): nothing was created; send it again.
            Err(e) if not_yet_propagated(&e) && backoff.elapsed() < PROPAGATION => {
                if backoff.pause().await? {
                    continue;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if let Some(v) = find_settled(&mut find).await? {
            ctx.report.progress(
                &id.to_string(),
                &format!("create answered `{e}` but had happened; using the created one"),
            );
            return Ok(v);
        }
        if !backoff.pause().await? {
            return Err(e);
        }
    }
}

/// `find`, again after each of [`FIND_DELAYS`] while it finds nothing.
async fn find_settled<T, F, FF>(find: &mut F) -> Result<Option<T>>
where
    F: FnMut() -> FF,
    FF: Future<Output = Result<Option<T>>>,
{
    for delay in FIND_DELAYS {
        if let Some(v) = find().await? {
            return Ok(Some(v));
        }
        tokio::time::sleep(jitter(delay)).await;
    }
    find().await
}
