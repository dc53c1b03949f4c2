//! CIDR arithmetic for the network section (pure). ipnet does the address math.

use ipnet::Ipv4Net;

/// Public subnets take the first blocks of the VPC and private subnets (later) the blocks
/// from this index on, so adding an AZ never moves an existing subnet.
pub const PRIVATE_BLOCK_OFFSET: usize = 8;
/// At most this many AZs (the number of blocks reserved for public subnets).
pub const MAX_AZS: usize = PRIVATE_BLOCK_OFFSET;

/// Gateway VPC endpoints: routes in the private route tables.
pub const GATEWAY_ENDPOINTS: [&str; 2] = ["s3", "dynamodb"];
/// Interface VPC endpoints ecsdeploy knows (`com.amazonaws.<region>.<name>`).
pub const INTERFACE_ENDPOINTS: [&str; 17] = [
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "kms",
    "sts",
    "monitoring",
    "sqs",
    "sns",
    "elasticloadbalancing",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "xray",
];

/// Prefix length of derived subnets: /24 inside a /16..=/20 VPC, else VPC prefix + 4
/// (16 blocks), never smaller than /28 (AWS's minimum subnet size).
pub fn derived_subnet_prefix(vpc: &Ipv4Net) -> Option<u8> {
    let p = (vpc.prefix_len() + 4).max(24);
    (p <= 28).then_some(p)
}

/// The `n` public subnet CIDRs derived from the VPC CIDR.
pub fn derive_public_subnets(vpc: &Ipv4Net, n: usize) -> Option<Vec<Ipv4Net>> {
    let prefix = derived_subnet_prefix(vpc)?;
    let blocks: Vec<Ipv4Net> = vpc.subnets(prefix).ok()?.take(n).collect();
    (blocks.len() == n && n <= MAX_AZS).then_some(blocks)
}

/// The `n` private subnet CIDRs derived from the VPC CIDR (blocks 8, 9, ...).
pub fn derive_private_subnets(vpc: &Ipv4Net, n: usize) -> Option<Vec<Ipv4Net>> {
    let prefix = derived_subnet_prefix(vpc)?;
    let blocks: Vec<Ipv4Net> = vpc
        .subnets(prefix)
        .ok()?
        .skip(PRIVATE_BLOCK_OFFSET)
        .take(n)
        .collect();
    (blocks.len() == n && n <= MAX_AZS).then_some(blocks)
}

/// Parse a CIDR, insisting on the network address (`10.0.1.0/24`, not `10.0.1.5/24`),
/// which is what EC2 requires.
pub fn parse_cidr(s: &str) -> Result<Ipv4Net, String> {
    let net: Ipv4Net = s
        .parse()
        .map_err(|_| format!("`{s}` is not an IPv4 CIDR such as 10.0.0.0/16"))?;
    if net.network() != net.addr() {
        return Err(format!(
            "`{s}` has host bits set; the network address is {}",
            net.trunc()
        ));
    }
    Ok(net)
}

/// True when the two blocks share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn derives_24s_from_a_16() {
        let subnets = derive_public_subnets(&net("10.0.0.0/16"), 2).unwrap();
        assert_eq!(subnets, vec![net("10.0.0.0/24"), net("10.0.1.0/24")]);
    }

    #[test]
    fn derives_28s_from_a_24() {
        let subnets = derive_public_subnets(&net("192.168.5.0/24"), 3).unwrap();
        assert_eq!(subnets[2], net("192.168.5.32/28"));
    }

    #[test]
    fn private_blocks_start_at_the_offset() {
        let subnets = derive_private_subnets(&net("10.0.0.0/16"), 2).unwrap();
        assert_eq!(subnets, vec![net("10.0.8.0/24"), net("10.0.9.0/24")]);
    }

    #[test]
    fn too_small_vpc_has_no_derivation() {
        assert!(derive_public_subnets(&net("10.0.0.0/26"), 2).is_none());
    }

    #[test]
    fn rejects_host_bits() {
        assert!(parse_cidr("10.0.1.5/24")
            .unwrap_err()
            .contains("10.0.1.0/24"));
        assert!(parse_cidr("nope").is_err());
    }

    #[test]
    fn overlap() {
        assert!(overlaps(&net("10.0.0.0/16"), &net("10.0.3.0/24")));
        assert!(!overlaps(&net("10.0.1.0/24"), &net("10.0.2.0/24")));
    }
}
