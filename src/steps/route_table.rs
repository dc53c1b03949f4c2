//! Route table: routes to gateways plus the subnets associated with it. The VPC is
//! immutable; routes and associations are updated in place.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_ec2::types::{Filter, ResourceType, Route, RouteTable};
use futures::future::{try_join_all, BoxFuture};
use futures::FutureExt;
use serde_json::{json, Value};

use super::support::delete_when_free;
use super::support::ec2::{create_tagged, observe_owned, owned, owned_observation};
use super::support::field_map;
use super::support::no_sdk_retry;
use super::Ctx;
use crate::aws::{
    answer, code_of, gone_ok, is_dependency_violation, is_gone, not_yet_visible, retry_until, sent,
    unless_gone, CONSISTENCY,
};
use crate::desired::RouteTableSpec;
use crate::desired::{sorted, Fields, Outputs, Resolve, Resource};
use crate::plan::Observed;

/// Destination → target of the routes ecsdeploy manages: everything except the VPC's
/// `local` route, routes propagated from a virtual private gateway and VPC endpoint
/// routes (those belong to their endpoint).
fn managed_routes(t: &RouteTable) -> BTreeMap<String, String> {
    t.routes()
        .iter()
        .filter(|r| {
            r.gateway_id() != Some("local")
                && !r.gateway_id().is_some_and(|g| g.starts_with("vpce-"))
                && r.origin().map(|o| o.as_str()) != Some("EnableVgwRoutePropagation")
        })
        .filter_map(|r| Some((destination(r)?.to_string(), target(r)?.to_string())))
        .collect()
}

fn destination(r: &Route) -> Option<&str> {
    r.destination_cidr_block()
        .or(r.destination_ipv6_cidr_block())
        .or(r.destination_prefix_list_id())
}

/// The id a route sends traffic to. An instance route also names the instance's ENI; the
/// instance wins, as that is what it was created with.
fn target(r: &Route) -> Option<&str> {
    r.gateway_id()
        .or(r.nat_gateway_id())
        .or(r.transit_gateway_id())
        .or(r.vpc_peering_connection_id())
        .or(r.egress_only_internet_gateway_id())
        .or(r.carrier_gateway_id())
        .or(r.local_gateway_id())
        .or(r.instance_id())
        .or(r.network_interface_id())
        .or(r.core_network_arn())
}

/// Subnet → association id of the table's explicit subnet associations (the main
/// association and gateway edge associations have no subnet).
fn subnet_associations(t: &RouteTable) -> BTreeMap<String, String> {
    t.associations()
        .iter()
        .filter(|a| a.main() != Some(true) && live(a))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect()
}

fn live(a: &aws_sdk_ec2::types::RouteTableAssociation) -> bool {
    !matches!(
        a.association_state()
            .and_then(|s| s.state())
            .map(|s| s.as_str()),
        Some("disassociated" | "disassociating" | "failed")
    )
}

/// The normalised fields, shaped exactly like `Spec::RouteTable`'s.
fn fields_of(t: &RouteTable) -> Fields {
    let mut routes: Vec<Value> = managed_routes(t)
        .into_iter()
        .map(|(d, g)| json!({ "destination": d, "gateway_id": g }))
        .collect();
    routes.sort_by_key(|v| v.to_string());
    field_map([
        ("vpc_id", json!(t.vpc_id())),
        ("routes", json!(routes)),
        (
            "subnet_associations",
            sorted(subnet_associations(t).into_keys()),
        ),
    ])
}

fn observed(t: &RouteTable) -> Option<Observed> {
    owned_observation(t.tags(), t.route_table_id(), || {
        (fields_of(t), "available".to_string(), Value::Null)
    })
}

pub async fn observe(ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    let described = ctx.aws.ec2.describe_route_tables().filters(owned(ctx));
    observe_owned(described.send(), |out| out.route_tables(), observed).await
}

