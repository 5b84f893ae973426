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
}
