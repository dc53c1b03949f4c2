//! VPC endpoints. Gateway endpoints (S3, DynamoDB) put a prefix-list route into the
//! private route tables; interface endpoints put ENIs (with private DNS) into the private
//! subnets behind the endpoint security group. VPC, service and type are immutable; route
//! tables, subnets, security groups and private DNS are updated in place.

use anyhow::{anyhow, bail, Result};
use aws_sdk_ec2::operation::delete_vpc_endpoints::DeleteVpcEndpointsOutput;
use aws_sdk_ec2::types::{ResourceType, VpcEndpoint, VpcEndpointType};
use serde_json::{json, Value};

use super::support::ec2::CREATE_WAIT;
use super::support::ec2::{observe_owned, owned, owned_observation, tag_spec};
use super::Ctx;
use crate::aws::{
    answer, client_token, code_of, err, is_vpc_endpoint_gone, not_yet_visible, poll, retry_until,
    sent, unless_gone, AwsError, CONSISTENCY, TOKEN_ATTEMPTS,
};
use crate::desired::{sorted, EndpointType, Fields, Outputs, Resolve, Resource, VpcEndpointSpec};
use crate::plan::Observed;

/// The endpoint's state in lower case: AWS spells it `available` although the API model
/// lists `Available`.
fn state_of(e: &VpcEndpoint) -> String {
    e.state()
        .map_or("unknown", |s| s.as_str())
        .to_ascii_lowercase()
}

/// Endpoints that are gone, going or refused do not count.
fn live(e: &VpcEndpoint) -> bool {
    !matches!(
        state_of(e).as_str(),
        "deleted" | "deleting" | "failed" | "rejected" | "expired"
    )
}

fn is_gateway(e: &VpcEndpoint) -> bool {
    e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway)
}

fn group_ids(e: &VpcEndpoint) -> Vec<String> {
    e.groups()
        .iter()
        .filter_map(|g| g.group_id())
        .map(str::to_string)
        .collect()
}

