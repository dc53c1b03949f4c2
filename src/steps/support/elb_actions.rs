//! ELBv2 listener actions, both ways: the config's actions as API actions (for listeners
//! and listener rules) and API actions read back as the config's shape.

use anyhow::{bail, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, AuthenticateCognitoActionConditionalBehaviorEnum,
    AuthenticateCognitoActionConfig, AuthenticateOidcActionConditionalBehaviorEnum,
    AuthenticateOidcActionConfig, FixedResponseActionConfig, ForwardActionConfig,
    RedirectActionConfig, RedirectActionStatusCodeEnum, TargetGroupTuple,
};
use serde_json::Value;

#[cfg(test)]
use crate::desired::{actions_fields, NoRefs};
use crate::desired::{ActionSpec, Resolve, Val};

/// Where an OIDC client secret comes from when an action is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
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
pub fn to_aws_actions(
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
                // All traffic on the first group: where the service's tasks are when a
                // service starts shifting traffic (ECS moves the weights from then on).
                ActionSpec::WeightedForward(tgs) => {
                    let mut config = ForwardActionConfig::builder();
                    for (i, tg) in tgs.iter().enumerate() {
                        config = config.target_groups(
                            TargetGroupTuple::builder()
                                .target_group_arn(res.need(tg)?)
                                .weight(if i == 0 { 100 } else { 0 })
                                .build(),
                        );
                    }
                    b.r#type(ActionTypeEnum::Forward)
                        .forward_config(config.build())
                }
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

/// The weight of each target group of the weighted forwards among `actions`, as AWS
/// reports them (ECS's doing during a traffic-shifting deployment).
pub fn forward_weights(actions: &[Action]) -> std::collections::BTreeMap<String, i32> {
    actions
        .iter()
        .filter_map(|a| a.forward_config())
        .flat_map(|f| f.target_groups())
        .filter_map(|t| Some((t.target_group_arn()?.to_string(), t.weight()?)))
        .collect()
}

/// `actions` with the weights `live` holds for their weighted forwards, when it knows every
/// group of one: modifying a rule ECS shifts traffic on leaves its traffic where it is.
pub fn keep_weights(
    actions: Vec<Action>,
    live: &std::collections::BTreeMap<String, i32>,
) -> Vec<Action> {
    actions
        .into_iter()
        .map(|a| {
            let Some(f) = a.forward_config() else {
                return a;
            };
            let groups = f.target_groups();
            let known = groups.len() > 1
                && groups.iter().all(|t| {
                    t.target_group_arn()
                        .is_some_and(|arn| live.contains_key(arn))
                });
            if !known {
                return a;
            }
            let mut config = ForwardActionConfig::builder()
                .set_target_group_stickiness_config(f.target_group_stickiness_config().cloned());
            for t in groups {
                let arn = t.target_group_arn().unwrap_or_default();
                config = config.target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(arn)
                        .weight(live[arn])
                        .build(),
                );
            }
            let mut a = a;
            a.forward_config = Some(config.build());
            a
        })
        .collect()
}

/// ELBv2 actions as [`ActionSpec`]s in the order ALB runs them (by `Order`, or position
/// where AWS leaves it out), with literal target group ARNs. What ecsdeploy cannot express
/// reads as something no desired action renders to, so it shows as a change: a redirect other than
/// "HTTPS, 301, same host/path/query" as port 0, any other action type as a fixed response
/// with status 0.
pub fn from_aws_actions(actions: &[Action]) -> Vec<ActionSpec> {
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
            // A forward to several groups is a weighted one: the weights are ECS's (the
            // production or test rule of a service whose traffic it shifts).
            if arns.len() > 1 {
                return ActionSpec::WeightedForward(arns.into_iter().map(Val::lit).collect());
            }
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
pub fn has_oidc(actions: Option<&Value>) -> bool {
    actions
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x["type"] == "authenticate-oidc"))
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
