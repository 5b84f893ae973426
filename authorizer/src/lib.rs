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

pub mod alg;
pub mod claim_rules;
pub mod claims;
pub mod cognito;
pub mod config;
pub mod config_error;
mod config_file;
mod decision;
pub mod error;
pub mod event;
pub mod handler;
pub mod issuer;
pub mod issuer_policy;
pub mod jwks;
pub mod logging;
pub mod policy;
pub mod public_key;
pub mod rules;
pub mod snapshot;
pub mod token;
pub mod verify;

pub use config::Config;
pub use config_error::ConfigError;
pub use error::Reason;
pub use handler::{Authorizer, HandlerError};
