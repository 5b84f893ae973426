//! Turns an HTTP request into the events HTTP API sends, as `aws_lambda_events` values: the
//! Lambda authorizer's payload 2.0 `REQUEST` event ([`ApiGatewayV2CustomAuthorizerV2Request`])
//! and the route's payload 2.0 proxy event ([`ApiGatewayV2httpRequest`]), then the route event
//! into the `lambda_http::Request` a handler receives.
//!
//! Shapes follow API Gateway's documentation: header names lower-case, repeated headers and
//! query parameters joined with commas, cookies moved out of the headers into `cookies`,
//! binary bodies base64-encoded, empty fields omitted. Every input is validated here, before
//! it reaches code that would panic on it (lambda_http's request conversion unwraps a
//! `Url::parse` of the Host header and expects the URI it builds to parse).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest,
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::request::LambdaRequest;
use serde_json::{Map, Value};

use crate::routes::{RouteMatch, RouteTable};
use crate::template::{AuthorizerSpec, Identity, IdentitySource, RouteSpec};

/// Fixed identifiers of the local "deployment", visible in ARNs and `requestContext`.
pub const ACCOUNT_ID: &str = "123456789012";
pub const API_ID: &str = "local";
pub const REGION: &str = "us-east-1";
pub const STAGE: &str = "$default";

/// A request the local API refuses with 400 before routing, as API Gateway's front end would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The `Host` header is not one `host[:port]` (a bad IPv6 literal, a space, a port out of
    /// range, user info, several Host headers).
    #[error("the Host header is not a valid host[:port]")]
    Host,
    /// Not an HTTP method token.
    #[error("the request method is not a valid HTTP method")]
    Method,
    /// Not a request target with a path starting with `/`.
    #[error("the request target is not a valid path")]
    Target,
    /// A header name or value that HTTP does not allow.
    #[error("a header name or value is not valid HTTP")]
    Header,
    /// The event could not be turned into the handler's request (a bug of this crate if it
    /// ever happens: the inputs were validated).
    #[error("the event could not be built: {0}")]
    Event(String),
}

/// What the server saw of one request, before routing; build it with [`IncomingRequest::new`],
/// which validates what later steps rely on.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub method: Method,
    pub raw_path: String,
    /// The query string without `?`; empty when there is none.
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub source_ip: IpAddr,
    pub local_port: u16,
    /// `HTTP/1.1`.
    pub protocol: String,
    pub request_id: String,
    pub received_at: SystemTime,
    /// The Host header without its port (`requestContext.domainName`).
    domain_name: String,
}

/// The connection-level facts of a request that are not in its method, target, headers, body.
#[derive(Debug, Clone)]
pub struct Peer {
    pub source_ip: IpAddr,
    pub local_port: u16,
    pub protocol: String,
    pub request_id: String,
    pub received_at: SystemTime,
}

impl Default for Peer {
    fn default() -> Self {
        Self {
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            local_port: 3000,
            protocol: "HTTP/1.1".to_owned(),
            request_id: "local-request-id".to_owned(),
            received_at: UNIX_EPOCH,
        }
    }
}

impl IncomingRequest {
    /// Validates the parts of a request (as hyper parsed them) for the event builders.
    pub fn new(
        method: Method,
        uri: &http::Uri,
        headers: HeaderMap,
        body: Vec<u8>,
        peer: Peer,
    ) -> Result<Self, RequestError> {
        let raw_path = uri.path();
        if !raw_path.starts_with('/') {
            return Err(RequestError::Target);
        }
        let domain_name = domain_name(&headers)?;
        Ok(Self {
            method,
            raw_path: raw_path.to_owned(),
            raw_query: uri.query().unwrap_or("").to_owned(),
            headers,
            body,
            source_ip: peer.source_ip,
            local_port: peer.local_port,
            protocol: peer.protocol,
            request_id: peer.request_id,
            received_at: peer.received_at,
            domain_name,
        })
    }
}

/// `requestContext.domainName` from the Host header (its port stripped), `127.0.0.1` without
/// one (HTTP/1.0). Refuses what lambda_http would panic on: it parses
/// `http://<Host header><path>` with `Url::parse(..).unwrap()`.
fn domain_name(headers: &HeaderMap) -> Result<String, RequestError> {
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let Some(host) = hosts.next() else {
        return Ok("127.0.0.1".to_owned());
    };
    if hosts.next().is_some() {
        return Err(RequestError::Host);
    }
    let host = host.to_str().map_err(|_| RequestError::Host)?;
    let authority: http::uri::Authority = host.parse().map_err(|_| RequestError::Host)?;
    if host.contains('@') || authority.host().is_empty() {
        return Err(RequestError::Host);
    }
    // Url::parse also refuses a port above 65535, which `Authority` lets through.
    let url = url::Url::parse(&format!("http://{host}/")).map_err(|_| RequestError::Host)?;
    if url.host_str().is_none() {
        return Err(RequestError::Host);
    }
    Ok(authority.host().to_owned())
}

