//! Whether an image's manifest is in a registry other than ECR (Docker Hub, GHCR,
//! public.ecr.aws, quay.io, any registry speaking the HTTP API v2 / OCI distribution spec):
//! `HEAD /v2/<name>/manifests/<tag or digest>`, and on a `401` with a `Bearer` challenge an
//! anonymous token from its realm and one retry, as docker pulls. Each lookup ends within
//! [`TIMEOUT`]. Plain http only for `localhost` and 127.0.0.0/8 (docker's default insecure
//! registries); https otherwise, through `HTTPS_PROXY` / `ALL_PROXY` unless `NO_PROXY` names
//! the host (an `http://` proxy, tunnelled with CONNECT).

use std::error::Error as StdError;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioExecutor;

use super::reference::Reference;

/// How long one lookup may take in all (connect, challenge, token, retry).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Every manifest kind a pull accepts: OCI index and manifest, docker list and v2.
const MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// What the registry said about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found,
    /// `404`: no such tag (or digest, or repository) in it.
    Missing,
    /// `401` / `403` even with an anonymous token: a private image (or, on registries that
    /// hide which, one that does not exist).
    Credentials,
    /// Another answer (`429`, `5xx`, a redirect).
    Answered(StatusCode),
    /// No answer: DNS, connect, TLS, proxy, timeout. Why, for the note.
    Unreachable(String),
}

/// The lookups' shared settings: TLS roots (the system's, as the AWS SDK's) and proxies.
pub struct Registries {
    tls: Result<rustls::ClientConfig, String>,
    proxies: Matcher,
}

impl Registries {
    pub fn from_env() -> Registries {
        Registries {
            tls: tls_config(),
            proxies: Matcher::from_env(),
        }
    }

    pub async fn manifest(&self, r: &Reference) -> Lookup {
        let scheme = if r.insecure() { "http" } else { "https" };
        let url = format!(
            "{scheme}://{}/v2/{}/manifests/{}",
            r.api_host(),
            r.path,
            r.target()
        );
        let uri: Uri = match url.parse() {
            Ok(uri) => uri,
            Err(e) => return Lookup::Unreachable(format!("{url}: {e}")),
        };
        let tls = match &self.tls {
            Ok(tls) => tls.clone(),
            Err(e) => return Lookup::Unreachable(e.clone()),
        };
        let mut http = HttpConnector::new_with_resolver(Detached);
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        // A proxy cannot reach this machine's loopback: those are always direct.
        let via = if r.insecure() {
            None
        } else {
            self.proxies.intercept(&uri)
        };
        let lookup = async {
            match via {
                None => look(&client(https.wrap_connector(http)), &uri, &r.path).await,
                Some(proxy) => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), http);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    let at = proxy_host(proxy.uri());
                    look(&client(https.wrap_connector(tunnel)), &uri, &r.path)
                        .await
                        .map_err(|e| format!("through proxy {at}: {e}"))
                }
            }
        };
        match tokio::time::timeout(TIMEOUT, lookup).await {
            Err(_) => Lookup::Unreachable(format!("no answer within {}s", TIMEOUT.as_secs())),
            Ok(Err(why)) => Lookup::Unreachable(why),
            Ok(Ok(found)) => found,
        }
    }
}

/// Name resolution on a thread of its own. `getaddrinfo` cannot be cancelled: on the
/// runtime's blocking pool (hyper-util's resolver) a lookup abandoned at [`TIMEOUT`] would
/// still hold the process's exit until the system's resolver gave up; a detached thread
/// does not.
#[derive(Clone, Copy)]
struct Detached;

impl tower_service::Service<Name> for Detached {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let host = name.as_str().to_string();
        let spawned = std::thread::Builder::new()
            .name("registry-dns".into())
            .spawn(move || {
                let _ = tx.send((host.as_str(), 0).to_socket_addrs().map(Vec::from_iter));
            });
        Box::pin(async move {
            spawned?;
            let addrs = rx.await.map_err(std::io::Error::other)??;
            Ok(addrs.into_iter())
        })
    }
}

/// The proxy's host and port, for messages: its URL may hold a user and password.
fn proxy_host(proxy: &Uri) -> String {
    let at = proxy.authority().map_or("", |a| a.as_str());
    at.rsplit_once('@').map_or(at, |(_, host)| host).to_string()
}

fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn client<C>(connector: C) -> Client<C, Empty<Bytes>>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    Client::builder(TokioExecutor::new()).build(connector)
}