/// The normalised fields, shaped exactly like `Spec::VpcEndpoint`'s for the endpoint's type.
fn fields_of(e: &VpcEndpoint) -> Fields {
    let mut f = vec![
        ("vpc_id", json!(e.vpc_id())),
        ("service_name", json!(e.service_name())),
        (
            "vpc_endpoint_type",
            json!(e.vpc_endpoint_type().map(|t| t.as_str())),
        ),
    ];
    if is_gateway(e) {
        f.push((
            "route_table_ids",
            sorted(e.route_table_ids().iter().cloned()),
        ));
    } else {
        f.extend([
            ("subnet_ids", sorted(e.subnet_ids().iter().cloned())),
            ("security_group_ids", sorted(group_ids(e).into_iter())),
            (
                "private_dns_enabled",
                json!(e.private_dns_enabled().unwrap_or(false)),
            ),
        ]);
    }
    f.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn observed(e: &VpcEndpoint) -> Option<Observed> {
    owned_observation(e.tags(), e.vpc_endpoint_id(), || {
        (fields_of(e), state_of(e), Value::Null)
    })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_vpc_endpoints().filters(owned(ctx));
    let live_observed = |e: &VpcEndpoint| if live(e) { observed(e) } else { None };
    observe_owned(described.send(), |out| out.vpc_endpoints(), live_observed).await
}

/// The endpoint as it is now; `None` when it does not exist.
async fn describe(ctx: &Ctx, vpce_id: &str) -> Result<Option<VpcEndpoint>> {
    let call = ctx
        .aws
        .ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(vpce_id);
    let out = answer(call.send()).await;
    Ok(
        unless_gone(|e| is_vpc_endpoint_gone(code_of(e)), out)?.and_then(|out| {
            let mut es = out.vpc_endpoints().iter();
            es.find(|e| e.vpc_endpoint_id() == Some(vpce_id)).cloned()
        }),
    )
}

/// The desired ids, references resolved, each list sorted and deduplicated.
struct Wanted {
    vpc: String,
    route_tables: Vec<String>,
    subnets: Vec<String>,
    groups: Vec<String>,
}

fn wanted(s: &VpcEndpointSpec, res: &dyn Resolve) -> Result<Wanted> {
    let ids = |vals: &[crate::desired::Val]| -> Result<Vec<String>> {
        let mut v = vals
            .iter()
            .map(|x| res.need(x))
            .collect::<Result<Vec<_>>>()?;
        v.sort();
        v.dedup();
        Ok(v)
    };
    Ok(Wanted {
        vpc: res.need(&s.vpc)?,
        route_tables: ids(&s.route_tables)?,
        subnets: ids(&s.subnets)?,
        groups: ids(&s.security_groups)?,
    })
}

fn type_of(s: &VpcEndpointSpec) -> VpcEndpointType {
    match s.endpoint_type {
        EndpointType::Gateway => VpcEndpointType::Gateway,
        EndpointType::Interface => VpcEndpointType::Interface,
    }
}

/// Idempotency token over everything the create call sends.
fn endpoint_token(app: &str, r: &Resource, s: &VpcEndpointSpec, w: &Wanted, n: u32) -> String {
    client_token(
        &[
            app,
            &r.id.to_string(),
            &w.vpc,
            &s.service_name,
            type_of(s).as_str(),
            &w.route_tables.join(","),
            &w.subnets.join(","),
            &w.groups.join(","),
        ],
        n,
    )
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &VpcEndpointSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let w = wanted(s, res)?;
    let mut vpce_id = None;
    for attempt in 0..TOKEN_ATTEMPTS {
        let token = endpoint_token(&ctx.app, r, s, &w, attempt);
        // The client token makes the retry safe; the subnets, route tables and security
        // group were possibly created a moment ago.
        let out = retry_until(CONSISTENCY, not_yet_visible, || async {
            let b = ctx
                .aws
                .ec2
                .create_vpc_endpoint()
                .vpc_id(&w.vpc)
                .service_name(&s.service_name)
                .vpc_endpoint_type(type_of(s))
                .client_token(&token)
                .tag_specifications(tag_spec(ctx, ResourceType::VpcEndpoint, &r.id, &r.name));
            let b = match s.endpoint_type {
                EndpointType::Gateway => b.set_route_table_ids(non_empty(&w.route_tables)),
                EndpointType::Interface => b
                    .set_subnet_ids(non_empty(&w.subnets))
                    .set_security_group_ids(non_empty(&w.groups))
                    .private_dns_enabled(true),
            };
            b.send().await.map_err(err)
        })
        .await?;
        let e = out
            .vpc_endpoint()
            .ok_or_else(|| anyhow!("CreateVpcEndpoint answered without an endpoint"))?;
        if live(e) {
            vpce_id = e.vpc_endpoint_id().map(str::to_string);
            break;
        }
        // This token's endpoint failed or was deleted since: AWS answers with it again.
    }
    let vpce_id = vpce_id.ok_or_else(|| {
        anyhow!("CreateVpcEndpoint kept answering with failed or deleted endpoints")
    })?;
    if s.endpoint_type == EndpointType::Interface {
        wait_available(ctx, &r.id.to_string(), &vpce_id).await?;
    }
    Ok(Outputs::with_id(vpce_id))
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// Wait until an interface endpoint's ENIs are up.
async fn wait_available(ctx: &Ctx, key: &str, vpce_id: &str) -> Result<()> {
    let start = tokio::time::Instant::now();
    let what = format!("VPC endpoint {vpce_id} to become available");
    poll(CREATE_WAIT, &what, || async {
        let Some(e) = describe(ctx, vpce_id).await? else {
            if start.elapsed() < CONSISTENCY {
                return Ok(None); // not visible to every endpoint yet
            }
            bail!("VPC endpoint {vpce_id} disappeared while it was being created");
        };
        let state = state_of(&e);
        if state == "available" {
            return Ok(Some(()));
        }
        if !live(&e) {
            let reason = e
                .failure_reason()
                .or(e.last_error().and_then(|l| l.message()))
                .unwrap_or("no reason given");
            bail!("VPC endpoint {vpce_id} is {state} while it was being created: {reason}");
        }
        ctx.report.progress(key, "pending");
        Ok(None)
    })
    .await
}

/// (to add, to remove) to turn `have` into `want`; `want` is sorted.
fn delta(have: &[String], want: &[String]) -> (Vec<String>, Vec<String>) {
    let add = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    let mut remove: Vec<String> = have
        .iter()
        .filter(|h| want.binary_search(h).is_err())
        .cloned()
        .collect();
    remove.sort();
    remove.dedup();
    (add, remove)
}

pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    s: &VpcEndpointSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let w = wanted(s, res)?;
    let vpce_id = o.outputs.id();
    let Some(e) = describe(ctx, vpce_id).await? else {
        bail!("VPC endpoint {vpce_id} no longer exists; run the command again");
    };
    let mut b = ctx.aws.ec2.modify_vpc_endpoint().vpc_endpoint_id(vpce_id);
    let mut changed = false;
    match s.endpoint_type {
        EndpointType::Gateway => {
            let (add, remove) = delta(e.route_table_ids(), &w.route_tables);
            changed |= !add.is_empty() || !remove.is_empty();
            b = b
                .set_add_route_table_ids(non_empty(&add))
                .set_remove_route_table_ids(non_empty(&remove));
        }
        EndpointType::Interface => {
            let (add_subnets, remove_subnets) = delta(e.subnet_ids(), &w.subnets);
            let (add_groups, remove_groups) = delta(&group_ids(&e), &w.groups);
            changed |= !add_subnets.is_empty()
                || !remove_subnets.is_empty()
                || !add_groups.is_empty()
                || !remove_groups.is_empty();
            b = b
                .set_add_subnet_ids(non_empty(&add_subnets))
                .set_remove_subnet_ids(non_empty(&remove_subnets))
                .set_add_security_group_ids(non_empty(&add_groups))
                .set_remove_security_group_ids(non_empty(&remove_groups));
            if e.private_dns_enabled() != Some(true) {
                changed = true;
                b = b.private_dns_enabled(true);
            }
        }
    }
    if changed {
        let out = b.send().await.map_err(err)?;
        if out.r#return() == Some(false) {
            bail!("ModifyVpcEndpoint did not apply the changes to {vpce_id}");
        }
    }
    Ok(o.outputs.clone())
}

