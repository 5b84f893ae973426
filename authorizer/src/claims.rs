//! Which claims go into the authorizer context, and under which names.

use serde_json::{Map, Value};

/// Namespace stripping for claim names (Auth0 custom claims must be namespaced, e.g.
/// `https://example.com/roles`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StripNamespaces {
    /// Keep names as they are (default).
    #[default]
    No,
    /// Claims named like a URL (`http://` or `https://`) keep only what follows the last `/`.
    UrlLike,
    /// Remove the first of these prefixes a name starts with.
    Prefixes(Vec<String>),
}

/// Names namespace stripping never produces: they carry identity and authority (`scope`,
/// `permissions`, ...) that the routes trust, and a namespaced claim (often filled from
/// user-editable profile data by an IdP rule) must not be able to create or stand in for them.
const RESERVED_NAMES: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "azp",
    "scope",
    "scp",
    "permissions",
    "token_use",
    "client_id",
    "cognito:groups",
];

/// The context key that says "no caller": set only on the anonymous allow of a public path.
pub(crate) use shared::context::ANONYMOUS_KEY;

/// Claims always passed on under their own name, even with `include`: the route handlers of this
/// repository identify the caller by `sub` and authorize by `scope`/`scp`/`permissions`.
pub(crate) const ALWAYS_PASSED: &[&str] = &["sub", "scope", "scp", "permissions"];

/// Whether `name` is a context key no claim may fill (see [`shared::context::RESERVED_KEYS`]).
pub fn is_reserved_context_key(name: &str) -> bool {
    shared::context::is_reserved(name)
}

impl StripNamespaces {
    fn apply<'a>(&self, name: &'a str) -> &'a str {
        let stripped = self.strip(name);
        if RESERVED_NAMES.contains(&stripped) || is_reserved_context_key(stripped) {
            name
        } else {
            stripped
        }
    }

    fn strip<'a>(&self, name: &'a str) -> &'a str {
        let stripped = match self {
            StripNamespaces::No => return name,
            StripNamespaces::UrlLike => {
                if name.starts_with("https://") || name.starts_with("http://") {
                    name.rsplit('/').next().unwrap_or(name)
                } else {
                    name
                }
            }
            StripNamespaces::Prefixes(prefixes) => prefixes
                .iter()
                .find_map(|p| name.strip_prefix(p.as_str()))
                .unwrap_or(name),
        };
        // Never map a claim to an empty name.
        if stripped.is_empty() { name } else { stripped }
    }
}

/// The authorizer context built from a token's claims.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// Context keys and values, ready for the answer.
    pub map: Map<String, Value>,
    /// How many claims were dropped because they would have filled a reserved key.
    pub dropped_reserved: usize,
}

/// The claim-to-context mapping. The default passes every claim through unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimMapping {
    /// When set, only these claims (`claim name`, `context name`) are passed on, plus
    /// [`ALWAYS_PASSED`] under their own names, which the routes need.
    pub include: Option<Vec<(String, String)>>,
    /// Namespace stripping applied to names not renamed by `include`.
    pub strip_namespaces: StripNamespaces,
    /// Send `scope` as a JSON list (`["read:shows","write:shows"]`) instead of the
    /// space-separated string.
    pub scope_as_list: bool,
}

