//! Test-only helpers for the workspace's integration tests and benchmarks (never a dependency of a
//! deployed binary).
//!
//! - [`keys`]: signing keys generated at test time (RSA, EC P-256/384/521, Ed25519), their public
//!   JWKs, and token minting with any header and claims.
//! - [`forge`]: tokens a correct verifier must reject (alg `none`, HMAC key confusion, tampered
//!   payloads, garbage segments, oversized tokens, ...).
//! - [`jwks_server`]: a stand-in IdP on `127.0.0.1:0` (discovery + JWKS) with hit counters, key
//!   rotation and fault modes.
//! - [`runtime`]: a Lambda Runtime API stand-in that runs a built function binary and invokes it.
//! - [`function`]: a route function's binary under that stand-in, its proxy answers and log lines.
//! - [`tls`]: a test CA, for the IdP stand-in over https.

pub mod forge;
pub mod function;
pub mod jwks_server;
pub mod keys;
pub mod runtime;
mod server;
pub mod tls;

pub use jwks_server::{Fault, JwksServer};
pub use keys::{TestKey, claims, now};
pub use runtime::{InitFailure, InvokeError, RuntimeApi};
pub use tls::TestCa;
