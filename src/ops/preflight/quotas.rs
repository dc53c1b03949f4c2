//! Account quotas the plan would run into: VPCs, internet gateways and Elastic IPs per
//! region, NAT gateways per Availability Zone, Application Load Balancers per region. The
//! quota is read from Service Quotas; where it does not answer (not enabled, no permission,
//! an emulator), AWS's default applies and a note says so. Only kinds the plan creates
//! are counted.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Finding, Session};
use crate::aws::{answer, err};
use crate::desired::{Kind, Spec, Val};
use crate::plan::{Action, Plan};

/// A quota: Service Quotas' service and quota codes, its name, AWS's default value.
struct Quota {
    service: &'static str,
    code: &'static str,
    name: &'static str,
    default: f64,
    /// The config key the created resource comes from.
    key: &'static str,
}

const VPCS: Quota = Quota {
    service: "vpc",
    code: "L-F678F1CE",
    name: "VPCs per Region",
    default: 5.0,
    key: "network",
};
const IGWS: Quota = Quota {
    service: "vpc",
    code: "L-A4707A72",
    name: "Internet gateways per Region",
    default: 5.0,
    key: "network",
};
const EIPS: Quota = Quota {
    service: "ec2",
    code: "L-0263D0A3",
    name: "EC2-VPC Elastic IPs",
    default: 5.0,
    key: "network.nat",
};
const NATS: Quota = Quota {
    service: "vpc",
    code: "L-FE5A380F",
    name: "NAT gateways per Availability Zone",
    default: 5.0,
    key: "network.nat",
};
const ALBS: Quota = Quota {
    service: "elasticloadbalancing",
    code: "L-53DA6B97",
    name: "Application Load Balancers per Region",
    default: 50.0,
    key: "load_balancer",
};

