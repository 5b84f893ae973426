//! Pull the bearer token out of an authorizer event, from the configured sources. Pure
//! functions over the event's typed form ([`AuthorizerEvent`]).

use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::query_map::QueryMap;

use crate::error::Reason;
use crate::event::{AuthorizerEvent, Wanted};

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
    /// The headers and query parameters `sources` read: what an event must keep for
    /// [`extract_token`].
    pub fn wanted(sources: &[TokenSource]) -> Wanted {
        let mut wanted = Wanted::default();
        for source in sources {
            match source {
                TokenSource::Header { name, .. } => wanted.headers.push(name.clone()),
                TokenSource::Query { name } => wanted.query.push(name.clone()),
                TokenSource::Cookie { .. } => wanted.headers.push("cookie".to_owned()),
            }
        }
        wanted
    }

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
    event: &'a AuthorizerEvent,
    sources: &[TokenSource],
) -> Result<&'a str, Reason> {
    if let AuthorizerEvent::RestToken(event) = event {
        let prefix = sources.iter().find_map(|s| match s {
            TokenSource::Header { prefix, .. } => Some(prefix.as_deref()),
            _ => None,
        });
        return match &event.authorization_token {
            None => Err(Reason::MissingToken),
            Some(value) => parse_credential(value, prefix.unwrap_or(Some("Bearer"))),
        };
    }
    for source in sources {
        let found = match source {
            TokenSource::Header { name, prefix } => {
                let value = match header(event, name) {
                    // HTTP API events also carry the identity source on its own; use it when
                    // the headers lack the default header.
                    Err(Reason::MissingToken) if name.eq_ignore_ascii_case("authorization") => {
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
                cookie(event, name).and_then(|v| parse_credential(v, None))
            }
        };
        match found {
            Err(Reason::MissingToken) => continue,
            other => return other,
        }
    }
    Err(Reason::MissingToken)
}

/// The one value of header `name` (case-insensitive). REST events carry `multiValueHeaders`,
/// the complete view when it lists the header; the other formats `headers` only (payload 2.0
/// joins repeated headers with commas, which a credential parses as malformed).
fn header<'a>(event: &'a AuthorizerEvent, name: &str) -> Result<&'a str, Reason> {
    let headers = match event {
        AuthorizerEvent::RestToken(_) => return Err(Reason::MissingToken),
        AuthorizerEvent::RestRequest(e) => match single(&e.multi_value_headers, name) {
            Err(Reason::MissingToken) => &e.headers,
            found => return found,
        },
        AuthorizerEvent::HttpV1(e) => &e.headers,
        AuthorizerEvent::HttpV2(e) => &e.headers,
    };
    single(headers, name)
}

/// The one value of `name` in `headers`. Several values make the request malformed: with two
/// credentials we cannot tell which one the caller meant.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Reason> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(Reason::MissingToken)?;
    if values.next().is_some() {
        return Err(Reason::MalformedToken);
    }
    // Header values read from JSON are UTF-8; a credential outside ASCII fails as a JWT later.
    std::str::from_utf8(value.as_bytes()).map_err(|_| Reason::MalformedToken)
}

/// HTTP API without an `Authorization` header: the identity source, when it is a single value
/// (payload 2.0: a list; 1.0: a string). It is API Gateway's summary, not something the client
/// sent, so an empty one is no credential at all. REST events have none.
fn identity_source(event: &AuthorizerEvent) -> Result<&str, Reason> {
    let blank = |s: &str| s.trim_matches(|c: char| c.is_ascii_whitespace()).is_empty();
    let value = match event {
        AuthorizerEvent::HttpV1(e) => e.identity_source.as_deref(),
        AuthorizerEvent::HttpV2(e) => match e.identity_source.as_deref() {
            None | Some([]) => None,
            Some([one]) => Some(one.as_str()),
            Some(_) => return Err(Reason::MalformedToken),
        },
        AuthorizerEvent::RestToken(_) | AuthorizerEvent::RestRequest(_) => None,
    };
    match value {
        Some(s) if !blank(s) => Ok(s),
        _ => Err(Reason::MissingToken),
    }
}

