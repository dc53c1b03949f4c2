//! The realism layer's Fargate capacity providers (part of [`super::realism`]): moto drops
//! a service's `capacityProviderStrategy` (and reports the `EC2` launch type instead) and
//! checks nothing about it; AWS keeps it, reports it, and refuses what cannot run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What the layer knows about capacity providers in one account.
#[derive(Default)]
pub(super) struct CapacitySeen {
    /// Cluster name → its capacity providers.
    providers: HashMap<String, Vec<String>>,
    /// Cluster name → when its providers last changed (the attachments update meanwhile).
    updated: HashMap<String, Instant>,
    /// Service name → its strategy, as last sent (absent: the launch type).
    strategies: HashMap<String, Value>,
}

fn cluster_of(req: &Value) -> String {
    let c = req["cluster"].as_str().unwrap_or("default");
    c.rsplit('/').next().unwrap_or(c).to_owned()
}

fn strategy(req: &Value) -> Option<&Vec<Value>> {
    req["capacityProviderStrategy"].as_array()
}

impl CapacitySeen {
    /// AWS's refusal of an ECS request about capacity, as (code, message).
    pub(super) fn refusal(
        &self,
        op: &str,
        req: &Value,
        now: Instant,
        window: Duration,
    ) -> Option<(&'static str, String)> {
        let cluster = cluster_of(req);
        match op {
            "CreateService" | "UpdateService" => {
                // ECS API CreateService: "If a capacityProviderStrategy is specified, the
                // launchType parameter must be omitted."
                let items = strategy(req)?;
                if op == "CreateService" && req["launchType"].is_string() && !items.is_empty() {
                    return Some((
                        "InvalidParameterException",
                        "Specifying both a launch type and capacity provider strategy is not \
                         supported. Remove one and try again."
                            .into(),
                    ));
                }
                // ECS API CapacityProviderStrategyItem: "Only capacity providers that are
                // already associated with a cluster ... can be used in a capacity provider
                // strategy. The PutClusterCapacityProviders API is used to associate a
                // capacity provider with a cluster."
                let associated = self.providers.get(&cluster);
                let missing = items
                    .iter()
                    .filter_map(|i| i["capacityProvider"].as_str())
                    .find(|p| !associated.is_some_and(|a| a.iter().any(|x| x == p)))?;
                Some((
                    "InvalidParameterException",
                    format!(
                        "The specified capacity provider strategy cannot contain a capacity \
                         provider that is not associated with the cluster. Associate the \
                         capacity provider with the cluster or specify a valid capacity \
                         provider and try again. ({missing})"
                    ),
                ))
            }
            // terraform-provider-aws retryClusterCapacityProvidersPut retries
            // UpdateInProgressException: a cluster whose attachments are still updating
            // refuses another change.
            "PutClusterCapacityProviders" => self
                .updated
                .get(&cluster)
                .filter(|t| now.duration_since(**t) < window)
                .map(|_| {
                    (
                        "UpdateInProgressException",
                        "The specified cluster is in a busy state. Cluster attachments must be \
                         in UPDATE_COMPLETE or UPDATE_FAILED state before they can be updated. \
                         Wait and try again."
                            .into(),
                    )
                }),
            _ => None,
        }
    }

    /// Records a successful request; rewrites the answer's services to report their
    /// strategy as AWS does (`capacityProviderStrategy`, and no `launchType`). Whether the
    /// answer changed.
    pub(super) fn after(
        &mut self,
        op: &str,
        req: &Value,
        answer: &mut Value,
        now: Instant,
    ) -> bool {
        let cluster = cluster_of(req);
        match op {
            "CreateCluster" => {
                let name = answer["cluster"]["clusterName"]
                    .as_str()
                    .unwrap_or_default();
                let providers = req["capacityProviders"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let names = providers
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned));
                self.providers.insert(name.to_owned(), names.collect());
                if !providers.is_empty() {
                    self.updated.insert(name.to_owned(), now);
                }
            }
            "PutClusterCapacityProviders" => {
                let names = req["capacityProviders"].as_array().into_iter().flatten();
                let names = names
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect();
                self.providers.insert(cluster, names);
                let name = answer["cluster"]["clusterName"]
                    .as_str()
                    .unwrap_or_default();
                self.updated.insert(name.to_owned(), now);
            }
            "CreateService" | "UpdateService" => {
                let name = match op {
                    "CreateService" => req["serviceName"].as_str(),
                    _ => req["service"]
                        .as_str()
                        .map(|s| s.rsplit('/').next().unwrap_or(s)),
                };
                let name = name.unwrap_or_default().to_owned();
                match strategy(req) {
                    Some(items) if !items.is_empty() => {
                        self.strategies.insert(name, Value::Array(items.clone()));
                    }
                    // UpdateService with an empty strategy goes back to the launch type.
                    Some(_) => {
                        self.strategies.remove(&name);
                    }
                    None if op == "CreateService" => {
                        self.strategies.remove(&name);
                    }
                    None => {}
                }
            }
            _ => {}
        }
        let mut changed = false;
        let services = match answer.get_mut("services") {
            Some(Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
            _ => answer.get_mut("service").into_iter().collect(),
        };
        for svc in services {
            let name = svc["serviceName"].as_str().unwrap_or_default();
            if let Some(items) = self.strategies.get(name) {
                svc["capacityProviderStrategy"] = items.clone();
                if let Some(o) = svc.as_object_mut() {
                    o.remove("launchType");
                }
                changed = true;
            }
        }
        changed
    }
}
