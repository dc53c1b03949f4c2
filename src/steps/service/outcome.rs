//! The vocabulary of a wait for a deployment, shared by the rolling wait (`rollout`) and
//! the traffic-shifting one (`lifecycle`): how a wait ended, where one look leaves a
//! deployment, and which service events a wait has shown.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_ecs::types::{Service, ServiceEvent};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

/// How a wait for a deployment ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
    /// Settled: the service as the last look saw it.
    Stable(Box<Service>),
    /// The circuit breaker rolled back (or ECS marked the deployment FAILED).
    Failed(String),
    /// Still in progress when the timeout hit: the last observed state, and how long the
    /// wait actually lasted (its last look is at the deadline).
    TimedOut(String, Duration),
}

/// Where one poll leaves a deployment (pure; see [`judge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Stable,
    Failed(String),
    InProgress(String),
}

/// Which service events a wait shows: only those newer than the mutation (or the
/// deployment) it follows, each once. ECS keeps a service's last 100 events, so without
/// this a wait would first replay the previous deployment's "has reached a steady state".
#[derive(Debug, Default)]
pub struct Since {
    /// Events created before this instant (AWS's clock, like the events') are old.
    after: Option<DateTime>,
    /// Events already shown, or already there when the mutation answered.
    seen: HashSet<String>,
}

impl Since {
    /// Events of the deployment that started at `started` (RFC 3339, as
    /// [`Unsettled::since`] has it) or later.
    pub fn deployment(started: Option<&str>) -> Since {
        Since {
            after: started.and_then(|t| DateTime::from_str(t, Format::DateTime).ok()),
            seen: HashSet::new(),
        }
    }

    /// Events newer than a CreateService / UpdateService answer: none of the events it
    /// lists, and nothing from before the deployment it started.
    pub fn mutation(answer: &Service, deployment: &str) -> Since {
        let started = answer
            .deployments()
            .iter()
            .find(|d| d.id() == Some(deployment))
            .and_then(|d| d.created_at())
            .copied();
        Since {
            after: started,
            seen: answer
                .events()
                .iter()
                .filter_map(|e| e.id().map(str::to_string))
                .collect(),
        }
    }

    /// The messages of `events` (newest first, as ECS lists them) not shown yet and not
    /// older than the start, oldest first; they count as shown from now on.
    pub fn fresh(&mut self, events: &[ServiceEvent]) -> Vec<String> {
        let mut out = Vec::new();
        for e in events.iter().rev() {
            let (Some(id), Some(msg)) = (e.id(), e.message()) else {
                continue;
            };
            let old = matches!((self.after, e.created_at()), (Some(a), Some(t)) if *t < a);
            if !old && self.seen.insert(id.to_string()) {
                out.push(msg.to_string());
            }
        }
        out
    }
}