/// The table as it is now; `None` when it does not exist.
async fn describe(ctx: &Ctx, rtb_id: &str) -> Result<Option<RouteTable>> {
    let call = ctx.aws.ec2.describe_route_tables().route_table_ids(rtb_id);
    let out = answer(call.send()).await;
    Ok(unless_gone(is_gone, out)?.and_then(|out| out.route_tables().first().cloned()))
}

/// Desired routes (destination → target id) and subnets, references resolved.
fn wanted(
    s: &RouteTableSpec,
    res: &dyn Resolve,
) -> Result<(BTreeMap<String, String>, Vec<String>)> {
    let routes = s
        .routes
        .iter()
        .map(|(d, g)| Ok((d.clone(), res.need(g)?)))
        .collect::<Result<_>>()?;
    let mut subnets = res.need_all(&s.subnets)?;
    subnets.sort();
    subnets.dedup();
    Ok((routes, subnets))
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &RouteTableSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let (routes, subnets) = wanted(s, res)?;
    let vpc_id = res.need(&s.vpc)?;
    let send = |tags| {
        let call = ctx.aws.ec2.create_route_table().vpc_id(&vpc_id);
        let call = call.tag_specifications(tags);
        call.customize().config_override(no_sdk_retry()).send()
    };
    let rtb_id = create_tagged(ctx, r, ResourceType::RouteTable, send, |out| {
        out.route_table()?.route_table_id()
    })
    .await?;
    let mut ops: Vec<BoxFuture<'_, Result<()>>> = Vec::new();
    for (dest, target) in &routes {
        let rtb_id = rtb_id.as_str();
        ops.push(
            retry_until(CONSISTENCY, not_yet_visible, move || {
                create_route(ctx, rtb_id, dest, target)
            })
            .boxed(),
        );
    }
    ops.push(
        retry_until(CONSISTENCY, not_yet_visible, || {
            associate(ctx, &rtb_id, &subnets)
        })
        .boxed(),
    );
    try_join_all(ops).await?;
    Ok(Outputs::with_id(rtb_id))
}

pub async fn update(
    ctx: &Ctx,
    _r: &Resource,
    s: &RouteTableSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let rtb_id = o.outputs.id();
    let (want_routes, want_subnets) = wanted(s, res)?;
    let Some(t) = describe(ctx, rtb_id).await? else {
        anyhow::bail!("route table {rtb_id} no longer exists; run the command again");
    };
    let have_routes = managed_routes(&t);
    let have_subnets = subnet_associations(&t);

    let mut ops: Vec<BoxFuture<'_, Result<()>>> = Vec::new();
    for (dest, target) in &want_routes {
        match have_routes.get(dest) {
            Some(now) if now == target => {}
            Some(_) => ops.push(replace_route(ctx, rtb_id, dest, target).boxed()),
            None => ops.push(create_route(ctx, rtb_id, dest, target).boxed()),
        }
    }
    for dest in have_routes.keys() {
        if !want_routes.contains_key(dest) {
            ops.push(delete_route(ctx, rtb_id, dest).boxed());
        }
    }
    for (subnet, assoc) in &have_subnets {
        if want_subnets.binary_search(subnet).is_err() {
            ops.push(disassociate(ctx, assoc).boxed());
        }
    }
    let missing: Vec<String> = want_subnets
        .iter()
        .filter(|s| !have_subnets.contains_key(*s))
        .cloned()
        .collect();
    ops.push(async move { associate(ctx, rtb_id, &missing).await }.boxed());
    try_join_all(ops).await?;
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let rtb_id = o.outputs.id().to_string();
    let Some(t) = describe(ctx, &rtb_id).await? else {
        return Ok(());
    };
    // Every explicit association (subnets and gateway edges) must go first.
    try_join_all(
        t.associations()
            .iter()
            .filter(|a| a.main() != Some(true) && live(a))
            .filter_map(|a| a.route_table_association_id())
            .map(|assoc| disassociate(ctx, assoc)),
    )
    .await?;
    delete_when_free(ctx, is_dependency_violation, || {
        ctx.aws
            .ec2
            .delete_route_table()
            .route_table_id(&rtb_id)
            .send()
    })
    .await
}

