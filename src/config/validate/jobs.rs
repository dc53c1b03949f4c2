//! Validation of `[jobs.<key>]`: the key, the schedule and its time zone, where the image
//! comes from (a service or its own), and the task's size and environment.

use super::names::key_problem;
use super::{root, Validator, MAX_SERVICE_KEY_LEN};
use crate::config::diagnostic::{KeyPath, Problem};
use crate::config::model::{Config, Image, Job, SubnetKind};
use crate::config::schedule::{expression_problem, timezone_problem};
use crate::config::secrecy::looks_secret;

impl Validator<'_> {
    pub(super) fn jobs(&mut self) {
        let c = self.c;
        for (key, j) in &c.jobs {
            let jp = root("jobs").key(key);
            if let Some(reason) = key_problem(key, MAX_SERVICE_KEY_LEN) {
                self.err(
                    jp.clone(),
                    format!(
                        "job key `{key}` is invalid ({reason}); it must be 1 to \
                         {MAX_SERVICE_KEY_LEN} lowercase letters, digits and hyphens, starting \
                         with a letter (it is part of derived names)"
                    ),
                );
            }
            if let Some(m) = expression_problem(&j.schedule) {
                self.err(jp.key("schedule"), m);
            }
            if let Some(m) = timezone_problem(&j.timezone) {
                self.err(jp.key("timezone"), m);
            }
            self.job_source(&jp, j);
            self.environment(&jp.key("environment"), &j.environment);
            if let Some(command) = &j.command {
                if command.is_empty() {
                    self.err(
                        jp.key("command"),
                        "command is empty; give the program and its arguments, e.g. \
                         [\"./manage.py\", \"clearsessions\"], or remove the key",
                    );
                }
            }
        }
    }

    /// Exactly one of `service` (an existing service) and `image` (not built from
    /// source), and the task size that results.
    fn job_source(&mut self, jp: &KeyPath, j: &Job) {
        let c = self.c;
        match (&j.service, &j.image) {
            (Some(_), Some(_)) => self.err(
                jp.key("image"),
                "give `service` (to reuse a service's image and settings) or `image`, not both",
            ),
            (None, None) => self.err(
                jp.clone(),
                "a job needs `service = \"<key>\"` (to reuse a service's image and settings) or \
                 `image`",
            ),
            (Some(svc), None) => match c.services.get(svc) {
                None => {
                    let known: Vec<String> = c.services.keys().map(|k| format!("`{k}`")).collect();
                    let hint = if known.is_empty() {
                        "the config has no services".to_string()
                    } else {
                        format!("services: {}", known.join(", "))
                    };
                    self.err(
                        jp.key("service"),
                        format!("`{svc}` is not a key of [services]; {hint}"),
                    );
                }
                Some(_) => {
                    let (cpu, memory) = j.task_size(&c.services);
                    self.task_size(jp, cpu, memory);
                }
            },
            (None, Some(image)) => {
                if let Image::Repository(r) = image {
                    if r.build.is_some() {
                        self.err(
                            jp.key("image").key("build"),
                            "a job does not build images; build it in a service and give the \
                             job `service = \"<key>\"`, or use a pushed image",
                        );
                        return;
                    }
                }
                self.image_at(jp.key("image"), image);
                let (cpu, memory) = j.task_size(&c.services);
                self.task_size(jp, cpu, memory);
            }
        }
    }
}

/// What is worth saying about jobs that does not stop a run: secret-looking plain
/// variables, and a task in a public subnet without a public IP (it cannot pull its image).
pub(super) fn warnings(c: &Config, out: &mut Vec<Problem>) {
    for (key, j) in &c.jobs {
        let jp = root("jobs").key(key);
        for name in j.environment.keys().filter(|n| looks_secret(n)) {
            out.push(Problem::at(
                jp.key("environment").key(name),
                format!(
                    "`{name}` looks like a secret; plain environment values are visible in the \
                     task definition to anyone who can describe it (reuse a service that `uses` \
                     the secret instead)"
                ),
            ));
        }
        if j.subnet_kind(&c.services) == SubnetKind::Public && j.assign_public_ip == Some(false) {
            out.push(Problem::at(
                jp.key("assign_public_ip"),
                "a task in a public subnet without a public IP cannot reach the internet, so it \
                 cannot pull images from outside the VPC and will fail to start; remove \
                 `assign_public_ip = false` unless the VPC has endpoints for them",
            ));
        }
    }
}
