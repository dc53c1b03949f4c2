//! `[network]`: created and imported networks, subnets, NAT, endpoints, private services.

use super::*;
use crate::config::network::{GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS};

#[test]
fn vpc_cidr_not_a_cidr_or_host_bits() {
    let d = one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0.5/16\"\n"),
        "network.vpc_cidr",
        "host bits set; the network address is 10.0.0.0/16",
    );
    assert_eq!((d.line, d.col), (4, 1));
    one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0/16\"\n"),
        "network.vpc_cidr",
        "is not an IPv4 CIDR",
    );
}

#[test]
fn vpc_cidr_prefix_out_of_range() {
    one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0.0/8\"\n"),
        "network.vpc_cidr",
        "has prefix /8; an AWS VPC CIDR must be between /16",
    );
    // /29 is out of range as well; no extra "too small to derive" noise.
    one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0.0/29\"\n"),
        "network.vpc_cidr",
        "has prefix /29",
    );
}

#[test]
fn vpc_too_small_to_derive_subnets() {
    one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0.0/26\"\n"),
        "network.vpc_cidr",
        "too small to derive 2 public subnet(s)",
    );
    // Explicit subnets make a small VPC fine.
    assert!(diags(&format!(
        "{BASE}[network]\nvpc_cidr = \"10.0.0.0/26\"\n\
         public_subnets = [\"10.0.0.0/28\", \"10.0.0.16/28\"]\n"
    ))
    .is_empty());
}

#[test]
fn azs_and_az_count_are_exclusive() {
    let d = one(
        &format!("{BASE}[network]\nazs = [\"ap-northeast-1a\"]\naz_count = 1\n"),
        "network.az_count",
        "mutually exclusive",
    );
    assert_eq!((d.line, d.col), (5, 1));
}

#[test]
fn az_count_out_of_range() {
    one(
        &format!("{BASE}[network]\naz_count = 0\n"),
        "network.az_count",
        "az_count is 0; it must be between 1 and 8",
    );
    one(
        &format!("{BASE}[network]\naz_count = 9\n"),
        "network.az_count",
        "az_count is 9",
    );
}

#[test]
fn azs_empty() {
    one(
        &format!("{BASE}[network]\nazs = []\n"),
        "network.azs",
        "azs is empty",
    );
}

#[test]
fn azs_duplicate_points_at_second() {
    let d = one(
        &format!("{BASE}[network]\nazs = [\"ap-northeast-1a\", \"ap-northeast-1a\"]\n"),
        "network.azs[1]",
        "listed twice (also azs[0])",
    );
    assert_eq!((d.line, d.col), (4, 27));
}

#[test]
fn az_bad_name() {
    one(
        &format!("{BASE}[network]\nazs = [\"ap-northeast-1a\", \"tokyo-a\"]\n"),
        "network.azs[1]",
        "does not look like an availability zone name",
    );
    one(
        &format!("{BASE}[network]\nazs = [\"ap-northeast-1\", \"ap-northeast-1c\"]\n"),
        "network.azs[0]",
        "`ap-northeast-1`",
    );
}

#[test]
fn az_outside_region() {
    one(
        &format!("{BASE}[network]\nazs = [\"ap-northeast-1a\", \"us-east-1b\"]\n"),
        "network.azs[1]",
        "is in region `us-east-1`, not in the configured region `ap-northeast-1`",
    );
    // Without a region, the zones must at least agree with each other.
    one(
        "app = \"demo\"\n[network]\nazs = [\"eu-west-1a\", \"us-east-1b\"]\n",
        "network.azs[1]",
        "all zones of a VPC must be in one region",
    );
}

#[test]
fn public_subnets_count_must_match_azs() {
    one(
        &format!("{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\"]\n"),
        "network.public_subnets",
        "1 public subnet(s) listed but the default az_count is 2",
    );
    one(
        &format!(
            "{BASE}[network]\nazs = [\"ap-northeast-1a\"]\n\
             public_subnets = [\"10.0.0.0/24\", \"10.0.1.0/24\"]\n"
        ),
        "network.public_subnets",
        "`azs` lists 1 zone(s)",
    );
}

