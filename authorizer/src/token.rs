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

/// Finds exactly one bearer token in the event.
pub fn extract_token(event: &Value, kind: EventKind) -> Result<&str, Reason> {
    match kind {
        EventKind::RestToken => match event.get("authorizationToken") {
            None | Some(Value::Null) => Err(Reason::MissingToken),
            Some(Value::String(s)) => parse_bearer(s),
            Some(_) => Err(Reason::MalformedToken),
        },
        EventKind::RestRequest | EventKind::HttpV1 => {
            let value = single_header(event, "Authorization")?;
            parse_bearer(value)
        }
        EventKind::HttpV2 => match single_header(event, "Authorization") {
            Err(Reason::MissingToken) => parse_bearer(identity_source_v2(event)?),
            other => parse_bearer(other?),
        },
    }
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

/// HTTP API 2.0 without an `Authorization` header: the identity source, when it is a single value.
fn identity_source_v2(event: &Value) -> Result<&str, Reason> {
    match event.get("identitySource") {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => Err(Reason::MissingToken),
            [Value::String(s)] => Ok(s),
            _ => Err(Reason::MalformedToken),
        },
        Some(Value::String(s)) => Ok(s),
        _ => Err(Reason::MissingToken),
    }
}

/// `Bearer <token>`: scheme case-insensitive (RFC 9110 §11.1), exactly one token after it.
pub fn parse_bearer(value: &str) -> Result<&str, Reason> {
    let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if value.is_empty() {
        return Err(Reason::MissingToken);
    }
    let Some(split) = value.find(|c: char| c.is_ascii_whitespace()) else {
        // A lone word: either a bare token or a scheme without credentials.
        return Err(if value.eq_ignore_ascii_case("bearer") {
            Reason::MissingToken
        } else {
            Reason::MalformedToken
        });
    };
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case("bearer") {
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
    const HTTP_V2: &str = include_str!("../fixtures/apigw-v2-custom-authorizer-v2-request.json");
    const HTTP_V1: &str = include_str!("../fixtures/apigw-v2-custom-authorizer-v1-request.json");
    const REST_REQUEST: &str =
        include_str!("../fixtures/apigw-custom-auth-request-type-request.json");
    const WEBSOCKET: &str =
        include_str!("../fixtures/apigw-v2-custom-authorizer-websocket-request.json");

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
            extract_token(&parse(REST_TOKEN), EventKind::RestToken),
            Ok("abc.def.ghi")
        );
    }

    #[test]
    fn rest_token_missing_is_missing_token() {
        let event = json!({"type": "TOKEN", "methodArn": "arn"});
        assert_eq!(
            extract_token(&event, EventKind::RestToken),
            Err(Reason::MissingToken)
        );
        let event = json!({"type": "TOKEN", "authorizationToken": 5});
        assert_eq!(
            extract_token(&event, EventKind::RestToken),
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
        assert_eq!(parse_bearer("Bearer"), Err(Reason::MissingToken));
        assert_eq!(parse_bearer("Bearer   "), Err(Reason::MissingToken));
        assert_eq!(parse_bearer(""), Err(Reason::MissingToken));
    }

    #[test]
    fn request_header_name_is_case_insensitive() {
        for name in ["Authorization", "authorization", "AUTHORIZATION"] {
            let event =
                json!({"type": "REQUEST", "methodArn": "arn", "headers": {name: "Bearer t"}});
            assert_eq!(
                extract_token(&event, EventKind::RestRequest),
                Ok("t"),
                "{name}"
            );
        }
    }

    #[test]
    fn request_two_authorization_headers_are_rejected() {
        let event = json!({"headers": {"Authorization": "Bearer a", "authorization": "Bearer b"}});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest),
            Err(Reason::MalformedToken)
        );
        let event = json!({
            "headers": {"Authorization": "Bearer a"},
            "multiValueHeaders": {"Authorization": ["Bearer a", "Bearer b"]}
        });
        assert_eq!(
            extract_token(&event, EventKind::RestRequest),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn request_multi_value_single_header_is_accepted() {
        let event = json!({
            "headers": {"Authorization": "Bearer a"},
            "multiValueHeaders": {"Authorization": ["Bearer a"]}
        });
        assert_eq!(extract_token(&event, EventKind::HttpV1), Ok("a"));
    }

    #[test]
    fn request_without_headers_is_missing_token() {
        let fixture = parse(REST_REQUEST);
        assert_eq!(
            extract_token(&fixture, EventKind::RestRequest),
            Err(Reason::MissingToken)
        );
        let event = json!({"headers": null});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest),
            Err(Reason::MissingToken)
        );
        let event = json!({"headers": {"Authorization": null}});
        assert_eq!(
            extract_token(&event, EventKind::RestRequest),
            Err(Reason::MissingToken)
        );
    }

    #[test]
    fn http_v2_reads_lowercase_header() {
        let mut event = parse(HTTP_V2);
        event["headers"]["authorization"] = json!("Bearer tok");
        assert_eq!(extract_token(&event, EventKind::HttpV2), Ok("tok"));
    }

    #[test]
    fn http_v2_joined_duplicate_headers_are_rejected() {
        // API Gateway joins repeated headers with commas in payload 2.0.
        let mut event = parse(HTTP_V2);
        event["headers"]["authorization"] = json!("Bearer a,Bearer b");
        assert_eq!(
            extract_token(&event, EventKind::HttpV2),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn http_v2_falls_back_to_single_identity_source() {
        let event = json!({"version": "2.0", "identitySource": ["Bearer tok"], "headers": {}});
        assert_eq!(extract_token(&event, EventKind::HttpV2), Ok("tok"));
        let event = json!({"version": "2.0", "identitySource": ["Bearer a", "Bearer b"]});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2),
            Err(Reason::MalformedToken)
        );
        let event = json!({"version": "2.0"});
        assert_eq!(
            extract_token(&event, EventKind::HttpV2),
            Err(Reason::MissingToken)
        );
    }
}
