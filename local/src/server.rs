//! The HTTP server: connection limits, dev issuer endpoints, then every template route behind
//! API Gateway's behaviour (route match, identity source, authorizer verdict, integration call).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lambda_http::RequestExt as _;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tracing::{debug, error, info, warn};

use crate::bridge;
use crate::config::Limits;
use crate::dev_issuer::{DevIssuer, TokenFormat, TokenRequest, TokenRequestError};
use crate::event::{self, IdentityCheck, IncomingRequest, Peer};
use crate::gateway::{AuthorizerFailure, Decision, GatewayResponse, decide};
use crate::registry::Registry;
use crate::routes::{RouteMatch, RouteTable};
use crate::stamp::Stamped;
use crate::template::RouteSpec;

/// HTTP API waits at most 10 s for a Lambda authorizer.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP API's maximum integration timeout.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// hyper's own read buffer: far above HTTP API's 10 KiB header limit, so that limit is
/// answered by [`edge`] (with a request id) rather than by hyper's bare 431.
const HYPER_MAX_BUF: usize = 1024 * 1024;
/// hyper's header count limit, likewise above anything that fits in 10 KiB (4 bytes a header).
const HYPER_MAX_HEADERS: usize = 4096;
/// How long, and how much, a closing connection still reads from the client.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_MAX_BYTES: usize = 16 * 1024 * 1024;
/// The binary whose code runs in process as the Lambda authorizer.
pub const AUTHORIZER_BINARY: &str = "authorizer";

/// Everything a request needs, built once at start-up.
pub(crate) struct Gateway {
    pub(crate) table: RouteTable,
    pub(crate) registry: Registry,
    pub(crate) authorizer: Arc<authorizer::Authorizer>,
    /// The authorizer's configured token sources, for an identity the template cannot say.
    pub(crate) token_sources: Vec<authorizer::TokenSource>,
    pub(crate) dev_issuer: Option<DevIssuer>,
    pub(crate) local_port: u16,
    pub(crate) limits: Limits,
}

/// The id API Gateway gives a request, set by [`edge`] for the handlers.
#[derive(Debug, Clone)]
struct RequestId(String);

/// What the access log line reports about a request, attached to the response by the handler.
#[derive(Debug, Clone, Default)]
struct AccessNote {
    route: String,
    decision: &'static str,
    sub: Option<String>,
    detail: Option<String>,
}

pub(crate) async fn run(gateway: Arc<Gateway>, listener: TcpListener) -> std::io::Result<()> {
    let mut router = Router::new();
    if gateway.dev_issuer.is_some() {
        router = router
            .route(
                "/.well-known/openid-configuration",
                get(openid_configuration),
            )
            .route("/.well-known/jwks.json", get(jwks))
            .route("/dev/token", axum::routing::post(dev_token));
    }
    let router = router
        .fallback(api)
        // `edge` has read the body already, within the gateway's own limit.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(Arc::clone(&gateway), edge))
        .with_state(Arc::clone(&gateway));

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(gateway.limits.header_read_timeout)
        .max_buf_size(HYPER_MAX_BUF)
        .max_headers(HYPER_MAX_HEADERS);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: keep serving the others.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tokio::spawn(serve_connection(http.clone(), router.clone(), stream, peer));
    }
}