#[test]
fn public_subnet_outside_vpc_or_invalid() {
    one(
        &format!("{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\", \"10.1.0.0/24\"]\n"),
        "network.public_subnets[1]",
        "`10.1.0.0/24` is not inside the VPC CIDR 10.0.0.0/16",
    );
    one(
        &format!("{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\", \"nope\"]\n"),
        "network.public_subnets[1]",
        "is not an IPv4 CIDR",
    );
}

#[test]
fn public_subnet_prefix_out_of_range() {
    one(
        &format!("{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\", \"10.0.1.0/29\"]\n"),
        "network.public_subnets[1]",
        "has prefix /29; an AWS subnet must be between /16 and /28",
    );
}

#[test]
fn public_subnets_overlap_names_both() {
    one(
        &format!("{BASE}[network]\npublic_subnets = [\"10.0.0.0/23\", \"10.0.1.0/24\"]\n"),
        "network.public_subnets[1]",
        "public_subnets[1] `10.0.1.0/24` overlaps public_subnets[0] `10.0.0.0/23`",
    );
}

#[test]
fn private_services_are_allowed() {
    // Private subnets are derived (10.0.8.0/24, 10.0.9.0/24); the missing NAT is a warning.
    let text = svc("subnets = \"private\"\n");
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    assert_eq!(warns(&text).len(), 1);
}

#[test]
fn private_service_with_public_ip_is_an_error() {
    let d = one(
        &svc("subnets = \"private\"\nassign_public_ip = true\n"),
        "services.web.assign_public_ip",
        "a public IP in a private subnet does nothing",
    );
    assert_eq!((d.line, d.col), (6, 1));
}

#[test]
fn private_service_without_nat_or_endpoints_warns() {
    let w = warns(&svc("subnets = \"private\"\n"));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "services.web.subnets");
    assert!(
        w[0].message.contains(
            "without the VPC endpoints `ecr.api`, `ecr.dkr`, `logs`, `s3` cannot pull images \
             or write logs"
        ),
        "{}",
        w[0].message
    );
    // Only the missing ones are named.
    let text = format!(
        "{BASE}[network]\nendpoints = [\"ecr.api\", \"ecr.dkr\"]\n\
         [services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n"
    );
    let w = warns(&text);
    assert!(
        w[0].message.contains("endpoints `logs`, `s3` cannot"),
        "{w:#?}"
    );
    // A NAT gateway serves everything.
    let nat = format!(
        "{BASE}[network]\nnat = \"single\"\n[services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n"
    );
    assert!(warns(&nat).is_empty());
}

#[test]
fn private_service_with_endpoints_but_outside_image_warns() {
    let endpoints = "[network]\nendpoints = [\"s3\", \"ecr.api\", \"ecr.dkr\", \"logs\"]\n";
    let w = warns(&format!(
        "{BASE}{endpoints}[services.web]\nimage = \"nginx:1.27\"\nsubnets = \"private\"\n"
    ));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "services.web.subnets");
    assert!(w[0]
        .message
        .contains("image `nginx:1.27` is pulled from outside the VPC"));
    // From the app's own repository it works.
    assert!(warns(&format!(
        "{BASE}{endpoints}[repositories.web]\n\
         [services.web]\nimage = {{ repository = \"web\" }}\nsubnets = \"private\"\n"
    ))
    .is_empty());
}

#[test]
fn nat_without_private_subnets_warns() {
    let w = warns(&format!("{BASE}[network]\nnat = \"per-az\"\n"));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "network.nat");
    assert!(w[0].message.contains("nat has no private subnets to serve"));
    // Listed private subnets are something to serve.
    assert!(warns(&format!(
        "{BASE}[network]\nnat = \"single\"\nprivate_subnets = [\"10.0.10.0/24\", \"10.0.11.0/24\"]\n"
    ))
    .is_empty());
}

