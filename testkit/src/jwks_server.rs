//! A stand-in identity provider on `127.0.0.1:0`: OIDC discovery and a JWKS, with hit counters,
//! hot-swappable keys and fault modes.
//!
//! Every request is counted by path before any fault applies (a request parked by `Hang` counts), and
//! paths the server does not serve are counted too, so a test can prove that a URL injected in a
//! token header (`jku`, `x5u`) was never fetched.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::keys::TestKey;
use crate::server::ServerHandle;
use crate::tls::TestCa;

/// Path of the OIDC discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Size of the body served by [`Fault::Huge`]: 64 MiB of whitespace before the keys.
pub const HUGE_BODY_PADDING: usize = 64 * 1024 * 1024;

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// 200 with the document.
    #[default]
    Ok,
    /// This status with a small JSON error body.
    Status(u16),
    /// 200, `content-type: application/json`, a body that is not JSON.
    Garbage,
    /// 200 with JSON of the wrong shape (`keys` is not an array of JWKs).
    WrongShape,
    /// Waits this long, then answers as `Ok`.
    Slow(Duration),
    /// Accepts the request and never answers (the connection stays open).
    Hang,
    /// 200 with a chunked body of [`HUGE_BODY_PADDING`] bytes of whitespace and then the real keys:
    /// only a client that reads 64 MiB would see a valid JWKS. Streamed, never held in memory.
    Huge,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    /// `http` or `https`.
    scheme: &'static str,
    jwks: Mutex<Value>,
    jwks_fault: Mutex<Fault>,
    discovery_fault: Mutex<Fault>,
    discovery: Mutex<Option<Value>>,
    hits: Mutex<HashMap<String, usize>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not poison the server for the other assertions.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The stand-in IdP. Stops when dropped.
#[derive(Debug)]
pub struct JwksServer {
    inner: Arc<Inner>,
    server: ServerHandle,
}

impl JwksServer {
    /// Starts with an empty key set (`{"keys": []}`).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts serving the public JWKs of `keys`.
    pub fn start_with(keys: &[&TestKey]) -> Self {
        Self::start_inner(keys, None)
    }

    /// Starts serving the public JWKs of `keys` over https, with a server certificate for
    /// `127.0.0.1` signed by `ca`: the issuer is `https://127.0.0.1:PORT/`. A client trusts it
    /// only with `ca`'s certificate among its roots (`SSL_CERT_FILE` for the authorizer).
    pub fn start_https(keys: &[&TestKey], ca: &TestCa) -> Self {
        Self::start_inner(keys, Some(ca))
    }

    fn start_inner(keys: &[&TestKey], tls: Option<&TestCa>) -> Self {
        let jwks = TestKey::jwks(keys);
        let mut shared = None;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = ServerHandle::start_with_tls("jwks", tls, |addr| {
            let inner = Arc::new(Inner {
                issuer: format!("{scheme}://{addr}/"),
                scheme,
                jwks: Mutex::new(jwks),
                jwks_fault: Mutex::new(Fault::Ok),
                discovery_fault: Mutex::new(Fault::Ok),
                discovery: Mutex::new(None),
                hits: Mutex::new(HashMap::new()),
            });
            shared = Some(Arc::clone(&inner));
            Router::new().fallback(handle).with_state(inner)
        });
        let inner = shared.expect("router built during start");
        Self { inner, server }
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash, as Auth0 issuers have).
    pub fn issuer(&self) -> String {
        self.inner.issuer.clone()
    }

    /// The issuer without its trailing slash (the Cognito style).
    pub fn issuer_without_slash(&self) -> String {
        self.inner.issuer.trim_end_matches('/').to_owned()
    }

    /// `http://127.0.0.1:PORT/.well-known/jwks.json`.
    pub fn jwks_uri(&self) -> String {
        self.url(JWKS_PATH)
    }

