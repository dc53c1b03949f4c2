//! Config validation (pure): every rule that can be checked without AWS.
//!
//! `validate` collects every problem instead of stopping at the first, so a user fixes a
//! file in one pass. Names derived from `app` (or from a service / repository key) are only
//! checked when `app` (and the key) are themselves valid, so one bad `app` does not turn
//! into a dozen follow-on errors about names the user never wrote.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::load::{KeyPath, Problem};
use super::model::{Config, Image, Service, SubnetKind, DEFAULT_AZ_COUNT};
use super::network::{derive_public_subnets, overlaps, parse_cidr, MAX_AZS};

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
        if s.subnets == SubnetKind::Public && s.assign_public_ip == Some(false) {
            out.push(Problem::at(
                sp.key("assign_public_ip"),
                "tasks in a public subnet without a public IP cannot reach the internet, so they \
                 cannot pull images from outside the VPC (ECR, Docker Hub) and will fail to start; \
                 remove `assign_public_ip = false` unless the VPC has endpoints for them",
            ));
        }
    }
    out
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

impl Validator<'_> {
    fn err(&mut self, path: KeyPath, message: impl Into<String>) {
        self.out.push(Problem::at(path, message));
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

        let (n, n_source) = match (&net.azs, net.az_count) {
            (Some(a), _) => (a.len(), format!("`azs` lists {} zone(s)", a.len())),
            (None, Some(n)) => (usize::from(n), format!("`az_count` is {n}")),
            (None, None) => (
                usize::from(DEFAULT_AZ_COUNT),
                format!("the default az_count is {DEFAULT_AZ_COUNT}"),
            ),
        };

        match &net.public_subnets {
            Some(subnets) => {
                if subnets.len() != n {
                    self.err(
                        np.key("public_subnets"),
                        format!(
                            "{} public subnet(s) listed but {n_source}; give exactly one public \
                             subnet per availability zone",
                            subnets.len()
                        ),
                    );
                }
                let mut seen: Vec<(usize, Ipv4Net)> = Vec::new();
                for (i, s) in subnets.iter().enumerate() {
                    let ip = np.key("public_subnets").index(i);
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
                                format!(
                                    "`{s}` is not inside the VPC CIDR {vpc} (network.vpc_cidr)"
                                ),
                            );
                        }
                    }
                    if let Some((j, other)) = seen.iter().find(|(_, o)| overlaps(o, &sub)) {
                        self.err(
                            ip.clone(),
                            format!(
                                "public_subnets[{i}] `{s}` overlaps public_subnets[{j}] `{other}`; \
                                 subnets of one VPC must not share addresses"
                            ),
                        );
                    }
                    seen.push((i, sub));
                }
            }
            None => {
                if let Some(vpc) = vpc {
                    if (1..=MAX_AZS).contains(&n) && derive_public_subnets(&vpc, n).is_none() {
                        self.err(
                            np.key("vpc_cidr"),
                            format!(
                                "the VPC {vpc} is too small to derive {n} public subnet(s): derived \
                                 subnets are /24 blocks (VPC prefix + 4 in VPCs smaller than /20) \
                                 and never smaller than /28, which needs a VPC of /24 or larger; \
                                 set network.public_subnets explicitly or use a larger vpc_cidr"
                            ),
                        );
                    }
                }
            }
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
            self.environment(&sp, s);
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
            if s.subnets == SubnetKind::Private {
                self.err(
                    sp.key("subnets"),
                    "`subnets = \"private\"` needs private subnets, which ecsdeploy does not \
                     create yet; use \"public\" with assign_public_ip = true",
                );
            }
            self.ingress(&sp, s);
            self.task_iam(&sp, s);
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

    fn image(&mut self, sp: &KeyPath, s: &Service) {
        let ip = sp.key("image");
        match &s.image {
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
                if !self.c.repositories.contains_key(&ri.repository) {
                    let declared: Vec<String> = self
                        .c
                        .repositories
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect();
                    let hint = if declared.is_empty() {
                        format!(
                            "no repositories are declared; add a [repositories.{}] section",
                            ri.repository
                        )
                    } else {
                        format!("declared repositories: {}", declared.join(", "))
                    };
                    self.err(
                        ip.key("repository"),
                        format!("`{}` is not a key of [repositories]; {hint}", ri.repository),
                    );
                }
                if let Some(reason) = tag_problem(&ri.tag) {
                    self.err(
                        ip.key("tag"),
                        format!(
                            "`{}` is not a valid image tag ({reason}); a tag is 1 to 128 letters, \
                             digits, `_`, `.` and `-`, not starting with `.` or `-`",
                            ri.tag
                        ),
                    );
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

    fn environment(&mut self, sp: &KeyPath, s: &Service) {
        for name in s.environment.keys() {
            let ep = sp.key("environment").key(name);
            let len = name.chars().count();
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
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
                            "port {} from {cidr} is already opened by ingress[{}]; EC2 keeps one                              rule per port and CIDR, so list it once",
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
    fn private_subnets_not_available_yet() {
        one(
            &svc("subnets = \"private\"\n"),
            "services.web.subnets",
            "`subnets = \"private\"` needs private subnets, which ecsdeploy does not create yet; use \"public\" with assign_public_ip = true",
        );
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
                    subnets = \"private\"\n";
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
                (13, "services.web.subnets"),
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
    }
}