/// API Gateway's `routeArn` for the route a request matched.
pub fn route_arn(method: &str, route_match: &RouteMatch<'_>) -> String {
    let resource = if route_match.route.path == "$default" {
        "$default".to_owned()
    } else {
        format!("{method}{}", route_match.route.path)
    };
    format!("arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{resource}")
}

/// What API Gateway does with the identity sources before calling the authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCheck {
    /// Call the authorizer; `Some` values are the event's `identitySource`.
    Call(Option<Vec<String>>),
    /// A configured identity source is missing or empty: 401 without calling the authorizer.
    Missing,
}

/// The identity source values in order (`Identity::Sources`), no check (`Identity::None`), or,
/// when the template cannot say, at least one of the authorizer's own token sources.
pub fn identity_check(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    identity: &Identity,
    token_sources: &[authorizer::TokenSource],
) -> IdentityCheck {
    match identity {
        Identity::None => IdentityCheck::Call(None),
        Identity::Sources(sources) => {
            let values: Option<Vec<String>> = sources
                .iter()
                .map(|source| {
                    identity_value(request, route_match, source)
                        .filter(|value| !value.trim().is_empty())
                })
                .collect();
            values.map_or(IdentityCheck::Missing, |values| {
                IdentityCheck::Call(Some(values))
            })
        }
        Identity::Unreadable => {
            use authorizer::TokenSource;
            let cookies = cookies(&request.headers);
            let query = query_string_parameters(&request.raw_query);
            let present = token_sources.iter().any(|source| match source {
                TokenSource::Header { name, .. } => {
                    joined_header(&request.headers, &name.to_ascii_lowercase())
                        .is_some_and(|v| !v.trim().is_empty())
                }
                TokenSource::Query { name } => query.get(name).is_some_and(|v| !v.is_empty()),
                TokenSource::Cookie { name } => cookies.iter().any(|c| {
                    c.split_once('=')
                        .is_some_and(|(n, v)| n.trim() == name && !v.is_empty())
                }),
            });
            if present {
                IdentityCheck::Call(None)
            } else {
                IdentityCheck::Missing
            }
        }
    }
}

fn identity_value(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    source: &IdentitySource,
) -> Option<String> {
    match source {
        IdentitySource::Header(name) if name == "cookie" => {
            let cookies = cookies(&request.headers);
            (!cookies.is_empty()).then(|| cookies.join("; "))
        }
        IdentitySource::Header(name) => joined_header(&request.headers, name),
        IdentitySource::Query(name) => query_string_parameters(&request.raw_query).remove(name),
        // The local API has no stage variables.
        IdentitySource::StageVariable(_) => None,
        IdentitySource::Context(name) => match name.as_str() {
            "routeKey" => Some(route_match.route.route_key()),
            "stage" => Some(STAGE.to_owned()),
            "apiId" => Some(API_ID.to_owned()),
            "accountId" => Some(ACCOUNT_ID.to_owned()),
            "requestId" => Some(request.request_id.clone()),
            "domainName" => Some(request.domain_name.clone()),
            "httpMethod" => Some(request.method.as_str().to_owned()),
            "path" => Some(request.raw_path.clone()),
            "protocol" => Some(request.protocol.clone()),
            "identity.sourceIp" => Some(request.source_ip.to_string()),
            _ => None,
        },
    }
}

/// The Lambda authorizer's payload format 2.0 `REQUEST` event.
pub fn authorizer_event(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    identity_source: Option<Vec<String>>,
) -> ApiGatewayV2CustomAuthorizerV2Request {
    let mut event = ApiGatewayV2CustomAuthorizerV2Request::default();
    event.version = Some("2.0".to_owned());
    event.type_ = Some("REQUEST".to_owned());
    event.route_arn = Some(route_arn(request.method.as_str(), route_match));
    event.identity_source = identity_source;
    event.route_key = Some(route_match.route.route_key());
    event.raw_path = Some(request.raw_path.clone());
    event.raw_query_string = Some(request.raw_query.clone());
    event.cookies = cookies(&request.headers);
    event.headers = event_headers(request);
    event.query_string_parameters = query_string_parameters(&request.raw_query)
        .into_iter()
        .collect();
    event.request_context = request_context(request, route_match);
    event.path_parameters = path_parameters(route_match);
    event
}

