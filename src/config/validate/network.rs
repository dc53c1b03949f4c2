//! Validation of `[network]`: a created network (VPC, AZs, subnets, NAT, endpoints) or
//! an imported one, and the imported security groups.

use ipnet::Ipv4Net;

use super::names::{az_region, is_hex_id, is_region};
use super::{az_count, indexed, root, Validator};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{ExistingNetwork, NatMode, Network, SubnetKind};
use crate::config::network::{
    derive_private_subnets, derive_public_subnets, overlaps, parse_cidr, GATEWAY_ENDPOINTS,
    INTERFACE_ENDPOINTS, MAX_AZS, PRIVATE_BLOCK_OFFSET,
};

impl Validator<'_> {
    pub(super) fn network(&mut self) {
        let net = &self.c.network;
        let np = root("network");

        if let Some(ex) = &net.existing {
            self.existing_network(ex);
            return;
        }

        let vpc = match parse_cidr(&net.vpc_cidr) {
            Ok(v) if (16..=28).contains(&v.prefix_len()) => Some(v),
            Ok(v) => {
                self.err(
                    np.key("vpc_cidr"),
                    format!(
                        "`{}` has prefix /{}; an AWS VPC CIDR must be between /16 (65,536 \
                         addresses) and /28 (16 addresses)",
                        net.vpc_cidr,
                        v.prefix_len()
                    ),
                );
                None
            }
            Err(e) => {
                self.err(np.key("vpc_cidr"), e);
                None
            }
        };

        if net.azs.is_some() && net.az_count.is_some() {
            self.err(
                np.key("az_count"),
                "`azs` and `az_count` are mutually exclusive: either list the zones in `azs` or \
                 give a number in `az_count`, not both",
            );
        }
        if let Some(n) = net.az_count {
            if n == 0 || usize::from(n) > MAX_AZS {
                self.err(
                    np.key("az_count"),
                    format!("az_count is {n}; it must be between 1 and {MAX_AZS}"),
                );
            }
        }
        if let Some(azs) = &net.azs {
            self.azs(azs);
        }

        let (n, n_source) = az_count(self.c);
        // Only a valid VPC and AZ count can be divided; other cases are reported above.
        let divisible = vpc.filter(|_| (1..=MAX_AZS).contains(&n));
        let mut too_small: Vec<&str> = Vec::new();

        // The effective subnets of each kind: (explicit?, [(index, block)]).
        let public: (bool, Vec<(usize, Ipv4Net)>) = match &net.public_subnets {
            Some(list) => (true, self.subnet_cidrs("public", list, vpc, n, &n_source)),
            None => {
                let derived = divisible.map(|v| derive_public_subnets(&v, n));
                if let Some(None) = derived {
                    too_small.push("public");
                }
                (false, indexed(derived.flatten()))
            }
        };
        let private: (bool, Vec<(usize, Ipv4Net)>) = match &net.private_subnets {
            Some(list) => (true, self.subnet_cidrs("private", list, vpc, n, &n_source)),
            None if self.c.needs_private() => {
                let derived = divisible.map(|v| derive_private_subnets(&v, n));
                if let Some(None) = derived {
                    too_small.push("private");
                }
                (false, indexed(derived.flatten()))
            }
            None => (false, Vec::new()),
        };

        if let (Some(vpc), false) = (vpc, too_small.is_empty()) {
            let what: Vec<String> = too_small
                .iter()
                .map(|k| format!("{n} {k} subnet(s)"))
                .collect();
            let keys: Vec<String> = too_small
                .iter()
                .map(|k| format!("network.{k}_subnets"))
                .collect();
            self.err(
                np.key("vpc_cidr"),
                format!(
                    "the VPC {vpc} is too small to derive {}: derived subnets are /24 blocks (VPC \
                     prefix + 4 in VPCs smaller than /20) and never smaller than /28, which needs \
                     a VPC of /24 or larger; set {} explicitly or use a larger vpc_cidr",
                    what.join(" and "),
                    keys.join(" and ")
                ),
            );
        }

        // Public and private subnets share the VPC: no address may be in both.
        match (public.0, private.0) {
            (_, true) => {
                for (i, p) in &private.1 {
                    let Some((j, q)) = public.1.iter().find(|(_, q)| overlaps(p, q)) else {
                        continue;
                    };
                    let other = if public.0 {
                        format!("public_subnets[{j}] `{q}`")
                    } else {
                        format!(
                            "the derived public subnet `{q}` (public_subnets is omitted, so the \
                             public subnets are the first blocks of the VPC)"
                        )
                    };
                    self.err(
                        np.key("private_subnets").index(*i),
                        format!(
                            "private_subnets[{i}] `{p}` overlaps {other}; subnets of one VPC must \
                             not share addresses"
                        ),
                    );
                }
            }
            (true, false) => {
                for (j, q) in &public.1 {
                    let Some((_, p)) = private.1.iter().find(|(_, p)| overlaps(p, q)) else {
                        continue;
                    };
                    self.err(
                        np.key("public_subnets").index(*j),
                        format!(
                            "public_subnets[{j}] `{q}` overlaps the derived private subnet `{p}` \
                             (private_subnets is omitted, so the private subnets are VPC blocks \
                             {PRIVATE_BLOCK_OFFSET} and up); set network.private_subnets \
                             explicitly or move this subnet"
                        ),
                    );
                }
            }
            (false, false) => {} // derived blocks never overlap
        }

        for (i, e) in net.endpoints.iter().enumerate() {
            let ep = np.key("endpoints").index(i);
            if let Some(j) = net.endpoints[..i].iter().position(|x| x == e) {
                self.err(ep, format!("`{e}` is listed twice (also endpoints[{j}])"));
            } else if !GATEWAY_ENDPOINTS.contains(&e.as_str())
                && !INTERFACE_ENDPOINTS.contains(&e.as_str())
            {
                self.err(
                    ep,
                    format!(
                        "`{e}` is not a VPC endpoint ecsdeploy knows; use a gateway endpoint ({}) \
                         or an interface endpoint ({})",
                        GATEWAY_ENDPOINTS.join(", "),
                        INTERFACE_ENDPOINTS.join(", ")
                    ),
                );
            }
        }
    }

    /// Checks an explicit `public_subnets` / `private_subnets` list (`kind` is `public` or
    /// `private`); returns the entries that parsed, with their index.
    fn subnet_cidrs(
        &mut self,
        kind: &str,
        subnets: &[String],
        vpc: Option<Ipv4Net>,
        n: usize,
        n_source: &str,
    ) -> Vec<(usize, Ipv4Net)> {
        let key = format!("{kind}_subnets");
        let lp = root("network").key(&key);
        if subnets.len() != n {
            self.err(
                lp.clone(),
                format!(
                    "{} {kind} subnet(s) listed but {n_source}; give exactly one {kind} subnet \
                     per availability zone",
                    subnets.len()
                ),
            );
        }
        let mut seen: Vec<(usize, Ipv4Net)> = Vec::new();
        for (i, s) in subnets.iter().enumerate() {
            let ip = lp.index(i);
            let sub = match parse_cidr(s) {
                Ok(sub) => sub,
                Err(e) => {
                    self.err(ip, e);
                    continue;
                }
            };
            if !(16..=28).contains(&sub.prefix_len()) {
                self.err(
                    ip.clone(),
                    format!(
                        "`{s}` has prefix /{}; an AWS subnet must be between /16 and /28",
                        sub.prefix_len()
                    ),
                );
            }
            if let Some(vpc) = vpc {
                if !vpc.contains(&sub) {
                    self.err(
                        ip.clone(),
                        format!("`{s}` is not inside the VPC CIDR {vpc} (network.vpc_cidr)"),
                    );
                }
            }
            if let Some((j, other)) = seen.iter().find(|(_, o)| overlaps(o, &sub)) {
                self.err(
                    ip.clone(),
                    format!(
                        "{key}[{i}] `{s}` overlaps {key}[{j}] `{other}`; subnets of one VPC must \
                         not share addresses"
                    ),
                );
            }
            seen.push((i, sub));
        }
        seen
    }

    /// `[network.existing]`: an imported network, used as it is.
    fn existing_network(&mut self, ex: &ExistingNetwork) {
        let net = &self.c.network;
        let np = root("network");
        let conflicts = [
            ("vpc_cidr", net.vpc_cidr != Network::default().vpc_cidr),
            ("azs", net.azs.is_some()),
            ("az_count", net.az_count.is_some()),
            ("public_subnets", net.public_subnets.is_some()),
            ("private_subnets", net.private_subnets.is_some()),
            ("nat", net.nat != NatMode::None),
            ("endpoints", !net.endpoints.is_empty()),
        ];
        for (key, set) in conflicts {
            if set {
                self.err(
                    np.key(key),
                    format!(
                        "`{key}` cannot be combined with network.existing: an imported network is \
                         used as it is (ecsdeploy creates nothing in it but security groups, and \
                         never modifies or deletes it); remove `{key}`"
                    ),
                );
            }
        }
        let xp = np.key("existing");
        if ex.vpc.trim().is_empty() {
            self.err(
                xp.key("vpc"),
                "vpc is empty; give the VPC id (`vpc-0123456789abcdef0`) or the value of its \
                 `Name` tag",
            );
        }
        let lists = [
            ("public_subnets", &ex.public_subnets),
            ("private_subnets", &ex.private_subnets),
        ];
        let mut seen: Vec<(&str, usize, &str)> = Vec::new();
        for (key, list) in lists {
            for (i, s) in list.iter().enumerate() {
                let ip = xp.key(key).index(i);
                if s.trim().is_empty() {
                    self.err(
                        ip,
                        "subnet is empty; give a subnet id (`subnet-0123456789abcdef0`) or the \
                         value of its `Name` tag",
                    );
                    continue;
                }
                if let Some(rest) = s.strip_prefix("subnet-") {
                    if !is_hex_id(rest) {
                        self.err(
                            ip.clone(),
                            format!(
                                "`{s}` starts with `subnet-` but is not a subnet id: an id is \
                                 `subnet-` followed by hex digits (e.g. `subnet-0a1b2c3d`); any \
                                 value not starting with `subnet-` is looked up as a `Name` tag"
                            ),
                        );
                    }
                }
                if let Some((k, j, _)) = seen.iter().find(|(_, _, o)| *o == s.as_str()) {
                    let hint = if *k == key {
                        ""
                    } else {
                        "; a subnet is either public or private"
                    };
                    self.err(
                        ip,
                        format!("`{s}` is listed twice (also network.existing.{k}[{j}]){hint}"),
                    );
                } else {
                    seen.push((key, i, s));
                }
            }
        }
    }

    /// With an imported network, something running in `kind` subnets needs that list to be
    /// non-empty (a created network always has both kinds).
    pub(super) fn imported_subnets_present(&mut self, path: KeyPath, kind: SubnetKind, who: &str) {
        let Some(ex) = &self.c.network.existing else {
            return;
        };
        let (list, name) = match kind {
            SubnetKind::Public => (&ex.public_subnets, "public"),
            SubnetKind::Private => (&ex.private_subnets, "private"),
        };
        if list.is_empty() {
            self.err(
                path,
                format!(
                    "{who} in {name} subnets, but network.existing.{name}_subnets is empty; list \
                     the imported {name} subnets there (ids or `Name` tags)"
                ),
            );
        }
    }

    pub(super) fn azs(&mut self, azs: &[String]) {
        let ap = root("network").key("azs");
        if azs.is_empty() {
            self.err(
                ap.clone(),
                "azs is empty; list at least one availability zone (e.g. \
                 [\"ap-northeast-1a\", \"ap-northeast-1c\"]) or remove it and use az_count",
            );
        }
        if azs.len() > MAX_AZS {
            self.err(
                ap.clone(),
                format!(
                    "{} availability zones listed; at most {MAX_AZS} are supported",
                    azs.len()
                ),
            );
        }
        let region = self.c.region.as_deref().filter(|r| is_region(r));
        let mut first: Option<(usize, &str)> = None;
        for (i, az) in azs.iter().enumerate() {
            let ip = ap.index(i);
            if let Some(j) = azs[..i].iter().position(|a| a == az) {
                self.err(ip, format!("`{az}` is listed twice (also azs[{j}])"));
                continue;
            }
            let Some(az_region) = az_region(az) else {
                self.err(
                    ip,
                    format!(
                        "`{az}` does not look like an availability zone name: a region followed \
                         by one letter, e.g. `ap-northeast-1a`"
                    ),
                );
                continue;
            };
            if let Some(region) = region {
                if az_region != region {
                    self.err(
                        ip,
                        format!(
                            "`{az}` is in region `{az_region}`, not in the configured region \
                             `{region}`; its zones are named {region}a, {region}b, ..."
                        ),
                    );
                }
            } else {
                match first {
                    None => first = Some((i, az_region)),
                    Some((j, r)) if r != az_region => self.err(
                        ip,
                        format!(
                            "`{az}` is in region `{az_region}` but azs[{j}] is in `{r}`; all \
                             zones of a VPC must be in one region"
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    /// Imported security groups (of a service or the load balancer): ids or `Name` tags.
    pub(super) fn security_groups(&mut self, path: &KeyPath, groups: &[String]) {
        if !groups.is_empty() && self.c.network.existing.is_none() {
            self.err(
                path.clone(),
                "existing security groups need an existing network: set network.existing (a \
                 security group belongs to one VPC, and the VPC ecsdeploy creates has none \
                 yet), or remove security_groups to get groups ecsdeploy creates",
            );
        }
        for (i, g) in groups.iter().enumerate() {
            let gp = path.index(i);
            if g.trim().is_empty() {
                self.err(
                    gp,
                    "security group is empty; give a group id (`sg-0123456789abcdef0`) or the \
                     value of its `Name` tag",
                );
            } else if let Some(j) = groups[..i].iter().position(|x| x == g) {
                self.err(
                    gp,
                    format!("`{g}` is listed twice (also security_groups[{j}])"),
                );
            }
        }
    }
}
