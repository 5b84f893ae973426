//! The API Gateway authorizer event, read into `aws_lambda_events`' type for its format, and
//! the method/route ARN it is about. This is the one place that knows the event's JSON: the
//! rest of the authorizer reads the library's types.
//!
//! Three things API Gateway (and hostile or hand-made events) do that the library's types get
//! wrong are mended here, before the typed read, in [`mend`]:
//! - `null` for an empty map or list: some fields of the library take it, others (`headers` and
//!   `cookies` of payload 2.0, `headers` of 1.0) fail the whole event on it;
//! - a header or query entry whose value is `null`: absent, not a failed event;
//! - two header keys that differ only in case (`Authorization`, `authorization`): the library's
//!   header maps keep only the last one, which would turn two credentials into one.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The authorizer event formats API Gateway sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// REST API, `TOKEN` authorizer: `authorizationToken` + `methodArn`.
    RestToken,
    /// REST API (or WebSocket), `REQUEST` authorizer: `headers` + `methodArn`.
    RestRequest,
    /// HTTP API, payload format 1.0 (REST REQUEST shape, `version: "1.0"`).
    HttpV1,
    /// HTTP API, payload format 2.0: `routeArn`, `identitySource`, `headers`.
    HttpV2,
}

impl EventKind {
    /// Name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestToken => "rest_token",
            Self::RestRequest => "rest_request",
            Self::HttpV1 => "http_v1",
            Self::HttpV2 => "http_v2",
        }
    }

    /// Decides which format `event` is, by its `version` and `type`.
    pub fn of(event: &Value) -> Result<EventKind, EventError> {
        let obj = event.as_object().ok_or(EventError::NotAnObject)?;
        let version = obj.get("version").and_then(Value::as_str);
        let kind = obj.get("type").and_then(Value::as_str);
        match (version, kind) {
            (Some("2.0"), _) => Ok(EventKind::HttpV2),
            (_, Some("TOKEN")) => Ok(EventKind::RestToken),
            (Some("1.0"), Some("REQUEST")) => Ok(EventKind::HttpV1),
            // REST REQUEST events carry no `version`; WebSocket `$connect` ones carry "$LATEST".
            (_, Some("REQUEST")) => Ok(EventKind::RestRequest),
            _ => Err(EventError::UnknownFormat),
        }
    }
}

/// Why an event cannot be read. The messages are fixed: serde's own would quote the offending
/// value, which can be the caller's credential, so it is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The event is not a JSON object.
    #[error("the event is not a JSON object")]
    NotAnObject,
    /// Neither `type` nor `version` names an authorizer event format.
    #[error(
        "no authorizer `type` (expected \"TOKEN\" or \"REQUEST\") and no payload `version` \"2.0\""
    )]
    UnknownFormat,
    /// The event names its format but does not have that format's shape.
    #[error("not a valid {} event", .0.as_str())]
    Invalid(EventKind),
    /// The answer is a policy, and the event names no ARN (or an empty one) to put in it.
    #[error("no methodArn/routeArn to answer for")]
    NoResourceArn,
}

/// An authorizer event in the library's type for its format.
#[derive(Debug)]
pub enum AuthorizerEvent {
    /// REST API `TOKEN` authorizer.
    RestToken(ApiGatewayCustomAuthorizerRequest),
    /// REST API or WebSocket `REQUEST` authorizer.
    RestRequest(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
    /// HTTP API, payload format 1.0.
    HttpV1(Box<ApiGatewayV2CustomAuthorizerV1Request>),
    /// HTTP API, payload format 2.0.
    HttpV2(Box<ApiGatewayV2CustomAuthorizerV2Request>),
}

/// The headers and query parameters a reader of the event looks at (names; headers compared
/// ignoring case). The others are dropped before the typed read: building the library's header
/// map of a REST event's forty-odd headers costs more than verifying the token's signature,
/// and the authorizer reads one or two of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Header names.
    pub headers: Vec<String>,
    /// Query parameter names.
    pub query: Vec<String>,
}

impl AuthorizerEvent {
    /// Reads `event` as the format its `version`/`type` name, with every header and query
    /// parameter.
    pub fn from_value(event: Value) -> Result<AuthorizerEvent, EventError> {
        Self::read(event, None)
    }

