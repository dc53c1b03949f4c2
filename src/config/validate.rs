//! Config validation (pure): every rule that can be checked without AWS.
//!
//! `validate` collects every problem instead of stopping at the first, so a user fixes a
//! file in one pass. Names derived from `app` (or from a service / repository key) are only
//! checked when `app` (and the key) are themselves valid, so one bad `app` does not turn
//! into a dozen follow-on errors about names the user never wrote.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::load::{KeyPath, Problem};
use super::model::{
    Autoscaling, Build, Config, Connect, ContainerCondition, ContainerDependency,
    ContainerHealthCheck, ExistingNetwork, HealthCheck, Image, Listener, NatMode, Network,
    Protocol, Scheme, Service, SubnetKind, TargetGroup, DEFAULT_AZ_COUNT, DEFAULT_SSL_POLICY,
};
use super::network::{
    derive_private_subnets, derive_public_subnets, overlaps, parse_cidr, GATEWAY_ENDPOINTS,
    INTERFACE_ENDPOINTS, MAX_AZS, PRIVATE_BLOCK_OFFSET,
};
use crate::graph::Dag;

mod stores;

/// Retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Task CPU units Fargate accepts.
pub const FARGATE_CPUS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

/// Longest allowed app name: it prefixes every generated name.
pub const MAX_APP_LEN: usize = 20;
/// Longest allowed service key.
pub const MAX_SERVICE_KEY_LEN: usize = 32;
/// Most tasks one service may ask for.
pub const MAX_DESIRED_COUNT: u32 = 1000;

/// Endpoints a task in a private subnet without NAT needs to pull from ECR (the image layers
/// live in S3) and to write logs.
pub const PULL_ENDPOINTS: [&str; 4] = ["ecr.api", "ecr.dkr", "logs", "s3"];

/// Content types an ALB fixed response may have.
pub const FIXED_RESPONSE_CONTENT_TYPES: [&str; 5] = [
    "text/plain",
    "text/css",
    "text/html",
    "application/javascript",
    "application/json",
];
/// Most path and host values one ALB rule may match on.
pub const MAX_RULE_CONDITION_VALUES: usize = 5;
/// Highest ALB listener rule priority.
pub const MAX_RULE_PRIORITY: u32 = 50_000;
/// Longest ALB authentication session, in seconds (7 days).
pub const MAX_SESSION_TIMEOUT: u32 = 604_800;
/// `load_balancer.ingress_cidrs` when not set: everyone.
const DEFAULT_LB_CIDR: &str = "0.0.0.0/0";

/// Longest Cloud Map namespace name.
pub const MAX_NAMESPACE_LEN: usize = 1024;
/// Longest port mapping name and Cloud Map (discovery) service name.
pub const MAX_CONNECT_NAME_LEN: usize = 64;
/// Longest Service Connect client alias DNS name.
pub const MAX_DNS_NAME_LEN: usize = 127;
/// Resource limits a container may set in `ulimits`.
pub const ULIMIT_NAMES: [&str; 15] = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];
/// Longest autoscaling cooldown, in seconds.
pub const MAX_COOLDOWN: u32 = 3600;

/// Memory sizes (MiB) Fargate accepts for `cpu`, with a short description; `None` for a
/// CPU value Fargate does not offer.
pub fn fargate_memory(cpu: u32) -> Option<(Vec<u32>, String)> {
    let (lo, hi, step) = match cpu {
        256 => return Some((vec![512, 1024, 2048], "512, 1024 or 2048".to_string())),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return None,
    };
    let values = (lo..=hi).step_by(step as usize).collect();
    Some((values, format!("{lo} to {hi} in steps of {step}")))
}

/// Every error in the config; empty when it is valid.
pub fn validate(c: &Config) -> Vec<Problem> {
    let mut v = Validator {
        c,
        out: Vec::new(),
        app_ok: true,
    };
    v.app();
    v.region();
    v.network();
    v.repositories();
    v.cluster();
    v.logs();
    v.iam();
    v.services();
    v.service_dependencies();
    v.service_connect();
    v.load_balancer();
    v.target_groups_used();
    v.stores();
    v.out
}

/// Things worth saying that do not stop a run.
pub fn warnings(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    for (key, s) in &c.services {
        let sp = service_path(key);
        for name in s.environment.keys() {
            if looks_secret(name) {
                out.push(Problem::at(
                    sp.key("environment").key(name),
                    format!(
                        "`{name}` looks like a secret; plain environment values are visible in \
                         the task definition to anyone who can describe it"
                    ),
                ));
            }
        }
        for (i, sc) in s.sidecars.iter().enumerate() {
            for name in sc.environment.keys().filter(|n| looks_secret(n)) {
                out.push(Problem::at(
                    sp.key("sidecars").index(i).key("environment").key(name),
                    format!(
                        "`{name}` looks like a secret; plain environment values are visible in \
                         the task definition to anyone who can describe it"
                    ),
                ));
            }
        }
        if let Some(a) = s.autoscaling.as_ref().filter(|a| a.min <= a.max) {
            if !(a.min..=a.max).contains(&s.desired_count) {
                let start = s.desired_count.clamp(a.min, a.max);
                out.push(Problem::at(
                    sp.key("desired_count"),
                    format!(
                        "desired_count {} is outside the autoscaling range {} to {}; the \
                         autoscaler starts from the nearest bound ({start}) and owns the count \
                         from then on",
                        s.desired_count, a.min, a.max
                    ),
                ));
            }
        }
        if s.subnets == SubnetKind::Public && s.assign_public_ip == Some(false) {
            out.push(Problem::at(
                sp.key("assign_public_ip"),
                "tasks in a public subnet without a public IP cannot reach the internet, so they \
                 cannot pull images from outside the VPC (ECR, Docker Hub) and will fail to start; \
                 remove `assign_public_ip = false` unless the VPC has endpoints for them",
            ));
        }
        if s.subnets == SubnetKind::Private
            && c.network.existing.is_none()
            && c.network.nat == NatMode::None
        {
            if let Some(m) = private_pull_problem(c, s) {
                out.push(Problem::at(sp.key("subnets"), m));
            }
        }
    }
    if let Some(sc) = &c.service_connect {
        if c.services.values().all(|s| s.connect.is_none()) {
            out.push(Problem::at(
                root("service_connect"),
                format!(
                    "[service_connect] is set but no service has `connect`, so the namespace \
                     `{}` would serve nobody; add [services.<key>.connect] to the services that \
                     call or serve each other, or remove [service_connect]",
                    sc.namespace
                ),
            ));
        }
    }
    let net = &c.network;
    if net.existing.is_none() && net.nat != NatMode::None && !c.runs_private() {
        out.push(Problem::at(
            root("network").key("nat"),
            "nat has no private subnets to serve: no service or load balancer runs in private \
             subnets and network.private_subnets is not set, so the NAT gateway would only cost \
             money; remove nat or move a service to subnets = \"private\"",
        ));
    }
    out.extend(stores::warnings(c));
    out
}

/// Why tasks of a private service cannot start in a created network without NAT, if they
/// cannot: endpoints missing for ECR and logs, or an image from outside ECR.
fn private_pull_problem(c: &Config, s: &Service) -> Option<String> {
    let missing: Vec<String> = PULL_ENDPOINTS
        .iter()
        .filter(|e| !c.network.endpoints.iter().any(|x| x == *e))
        .map(|e| format!("`{e}`"))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "tasks in private subnets without a NAT gateway (network.nat = \"none\") and without \
             the VPC endpoints {} cannot pull images or write logs, so they will fail to start; \
             set network.nat = \"single\" or add the endpoints ecr.api, ecr.dkr, logs and s3 to \
             network.endpoints",
            missing.join(", ")
        ));
    }
    match s.image() {
        Image::Reference(r) if !r.contains(".dkr.ecr.") => Some(format!(
            "image `{r}` is pulled from outside the VPC, which tasks in private subnets without \
             a NAT gateway (network.nat = \"none\") cannot reach: the ECR endpoints serve only \
             private ECR repositories; set network.nat = \"single\" or push the image to a \
             repository of [repositories]"
        )),
        _ => None,
    }
}

struct Validator<'a> {
    c: &'a Config,
    out: Vec<Problem>,
    /// `app` passed its rules, so names derived from it are worth checking.
    app_ok: bool,
}

fn root(k: &str) -> KeyPath {
    KeyPath::root().key(k)
}

fn service_path(key: &str) -> KeyPath {
    root("services").key(key)
}

/// The number of AZs of a created network and where it comes from, for messages.
fn az_count(c: &Config) -> (usize, String) {
    match (&c.network.azs, c.network.az_count) {
        (Some(a), _) => (a.len(), format!("`azs` lists {} zone(s)", a.len())),
        (None, Some(n)) => (usize::from(n), format!("`az_count` is {n}")),
        (None, None) => (
            usize::from(DEFAULT_AZ_COUNT),
            format!("the default az_count is {DEFAULT_AZ_COUNT}"),
        ),
    }
}

fn indexed(nets: Option<Vec<Ipv4Net>>) -> Vec<(usize, Ipv4Net)> {
    nets.unwrap_or_default().into_iter().enumerate().collect()
}

