//! NAT gateways: one public NAT gateway per Elastic IP, in a public subnet. Subnet and
//! allocation are immutable (a change is a replacement, refused by `up`), so `update` has
//! nothing to do. Create waits for `available` and delete for `deleted`: the private
//! routes, the Elastic IP and the subnet depend on those.

use anyhow::{anyhow, bail, Result};
use aws_sdk_ec2::types::{ConnectivityType, Filter, NatGateway, NatGatewayAddress, ResourceType};
use serde_json::json;

use super::support::ec2::CREATE_WAIT;
use super::support::ec2::{observe_owned, owned, owned_id, owned_observation, tag_spec};
use super::support::field_map;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{
    answer, client_token, code_of, err, is_nat_gateway_gone, not_yet_visible, poll, retry_until,
    unless_gone, CONSISTENCY, TOKEN_ATTEMPTS,
};
use crate::desired::NatGatewaySpec;
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, TAG_APP};
use crate::plan::Observed;

fn nat_token(app: &str, id: &ResourceId, subnet: &str, alloc: &str, attempt: u32) -> String {
    client_token(&[app, &id.to_string(), subnet, alloc], attempt)
}

fn state_of(g: &NatGateway) -> &str {
    g.state().map_or("unknown", |s| s.as_str())
}

/// Gateways that are gone or going do not count: a failed gateway holds nothing and AWS
/// removes it (like a deleted one) after about an hour.
fn live(g: &NatGateway) -> bool {
    !matches!(state_of(g), "deleted" | "deleting" | "failed")
}

/// The gateway's primary address (the Elastic IP it was created with).
fn primary(g: &NatGateway) -> Option<&NatGatewayAddress> {
    let addrs = g.nat_gateway_addresses();
    addrs
        .iter()
        .find(|a| a.is_primary() == Some(true))
        .or(addrs.first())
}

/// The normalised fields, shaped exactly like `Spec::NatGateway`'s.
fn fields_of(g: &NatGateway) -> Fields {
    field_map([
        ("subnet_id", json!(g.subnet_id())),
        (
            "allocation_id",
            json!(primary(g).and_then(|a| a.allocation_id())),
        ),
        (
            "connectivity_type",
            // `public` is the API's default.
            json!(g.connectivity_type().map_or("public", |c| c.as_str())),
        ),
    ])
}

fn observed(g: &NatGateway) -> Option<Observed> {
    owned_observation(g.tags(), g.nat_gateway_id(), || {
        let details = json!({ "public_ip": primary(g).and_then(|a| a.public_ip()) });
        (fields_of(g), state_of(g).to_string(), details)
    })
}

/// A live gateway carrying this app's ownership tag. The tag is checked here as well as in
/// the filter: some emulators (moto) ignore tag filters on this API.
fn owned_live(ctx: &Ctx, g: &NatGateway) -> bool {
    live(g) && tag(g.tags(), TAG_APP) == Some(ctx.app.as_str())
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_nat_gateways().filter(owned(ctx));
    let live_observed = |g: &NatGateway| {
        if owned_live(ctx, g) {
            observed(g)
        } else {
            None
        }
    };
    observe_owned(described.send(), |out| out.nat_gateways(), live_observed).await
}

/// The gateway as it is now; `None` when it does not exist.
async fn describe(ctx: &Ctx, nat_id: &str) -> Result<Option<NatGateway>> {
    let call = ctx.aws.ec2.describe_nat_gateways().nat_gateway_ids(nat_id);
    let out = answer(call.send()).await;
    Ok(unless_gone(is_nat_gateway_gone, out)?.and_then(|out| {
        let mut gs = out.nat_gateways().iter();
        gs.find(|g| g.nat_gateway_id() == Some(nat_id)).cloned()
    }))
}

