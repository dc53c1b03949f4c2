//! Listeners of the app's load balancers. Listeners have no name: they are found through
//! the load balancers the app owns (DescribeListeners per load balancer) and identified by
//! their ownership tags. The load balancer is immutable; port, protocol, certificates, TLS
//! policy and default actions are updated in place.
//!
//! Certificates read as `[default, extras...]`, like the config: the default one from the
//! listener, the extras from DescribeListenerCertificates (HTTPS and TLS only), in the
//! config's order.
//!
//! Also home of the conversion between [`ActionSpec`] and ELBv2 actions, shared with
//! listener rules.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use aws_sdk_elasticloadbalancingv2::types::{Certificate, Listener, ProtocolEnum};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::elb::*;
use super::support::elb_actions::{from_aws_actions, has_oidc, to_aws_actions, Secret};
use super::support::tags::owned_tags;
use super::support::{made_or_existing, object_fields, Made};
use super::Ctx;
use crate::aws::{answer, err, gone_ok_if, is_elb_gone, retry_until, sent, CONSISTENCY};
use crate::desired::ListenerSpec;
use crate::desired::{
    actions_fields, Attr, Fields, Kind, NoRefs, Outputs, Resolve, Resource, ResourceId, Spec,
};
use crate::plan::Observed;

fn is_tls(protocol: &str) -> bool {
    matches!(protocol, "HTTPS" | "TLS")
}

fn protocol_of(l: &Listener) -> &str {
    l.protocol().map_or("", |p| p.as_str())
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let by_id: BTreeMap<&ResourceId, &Resource> = desired.iter().map(|r| (&r.id, *r)).collect();
    let listeners = owned_listeners(ctx).await?;
    let arns: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.listener_arn().map(str::to_string))
        .collect();
    let tags = tags_of(ctx, &arns).await?;
    let ours = listeners.iter().filter_map(|l| {
        let id = owned_id(ctx, tags.get(l.listener_arn()?), Kind::Listener)?;
        Some((id, l))
    });
    let observed = ours.map(|(id, l)| {
        let want: Vec<String> = match by_id.get(&id).map(|r| &r.spec) {
            Some(Spec::Listener(s)) => s.certificates.clone(),
            _ => vec![],
        };
        async move {
            let arn = l.listener_arn().unwrap_or_default();
            let listed = if is_tls(protocol_of(l)) {
                match listed_certificates(ctx, arn).await {
                    Ok(c) => c,
                    Err(e) if is_elb_gone(&e) => return Ok(None),
                    Err(e) => return Err(e),
                }
            } else {
                vec![]
            };
            Ok(Some(observed(id, l, &certificates_of(l, &listed, &want))))
        }
    });
    Ok(try_join_all(observed)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// DescribeListenerCertificates: the default certificate and the extra ones.
async fn listed_certificates(ctx: &Ctx, arn: &str) -> Result<Vec<Certificate>> {
    let call = ctx
        .aws
        .elb
        .describe_listener_certificates()
        .listener_arn(arn);
    answer(call.into_paginator().items().send().try_collect()).await
}

/// The default certificate of a listener, and its extra ones (without the default).
fn split_certificates<'a>(
    l: &'a Listener,
    listed: &'a [Certificate],
) -> (Option<&'a str>, BTreeSet<&'a str>) {
    let default = listed
        .iter()
        .find(|c| c.is_default() == Some(true))
        .or_else(|| l.certificates().first())
        .and_then(|c| c.certificate_arn());
    // The listener's own list holds only the default in AWS, all of them in some
    // emulators; the listed ones may hold the default twice.
    let extras = l
        .certificates()
        .iter()
        .chain(listed.iter().filter(|c| c.is_default() != Some(true)))
        .filter_map(|c| c.certificate_arn())
        .filter(|a| Some(*a) != default)
        .collect();
    (default, extras)
}

/// `[default, extras...]`, extras in the order of `want` (the desired list), unknown ones
/// after them, sorted. Listeners without TLS have none.
fn certificates_of(l: &Listener, listed: &[Certificate], want: &[String]) -> Vec<String> {
    if !is_tls(protocol_of(l)) {
        return vec![];
    }
    let (default, mut extras) = split_certificates(l, listed);
    let mut out: Vec<String> = default.into_iter().map(str::to_string).collect();
    for w in want.iter().skip(1) {
        if extras.remove(w.as_str()) {
            out.push(w.clone());
        }
    }
    out.extend(extras.into_iter().map(str::to_string));
    out
}

