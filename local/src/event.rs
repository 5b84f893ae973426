//! Turns an HTTP request into the events HTTP API sends: the Lambda authorizer's payload 2.0
//! `REQUEST` event and the route's payload 2.0 proxy event.
//!
//! Shapes follow API Gateway's documentation and the sample events in `aws_lambda_events`:
//! header names lower-case, repeated headers and query parameters joined with commas, cookies
//! moved out of the headers into `cookies`, binary bodies base64-encoded, empty fields omitted.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::routes::RouteMatch;

/// Fixed identifiers of the local "deployment", visible in ARNs and `requestContext`.
pub const ACCOUNT_ID: &str = "123456789012";
pub const API_ID: &str = "local";
pub const REGION: &str = "us-east-1";
pub const STAGE: &str = "$default";

/// What the server saw of one request, before routing.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub method: String,
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

/// The identity source values, in order, or `None` when one is missing or empty (API Gateway
/// then answers 401 without calling the authorizer).
pub fn identity_source(headers: &HeaderMap, identity_headers: &[String]) -> Option<Vec<String>> {
    identity_headers
        .iter()
        .map(|name| joined_header(headers, name).filter(|value| !value.trim().is_empty()))
        .collect()
}

/// The Lambda authorizer's payload format 2.0 `REQUEST` event.
pub fn authorizer_event(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    identity_source: Vec<String>,
) -> Value {
    let mut event = common_fields(request, route_match);
    event.insert("type".to_owned(), json!("REQUEST"));
    event.insert(
        "routeArn".to_owned(),
        json!(route_arn(&request.method, route_match)),
    );
    event.insert("identitySource".to_owned(), json!(identity_source));
    event.insert(
        "requestContext".to_owned(),
        Value::Object(request_context(request, route_match)),
    );
    Value::Object(event)
}

/// The route's payload format 2.0 event; `authorizer_context` is the Lambda authorizer's
/// `context`, placed where API Gateway puts it (`requestContext.authorizer.lambda`).
pub fn route_event(
    request: &IncomingRequest,
    route_match: &RouteMatch<'_>,
    authorizer_context: Option<Map<String, Value>>,
) -> Value {
    let mut event = common_fields(request, route_match);
    let mut context = request_context(request, route_match);
    if let Some(lambda) = authorizer_context {
        context.insert("authorizer".to_owned(), json!({ "lambda": lambda }));
    }
    event.insert("requestContext".to_owned(), Value::Object(context));
    let (body, is_base64_encoded) = encode_body(&request.headers, &request.body);
    if let Some(body) = body {
        event.insert("body".to_owned(), json!(body));
    }
    event.insert("isBase64Encoded".to_owned(), json!(is_base64_encoded));
    Value::Object(event)
}

fn common_fields(request: &IncomingRequest, route_match: &RouteMatch<'_>) -> Map<String, Value> {
    let mut event = Map::new();
    event.insert("version".to_owned(), json!("2.0"));
    event.insert("routeKey".to_owned(), json!(route_match.route.route_key()));
    event.insert("rawPath".to_owned(), json!(request.raw_path));
    event.insert("rawQueryString".to_owned(), json!(request.raw_query));
    let cookies = cookies(&request.headers);
    if !cookies.is_empty() {
        event.insert("cookies".to_owned(), json!(cookies));
    }
    event.insert("headers".to_owned(), json!(event_headers(request)));
    let query = query_string_parameters(&request.raw_query);
    if !query.is_empty() {
        event.insert("queryStringParameters".to_owned(), json!(query));
    }
    if !route_match.path_parameters.is_empty() {
        event.insert(
            "pathParameters".to_owned(),
            json!(route_match.path_parameters),
        );
    }
    event
}