/// The one value of query parameter `name` (case-sensitive, as API Gateway passes it).
fn query_parameter<'a>(event: &'a AuthorizerEvent, name: &str) -> Result<&'a str, Reason> {
    let one = |value: Option<&'a String>| match value {
        None => Err(Reason::MissingToken),
        // HTTP APIs join repeated parameters with commas, which no JWT contains.
        Some(s) if s.contains(',') => Err(Reason::MalformedToken),
        Some(s) => Ok(s.as_str()),
    };
    match event {
        AuthorizerEvent::RestToken(_) => Err(Reason::MissingToken),
        AuthorizerEvent::RestRequest(e) => {
            match only(&e.multi_value_query_string_parameters, name) {
                Err(Reason::MissingToken) => {}
                found => return found,
            }
            match only(&e.query_string_parameters, name) {
                Ok(s) if s.contains(',') => Err(Reason::MalformedToken),
                other => other,
            }
        }
        AuthorizerEvent::HttpV1(e) => one(e.query_string_parameters.get(name)),
        AuthorizerEvent::HttpV2(e) => one(e.query_string_parameters.get(name)),
    }
}

/// The one value of `name` in a REST query map; several (or a listed but empty parameter) are
/// malformed.
fn only<'a>(query: &'a QueryMap, name: &str) -> Result<&'a str, Reason> {
    match query.all(name).as_deref() {
        None => Err(Reason::MissingToken),
        Some([one]) => Ok(one),
        Some(_) => Err(Reason::MalformedToken),
    }
}

/// The one cookie called `name`: payload 2.0 lists cookies in `cookies`, the other formats
/// carry `Cookie` headers (REST: `multiValueHeaders` when it lists them).
fn cookie<'a>(event: &'a AuthorizerEvent, name: &str) -> Result<&'a str, Reason> {
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
    let headers = match event {
        AuthorizerEvent::RestToken(_) => return Err(Reason::MissingToken),
        AuthorizerEvent::HttpV2(e) => {
            for pair in &e.cookies {
                consider(pair)?;
            }
            return found.ok_or(Reason::MissingToken);
        }
        AuthorizerEvent::RestRequest(e) if e.multi_value_headers.contains_key("cookie") => {
            &e.multi_value_headers
        }
        AuthorizerEvent::RestRequest(e) => &e.headers,
        AuthorizerEvent::HttpV1(e) => &e.headers,
    };
    for header in headers.get_all("cookie") {
        let Ok(header) = std::str::from_utf8(header.as_bytes()) else {
            continue;
        };
        for pair in header.split(';') {
            consider(pair)?;
        }
    }
    // `session=` is a cookie that is there: present, and malformed when parsed.
    found.ok_or(Reason::MissingToken)
}

/// A credential: `<prefix> <token>` when a prefix is expected, else the bare token; exactly
/// one token either way. The source was present, so an empty credential is malformed, never
/// "missing".
pub(crate) fn parse_credential<'a>(
    value: &'a str,
    prefix: Option<&str>,
) -> Result<&'a str, Reason> {
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