/// Normalised fields in the shape of `Spec::fields` for listeners.
fn fields_of(l: &Listener, certificates: &[String]) -> Fields {
    let tls = is_tls(protocol_of(l));
    let v = json!({
        "load_balancer_arn": l.load_balancer_arn(),
        "port": l.port(),
        "protocol": l.protocol().map(|p| p.as_str()),
        "certificates": certificates,
        // Some emulators report a policy for plain HTTP too.
        "ssl_policy": if tls { l.ssl_policy() } else { None },
        "default_actions": actions_fields(&from_aws_actions(l.default_actions()), &NoRefs),
    });
    object_fields(v)
}

fn observed(id: ResourceId, l: &Listener, certificates: &[String]) -> Observed {
    let arn = l.listener_arn().unwrap_or_default();
    Observed {
        id,
        name: format!("{} {}", protocol_of(l), l.port().unwrap_or_default()),
        outputs: Outputs::with_id(last_segment(arn)).arn(arn),
        fields: fields_of(l, certificates),
        state: "available".to_string(),
        details: Value::Null,
    }
}

fn certificate(arn: &str) -> Certificate {
    Certificate::builder().certificate_arn(arn).build()
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ListenerSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let out = ctx
        .aws
        .elb
        .create_listener()
        .load_balancer_arn(res.need(&s.load_balancer)?)
        .port(i32::from(s.port))
        .protocol(ProtocolEnum::from(s.protocol.as_str()))
        .set_certificates(s.certificates.first().map(|c| vec![certificate(c)]))
        .set_ssl_policy(s.ssl_policy.clone())
        .set_default_actions(Some(to_aws_actions(
            &s.default_actions,
            res,
            Secret::Required,
        )?))
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
        .send()
        .await
        .map_err(err);
    let out = match made_or_existing(ctx, r, out, "DuplicateListener", observe).await? {
        Made::New(out) => out,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    let Some(arn) = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .map(str::to_string)
    else {
        bail!("CreateListener returned no listener");
    };
    let extras: Vec<&str> = s.certificates.iter().skip(1).map(String::as_str).collect();
    retry_until(CONSISTENCY, is_elb_gone, || {
        add_certificates(ctx, &arn, &extras)
    })
    .await?;
    Ok(Outputs::with_id(last_segment(&arn)).arn(arn))
}

/// The listener certificates with these ARNs.
fn certificates(arns: &[&str]) -> Vec<Certificate> {
    arns.iter().map(|c| certificate(c)).collect()
}

async fn add_certificates(ctx: &Ctx, arn: &str, certs: &[&str]) -> Result<()> {
    if certs.is_empty() {
        return Ok(());
    }
    let call = ctx.aws.elb.add_listener_certificates().listener_arn(arn);
    sent(call.set_certificates(Some(certificates(certs))).send()).await
}

async fn remove_certificates(ctx: &Ctx, arn: &str, certs: &[&str]) -> Result<()> {
    if certs.is_empty() {
        return Ok(());
    }
    let call = ctx.aws.elb.remove_listener_certificates().listener_arn(arn);
    sent(call.set_certificates(Some(certificates(certs))).send()).await
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ListenerSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default();
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    let tls = is_tls(&s.protocol);
    let have_default = o
        .fields
        .get("certificates")
        .and_then(|c| c.get(0))
        .and_then(Value::as_str);
    let default_changed = have_default != s.certificates.first().map(String::as_str);

    let mut req = ctx.aws.elb.modify_listener().listener_arn(arn);
    let mut any = false;
    if changed("port") {
        req = req.port(i32::from(s.port));
        any = true;
    }
    if changed("protocol") {
        req = req.protocol(ProtocolEnum::from(s.protocol.as_str()));
        any = true;
    }
    if tls && (changed("protocol") || default_changed) {
        req = req.set_certificates(s.certificates.first().map(|c| vec![certificate(c)]));
        any = true;
    }
    if s.ssl_policy.is_some() && (changed("ssl_policy") || changed("protocol")) {
        req = req.set_ssl_policy(s.ssl_policy.clone());
        any = true;
    }
    if changed("default_actions") {
        let secret = if has_oidc(o.fields.get("default_actions")) {
            Secret::ReuseExisting
        } else {
            Secret::Required
        };
        req = req.set_default_actions(Some(to_aws_actions(&s.default_actions, res, secret)?));
        any = true;
    }
    if any {
        req.send().await.map_err(err)?;
    }
    if tls && changed("certificates") {
        sync_extra_certificates(ctx, arn, &s.certificates).await?;
    }
    Ok(o.outputs.clone())
}

/// Add and remove extra certificates until they are `want[1..]`. Read afresh: changing the
/// default certificate may have changed the list.
async fn sync_extra_certificates(ctx: &Ctx, arn: &str, want: &[String]) -> Result<()> {
    let listed = listed_certificates(ctx, arn).await?;
    let have: BTreeSet<&str> = listed
        .iter()
        .filter(|c| c.is_default() != Some(true))
        .filter_map(|c| c.certificate_arn())
        .collect();
    let default = want.first().map(String::as_str);
    let wanted: BTreeSet<&str> = want
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|c| Some(*c) != default)
        .collect();
    let add: Vec<&str> = wanted.difference(&have).copied().collect();
    let remove: Vec<&str> = have
        .difference(&wanted)
        .copied()
        .filter(|c| Some(*c) != default)
        .collect();
    add_certificates(ctx, arn, &add).await?;
    remove_certificates(ctx, arn, &remove).await
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default();
    let call = ctx.aws.elb.delete_listener().listener_arn(arn);
    gone_ok_if(is_elb_gone, sent(call.send()).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{ActionSpec, ListenerSpec, Val};
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum};

    const TG: &str = "arn:aws:elasticloadbalancing:r:1:targetgroup/web/abc";

    fn listener(protocol: ProtocolEnum, certs: &[&str]) -> Listener {
        let mut b = Listener::builder()
            .listener_arn("arn:aws:elasticloadbalancing:r:1:listener/app/demo/lb/l1")
            .load_balancer_arn("arn:lb")
            .port(443)
            .protocol(protocol)
            .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(TG)
                    .build(),
            );
        for c in certs {
            b = b.certificates(certificate(c));
        }
        b.build()
    }

    fn listed(default: &str, extras: &[&str]) -> Vec<Certificate> {
        let mut v = vec![Certificate::builder()
            .certificate_arn(default)
            .is_default(true)
            .build()];
        for e in extras {
            v.push(
                Certificate::builder()
                    .certificate_arn(*e)
                    .is_default(false)
                    .build(),
            );
        }
        v
    }

    #[test]
    fn https_listener_fields_match_the_desired_shape() {
        let spec = Spec::Listener(ListenerSpec {
            load_balancer: Val::lit("arn:lb"),
            port: 443,
            protocol: "HTTPS".into(),
            certificates: vec!["c-default".into(), "c-z".into(), "c-a".into()],
            ssl_policy: Some("ELBSecurityPolicy-TLS13-1-2-2021-06".into()),
            default_actions: vec![ActionSpec::Forward(Val::lit(TG))],
        });
        let Spec::Listener(s) = &spec else {
            unreachable!()
        };
        // AWS: only the default on the listener; the default listed twice.
        let l = listener(ProtocolEnum::Https, &["c-default"]);
        let certs = certificates_of(
            &l,
            &listed("c-default", &["c-a", "c-default", "c-z"]),
            &s.certificates,
        );
        assert_eq!(certs, ["c-default", "c-z", "c-a"]);
        assert_eq!(fields_of(&l, &certs), spec.fields(&NoRefs));
        // moto: every certificate on the listener.
        let l = listener(ProtocolEnum::Https, &["c-default", "c-a", "c-z", "c-a"]);
        let certs = certificates_of(&l, &listed("c-default", &["c-a", "c-z"]), &s.certificates);
        assert_eq!(certs, ["c-default", "c-z", "c-a"]);
        // An extra the config does not have goes last.
        let certs = certificates_of(&l, &listed("c-default", &["c-b"]), &s.certificates);
        assert_eq!(certs, ["c-default", "c-z", "c-a", "c-b"]);
    }

    #[test]
    fn http_listener_has_no_certificates_or_policy() {
        let spec = Spec::Listener(ListenerSpec {
            load_balancer: Val::lit("arn:lb"),
            port: 443,
            protocol: "HTTP".into(),
            certificates: vec![],
            ssl_policy: None,
            default_actions: vec![ActionSpec::Forward(Val::lit(TG))],
        });
        // Reported with a policy and a leftover certificate, as moto does.
        let l = listener(ProtocolEnum::Http, &["c-old"]);
        let certs = certificates_of(&l, &[], &[]);
        assert_eq!(fields_of(&l, &certs), spec.fields(&NoRefs));
    }
}
