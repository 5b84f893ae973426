//! Recognise the API Gateway authorizer event and pull the bearer token out of it. Pure
//! functions over the raw JSON (`serde_json::Value`), so a malformed event is an error
//! value, never a failed deserialisation that takes the process down.

use serde_json::Value;

use crate::error::Reason;

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
}

/// Decides which authorizer event `event` is. The error says what is missing.
pub fn classify(event: &Value) -> Result<EventKind, &'static str> {
    let Some(obj) = event.as_object() else {
        return Err("the event is not a JSON object");
    };
    let version = obj.get("version").and_then(Value::as_str);
    let kind = obj.get("type").and_then(Value::as_str);
    match (version, kind) {
        (Some("2.0"), _) => Ok(EventKind::HttpV2),
        (_, Some("TOKEN")) => Ok(EventKind::RestToken),
        (Some("1.0"), Some("REQUEST")) => Ok(EventKind::HttpV1),
        // REST REQUEST events carry no `version`; WebSocket `$connect` ones carry "$LATEST".
        (_, Some("REQUEST")) => Ok(EventKind::RestRequest),
        _ => Err(
            "no authorizer `type` (expected \"TOKEN\" or \"REQUEST\") and no payload `version` \"2.0\"",
        ),
    }
}

/// The ARN the answer's policy is about: `methodArn` (REST, HTTP 1.0) or `routeArn` (HTTP 2.0).
pub fn resource_arn(event: &Value, kind: EventKind) -> Option<&str> {
    let key = match kind {
        EventKind::HttpV2 => "routeArn",
        _ => "methodArn",
    };
    event
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Where a token may be found, tried in the configured order. The first source that is present
/// decides, even when what it holds is empty or malformed (then the request is denied): a later
/// source never overrides a credential the client did send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A request header (name case-insensitive), optionally behind a scheme such as `Bearer`.
    Header {
        /// Header name.
        name: String,
        /// Scheme expected before the token (compared case-insensitively), if any.
        prefix: Option<String>,
    },
    /// A query string parameter (WebSocket `$connect` clients cannot set headers).
    Query {
        /// Parameter name.
        name: String,
    },
    /// A cookie.
    Cookie {
        /// Cookie name.
        name: String,
    },
}

impl TokenSource {
    /// `Authorization: Bearer <token>`, the default and only source unless configured otherwise.
    pub fn defaults() -> Vec<TokenSource> {
        vec![TokenSource::Header {
            name: "Authorization".to_owned(),
            prefix: Some("Bearer".to_owned()),
        }]
    }
}

/// Finds exactly one token in the event, from the first of `sources` that is present.
/// A REST `TOKEN` event carries only `authorizationToken` (API Gateway read the configured
/// header already); it is parsed with the prefix of the first header source.
pub fn extract_token<'a>(
    event: &'a Value,
    kind: EventKind,
    sources: &[TokenSource],
) -> Result<&'a str, Reason> {
    if kind == EventKind::RestToken {
        let prefix = sources.iter().find_map(|s| match s {
            TokenSource::Header { prefix, .. } => Some(prefix.as_deref()),
            _ => None,
        });
        return match event.get("authorizationToken") {
            None | Some(Value::Null) => Err(Reason::MissingToken),
            Some(Value::String(s)) => parse_credential(s, prefix.unwrap_or(Some("Bearer"))),
            Some(_) => Err(Reason::MalformedToken),
        };
    }
    for source in sources {
        let found = match source {
            TokenSource::Header { name, prefix } => {
                let value = match single_header(event, name) {
                    // HTTP API events also carry the identity source on its own; use it when
                    // the headers lack the default header.
                    Err(Reason::MissingToken)
                        if kind != EventKind::RestRequest
                            && name.eq_ignore_ascii_case("authorization") =>
                    {
                        identity_source(event)
                    }
                    other => other,
                };
                value.and_then(|v| parse_credential(v, prefix.as_deref()))
            }
            TokenSource::Query { name } => {
                query_parameter(event, name).and_then(|v| parse_credential(v, None))
            }
            TokenSource::Cookie { name } => {
                cookie(event, kind, name).and_then(|v| parse_credential(v, None))
            }
        };
        match found {
            Err(Reason::MissingToken) => continue,
            other => return other,
        }
    }
    Err(Reason::MissingToken)
}

