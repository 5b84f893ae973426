//! The issuer's keys: fetch (bounded in time and size), parse (skipping what we cannot use),
//! cache, and refetch under rules that keep a flood of bad tokens from becoming a flood of
//! requests to the identity provider. One concern per module, depending one way:
//!
//! - `jwk`: a JWKS document to the keys we verify with, and lookup by `kid`;
//! - `refetch`: when a fetch may run (failure backoff, unknown-`kid` cooldown) and how long
//!   a key set stays fresh and servable: pure functions of a history and `now`;
//! - `http`: which URLs keys may come from, the clients, a bounded GET, OIDC discovery;
//! - `cache`: one issuer's keys, read as a story as in aws-jwt-verify: look up the fresh key
//!   set (moka, each entry with its time to live) and the key by `kid`; on a miss, ask
//!   [`decide`] whether a fetch may run now; fetch single-flight (moka's `try_get_with`:
//!   concurrent callers share one load); on failure, remember when (backoff) and keep serving
//!   the last good key set (stale while error); with nothing cached, deny at once until the
//!   backoff ends.

mod cache;
mod error;
mod http;
mod jwk;
mod refetch;
mod settings;

pub(crate) use cache::{JwksCache, KeyOutcome, KeySource, KeyStore};
pub use error::JwksError;
pub(crate) use http::parse_secure_url;
pub(crate) use jwk::{KeyMaterial, KeySet, Lookup, VerifyKey, parse_jwks_value};
pub(crate) use refetch::freshness;
pub(crate) use settings::{JwksSettings, TlsRoots};
