//! Responses every route uses: JSON bodies and the RFC 6750 error answers.

use lambda_http::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

/// `content-type` of every JSON answer.
pub const APPLICATION_JSON: &str = "application/json";
/// `content-type` of the plain greetings (`/public`, `/private`).
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// Realm announced in `WWW-Authenticate` on 401.
pub const REALM: &str = "api";

/// A JSON response with `status` and `body` (`?` turns the error into a
/// [`crate::RouteError`]).
pub fn json<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Result<Response<Body>, serde_json::Error> {
    let text = serde_json::to_string(body)?;
    Ok(with_body(status, APPLICATION_JSON, text))
}

/// A plain-text response (UTF-8).
pub fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    with_body(status, TEXT_PLAIN, body.into())
}

/// 401: no authenticated caller (RFC 6750 section 3: no error code when the request
/// carried no credentials we can see).
pub fn unauthorized() -> Response<Body> {
    let body = json!({
        "error": "unauthorized",
        "error_description": "The request carries no authenticated caller: send a valid bearer token",
    });
    let mut response = constant_json(StatusCode::UNAUTHORIZED, &body);
    let challenge = format!("Bearer realm=\"{REALM}\"");
    insert_challenge(&mut response, &challenge);
    response
}

/// 403: the caller lacks `scope` (RFC 6750 `insufficient_scope`).
pub fn insufficient_scope(scope: &str) -> Response<Body> {
    let body = json!({
        "error": "access_denied",
        "error_description": format!("Token does not contain the required '{scope}' scope"),
    });
    let mut response = constant_json(StatusCode::FORBIDDEN, &body);
    let challenge = format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
    insert_challenge(&mut response, &challenge);
    response
}

/// `status` with the RFC 6750 style body `{"error": code, "error_description": description}`.
pub fn error(status: StatusCode, code: &str, description: &str) -> Response<Body> {
    constant_json(
        status,
        &json!({ "error": code, "error_description": description }),
    )
}

/// 500 without details (they go to the log, see [`crate::handle`]).
pub fn internal_error() -> Response<Body> {
    let body = json!({
        "error": "internal_error",
        "error_description": "The server failed to answer; try again later",
    });
    constant_json(StatusCode::INTERNAL_SERVER_ERROR, &body)
}

fn constant_json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    // Serialising a `Value` cannot fail: it has only string keys.
    with_body(status, APPLICATION_JSON, body.to_string())
}

fn insert_challenge(response: &mut Response<Body>, challenge: &str) {
    // Scopes are RFC 6749 tokens (no quotes or control characters); a route passing
    // anything else still gets a valid, if less precise, challenge.
    let value =
        HeaderValue::from_str(challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
    response.headers_mut().insert(WWW_AUTHENTICATE, value);
}

fn with_body(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    // A text body: lambda_http would base64-encode a binary one, which a REST API
    // without binary media types hands to the client as base64.
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body_json(response: &Response<Body>) -> Value {
        let Body::Text(text) = response.body() else {
            panic!("text body expected")
        };
        serde_json::from_str(text).expect("JSON body")
    }

    fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn unauthorized_is_401_with_bearer_challenge() {
        let response = unauthorized();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&response, "content-type"), "application/json");
        assert_eq!(
            header(&response, "www-authenticate"),
            "Bearer realm=\"api\""
        );
        let body = body_json(&response);
        assert_eq!(body["error"], "unauthorized");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }

    #[test]
    fn insufficient_scope_is_403_naming_the_scope() {
        let response = insufficient_scope("read:shows");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(header(&response, "content-type"), "application/json");
        assert_eq!(
            header(&response, "www-authenticate"),
            "Bearer error=\"insufficient_scope\", scope=\"read:shows\""
        );
        assert_eq!(
            body_json(&response),
            serde_json::json!({
                "error": "access_denied",
                "error_description": "Token does not contain the required 'read:shows' scope"
            })
        );
    }

    #[test]
    fn insufficient_scope_with_unencodable_scope_still_challenges() {
        let response = insufficient_scope("bad\nscope");
        assert_eq!(header(&response, "www-authenticate"), "Bearer");
    }

    #[test]
    fn internal_error_is_500_json_without_details() {
        let response = internal_error();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_json(&response)["error"], "internal_error");
    }

    #[test]
    fn json_sets_status_type_and_text_body() {
        let response = json(StatusCode::OK, &[1, 2]).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), "application/json");
        assert_eq!(body_json(&response), serde_json::json!([1, 2]));
    }

    #[test]
    fn text_is_plain_utf8() {
        let response = text(StatusCode::OK, "Hello stranger!");
        assert_eq!(
            header(&response, "content-type"),
            "text/plain; charset=utf-8"
        );
        assert!(matches!(response.body(), Body::Text(t) if t == "Hello stranger!"));
    }
}
