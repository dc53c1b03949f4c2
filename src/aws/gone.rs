//! Which AWS error codes say "the thing is not there" — one table — and the classifiers
//! steps use on errors (already gone, not yet visible, still in use).
//!
//! A service's "not found" is only trusted from that service: the ELBv2, NAT gateway and
//! VPC endpoint rows are asked for by their own classifiers, so a code of one API never
//! counts as "gone" for another.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::errors::{code, code_of, AwsError};

/// Who a "not found" code is trusted from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    /// Any step ([`is_gone`]); every EC2 `*.NotFound` code counts as well.
    Any,
    /// ELBv2 ([`is_elb_gone`]).
    Elb,
    /// EC2's NAT gateway calls ([`is_nat_gateway_gone`]).
    NatGateway,
    /// EC2's VPC endpoint calls ([`is_vpc_endpoint_gone`]).
    VpcEndpoint,
    /// Application Auto Scaling ([`is_autoscaling_gone`]).
    AutoScaling,
}

/// Every "not found" / "already gone" code ecsdeploy knows, with who it is trusted from.
const GONE: &[(Scope, &str)] = &[
    (Scope::Any, "Gateway.NotAttached"),
    (Scope::Any, "NoSuchEntity"),
    (Scope::Any, "ResourceNotFoundException"),
    // DynamoDB's DescribeContinuousBackups; moto's DescribeTimeToLive.
    (Scope::Any, "TableNotFoundException"),
    (Scope::Any, "ResourceNotFound"),
    (Scope::Any, "RepositoryNotFoundException"),
    (Scope::Any, "ClusterNotFoundException"),
    (Scope::Any, "ServiceNotFoundException"),
    (Scope::Any, "ServiceNotActiveException"),
    (Scope::Any, "DBInstanceNotFound"),
    (Scope::Any, "DBSubnetGroupNotFoundFault"),
    (Scope::Any, "FileSystemNotFound"),
    (Scope::Any, "MountTargetNotFound"),
    (Scope::Any, "AccessPointNotFound"),
    (Scope::Elb, "LoadBalancerNotFound"),
    (Scope::Elb, "TargetGroupNotFound"),
    (Scope::Elb, "ListenerNotFound"),
    (Scope::Elb, "RuleNotFound"),
    (Scope::NatGateway, "NatGatewayNotFound"),
    (Scope::NatGateway, "InvalidNatGatewayID.NotFound"),
    // DescribeVpcEndpoints answers the second; DeleteVpcEndpoints reports either in
    // `Unsuccessful`.
    (Scope::VpcEndpoint, "InvalidVpcEndpoint.NotFound"),
    (Scope::VpcEndpoint, "InvalidVpcEndpointId.NotFound"),
    (Scope::AutoScaling, "ObjectNotFoundException"),
];

/// Application Auto Scaling on moto says `ValidationException` with one of these messages
/// where AWS says `ObjectNotFoundException`.
const AUTOSCALING_GONE_MESSAGES: &[&str] = &["No scalable target found", "No scaling policy found"];

fn in_table(scope: Scope, code: &str) -> bool {
    GONE.iter().any(|&(s, c)| s == scope && c == code)
}

/// True for a code any step may take as "already gone": the table's general rows and every
/// EC2 `*.NotFound`.
pub fn is_gone_code(code: &str) -> bool {
    code.ends_with(".NotFound") || in_table(Scope::Any, code)
}

/// True when an error says the resource is already gone.
pub fn is_gone(e: &anyhow::Error) -> bool {
    code_of(e).is_some_and(is_gone_code)
}

/// True when an SDK error says the resource does not exist.
pub fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    code(e).is_some_and(is_gone_code)
}

/// True for ELBv2's "no such resource" codes (which [`is_gone`] does not take).
pub fn is_elb_gone(e: &anyhow::Error) -> bool {
    code_of(e).is_some_and(|c| in_table(Scope::Elb, c))
}

/// True when an error says a NAT gateway does not exist.
pub fn is_nat_gateway_gone(e: &anyhow::Error) -> bool {
    code_of(e).is_some_and(|c| in_table(Scope::NatGateway, c))
}