    /// Reads `event` as [`AuthorizerEvent::from_value`] does, keeping only the headers and
    /// query parameters in `wanted`.
    pub fn from_value_keeping(
        event: Value,
        wanted: &Wanted,
    ) -> Result<AuthorizerEvent, EventError> {
        Self::read(event, Some(wanted))
    }

    fn read(mut event: Value, wanted: Option<&Wanted>) -> Result<AuthorizerEvent, EventError> {
        let kind = EventKind::of(&event)?;
        if let Value::Object(members) = &mut event {
            mend(members, wanted);
        }
        fn read<T: DeserializeOwned>(event: Value, kind: EventKind) -> Result<T, EventError> {
            serde_json::from_value(event).map_err(|_| EventError::Invalid(kind))
        }
        Ok(match kind {
            EventKind::RestToken => AuthorizerEvent::RestToken(read(event, kind)?),
            EventKind::RestRequest => AuthorizerEvent::RestRequest(read(event, kind)?),
            EventKind::HttpV1 => AuthorizerEvent::HttpV1(read(event, kind)?),
            EventKind::HttpV2 => AuthorizerEvent::HttpV2(read(event, kind)?),
        })
    }

    /// The event's format.
    pub fn kind(&self) -> EventKind {
        match self {
            AuthorizerEvent::RestToken(_) => EventKind::RestToken,
            AuthorizerEvent::RestRequest(_) => EventKind::RestRequest,
            AuthorizerEvent::HttpV1(_) => EventKind::HttpV1,
            AuthorizerEvent::HttpV2(_) => EventKind::HttpV2,
        }
    }

    /// The ARN the answer's policy is about: `methodArn` (REST, HTTP 1.0) or `routeArn` (HTTP
    /// 2.0); `None` when absent or empty.
    pub fn resource_arn(&self) -> Option<&str> {
        let arn = match self {
            AuthorizerEvent::RestToken(e) => e.method_arn.as_deref(),
            AuthorizerEvent::RestRequest(e) => e.method_arn.as_deref(),
            AuthorizerEvent::HttpV1(e) => e.method_arn.as_deref(),
            AuthorizerEvent::HttpV2(e) => e.route_arn.as_deref(),
        };
        arn.filter(|arn| !arn.is_empty())
    }
}

/// The members whose entries are headers (case-insensitive names) or query parameters.
const HEADER_MAPS: [&str; 2] = ["headers", "multiValueHeaders"];
const QUERY_MAPS: [&str; 2] = ["queryStringParameters", "multiValueQueryStringParameters"];

/// Mends what the library's types read wrongly (see the module documentation), and drops the
/// headers and query parameters nobody reads.
fn mend(members: &mut Map<String, Value>, wanted: Option<&Wanted>) {
    members.retain(|_, value| !value.is_null());
    for name in HEADER_MAPS {
        if let Some(Value::Object(entries)) = members.get_mut(name) {
            entries.retain(|key, value| {
                !value.is_null()
                    && wanted.is_none_or(|w| w.headers.iter().any(|h| h.eq_ignore_ascii_case(key)))
            });
            merge_case_variants(entries);
        }
    }
    for name in QUERY_MAPS {
        if let Some(Value::Object(entries)) = members.get_mut(name) {
            entries.retain(|key, value| {
                !value.is_null() && wanted.is_none_or(|w| w.query.iter().any(|q| q == key))
            });
        }
    }
}

/// Merges header keys that are equal ignoring ASCII case into one key holding every value, so
/// the library's header map keeps them all. Sorting keeps this O(n log n) whatever the event,
/// and nothing but one list is allocated when there is nothing to merge (every real event).
fn merge_case_variants(headers: &mut Map<String, Value>) {
    // API Gateway lowercases payload 2.0 header names: nothing to merge.
    if !headers
        .keys()
        .any(|k| k.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return;
    }
    let mut names: Vec<&String> = headers.keys().collect();
    fn folded(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes().map(|b| b.to_ascii_lowercase())
    }
    names.sort_unstable_by(|a, b| folded(a).cmp(folded(b)));
    let groups: Vec<Vec<String>> = names
        .chunk_by(|a, b| a.eq_ignore_ascii_case(b))
        .filter(|run| run.len() > 1)
        .map(|run| run.iter().map(|k| (*k).clone()).collect())
        .collect();
    for keys in groups {
        let name = keys[0].to_ascii_lowercase();
        let mut values = Vec::new();
        for key in keys {
            match headers.remove(&key) {
                Some(Value::Array(items)) => values.extend(items),
                Some(value) => values.push(value),
                None => {}
            }
        }
        headers.insert(name, Value::Array(values));
    }
}