/// `<scheme> <token>`, scheme compared case-insensitively. Anything else, including an empty
/// value or the scheme alone (`Bearer`), is malformed: the header was sent.
pub(crate) fn parse_scheme<'a>(value: &'a str, expected: &str) -> Result<&'a str, Reason> {
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
    use serde_json::{Value, json};

    use super::*;

    use crate::event::fixtures::{HTTP_V1, HTTP_V2, REST_REQUEST, REST_TOKEN};

    /// `fixture` with `changes` merged into its top level (`null` removes a member).
    fn event(fixture: &str, changes: Value) -> AuthorizerEvent {
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                event.as_object_mut().unwrap().remove(k);
            } else {
                event[k] = v.clone();
            }
        }
        AuthorizerEvent::from_value(event).unwrap()
    }

    fn extract(event: &AuthorizerEvent) -> Result<&str, Reason> {
        extract_token(event, &TokenSource::defaults())
    }

    fn rest(headers: Value, multi: Value) -> AuthorizerEvent {
        event(
            REST_REQUEST,
            json!({"headers": headers, "multiValueHeaders": multi}),
        )
    }

    fn v2(changes: Value) -> AuthorizerEvent {
        event(HTTP_V2, changes)
    }

    #[test]
    fn rest_token_bearer_is_extracted() {
        let e = event(
            REST_TOKEN,
            json!({"authorizationToken": "Bearer abc.def.ghi"}),
        );
        assert_eq!(extract(&e), Ok("abc.def.ghi"));
        let e = event(REST_TOKEN, json!({"authorizationToken": null}));
        assert_eq!(extract(&e), Err(Reason::MissingToken));
    }

    #[test]
    fn parse_bearer_scheme_is_case_insensitive() {
        assert_eq!(parse_scheme("bearer t", "Bearer"), Ok("t"));
        assert_eq!(parse_scheme("BEARER t", "Bearer"), Ok("t"));
        assert_eq!(parse_scheme("  Bearer   t  ", "Bearer"), Ok("t"));
        assert_eq!(parse_scheme("Bearer\tt", "Bearer"), Ok("t"));
    }

    #[test]
    fn parse_bearer_rejects_two_tokens_other_schemes_and_empties() {
        assert_eq!(
            parse_scheme("Bearer a b", "Bearer"),
            Err(Reason::MalformedToken)
        );
        assert_eq!(
            parse_scheme("Basic dXNlcjpwYXNz", "Bearer"),
            Err(Reason::MalformedToken)
        );
        assert_eq!(
            parse_scheme("abc.def.ghi", "Bearer"),
            Err(Reason::MalformedToken)
        );
        // Present but empty is malformed, not missing: a later source must not decide instead.
        assert_eq!(
            parse_scheme("Bearer", "Bearer"),
            Err(Reason::MalformedToken)
        );
        assert_eq!(
            parse_scheme("Bearer   ", "Bearer"),
            Err(Reason::MalformedToken)
        );
        assert_eq!(parse_scheme("", "Bearer"), Err(Reason::MalformedToken));
        assert_eq!(parse_credential("  ", None), Err(Reason::MalformedToken));
    }

    #[test]
    fn request_header_name_is_case_insensitive() {
        for name in ["Authorization", "authorization", "AUTHORIZATION"] {
            let e = rest(json!({name: "Bearer t"}), json!({name: ["Bearer t"]}));
            assert_eq!(extract(&e), Ok("t"), "{name}");
            let e = rest(json!({name: "Bearer t"}), json!(null));
            assert_eq!(extract(&e), Ok("t"), "{name}");
        }
    }

    #[test]
    fn request_two_authorization_headers_are_rejected() {
        let e = rest(
            json!({"Authorization": "Bearer a", "authorization": "Bearer b"}),
            json!(null),
        );
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
        let e = rest(
            json!({"Authorization": "Bearer a"}),
            json!({"Authorization": ["Bearer a", "Bearer b"]}),
        );
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
        let e = rest(
            json!({"Authorization": "Bearer a"}),
            json!({"Authorization": ["Bearer a"], "authorization": ["Bearer b"]}),
        );
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
        let e = event(
            HTTP_V1,
            json!({"headers": {"Authorization": "Bearer a", "authorization": "Bearer b"}}),
        );
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
    }

    #[test]
    fn request_without_header_is_missing_token() {
        assert_eq!(
            extract(&event(REST_REQUEST, json!({}))),
            Err(Reason::MissingToken)
        );
        let e = rest(json!(null), json!(null));
        assert_eq!(extract(&e), Err(Reason::MissingToken));
        let e = rest(
            json!({"Authorization": null}),
            json!({"Authorization": null}),
        );
        assert_eq!(extract(&e), Err(Reason::MissingToken));
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
            let e = rest(
                json!({"Authorization": value, "Cookie": "session=a.b.c"}),
                json!(null),
            );
            assert_eq!(
                extract_token(&e, &sources),
                Err(Reason::MalformedToken),
                "{value:?}"
            );
            let e = event(REST_TOKEN, json!({"authorizationToken": value}));
            assert_eq!(
                extract_token(&e, &sources),
                Err(Reason::MalformedToken),
                "{value:?}"
            );
        }
        let e = v2(json!({"cookies": ["session="]}));
        assert_eq!(
            extract_token(&e, &sources[1..]),
            Err(Reason::MalformedToken)
        );
        // API Gateway's own identity-source summary, when blank, is no credential.
        let e = event(HTTP_V1, json!({"identitySource": ""}));
        assert_eq!(extract(&e), Err(Reason::MissingToken));
    }

    #[test]
    fn query_and_cookie_sources_take_exactly_one_value() {
        let sources = [
            TokenSource::Query {
                name: "access_token".into(),
            },
            TokenSource::Cookie {
                name: "session".into(),
            },
        ];
        let e = event(
            REST_REQUEST,
            json!({"queryStringParameters": {"access_token": "t"},
                   "multiValueQueryStringParameters": {"access_token": ["t"]}}),
        );
        assert_eq!(extract_token(&e, &sources), Ok("t"));
        let e = event(
            REST_REQUEST,
            json!({"queryStringParameters": {"access_token": "b"},
                   "multiValueQueryStringParameters": {"access_token": ["a", "b"]}}),
        );
        assert_eq!(extract_token(&e, &sources), Err(Reason::MalformedToken));
        let e = v2(json!({"queryStringParameters": {"access_token": "a,b"}}));
        assert_eq!(extract_token(&e, &sources), Err(Reason::MalformedToken));
        let e = v2(json!({"queryStringParameters": null, "cookies": ["x=1", "session=\"t\""]}));
        assert_eq!(extract_token(&e, &sources), Ok("t"));
        let e = v2(json!({"cookies": ["session=a", "session=b"]}));
        assert_eq!(extract_token(&e, &sources), Err(Reason::MalformedToken));
        let e = rest(json!({"Cookie": "x=1; session=t"}), json!(null));
        assert_eq!(extract_token(&e, &sources), Ok("t"));
        let e = rest(
            json!({"Cookie": "session=a"}),
            json!({"Cookie": ["session=a", "session=b"]}),
        );
        assert_eq!(extract_token(&e, &sources), Err(Reason::MalformedToken));
    }

    #[test]
    fn http_v2_reads_lowercase_header() {
        let e = v2(json!({"headers": {"authorization": "Bearer tok"}}));
        assert_eq!(extract(&e), Ok("tok"));
    }

    #[test]
    fn http_v2_joined_duplicate_headers_are_rejected() {
        // API Gateway joins repeated headers with commas in payload 2.0.
        let e = v2(json!({"headers": {"authorization": "Bearer a,Bearer b"}}));
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
    }

    #[test]
    fn http_v1_falls_back_to_identity_source_but_rest_does_not() {
        let e = event(HTTP_V1, json!({"identitySource": "Bearer tok"}));
        assert_eq!(extract(&e), Ok("tok"));
        assert_eq!(
            extract(&rest(json!({}), json!({}))),
            Err(Reason::MissingToken)
        );
    }

    #[test]
    fn http_v2_falls_back_to_single_identity_source() {
        let e = v2(json!({"identitySource": ["Bearer tok"]}));
        assert_eq!(extract(&e), Ok("tok"));
        let e = v2(json!({"identitySource": ["Bearer a", "Bearer b"]}));
        assert_eq!(extract(&e), Err(Reason::MalformedToken));
        let e = v2(json!({"identitySource": null}));
        assert_eq!(extract(&e), Err(Reason::MissingToken));
        let e = v2(json!({"identitySource": []}));
        assert_eq!(extract(&e), Err(Reason::MissingToken));
    }
}