/// The one value of query parameter `name` (case-sensitive, as API Gateway passes it).
fn query_parameter<'a>(event: &'a Value, name: &str) -> Result<&'a str, Reason> {
    if let Some(values) = event
        .get("multiValueQueryStringParameters")
        .and_then(|m| m.get(name))
        .and_then(Value::as_array)
    {
        return match values.as_slice() {
            [] => Err(Reason::MissingToken),
            [Value::String(s)] => Ok(s),
            _ => Err(Reason::MalformedToken),
        };
    }
    match event.get("queryStringParameters").and_then(|m| m.get(name)) {
        None | Some(Value::Null) => Err(Reason::MissingToken),
        // Payload 2.0 joins repeated parameters with commas, which no JWT contains.
        Some(Value::String(s)) if s.contains(',') => Err(Reason::MalformedToken),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Reason::MalformedToken),
    }
}

/// The one cookie called `name`: payload 2.0 lists cookies in `cookies`, the other formats
/// carry `Cookie` headers.
fn cookie<'a>(event: &'a Value, kind: EventKind, name: &str) -> Result<&'a str, Reason> {
    let mut found: Option<&str> = None;
    let mut consider = |pair: &'a str| -> Result<(), Reason> {
        let Some((key, value)) = pair.split_once('=') else {
            return Ok(());
        };
        if key.trim() != name {
            return Ok(());
        }
        if found.is_some() {
            return Err(Reason::MalformedToken);
        }
        let value = value.trim();
        found = Some(
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value),
        );
        Ok(())
    };
    if kind == EventKind::HttpV2 {
        if let Some(cookies) = event.get("cookies").and_then(Value::as_array) {
            for c in cookies.iter().filter_map(Value::as_str) {
                consider(c)?;
            }
        }
    } else {
        let headers = event
            .get("multiValueHeaders")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
                    .flat_map(|(_, v)| v.as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .or_else(|| {
                event.get("headers").and_then(Value::as_object).map(|m| {
                    m.iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
                        .filter_map(|(_, v)| v.as_str())
                        .collect()
                })
            })
            .unwrap_or_default();
        for header in headers {
            for pair in header.split(';') {
                consider(pair)?;
            }
        }
    }
    // `session=` is a cookie that is there: present, and malformed when parsed.
    found.ok_or(Reason::MissingToken)
}

/// The one value of header `name` (case-insensitive) in `headers`/`multiValueHeaders`.
/// Several values, or a non-string value, make the request malformed: with two credentials
/// we cannot tell which one the caller meant.
fn single_header<'a>(event: &'a Value, name: &str) -> Result<&'a str, Reason> {
    // multiValueHeaders is the complete view when present (REST, HTTP 1.0).
    if let Some(multi) = event.get("multiValueHeaders").and_then(Value::as_object) {
        let mut found: Option<&str> = None;
        let mut seen = false;
        for (key, values) in multi {
            if !key.eq_ignore_ascii_case(name) {
                continue;
            }
            let items: &[Value] = match values {
                Value::Null => continue,
                Value::Array(items) => items,
                _ => return Err(Reason::MalformedToken),
            };
            for item in items {
                let s = item.as_str().ok_or(Reason::MalformedToken)?;
                if found.is_some() {
                    return Err(Reason::MalformedToken);
                }
                found = Some(s);
            }
            seen = true;
        }
        if let Some(s) = found {
            return Ok(s);
        }
        if seen {
            return Err(Reason::MissingToken);
        }
    }
    let Some(headers) = event.get("headers").and_then(Value::as_object) else {
        return Err(Reason::MissingToken);
    };
    let mut found: Option<&str> = None;
    for (key, value) in headers {
        if !key.eq_ignore_ascii_case(name) {
            continue;
        }
        let s = match value {
            Value::Null => continue,
            Value::String(s) => s.as_str(),
            _ => return Err(Reason::MalformedToken),
        };
        if found.is_some() {
            return Err(Reason::MalformedToken);
        }
        found = Some(s);
    }
    found.ok_or(Reason::MissingToken)
}

/// HTTP API without an `Authorization` header: the identity source, when it is a single value
/// (payload 2.0: an array; 1.0: a string). It is API Gateway's summary, not something the client
/// sent, so an empty one is no credential at all.
fn identity_source(event: &Value) -> Result<&str, Reason> {
    let blank = |s: &str| s.trim_matches(|c: char| c.is_ascii_whitespace()).is_empty();
    match event.get("identitySource") {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => Err(Reason::MissingToken),
            [Value::String(s)] if blank(s) => Err(Reason::MissingToken),
            [Value::String(s)] => Ok(s),
            _ => Err(Reason::MalformedToken),
        },
        Some(Value::String(s)) if blank(s) => Err(Reason::MissingToken),
        Some(Value::String(s)) => Ok(s),
        _ => Err(Reason::MissingToken),
    }
}

