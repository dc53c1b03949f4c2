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
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, AuthenticateCognitoActionConditionalBehaviorEnum,
    AuthenticateCognitoActionConfig, AuthenticateOidcActionConditionalBehaviorEnum,
    AuthenticateOidcActionConfig, Certificate, FixedResponseActionConfig, Listener, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::load_balancer::{
    elb_gone, elb_gone_ok, elb_tags, last_segment, owned_id, owned_load_balancers, tags_of,
};
use super::{retry_until, Ctx, CONSISTENCY};
use crate::aws::{code_of, err};
use crate::desired::{
    actions_fields, ActionSpec, Attr, Fields, Kind, NoRefs, Outputs, Resolve, Resource, ResourceId,
    Spec, Val,
};
use crate::plan::Observed;

/// Where an OIDC client secret comes from when an action is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Secret {
    /// The environment variable named in the config must hold it (creating).
    Required,
    /// Unless the variable is set, keep the secret AWS already has (modifying an action
    /// that has one).
    ReuseExisting,
}

/// The secret for an OIDC action, per `secret`, read with `env`.
fn client_secret(
    var: &str,
    secret: Secret,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(Some(v)),
        _ if secret == Secret::ReuseExisting => Ok(None),
        _ => bail!(
            "environment variable {var} (load_balancer.listeners[..].oidc.client_secret_env) \
             is not set; it must hold the OIDC client secret"
        ),
    }
}

/// Desired actions as ELBv2 actions, in order (Order = position, 1-based), references
/// resolved through `res`, OIDC client secrets read from the environment.
pub(super) fn to_aws_actions(
    actions: &[ActionSpec],
    res: &dyn Resolve,
    secret: Secret,
) -> Result<Vec<Action>> {
    actions_with_env(actions, res, secret, &|var| std::env::var(var).ok())
}

fn actions_with_env(
    actions: &[ActionSpec],
    res: &dyn Resolve,
    secret: Secret,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Action>> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let b = Action::builder().order(i as i32 + 1);
            Ok(match a {
                ActionSpec::Forward(tg) => b
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(res.need(tg)?),
                ActionSpec::RedirectHttps { port } => {
                    b.r#type(ActionTypeEnum::Redirect).redirect_config(
                        RedirectActionConfig::builder()
                            .protocol("HTTPS")
                            .port(port.to_string())
                            .status_code(RedirectActionStatusCodeEnum::Http301)
                            .build(),
                    )
                }
                ActionSpec::Fixed {
                    status,
                    content_type,
                    body,
                } => b
                    .r#type(ActionTypeEnum::FixedResponse)
                    .fixed_response_config(
                        FixedResponseActionConfig::builder()
                            .status_code(status.to_string())
                            .content_type(content_type)
                            .set_message_body(body.clone())
                            .build(),
                    ),
                ActionSpec::Cognito {
                    user_pool_arn,
                    client_id,
                    domain,
                    on_unauthenticated,
                    scope,
                    session_timeout,
                } => b
                    .r#type(ActionTypeEnum::AuthenticateCognito)
                    .authenticate_cognito_config(
                        AuthenticateCognitoActionConfig::builder()
                            .user_pool_arn(user_pool_arn)
                            .user_pool_client_id(client_id)
                            .user_pool_domain(domain)
                            .on_unauthenticated_request(
                                AuthenticateCognitoActionConditionalBehaviorEnum::from(
                                    on_unauthenticated.as_str(),
                                ),
                            )
                            .set_scope(scope.clone())
                            .set_session_timeout(session_timeout.map(i64::from))
                            .build(),
                    ),
                ActionSpec::Oidc {
                    issuer,
                    authorization_endpoint,
                    token_endpoint,
                    user_info_endpoint,
                    client_id,
                    client_secret_env,
                    on_unauthenticated,
                    scope,
                    session_timeout,
                } => {
                    let value = client_secret(client_secret_env, secret, env)?;
                    b.r#type(ActionTypeEnum::AuthenticateOidc)
                        .authenticate_oidc_config(
                            AuthenticateOidcActionConfig::builder()
                                .issuer(issuer)
                                .authorization_endpoint(authorization_endpoint)
                                .token_endpoint(token_endpoint)
                                .user_info_endpoint(user_info_endpoint)
                                .client_id(client_id)
                                .use_existing_client_secret(value.is_none())
                                .set_client_secret(value)
                                .on_unauthenticated_request(
                                    AuthenticateOidcActionConditionalBehaviorEnum::from(
                                        on_unauthenticated.as_str(),
                                    ),
                                )
                                .set_scope(scope.clone())
                                .set_session_timeout(session_timeout.map(i64::from))
                                .build(),
                        )
                }
            }
            .build())
        })
        .collect()
}