impl Validator<'_> {
    fn err(&mut self, path: KeyPath, message: impl Into<String>) {
        self.out.push(Problem::at(path, message));
    }

    /// Shared by container and target-group health checks: each `(key, value, lo, hi)`
    /// within its range, and the timeout shorter than the interval.
    fn check_timing(
        &mut self,
        hp: &KeyPath,
        ranges: &[(&str, u32, u32, u32)],
        timeout: u32,
        interval: u32,
    ) {
        for &(key, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                self.err(
                    hp.key(key),
                    format!("{key} is {value}; it must be {lo} to {hi}"),
                );
            }
        }
        if timeout >= interval {
            self.err(
                hp.key("timeout"),
                format!(
                    "timeout ({timeout} s) must be less than interval ({interval} s): a check \
                     must finish before the next one starts"
                ),
            );
        }
    }

    fn app(&mut self) {
        let app = &self.c.app;
        let reason = if app.is_empty() {
            Some("it is empty".to_string())
        } else if app.chars().count() > MAX_APP_LEN {
            Some(format!("it is {} characters long", app.chars().count()))
        } else if let Some(ch) = app
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            Some(format!("it contains `{ch}`"))
        } else if !app.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some("it does not start with a lowercase letter".to_string())
        } else if app.ends_with('-') {
            Some("it ends with a hyphen".to_string())
        } else if app.contains("--") {
            Some("it contains `--`".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            self.app_ok = false;
            self.err(
                root("app"),
                format!(
                    "`{app}` is not a valid app name ({reason}); the app name prefixes every AWS \
                     name and is the value of the ownership tag, so it must be 1 to {MAX_APP_LEN} \
                     lowercase letters, digits and hyphens, start with a letter, not end with a \
                     hyphen and not contain `--` (e.g. `shop` or `my-app2`)"
                ),
            );
        }
    }

    fn region(&mut self) {
        if let Some(r) = &self.c.region {
            if !is_region(r) {
                self.err(
                    root("region"),
                    format!(
                        "`{r}` does not look like an AWS region; expected a name such as \
                         `ap-northeast-1`, `eu-west-3` or `us-gov-west-1`"
                    ),
                );
            }
        }
    }

    fn network(&mut self) {
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
    fn imported_subnets_present(&mut self, path: KeyPath, kind: SubnetKind, who: &str) {
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

    fn azs(&mut self, azs: &[String]) {
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

    fn repositories(&mut self) {
        let c = self.c;
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        for (key, repo) in &c.repositories {
            let rp = root("repositories").key(key);
            let key_ok = !key.is_empty()
                && key.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                });
            if !key_ok {
                self.err(
                    rp.clone(),
                    format!(
                        "repository key `{key}` may only contain lowercase letters, digits, `_` \
                         and `-`"
                    ),
                );
            }
            let name = c.repository_name(key);
            let explicit = repo.name.is_some();
            let np = if explicit { rp.key("name") } else { rp.clone() };
            if explicit || (self.app_ok && key_ok) {
                if let Some(reason) = ecr_name_problem(&name) {
                    let what = if explicit {
                        "is not a valid ECR repository name"
                    } else {
                        "(the derived name `<app>-<key>`) is not a valid ECR repository name"
                    };
                    self.err(
                        np.clone(),
                        format!(
                            "`{name}` {what}: {reason}; ECR names are 2 to 256 characters: \
                             groups of lowercase letters and digits separated by single `.`, `_`, \
                             `-` or `/` (e.g. `my-app/web`)"
                        ),
                    );
                }
            }
            if let Some(prev) = names.get(&name) {
                self.err(
                    np,
                    format!(
                        "repository name `{name}` is also the name of repositories.{prev}; each \
                         repository needs its own name"
                    ),
                );
            } else {
                names.insert(name, key);
            }
        }
    }

    fn cluster(&mut self) {
        let explicit = self.c.cluster.name.is_some();
        if !(explicit || self.app_ok) {
            return;
        }
        let name = self.c.cluster_name();
        if let Some(m) = charset_problem(
            "cluster name",
            &name,
            255,
            is_aws_name_char,
            "letters, digits, `_` and `-`",
        ) {
            let path = if explicit {
                root("cluster").key("name")
            } else {
                root("app")
            };
            self.err(path, m);
        }
    }

    fn logs(&mut self) {
        let explicit = self.c.logs.group.is_some();
        if explicit || self.app_ok {
            let name = self.c.log_group_name();
            if let Some(m) = charset_problem(
                "log group name",
                &name,
                512,
                |ch| ch.is_ascii_alphanumeric() || "._/#-".contains(ch),
                "letters, digits, `.`, `_`, `/`, `#` and `-`",
            ) {
                let path = if explicit {
                    root("logs").key("group")
                } else {
                    root("app")
                };
                self.err(path, m);
            }
        }
        let days = self.c.logs.retention_days;
        if !RETENTION_DAYS.contains(&days) {
            let list: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
            self.err(
                root("logs").key("retention_days"),
                format!(
                    "{days} is not a retention period CloudWatch Logs accepts; use one of: {}",
                    list.join(", ")
                ),
            );
        }
    }

    fn iam(&mut self) {
        match &self.c.iam.execution_role {
            Some(arn) => {
                if let Err(m) = check_role_arn(arn) {
                    self.err(root("iam").key("execution_role"), m);
                }
            }
            None => {
                let name = self.c.execution_role_name();
                if self.app_ok && name.chars().count() > 64 {
                    self.err(
                        root("app"),
                        format!(
                            "the derived execution role name `{name}` is {} characters long; IAM \
                             role names are at most 64",
                            name.chars().count()
                        ),
                    );
                }
            }
        }
    }

    fn services(&mut self) {
        let c = self.c;
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        let mut tg_names: BTreeMap<String, &str> = BTreeMap::new();
        for (key, s) in &c.services {
            let sp = service_path(key);
            let key_ok = self.service_key(key);
            let derive_ok = self.app_ok && key_ok;

            // Names: the ECS service, task definition family, task role and security group.
            let explicit = s.name.is_some();
            let name_path = if explicit { sp.key("name") } else { sp.clone() };
            let name = c.service_name(key);
            if explicit || derive_ok {
                let check = |what: &str, v: &str| {
                    charset_problem(
                        what,
                        v,
                        255,
                        is_aws_name_char,
                        "letters, digits, `_` and `-`",
                    )
                };
                if let Some(m) = check("service name", &name) {
                    self.err(name_path.clone(), m);
                }
                let family = c.family(key);
                if family != name {
                    if let Some(m) = check("task definition family", &family) {
                        self.err(name_path.clone(), m);
                    }
                }
            }
            if let Some(prev) = names.get(&name) {
                self.err(
                    name_path.clone(),
                    format!(
                        "service name `{name}` is also the name of services.{prev}; ECS service \
                         names must be unique in the cluster"
                    ),
                );
            } else {
                names.insert(name, key);
            }
            if derive_ok {
                if s.task_role.is_none() {
                    let role = c.task_role_name(key);
                    let len = role.chars().count();
                    if len > 64 {
                        self.err(
                            sp.clone(),
                            format!(
                                "the derived task role name `{role}` is {len} characters long; IAM \
                                 role names are at most 64, so shorten the app name or the service \
                                 key, or set task_role"
                            ),
                        );
                    }
                }
                let sg = c.service_sg_name(key);
                let len = sg.chars().count();
                if len > 255 {
                    self.err(
                        sp.clone(),
                        format!(
                            "the derived security group name `{sg}` is {len} characters long; the \
                             limit is 255"
                        ),
                    );
                }
            }

            self.image(&sp, s);
            self.size(&sp, s);
            self.ports(&sp, s);
            self.environment(&sp.key("environment"), &s.environment);
            if let Some(cmd) = &s.command {
                if cmd.is_empty() {
                    self.err(
                        sp.key("command"),
                        "command is an empty list; remove it to use the image's CMD, or give the \
                         program and its arguments, e.g. [\"node\", \"server.js\"]",
                    );
                }
            }
            if s.desired_count > MAX_DESIRED_COUNT {
                self.err(
                    sp.key("desired_count"),
                    format!(
                        "desired_count is {}; the limit is {MAX_DESIRED_COUNT} tasks per service",
                        s.desired_count
                    ),
                );
            }
            if s.subnets == SubnetKind::Private && s.assign_public_ip == Some(true) {
                self.err(
                    sp.key("assign_public_ip"),
                    "assign_public_ip = true with subnets = \"private\": a public IP in a private \
                     subnet does nothing, because private subnets have no route to the internet \
                     gateway; remove it (private tasks reach the internet through network.nat) \
                     or use subnets = \"public\"",
                );
            }
            self.imported_subnets_present(
                sp.key("subnets"),
                s.subnets,
                &format!("services.{key} runs"),
            );
            self.ingress(&sp, s);
            self.security_groups(&sp.key("security_groups"), &s.security_groups);
            if !s.security_groups.is_empty() && !s.ingress.is_empty() {
                self.err(
                    sp.key("ingress"),
                    "ingress rules cannot be added to imported security groups: with \
                     security_groups set ecsdeploy creates no group for this service and never \
                     modifies the imported ones; put the rules on the imported group yourself \
                     and remove ingress, or remove security_groups to get a generated group",
                );
            }
            self.sg_name_clash(&sp, key, s);
            if let Some(tg) = &s.target_group {
                self.target_group(&sp, key, s, tg, derive_ok, &mut tg_names);
            }
            self.task_iam(&sp, s);
            self.containers(&sp, key, s);
            if let Some(conn) = &s.connect {
                self.connect(&sp, key, s, conn);
            }
            self.deployment(&sp, s);
            if let Some(a) = &s.autoscaling {
                self.autoscaling(&sp, s, a);
            }
        }
    }

    /// Checks a service key; true when it is valid.
    fn service_key(&mut self, key: &str) -> bool {
        let reason = if key.is_empty() {
            Some("it is empty".to_string())
        } else if key.chars().count() > MAX_SERVICE_KEY_LEN {
            Some(format!("it is {} characters long", key.chars().count()))
        } else if let Some(ch) = key
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            Some(format!("it contains `{ch}`"))
        } else if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some("it does not start with a lowercase letter".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.err(
                    service_path(key),
                    format!(
                        "service key `{key}` is invalid ({reason}); it must be 1 to \
                         {MAX_SERVICE_KEY_LEN} lowercase letters, digits and hyphens, starting \
                         with a letter (it is the container name and part of derived names)"
                    ),
                );
                false
            }
            None => true,
        }
    }

    /// `image.build`: what can be checked without the file system (the loader checks that
    /// the context and the Dockerfile exist).
    fn build(&mut self, bp: &KeyPath, b: &Build) {
        if b.context.trim().is_empty() {
            self.err(
                bp.key("context"),
                "build context is empty; give the directory to build, relative to the config \
                 file (e.g. \"./backend\")",
            );
        }
        if b.dockerfile.as_deref().is_some_and(|d| d.trim().is_empty()) {
            self.err(
                bp.key("dockerfile"),
                "dockerfile is empty; omit it for `Dockerfile` in the context",
            );
        }
        if b.target.as_deref().is_some_and(|t| t.trim().is_empty()) {
            self.err(
                bp.key("target"),
                "target is empty; give a build stage name or omit it",
            );
        }
        for name in b.args.keys() {
            if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
                self.err(
                    bp.key("args").key(name),
                    format!(
                        "build argument name {name:?} is invalid: it must be non-empty, without \
                         `=` or whitespace"
                    ),
                );
            }
        }
    }

    fn image(&mut self, sp: &KeyPath, s: &Service) {
        let ip = sp.key("image");
        let Some(image) = &s.image else {
            return; // missing: reported by the loader
        };
        match image {
            Image::Reference(r) => {
                if r.is_empty() {
                    self.err(
                        ip,
                        "image is empty; give an image reference such as `nginx:1.27` or \
                         { repository = \"<key>\", tag = \"...\" }",
                    );
                } else if r.chars().any(char::is_whitespace) {
                    self.err(
                        ip,
                        format!("image reference {r:?} contains whitespace, which no image reference may contain"),
                    );
                } else if r.chars().count() > 1024 {
                    self.err(
                        ip,
                        format!(
                            "image reference is {} characters long; the limit is 1024",
                            r.chars().count()
                        ),
                    );
                }
            }
            Image::Repository(ri) => {
                match &ri.repository {
                    None if ri.build.is_none() => self.err(
                        ip.clone(),
                        "give `repository` (a key of [repositories]) or `build` (to build the \
                         image from source), or use an image reference string",
                    ),
                    None => {}
                    Some(repo) if !self.c.repositories.contains_key(repo) => {
                        let declared: Vec<String> = self
                            .c
                            .repositories
                            .keys()
                            .map(|k| format!("`{k}`"))
                            .collect();
                        let hint = if declared.is_empty() {
                            format!(
                                "no repositories are declared; add a [repositories.{repo}] section"
                            )
                        } else {
                            format!("declared repositories: {}", declared.join(", "))
                        };
                        self.err(
                            ip.key("repository"),
                            format!("`{repo}` is not a key of [repositories]; {hint}"),
                        );
                    }
                    Some(_) => {}
                }
                if let (Some(tag), Some(_)) = (&ri.tag, &ri.build) {
                    self.err(
                        ip.key("tag"),
                        format!(
                            "`tag = \"{tag}\"` cannot be combined with `build`: a built image is \
                             tagged with the git commit of its context (or a digest of its \
                             files) and deployed by digest; remove `tag`"
                        ),
                    );
                } else if let Some(reason) = tag_problem(ri.tag()) {
                    self.err(
                        ip.key("tag"),
                        format!(
                            "`{}` is not a valid image tag ({reason}); a tag is 1 to 128 letters, \
                             digits, `_`, `.` and `-`, not starting with `.` or `-`",
                            ri.tag()
                        ),
                    );
                }
                if let Some(b) = &ri.build {
                    self.build(&ip.key("build"), b);
                }
            }
        }
    }

    fn size(&mut self, sp: &KeyPath, s: &Service) {
        match fargate_memory(s.cpu) {
            None => {
                let cpus: Vec<String> = FARGATE_CPUS.iter().map(u32::to_string).collect();
                self.err(
                    sp.key("cpu"),
                    format!(
                        "cpu {} is not a Fargate task size; use one of: {} (1024 = 1 vCPU)",
                        s.cpu,
                        cpus.join(", ")
                    ),
                );
            }
            Some((valid, desc)) => {
                if !valid.contains(&s.memory_mib()) {
                    self.err(
                        sp.key("memory"),
                        format!(
                            "memory {} MiB is not valid with cpu {} on Fargate; with cpu {} \
                             memory must be {desc} (MiB)",
                            s.memory_mib(),
                            s.cpu,
                            s.cpu
                        ),
                    );
                }
            }
        }
    }

    fn ports(&mut self, sp: &KeyPath, s: &Service) {
        for (i, &port) in s.ports.iter().enumerate() {
            let pp = sp.key("ports").index(i);
            if port == 0 {
                self.err(pp, "port 0 is not a valid port; ports are 1 to 65535");
            } else if let Some(j) = s.ports[..i].iter().position(|&p| p == port) {
                self.err(pp, format!("port {port} is listed twice (also ports[{j}])"));
            }
        }
    }

    /// Environment variable names of a container; `path` is its `environment` key.
    fn environment(&mut self, path: &KeyPath, env: &BTreeMap<String, String>) {
        for name in env.keys() {
            let ep = path.key(name);
            let len = name.chars().count();
            if !is_env_name(name) {
                self.err(
                    ep,
                    format!(
                        "`{name}` is not a valid environment variable name; use letters, digits \
                         and `_`, not starting with a digit (e.g. `DATABASE_URL`)"
                    ),
                );
            } else if len > 255 {
                self.err(
                    ep,
                    format!("environment variable name is {len} characters long; the limit is 255"),
                );
            }
        }
    }

    fn ingress(&mut self, sp: &KeyPath, s: &Service) {
        let mut seen: Vec<(u16, String, usize)> = Vec::new();
        for (i, rule) in s.ingress.iter().enumerate() {
            let rp = sp.key("ingress").index(i);
            if !s.ports.contains(&rule.port) {
                let msg = if s.ports.is_empty() {
                    format!(
                        "port {} is not one of the service's ports: the service declares no \
                         `ports`; add {} to ports",
                        rule.port, rule.port
                    )
                } else {
                    let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
                    format!(
                        "port {} is not one of the service's ports ({})",
                        rule.port,
                        ports.join(", ")
                    )
                };
                self.err(rp.key("port"), msg);
            }
            if rule.cidrs.is_empty() {
                self.err(
                    rp.key("cidrs"),
                    "cidrs is empty; give at least one source CIDR, e.g. [\"0.0.0.0/0\"] for \
                     everyone",
                );
            }
            for (j, cidr) in rule.cidrs.iter().enumerate() {
                if let Err(e) = parse_cidr(cidr) {
                    self.err(rp.key("cidrs").index(j), e);
                }
                // EC2 keeps one rule per (port, CIDR): a second one could never converge.
                if let Some(first) = seen.iter().find(|(p, c, _)| *p == rule.port && c == cidr) {
                    self.err(
                        rp.key("cidrs").index(j),
                        format!(
                            "port {} from {cidr} is already opened by ingress[{}]; EC2 keeps one \
                             rule per port and CIDR, so list it once",
                            rule.port, first.2
                        ),
                    );
                } else {
                    seen.push((rule.port, cidr.clone(), i));
                }
            }
            if let Some(d) = &rule.description {
                let len = d.chars().count();
                if len == 0 {
                    self.err(
                        rp.key("description"),
                        "description is empty; omit the key instead",
                    );
                } else if len > 255 {
                    self.err(
                        rp.key("description"),
                        format!("description is {len} characters long; the limit is 255"),
                    );
                } else if let Some(ch) = d.chars().find(|c| !is_rule_description_char(*c)) {
                    self.err(
                        rp.key("description"),
                        format!(
                            "description contains `{ch}`; EC2 rule descriptions allow only \
                             letters, digits, spaces and {RULE_DESCRIPTION_PUNCT}"
                        ),
                    );
                }
            }
        }
    }

    fn task_iam(&mut self, sp: &KeyPath, s: &Service) {
        if let Some(arn) = &s.task_role {
            if let Err(m) = check_role_arn(arn) {
                self.err(sp.key("task_role"), m);
            }
            if !s.task_policy.is_empty() {
                self.err(
                    sp.key("task_policy"),
                    "task_policy and task_role are mutually exclusive: task_policy describes the \
                     role ecsdeploy creates, task_role names an existing one; remove one of them",
                );
            }
        }
        for (i, st) in s.task_policy.iter().enumerate() {
            let stp = sp.key("task_policy").index(i);
            if st.actions.is_empty() {
                self.err(
                    stp.key("actions"),
                    "actions is empty; list at least one action, e.g. [\"s3:GetObject\"]",
                );
            }
            for (j, a) in st.actions.iter().enumerate() {
                if !is_action(a) {
                    self.err(
                        stp.key("actions").index(j),
                        format!(
                            "`{a}` is not an IAM action; write `service:Action` (e.g. \
                             `s3:GetObject`, `sqs:*`) or `*`"
                        ),
                    );
                }
            }
            if st.resources.is_empty() {
                self.err(
                    stp.key("resources"),
                    "resources is empty; list at least one ARN, or \"*\"",
                );
            }
            for (j, r) in st.resources.iter().enumerate() {
                if r != "*" && !r.starts_with("arn:") {
                    self.err(
                        stp.key("resources").index(j),
                        format!(
                            "`{r}` is not a resource ARN; write `*` or an ARN starting with \
                             `arn:` (e.g. `arn:aws:s3:::my-bucket/*`)"
                        ),
                    );
                }
            }
        }
    }

    /// `depends_on` of every service: known keys, no self or repeated entries, no cycles.
    fn service_dependencies(&mut self) {
        let c = self.c;
        let keys: Vec<String> = c.services.keys().map(|k| format!("`{k}`")).collect();
        for (key, s) in &c.services {
            let dp = service_path(key).key("depends_on");
            for (i, d) in s.depends_on.iter().enumerate() {
                let ip = dp.index(i);
                if d == key {
                    self.err(
                        ip,
                        format!(
                            "services.{key} depends on itself; a service cannot wait for its own \
                             deployment, so remove `{d}`"
                        ),
                    );
                } else if let Some(j) = s.depends_on[..i].iter().position(|x| x == d) {
                    self.err(ip, format!("`{d}` is listed twice (also depends_on[{j}])"));
                } else if !c.services.contains_key(d) {
                    self.err(
                        ip,
                        format!(
                            "unknown dependency `{d}`: it is not a key of [services]; services: \
                             {}",
                            keys.join(", ")
                        ),
                    );
                }
            }
        }
        let graph = c
            .services
            .iter()
            .map(|(k, s)| {
                (
                    k.as_str(),
                    s.depends_on.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        for cycle in cycles(graph) {
            self.err(
                service_path(cycle[0]).key("depends_on"),
                format!(
                    "dependency cycle: {}; a service is deployed only after the services it \
                     depends on are stable, so none of these could ever start: remove one of \
                     the dependencies",
                    cycle.join(" → ")
                ),
            );
        }
    }

    /// `[service_connect]`, and what needs the whole app: every connected service needs the
    /// namespace, and discovery and DNS names are unique in it.
    fn service_connect(&mut self) {
        let c = self.c;
        if let Some(sc) = c
            .service_connect
            .as_ref()
            .filter(|sc| sc.namespace.starts_with("arn:"))
        {
            // An existing namespace (for instance one shared from another account) by ARN.
            let np = root("service_connect").key("namespace");
            if !sc.existing {
                self.err(
                    np,
                    "an ARN names a namespace that already exists: set existing = true to use \
                     it, or give the name of the namespace ecsdeploy should create",
                );
            } else if let Err(m) = check_regional_arn(
                &sc.namespace,
                "a Cloud Map namespace ARN",
                "servicediscovery",
                "namespace/",
                "arn:aws:servicediscovery:ap-northeast-1:123456789012:namespace/ns-abc123",
            ) {
                self.err(np, m);
            }
        } else if let Some(sc) = &c.service_connect {
            if let Some(reason) = namespace_problem(&sc.namespace) {
                self.err(
                    root("service_connect").key("namespace"),
                    format!(
                        "`{}` is not a valid namespace name ({reason}); a Cloud Map namespace \
                         name is 1 to {MAX_NAMESPACE_LEN} letters, digits, hyphens and dots, not \
                         starting or ending with a dot or a hyphen (e.g. `local` or \
                         `internal.example`)",
                        sc.namespace
                    ),
                );
            }
        }
        // name → (service key, publish index, written explicitly)
        let mut discovery: BTreeMap<String, (&str, usize, bool)> = BTreeMap::new();
        let mut dns: BTreeMap<String, (&str, usize, bool)> = BTreeMap::new();
        for (key, s) in &c.services {
            let Some(conn) = &s.connect else {
                continue;
            };
            let cp = service_path(key).key("connect");
            if c.service_connect.is_none() {
                self.err(
                    cp.clone(),
                    "connect needs a namespace: add a [service_connect] section, e.g. \
                     namespace = \"local\", or remove connect",
                );
            }
            for (i, p) in conn.publish.iter().enumerate() {
                let pp = cp.key("publish").index(i);
                let port_name = p.name.clone().unwrap_or_else(|| key.clone());
                let discovery_name = p.discovery_name.clone().unwrap_or(port_name);
                // The same default the desired state uses: `<discovery name>.<namespace>`.
                let namespace = self
                    .c
                    .service_connect
                    .as_ref()
                    .map_or("", |n| n.namespace.as_str());
                let dns_name = p
                    .dns_name
                    .clone()
                    .unwrap_or_else(|| format!("{discovery_name}.{namespace}"));
                let explicit = p.discovery_name.is_some();
                match discovery.get(&discovery_name) {
                    // Two defaults in one service: the port names clash, reported there.
                    Some((k, _, e)) if *k == key.as_str() && !explicit && !e => {}
                    Some((k, j, _)) => {
                        let path = if explicit {
                            pp.key("discovery_name")
                        } else {
                            pp.clone()
                        };
                        self.err(
                            path,
                            format!(
                                "discovery name `{discovery_name}` of services.{key} is also the \
                                 discovery name of services.{k}.connect.publish[{j}]; discovery \
                                 names are unique in the namespace (they default to the port \
                                 name), so set a distinct `discovery_name`"
                            ),
                        );
                    }
                    None => {
                        discovery.insert(discovery_name, (key, i, explicit));
                    }
                }
                let explicit = p.dns_name.is_some();
                match dns.get(&dns_name) {
                    // Both derived from discovery names: that clash is reported above.
                    Some((_, _, false)) if !explicit => {}
                    Some((k, j, _)) => {
                        let path = if explicit {
                            pp.key("dns_name")
                        } else {
                            pp.clone()
                        };
                        self.err(
                            path,
                            format!(
                                "DNS name `{dns_name}` of services.{key} is also the DNS name of \
                                 services.{k}.connect.publish[{j}]; clients could not tell the \
                                 two apart, so set a distinct `dns_name`"
                            ),
                        );
                    }
                    None => {
                        dns.insert(dns_name, (key, i, explicit));
                    }
                }
            }
        }
    }

    /// `[services.<key>.connect]`: the checks that need only the service.
    fn connect(&mut self, sp: &KeyPath, key: &str, s: &Service, conn: &Connect) {
        let cp = sp.key("connect");
        for (i, p) in conn.publish.iter().enumerate() {
            let pp = cp.key("publish").index(i);
            let in_ports = s.ports.contains(&p.port);
            if !in_ports {
                self.err(pp.key("port"), not_a_service_port(p.port, &s.ports));
            } else if let Some(j) = conn.publish[..i].iter().position(|x| x.port == p.port) {
                self.err(
                    pp.key("port"),
                    format!(
                        "port {} is already published by publish[{j}]; a port mapping has one \
                         name, so publish each port once",
                        p.port
                    ),
                );
            }
            let name = p.name.as_deref().unwrap_or(key);
            let np = if p.name.is_some() {
                pp.key("name")
            } else {
                pp.clone()
            };
            if let Some(n) = &p.name {
                if let Some(reason) = connect_name_problem(n) {
                    self.err(
                        np.clone(),
                        format!(
                            "`{n}` is not a valid port name ({reason}); port names are 1 to \
                             {MAX_CONNECT_NAME_LEN} lowercase letters, digits and hyphens, not \
                             starting with a hyphen"
                        ),
                    );
                }
            }
            if let Some(j) = conn.publish[..i]
                .iter()
                .position(|x| x.name.as_deref().unwrap_or(key) == name)
            {
                self.err(
                    np,
                    format!(
                        "port name `{name}` is also the name of publish[{j}] (a port name \
                         defaults to the service key); give each published port its own `name`"
                    ),
                );
            }
            if let Some(d) = &p.discovery_name {
                if let Some(reason) = connect_name_problem(d) {
                    self.err(
                        pp.key("discovery_name"),
                        format!(
                            "`{d}` is not a valid discovery name ({reason}); discovery names are \
                             1 to {MAX_CONNECT_NAME_LEN} lowercase letters, digits and hyphens, \
                             not starting with a hyphen"
                        ),
                    );
                }
            }
            if let Some(d) = &p.dns_name {
                if let Some(reason) = dns_name_problem(d) {
                    self.err(
                        pp.key("dns_name"),
                        format!(
                            "`{d}` is not a valid DNS name ({reason}); a client alias DNS name is \
                             1 to {MAX_DNS_NAME_LEN} lowercase letters, digits, hyphens and dots, \
                             not starting with a hyphen or a dot and not ending with a dot"
                        ),
                    );
                }
            }
            if let Some(cport) = p.client_port {
                if cport == 0 {
                    self.err(
                        pp.key("client_port"),
                        "client_port 0 is not a valid port; ports are 1 to 65535",
                    );
                } else if !in_ports {
                    self.err(
                        pp.key("client_port"),
                        format!(
                            "client alias port {cport} without a named port mapping: port {} is \
                             not one of the service's ports, so the task has no port mapping to \
                             name and the alias would lead nowhere; add {} to ports",
                            p.port, p.port
                        ),
                    );
                }
            }
        }
        if let Some(prefix) = &conn.log_stream_prefix {
            let lp = cp.key("log_stream_prefix");
            if prefix.is_empty() {
                self.err(
                    lp,
                    format!(
                        "log_stream_prefix is empty; omit it for the default `{key}-connect` or \
                         give a prefix such as `{key}-traffic`"
                    ),
                );
            } else if let Some(ch) = prefix.chars().find(|c| *c == ':' || *c == '*') {
                self.err(
                    lp,
                    format!(
                        "log_stream_prefix `{prefix}` contains `{ch}`; CloudWatch log stream \
                         names cannot contain `:` or `*`"
                    ),
                );
            }
        }
    }

    /// `[services.<key>.deployment]`.
    fn deployment(&mut self, sp: &KeyPath, s: &Service) {
        let d = &s.deployment;
        let dp = sp.key("deployment");
        let min_ok = d.minimum_healthy_percent <= 100;
        if !min_ok {
            self.err(
                dp.key("minimum_healthy_percent"),
                format!(
                    "minimum_healthy_percent is {}; it must be 0 to 100",
                    d.minimum_healthy_percent
                ),
            );
        }
        let max_ok = (100..=200).contains(&d.maximum_percent);
        if !max_ok {
            self.err(
                dp.key("maximum_percent"),
                format!(
                    "maximum_percent is {}; it must be 100 to 200",
                    d.maximum_percent
                ),
            );
        }
        if min_ok && max_ok && d.maximum_percent <= d.minimum_healthy_percent {
            self.err(
                dp.key("maximum_percent"),
                format!(
                    "maximum_percent {} with minimum_healthy_percent {} leaves no room to roll \
                     out: ECS may neither start a new task before an old one stops nor stop an \
                     old one first; raise maximum_percent (e.g. 200) or lower \
                     minimum_healthy_percent (e.g. 50)",
                    d.maximum_percent, d.minimum_healthy_percent
                ),
            );
        }
    }

    /// A container health check (of the main container or a sidecar) at `hp`.
    fn container_health_check(&mut self, hp: &KeyPath, hc: &ContainerHealthCheck) {
        if hc.command.trim().is_empty() {
            self.err(
                hp.key("command"),
                "command is empty; give a shell command that exits 0 when the container is \
                 healthy, e.g. \"curl -f http://localhost:8080/health || exit 1\"",
            );
        }
        let ranges = [
            ("interval", hc.interval, 5, 300),
            ("timeout", hc.timeout, 2, 60),
            ("retries", hc.retries, 1, 10),
            ("start_period", hc.start_period, 0, 300),
        ];
        self.check_timing(hp, &ranges, hc.timeout, hc.interval);
    }

    /// The task's containers: the main one's health check, stop timeout and ulimits, the
    /// sidecars, and the start order between them.
    fn containers(&mut self, sp: &KeyPath, key: &str, s: &Service) {
        if let Some(hc) = &s.health_check {
            self.container_health_check(&sp.key("health_check"), hc);
        }
        if let Some(t) = s.stop_timeout {
            if !(2..=120).contains(&t) {
                self.err(
                    sp.key("stop_timeout"),
                    format!("stop_timeout is {t} seconds; it must be 2 to 120 (the Fargate limit)"),
                );
            }
        }
        for (name, u) in &s.ulimits {
            let up = sp.key("ulimits").key(name);
            if !ULIMIT_NAMES.contains(&name.as_str()) {
                self.err(
                    up.clone(),
                    format!(
                        "`{name}` is not a resource limit a container can set; use one of: {}",
                        ULIMIT_NAMES.join(", ")
                    ),
                );
            }
            if u.soft > u.hard {
                self.err(
                    up.key("soft"),
                    format!(
                        "the soft limit {} is above the hard limit {}; soft must be at most hard",
                        u.soft, u.hard
                    ),
                );
            }
        }

        // Ports are shared by all containers of a task (awsvpc): who uses each one.
        let mut ports: Vec<(u16, String)> = Vec::new();
        for &port in &s.ports {
            if port != 0 && !ports.iter().any(|(p, _)| *p == port) {
                ports.push((port, format!("the main container `{key}` (ports)")));
            }
        }
        for (i, sc) in s.sidecars.iter().enumerate() {
            let scp = sp.key("sidecars").index(i);
            if let Some(m) = charset_problem(
                "sidecar name",
                &sc.name,
                255,
                is_aws_name_char,
                "letters, digits, `_` and `-`",
            ) {
                self.err(scp.key("name"), m);
            } else if sc.name == key {
                self.err(
                    scp.key("name"),
                    format!(
                        "sidecar name `{key}` is the name of the main container (the service \
                         key); container names are unique in a task, so rename the sidecar"
                    ),
                );
            } else if let Some(j) = s.sidecars[..i].iter().position(|x| x.name == sc.name) {
                self.err(
                    scp.key("name"),
                    format!(
                        "`{}` is already the name of sidecars[{j}]; container names are unique \
                         in a task",
                        sc.name
                    ),
                );
            }
            if sc.image.is_empty() {
                self.err(
                    scp.key("image"),
                    "image is empty; give a full image reference such as \
                     `public.ecr.aws/aws-observability/aws-for-fluent-bit:stable`",
                );
            } else if sc.image.chars().any(char::is_whitespace) {
                self.err(
                    scp.key("image"),
                    format!(
                        "image reference {:?} contains whitespace, which no image reference may \
                         contain",
                        sc.image
                    ),
                );
            }
            for (j, &port) in sc.ports.iter().enumerate() {
                let pp = scp.key("ports").index(j);
                if port == 0 {
                    self.err(pp, "port 0 is not a valid port; ports are 1 to 65535");
                } else if let Some((_, owner)) = ports.iter().find(|(p, _)| *p == port) {
                    self.err(
                        pp,
                        format!(
                            "port {port} is already used by {owner}; the containers of a task \
                             share one network interface, so each port can be used once"
                        ),
                    );
                } else {
                    ports.push((port, format!("sidecars[{i}] `{}`", sc.name)));
                }
            }
            self.environment(&scp.key("environment"), &sc.environment);
            if sc.command.as_ref().is_some_and(Vec::is_empty) {
                self.err(
                    scp.key("command"),
                    "command is an empty list; remove it to use the image's CMD, or give the \
                     program and its arguments",
                );
            }
            if let Some(hc) = &sc.health_check {
                self.container_health_check(&scp.key("health_check"), hc);
            }
            self.container_deps(&scp.key("depends_on"), &sc.name, &sc.depends_on, key, s);
        }
        self.container_deps(
            &sp.key("container_depends_on"),
            key,
            &s.container_depends_on,
            key,
            s,
        );

        // A start order that goes round in a circle never starts the task. Only checked when
        // the names are unique, else the report above says enough.
        let mut names: Vec<&str> = vec![key];
        names.extend(s.sidecars.iter().map(|x| x.name.as_str()));
        let unique = names
            .iter()
            .enumerate()
            .all(|(i, n)| !names[..i].contains(n));
        if unique {
            let graph = std::iter::once((key, &s.container_depends_on))
                .chain(s.sidecars.iter().map(|x| (x.name.as_str(), &x.depends_on)))
                .map(|(n, deps)| (n, deps.iter().map(|d| d.container.as_str()).collect()))
                .collect();
            for cycle in cycles(graph) {
                let path = match s.sidecars.iter().position(|x| x.name == cycle[0]) {
                    Some(i) => sp.key("sidecars").index(i).key("depends_on"),
                    None => sp.key("container_depends_on"),
                };
                self.err(
                    path,
                    format!(
                        "container dependency cycle: {}; each container waits for the ones it \
                         depends on, so the task could never start: remove one of the \
                         dependencies",
                        cycle.join(" → ")
                    ),
                );
            }
        }
    }

    /// The containers one container (`me`) waits for, at `dp`. `key` is the main container.
    fn container_deps(
        &mut self,
        dp: &KeyPath,
        me: &str,
        deps: &[ContainerDependency],
        key: &str,
        s: &Service,
    ) {
        for (i, d) in deps.iter().enumerate() {
            let ip = dp.index(i);
            // (essential, has a health check) of the named container.
            let target = if d.container == key {
                Some((true, s.health_check.is_some()))
            } else {
                s.sidecars
                    .iter()
                    .find(|x| x.name == d.container)
                    .map(|x| (x.essential, x.health_check.is_some()))
            };
            if d.container == me {
                self.err(
                    ip.key("container"),
                    format!("container `{me}` depends on itself; remove this entry"),
                );
                continue;
            }
            if let Some(j) = deps[..i].iter().position(|x| x.container == d.container) {
                self.err(
                    ip.key("container"),
                    format!("`{}` is listed twice (also [{j}])", d.container),
                );
                continue;
            }
            let Some((essential, has_hc)) = target else {
                let names: Vec<String> = std::iter::once(key)
                    .chain(s.sidecars.iter().map(|x| x.name.as_str()))
                    .map(|n| format!("`{n}`"))
                    .collect();
                self.err(
                    ip.key("container"),
                    format!(
                        "`{}` is not a container of this task; its containers are {} (the main \
                         container is named after the service key)",
                        d.container,
                        names.join(", ")
                    ),
                );
                continue;
            };
            match d.condition {
                ContainerCondition::Healthy if !has_hc => self.err(
                    ip.key("condition"),
                    format!(
                        "condition HEALTHY needs a health_check on container `{}`, which has \
                         none, so it would never become healthy; add a health_check to it or \
                         use START",
                        d.container
                    ),
                ),
                ContainerCondition::Complete | ContainerCondition::Success if essential => self
                    .err(
                        ip.key("condition"),
                        format!(
                            "condition {} waits for container `{}` to exit, but it is essential \
                             (the task stops when it exits); use it only with a sidecar that has \
                             essential = false, or use START or HEALTHY",
                            d.condition.as_aws(),
                            d.container
                        ),
                    ),
                _ => {}
            }
        }
    }

    /// `[services.<key>.autoscaling]`.
    fn autoscaling(&mut self, sp: &KeyPath, s: &Service, a: &Autoscaling) {
        let ap = sp.key("autoscaling");
        if a.max == 0 || a.max > MAX_DESIRED_COUNT {
            self.err(
                ap.key("max"),
                format!("max is {}; it must be 1 to {MAX_DESIRED_COUNT}", a.max),
            );
        }
        if a.min > a.max {
            self.err(
                ap.key("min"),
                format!(
                    "min ({}) is greater than max ({}); the autoscaler keeps the count between \
                     them",
                    a.min, a.max
                ),
            );
        }
        let metrics: Vec<&str> = [
            ("cpu", a.cpu.is_some()),
            ("memory", a.memory.is_some()),
            ("requests_per_target", a.requests_per_target.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
        match metrics.as_slice() {
            [] => self.err(
                ap.clone(),
                "autoscaling has no target: set exactly one of `cpu`, `memory` or \
                 `requests_per_target`",
            ),
            [_] => {}
            [first, rest @ ..] => {
                for second in rest {
                    self.err(
                        ap.key(*second),
                        format!(
                            "`{first}` and `{second}` are both set; autoscaling tracks exactly \
                             one of `cpu`, `memory` or `requests_per_target`"
                        ),
                    );
                }
            }
        }
        for (k, v) in [("cpu", a.cpu), ("memory", a.memory)] {
            if let Some(v) = v {
                if !(v > 0.0 && v <= 100.0) {
                    self.err(
                        ap.key(k),
                        format!(
                            "{k} target is {v}; an average utilisation target must be above 0 \
                             and at most 100 (%)"
                        ),
                    );
                }
            }
        }
        if let Some(v) = a.requests_per_target {
            if !(v > 0.0 && v.is_finite()) {
                self.err(
                    ap.key("requests_per_target"),
                    format!("requests_per_target is {v}; it must be above 0"),
                );
            }
            if s.target_group.is_none() {
                self.err(
                    ap.key("requests_per_target"),
                    "requests_per_target tracks the load balancer's requests per target, which \
                     needs a target_group on this service; add one or track `cpu` or `memory`",
                );
            }
        }
        for (k, v) in [
            ("scale_in_cooldown", a.scale_in_cooldown),
            ("scale_out_cooldown", a.scale_out_cooldown),
        ] {
            if v > MAX_COOLDOWN {
                self.err(
                    ap.key(k),
                    format!("{k} is {v} seconds; it must be 0 to {MAX_COOLDOWN}"),
                );
            }
        }
    }

    /// Imported security groups (of a service or the load balancer): ids or `Name` tags.
    fn security_groups(&mut self, path: &KeyPath, groups: &[String]) {
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

    /// A service's generated security group `<app>-<key>` (logical id `security_group.<key>`)
    /// must not collide with the load balancer's (`<app>-alb`) or the endpoints' group
    /// (`<app>-endpoints`).
    fn sg_name_clash(&mut self, sp: &KeyPath, key: &str, s: &Service) {
        if !s.security_groups.is_empty() {
            return;
        }
        let c = self.c;
        let lb_sg = c
            .load_balancer
            .as_ref()
            .is_some_and(|lb| lb.security_groups.is_empty());
        let endpoint_sg = c.network.existing.is_none()
            && c.network
                .endpoints
                .iter()
                .any(|e| !GATEWAY_ENDPOINTS.contains(&e.as_str()));
        let clash = match key {
            "alb" if lb_sg => Some((
                "the load balancer's security group",
                c.load_balancer_sg_name(),
            )),
            "endpoints" if endpoint_sg => Some((
                "the security group of the interface endpoints",
                c.endpoint_sg_name(),
            )),
            _ => None,
        };
        if let Some((what, name)) = clash {
            self.err(
                sp.clone(),
                format!(
                    "service key `{key}` gives the service a security group named `{name}`, the \
                     name of {what}; rename the service key"
                ),
            );
        }
    }

    /// `[services.<key>.target_group]`: the checks that need only the service.
    fn target_group<'k>(
        &mut self,
        sp: &KeyPath,
        key: &'k str,
        s: &Service,
        tg: &TargetGroup,
        derive_ok: bool,
        names: &mut BTreeMap<String, &'k str>,
    ) {
        let tp = sp.key("target_group");
        if self.c.load_balancer.is_none() {
            self.err(
                tp.clone(),
                "a target_group needs a load balancer: add a [load_balancer] section with a \
                 listener forwarding to this service, or remove target_group",
            );
        }
        if !s.ports.contains(&tg.port) {
            let msg = if s.ports.is_empty() {
                format!(
                    "port {} is not one of the service's ports: the service declares no `ports`; \
                     add {} to ports",
                    tg.port, tg.port
                )
            } else {
                let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
                format!(
                    "port {} is not one of the service's ports ({})",
                    tg.port,
                    ports.join(", ")
                )
            };
            self.err(tp.key("port"), msg);
        }
        let explicit = tg.name.is_some();
        let np = if explicit { tp.key("name") } else { tp.clone() };
        if let Some(name) = self.c.target_group_name(key) {
            if explicit || derive_ok {
                if let Some(reason) = elb_name_problem(&name) {
                    let what = if explicit { "" } else { " (derived)" };
                    self.err(
                        np.clone(),
                        format!(
                            "`{name}` is not a valid target group name{what} ({reason}); target \
                             group names are 1 to 32 letters, digits and hyphens, not starting \
                             or ending with a hyphen"
                        ),
                    );
                }
            }
            if let Some(prev) = names.get(&name) {
                self.err(
                    np,
                    format!(
                        "target group name `{name}` is also the target group name of \
                         services.{prev}; each service needs its own target group"
                    ),
                );
            } else {
                names.insert(name, key);
            }
        }
        if tg.deregistration_delay > 3600 {
            self.err(
                tp.key("deregistration_delay"),
                format!(
                    "deregistration_delay is {} seconds; it must be 0 to 3600",
                    tg.deregistration_delay
                ),
            );
        }
        if tg.health_check_grace_period > i32::MAX as u32 {
            self.err(
                tp.key("health_check_grace_period"),
                format!(
                    "health_check_grace_period is {} seconds; it must be 0 to {}",
                    tg.health_check_grace_period,
                    i32::MAX
                ),
            );
        }
        self.health_check(&tp.key("health_check"), &tg.health_check);
    }

    fn health_check(&mut self, hp: &KeyPath, hc: &HealthCheck) {
        let len = hc.path.chars().count();
        if !hc.path.starts_with('/') {
            self.err(
                hp.key("path"),
                format!(
                    "health check path `{}` does not start with `/`; write the request path, \
                     e.g. `/` or `/health`",
                    hc.path
                ),
            );
        } else if len > 1024 {
            self.err(
                hp.key("path"),
                format!("health check path is {len} characters long; the limit is 1024"),
            );
        }
        let port_ok = hc.port == "traffic-port"
            || hc.port.parse::<u16>().is_ok_and(|p| p != 0) && !hc.port.starts_with(['+', '0']);
        if !port_ok {
            self.err(
                hp.key("port"),
                format!(
                    "health check port `{}` is neither `traffic-port` (the target's own port) \
                     nor a port number 1 to 65535 written as a string, e.g. \"8081\"",
                    hc.port
                ),
            );
        }
        let ranges = [
            ("interval", hc.interval, 5, 300),
            ("timeout", hc.timeout, 2, 120),
            ("healthy_threshold", hc.healthy_threshold, 2, 10),
            ("unhealthy_threshold", hc.unhealthy_threshold, 2, 10),
        ];
        self.check_timing(hp, &ranges, hc.timeout, hc.interval);
        if let Some(reason) = matcher_problem(&hc.matcher) {
            self.err(
                hp.key("matcher"),
                format!(
                    "matcher `{}` is invalid ({reason}); write HTTP codes from 200 to 499, \
                     separated by commas, or a range: `200`, `200,302`, `200-299`",
                    hc.matcher
                ),
            );
        }
    }

    /// `[load_balancer]` and its listeners, and the services' target groups it must serve.
    fn load_balancer(&mut self) {
        let c = self.c;
        let Some(lb) = &c.load_balancer else {
            return;
        };
        let lp = root("load_balancer");

        let explicit = lb.name.is_some();
        if explicit || self.app_ok {
            let name = c.load_balancer_name();
            let reason = elb_name_problem(&name).or_else(|| {
                name.starts_with("internal-")
                    .then(|| "it starts with `internal-`".to_string())
            });
            if let Some(reason) = reason {
                let (path, what) = if explicit {
                    (lp.key("name"), "")
                } else {
                    (
                        lp.clone(),
                        " (the default, the app name; set load_balancer.name)",
                    )
                };
                self.err(
                    path,
                    format!(
                        "`{name}` is not a valid load balancer name{what} ({reason}); ALB names \
                         are 1 to 32 letters, digits and hyphens, not starting or ending with a \
                         hyphen and not starting with `internal-`"
                    ),
                );
            }
        }

        let kind = lb.subnet_kind();
        let subnets_path = if lb.subnets.is_some() {
            lp.key("subnets")
        } else {
            lp.clone()
        };
        if lb.scheme == Scheme::InternetFacing && kind == SubnetKind::Private {
            self.err(
                lp.key("subnets"),
                "an internet-facing load balancer needs public subnets (subnets = \"private\" \
                 has no route from the internet); use subnets = \"public\" (the default) or \
                 scheme = \"internal\"",
            );
        }
        match &c.network.existing {
            Some(ex) => {
                let (list, name) = match kind {
                    SubnetKind::Public => (&ex.public_subnets, "public"),
                    SubnetKind::Private => (&ex.private_subnets, "private"),
                };
                if list.is_empty() {
                    self.imported_subnets_present(
                        subnets_path.clone(),
                        kind,
                        "the load balancer runs",
                    );
                } else if list.len() < 2 {
                    self.err(
                        subnets_path.clone(),
                        format!(
                            "the load balancer would use 1 subnet (network.existing.{name}_subnets), \
                             but an Application Load Balancer needs subnets in at least two \
                             availability zones; list at least two (the zones of imported subnets \
                             are only known at `up`, so AWS checks that they differ)"
                        ),
                    );
                }
            }
            None => {
                let (n, n_source) = az_count(c);
                if n == 1 {
                    let key = if c.network.azs.is_some() {
                        "azs"
                    } else {
                        "az_count"
                    };
                    self.err(
                        root("network").key(key),
                        format!(
                            "{n_source}, but an Application Load Balancer needs subnets in at \
                             least two availability zones; use two or more zones"
                        ),
                    );
                }
            }
        }

        if lb.idle_timeout == 0 || lb.idle_timeout > 4000 {
            self.err(
                lp.key("idle_timeout"),
                format!(
                    "idle_timeout is {} seconds; it must be 1 to 4000",
                    lb.idle_timeout
                ),
            );
        }
        if lb.ingress_cidrs.is_empty() {
            self.err(
                lp.key("ingress_cidrs"),
                "ingress_cidrs is empty; give at least one source CIDR, e.g. [\"0.0.0.0/0\"] \
                 for everyone (the default)",
            );
        }
        for (i, cidr) in lb.ingress_cidrs.iter().enumerate() {
            let ip = lp.key("ingress_cidrs").index(i);
            if let Err(e) = parse_cidr(cidr) {
                self.err(ip, e);
            } else if let Some(j) = lb.ingress_cidrs[..i].iter().position(|x| x == cidr) {
                self.err(
                    ip,
                    format!("`{cidr}` is listed twice (also ingress_cidrs[{j}])"),
                );
            }
        }
        self.security_groups(&lp.key("security_groups"), &lb.security_groups);
        if !lb.security_groups.is_empty() && lb.ingress_cidrs != [DEFAULT_LB_CIDR] {
            self.err(
                lp.key("ingress_cidrs"),
                "ingress_cidrs has no effect with security_groups: ecsdeploy then creates no \
                 load balancer security group and never modifies imported ones; admit the \
                 sources on the imported group yourself and remove ingress_cidrs",
            );
        }
        for key in lb.attributes.keys() {
            let ap = lp.key("attributes").key(key);
            if key.trim().is_empty() {
                self.err(
                    ap,
                    "attribute key is empty; use a load balancer attribute name such as \
                     `routing.http2.enabled`",
                );
            } else if let Some(own) = match key.as_str() {
                "idle_timeout.timeout_seconds" => Some("idle_timeout"),
                "deletion_protection.enabled" => Some("deletion_protection"),
                _ => None,
            } {
                self.err(
                    ap,
                    format!(
                        "`{key}` has its own key: set load_balancer.{own} instead of this \
                         attribute"
                    ),
                );
            }
        }

        if lb.listeners.is_empty() {
            self.err(
                lp.clone(),
                "the load balancer has no listeners; add a [[load_balancer.listeners]] section, \
                 e.g. port = 80, protocol = \"HTTP\", service = \"<service key>\"",
            );
        }
        for (i, l) in lb.listeners.iter().enumerate() {
            let path = lp.key("listeners").index(i);
            if l.port == 0 {
                self.err(
                    path.key("port"),
                    "port 0 is not a valid port; ports are 1 to 65535",
                );
            } else if let Some(j) = lb.listeners[..i].iter().position(|x| x.port == l.port) {
                self.err(
                    path.key("port"),
                    format!(
                        "port {} is already the port of listeners[{j}]; each listener needs its \
                         own port",
                        l.port
                    ),
                );
            }
            self.listener(&path, l);
        }
    }

    fn listener(&mut self, lp: &KeyPath, l: &Listener) {
        let https = l.protocol == Protocol::HTTPS;
        if https {
            if l.certificates.is_empty() {
                self.err(
                    lp.key("certificates"),
                    "an HTTPS listener needs at least one ACM certificate: set certificates = \
                     [\"arn:aws:acm:<region>:<account>:certificate/<id>\"]",
                );
            }
            for (i, arn) in l.certificates.iter().enumerate() {
                if let Err(m) = check_regional_arn(
                    arn,
                    "an ACM certificate ARN",
                    "acm",
                    "certificate/",
                    "arn:aws:acm:ap-northeast-1:123456789012:certificate/<id>",
                ) {
                    self.err(lp.key("certificates").index(i), m);
                }
            }
        } else {
            if !l.certificates.is_empty() {
                self.err(
                    lp.key("certificates"),
                    "an HTTP listener does not use certificates; remove them or set protocol = \
                     \"HTTPS\"",
                );
            }
            if l.ssl_policy.is_some() {
                self.err(
                    lp.key("ssl_policy"),
                    "an HTTP listener has no TLS policy; remove ssl_policy or set protocol = \
                     \"HTTPS\"",
                );
            }
        }
        if let Some(p) = &l.ssl_policy {
            if https && !p.starts_with("ELBSecurityPolicy-") {
                self.err(
                    lp.key("ssl_policy"),
                    format!(
                        "`{p}` is not an ELB security policy: their names start with \
                         `ELBSecurityPolicy-` (default {DEFAULT_SSL_POLICY})"
                    ),
                );
            }
        }

        // Exactly one default action.
        let actions: Vec<&str> = [
            ("service", l.service.is_some()),
            ("redirect_https_port", l.redirect_https_port.is_some()),
            ("fixed_response", l.fixed_response.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
        match actions.as_slice() {
            [] => self.err(
                lp.clone(),
                "the listener has no default action; set exactly one of `service`, \
                 `redirect_https_port` or `fixed_response`",
            ),
            [_] => {}
            [first, rest @ ..] => {
                for second in rest {
                    self.err(
                        lp.key(*second),
                        format!(
                            "`{first}` and `{second}` are both set; a listener has exactly one \
                             default action: `service`, `redirect_https_port` or \
                             `fixed_response`"
                        ),
                    );
                }
            }
        }
        if let Some(svc) = &l.service {
            self.forward_target(lp.key("service"), svc);
        }
        if let Some(port) = l.redirect_https_port {
            if https {
                self.err(
                    lp.key("redirect_https_port"),
                    "redirect_https_port on an HTTPS listener would redirect HTTPS to itself; \
                     use it on an HTTP listener (e.g. port 80 redirecting to 443)",
                );
            } else if port == 0 {
                self.err(
                    lp.key("redirect_https_port"),
                    "port 0 is not a valid port; ports are 1 to 65535",
                );
            }
        }
        if let Some(f) = &l.fixed_response {
            let fp = lp.key("fixed_response");
            if !(200..=599).contains(&f.status) {
                self.err(
                    fp.key("status"),
                    format!("status {} is not an HTTP status from 200 to 599", f.status),
                );
            }
            if !FIXED_RESPONSE_CONTENT_TYPES.contains(&f.content_type.as_str()) {
                self.err(
                    fp.key("content_type"),
                    format!(
                        "content_type `{}` is not one the ALB accepts; use one of: {}",
                        f.content_type,
                        FIXED_RESPONSE_CONTENT_TYPES.join(", ")
                    ),
                );
            }
            if let Some(body) = &f.body {
                let len = body.chars().count();
                if len > 1024 {
                    self.err(
                        fp.key("body"),
                        format!("body is {len} characters long; the limit is 1024"),
                    );
                }
            }
        }

        // Sign-in.
        if l.cognito.is_some() && l.oidc.is_some() {
            self.err(
                lp.key("oidc"),
                "cognito and oidc are mutually exclusive: a listener signs users in with one \
                 provider; remove one of them",
            );
        }
        for (key, set) in [("cognito", l.cognito.is_some()), ("oidc", l.oidc.is_some())] {
            if set && !https {
                self.err(
                    lp.key(key),
                    format!(
                        "{key} sign-in needs an HTTPS listener: the ALB runs authenticate \
                         actions only on HTTPS; set protocol = \"HTTPS\" with a certificate (and \
                         redirect HTTP to it with redirect_https_port)"
                    ),
                );
            }
        }
        if let Some(a) = &l.cognito {
            let ap = lp.key("cognito");
            if let Err(m) = check_regional_arn(
                &a.user_pool_arn,
                "a Cognito user pool ARN",
                "cognito-idp",
                "userpool/",
                "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEf",
            ) {
                self.err(ap.key("user_pool_arn"), m);
            }
            if a.client_id.trim().is_empty() {
                self.err(
                    ap.key("client_id"),
                    "client_id is empty; give the id of the user pool's app client",
                );
            }
            if a.domain.trim().is_empty() {
                self.err(
                    ap.key("domain"),
                    "domain is empty; give the user pool domain prefix (e.g. `my-app-auth`) or \
                     its custom domain",
                );
            }
            self.session_timeout(&ap, a.session_timeout);
        }
        if let Some(a) = &l.oidc {
            let ap = lp.key("oidc");
            for (key, url) in [
                ("issuer", &a.issuer),
                ("authorization_endpoint", &a.authorization_endpoint),
                ("token_endpoint", &a.token_endpoint),
                ("user_info_endpoint", &a.user_info_endpoint),
            ] {
                let ok = url
                    .strip_prefix("https://")
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
                if !ok {
                    self.err(
                        ap.key(key),
                        format!(
                            "{key} `{url}` is not an https:// URL; the ALB talks to OIDC \
                             providers over HTTPS only"
                        ),
                    );
                }
            }
            if a.client_id.trim().is_empty() {
                self.err(
                    ap.key("client_id"),
                    "client_id is empty; give the client id registered with the provider",
                );
            }
            if !is_env_name(&a.client_secret_env) {
                self.err(
                    ap.key("client_secret_env"),
                    format!(
                        "`{}` is not a valid environment variable name; client_secret_env names \
                         the variable that holds the client secret at `up` time (letters, \
                         digits and `_`, not starting with a digit, e.g. `OIDC_CLIENT_SECRET`)",
                        a.client_secret_env
                    ),
                );
            }
            self.session_timeout(&ap, a.session_timeout);
        }

        self.rules(lp, l);
    }

    fn session_timeout(&mut self, ap: &KeyPath, t: Option<u32>) {
        if let Some(t) = t {
            if !(1..=MAX_SESSION_TIMEOUT).contains(&t) {
                self.err(
                    ap.key("session_timeout"),
                    format!(
                        "session_timeout is {t} seconds; it must be 1 to {MAX_SESSION_TIMEOUT} \
                         (7 days)"
                    ),
                );
            }
        }
    }

    fn rules(&mut self, lp: &KeyPath, l: &Listener) {
        // (effective priority, rule index, explicit?)
        let mut priorities: Vec<(u32, usize, bool)> = Vec::new();
        for (i, rule) in l.rules.iter().enumerate() {
            let rp = lp.key("rules").index(i);
            self.forward_target(rp.key("service"), &rule.service);
            if rule.paths.is_empty() && rule.hosts.is_empty() {
                self.err(
                    rp.clone(),
                    "the rule has no condition; give at least one of `paths` (e.g. [\"/api/*\"]) \
                     or `hosts` (e.g. [\"api.example.com\"])",
                );
            }
            let total = rule.paths.len() + rule.hosts.len();
            if total > MAX_RULE_CONDITION_VALUES {
                self.err(
                    rp.clone(),
                    format!(
                        "the rule has {total} condition values (paths and hosts together); an \
                         ALB rule allows at most {MAX_RULE_CONDITION_VALUES}, so split it into \
                         several rules"
                    ),
                );
            }
            for (j, p) in rule.paths.iter().enumerate() {
                if let Some(reason) = path_pattern_problem(p) {
                    self.err(
                        rp.key("paths").index(j),
                        format!(
                            "path pattern `{p}` is invalid ({reason}); a path pattern is 1 to \
                             128 characters starting with `/`, of letters, digits and \
                             {PATH_PATTERN_PUNCT} (`*` matches any characters, `?` exactly one)"
                        ),
                    );
                }
            }
            for (j, h) in rule.hosts.iter().enumerate() {
                if let Some(reason) = host_pattern_problem(h) {
                    self.err(
                        rp.key("hosts").index(j),
                        format!(
                            "host pattern `{h}` is invalid ({reason}); a host pattern is 1 to 128 \
                             letters, digits, `-`, `.`, `*` and `?` (e.g. `*.example.com`)"
                        ),
                    );
                }
            }
            let explicit = rule.priority.is_some();
            let pp = if explicit {
                rp.key("priority")
            } else {
                rp.clone()
            };
            let priority = rule.priority.unwrap_or(10 * (i as u32 + 1));
            if !(1..=MAX_RULE_PRIORITY).contains(&priority) {
                self.err(
                    pp,
                    format!("priority is {priority}; it must be 1 to {MAX_RULE_PRIORITY}"),
                );
                continue;
            }
            let how = |explicit: bool, i: usize| {
                if explicit {
                    "set".to_string()
                } else {
                    format!("by position: 10 × {}", i + 1)
                }
            };
            if let Some(&(_, j, other_explicit)) =
                priorities.iter().find(|(p, _, _)| *p == priority)
            {
                self.err(
                    pp,
                    format!(
                        "rule priority clash: rules[{i}] and rules[{j}] both have priority \
                         {priority} (rules[{i}]: {}; rules[{j}]: {}); every rule of a listener \
                         needs its own priority",
                        how(explicit, i),
                        how(other_explicit, j)
                    ),
                );
            } else {
                priorities.push((priority, i, explicit));
            }
        }
    }

    /// A listener or rule forwards to `svc`: it must be a service with a target group.
    fn forward_target(&mut self, path: KeyPath, svc: &str) {
        let with_tg: Vec<String> = self
            .c
            .services
            .iter()
            .filter(|(_, s)| s.target_group.is_some())
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        let candidates = if with_tg.is_empty() {
            "no service has a target_group yet; add [services.<key>.target_group] with the \
             container port to expose"
                .to_string()
        } else {
            format!("services with a target_group: {}", with_tg.join(", "))
        };
        match self.c.services.get(svc) {
            None => self.err(
                path,
                format!("`{svc}` is not a key of [services]; {candidates}"),
            ),
            Some(s) if s.target_group.is_none() => self.err(
                path,
                format!(
                    "services.{svc} has no target_group, so the load balancer cannot forward to \
                     it; add [services.{svc}.target_group] with the container port to expose \
                     ({candidates})"
                ),
            ),
            Some(_) => {}
        }
    }

    /// Every target group must be the destination of some listener or rule.
    fn target_groups_used(&mut self) {
        let c = self.c;
        let Some(lb) = &c.load_balancer else {
            return;
        };
        let forwarded: Vec<&str> = lb
            .listeners
            .iter()
            .flat_map(|l| {
                l.service
                    .iter()
                    .map(String::as_str)
                    .chain(l.rules.iter().map(|r| r.service.as_str()))
            })
            .collect();
        for (key, s) in &c.services {
            if s.target_group.is_some() && !forwarded.contains(&key.as_str()) {
                self.err(
                    service_path(key).key("target_group"),
                    format!(
                        "target group of service {key} is not used by any listener: set \
                         `service = \"{key}\"` on a listener or a rule of [load_balancer], or \
                         remove target_group"
                    ),
                );
            }
        }
    }
}

/// `^[a-z]{2}(-[a-z]+)+-\d+$`: `ap-northeast-1`, `us-gov-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    parts.len() >= 3
        && parts[0].len() == 2
        && lower(&parts[0])
        && parts[1..parts.len() - 1].iter().all(lower)
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region of an AZ name (`ap-northeast-1a` → `ap-northeast-1`), if it is one.
fn az_region(az: &str) -> Option<&str> {
    let last = az.chars().last()?;
    if !last.is_ascii_lowercase() {
        return None;
    }
    let region = &az[..az.len() - 1];
    is_region(region).then_some(region)
}

/// Punctuation EC2 accepts in a security group rule description (besides letters,
/// digits and spaces).
const RULE_DESCRIPTION_PUNCT: &str = "._-:/()#,@[]+=&;{}!$*";

fn is_rule_description_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || RULE_DESCRIPTION_PUNCT.contains(c)
}

/// Letters, digits and `_`, not starting with a digit.
fn is_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The part of an EC2 id after `subnet-` / `vpc-` / `sg-`: lowercase hex digits.
fn is_hex_id(rest: &str) -> bool {
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// What is wrong with a load balancer or target group name: 1..=32 letters, digits and
/// hyphens, not starting or ending with a hyphen.
fn elb_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 32 {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        Some(format!("it contains `{ch}`"))
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("it starts or ends with a hyphen".into())
    } else {
        None
    }
}

/// Punctuation an ALB path pattern may contain (besides letters and digits).
const PATH_PATTERN_PUNCT: &str = "_-.$/~\"'@:+&*?";

fn path_pattern_problem(p: &str) -> Option<String> {
    let len = p.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 128 {
        Some(format!("it is {len} characters long"))
    } else if !p.starts_with('/') {
        Some("it does not start with `/`".into())
    } else {
        p.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || PATH_PATTERN_PUNCT.contains(*c)))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

fn host_pattern_problem(h: &str) -> Option<String> {
    let len = h.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 128 {
        Some(format!("it is {len} characters long"))
    } else {
        h.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-.*?".contains(*c)))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

/// What is wrong with a health check matcher: comma-separated codes or `lo-hi` ranges,
/// all within 200..=499.
fn matcher_problem(m: &str) -> Option<String> {
    if m.is_empty() {
        return Some("it is empty".into());
    }
    let code = |s: &str| -> Result<u16, String> {
        let ok = !s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit());
        match s.parse::<u16>() {
            Ok(n) if ok && (200..=499).contains(&n) => Ok(n),
            Ok(n) if ok => Err(format!("{n} is outside 200 to 499")),
            _ => Err(format!("`{s}` is not an HTTP status code")),
        }
    };
    for part in m.split(',') {
        let checked = match part.split_once('-') {
            Some((lo, hi)) => code(lo).and_then(|lo| {
                code(hi).and_then(|hi| {
                    if lo <= hi {
                        Ok(())
                    } else {
                        Err(format!("range `{part}` does not go from low to high"))
                    }
                })
            }),
            None => code(part).map(|_| ()),
        };
        if let Err(e) = checked {
            return Some(e);
        }
    }
    None
}

/// `arn:<partition>:<service>:<region>:<12 digits>:<resource_prefix><id>`.
fn check_regional_arn(
    arn: &str,
    what: &str,
    service: &str,
    resource_prefix: &str,
    example: &str,
) -> Result<(), String> {
    let fail = |reason: String| {
        Err(format!(
            "`{arn}` is not {what} ({reason}); expected an ARN such as `{example}`"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return fail(format!(
            "it does not have the form arn:<partition>:{service}:<region>:<account>:\
             {resource_prefix}<id>"
        ));
    }
    let partition = parts[1];
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
    {
        return fail(format!(
            "`{partition}` is not an AWS partition such as `aws`"
        ));
    }
    if parts[2] != service {
        return fail(format!("the service is `{}`, not `{service}`", parts[2]));
    }
    if !is_region(parts[3]) {
        return fail(format!("`{}` is not a region", parts[3]));
    }
    let account = parts[4];
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return fail(format!("`{account}` is not a 12-digit account id"));
    }
    match parts[5].strip_prefix(resource_prefix) {
        Some(id) if !id.is_empty() && !id.contains(char::is_whitespace) => Ok(()),
        _ => fail(format!(
            "the resource `{}` is not `{resource_prefix}<id>`",
            parts[5]
        )),
    }
}

/// Characters ECS allows in cluster, service and family names.
fn is_aws_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `None` when `value` is 1..=`max` characters all accepted by `ok`, else what is wrong.
fn charset_problem(
    what: &str,
    value: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
    allowed: &str,
) -> Option<String> {
    let len = value.chars().count();
    if len == 0 {
        Some(format!(
            "{what} is empty; it must be 1 to {max} characters of {allowed}"
        ))
    } else if len > max {
        Some(format!(
            "{what} `{value}` is {len} characters long; the limit is {max}"
        ))
    } else {
        value
            .chars()
            .find(|c| !ok(*c))
            .map(|ch| format!("{what} `{value}` contains `{ch}`; only {allowed} are allowed"))
    }
}

/// What is wrong with an ECR repository name, per
/// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`, 2..=256 characters.
fn ecr_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len < 2 {
        return Some(format!("it is {len} character(s) long, the minimum is 2"));
    }
    if len > 256 {
        return Some(format!("it is {len} characters long, the maximum is 256"));
    }
    if let Some(ch) = name.chars().find(|c| c.is_ascii_uppercase()) {
        return Some(format!("it contains the uppercase letter `{ch}`"));
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(*c)))
    {
        return Some(format!("it contains `{ch}`"));
    }
    for part in name.split('/') {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        if part.is_empty() {
            return Some("it has an empty path segment (leading, trailing or double `/`)".into());
        }
        if !part.starts_with(alnum) || !part.ends_with(alnum) {
            return Some(format!("segment `{part}` starts or ends with a separator"));
        }
        let b = part.as_bytes();
        if b.windows(2)
            .any(|w| !alnum(w[0] as char) && !alnum(w[1] as char))
        {
            return Some(format!("segment `{part}` has two separators in a row"));
        }
    }
    None
}

/// What is wrong with an image tag: 1..=128 of `[A-Za-z0-9_.-]`, not starting with `.`/`-`.
fn tag_problem(tag: &str) -> Option<String> {
    let len = tag.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 128 {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
    {
        Some(format!("it contains `{ch}`"))
    } else if tag.starts_with(['.', '-']) {
        Some("it starts with `.` or `-`".into())
    } else {
        None
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`.
fn check_role_arn(arn: &str) -> Result<(), String> {
    let rule = "expected an IAM role ARN such as `arn:aws:iam::123456789012:role/my-role`";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let fail = |reason: &str| Err(format!("`{arn}` is not an IAM role ARN ({reason}); {rule}"));
    if parts.len() != 6 || parts[0] != "arn" {
        return fail("it does not have the form arn:<partition>:iam::<account>:role/<name>");
    }
    let partition = parts[1];
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
    {
        return fail(&format!(
            "`{partition}` is not an AWS partition such as `aws`"
        ));
    }
    if parts[2] != "iam" {
        return fail(&format!("the service is `{}`, not `iam`", parts[2]));
    }
    if !parts[3].is_empty() {
        return fail("IAM ARNs have no region");
    }
    let account = parts[4];
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return fail(&format!("`{account}` is not a 12-digit account id"));
    }
    let Some(rest) = parts[5].strip_prefix("role/") else {
        return fail("the resource does not start with `role/`");
    };
    let name = rest.rsplit('/').next().unwrap_or(rest);
    let len = name.chars().count();
    if len == 0 || len > 64 {
        return fail(&format!(
            "the role name is {len} characters long, it must be 1 to 64"
        ));
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return fail(&format!(
            "the role name contains `{ch}`; allowed are letters, digits and `+=,.@_-`"
        ));
    }
    Ok(())
}

/// `*` or `service:Action` (one `:` with something on both sides).
fn is_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    match a.split_once(':') {
        Some((svc, act)) => {
            !svc.is_empty()
                && !act.is_empty()
                && !act.contains(':')
                && !a.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// The cycles of a graph given as node → the nodes it depends on (unknown nodes and
/// self-edges are ignored: they are reported on their own). Each cycle is reported once,
/// starting and ending at its alphabetically first node: `[b, a, b]`.
fn cycles<'k>(graph: BTreeMap<&'k str, Vec<&'k str>>) -> Vec<Vec<&'k str>> {
    let mut remaining = graph;
    let mut out = Vec::new();
    loop {
        let dag = Dag::new(remaining.iter().map(|(k, d)| (*k, d.clone())));
        let Err(mut cycle) = dag.levels() else {
            break;
        };
        if cycle.len() < 2 || cycle.first() != cycle.last() {
            break; // not a cycle; cannot happen
        }
        cycle.pop();
        let first = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
        cycle.rotate_left(first);
        for k in &cycle {
            remaining.remove(k);
        }
        cycle.push(cycle[0]);
        out.push(cycle);
    }
    out
}

/// The message for a port that is not one of the service's `ports`.
fn not_a_service_port(port: u16, ports: &[u16]) -> String {
    if ports.is_empty() {
        format!(
            "port {port} is not one of the service's ports: the service declares no `ports`; \
             add {port} to ports"
        )
    } else {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        format!(
            "port {port} is not one of the service's ports ({})",
            list.join(", ")
        )
    }
}

/// What is wrong with a Cloud Map namespace name: 1..=1024 letters, digits, hyphens and
/// dots, no leading or trailing dot or hyphen, no empty label.
fn namespace_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > MAX_NAMESPACE_LEN {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        Some(format!("it contains `{ch}`"))
    } else if name.starts_with(['.', '-']) || name.ends_with(['.', '-']) {
        Some("it starts or ends with a dot or a hyphen".into())
    } else if name.contains("..") {
        Some("it contains `..`".into())
    } else {
        None
    }
}

/// What is wrong with a port mapping or discovery name: 1..=64 lowercase letters, digits
/// and hyphens, not starting with a hyphen.
fn connect_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > MAX_CONNECT_NAME_LEN {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(format!("it contains `{ch}`"))
    } else if name.starts_with('-') {
        Some("it starts with a hyphen".into())
    } else {
        None
    }
}

/// What is wrong with a client alias DNS name: 1..=127 lowercase letters, digits, hyphens
/// and dots, not starting with a hyphen or a dot, not ending with a dot.
fn dns_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > MAX_DNS_NAME_LEN {
        Some(format!("it is {len} characters long"))
    } else if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        Some(format!("it contains `{ch}`"))
    } else if name.starts_with(['-', '.']) || name.ends_with('.') {
        Some("it starts with a hyphen or a dot, or ends with a dot".into())
    } else if name.contains("..") {
        Some("it contains `..`".into())
    } else {
        None
    }
}

/// Environment variable names that probably hold a secret.
fn looks_secret(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.contains("PASSWORD") || up.contains("SECRET") || up.contains("TOKEN") || up.ends_with("KEY")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{load_str, Diagnostic};

    /// Two lines: `app` on line 1, `region` on line 2.
    const BASE: &str = "app = \"demo\"\nregion = \"ap-northeast-1\"\n";

    fn diags(text: &str) -> Vec<Diagnostic> {
        match load_str(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics,
        }
    }

    /// Asserts `text` has exactly one problem, at `key`, whose message contains `msg`.
    #[track_caller]
    fn one(text: &str, key: &str, msg: &str) -> Diagnostic {
        let d = diags(text);
        assert_eq!(d.len(), 1, "expected exactly one problem, got {d:#?}");
        assert_eq!(d[0].key, key, "{d:#?}");
        assert!(
            d[0].message.contains(msg),
            "message {:?} does not contain {msg:?}",
            d[0].message
        );
        d[0].clone()
    }

    /// Asserts some problem of `text` is at `key` with `msg` in its message.
    #[track_caller]
    fn has(text: &str, key: &str, msg: &str) -> Diagnostic {
        let d = diags(text);
        d.iter()
            .find(|x| x.key == key && x.message.contains(msg))
            .cloned()
            .unwrap_or_else(|| panic!("no problem at {key} containing {msg:?} in {d:#?}"))
    }

    /// BASE plus `[services.web]` on line 3, `image` on line 4 and `body` from line 5.
    fn svc(body: &str) -> String {
        format!("{BASE}[services.web]\nimage = \"nginx:1.27\"\n{body}")
    }

    fn warns(text: &str) -> Vec<Diagnostic> {
        match load_str(text, Path::new("t.toml")) {
            Ok(l) => l.warnings,
            Err(e) => panic!("unexpected errors: {e}"),
        }
    }

    const FULL: &str = r#"
app = "shop"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.20.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.20.0.0/24", "10.20.1.0/24"]

[repositories.web]
scan_on_push = true
tag_mutability = "IMMUTABLE"

[repositories.worker]
name = "shop/worker-image"

[cluster]
name = "shop-main"
container_insights = "enabled"

[iam]
execution_role = "arn:aws:iam::123456789012:role/service-role/ecsTaskExecutionRole"

[logs]
group = "/ecs/shop#prod"
retention_days = 14

[services.web]
name = "shop-frontend"
image = { repository = "web", tag = "v1.2.3" }
cpu = 512
memory = 2048
cpu_architecture = "ARM64"
ports = [8080, 9090]
environment = { RUST_LOG = "info", _PORT = "8080" }
command = ["./web", "--port", "8080"]
desired_count = 3
subnets = "public"
assign_public_ip = true

[[services.web.ingress]]
port = 8080
cidrs = ["0.0.0.0/0"]
description = "public http"

[[services.web.task_policy]]
effect = "Allow"
actions = ["s3:GetObject", "sqs:*"]
resources = ["arn:aws:s3:::shop-assets/*", "*"]

[services.worker]
image = { repository = "worker" }
cpu = 16384
memory = 122880
task_role = "arn:aws-us-gov:iam::123456789012:role/worker"

[services.proxy]
image = "public.ecr.aws/nginx/nginx:1.27@sha256:abc"
"#;

    #[test]
    fn full_valid_config_has_no_problems() {
        let loaded = load_str(FULL, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
        assert!(validate(&loaded.config).is_empty());
    }

    #[test]
    fn example_in_docs_is_valid() {
        let doc = include_str!("../../docs/configuration.md");
        let start = doc.rfind("```toml\n").expect("a toml example") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("closed block");
        let loaded = load_str(&doc[start..end], Path::new("configuration.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
        assert_eq!(loaded.config.services.len(), 2);
    }

    #[test]
    fn minimal_config_without_services_is_valid() {
        assert!(diags("app = \"a\"\n").is_empty());
        assert!(diags("app = \"x1-y2\"\n[network]\naz_count = 8\n").is_empty());
    }

    #[test]
    fn app_with_uppercase_or_underscore() {
        let d = one("app = \"My_App\"\n", "app", "it contains `M`");
        assert_eq!((d.line, d.col), (1, 1));
        assert!(
            d.message.contains("1 to 20 lowercase letters"),
            "{}",
            d.message
        );
        one("app = \"my_app\"\n", "app", "it contains `_`");
    }

    #[test]
    fn app_too_long() {
        one(
            "app = \"abcdefghijklmnopqrstu\"\n",
            "app",
            "it is 21 characters long",
        );
    }

    #[test]
    fn app_shape() {
        one(
            "app = \"1app\"\n",
            "app",
            "does not start with a lowercase letter",
        );
        one("app = \"app-\"\n", "app", "ends with a hyphen");
        one("app = \"my--app\"\n", "app", "contains `--`");
        one("app = \"\"\n", "app", "it is empty");
    }

    #[test]
    fn invalid_app_does_not_cascade_into_derived_names() {
        // Repositories, services, cluster and log group all derive from app: one error only.
        let text = "app = \"Bad_App\"\n[repositories.web]\n[services.web]\nimage = { repository = \"web\" }\n";
        one(text, "app", "not a valid app name");
    }

    #[test]
    fn region_shape() {
        let d = one(
            "app = \"demo\"\nregion = \"tokyo\"\n",
            "region",
            "does not look like an AWS region",
        );
        assert_eq!((d.line, d.col), (2, 1));
        one(
            "app = \"demo\"\nregion = \"ap-northeast\"\n",
            "region",
            "`ap-northeast`",
        );
        assert!(diags("app = \"demo\"\nregion = \"us-gov-west-1\"\n").is_empty());
    }

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
    fn repository_key_charset() {
        one(
            &format!("{BASE}[repositories.Web]\n"),
            "repositories.Web",
            "may only contain lowercase letters, digits, `_` and `-`",
        );
    }

    #[test]
    fn repository_name_ecr_rules() {
        let d = one(
            &format!("{BASE}[repositories.web]\nname = \"Shop/Web\"\n"),
            "repositories.web.name",
            "uppercase letter `S`",
        );
        assert_eq!((d.line, d.col), (4, 1));
        one(
            &format!("{BASE}[repositories.web]\nname = \"shop//web\"\n"),
            "repositories.web.name",
            "empty path segment",
        );
        one(
            &format!("{BASE}[repositories.web]\nname = \"shop/web-\"\n"),
            "repositories.web.name",
            "starts or ends with a separator",
        );
        one(
            &format!("{BASE}[repositories.web]\nname = \"shop/we._b\"\n"),
            "repositories.web.name",
            "two separators in a row",
        );
        one(
            &format!("{BASE}[repositories.web]\nname = \"a\"\n"),
            "repositories.web.name",
            "the minimum is 2",
        );
        // Derived names are checked too: `demo-web_` ends with a separator.
        one(
            &format!("{BASE}[repositories.web_]\n"),
            "repositories.web_",
            "(the derived name `<app>-<key>`)",
        );
    }

    #[test]
    fn repository_duplicate_names() {
        one(
            &format!("{BASE}[repositories.api]\n[repositories.web]\nname = \"demo-api\"\n"),
            "repositories.web.name",
            "`demo-api` is also the name of repositories.api",
        );
    }

    #[test]
    fn cluster_name_rules() {
        one(
            &format!("{BASE}[cluster]\nname = \"my cluster\"\n"),
            "cluster.name",
            "contains ` `",
        );
        one(
            &format!("{BASE}[cluster]\nname = \"\"\n"),
            "cluster.name",
            "cluster name is empty",
        );
    }

    #[test]
    fn log_group_name_rules() {
        one(
            &format!("{BASE}[logs]\ngroup = \"/ecs/demo:prod\"\n"),
            "logs.group",
            "contains `:`",
        );
        one(
            &format!("{BASE}[logs]\ngroup = \"{}\"\n", "a".repeat(513)),
            "logs.group",
            "513 characters long; the limit is 512",
        );
    }

    #[test]
    fn retention_days_lists_allowed_values() {
        let d = one(
            &format!("{BASE}[logs]\nretention_days = 10\n"),
            "logs.retention_days",
            "10 is not a retention period",
        );
        assert!(d.message.contains("1, 3, 5, 7, 14, 30"), "{}", d.message);
        assert!(d.message.ends_with("3288, 3653"), "{}", d.message);
    }

    #[test]
    fn execution_role_arn() {
        one(
            &format!("{BASE}[iam]\nexecution_role = \"ecsTaskExecutionRole\"\n"),
            "iam.execution_role",
            "is not an IAM role ARN",
        );
        one(
            &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::1234:role/x\"\n"),
            "iam.execution_role",
            "`1234` is not a 12-digit account id",
        );
        one(
            &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:user/x\"\n"),
            "iam.execution_role",
            "does not start with `role/`",
        );
        one(
            &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/a b\"\n"),
            "iam.execution_role",
            "role name contains ` `",
        );
        one(
            &format!(
                "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/{}\"\n",
                "r".repeat(65)
            ),
            "iam.execution_role",
            "65 characters long, it must be 1 to 64",
        );
    }

    #[test]
    fn service_key_rules() {
        one(
            &format!("{BASE}[services.Web]\nimage = \"nginx\"\n"),
            "services.Web",
            "service key `Web` is invalid (it contains `W`)",
        );
        one(
            &format!("{BASE}[services.1web]\nimage = \"nginx\"\n"),
            "services.1web",
            "does not start with a lowercase letter",
        );
        let long = "s".repeat(33);
        one(
            &format!("{BASE}[services.{long}]\nimage = \"nginx\"\n"),
            &format!("services.{long}"),
            "it is 33 characters long",
        );
    }

    #[test]
    fn service_name_rules() {
        let d = one(
            &svc("name = \"web.app\"\n"),
            "services.web.name",
            "contains `.`",
        );
        assert_eq!((d.line, d.col), (5, 1));
        one(
            &svc(&format!("name = \"{}\"\n", "n".repeat(256))),
            "services.web.name",
            "256 characters long; the limit is 255",
        );
    }

    #[test]
    fn duplicate_service_names() {
        let text = format!(
            "{BASE}[services.api]\nimage = \"nginx\"\n[services.web]\nimage = \"nginx\"\nname = \"demo-api\"\n"
        );
        let d = one(
            &text,
            "services.web.name",
            "`demo-api` is also the name of services.api",
        );
        assert_eq!((d.line, d.col), (7, 1));
    }

    #[test]
    fn image_reference_rules() {
        let empty = format!("{BASE}[services.web]\nimage = \"\"\n");
        one(&empty, "services.web.image", "image is empty");
        let space = format!("{BASE}[services.web]\nimage = \"nginx latest\"\n");
        let d = one(&space, "services.web.image", "contains whitespace");
        assert_eq!((d.line, d.col), (4, 1));
        let long = format!("{BASE}[services.web]\nimage = \"{}\"\n", "a".repeat(1025));
        one(
            &long,
            "services.web.image",
            "1025 characters long; the limit is 1024",
        );
    }

    #[test]
    fn image_repository_must_be_declared() {
        let text = format!(
            "{BASE}[repositories.api]\n[repositories.worker]\n\
             [services.web]\nimage = {{ repository = \"wbe\", tag = \"v1\" }}\n"
        );
        let d = one(
            &text,
            "services.web.image.repository",
            "`wbe` is not a key of [repositories]; declared repositories: `api`, `worker`",
        );
        assert_eq!(d.line, 6);
        let none = format!("{BASE}[services.web]\nimage = {{ repository = \"web\" }}\n");
        one(
            &none,
            "services.web.image.repository",
            "no repositories are declared; add a [repositories.web] section",
        );
    }

    #[test]
    fn image_tag_rules() {
        let tag = |t: &str| {
            format!(
                "{BASE}[repositories.web]\n[services.web]\nimage = {{ repository = \"web\", tag = \"{t}\" }}\n"
            )
        };
        one(
            &tag("-v1"),
            "services.web.image.tag",
            "starts with `.` or `-`",
        );
        one(&tag("v1/2"), "services.web.image.tag", "contains `/`");
        one(&tag(""), "services.web.image.tag", "it is empty");
        one(
            &tag(&"t".repeat(129)),
            "services.web.image.tag",
            "129 characters",
        );
        assert!(diags(&tag("v1.2_3-rc")).is_empty());
    }

    #[test]
    fn unknown_cpu_lists_valid_cpus() {
        let d = one(
            &svc("cpu = 300\nmemory = 1024\n"),
            "services.web.cpu",
            "cpu 300 is not a Fargate task size; use one of: 256, 512, 1024, 2048, 4096, 8192, 16384",
        );
        assert_eq!((d.line, d.col), (5, 1));
    }

    #[test]
    fn memory_invalid_for_cpu_lists_valid_memory() {
        let d = one(
            &svc("cpu = 1024\nmemory = 1024\n"),
            "services.web.memory",
            "memory 1024 MiB is not valid with cpu 1024 on Fargate; with cpu 1024 memory must be 2048 to 8192 in steps of 1024",
        );
        assert_eq!((d.line, d.col), (6, 1));
        one(
            &svc("cpu = 256\nmemory = 4096\n"),
            "services.web.memory",
            "512, 1024 or 2048",
        );
        one(
            &svc("cpu = 8192\nmemory = 17408\n"),
            "services.web.memory",
            "16384 to 61440 in steps of 4096",
        );
    }

    #[test]
    fn ingress_same_port_and_cidr_twice_is_an_error() {
        one(
            &svc("ports = [80]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"] }, { port = 80, cidrs = [\"0.0.0.0/0\"], description = \"x\" }]\n"),
            "services.web.ingress[1].cidrs[0]",
            "already opened by ingress[0]",
        );
    }

    #[test]
    fn ingress_empty_description_is_an_error() {
        one(
            &svc("ports = [80]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"], description = \"\" }]\n"),
            "services.web.ingress[0].description",
            "omit the key",
        );
    }

    #[test]
    fn default_memory_is_valid_for_every_cpu() {
        for cpu in [256, 512, 1024, 2048, 4096, 8192, 16384] {
            let text = format!("app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = {cpu}\n");
            let loaded = crate::config::load_str(&text, std::path::Path::new("t.toml"));
            assert!(loaded.is_ok(), "cpu {cpu}: {:?}", loaded.err());
        }
    }

    #[test]
    fn fargate_table() {
        let count = |cpu| fargate_memory(cpu).unwrap().0.len();
        assert_eq!(count(256), 3);
        assert_eq!(count(512), 4);
        assert_eq!(count(1024), 7);
        assert_eq!(count(2048), 13);
        assert_eq!(count(4096), 23);
        assert_eq!(count(8192), 12);
        assert_eq!(count(16384), 12);
        assert!(fargate_memory(128).is_none());
    }

    #[test]
    fn port_zero() {
        one(
            &svc("ports = [80, 0]\n"),
            "services.web.ports[1]",
            "port 0 is not a valid port",
        );
    }

    #[test]
    fn duplicate_port_points_at_duplicate() {
        let d = one(
            &svc("ports = [80, 443, 80]\n"),
            "services.web.ports[2]",
            "port 80 is listed twice (also ports[0])",
        );
        assert_eq!((d.line, d.col), (5, 19));
    }

    #[test]
    fn environment_names() {
        let d = one(
            &svc("environment = { \"1ST\" = \"x\", OK = \"y\" }\n"),
            "services.web.environment.1ST",
            "`1ST` is not a valid environment variable name",
        );
        assert_eq!((d.line, d.col), (5, 17));
        one(
            &svc("environment = { \"MY-VAR\" = \"x\" }\n"),
            "services.web.environment.MY-VAR",
            "not a valid environment variable name",
        );
        let long = "V".repeat(256);
        one(
            &svc(&format!("environment = {{ {long} = \"x\" }}\n")),
            &format!("services.web.environment.{long}"),
            "256 characters long; the limit is 255",
        );
    }

    #[test]
    fn empty_command() {
        one(
            &svc("command = []\n"),
            "services.web.command",
            "command is an empty list",
        );
    }

    #[test]
    fn desired_count_limit() {
        one(
            &svc("desired_count = 1001\n"),
            "services.web.desired_count",
            "desired_count is 1001; the limit is 1000",
        );
        assert!(diags(&svc("desired_count = 0\n")).is_empty());
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
    const EXISTING: &str = "[network.existing]\nvpc = \"vpc-0abc\"\n\
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
            &format!(
                "{BASE}[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\", \"b\", \"a\"]\n"
            ),
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

    /// A valid ALB setup: `web` (port 8080) behind `listeners`. `[services.web]` is on line 3,
    /// `svc_extra` starts on line 6.
    fn alb(svc_extra: &str, tg_extra: &str, lb_extra: &str, listeners: &str) -> String {
        format!(
            "{BASE}[services.web]\nimage = \"nginx:1.27\"\nports = [8080]\n{svc_extra}\
             [services.web.target_group]\nport = 8080\n{tg_extra}\
             [load_balancer]\n{lb_extra}{listeners}"
        )
    }

    /// `[[load_balancer.listeners]]` with `port`, `protocol` and `rest`.
    fn listener(port: u16, protocol: &str, rest: &str) -> String {
        format!("[[load_balancer.listeners]]\nport = {port}\nprotocol = \"{protocol}\"\n{rest}")
    }

    const CERT: &str = "arn:aws:acm:ap-northeast-1:123456789012:certificate/abc-123";
    const USER_POOL: &str =
        "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_Ab";

    fn http_web() -> String {
        listener(80, "HTTP", "service = \"web\"\n")
    }

    fn https_web(rest: &str) -> String {
        listener(
            443,
            "HTTPS",
            &format!("certificates = [\"{CERT}\"]\nservice = \"web\"\n{rest}"),
        )
    }

    #[test]
    fn load_balancer_baseline_is_valid() {
        let text = alb("", "", "", &http_web());
        assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
        assert!(warns(&text).is_empty());
        let full = alb(
            "subnets = \"private\"\n",
            "deregistration_delay = 0\n[services.web.target_group.health_check]\npath = \"/health\"\n\
             port = \"8081\"\ninterval = 300\ntimeout = 120\nmatcher = \"200-299,302\"\n",
            "scheme = \"internal\"\nidle_timeout = 4000\ningress_cidrs = [\"10.0.0.0/8\"]\n\
             attributes = { \"routing.http2.enabled\" = \"false\" }\n",
            &format!(
                "{}{}\n[[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/api/*\"]\n\
                 hosts = [\"*.example.com\"]\npriority = 50000\n",
                listener(80, "HTTP", "redirect_https_port = 443\n"),
                https_web(&format!(
                    "ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"\n\
                     cognito = {{ user_pool_arn = \"{USER_POOL}\", client_id = \"c\", domain = \"d\", \
                     session_timeout = 604800 }}"
                ))
            ),
        );
        assert!(diags(&full).is_empty(), "{:#?}", diags(&full));
    }

    #[test]
    fn load_balancer_name_rules() {
        let named = |n: &str| alb("", "", &format!("name = \"{n}\"\n"), &http_web());
        let d = one(
            &named("my_alb"),
            "load_balancer.name",
            "`my_alb` is not a valid load balancer name (it contains `_`)",
        );
        assert_eq!(d.line, 9);
        one(
            &named("internal-web"),
            "load_balancer.name",
            "it starts with `internal-`",
        );
        one(
            &named("-web"),
            "load_balancer.name",
            "starts or ends with a hyphen",
        );
        one(
            &named(&"a".repeat(33)),
            "load_balancer.name",
            "it is 33 characters long",
        );
        one(&named(""), "load_balancer.name", "it is empty");
        // The default name is the app name.
        one(
            &alb("", "", "", &http_web()).replace("app = \"demo\"", "app = \"internal-tools\""),
            "load_balancer",
            "`internal-tools` is not a valid load balancer name (the default, the app name",
        );
    }

    #[test]
    fn internet_facing_load_balancer_needs_public_subnets() {
        one(
            &alb("", "", "subnets = \"private\"\n", &http_web()),
            "load_balancer.subnets",
            "an internet-facing load balancer needs public subnets",
        );
        // internal in public subnets is allowed.
        assert!(diags(&alb(
            "",
            "",
            "scheme = \"internal\"\nsubnets = \"public\"\n",
            &http_web()
        ))
        .is_empty());
    }

    #[test]
    fn load_balancer_needs_two_zones() {
        let text = alb("", "", "", &http_web()).replace(
            "[services.web]",
            "[network]\nazs = [\"ap-northeast-1a\"]\npublic_subnets = [\"10.0.0.0/24\"]\n[services.web]",
        );
        one(
            &text,
            "network.azs",
            "`azs` lists 1 zone(s), but an Application Load Balancer needs subnets in at least \
             two availability zones",
        );
        let text = alb("", "", "", &http_web())
            .replace("[services.web]", "[network]\naz_count = 1\n[services.web]");
        one(&text, "network.az_count", "`az_count` is 1, but");
        let existing = alb("", "", "", &http_web()).replace(
            "[services.web]",
            "[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\"]\n[services.web]",
        );
        one(
            &existing,
            "load_balancer",
            "the load balancer would use 1 subnet (network.existing.public_subnets)",
        );
        let no_private = alb("", "", "scheme = \"internal\"\n", &http_web()).replace(
            "[services.web]",
            "[network.existing]\nvpc = \"v\"\npublic_subnets = [\"a\", \"b\"]\n[services.web]",
        );
        one(
            &no_private,
            "load_balancer",
            "the load balancer runs in private subnets, but network.existing.private_subnets is empty",
        );
    }

    #[test]
    fn load_balancer_settings() {
        one(
            &alb("", "", "idle_timeout = 0\n", &http_web()),
            "load_balancer.idle_timeout",
            "idle_timeout is 0 seconds; it must be 1 to 4000",
        );
        one(
            &alb("", "", "idle_timeout = 4001\n", &http_web()),
            "load_balancer.idle_timeout",
            "idle_timeout is 4001",
        );
        one(
            &alb("", "", "ingress_cidrs = []\n", &http_web()),
            "load_balancer.ingress_cidrs",
            "ingress_cidrs is empty",
        );
        one(
            &alb(
                "",
                "",
                "ingress_cidrs = [\"10.0.0.0/8\", \"10.1.0.1/16\"]\n",
                &http_web(),
            ),
            "load_balancer.ingress_cidrs[1]",
            "host bits set",
        );
        one(
            &alb(
                "",
                "",
                "ingress_cidrs = [\"10.0.0.0/8\", \"10.0.0.0/8\"]\n",
                &http_web(),
            ),
            "load_balancer.ingress_cidrs[1]",
            "listed twice (also ingress_cidrs[0])",
        );
        one(
            &alb("", "", "security_groups = [\"sg-0a\", \"\"]\n", &http_web()),
            "load_balancer.security_groups[1]",
            "security group is empty",
        );
        one(
            &alb(
                "",
                "",
                "security_groups = [\"sg-0a\", \"sg-0a\"]\n",
                &http_web(),
            ),
            "load_balancer.security_groups[1]",
            "`sg-0a` is listed twice",
        );
        one(
            &alb(
                "",
                "",
                "security_groups = [\"alb-sg\"]\ningress_cidrs = [\"10.0.0.0/8\"]\n",
                &http_web(),
            ),
            "load_balancer.ingress_cidrs",
            "ingress_cidrs has no effect with security_groups",
        );
    }

    #[test]
    fn load_balancer_attributes() {
        one(
            &alb(
                "",
                "",
                "attributes = { \"idle_timeout.timeout_seconds\" = \"30\" }\n",
                &http_web(),
            ),
            "load_balancer.attributes.idle_timeout.timeout_seconds",
            "has its own key: set load_balancer.idle_timeout",
        );
        one(
            &alb(
                "",
                "",
                "attributes = { \"deletion_protection.enabled\" = \"true\" }\n",
                &http_web(),
            ),
            "load_balancer.attributes.deletion_protection.enabled",
            "set load_balancer.deletion_protection",
        );
        one(
            &alb("", "", "attributes = { \"\" = \"x\" }\n", &http_web()),
            "load_balancer.attributes.",
            "attribute key is empty",
        );
    }

    #[test]
    fn load_balancer_needs_a_listener() {
        let text = alb("", "", "idle_timeout = 60\n", "");
        let d = diags(&text);
        assert_eq!(d.len(), 2, "{d:#?}");
        has(&text, "load_balancer", "the load balancer has no listeners");
        has(
            &text,
            "services.web.target_group",
            "not used by any listener",
        );
    }

    #[test]
    fn listener_ports() {
        let d = one(
            &alb(
                "",
                "",
                "",
                &format!(
                    "{}{}",
                    http_web(),
                    listener(80, "HTTP", "redirect_https_port = 443\n")
                ),
            ),
            "load_balancer.listeners[1].port",
            "port 80 is already the port of listeners[0]",
        );
        assert_eq!(d.line, 14);
        one(
            &alb("", "", "", &listener(0, "HTTP", "service = \"web\"\n")),
            "load_balancer.listeners[0].port",
            "port 0 is not a valid port",
        );
    }

    #[test]
    fn https_listener_certificates() {
        one(
            &alb("", "", "", &listener(443, "HTTPS", "service = \"web\"\n")),
            "load_balancer.listeners[0].certificates",
            "an HTTPS listener needs at least one ACM certificate",
        );
        let cert = |c: &str| {
            alb(
                "",
                "",
                "",
                &listener(
                    443,
                    "HTTPS",
                    &format!("certificates = [\"{c}\"]\nservice = \"web\"\n"),
                ),
            )
        };
        one(
            &cert("arn:aws:acm:ap-northeast-1:123456789012:cert/x"),
            "load_balancer.listeners[0].certificates[0]",
            "is not an ACM certificate ARN (the resource `cert/x` is not `certificate/<id>`)",
        );
        one(
            &cert("arn:aws:iam::123456789012:server-certificate/x"),
            "load_balancer.listeners[0].certificates[0]",
            "the service is `iam`, not `acm`",
        );
        one(
            &cert("arn:aws:acm:tokyo:123456789012:certificate/x"),
            "load_balancer.listeners[0].certificates[0]",
            "`tokyo` is not a region",
        );
        one(
            &cert("arn:aws:acm:ap-northeast-1:1234:certificate/x"),
            "load_balancer.listeners[0].certificates[0]",
            "`1234` is not a 12-digit account id",
        );
        one(
            &cert("my-cert"),
            "load_balancer.listeners[0].certificates[0]",
            "it does not have the form",
        );
    }

    #[test]
    fn http_listener_has_no_tls_settings() {
        one(
            &alb(
                "",
                "",
                "",
                &listener(
                    80,
                    "HTTP",
                    &format!("certificates = [\"{CERT}\"]\nservice = \"web\"\n"),
                ),
            ),
            "load_balancer.listeners[0].certificates",
            "an HTTP listener does not use certificates",
        );
        one(
            &alb(
                "",
                "",
                "",
                &listener(
                    80,
                    "HTTP",
                    "ssl_policy = \"ELBSecurityPolicy-2016-08\"\nservice = \"web\"\n",
                ),
            ),
            "load_balancer.listeners[0].ssl_policy",
            "an HTTP listener has no TLS policy",
        );
        one(
            &alb("", "", "", &https_web("ssl_policy = \"TLS13\"\n")),
            "load_balancer.listeners[0].ssl_policy",
            "`TLS13` is not an ELB security policy",
        );
    }

    #[test]
    fn listener_default_action() {
        one(
            &alb(
                "",
                "",
                "",
                &format!("{}{}", http_web(), listener(8080, "HTTP", "")),
            ),
            "load_balancer.listeners[1]",
            "the listener has no default action; set exactly one of `service`, \
             `redirect_https_port` or `fixed_response`",
        );
        one(
            &alb(
                "",
                "",
                "",
                &listener(
                    80,
                    "HTTP",
                    "service = \"web\"\nfixed_response = { status = 404 }\n",
                ),
            ),
            "load_balancer.listeners[0].fixed_response",
            "`service` and `fixed_response` are both set",
        );
    }

    #[test]
    fn listener_service_must_have_a_target_group() {
        let text = format!(
            "{}[services.worker]\nimage = \"busybox\"\n",
            alb(
                "",
                "",
                "",
                &format!(
                    "{}{}",
                    http_web(),
                    listener(81, "HTTP", "service = \"wbe\"\n")
                )
            )
        );
        one(
            &text,
            "load_balancer.listeners[1].service",
            "`wbe` is not a key of [services]; services with a target_group: `web`",
        );
        let text = format!(
            "{}[services.worker]\nimage = \"busybox\"\n",
            alb(
                "",
                "",
                "",
                &format!(
                    "{}{}",
                    http_web(),
                    listener(81, "HTTP", "service = \"worker\"\n")
                )
            )
        );
        one(
            &text,
            "load_balancer.listeners[1].service",
            "services.worker has no target_group, so the load balancer cannot forward to it",
        );
    }

    #[test]
    fn redirect_on_https_listener() {
        one(
            &alb(
                "",
                "",
                "",
                &format!(
                    "{}{}",
                    http_web(),
                    listener(
                        443,
                        "HTTPS",
                        &format!("certificates = [\"{CERT}\"]\nredirect_https_port = 443\n")
                    )
                ),
            ),
            "load_balancer.listeners[1].redirect_https_port",
            "redirect_https_port on an HTTPS listener would redirect HTTPS to itself",
        );
    }

    #[test]
    fn fixed_response_rules() {
        let fixed = |f: &str| {
            alb(
                "",
                "",
                "",
                &format!(
                    "{}{}",
                    http_web(),
                    listener(81, "HTTP", &format!("fixed_response = {{ {f} }}\n"))
                ),
            )
        };
        assert!(diags(&fixed(
            "status = 503, content_type = \"application/json\", body = \"{}\""
        ))
        .is_empty());
        one(
            &fixed("status = 100"),
            "load_balancer.listeners[1].fixed_response.status",
            "status 100 is not an HTTP status from 200 to 599",
        );
        one(
            &fixed("status = 200, content_type = \"text/xml\""),
            "load_balancer.listeners[1].fixed_response.content_type",
            "use one of: text/plain, text/css, text/html, application/javascript, application/json",
        );
        one(
            &fixed(&format!("status = 200, body = \"{}\"", "b".repeat(1025))),
            "load_balancer.listeners[1].fixed_response.body",
            "body is 1025 characters long; the limit is 1024",
        );
    }

    fn cognito(extra: &str) -> String {
        format!(
            "cognito = {{ user_pool_arn = \"{USER_POOL}\", client_id = \"c\", domain = \"d\"{extra} }}\n"
        )
    }

    fn oidc(extra: &str) -> String {
        format!(
            "[load_balancer.listeners.oidc]\nissuer = \"https://idp.example.com\"\n\
             authorization_endpoint = \"https://idp.example.com/auth\"\n\
             token_endpoint = \"https://idp.example.com/token\"\n\
             user_info_endpoint = \"https://idp.example.com/userinfo\"\nclient_id = \"c\"\n\
             client_secret_env = \"OIDC_SECRET\"\n{extra}"
        )
    }

    #[test]
    fn authentication_rules() {
        assert!(diags(&alb("", "", "", &https_web(&oidc("session_timeout = 1\n")))).is_empty());
        one(
            &alb(
                "",
                "",
                "",
                &https_web(&format!("{}{}", cognito(""), oidc(""))),
            ),
            "load_balancer.listeners[0].oidc",
            "cognito and oidc are mutually exclusive",
        );
        one(
            &alb("", "", "", &listener(80, "HTTP", &format!("service = \"web\"\n{}", cognito("")))),
            "load_balancer.listeners[0].cognito",
            "cognito sign-in needs an HTTPS listener: the ALB runs authenticate actions only on HTTPS",
        );
        one(
            &alb(
                "",
                "",
                "",
                &listener(80, "HTTP", &format!("service = \"web\"\n{}", oidc(""))),
            ),
            "load_balancer.listeners[0].oidc",
            "oidc sign-in needs an HTTPS listener",
        );
        one(
            &alb(
                "",
                "",
                "",
                &https_web(&cognito(", session_timeout = 604801")),
            ),
            "load_balancer.listeners[0].cognito.session_timeout",
            "session_timeout is 604801 seconds; it must be 1 to 604800",
        );
        one(
            &alb("", "", "", &https_web(&oidc("session_timeout = 0\n"))),
            "load_balancer.listeners[0].oidc.session_timeout",
            "session_timeout is 0 seconds",
        );
    }

    #[test]
    fn cognito_values() {
        let text = alb(
            "",
            "",
            "",
            &https_web(
                "cognito = { user_pool_arn = \"arn:aws:cognito-idp:ap-northeast-1:123456789012:pool/x\", \
                 client_id = \"\", domain = \" \" }\n",
            ),
        );
        let d = diags(&text);
        assert_eq!(d.len(), 3, "{d:#?}");
        has(
            &text,
            "load_balancer.listeners[0].cognito.user_pool_arn",
            "is not a Cognito user pool ARN (the resource `pool/x` is not `userpool/<id>`)",
        );
        has(
            &text,
            "load_balancer.listeners[0].cognito.client_id",
            "client_id is empty",
        );
        has(
            &text,
            "load_balancer.listeners[0].cognito.domain",
            "domain is empty",
        );
    }

    #[test]
    fn oidc_values() {
        let text = alb(
            "",
            "",
            "",
            &https_web(
                &oidc("")
                    .replace(
                        "\"https://idp.example.com/token\"",
                        "\"http://idp.example.com/token\"",
                    )
                    .replace("\"OIDC_SECRET\"", "\"OIDC-SECRET\"")
                    .replace("client_id = \"c\"", "client_id = \"\""),
            ),
        );
        let d = diags(&text);
        assert_eq!(d.len(), 3, "{d:#?}");
        has(
            &text,
            "load_balancer.listeners[0].oidc.token_endpoint",
            "token_endpoint `http://idp.example.com/token` is not an https:// URL",
        );
        has(
            &text,
            "load_balancer.listeners[0].oidc.client_id",
            "client_id is empty",
        );
        has(
            &text,
            "load_balancer.listeners[0].oidc.client_secret_env",
            "`OIDC-SECRET` is not a valid environment variable name",
        );
    }

    /// `http_web()` plus the rules in `rules` (each a `[[...rules]]` body).
    fn with_rules(rules: &[&str]) -> String {
        let mut text = alb("", "", "", &http_web());
        for r in rules {
            text.push_str("[[load_balancer.listeners.rules]]\n");
            text.push_str(r);
        }
        text
    }

    #[test]
    fn rule_service_and_conditions() {
        one(
            &format!(
                "{}[services.worker]\nimage = \"busybox\"\n",
                with_rules(&["service = \"worker\"\npaths = [\"/w\"]\n"])
            ),
            "load_balancer.listeners[0].rules[0].service",
            "services.worker has no target_group",
        );
        one(
            &with_rules(&["service = \"web\"\n"]),
            "load_balancer.listeners[0].rules[0]",
            "the rule has no condition; give at least one of `paths`",
        );
        one(
            &with_rules(&[
                "service = \"web\"\npaths = [\"/a\", \"/b\", \"/c\"]\nhosts = [\"a.example.com\", \"b.example.com\", \"c.example.com\"]\n",
            ]),
            "load_balancer.listeners[0].rules[0]",
            "the rule has 6 condition values (paths and hosts together); an ALB rule allows at most 5",
        );
    }

    #[test]
    fn rule_patterns() {
        let path =
            |p: &str| with_rules(&[&format!("service = \"web\"\npaths = [\"/ok\", \"{p}\"]\n")]);
        assert!(diags(&path("/a-b_c.$~'@:+&*?/Z9")).is_empty());
        one(
            &path("api/*"),
            "load_balancer.listeners[0].rules[0].paths[1]",
            "it does not start with `/`",
        );
        one(
            &path("/a b"),
            "load_balancer.listeners[0].rules[0].paths[1]",
            "path pattern `/a b` is invalid (it contains ` `)",
        );
        one(
            &path(""),
            "load_balancer.listeners[0].rules[0].paths[1]",
            "it is empty",
        );
        one(
            &path(&format!("/{}", "p".repeat(128))),
            "load_balancer.listeners[0].rules[0].paths[1]",
            "it is 129 characters long",
        );
        let host = |h: &str| with_rules(&[&format!("service = \"web\"\nhosts = [\"{h}\"]\n")]);
        assert!(diags(&host("*.Example-1.com?")).is_empty());
        one(
            &host("example.com/x"),
            "load_balancer.listeners[0].rules[0].hosts[0]",
            "host pattern `example.com/x` is invalid (it contains `/`)",
        );
        one(
            &host(&"h".repeat(129)),
            "load_balancer.listeners[0].rules[0].hosts[0]",
            "129 characters",
        );
    }

    #[test]
    fn rule_priorities() {
        one(
            &with_rules(&["service = \"web\"\npaths = [\"/a\"]\npriority = 0\n"]),
            "load_balancer.listeners[0].rules[0].priority",
            "priority is 0; it must be 1 to 50000",
        );
        one(
            &with_rules(&["service = \"web\"\npaths = [\"/a\"]\npriority = 50001\n"]),
            "load_balancer.listeners[0].rules[0].priority",
            "priority is 50001",
        );
        // rules[0] explicitly takes 20, which rules[1] gets by position.
        let d = one(
            &with_rules(&[
                "service = \"web\"\npaths = [\"/a\"]\npriority = 20\n",
                "service = \"web\"\npaths = [\"/b\"]\n",
            ]),
            "load_balancer.listeners[0].rules[1]",
            "rule priority clash: rules[1] and rules[0] both have priority 20 (rules[1]: by \
             position: 10 × 2; rules[0]: set)",
        );
        assert_eq!(d.line, 17);
        // Priorities that differ (40, 10 and 30 by position), in any order, are fine.
        assert!(diags(&with_rules(&[
            "service = \"web\"\npaths = [\"/a\"]\npriority = 40\n",
            "service = \"web\"\npaths = [\"/b\"]\npriority = 10\n",
            "service = \"web\"\npaths = [\"/c\"]\n",
        ]))
        .is_empty());
        // Rules of different listeners may share priorities.
        let two = format!(
            "{}[[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/a\"]\n{}\
             [[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/a\"]\n",
            alb("", "", "", &http_web()),
            https_web("")
        );
        assert!(diags(&two).is_empty(), "{:#?}", diags(&two));
    }

    #[test]
    fn target_group_must_be_used_and_needs_a_load_balancer() {
        let text = format!(
            "{}[services.api]\nimage = \"nginx\"\nports = [80]\n[services.api.target_group]\nport = 80\n",
            alb("", "", "", &http_web())
        );
        one(
            &text,
            "services.api.target_group",
            "target group of service api is not used by any listener",
        );
        let d = one(
            &svc("ports = [80]\n[services.web.target_group]\nport = 80\n"),
            "services.web.target_group",
            "a target_group needs a load balancer",
        );
        assert_eq!(d.line, 6);
    }

    #[test]
    fn target_group_port_and_name() {
        one(
            &alb("", "", "", &http_web()).replace("port = 8080\n[load", "port = 9090\n[load"),
            "services.web.target_group.port",
            "port 9090 is not one of the service's ports (8080)",
        );
        let named = |n: &str| alb("", &format!("name = \"{n}\"\n"), "", &http_web());
        one(
            &named("web_tg"),
            "services.web.target_group.name",
            "`web_tg` is not a valid target group name (it contains `_`)",
        );
        one(
            &named("web-"),
            "services.web.target_group.name",
            "starts or ends with a hyphen",
        );
        one(
            &named(&"t".repeat(33)),
            "services.web.target_group.name",
            "33 characters long",
        );
        assert!(diags(&named("bedrock-target-group")).is_empty());
        let dup = format!(
            "{}[services.api]\nimage = \"nginx\"\nports = [80]\n\
             [services.api.target_group]\nport = 80\nname = \"shared\"\n\
             [[load_balancer.listeners.rules]]\nservice = \"api\"\npaths = [\"/api/*\"]\n",
            named("shared")
        );
        one(
            &dup,
            "services.web.target_group.name",
            "target group name `shared` is also the target group name of services.api",
        );
    }

    #[test]
    fn target_group_timings() {
        one(
            &alb("", "deregistration_delay = 3601\n", "", &http_web()),
            "services.web.target_group.deregistration_delay",
            "deregistration_delay is 3601 seconds; it must be 0 to 3600",
        );
        one(
            &alb(
                "",
                "health_check_grace_period = 2147483648\n",
                "",
                &http_web(),
            ),
            "services.web.target_group.health_check_grace_period",
            "it must be 0 to 2147483647",
        );
    }

    fn hc(body: &str) -> String {
        alb(
            "",
            &format!("[services.web.target_group.health_check]\n{body}"),
            "",
            &http_web(),
        )
    }

    #[test]
    fn health_check_rules() {
        let p = "services.web.target_group.health_check";
        one(
            &hc("path = \"health\"\n"),
            &format!("{p}.path"),
            "health check path `health` does not start with `/`",
        );
        one(
            &hc(&format!("path = \"/{}\"\n", "h".repeat(1024))),
            &format!("{p}.path"),
            "1025 characters long; the limit is 1024",
        );
        for port in ["0", "65536", "http", "080"] {
            one(
                &hc(&format!("port = \"{port}\"\n")),
                &format!("{p}.port"),
                "neither `traffic-port`",
            );
        }
        one(
            &hc("interval = 4\ntimeout = 2\n"),
            &format!("{p}.interval"),
            "interval is 4; it must be 5 to 300",
        );
        one(
            &hc("interval = 301\n"),
            &format!("{p}.interval"),
            "interval is 301",
        );
        one(
            &hc("timeout = 1\n"),
            &format!("{p}.timeout"),
            "timeout is 1; it must be 2 to 120",
        );
        one(
            &hc("interval = 10\ntimeout = 10\n"),
            &format!("{p}.timeout"),
            "timeout (10 s) must be less than interval (10 s)",
        );
        one(
            &hc("healthy_threshold = 1\n"),
            &format!("{p}.healthy_threshold"),
            "healthy_threshold is 1; it must be 2 to 10",
        );
        one(
            &hc("unhealthy_threshold = 11\n"),
            &format!("{p}.unhealthy_threshold"),
            "unhealthy_threshold is 11",
        );
    }

    #[test]
    fn health_check_matcher() {
        let m = |v: &str| hc(&format!("matcher = \"{v}\"\n"));
        let p = "services.web.target_group.health_check.matcher";
        for ok in ["200", "200,302", "200-299", "200-299,404", "499"] {
            assert!(diags(&m(ok)).is_empty(), "{ok}");
        }
        one(
            &m("500"),
            p,
            "matcher `500` is invalid (500 is outside 200 to 499)",
        );
        one(&m("200, 302"), p, "` 302` is not an HTTP status code");
        one(
            &m("299-200"),
            p,
            "range `299-200` does not go from low to high",
        );
        one(&m("2xx"), p, "`2xx` is not an HTTP status code");
        one(&m(""), p, "it is empty");
        one(&m("200,"), p, "`` is not an HTTP status code");
    }

    #[test]
    fn imported_service_security_groups() {
        one(
            &svc("security_groups = [\"sg-0a\", \"\"]\n"),
            "services.web.security_groups[1]",
            "security group is empty",
        );
        let d = one(
            &svc("ports = [80]\nsecurity_groups = [\"web-sg\"]\ningress = [{ port = 80, cidrs = [\"0.0.0.0/0\"] }]\n"),
            "services.web.ingress",
            "ingress rules cannot be added to imported security groups",
        );
        assert_eq!(d.line, 7);
        assert!(diags(&svc("security_groups = [\"web-sg\", \"sg-0123abcd\"]\n")).is_empty());
    }

    #[test]
    fn service_key_must_not_clash_with_generated_groups() {
        let text = alb("", "", "", &http_web())
            .replace("services.web", "services.alb")
            .replace("\"web\"", "\"alb\"");
        one(
            &text,
            "services.alb",
            "service key `alb` gives the service a security group named `demo-alb`, the name of \
             the load balancer's security group",
        );
        one(
            &format!("{BASE}[network]\nendpoints = [\"logs\"]\n[services.endpoints]\nimage = \"nginx\"\n"),
            "services.endpoints",
            "the name of the security group of the interface endpoints",
        );
        // Gateway endpoints have no security group.
        assert!(diags(&format!(
            "{BASE}[network]\nendpoints = [\"s3\"]\n[services.endpoints]\nimage = \"nginx\"\n"
        ))
        .is_empty());
    }

    #[test]
    fn examples_load_without_problems() {
        for name in [
            "dynamodb-webapp.toml",
            "alb-https-cognito.toml",
            "fargate-public.toml",
            "service-connect.toml",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/examples")
                .join(name);
            let loaded = crate::config::load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(loaded.warnings.is_empty(), "{name}: {:#?}", loaded.warnings);
        }
    }

    #[test]
    fn dynamodb_webapp_example_matches_the_reference() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/dynamodb-webapp.toml");
        let c = crate::config::load_file(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        assert_eq!(c.load_balancer_name(), "dynamodb-webapp-ALB");
        assert_eq!(c.cluster_name(), "dynamodb-webapp-cluster");
        assert_eq!(c.log_group_name(), "dynamodb-webapp-LogGroup");
        assert_eq!(c.service_name("bottle"), "dynamodb-webapp-service");
        let s = &c.services["bottle"];
        assert_eq!(s.subnets, SubnetKind::Private);
        let hc = &s.target_group.as_ref().unwrap().health_check;
        assert_eq!(
            (
                hc.interval,
                hc.timeout,
                hc.healthy_threshold,
                hc.unhealthy_threshold
            ),
            (30, 5, 5, 2)
        );
    }

    #[test]
    fn alb_https_cognito_example_matches_the_reference() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/alb-https-cognito.toml");
        let c = crate::config::load_file(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        assert_eq!(c.load_balancer_name(), "bedrock-alb");
        assert_eq!(c.cluster_name(), "ecs-cls");
        assert_eq!(
            c.target_group_name("bedrock").as_deref(),
            Some("bedrock-target-group")
        );
        assert_eq!(c.task_role_name("bedrock"), "bsc-bedrock-task");
        let l = &c.load_balancer.as_ref().unwrap().listeners[0];
        assert_eq!((l.port, l.protocol), (443, Protocol::HTTPS));
        assert!(l.cognito.is_some());
        assert!(c.network.existing.is_some());
    }

    /// `svc(body)` plus a `[service_connect]` section with namespace `local`.
    fn sc(body: &str) -> String {
        format!("{}[service_connect]\nnamespace = \"local\"\n", svc(body))
    }

    /// BASE plus one `[services.<key>]` per (key, body), each with an image.
    fn services(list: &[(&str, &str)]) -> String {
        let mut text = BASE.to_string();
        for (key, body) in list {
            text.push_str(&format!("[services.{key}]\nimage = \"nginx\"\n{body}"));
        }
        text
    }

    #[test]
    fn depends_on_must_name_another_service() {
        let text =
            |deps: &str| services(&[("api", ""), ("web", &format!("depends_on = [{deps}]\n"))]);
        assert!(diags(&text("\"api\"")).is_empty());
        one(
            &text("\"api\", \"nope\""),
            "services.web.depends_on[1]",
            "unknown dependency `nope`: it is not a key of [services]; services: `api`, `web`",
        );
    }

    #[test]
    fn depends_on_itself() {
        one(
            &svc("depends_on = [\"web\"]\n"),
            "services.web.depends_on[0]",
            "services.web depends on itself",
        );
    }

    #[test]
    fn depends_on_duplicate() {
        one(
            &services(&[("api", ""), ("web", "depends_on = [\"api\", \"api\"]\n")]),
            "services.web.depends_on[1]",
            "`api` is listed twice (also depends_on[0])",
        );
    }

    #[test]
    fn dependency_cycle_is_named_once() {
        let d = one(
            &services(&[
                ("frontend", "depends_on = [\"backend\"]\n"),
                ("backend", "depends_on = [\"frontend\"]\n"),
            ]),
            "services.backend.depends_on",
            "dependency cycle: backend → frontend → backend",
        );
        assert_eq!(d.line, 8, "on the first service of the cycle: {d:#?}");
        // A longer cycle, with a service outside it that depends on it.
        one(
            &services(&[
                ("c", "depends_on = [\"a\"]\n"),
                ("b", "depends_on = [\"c\"]\n"),
                ("a", "depends_on = [\"b\"]\n"),
                ("d", "depends_on = [\"a\"]\n"),
            ]),
            "services.a.depends_on",
            "dependency cycle: a → b → c → a",
        );
        // Two separate cycles: two problems.
        let d = diags(&services(&[
            ("a", "depends_on = [\"b\"]\n"),
            ("b", "depends_on = [\"a\"]\n"),
            ("x", "depends_on = [\"y\"]\n"),
            ("y", "depends_on = [\"x\"]\n"),
        ]));
        let got: Vec<&str> = d.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(
            got,
            ["services.a.depends_on", "services.x.depends_on"],
            "{d:#?}"
        );
        assert!(d[1].message.contains("x → y → x"), "{d:#?}");
    }

    #[test]
    fn service_connect_namespace_name() {
        let ns = |name: &str| format!("{BASE}[service_connect]\nnamespace = \"{name}\"\n");
        let p = "service_connect.namespace";
        for ok in ["local", "internal.example", "a-1.b2"] {
            assert!(diags(&ns(ok)).is_empty(), "{ok}");
        }
        one(&ns(""), p, "`` is not a valid namespace name (it is empty)");
        one(&ns("my_ns"), p, "(it contains `_`)");
        one(&ns("-local"), p, "starts or ends with a dot or a hyphen");
        one(&ns("local."), p, "starts or ends with a dot or a hyphen");
        one(&ns("a..b"), p, "it contains `..`");
        one(&ns(&"n".repeat(1025)), p, "it is 1025 characters long");
    }

    #[test]
    fn existing_service_connect_namespace_by_arn() {
        let arn = "arn:aws:servicediscovery:ap-northeast-1:123456789012:namespace/ns-abc123";
        let ns = |name: &str, existing: bool| {
            format!("{BASE}[service_connect]\nnamespace = \"{name}\"\nexisting = {existing}\n")
        };
        let p = "service_connect.namespace";
        assert!(diags(&ns(arn, true)).is_empty());
        assert!(diags(&ns("shared.internal", true)).is_empty());
        one(
            &ns(arn, false),
            p,
            "an ARN names a namespace that already exists: set existing = true",
        );
        one(
            &ns(
                "arn:aws:servicediscovery:ap-northeast-1:123456789012:service/srv-1",
                true,
            ),
            p,
            "is not a Cloud Map namespace ARN (the resource `service/srv-1` is not \
             `namespace/<id>`)",
        );
    }

    #[test]
    fn connect_needs_service_connect() {
        one(
            &svc("ports = [80]\n[services.web.connect]\n"),
            "services.web.connect",
            "connect needs a namespace: add a [service_connect] section",
        );
        assert!(diags(&sc("ports = [80]\n[services.web.connect]\n")).is_empty());
    }

    #[test]
    fn service_connect_without_connected_services_warns() {
        let w = warns(&format!("{BASE}[service_connect]\nnamespace = \"local\"\n"));
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(w[0].key, "service_connect");
        assert!(
            w[0].message.contains("no service has `connect`"),
            "{}",
            w[0].message
        );
    }

    /// `sc` with `ports` and one `[[services.web.connect.publish]]` entry.
    fn publish(ports: &str, entry: &str) -> String {
        sc(&format!(
            "ports = {ports}\n[services.web.connect]\n[[services.web.connect.publish]]\n{entry}"
        ))
    }

    #[test]
    fn published_port_must_be_a_service_port() {
        assert!(diags(&publish("[80]", "port = 80\n")).is_empty());
        one(
            &publish("[80]", "port = 81\n"),
            "services.web.connect.publish[0].port",
            "port 81 is not one of the service's ports (80)",
        );
    }

    #[test]
    fn client_alias_needs_a_named_port_mapping() {
        let d = diags(&publish("[80]", "port = 81\nclient_port = 8081\n"));
        assert_eq!(d.len(), 2, "{d:#?}");
        has(
            &publish("[80]", "port = 81\nclient_port = 8081\n"),
            "services.web.connect.publish[0].client_port",
            "client alias port 8081 without a named port mapping",
        );
    }

    #[test]
    fn client_port_zero() {
        one(
            &publish("[80]", "port = 80\nclient_port = 0\n"),
            "services.web.connect.publish[0].client_port",
            "client_port 0 is not a valid port",
        );
    }

    #[test]
    fn published_port_twice() {
        one(
            &publish(
                "[80]",
                "port = 80\nname = \"a\"\n[[services.web.connect.publish]]\nport = 80\nname = \"b\"\n",
            ),
            "services.web.connect.publish[1].port",
            "port 80 is already published by publish[0]",
        );
    }

    #[test]
    fn port_names_unique_within_the_service() {
        // Both default to the service key.
        one(
            &publish(
                "[80, 81]",
                "port = 80\n[[services.web.connect.publish]]\nport = 81\n",
            ),
            "services.web.connect.publish[1]",
            "port name `web` is also the name of publish[0]",
        );
        one(
            &publish(
                "[80, 81]",
                "port = 80\nname = \"http\"\n[[services.web.connect.publish]]\nport = 81\nname = \"http\"\n",
            ),
            "services.web.connect.publish[1].name",
            "port name `http` is also the name of publish[0]",
        );
    }

    #[test]
    fn port_name_rules() {
        let p = "services.web.connect.publish[0].name";
        let named = |n: &str| publish("[80]", &format!("port = 80\nname = \"{n}\"\n"));
        assert!(diags(&named("http-1")).is_empty());
        one(
            &named("Http"),
            p,
            "`Http` is not a valid port name (it contains `H`)",
        );
        one(&named("a_b"), p, "(it contains `_`)");
        one(&named("-a"), p, "(it starts with a hyphen)");
        one(&named(""), p, "(it is empty)");
        one(&named(&"a".repeat(65)), p, "(it is 65 characters long)");
    }

    #[test]
    fn discovery_name_rules() {
        one(
            &publish("[80]", "port = 80\ndiscovery_name = \"Web\"\n"),
            "services.web.connect.publish[0].discovery_name",
            "`Web` is not a valid discovery name (it contains `W`)",
        );
    }

    /// `api` and `web` with Service Connect, each publishing port 80 with `api_entry` /
    /// `web_entry` added to the publish entry.
    fn two_connected(api_entry: &str, web_entry: &str) -> String {
        let entry = |key: &str, extra: &str| {
            format!(
                "ports = [80]\n[services.{key}.connect]\n[[services.{key}.connect.publish]]\n\
                 port = 80\n{extra}"
            )
        };
        format!(
            "{}[service_connect]\nnamespace = \"local\"\n",
            services(&[
                ("api", &entry("api", api_entry)),
                ("web", &entry("web", web_entry))
            ])
        )
    }

    #[test]
    fn discovery_names_unique_across_services() {
        assert!(diags(&two_connected("", "")).is_empty());
        let d = one(
            &two_connected(
                "discovery_name = \"shared\"\n",
                "discovery_name = \"shared\"\n",
            ),
            "services.web.connect.publish[0].discovery_name",
            "discovery name `shared` of services.web is also the discovery name of \
             services.api.connect.publish[0]",
        );
        assert!(
            d.message.contains("unique in the namespace"),
            "{}",
            d.message
        );
        // Defaults clash too: web's port is named `api`, so is its discovery name.
        one(
            &two_connected("", "name = \"api\"\n"),
            "services.web.connect.publish[0]",
            "discovery name `api` of services.web is also the discovery name of services.api",
        );
    }

    #[test]
    fn dns_names_unique_across_services() {
        one(
            &two_connected("dns_name = \"shared\"\n", "dns_name = \"shared\"\n"),
            "services.web.connect.publish[0].dns_name",
            "DNS name `shared` of services.web is also the DNS name of \
             services.api.connect.publish[0]",
        );
        // web's alias is api's default DNS name (`<discovery name>.<namespace>`).
        one(
            &two_connected("", "dns_name = \"api.local\"\n"),
            "services.web.connect.publish[0].dns_name",
            "DNS name `api.local` of services.web is also the DNS name of services.api",
        );
    }

    #[test]
    fn dns_name_rules() {
        let dns = |n: &str| publish("[80]", &format!("port = 80\ndns_name = \"{n}\"\n"));
        let p = "services.web.connect.publish[0].dns_name";
        assert!(diags(&dns("backend-container.local")).is_empty());
        one(
            &dns("Backend"),
            p,
            "`Backend` is not a valid DNS name (it contains `B`)",
        );
        one(&dns(".x"), p, "starts with a hyphen or a dot");
        one(&dns("x."), p, "ends with a dot");
        one(&dns("a..b"), p, "it contains `..`");
        one(&dns(&"d".repeat(128)), p, "it is 128 characters long");
    }

    #[test]
    fn connect_log_stream_prefix() {
        let prefix = |v: &str| {
            sc(&format!(
                "ports = [80]\n[services.web.connect]\nlog_stream_prefix = \"{v}\"\n"
            ))
        };
        let p = "services.web.connect.log_stream_prefix";
        assert!(diags(&prefix("web-traffic")).is_empty());
        one(
            &prefix(""),
            p,
            "log_stream_prefix is empty; omit it for the default `web-connect`",
        );
        one(&prefix("a:b"), p, "contains `:`");
        one(&prefix("a*"), p, "contains `*`");
    }

    #[test]
    fn deployment_percent_ranges() {
        let dep = |body: &str| svc(&format!("[services.web.deployment]\n{body}"));
        let p = "services.web.deployment";
        assert!(diags(&dep("minimum_healthy_percent = 0\nmaximum_percent = 100\n")).is_empty());
        assert!(diags(&dep("minimum_healthy_percent = 50\nrollback = false\n")).is_empty());
        one(
            &dep("minimum_healthy_percent = 101\n"),
            &format!("{p}.minimum_healthy_percent"),
            "minimum_healthy_percent is 101; it must be 0 to 100",
        );
        one(
            &dep("minimum_healthy_percent = 50\nmaximum_percent = 99\n"),
            &format!("{p}.maximum_percent"),
            "maximum_percent is 99; it must be 100 to 200",
        );
        one(
            &dep("maximum_percent = 201\n"),
            &format!("{p}.maximum_percent"),
            "maximum_percent is 201",
        );
    }

    #[test]
    fn deployment_needs_room_to_roll_out() {
        one(
            &svc("[services.web.deployment]\nmaximum_percent = 100\n"),
            "services.web.deployment.maximum_percent",
            "maximum_percent 100 with minimum_healthy_percent 100 leaves no room to roll out",
        );
    }

    /// A container health check on the main container (`[services.web.health_check]`).
    fn chc(body: &str) -> String {
        svc(&format!(
            "[services.web.health_check]\ncommand = \"curl -f http://localhost/ || exit 1\"\n{body}"
        ))
    }

    #[test]
    fn container_health_check_rules() {
        let p = "services.web.health_check";
        assert!(diags(&chc("")).is_empty());
        assert!(diags(&chc(
            "interval = 300\ntimeout = 60\nretries = 10\nstart_period = 300\n"
        ))
        .is_empty());
        one(
            &svc("[services.web.health_check]\ncommand = \" \"\n"),
            &format!("{p}.command"),
            "command is empty",
        );
        one(
            &chc("interval = 4\ntimeout = 2\n"),
            &format!("{p}.interval"),
            "interval is 4; it must be 5 to 300",
        );
        one(
            &chc("interval = 301\n"),
            &format!("{p}.interval"),
            "interval is 301",
        );
        one(
            &chc("interval = 100\ntimeout = 61\n"),
            &format!("{p}.timeout"),
            "timeout is 61; it must be 2 to 60",
        );
        one(
            &chc("timeout = 1\n"),
            &format!("{p}.timeout"),
            "timeout is 1",
        );
        one(
            &chc("interval = 10\ntimeout = 10\n"),
            &format!("{p}.timeout"),
            "timeout (10 s) must be less than interval (10 s)",
        );
        one(
            &chc("retries = 0\n"),
            &format!("{p}.retries"),
            "retries is 0; it must be 1 to 10",
        );
        one(
            &chc("retries = 11\n"),
            &format!("{p}.retries"),
            "retries is 11",
        );
        one(
            &chc("start_period = 301\n"),
            &format!("{p}.start_period"),
            "start_period is 301; it must be 0 to 300",
        );
    }

    #[test]
    fn sidecar_health_check_rules() {
        one(
            &svc(
                "[[services.web.sidecars]]\nname = \"agent\"\nimage = \"busybox\"\n\
                  health_check = { command = \"true\", retries = 0 }\n",
            ),
            "services.web.sidecars[0].health_check.retries",
            "retries is 0; it must be 1 to 10",
        );
        one(
            &svc(
                "[[services.web.sidecars]]\nname = \"agent\"\nimage = \"busybox\"\n\
                  health_check = { command = \"\" }\n",
            ),
            "services.web.sidecars[0].health_check.command",
            "command is empty",
        );
    }

    #[test]
    fn stop_timeout_range() {
        assert!(diags(&svc("stop_timeout = 2\n")).is_empty());
        assert!(diags(&svc("stop_timeout = 120\n")).is_empty());
        for t in [1, 121] {
            one(
                &svc(&format!("stop_timeout = {t}\n")),
                "services.web.stop_timeout",
                &format!("stop_timeout is {t} seconds; it must be 2 to 120"),
            );
        }
    }

    #[test]
    fn ulimit_names() {
        assert!(diags(&svc(
            "ulimits = { nofile = { soft = 65536, hard = 65536 } }\n"
        ))
        .is_empty());
        let d = one(
            &svc("ulimits = { files = { soft = 1, hard = 1 } }\n"),
            "services.web.ulimits.files",
            "`files` is not a resource limit a container can set; use one of: core, cpu,",
        );
        assert!(d.message.contains("nofile"), "{}", d.message);
    }

    #[test]
    fn ulimit_soft_above_hard() {
        one(
            &svc("ulimits = { nofile = { soft = 10, hard = 5 } }\n"),
            "services.web.ulimits.nofile.soft",
            "the soft limit 10 is above the hard limit 5",
        );
    }

    /// `svc(body)` plus one `[[services.web.sidecars]]` per entry (the entry's keys).
    fn sidecars(body: &str, entries: &[&str]) -> String {
        let mut text = svc(body);
        for e in entries {
            text.push_str(&format!("[[services.web.sidecars]]\n{e}"));
        }
        text
    }

    #[test]
    fn sidecars_baseline_is_valid() {
        let text = sidecars(
            "ports = [80]\ncontainer_depends_on = [{ container = \"init\", condition = \"SUCCESS\" }, \
             { container = \"proxy\", condition = \"HEALTHY\" }]\n",
            &[
                "name = \"init\"\nimage = \"busybox\"\ncommand = [\"true\"]\n",
                "name = \"proxy\"\nimage = \"envoyproxy/envoy:v1.31\"\nessential = true\n\
                 ports = [9901]\nhealth_check = { command = \"true\" }\n\
                 depends_on = [{ container = \"init\", condition = \"COMPLETE\" }]\n",
            ],
        );
        assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    }

    #[test]
    fn sidecar_name_rules() {
        let named = |n: &str| sidecars("", &[&format!("name = \"{n}\"\nimage = \"busybox\"\n")]);
        let p = "services.web.sidecars[0].name";
        one(
            &named("log router"),
            p,
            "sidecar name `log router` contains ` `",
        );
        one(&named(""), p, "sidecar name is empty");
        one(
            &named(&"s".repeat(256)),
            p,
            "is 256 characters long; the limit is 255",
        );
        one(
            &named("web"),
            p,
            "sidecar name `web` is the name of the main container (the service key)",
        );
    }

    #[test]
    fn sidecar_names_unique() {
        one(
            &sidecars(
                "",
                &[
                    "name = \"agent\"\nimage = \"busybox\"\n",
                    "name = \"agent\"\nimage = \"busybox\"\n",
                ],
            ),
            "services.web.sidecars[1].name",
            "`agent` is already the name of sidecars[0]",
        );
    }

    #[test]
    fn sidecar_image_rules() {
        let img = |i: &str| sidecars("", &[&format!("name = \"agent\"\nimage = \"{i}\"\n")]);
        let p = "services.web.sidecars[0].image";
        one(&img(""), p, "image is empty");
        one(&img("busy box"), p, "contains whitespace");
    }

    #[test]
    fn ports_unique_across_the_task() {
        one(
            &sidecars(
                "ports = [80]\n",
                &["name = \"proxy\"\nimage = \"envoy\"\nports = [80]\n"],
            ),
            "services.web.sidecars[0].ports[0]",
            "port 80 is already used by the main container `web` (ports)",
        );
        one(
            &sidecars(
                "",
                &[
                    "name = \"a\"\nimage = \"busybox\"\nports = [9000]\n",
                    "name = \"b\"\nimage = \"busybox\"\nports = [9000]\n",
                ],
            ),
            "services.web.sidecars[1].ports[0]",
            "port 9000 is already used by sidecars[0] `a`",
        );
        one(
            &sidecars("", &["name = \"a\"\nimage = \"busybox\"\nports = [0]\n"]),
            "services.web.sidecars[0].ports[0]",
            "port 0 is not a valid port",
        );
    }

    #[test]
    fn sidecar_environment_and_command() {
        one(
            &sidecars(
                "",
                &["name = \"a\"\nimage = \"busybox\"\nenvironment = { \"1X\" = \"y\" }\n"],
            ),
            "services.web.sidecars[0].environment.1X",
            "`1X` is not a valid environment variable name",
        );
        one(
            &sidecars("", &["name = \"a\"\nimage = \"busybox\"\ncommand = []\n"]),
            "services.web.sidecars[0].command",
            "command is an empty list",
        );
        let w = warns(&sidecars(
            "",
            &["name = \"a\"\nimage = \"busybox\"\nenvironment = { API_TOKEN = \"y\" }\n"],
        ));
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(w[0].key, "services.web.sidecars[0].environment.API_TOKEN");
    }

    #[test]
    fn container_dependency_must_name_a_container_of_the_task() {
        one(
            &sidecars(
                "container_depends_on = [{ container = \"db\" }]\n",
                &["name = \"log\"\nimage = \"busybox\"\n"],
            ),
            "services.web.container_depends_on[0].container",
            "`db` is not a container of this task; its containers are `web`, `log`",
        );
        one(
            &sidecars(
                "",
                &["name = \"log\"\nimage = \"busybox\"\ndepends_on = [{ container = \"nope\" }]\n"],
            ),
            "services.web.sidecars[0].depends_on[0].container",
            "`nope` is not a container of this task",
        );
    }

    #[test]
    fn container_dependency_on_itself() {
        one(
            &svc("container_depends_on = [{ container = \"web\" }]\n"),
            "services.web.container_depends_on[0].container",
            "container `web` depends on itself",
        );
        one(
            &sidecars(
                "",
                &["name = \"log\"\nimage = \"busybox\"\ndepends_on = [{ container = \"log\" }]\n"],
            ),
            "services.web.sidecars[0].depends_on[0].container",
            "container `log` depends on itself",
        );
    }

    #[test]
    fn container_dependency_duplicate() {
        one(
            &sidecars(
                "container_depends_on = [{ container = \"log\" }, { container = \"log\" }]\n",
                &["name = \"log\"\nimage = \"busybox\"\n"],
            ),
            "services.web.container_depends_on[1].container",
            "`log` is listed twice (also [0])",
        );
    }

    #[test]
    fn healthy_condition_needs_a_health_check() {
        one(
            &sidecars(
                "container_depends_on = [{ container = \"proxy\", condition = \"HEALTHY\" }]\n",
                &["name = \"proxy\"\nimage = \"envoy\"\n"],
            ),
            "services.web.container_depends_on[0].condition",
            "condition HEALTHY needs a health_check on container `proxy`",
        );
        // The main container, without a health check.
        one(
            &sidecars(
                "",
                &["name = \"log\"\nimage = \"busybox\"\n\
                   depends_on = [{ container = \"web\", condition = \"HEALTHY\" }]\n"],
            ),
            "services.web.sidecars[0].depends_on[0].condition",
            "condition HEALTHY needs a health_check on container `web`",
        );
    }

    #[test]
    fn complete_condition_on_an_essential_container() {
        one(
            &sidecars(
                "",
                &["name = \"log\"\nimage = \"busybox\"\n\
                   depends_on = [{ container = \"web\", condition = \"COMPLETE\" }]\n"],
            ),
            "services.web.sidecars[0].depends_on[0].condition",
            "condition COMPLETE waits for container `web` to exit, but it is essential",
        );
        one(
            &sidecars(
                "container_depends_on = [{ container = \"init\", condition = \"SUCCESS\" }]\n",
                &["name = \"init\"\nimage = \"busybox\"\nessential = true\n"],
            ),
            "services.web.container_depends_on[0].condition",
            "condition SUCCESS waits for container `init` to exit",
        );
    }

    #[test]
    fn container_dependency_cycle() {
        one(
            &sidecars(
                "container_depends_on = [{ container = \"b\" }]\n",
                &[
                    "name = \"b\"\nimage = \"busybox\"\ndepends_on = [{ container = \"a\" }]\n",
                    "name = \"a\"\nimage = \"busybox\"\ndepends_on = [{ container = \"web\" }]\n",
                ],
            ),
            "services.web.sidecars[1].depends_on",
            "container dependency cycle: a → web → b → a",
        );
    }

    fn scaling(body: &str) -> String {
        svc(&format!("[services.web.autoscaling]\n{body}"))
    }

    #[test]
    fn autoscaling_bounds() {
        let p = "services.web.autoscaling";
        assert!(diags(&scaling("min = 0\nmax = 1000\ncpu = 50\n")).is_empty());
        one(
            &scaling("min = 0\nmax = 0\ncpu = 50\n"),
            &format!("{p}.max"),
            "max is 0; it must be 1 to 1000",
        );
        one(
            &scaling("min = 1\nmax = 1001\ncpu = 50\n"),
            &format!("{p}.max"),
            "max is 1001",
        );
        one(
            &scaling("min = 3\nmax = 2\ncpu = 50\n"),
            &format!("{p}.min"),
            "min (3) is greater than max (2)",
        );
    }

    #[test]
    fn autoscaling_tracks_exactly_one_metric() {
        let p = "services.web.autoscaling";
        one(
            &scaling("min = 1\nmax = 2\n"),
            p,
            "set exactly one of `cpu`, `memory` or `requests_per_target`",
        );
        one(
            &scaling("min = 1\nmax = 2\ncpu = 50\nmemory = 50\n"),
            &format!("{p}.memory"),
            "`cpu` and `memory` are both set; autoscaling tracks exactly one of `cpu`, `memory` \
             or `requests_per_target`",
        );
    }

    #[test]
    fn autoscaling_utilisation_targets() {
        let p = "services.web.autoscaling";
        assert!(diags(&scaling("min = 1\nmax = 2\nmemory = 100\n")).is_empty());
        assert!(diags(&scaling("min = 1\nmax = 2\ncpu = 0.5\n")).is_empty());
        one(
            &scaling("min = 1\nmax = 2\ncpu = 0\n"),
            &format!("{p}.cpu"),
            "cpu target is 0; an average utilisation target must be above 0 and at most 100",
        );
        one(
            &scaling("min = 1\nmax = 2\nmemory = 100.5\n"),
            &format!("{p}.memory"),
            "memory target is 100.5",
        );
        one(
            &scaling("min = 1\nmax = 2\ncpu = nan\n"),
            &format!("{p}.cpu"),
            "cpu target is NaN",
        );
    }

    #[test]
    fn autoscaling_requests_per_target() {
        let p = "services.web.autoscaling.requests_per_target";
        let with_tg = |v: &str| {
            alb(
                "",
                "",
                "",
                &format!(
                    "{}[services.web.autoscaling]\nmin = 1\nmax = 4\nrequests_per_target = {v}\n",
                    http_web()
                ),
            )
        };
        assert!(
            diags(&with_tg("500")).is_empty(),
            "{:#?}",
            diags(&with_tg("500"))
        );
        one(
            &with_tg("0"),
            p,
            "requests_per_target is 0; it must be above 0",
        );
        one(
            &scaling("min = 1\nmax = 2\nrequests_per_target = 100\n"),
            p,
            "requests_per_target tracks the load balancer's requests per target, which needs a \
             target_group",
        );
    }

    #[test]
    fn autoscaling_cooldowns() {
        one(
            &scaling("min = 1\nmax = 2\ncpu = 50\nscale_in_cooldown = 3601\n"),
            "services.web.autoscaling.scale_in_cooldown",
            "scale_in_cooldown is 3601 seconds; it must be 0 to 3600",
        );
        one(
            &scaling("min = 1\nmax = 2\ncpu = 50\nscale_out_cooldown = 4000\n"),
            "services.web.autoscaling.scale_out_cooldown",
            "scale_out_cooldown is 4000 seconds",
        );
    }

    #[test]
    fn desired_count_outside_the_autoscaling_range_warns() {
        let w = warns(&svc(
            "desired_count = 10\n[services.web.autoscaling]\nmin = 1\nmax = 5\ncpu = 50\n",
        ));
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(w[0].key, "services.web.desired_count");
        assert!(
            w[0].message.contains(
                "desired_count 10 is outside the autoscaling range 1 to 5; the autoscaler starts \
                 from the nearest bound (5)"
            ),
            "{}",
            w[0].message
        );
        // The default desired_count (1) below min.
        let w = warns(&scaling("min = 2\nmax = 5\ncpu = 50\n"));
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].message.contains("nearest bound (2)"),
            "{}",
            w[0].message
        );
        assert!(warns(&scaling("min = 1\nmax = 5\ncpu = 50\n")).is_empty());
    }

    #[test]
    fn service_connect_example_matches_the_reference() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/service-connect.toml");
        let c = crate::config::load_file(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        assert_eq!(c.app, "ecs-web-app");
        assert_eq!(c.cluster_name(), "ecs-web-app-cluster");
        assert_eq!(c.log_group_name(), "ecs-web-app");
        let sc = c.service_connect.as_ref().unwrap();
        assert_eq!((sc.namespace.as_str(), sc.cluster_default), ("local", true));
        assert_eq!(c.service_name("frontend"), "frontend-service");
        assert_eq!(c.service_name("backend"), "backend-service");
        let l = &c.load_balancer.as_ref().unwrap().listeners[0];
        assert_eq!((l.port, l.protocol), (80, Protocol::HTTP));
        assert_eq!(l.service.as_deref(), Some("frontend"));
        for (key, port, name, discovery, prefix, hc) in [
            (
                "frontend",
                3000,
                "frontend",
                "frontend-container",
                "frontend-traffic",
                "curl -f http://localhost:3000 || exit 1",
            ),
            (
                "backend",
                5000,
                "backend",
                "backend-container",
                "backend-traffic",
                "curl -f http://localhost:5000/healthcheck || exit 1",
            ),
        ] {
            let s = &c.services[key];
            assert_eq!(s.ports, [port]);
            assert_eq!(s.subnets, SubnetKind::Public);
            assert_eq!(s.assign_public_ip, Some(true));
            assert!(s.enable_execute_command);
            let conn = s.connect.as_ref().unwrap();
            assert_eq!(conn.log_stream_prefix.as_deref(), Some(prefix));
            let p = &conn.publish[0];
            assert_eq!(
                (p.port, p.name.as_deref(), p.discovery_name.as_deref()),
                (port, Some(name), Some(discovery))
            );
            let h = s.health_check.as_ref().unwrap();
            assert_eq!(
                (
                    h.command.as_str(),
                    h.interval,
                    h.timeout,
                    h.retries,
                    h.start_period
                ),
                (hc, 30, 5, 3, 10)
            );
            let a = s.autoscaling.as_ref().unwrap();
            assert_eq!((a.min, a.max, a.memory), (1, 5, Some(20.0)));
            assert_eq!((a.scale_in_cooldown, a.scale_out_cooldown), (60, 60));
            assert!(a.cpu.is_none() && a.requests_per_target.is_none());
            // ECS Exec works only when the task role may open the SSM channels.
            assert!(s.task_policy[0]
                .actions
                .iter()
                .any(|x| x == "ssmmessages:OpenDataChannel"));
        }
        assert_eq!(c.services["frontend"].depends_on, ["backend"]);
        assert!(c.services["backend"].depends_on.is_empty());
        let tg = c.services["frontend"].target_group.as_ref().unwrap();
        assert_eq!(
            (
                tg.port,
                tg.health_check.path.as_str(),
                tg.health_check.matcher.as_str()
            ),
            (3000, "/", "200")
        );
        assert_eq!(c.network.nat, NatMode::None);
        assert!(!c.needs_private());
    }

    #[test]
    fn ingress_port_must_be_a_service_port() {
        let d = one(
            &svc("ports = [80, 443]\n[[services.web.ingress]]\nport = 8080\ncidrs = [\"0.0.0.0/0\"]\n"),
            "services.web.ingress[0].port",
            "port 8080 is not one of the service's ports (80, 443)",
        );
        assert_eq!((d.line, d.col), (7, 1));
        one(
            &svc("[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\n"),
            "services.web.ingress[0].port",
            "the service declares no `ports`",
        );
    }

    #[test]
    fn ingress_cidrs() {
        one(
            &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = []\n"),
            "services.web.ingress[0].cidrs",
            "cidrs is empty",
        );
        let d = one(
            &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"10.0.0.0/8\", \"1.2.3.4/24\"]\n"),
            "services.web.ingress[0].cidrs[1]",
            "host bits set; the network address is 1.2.3.0/24",
        );
        assert_eq!((d.line, d.col), (8, 24));
    }

    #[test]
    fn ingress_description_length() {
        one(
            &svc(&format!(
                "ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\ndescription = \"{}\"\n",
                "d".repeat(256)
            )),
            "services.web.ingress[0].description",
            "256 characters long; the limit is 255",
        );
    }

    #[test]
    fn ingress_description_charset() {
        one(
            &svc("ports = [80]\n[[services.web.ingress]]\nport = 80\ncidrs = [\"0.0.0.0/0\"]\ndescription = \"office's VPN\"\n"),
            "services.web.ingress[0].description",
            "description contains `'`; EC2 rule descriptions allow only",
        );
    }

    #[test]
    fn task_role_and_task_policy_are_exclusive() {
        one(
            &svc("task_role = \"arn:aws:iam::123456789012:role/r\"\n\
                  [[services.web.task_policy]]\nactions = [\"s3:GetObject\"]\nresources = [\"*\"]\n"),
            "services.web.task_policy",
            "task_policy and task_role are mutually exclusive",
        );
    }

    #[test]
    fn task_role_arn() {
        one(
            &svc("task_role = \"arn:aws:s3:::bucket\"\n"),
            "services.web.task_role",
            "is not an IAM role ARN",
        );
    }

    #[test]
    fn task_policy_actions() {
        one(
            &svc("[[services.web.task_policy]]\nactions = []\nresources = [\"*\"]\n"),
            "services.web.task_policy[0].actions",
            "actions is empty",
        );
        one(
            &svc("[[services.web.task_policy]]\nactions = [\"s3:GetObject\", \"GetObject\"]\nresources = [\"*\"]\n"),
            "services.web.task_policy[0].actions[1]",
            "`GetObject` is not an IAM action",
        );
        one(
            &svc("[[services.web.task_policy]]\nactions = [\"s3::x\"]\nresources = [\"*\"]\n"),
            "services.web.task_policy[0].actions[0]",
            "is not an IAM action",
        );
    }

    #[test]
    fn task_policy_resources() {
        one(
            &svc("[[services.web.task_policy]]\nactions = [\"*\"]\nresources = []\n"),
            "services.web.task_policy[0].resources",
            "resources is empty",
        );
        one(
            &svc("[[services.web.task_policy]]\nactions = [\"*\"]\nresources = [\"my-bucket\"]\n"),
            "services.web.task_policy[0].resources[0]",
            "`my-bucket` is not a resource ARN",
        );
    }

    #[test]
    fn derived_task_role_name_length() {
        // app (20) + key (32) + "-task" + "-" = 58: always fits, so no problem for the longest.
        let app = "a".repeat(20);
        let key = "k".repeat(32);
        assert!(diags(&format!(
            "app = \"{app}\"\n[services.{key}]\nimage = \"nginx\"\n"
        ))
        .is_empty());
    }

    #[test]
    fn secret_looking_environment_warns() {
        let w = warns(&svc(
            "environment = { DB_PASSWORD = \"x\", api_key = \"y\", GithubToken = \"z\", MODE = \"prod\" }\n",
        ));
        let keys: Vec<&str> = w.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "services.web.environment.DB_PASSWORD",
                "services.web.environment.GithubToken",
                "services.web.environment.api_key",
            ]
        );
        assert!(w[0].message.contains(
            "looks like a secret; plain environment values are visible in the task definition"
        ));
    }

    #[test]
    fn public_subnet_without_public_ip_warns() {
        let w = warns(&svc("assign_public_ip = false\n"));
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!(w[0].key, "services.web.assign_public_ip");
        assert_eq!((w[0].line, w[0].col), (5, 1));
        assert!(
            w[0].message.contains("cannot pull images"),
            "{}",
            w[0].message
        );
        assert!(warns(&svc("assign_public_ip = true\n")).is_empty());
    }

    #[test]
    fn all_problems_reported_together_in_file_order() {
        let text = "app = \"Demo\"\n\
                    region = \"japan\"\n\
                    [network]\n\
                    vpc_cidr = \"10.0.0.0/8\"\n\
                    az_count = 12\n\
                    [logs]\n\
                    retention_days = 2\n\
                    [services.web]\n\
                    image = \"nginx\"\n\
                    cpu = 256\n\
                    memory = 4096\n\
                    ports = [80, 80]\n\
                    desired_count = 5000\n";
        let d = diags(text);
        let got: Vec<(usize, &str)> = d.iter().map(|x| (x.line, x.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "app"),
                (2, "region"),
                (4, "network.vpc_cidr"),
                (5, "network.az_count"),
                (7, "logs.retention_days"),
                (11, "services.web.memory"),
                (12, "services.web.ports[1]"),
                (13, "services.web.desired_count"),
            ],
            "{d:#?}"
        );
        has(text, "services.web.memory", "512, 1024 or 2048");
        has(text, "network.az_count", "az_count is 12");
        let shown = d[2].to_string();
        assert!(
            shown.starts_with("t.toml:4:1: network.vpc_cidr: `10.0.0.0/8` has prefix /8"),
            "{shown}"
        );
    }

    #[test]
    fn helpers() {
        assert!(is_region("ap-northeast-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("ap-northeast-"));
        assert!(!is_region("apx-northeast-1"));
        assert!(!is_region("AP-northeast-1"));
        assert_eq!(az_region("eu-west-3c"), Some("eu-west-3"));
        assert_eq!(az_region("eu-west-3"), None);
        assert!(ecr_name_problem("a/b.c_d-e/f0").is_none());
        assert!(ecr_name_problem("/ab").is_some());
        assert!(ecr_name_problem("ab/").is_some());
        assert!(is_action("*") && is_action("s3:*") && is_action("ec2:Describe*"));
        assert!(!is_action(":x") && !is_action("s3:") && !is_action("a:b:c"));
        assert!(looks_secret("stripe_key") && looks_secret("Session_Secret"));
        assert!(!looks_secret("KEYBOARD_LAYOUT"));
        assert!(is_hex_id("0123abcdef") && !is_hex_id("") && !is_hex_id("0A") && !is_hex_id("xyz"));
        assert!(elb_name_problem("a-1-B").is_none());
        assert!(elb_name_problem("a--b").is_none());
        assert!(check_regional_arn(
            "arn:aws-cn:acm:cn-north-1:123456789012:certificate/x",
            "an ACM certificate ARN",
            "acm",
            "certificate/",
            "",
        )
        .is_ok());
        assert!(matcher_problem("200-200").is_none());
        assert!(matcher_problem("0200").is_some());
        assert!(path_pattern_problem("/*").is_none());
        assert!(host_pattern_problem("").is_some());
    }
}
