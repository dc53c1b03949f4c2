//! Resource identity, references between resources, and the field maps that diffs compare.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Tag key naming the owning app on every resource ecsdeploy creates.
pub const TAG_APP: &str = "ecsdeploy:app";
/// Tag key holding the logical resource id (e.g. `subnet.public-a`).
pub const TAG_RESOURCE: &str = "ecsdeploy:resource";
/// Shown in plans for values AWS assigns at create time.
pub const UNKNOWN: &str = "(known after apply)";

pub use super::kinds::Kind;

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Logical identity of a resource: its kind and a name unique within the kind
/// (`subnet.public-a`, `service.web`). Stored in the `ecsdeploy:resource` tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceId {
    pub kind: Kind,
    pub name: String,
}

impl ResourceId {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        ResourceId {
            kind,
            name: name.into(),
        }
    }

    /// Parse the `kind.name` form found in the ownership tag.
    pub fn parse(s: &str) -> Option<Self> {
        let (k, n) = s.split_once('.')?;
        Some(ResourceId::new(Kind::parse(k)?, n))
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// Which value of another resource a reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attr {
    /// The AWS id (vpc-..., subnet-..., sg-...) or name.
    Id,
    Arn,
    /// Repository URI (ECR).
    Uri,
    /// Host name clients connect to (RDS endpoint address).
    Endpoint,
    /// Port clients connect to (RDS).
    Port,
    /// The start of the ARNs of the resource's service in its account and region
    /// (`arn:aws:ecs:<region>:<account>:`, from the cluster): names sibling resources, such
    /// as a task-definition family, that have no ARN of their own.
    ArnPrefix,
    /// The account the resource is in (from the cluster's ARN).
    Account,
}

impl Attr {
    pub fn key(self) -> &'static str {
        match self {
            Attr::Id => "id",
            Attr::Arn => "arn",
            Attr::Uri => "uri",
            Attr::Endpoint => "endpoint",
            Attr::Port => "port",
            Attr::ArnPrefix => "arn_prefix",
            Attr::Account => "account",
        }
    }
}

/// A value of another resource, known only once that resource exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref {
    pub id: ResourceId,
    pub attr: Attr,
}

impl Ref {
    pub fn id(id: &ResourceId) -> Self {
        Ref {
            id: id.clone(),
            attr: Attr::Id,
        }
    }
    pub fn arn(id: &ResourceId) -> Self {
        Ref {
            id: id.clone(),
            attr: Attr::Arn,
        }
    }
    pub fn uri(id: &ResourceId) -> Self {
        Ref {
            id: id.clone(),
            attr: Attr::Uri,
        }
    }
    pub fn attr(id: &ResourceId, attr: Attr) -> Self {
        Ref {
            id: id.clone(),
            attr,
        }
    }
}

/// Either a literal value or a reference to another resource's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Lit(String),
    Ref(Ref),
    /// A reference followed by literal text, e.g. a repository URI plus `:tag`.
    Suffixed(Ref, String),
}

impl Val {
    pub fn lit(s: impl Into<String>) -> Self {
        Val::Lit(s.into())
    }
    pub fn as_ref(&self) -> Option<&Ref> {
        match self {
            Val::Ref(r) | Val::Suffixed(r, _) => Some(r),
            Val::Lit(_) => None,
        }
    }
}

/// What a resource exposes to the resources that reference it: `id`, `arn`, `uri`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outputs(pub BTreeMap<&'static str, String>);

impl Outputs {
    pub fn with_id(id: impl Into<String>) -> Self {
        let mut o = Outputs::default();
        o.0.insert("id", id.into());
        o
    }
    pub fn arn(mut self, arn: impl Into<String>) -> Self {
        self.0.insert("arn", arn.into());
        self
    }
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.0.insert("uri", uri.into());
        self
    }
    /// Any other output (`endpoint`, `port`, `secret`).
    pub fn with(mut self, attr: Attr, value: impl Into<String>) -> Self {
        self.0.insert(attr.key(), value.into());
        self
    }
    pub fn get(&self, attr: Attr) -> Option<&str> {
        self.0.get(attr.key()).map(String::as_str)
    }
    pub fn id(&self) -> &str {
        self.0.get("id").map_or("", String::as_str)
    }
}

/// Normalised comparable fields of a resource: what `plan` shows and diffs compare.
pub type Fields = BTreeMap<String, Value>;

/// Resolves references: `Some(value)` when the referenced resource's value is known.
pub trait Resolve {
    fn resolve(&self, r: &Ref) -> Option<String>;

    /// The value, or [`UNKNOWN`] when the referenced resource does not exist yet.
    fn val(&self, v: &Val) -> String {
        match v {
            Val::Lit(s) => s.clone(),
            Val::Ref(r) => self.resolve(r).unwrap_or_else(|| UNKNOWN.to_string()),
            Val::Suffixed(r, suffix) => match self.resolve(r) {
                Some(v) => format!("{v}{suffix}"),
                None => UNKNOWN.to_string(),
            },
        }
    }

    /// Like [`Resolve::val`] but an error when unresolved: used while applying.
    fn need(&self, v: &Val) -> anyhow::Result<String> {
        let known = |r: &Ref| {
            self.resolve(r).ok_or_else(|| {
                anyhow::anyhow!("internal: {} of {} is not known yet", r.attr.key(), r.id)
            })
        };
        match v {
            Val::Lit(s) => Ok(s.clone()),
            Val::Ref(r) => known(r),
            Val::Suffixed(r, suffix) => Ok(format!("{}{suffix}", known(r)?)),
        }
    }

    /// [`Resolve::need`] of each value, in order: the first unresolved one is the error.
    fn need_all(&self, vals: &[Val]) -> anyhow::Result<Vec<String>> {
        vals.iter().map(|v| self.need(v)).collect()
    }
}

/// Resolves nothing: for values that hold literal ids only (observed state).
pub struct NoRefs;

impl Resolve for NoRefs {
    fn resolve(&self, _: &Ref) -> Option<String> {
        None
    }
}

impl Resolve for BTreeMap<ResourceId, Outputs> {
    fn resolve(&self, r: &Ref) -> Option<String> {
        self.get(&r.id)
            .and_then(|o| o.get(r.attr))
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_id_round_trips_through_tag_form() {
        let id = ResourceId::new(Kind::Subnet, "public-a");
        assert_eq!(id.to_string(), "subnet.public-a");
        assert_eq!(ResourceId::parse("subnet.public-a"), Some(id));
        assert_eq!(ResourceId::parse("nonsense"), None);
        assert_eq!(ResourceId::parse("bogus.x"), None);
    }

    #[test]
    fn unresolved_reference_reads_as_unknown() {
        let outputs: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        let v = Val::Ref(Ref::id(&ResourceId::new(Kind::Vpc, "main")));
        assert_eq!(outputs.val(&v), UNKNOWN);
        assert!(outputs.need(&v).is_err());
    }

    #[test]
    fn vpc_is_deleted_after_its_contents() {
        for k in [Kind::Subnet, Kind::SecurityGroup, Kind::InternetGateway] {
            assert!(Kind::Vpc.deleted_after().contains(&k));
        }
    }
}
