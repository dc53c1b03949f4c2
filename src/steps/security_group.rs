//! Security groups: ingress rules from CIDRs or from other security groups (the ALB's,
//! a peer service's). The default egress rule (allow all) is left alone. VPC and
//! description are immutable; ingress is updated in place. Rules naming a prefix list are
//! invisible to ecsdeploy (neither observed nor revoked).

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, UserIdGroupPair,
};
use serde_json::{json, Value};

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observe_owned, owned, owned_id, owned_observation};
use super::support::field_map;
use super::support::no_sdk_retry;
use super::support::tags::tag;
use super::Ctx;
use crate::aws::{
    answer, code_of, is_dependency_violation, not_yet_visible, retry_until, sent, CONSISTENCY,
};
use crate::desired::{
    ingress_fields, Fields, IngressRule, NoRefs, Outputs, Resolve, Resource, SecurityGroupSpec,
    Source, Val, TAG_APP,
};

use crate::plan::Observed;

/// The ingress rules of a group's permissions: one per IP range (IPv4 or IPv6). Ports
/// absent from the answer (protocol `-1`, all traffic) read as -1.
fn rules_of(perms: &[IpPermission]) -> Vec<IngressRule> {
    let mut rules = Vec::new();
    for p in perms {
        let rule = |source: Option<Source>, description: Option<&str>| {
            Some(IngressRule {
                protocol: p.ip_protocol()?.to_string(),
                from_port: p.from_port().unwrap_or(-1),
                to_port: p.to_port().unwrap_or(-1),
                source: source?,
                description: description.map(str::to_string),
            })
        };
        let cidr = |c: Option<&str>| c.map(|c| Source::Cidr(c.to_string()));
        rules.extend(
            p.ip_ranges()
                .iter()
                .filter_map(|r| rule(cidr(r.cidr_ip()), r.description())),
        );
        rules.extend(
            p.ipv6_ranges()
                .iter()
                .filter_map(|r| rule(cidr(r.cidr_ipv6()), r.description())),
        );
        rules.extend(p.user_id_group_pairs().iter().filter_map(|g| {
            let group = g.group_id().map(|id| Source::Group(Val::lit(id)));
            rule(group, g.description())
        }));
    }
    rules.sort();
    rules
}

/// Rules as IpPermissions for one batched call: grouped by (protocol, from, to), each with
/// several IP ranges carrying their own descriptions.
fn permissions(rules: &[IngressRule]) -> Vec<IpPermission> {
    let mut groups: BTreeMap<(&str, i32, i32), Vec<&IngressRule>> = BTreeMap::new();
    for r in rules {
        groups
            .entry((r.protocol.as_str(), r.from_port, r.to_port))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((protocol, from, to), rules)| {
            let mut b = IpPermission::builder().ip_protocol(protocol);
            // All traffic has no ports.
            if protocol != "-1" {
                b = b.from_port(from).to_port(to);
            }
            for r in rules {
                let description = r.description.clone();
                b = match &r.source {
                    Source::Cidr(c) if c.contains(':') => b.ipv6_ranges(
                        Ipv6Range::builder()
                            .cidr_ipv6(c)
                            .set_description(description)
                            .build(),
                    ),
                    Source::Cidr(c) => b.ip_ranges(
                        IpRange::builder()
                            .cidr_ip(c)
                            .set_description(description)
                            .build(),
                    ),
                    Source::Group(g) => b.user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id(literal(g))
                            .set_description(description)
                            .build(),
                    ),
                };
            }
            b.build()
        })
        .collect()
}

/// The identity of a rule in AWS: everything but the description.
type RuleKey = (String, i32, i32, String);

fn key(r: &IngressRule) -> RuleKey {
    let source = match &r.source {
        Source::Cidr(c) => c.clone(),
        Source::Group(g) => format!("group:{}", literal(g)),
    };
    (r.protocol.clone(), r.from_port, r.to_port, source)
}

/// The id in a resolved group source (see [`resolved`]).
fn literal(v: &Val) -> &str {
    match v {
        Val::Lit(s) => s,
        Val::Ref(_) | Val::Suffixed(..) => "(unresolved)",
    }
}