/// The quotas of the kinds the plan creates, each read (usage and quota) concurrently with
/// the others; the findings in a fixed order (VPC, internet gateway, Elastic IP, NAT
/// gateway, load balancer).
pub async fn check(s: &Session, plan: &Plan) -> Result<Vec<Finding>> {
    let creates = |kind: Kind| {
        plan.pending()
            .filter(|c| c.id.kind == kind && c.action == Action::Create)
            .count()
    };
    let ec2 = &s.ctx.aws.ec2;
    let vpcs = async {
        let mut out = Vec::new();
        if creates(Kind::Vpc) > 0 {
            let call = ec2.describe_vpcs().into_paginator().items().send();
            let used = answer(call.try_collect()).await?.len();
            judge(s, &VPCS, used, creates(Kind::Vpc), None, &mut out).await?;
        }
        Ok::<_, anyhow::Error>(out)
    };
    let igws = async {
        let mut out = Vec::new();
        if creates(Kind::InternetGateway) > 0 {
            let call = ec2
                .describe_internet_gateways()
                .into_paginator()
                .items()
                .send();
            let used = answer(call.try_collect()).await?.len();
            let adding = creates(Kind::InternetGateway);
            judge(s, &IGWS, used, adding, None, &mut out).await?;
        }
        Ok(out)
    };
    let eips = async {
        let mut out = Vec::new();
        if creates(Kind::ElasticIp) > 0 {
            let used = ec2.describe_addresses().send().await.map_err(err)?;
            let used = used.addresses().len();
            judge(s, &EIPS, used, creates(Kind::ElasticIp), None, &mut out).await?;
        }
        Ok(out)
    };
    let nats = async {
        let mut out = Vec::new();
        let new_nats = nat_azs(s, plan);
        if !new_nats.is_empty() {
            let per_az = nats_per_az(s).await?;
            for (az, adding) in new_nats {
                let used = per_az.get(&az).copied().unwrap_or(0);
                judge(s, &NATS, used, adding, Some(&az), &mut out).await?;
            }
        }
        Ok(out)
    };
    let albs = async {
        let mut out = Vec::new();
        if creates(Kind::LoadBalancer) > 0 {
            let elb = &s.ctx.aws.elb;
            let call = elb
                .describe_load_balancers()
                .into_paginator()
                .items()
                .send();
            let lbs = answer(call.try_collect()).await?;
            let used = lbs
                .iter()
                .filter(|l| l.r#type().is_none_or(|t| t.as_str() == "application"))
                .count();
            judge(s, &ALBS, used, creates(Kind::LoadBalancer), None, &mut out).await?;
        }
        Ok(out)
    };
    let (a, b, c, d, e) = futures::try_join!(vpcs, igws, eips, nats, albs)?;
    Ok([a, b, c, d, e].into_iter().flatten().collect())
}

/// Adds an error when `used + adding` goes over the quota; a note when the quota was not
/// readable and AWS's default was assumed.
async fn judge(
    s: &Session,
    q: &Quota,
    used: usize,
    adding: usize,
    az: Option<&str>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let (limit, read) = quota_value(s, q).await;
    if !read {
        out.push(Finding::note(
            q.key,
            format!(
                "Service Quotas gave no value for {} ({}); AWS's default {} was assumed",
                q.name, q.code, q.default
            ),
        ));
    }
    if let Some(m) = over(q.name, az, limit, used, adding) {
        out.push(Finding::error(q.key, m));
    }
    Ok(())
}

/// The applied quota, or AWS's default (and `false`) when Service Quotas does not say.
async fn quota_value(s: &Session, q: &Quota) -> (f64, bool) {
    let got = s
        .ctx
        .aws
        .quotas
        .get_service_quota()
        .service_code(q.service)
        .quota_code(q.code)
        .send()
        .await;
    match got.ok().and_then(|o| o.quota().and_then(|q| q.value())) {
        Some(v) => (v, true),
        None => (q.default, false),
    }
}

/// The message when `adding` more would exceed `limit` with `used` already there.
fn over(name: &str, az: Option<&str>, limit: f64, used: usize, adding: usize) -> Option<String> {
    let total = (used + adding) as f64;
    (total > limit).then(|| {
        let scope = az.map(|a| format!(" in {a}")).unwrap_or_default();
        format!(
            "the account has {used} of its quota of {limit} {name}{scope}, and this deploy \
             creates {adding} more: ask for an increase in Service Quotas (or remove unused \
             ones) first"
        )
    })
}

/// Availability Zone → how many NAT gateways the plan creates there.
fn nat_azs(s: &Session, plan: &Plan) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in plan.pending() {
        if c.id.kind != Kind::NatGateway || c.action != Action::Create {
            continue;
        }
        let nat = s.desired.iter().find(|r| r.id == c.id);
        let Some(Spec::NatGateway(n)) = nat.map(|r| &r.spec) else {
            continue;
        };
        let Val::Ref(r) = &n.subnet else {
            continue;
        };
        let subnet = s.desired.iter().find(|x| x.id == r.id);
        if let Some(Spec::Subnet(sub)) = subnet.map(|x| &x.spec) {
            *out.entry(sub.az.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// Pending and available NAT gateways of the account, by Availability Zone.
async fn nats_per_az(s: &Session) -> Result<BTreeMap<String, usize>> {
    let ec2 = &s.ctx.aws.ec2;
    let call = ec2.describe_nat_gateways().into_paginator().items().send();
    let nats = answer(call.try_collect()).await?;
    let subnets: Vec<String> = nats
        .iter()
        .filter(|n| {
            n.state()
                .is_some_and(|st| matches!(st.as_str(), "pending" | "available"))
        })
        .filter_map(|n| n.subnet_id().map(str::to_string))
        .collect();
    if subnets.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut unique = subnets.clone();
    unique.sort();
    unique.dedup();
    let described = ec2
        .describe_subnets()
        .set_subnet_ids(Some(unique))
        .send()
        .await
        .map_err(err)?;
    let az_of: BTreeMap<&str, &str> = described
        .subnets()
        .iter()
        .filter_map(|x| Some((x.subnet_id()?, x.availability_zone()?)))
        .collect();
    let mut out = BTreeMap::new();
    for sub in &subnets {
        if let Some(az) = az_of.get(sub.as_str()) {
            *out.entry(az.to_string()).or_insert(0) += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn going_over_the_quota_says_by_how_much_and_what_to_do() {
        assert_eq!(over("VPCs per Region", None, 5.0, 4, 1), None);
        let m = over("VPCs per Region", None, 5.0, 5, 1).unwrap();
        assert!(m.contains("has 5 of its quota of 5 VPCs per Region"), "{m}");
        assert!(m.contains("creates 1 more"), "{m}");
        let az = over("NAT gateways", Some("us-east-1a"), 5.0, 5, 1).unwrap();
        assert!(az.contains("NAT gateways in us-east-1a"), "{az}");
    }
}
