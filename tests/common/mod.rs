//! Shared integration-test harness: runs the real `ecsdeploy` binary against the AWS
//! emulator moto and records every AWS API call it makes.
//!
//! * [`moto()`] starts one `moto_server` per test binary (killed when the test process exits).
//! * [`Proxy`] is a recording reverse proxy in front of moto. It stamps every request with
//!   `x-moto-account-id`, so each test works in its own account ([`unique_account`]) and tests
//!   run in parallel without resetting moto.
//! * [`sdk_config`] builds the config for a test's own assertion clients (through the proxy,
//!   so they see the same account); [`run`] / [`run_async`] run the binary.
//!
//! Typical test: start a proxy, `proxy.clear()`, run the binary, read `proxy.writes()`.
//! Calls on ecsdeploy's run-lock table ([`LOCK_TABLE`]) are not among the writes: every `up`
//! and `down` takes and releases the lock; [`Proxy::lock_calls`] lists them.
#![allow(dead_code)] // each test binary uses a different subset of the harness

mod autoscaling;
pub mod boto;
mod capacity;
mod cross_account;
pub mod faults;
pub mod inventory;
mod pages;
mod reachability;
pub mod realism;
pub mod registry;
mod service_deployments;
mod service_settings;
mod strategies;
pub mod tasks;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, EXPECT};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// How long moto may take to start answering HTTP.
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one run of the binary may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// moto_server
// ---------------------------------------------------------------------------------------------

/// The moto_server shared by all tests of one test binary.
pub struct Moto {
    port: u16,
    log: PathBuf,
    /// The `sh` wrapper; its stdin pipe stays open for the life of the process. When the
    /// process exits (however it exits) the pipe closes and the wrapper kills moto.
    _wrapper: Child,
}

impl Moto {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// moto's own request log (useful when a test fails strangely).
    pub fn log(&self) -> &Path {
        &self.log
    }
}

/// Starts moto on first use (once per test binary) and returns it once it answers HTTP.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto)
}

/// Runs moto in the background and stops it as soon as this script's stdin reaches EOF.
/// Exits (with moto's status) if moto dies on its own, so startup failures are noticed.
const MOTO_WRAPPER: &str = r#"
exec 3<&0 </dev/null
"$0" -H 127.0.0.1 -p "$1" &
moto=$!
(read -r _ <&3; kill "$moto" 2>/dev/null) &
watcher=$!
wait "$moto"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

