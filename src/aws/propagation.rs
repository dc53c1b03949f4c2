//! AWS's eventual consistency, as the errors it answers while something made a moment ago
//! is not yet visible everywhere. A create (or the first call naming what was just created)
//! that meets one of these has not happened and can be sent again; each caller bounds that
//! with [`PROPAGATION`]. The list follows terraform-provider-aws's retry lists, cited per
//! entry; tests/common/realism.rs reproduces each of them.

use std::time::Duration;

use super::{code_of, not_yet_visible, says};

/// How long a call keeps meeting propagation errors before they count as real (an IAM role
/// whose trust policy is wrong never becomes assumable). terraform-provider-aws waits
/// `propagationTimeout` (2 min) for IAM; ECS's own propagation settles within a minute.
pub const PROPAGATION: Duration = Duration::from_secs(60);

/// ECS's `InvalidParameterException`/`ClientException` messages about something that
/// exists but has not propagated yet.
const ECS_MESSAGES: &[&str] = &[
    // An account's first ECS use: the service-linked role ECS just made
    // (terraform `retryClusterCreate`, `retryServiceCreate`).
    "Unable to assume the service linked role",
    // A task or execution role created a moment ago (terraform `retryServiceCreate`).
    "unable to assume the role",
    // A target group a listener or rule was just made to forward to
    // (terraform `retryServiceCreate`).
    "does not have an associated load balancer",
];

/// EventBridge Scheduler's `ValidationException` for a role it cannot assume yet: it checks
/// the target's role at CreateSchedule / UpdateSchedule, and a role created a moment ago
/// has not propagated to it (terraform `scheduler/retry.go`, `retryWhenIAMNotPropagated`).
pub const SCHEDULER_ROLE_MESSAGE: &str =
    "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.";

/// True for an answer that means "not propagated yet": EC2's `*.NotFound` for an id just
/// created (terraform EC2 `RetryWhenNotFound`), ECS's `ClusterNotFoundException` right after
/// `CreateCluster` (terraform `retryServiceCreate`) and [`ECS_MESSAGES`], IAM's
/// `ConcurrentModification` (terraform `iam/role_policy_attachment.go`), and Scheduler's
/// [`SCHEDULER_ROLE_MESSAGE`].
pub fn not_yet_propagated(e: &anyhow::Error) -> bool {
    match code_of(e) {
        Some("ValidationException") => says(e, "ValidationException", SCHEDULER_ROLE_MESSAGE),
        Some("InvalidParameterException" | "ClientException") => {
            let text = format!("{e:#}").to_lowercase();
            ECS_MESSAGES
                .iter()
                .any(|m| text.contains(&m.to_lowercase()))
        }
        Some("ClusterNotFoundException" | "ConcurrentModification") => true,
        _ => not_yet_visible(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;

    fn aws(code: &str, text: &str) -> anyhow::Error {
        anyhow::Error::new(AwsError {
            code: Some(code.to_string()),
            text: format!("{code}: {text}"),
        })
    }

    #[test]
    fn scheduler_s_role_check_is_propagation_other_validation_errors_are_not() {
        assert!(not_yet_propagated(&aws(
            "ValidationException",
            SCHEDULER_ROLE_MESSAGE
        )));
        assert!(!not_yet_propagated(&aws(
            "ValidationException",
            "Invalid Schedule Expression cron(0 3 * * *)."
        )));
    }
}
