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
pub fn guard() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target(env!("CARGO_CRATE_NAME"), LevelFilter::TRACE)
        .with_target("lambda_runtime::layers::api_response", LevelFilter::OFF)
        .with_target("lambda_runtime::layers::panic", LevelFilter::OFF)
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
}