async fn delete_call(ctx: &Ctx, vpce_id: &str) -> Result<DeleteVpcEndpointsOutput> {
    let call = ctx.aws.ec2.delete_vpc_endpoints().vpc_endpoint_ids(vpce_id);
    answer(call.send()).await
}

/// Emulator workaround: moto's DeleteVpcEndpoints removes the endpoint's route from each of
/// its route tables and fails the whole call (`InvalidRoute.NotFound`,
/// `InvalidRouteTableID.NotFound`) when one is missing — which is the case after
/// ModifyVpcEndpoint, which moto applies to the list only. AWS never answers these here.
fn route_missing(e: &anyhow::Error) -> bool {
    matches!(
        code_of(e),
        Some("InvalidRoute.NotFound" | "InvalidRouteTableID.NotFound")
    )
}

/// Take every route table off a gateway endpoint.
async fn detach_route_tables(ctx: &Ctx, vpce_id: &str) -> Result<()> {
    let Some(e) = describe(ctx, vpce_id).await? else {
        return Ok(());
    };
    if e.route_table_ids().is_empty() {
        return Ok(());
    }
    let call = ctx.aws.ec2.modify_vpc_endpoint().vpc_endpoint_id(vpce_id);
    let call = call.set_remove_route_table_ids(Some(e.route_table_ids().to_vec()));
    sent(call.send()).await
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let vpce_id = o.outputs.id();
    let out = match delete_call(ctx, vpce_id).await {
        Err(e) if route_missing(&e) => {
            detach_route_tables(ctx, vpce_id).await?;
            delete_call(ctx, vpce_id).await
        }
        other => other,
    };
    let Some(out) = unless_gone(|e| is_vpc_endpoint_gone(code_of(e)), out)? else {
        return Ok(());
    };
    // This API answers success and lists per-id failures instead.
    if let Some(u) = out.unsuccessful().first() {
        let code = u.error().and_then(|e| e.code());
        if is_vpc_endpoint_gone(code) {
            return Ok(());
        }
        let message = u.error().and_then(|e| e.message()).unwrap_or("");
        return Err(anyhow::Error::new(AwsError {
            code: code.map(str::to_string),
            text: format!(
                "{}: {message} (deleting VPC endpoint {vpce_id})",
                code.unwrap_or("DeleteVpcEndpoints failed")
            ),
        }));
    }
    // An interface endpoint's ENIs keep its subnets and security group in use until it is
    // gone; a gateway endpoint is gone at once, so waiting costs one describe.
    let key = o.id.to_string();
    let what = format!("VPC endpoint {vpce_id} to be deleted");
    poll(ctx.delete_deadline, &what, || async {
        match describe(ctx, vpce_id).await? {
            Some(e) if state_of(&e) != "deleted" => {
                ctx.report.progress(&key, "deleting");
                Ok(None)
            }
            _ => Ok(Some(())),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use crate::desired::Spec;
    use std::collections::BTreeMap;

    use aws_sdk_ec2::types::{SecurityGroupIdentifier, State, Tag};

    use super::*;
    use crate::desired::{Kind, Ref, ResourceId, Val, TAG_APP, TAG_RESOURCE};

    fn tag(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    fn tagged(b: aws_sdk_ec2::types::builders::VpcEndpointBuilder, id: &str) -> VpcEndpoint {
        b.tags(tag("Name", "demo-endpoint"))
            .tags(tag(TAG_APP, "demo"))
            .tags(tag(TAG_RESOURCE, id))
            .build()
    }

    /// What DescribeVpcEndpoints answers for converged endpoints (shapes seen in moto;
    /// AWS spells the state in lower case, which the SDK keeps as an unknown variant).
    fn gateway() -> VpcEndpoint {
        tagged(
            VpcEndpoint::builder()
                .vpc_endpoint_id("vpce-g")
                .vpc_endpoint_type(VpcEndpointType::Gateway)
                .vpc_id("vpc-1")
                .service_name("com.amazonaws.ap-northeast-1.s3")
                .state(State::from("available"))
                .route_table_ids("rtb-b")
                .route_table_ids("rtb-a")
                .private_dns_enabled(true),
            "vpc_endpoint.s3",
        )
    }

    fn interface() -> VpcEndpoint {
        tagged(
            VpcEndpoint::builder()
                .vpc_endpoint_id("vpce-i")
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id("vpc-1")
                .service_name("com.amazonaws.ap-northeast-1.ecr.api")
                .state(State::from("available"))
                .subnet_ids("subnet-b")
                .subnet_ids("subnet-a")
                .groups(
                    SecurityGroupIdentifier::builder()
                        .group_id("sg-e")
                        .group_name("demo-endpoints")
                        .build(),
                )
                .private_dns_enabled(true),
            "vpc_endpoint.ecr.api",
        )
    }

    fn known() -> BTreeMap<ResourceId, Outputs> {
        [
            ("vpc", Kind::Vpc, "main", "vpc-1"),
            ("rta", Kind::RouteTable, "private-a", "rtb-a"),
            ("rtb", Kind::RouteTable, "private-b", "rtb-b"),
            ("sna", Kind::Subnet, "private-a", "subnet-a"),
            ("snb", Kind::Subnet, "private-b", "subnet-b"),
            ("sg", Kind::SecurityGroup, "endpoints", "sg-e"),
        ]
        .into_iter()
        .map(|(_, k, n, id)| (ResourceId::new(k, n), Outputs::with_id(id)))
        .collect()
    }

    fn r(k: Kind, n: &str) -> Val {
        Val::Ref(Ref::id(&ResourceId::new(k, n)))
    }

    fn spec(t: EndpointType, service: &str) -> VpcEndpointSpec {
        let gw = t == EndpointType::Gateway;
        VpcEndpointSpec {
            vpc: r(Kind::Vpc, "main"),
            service_name: format!("com.amazonaws.ap-northeast-1.{service}"),
            endpoint_type: t,
            route_tables: if gw {
                vec![
                    r(Kind::RouteTable, "private-a"),
                    r(Kind::RouteTable, "private-b"),
                ]
            } else {
                vec![]
            },
            subnets: if gw {
                vec![]
            } else {
                vec![r(Kind::Subnet, "private-a"), r(Kind::Subnet, "private-b")]
            },
            security_groups: if gw {
                vec![]
            } else {
                vec![r(Kind::SecurityGroup, "endpoints")]
            },
        }
    }

    #[test]
    fn observed_fields_match_desired_fields_of_converged_endpoints() {
        let g = observed(&gateway()).unwrap();
        let want = Spec::VpcEndpoint(spec(EndpointType::Gateway, "s3")).fields(&known());
        assert_eq!(g.fields, want);
        assert_eq!(g.id, ResourceId::new(Kind::VpcEndpoint, "s3"));
        assert_eq!((g.outputs.id(), g.state.as_str()), ("vpce-g", "available"));

        let i = observed(&interface()).unwrap();
        let want = Spec::VpcEndpoint(spec(EndpointType::Interface, "ecr.api")).fields(&known());
        assert_eq!(i.fields, want);
        assert_eq!(i.id, ResourceId::new(Kind::VpcEndpoint, "ecr.api"));
    }

    #[test]
    fn private_dns_off_shows_as_a_difference() {
        let mut e = interface();
        e.private_dns_enabled = Some(false);
        assert_eq!(fields_of(&e)["private_dns_enabled"], json!(false));
        e.private_dns_enabled = None;
        assert_eq!(fields_of(&e)["private_dns_enabled"], json!(false));
    }

    #[test]
    fn states_are_compared_in_lower_case() {
        let mut e = interface();
        for (s, is_live) in [
            ("available", true),
            ("Pending", true),
            ("pendingAcceptance", true),
            ("deleting", false),
            ("Deleted", false),
            ("failed", false),
            ("rejected", false),
        ] {
            e.state = Some(State::from(s));
            assert_eq!(live(&e), is_live, "{s}");
        }
    }

    #[test]
    fn delta_adds_missing_and_removes_extra() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            delta(&s(&["b", "c", "c"]), &s(&["a", "b"])),
            (s(&["a"]), s(&["c"]))
        );
        assert_eq!(delta(&s(&["a"]), &s(&["a"])), (vec![], vec![]));
    }

    #[test]
    fn token_depends_on_everything_the_create_sends() {
        let res = known();
        let mk = |s: &VpcEndpointSpec| {
            let rsc = Resource {
                id: ResourceId::new(Kind::VpcEndpoint, "ecr.api"),
                name: "demo-ecr-api".to_string(),
                spec: Spec::VpcEndpoint(s.clone()),
            };
            let w = wanted(s, &res).unwrap();
            endpoint_token("demo", &rsc, s, &w, 0)
        };
        let base = spec(EndpointType::Interface, "ecr.api");
        let t = mk(&base);
        assert!(t.len() <= 64 && t.is_ascii());
        assert_eq!(t, mk(&base));
        let mut fewer = base.clone();
        fewer.subnets.pop();
        assert_ne!(t, mk(&fewer));
        // Order of references does not matter.
        let mut swapped = base.clone();
        swapped.subnets.reverse();
        assert_eq!(t, mk(&swapped));
    }

    #[test]
    fn only_endpoint_not_found_means_gone() {
        assert!(is_vpc_endpoint_gone(Some("InvalidVpcEndpoint.NotFound")));
        assert!(is_vpc_endpoint_gone(Some("InvalidVpcEndpointId.NotFound")));
        assert!(!is_vpc_endpoint_gone(Some("InvalidRoute.NotFound")));
        assert!(!is_vpc_endpoint_gone(Some("DependencyViolation")));
        assert!(!is_vpc_endpoint_gone(None));
    }
}