/// Desired rules with every source group reference replaced by the group's id.
fn resolved(rules: &[IngressRule], res: &dyn Resolve) -> Result<Vec<IngressRule>> {
    rules
        .iter()
        .map(|r| {
            let source = match &r.source {
                Source::Group(v) => Source::Group(Val::Lit(res.need(v)?)),
                other => other.clone(),
            };
            Ok(IngressRule {
                source,
                ..r.clone()
            })
        })
        .collect()
}

/// How to get from `have` to `want`, as batched calls in this order: authorize new rules,
/// revoke unwanted ones, then fix descriptions of rules that stay. A description can be
/// changed in place, but not removed (UpdateSecurityGroupRuleDescriptionsIngress without
/// a description is not reliably a removal), so a rule losing its description is revoked
/// and authorized again.
#[derive(Debug, Default, PartialEq)]
struct IngressChanges {
    authorize: Vec<IngressRule>,
    revoke: Vec<IngressRule>,
    reauthorize: Vec<IngressRule>,
    redescribe: Vec<IngressRule>,
}

fn ingress_changes(have: &[IngressRule], want: &[IngressRule]) -> IngressChanges {
    let have: BTreeMap<RuleKey, &IngressRule> = have.iter().map(|r| (key(r), r)).collect();
    // A key can be desired only once in AWS; the first description wins.
    let mut want_by_key: BTreeMap<RuleKey, &IngressRule> = BTreeMap::new();
    for r in want {
        want_by_key.entry(key(r)).or_insert(r);
    }
    let mut c = IngressChanges::default();
    for (k, w) in &want_by_key {
        match have.get(k) {
            None => c.authorize.push((*w).clone()),
            Some(h) if h.description == w.description => {}
            Some(h) if w.description.is_none() => {
                c.revoke.push((*h).clone());
                c.reauthorize.push((*w).clone());
            }
            Some(_) => c.redescribe.push((*w).clone()),
        }
    }
    for (k, h) in &have {
        if !want_by_key.contains_key(k) {
            c.revoke.push((*h).clone());
        }
    }
    c.revoke.sort();
    c
}

fn fields_of(g: &SecurityGroup) -> Fields {
    field_map([
        ("vpc_id", json!(g.vpc_id())),
        ("description", json!(g.description())),
        (
            "ingress",
            ingress_fields(&rules_of(g.ip_permissions()), &NoRefs),
        ),
    ])
}

fn observed(g: &SecurityGroup) -> Option<Observed> {
    let o = owned_observation(g.tags(), g.group_id(), || {
        (fields_of(g), "available".to_string(), Value::Null)
    })?;
    // Named by its group name first, then by its `Name` tag.
    let name = g.group_name().map_or(o.name.clone(), str::to_string);
    Some(Observed { name, ..o })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_security_groups().filters(owned(ctx));
    observe_owned(described.send(), |out| out.security_groups(), observed).await
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &SecurityGroupSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let vpc_id = res.need(&s.vpc)?;
    let send = |tags| {
        ctx.aws
            .ec2
            .create_security_group()
            .group_name(&r.name)
            .description(&s.description)
            .vpc_id(&vpc_id)
            .tag_specifications(tags)
            .customize()
            .config_override(no_sdk_retry())
            .send()
    };
    let created = create_tagged(ctx, r, ResourceType::SecurityGroup, send, |out| {
        out.group_id()
    });
    let sg_id = match created.await {
        // The name is taken in this VPC: ours (made by an earlier run or attempt whose
        // answer was lost) is adopted; anyone else's is an error.
        Err(e) if code_of(&e) == Some("InvalidGroup.Duplicate") => {
            adoptable(ctx, r, &vpc_id).await?.ok_or(e)?
        }
        other => other?,
    };
    let rules = resolved(&s.ingress, res)?;
    retry_until(CONSISTENCY, not_yet_visible, || async {
        match authorize(ctx, &sg_id, &rules).await {
            // Some rules exist already (an adopted group, or an authorize whose answer was
            // lost and that the SDK sent again): add only the missing ones.
            Err(e) if code_of(&e) == Some("InvalidPermission.Duplicate") => {
                let have = current_rules(ctx, &sg_id).await?;
                authorize(ctx, &sg_id, &ingress_changes(&have, &rules).authorize).await
            }
            other => other,
        }
    })
    .await?;
    Ok(Outputs::with_id(sg_id))
}

