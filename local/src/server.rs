//! The HTTP server: dev issuer endpoints, then every template route behind API Gateway's
//! behaviour (route match, identity source, authorizer verdict, integration call).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::RequestExt as _;
use lambda_http::request::LambdaRequest;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tracing::{error, info, warn};

use crate::dev_issuer::{DevIssuer, TokenRequest, TokenRequestError};
use crate::event::{self, IncomingRequest};
use crate::gateway::{Authorize, AuthorizerFailure, Decision, GatewayResponse, decide};
use crate::registry::Registry;
use crate::routes::{RouteMatch, RouteTable};
use crate::template::RouteSpec;

/// HTTP API's payload limit.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// HTTP API waits at most 10 s for a Lambda authorizer.
const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP API's maximum integration timeout.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// The binary whose code runs in process as the Lambda authorizer.
pub const AUTHORIZER_BINARY: &str = "authorizer";

/// Everything a request needs, built once at start-up.
pub(crate) struct Gateway {
    pub(crate) table: RouteTable,
    pub(crate) registry: Registry,
    pub(crate) authorizer: Arc<dyn Authorize>,
    pub(crate) dev_issuer: Option<DevIssuer>,
    pub(crate) local_port: u16,
}

/// What the access log line reports about a request, attached to the response by the handler.
#[derive(Debug, Clone)]
struct AccessNote {
    route: String,
    decision: &'static str,
    sub: Option<String>,
    request_id: String,
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
        .layer(middleware::from_fn(access_log))
        .with_state(gateway);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// One line per request: method, path, status, authorizer decision, time spent.
async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let elapsed_ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let status = response.status().as_u16();
    let note = response.extensions_mut().remove::<AccessNote>();
    let (route, decision, sub, request_id, detail) = match &note {
        Some(n) => (
            n.route.as_str(),
            n.decision,
            n.sub.as_deref().unwrap_or("-"),
            n.request_id.as_str(),
            n.detail.as_deref(),
        ),
        None => ("-", "dev_issuer", "-", "-", None),
    };
    if status >= 500 {
        warn!(%method, path, status, decision, route, sub, request_id, %elapsed_ms, detail, "request");
    } else {
        info!(%method, path, status, decision, route, sub, request_id, %elapsed_ms, "request");
    }
    response
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

#[derive(Debug, serde::Deserialize)]
struct TokenQuery {
    format: Option<String>,
}

/// `POST /dev/token` with a form or JSON body (`sub`, `scope`, `expires_in`, `aud`). Answers an
/// OAuth-style JSON token response, or the bare token with `?format=raw` or `Accept: text/plain`
/// (for `TOKEN=$(curl ...)` without jq).
async fn dev_token(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(issuer) = &gateway.dev_issuer else {
        return GatewayResponse::NotFound.into_response();
    };
    let issued = token_fields(&headers, &body)
        .and_then(|fields| TokenRequest::from_fields(&fields))
        .and_then(|request| issuer.mint(&request, unix_now()));
    let token = match issued {
        Ok(token) => token,
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
    let wants_raw = query.format.as_deref() == Some("raw")
        || headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/plain"));
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

fn token_fields(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, TokenRequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if is_json {
        return match serde_json::from_slice(body) {
            Ok(Value::Object(fields)) => Ok(fields),
            _ => Err(TokenRequestError::Body),
        };
    }
    Ok(url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect())
}

/// Every request that is not a dev issuer endpoint: API Gateway's job.
async fn api(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request_id = event::new_request_id();
    let (parts, body) = request.into_parts();
    let mut note = AccessNote {
        route: "-".to_owned(),
        decision: "-",
        sub: None,
        request_id: request_id.clone(),
        detail: None,
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return finish(GatewayResponse::PayloadTooLarge.into_response(), note);
    };
    let incoming = IncomingRequest {
        method: parts.method.as_str().to_owned(),
        raw_path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body: body.to_vec(),
        source_ip: peer.ip(),
        local_port: gateway.local_port,
        protocol: format!("{:?}", parts.version),
        request_id,
        received_at: SystemTime::now(),
    };
    let Some(found) = gateway.table.find(&incoming.method, &incoming.raw_path) else {
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
    // HTTP API puts its request id on every response.
    if let Ok(value) = HeaderValue::from_str(&note.request_id) {
        response.headers_mut().insert("apigw-requestid", value);
    }
    if let Some(detail) = &note.detail {
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
    let Some(identity) = event::identity_source(&request.headers, &spec.identity_headers) else {
        return Decision::Unauthorized {
            reason: "missing_identity_source",
        };
    };
    let event = event::authorizer_event(request, found, identity);
    let route_arn = event::route_arn(&request.method, found);
    let authorizer = Arc::clone(&gateway.authorizer);
    // Its own task, so a panic in the authorizer fails this request only.
    let call = tokio::spawn(async move { authorizer.authorize(event).await });
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
    let lambda_request: LambdaRequest = serde_json::from_value(event).map_err(|e| {
        IntegrationFailure::new(
            GatewayResponse::IntegrationError,
            format!("lambda_http rejected the event: {e}"),
        )
    })?;
    let http_request: lambda_http::Request = lambda_request.into();
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
