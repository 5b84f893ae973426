//! The token parser and verifier: header, payload and signature segments.
//!
//! The first byte picks how the rest becomes a token:
//! - `0`: the bytes are the token text (after `Bearer `);
//! - `1`: up to three `0xff`-separated parts, each base64url-encoded into a segment, so the
//!   fuzzer reaches the JSON parsers behind the base64 layer;
//! - `2`: header and payload parts as in `1`, signed with the issuer's real key (ES256), so it
//!   reaches the claim checks behind the signature.
//!
//! Nobody but mode `2` can sign, so any allow for modes `0`/`1` is a forgery; an allow for mode
//! `2` must have a header and claims that pass an independent check ([`claims_are_valid`]).

use authorizer::HandlerError;
use authorizer::fuzzing::decode_unverified;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::setup::{AUDIENCE, ISSUER, PRIVATE_ARN, fixture};

/// What the authorizer answered, for tests that want to see allows happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed (only ever for a signed token with valid claims).
    Allowed,
    /// Denied with 401.
    Denied,
}

/// The `kid` of the issuer's key, for generators that want headers naming it.
pub fn fixture_kid() -> String {
    fixture().key.kid().to_owned()
}

/// The target body.
pub fn run(data: &[u8]) {
    check(data);
}

/// The target body, saying what the authorizer answered.
pub fn check(data: &[u8]) -> Outcome {
    let Some((&mode, rest)) = data.split_first() else {
        return Outcome::Denied;
    };
    let fixture = fixture();
    let (token, signed) = match mode % 3 {
        0 => (String::from_utf8_lossy(rest).into_owned(), false),
        1 => {
            let parts: Vec<String> = rest
                .splitn(3, |b| *b == 0xff)
                .map(|p| URL_SAFE_NO_PAD.encode(p))
                .collect();
            (parts.join("."), false)
        }
        _ => {
            let mut parts = rest.splitn(2, |b| *b == 0xff);
            let header = parts.next().unwrap_or_default();
            let payload = parts.next().unwrap_or_default();
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            );
            let signature = fixture.key.signature("ES256", input.as_bytes());
            (
                format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)),
                true,
            )
        }
    };
    // The unverified decoder alone never panics, whatever the segments hold.
    let _ = decode_unverified(&token);

    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": PRIVATE_ARN,
    });
    // Taken before the call: the authorizer's clock can only be later.
    let now = testkit::now();
    match fixture.runtime.block_on(fixture.authorizer.handle(event)) {
        Err(HandlerError::Unauthorized { .. }) => Outcome::Denied,
        Ok(answer) => {
            assert!(signed, "a token nobody signed was allowed: {answer}");
            let (header, payload) = decoded(&token);
            assert!(
                claims_are_valid(&header, &payload, fixture.key.kid(), now),
                "allowed a signed token whose header or claims are not valid: {header} {payload}"
            );
            assert_eq!(
                answer["policyDocument"]["Statement"][0]["Effect"], "Allow",
                "{answer}"
            );
            Outcome::Allowed
        }
        Err(other) => panic!("a well-formed TOKEN event was answered with {other:?}"),
    }
}

fn decoded(token: &str) -> (Value, Value) {
    let mut segments = token.split('.');
    let mut next = || {
        segments
            .next()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    };
    let header = next();
    (header, next())
}

/// An independent statement of what a signed token needs to be allowed at `now`: our algorithm
/// and key, no `crit`, our issuer and audience, a later `exp`, an `nbf` (if any) not in the future
/// (give or take the seconds the call took), a non-empty string `sub`.
pub fn claims_are_valid(header: &Value, payload: &Value, kid: &str, now: i64) -> bool {
    let time = |name: &str| payload.get(name).and_then(Value::as_f64);
    let audience_ok = match payload.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == AUDIENCE),
        _ => false,
    };
    #[allow(clippy::cast_precision_loss)] // Unix time in seconds fits an f64 exactly.
    let now = now as f64;
    header.get("alg") == Some(&json!("ES256"))
        // A `null` kid is no kid: the issuer's only key is tried.
        && header.get("kid").is_none_or(|k| k.is_null() || k == kid)
        && header.get("crit").is_none()
        && payload.get("iss") == Some(&json!(ISSUER))
        && audience_ok
        && time("exp").is_some_and(|exp| exp > now)
        && payload
            .get("nbf")
            .is_none_or(|_| time("nbf").is_some_and(|nbf| nbf <= now + 5.0))
        && payload
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
}
