//! Throughput and memory with several invocations in flight at once (Lambda Managed Instances):
//! the real binary under the testkit Runtime API stand-in with `AWS_LAMBDA_MAX_CONCURRENCY` at
//! 1 (unset: classic Lambda), 8 and 64, each fed batches of as many concurrent allows.
//!
//! Per level: allows per second of wall time, allows per CPU-second of the function process
//! (`/proc/<pid>/task/*/schedstat`: the "per vCPU" figure, independent of how many cores the
//! machine lends it), and peak RSS (`VmHWM`). The stand-in and the test process run on the same
//! machine, so wall-time throughput is a lower bound; the levels are interleaved, `ROUNDS`
//! times, so that a noisy neighbour hits all of them alike.
//!
//! Run: `make bench-concurrency`, i.e. `cargo bench -p authorizer --bench concurrency`
//! (`CONCURRENCY_ROUNDS`, default 5; `CONCURRENCY_INVOCATIONS` per round and level, default 640).

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{AUDIENCE, Format};
use testkit::{JwksServer, RuntimeApi, TestKey};

const LEVELS: [usize; 3] = [1, 8, 64];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let (rounds, per_round) = if benching {
        (
            env_usize("CONCURRENCY_ROUNDS", 5),
            env_usize("CONCURRENCY_INVOCATIONS", 640),
        )
    } else {
        (1, 64)
    };
    let binary = std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    );
    let key = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&key]);
    let issuer = idp.issuer();
    let jwks_uri = idp.jwks_uri();
    let mut claims = testkit::claims(&issuer, AUDIENCE, "auth0|concurrency");
    claims["exp"] = serde_json::json!(testkit::now() + 24 * 3600);
    let event = Format::HttpV2Simple.bearer(&key.sign(&claims));

    let functions: Vec<(usize, RuntimeApi)> = LEVELS
        .iter()
        .map(|&level| {
            let level_text = level.to_string();
            let mut env = vec![
                ("JWT_ISSUER", issuer.as_str()),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", jwks_uri.as_str()),
                ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
            ];
            if level > 1 {
                env.push(("AWS_LAMBDA_MAX_CONCURRENCY", &level_text));
            }
            let function = RuntimeApi::start(&binary, &env).with_timeout(Duration::from_secs(30));
            (level, function)
        })
        .collect();
    let batch = |level: usize| vec![event.clone(); level];
    // Warm-up: every poller has served a few events.
    for (level, function) in &functions {
        for _ in 0..4 {
            for answer in function.invoke_all(&batch(*level)) {
                assert!(
                    common::is_allow(Format::HttpV2Simple, &answer),
                    "{answer:?}"
                );
            }
        }
    }
    let mut wall = vec![Duration::ZERO; LEVELS.len()];
    let mut cpu_ns = vec![0u64; LEVELS.len()];
    let mut allows = vec![0usize; LEVELS.len()];
    for _ in 0..rounds {
        for (i, (level, function)) in functions.iter().enumerate() {
            let events = batch(*level);
            let cpu_before = function.cpu_ns().expect("schedstat");
            let started = Instant::now();
            let mut done = 0;
            while done < per_round {
                for answer in function.invoke_all(&events) {
                    assert!(common::is_allow(Format::HttpV2Simple, &answer));
                }
                done += level;
            }
            wall[i] += started.elapsed();
            cpu_ns[i] += function.cpu_ns().expect("schedstat") - cpu_before;
            allows[i] += done;
        }
    }
    println!(
        "{rounds} rounds x {per_round} allows per level, interleaved; {} CPUs; HTTP API 2.0 events, RS256",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let base = allows[0] as f64 / (cpu_ns[0] as f64 / 1e9);
    for (i, (level, function)) in functions.iter().enumerate() {
        let per_cpu_second = allows[i] as f64 / (cpu_ns[i] as f64 / 1e9);
        println!(
            "concurrency {level:>2}: {:>7.0} allows/s wall   {:>7.0} allows per CPU-second ({:.2}x of concurrency 1)   peak RSS {:>5.1} MiB   {} Runtime API connections",
            allows[i] as f64 / wall[i].as_secs_f64(),
            per_cpu_second,
            per_cpu_second / base,
            function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
            function.connections(),
        );
    }
    println!(
        "JWKS fetches: {} for {} processes",
        idp.jwks_hits(),
        LEVELS.len()
    );
}