/// A method or route ARN,
/// `arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>`: the one
/// parser of it, for the policy (stage-wide grants) and for the route rules alike. Every field
/// up to the stage must be present and plain (no `:` or `/`); the method and path may be absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceArn<'a> {
    /// `arn:…:<api id>/<stage>`.
    stage: &'a str,
    /// HTTP method, `*`, or a WebSocket route key such as `$connect`; `None` when absent.
    method: Option<&'a str>,
    /// The path after the method, without its leading `/` (may be empty).
    path: &'a str,
}

impl<'a> ResourceArn<'a> {
    /// Parses `arn`; `None` when it does not have that shape.
    pub fn parse(arn: &'a str) -> Option<ResourceArn<'a>> {
        let mut fields = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("execute-api"),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        )
        else {
            return None;
        };
        let mut parts = resource.splitn(3, '/');
        let (Some(api_id), Some(stage)) = (parts.next(), parts.next()) else {
            return None;
        };
        let plain = |s: &str| !s.is_empty() && !s.contains([':', '/']);
        if ![partition, region, account, api_id, stage]
            .into_iter()
            .all(plain)
        {
            return None;
        }
        let route = parts.next().unwrap_or("");
        let (method, path) = route.split_once('/').unwrap_or((route, ""));
        Some(ResourceArn {
            stage: &arn[..arn.len() - resource.len() + api_id.len() + 1 + stage.len()],
            method: Some(method).filter(|m| !m.is_empty()),
            path,
        })
    }

    /// `arn:…:<api id>/<stage>/*`: one grant for every route of the stage.
    pub fn stage_wide(&self) -> String {
        format!("{}/*", self.stage)
    }

    /// The method (or WebSocket route key); `None` when the ARN names none.
    pub fn method(&self) -> Option<&'a str> {
        self.method
    }

    /// The path after the method, without its leading `/`.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Whether the ARN is a WebSocket route's (`$connect`, `$default`, …).
    pub fn is_websocket(&self) -> bool {
        self.method.is_some_and(|m| m.starts_with('$'))
    }
}

/// The real event fixtures of `authorizer/tests/fixtures`, for the unit tests that read events.
#[cfg(test)]
pub(crate) mod fixtures {
    pub(crate) const REST_TOKEN: &str =
        include_str!("../tests/fixtures/apigw-custom-auth-request.json");
    pub(crate) const REST_REQUEST: &str =
        include_str!("../tests/fixtures/apigw-custom-auth-request-type-request.json");
    pub(crate) const HTTP_V1: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v1-request.json");
    pub(crate) const HTTP_V2: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v2-request.json");
    pub(crate) const HTTP_V2_NULL_MAPS: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v2-request-null-maps.json");
    pub(crate) const WEBSOCKET: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-websocket-request.json");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fixtures::*;
    use super::*;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    fn read(event: Value) -> Result<AuthorizerEvent, EventError> {
        AuthorizerEvent::from_value(event)
    }

    #[test]
    fn fixtures_read_as_their_format() {
        for (fixture, kind) in [
            (REST_TOKEN, EventKind::RestToken),
            (REST_REQUEST, EventKind::RestRequest),
            (HTTP_V1, EventKind::HttpV1),
            (HTTP_V2, EventKind::HttpV2),
            (HTTP_V2_NULL_MAPS, EventKind::HttpV2),
            (WEBSOCKET, EventKind::RestRequest),
        ] {
            assert_eq!(
                read(parse(fixture)).map(|e| e.kind()),
                Ok(kind),
                "{fixture}"
            );
        }
        for file in [
            "authorizer-rest-token",
            "authorizer-rest-request",
            "authorizer-http-v1",
            "authorizer-http-v2",
        ] {
            let path = format!("{}/../events/{file}.json", env!("CARGO_MANIFEST_DIR"));
            let event = parse(&std::fs::read_to_string(&path).unwrap());
            assert!(read(event).is_ok(), "{path}");
        }
    }

    #[test]
    fn not_an_authorizer_event_is_an_error_naming_why() {
        for event in [json!(null), json!([]), json!("TOKEN"), json!(7)] {
            assert_eq!(read(event).err(), Some(EventError::NotAnObject));
        }
        for event in [
            json!({}),
            json!({"type": "OTHER"}),
            json!({"type": 7}),
            json!({"version": "3.0"}),
            json!({"Records": [{"eventSource": "aws:sqs"}]}),
        ] {
            assert_eq!(read(event).err(), Some(EventError::UnknownFormat));
        }
    }

