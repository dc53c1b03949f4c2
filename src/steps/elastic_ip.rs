//! Elastic IPs: the public addresses of the NAT gateways. An address has nothing to
//! update; it is released once the NAT gateway that uses it is gone.

use anyhow::Result;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use serde_json::json;

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observe_owned, owned, owned_observation};
use super::support::no_sdk_retry;
use super::Ctx;
use crate::aws::code_of;
use crate::desired::ElasticIpSpec;
use crate::desired::{Fields, Outputs, Resolve, Resource};
use crate::plan::Observed;

/// The normalised fields, shaped exactly like `Spec::ElasticIp`'s.
fn fields_of(a: &Address) -> Fields {
    // Every address allocated today is a VPC address; an answer without the domain is one.
    let domain = a.domain().map_or("vpc", |d| d.as_str());
    [("domain".to_string(), json!(domain))]
        .into_iter()
        .collect()
}

/// `associated` while a NAT gateway (or anything else) holds the address.
fn state_of(a: &Address) -> &'static str {
    if a.association_id().is_some_and(|s| !s.is_empty()) {
        "associated"
    } else {
        "unassociated"
    }
}

fn observed(a: &Address) -> Option<Observed> {
    owned_observation(a.tags(), a.allocation_id(), || {
        let details = json!({ "public_ip": a.public_ip() });
        (fields_of(a), state_of(a).to_string(), details)
    })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_addresses().filters(owned(ctx));
    observe_owned(described.send(), |out| out.addresses(), observed).await
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    _spec: &ElasticIpSpec,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    let send = |tags| {
        let call = ctx.aws.ec2.allocate_address().domain(DomainType::Vpc);
        let call = call.tag_specifications(tags);
        call.customize().config_override(no_sdk_retry()).send()
    };
    let alloc = create_tagged(ctx, r, ResourceType::ElasticIp, send, |out| {
        out.allocation_id()
    })
    .await?;
    if alloc.is_empty() {
        anyhow::bail!("AllocateAddress answered without an allocation id");
    }
    Ok(Outputs::with_id(alloc))
}

/// Nothing to change in place: an address has no settings (its one field, the `vpc`
/// domain, is always the same).
pub use super::support::updates::unchanged as update;

/// True for the errors `ReleaseAddress` answers while a NAT gateway that used the address
/// is still being deleted.
fn still_held(e: &anyhow::Error) -> bool {
    matches!(code_of(e), Some("AuthFailure" | "InvalidIPAddress.InUse"))
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let alloc = o.outputs.id().to_string();
    // Until the NAT gateway that used the address is fully deleted, AWS refuses the release
    // with the misleading "AuthFailure: You do not have permission to access the specified
    // resource." (or "InvalidIPAddress.InUse: Address 203.0.113.7 is in use."). The NAT
    // step waits for `deleted`, but the address lags a little behind it.
    delete_when_free(ctx, still_held, || {
        ctx.aws.ec2.release_address().allocation_id(&alloc).send()
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_ec2::types::Tag;

    use super::*;
    use crate::desired::{ElasticIpSpec, Kind, ResourceId, Spec, TAG_APP, TAG_RESOURCE};

    fn tag(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    /// What DescribeAddresses answers for an address a NAT gateway holds (shape seen in
    /// moto and AWS).
    fn address() -> Address {
        Address::builder()
            .allocation_id("eipalloc-1")
            .association_id("eipassoc-1")
            .domain(DomainType::Vpc)
            .public_ip("203.0.113.7")
            .tags(tag("Name", "demo-nat-0"))
            .tags(tag(TAG_APP, "demo"))
            .tags(tag(TAG_RESOURCE, "elastic_ip.nat-0"))
            .build()
    }

    #[test]
    fn observed_fields_match_desired_fields() {
        let o = observed(&address()).unwrap();
        let known: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        assert_eq!(o.fields, Spec::ElasticIp(ElasticIpSpec).fields(&known));
        assert_eq!(o.id, ResourceId::new(Kind::ElasticIp, "nat-0"));
        assert_eq!(o.outputs.id(), "eipalloc-1");
        assert_eq!(o.name, "demo-nat-0");
        assert_eq!(o.state, "associated");
        assert_eq!(o.details, json!({ "public_ip": "203.0.113.7" }));
    }

    #[test]
    fn unassociated_and_untagged_addresses() {
        let mut a = address();
        a.association_id = None;
        assert_eq!(state_of(&a), "unassociated");
        a.tags = Some(vec![tag(TAG_APP, "demo")]);
        assert!(observed(&a).is_none());
    }
}
