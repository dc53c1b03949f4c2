//! A container registry on 127.0.0.1 for preflight's registry lookups: the HTTP API v2
//! manifest `HEAD` behind a bearer-token challenge, as Docker Hub, GHCR and quay.io answer.
//! A request without a token gets `401` with `WWW-Authenticate: Bearer realm=...`; the realm
//! (`GET /token?service=...&scope=repository:<name>:pull`) hands out an anonymous token for
//! any repository; with it, `team/app:v1` is there (`200`), any other tag of `team/app` is
//! not (`404`), and `team/private` stays `401` (the token grants an anonymous caller
//! nothing). Every request is logged as `METHOD path[?query] anonymous|bearer -> status`.
//! Listens on 127.0.0.1 only, one connection at a time bounded to 10 s; stopped on drop.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

const SERVICE: &str = "test-registry";
const MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// What a pull accepts; the lookup should ask for all of them.
const KINDS: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    MANIFEST_V2,
];

#[derive(Default)]
struct Log {
    requests: Vec<String>,
    accepts: Vec<String>,
}

pub struct Registry {
    port: u16,
    log: Arc<Mutex<Log>>,
    server: tokio::task::JoinHandle<()>,
}

impl Registry {
    pub async fn start() -> Registry {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind registry");
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = log.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let log = log.clone();
                        async move { Ok::<_, Infallible>(answer(port, &log, req)) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                });
            }
        });
        Registry { port, log, server }
    }

    /// `127.0.0.1:<port>`, the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().requests.clone()
    }

    /// Whether every manifest request asked for every manifest kind.
    pub fn accepts_every_manifest_kind(&self) -> bool {
        let log = self.log.lock().unwrap();
        !log.accepts.is_empty()
            && log
                .accepts
                .iter()
                .all(|a| KINDS.iter().all(|k| a.contains(k)))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then let go).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn answer(port: u16, log: &Mutex<Log>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let reply = |status: StatusCode| Response::builder().status(status);
    let response = if let Some((name, reference)) = path
        .strip_prefix("/v2/")
        .and_then(|p| p.split_once("/manifests/"))
    {
        let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
        log.lock()
            .unwrap()
            .accepts
            .push(accept.unwrap_or("").to_string());
        let granted = auth.as_deref() == Some(&format!("anonymous-{name}")[..]);
        if !granted || name == "team/private" {
            let challenge = format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"{SERVICE}\",\
                 scope=\"repository:{name}:pull\""
            );
            reply(StatusCode::UNAUTHORIZED)
                .header(WWW_AUTHENTICATE, challenge)
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                )))
        } else if name == "team/app" && reference == "v1" {
            let body = r#"{"schemaVersion":2}"#;
            let status = reply(StatusCode::OK)
                .header(CONTENT_TYPE, MANIFEST_V2)
                .header(
                    "docker-content-digest",
                    format!("sha256:{}", "0".repeat(64)),
                );
            if req.method() == Method::HEAD {
                status
                    .header("content-length", body.len())
                    .body(Full::default())
            } else {
                status.body(Full::new(Bytes::from_static(body.as_bytes())))
            }
        } else {
            reply(StatusCode::NOT_FOUND).body(Full::default())
        }
    } else if path == "/token" {
        let scope = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("scope="))
            .map(|s| s.replace("%3A", ":").replace("%2F", "/"));
        let service_ok = query
            .split('&')
            .any(|kv| kv == format!("service={SERVICE}"));
        let name = scope
            .as_deref()
            .and_then(|s| s.strip_prefix("repository:"))
            .and_then(|s| s.strip_suffix(":pull"));
        match (name, service_ok) {
            (Some(name), true) => reply(StatusCode::OK)
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"token":"anonymous-{name}","expires_in":300}}"#
                )))),
            _ => reply(StatusCode::BAD_REQUEST).body(Full::default()),
        }
    } else {
        reply(StatusCode::NOT_FOUND).body(Full::default())
    };
    let response = response.expect("registry response");
    let target = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let who = if auth.is_some() {
        "bearer"
    } else {
        "anonymous"
    };
    let line = if target.starts_with("/token") {
        format!(
            "{} {target} -> {}",
            req.method(),
            response.status().as_u16()
        )
    } else {
        format!(
            "{} {target} {who} -> {}",
            req.method(),
            response.status().as_u16()
        )
    };
    log.lock().unwrap().requests.push(line);
    response
}