    #[test]
    fn wrong_shape_for_its_format_is_invalid_and_quotes_nothing() {
        let secret = "Bearer eyJhbGciOi.secret.sig";
        for (event, kind) in [
            (
                json!({"type": "TOKEN", "authorizationToken": 7}),
                EventKind::RestToken,
            ),
            (
                json!({"type": "REQUEST", "headers": "nope", "requestContext": {}}),
                EventKind::RestRequest,
            ),
            (
                json!({"version": "2.0", "routeArn": "arn", "identitySource": {"a": secret}}),
                EventKind::HttpV2,
            ),
            (
                json!({"type": "REQUEST", "requestContext": {},
                       "headers": {"Authorization": format!("{secret}\u{1}")}}),
                EventKind::RestRequest,
            ),
        ] {
            let err = read(event).unwrap_err();
            assert_eq!(err, EventError::Invalid(kind));
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    /// API Gateway sends `null` for empty maps; the library's 2.0 type fails on a `null`
    /// `headers` or `cookies`, the 1.0 type on `null` `headers`.
    #[test]
    fn null_maps_and_entries_read_as_absent() {
        let mut event = parse(HTTP_V2_NULL_MAPS);
        event["headers"] = Value::Null;
        event["cookies"] = Value::Null;
        event["identitySource"] = Value::Null;
        let AuthorizerEvent::HttpV2(v2) = read(event).unwrap() else {
            panic!("not 2.0")
        };
        assert!(v2.headers.is_empty() && v2.cookies.is_empty());
        assert_eq!(v2.identity_source, None);

        let mut event = parse(HTTP_V1);
        event["headers"] = Value::Null;
        event["queryStringParameters"] = json!({"a": null, "b": "1"});
        let AuthorizerEvent::HttpV1(v1) = read(event).unwrap() else {
            panic!("not 1.0")
        };
        assert!(v1.headers.is_empty());
        assert_eq!(v1.query_string_parameters.len(), 1);

        let mut event = parse(REST_REQUEST);
        event["headers"] = json!({"Authorization": null, "Host": "h"});
        event["multiValueHeaders"] = Value::Null;
        let AuthorizerEvent::RestRequest(rest) = read(event).unwrap() else {
            panic!("not REST")
        };
        assert!(rest.headers.get("authorization").is_none());
        assert_eq!(rest.headers.len(), 1);
    }

    #[test]
    fn header_keys_differing_in_case_keep_every_value() {
        let mut event = parse(REST_REQUEST);
        event["headers"] = json!({"Authorization": "Bearer a", "authorization": "Bearer b"});
        event["multiValueHeaders"] =
            json!({"AUTHORIZATION": ["Bearer c"], "authorization": ["Bearer d"]});
        let AuthorizerEvent::RestRequest(rest) = read(event).unwrap() else {
            panic!("not REST")
        };
        assert_eq!(rest.headers.get_all("authorization").iter().count(), 2);
        assert_eq!(
            rest.multi_value_headers
                .get_all("authorization")
                .iter()
                .count(),
            2
        );

        let mut event = parse(HTTP_V2);
        event["headers"] = json!({"Authorization": "Bearer a", "authorization": "Bearer b"});
        let AuthorizerEvent::HttpV2(v2) = read(event).unwrap() else {
            panic!("not 2.0")
        };
        assert_eq!(v2.headers.get_all("authorization").iter().count(), 2);
    }

    #[test]
    fn only_wanted_headers_and_parameters_are_kept_and_checked() {
        let wanted = Wanted {
            headers: vec!["Authorization".into()],
            query: vec!["access_token".into()],
        };
        let mut event = parse(REST_REQUEST);
        event["headers"]["X-Odd"] = json!("control \u{1} character");
        event["headers"]["authorization"] = json!("Bearer t");
        event["queryStringParameters"]["access_token"] = json!("q");
        let AuthorizerEvent::RestRequest(rest) =
            AuthorizerEvent::from_value_keeping(event.clone(), &wanted).unwrap()
        else {
            panic!("not REST")
        };
        assert_eq!(rest.headers.len(), 1);
        assert_eq!(rest.multi_value_headers.len(), 0);
        assert_eq!(
            rest.query_string_parameters.first("access_token"),
            Some("q")
        );
        assert_eq!(rest.query_string_parameters.first("QueryString1"), None);
        // Every header is read without a selection, and the odd one fails the event.
        assert_eq!(
            read(event.clone()).err(),
            Some(EventError::Invalid(EventKind::RestRequest))
        );
        event["headers"]["Authorization"] = json!("Bearer \u{1}");
        assert_eq!(
            AuthorizerEvent::from_value_keeping(event, &wanted).err(),
            Some(EventError::Invalid(EventKind::RestRequest))
        );
    }

    #[test]
    fn merging_many_headers_stays_linear_enough() {
        let headers: Map<String, Value> = (0..20_000)
            .flat_map(|i| {
                [
                    (format!("X-H{i}"), json!("a")),
                    (format!("x-h{i}"), json!("b")),
                ]
            })
            .collect();
        let mut event = parse(REST_REQUEST);
        event["headers"] = Value::Object(headers);
        let AuthorizerEvent::RestRequest(rest) = read(event).unwrap() else {
            panic!("not REST")
        };
        assert_eq!(rest.headers.get_all("x-h7").iter().count(), 2);
    }

    #[test]
    fn resource_arn_reads_method_or_route_arn() {
        assert_eq!(
            read(parse(REST_TOKEN)).unwrap().resource_arn(),
            Some("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/")
        );
        assert_eq!(
            read(parse(HTTP_V2)).unwrap().resource_arn(),
            Some("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request")
        );
        let event = json!({"type": "TOKEN", "methodArn": ""});
        assert_eq!(read(event).unwrap().resource_arn(), None);
    }

    #[test]
    fn arn_parts_are_read() {
        let arn =
            ResourceArn::parse("arn:aws:execute-api:us-east-1:1:api/prod/GET/shows/42").unwrap();
        assert_eq!(
            arn.stage_wide(),
            "arn:aws:execute-api:us-east-1:1:api/prod/*"
        );
        assert_eq!(arn.method(), Some("GET"));
        assert_eq!(arn.path(), "shows/42");
        assert!(!arn.is_websocket());
        let arn =
            ResourceArn::parse("arn:aws-cn:execute-api:cn-north-1:1:abc/prod/$connect").unwrap();
        assert_eq!(
            arn.stage_wide(),
            "arn:aws-cn:execute-api:cn-north-1:1:abc/prod/*"
        );
        assert_eq!((arn.method(), arn.path()), (Some("$connect"), ""));
        assert!(arn.is_websocket());
        let arn = ResourceArn::parse("arn:aws:execute-api:us-west-2:1:ymy8tbxw7b/*/GET/").unwrap();
        assert_eq!(
            arn.stage_wide(),
            "arn:aws:execute-api:us-west-2:1:ymy8tbxw7b/*/*"
        );
        // Colons in the path stay in the path, out of the stage.
        let arn = ResourceArn::parse(
            "arn:aws:execute-api:eu-central-1:1:api/lab/GET/c/2021-08-01T00:00Z",
        )
        .unwrap();
        assert_eq!(
            arn.stage_wide(),
            "arn:aws:execute-api:eu-central-1:1:api/lab/*"
        );
        assert_eq!(arn.path(), "c/2021-08-01T00:00Z");
        let arn = ResourceArn::parse("arn:aws:execute-api:us-east-1:1:api/prod").unwrap();
        assert_eq!(
            arn.stage_wide(),
            "arn:aws:execute-api:us-east-1:1:api/prod/*"
        );
        assert_eq!(arn.method(), None);
    }

    #[test]
    fn arns_of_another_shape_are_none() {
        for arn in [
            "",
            "arn",
            "garbage",
            "arn:aws:lambda:us-east-1:1:function:x",
            "arn:aws:lambda:us-east-1:1:api/stage/GET/x",
            "arn:aws:execute-api:us-east-1:1:api",
            "arn:aws:execute-api:us-east-1:1:api/",
            "arn:aws:execute-api::1:api/stage/GET/",
            "arn:aws:execute-api:r:1:/stage/GET",
            "not an arn at all/with/slashes",
            "arn:aws:execute-api:r:1:api:x/stage/GET",
            "xarn:aws:execute-api:r:1:api/stage/GET",
        ] {
            assert_eq!(ResourceArn::parse(arn), None, "{arn}");
        }
    }
}