/// ELBv2 actions as [`ActionSpec`]s in the order ALB runs them (by `Order`, or position
/// where AWS leaves it out), with literal target group ARNs. What ecsdeploy cannot express
/// reads as something no desired action renders to, so it shows as a change:
/// a weighted forward to several target groups as their ARNs joined, a redirect other than
/// "HTTPS, 301, same host/path/query" as port 0, any other action type as a fixed response
/// with status 0.
pub(super) fn from_aws_actions(actions: &[Action]) -> Vec<ActionSpec> {
    let mut ordered: Vec<(i32, usize, &Action)> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.order().unwrap_or(i as i32 + 1), i, a))
        .collect();
    ordered.sort_by_key(|(order, i, _)| (*order, *i));
    ordered
        .into_iter()
        .map(|(_, _, a)| action_spec(a))
        .collect()
}

fn unsupported(a: &Action) -> ActionSpec {
    ActionSpec::Fixed {
        status: 0,
        content_type: format!(
            "(action {} not managed by ecsdeploy)",
            a.r#type().map_or("?", |t| t.as_str())
        ),
        body: None,
    }
}

fn action_spec(a: &Action) -> ActionSpec {
    match a.r#type() {
        Some(ActionTypeEnum::Forward) => {
            // AWS reports the target group in ForwardConfig (and, for a single one, in
            // TargetGroupArn too).
            let mut arns: Vec<&str> = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .filter_map(|t| t.target_group_arn())
                        .collect()
                })
                .unwrap_or_default();
            if arns.is_empty() {
                arns.extend(a.target_group_arn());
            }
            arns.sort();
            arns.dedup();
            ActionSpec::Forward(Val::lit(arns.join(", ")))
        }
        Some(ActionTypeEnum::Redirect) => {
            let Some(c) = a.redirect_config() else {
                return unsupported(a);
            };
            let plain = c.protocol() == Some("HTTPS")
                && c.status_code() == Some(&RedirectActionStatusCodeEnum::Http301)
                && matches!(c.host(), None | Some("#{host}"))
                && matches!(c.path(), None | Some("/#{path}"))
                && matches!(c.query(), None | Some("#{query}"));
            let port = c.port().and_then(|p| p.parse::<u16>().ok());
            ActionSpec::RedirectHttps {
                port: port.filter(|_| plain).unwrap_or(0),
            }
        }
        Some(ActionTypeEnum::FixedResponse) => {
            let Some(c) = a.fixed_response_config() else {
                return unsupported(a);
            };
            ActionSpec::Fixed {
                status: c.status_code().and_then(|s| s.parse().ok()).unwrap_or(0),
                content_type: c.content_type().unwrap_or_default().to_string(),
                body: c.message_body().map(str::to_string),
            }
        }
        Some(ActionTypeEnum::AuthenticateCognito) => {
            let Some(c) = a.authenticate_cognito_config() else {
                return unsupported(a);
            };
            ActionSpec::Cognito {
                user_pool_arn: c.user_pool_arn().unwrap_or_default().to_string(),
                client_id: c.user_pool_client_id().unwrap_or_default().to_string(),
                domain: c.user_pool_domain().unwrap_or_default().to_string(),
                // AWS's default when the request leaves it out.
                on_unauthenticated: c
                    .on_unauthenticated_request()
                    .map_or("authenticate", |b| b.as_str())
                    .to_string(),
                scope: c.scope().map(str::to_string),
                session_timeout: c.session_timeout().map(|t| t as u32),
            }
        }
        Some(ActionTypeEnum::AuthenticateOidc) => {
            let Some(c) = a.authenticate_oidc_config() else {
                return unsupported(a);
            };
            ActionSpec::Oidc {
                issuer: c.issuer().unwrap_or_default().to_string(),
                authorization_endpoint: c.authorization_endpoint().unwrap_or_default().to_string(),
                token_endpoint: c.token_endpoint().unwrap_or_default().to_string(),
                user_info_endpoint: c.user_info_endpoint().unwrap_or_default().to_string(),
                client_id: c.client_id().unwrap_or_default().to_string(),
                // AWS never returns the secret, nor where it came from (not compared).
                client_secret_env: String::new(),
                on_unauthenticated: c
                    .on_unauthenticated_request()
                    .map_or("authenticate", |b| b.as_str())
                    .to_string(),
                scope: c.scope().map(str::to_string),
                session_timeout: c.session_timeout().map(|t| t as u32),
            }
        }
        _ => unsupported(a),
    }
}

