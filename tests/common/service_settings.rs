//! The realism layer's service settings (part of [`super::realism`]): moto drops a
//! service's `deploymentConfiguration` on CreateService (it keeps an update's verbatim),
//! never reports `enableExecuteCommand`, and ignores `serviceConnectConfiguration`. AWS
//! keeps all three, reports them in every answer that shows the service (ECS API
//! `Service`: `deploymentConfiguration`, `enableExecuteCommand`; Service Connect per
//! deployment, `Deployment.serviceConnectConfiguration`), and checks the deployment
//! settings' own rules.

use std::collections::HashMap;

use serde_json::{json, Value};

/// What the layer knows about services' settings in one account.
#[derive(Default)]
pub(super) struct SettingsSeen {
    /// Service name → its settings, as AWS reports them.
    services: HashMap<String, Settings>,
}

struct Settings {
    deployment: Value,
    execute_command: bool,
    /// The Service Connect configuration of the latest deployment (absent: none sent yet).
    service_connect: Option<Value>,
}

fn service_name<'a>(op: &str, req: &'a Value) -> &'a str {
    let name = match op {
        "CreateService" => req["serviceName"].as_str(),
        _ => req["service"].as_str(),
    };
    let name = name.unwrap_or_default();
    name.rsplit('/').next().unwrap_or(name)
}

/// AWS's `deploymentConfiguration` of a service created without one (ECS API
/// `DeploymentConfiguration`: 200 / 100 for a replica service, circuit breaker off).
fn default_deployment() -> Value {
    json!({
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": false, "rollback": false},
        "strategy": "ROLLING",
    })
}

/// A deployment configuration as AWS reports it: what was sent, with AWS's defaults for
/// what was not (ECS API `ThresholdConfiguration`: BOUNDED_PERCENT 50;
/// `DeploymentCircuitBreaker.resetOnHealthyTask`: true; `DeploymentAlarms`: off).
fn with_defaults(d: &Value) -> Value {
    let mut d = d.clone();
    let cb = &mut d["deploymentCircuitBreaker"];
    if cb.is_object() {
        if cb["thresholdConfiguration"].is_null() {
            cb["thresholdConfiguration"] = json!({"type": "BOUNDED_PERCENT", "value": 50});
        }
        if cb["resetOnHealthyTask"].is_null() {
            cb["resetOnHealthyTask"] = true.into();
        }
    }
    if d["alarms"].is_null() {
        d["alarms"] = json!({"alarmNames": [], "enable": false, "rollback": false});
    }
    d
}

impl SettingsSeen {
    /// AWS's refusal of a CreateService / UpdateService over its deployment settings.
    pub(super) fn refusal(&self, op: &str, req: &Value) -> Option<String> {
        if !matches!(op, "CreateService" | "UpdateService") {
            return None;
        }
        let d = &req["deploymentConfiguration"];
        let early = &d["earlySuccessCriteria"];
        if early["enable"] == true {
            // ECS API DeploymentEarlySuccessCriteria: "When set to true ... You must also
            // specify healthyPercent and sourceServiceRevisionCleanup", and healthyPercent
            // "must be greater than or equal to the minimumHealthyPercent value".
            let Some(healthy) = early["healthyPercent"].as_i64() else {
                return Some("earlySuccessCriteria.healthyPercent is required.".into());
            };
            if !early["sourceServiceRevisionCleanup"].is_string() {
                return Some(
                    "earlySuccessCriteria.sourceServiceRevisionCleanup is required.".into(),
                );
            }
            let min = d["minimumHealthyPercent"].as_i64().unwrap_or(100);
            if healthy < min {
                return Some(format!(
                    "earlySuccessCriteria.healthyPercent ({healthy}) must be greater than or \
                     equal to minimumHealthyPercent ({min})."
                ));
            }
        }
        let cb = &d["deploymentCircuitBreaker"];
        let threshold = &cb["thresholdConfiguration"];
        if threshold.is_object() && threshold["value"].as_i64().is_none_or(|v| v < 0) {
            return Some("thresholdConfiguration.value must be a non-negative integer.".into());
        }
        None
    }

    /// The deployment configuration a service will have once `req` (a CreateService /
    /// UpdateService) succeeds: what it had (AWS's default for a new one) with what the
    /// request sends.
    pub(super) fn deployment_after(&self, op: &str, req: &Value) -> Value {
        let mut d = match (op, self.services.get(service_name(op, req))) {
            ("UpdateService", Some(s)) => s.deployment.clone(),
            _ => default_deployment(),
        };
        if let (Some(kept), Some(sent)) = (
            d.as_object_mut(),
            req["deploymentConfiguration"].as_object(),
        ) {
            for (k, v) in sent {
                kept.insert(k.clone(), v.clone());
            }
        }
        d
    }

    /// Records a successful request; rewrites the answer's services to report their
    /// settings as AWS does. Whether the answer changed.
    pub(super) fn after(&mut self, op: &str, req: &Value, answer: &mut Value) -> bool {
        if matches!(op, "CreateService" | "UpdateService") {
            let name = service_name(op, req).to_owned();
            if op == "CreateService" {
                self.services.insert(
                    name.clone(),
                    Settings {
                        deployment: default_deployment(),
                        execute_command: false,
                        service_connect: None,
                    },
                );
            }
            if let Some(s) = self.services.get_mut(&name) {
                // ECS API UpdateService: what a request leaves out stays as it was.
                if let (Some(kept), Some(sent)) = (
                    s.deployment.as_object_mut(),
                    req["deploymentConfiguration"].as_object(),
                ) {
                    for (k, v) in sent {
                        kept.insert(k.clone(), v.clone());
                    }
                }
                if let Some(on) = req["enableExecuteCommand"].as_bool() {
                    s.execute_command = on;
                }
                if req["serviceConnectConfiguration"].is_object() {
                    s.service_connect = Some(req["serviceConnectConfiguration"].clone());
                }
            }
        }
        if op == "DeleteService" {
            self.services.remove(service_name(op, req));
        }
        let mut changed = false;
        let services = match answer.get_mut("services") {
            Some(Value::Array(list)) => list.iter_mut().collect::<Vec<_>>(),
            _ => answer.get_mut("service").into_iter().collect(),
        };
        for svc in services {
            let name = svc["serviceName"].as_str().unwrap_or_default();
            let Some(s) = self.services.get(name) else {
                continue;
            };
            svc["deploymentConfiguration"] = with_defaults(&s.deployment);
            svc["enableExecuteCommand"] = s.execute_command.into();
            if let Some(sc) = &s.service_connect {
                for d in svc["deployments"].as_array_mut().into_iter().flatten() {
                    if d["status"] == "PRIMARY" {
                        d["serviceConnectConfiguration"] = sc.clone();
                    }
                }
            }
            changed = true;
        }
        changed
    }
}