/// Associate `subnets` with the table. A subnet explicitly associated with another table
/// has that association replaced: one describe finds them, as `AssociateRouteTable`
/// answers `Resource.AlreadyAssociated` for them (and some emulators silently keep the old
/// association instead).
async fn associate(ctx: &Ctx, rtb_id: &str, subnets: &[String]) -> Result<()> {
    if subnets.is_empty() {
        return Ok(());
    }
    // Subnet → (table, association id) of its current explicit association.
    let mut current: BTreeMap<String, (String, String)> = BTreeMap::new();
    for t in &tables_of(ctx, subnets.to_vec()).await? {
        let table = t.route_table_id().unwrap_or_default();
        for (subnet, assoc) in subnet_associations(t) {
            current.insert(subnet, (table.to_string(), assoc));
        }
    }
    try_join_all(subnets.iter().map(|subnet| {
        let current = current.get(subnet).cloned();
        async move {
            match current {
                Some((table, _)) if table == rtb_id => Ok(()),
                Some((_, assoc)) => replace_association(ctx, &assoc, rtb_id).await,
                None => match associate_one(ctx, rtb_id, subnet).await {
                    // Associated elsewhere since the describe above.
                    Err(e) if code_of(&e) == Some("Resource.AlreadyAssociated") => {
                        let assoc = association_of(ctx, subnet).await?.ok_or(e)?;
                        replace_association(ctx, &assoc, rtb_id).await
                    }
                    other => other,
                },
            }
        }
    }))
    .await?;
    Ok(())
}

async fn associate_one(ctx: &Ctx, rtb_id: &str, subnet: &str) -> Result<()> {
    let call = ctx.aws.ec2.associate_route_table().route_table_id(rtb_id);
    sent(call.subnet_id(subnet).send()).await
}

/// The route tables explicitly associated with any of `subnets`.
async fn tables_of(ctx: &Ctx, subnets: Vec<String>) -> Result<Vec<RouteTable>> {
    let by_subnet = Filter::builder()
        .name("association.subnet-id")
        .set_values(Some(subnets));
    let call = ctx
        .aws
        .ec2
        .describe_route_tables()
        .filters(by_subnet.build());
    Ok(answer(call.send()).await?.route_tables().to_vec())
}

/// The id of the subnet's explicit route table association, if it has one.
async fn association_of(ctx: &Ctx, subnet: &str) -> Result<Option<String>> {
    Ok(tables_of(ctx, vec![subnet.to_string()])
        .await?
        .iter()
        .find_map(|t| subnet_associations(t).remove(subnet)))
}

async fn replace_association(ctx: &Ctx, assoc: &str, rtb_id: &str) -> Result<()> {
    let call = ctx
        .aws
        .ec2
        .replace_route_table_association()
        .association_id(assoc);
    sent(call.route_table_id(rtb_id).send()).await
}

/// Disassociate; an association that is already gone is success.
async fn disassociate(ctx: &Ctx, assoc: &str) -> Result<()> {
    let call = ctx.aws.ec2.disassociate_route_table().association_id(assoc);
    gone_ok(sent(call.send()).await)
}

