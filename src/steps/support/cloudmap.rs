//! Cloud Map helpers: listing namespaces, and comparing namespace references written as a
//! name or an ARN (the namespace, cluster and service steps share these).

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_servicediscovery::types::{
    FilterCondition, NamespaceFilter, NamespaceFilterName, NamespaceSummary,
};

use crate::aws::err;
use crate::desired::Val;
use crate::steps::Ctx;

/// Every namespace in the account and region (only HTTP ones when `http_only`).
pub async fn list(ctx: &Ctx, http_only: bool) -> Result<Vec<NamespaceSummary>> {
    let mut req = ctx.aws.cloudmap.list_namespaces();
    if http_only {
        req = req.filters(
            NamespaceFilter::builder()
                .name(NamespaceFilterName::Type)
                .values("HTTP")
                .condition(FilterCondition::Eq)
                .build()?,
        );
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page.map_err(err)?.namespaces().iter().cloned());
    }
    Ok(out)
}

/// Namespace ARN → name, for every namespace (of any type) in the account and region.
pub async fn names_by_arn(ctx: &Ctx) -> Result<BTreeMap<String, String>> {
    Ok(list(ctx, false)
        .await?
        .into_iter()
        .filter_map(|n| Some((n.arn()?.to_string(), n.name()?.to_string())))
        .collect())
}

pub fn is_arn(s: &str) -> bool {
    s.starts_with("arn:")
}

/// The namespace as the config wrote it, when that is a literal (an existing namespace
/// by name or ARN); `None` for a reference to the namespace ecsdeploy creates.
pub fn literal(v: Option<&Val>) -> Option<&str> {
    match v {
        Some(Val::Lit(s)) => Some(s),
        _ => None,
    }
}

/// True when a reported namespace and the configured one are written in different forms
/// (one a name, the other an ARN): comparing them needs [`names_by_arn`].
pub fn forms_differ(reported: &str, configured: &str) -> bool {
    is_arn(reported) != is_arn(configured)
}

/// A namespace reference as AWS reported it, rewritten to the configured form when both
/// denote the same namespace (ECS answers with the ARN, or with what it was given); else
/// as reported, so the diff shows the difference.
pub fn as_configured(reported: &str, configured: &str, names: &BTreeMap<String, String>) -> String {
    if !forms_differ(reported, configured) {
        return reported.to_string();
    }
    let name_of = |s: &str| -> Option<String> {
        if is_arn(s) {
            names.get(s).cloned()
        } else {
            Some(s.to_string())
        }
    };
    match (name_of(reported), name_of(configured)) {
        (Some(a), Some(b)) if a == b => configured.to_string(),
        _ => reported.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{Kind, Ref, ResourceId};

    const ARN: &str = "arn:aws:servicediscovery:ap-northeast-1:123456789012:namespace/ns-abc";

    fn names() -> BTreeMap<String, String> {
        [(ARN.to_string(), "local".to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn reported_arn_reads_as_the_configured_name() {
        assert_eq!(as_configured(ARN, "local", &names()), "local");
        // Another namespace: shown as reported, so the diff names it.
        assert_eq!(as_configured(ARN, "other", &names()), ARN);
    }

    #[test]
    fn reported_name_reads_as_the_configured_arn() {
        assert_eq!(as_configured("local", ARN, &names()), ARN);
        assert_eq!(as_configured("other", ARN, &names()), "other");
        // An ARN Cloud Map does not know: no match.
        assert_eq!(
            as_configured("local", "arn:aws:x:y:z:namespace/ns-q", &names()),
            "local"
        );
    }

    #[test]
    fn same_form_is_compared_as_is() {
        assert!(!forms_differ(ARN, ARN));
        assert!(!forms_differ("a", "b"));
        assert!(forms_differ(ARN, "local"));
        assert_eq!(as_configured("local", "other", &names()), "local");
    }

    #[test]
    fn only_literals_are_configured_forms() {
        let created = Val::Ref(Ref::arn(&ResourceId::new(Kind::Namespace, "local")));
        assert_eq!(literal(Some(&created)), None);
        assert_eq!(literal(Some(&Val::lit("local"))), Some("local"));
        assert_eq!(literal(None), None);
    }
}
