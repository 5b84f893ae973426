//! The authorizer context contract: which keys the authorizer's context may carry, and how a
//! handler tells "no caller" from "a caller with a valid token".
//!
//! Our Lambda authorizer answers a public path without a token with an allow whose context is
//! exactly `{"anonymous": true}` (a REST API passes it on as the string `"true"`), and never puts
//! a claim under any of [`RESERVED_KEYS`]. So a context carrying [`ANONYMOUS_KEY`] is no caller,
//! whatever else it holds, and a context with claims came from a verified token.

use serde_json::Value;

/// The context key that marks the anonymous allow of a public path.
pub const ANONYMOUS_KEY: &str = "anonymous";

/// Context keys no claim may fill: API Gateway gives them a meaning of its own in
/// `$context.authorizer.*` (`principalId`, `claims` for Cognito user pool authorizers,
/// `integrationLatency`, `integrationStatus`, `latency`, `error`), the handlers read them as
/// the authorizer's envelope (`jwt`, `lambda`, `claims`: see [`crate::caller`]), or they mark
/// an anonymous caller ([`ANONYMOUS_KEY`]).
pub const RESERVED_KEYS: &[&str] = &[
    "principalId",
    "integrationLatency",
    "integrationStatus",
    "latency",
    "error",
    "claims",
    "jwt",
    "lambda",
    ANONYMOUS_KEY,
];

/// Whether `key` is one no claim may fill.
pub fn is_reserved(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
}

/// Whether a context value of [`ANONYMOUS_KEY`] marks an anonymous caller: `true` as our
/// authorizer sends it, or `"true"` as a REST API stringifies it. Anything else present under
/// that key is not ours, and is read as anonymous too: a context we cannot vouch for names no
/// caller (fail closed).
pub fn marks_anonymous(value: Option<&Value>) -> bool {
    value.is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn anonymous_marker_in_any_form_is_anonymous() {
        assert!(marks_anonymous(Some(&json!(true))));
        assert!(marks_anonymous(Some(&json!("true"))));
        assert!(marks_anonymous(Some(&json!("false"))));
        assert!(!marks_anonymous(None));
    }

    #[test]
    fn reserved_keys_include_api_gateway_and_envelope_keys() {
        for key in [
            "principalId",
            "integrationLatency",
            "claims",
            "jwt",
            "lambda",
            "anonymous",
        ] {
            assert!(is_reserved(key), "{key}");
        }
        assert!(!is_reserved("sub"));
        assert!(!is_reserved("roles"));
    }
}