/// The route's payload format 2.0 event; `authorizer_context` is the Lambda authorizer's
/// `context`, placed where API Gateway puts it (`requestContext.authorizer.lambda`).
pub fn route_event(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    authorizer_context: Option<Map<String, Value>>,
) -> ApiGatewayV2httpRequest {
    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_owned());
    event.route_key = Some(route_match.route.route_key());
    event.raw_path = Some(request.raw_path.clone());
    event.raw_query_string = Some(request.raw_query.clone());
    let cookies = cookies(&request.headers);
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = event_headers(request);
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(request.raw_query.as_bytes()) {
        query
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    event.query_string_parameters = QueryMap::from(query);
    event.path_parameters = path_parameters(route_match);
    let mut context = request_context(request, route_match);
    if let Some(lambda) = authorizer_context {
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.fields = lambda.into_iter().collect();
        context.authorizer = Some(authorizer);
    }
    event.request_context = context;
    let (body, is_base64_encoded) = encode_body(&request.headers, &request.body);
    event.body = body;
    event.is_base64_encoded = is_base64_encoded;
    event
}

/// The authorizer event as the JSON the Lambda function receives.
pub fn authorizer_json(
    event: &ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<Value, RequestError> {
    gateway_json(event, &[])
}

/// `ApiGatewayV2httpRequest` also models the v1 authorizer payload: its deprecated fields
/// (`type`, `methodArn`, a top-level `httpMethod` that defaults to GET, ...) serialise even
/// though HTTP API never sends them in a route event, and a top-level `httpMethod` would make
/// lambda_http read the event as a REST API one. They are dropped here, the one place the
/// event becomes JSON.
const V1_ONLY_FIELDS: [&str; 6] = [
    "type",
    "methodArn",
    "httpMethod",
    "identitySource",
    "authorizationToken",
    "resource",
];

/// The route event as the JSON the Lambda function receives.
pub fn route_json(event: &ApiGatewayV2httpRequest) -> Result<Value, RequestError> {
    gateway_json(event, &V1_ONLY_FIELDS)
}

/// Serialises an event as API Gateway sends it: `null`, `{}` and `[]` top-level fields are
/// omitted (the library types serialise absent maps as `{}`), and `drop` fields removed.
fn gateway_json(event: &impl serde::Serialize, drop: &[&str]) -> Result<Value, RequestError> {
    let mut value = serde_json::to_value(event).map_err(|e| RequestError::Event(e.to_string()))?;
    if let Value::Object(fields) = &mut value {
        fields.retain(|name, field| {
            !drop.contains(&name.as_str())
                && match field {
                    Value::Null => false,
                    Value::Object(map) => !map.is_empty(),
                    Value::Array(list) => !list.is_empty(),
                    _ => true,
                }
        });
    }
    Ok(value)
}

/// The request the route's handler receives: the event's JSON read by lambda_http, as its
/// runtime adapter reads a real invocation.
pub fn handler_request(
    event: &ApiGatewayV2httpRequest,
) -> Result<lambda_http::Request, RequestError> {
    let json = route_json(event)?;
    let parsed: LambdaRequest =
        serde_json::from_value(json).map_err(|e| RequestError::Event(e.to_string()))?;
    let LambdaRequest::ApiGatewayV2(parsed) = parsed else {
        return Err(RequestError::Event(
            "lambda_http did not read the event as an HTTP API one".to_owned(),
        ));
    };
    check_lambda_http_uri(&parsed)?;
    Ok(LambdaRequest::ApiGatewayV2(parsed).into())
}

/// lambda_http builds the request URI as `Url::parse("{x-forwarded-proto}://{host}{path}")
/// .unwrap()`, appends `?{rawQueryString}` and `expect`s `http::Request::builder().uri(..)` to
/// accept it. Doing the same here first turns its panics into an error.
fn check_lambda_http_uri(event: &ApiGatewayV2httpRequest) -> Result<(), RequestError> {
    let host = event
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(event.request_context.domain_name.as_deref());
    let path = event.raw_path.as_deref().unwrap_or_default();
    let mut uri = match host {
        None => url::Url::parse(&format!("http://localhost{path}"))
            .map_err(|_| RequestError::Target)?
            .path()
            .to_owned(),
        Some(host) => {
            let scheme = event
                .headers
                .get("x-forwarded-proto")
                .and_then(|s| s.to_str().ok())
                .unwrap_or("https");
            url::Url::parse(&format!("{scheme}://{host}{path}"))
                .map_err(|_| RequestError::Host)?
                .to_string()
        }
    };
    if let Some(query) = event.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(query);
    }
    uri.parse::<http::Uri>().map_err(|_| RequestError::Target)?;
    Ok(())
}