/// True when observed action fields include an OIDC action (whose secret AWS keeps).
pub(super) fn has_oidc(actions: Option<&Value>) -> bool {
    actions
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x["type"] == "authenticate-oidc"))
}

/// The listeners of a load balancer (none if it is gone).
pub(super) async fn listeners_of(ctx: &Ctx, lb_arn: &str) -> Result<Vec<Listener>> {
    let listed: Result<Vec<Listener>> = ctx
        .aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(err);
    match listed {
        Err(e) if elb_gone(&e) => Ok(vec![]),
        other => other,
    }
}

/// The listeners of every load balancer the app owns.
pub(super) async fn owned_listeners(ctx: &Ctx) -> Result<Vec<Listener>> {
    let lbs = owned_load_balancers(ctx).await?;
    Ok(
        try_join_all(lbs.iter().map(|(arn, _)| listeners_of(ctx, arn)))
            .await?
            .into_iter()
            .flatten()
            .collect(),
    )
}

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
                    Err(e) if elb_gone(&e) => return Ok(None),
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
    ctx.aws
        .elb
        .describe_listener_certificates()
        .listener_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(err)
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
    v.as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
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

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Listener(s) = &r.spec else {
        unreachable!()
    };
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
        .set_tags(Some(elb_tags(ctx, &r.id, &r.name)))
        .send()
        .await
        .map_err(err);
    let out = match out {
        // Exists already: a create whose answer was lost and that was sent again. Ours
        // (observe refuses anyone else's) is adopted and brought to the desired state.
        Err(e) if matches!(code_of(&e), Some("DuplicateListener")) => {
            let o = super::adopted(ctx, r, observe(ctx, &[r]).await?, e)?;
            return update(ctx, r, &o, res).await;
        }
        other => other?,
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
    retry_until(CONSISTENCY, elb_gone, || {
        add_certificates(ctx, &arn, &extras)
    })
    .await?;
    Ok(Outputs::with_id(last_segment(&arn)).arn(arn))
}

