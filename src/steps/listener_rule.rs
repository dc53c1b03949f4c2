//! Listener rules: path / host conditions routing to a target group (behind the
//! listener's sign-in actions). Found through the app's load balancers and their
//! listeners (DescribeRules per listener), identified by their ownership tags. The
//! listener is immutable; priority, conditions and actions are updated in place.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, Listener, PathPatternConditionConfig, Rule, RuleCondition,
    RulePriorityPair,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::elb::*;
use super::support::elb_actions::{
    forward_weights, from_aws_actions, has_oidc, keep_weights, to_aws_actions, Secret,
};
use super::support::tags::owned_tags;
use super::support::{made_or_existing, object_fields, Made};
use super::Ctx;
use crate::aws::{answer, err, gone_ok_if, is_elb_gone, sent};
use crate::desired::{
    actions_fields, conditions_fields, sorted, Attr, Fields, Kind, ListenerRuleSpec, NoRefs,
    Outputs, Resolve, Resource, ResourceId,
};
use crate::plan::Observed;

/// The non-default rules of a listener (none if it is gone).
async fn rules_of(ctx: &Ctx, listener_arn: &str) -> Result<Vec<Rule>> {
    let call = ctx.aws.elb.describe_rules().listener_arn(listener_arn);
    let listed = answer(call.into_paginator().items().send().try_collect()).await;
    let rules = gone_ok_if(is_elb_gone, listed)?;
    Ok(rules
        .into_iter()
        .filter(|r| r.is_default() != Some(true))
        .collect())
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let names: BTreeMap<&ResourceId, &str> =
        desired.iter().map(|r| (&r.id, r.name.as_str())).collect();
    let listeners = owned_listeners(ctx).await?;
    let per_listener = listeners.iter().map(|l| async move {
        let rules = rules_of(ctx, l.listener_arn().unwrap_or_default()).await?;
        Ok::<_, anyhow::Error>(rules.into_iter().map(move |r| (l, r)))
    });
    let rules: Vec<(&Listener, Rule)> = try_join_all(per_listener)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let arns: Vec<String> = rules
        .iter()
        .filter_map(|(_, r)| r.rule_arn().map(str::to_string))
        .collect();
    let tags = tags_of(ctx, &arns).await?;
    Ok(rules
        .iter()
        .filter_map(|(l, r)| {
            let id = owned_id(ctx, tags.get(r.rule_arn()?), Kind::ListenerRule)?;
            let name = match names.get(&id) {
                Some(n) => n.to_string(),
                None => format!(
                    "{} {} rule (priority {})",
                    l.protocol().map_or("", |p| p.as_str()),
                    l.port().unwrap_or_default(),
                    r.priority().unwrap_or("?")
                ),
            };
            Some(observed(id, name, l, r))
        })
        .collect())
}

/// Values of a condition, from its typed config or the legacy `Values` list.
fn condition_values(c: &RuleCondition) -> Vec<String> {
    let typed: &[String] = match c.field() {
        Some("path-pattern") => c.path_pattern_config().map_or(&[], |p| p.values()),
        Some("host-header") => c.host_header_config().map_or(&[], |h| h.values()),
        _ => &[],
    };
    typed.iter().chain(c.values()).cloned().collect()
}

/// Conditions in the shape of `conditions_fields`; conditions ecsdeploy does not manage
/// (headers, methods, query strings, source IPs) are appended, so they show as a change.
fn conditions_of(conditions: &[RuleCondition]) -> Value {
    let (mut paths, mut hosts, mut others) = (Vec::new(), Vec::new(), Vec::new());
    for c in conditions {
        match c.field() {
            Some("path-pattern") => paths.extend(condition_values(c)),
            Some("host-header") => hosts.extend(condition_values(c)),
            other => others.push(json!({
                "field": other,
                "values": sorted(condition_values(c).into_iter()),
            })),
        }
    }
    let mut v = conditions_fields(&paths, &hosts);
    if let Value::Array(a) = &mut v {
        a.extend(others);
    }
    v
}

/// Normalised fields in the shape of `Spec::fields` for listener rules.
fn fields_of(listener_arn: Option<&str>, r: &Rule) -> Fields {
    let v = json!({
        "listener_arn": listener_arn,
        // AWS reports the priority as a string.
        "priority": r.priority().and_then(|p| p.parse::<u32>().ok()),
        "conditions": conditions_of(r.conditions()),
        "actions": actions_fields(&from_aws_actions(r.actions()), &NoRefs),
    });
    object_fields(v)
}

fn observed(id: ResourceId, name: String, l: &Listener, r: &Rule) -> Observed {
    let arn = r.rule_arn().unwrap_or_default();
    Observed {
        id,
        name,
        outputs: Outputs::with_id(last_segment(arn)).arn(arn),
        fields: fields_of(l.listener_arn(), r),
        state: "available".to_string(),
        // Not compared: ECS moves them during a traffic-shifting deployment.
        details: json!({ "weights": forward_weights(r.actions()) }),
    }
}

