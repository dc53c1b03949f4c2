//! Subnets: CIDR in an AZ of the app's VPC. Every field is immutable (a change is a
//! replacement, refused by `up`), so `update` has nothing to do.

use anyhow::Result;
use aws_sdk_ec2::types::{ResourceType, Subnet};
use serde_json::{json, Value};

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observe_owned, owned, owned_observation};
use super::support::field_map;
use super::support::no_sdk_retry;
use super::Ctx;
use crate::aws::is_dependency_violation;
use crate::desired::{Outputs, Resolve, Resource, SubnetSpec};
use crate::plan::Observed;

fn observed(s: &Subnet) -> Option<Observed> {
    owned_observation(s.tags(), s.subnet_id(), || {
        let fields = field_map([
            ("vpc_id", json!(s.vpc_id())),
            ("cidr_block", json!(s.cidr_block())),
            ("availability_zone", json!(s.availability_zone())),
        ]);
        let state = s.state().map_or("unknown", |x| x.as_str());
        (fields, state.to_string(), Value::Null)
    })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_subnets().filters(owned(ctx));
    observe_owned(described.send(), |out| out.subnets(), observed).await
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &SubnetSpec, res: &dyn Resolve) -> Result<Outputs> {
    let vpc_id = res.need(&s.vpc)?;
    let send = |tags| {
        ctx.aws
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(&s.cidr)
            .availability_zone(&s.az)
            .tag_specifications(tags)
            .customize()
            .config_override(no_sdk_retry())
            .send()
    };
    let id = create_tagged(ctx, r, ResourceType::Subnet, send, |out| {
        out.subnet()?.subnet_id()
    })
    .await?;
    Ok(Outputs::with_id(id))
}

/// Every field is immutable (a change is a replacement, refused by `up`).
pub use super::support::updates::unchanged as update;

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let subnet_id = o.outputs.id().to_string();
    // Task ENIs linger for minutes after a service is deleted: "The subnet 'subnet-...' has
    // dependencies and cannot be deleted." (DependencyViolation).
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws.ec2.delete_subnet().subnet_id(&subnet_id).send()
    })
    .await
}