/// Which request parameter carries a route's destination.
#[derive(Debug, PartialEq)]
enum Dest<'a> {
    Ipv4(&'a str),
    Ipv6(&'a str),
    PrefixList(&'a str),
}

fn dest_of(d: &str) -> Dest<'_> {
    if d.starts_with("pl-") {
        Dest::PrefixList(d)
    } else if d.contains(':') {
        Dest::Ipv6(d)
    } else {
        Dest::Ipv4(d)
    }
}

/// Which request parameter carries a route's target, by the id's prefix.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    Gateway(&'a str),
    Nat(&'a str),
    Transit(&'a str),
    Peering(&'a str),
    EgressOnly(&'a str),
    Carrier(&'a str),
    Local(&'a str),
    Instance(&'a str),
    Eni(&'a str),
    CoreNetwork(&'a str),
}

fn target_of(id: &str) -> Target<'_> {
    match id.split_once('-').map(|(p, _)| p) {
        _ if id.starts_with("arn:") => Target::CoreNetwork(id),
        Some("nat") => Target::Nat(id),
        Some("tgw") => Target::Transit(id),
        Some("pcx") => Target::Peering(id),
        Some("eigw") => Target::EgressOnly(id),
        Some("cagw") => Target::Carrier(id),
        Some("lgw") => Target::Local(id),
        Some("i") => Target::Instance(id),
        Some("eni") => Target::Eni(id),
        // igw-, vgw- and anything unknown: the generic gateway parameter.
        _ => Target::Gateway(id),
    }
}

/// Set destination and target on a CreateRoute / ReplaceRoute / DeleteRoute builder (the
/// three share method names but not a type).
macro_rules! with_dest {
    ($b:expr, $dest:expr) => {
        match dest_of($dest) {
            Dest::Ipv4(d) => $b.destination_cidr_block(d),
            Dest::Ipv6(d) => $b.destination_ipv6_cidr_block(d),
            Dest::PrefixList(d) => $b.destination_prefix_list_id(d),
        }
    };
}

macro_rules! with_target {
    ($b:expr, $target:expr) => {
        match target_of($target) {
            Target::Gateway(t) => $b.gateway_id(t),
            Target::Nat(t) => $b.nat_gateway_id(t),
            Target::Transit(t) => $b.transit_gateway_id(t),
            Target::Peering(t) => $b.vpc_peering_connection_id(t),
            Target::EgressOnly(t) => $b.egress_only_internet_gateway_id(t),
            Target::Carrier(t) => $b.carrier_gateway_id(t),
            Target::Local(t) => $b.local_gateway_id(t),
            Target::Instance(t) => $b.instance_id(t),
            Target::Eni(t) => $b.network_interface_id(t),
            Target::CoreNetwork(t) => $b.core_network_arn(t),
        }
    };
}

/// Create a route. `RouteAlreadyExists` (a retried create whose first answer was lost, or
/// a route made since the describe) becomes a replace, which sets the wanted target.
async fn create_route(ctx: &Ctx, rtb_id: &str, dest: &str, target: &str) -> Result<()> {
    let b = ctx.aws.ec2.create_route().route_table_id(rtb_id);
    let b = with_dest!(b, dest);
    let b = with_target!(b, target);
    let created = sent(b.send()).await;
    match created {
        Err(e) if code_of(&e) == Some("RouteAlreadyExists") => {
            replace_route(ctx, rtb_id, dest, target).await
        }
        other => other,
    }
}

async fn replace_route(ctx: &Ctx, rtb_id: &str, dest: &str, target: &str) -> Result<()> {
    let b = ctx.aws.ec2.replace_route().route_table_id(rtb_id);
    let b = with_dest!(b, dest);
    let b = with_target!(b, target);
    sent(b.send()).await
}

/// Delete a route; one that is already gone (`InvalidRoute.NotFound`) is success.
async fn delete_route(ctx: &Ctx, rtb_id: &str, dest: &str) -> Result<()> {
    let b = ctx.aws.ec2.delete_route().route_table_id(rtb_id);
    let b = with_dest!(b, dest);
    gone_ok(sent(b.send()).await)
}

#[cfg(test)]
mod tests {
    use crate::desired::Spec;
    use std::collections::BTreeMap;

    use aws_sdk_ec2::types::{
        RouteOrigin, RouteTableAssociation, RouteTableAssociationState,
        RouteTableAssociationStateCode,
    };

    use super::*;
    use crate::desired::{Kind, Outputs, Ref, ResourceId, RouteTableSpec, Val};

    fn route(dest: &str, gw: &str, origin: RouteOrigin) -> Route {
        Route::builder()
            .destination_cidr_block(dest)
            .gateway_id(gw)
            .origin(origin)
            .build()
    }

    fn assoc(subnet: Option<&str>, id: &str, main: bool) -> RouteTableAssociation {
        RouteTableAssociation::builder()
            .set_subnet_id(subnet.map(str::to_string))
            .route_table_association_id(id)
            .main(main)
            .association_state(
                RouteTableAssociationState::builder()
                    .state(RouteTableAssociationStateCode::Associated)
                    .build(),
            )
            .build()
    }

    /// What DescribeRouteTables answers for a converged public table (shape seen in moto
    /// and AWS: the `local` route comes first).
    fn observed_table() -> RouteTable {
        RouteTable::builder()
            .route_table_id("rtb-1")
            .vpc_id("vpc-1")
            .routes(route("10.0.0.0/16", "local", RouteOrigin::CreateRouteTable))
            .routes(route("0.0.0.0/0", "igw-1", RouteOrigin::CreateRoute))
            .routes(route(
                "1.2.3.0/24",
                "vgw-1",
                RouteOrigin::EnableVgwRoutePropagation,
            ))
            .associations(assoc(Some("subnet-b"), "rtbassoc-b", false))
            .associations(assoc(Some("subnet-a"), "rtbassoc-a", false))
            .build()
    }

    #[test]
    fn observed_fields_match_desired_fields_of_a_converged_table() {
        let vpc = ResourceId::new(Kind::Vpc, "main");
        let igw = ResourceId::new(Kind::InternetGateway, "main");
        let sa = ResourceId::new(Kind::Subnet, "public-a");
        let sb = ResourceId::new(Kind::Subnet, "public-b");
        let known: BTreeMap<ResourceId, Outputs> = [
            (vpc.clone(), Outputs::with_id("vpc-1")),
            (igw.clone(), Outputs::with_id("igw-1")),
            (sa.clone(), Outputs::with_id("subnet-a")),
            (sb.clone(), Outputs::with_id("subnet-b")),
        ]
        .into_iter()
        .collect();
        let spec = Spec::RouteTable(RouteTableSpec {
            vpc: Val::Ref(Ref::id(&vpc)),
            routes: vec![("0.0.0.0/0".to_string(), Val::Ref(Ref::id(&igw)))],
            subnets: vec![Val::Ref(Ref::id(&sa)), Val::Ref(Ref::id(&sb))],
        });
        assert_eq!(fields_of(&observed_table()), spec.fields(&known));
    }

    #[test]
    fn local_and_propagated_routes_and_main_association_are_not_managed() {
        let mut t = observed_table();
        t.associations
            .get_or_insert_with(Vec::new)
            .push(assoc(None, "rtbassoc-main", true));
        assert_eq!(
            managed_routes(&t),
            BTreeMap::from([("0.0.0.0/0".to_string(), "igw-1".to_string())])
        );
        assert_eq!(
            subnet_associations(&t),
            BTreeMap::from([
                ("subnet-a".to_string(), "rtbassoc-a".to_string()),
                ("subnet-b".to_string(), "rtbassoc-b".to_string()),
            ])
        );
    }

    #[test]
    fn route_parameters_are_chosen_by_id_shape() {
        assert_eq!(target_of("igw-0abc"), Target::Gateway("igw-0abc"));
        assert_eq!(target_of("vgw-0abc"), Target::Gateway("vgw-0abc"));
        assert_eq!(target_of("nat-0abc"), Target::Nat("nat-0abc"));
        assert_eq!(target_of("eigw-0abc"), Target::EgressOnly("eigw-0abc"));
        assert_eq!(target_of("i-0abc"), Target::Instance("i-0abc"));
        assert_eq!(target_of("eni-0abc"), Target::Eni("eni-0abc"));
        assert_eq!(target_of("tgw-0abc"), Target::Transit("tgw-0abc"));
        assert_eq!(target_of("pcx-0abc"), Target::Peering("pcx-0abc"));
        assert_eq!(dest_of("0.0.0.0/0"), Dest::Ipv4("0.0.0.0/0"));
        assert_eq!(dest_of("::/0"), Dest::Ipv6("::/0"));
        assert_eq!(dest_of("pl-1234"), Dest::PrefixList("pl-1234"));
    }
}