/// The group named `r.name` in `vpc_id` when its ownership tags say it is `r`.
async fn adoptable(ctx: &Ctx, r: &Resource, vpc_id: &str) -> Result<Option<String>> {
    let by = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    let call = ctx
        .aws
        .ec2
        .describe_security_groups()
        .filters(by("group-name", &r.name));
    let call = call.filters(by("vpc-id", vpc_id));
    let out = answer(call.send()).await?;
    Ok(out
        .security_groups()
        .iter()
        .find(|g| {
            tag(g.tags(), TAG_APP) == Some(&ctx.app) && owned_id(g.tags()).as_ref() == Some(&r.id)
        })
        .and_then(|g| g.group_id())
        .map(str::to_string))
}

/// The group's ingress rules as they are now.
async fn current_rules(ctx: &Ctx, sg_id: &str) -> Result<Vec<IngressRule>> {
    let call = ctx.aws.ec2.describe_security_groups().group_ids(sg_id);
    let out = answer(call.send()).await?;
    Ok(out
        .security_groups()
        .first()
        .map(|g| rules_of(g.ip_permissions()))
        .unwrap_or_default())
}

pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    s: &SecurityGroupSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let sg_id = o.outputs.id();
    // The rules as they are now, not as they were when the plan was made.
    let call = ctx.aws.ec2.describe_security_groups().group_ids(sg_id);
    let out = answer(call.send()).await?;
    let Some(g) = out.security_groups().first() else {
        anyhow::bail!("security group {sg_id} no longer exists; run the command again");
    };
    let c = ingress_changes(&rules_of(g.ip_permissions()), &resolved(&s.ingress, res)?);
    authorize(ctx, sg_id, &c.authorize).await?;
    revoke(ctx, sg_id, &c.revoke).await?;
    authorize(ctx, sg_id, &c.reauthorize).await?;
    if !c.redescribe.is_empty() {
        let call = ctx
            .aws
            .ec2
            .update_security_group_rule_descriptions_ingress();
        let call = call.group_id(sg_id);
        sent(
            call.set_ip_permissions(Some(permissions(&c.redescribe)))
                .send(),
        )
        .await?;
    }
    Ok(o.outputs.clone())
}

/// Authorize `rules` in one call (none: no call).
async fn authorize(ctx: &Ctx, sg_id: &str, rules: &[IngressRule]) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let call = ctx
        .aws
        .ec2
        .authorize_security_group_ingress()
        .group_id(sg_id);
    sent(call.set_ip_permissions(Some(permissions(rules))).send()).await
}