fn request_context(request: &IncomingRequest, route_match: &RouteMatch<'_>) -> Map<String, Value> {
    let domain_name = joined_header(&request.headers, "host")
        .map(|host| strip_port(&host).to_owned())
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let domain_prefix = domain_name
        .split('.')
        .next()
        .unwrap_or(&domain_name)
        .to_owned();
    let epoch = request
        .received_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let value = json!({
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_prefix,
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip.to_string(),
            "userAgent": joined_header(&request.headers, "user-agent").unwrap_or_default(),
        },
        "requestId": request.request_id,
        "routeKey": route_match.route.route_key(),
        "stage": STAGE,
        "time": clf_time(epoch.as_secs()),
        "timeEpoch": u64::try_from(epoch.as_millis()).unwrap_or(u64::MAX),
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// Header names lower-case, repeated headers joined with `,`, `cookie` moved to `cookies`, and
/// the `x-forwarded-*` headers API Gateway adds.
fn event_headers(request: &IncomingRequest) -> BTreeMap<String, String> {
    let mut headers = BTreeMap::new();
    for name in request.headers.keys() {
        if name == http::header::COOKIE {
            continue;
        }
        if let Some(value) = joined_header(&request.headers, name.as_str()) {
            headers.insert(name.as_str().to_owned(), value);
        }
    }
    let client = request.source_ip.to_string();
    headers
        .entry("x-forwarded-for".to_owned())
        .and_modify(|chain| {
            chain.push_str(", ");
            chain.push_str(&client);
        })
        .or_insert(client);
    headers.insert(
        "x-forwarded-port".to_owned(),
        request.local_port.to_string(),
    );
    headers.insert("x-forwarded-proto".to_owned(), "http".to_owned());
    headers
}

/// All values of a header joined with `,`, as API Gateway does; `None` when absent.
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

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:3000
        return host.split(']').next().map_or(host, |h| &host[..=h.len()]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
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
    use lambda_http::request::LambdaRequest;

    use super::*;
    use crate::template::{AuthorizerSpec, RouteSpec};

    fn spec(path: &str) -> RouteSpec {
        RouteSpec {
            method: "GET".to_owned(),
            path: path.to_owned(),
            binary: "private".to_owned(),
            function: "PrivateFunction".to_owned(),
            authorizer: Some(AuthorizerSpec {
                name: "LambdaAuthorizer".to_owned(),
                binary: Some("authorizer".to_owned()),
                identity_headers: vec!["authorization".to_owned()],
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
        IncomingRequest {
            method: "GET".to_owned(),
            raw_path: "/private".to_owned(),
            raw_query: "q=star%20wars&tag=a&tag=b".to_owned(),
            headers,
            body: br#"{"hello":"world"}"#.to_vec(),
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            local_port: 3000,
            protocol: "HTTP/1.1".to_owned(),
            request_id: "JKJaXmPLvHcESHA=".to_owned(),
            received_at: UNIX_EPOCH + Duration::from_millis(1_583_348_638_390),
        }
    }

    #[test]
    fn authorizer_event_has_the_payload_2_0_request_shape() {
        let route = spec("/private");
        let found = RouteMatch {
            route: &route,
            path_parameters: BTreeMap::new(),
        };
        let event = authorizer_event(&request(), &found, vec!["Bearer abc".to_owned()]);
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
        let event = authorizer_event(&request(), &found, vec!["Bearer abc".to_owned()]);
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
        let event = route_event(&request(), &found, Some(lambda));
        assert_eq!(
            event["requestContext"]["authorizer"]["lambda"]["sub"],
            "alice"
        );
        assert_eq!(event["body"], r#"{"hello":"world"}"#);
        assert_eq!(event["isBase64Encoded"], false);

        let parsed: LambdaRequest = serde_json::from_value(event).unwrap();
        assert!(matches!(parsed, LambdaRequest::ApiGatewayV2(_)));
        let request: lambda_http::Request = parsed.into();
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
    fn missing_or_empty_identity_source_is_none() {
        let names = vec!["authorization".to_owned()];
        let mut headers = HeaderMap::new();
        assert_eq!(identity_source(&headers, &names), None);
        headers.insert("authorization", HeaderValue::from_static("  "));
        assert_eq!(identity_source(&headers, &names), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        assert_eq!(
            identity_source(&headers, &names),
            Some(vec!["Bearer x".to_owned()])
        );
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
        assert_eq!(strip_port("127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:3000"), "[::1]");
    }
}
