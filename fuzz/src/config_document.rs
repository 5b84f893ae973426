//! The configuration document parser (`AUTHORIZER_CONFIG`).
//!
//! The bytes are the document. Whatever it holds, parsing ends in a configuration or an error
//! naming its place, never a panic; the error never echoes the HMAC secret it was given; and an
//! accepted document never maps a claim onto a reserved context key.

use authorizer::fuzzing::is_reserved_context_key;
use authorizer::{Authorizer, Config};

use crate::setup::{SECRET, fixture};

/// The target body.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(text);
}

/// Parses one document; `true` when it was accepted.
pub fn check(text: &str) -> bool {
    let lookup = |name: &str| match name {
        "AUTHORIZER_CONFIG" => Some(text.to_owned()),
        "AUTHORIZER_CACHE_TTL_SECONDS" => Some("0".to_owned()),
        "FUZZ_SECRET" => Some(SECRET.to_owned()),
        _ => None,
    };
    match Config::from_lookup(lookup) {
        Err(err) => {
            let shown = err.to_string();
            assert!(!shown.contains(SECRET), "a secret in an error: {shown}");
            assert!(
                !shown.contains("untagged enum") && !shown.contains("variant"),
                "serde's words instead of a place: {shown}"
            );
            false
        }
        Ok(config) => {
            if let Some(include) = &config.claim_mapping.include {
                for (from, to) in include {
                    assert!(!is_reserved_context_key(to), "{from:?} mapped onto {to:?}");
                }
            }
            // Building the authorizer from an accepted document (clients, caches, inline keys)
            // does no I/O and must not fail or panic.
            let _guard = fixture().runtime.enter();
            Authorizer::new(config).expect("an accepted configuration builds an authorizer");
            true
        }
    }
}
