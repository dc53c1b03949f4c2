//! The IAM part of the desired state: the roles ECS tasks assume (the shared execution
//! role and each service's task role), all under the app's IAM path.

use super::env::{partition, Env};
use super::ids::*;
use super::resource::{Ref, Val};
use super::spec::*;
use crate::config::Config;

pub const ECS_TASKS_PRINCIPAL: &str = "ecs-tasks.amazonaws.com";

/// IAM path of every role ecsdeploy creates for `app` in `region`; lets `down` find them
/// all. IAM is global, so the region is part of it: the same app deployed in two regions
/// of one account does not take (or delete) the other's roles.
pub fn role_path(app: &str, region: &str) -> String {
    format!("/ecsdeploy/{app}/{region}/")
}

/// The path earlier versions gave every role of `app`, whatever the region. Such roles are
/// adopted by the first region that deploys the app after the upgrade (IAM paths cannot
/// be changed), which marks them with its region tag ([`TAG_REGION`]).
pub fn legacy_role_path(app: &str) -> String {
    format!("/ecsdeploy/{app}/")
}

/// The tag that says which region's deployment a role made under [`legacy_role_path`]
/// belongs to.
pub const TAG_REGION: &str = "ecsdeploy:region";

/// A role ECS tasks of the app assume.
fn ecs_tasks_role(
    c: &Config,
    env: &Env,
    managed_policies: Vec<String>,
    inline_policy: Vec<PolicyStatement>,
) -> Spec {
    Spec::IamRole(RoleSpec {
        principal: ECS_TASKS_PRINCIPAL.to_string(),
        path: role_path(&c.app, &env.region),
        region: env.region.clone(),
        managed_policies,
        inline_policy,
        source_account: None,
    })
}

/// The execution role the services share: AWS's managed policy, plus reading exactly the
/// secrets the services get injected, nothing else.
pub fn execution_role(c: &Config, env: &Env, secrets: &[Val]) -> Resource {
    Resource {
        id: execution_role_id(),
        name: c.execution_role_name(),
        spec: ecs_tasks_role(
            c,
            env,
            vec![format!(
                "arn:{}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                partition(&env.region)
            )],
            if secrets.is_empty() {
                vec![]
            } else {
                vec![PolicyStatement {
                    effect: "Allow".to_string(),
                    actions: vec!["secretsmanager:GetSecretValue".to_string()],
                    resources: secrets.to_vec(),
                }]
            },
        ),
    }
}

/// A service's task role: the configured statements, then the grants of the stores the
/// service uses.
pub fn task_role(c: &Config, env: &Env, key: &str, store_grants: &[PolicyStatement]) -> Resource {
    let inline_policy: Vec<PolicyStatement> = c.services[key]
        .task_policy
        .iter()
        .map(|st| PolicyStatement {
            effect: format!("{:?}", st.effect),
            actions: st.actions.clone(),
            resources: st.resources.iter().map(Val::lit).collect(),
        })
        .chain(store_grants.iter().cloned())
        .collect();
    Resource {
        id: task_role_id(key),
        name: c.task_role_name(key),
        spec: ecs_tasks_role(c, env, vec![], inline_policy),
    }
}

/// The execution role's own inline policy that lets ECS read database `db`'s master
/// password secret; only the services that use the database wait for it.
pub fn db_secret_policy(c: &Config, db: &str) -> Resource {
    Resource {
        id: db_secret_policy_id(db),
        name: format!("ecsdeploy-db-{db}"),
        spec: Spec::IamRolePolicy(RolePolicySpec {
            role: c.execution_role_name(),
            statements: vec![PolicyStatement {
                effect: "Allow".to_string(),
                actions: vec!["secretsmanager:GetSecretValue".to_string()],
                resources: vec![Val::Ref(Ref::arn(&db_password_id(db)))],
            }],
            after: vec![execution_role_id()],
        }),
    }
}
