//! Resolving what the config imports — an existing VPC and subnets, existing security
//! groups — by id or `Name` tag, and checking that it all belongs together, before anything
//! is created. Imported resources are read here and never written anywhere.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_ec2::types::Filter;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::try_join_all;

use crate::aws::{code, err};
use crate::config::validate::{default_dns_names, default_dns_problem};
use crate::config::Config;
use crate::desired::ImportedNetwork;
use crate::error::UsageError;
use crate::steps::Ctx;

/// One EC2 thing found for a value written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub vpc_id: String,
}

/// Ids and `Name` tags as written → what AWS has for them (several = ambiguous).
pub type Lookup = BTreeMap<String, Vec<Found>>;

/// Everything imported, resolved: the network (if any) and security group ids.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub network: Option<ImportedNetwork>,
    pub security_groups: BTreeMap<String, String>,
}

pub async fn resolve(ctx: &Ctx, c: &Config) -> Result<Imported> {
    let sg_refs: Vec<String> = c
        .load_balancer
        .iter()
        .flat_map(|lb| lb.security_groups.iter())
        .chain(c.services.values().flat_map(|s| s.security_groups.iter()))
        .cloned()
        .collect();
    let Some(ex) = &c.network.existing else {
        if sg_refs.is_empty() {
            return Ok(Imported::default());
        }
        return Err(UsageError(
            "existing security groups need an existing network: set network.existing (a \
             security group belongs to one VPC, and the VPC ecsdeploy creates has none yet)"
                .into(),
        )
        .into());
    };
    let subnet_refs: Vec<String> = ex
        .public_subnets
        .iter()
        .chain(&ex.private_subnets)
        .cloned()
        .collect();
    let (vpcs, subnets, groups) = tokio::try_join!(
        vpcs(ctx, &ex.vpc),
        subnets(ctx, &subnet_refs),
        security_groups(ctx, &sg_refs),
    )?;
    check(ex, &vpcs, &subnets, &groups, &sg_refs).map_err(|problems| {
        UsageError(format!(
            "the imported network does not check out:\n  {}",
            problems.join("\n  ")
        ))
        .into()
    })
}