/// This resource's live gateway on exactly this subnet and address, if one exists.
async fn find_own(ctx: &Ctx, r: &Resource, subnet: &str, alloc: &str) -> Result<Option<String>> {
    let call = ctx.aws.ec2.describe_nat_gateways().filter(owned(ctx));
    let call = call.filter(Filter::builder().name("subnet-id").values(subnet).build());
    let out = answer(call.send()).await?;
    let found = out
        .nat_gateways()
        .iter()
        .filter(|g| owned_live(ctx, g))
        .filter(|g| owned_id(g.tags()).as_ref() == Some(&r.id))
        .filter(|g| g.subnet_id() == Some(subnet))
        .filter(|g| primary(g).and_then(|a| a.allocation_id()) == Some(alloc))
        .find_map(|g| g.nat_gateway_id())
        .map(str::to_string);
    Ok(found)
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &NatGatewaySpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let subnet = res.need(&s.subnet)?;
    let alloc = res.need(&s.allocation)?;
    let mut nat_id = None;
    for attempt in 0..TOKEN_ATTEMPTS {
        let token = nat_token(&ctx.app, &r.id, &subnet, &alloc, attempt);
        // The client token makes the retry safe; the subnet and the address were possibly
        // created a moment ago.
        let made = retry_until(CONSISTENCY, not_yet_visible, || async {
            ctx.aws
                .ec2
                .create_nat_gateway()
                .subnet_id(&subnet)
                .allocation_id(&alloc)
                .connectivity_type(ConnectivityType::Public)
                .client_token(&token)
                .tag_specifications(tag_spec(ctx, ResourceType::Natgateway, &r.id, &r.name))
                .send()
                .await
                .map_err(err)
        })
        .await;
        let g = match made {
            Ok(out) => out
                .nat_gateway()
                .cloned()
                .ok_or_else(|| anyhow!("CreateNatGateway answered without a gateway"))?,
            // An emulator that ignores client tokens answers a repeated create with
            // "Resource.AlreadyAssociated" (the address is held by the first gateway).
            // Adopt that gateway when it is this resource's own.
            Err(e) if code_of(&e) == Some("Resource.AlreadyAssociated") => {
                match find_own(ctx, r, &subnet, &alloc).await? {
                    Some(id) => {
                        nat_id = Some(id);
                        break;
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if live(&g) {
            nat_id = g.nat_gateway_id().map(str::to_string);
            break;
        }
        // This token's gateway failed or was deleted since: AWS answers with it again.
    }
    let nat_id = nat_id.ok_or_else(|| {
        anyhow!("CreateNatGateway kept answering with failed or deleted gateways")
    })?;
    wait_available(ctx, &r.id.to_string(), &nat_id).await?;
    Ok(Outputs::with_id(nat_id))
}

async fn wait_available(ctx: &Ctx, key: &str, nat_id: &str) -> Result<()> {
    let start = tokio::time::Instant::now();
    let what = format!("NAT gateway {nat_id} to become available");
    poll(CREATE_WAIT, &what, || async {
        let Some(g) = describe(ctx, nat_id).await? else {
            if start.elapsed() < CONSISTENCY {
                return Ok(None); // not visible to every endpoint yet
            }
            bail!("NAT gateway {nat_id} disappeared while it was being created");
        };
        match state_of(&g) {
            "available" => Ok(Some(())),
            "failed" => bail!(
                "NAT gateway {nat_id} failed: {} ({})",
                g.failure_message().unwrap_or("no reason given"),
                g.failure_code().unwrap_or("no code")
            ),
            s @ ("deleting" | "deleted") => {
                bail!("NAT gateway {nat_id} is {s} while it was being created")
            }
            _ => {
                ctx.report.progress(key, "pending");
                Ok(None)
            }
        }
    })
    .await
}

/// Subnet and allocation are immutable (a change is a replacement, refused by `up`).
pub use super::support::updates::unchanged as update;

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let nat_id = o.outputs.id();
    let key = o.id.to_string();
    match describe(ctx, nat_id).await? {
        None => return Ok(()),
        Some(g) => match state_of(&g) {
            "deleted" | "failed" => return Ok(()),
            "deleting" => {}
            _ => {
                let req = ctx.aws.ec2.delete_nat_gateway().nat_gateway_id(nat_id);
                let sent = req.send().await.map_err(err);
                if unless_gone(is_nat_gateway_gone, sent)?.is_none() {
                    return Ok(());
                }
            }
        },
    }
    // The Elastic IP and the subnet stay in use until the gateway is `deleted`.
    let what = format!("NAT gateway {nat_id} to be deleted");
    poll(ctx.delete_deadline, &what, || async {
        match describe(ctx, nat_id).await? {
            None => Ok(Some(())),
            Some(g) if matches!(state_of(&g), "deleted" | "failed") => Ok(Some(())),
            Some(_) => {
                ctx.report.progress(&key, "deleting");
                Ok(None)
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use crate::desired::Spec;
    use std::collections::BTreeMap;

    use aws_sdk_ec2::types::{NatGatewayState, Tag};

    use super::*;
    use crate::desired::{Kind, NatGatewaySpec, Ref, Val, TAG_RESOURCE};

    fn tag(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    /// What DescribeNatGateways answers for a converged gateway (shape seen in moto).
    fn gateway(state: NatGatewayState) -> NatGateway {
        NatGateway::builder()
            .nat_gateway_id("nat-1")
            .subnet_id("subnet-a")
            .vpc_id("vpc-1")
            .state(state)
            .connectivity_type(ConnectivityType::Public)
            .nat_gateway_addresses(
                NatGatewayAddress::builder()
                    .allocation_id("eipalloc-1")
                    .public_ip("203.0.113.7")
                    .network_interface_id("eni-1")
                    .build(),
            )
            .tags(tag("Name", "demo-nat-0"))
            .tags(tag(TAG_APP, "demo"))
            .tags(tag(TAG_RESOURCE, "nat_gateway.nat-0"))
            .build()
    }

    #[test]
    fn observed_fields_match_desired_fields_of_a_converged_gateway() {
        let subnet = ResourceId::new(Kind::Subnet, "public-0");
        let eip = ResourceId::new(Kind::ElasticIp, "nat-0");
        let known: BTreeMap<ResourceId, Outputs> = [
            (subnet.clone(), Outputs::with_id("subnet-a")),
            (eip.clone(), Outputs::with_id("eipalloc-1")),
        ]
        .into_iter()
        .collect();
        let spec = Spec::NatGateway(NatGatewaySpec {
            subnet: Val::Ref(Ref::id(&subnet)),
            allocation: Val::Ref(Ref::id(&eip)),
            after: vec![],
        });
        let o = observed(&gateway(NatGatewayState::Available)).unwrap();
        assert_eq!(o.fields, spec.fields(&known));
        assert_eq!(o.id, ResourceId::new(Kind::NatGateway, "nat-0"));
        assert_eq!(o.outputs.id(), "nat-1");
        assert_eq!(o.state, "available");
        assert_eq!(o.details, json!({ "public_ip": "203.0.113.7" }));
    }

    #[test]
    fn primary_address_wins_over_order() {
        let mut g = gateway(NatGatewayState::Available);
        g.nat_gateway_addresses.as_mut().unwrap().insert(
            0,
            NatGatewayAddress::builder()
                .allocation_id("eipalloc-2")
                .is_primary(false)
                .build(),
        );
        g.nat_gateway_addresses.as_mut().unwrap()[1].is_primary = Some(true);
        assert_eq!(fields_of(&g)["allocation_id"], json!("eipalloc-1"));
    }

    #[test]
    fn gone_and_failed_gateways_are_not_live() {
        assert!(live(&gateway(NatGatewayState::Pending)));
        assert!(live(&gateway(NatGatewayState::Available)));
        for s in [
            NatGatewayState::Deleting,
            NatGatewayState::Deleted,
            NatGatewayState::Failed,
        ] {
            assert!(!live(&gateway(s)));
        }
    }

    #[test]
    fn client_token_is_deterministic_short_and_input_bound() {
        let id = ResourceId::new(Kind::NatGateway, "nat-0");
        let t = nat_token("demo", &id, "subnet-a", "eipalloc-1", 0);
        assert_eq!(t, nat_token("demo", &id, "subnet-a", "eipalloc-1", 0));
        assert!(t.len() <= 64 && t.is_ascii(), "{t}");
        assert_ne!(t, nat_token("demo", &id, "subnet-a", "eipalloc-1", 1));
        assert_ne!(t, nat_token("demo", &id, "subnet-a", "eipalloc-2", 0));
        assert_ne!(t, nat_token("demo", &id, "subnet-b", "eipalloc-1", 0));
        assert_ne!(t, nat_token("other", &id, "subnet-a", "eipalloc-1", 0));
        let other = ResourceId::new(Kind::NatGateway, "nat-1");
        assert_ne!(t, nat_token("demo", &other, "subnet-a", "eipalloc-1", 0));
        // Parts are delimited: moving a character between parts changes the token.
        assert_ne!(client_token(&["ab", "c"], 0), client_token(&["a", "bc"], 0));
    }
}