impl ClaimMapping {
    /// The authorizer context for `claims`. API Gateway accepts only strings, numbers and
    /// booleans as values, so arrays and objects travel as JSON strings; `null`s are left out.
    ///
    /// Takes the claims by value: values move into the context instead of being copied.
    pub fn context(&self, claims: Map<String, Value>) -> Context {
        let mut context = Map::new();
        let mut dropped_reserved = 0;
        for (name, value) in claims {
            let target = match &self.include {
                Some(include) => match include.iter().find(|(claim, _)| *claim == name) {
                    Some((_, target)) => target.clone(),
                    None if ALWAYS_PASSED.contains(&name.as_str()) => name.clone(),
                    None => continue,
                },
                None => match self.strip_namespaces.apply(&name) {
                    stripped if stripped.len() == name.len() => name.clone(),
                    stripped => stripped.to_owned(),
                },
            };
            let value = match value {
                Value::Null => continue,
                Value::String(s) if name == "scope" && self.scope_as_list => {
                    Value::String(Value::from(s.split_whitespace().collect::<Vec<_>>()).to_string())
                }
                Value::String(_) | Value::Number(_) | Value::Bool(_) => value,
                Value::Array(_) | Value::Object(_) => Value::String(value.to_string()),
            };
            if is_reserved_context_key(&target) {
                dropped_reserved += 1;
                continue;
            }
            // A claim under its own name wins over one that was renamed onto it.
            if target == name || !context.contains_key(&target) {
                context.insert(target, value);
            }
        }
        Context {
            map: context,
            dropped_reserved,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::context::RESERVED_KEYS as RESERVED_CONTEXT_KEYS;

    use super::*;

    fn claims() -> Map<String, Value> {
        json!({
            "sub": "u1", "scope": "read:shows write:shows", "n": 3, "admin": true, "nothing": null,
            "https://example.com/roles": ["a", "b"], "addr": {"city": "X"}, "email": "u@example.com"
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn default_mapping_passes_claims_through_flattened() {
        let context = ClaimMapping::default().context(claims()).map;
        assert_eq!(context["sub"], "u1");
        assert_eq!(context["scope"], "read:shows write:shows");
        assert_eq!(context["n"], 3);
        assert_eq!(context["admin"], true);
        assert_eq!(context["https://example.com/roles"], r#"["a","b"]"#);
        assert_eq!(context["addr"], r#"{"city":"X"}"#);
        assert!(!context.contains_key("nothing"));
    }

    #[test]
    fn include_renames_and_drops_the_rest_but_keeps_sub() {
        let mapping = ClaimMapping {
            include: Some(vec![
                ("https://example.com/roles".into(), "roles".into()),
                ("email".into(), "mail".into()),
            ]),
            ..ClaimMapping::default()
        };
        let context = mapping.context(claims()).map;
        let keys: Vec<&str> = context.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["mail", "roles", "scope", "sub"]);
        assert_eq!(context["roles"], r#"["a","b"]"#);
    }

    #[test]
    fn url_like_namespaces_are_stripped() {
        let mapping = ClaimMapping {
            strip_namespaces: StripNamespaces::UrlLike,
            ..ClaimMapping::default()
        };
        let context = mapping.context(claims()).map;
        assert_eq!(context["roles"], r#"["a","b"]"#);
        assert!(!context.contains_key("https://example.com/roles"));
    }

    #[test]
    fn listed_prefixes_are_stripped_and_own_name_wins() {
        let mapping = ClaimMapping {
            strip_namespaces: StripNamespaces::Prefixes(vec!["https://example.com/".into()]),
            ..ClaimMapping::default()
        };
        let mut c = claims();
        c.insert(
            "https://example.com/email".into(),
            json!("other@example.com"),
        );
        let context = mapping.context(c).map;
        assert_eq!(context["roles"], r#"["a","b"]"#);
        assert_eq!(context["email"], "u@example.com");
    }

    #[test]
    fn scope_as_list_turns_scope_into_json_list() {
        let mapping = ClaimMapping {
            scope_as_list: true,
            ..ClaimMapping::default()
        };
        assert_eq!(
            mapping.context(claims()).map["scope"],
            r#"["read:shows","write:shows"]"#
        );
    }

    #[test]
    fn strip_namespaces_never_creates_reserved_claims() {
        let claims = json!({
            "sub": "u1",
            "https://app.example.com/scope": "admin:all",
            "https://app.example.com/permissions": ["delete:everything"],
            "https://app.example.com/sub": "root",
            "ns:scp": ["admin"],
            "https://app.example.com/roles": ["a"],
        })
        .as_object()
        .unwrap()
        .clone();
        for strip in [
            StripNamespaces::UrlLike,
            StripNamespaces::Prefixes(vec!["https://app.example.com/".into(), "ns:".into()]),
        ] {
            let mapping = ClaimMapping {
                strip_namespaces: strip.clone(),
                ..ClaimMapping::default()
            };
            let context = mapping.context(claims.clone()).map;
            assert!(!context.contains_key("scope"), "{strip:?}: {context:?}");
            assert!(!context.contains_key("permissions"), "{strip:?}");
            assert!(!context.contains_key("scp"), "{strip:?}");
            assert_eq!(context["sub"], "u1", "{strip:?}");
            assert_eq!(context["https://app.example.com/scope"], "admin:all");
            // Ordinary namespaced claims are still stripped.
            assert_eq!(context["roles"], r#"["a"]"#, "{strip:?}");
        }
    }

    #[test]
    fn include_always_passes_the_claims_handlers_need() {
        let mapping = ClaimMapping {
            include: Some(vec![("email".into(), "email".into())]),
            ..ClaimMapping::default()
        };
        let claims = json!({"sub": "u", "scope": "a", "scp": ["b"], "permissions": ["read:shows"],
                            "email": "e", "other": 1});
        let context = mapping.context(claims.as_object().unwrap().clone()).map;
        let keys: Vec<&str> = context.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["email", "permissions", "scope", "scp", "sub"]);
        assert_eq!(context["permissions"], r#"["read:shows"]"#);
    }

    #[test]
    fn reserved_context_keys_are_never_filled_by_claims() {
        let claims = json!({
            "sub": "u1", "principalId": "root", "integrationLatency": 0, "claims": "{}",
            "jwt": "x", "lambda": "y", "anonymous": true, "error": "e", "latency": 1,
            "integrationStatus": 200, "https://ns/principalId": "root", "ns:anonymous": "true",
        })
        .as_object()
        .unwrap()
        .clone();
        for (label, mapping) in [
            ("default", ClaimMapping::default()),
            (
                "url-like",
                ClaimMapping {
                    strip_namespaces: StripNamespaces::UrlLike,
                    ..ClaimMapping::default()
                },
            ),
            (
                "prefixes",
                ClaimMapping {
                    strip_namespaces: StripNamespaces::Prefixes(vec!["ns:".into()]),
                    ..ClaimMapping::default()
                },
            ),
        ] {
            let context = mapping.context(claims.clone());
            for key in RESERVED_CONTEXT_KEYS {
                assert!(!context.map.contains_key(*key), "{label}: {key}");
            }
            assert_eq!(context.dropped_reserved, 9, "{label}: {:?}", context.map);
            assert_eq!(context.map["sub"], "u1");
        }
        // Stripping keeps the namespaced name rather than producing a reserved key.
        let mapping = ClaimMapping {
            strip_namespaces: StripNamespaces::UrlLike,
            ..ClaimMapping::default()
        };
        assert_eq!(
            mapping.context(claims).map["https://ns/principalId"],
            "root"
        );
    }
}