    /// `http://127.0.0.1:PORT{path}`: any path on this server, e.g. for an injected `jku`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.inner.scheme, self.server.addr())
    }

    /// Replaces the published keys (rotation). Takes effect for the next request.
    pub fn set_keys(&self, keys: &[&TestKey]) {
        *lock(&self.inner.jwks) = TestKey::jwks(keys);
    }

    /// Replaces the whole JWKS document with any JSON (odd key types, keys without `kid`, ...).
    pub fn set_jwks(&self, document: Value) {
        *lock(&self.inner.jwks) = document;
    }

    /// How the JWKS endpoint answers from now on.
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.inner.jwks_fault) = fault;
    }

    /// How the discovery endpoint answers from now on.
    pub fn set_discovery_fault(&self, fault: Fault) {
        *lock(&self.inner.discovery_fault) = fault;
    }

    /// Replaces the discovery document (by default `{"issuer", "jwks_uri"}` pointing at this server).
    pub fn set_discovery(&self, document: Value) {
        *lock(&self.inner.discovery) = Some(document);
    }

    /// Requests received on `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.inner.hits).get(path).copied().unwrap_or(0)
    }

    /// Requests received on the JWKS path.
    pub fn jwks_hits(&self) -> usize {
        self.hits(JWKS_PATH)
    }

    /// Requests received on the discovery path.
    pub fn discovery_hits(&self) -> usize {
        self.hits(DISCOVERY_PATH)
    }

    /// Requests received on any path.
    pub fn total_hits(&self) -> usize {
        lock(&self.inner.hits).values().sum()
    }

    /// Every path requested so far with its count.
    pub fn all_hits(&self) -> HashMap<String, usize> {
        lock(&self.inner.hits).clone()
    }

    /// Forgets every count.
    pub fn reset_hits(&self) {
        lock(&self.inner.hits).clear();
    }
}

async fn handle(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    *lock(&inner.hits).entry(path.clone()).or_insert(0) += 1;
    match path.as_str() {
        DISCOVERY_PATH => {
            let document = lock(&inner.discovery).clone().unwrap_or_else(|| {
                json!({
                    "issuer": inner.issuer,
                    "jwks_uri": format!("{}{}", inner.issuer.trim_end_matches('/'), JWKS_PATH),
                    "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
                })
            });
            let fault = *lock(&inner.discovery_fault);
            respond(fault, document).await
        }
        JWKS_PATH => {
            let document = lock(&inner.jwks).clone();
            let fault = *lock(&inner.jwks_fault);
            respond(fault, document).await
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn respond(fault: Fault, document: Value) -> Response {
    match fault {
        Fault::Ok => json_response(StatusCode::OK, document.to_string().into_bytes()),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json_response(status, br#"{"error":"injected fault"}"#.to_vec())
        }
        Fault::Garbage => json_response(
            StatusCode::OK,
            b"<html><body>502 Bad Gateway</body></html>\x00\xff".to_vec(),
        ),
        Fault::WrongShape => json_response(
            StatusCode::OK,
            json!({ "keys": { "kid": "not-a-list" }, "jwks": [document] })
                .to_string()
                .into_bytes(),
        ),
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            json_response(StatusCode::OK, document.to_string().into_bytes())
        }
        Fault::Hang => std::future::pending().await,
        Fault::Huge => huge(&document),
    }
}

fn huge(document: &Value) -> Response {
    const CHUNK: usize = 64 * 1024;
    static SPACES: [u8; CHUNK] = [b' '; CHUNK];
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let head = std::iter::once(Bytes::from_static(b"{\"keys\":["));
    let padding = std::iter::repeat_n(Bytes::from_static(&SPACES), HUGE_BODY_PADDING / CHUNK);
    let tail = std::iter::once(Bytes::from(format!("{keys}]}}")));
    let stream =
        futures_util::stream::iter(head.chain(padding).chain(tail).map(Ok::<_, Infallible>));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}
