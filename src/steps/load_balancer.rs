//! The Application Load Balancer. Found by listing every load balancer in the region and
//! reading their tags (20 per DescribeTags call): the desired one by name, orphans by the
//! ownership tag. Scheme and type are immutable; subnets, security groups and the managed
//! attributes are updated in place. Create and delete wait for the load balancer to become
//! active / to disappear.
//!
//! Also home of what the other ELBv2 steps share: tags, ownership, the not-found codes,
//! polling.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerStateEnum, LoadBalancerTypeEnum,
};
use futures::future::try_join_all;
use serde_json::json;

use super::support::elb::*;
use super::support::ownership::not_owned;
use super::support::tags::owned_tags;
use super::support::{create_once, made_or_existing, object_fields, Made};
use super::Ctx;
use crate::aws::{
    answer, err_classified, gone_ok_if, is_elb_gone, poll_until, retry_until, sent, unless_gone,
    CONSISTENCY,
};
use crate::desired::LoadBalancerSpec;
use crate::desired::{Attr, Fields, Kind, Outputs, Resolve, Resource, ResourceId, Spec};
use crate::plan::Observed;

/// How long `create` waits for a new load balancer to become active.
const PROVISION_DEADLINE: Duration = Duration::from_secs(600);

/// The attribute that makes DeleteLoadBalancer fail.
const DELETION_PROTECTION: &str = "deletion_protection.enabled";

/// Attributes reported for orphans (whose desired spec is unknown).
const ORPHAN_ATTRIBUTES: &[&str] = &[DELETION_PROTECTION, "idle_timeout.timeout_seconds"];

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.name.as_str(), *r)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let mut found: Vec<(ResourceId, LoadBalancer, Vec<String>)> = Vec::new();
    for (lb, tags) in all_with_tags(ctx).await? {
        let name = lb.load_balancer_name().unwrap_or_default();
        let (id, keys) = match wanted.get(name) {
            Some(r) if is_ours(ctx, Some(&tags)) => (r.id.clone(), managed_keys(r)),
            Some(_) => {
                let what = format!("load balancer {name}");
                let remedy = "set load_balancer.name to another name or delete it";
                return Err(not_owned(ctx, &what, remedy));
            }
            None => match owned_id(ctx, Some(&tags), Kind::LoadBalancer) {
                Some(id) => {
                    let keys = ORPHAN_ATTRIBUTES.iter().map(|k| k.to_string()).collect();
                    (orphan_id(id, name, &desired_ids), keys)
                }
                None => continue,
            },
        };
        found.push((id, lb, keys));
    }
    let observed = found.into_iter().map(|(id, lb, keys)| async move {
        let arn = lb.load_balancer_arn().unwrap_or_default();
        let attrs = unless_gone(is_elb_gone, attributes(ctx, arn).await)?;
        Ok::<_, anyhow::Error>(attrs.map(|attrs| observed(id, &lb, &attrs, &keys)))
    });
    Ok(try_join_all(observed)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// The attribute keys a desired load balancer manages.
fn managed_keys(r: &Resource) -> Vec<String> {
    match &r.spec {
        Spec::LoadBalancer(s) => s.attributes.keys().cloned().collect(),
        _ => vec![],
    }
}

async fn attributes(ctx: &Ctx, arn: &str) -> Result<BTreeMap<String, String>> {
    let call = ctx
        .aws
        .elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn);
    let out = answer(call.send()).await?;
    Ok(attribute_map(out.attributes(), |a| (a.key(), a.value())))
}

/// Normalised fields in the shape of `Spec::fields` for load balancers; `attributes` holds
/// the managed keys AWS reports.
fn fields_of(lb: &LoadBalancer, attrs: &BTreeMap<String, String>, keys: &[String]) -> Fields {
    let mut subnets: Vec<&str> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id())
        .collect();
    subnets.sort();
    subnets.dedup();
    let mut sgs: Vec<&str> = lb.security_groups().iter().map(String::as_str).collect();
    sgs.sort();
    sgs.dedup();
    let managed: BTreeMap<&str, &str> = keys
        .iter()
        .filter_map(|k| Some((k.as_str(), attrs.get(k)?.as_str())))
        .collect();
    let v = json!({
        "type": lb.r#type().map(|t| t.as_str()),
        "scheme": lb.scheme().map(|s| s.as_str()),
        "ip_address_type": lb.ip_address_type().map(|t| t.as_str()),
        "subnets": subnets,
        "security_groups": sgs,
        "attributes": managed,
    });
    object_fields(v)
}

fn state_of(lb: &LoadBalancer) -> &str {
    lb.state()
        .and_then(|s| s.code())
        .map_or("unknown", |c| c.as_str())
}

