//! Load balancer specs: the ALB, target groups, listeners and their rules.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::kind_spec::{sorted, sorted_vals, KindSpec};
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerSpec {
    pub scheme: String,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    /// The attributes ecsdeploy manages (key → value as AWS spells them).
    pub attributes: BTreeMap<String, String>,
    /// Ordering only: an internet-facing load balancer comes after the internet gateway is
    /// attached (AWS refuses it in a VPC without one: InvalidSubnet "VPC ... has no
    /// internet gateway").
    pub after: Vec<ResourceId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckSpec {
    pub path: String,
    pub port: String,
    pub protocol: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroupSpec {
    pub vpc: Val,
    pub protocol: String,
    pub port: i32,
    pub health_check: HealthCheckSpec,
    pub deregistration_delay: u32,
}

/// One listener or rule action, in the order ALB runs them.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    Forward(Val),
    /// A forward to two target groups whose weights ECS moves during a blue/green, canary
    /// or linear deployment (the production or test rule): created with all traffic on
    /// the first; the weights are ECS's and never compared or sent again.
    WeightedForward(Vec<Val>),
    RedirectHttps {
        port: u16,
    },
    Fixed {
        status: u16,
        content_type: String,
        body: Option<String>,
    },
    Cognito {
        user_pool_arn: String,
        client_id: String,
        domain: String,
        on_unauthenticated: String,
        scope: Option<String>,
        session_timeout: Option<u32>,
    },
    Oidc {
        issuer: String,
        authorization_endpoint: String,
        token_endpoint: String,
        user_info_endpoint: String,
        client_id: String,
        /// Environment variable holding the client secret at apply time.
        client_secret_env: String,
        on_unauthenticated: String,
        scope: Option<String>,
        session_timeout: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerSpec {
    pub load_balancer: Val,
    pub port: u16,
    pub protocol: String,
    pub certificates: Vec<String>,
    pub ssl_policy: Option<String>,
    pub default_actions: Vec<ActionSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerRuleSpec {
    pub listener: Val,
    pub priority: u32,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    pub actions: Vec<ActionSpec>,
}

fn action_vals(actions: &[ActionSpec]) -> impl Iterator<Item = &Val> {
    actions.iter().flat_map(|a| match a {
        ActionSpec::Forward(v) => std::slice::from_ref(v),
        ActionSpec::WeightedForward(v) => v.as_slice(),
        _ => &[],
    })
}

/// Normal form of ALB actions: `order` is the position (1-based), as ALB runs them.
pub fn actions_fields(actions: &[ActionSpec], r: &dyn Resolve) -> Value {
    Value::Array(
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut v = match a {
                    ActionSpec::Forward(tg) => {
                        json!({"type": "forward", "target_group_arn": r.val(tg)})
                    }
                    ActionSpec::WeightedForward(tgs) => {
                        json!({"type": "forward", "target_groups": sorted_vals(tgs, r)})
                    }
                    ActionSpec::RedirectHttps { port } => json!({
                        "type": "redirect", "protocol": "HTTPS", "port": port.to_string(),
                        "status_code": "HTTP_301",
                    }),
                    ActionSpec::Fixed {
                        status,
                        content_type,
                        body,
                    } => json!({
                        "type": "fixed-response", "status_code": status.to_string(),
                        "content_type": content_type, "message_body": body,
                    }),
                    ActionSpec::Cognito {
                        user_pool_arn,
                        client_id,
                        domain,
                        on_unauthenticated,
                        scope,
                        session_timeout,
                    } => json!({
                        "type": "authenticate-cognito", "user_pool_arn": user_pool_arn,
                        "user_pool_client_id": client_id, "user_pool_domain": domain,
                        "on_unauthenticated_request": on_unauthenticated,
                        "scope": scope.clone().unwrap_or_else(|| "openid".into()),
                        "session_timeout": session_timeout.unwrap_or(604800),
                    }),
                    ActionSpec::Oidc {
                        issuer,
                        authorization_endpoint,
                        token_endpoint,
                        user_info_endpoint,
                        client_id,
                        on_unauthenticated,
                        scope,
                        session_timeout,
                        ..
                    } => json!({
                        "type": "authenticate-oidc", "issuer": issuer,
                        "authorization_endpoint": authorization_endpoint,
                        "token_endpoint": token_endpoint, "user_info_endpoint": user_info_endpoint,
                        "client_id": client_id,
                        "on_unauthenticated_request": on_unauthenticated,
                        "scope": scope.clone().unwrap_or_else(|| "openid".into()),
                        "session_timeout": session_timeout.unwrap_or(604800),
                    }),
                };
                v["order"] = json!(i + 1);
                v
            })
            .collect(),
    )
}

/// Normal form of rule conditions (values sorted).
pub fn conditions_fields(paths: &[String], hosts: &[String]) -> Value {
    let mut out = Vec::new();
    if !hosts.is_empty() {
        out.push(json!({"field": "host-header", "values": sorted(hosts.iter().cloned())}));
    }
    if !paths.is_empty() {
        out.push(json!({"field": "path-pattern", "values": sorted(paths.iter().cloned())}));
    }
    Value::Array(out)
}

impl KindSpec for LoadBalancerSpec {
    const KIND: Kind = Kind::LoadBalancer;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Listener, Kind::ListenerRule];
    const IMMUTABLE: &'static [&'static str] = &["type", "scheme"];

    fn vals(&self) -> Vec<&Val> {
        self.subnets
            .iter()
            .chain(self.security_groups.iter())
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "type": "application",
            "scheme": self.scheme,
            "ip_address_type": "ipv4",
            "subnets": sorted_vals(&self.subnets, r),
            "security_groups": sorted_vals(&self.security_groups, r),
            "attributes": self.attributes,
        })
    }
}

