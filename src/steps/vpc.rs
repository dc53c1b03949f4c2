//! VPC: CIDR block with DNS support and DNS hostnames on.

use anyhow::Result;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use serde_json::{json, Value};

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observation, owned, owned_id};
use super::support::field_map;
use super::support::no_sdk_retry;
use super::Ctx;
use crate::aws::{
    answer, is_dependency_violation, not_yet_visible, retry_until, sent, CONSISTENCY,
};
use crate::desired::{Fields, Outputs, Resolve, Resource, VpcSpec};
use crate::plan::Observed;

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let call = ctx.aws.ec2.describe_vpcs().filters(owned(ctx));
    let out = answer(call.send()).await?;
    let mut found = Vec::new();
    for v in out.vpcs() {
        let (Some(id), Some(vpc_id)) = (owned_id(v.tags()), v.vpc_id()) else {
            continue;
        };
        let (support, hostnames) = tokio::try_join!(
            attribute(ctx, vpc_id, VpcAttributeName::EnableDnsSupport),
            attribute(ctx, vpc_id, VpcAttributeName::EnableDnsHostnames),
        )?;
        let fields: Fields = field_map([
            ("cidr_block", json!(v.cidr_block())),
            ("enable_dns_support", json!(support)),
            ("enable_dns_hostnames", json!(hostnames)),
        ]);
        found.push(observation(
            id,
            v.tags(),
            vpc_id,
            fields,
            v.state().map_or("unknown", |s| s.as_str()).to_string(),
            Value::Null,
        ));
    }
    Ok(found)
}

async fn attribute(ctx: &Ctx, vpc_id: &str, attr: VpcAttributeName) -> Result<bool> {
    let call = ctx
        .aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(attr.clone());
    let out = answer(call.send()).await?;
    let value = match attr {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &VpcSpec, _res: &dyn Resolve) -> Result<Outputs> {
    let send = |tags| {
        let call = ctx.aws.ec2.create_vpc().cidr_block(&s.cidr);
        let call = call.tag_specifications(tags);
        call.customize().config_override(no_sdk_retry()).send()
    };
    let vpc_id = create_tagged(ctx, r, ResourceType::Vpc, send, |out| out.vpc()?.vpc_id()).await?;
    set_dns(ctx, &vpc_id, true, true).await?;
    Ok(Outputs::with_id(vpc_id))
}

/// ModifyVpcAttribute takes one attribute per call. Right after CreateVpc the VPC may not
/// be visible yet (`InvalidVpcID.NotFound`): retried for [`CONSISTENCY`].
async fn set_dns(ctx: &Ctx, vpc_id: &str, support: bool, hostnames: bool) -> Result<()> {
    let on = || AttributeBooleanValue::builder().value(true).build();
    if support {
        let call = ctx.aws.ec2.modify_vpc_attribute().vpc_id(vpc_id);
        let call = call.enable_dns_support(on());
        retry_until(CONSISTENCY, not_yet_visible, || sent(call.clone().send())).await?;
    }
    if hostnames {
        let call = ctx.aws.ec2.modify_vpc_attribute().vpc_id(vpc_id);
        let call = call.enable_dns_hostnames(on());
        retry_until(CONSISTENCY, not_yet_visible, || sent(call.clone().send())).await?;
    }
    Ok(())
}

pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    _spec: &VpcSpec,
    o: &Observed,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let off = |k: &str| o.fields.get(k) != Some(&json!(true));
    set_dns(
        ctx,
        o.outputs.id(),
        off("enable_dns_support"),
        off("enable_dns_hostnames"),
    )
    .await?;
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let vpc_id = o.outputs.id().to_string();
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws.ec2.delete_vpc().vpc_id(&vpc_id).send()
    })
    .await
}
