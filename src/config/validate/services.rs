//! Validation of `[services.<key>]`: key and names, image, size, ports, environment,
//! ingress, task IAM, dependencies between services, deployment, capacity and autoscaling.

use std::collections::BTreeMap;

use super::names::{
    charset_problem, check_role_arn, cycles, is_action, is_aws_name_char, is_env_name,
    is_rule_description_char, key_problem, not_a_service_port, tag_problem, RULE_DESCRIPTION_PUNCT,
};
use super::{
    fargate_memory, service_path, Validator, FARGATE_CPUS, MAX_DESIRED_COUNT, MAX_SERVICE_KEY_LEN,
};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{Build, Capacity, Image, Service, SubnetKind};
use crate::config::network::{parse_cidr, GATEWAY_ENDPOINTS};

/// The largest `base` of a capacity provider strategy item (ECS API).
const MAX_CAPACITY_BASE: u32 = 100_000;

impl Validator<'_> {
    pub(super) fn services(&mut self) {
        let c = self.c;
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        let mut tg_names: BTreeMap<String, &str> = BTreeMap::new();
        for (key, s) in &c.services {
            let sp = service_path(key);
            let key_ok = self.service_key(key);
            let derive_ok = self.app_ok && key_ok;

            // Names: the ECS service, task definition family, task role and security group.
            let explicit = s.name.is_some();
            let name_path = sp.key_if(explicit, "name");
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
            self.unique(&mut names, name, key, name_path.clone(), |name, prev| {
                format!(
                    "service name `{name}` is also the name of services.{prev}; ECS service \
                     names must be unique in the cluster"
                )
            });
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
            self.deployment(&sp, key, s);
            if let Some(cap) = &s.capacity {
                self.capacity(&sp, cap);
            }
            if let Some(a) = &s.autoscaling {
                self.autoscaling(&sp, s, a);
            }
        }
    }

    /// Checks a service key; true when it is valid.
    fn service_key(&mut self, key: &str) -> bool {
        let reason = key_problem(key, MAX_SERVICE_KEY_LEN);
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

    pub(super) fn image(&mut self, sp: &KeyPath, s: &Service) {
        let Some(image) = &s.image else {
            return; // missing: reported by the loader
        };
        self.image_at(sp.key("image"), image);
    }

    /// An image reference or repository image at `ip` (a service's or a job's `image`).
    pub(super) fn image_at(&mut self, ip: KeyPath, image: &Image) {
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

    pub(super) fn size(&mut self, sp: &KeyPath, s: &Service) {
        self.task_size(sp, s.cpu, s.memory_mib());
    }

    /// A Fargate task size: `cpu` and `memory` (MiB) under `sp`.
    pub(super) fn task_size(&mut self, sp: &KeyPath, cpu: u32, memory: u32) {
        match fargate_memory(cpu) {
            None => {
                let cpus: Vec<String> = FARGATE_CPUS.iter().map(u32::to_string).collect();
                self.err(
                    sp.key("cpu"),
                    format!(
                        "cpu {} is not a Fargate task size; use one of: {} (1024 = 1 vCPU)",
                        cpu,
                        cpus.join(", ")
                    ),
                );
            }
            Some((valid, desc)) => {
                if !valid.contains(&memory) {
                    self.err(
                        sp.key("memory"),
                        format!(
                            "memory {memory} MiB is not valid with cpu {cpu} on Fargate; with \
                             cpu {cpu} memory must be {desc} (MiB)"
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn ports(&mut self, sp: &KeyPath, s: &Service) {
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
    pub(super) fn environment(&mut self, path: &KeyPath, env: &BTreeMap<String, String>) {
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

    pub(super) fn ingress(&mut self, sp: &KeyPath, s: &Service) {
        let mut seen: Vec<(u16, String, usize)> = Vec::new();
        for (i, rule) in s.ingress.iter().enumerate() {
            let rp = sp.key("ingress").index(i);
            if !s.ports.contains(&rule.port) {
                self.err(rp.key("port"), not_a_service_port(rule.port, &s.ports));
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
    pub(super) fn service_dependencies(&mut self) {
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

    /// `services.<key>.capacity`: the capacity provider strategy's bounds (ECS API
    /// `CapacityProviderStrategyItem`: base 0..=100000).
    fn capacity(&mut self, sp: &KeyPath, cap: &Capacity) {
        let cp = sp.key("capacity");
        if cap.spot > 100 {
            self.err(
                cp.key("spot"),
                format!(
                    "spot is {}; it is the percentage (0 to 100) of the tasks above \
                     on_demand_base that run on Fargate Spot",
                    cap.spot
                ),
            );
        }
        if cap.on_demand_base > MAX_CAPACITY_BASE {
            self.err(
                cp.key("on_demand_base"),
                format!(
                    "on_demand_base is {}; ECS allows 0 to {MAX_CAPACITY_BASE}",
                    cap.on_demand_base
                ),
            );
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
}