#[test]
fn private_subnets_follow_the_public_rules() {
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.8.0/24\"]\n"),
        "network.private_subnets",
        "1 private subnet(s) listed but the default az_count is 2; give exactly one private \
         subnet per availability zone",
    );
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.8.0/24\", \"10.9.0.0/24\"]\n"),
        "network.private_subnets[1]",
        "`10.9.0.0/24` is not inside the VPC CIDR 10.0.0.0/16",
    );
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.8.0/24\", \"10.0.9.0/29\"]\n"),
        "network.private_subnets[1]",
        "has prefix /29",
    );
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.8.0/24\", \"10.0.9.1/24\"]\n"),
        "network.private_subnets[1]",
        "host bits set",
    );
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.8.0/23\", \"10.0.9.0/24\"]\n"),
        "network.private_subnets[1]",
        "private_subnets[1] `10.0.9.0/24` overlaps private_subnets[0] `10.0.8.0/23`",
    );
}

#[test]
fn private_subnets_must_not_overlap_public_ones() {
    let d = one(
        &format!(
            "{BASE}[network]\npublic_subnets = [\"10.0.1.0/24\", \"10.0.2.0/24\"]\n\
             private_subnets = [\"10.0.3.0/24\", \"10.0.2.0/24\"]\n"
        ),
        "network.private_subnets[1]",
        "private_subnets[1] `10.0.2.0/24` overlaps public_subnets[1] `10.0.2.0/24`",
    );
    assert_eq!((d.line, d.col), (5, 35));
    // Against the derived public subnets 10.0.0.0/24 and 10.0.1.0/24.
    one(
        &format!("{BASE}[network]\nprivate_subnets = [\"10.0.1.0/24\", \"10.0.9.0/24\"]\n"),
        "network.private_subnets[0]",
        "overlaps the derived public subnet `10.0.1.0/24`",
    );
    // Derived private subnets (10.0.8.0/24, 10.0.9.0/24) against explicit public ones.
    one(
        &format!(
            "{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\", \"10.0.9.0/24\"]\n\
             [services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n"
        ),
        "network.public_subnets[1]",
        "overlaps the derived private subnet `10.0.9.0/24`",
    );
    // Without anything private, no private subnets are derived: no overlap.
    assert!(diags(&format!(
        "{BASE}[network]\npublic_subnets = [\"10.0.0.0/24\", \"10.0.9.0/24\"]\n"
    ))
    .is_empty());
}

#[test]
fn vpc_too_small_to_derive_private_subnets() {
    one(
        &format!(
            "{BASE}[network]\nvpc_cidr = \"10.0.0.0/26\"\n\
             public_subnets = [\"10.0.0.0/28\", \"10.0.0.16/28\"]\n\
             [services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n"
        ),
        "network.vpc_cidr",
        "too small to derive 2 private subnet(s)",
    );
    // Both derivations fail: one problem naming both.
    one(
        &format!("{BASE}[network]\nvpc_cidr = \"10.0.0.0/26\"\nendpoints = [\"s3\"]\n"),
        "network.vpc_cidr",
        "too small to derive 2 public subnet(s) and 2 private subnet(s)",
    );
}

#[test]
fn endpoints_must_be_known() {
    let d = one(
        &format!("{BASE}[network]\nendpoints = [\"s3\", \"ecr\"]\n"),
        "network.endpoints[1]",
        "`ecr` is not a VPC endpoint ecsdeploy knows; use a gateway endpoint (s3, dynamodb) \
         or an interface endpoint (ecr.api, ecr.dkr, logs,",
    );
    assert!(d.message.ends_with("ecs-telemetry, xray)"), "{}", d.message);
    one(
        &format!("{BASE}[network]\nendpoints = [\"logs\", \"s3\", \"logs\"]\n"),
        "network.endpoints[2]",
        "`logs` is listed twice (also endpoints[0])",
    );
    let all: Vec<String> = GATEWAY_ENDPOINTS
        .iter()
        .chain(INTERFACE_ENDPOINTS.iter())
        .map(|e| format!("\"{e}\""))
        .collect();
    assert!(diags(&format!(
        "{BASE}[network]\nendpoints = [{}]\n",
        all.join(", ")
    ))
    .is_empty());
}