/// A credential: `<prefix> <token>` when a prefix is expected, else the bare token; exactly
/// one token either way. The source was present, so an empty credential is malformed, never
/// "missing".
pub fn parse_credential<'a>(value: &'a str, prefix: Option<&str>) -> Result<&'a str, Reason> {
    match prefix {
        Some(scheme) => parse_scheme(value, scheme),
        None => {
            let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
            if value.is_empty() || value.contains(|c: char| c.is_ascii_whitespace()) {
                Err(Reason::MalformedToken)
            } else {
                Ok(value)
            }
        }
    }
}

/// `Bearer <token>`: scheme case-insensitive (RFC 9110 §11.1), exactly one token after it.
pub fn parse_bearer(value: &str) -> Result<&str, Reason> {
    parse_scheme(value, "Bearer")
}

/// `<scheme> <token>`, scheme compared case-insensitively. Anything else, including an empty
/// value or the scheme alone (`Bearer`), is malformed: the header was sent.
pub fn parse_scheme<'a>(value: &'a str, expected: &str) -> Result<&'a str, Reason> {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    let Some(split) = value.find(|c: char| c.is_ascii_whitespace()) else {
        // Empty, a lone scheme without credentials, or a bare token without the scheme.
        return Err(Reason::MalformedToken);
    };
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(expected) {
        return Err(Reason::MalformedToken);
    }
    let token = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if token.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(Reason::MalformedToken);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const REST_TOKEN: &str = r#"{"type":"TOKEN","authorizationToken":"Bearer abc.def.ghi","methodArn":"arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/"}"#;
    const HTTP_V2: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v2-request.json");
    const HTTP_V1: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v1-request.json");
    const REST_REQUEST: &str =
        include_str!("../tests/fixtures/apigw-custom-auth-request-type-request.json");
    const WEBSOCKET: &str =
        include_str!("../tests/fixtures/apigw-v2-custom-authorizer-websocket-request.json");

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn classify_fixtures_detects_each_format() {
        assert_eq!(classify(&parse(REST_TOKEN)), Ok(EventKind::RestToken));
        assert_eq!(classify(&parse(REST_REQUEST)), Ok(EventKind::RestRequest));
        assert_eq!(classify(&parse(HTTP_V1)), Ok(EventKind::HttpV1));
        assert_eq!(classify(&parse(HTTP_V2)), Ok(EventKind::HttpV2));
        assert_eq!(classify(&parse(WEBSOCKET)), Ok(EventKind::RestRequest));
    }

    #[test]
    fn classify_garbage_is_error() {
        for event in [
            json!(null),
            json!([]),
            json!("TOKEN"),
            json!({}),
            json!({"type": "OTHER"}),
            json!({"version": "3.0"}),
        ] {
            assert!(classify(&event).is_err(), "{event}");
        }
    }

    #[test]
    fn resource_arn_reads_method_or_route_arn() {
        assert_eq!(
            resource_arn(&parse(REST_TOKEN), EventKind::RestToken),
            Some("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/")
        );
        assert_eq!(
            resource_arn(&parse(HTTP_V2), EventKind::HttpV2),
            Some("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request")
        );
        assert_eq!(
            resource_arn(&json!({"methodArn": 3}), EventKind::RestToken),
            None
        );
    }

    #[test]
    fn rest_token_bearer_is_extracted() {
        assert_eq!(
            extract_token(
                &parse(REST_TOKEN),
                EventKind::RestToken,
                &TokenSource::defaults()
            ),
            Ok("abc.def.ghi")
        );
    }

    #[test]
    fn rest_token_missing_is_missing_token() {
        let event = json!({"type": "TOKEN", "methodArn": "arn"});
        assert_eq!(
            extract_token(&event, EventKind::RestToken, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
        let event = json!({"type": "TOKEN", "authorizationToken": 5});
        assert_eq!(
            extract_token(&event, EventKind::RestToken, &TokenSource::defaults()),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn parse_bearer_scheme_is_case_insensitive() {
        assert_eq!(parse_bearer("bearer t"), Ok("t"));
        assert_eq!(parse_bearer("BEARER t"), Ok("t"));
        assert_eq!(parse_bearer("  Bearer   t  "), Ok("t"));
        assert_eq!(parse_bearer("Bearer\tt"), Ok("t"));
    }

    #[test]
    fn parse_bearer_rejects_two_tokens_other_schemes_and_empties() {
        assert_eq!(parse_bearer("Bearer a b"), Err(Reason::MalformedToken));
        assert_eq!(
            parse_bearer("Basic dXNlcjpwYXNz"),
            Err(Reason::MalformedToken)
        );
        assert_eq!(parse_bearer("abc.def.ghi"), Err(Reason::MalformedToken));
        // Present but empty is malformed, not missing: a later source must not decide instead.
        assert_eq!(parse_bearer("Bearer"), Err(Reason::MalformedToken));
        assert_eq!(parse_bearer("Bearer   "), Err(Reason::MalformedToken));
        assert_eq!(parse_bearer(""), Err(Reason::MalformedToken));
        assert_eq!(parse_credential("  ", None), Err(Reason::MalformedToken));
    }

    #[test]
    fn request_header_name_is_case_insensitive() {
        for name in ["Authorization", "authorization", "AUTHORIZATION"] {
            let event =
                json!({"type": "REQUEST", "methodArn": "arn", "headers": {name: "Bearer t"}});
            assert_eq!(
                extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
                Ok("t"),
                "{name}"
            );
        }
    }

    #[test]
    fn request_two_authorization_headers_are_rejected() {
        let event = json!({"headers": {"Authorization": "Bearer a", "authorization": "Bearer b"}});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MalformedToken)
        );
        let event = json!({
            "headers": {"Authorization": "Bearer a"},
            "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]}
        });
        assert_eq!(
            extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn request_multi_value_single_header_is_accepted() {
        let event = json!({
            "headers": {"Authorization": "Bearer a"},
            "multiValueHeaders": {"Authorization": ["Bearer a"]}
        });
        assert_eq!(
            extract_token(&event, EventKind::HttpV1, &TokenSource::defaults()),
            Ok("a")
        );
    }

    #[test]
    fn request_without_headers_is_missing_token() {
        let fixture = parse(REST_REQUEST);
        assert_eq!(
            extract_token(&fixture, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
        let event = json!({"headers": null});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
        let event = json!({"headers": {"Authorization": null}});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
    }

    #[test]
    fn empty_credential_is_present_and_malformed_and_later_sources_do_not_decide() {
        let sources = vec![
            TokenSource::Header {
                name: "Authorization".into(),
                prefix: Some("Bearer".into()),
            },
            TokenSource::Cookie {
                name: "session".into(),
            },
        ];
        for value in ["Bearer", "Bearer ", "", " ", "bearer\t"] {
            let event = json!({"type": "REQUEST", "headers": {"Authorization": value, "Cookie": "session=a.b.c"}});
            assert_eq!(
                extract_token(&event, EventKind::RestRequest, &sources),
                Err(Reason::MalformedToken),
                "{value:?}"
            );
            let event = json!({"type": "TOKEN", "authorizationToken": value});
            assert_eq!(
                extract_token(&event, EventKind::RestToken, &sources),
                Err(Reason::MalformedToken),
                "{value:?}"
            );
        }
        let event = json!({"version": "2.0", "cookies": ["session="]});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &sources[1..]),
            Err(Reason::MalformedToken)
        );
        // API Gateway's own identity-source summary, when blank, is no credential.
        let event =
            json!({"version": "1.0", "type": "REQUEST", "identitySource": "", "headers": {}});
        assert_eq!(
            extract_token(&event, EventKind::HttpV1, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
    }

    #[test]
    fn http_v2_reads_lowercase_header() {
        let mut event = parse(HTTP_V2);
        event["headers"]["authorization"] = json!("Bearer tok");
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &TokenSource::defaults()),
            Ok("tok")
        );
    }

    #[test]
    fn http_v2_joined_duplicate_headers_are_rejected() {
        // API Gateway joins repeated headers with commas in payload 2.0.
        let mut event = parse(HTTP_V2);
        event["headers"]["authorization"] = json!("Bearer a,Bearer b");
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &TokenSource::defaults()),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn http_v1_falls_back_to_identity_source_but_rest_does_not() {
        let event = json!({"version": "1.0", "type": "REQUEST", "identitySource": "Bearer tok", "headers": {}});
        assert_eq!(
            extract_token(&event, EventKind::HttpV1, &TokenSource::defaults()),
            Ok("tok")
        );
        assert_eq!(
            extract_token(&event, EventKind::RestRequest, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
    }

    #[test]
    fn http_v2_falls_back_to_single_identity_source() {
        let event = json!({"version": "2.0", "identitySource": ["Bearer tok"], "headers": {}});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &TokenSource::defaults()),
            Ok("tok")
        );
        let event = json!({"version": "2.0", "identitySource": ["Bearer a", "Bearer b"]});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &TokenSource::defaults()),
            Err(Reason::MalformedToken)
        );
        let event = json!({"version": "2.0"});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2, &TokenSource::defaults()),
            Err(Reason::MissingToken)
        );
    }
}
