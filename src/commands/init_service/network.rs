//! Which of the live service's subnets are public: the test `[network.existing]` documents
//! (the subnet's route table, its own or the VPC's main one, sends `0.0.0.0/0` to an
//! internet gateway).

use std::collections::BTreeSet;

use aws_sdk_ec2::types::RouteTable;

/// The ids of the subnets among `subnets` whose route table has a default route to an
/// internet gateway.
pub fn public_subnets(subnets: &[String], tables: &[RouteTable]) -> BTreeSet<String> {
    let main = tables
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main() == Some(true)));
    subnets
        .iter()
        .filter(|s| {
            let own = tables.iter().find(|t| {
                t.associations()
                    .iter()
                    .any(|a| a.subnet_id() == Some(s.as_str()))
            });
            own.or(main).is_some_and(to_internet)
        })
        .cloned()
        .collect()
}

fn to_internet(t: &RouteTable) -> bool {
    t.routes().iter().any(|r| {
        r.destination_cidr_block() == Some("0.0.0.0/0")
            && r.gateway_id().is_some_and(|g| g.starts_with("igw-"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{Route, RouteTableAssociation};

    fn table(subnets: &[&str], main: bool, igw: bool) -> RouteTable {
        let mut b = RouteTable::builder();
        for s in subnets {
            b = b.associations(RouteTableAssociation::builder().subnet_id(*s).build());
        }
        if main {
            b = b.associations(RouteTableAssociation::builder().main(true).build());
        }
        if igw {
            b = b.routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id("igw-1")
                    .build(),
            );
        }
        b.build()
    }

    #[test]
    fn public_means_a_default_route_to_an_internet_gateway() {
        let tables = [
            table(&["subnet-a"], false, true),
            table(&["subnet-b"], false, false),
            table(&[], true, true),
        ];
        let all = ["subnet-a", "subnet-b", "subnet-c"].map(String::from);
        let public = public_subnets(&all, &tables);
        // subnet-c has no table of its own: the main table decides.
        assert_eq!(
            public.into_iter().collect::<Vec<_>>(),
            vec!["subnet-a".to_string(), "subnet-c".to_string()]
        );
        let public = public_subnets(&all, &[table(&[], true, false)]);
        assert!(public.is_empty());
    }
}
