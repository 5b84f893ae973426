//! `GET /token`: a Twilio Access Token for the signed-in caller.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::http::header::CACHE_CONTROL;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde::Serialize;
use shared::{Caller, RouteError, require_caller};
use tracing::{debug, error, info, warn};
use twilio_access_token::AccessToken;

use crate::config::{ConfigError, TokenConfig};
use crate::error::TokenError;
use crate::selection::{Query, select};

/// The route's path, for logs.
pub const ROUTE: &str = "/token";

/// The future of [`TokenRoute::into_handler`]'s function.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

/// The token route with its configuration, parsed once at start-up.
#[derive(Debug)]
pub struct TokenRoute {
    state: State,
}

#[derive(Debug)]
enum State {
    Ready(Box<TokenConfig>),
    NotConfigured,
    Misconfigured(ConfigError),
}

/// The 200 answer.
#[derive(Serialize)]
struct TokenBody<'a> {
    token: &'a str,
    identity: &'a str,
    /// Seconds since the epoch (the token's `exp`).
    expires_at: u64,
}

impl TokenRoute {
    /// Reads the configuration from the environment (see [`crate::config`]).
    /// Never fails: without Twilio credentials, or with an invalid
    /// configuration (logged here, once, at error level), the route answers
    /// 503 and every other route keeps working.
    pub fn from_env() -> Self {
        Self::from_config(TokenConfig::from_env())
    }

    /// Like [`TokenRoute::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self::from_config(TokenConfig::from_lookup(lookup))
    }

    /// A route serving `config`.
    pub fn new(config: TokenConfig) -> Self {
        Self::from_config(Ok(Some(config)))
    }

    fn from_config(parsed: Result<Option<TokenConfig>, ConfigError>) -> Self {
        let state = match parsed {
            Ok(Some(config)) => {
                info!(
                    route = ROUTE,
                    grants = %config.enabled_grants().join(","),
                    ttl_seconds = config.ttl_seconds,
                    region = config.region.as_deref(),
                    "twilio token route ready"
                );
                State::Ready(Box::new(config))
            }
            Ok(None) => {
                warn!(
                    route = ROUTE,
                    "twilio credentials not set (neither TWILIO_SETTINGS nor TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET); the route answers 503"
                );
                State::NotConfigured
            }
            Err(err) => {
                error!(route = ROUTE, error = %err, "invalid twilio configuration; the route answers 503");
                State::Misconfigured(err)
            }
        };
        TokenRoute { state }
    }

    /// Whether the route can mint tokens.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// This route as a `'static` handler function, for in-process routers
    /// such as the local API: `registry.with("token", route.into_handler())`.
    pub fn into_handler(self) -> impl Fn(Request) -> HandlerFuture + Clone + Send + Sync + 'static {
        let route = Arc::new(self);
        move |req| {
            let route = Arc::clone(&route);
            Box::pin(async move { route.handle(req).await })
        }
    }

    /// Answers one request (never `Err`: every failure is a response).
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, Error> {
        Ok(shared::handle(ROUTE, &req, |req, caller| {
            self.answer(req, caller)
        }))
    }

    fn answer(&self, req: &Request, caller: Option<&Caller>) -> Result<Response<Body>, RouteError> {
        // Authentication first: an anonymous caller learns nothing about the configuration.
        let caller = require_caller(caller)?;
        if caller.sub.is_empty() {
            return Err(RouteError::Unauthorized);
        }
        self.mint(req, &caller.sub)
    }

    fn mint(&self, req: &Request, identity: &str) -> Result<Response<Body>, RouteError> {
        let config = match &self.state {
            State::Ready(config) => config,
            State::NotConfigured => return Err(TokenError::NotConfigured.into()),
            State::Misconfigured(err) => return Err(TokenError::Misconfigured(err.clone()).into()),
        };
        let params = req.query_string_parameters_ref();
        let grants = params.and_then(|p| p.all("grants"));
        let rooms = params.and_then(|p| p.all("room")).unwrap_or_default();
        let grants = select(
            config,
            Query {
                grants: grants.as_deref(),
                rooms: &rooms,
            },
        )?;

        let names: Vec<&str> = grants.iter().map(|g| g.key()).collect();
        if names.contains(&"voice") && !is_voice_safe(identity) {
            // Twilio Voice only routes calls to identities of letters, digits and `_`.
            warn!(
                route = ROUTE,
                reason = "identity_not_voice_safe",
                "voice grant issued for an identity with characters Twilio Voice rejects"
            );
        }
        let mut token = AccessToken::new(
            config.account_sid.as_str(),
            config.api_key_sid.as_str(),
            config.api_key_secret.api_key_secret(),
            identity,
        )
        .ttl(config.ttl_seconds);
        if let Some(region) = &config.region {
            token = token.region(region.as_str());
        }
        for grant in grants {
            token.add_grant(grant);
        }
        token
            .sign()
            .map_err(|e| RouteError::internal("signing the Twilio access token", e))
            .and_then(|signed| {
                // Debug: at the default level the request's one line (shared::handle) says it.
                debug!(
                    route = ROUTE,
                    grants = %names.join(","),
                    expires_at = signed.expires_at,
                    "twilio access token issued"
                );
                let body = TokenBody {
                    token: &signed.jwt,
                    identity,
                    expires_at: signed.expires_at,
                };
                let mut response = shared::response::json(StatusCode::OK, &body)?;
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                Ok(response)
            })
    }
}

/// Whether Twilio Voice accepts `identity` (letters, digits, underscore).
fn is_voice_safe(identity: &str) -> bool {
    identity
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_safe_identities_are_alphanumeric_or_underscore() {
        assert!(is_voice_safe("alice_01"));
        assert!(!is_voice_safe("auth0|65f1"));
        assert!(!is_voice_safe("9a8b7c6d-5e4f"));
        assert!(!is_voice_safe("zoë"));
    }
}
