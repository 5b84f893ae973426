//! The caller's scopes: the union of every place an issuer or authorizer puts them.
//!
//! One contract for both sides of API Gateway: the authorizer's `required_scopes` rules read a
//! verified token's claims with [`collect`], and the route handlers read the context the
//! authorizer passed on with the same function, so a rule never refuses a caller the handler
//! behind it would serve, nor lets through one it would refuse.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::claims::decode_bracketed_list;

/// Claims carrying a scope list: OAuth `scope` (space-separated string), `scp`
/// (Okta, Azure AD: array or string) and Auth0 RBAC `permissions` (array).
const SCOPE_CLAIMS: &[&str] = &["scope", "scp", "permissions"];

/// Collects scopes from the claims as the authorizer passed them (before
/// [`crate::claims::restore`], so `"[1 2]"` yields `"1"`, `"2"`) plus a list the
/// authorizer gave separately (the HTTP API JWT authorizer's `scopes`).
///
/// Each claim may be an array of strings, a space-separated string, a JSON-encoded
/// array or the `"[a b]"` form. Scopes are kept verbatim: matching is exact.
pub fn collect(claims: &Map<String, Value>, listed: &[String]) -> BTreeSet<String> {
    let mut scopes = BTreeSet::new();
    for name in SCOPE_CLAIMS {
        if let Some(value) = claims.get(*name) {
            add_from_value(&mut scopes, value);
        }
    }
    scopes.extend(listed.iter().filter(|s| !s.is_empty()).cloned());
    scopes
}

fn add_from_value(scopes: &mut BTreeSet<String>, value: &Value) {
    match value {
        Value::Array(items) => scopes.extend(
            items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        ),
        Value::String(text) => add_from_text(scopes, text),
        _ => {}
    }
}

fn add_from_text(scopes: &mut BTreeSet<String>, text: &str) {
    let trimmed = text.trim();
    if trimmed.starts_with('[') && trimmed.ends_with(']') {
        if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(trimmed) {
            return add_from_value(scopes, &Value::Array(items));
        }
        if let Some(items) = decode_bracketed_list(trimmed) {
            // Elements are decoded as scalars; scopes are strings whatever they look like.
            scopes.extend(items.iter().map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
            return;
        }
    }
    scopes.extend(trimmed.split_whitespace().map(str::to_owned));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scopes_of(claims: Value, listed: &[&str]) -> Vec<String> {
        let Value::Object(map) = claims else {
            panic!("claims must be an object")
        };
        let listed: Vec<String> = listed.iter().map(|s| (*s).to_owned()).collect();
        collect(&map, &listed).into_iter().collect()
    }

    #[test]
    fn scope_string_is_split_on_whitespace() {
        assert_eq!(
            scopes_of(json!({"scope": " openid  read:shows\tx "}), &[]),
            ["openid", "read:shows", "x"]
        );
    }

    #[test]
    fn scp_in_every_form_is_read() {
        let expected = ["a", "b"];
        assert_eq!(scopes_of(json!({"scp": ["a", "b"]}), &[]), expected);
        assert_eq!(scopes_of(json!({"scp": r#"["a","b"]"#}), &[]), expected);
        assert_eq!(scopes_of(json!({"scp": "[a b]"}), &[]), expected);
        assert_eq!(scopes_of(json!({"scp": "a b"}), &[]), expected);
    }

    #[test]
    fn permissions_in_every_form_are_read() {
        let expected = ["read:shows", "write:shows"];
        assert_eq!(
            scopes_of(json!({"permissions": ["read:shows", "write:shows"]}), &[]),
            expected
        );
        assert_eq!(
            scopes_of(
                json!({"permissions": r#"["read:shows","write:shows"]"#}),
                &[]
            ),
            expected
        );
        assert_eq!(
            scopes_of(json!({"permissions": "[read:shows write:shows]"}), &[]),
            expected
        );
    }

    #[test]
    fn sources_are_united() {
        let claims = json!({"scope": "openid", "scp": ["a"], "permissions": "[b]"});
        assert_eq!(scopes_of(claims, &["c", "a"]), ["a", "b", "c", "openid"]);
    }

    #[test]
    fn empty_and_non_string_entries_are_ignored() {
        let claims = json!({"scope": "", "scp": [1, "", null, "ok"], "permissions": 5});
        assert_eq!(scopes_of(claims, &[""]), ["ok"]);
        assert_eq!(
            scopes_of(json!({"permissions": "[]"}), &[]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn numeric_looking_scope_in_bracketed_list_keeps_its_text() {
        assert_eq!(scopes_of(json!({"scp": "[1 007]"}), &[]), ["007", "1"]);
    }
}