/// Pure: every reference resolves to exactly one thing, and everything is in the VPC.
pub fn check(
    ex: &crate::config::ExistingNetwork,
    vpcs: &Lookup,
    subnets: &Lookup,
    groups: &Lookup,
    sg_refs: &[String],
) -> Result<Imported, Vec<String>> {
    let mut problems = Vec::new();
    let mut one = |what: &str, key: &str, written: &str, found: Option<&Vec<Found>>| match found
        .map(Vec::as_slice)
    {
        Some([f]) => Some(f.clone()),
        Some([]) | None => {
            problems.push(format!(
                "{key}: no {what} has the id or Name tag `{written}`"
            ));
            None
        }
        Some(many) => {
            let ids: Vec<&str> = many.iter().map(|f| f.id.as_str()).collect();
            problems.push(format!(
                "{key}: {} {what}s have the Name tag `{written}` ({}); use the id",
                many.len(),
                ids.join(", ")
            ));
            None
        }
    };
    let vpc = one("VPC", "network.existing.vpc", &ex.vpc, vpcs.get(&ex.vpc));
    let mut resolve_list = |key: &str, what: &str, list: &[String], from: &Lookup| {
        list.iter()
            .enumerate()
            .filter_map(|(i, w)| {
                one(what, &format!("{key}[{i}]"), w, from.get(w)).map(|f| (i, w.clone(), f))
            })
            .collect::<Vec<_>>()
    };
    let public = resolve_list(
        "network.existing.public_subnets",
        "subnet",
        &ex.public_subnets,
        subnets,
    );
    let private = resolve_list(
        "network.existing.private_subnets",
        "subnet",
        &ex.private_subnets,
        subnets,
    );
    let sgs: Vec<(usize, String, Found)> = sg_refs
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            one("security group", "security_groups", w, groups.get(w)).map(|f| (i, w.clone(), f))
        })
        .collect();
    let Some(vpc) = vpc else {
        return Err(problems);
    };
    for (key, items) in [
        ("network.existing.public_subnets", &public),
        ("network.existing.private_subnets", &private),
    ] {
        for (i, w, f) in items {
            if f.vpc_id != vpc.id {
                problems.push(format!(
                    "{key}[{i}]: subnet `{w}` ({}) is in {}, not in the imported VPC {}",
                    f.id, f.vpc_id, vpc.id
                ));
            }
        }
    }
    for (_, w, f) in &sgs {
        if f.vpc_id != vpc.id {
            problems.push(format!(
                "security group `{w}` ({}) is in {}, not in the imported VPC {}",
                f.id, f.vpc_id, vpc.id
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Imported {
        network: Some(ImportedNetwork {
            vpc_id: vpc.id,
            public_subnets: public.into_iter().map(|(_, _, f)| f.id).collect(),
            private_subnets: private.into_iter().map(|(_, _, f)| f.id).collect(),
        }),
        security_groups: sgs.into_iter().map(|(_, w, f)| (w, f.id)).collect(),
    })
}

fn name_filter(names: &[&String]) -> Filter {
    Filter::builder()
        .name("tag:Name")
        .set_values(Some(names.iter().map(|s| s.to_string()).collect()))
        .build()
}

/// Split references into ids (by prefix) and Name tags.
fn split<'a>(refs: &'a [String], prefix: &str) -> (Vec<&'a String>, Vec<&'a String>) {
    refs.iter().partition(|r| r.starts_with(prefix))
}

async fn vpcs(ctx: &Ctx, written: &str) -> Result<Lookup> {
    let mut req = ctx.aws.ec2.describe_vpcs();
    req = if written.starts_with("vpc-") {
        req.vpc_ids(written)
    } else {
        req.filters(name_filter(&[&written.to_string()]))
    };
    let found = described(req.send().await, |out| {
        out.vpcs()
            .iter()
            .filter_map(|v| {
                let id = v.vpc_id()?.to_string();
                Some(Found {
                    vpc_id: id.clone(),
                    id,
                })
            })
            .collect()
    })?;
    Ok(BTreeMap::from([(written.to_string(), found)]))
}

/// One describe call of some EC2 kind: by id, or by a `Name` tag filter.
enum Query {
    Id(String),
    Names(Filter),
}

/// Resolve `refs` (ids starting with `id_prefix`, else `Name` tags) with `describe`, which
/// answers (Name tag, found) pairs and treats not-found as none. Ids are described one
/// call each, concurrently: a batched call fails whole on any unknown id, and the error
/// must say which one is missing. Names share one filtered call.
async fn lookup<F, Fut>(refs: &[String], id_prefix: &str, describe: F) -> Result<Lookup>
where
    F: Fn(Query) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, Found)>>>,
{
    let (ids, names) = split(refs, id_prefix);
    let mut out: Lookup = refs.iter().map(|r| (r.clone(), vec![])).collect();
    let by_id = try_join_all(ids.iter().map(|id| describe(Query::Id(id.to_string())))).await?;
    for (id, found) in ids.iter().zip(by_id) {
        out.insert(id.to_string(), found.into_iter().map(|(_, f)| f).collect());
    }
    if !names.is_empty() {
        for (name, found) in describe(Query::Names(name_filter(&names))).await? {
            if let Some(list) = out.get_mut(&name) {
                list.push(found);
            }
        }
    }
    Ok(out)
}

/// What a describe call answered, or nothing when AWS says not found.
fn described<T, X, E, R>(
    answer: std::result::Result<T, SdkError<E, R>>,
    found: impl FnOnce(&T) -> Vec<X>,
) -> Result<Vec<X>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match answer {
        Ok(r) => Ok(found(&r)),
        Err(e) if crate::aws::is_not_found(&e) => Ok(vec![]),
        Err(e) => Err(err(e)),
    }
}

