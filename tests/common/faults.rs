//! Fault injection for the recording [`Proxy`](super::Proxy): latency, throttling and 503
//! answers, answers lost after moto executed the call, and scripted errors on the first k
//! calls of an operation. Loopback only, bounded (rates and counts), and deterministic: each
//! decision is a function of the seed, the operation and how many calls of that operation
//! came before, so concurrent calls of other operations do not shift it.
//!
//! Errors are written in each protocol's format so the SDK classifies them as AWS would
//! send them: EC2 XML, awsQuery `ErrorResponse` (IAM, ELBv2, RDS), awsJson (`X-Amz-Target`:
//! ECS, ECR, Logs, DynamoDB, ...) and restJson (EFS, ...). Calls on the run-lock table
//! ([`super::LOCK_TABLE`]) get latency but no errors unless [`Faults::include_lock_table`]:
//! the app's tests are about the steps, and the lock's handling of its own lost answers (a
//! resent PutItem meets its own item; src/lock.rs reads it back and checks the token) has
//! its own test in tests/locking.rs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::{Call, ProxyBody};

/// What to inject. `Faults::default()` injects nothing.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay before every call is forwarded.
    pub latency: Duration,
    /// Share of calls answered with throttling or a bare 503, without forwarding.
    pub error_rate: f64,
    /// Share of calls forwarded to moto (so they execute) whose answer is replaced by a 503.
    pub lost_response_rate: f64,
    /// `error_rate` and `lost_response_rate` apply to writes only ([`Call::is_read`]).
    pub only_writes: bool,
    /// EC2's `DependencyViolation` (HTTP 400) on the first k calls of an operation, without
    /// forwarding.
    pub dependency_violation: Vec<(String, u32)>,
    /// Any error on the first k calls of an operation, without forwarding.
    pub inject: Vec<Injection>,
    /// Lost answers on the first k calls of an operation: forwarded (so they execute), the
    /// answer replaced by a 503.
    pub lose_first: Vec<(String, u32)>,
    pub seed: u64,
    /// Apply the faults to calls on the run-lock table too (by default they only get the
    /// latency).
    pub include_lock_table: bool,
}

