//! EC2 helpers: ownership tags in create calls, owner filters, reading tags back, and
//! create-once for the EC2 creates that take no client token ([`create_tagged`]).

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::create_once::{create_once, tagged};
use super::tags::tag;
use crate::aws::{answer, err, err_classified};
use serde_json::Value;

use crate::desired::{Fields, Outputs, Resource, ResourceId, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;
use crate::steps::Ctx;

/// How long create waits for a NAT gateway or a VPC endpoint to become available.
pub const CREATE_WAIT: Duration = Duration::from_secs(600);

/// Tag specification for a create call: ownership tags land atomically with the resource.
pub fn tag_spec(ctx: &Ctx, rt: ResourceType, id: &ResourceId, name: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in ctx.tags(id, name) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

/// Filter matching every EC2 resource this app owns.
pub fn owned(ctx: &Ctx) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_APP}"))
        .values(ctx.app.clone())
        .build()
}

/// The logical id in a resource's ownership tag.
pub fn owned_id(tags: &[Tag]) -> Option<ResourceId> {
    tag(tags, TAG_RESOURCE).and_then(ResourceId::parse)
}

/// The `Name` tag, or the given fallback (the AWS id).
pub fn name_or(tags: &[Tag], fallback: &str) -> String {
    tag(tags, "Name").unwrap_or(fallback).to_string()
}

/// What observe reports for the owned EC2 resource `id` with AWS id `aws_id`: named by its
/// `Name` tag.
pub fn observation(
    id: ResourceId,
    tags: &[Tag],
    aws_id: &str,
    fields: Fields,
    state: impl Into<String>,
    details: Value,
) -> Observed {
    Observed {
        id,
        name: name_or(tags, aws_id),
        outputs: Outputs::with_id(aws_id),
        fields,
        state: state.into(),
        details,
    }
}

/// [`observation`] of the EC2 resource with these `tags` and AWS id, when it carries an
/// ownership tag and has an id (otherwise `None`): `describe` answers its fields, state
/// and details.
pub fn owned_observation(
    tags: &[Tag],
    aws_id: Option<&str>,
    describe: impl FnOnce() -> (Fields, String, Value),
) -> Option<Observed> {
    let id = owned_id(tags)?;
    let aws_id = aws_id?;
    let (fields, state, details) = describe();
    Some(observation(id, tags, aws_id, fields, state, details))
}

/// What observe reports: `call` lists the app's resources (a describe call filtered by
/// [`owned`]), `items` picks them out of its answer, and `observed` reports each one it
/// recognises (see [`owned_observation`]).
pub async fn observe_owned<O, T, E, R>(
    call: impl Future<Output = Result<O, SdkError<E, R>>>,
    items: impl Fn(&O) -> &[T],
    observed: impl Fn(&T) -> Option<Observed>,
) -> Result<Vec<Observed>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let out = call.await.map_err(err)?;
    Ok(items(&out).iter().filter_map(observed).collect())
}

/// Create the EC2 resource `r` of type `rt` once (see [`create_once`]) and answer its id:
/// `send` sends the create call with the ownership tags it is given ([`tag_spec`]) and SDK
/// retries off ([`no_sdk_retry`]), and `id_of` reads the new resource's id from the answer
/// (empty when the answer has none). After a transient failure the resource is looked up
/// by those tags ([`find_tagged`]).
///
/// [`no_sdk_retry`]: super::create_once::no_sdk_retry
pub async fn create_tagged<S, SF, O, E>(
    ctx: &Ctx,
    r: &Resource,
    rt: ResourceType,
    send: S,
    id_of: impl Fn(&O) -> Option<&str>,
) -> Result<String>
where
    S: Fn(TagSpecification) -> SF,
    SF: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let create = || async {
        let tags = tag_spec(ctx, rt.clone(), &r.id, &r.name);
        let out = send(tags).await.map_err(err_classified)?;
        Ok(id_of(&out).unwrap_or_default().to_string())
    };
    create_once(ctx, &r.id, create, || find_tagged(ctx, &rt, &r.id)).await
}

/// The id of the EC2 resource of type `rt` whose ownership tags name this app and `id`.
pub async fn find_tagged(ctx: &Ctx, rt: &ResourceType, id: &ResourceId) -> Result<Option<String>> {
    let ec2 = &ctx.aws.ec2;
    let filters = Some(tagged(ctx, id));
    let found = match rt {
        ResourceType::Vpc => {
            let out = answer(ec2.describe_vpcs().set_filters(filters).send()).await?;
            first_id(out.vpcs(), |v| v.vpc_id())
        }
        ResourceType::Subnet => {
            let out = answer(ec2.describe_subnets().set_filters(filters).send()).await?;
            first_id(out.subnets(), |s| s.subnet_id())
        }
        ResourceType::InternetGateway => {
            let call = ec2.describe_internet_gateways().set_filters(filters);
            let out = answer(call.send()).await?;
            first_id(out.internet_gateways(), |g| g.internet_gateway_id())
        }
        ResourceType::RouteTable => {
            let call = ec2.describe_route_tables().set_filters(filters);
            let out = answer(call.send()).await?;
            first_id(out.route_tables(), |t| t.route_table_id())
        }
        ResourceType::SecurityGroup => {
            let call = ec2.describe_security_groups().set_filters(filters);
            let out = answer(call.send()).await?;
            first_id(out.security_groups(), |g| g.group_id())
        }
        ResourceType::ElasticIp => {
            let out = answer(ec2.describe_addresses().set_filters(filters).send()).await?;
            first_id(out.addresses(), |a| a.allocation_id())
        }
        other => anyhow::bail!("no lookup by tags for EC2 {}", other.as_str()),
    };
    Ok(found)
}

/// The id `id_of` reads from the first of `items`, if there is one.
fn first_id<T>(items: &[T], id_of: impl Fn(&T) -> Option<&str>) -> Option<String> {
    items.first().and_then(id_of).map(str::to_string)
}
