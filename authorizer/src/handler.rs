//! The authorizer: event in, answer out, one log line per decision.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tracing::{error, info, warn};

use crate::config::{Config, ConfigError, ResponseStyle};
use crate::error::Reason;
use crate::jwks::{self, JwksCache, KeySource};
use crate::policy;
use crate::token::{self, EventKind};
use crate::verify::{IssuerVerifier, TokenFacts, Verifier};

pub use crate::error::HandlerError;

/// Longest header value (`kid`, `alg`) copied into a log line: they are attacker-chosen.
const MAX_LOGGED_HEADER_VALUE: usize = 64;

/// The Lambda authorizer, built once at start-up and shared by every invocation.
#[derive(Debug)]
pub struct Authorizer {
    verifier: Verifier,
    style: ResponseStyle,
}

impl Authorizer {
    /// Builds the HTTP client and the key caches. No I/O.
    pub fn new(config: Config) -> Result<Authorizer, ConfigError> {
        let client = jwks::http_client(&config.jwks)
            .map_err(|e| ConfigError::new("JWKS HTTP client", format!("cannot be built: {e}")))?;
        let fresh = moka::future::Cache::builder()
            .time_to_live(config.jwks.cache_ttl)
            .build();
        let issuers = config
            .issuers
            .into_iter()
            .enumerate()
            .map(|(slot, issuer)| {
                let source = KeySource::Remote {
                    jwks_uri: issuer.jwks_uri.clone(),
                };
                let keys = JwksCache::new(
                    issuer.issuer.clone(),
                    source,
                    client.clone(),
                    config.jwks,
                    fresh.clone(),
                    slot,
                );
                IssuerVerifier {
                    config: issuer,
                    keys: Arc::new(keys),
                }
            })
            .collect();
        Ok(Authorizer {
            verifier: Verifier::new(issuers, config.leeway.as_secs()),
            style: config.response_style,
        })
    }

    /// Fetches every issuer's keys, concurrently, during init. Never fails; each fetch is
    /// bounded by the JWKS timeout, and a failure is retried on first use.
    pub async fn warm_up(&self) {
        let mut fetches = tokio::task::JoinSet::new();
        for issuer in self.verifier.issuers() {
            let keys = Arc::clone(&issuer.keys);
            fetches.spawn(async move { keys.warm_up().await });
        }
        while fetches.join_next().await.is_some() {}
    }

    /// Answers one authorizer event.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        let started = Instant::now();
        let kind = match token::classify(&event) {
            Ok(kind) => kind,
            Err(why) => {
                error!(
                    decision = "error",
                    reason = Reason::MalformedEvent.as_str(),
                    detail = why,
                    elapsed_us = elapsed_us(started),
                    "authorizer event not understood"
                );
                return Err(HandlerError::MalformedEvent(why));
            }
        };
        let arn = token::resource_arn(&event, kind);
        let mut facts = TokenFacts::default();
        let verified = match token::extract_token(&event, kind) {
            Ok(token) => self.verifier.verify(token, unix_now(), &mut facts).await,
            Err(reason) => Err(reason),
        };
        let kid = facts.kid.as_deref().map(loggable);
        let alg = facts.alg.as_deref().map(loggable);
        match verified {
            Ok(caller) => {
                let context = policy::context_from_claims(&caller.claims);
                let answer = policy::allow(kind, self.style, arn, &caller.sub, context);
                match &answer {
                    Ok(_) => info!(
                        decision = "allow",
                        event = kind.as_str(),
                        sub = %caller.sub,
                        kid,
                        alg,
                        elapsed_us = elapsed_us(started),
                        "authorized"
                    ),
                    Err(err) => error!(
                        decision = "error",
                        reason = err.reason().as_str(),
                        event = kind.as_str(),
                        error = %err,
                        elapsed_us = elapsed_us(started),
                        "valid token but the event cannot be answered"
                    ),
                }
                answer
            }
            Err(reason) => {
                let answer = policy::answer_denial(Some(kind), self.style, arn, reason);
                log_denial(kind, reason, kid, alg, started);
                answer
            }
        }
    }
}

fn log_denial(
    kind: EventKind,
    reason: Reason,
    kid: Option<&str>,
    alg: Option<&str>,
    started: Instant,
) {
    let reason_code = reason.as_str();
    let elapsed_us = elapsed_us(started);
    if reason == Reason::JwksUnavailable {
        // The caller is refused because of us (the IdP is unreachable), not because of them.
        warn!(
            decision = "deny",
            reason = reason_code,
            event = kind.as_str(),
            kid,
            alg,
            elapsed_us,
            "denied"
        );
    } else {
        info!(
            decision = "deny",
            reason = reason_code,
            event = kind.as_str(),
            kid,
            alg,
            elapsed_us,
            "denied"
        );
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn loggable(value: &str) -> &str {
    if value.len() <= MAX_LOGGED_HEADER_VALUE {
        return value;
    }
    let mut end = MAX_LOGGED_HEADER_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match &err {
            HandlerError::Unauthorized { .. } => "Unauthorized",
            HandlerError::MalformedEvent(_) => "MalformedEvent",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: err.to_string(),
        }
    }
}
