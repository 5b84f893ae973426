//! `GET /token`: hands the signed-in caller a Twilio Access Token (Voice,
//! Video, Conversations, Sync) whose identity is their `sub`.
//!
//! Configuration (environment, read once): see [`config`]. The query may
//! narrow the configured grants (`?grants=video,voice&room=standup`), never
//! widen them. Without Twilio configuration the route answers 503.

pub mod config;
mod error;
mod route;
mod selection;

pub use config::{ConfigError, TokenConfig};
pub use error::TokenError;
pub use route::{HandlerFuture, ROUTE, TokenRoute};
