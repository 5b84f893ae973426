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

use lambda_runtime::tracing::Subscriber;
use lambda_runtime::tracing::subscriber::{
    self,
    filter::{EnvFilter, LevelFilter, Targets},
    fmt::MakeWriter,
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
    if json {
        json_subscriber(filter, std::io::stdout).init();
    } else {
        subscriber::fmt()
            .with_target(false)
            .without_time()
            .with_env_filter(filter)
            .with_writer(std::io::stdout)
            .finish()
            .with(guard())
            .init();
    }
}

/// What `AWS_LAMBDA_LOG_FORMAT=JSON` installs: one JSON object a line, written with one
/// `write` each (stdout's line buffer flushes at the line's end).
///
/// `span` (lambda_runtime's invocation span: `requestId`, `xrayTraceId`) stays on every line;
/// the `spans` list is off: it would repeat that one span, and tracing-subscriber re-parses a
/// span's stored JSON fields each time it prints them (about 7,000 of the ~30,000 instructions
/// a decision line cost under callgrind; README, Performance).
fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .with_span_list(false)
        .finish()
        .with(guard())
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
pub(crate) fn guard() -> Targets {
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

    /// A `MakeWriter` into a shared buffer, so a test reads what the subscriber wrote.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn json_decision_line_keeps_fields_and_invocation_span_once() {
        let buffer = Buffer::default();
        let filter = EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .parse_lossy("");
        let subscriber = json_subscriber(filter, buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            // The span lambda_runtime's TracingLayer opens around each invocation.
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
                xrayTraceId = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"
            );
            let _entered = span.enter();
            tracing::info!(
                decision = "allow",
                event = "http_v2",
                sub = "user-1",
                elapsed_us = 17_u64,
                "authorized"
            );
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["decision"], "allow");
        assert_eq!(line["fields"]["sub"], "user-1");
        assert_eq!(line["fields"]["elapsed_us"], 17);
        assert_eq!(line["fields"]["message"], "authorized");
        assert_eq!(
            line["span"]["requestId"],
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(line["span"]["name"], "Lambda runtime invoke");
        assert!(line.get("spans").is_none(), "{line}");
    }

    #[test]
    fn loggable_truncates_on_char_boundary() {
        assert_eq!(loggable("short"), "short");
        let long = "é".repeat(40);
        let cut = loggable(&long);
        assert!(cut.len() <= MAX_LOGGED_HEADER_VALUE && long.starts_with(cut));
    }
}