async fn add_certificates(ctx: &Ctx, arn: &str, certs: &[&str]) -> Result<()> {
    if certs.is_empty() {
        return Ok(());
    }
    ctx.aws
        .elb
        .add_listener_certificates()
        .listener_arn(arn)
        .set_certificates(Some(certs.iter().map(|c| certificate(c)).collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(err)
}

async fn remove_certificates(ctx: &Ctx, arn: &str, certs: &[&str]) -> Result<()> {
    if certs.is_empty() {
        return Ok(());
    }
    ctx.aws
        .elb
        .remove_listener_certificates()
        .listener_arn(arn)
        .set_certificates(Some(certs.iter().map(|c| certificate(c)).collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(err)
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Listener(s) = &r.spec else {
        unreachable!()
    };
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
    elb_gone_ok(
        ctx.aws
            .elb
            .delete_listener()
            .listener_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(err),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::ListenerSpec;
    use aws_sdk_elasticloadbalancingv2::types::{ForwardActionConfig, TargetGroupTuple};

    const TG: &str = "arn:aws:elasticloadbalancing:r:1:targetgroup/web/abc";

    fn cognito() -> ActionSpec {
        ActionSpec::Cognito {
            user_pool_arn: "arn:aws:cognito-idp:r:1:userpool/x".into(),
            client_id: "cid".into(),
            domain: "auth".into(),
            on_unauthenticated: "authenticate".into(),
            scope: None,
            session_timeout: None,
        }
    }

    fn oidc(var: &str) -> ActionSpec {
        ActionSpec::Oidc {
            issuer: "https://issuer".into(),
            authorization_endpoint: "https://issuer/auth".into(),
            token_endpoint: "https://issuer/token".into(),
            user_info_endpoint: "https://issuer/userinfo".into(),
            client_id: "cid".into(),
            client_secret_env: var.into(),
            on_unauthenticated: "deny".into(),
            scope: Some("openid email".into()),
            session_timeout: Some(3600),
        }
    }

    fn round_trip(actions: &[ActionSpec]) {
        let aws = to_aws_actions(actions, &NoRefs, Secret::ReuseExisting).unwrap();
        let back = from_aws_actions(&aws);
        assert_eq!(
            actions_fields(&back, &NoRefs),
            actions_fields(actions, &NoRefs)
        );
    }

    #[test]
    fn every_action_kind_round_trips() {
        round_trip(&[ActionSpec::Forward(Val::lit(TG))]);
        round_trip(&[ActionSpec::RedirectHttps { port: 443 }]);
        round_trip(&[ActionSpec::Fixed {
            status: 404,
            content_type: "text/plain".into(),
            body: Some("not here".into()),
        }]);
        round_trip(&[ActionSpec::Fixed {
            status: 503,
            content_type: "application/json".into(),
            body: None,
        }]);
        round_trip(&[cognito(), ActionSpec::Forward(Val::lit(TG))]);
        round_trip(&[
            oidc("ECSDEPLOY_TEST_UNSET_SECRET"),
            ActionSpec::Forward(Val::lit(TG)),
        ]);
    }

    #[test]
    fn forward_config_and_missing_order_read_back() {
        // As AWS reports a forward: in ForwardConfig, without Order; sorted by Order.
        let fwd = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(2)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(TG)
                            .weight(1)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let auth = to_aws_actions(&[cognito()], &NoRefs, Secret::Required)
            .unwrap()
            .remove(0);
        let got = from_aws_actions(&[fwd.clone(), auth]);
        let want = [cognito(), ActionSpec::Forward(Val::lit(TG))];
        assert_eq!(
            actions_fields(&got, &NoRefs),
            actions_fields(&want, &NoRefs)
        );
        let no_order = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(TG)
            .build();
        assert_eq!(
            actions_fields(&from_aws_actions(&[no_order]), &NoRefs),
            actions_fields(&[ActionSpec::Forward(Val::lit(TG))], &NoRefs)
        );
    }

    #[test]
    fn inexpressible_actions_differ_from_any_desired_one() {
        let redirect_302 = Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http302)
                    .build(),
            )
            .build();
        assert_eq!(
            from_aws_actions(&[redirect_302]),
            vec![ActionSpec::RedirectHttps { port: 0 }]
        );
        let jwt = Action::builder()
            .r#type(ActionTypeEnum::JwtValidation)
            .build();
        assert!(matches!(
            &from_aws_actions(&[jwt])[0],
            ActionSpec::Fixed { status: 0, .. }
        ));
    }

    #[test]
    fn oidc_secret_comes_from_the_environment() {
        let var = "ECSDEPLOY_TEST_OIDC_SECRET_LISTENER";
        let e = to_aws_actions(&[oidc(var)], &NoRefs, Secret::Required).unwrap_err();
        assert!(e.to_string().contains(var), "{e}");
        assert!(e.to_string().contains("is not set"), "{e}");
        let reuse = to_aws_actions(&[oidc(var)], &NoRefs, Secret::ReuseExisting).unwrap();
        let c = reuse[0].authenticate_oidc_config().unwrap();
        assert_eq!(
            (c.use_existing_client_secret(), c.client_secret()),
            (Some(true), None)
        );
        let env = |v: &str| (v == var).then(|| "s3cret".to_string());
        let set = actions_with_env(&[oidc(var)], &NoRefs, Secret::ReuseExisting, &env).unwrap();
        let c = set[0].authenticate_oidc_config().unwrap();
        assert_eq!(
            (c.use_existing_client_secret(), c.client_secret()),
            (Some(false), Some("s3cret"))
        );
        let created = actions_with_env(&[oidc(var)], &NoRefs, Secret::Required, &env).unwrap();
        let c = created[0].authenticate_oidc_config().unwrap();
        assert_eq!(c.client_secret(), Some("s3cret"));
        // An empty variable is not a secret.
        let empty = |_: &str| Some(String::new());
        assert!(actions_with_env(&[oidc(var)], &NoRefs, Secret::Required, &empty).is_err());
    }

    #[test]
    fn has_oidc_reads_observed_actions() {
        let f = actions_fields(&[oidc("X"), ActionSpec::Forward(Val::lit(TG))], &NoRefs);
        assert!(has_oidc(Some(&f)));
        assert!(!has_oidc(Some(&actions_fields(&[cognito()], &NoRefs))));
        assert!(!has_oidc(None));
    }

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