/// An error answered to the first `first` calls of `operation` (not forwarded).
#[derive(Debug, Clone)]
pub struct Injection {
    pub operation: String,
    pub first: u32,
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Injection {
    pub fn new(operation: &str, first: u32, status: u16, code: &str, message: &str) -> Self {
        Injection {
            operation: operation.to_owned(),
            first,
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// What the proxy does with one call.
pub(super) enum Action {
    Forward,
    /// Answer this instead of forwarding.
    Answer(Response<ProxyBody>),
    /// Forward, drop moto's answer, answer this.
    LoseAnswer(Response<ProxyBody>),
}

/// The wire format of a call's errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Protocol {
    Ec2,
    Query,
    AwsJson,
    RestJson,
}

pub(super) fn protocol(call: &Call, headers: &HeaderMap, body: &[u8]) -> Protocol {
    if call.service == "ec2" {
        Protocol::Ec2
    } else if headers.contains_key("x-amz-target") {
        Protocol::AwsJson
    } else if super::form_body(headers, body).is_some_and(|f| super::action_param(f).is_some()) {
        Protocol::Query
    } else {
        Protocol::RestJson
    }
}

/// The proxy's fault state.
pub(super) struct FaultState {
    faults: Faults,
    /// Calls seen per operation.
    seen: Mutex<HashMap<String, u64>>,
    pub(super) injected: Arc<AtomicUsize>,
}

impl FaultState {
    pub(super) fn new(faults: Faults) -> FaultState {
        FaultState {
            faults,
            seen: Mutex::default(),
            injected: Arc::default(),
        }
    }

    pub(super) fn latency(&self) -> Duration {
        self.faults.latency
    }

    /// Decide what happens to `call` (its request headers and body given).
    pub(super) fn decide(
        &self,
        call: &Call,
        headers: &HeaderMap,
        body: &[u8],
        lock_call: bool,
    ) -> Action {
        if lock_call && !self.faults.include_lock_table {
            return Action::Forward;
        }
        let n = {
            let mut seen = self.seen.lock().unwrap();
            let n = seen.entry(call.operation.clone()).or_default();
            *n += 1;
            *n
        };
        let proto = protocol(call, headers, body);
        let action = self.choose(call, n, proto);
        if !matches!(action, Action::Forward) {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        action
    }

    fn choose(&self, call: &Call, n: u64, proto: Protocol) -> Action {
        let f = &self.faults;
        let first = |op: &str, k: u32| op == call.operation && n <= u64::from(k);
        if let Some(i) = f.inject.iter().find(|i| first(&i.operation, i.first)) {
            return Action::Answer(error(proto, i.status, &i.code, &i.message));
        }
        if f.dependency_violation.iter().any(|(op, k)| first(op, *k)) {
            let message = "resource has a dependent object (injected by the test proxy)";
            return Action::Answer(error(proto, 400, "DependencyViolation", message));
        }
        if f.lose_first.iter().any(|(op, k)| first(op, *k)) {
            return Action::LoseAnswer(unavailable());
        }
        if f.only_writes && call.is_read() {
            return Action::Forward;
        }
        let mut rng = Rng::new(f.seed, &call.operation, n);
        if rng.chance(f.error_rate) {
            return Action::Answer(if rng.chance(0.5) {
                unavailable()
            } else {
                throttling(proto)
            });
        }
        if rng.chance(f.lost_response_rate) {
            return Action::LoseAnswer(unavailable());
        }
        Action::Forward
    }
}

/// xorshift64*, seeded by (seed, operation, call number).
struct Rng(u64);

impl Rng {
    fn new(seed: u64, operation: &str, n: u64) -> Rng {
        // FNV-1a of the operation name.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in operation.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng((seed ^ h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
        for _ in 0..4 {
            rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

pub(super) fn response(status: u16, headers: &[(&str, &str)], body: String) -> Response<ProxyBody> {
    let mut b = Response::builder().status(StatusCode::from_u16(status).expect("status"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    )
    .expect("fault response")
}

/// A bare 503 with an empty body (a load balancer's "service unavailable").
fn unavailable() -> Response<ProxyBody> {
    response(503, &[], String::new())
}

pub(super) fn throttling(proto: Protocol) -> Response<ProxyBody> {
    let message = "Rate exceeded (injected by the test proxy)";
    match proto {
        Protocol::Ec2 => error(proto, 503, "RequestLimitExceeded", message),
        Protocol::Query => error(proto, 400, "Throttling", message),
        Protocol::AwsJson => error(proto, 400, "ThrottlingException", message),
        Protocol::RestJson => error(proto, 429, "ThrottlingException", message),
    }
}

/// An error answer in the protocol's own format.
pub(super) fn error(
    proto: Protocol,
    status: u16,
    code: &str,
    message: &str,
) -> Response<ProxyBody> {
    let xml = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut answer = match proto {
        Protocol::Ec2 => response(
            status,
            &[(CONTENT_TYPE.as_str(), "text/xml")],
            format!(
                "<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors>\
                 <RequestID>fault-injected</RequestID></Response>",
                xml(code),
                xml(message)
            ),
        ),
        Protocol::Query => response(
            status,
            &[(CONTENT_TYPE.as_str(), "text/xml")],
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message>\
                 </Error><RequestId>fault-injected</RequestId></ErrorResponse>",
                xml(code),
                xml(message)
            ),
        ),
        Protocol::AwsJson | Protocol::RestJson => {
            let content_type = if proto == Protocol::AwsJson {
                "application/x-amz-json-1.1"
            } else {
                "application/json"
            };
            response(
                status,
                &[
                    (CONTENT_TYPE.as_str(), content_type),
                    ("x-amzn-ErrorType", code),
                ],
                serde_json::json!({ "__type": code, "message": message }).to_string(),
            )
        }
    };
    // For the proxy's own records (the SDK ignores it).
    if let Ok(v) = hyper::header::HeaderValue::from_str(code) {
        answer.headers_mut().insert(ERROR_CODE_HEADER, v);
    }
    answer
}

/// The header naming the code of an error the proxy answered itself.
pub(super) const ERROR_CODE_HEADER: &str = "x-test-proxy-error-code";
