//! Cold start and memory of the real binary: spawns the `authorizer` executable under the testkit's
//! Lambda Runtime API stand-in, with its keys on a loopback JWKS server, and measures
//! - process start (spawn) to the first allow answer: init (configuration, HTTP client, JWKS
//!   discovery + fetch on loopback) plus the first invocation (targets: under 25 ms);
//! - peak resident set size (`VmHWM` from `/proc/<pid>/status`, read after the first answer and
//!   again after 100 warm invocations, just before the process is killed; target: under 20 MB).
//!
//! It builds nothing itself: under `cargo bench` cargo builds the binary with the bench profile
//! (which inherits `[profile.release]`: LTO, one codegen unit, stripped), so the figures are those of
//! the release binary. To measure another build, point `AUTHORIZER_BIN` at it, e.g.
//! `cargo build --release -p authorizer && AUTHORIZER_BIN=target/release/authorizer cargo bench -p authorizer --bench cold_start`.
//! `COLD_START_RUNS` sets the number of runs (default 30).
//!
//! Run: `cargo bench -p authorizer --bench cold_start`

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{AUDIENCE, Format};
use testkit::{JwksServer, RuntimeApi, TestKey};

struct Run {
    first_allow: Duration,
    peak_rss_after_first_kib: u64,
    peak_rss_after_warm_kib: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn summary(label: &str, unit: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{label:<42} median {:>8.2} {unit}   p90 {:>8.2}   min {:>8.2}   max {:>8.2}   (n={})",
        percentile(&values, 0.5),
        percentile(&values, 0.9),
        values[0],
        values[values.len() - 1],
        values.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special. Under
    // `cargo test` (no `--bench`), do a single quick run so the bench stays compiled and working.
    let benching = std::env::args().any(|a| a == "--bench");
    let binary = std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    );
    let runs: usize = if benching {
        std::env::var("COLD_START_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30)
    } else {
        1
    };
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!(
        "binary: {} ({:.1} MiB)",
        binary.display(),
        size as f64 / (1024.0 * 1024.0)
    );

    let key = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&key]);
    let issuer = idp.issuer();
    let mut claims = testkit::claims(&issuer, AUDIENCE, "auth0|cold-start");
    claims["exp"] = serde_json::json!(testkit::now() + 3600);
    let token = key.sign(&claims);
    let event = Format::RestToken.bearer(&token);
    let env = [
        ("JWT_ISSUER", issuer.as_str()),
        ("JWT_AUDIENCE", AUDIENCE),
        // What a deployed function logs by default.
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
    ];

    let mut results = Vec::with_capacity(runs);
    for _ in 0..runs {
        let function = RuntimeApi::start(&binary, &env).with_timeout(Duration::from_secs(10));
        let answer = function.invoke(event.clone());
        let first_allow = function.spawned_at().elapsed();
        assert!(
            common::is_allow(Format::RestToken, &answer),
            "first answer is not an allow: {answer:?}\n{}",
            function.logs()
        );
        let peak_rss_after_first_kib = function.peak_rss_kib().expect("VmHWM");
        for _ in 0..100 {
            let answer = function.invoke(event.clone());
            assert!(common::is_allow(Format::RestToken, &answer));
        }
        let peak_rss_after_warm_kib = function.peak_rss_kib().expect("VmHWM");
        function.kill();
        results.push(Run {
            first_allow,
            peak_rss_after_first_kib,
            peak_rss_after_warm_kib,
        });
    }
    summary(
        "process start -> first allow",
        "ms",
        results
            .iter()
            .map(|r| r.first_allow.as_secs_f64() * 1000.0)
            .collect(),
    );
    summary(
        "peak RSS after first allow (VmHWM)",
        "MiB",
        results
            .iter()
            .map(|r| r.peak_rss_after_first_kib as f64 / 1024.0)
            .collect(),
    );
    summary(
        "peak RSS after 100 more allows (VmHWM)",
        "MiB",
        results
            .iter()
            .map(|r| r.peak_rss_after_warm_kib as f64 / 1024.0)
            .collect(),
    );
    println!("JWKS fetches: {} for {runs} cold starts", idp.jwks_hits());
}
