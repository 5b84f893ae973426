//! A Lambda authorizer for Amazon API Gateway that verifies JSON Web Tokens from Auth0, Amazon
//! Cognito or any OpenID Connect provider against the issuer's cached JWKS, and answers every
//! authorizer format: REST `TOKEN` and `REQUEST`, HTTP API payload 1.0 and 2.0 (simple or IAM).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authorizer::{Authorizer, Config};
//! let authorizer = Authorizer::new(Config::from_env()?)?;
//! authorizer.warm_up().await;
//! let answer = authorizer.handle(serde_json::json!({"type": "TOKEN"})).await;
//! # Ok(()) }
//! ```

mod alg;
mod claim_rules;
mod claims;
mod cognito;
mod config;
mod config_error;
mod config_file;
mod decision;
mod error;
mod event;
mod handler;
mod issuer;
mod issuer_policy;
mod jwks;
mod logging;
mod policy;
mod public_key;
mod rules;
mod snapshot;
mod token;
mod verify;

pub use config::Config;
pub use config_error::ConfigError;
pub use error::Reason;
pub use handler::{Authorizer, HandlerError};
pub use issuer::IssuerConfig;
pub use jwks::JwksError;
pub use logging::init as init_logging;
pub use policy::ResponseStyle;
pub use snapshot::SnapshotFile;
pub use token::TokenSource;

/// Internals the fuzz targets (`fuzz/`) drive directly, below the event-to-answer API: the path
/// rules' differential check, token extraction, event reading. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::claims::{ClaimMapping, is_reserved_context_key};
    pub use crate::event::{AuthorizerEvent, EventError, EventKind};
    pub use crate::rules::{
        PathRules, RequestPath, Route, RouteScope, has_required_scopes, is_plain_char, route_of,
    };
    pub use crate::token::extract_token;
    pub use crate::verify::decode_unverified;
}
