//! Log set-up for the Lambda binary.
//!
//! Like `lambda_runtime::tracing::init_default_subscriber` (level from `AWS_LAMBDA_LOG_LEVEL`,
//! else `RUST_LOG` directives; JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`), plus a fixed
//! guard no variable can lift:
//! - `lambda_runtime` logs the raw invocation event, `Authorization` header included, at TRACE
//!   (`lambda_runtime::layers::api_response`): that target is always off, so no log level
//!   can put a token in the logs;
//! - `lambda_runtime::layers::panic` writes an ERROR line for every `Err` a handler returns,
//!   and every REST 401 is such an `Err` (`Unauthorized`): off, our own decision line says it
//!   (a real panic still reaches the logs through the standard panic hook, on stderr);
//! - every other crate stays at INFO or above: the log level is for our own targets.

use lambda_runtime::tracing::subscriber::{
    self,
    filter::{EnvFilter, LevelFilter, Targets},
    layer::SubscriberExt as _,
    util::SubscriberInitExt as _,
};
use serde_json::Value;
use tracing::{error, info, warn};

use crate::decision::{Allow, Caller, Decision, Deny};
use crate::error::{HandlerError, Reason};
use crate::verify::TokenFacts;

/// Installs the global subscriber, reading the process environment.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let filter = EnvFilter::builder()
        .with_default_directive(level_filter(level.as_deref()).into())
        .from_env_lossy();
    let builder = subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    if json {
        builder.json().finish().with(guard()).init();
    } else {
        builder.finish().with(guard()).init();
    }
}

/// The level named by `AWS_LAMBDA_LOG_LEVEL` (Lambda's names, `FATAL` included) or a plain
/// `RUST_LOG` level; INFO when unset or not a level.
fn level_filter(value: Option<&str>) -> LevelFilter {
    match value.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("fatal") => LevelFilter::ERROR,
        Some(v) => v.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

/// The limits no configuration lifts (see the module documentation).
pub fn guard() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target(env!("CARGO_CRATE_NAME"), LevelFilter::TRACE)
        .with_target("lambda_runtime::layers::api_response", LevelFilter::OFF)
        .with_target("lambda_runtime::layers::panic", LevelFilter::OFF)
}

/// Longest header value (`kid`, `alg`) copied into a log line: they are attacker-chosen.
const MAX_LOGGED_HEADER_VALUE: usize = 64;

/// Writes the one log line of a decision: its outcome, reason and the caller's `sub` (never a
/// token). `answer` is what [`crate::policy::answer`] made of it: when that is an error other
/// than `Unauthorized` (a policy with no ARN to name), the line says so instead. Refusals are
/// INFO, except when the caller is refused because the issuer's keys cannot be had (WARN);
/// events we cannot read or answer are ERROR: they mean a wiring fault.
pub(crate) fn log_decision(
    decision: &Decision,
    answer: &Result<Value, HandlerError>,
    token: &TokenFacts,
    elapsed_us: u64,
) {
    let kid = token.kid.as_deref().map(loggable);
    let alg = token.alg.as_deref().map(loggable);
    let kind = match decision {
        Decision::Unreadable(err) => {
            error!(
                decision = "error",
                reason = Reason::MalformedEvent.as_str(),
                detail = %err,
                elapsed_us,
                "authorizer event not understood"
            );
            return;
        }
        Decision::Allow(allow) => allow.kind,
        Decision::Deny(deny) => deny.kind,
    };
    let event = kind.as_str();
    // A verified caller's line: allowed, or refused by the route (`reason`, `claim`).
    let caller_line = |decision: &str,
                       reason: Option<Reason>,
                       claim: Option<&str>,
                       caller: &Caller,
                       message: &str| {
        info!(
            decision,
            reason = reason.map(Reason::as_str),
            claim,
            event,
            sub = %caller.sub,
            kid,
            alg,
            reserved_claims_dropped = caller.reserved_dropped,
            elapsed_us,
            "{message}"
        );
    };
    if let Err(err @ HandlerError::MalformedEvent(_)) = answer {
        error!(
            decision = "error",
            reason = err.reason().as_str(),
            event,
            error = %err,
            elapsed_us,
            "the event cannot be answered"
        );
        return;
    }
    match decision {
        Decision::Unreadable(_) => {}
        Decision::Allow(Allow { caller: None, .. }) => info!(
            decision = "allow",
            reason = "public_path",
            token_reason = Reason::MissingToken.as_str(),
            event,
            elapsed_us,
            "public path"
        ),
        Decision::Allow(Allow {
            caller: Some(caller),
            ..
        }) => caller_line("allow", None, None, caller, "authorized"),
        Decision::Deny(Deny {
            reason,
            claim,
            caller: Some(caller),
            ..
        }) => caller_line("deny", Some(*reason), claim.as_deref(), caller, "denied"),
        Decision::Deny(Deny {
            reason,
            claim,
            caller: None,
            public_path,
            ..
        }) => {
            macro_rules! denied {
                ($level:ident) => {
                    $level!(
                        decision = "deny",
                        reason = reason.as_str(),
                        claim = claim.as_deref(),
                        event,
                        public_path,
                        kid,
                        alg,
                        elapsed_us,
                        "denied"
                    )
                };
            }
            // The caller is refused because of us (the IdP is unreachable), not because of them.
            if *reason == Reason::JwksUnavailable {
                denied!(warn);
            } else {
                denied!(info);
            }
        }
    }
}

/// `value` cut to [`MAX_LOGGED_HEADER_VALUE`] bytes, on a character boundary.
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

#[cfg(test)]
mod tests {
    use lambda_runtime::tracing::Level;

    use super::*;

    #[test]
    fn guard_raw_event_trace_is_never_enabled() {
        let guard = guard();
        for level in [Level::TRACE, Level::DEBUG, Level::INFO, Level::ERROR] {
            assert!(
                !guard.would_enable("lambda_runtime::layers::api_response", &level),
                "{level}"
            );
            assert!(
                !guard.would_enable("lambda_runtime::layers::panic", &level),
                "{level}"
            );
        }
    }

    #[test]
    fn guard_own_targets_follow_configured_level_others_stay_info() {
        let guard = guard();
        assert!(guard.would_enable("authorizer::handler", &Level::TRACE));
        assert!(guard.would_enable("authorizer::jwks", &Level::DEBUG));
        assert!(!guard.would_enable("lambda_runtime::runtime", &Level::DEBUG));
        assert!(guard.would_enable("lambda_runtime::runtime", &Level::WARN));
        assert!(!guard.would_enable("hyper_util::client", &Level::TRACE));
        assert!(!guard.would_enable("reqwest::connect", &Level::DEBUG));
    }

    #[test]
    fn level_filter_reads_lambda_and_rust_names() {
        assert_eq!(level_filter(None), LevelFilter::INFO);
        assert_eq!(level_filter(Some("TRACE")), LevelFilter::TRACE);
        assert_eq!(level_filter(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(level_filter(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(level_filter(Some("nonsense")), LevelFilter::INFO);
    }

    #[test]
    fn loggable_truncates_on_char_boundary() {
        assert_eq!(loggable("short"), "short");
        let long = "é".repeat(40);
        let cut = loggable(&long);
        assert!(cut.len() <= MAX_LOGGED_HEADER_VALUE && long.starts_with(cut));
    }
}
