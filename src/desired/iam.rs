//! The IAM part of the desired state: the roles ECS tasks assume (the shared execution
//! role and each service's task role), all under the app's IAM path.

use super::env::{partition, Env};
use super::ids::*;
use super::resource::{Ref, Val};
use super::spec::*;
use crate::config::native::ExecutionReads;
use crate::config::Config;

pub const ECS_TASKS_PRINCIPAL: &str = "ecs-tasks.amazonaws.com";
/// ECS itself, as the infrastructure role's principal.
pub const ECS_PRINCIPAL: &str = "ecs.amazonaws.com";

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
/// secrets the services get injected and what their task-definition files name (registry
/// credentials, `environmentFiles`, FireLens `secretOptions`), nothing else.
pub fn execution_role(c: &Config, env: &Env, secrets: &[Val], files: &ExecutionReads) -> Resource {
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
            execution_statements(env, secrets, files),
        ),
    }
}

/// The execution role's inline statements. Environment files: `s3:GetObject` on each
/// file's object and `s3:GetBucketLocation` on its bucket, as the ECS developer guide asks
/// ("Pass environment variables to an Amazon ECS container", use-environment-file.html, and
/// "Amazon ECS task execution IAM role", task_execution_IAM_role.html: Amazon S3 file
/// storage permissions). Registry credentials, secrets and FireLens `secretOptions`:
/// `secretsmanager:GetSecretValue` on the secret, `ssm:GetParameters` on a parameter (same
/// page: private registry authentication, and Secrets Manager or Systems Manager
/// permissions); `kms:Decrypt` only for a customer managed key, which is the user's to grant.
fn execution_statements(
    env: &Env,
    secrets: &[Val],
    files: &ExecutionReads,
) -> Vec<PolicyStatement> {
    let allow = |action: &str, resources: Vec<Val>| PolicyStatement {
        effect: "Allow".to_string(),
        actions: vec![action.to_string()],
        resources,
    };
    let lits = |s: &std::collections::BTreeSet<String>| s.iter().map(Val::lit).collect::<Vec<_>>();
    let mut read: Vec<Val> = secrets.to_vec();
    // A secret given by name is read by its ARN, resolved at `up` (`Env::secrets`).
    read.extend(
        files
            .secrets
            .iter()
            .map(|s| Val::lit(env.secrets.get(s).cloned().unwrap_or_else(|| s.clone()))),
    );
    read.sort();
    read.dedup();
    let mut out = Vec::new();
    if !read.is_empty() {
        out.push(allow("secretsmanager:GetSecretValue", read));
    }
    if !files.parameters.is_empty() {
        out.push(allow("ssm:GetParameters", lits(&files.parameters)));
    }
    if !files.objects.is_empty() {
        out.push(allow("s3:GetObject", lits(&files.objects)));
        out.push(allow("s3:GetBucketLocation", lits(&files.buckets)));
    }
    out
}

/// What the services' task-definition files need the execution role to read.
pub fn file_reads(c: &Config) -> ExecutionReads {
    let mut all = ExecutionReads::default();
    for s in c.services.values() {
        if let Some(def) = &s.native {
            all.extend(def.execution_reads());
        }
    }
    all
}

/// The role ECS assumes to move load balancer traffic between a service's two target
/// groups (blue/green, canary, linear): trusted by `ecs.amazonaws.com`, with AWS's managed
/// policy for it (ECS developer guide, "Amazon ECS infrastructure IAM role for load
/// balancers"). One per app.
pub fn infrastructure_role(c: &Config, env: &Env) -> Resource {
    Resource {
        id: infrastructure_role_id(),
        name: c.infrastructure_role_name(),
        spec: Spec::IamRole(RoleSpec {
            principal: ECS_PRINCIPAL.to_string(),
            path: role_path(&c.app, &env.region),
            region: env.region.clone(),
            managed_policies: vec![format!(
                "arn:{}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
                partition(&env.region)
            )],
            inline_policy: vec![],
            source_account: None,
        }),
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
