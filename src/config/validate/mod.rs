//! Config validation (pure): every rule that can be checked without AWS.
//!
//! `validate` collects every problem instead of stopping at the first, so a user fixes a
//! file in one pass. Names derived from `app` (or from a service / repository key) are only
//! checked when `app` (and the key) are themselves valid, so one bad `app` does not turn
//! into a dozen follow-on errors about names the user never wrote.
//!
//! This file holds the entry points, the `Validator` and what several areas share; each
//! area's rules are an `impl Validator` block in its own file (`app`, `network`,
//! `services`, `containers`, `connect`, `load_balancer`, `stores/`), and `names` holds the
//! pure checks of single values. The tests live in `tests/`, one file per area.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::diagnostic::{KeyPath, Problem};
use super::model::{Config, Image, NatMode, Service, SubnetKind, DEFAULT_AZ_COUNT};
use crate::config::secrecy::looks_secret;

mod app;
mod autoscaling;
mod connect;
mod containers;
mod deployment;
mod jobs;
mod load_balancer;
mod names;
mod network;
mod services;
mod stores;

pub use connect::{default_dns_names, default_dns_problem};
#[cfg(test)]
mod tests;

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
/// Longest autoscaling schedule name: the scheduled action is `<app>-<service key>-<name>`,
/// well within Application Auto Scaling's 256 characters.
pub const MAX_SCHEDULE_KEY_LEN: usize = 64;

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
    v.jobs();
    v.out
}

/// Things worth saying that do not stop a run.
pub fn warnings(c: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    for (key, s) in &c.services {
        let sp = service_path(key);
        for (ep, env) in environments(&sp, s) {
            for name in env.keys().filter(|n| looks_secret(n)) {
                out.push(Problem::at(
                    ep.key(name),
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
    jobs::warnings(c, &mut out);
    out
}

/// The `environment` of each container of service `s`, the main one first, then the
/// sidecars, with its key path (`sp` is the service's).
fn environments<'s>(
    sp: &KeyPath,
    s: &'s Service,
) -> impl Iterator<Item = (KeyPath, &'s BTreeMap<String, String>)> + 's {
    let sidecars = sp.key("sidecars");
    std::iter::once((sp.key("environment"), &s.environment)).chain(
        s.sidecars
            .iter()
            .enumerate()
            .map(move |(i, sc)| (sidecars.index(i).key("environment"), &sc.environment)),
    )
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

    /// Records that `key` takes `name` in `names`; when another key took it first, reports
    /// `clash(name, that key)` at `path` instead.
    fn unique<'k>(
        &mut self,
        names: &mut BTreeMap<String, &'k str>,
        name: String,
        key: &'k str,
        path: KeyPath,
        clash: impl FnOnce(&str, &str) -> String,
    ) {
        if let Some(prev) = names.get(&name) {
            self.err(path, clash(&name, prev));
        } else {
            names.insert(name, key);
        }
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
}