/// A described subnet or security group as its (Name tag, found) pair; none without ids.
fn named(
    id: Option<&str>,
    vpc_id: Option<&str>,
    tags: &[aws_sdk_ec2::types::Tag],
) -> Option<(String, Found)> {
    let name = crate::steps::support::tags::tag(tags, "Name").unwrap_or("");
    let found = Found {
        id: id?.into(),
        vpc_id: vpc_id?.into(),
    };
    Some((name.to_string(), found))
}

async fn subnets(ctx: &Ctx, refs: &[String]) -> Result<Lookup> {
    lookup(refs, "subnet-", |q| async move {
        let req = ctx.aws.ec2.describe_subnets();
        let req = match q {
            Query::Id(id) => req.subnet_ids(id),
            Query::Names(f) => req.filters(f),
        };
        described(req.send().await, |r| {
            r.subnets()
                .iter()
                .filter_map(|s| named(s.subnet_id(), s.vpc_id(), s.tags()))
                .collect()
        })
    })
    .await
}

async fn security_groups(ctx: &Ctx, refs: &[String]) -> Result<Lookup> {
    lookup(refs, "sg-", |q| async move {
        let req = ctx.aws.ec2.describe_security_groups();
        let req = match q {
            Query::Id(id) => req.group_ids(id),
            Query::Names(f) => req.filters(f),
        };
        described(req.send().await, |r| {
            r.security_groups()
                .iter()
                .filter_map(|g| named(g.group_id(), g.vpc_id(), g.tags()))
                .collect()
        })
    })
    .await
}

/// The name of the existing Service Connect namespace the config gives by ARN (the
/// default client-alias DNS names are `<discovery name>.<namespace name>`, never the ARN),
/// with every default DNS name it makes checked as AWS would check it: a usage error naming
/// the publish entries, before anything is changed.
pub async fn resolve_namespace(ctx: &Ctx, c: &Config) -> Result<Option<String>> {
    let Some(arn) = c
        .service_connect
        .as_ref()
        .filter(|sc| sc.existing && sc.namespace.starts_with("arn:"))
        .map(|sc| sc.namespace.as_str())
    else {
        return Ok(None);
    };
    let id = arn.rsplit('/').next().unwrap_or_default();
    let name = match ctx.aws.cloudmap.get_namespace().id(id).send().await {
        Ok(out) => out.namespace().and_then(|n| n.name()).map(str::to_string),
        Err(e) if code(&e) == Some("NamespaceNotFound") => None,
        Err(e) => return Err(err(e)).with_context(|| format!("reading Cloud Map namespace {arn}")),
    };
    let Some(name) = name else {
        return Err(UsageError(format!(
            "service_connect.namespace: no Cloud Map namespace {arn} in this account and \
             region; check the ARN, or share the namespace with this account"
        ))
        .into());
    };
    let problems: Vec<String> = default_dns_names(c, &name)
        .into_iter()
        .filter_map(|(key, i, dns)| {
            default_dns_problem(&dns).map(|m| format!("services.{key}.connect.publish[{i}]: {m}"))
        })
        .collect();
    if !problems.is_empty() {
        return Err(UsageError(problems.join("\n")).into());
    }
    Ok(Some(name))
}