/// An imported network with two public and two private subnets.
pub(super) const EXISTING: &str = "[network.existing]\nvpc = \"vpc-0abc\"\n\
    public_subnets = [\"subnet-0a\", \"subnet-0b\"]\n\
    private_subnets = [\"app-private-a\", \"app-private-c\"]\n";

#[test]
fn existing_network_is_valid() {
    let text =
        format!("{BASE}{EXISTING}[services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n");
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    // No NAT/endpoint warning: the imported network may well have a NAT gateway.
    assert!(warns(&text).is_empty());
    // vpc_cidr at its default value is not a conflict.
    assert!(diags(&format!(
        "{BASE}[network]\nvpc_cidr = \"10.0.0.0/16\"\n{EXISTING}"
    ))
    .is_empty());
}

#[test]
fn imported_security_groups_need_an_imported_network() {
    let text = format!("{BASE}[services.web]\nimage = \"nginx\"\nsecurity_groups = [\"web\"]\n");
    one(
        &text,
        "services.web.security_groups",
        "existing security groups need an existing network: set network.existing",
    );
    assert!(diags(&format!("{text}{EXISTING}")).is_empty());
}

#[test]
fn existing_network_excludes_the_other_keys() {
    let text = format!(
        "{BASE}[network]\nvpc_cidr = \"10.1.0.0/16\"\nazs = [\"ap-northeast-1a\"]\n\
         az_count = 2\npublic_subnets = [\"10.1.0.0/24\"]\nprivate_subnets = [\"10.1.8.0/24\"]\n\
         nat = \"single\"\nendpoints = [\"s3\"]\n{EXISTING}"
    );
    let d = diags(&text);
    let keys: Vec<&str> = d.iter().map(|x| x.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "network.vpc_cidr",
            "network.azs",
            "network.az_count",
            "network.public_subnets",
            "network.private_subnets",
            "network.nat",
            "network.endpoints",
        ],
        "{d:#?}"
    );
    has(
        &text,
        "network.nat",
        "`nat` cannot be combined with network.existing: an imported network is used as it is",
    );
}

#[test]
fn existing_network_values() {
    one(
        &format!("{BASE}[network.existing]\nvpc = \"\"\n"),
        "network.existing.vpc",
        "vpc is empty",
    );
    // Any other VPC value is a Name tag.
    assert!(diags(&format!("{BASE}[network.existing]\nvpc = \"vpc-main\"\n")).is_empty());
    one(
        &format!(
            "{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"subnet-0a\", \" \"]\n"
        ),
        "network.existing.public_subnets[1]",
        "subnet is empty",
    );
    one(
        &format!("{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"subnet-xyz\"]\n"),
        "network.existing.public_subnets[0]",
        "`subnet-xyz` starts with `subnet-` but is not a subnet id",
    );
    one(
        &format!("{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\", \"b\", \"a\"]\n"),
        "network.existing.public_subnets[2]",
        "`a` is listed twice (also network.existing.public_subnets[0])",
    );
    one(
        &format!(
            "{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\"]\nprivate_subnets = [\"a\"]\n"
        ),
        "network.existing.private_subnets[0]",
        "a subnet is either public or private",
    );
}

#[test]
fn existing_network_needs_the_subnets_services_use() {
    let d = one(
        &format!(
            "{BASE}[network.existing]\nvpc = \"v\"\nprivate_subnets = [\"a\", \"b\"]\n\
             [services.web]\nimage = \"nginx\"\n"
        ),
        "services.web.subnets",
        "services.web runs in public subnets, but network.existing.public_subnets is empty",
    );
    assert_eq!(d.line, 6);
    one(
        &format!(
            "{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\", \"b\"]\n\
             [services.web]\nimage = \"nginx\"\nsubnets = \"private\"\n"
        ),
        "services.web.subnets",
        "network.existing.private_subnets is empty",
    );
}