/// True for the codes that say a VPC endpoint does not exist.
pub fn is_vpc_endpoint_gone(code: Option<&str>) -> bool {
    code.is_some_and(|c| in_table(Scope::VpcEndpoint, c))
}

/// True when an Application Auto Scaling call failed because the target (or policy) is
/// already gone. AWS says `ObjectNotFoundException`; moto says `ValidationException: No
/// scalable target found ...` (or `No scaling policy found ...`).
pub fn is_autoscaling_gone(e: &anyhow::Error) -> bool {
    let message = e
        .chain()
        .filter_map(|c| c.downcast_ref::<AwsError>())
        .find_map(|a| a.text.split_once(": ").map(|(_, m)| m));
    autoscaling_gone(code_of(e), message)
}

fn autoscaling_gone(code: Option<&str>, message: Option<&str>) -> bool {
    match code {
        Some("ValidationException") => {
            message.is_some_and(|m| AUTOSCALING_GONE_MESSAGES.iter().any(|p| m.starts_with(p)))
        }
        Some(c) => in_table(Scope::AutoScaling, c),
        None => false,
    }
}

/// True for EC2's `*.NotFound` on a resource that was just created and is not yet visible
/// to every endpoint.
pub fn not_yet_visible(e: &anyhow::Error) -> bool {
    code_of(e).is_some_and(|c| c.ends_with(".NotFound"))
}

/// True for `DependencyViolation`: AWS still holds something that uses the resource
/// (typically ENIs of stopped tasks that take minutes to release).
pub fn is_dependency_violation(e: &anyhow::Error) -> bool {
    code_of(e) == Some("DependencyViolation")
}

/// True for an AWS error with `code` whose message contains `needle` (some APIs, such as
/// Application Auto Scaling, report several distinct conditions under one code).
pub fn says(e: &anyhow::Error, code: &str, needle: &str) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<AwsError>())
        .any(|a| a.code.as_deref() == Some(code) && a.text.contains(needle))
}

/// Map "already gone" ([`is_gone`]) to success: deletes are idempotent.
pub fn gone_ok<T: Default>(r: anyhow::Result<T>) -> anyhow::Result<T> {
    gone_ok_if(is_gone, r)
}

/// `Some` value of `r`; `None` when it failed with an error `gone` accepts: for a delete
/// that has nothing left to do once the resource is found gone.
pub fn unless_gone<T>(
    gone: impl Fn(&anyhow::Error) -> bool,
    r: anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Map an error `gone` accepts to success (the default value): for the APIs whose "not
/// found" [`is_gone`] does not take, such as [`is_elb_gone`].
pub fn gone_ok_if<T: Default>(
    gone: impl Fn(&anyhow::Error) -> bool,
    r: anyhow::Result<T>,
) -> anyhow::Result<T> {
    match r {
        Err(e) if gone(&e) => Ok(T::default()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_codes_stay_in_their_scope() {
        assert!(is_gone_code("InvalidVpcID.NotFound"));
        assert!(is_gone_code("NoSuchEntity"));
        assert!(!is_gone_code("LoadBalancerNotFound"));
        assert!(!is_gone_code("NatGatewayNotFound"));
        assert!(!is_gone_code("ObjectNotFoundException"));
        assert!(is_vpc_endpoint_gone(Some("InvalidVpcEndpoint.NotFound")));
        assert!(!is_vpc_endpoint_gone(Some("InvalidRoute.NotFound")));
    }

    #[test]
    fn autoscaling_gone_errors() {
        assert!(autoscaling_gone(Some("ObjectNotFoundException"), None));
        assert!(autoscaling_gone(
            Some("ValidationException"),
            Some("No scalable target found for service namespace: ecs, resource ID: x")
        ));
        assert!(autoscaling_gone(
            Some("ValidationException"),
            Some("No scaling policy found for service namespace: ecs")
        ));
        assert!(!autoscaling_gone(
            Some("ValidationException"),
            Some("ECS service doesn't exist: service/a/b")
        ));
        assert!(!autoscaling_gone(None, None));
    }
}