fn observed(
    id: ResourceId,
    lb: &LoadBalancer,
    attrs: &BTreeMap<String, String>,
    keys: &[String],
) -> Observed {
    let name = lb.load_balancer_name().unwrap_or_default();
    Observed {
        id,
        name: name.to_string(),
        outputs: Outputs::with_id(name).arn(lb.load_balancer_arn().unwrap_or_default()),
        fields: fields_of(lb, attrs, keys),
        state: state_of(lb).to_string(),
        details: json!({
            "dns_name": lb.dns_name(),
            "state": state_of(lb),
        }),
    }
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &LoadBalancerSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let subnets = res.need_all(&s.subnets)?;
    let sgs = res.need_all(&s.security_groups)?;
    // Not idempotent in every implementation (the emulator makes a second balancer of the
    // same name): sent once, a lost answer looked up by name (see `create_once`).
    let create = || async {
        let out = ctx
            .aws
            .elb
            .create_load_balancer()
            .name(&r.name)
            .set_subnets(Some(subnets.clone()))
            .set_security_groups(Some(sgs.clone()))
            .scheme(LoadBalancerSchemeEnum::from(s.scheme.as_str()))
            .r#type(LoadBalancerTypeEnum::Application)
            .ip_address_type(IpAddressType::Ipv4)
            .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
            .customize()
            .config_override(
                aws_sdk_elasticloadbalancingv2::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(err_classified)?;
        out.load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("CreateLoadBalancer returned no load balancer"))
    };
    // observe refuses a balancer of this name that another app owns.
    let find = || async {
        Ok(observe(ctx, &[r])
            .await?
            .into_iter()
            .find(|o| o.id == r.id)
            .and_then(|o| o.outputs.get(Attr::Arn).map(str::to_string)))
    };
    let made = create_once(ctx, &r.id, create, find).await;
    let arn = match made_or_existing(ctx, r, made, "DuplicateLoadBalancerName", observe).await? {
        Made::New(arn) => arn,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    let attrs: Vec<(&String, &String)> = s.attributes.iter().collect();
    retry_until(CONSISTENCY, is_elb_gone, || {
        modify_attributes(ctx, &arn, &attrs)
    })
    .await?;
    wait_active(ctx, r, &arn).await?;
    Ok(Outputs::with_id(&r.name).arn(arn))
}

/// Poll until the load balancer is active; `failed` or the deadline is an error.
async fn wait_active(ctx: &Ctx, r: &Resource, arn: &str) -> Result<()> {
    let key = r.id.to_string();
    let last = std::sync::Mutex::new("provisioning".to_string());
    let done = poll_until(PROVISION_DEADLINE, || async {
        let lb = match describe_one(ctx, arn).await {
            Ok(lb) => lb,
            // Not yet visible everywhere.
            Err(e) if is_elb_gone(&e) => None,
            Err(e) => return Err(e),
        };
        let Some(lb) = lb else {
            ctx.report.progress(&key, "provisioning");
            return Ok(None);
        };
        match lb.state().and_then(|s| s.code()) {
            Some(LoadBalancerStateEnum::Active | LoadBalancerStateEnum::ActiveImpaired) => {
                Ok(Some(()))
            }
            Some(LoadBalancerStateEnum::Failed) => bail!(
                "load balancer {} failed to provision: {}",
                r.name,
                lb.state()
                    .and_then(|s| s.reason())
                    .unwrap_or("no reason given")
            ),
            _ => {
                let state = state_of(&lb).to_string();
                ctx.report.progress(&key, &state);
                *last.lock().unwrap() = state;
                Ok(None)
            }
        }
    })
    .await?;
    if done.is_none() {
        bail!(
            "timed out after {} waiting for load balancer {} to become active (state {})",
            humantime::format_duration(PROVISION_DEADLINE),
            r.name,
            last.lock().unwrap()
        );
    }
    Ok(())
}

/// The load balancer with this ARN, if it exists.
async fn describe_one(ctx: &Ctx, arn: &str) -> Result<Option<LoadBalancer>> {
    let call = ctx
        .aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn);
    let out = answer(call.send()).await?;
    Ok(out.load_balancers().first().cloned())
}