/// Revoke `rules` in one call (none: no call).
async fn revoke(ctx: &Ctx, sg_id: &str, rules: &[IngressRule]) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let call = ctx.aws.ec2.revoke_security_group_ingress().group_id(sg_id);
    sent(call.set_ip_permissions(Some(permissions(rules))).send()).await
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let sg_id = o.outputs.id().to_string();
    // ENIs of stopped tasks keep the group in use for minutes: DependencyViolation.
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws.ec2.delete_security_group().group_id(&sg_id).send()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(port: i32, cidr: &str, description: Option<&str>) -> IngressRule {
        IngressRule {
            protocol: "tcp".to_string(),
            from_port: port,
            to_port: port,
            source: Source::Cidr(cidr.to_string()),
            description: description.map(str::to_string),
        }
    }

    #[test]
    fn permissions_group_ranges_by_protocol_and_ports() {
        let rules = vec![
            rule(80, "0.0.0.0/0", Some("http")),
            rule(443, "0.0.0.0/0", Some("https")),
            rule(80, "10.0.0.0/8", None),
            rule(80, "::/0", Some("v6")),
        ];
        let perms = permissions(&rules);
        assert_eq!(perms.len(), 2);
        let p80 = &perms[0];
        assert_eq!(
            (p80.ip_protocol(), p80.from_port(), p80.to_port()),
            (Some("tcp"), Some(80), Some(80))
        );
        let ranges: Vec<(Option<&str>, Option<&str>)> = p80
            .ip_ranges()
            .iter()
            .map(|r| (r.cidr_ip(), r.description()))
            .collect();
        assert_eq!(
            ranges,
            [
                (Some("0.0.0.0/0"), Some("http")),
                (Some("10.0.0.0/8"), None)
            ]
        );
        assert_eq!(p80.ipv6_ranges()[0].cidr_ipv6(), Some("::/0"));
        assert_eq!(perms[1].from_port(), Some(443));
        assert_eq!(perms[1].ip_ranges().len(), 1);
    }

    #[test]
    fn all_traffic_permission_has_no_ports() {
        let all = IngressRule {
            protocol: "-1".to_string(),
            from_port: -1,
            to_port: -1,
            source: Source::Cidr("10.0.0.0/8".to_string()),
            description: None,
        };
        let perms = permissions(std::slice::from_ref(&all));
        assert_eq!(perms[0].from_port(), None);
        // And the answer for it (no ports) reads back as the same rule.
        assert_eq!(rules_of(&perms), vec![all]);
    }

    #[test]
    fn observed_permissions_round_trip_to_rules() {
        let mut rules = vec![
            rule(443, "0.0.0.0/0", Some("https")),
            rule(80, "0.0.0.0/0", Some("http")),
            rule(80, "10.0.0.0/8", None),
        ];
        let back = rules_of(&permissions(&rules));
        rules.sort();
        assert_eq!(back, rules);
        assert_eq!(
            ingress_fields(&back, &NoRefs),
            ingress_fields(&rules, &NoRefs)
        );
    }

    #[test]
    fn group_sources_round_trip() {
        let from_alb = IngressRule {
            protocol: "tcp".to_string(),
            from_port: 8080,
            to_port: 8080,
            source: Source::Group(Val::lit("sg-alb")),
            description: Some("from the load balancer".to_string()),
        };
        let perms = permissions(std::slice::from_ref(&from_alb));
        assert_eq!(perms[0].user_id_group_pairs()[0].group_id(), Some("sg-alb"));
        assert_eq!(rules_of(&perms), vec![from_alb]);
    }

    #[test]
    fn references_resolve_to_group_ids() {
        let alb = crate::desired::ResourceId::new(crate::desired::Kind::SecurityGroup, "alb");
        let mut outputs = BTreeMap::new();
        outputs.insert(alb.clone(), Outputs::with_id("sg-123"));
        let want = vec![IngressRule {
            protocol: "tcp".to_string(),
            from_port: 80,
            to_port: 80,
            source: Source::Group(Val::Ref(crate::desired::Ref::id(&alb))),
            description: None,
        }];
        let got = resolved(&want, &outputs).unwrap();
        assert_eq!(got[0].source, Source::Group(Val::lit("sg-123")));
        assert!(resolved(&want, &NoRefs).is_err());
    }

    #[test]
    fn changes_authorize_missing_revoke_unwanted_and_fix_descriptions() {
        let have = vec![
            rule(80, "0.0.0.0/0", Some("old")),
            rule(80, "10.0.0.0/8", Some("drop me")),
            rule(22, "1.2.3.4/32", None),
            rule(443, "0.0.0.0/0", Some("keep")),
        ];
        let want = vec![
            rule(80, "0.0.0.0/0", Some("new")),
            rule(80, "10.0.0.0/8", None),
            rule(443, "0.0.0.0/0", Some("keep")),
            rule(8080, "0.0.0.0/0", None),
        ];
        let c = ingress_changes(&have, &want);
        assert_eq!(c.authorize, vec![rule(8080, "0.0.0.0/0", None)]);
        assert_eq!(
            c.revoke,
            vec![
                rule(22, "1.2.3.4/32", None),
                rule(80, "10.0.0.0/8", Some("drop me")),
            ]
        );
        assert_eq!(c.reauthorize, vec![rule(80, "10.0.0.0/8", None)]);
        assert_eq!(c.redescribe, vec![rule(80, "0.0.0.0/0", Some("new"))]);
        assert_eq!(ingress_changes(&want, &want), IngressChanges::default());
    }
}
