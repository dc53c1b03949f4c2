//! Existing roles the config names (`iam.execution_role`, `services.<key>.task_role`): they
//! must exist and trust `ecs-tasks.amazonaws.com`, or every task fails to start ("ECS was
//! unable to assume the role").

use anyhow::Result;
use serde_json::Value;

use super::{Finding, Session};
use crate::aws::{code_of, err};
use crate::steps::support::iam::decode_policy;

pub async fn check(s: &Session) -> Result<Vec<Finding>> {
    let c = &s.config;
    let mut wanted: Vec<(String, &str)> = Vec::new();
    if let Some(arn) = &c.iam.execution_role {
        wanted.push(("iam.execution_role".into(), arn));
    }
    for (key, svc) in &c.services {
        if let Some(arn) = &svc.task_role {
            wanted.push((format!("services.{key}.task_role"), arn));
        }
    }
    let mut out = Vec::new();
    for (key, arn) in wanted {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        match s
            .ctx
            .aws
            .iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(err)
        {
            Ok(got) => {
                let doc = got
                    .role()
                    .map(|r| r.assume_role_policy_document().unwrap_or_default())
                    .unwrap_or_default();
                let trusted = decode_policy(doc).is_ok_and(|d| trusts_ecs_tasks(&d));
                if !trusted {
                    out.push(Finding::error(
                        key,
                        format!(
                            "role {arn} does not trust ecs-tasks.amazonaws.com: ECS could not \
                             assume it and no task would start; add a statement allowing \
                             sts:AssumeRole to the service principal ecs-tasks.amazonaws.com \
                             to its trust policy"
                        ),
                    ));
                }
            }
            Err(e) if code_of(&e) == Some("NoSuchEntity") => out.push(Finding::error(
                key,
                format!("role {arn} does not exist in this account"),
            )),
            Err(e) => return Err(e.context(format!("reading role {arn}"))),
        }
    }
    Ok(out)
}

/// Whether a trust policy lets ECS tasks assume the role.
pub fn trusts_ecs_tasks(doc: &Value) -> bool {
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => vec![],
        }
    };
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => vec![],
    };
    statements.iter().any(|st| {
        st["Effect"] == "Allow"
            && list(&st["Action"])
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
            && list(&st["Principal"]["Service"])
                .iter()
                .any(|p| p == "ecs-tasks.amazonaws.com")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_allow_for_the_ecs_tasks_principal_counts() {
        let ok = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}}]});
        assert!(trusts_ecs_tasks(&ok));
        let single = json!({"Statement": {"Effect": "Allow", "Action": ["sts:AssumeRole"],
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}}});
        assert!(trusts_ecs_tasks(&single));
        let lambda = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"}}]});
        assert!(!trusts_ecs_tasks(&lambda));
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]});
        assert!(!trusts_ecs_tasks(&deny));
    }
}
