//! Restoring claim values to their JSON types after an authorizer flattened them.
//!
//! API Gateway does not pass claims through untouched:
//! - the HTTP API JWT authorizer turns every claim into a string: arrays become
//!   `"[a b c]"`, numbers `"1700000000"`, booleans `"true"`;
//! - a REST API authorizer's context reaches the integration as strings;
//! - our Lambda authorizer keeps strings, numbers and booleans, and JSON-encodes
//!   arrays and objects as strings (context values must be scalars).
//!
//! The rule, applied per claim, is conservative: a string becomes another JSON type
//! only when nothing is lost. A number is restored only when printing it back gives
//! the very same text (`"007"`, `"1e3"`, `"+1"`, `"1.50"` stay strings), and claims
//! that are strings by definition (`sub`, `phone_number`, `scope`, ... see
//! [`STRING_CLAIMS`]) are never converted, whatever they look like.

use serde_json::{Map, Number, Value};

/// Claims that registered/OIDC/Cognito specifications define as strings: kept as
/// strings even when they look like numbers (a numeric `sub`, a phone number).
pub const STRING_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "jti",
    "azp",
    "scope",
    "client_id",
    "nonce",
    "sid",
    "at_hash",
    "c_hash",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "email",
    "phone_number",
    "birthdate",
    "zoneinfo",
    "locale",
    "username",
    "cognito:username",
    "token_use",
    "origin_jti",
    "event_id",
];

/// How a source encoded its claim values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Every value was turned into a string (HTTP API JWT authorizer, REST API context):
    /// numbers, booleans, JSON and `"[a b]"` arrays are restored.
    Stringified,
    /// Scalars kept their JSON type; arrays and objects arrive JSON-encoded
    /// (our Lambda authorizer on an HTTP API): only JSON arrays/objects are decoded,
    /// a string that looks like a number really is a string.
    JsonScalars,
}

/// Restores every claim of a map with [`restore`].
pub fn restore_all<'a, I>(claims: I, encoding: Encoding) -> Map<String, Value>
where
    I: IntoIterator<Item = (&'a String, &'a Value)>,
{
    claims
        .into_iter()
        .map(|(name, value)| (name.clone(), restore(name, value, encoding)))
        .collect()
}

/// Restores one claim value to its JSON type, following the module's rule.
pub fn restore(name: &str, value: &Value, encoding: Encoding) -> Value {
    let Value::String(text) = value else {
        return value.clone();
    };
    if STRING_CLAIMS.contains(&name) {
        return value.clone();
    }
    if let Some(decoded) = decode_json_container(text) {
        return decoded;
    }
    match encoding {
        Encoding::JsonScalars => value.clone(),
        Encoding::Stringified => decode_bracketed_list(text)
            .map(Value::Array)
            .unwrap_or_else(|| decode_scalar(text)),
    }
}

/// A JSON-encoded array or object (`["a","b"]`, `{"plan":"pro"}`).
fn decode_json_container(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    let looks_like_container = (trimmed.starts_with('[') && trimmed.ends_with(']'))
        || (trimmed.starts_with('{') && trimmed.ends_with('}'));
    if !looks_like_container {
        return None;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value @ (Value::Array(_) | Value::Object(_))) => Some(value),
        _ => None,
    }
}

/// The HTTP API JWT authorizer's array form: `"[a b c]"`, elements separated by
/// whitespace (an element that itself contained a space cannot be told apart).
/// Each element is restored as a scalar (`"[1 2]"` gives `[1, 2]`).
pub fn decode_bracketed_list(text: &str) -> Option<Vec<Value>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.split_whitespace().map(decode_scalar).collect())
}

/// `"true"`/`"false"` and numbers whose text survives a round trip; anything else
/// stays the string it was.
fn decode_scalar(text: &str) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    decode_number(text).map_or_else(|| Value::String(text.to_owned()), Value::Number)
}

