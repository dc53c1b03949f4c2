//! `[jobs.<key>]`: a task EventBridge Scheduler runs on Fargate on a schedule, with its own
//! image or with the image and container settings of a service.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Image, SubnetKind};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Job {
    /// When to run: `cron(minutes hours day-of-month month day-of-week year)` (six fields,
    /// one of the two day fields `?`) or `rate(N minutes|hours|days)`.
    pub schedule: String,
    /// IANA time zone the cron expression is read in, e.g. `Europe/Paris`. Default `UTC`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Key of a service whose image, container settings, task role, secrets, data-store
    /// wiring, subnets and security groups the job reuses. Exactly one of `service` and
    /// `image` is required.
    pub service: Option<String>,
    /// Container image: a full reference or `{ repository = "<key>", tag = "..." }`.
    /// Building from source is for services; a job reuses a built image through `service`.
    pub image: Option<Image>,
    /// The command the container runs (overrides the image's CMD, or the service's
    /// `command`).
    pub command: Option<Vec<String>>,
    /// Plain environment variables; with `service`, added to (and overriding) the
    /// service's.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Task CPU units. Default: the service's, or 256.
    pub cpu: Option<u32>,
    /// Task memory in MiB. Default: the service's, or twice `cpu`.
    pub memory: Option<u32>,
    /// Subnets the task runs in: `public` or `private`. Default: the service's, or
    /// `public`.
    pub subnets: Option<SubnetKind>,
    /// Give the task a public IP. Default: true in public subnets, false in private ones.
    pub assign_public_ip: Option<bool>,
}

/// `UTC`: the time zone of schedules that name none (jobs' and autoscaling's).
pub(super) fn default_timezone() -> String {
    "UTC".to_string()
}

impl Job {
    /// The subnets the task runs in (the service's when the job reuses one).
    pub fn subnet_kind(&self, services: &BTreeMap<String, super::Service>) -> SubnetKind {
        self.subnets.unwrap_or_else(|| {
            self.service
                .as_ref()
                .and_then(|s| services.get(s))
                .map_or(SubnetKind::Public, |s| s.subnets)
        })
    }

    /// Task CPU units and memory (MiB): the job's own, else the service's, else 256 and
    /// twice the CPU.
    pub fn task_size(&self, services: &BTreeMap<String, super::Service>) -> (u32, u32) {
        let svc = self.service.as_ref().and_then(|s| services.get(s));
        let cpu = self.cpu.or(svc.map(|s| s.cpu)).unwrap_or(256);
        let memory = self.memory.unwrap_or(match (self.cpu, svc) {
            (None, Some(s)) => s.memory_mib(),
            _ => cpu * 2,
        });
        (cpu, memory)
    }
}