/// The HEAD, and on a bearer challenge a token and the HEAD again. `Err`: no answer.
async fn look<C>(client: &Client<C, Empty<Bytes>>, uri: &Uri, path: &str) -> Result<Lookup, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let first = send(client, Method::HEAD, uri, None).await?;
    let status = if first.status() == StatusCode::UNAUTHORIZED {
        let challenge = first
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer);
        let Some(challenge) = challenge else {
            return Ok(Lookup::Credentials);
        };
        let Some(token) = token(client, &challenge, path).await? else {
            return Ok(Lookup::Credentials);
        };
        send(client, Method::HEAD, uri, Some(&token))
            .await?
            .status()
    } else {
        first.status()
    };
    Ok(match status {
        s if s.is_success() => Lookup::Found,
        StatusCode::NOT_FOUND => Lookup::Missing,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Lookup::Credentials,
        s => Lookup::Answered(s),
    })
}

async fn send<C>(
    client: &Client<C, Empty<Bytes>>,
    method: Method,
    uri: &Uri,
    token: Option<&str>,
) -> Result<Response<hyper::body::Incoming>, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let mut request = Request::builder()
        .method(method)
        .uri(uri.clone())
        .header(ACCEPT, MANIFESTS)
        .header(
            "user-agent",
            concat!("ecsdeploy/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(token) = token {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
        value.set_sensitive(true);
        request = request.header(AUTHORIZATION, value);
    }
    let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
    client.request(request).await.map_err(|e| causes(&e))
}

/// An anonymous pull token for `path` from the challenge's realm; `None` when the realm
/// gives none.
async fn token<C>(
    client: &Client<C, Empty<Bytes>>,
    challenge: &Challenge,
    path: &str,
) -> Result<Option<String>, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let mut query = format!("scope={}", encode(&format!("repository:{path}:pull")));
    if let Some(service) = &challenge.service {
        query = format!("service={}&{query}", encode(service));
    }
    let sep = if challenge.realm.contains('?') {
        '&'
    } else {
        '?'
    };
    let Ok(uri) = format!("{}{sep}{query}", challenge.realm).parse::<Uri>() else {
        return Ok(None);
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Ok(None);
    }
    let answer = send(client, Method::GET, &uri, None).await?;
    if !answer.status().is_success() {
        return Ok(None);
    }
    let body = Limited::new(answer.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("reading the token: {e}"))?
        .to_bytes();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    Ok(["token", "access_token"]
        .iter()
        .find_map(|k| doc[k].as_str().filter(|t| !t.is_empty()))
        .map(str::to_string))
}

/// The parameters of a `Bearer` challenge that the token request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

/// `Bearer realm="...",service="...",scope="..."` → the realm and service; `None` for
/// another scheme (`Basic`) or no realm.
fn bearer(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let (mut realm, mut service) = (None, None);
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').map_or((after, ""), |(v, a)| (v, a)),
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(Challenge {
        realm: realm?,
        service,
    })
}

/// Percent-encodes all but the unreserved characters (RFC 3986).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error and its causes, without the client's own wrapper ("client error (Connect)"),
/// each said once.
fn causes(e: &(dyn StdError + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !said.iter().any(|s| s.contains(&text)) {
            said.push(text);
        }
        next = cause.source();
    }
    if said.is_empty() {
        e.to_string()
    } else {
        said.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_as_registries_send_them() {
        assert_eq!(
            bearer(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#
            ),
            Some(Challenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            })
        );
        assert_eq!(
            bearer(r#"bearer realm="https://ghcr.io/token", scope="repository:o/a:pull""#),
            Some(Challenge {
                realm: "https://ghcr.io/token".into(),
                service: None,
            })
        );
        assert_eq!(
            bearer("Bearer service=quay.io,realm=https://quay.io/v2/auth"),
            Some(Challenge {
                realm: "https://quay.io/v2/auth".into(),
                service: Some("quay.io".into()),
            })
        );
        assert_eq!(bearer(r#"Basic realm="https://1.dkr.ecr""#), None);
        assert_eq!(bearer(r#"Bearer service="x""#), None);
        assert_eq!(bearer(r#"Bearer realm="unterminated"#), None);
    }

    #[test]
    fn a_proxy_is_named_without_its_credentials() {
        let with = "http://me:s3cret@proxy.corp:3128".parse().unwrap();
        assert_eq!(proxy_host(&with), "proxy.corp:3128");
        assert_eq!(
            proxy_host(&"http://127.0.0.1:1".parse().unwrap()),
            "127.0.0.1:1"
        );
    }

    #[test]
    fn token_query_is_percent_encoded() {
        assert_eq!(
            encode("repository:team/app:pull"),
            "repository%3Ateam%2Fapp%3Apull"
        );
        assert_eq!(encode("registry.docker.io"), "registry.docker.io");
    }
}
