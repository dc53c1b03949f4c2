//! IAM specs: roles and their inline policies, and extra inline policies a role gets
//! once what they grant exists.

use serde_json::{json, Value};

use super::kind_spec::{sorted, sorted_vals, KindSpec};
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    /// Service principal allowed to assume the role.
    pub principal: String,
    pub path: String,
    /// The region whose deployment the role belongs to (IAM is global).
    pub region: String,
    pub managed_policies: Vec<String>,
    /// Statements of the inline policy (named after the role); empty = no inline policy.
    pub inline_policy: Vec<PolicyStatement>,
    /// The account the principal may assume the role for only (`aws:SourceAccount` in the
    /// trust policy: the confused-deputy guard AWS recommends for roles a service assumes
    /// on behalf of a resource, such as a Scheduler schedule); `None` = no condition.
    pub source_account: Option<Val>,
}

/// One statement of a generated or configured inline policy. Resources may reference
/// other resources' ARNs (a table, a secret), known only once those exist.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStatement {
    /// `Allow` or `Deny`.
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<Val>,
}

/// The trust policy of a role assumable by one service principal.
pub fn assume_role_policy(principal: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": principal },
            "Action": "sts:AssumeRole",
        }],
    })
}

/// [`assume_role_policy`], assumable only on behalf of resources in `account` when given.
/// With a condition the document is in the canonical shape (`Action` an array), like every
/// document that holds a reference: observe compares before references are known, in that
/// shape (`support::iam::shaped_like`).
pub fn trust_policy(principal: &str, account: Option<String>) -> Value {
    let mut doc = assume_role_policy(principal);
    if let Some(account) = account {
        let st = &mut doc["Statement"][0];
        st["Action"] = json!(["sts:AssumeRole"]);
        st["Condition"] = json!({ "StringEquals": { "aws:SourceAccount": account } });
    }
    doc
}

/// The inline policy document of a role, or null when it has no statements. Actions and
/// resources are sorted lists: the normal form the IAM step compares against.
pub fn policy_document(statements: &[PolicyStatement], r: &dyn Resolve) -> Value {
    if statements.is_empty() {
        return Value::Null;
    }
    json!({
        "Version": "2012-10-17",
        "Statement": statements.iter().map(|st| json!({
            "Effect": st.effect,
            "Action": sorted(st.actions.iter().cloned()),
            "Resource": sorted_vals(&st.resources, r),
        })).collect::<Vec<_>>(),
    })
}

impl KindSpec for RoleSpec {
    const KIND: Kind = Kind::IamRole;
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::Service,
        Kind::TaskDefinition,
        Kind::IamRolePolicy,
        Kind::Schedule,
    ];
    const IMMUTABLE: &'static [&'static str] = &["path"];

    fn vals(&self) -> Vec<&Val> {
        self.inline_policy
            .iter()
            .flat_map(|st| st.resources.iter())
            .chain(&self.source_account)
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        let account = self.source_account.as_ref().map(|a| r.val(a));
        json!({
            "path": self.path,
            "region": self.region,
            "assume_role_policy": trust_policy(&self.principal, account),
            "managed_policy_arns": sorted(self.managed_policies.iter().cloned()),
            "inline_policy": policy_document(&self.inline_policy, r),
        })
    }
}

/// An inline policy of its own on a role the app owns, for grants that only some services
/// need (a database's master password secret): the role, and whatever needs only the role,
/// does not wait for what the grant names. The resource's name is the policy's name.
#[derive(Debug, Clone, PartialEq)]
pub struct RolePolicySpec {
    /// The role's name.
    pub role: String,
    pub statements: Vec<PolicyStatement>,
    /// The role (by id): the policy is put on it once it exists.
    pub after: Vec<ResourceId>,
}

impl KindSpec for RolePolicySpec {
    const KIND: Kind = Kind::IamRolePolicy;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::TaskDefinition];
    const IMMUTABLE: &'static [&'static str] = &["role"];

    fn vals(&self) -> Vec<&Val> {
        self.statements
            .iter()
            .flat_map(|st| st.resources.iter())
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "role": self.role,
            "policy": policy_document(&self.statements, r),
        })
    }
}