async fn modify_attributes(ctx: &Ctx, arn: &str, attrs: &[(&String, &String)]) -> Result<()> {
    if attrs.is_empty() {
        return Ok(());
    }
    let attrs = attrs
        .iter()
        .map(|(k, v)| LoadBalancerAttribute::builder().key(*k).value(*v).build())
        .collect();
    let call = ctx.aws.elb.modify_load_balancer_attributes();
    sent(
        call.load_balancer_arn(arn)
            .set_attributes(Some(attrs))
            .send(),
    )
    .await
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &LoadBalancerSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let arn = o.outputs.get(crate::desired::Attr::Arn).unwrap_or_default();
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    if changed("subnets") {
        let subnets = res.need_all(&s.subnets)?;
        let call = ctx.aws.elb.set_subnets().load_balancer_arn(arn);
        sent(call.set_subnets(Some(subnets)).send()).await?;
    }
    if changed("security_groups") {
        let sgs = res.need_all(&s.security_groups)?;
        let call = ctx.aws.elb.set_security_groups().load_balancer_arn(arn);
        sent(call.set_security_groups(Some(sgs)).send()).await?;
    }
    let have = o.fields.get("attributes");
    let differing: Vec<(&String, &String)> = s
        .attributes
        .iter()
        .filter(|(k, v)| have.and_then(|h| h.get(k.as_str())) != Some(&json!(v)))
        .collect();
    modify_attributes(ctx, arn, &differing).await?;
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let arn = o
        .outputs
        .get(crate::desired::Attr::Arn)
        .unwrap_or_default()
        .to_string();
    let Some(attrs) = unless_gone(is_elb_gone, attributes(ctx, &arn).await)? else {
        return Ok(());
    };
    if attrs.get(DELETION_PROTECTION).map(String::as_str) == Some("true") {
        bail!(
            "load balancer {} has deletion protection on; set load_balancer.deletion_protection \
             = false and run `ecsdeploy up`, then `down`",
            o.name
        );
    }
    let call = ctx.aws.elb.delete_load_balancer().load_balancer_arn(&arn);
    gone_ok_if(is_elb_gone, sent(call.send()).await)?;
    // Its network interfaces are released once it is no longer listed; subnets and
    // security groups can go only then.
    let key = o.id.to_string();
    let gone = poll_until(ctx.delete_deadline, || async {
        match describe_one(ctx, &arn).await {
            Ok(Some(_)) => {
                ctx.report.progress(&key, "deleting");
                Ok(None)
            }
            Ok(None) => Ok(Some(())),
            Err(e) if is_elb_gone(&e) => Ok(Some(())),
            Err(e) => Err(e),
        }
    })
    .await?;
    if gone.is_none() {
        bail!(
            "load balancer {} is still listed {} after its deletion; run the command again later",
            o.name,
            humantime::format_duration(ctx.delete_deadline)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{LoadBalancerSpec, NoRefs, Val};
    use aws_sdk_elasticloadbalancingv2::types::{AvailabilityZone, LoadBalancerState};

    #[test]
    fn observed_fields_match_the_desired_shape() {
        let mut attributes = BTreeMap::new();
        attributes.insert("idle_timeout.timeout_seconds".to_string(), "60".to_string());
        attributes.insert(DELETION_PROTECTION.to_string(), "false".to_string());
        let spec = Spec::LoadBalancer(LoadBalancerSpec {
            scheme: "internet-facing".into(),
            subnets: vec![Val::lit("subnet-b"), Val::lit("subnet-a")],
            security_groups: vec![Val::lit("sg-1")],
            attributes: attributes.clone(),
            after: vec![],
        });
        let lb = LoadBalancer::builder()
            .load_balancer_name("demo")
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .ip_address_type(IpAddressType::Ipv4)
            .availability_zones(AvailabilityZone::builder().subnet_id("subnet-a").build())
            .availability_zones(AvailabilityZone::builder().subnet_id("subnet-b").build())
            .security_groups("sg-1")
            .state(
                LoadBalancerState::builder()
                    .code(LoadBalancerStateEnum::Active)
                    .build(),
            )
            .build();
        let mut reported = attributes.clone();
        reported.insert("access_logs.s3.bucket".into(), String::new());
        let keys: Vec<String> = attributes.keys().cloned().collect();
        assert_eq!(fields_of(&lb, &reported, &keys), spec.fields(&NoRefs));
        assert_eq!(state_of(&lb), "active");
    }

    #[test]
    fn a_renamed_resource_is_an_orphan_of_its_own() {
        let main = ResourceId::new(Kind::LoadBalancer, "main");
        let old = ResourceId::new(Kind::LoadBalancer, "old");
        let desired: BTreeSet<&ResourceId> = [&main].into_iter().collect();
        assert_eq!(
            orphan_id(main.clone(), "demo-alb", &desired).to_string(),
            "load_balancer.main@demo-alb"
        );
        assert_eq!(orphan_id(old.clone(), "x", &desired), old);
    }

    #[test]
    fn last_segment_of_arns() {
        assert_eq!(
            last_segment("arn:aws:elasticloadbalancing:r:1:listener/app/demo/abc/def"),
            "def"
        );
        assert_eq!(last_segment("plain"), "plain");
    }
}