/// The desired conditions as ELBv2 conditions (typed configs).
fn conditions(s: &ListenerRuleSpec) -> Vec<RuleCondition> {
    let mut v = Vec::new();
    if !s.hosts.is_empty() {
        v.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(s.hosts.clone()))
                        .build(),
                )
                .build(),
        );
    }
    if !s.paths.is_empty() {
        v.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(s.paths.clone()))
                        .build(),
                )
                .build(),
        );
    }
    v
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ListenerRuleSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let out = ctx
        .aws
        .elb
        .create_rule()
        .listener_arn(res.need(&s.listener)?)
        .priority(s.priority as i32)
        .set_conditions(Some(conditions(s)))
        .set_actions(Some(to_aws_actions(&s.actions, res, Secret::Required)?))
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
        .send()
        .await
        .map_err(err);
    let out = match made_or_existing(ctx, r, out, "PriorityInUse", observe).await? {
        Made::New(out) => out,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    let Some(arn) = out.rules().first().and_then(|r| r.rule_arn()) else {
        bail!("CreateRule returned no rule");
    };
    Ok(Outputs::with_id(last_segment(arn)).arn(arn))
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ListenerRuleSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default();
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    if changed("priority") {
        let pair = RulePriorityPair::builder().rule_arn(arn);
        let pair = pair.priority(s.priority as i32).build();
        let call = ctx.aws.elb.set_rule_priorities().rule_priorities(pair);
        sent(call.send()).await?;
    }
    if changed("conditions") || changed("actions") {
        let mut req = ctx.aws.elb.modify_rule().rule_arn(arn);
        if changed("conditions") {
            req = req.set_conditions(Some(conditions(s)));
        }
        if changed("actions") {
            let secret = if has_oidc(o.fields.get("actions")) {
                Secret::ReuseExisting
            } else {
                Secret::Required
            };
            let live = serde_json::from_value(o.details["weights"].clone()).unwrap_or_default();
            let actions = to_aws_actions(&s.actions, res, secret)?;
            req = req.set_actions(Some(keep_weights(actions, &live)));
        }
        sent(req.send()).await?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default();
    let call = ctx.aws.elb.delete_rule().rule_arn(arn);
    gone_ok_if(is_elb_gone, sent(call.send()).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{ActionSpec, Val};
    use aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum;

    const TG: &str = "arn:aws:elasticloadbalancing:r:1:targetgroup/web/abc";

    fn spec() -> ListenerRuleSpec {
        ListenerRuleSpec {
            listener: Val::lit("arn:listener"),
            priority: 20,
            paths: vec!["/api/*".into(), "/b".into()],
            hosts: vec!["a.example.com".into()],
            actions: vec![ActionSpec::Forward(Val::lit(TG))],
        }
    }

    fn rule(conditions: Vec<RuleCondition>) -> Rule {
        Rule::builder()
            .rule_arn("arn:aws:elasticloadbalancing:r:1:listener-rule/app/demo/lb/l/r1")
            .priority("20")
            .set_conditions(Some(conditions))
            .actions(
                aws_sdk_elasticloadbalancingv2::types::Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(TG)
                    .order(1)
                    .build(),
            )
            .build()
    }

    #[test]
    fn observed_fields_match_the_desired_shape() {
        let s = spec();
        let r = rule(conditions(&s));
        assert_eq!(
            fields_of(Some("arn:listener"), &r),
            Spec::ListenerRule(s).fields(&NoRefs)
        );
    }

    #[test]
    fn legacy_values_read_like_typed_configs() {
        let legacy = vec![
            RuleCondition::builder()
                .field("path-pattern")
                .values("/b")
                .values("/api/*")
                .build(),
            RuleCondition::builder()
                .field("host-header")
                .values("a.example.com")
                .build(),
        ];
        assert_eq!(conditions_of(&legacy), conditions_of(&conditions(&spec())));
    }

    #[test]
    fn values_reported_twice_read_once() {
        // AWS reports a typed condition's values in `Values` as well.
        let both = vec![RuleCondition::builder()
            .field("path-pattern")
            .values("/api/*")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .values("/api/*")
                    .build(),
            )
            .build()];
        assert_eq!(
            conditions_of(&both),
            conditions_fields(&["/api/*".to_string()], &[])
        );
    }

    #[test]
    fn unmanaged_conditions_show_as_a_change() {
        let mut c = conditions(&spec());
        c.push(
            RuleCondition::builder()
                .field("http-request-method")
                .build(),
        );
        assert_ne!(
            conditions_of(&c),
            conditions_fields(&spec().paths, &spec().hosts)
        );
    }
}