/// Both events and the handler's request for one request: the local API's whole
/// request-to-event conversion, minus the network and the authorizer call.
#[derive(Debug)]
pub struct Converted {
    /// The authorizer's event, as JSON.
    pub authorizer_event: Value,
    /// What the route's handler receives.
    pub handler_request: lambda_http::Request,
}

/// The conversion as one pure function of arbitrary bytes, for property tests and fuzzing:
/// `method`, request `target` (`/path?query`), `headers` and `body` become either an error or
/// both events, on a table of `ANY /{proxy+}` behind a header identity source and `$default`.
/// Never panics.
pub fn convert(
    method: &[u8],
    target: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
) -> Result<Converted, RequestError> {
    let method = Method::from_bytes(method).map_err(|_| RequestError::Method)?;
    let uri = http::Uri::try_from(target).map_err(|_| RequestError::Target)?;
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name).map_err(|_| RequestError::Header)?;
        let value = HeaderValue::from_bytes(value).map_err(|_| RequestError::Header)?;
        map.append(name, value);
    }
    let request = IncomingRequest::new(method, &uri, map, body.to_vec(), Peer::default())?;
    let authorizer = AuthorizerSpec {
        name: "LambdaAuthorizer".to_owned(),
        binary: Some("authorizer".to_owned()),
        identity: Identity::Sources(vec![IdentitySource::Header("authorization".to_owned())]),
        is_lambda: true,
    };
    let table = RouteTable::new(vec![
        RouteSpec {
            method: "ANY".to_owned(),
            path: "/{proxy+}".to_owned(),
            binary: "handler".to_owned(),
            function: "Handler".to_owned(),
            authorizer: Some(authorizer),
        },
        RouteSpec {
            method: "ANY".to_owned(),
            path: "$default".to_owned(),
            binary: "handler".to_owned(),
            function: "Handler".to_owned(),
            authorizer: None,
        },
    ]);
    let found = table
        .find(request.method.as_str(), &request.raw_path)
        .ok_or(RequestError::Target)?;
    let identity = match found.route.authorizer.as_ref().map(|a| &a.identity) {
        Some(identity) => match identity_check(&request, &found, identity, &[]) {
            IdentityCheck::Call(values) => values,
            IdentityCheck::Missing => None,
        },
        None => None,
    };
    let authorizer_event = authorizer_json(&authorizer_event(&request, &found, identity))?;
    let handler_request = handler_request(&route_event(&request, &found, Some(Map::new())))?;
    Ok(Converted {
        authorizer_event,
        handler_request,
    })
}