impl KindSpec for TargetGroupSpec {
    const KIND: Kind = Kind::TargetGroup;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::Listener, Kind::ListenerRule];
    const IMMUTABLE: &'static [&'static str] = &["vpc_id", "protocol", "port", "target_type"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.vpc]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "vpc_id": r.val(&self.vpc),
            "protocol": self.protocol,
            "port": self.port,
            "target_type": "ip",
            "health_check_path": self.health_check.path,
            "health_check_port": self.health_check.port,
            "health_check_protocol": self.health_check.protocol,
            "health_check_interval": self.health_check.interval,
            "health_check_timeout": self.health_check.timeout,
            "healthy_threshold": self.health_check.healthy_threshold,
            "unhealthy_threshold": self.health_check.unhealthy_threshold,
            "matcher": self.health_check.matcher,
            "deregistration_delay": self.deregistration_delay,
        })
    }
}

impl KindSpec for ListenerSpec {
    const KIND: Kind = Kind::Listener;
    const DELETED_AFTER: &'static [Kind] = &[Kind::ListenerRule];
    const IMMUTABLE: &'static [&'static str] = &["load_balancer_arn"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.load_balancer)
            .chain(action_vals(&self.default_actions))
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "load_balancer_arn": r.val(&self.load_balancer),
            "port": self.port,
            "protocol": self.protocol,
            "certificates": self.certificates,
            "ssl_policy": self.ssl_policy,
            "default_actions": actions_fields(&self.default_actions, r),
        })
    }
}

impl KindSpec for ListenerRuleSpec {
    const KIND: Kind = Kind::ListenerRule;
    const DELETED_AFTER: &'static [Kind] = &[];
    const IMMUTABLE: &'static [&'static str] = &["listener_arn"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.listener)
            .chain(action_vals(&self.actions))
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "listener_arn": r.val(&self.listener),
            "priority": self.priority,
            "conditions": conditions_fields(&self.paths, &self.hosts),
            "actions": actions_fields(&self.actions, r),
        })
    }
}