fn decode_number(text: &str) -> Option<Number> {
    let number = if let Ok(n) = text.parse::<i64>() {
        Number::from(n)
    } else if let Ok(n) = text.parse::<u64>() {
        Number::from(n)
    } else {
        Number::from_f64(text.parse::<f64>().ok()?)?
    };
    (number.to_string() == text).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stringified(name: &str, text: &str) -> Value {
        restore(name, &json!(text), Encoding::Stringified)
    }

    #[test]
    fn stringified_integer_is_restored() {
        assert_eq!(stringified("exp", "1700000000"), json!(1_700_000_000));
        assert_eq!(stringified("delta", "-5"), json!(-5));
        assert_eq!(stringified("big", "18446744073709551615"), json!(u64::MAX));
    }

    #[test]
    fn stringified_float_is_restored_only_when_exact() {
        assert_eq!(stringified("ratio", "0.5"), json!(0.5));
        assert_eq!(stringified("ratio", "0.50"), json!("0.50"));
        assert_eq!(stringified("ratio", "1e3"), json!("1e3"));
        assert_eq!(stringified("ratio", "NaN"), json!("NaN"));
        assert_eq!(stringified("ratio", "inf"), json!("inf"));
    }

    #[test]
    fn numeric_looking_string_that_would_change_stays_string() {
        assert_eq!(stringified("employee_id", "007"), json!("007"));
        assert_eq!(stringified("code", "+1"), json!("+1"));
        assert_eq!(stringified("code", "-0"), json!("-0"));
        assert_eq!(stringified("code", " 1"), json!(" 1"));
        assert_eq!(
            stringified("huge", "123456789012345678901234567890"),
            json!("123456789012345678901234567890")
        );
    }

    #[test]
    fn string_claims_are_never_converted() {
        assert_eq!(stringified("sub", "12345"), json!("12345"));
        assert_eq!(
            stringified("phone_number", "15551234567"),
            json!("15551234567")
        );
        assert_eq!(stringified("username", "true"), json!("true"));
        assert_eq!(stringified("scope", "[a b]"), json!("[a b]"));
    }

    #[test]
    fn bracketed_list_becomes_array_of_scalars() {
        assert_eq!(
            stringified("aud", "[https://a https://b]"),
            json!(["https://a", "https://b"])
        );
        assert_eq!(stringified("ids", "[1 007 true]"), json!([1, "007", true]));
        assert_eq!(stringified("groups", "[]"), json!([]));
    }

    #[test]
    fn json_container_strings_are_decoded_in_both_encodings() {
        for encoding in [Encoding::Stringified, Encoding::JsonScalars] {
            assert_eq!(
                restore("roles", &json!(r#"["a","b c"]"#), encoding),
                json!(["a", "b c"])
            );
            assert_eq!(
                restore("meta", &json!(r#"{"plan":"pro"}"#), encoding),
                json!({"plan": "pro"})
            );
        }
    }

    #[test]
    fn json_scalars_encoding_keeps_numeric_looking_strings() {
        assert_eq!(
            restore("badge", &json!("12345"), Encoding::JsonScalars),
            json!("12345")
        );
        assert_eq!(
            restore("flag", &json!("true"), Encoding::JsonScalars),
            json!("true")
        );
        assert_eq!(
            restore("list", &json!("[a b]"), Encoding::JsonScalars),
            json!("[a b]")
        );
    }

    #[test]
    fn non_string_values_pass_through() {
        for encoding in [Encoding::Stringified, Encoding::JsonScalars] {
            assert_eq!(restore("exp", &json!(1), encoding), json!(1));
            assert_eq!(restore("ok", &json!(false), encoding), json!(false));
            assert_eq!(restore("a", &json!(["x"]), encoding), json!(["x"]));
        }
    }

    #[test]
    fn malformed_json_looking_string_stays_string() {
        assert_eq!(stringified("note", "{not json}"), json!("{not json}"));
        assert_eq!(stringified("note", "[unterminated"), json!("[unterminated"));
    }
}
