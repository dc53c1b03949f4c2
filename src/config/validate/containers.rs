//! Validation of a task's containers: health checks, stop timeout, ulimits, sidecars and
//! the start order between containers.

use super::names::{charset_problem, cycles, is_aws_name_char};
use super::{Validator, ULIMIT_NAMES};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{
    ContainerCondition, ContainerDependency, ContainerHealthCheck, Release, Service,
};

impl Validator<'_> {
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

    /// A service's release task: a command to run, for a bounded time.
    fn release(&mut self, rp: &KeyPath, r: &Release) {
        if r.command.iter().all(|w| w.trim().is_empty()) {
            self.err(
                rp.key("command"),
                "command is empty; give the release task's command as a list of words, e.g. \
                 [\"python\", \"manage.py\", \"migrate\"]",
            );
        }
        if !(1..=86_400).contains(&r.timeout) {
            self.err(
                rp.key("timeout"),
                format!(
                    "timeout is {} seconds; it must be 1 to 86400 (a day)",
                    r.timeout
                ),
            );
        }
    }

    /// The task's containers: the main one's health check, stop timeout and ulimits, the
    /// sidecars, and the start order between them.
    pub(super) fn containers(&mut self, sp: &KeyPath, key: &str, s: &Service) {
        if let Some(hc) = &s.health_check {
            self.container_health_check(&sp.key("health_check"), hc);
        }
        if let Some(r) = &s.release {
            self.release(&sp.key("release"), r);
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
}