fn path_parameters(route_match: &RouteMatch<'_>) -> HashMap<String, String> {
    route_match
        .path_parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn request_context(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
) -> ApiGatewayV2httpRequestContext {
    let domain_name = request.domain_name.clone();
    let domain_prefix = domain_name
        .split('.')
        .next()
        .unwrap_or(&domain_name)
        .to_owned();
    let epoch = request
        .received_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = request.method.clone();
    http.path = Some(request.raw_path.clone());
    http.protocol = Some(request.protocol.clone());
    http.source_ip = Some(request.source_ip.to_string());
    http.user_agent = Some(joined_header(&request.headers, "user-agent").unwrap_or_default());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.account_id = Some(ACCOUNT_ID.to_owned());
    context.apiid = Some(API_ID.to_owned());
    context.domain_name = Some(domain_name);
    context.domain_prefix = Some(domain_prefix);
    context.http = http;
    context.request_id = Some(request.request_id.clone());
    context.route_key = Some(route_match.route.route_key());
    context.stage = Some(STAGE.to_owned());
    context.time = Some(clf_time(epoch.as_secs()));
    context.time_epoch = i64::try_from(epoch.as_millis()).unwrap_or(i64::MAX);
    context
}

/// Header names lower-case, repeated headers joined with `,`, `cookie` moved to `cookies`, and
/// the `x-forwarded-*` headers API Gateway adds (replacing any the client sent).
fn event_headers(request: &IncomingRequest) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for name in request.headers.keys() {
        if name == http::header::COOKIE {
            continue;
        }
        if let Some(value) = joined_header(&request.headers, name.as_str())
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            headers.insert(name.clone(), value);
        }
    }
    let client = request.source_ip.to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(chain) => format!("{chain}, {client}"),
        None => client,
    };
    for (name, value) in [
        ("x-forwarded-for", forwarded_for),
        ("x-forwarded-port", request.local_port.to_string()),
        ("x-forwarded-proto", "http".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

/// All values of a header joined with `,`, as API Gateway does; `None` when absent. Bytes that
/// are not UTF-8 become U+FFFD (the events are JSON).
fn joined_header(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// `Cookie: a=1; b=2` becomes `["a=1", "b=2"]`.
fn cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .flat_map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(';')
                .map(str::trim)
                .filter(|cookie| !cookie.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Decoded query parameters; a repeated name gets its values joined with `,`.
fn query_string_parameters(raw_query: &str) -> BTreeMap<String, String> {
    let mut parameters: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        parameters
            .entry(name.into_owned())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    parameters
}

/// Text bodies go as they are; anything else (binary, forms, multipart) base64-encoded, as
/// HTTP API does. An empty body is omitted.
fn encode_body(headers: &HeaderMap, body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    let content_type = joined_header(headers, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let textual = essence.is_empty()
        || essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/xml"
        || essence.ends_with("+xml")
        || essence == "application/javascript";
    match std::str::from_utf8(body) {
        Ok(text) if textual => (Some(text.to_owned()), false),
        _ => (Some(STANDARD.encode(body)), true),
    }
}

/// `requestContext.time`: `24/Nov/2026:13:57:43 +0000`.
pub fn clf_time(epoch_seconds: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = i64::try_from(epoch_seconds / 86_400).unwrap_or(0);
    let seconds_of_day = epoch_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[usize::try_from(month - 1).unwrap_or(0)],
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60,
    )
}

/// Howard Hinnant's days-since-epoch to proleptic Gregorian date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A request id shaped like API Gateway's (`JKJaXmPLvHcESHA=`).
pub fn new_request_id() -> String {
    let mut bytes = [0u8; 10];
    // The id only needs to be unique-ish for correlating log lines; a zeroed id on the
    // (practically impossible) RNG failure is harmless.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    STANDARD.encode(bytes)
}
#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use http::HeaderValue;
    use lambda_http::RequestExt as _;
    use serde_json::json;

    use super::*;

    fn spec(path: &str) -> RouteSpec {
        RouteSpec {
            method: "GET".to_owned(),
            path: path.to_owned(),
            binary: "private".to_owned(),
            function: "PrivateFunction".to_owned(),
            authorizer: Some(AuthorizerSpec {
                name: "LambdaAuthorizer".to_owned(),
                binary: Some("authorizer".to_owned()),
                identity: Identity::Sources(vec![IdentitySource::Header(
                    "authorization".to_owned(),
                )]),
                is_lambda: true,
            }),
        }
    }

    fn request() -> IncomingRequest {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8.5.0"));
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        headers.append("x-multi", HeaderValue::from_static("one"));
        headers.append("x-multi", HeaderValue::from_static("two"));
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let peer = Peer {
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            local_port: 3000,
            protocol: "HTTP/1.1".to_owned(),
            request_id: "JKJaXmPLvHcESHA=".to_owned(),
            received_at: UNIX_EPOCH + Duration::from_millis(1_583_348_638_390),
        };
        let uri: http::Uri = "/private?q=star%20wars&tag=a&tag=b".parse().unwrap();
        IncomingRequest::new(
            Method::GET,
            &uri,
            headers,
            br#"{"hello":"world"}"#.to_vec(),
            peer,
        )
        .unwrap()
    }

    #[test]
    fn authorizer_event_has_the_payload_2_0_request_shape() {
        let route = spec("/private");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        let event = authorizer_json(&authorizer_event(
            &request(),
            &found,
            Some(vec!["Bearer abc".to_owned()]),
        ))
        .unwrap();
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(
            event["routeArn"],
            "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/private"
        );
        assert_eq!(event["identitySource"], json!(["Bearer abc"]));
        assert_eq!(event["routeKey"], "GET /private");
        assert_eq!(event["headers"]["x-multi"], "one,two");
        assert_eq!(event["headers"]["authorization"], "Bearer abc");
        assert!(
            event["headers"].get("cookie").is_none(),
            "cookies move out of headers"
        );
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(
            event["queryStringParameters"],
            json!({"q": "star wars", "tag": "a,b"})
        );
        assert_eq!(event["rawQueryString"], "q=star%20wars&tag=a&tag=b");
        assert!(event.get("body").is_none(), "the authorizer gets no body");
        let context = &event["requestContext"];
        assert_eq!(context["http"]["method"], "GET");
        assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(context["http"]["userAgent"], "curl/8.5.0");
        assert_eq!(context["domainName"], "127.0.0.1");
        assert_eq!(context["stage"], "$default");
        assert_eq!(context["time"], "04/Mar/2020:19:03:58 +0000");
        assert_eq!(context["timeEpoch"], 1_583_348_638_390_u64);
    }

    #[test]
    fn authorizer_event_reads_as_aws_lambda_events_v2_authorizer_request() {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
        let route = spec("/items/{id}");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::from([("id".to_owned(), "42".to_owned())]),
        };
        let event = authorizer_json(&authorizer_event(
            &request(),
            &found,
            Some(vec!["Bearer abc".to_owned()]),
        ))
        .unwrap();
        // The fields of the payload 2.0 authorizer event, as documented by API Gateway.
        let documented = [
            "version",
            "type",
            "routeArn",
            "identitySource",
            "routeKey",
            "rawPath",
            "rawQueryString",
            "cookies",
            "headers",
            "queryStringParameters",
            "requestContext",
            "pathParameters",
            "stageVariables",
        ];
        for key in event.as_object().unwrap().keys() {
            assert!(
                documented.contains(&key.as_str()),
                "undocumented field {key}"
            );
        }
        let typed: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(event).unwrap();
        assert_eq!(typed.type_.as_deref(), Some("REQUEST"));
        assert_eq!(typed.identity_source, Some(vec!["Bearer abc".to_owned()]));
        assert_eq!(typed.route_key.as_deref(), Some("GET /items/{id}"));
        assert_eq!(typed.cookies, vec!["a=1", "b=2"]);
        assert_eq!(
            typed.path_parameters.get("id").map(String::as_str),
            Some("42")
        );
        assert_eq!(
            typed.query_string_parameters.get("tag").map(String::as_str),
            Some("a,b")
        );
        assert_eq!(typed.headers["x-forwarded-port"], "3000");
        assert_eq!(typed.request_context.http.method, http::Method::GET);
        assert_eq!(typed.request_context.time_epoch, 1_583_348_638_390);
        assert_eq!(typed.request_context.apiid.as_deref(), Some(API_ID));
    }

    #[test]
    fn route_event_is_read_by_lambda_http_with_authorizer_context() {
        let route = spec("/items/{id}");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::from([("id".to_owned(), "42".to_owned())]),
        };
        let mut lambda = Map::new();
        lambda.insert("sub".to_owned(), json!("alice"));
        lambda.insert("scope".to_owned(), json!("read:shows"));
        let typed = route_event(&request(), &found, Some(lambda));
        let event = route_json(&typed).unwrap();
        for v1_only in V1_ONLY_FIELDS {
            assert!(event.get(v1_only).is_none(), "{v1_only} in {event}");
        }
        assert_eq!(
            event["requestContext"]["authorizer"]["lambda"]["sub"],
            "alice"
        );
        assert_eq!(event["body"], r#"{"hello":"world"}"#);
        assert_eq!(event["isBase64Encoded"], false);

        let request = handler_request(&typed).unwrap();
        assert_eq!(request.uri().path(), "/private");
        assert_eq!(request.uri().query(), Some("q=star%20wars&tag=a&tag=b"));
        assert_eq!(request.headers()["cookie"], "a=1; b=2");
        assert_eq!(
            request.path_parameters_ref().and_then(|p| p.first("id")),
            Some("42")
        );
        let authorizer = request
            .request_context_ref()
            .and_then(|c| c.authorizer())
            .unwrap();
        assert_eq!(authorizer.fields["sub"], "alice");
        assert_eq!(request.body().as_ref(), br#"{"hello":"world"}"#);
    }

    #[test]
    fn binary_and_form_bodies_are_base64_encoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            encode_body(&headers, b"a=1"),
            (Some("YT0x".to_owned()), true)
        );
        headers.insert(
            "content-type",
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        assert_eq!(encode_body(&headers, b"hi"), (Some("hi".to_owned()), false));
        assert_eq!(
            encode_body(&headers, &[0xff, 0xfe]),
            (Some("//4=".to_owned()), true)
        );
        assert_eq!(encode_body(&headers, b""), (None, false));
    }

    #[test]
    fn missing_or_empty_identity_source_is_refused() {
        let route = spec("/private");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        let header = Identity::Sources(vec![IdentitySource::Header("x-key".to_owned())]);
        let mut request = request();
        assert_eq!(
            identity_check(&request, &found, &header, &[]),
            IdentityCheck::Missing
        );
        request
            .headers
            .insert("x-key", HeaderValue::from_static("  "));
        assert_eq!(
            identity_check(&request, &found, &header, &[]),
            IdentityCheck::Missing
        );
        request
            .headers
            .insert("x-key", HeaderValue::from_static("k"));
        assert_eq!(
            identity_check(&request, &found, &header, &[]),
            IdentityCheck::Call(Some(vec!["k".to_owned()]))
        );
    }

    #[test]
    fn query_and_context_identity_sources_are_read_in_order() {
        let route = spec("/private");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        let sources = Identity::Sources(vec![
            IdentitySource::Query("tag".to_owned()),
            IdentitySource::Context("routeKey".to_owned()),
        ]);
        assert_eq!(
            identity_check(&request(), &found, &sources, &[]),
            IdentityCheck::Call(Some(vec!["a,b".to_owned(), "GET /private".to_owned()]))
        );
        let absent = Identity::Sources(vec![IdentitySource::Query("token".to_owned())]);
        assert_eq!(
            identity_check(&request(), &found, &absent, &[]),
            IdentityCheck::Missing
        );
        assert_eq!(
            identity_check(&request(), &found, &Identity::None, &[]),
            IdentityCheck::Call(None)
        );
    }

    #[test]
    fn unreadable_identity_needs_one_of_the_token_sources() {
        use authorizer::TokenSource;
        let route = spec("/private");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        let cookie = [TokenSource::Cookie {
            name: "session".to_owned(),
        }];
        let mut request = request();
        assert_eq!(
            identity_check(&request, &found, &Identity::Unreadable, &cookie),
            IdentityCheck::Missing
        );
        request
            .headers
            .insert("cookie", HeaderValue::from_static("a=1; session=t"));
        assert_eq!(
            identity_check(&request, &found, &Identity::Unreadable, &cookie),
            IdentityCheck::Call(None)
        );
    }

    #[test]
    fn hostile_host_headers_are_refused_before_any_event() {
        for host in [
            &b"[::1"[..],
            b"[",
            b"a b",
            b"::::",
            b"127.0.0.1:99999",
            b"user@host",
            b"",
            b"h:1:2",
            b"\xff",
        ] {
            let error = convert(b"GET", b"/public", &[(b"host", host)], b"")
                .err()
                .unwrap_or_else(|| panic!("{} accepted", String::from_utf8_lossy(host)));
            assert!(
                matches!(error, RequestError::Host | RequestError::Header),
                "{error:?}"
            );
        }
        for host in [
            &b"127.0.0.1:3000"[..],
            b"[::1]:3000",
            b"localhost",
            b"example.com",
        ] {
            let converted = convert(b"GET", b"/x/y?a=1", &[(b"host", host)], b"").unwrap();
            assert_eq!(converted.handler_request.uri().path(), "/x/y");
        }
        let twice = convert(b"GET", b"/x", &[(b"host", b"a"), (b"host", b"b")], b"");
        assert_eq!(twice.err(), Some(RequestError::Host));
    }

    #[test]
    fn default_route_arn_and_key() {
        let mut route = spec("$default");
        route.method = "ANY".to_owned();
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        assert_eq!(route.route_key(), "$default");
        assert!(route_arn("POST", &found).ends_with(":local/$default/$default"));
    }

    #[test]
    fn clf_time_formats_dates() {
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(clf_time(1_798_761_599), "31/Dec/2026:23:59:59 +0000");
    }

    #[test]
    fn request_ids_look_like_api_gateway_ones() {
        let id = new_request_id();
        assert_eq!(id.len(), 16);
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn host_port_is_stripped() {
        let domain = |host: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("host", HeaderValue::from_static(host));
            domain_name(&headers)
        };
        assert_eq!(domain("127.0.0.1:3000").as_deref(), Ok("127.0.0.1"));
        assert_eq!(domain("localhost").as_deref(), Ok("localhost"));
        assert_eq!(domain("[::1]:3000").as_deref(), Ok("[::1]"));
        assert_eq!(domain_name(&HeaderMap::new()).as_deref(), Ok("127.0.0.1"));
    }
}

/// `convert` over generated hostile requests: every one is an error or an event, never a panic.
#[cfg(test)]
mod generated {
    use super::*;

    /// xorshift64*: deterministic, so a failure names its case and reproduces.
    struct Cases(u64);

    impl Cases {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
        }

        /// Pieces known to break parsers, glued together, with random bytes mixed in.
        fn bytes(&mut self, pieces: &[&[u8]]) -> Vec<u8> {
            let mut out = Vec::new();
            for _ in 0..self.below(5) {
                if self.below(4) == 0 {
                    out.push(u8::try_from(self.next() & 0xff).unwrap_or(0));
                } else {
                    out.extend_from_slice(pieces[self.below(pieces.len())]);
                }
            }
            out
        }
    }

    const HOSTS: &[&[u8]] = &[
        b"[",
        b"]",
        b"::",
        b":",
        b"[::1]",
        b"127.0.0.1",
        b":99999",
        b":3000",
        b"@",
        b" ",
        b"a",
        b"%",
        b"%zz",
        b"xn--",
        b"\xc3\xa9",
        b".",
        b"..",
        b"{",
        b"}",
        b"#",
        b"?",
        b"/",
        b"\\",
        b"\t",
        b"localhost",
        b"-",
        b"_",
        b"0",
        b"\x7f",
    ];
    const VALID_HOSTS: &[&[u8]] = &[b"127.0.0.1:3000", b"[::1]:3000", b"localhost", b"a.b"];
    const TARGETS: &[&[u8]] = &[
        b"/",
        b"//",
        b"/a",
        b"/..",
        b"/./",
        b"?",
        b"&",
        b"=",
        b"%",
        b"%2F",
        b"%00",
        b"%ff",
        b"#",
        b"{proxy+}",
        b"*",
        b"http://h",
        b"a",
        b" ",
        b"\xc3\xa9",
        b";",
        b"+",
        b"[",
        b"@",
    ];
    const HEADER_NAMES: &[&[u8]] = &[
        b"host",
        b"cookie",
        b"authorization",
        b"content-type",
        b"x-forwarded-proto",
        b"x-forwarded-for",
        b"user-agent",
        b"Host",
        b"",
        b" ",
        b":",
        b"x",
    ];
    const HEADER_VALUES: &[&[u8]] = &[
        b"",
        b" ",
        b";",
        b"=",
        b"a=b",
        b"Bearer ",
        b"application/json",
        b"text/plain",
        b"\xff\xfe",
        b"javascript:",
        b"https",
        b"ftp",
        b"a b",
        b",",
        b"[::1]:1",
        b"\x00",
    ];
    const METHODS: &[&[u8]] = &[b"GET", b"POST", b"ANY", b"get", b"", b" ", b"X-Y", b"\xff"];

    #[test]
    fn generated_hostile_requests_are_errors_or_events() {
        let mut cases = Cases(0x9E37_79B9_7F4A_7C15);
        let (mut events, mut errors) = (0, 0);
        for case in 0..20_000 {
            let method = METHODS[cases.below(METHODS.len())].to_vec();
            let mut target = b"/".to_vec();
            target.extend(cases.bytes(TARGETS));
            // Half the cases keep a valid Host, so the rest of the request gets exercised too.
            let host = if cases.below(2) == 0 {
                VALID_HOSTS[cases.below(VALID_HOSTS.len())].to_vec()
            } else {
                cases.bytes(HOSTS)
            };
            let mut headers = vec![(b"host".to_vec(), host)];
            for _ in 0..cases.below(4) {
                headers.push((cases.bytes(HEADER_NAMES), cases.bytes(HEADER_VALUES)));
            }
            let body = cases.bytes(HEADER_VALUES);
            let borrowed: Vec<(&[u8], &[u8])> = headers
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            match convert(&method, &target, &borrowed, &body) {
                Ok(converted) => {
                    events += 1;
                    assert_eq!(
                        converted.handler_request.method().as_str().as_bytes(),
                        method.as_slice(),
                        "case {case}"
                    );
                    assert_eq!(converted.authorizer_event["type"], "REQUEST", "case {case}");
                }
                Err(_) => errors += 1,
            }
        }
        // Both outcomes occur, so the generator reaches past the first validation.
        assert!(
            events > 1_000 && errors > 1_000,
            "{events} events, {errors} errors"
        );
    }
}