fn start_moto() -> Moto {
    let server = moto_server_path();
    let port = free_port();
    let log = moto_log_path();
    let log_file = std::fs::File::create(&log).expect("create moto log file");
    let mut wrapper = Command::new("sh")
        .args(["-c", MOTO_WRAPPER])
        .arg(&server)
        .arg(port.to_string())
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_ECS_SERVICE_RUNNING", "1")
        .env_remove("MOTO_ACCOUNT_ID") // would override x-moto-account-id
        .stdin(Stdio::piped())
        .stdout(log_file.try_clone().expect("clone log file"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
    wait_until_answering(port, &mut wrapper, &log);
    Moto {
        port,
        log,
        _wrapper: wrapper,
    }
}

/// `$ECSDEPLOY_MOTO_SERVER`, else the repo's `.venv/bin/moto_server`.
fn moto_server_path() -> PathBuf {
    let path = std::env::var_os("ECSDEPLOY_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    assert!(
        path.is_file(),
        "moto_server not found at {}: run ./scripts/venv.sh (or ./scripts/test.sh) first",
        path.display()
    );
    path
}

/// The Python of the venv moto_server runs in (it has boto3): for test stubs that act on
/// the emulator the way an external tool would (`docker push` writing to ECR).
pub fn venv_python() -> PathBuf {
    moto_server_path().with_file_name("python")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

/// One log per test file (`moto-harness.log`), overwritten on the next run.
fn moto_log_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let stem = exe.file_stem().expect("exe name").to_string_lossy();
    let name = stem.rsplit_once('-').map_or(&*stem, |(name, _hash)| name);
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{name}.log"))
}

fn wait_until_answering(port: u16, wrapper: &mut Child, log: &Path) {
    let deadline = Instant::now() + MOTO_START_TIMEOUT;
    while !answers_http(port) {
        if let Some(status) = wrapper.try_wait().expect("poll moto") {
            panic!("moto_server exited ({status}); see {}", log.display());
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on port {port} within {MOTO_START_TIMEOUT:?}; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut head = [0u8; 5];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut head).is_ok()
        && &head == b"HTTP/"
}

// ---------------------------------------------------------------------------------------------
// Accounts and SDK config
// ---------------------------------------------------------------------------------------------

/// A fresh 12-digit AWS account id: `1` + process id (7 digits) + per-process counter
/// (4 digits). Distinct within a process and across concurrently running test binaries.
pub fn unique_account() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(n < 10_000, "too many accounts in one test process");
    format!("1{:07}{:04}", std::process::id() % 10_000_000, n)
}

/// Config for a test's own assertion clients: static `testing` credentials, `region`, and the
/// proxy as endpoint (so they see the proxy's account). Ignores the developer's environment
/// and, as the empty environment has no `HOME`, their `~/.aws` files.
pub async fn sdk_config(proxy: &Proxy, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .region(Region::new(region.to_owned()))
        .endpoint_url(proxy.url())
        .load()
        .await
}

// ---------------------------------------------------------------------------------------------
// Recording proxy
// ---------------------------------------------------------------------------------------------

/// One AWS API call seen by a [`Proxy`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Call {
    /// SigV4 signing name from the `Authorization` credential scope (`ec2`, `ecs`, `iam`, ...);
    /// `unknown` for unsigned requests.
    pub service: String,
    /// `CreateVpc`, `CreateService`, ...; `METHOD /path` for calls that name no operation.
    pub operation: String,
}

impl Call {
    pub fn new(service: &str, operation: &str) -> Call {
        Call {
            service: service.to_owned(),
            operation: operation.to_owned(),
        }
    }

    /// Whether the call only reads state. Rule: the operation starts with one of
    /// [`READ_PREFIXES`], or it is a `GET`/`HEAD` request that names no operation.
    /// Everything else is a write.
    pub fn is_read(&self) -> bool {
        READ_PREFIXES.iter().any(|p| self.operation.starts_with(p))
            || self.operation.starts_with("GET /")
            || self.operation.starts_with("HEAD /")
    }
}

/// ecsdeploy's run-lock table (src/lock.rs): every `up`/`down` writes to it.
pub const LOCK_TABLE: &str = "ecsdeploy-locks";

/// Whether a request body names the lock table (DynamoDB's JSON protocol).
fn names_lock_table(body: &str) -> bool {
    body.contains(&format!("\"TableName\":\"{LOCK_TABLE}\""))
}

/// Operation-name prefixes of AWS API calls that do not change state.
pub const READ_PREFIXES: &[&str] = &[
    "Describe", "List", "Get", "BatchGet", "Scan", "Query", "Search", "Validate", "Lookup",
];

/// A recording reverse proxy in front of [`moto()`] that puts every request into one moto
/// account. It serves on its own thread, so blocking calls in a test ([`run`]) cannot stall
/// it, and it stops when dropped (or when the test process exits).
pub struct Proxy {
    addr: SocketAddr,
    account: String,
    calls: Arc<Mutex<Vec<Call>>>,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
    spans: Arc<Mutex<Vec<Span>>>,
    injected: Arc<AtomicUsize>,
    realism_acted: Arc<Mutex<Vec<String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// When a call reached the proxy and when its answer was ready (index-aligned with calls).
type Span = (Instant, Option<Instant>);

impl Proxy {
    /// Starts a proxy on a free loopback port that sends everything to `account_id`.
    pub async fn start(account_id: &str) -> Proxy {
        Proxy::start_with(account_id, faults::Faults::default()).await
    }

    /// [`Proxy::start`] injecting `faults` (see [`faults`]).
    pub async fn start_with(account_id: &str, faults: faults::Faults) -> Proxy {
        Proxy::start_full(account_id, faults, None).await
    }

    /// [`Proxy::start`] answering as AWS does where moto does not (see [`realism`]).
    pub async fn start_realistic(account_id: &str, realism: realism::Realism) -> Proxy {
        Proxy::start_full(account_id, faults::Faults::default(), Some(realism)).await
    }

    /// [`Proxy::start`] with `faults` and, optionally, the AWS-realism layer.
    pub async fn start_full(
        account_id: &str,
        faults: faults::Faults,
        realism: Option<realism::Realism>,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy port");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("proxy addr");
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let state = Arc::new(ProxyState::new(account_id, moto().port(), faults, realism));
        let realism_acted = state
            .realism
            .as_ref()
            .map_or_else(Arc::default, |r| r.acted.clone());
        let calls = state.calls.clone();
        let bodies = state.bodies.clone();
        let spans = state.spans.clone();
        let injected = state.faults.injected.clone();
        std::thread::Builder::new()
            .name(format!("proxy-{account_id}"))
            .spawn(move || serve(listener, state, stopped))
            .expect("spawn proxy thread");
        Proxy {
            addr,
            account: account_id.to_owned(),
            calls,
            bodies,
            spans,
            injected,
            realism_acted,
            _stop: stop,
        }
    }

    /// What the realism layer did so far, one line per answer it gave, with its error code
    /// (`CreateCluster: InvalidParameterException`), or changed (`DescribeServices:
    /// timeline`).
    pub fn realism_acted(&self) -> Vec<String> {
        self.realism_acted.lock().unwrap().clone()
    }

    /// How many faults (errors, lost answers) the proxy has injected so far.
    pub fn faults_injected(&self) -> usize {
        self.injected.load(Ordering::Relaxed)
    }

    /// The round-trip depth of the calls so far: the longest chain of calls each of which
    /// was sent only after the previous one had been answered. Calls in flight together
    /// count once, so this is what a run costs in latency on a real network, whatever the
    /// emulator's own throughput.
    pub fn depth(&self) -> usize {
        let mut spans: Vec<(Instant, Instant)> = self
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(start, end)| end.map(|end| (*start, end)))
            .collect();
        spans.sort();
        let mut depth = vec![1usize; spans.len()];
        for i in 0..spans.len() {
            for j in 0..i {
                if spans[j].1 <= spans[i].0 {
                    depth[i] = depth[i].max(depth[j] + 1);
                }
            }
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// Every answered call since the last [`Proxy::clear`] with when it reached the proxy
    /// and when its answer was ready, both relative to `since` (the benchmark's
    /// `ECSDEPLOY_BENCH_TRACE`).
    #[allow(dead_code)]
    pub fn timeline(&self, since: Instant) -> Vec<(Call, Duration, Duration)> {
        let calls = self.calls();
        let spans = self.spans.lock().unwrap().clone();
        calls
            .into_iter()
            .zip(spans)
            .filter_map(|(c, (start, end))| {
                end.map(|end| (c, start.saturating_duration_since(since), end - start))
            })
            .collect()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Every call so far, in the order the proxy received them.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Forgets the calls recorded so far.
    pub fn clear(&self) {
        let mut bodies = self.bodies.lock().unwrap(); // same lock order as `handle`
        bodies.clear();
        self.calls.lock().unwrap().clear();
        self.spans.lock().unwrap().clear();
    }

    /// The request bodies of every call of `operation`, in order: what the binary *sent*,
    /// for settings moto accepts but does not echo back.
    pub fn bodies(&self, operation: &str) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The calls that may change state (see [`Call::is_read`] for the rule), except those on
    /// the run-lock table [`LOCK_TABLE`] (its PutItem/UpdateItem/DeleteItem/CreateTable are
    /// bookkeeping of every `up`/`down`, not changes to the app; see [`Proxy::lock_calls`]).
    pub fn writes(&self) -> Vec<Call> {
        self.calls_with_bodies()
            .into_iter()
            .filter(|(c, body)| !c.is_read() && !names_lock_table(body))
            .map(|(c, _)| c)
            .collect()
    }

    /// The calls (reads and writes) whose request body names the run-lock table
    /// [`LOCK_TABLE`], in order.
    pub fn lock_calls(&self) -> Vec<Call> {
        self.calls_with_bodies()
            .into_iter()
            .filter(|(_, body)| names_lock_table(body))
            .map(|(c, _)| c)
            .collect()
    }

    /// Every call with its request body ([`handle`] records both under the bodies lock, so
    /// they stay aligned).
    fn calls_with_bodies(&self) -> Vec<(Call, String)> {
        let bodies = self.bodies.lock().unwrap();
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .cloned()
            .zip(bodies.iter().map(|(_, b)| b.clone()))
            .collect()
    }

    /// Every ECS request so far, as (operation, JSON body), in order: for
    /// [`assert_ecs_requests_valid`].
    pub fn ecs_requests(&self) -> Vec<(String, String)> {
        self.calls_with_bodies()
            .into_iter()
            .filter(|(c, _)| c.service == "ecs")
            .map(|(c, body)| (c.operation, body))
            .collect()
    }

    /// The operation names of [`Proxy::calls`], in order.
    pub fn operations(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.operation).collect()
    }

    /// Index in [`Proxy::calls`] of the first call of `operation`.
    pub fn position(&self, operation: &str) -> Option<usize> {
        self.calls().iter().position(|c| c.operation == operation)
    }

    /// How many calls of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

struct ProxyState {
    account: HeaderValue,
    moto_port: u16,
    calls: Arc<Mutex<Vec<Call>>>,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
    spans: Arc<Mutex<Vec<Span>>>,
    client: Client<HttpConnector, Full<Bytes>>,
    faults: faults::FaultState,
    realism: Option<realism::RealismState>,
    /// Answers of idempotent creates whose answer was lost, by request body (see
    /// [`IDEMPOTENT`]).
    replays: Mutex<std::collections::HashMap<String, (StatusCode, HeaderMap, Bytes)>>,
}

/// Creates AWS documents as idempotent, which moto is not: ELBv2 CreateListener, "If you
/// attempt to create multiple listeners with the same settings, each call succeeds" (ELBv2
/// API reference, CreateListener), answering with the listener the first call made, where
/// moto makes a second one. The proxy keeps the answer of such a call whose answer it
/// lost (the only way the tests send the same create twice: the SDK's retry) and gives
/// it to the identical request that follows.
const IDEMPOTENT: &[&str] = &["CreateListener"];

impl ProxyState {
    fn new(
        account_id: &str,
        moto_port: u16,
        faults: faults::Faults,
        realism: Option<realism::Realism>,
    ) -> ProxyState {
        ProxyState {
            account: HeaderValue::from_str(account_id).expect("account id header value"),
            moto_port,
            calls: Arc::default(),
            bodies: Arc::default(),
            spans: Arc::default(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            faults: faults::FaultState::new(faults),
            replays: Mutex::default(),
            realism: realism.map(realism::RealismState::new),
        }
    }
}

/// The proxy thread: its own runtime, accepting connections until `stopped` fires.
fn serve(
    listener: TcpListener,
    state: Arc<ProxyState>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("proxy runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        tokio::select! {
            _ = accept_loop(listener, state) => {}
            _ = stopped => {}
        }
    });
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<ProxyState>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Records the call, stamps the account header, forwards to moto, returns moto's response.
async fn handle(
    state: Arc<ProxyState>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Ok(proxy_error(StatusCode::BAD_REQUEST, e)),
    };
    let call = call_of(&parts, &body);
    let lock_call = names_lock_table(&String::from_utf8_lossy(&body));
    let refusal = match &state.realism {
        Some(r) if !lock_call => match r.before(&call, &parts.headers, &body) {
            // What the layer cannot tell alone, it asks moto.
            None => autoscaling::refusal(&state, &call, &parts.headers, &body)
                .await
                .map(|answer| r.noted(&call, answer)),
            refused => refused,
        },
        _ => None,
    };
    // A deregistered scalable target takes its policies and scheduled actions with it.
    let cascade =
        (state.realism.is_some() && autoscaling::cascades(&call)).then(|| parts.headers.clone());
    let action = match refusal {
        Some(answer) => faults::Action::Answer(answer),
        None => state.faults.decide(&call, &parts.headers, &body, lock_call),
    };
    let realistic = (state.realism.is_some() && !lock_call).then(|| call.clone());
    // The region the layer's own questions to moto go to (reachability.rs).
    let region = signing_region(&parts.headers)
        .unwrap_or("us-east-1")
        .to_owned();
    let idempotent = IDEMPOTENT.contains(&call.operation.as_str());
    let index = {
        // All under the bodies lock, so `calls`, `bodies` and `spans` stay index-aligned.
        let mut bodies = state.bodies.lock().unwrap();
        bodies.push((
            call.operation.clone(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
        state.calls.lock().unwrap().push(call);
        let mut spans = state.spans.lock().unwrap();
        spans.push((Instant::now(), None));
        spans.len() - 1
    };
    let request = body.clone();
    let key = String::from_utf8_lossy(&request).into_owned();
    let replay = idempotent
        .then(|| state.replays.lock().unwrap().get(&key).cloned())
        .flatten();
    let mut response = match replay {
        Some((status, headers, bytes)) => {
            let mut r = Response::new(Full::new(bytes).map_err(|never| match never {}).boxed());
            *r.status_mut() = status;
            *r.headers_mut() = headers;
            Ok(r)
        }
        None => forward(&state, parts, body, action, idempotent.then_some(key)).await,
    };
    if let (Some(call), Some(r), Ok(answer)) = (realistic, &state.realism, &mut response) {
        if answer.status().is_success() {
            let taken = std::mem::replace(answer.body_mut(), empty_body());
            let bytes = taken
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            // Whether the load balancer reaches the tasks is asked of moto first.
            let unreachable = match reachability::checks(&call) {
                true => reachability::unreachable(&state, &region, &bytes).await,
                false => None,
            };
            let bytes = r
                .after(&call, &request, &bytes, unreachable.as_deref())
                .map_or(bytes, Bytes::from);
            answer.headers_mut().remove(hyper::header::CONTENT_LENGTH);
            *answer.body_mut() = Full::new(bytes).map_err(|never| match never {}).boxed();
        }
    }
    if let (Some(headers), Some(r)) = (cascade, &state.realism) {
        if autoscaling::cascade(&state, &headers, &request).await {
            r.note(
                &Call::new(autoscaling::SERVICE, "DeregisterScalableTarget"),
                "cascade",
            );
        }
    }
    if let Some(span) = state.spans.lock().unwrap().get_mut(index) {
        span.1 = Some(Instant::now());
    }
    response
}

/// Applies the latency and the fault decision, forwards to moto when the call goes there.
async fn forward(
    state: &ProxyState,
    mut parts: Parts,
    body: Bytes,
    action: faults::Action,
    replay_key: Option<String>,
) -> Result<Response<ProxyBody>, Infallible> {
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let lost = match action {
        faults::Action::Forward => None,
        faults::Action::Answer(answer) => return Ok(answer),
        faults::Action::LoseAnswer(answer) => Some(answer),
    };
    // Another account's registry answers as that account, or refuses.
    let account = match cross_account::account(state, &parts, &body).await {
        Ok(account) => account,
        Err(refused) => return Ok(refused),
    };
    parts.headers.insert("x-moto-account-id", account);
    parts.headers.remove(EXPECT); // the body is already complete
    parts.uri = moto_uri(state.moto_port, &parts.uri);
    match state
        .client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(response) => match lost {
            // moto executed the call; its answer is read and dropped (kept for the
            // retry of an idempotent create).
            Some(answer) => {
                let (head, body) = response.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                if let (Some(key), true) = (replay_key, head.status.is_success()) {
                    let kept = (head.status, head.headers, bytes);
                    state.replays.lock().unwrap().insert(key, kept);
                }
                Ok(answer)
            }
            None => Ok(response.map(BodyExt::boxed)),
        },
        Err(e) => Ok(proxy_error(StatusCode::BAD_GATEWAY, e)),
    }
}

fn empty_body() -> ProxyBody {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

fn moto_uri(port: u16, uri: &Uri) -> Uri {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("http://127.0.0.1:{port}{path}")
        .parse()
        .expect("moto uri")
}

fn proxy_error(status: StatusCode, error: impl std::fmt::Display) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from(format!("test proxy: {error}")))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

fn call_of(parts: &Parts, body: &[u8]) -> Call {
    Call {
        service: signing_name(&parts.headers).unwrap_or_else(|| "unknown".to_owned()),
        operation: operation_name(parts, body),
    }
}

/// Part `i` of the signature's credential scope:
/// `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ec2/aws4_request, ...` → 2
/// `us-east-1`, 3 `ec2`.
fn credential_scope(headers: &HeaderMap, i: usize) -> Option<&str> {
    let auth = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(i)
}

/// The service a request is signed for (`ec2`).
fn signing_name(headers: &HeaderMap) -> Option<String> {
    credential_scope(headers, 3).map(str::to_owned)
}

/// The region a request is signed for (`us-east-1`).
fn signing_region(headers: &HeaderMap) -> Option<&str> {
    credential_scope(headers, 2)
}

/// `X-Amz-Target` (JSON protocols), else `Action` (query protocols, in a form body or the
/// URL query), else `METHOD /path`.
fn operation_name(parts: &Parts, body: &[u8]) -> String {
    target_operation(&parts.headers)
        .or_else(|| form_body(&parts.headers, body).and_then(action_param))
        .or_else(|| parts.uri.query().and_then(action_param))
        .unwrap_or_else(|| format!("{} {}", parts.method, parts.uri.path()))
}

/// `AmazonEC2ContainerServiceV20141113.CreateService` → `CreateService`
fn target_operation(headers: &HeaderMap) -> Option<String> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    target.rsplit('.').next().map(str::to_owned)
}

fn form_body<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<&'a str> {
    let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return None;
    }
    std::str::from_utf8(body).ok()
}

/// `Action=CreateVpc&Version=2016-11-15` → `CreateVpc`
fn action_param(form: &str) -> Option<String> {
    form.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

/// Fails the test unless every request in `recorded` (from [`Proxy::ecs_requests`]) is
/// valid for the ECS API model of the venv's botocore (`ParamValidator`: required members,
/// types, enum-free shapes, ranges the model declares), with each invalid request's operation
/// and botocore's report. One python process for all of them; identical requests are
/// checked once.
pub fn assert_ecs_requests_valid(recorded: &[(String, String)]) {
    let mut unique: Vec<&(String, String)> = Vec::new();
    for r in recorded {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    if unique.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ecs-requests.json");
    std::fs::write(&path, serde_json::to_vec(&unique).unwrap()).expect("write requests");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/validate_ecs_requests.py");
    let out = Command::new(venv_python())
        .arg(script)
        .arg(&path)
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "ECS requests invalid for the ECS API model:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// What a run of the binary produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code; `None` if the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics, showing both streams, unless the run exited with status 0.
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "ecsdeploy failed\n{self}");
        self
    }

    /// Panics, showing both streams, if the run exited with status 0.
    pub fn assert_failure(&self) -> &Self {
        assert!(!self.success(), "ecsdeploy unexpectedly succeeded\n{self}");
        self
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Runs `ecsdeploy <args>` against `proxy` in `region` and waits for it (see [`run_async`]).
/// Blocking, but safe to call from async tests too: the run happens on a thread of its own
/// and the proxy serves from its own thread.
pub fn run(proxy: &Proxy, region: &str, args: &[&str]) -> Output {
    std::thread::scope(|scope| {
        let runner = scope.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for ecsdeploy")
                .block_on(run_async(proxy, region, args))
        });
        runner
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Runs `ecsdeploy <args>` with the environment of [`configure_env`] and stdin closed;
/// fails the test if the binary runs longer than 5 minutes.
pub async fn run_async(proxy: &Proxy, region: &str, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    configure_env(command.as_std_mut(), proxy, region);
    match tokio::time::timeout(RUN_TIMEOUT, command.output()).await {
        Ok(output) => to_output(output.expect("run ecsdeploy")),
        Err(_) => panic!("ecsdeploy {args:?} did not finish within {RUN_TIMEOUT:?}"),
    }
}

/// [`run_async`] with further environment variables set (or overriding the harness's, e.g. a
/// distinctive `AWS_SECRET_ACCESS_KEY`, an `AWS_SESSION_TOKEN`, an OIDC client secret).
pub async fn run_with_env(
    proxy: &Proxy,
    region: &str,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    configure_env(command.as_std_mut(), proxy, region);
    command.envs(extra_env.iter().copied());
    match tokio::time::timeout(RUN_TIMEOUT, command.output()).await {
        Ok(output) => to_output(output.expect("run ecsdeploy")),
        Err(_) => panic!("ecsdeploy {args:?} did not finish within {RUN_TIMEOUT:?}"),
    }
}

/// Starts `ecsdeploy <args>` in the background (same environment as [`run_async`]), for
/// tests that interrupt or kill it. The child is killed if dropped.
pub fn spawn(proxy: &Proxy, region: &str, args: &[&str]) -> tokio::process::Child {
    spawn_with(proxy, region, args, false, false)
}

/// Like [`spawn`], with stdout piped to the test (for commands that stream, such as
/// `logs --follow`). The child is killed if dropped.
pub fn spawn_piped(proxy: &Proxy, region: &str, args: &[&str]) -> tokio::process::Child {
    spawn_with(proxy, region, args, true, false)
}

/// [`spawn`] with stdout and stderr captured, for `wait_with_output`.
pub fn spawn_captured(proxy: &Proxy, region: &str, args: &[&str]) -> tokio::process::Child {
    spawn_with(proxy, region, args, true, true)
}

/// [`spawn_captured`] with variables added to the environment (as [`run_with_env`]).
pub fn spawn_captured_with_env(
    proxy: &Proxy,
    region: &str,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> tokio::process::Child {
    let mut command = command_with(proxy, region, args, true, true);
    command.envs(extra_env.iter().copied());
    command.spawn().expect("spawn ecsdeploy")
}

fn spawn_with(
    proxy: &Proxy,
    region: &str,
    args: &[&str],
    stdout: bool,
    stderr: bool,
) -> tokio::process::Child {
    command_with(proxy, region, args, stdout, stderr)
        .spawn()
        .expect("spawn ecsdeploy")
}

fn command_with(
    proxy: &Proxy,
    region: &str,
    args: &[&str],
    stdout: bool,
    stderr: bool,
) -> tokio::process::Command {
    let pipe = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecsdeploy"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(pipe(stdout))
        .stderr(pipe(stderr))
        .kill_on_drop(true);
    configure_env(command.as_std_mut(), proxy, region);
    command
}

/// The binary talks only to the proxy, with test credentials, and sees none of the
/// developer's AWS settings (every inherited `AWS_*` variable is dropped, `~/.aws` ignored).
/// Nor does it reach the internet: preflight looks images of public registries up over
/// https, which goes through `HTTPS_PROXY`, here a closed port (1, which nothing listens
/// on), so every such lookup ends at once in a note ("unreachable: not checked") whether or
/// not the machine is online, and a made-up image name cannot fail a test. Registries on
/// 127.0.0.0/8 are reached directly, over http.
fn configure_env(command: &mut std::process::Command, proxy: &Proxy, region: &str) {
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("AWS_")
            || ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]
                .contains(&name_text.to_ascii_uppercase().as_str())
        {
            command.env_remove(name);
        }
    }
    command.env("HTTPS_PROXY", OFFLINE_PROXY);
    // An empty file rather than a missing one: a developer's ~/.aws never leaks in, and
    // aws-config has no reason to warn about a missing file on stderr.
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-aws-file");
    if !missing.exists() {
        std::fs::write(&missing, "").expect("write empty AWS config file");
    }
    command
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", region)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .env("CI", "true")
        .env("NO_COLOR", "1");
}

/// Where the binary's https goes in tests: a port nothing listens on (see [`configure_env`]).
pub const OFFLINE_PROXY: &str = "http://127.0.0.1:1";

fn to_output(output: std::process::Output) -> Output {
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `config/examples/<name>.toml` in this repository.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/examples")
        .join(format!("{name}.toml"))
}

/// EC2 filter: resources whose ownership tag names `app`.
pub fn owned_by(app: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name("tag:ecsdeploy:app")
        .values(app)
        .build()
}

/// EC2 filter: the resource whose logical-id tag is `id` (e.g. `security_group.alb`).
pub fn tagged(id: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name("tag:ecsdeploy:resource")
        .values(id)
        .build()
}

/// The JSON of an IAM policy document as IAM returns it (URL-encoded).
pub fn policy_json(encoded: &str) -> serde_json::Value {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("percent escape"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    serde_json::from_slice(&out).expect("policy document is JSON")
}

/// A scheduled action as DescribeScheduledActions answers it: (name, resource id, schedule,
/// time zone as answered, min, max).
pub type ScheduledAction = (
    String,
    String,
    String,
    Option<String>,
    Option<i32>,
    Option<i32>,
);

/// The ECS namespace's scheduled actions, on the target `resource_id` or on every target,
/// sorted.
pub async fn scheduled_actions(
    aas: &aws_sdk_applicationautoscaling::Client,
    resource_id: Option<&str>,
) -> Vec<ScheduledAction> {
    let out = aas
        .describe_scheduled_actions()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .set_resource_id(resource_id.map(str::to_string))
        .send()
        .await
        .unwrap();
    let mut v: Vec<ScheduledAction> = out
        .scheduled_actions()
        .iter()
        .map(|a| {
            let range = a.scalable_target_action();
            (
                a.scheduled_action_name().to_string(),
                a.resource_id().to_string(),
                a.schedule().to_string(),
                a.timezone().map(str::to_string),
                range.and_then(|r| r.min_capacity()),
                range.and_then(|r| r.max_capacity()),
            )
        })
        .collect();
    v.sort();
    v
}

/// Inline policy `name` of role `name` (ecsdeploy names the policy after the role).
pub async fn inline_policy(iam: &aws_sdk_iam::Client, role: &str) -> serde_json::Value {
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(role)
        .send()
        .await
        .unwrap_or_else(|e| panic!("inline policy of {role}: {e:?}"));
    policy_json(out.policy_document())
}

/// Statement values (`Action`, `Resource`) as a sorted list whether IAM kept a string or
/// an array.
pub fn string_list(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => vec![],
    };
    out.sort();
    out
}

/// `app`'s one security group whose logical id is `logical` (`security_group.alb`).
pub async fn owned_security_group(
    ec2: &aws_sdk_ec2::Client,
    app: &str,
    logical: &str,
) -> aws_sdk_ec2::types::SecurityGroup {
    let out = ec2
        .describe_security_groups()
        .filters(owned_by(app))
        .filters(tagged(logical))
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_groups().len(), 1, "{logical}");
    out.security_groups()[0].clone()
}

/// Ids of `app`'s subnets whose logical id starts with `prefix` (`subnet.private-`), sorted.
pub async fn owned_subnets(ec2: &aws_sdk_ec2::Client, app: &str, prefix: &str) -> Vec<String> {
    let out = ec2
        .describe_subnets()
        .filters(owned_by(app))
        .send()
        .await
        .unwrap();
    let mut v: Vec<String> = out
        .subnets()
        .iter()
        .filter(|s| {
            s.tags().iter().any(|t| {
                t.key() == Some("ecsdeploy:resource") && t.value().unwrap_or("").starts_with(prefix)
            })
        })
        .map(|s| s.subnet_id().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// An image manifest ECR accepts (PutImage): what `docker push` leaves behind, as far as
/// the emulator can tell.
pub const IMAGE_MANIFEST: &str = r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, "layers": []}"#;

/// "Pushes" `repository:tag` the way a CI pipeline does once the repository exists.
pub async fn push_image(proxy: &Proxy, region: &str, repository: &str, tag: &str) {
    aws_sdk_ecr::Client::new(&sdk_config(proxy, region).await)
        .put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(IMAGE_MANIFEST)
        .send()
        .await
        .expect("PutImage");
}