/// One connection: hyper parses, the router answers. A head that does not arrive within the
/// header timeout gets 408, one beyond hyper's buffer 431, one cut short 400 (hyper itself
/// would close without a word).
async fn serve_connection(
    http: hyper::server::conn::http1::Builder,
    router: Router,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    let service =
        hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            Box::pin(async move {
                tower_service::Service::call(&mut router, request.map(Body::new)).await
            })
        });
    let mut connection = http.serve_connection(TokioIo::new(Stamped::new(stream)), service);
    let outcome = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)).await;
    let parts = connection.into_parts();
    let stamped = parts.io.into_inner();
    let unanswered = stamped.unanswered();
    let mut stream = stamped.into_inner();
    // Part of a head arrived, not all of it, and hyper gave up without a word: answer as a
    // gateway would, then close. hyper stops reading once its buffer is full, then reads
    // the full buffer as the end of the stream: that is a head too large.
    let refusal = match &outcome {
        Ok(()) => None,
        Err(_) if unanswered == 0 => None,
        Err(error) if error.is_timeout() => Some(GatewayResponse::RequestTimeout),
        Err(error) if error.is_incomplete_message() && unanswered >= HYPER_MAX_BUF => {
            Some(GatewayResponse::HeaderFieldsTooLarge)
        }
        Err(error) if error.is_incomplete_message() => Some(GatewayResponse::BadRequest),
        Err(_) => None,
    };
    match (refusal, outcome) {
        (Some(refusal), _) => {
            let request_id = event::new_request_id();
            let status = refusal.status();
            info!(%peer, request_id, status = status.as_u16(), "request head refused before parsing ended");
            let body = json!({ "message": refusal.message() }).to_string();
            let answer = format!(
                "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\napigw-requestid: {request_id}\r\nconnection: close\r\n\r\n{body}",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
        (None, Err(error)) => debug!(%peer, %error, "connection ended"),
        (None, Ok(())) => {}
    }
    let _ = stream.shutdown().await;
    // Lingering close: read (and drop) what the client is still sending, for a bounded time,
    // so that closing with unread bytes does not reset the connection and destroy the answer
    // still on its way (a refused oversized head, a 408).
    let mut sink = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(LINGER, async {
        let mut drained = 0usize;
        while drained < LINGER_MAX_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// What every request goes through first, whatever answers it (dev endpoints, axum's 405, the
/// API): a request id, API Gateway's limits on headers and body (431, 413, 408), and one access
/// log line per request: method, path, status, authorizer decision, time spent.
async fn edge(State(gateway): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = event::new_request_id();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (mut parts, body) = request.into_parts();
    let mut response = match admit(&gateway.limits, &parts, body).await {
        Ok(body) => {
            parts.extensions.insert(RequestId(request_id.clone()));
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err((refusal, why)) => {
            let mut response = refusal.into_response();
            response.extensions_mut().insert(AccessNote {
                decision: "refused",
                detail: Some(why.to_owned()),
                ..AccessNote::default()
            });
            // The rest of the body may still come: never read it as the next request.
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    };
    // HTTP API puts its request id on every response.
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", value);
    }
    let elapsed_ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let status = response.status().as_u16();
    let note = response
        .extensions_mut()
        .remove::<AccessNote>()
        .unwrap_or(AccessNote {
            route: "-".to_owned(),
            decision: "dev_issuer",
            ..AccessNote::default()
        });
    let route = if note.route.is_empty() {
        "-"
    } else {
        note.route.as_str()
    };
    let decision = if note.decision.is_empty() {
        "-"
    } else {
        note.decision
    };
    let sub = note.sub.as_deref().unwrap_or("-");
    if status >= 500 {
        warn!(%method, path, status, decision, route, sub, request_id, %elapsed_ms, detail = note.detail, "request");
    } else {
        info!(%method, path, status, decision, route, sub, request_id, %elapsed_ms, detail = note.detail, "request");
    }
    response
}

/// API Gateway's limits, in its order: the head's size, then the body's size and arrival time.
async fn admit(
    limits: &Limits,
    parts: &http::request::Parts,
    body: Body,
) -> Result<Bytes, (GatewayResponse, &'static str)> {
    // Request line (`METHOD target HTTP/1.1\r\n`) and each `name: value\r\n`.
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    let head = parts.method.as_str().len()
        + target
        + 11
        + parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head > limits.max_header_bytes {
        return Err((
            GatewayResponse::HeaderFieldsTooLarge,
            "request line and headers exceed the gateway's limit",
        ));
    }
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return Err((
            GatewayResponse::PayloadTooLarge,
            "content-length exceeds the payload limit",
        ));
    }
    match tokio::time::timeout(
        limits.body_read_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await
    {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err((
                    GatewayResponse::PayloadTooLarge,
                    "body exceeds the payload limit",
                ))
            } else {
                Err((GatewayResponse::BadRequest, "the body could not be read"))
            }
        }
        Err(_) => Err((GatewayResponse::RequestTimeout, "body not received in time")),
    }
}

async fn openid_configuration(State(gateway): State<Arc<Gateway>>) -> Response {
    match &gateway.dev_issuer {
        Some(issuer) => axum::Json(issuer.openid_configuration()).into_response(),
        None => GatewayResponse::NotFound.into_response(),
    }
}

async fn jwks(State(gateway): State<Arc<Gateway>>) -> Response {
    match &gateway.dev_issuer {
        Some(issuer) => axum::Json(issuer.jwks()).into_response(),
        None => GatewayResponse::NotFound.into_response(),
    }
}

/// `POST /dev/token` with a form or JSON body (`sub`, `scope`, `expires_in`, `aud`). Answers an
/// OAuth-style JSON token response, or the bare token with `?format=raw` or `Accept: text/plain`
/// (for `TOKEN=$(curl ...)` without jq). Any other query parameter is refused with 400.
async fn dev_token(
    State(gateway): State<Arc<Gateway>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(issuer) = &gateway.dev_issuer else {
        return GatewayResponse::NotFound.into_response();
    };
    let format = TokenFormat::from_query(query.as_deref().unwrap_or(""));
    let issued = format.and_then(|format| {
        let request = token_request(&headers, &body)?;
        Ok((format, issuer.mint(&request, unix_now())?))
    });
    let (format, token) = match issued {
        Ok(issued) => issued,
        Err(why) => {
            info!(reason = %why, "dev token refused");
            let body = json!({"error": "invalid_request", "error_description": why.to_string()});
            return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        }
    };
    info!(
        sub = issuer_subject(&token.access_token),
        scope = token.scope.as_deref().unwrap_or(""),
        expires_in = token.expires_in,
        "dev token issued"
    );
    let wants_raw = match format {
        TokenFormat::Raw => true,
        TokenFormat::Json => false,
        TokenFormat::Negotiated => headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/plain")),
    };
    let mut response = if wants_raw {
        let mut response = format!("{}\n", token.access_token).into_response();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    } else {
        axum::Json(&token).into_response()
    };
    // RFC 6749 section 5.1: token responses must not be cached.
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}

/// The `sub` of a token we just minted, for the log line (the token itself is never logged).
fn issuer_subject(token: &str) -> String {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .ok()
        .and_then(|data| {
            data.claims
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// A JSON body is typed (`expires_in` a number); a form's values are all text.
fn token_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, TokenRequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(TokenRequest::default());
    }
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if is_json {
        return match serde_json::from_slice(body) {
            Ok(Value::Object(fields)) => TokenRequest::from_json(&fields),
            _ => Err(TokenRequestError::Body),
        };
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    TokenRequest::from_form(&fields)
}

/// Every request that is not a dev issuer endpoint: API Gateway's job.
async fn api(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map_or_else(event::new_request_id, |id| id.0.clone());
    let mut note = AccessNote::default();
    // `edge` has buffered the body: this cannot wait or fail.
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let incoming = IncomingRequest::new(
        parts.method,
        &parts.uri,
        parts.headers,
        body.to_vec(),
        Peer {
            source_ip: peer.ip(),
            local_port: gateway.local_port,
            protocol: format!("{:?}", parts.version),
            request_id,
            received_at: SystemTime::now(),
        },
    );
    let incoming = match incoming {
        Ok(incoming) => incoming,
        Err(why) => {
            // The access line in `edge` carries the reason.
            note.decision = "refused";
            note.detail = Some(why.to_string());
            return finish(GatewayResponse::BadRequest.into_response(), note);
        }
    };
    let Some(found) = gateway
        .table
        .find(incoming.method.as_str(), &incoming.raw_path)
    else {
        return finish(GatewayResponse::NotFound.into_response(), note);
    };
    note.route = found.route.route_key();

    let decision = authorize(&gateway, &incoming, &found).await;
    note.decision = decision.label();
    if let Decision::AuthorizerError { reason } = &decision {
        error!(route = %note.route, reason = %reason, "authorizer failure");
        note.detail = Some(reason.clone());
    }
    if let Some(refusal) = decision.refusal() {
        return finish(refusal.into_response(), note);
    }
    let context = match decision {
        Decision::Allow(context) => {
            note.sub = context
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some(context)
        }
        _ => None,
    };
    let response = match invoke(&gateway, &incoming, &found, context).await {
        Ok(response) => response,
        Err(failure) => {
            error!(route = %note.route, binary = %found.route.binary, reason = %failure.reason, "integration failure");
            note.detail = Some(failure.reason);
            failure.response.into_response()
        }
    };
    finish(response, note)
}

fn finish(mut response: Response, note: AccessNote) -> Response {
    if let Some(detail) = &note.detail
        && response.status().is_server_error()
    {
        // Dev aid: why a 5xx happened, without changing API Gateway's body.
        if let Ok(value) = HeaderValue::from_str(&detail.replace(['\r', '\n'], " ")) {
            response.headers_mut().insert("x-local-api-error", value);
        }
    }
    response.extensions_mut().insert(note);
    response
}

/// API Gateway's authorization step for the matched route.
async fn authorize(
    gateway: &Gateway,
    request: &IncomingRequest,
    found: &RouteMatch<'_>,
) -> Decision {
    let Some(spec) = &found.route.authorizer else {
        return Decision::Public;
    };
    if !spec.is_lambda || spec.binary.as_deref() != Some(AUTHORIZER_BINARY) {
        return Decision::AuthorizerError {
            reason: format!(
                "authorizer {} is not the `{AUTHORIZER_BINARY}` Lambda authorizer; the local API runs only that one",
                spec.name
            ),
        };
    }
    let identity =
        match event::identity_check(request, found, &spec.identity, &gateway.token_sources) {
            IdentityCheck::Call(identity) => identity,
            IdentityCheck::Missing => {
                return Decision::Unauthorized {
                    reason: "missing_identity_source",
                };
            }
        };
    let event = match event::authorizer_json(&event::authorizer_event(request, found, identity)) {
        Ok(event) => event,
        Err(why) => {
            return Decision::AuthorizerError {
                reason: why.to_string(),
            };
        }
    };
    let route_arn = event::route_arn(request.method.as_str(), found);
    let authorizer = Arc::clone(&gateway.authorizer);
    // Its own task, so a panic in the authorizer fails this request only.
    let call = tokio::spawn(async move { bridge::invoke(&authorizer, event).await });
    let answer = match tokio::time::timeout(AUTHORIZER_TIMEOUT, call).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(join_error)) => Err(AuthorizerFailure::Error(format!(
            "the authorizer crashed: {join_error}"
        ))),
        Err(_) => Err(AuthorizerFailure::Error(format!(
            "the authorizer did not answer within {AUTHORIZER_TIMEOUT:?}"
        ))),
    };
    decide(answer, &route_arn)
}

struct IntegrationFailure {
    response: GatewayResponse,
    reason: String,
}

impl IntegrationFailure {
    fn new(response: GatewayResponse, reason: impl Into<String>) -> Self {
        Self {
            response,
            reason: reason.into(),
        }
    }
}

/// Calls the route's handler with the payload 2.0 event, as the Lambda runtime would.
async fn invoke(
    gateway: &Gateway,
    request: &IncomingRequest,
    found: &RouteMatch<'_>,
    authorizer_context: Option<Map<String, Value>>,
) -> Result<Response, IntegrationFailure> {
    let route: &RouteSpec = found.route;
    let handler = gateway.registry.get(&route.binary).ok_or_else(|| {
        IntegrationFailure::new(
            GatewayResponse::IntegrationError,
            format!(
                "no in-process handler for binary `{}` (add it to local/src/registry.rs)",
                route.binary
            ),
        )
    })?;
    let event = event::route_event(request, found, authorizer_context);
    // The same deserialisation lambda_http's runtime adapter does on a real invocation.
    let http_request = event::handler_request(&event).map_err(|e| {
        IntegrationFailure::new(
            GatewayResponse::IntegrationError,
            format!("lambda_http rejected the event: {e}"),
        )
    })?;
    let mut context = lambda_http::Context::default();
    context.request_id = request.request_id.clone();
    context.invoked_function_arn = format!(
        "arn:aws:lambda:{}:{}:function:{}",
        event::REGION,
        event::ACCOUNT_ID,
        route.binary
    );
    context.deadline = unix_now_ms().saturating_add(duration_ms(INTEGRATION_TIMEOUT));
    let http_request = http_request.with_lambda_context(context);

    let call = tokio::spawn(handler(http_request));
    let response = match tokio::time::timeout(INTEGRATION_TIMEOUT, call).await {
        Ok(Ok(Ok(response))) => response,
        Ok(Ok(Err(handler_error))) => {
            return Err(IntegrationFailure::new(
                GatewayResponse::IntegrationError,
                format!("the handler returned an error: {handler_error}"),
            ));
        }
        Ok(Err(join_error)) => {
            return Err(IntegrationFailure::new(
                GatewayResponse::IntegrationError,
                format!("the handler crashed: {join_error}"),
            ));
        }
        Err(_) => {
            return Err(IntegrationFailure::new(
                GatewayResponse::ServiceUnavailable,
                format!("the handler did not answer within {INTEGRATION_TIMEOUT:?}"),
            ));
        }
    };
    let (parts, body) = response.into_parts();
    let body = match body {
        lambda_http::Body::Empty => axum::body::Body::empty(),
        lambda_http::Body::Text(text) => axum::body::Body::from(text),
        lambda_http::Body::Binary(bytes) => axum::body::Body::from(bytes),
        _ => {
            return Err(IntegrationFailure::new(
                GatewayResponse::IntegrationError,
                "the handler answered a body kind API Gateway cannot send",
            ));
        }
    };
    let mut response = Response::from_parts(parts, body);
    // The connection is ours, not the handler's.
    response.headers_mut().remove(http::header::CONNECTION);
    response
        .headers_mut()
        .remove(http::header::TRANSFER_ENCODING);
    Ok(response)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_ms)
        .unwrap_or(0)
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
