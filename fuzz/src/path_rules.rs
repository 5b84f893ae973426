//! Path-rule matching, with a differential check.
//!
//! The bytes are a request path. For the rules the fuzz authorizer runs with (public paths,
//! and the same patterns as protected paths) it checks:
//! - normalisation is idempotent, and a plain path holds only plain characters and no empty or
//!   dot segment;
//! - an ambiguous path is public under no rule, and every scope rule of its method applies;
//! - differential: any spelling RFC 3986 calls equivalent (unreserved characters
//!   percent-encoded in upper or lower case hex, one trailing slash) gets the same decision as
//!   the normal form, so a path public before normalisation is public after, and vice versa;
//! - the ARN API Gateway would send yields the same path.

use std::collections::BTreeSet;

use authorizer::fuzzing::{
    PathRules, RequestPath, Route, has_required_scopes, is_plain_char, route_of,
};

use crate::setup::fixture;

/// The target body.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let raw = if text.starts_with('/') {
        text.into_owned()
    } else {
        format!("/{text}")
    };
    check(&raw);
}

/// Checks one request path (starting with `/`).
pub fn check(raw: &str) {
    let fixture = fixture();
    let public = &fixture.config.path_rules;
    let PathRules::PublicPaths(patterns) = public else {
        panic!("the fuzz configuration has public paths");
    };
    let protected = PathRules::ProtectedPaths(patterns.clone());
    let scopes = &fixture.config.route_scopes;
    let route = |path: &str| Route {
        method: "GET",
        path: RequestPath::parse(path),
    };
    let here = route(raw);
    let decide = |r: &Route<'_>| (public.is_public(Some(r)), protected.is_public(Some(r)));

    // The ARN carries the same path.
    let arn = format!("arn:aws:execute-api:eu-west-1:1:api/prod/GET{raw}");
    if let Some(from_arn) = route_of(&arn) {
        assert_eq!(from_arn.path, here.path, "{raw:?} read from {arn:?}");
    }

    match &here.path {
        RequestPath::Ambiguous => {
            assert_eq!(decide(&here), (false, false), "ambiguous {raw:?} is public");
            assert!(
                !has_required_scopes(
                    scopes,
                    Some(&Route {
                        method: "GET",
                        path: RequestPath::Ambiguous
                    }),
                    &BTreeSet::new()
                ),
                "scope rules skipped for ambiguous {raw:?}"
            );
        }
        RequestPath::Plain(normal) => {
            assert!(normal.starts_with('/'), "{raw:?} -> {normal:?}");
            assert!(normal.bytes().all(is_plain_char), "{raw:?} -> {normal:?}");
            assert!(
                normal == "/"
                    || !normal[1..]
                        .split('/')
                        .any(|s| s.is_empty() || s == "." || s == ".."),
                "{raw:?} -> {normal:?} keeps an empty or dot segment"
            );
            assert_eq!(
                RequestPath::parse(normal),
                here.path,
                "not idempotent: {raw:?}"
            );
            let decision = decide(&here);
            assert_eq!(
                decision,
                decide(&route(normal)),
                "{raw:?} vs its normal form {normal:?}"
            );
            // Public under `public_paths` is protected under `protected_paths` with the same
            // patterns: exactly one of the two holds for a plain path.
            assert_ne!(decision.0, decision.1, "{raw:?}");
            for spelling in equivalent_spellings(normal) {
                assert_eq!(
                    route(&spelling).path,
                    here.path,
                    "{spelling:?} is equivalent to {normal:?}"
                );
                assert_eq!(
                    decide(&route(&spelling)),
                    decision,
                    "{spelling:?} vs {normal:?}"
                );
            }
        }
    }
}

/// Spellings of a plain path that RFC 3986 §6.2.2 calls equivalent: every unreserved character
/// percent-encoded (upper- and lower-case hex), and a trailing slash.
fn equivalent_spellings(normal: &str) -> Vec<String> {
    let encode = |upper: bool| {
        normal
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    if upper {
                        format!("%{b:02X}")
                    } else {
                        format!("%{b:02x}")
                    }
                } else {
                    char::from(b).to_string()
                }
            })
            .collect::<String>()
    };
    let mut spellings = vec![encode(true), encode(false)];
    if normal != "/" {
        spellings.push(format!("{normal}/"));
    }
    spellings
}
