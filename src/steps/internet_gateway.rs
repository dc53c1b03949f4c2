//! Internet gateway, attached to the app's VPC. The attachment is the only field; moving
//! it (detach + attach) is an in-place update.

use anyhow::Result;
use aws_sdk_ec2::types::{InternetGateway, ResourceType};
use serde_json::{json, Value};

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observe_owned, owned, owned_observation};
use super::support::field_map;
use super::support::no_sdk_retry;
use super::Ctx;
use crate::aws::{
    answer, code_of, is_dependency_violation, is_gone, not_yet_visible, retry_until, sent,
    unless_gone, CONSISTENCY,
};
use crate::desired::{IgwSpec, Outputs, Resolve, Resource};
use crate::plan::Observed;

/// The VPC the gateway is attached to (or attaching to); detached ones do not count.
fn attached_vpc(g: &InternetGateway) -> Option<&str> {
    g.attachments()
        .iter()
        .filter(|a| {
            !matches!(
                a.state().map(|s| s.as_str()),
                Some("detached" | "detaching")
            )
        })
        .find_map(|a| a.vpc_id())
}

fn observed(g: &InternetGateway) -> Option<Observed> {
    owned_observation(g.tags(), g.internet_gateway_id(), || {
        let vpc = attached_vpc(g);
        let state = if vpc.is_some() {
            "attached"
        } else {
            "detached"
        };
        let fields = field_map([("attached_vpc_id", json!(vpc))]);
        (fields, state.to_string(), Value::Null)
    })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_internet_gateways().filters(owned(ctx));
    observe_owned(described.send(), |out| out.internet_gateways(), observed).await
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &IgwSpec, res: &dyn Resolve) -> Result<Outputs> {
    let vpc_id = res.need(&s.vpc)?;
    let send = |tags| {
        let call = ctx
            .aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(tags);
        call.customize().config_override(no_sdk_retry()).send()
    };
    let igw_id = create_tagged(ctx, r, ResourceType::InternetGateway, send, |out| {
        out.internet_gateway()?.internet_gateway_id()
    })
    .await?;
    retry_until(CONSISTENCY, not_yet_visible, || {
        attach(ctx, &igw_id, &vpc_id)
    })
    .await?;
    Ok(Outputs::with_id(igw_id))
}

async fn attach(ctx: &Ctx, igw_id: &str, vpc_id: &str) -> Result<()> {
    let call = ctx
        .aws
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(igw_id);
    let attached = sent(call.vpc_id(vpc_id).send()).await;
    match attached {
        // A retried attach whose first answer was lost: attached already, to this VPC?
        Err(e) if code_of(&e) == Some("Resource.AlreadyAssociated") => {
            let call = ctx
                .aws
                .ec2
                .describe_internet_gateways()
                .internet_gateway_ids(igw_id);
            let out = answer(call.send()).await?;
            match out.internet_gateways().first().and_then(attached_vpc) {
                Some(v) if v == vpc_id => Ok(()),
                _ => Err(e),
            }
        }
        other => other,
    }
}

/// Detach; not attached (any more) is success. While task ENIs with public IPs drain,
/// AWS answers `DependencyViolation` ("has some mapped public address(es)"): retried.
async fn detach(ctx: &Ctx, igw_id: &str, vpc_id: &str) -> Result<()> {
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws
            .ec2
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
    })
    .await
}

pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    s: &IgwSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = res.need(&s.vpc)?;
    let igw_id = o.outputs.id();
    let current = o.fields.get("attached_vpc_id").and_then(Value::as_str);
    if current != Some(want.as_str()) {
        if let Some(old) = current {
            detach(ctx, igw_id, old).await?;
        }
        attach(ctx, igw_id, &want).await?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let igw_id = o.outputs.id().to_string();
    // Look again rather than trusting the plan's snapshot: the gateway cannot be deleted
    // while attached to any VPC.
    let call = ctx
        .aws
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(&igw_id);
    let described = answer(call.send()).await;
    let Some(out) = unless_gone(is_gone, described)? else {
        return Ok(());
    };
    let Some(g) = out.internet_gateways().first() else {
        return Ok(());
    };
    if let Some(vpc_id) = attached_vpc(g) {
        detach(ctx, &igw_id, vpc_id).await?;
    }
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws
            .ec2
            .delete_internet_gateway()
            .internet_gateway_id(&igw_id)
            .send()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{AttachmentStatus, InternetGatewayAttachment};

    fn igw(attachments: &[(&str, &str)]) -> InternetGateway {
        let mut b = InternetGateway::builder().internet_gateway_id("igw-1");
        for (vpc, state) in attachments {
            b = b.attachments(
                InternetGatewayAttachment::builder()
                    .vpc_id(*vpc)
                    .state(AttachmentStatus::from(*state))
                    .build(),
            );
        }
        b.build()
    }

    #[test]
    fn attached_vpc_ignores_detached_attachments() {
        assert_eq!(attached_vpc(&igw(&[])), None);
        // AWS reports an attached internet gateway as "available".
        assert_eq!(attached_vpc(&igw(&[("vpc-1", "available")])), Some("vpc-1"));
        assert_eq!(attached_vpc(&igw(&[("vpc-1", "attaching")])), Some("vpc-1"));
        assert_eq!(attached_vpc(&igw(&[("vpc-1", "detaching")])), None);
        assert_eq!(
            attached_vpc(&igw(&[("vpc-1", "detached"), ("vpc-2", "attached")])),
            Some("vpc-2")
        );
    }
}
