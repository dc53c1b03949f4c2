//! Classifying AWS errors by their error code, in one place, so steps never match on
//! message strings scattered around. Which codes mean "not found" is in `gone.rs`.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The AWS error code of an SDK error, if the service sent one.
pub fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.code()
}

/// `code: message` of an SDK error, falling back to the SDK's own description
/// (connection errors, timeouts) so the user always sees what went wrong.
pub fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            if matches!(e, SdkError::DispatchFailure(_)) {
                s.push_str(UNREACHABLE_HINT);
            }
            s
        }
    }
}

/// Said after a request that never reached AWS (the SDK gave up after its retries).
const UNREACHABLE_HINT: &str = " (hint: AWS could not be reached; check the network, any \
     HTTPS proxy settings, and AWS_ENDPOINT_URL / --endpoint-url if set)";

/// Turn an SDK error into an `anyhow::Error` carrying the AWS code and message.
pub fn err<E, R>(e: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let text = describe(&e);
    anyhow::Error::new(AwsError {
        code: e.code().map(str::to_string),
        text,
    })
}

/// Await an SDK call whose answer carries nothing the step needs: `Ok(())`, or its error
/// as [`err`] makes it.
pub async fn sent<T, E, R>(
    call: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
) -> anyhow::Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    call.await.map(|_| ()).map_err(err)
}

/// Await an SDK call and keep its answer, or its error as [`err`] makes it. For a paginated
/// listing: `answer(call.into_paginator().items().send().try_collect())`, every item.
pub async fn answer<T, E, R>(
    call: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
) -> anyhow::Result<T>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    call.await.map_err(err)
}

/// Error codes of throttling and of server-side trouble: the request may not have been
/// executed, or may have been executed with its answer lost.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
];

/// True when a call failed in a way that says nothing about whether it was executed:
/// timeouts, connection failures, unreadable answers, 5xx answers and throttling. A
/// non-idempotent create failing like this may have created its resource.
pub fn is_transient_sdk<E: ProvideErrorMetadata>(
    e: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error() || e.code().is_some_and(is_transient_code)
        }
        _ => false,
    }
}

/// True for the error codes of throttling and server-side trouble.
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

/// Like [`err`], and marks the error [`Transient`] when [`is_transient_sdk`] says so (see
/// [`is_transient`]).
pub fn err_classified<E>(e: SdkError<E, aws_smithy_runtime_api::http::Response>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = is_transient_sdk(&e);
    let text = describe(&e);
    let inner = AwsError {
        code: e.code().map(str::to_string),
        text,
    };
    if transient {
        anyhow::Error::new(Transient(inner))
    } else {
        anyhow::Error::new(inner)
    }
}

/// An [`AwsError`] that says nothing about whether the call was executed (see
/// [`is_transient_sdk`]); displays as, and has the code of, the wrapped error.
#[derive(Debug)]
pub struct Transient(pub AwsError);

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

// No `source`: `{:#}` would print the text twice; [`code_of`] looks inside instead.
impl std::error::Error for Transient {}

/// True when an `anyhow::Error` made by [`err_classified`] is transient, or carries a
/// transient AWS code.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Transient>()) || code_of(e).is_some_and(is_transient_code)
}

/// An AWS failure, classified by code; `anyhow` carries it up to the engine.
#[derive(Debug)]
pub struct AwsError {
    pub code: Option<String>,
    pub text: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for AwsError {}

/// The AWS error code inside an `anyhow::Error`, if it came from AWS.
pub fn code_of(e: &anyhow::Error) -> Option<&str> {
    e.chain()
        .find_map(|c| {
            c.downcast_ref::<AwsError>()
                .or_else(|| c.downcast_ref::<Transient>().map(|t| &t.0))
        })
        .and_then(|a| a.code.as_deref())
}

/// An error that reached `main` gets the hint of the first AWS code in its chain.
impl crate::error::Hint for anyhow::Error {
    fn hint(&self) -> Option<String> {
        code_of(self).and_then(hint_for).map(str::to_string)
    }
}

/// A hint for common AWS error codes, naming what the user can do next.
pub fn hint_for(code: &str) -> Option<&'static str> {
    Some(match code {
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
            "the credentials in use lack this permission; see docs/iam.md for the deployer policy"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the AWS credentials expired; refresh them (e.g. `aws sso login`) and run again"
        }
        "DependencyViolation" => {
            "AWS still holds resources that use this one (often ENIs of stopped tasks); run the command again in a few minutes"
        }
        "VpcLimitExceeded" | "LimitExceededException" | "AddressLimitExceeded" => {
            "an account quota is reached; delete unused resources or request a quota increase"
        }
        "InvalidParameterException" | "InvalidParameterValue" | "ValidationError" => {
            "AWS rejected a value; check the config key named above"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    #[test]
    fn an_unreachable_endpoint_gets_a_hint() {
        let e: SdkError<aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError, ()> =
            SdkError::dispatch_failure(ConnectorError::io("Connection refused".into()));
        let text = describe(&e);
        assert!(text.contains("Connection refused"), "{text}");
        assert!(text.ends_with(UNREACHABLE_HINT), "{text}");
    }
}