/// Existing secrets named in the config (by name or ARN) → their full ARNs. A secret that
/// does not exist is a usage error naming the config key, before anything is changed.
pub async fn resolve_secrets(ctx: &Ctx, c: &Config) -> Result<BTreeMap<String, String>> {
    let mut written: Vec<(String, &String)> = c
        .secrets
        .iter()
        .filter_map(|(k, s)| {
            s.existing
                .as_ref()
                .map(|e| (format!("secrets.{k}.existing"), e))
        })
        .collect();
    // Registry credentials a task-definition file names by name: the execution role
    // ecsdeploy creates is granted the secret by its ARN.
    if c.iam.execution_role.is_none() {
        for (key, s) in &c.services {
            let Some(def) = &s.native else { continue };
            for (i, n) in def.container_definitions.iter().enumerate() {
                let Some(r) = &n.repository_credentials else {
                    continue;
                };
                if !r.credentials_parameter.starts_with("arn:") {
                    written.push((
                        format!(
                            "services.{key}.task_definition: containerDefinitions[{i}].\
                             repositoryCredentials.credentialsParameter"
                        ),
                        &r.credentials_parameter,
                    ));
                }
            }
        }
    }
    let found = futures::future::try_join_all(written.iter().map(|(key, name)| async move {
        match ctx
            .aws
            .secrets
            .describe_secret()
            .secret_id(name.as_str())
            .send()
            .await
        {
            Ok(out) => Ok(((*name).clone(), out.arn().unwrap_or(name).to_string())),
            Err(e) => {
                let e = crate::aws::err(e);
                if crate::aws::is_gone(&e) {
                    let hint = if key.starts_with("secrets.") {
                        "; create it first or use `generate` instead"
                    } else {
                        "; create it first or give its ARN"
                    };
                    Err(UsageError(format!(
                        "{key}: secret `{name}` does not exist in {}{hint}",
                        ctx.aws.region
                    ))
                    .into())
                } else {
                    Err(e.context(format!("looking up secret `{name}` ({key})")))
                }
            }
        }
    }))
    .await?;
    Ok(found.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExistingNetwork;

    fn found(id: &str, vpc: &str) -> Found {
        Found {
            id: id.into(),
            vpc_id: vpc.into(),
        }
    }

    fn ex() -> ExistingNetwork {
        ExistingNetwork {
            vpc: "shared".into(),
            public_subnets: vec!["pub-a".into(), "subnet-0b".into()],
            private_subnets: vec![],
        }
    }

    fn vpcs() -> Lookup {
        BTreeMap::from([("shared".to_string(), vec![found("vpc-1", "vpc-1")])])
    }

    #[test]
    fn resolves_names_and_ids() {
        let subnets = BTreeMap::from([
            ("pub-a".to_string(), vec![found("subnet-0a", "vpc-1")]),
            ("subnet-0b".to_string(), vec![found("subnet-0b", "vpc-1")]),
        ]);
        let groups = BTreeMap::from([("alb".to_string(), vec![found("sg-9", "vpc-1")])]);
        let got = check(&ex(), &vpcs(), &subnets, &groups, &["alb".into()]).unwrap();
        let net = got.network.unwrap();
        assert_eq!(net.vpc_id, "vpc-1");
        assert_eq!(net.public_subnets, vec!["subnet-0a", "subnet-0b"]);
        assert_eq!(got.security_groups["alb"], "sg-9");
    }

    #[test]
    fn subnet_outside_the_vpc_missing_and_ambiguous_names_are_all_reported() {
        let subnets = BTreeMap::from([
            ("pub-a".to_string(), vec![found("subnet-0a", "vpc-2")]),
            ("subnet-0b".to_string(), vec![]),
        ]);
        let groups = BTreeMap::from([(
            "alb".to_string(),
            vec![found("sg-1", "vpc-1"), found("sg-2", "vpc-1")],
        )]);
        let problems = check(&ex(), &vpcs(), &subnets, &groups, &["alb".into()]).unwrap_err();
        let all = problems.join("\n");
        assert!(
            all.contains("public_subnets[0]: subnet `pub-a` (subnet-0a) is in vpc-2"),
            "{all}"
        );
        assert!(
            all.contains("public_subnets[1]: no subnet has the id or Name tag `subnet-0b`"),
            "{all}"
        );
        assert!(
            all.contains("2 security groups have the Name tag `alb`"),
            "{all}"
        );
    }

    #[test]
    fn missing_vpc_is_reported() {
        let problems = check(
            &ex(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &[],
        )
        .unwrap_err();
        assert!(
            problems[0].contains("network.existing.vpc: no VPC"),
            "{problems:?}"
        );
    }
}
