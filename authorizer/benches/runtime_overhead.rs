//! Per-invocation cost through the Lambda Runtime API, side by side:
//! - `authorizer`: the real binary allowing a real RS256 token (HTTP API payload 2.0), logging
//!   its one JSON decision line per invocation (the default, `AWS_LAMBDA_LOG_LEVEL=INFO`);
//! - `authorizer, no decision log`: the same with `AWS_LAMBDA_LOG_LEVEL=WARN`, so the difference
//!   is the cost of that log line;
//! - `floor: lambda_runtime`: `testkit-floor-lambda`, lambda_runtime with a handler that does
//!   nothing, built the same way (release profile, same lambda_runtime and tokio flavour);
//! - `floor: std only`: `testkit-floor-std`, a blocking std-only client on one kept-alive
//!   connection: the least any function can cost.
//!
//! All four run at once under their own testkit Runtime API stand-in; the series are
//! interleaved (a block of invocations each, in turn, `ROUNDS` times) so that a noisy neighbour
//! hits all of them alike. Per contender: latency of one invocation as the stand-in sees it
//! (event queued to answer posted; p50, p99), CPU time of the function process per invocation
//! (`/proc/<pid>/task/*/schedstat`, user + kernel, summed over its threads), and how many TCP
//! connections it opened to the Runtime API.
//!
//! The floors are testkit binaries, looked up beside the authorizer binary, so build them with
//! the same profile first. Run: `make bench-overhead`, i.e.
//! `cargo build --release -p testkit --bins && cargo bench -p authorizer --bench runtime_overhead`
//! (`OVERHEAD_ROUNDS`, default 10, `OVERHEAD_BLOCK`, default 300 invocations per block).
//! `AUTHORIZER_BIN=dir/authorizer` measures another build, with the floors from `dir/`;
//! `OVERHEAD_EXTRA=path` adds any other Lambda function binary as a fifth contender (answering
//! the same event with any JSON, given the authorizer's environment), e.g. one built against an
//! unpatched lambda_runtime, or an earlier build of the authorizer.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{AUDIENCE, Format};
use testkit::{JwksServer, RuntimeApi, TestKey};

struct Contender {
    label: String,
    function: RuntimeApi,
    latencies_us: Vec<f64>,
    cpu_ns: u64,
    invocations: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

/// Mean CPU time per measured invocation of the contender named `label`, in ns.
fn cpu_per_invocation(contenders: &[Contender], label: &str) -> f64 {
    contenders
        .iter()
        .find(|c| c.label == label)
        .map_or(f64::NAN, |c| c.cpu_ns as f64 / c.invocations as f64)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The authorizer binary: cargo's build for this bench, or `AUTHORIZER_BIN`.
fn authorizer_bin() -> PathBuf {
    std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    )
}

/// A testkit binary from the directory of the authorizer binary (so built the same way).
fn sibling(name: &str) -> String {
    let path = authorizer_bin().with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build it with the same profile first \
         (`cargo build --release -p testkit --bins` for `cargo bench`)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    // Under `cargo test --benches`: one short round, so the bench stays compiled and working.
    let (rounds, block, warm) = if benching {
        (
            env_usize("OVERHEAD_ROUNDS", 10),
            env_usize("OVERHEAD_BLOCK", 300),
            300,
        )
    } else {
        (1, 20, 5)
    };

    let key = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&key]);
    let issuer = idp.issuer();
    let mut claims = testkit::claims(&issuer, AUDIENCE, "auth0|overhead");
    claims["exp"] = serde_json::json!(testkit::now() + 24 * 3600);
    let event = Format::HttpV2Simple.bearer(&key.sign(&claims));
    let jwks_uri = idp.jwks_uri();
    let authorizer_env = |level: &'static str| {
        vec![
            ("JWT_ISSUER", issuer.clone()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("JWKS_URI", jwks_uri.clone()),
            ("AWS_LAMBDA_LOG_LEVEL", level.to_owned()),
        ]
    };
    let start = |label: &str, binary: &str, env: Vec<(&str, String)>| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Contender {
            label: label.to_owned(),
            function: RuntimeApi::start(Path::new(binary), &env)
                .with_timeout(Duration::from_secs(10)),
            latencies_us: Vec::with_capacity(rounds * block),
            cpu_ns: 0,
            invocations: 0,
        }
    };
    let mut contenders = vec![
        start(
            "authorizer",
            &authorizer_bin().to_string_lossy(),
            authorizer_env("INFO"),
        ),
        start(
            "authorizer, no decision log",
            &authorizer_bin().to_string_lossy(),
            authorizer_env("WARN"),
        ),
        start(
            "floor: lambda_runtime",
            &sibling("testkit-floor-lambda"),
            vec![],
        ),
        start("floor: std only", &sibling("testkit-floor-std"), vec![]),
    ];
    if let Some(extra) = std::env::var_os("OVERHEAD_EXTRA") {
        let extra = extra.to_string_lossy().into_owned();
        // With the authorizer's configuration, so another build of it can be compared too.
        contenders.push(start(
            &format!("extra: {extra}"),
            &extra,
            authorizer_env("INFO"),
        ));
    }
    for c in &contenders {
        for _ in 0..warm {
            let answer = c.function.invoke(event.clone());
            assert!(
                c.label.starts_with("extra") || common::is_allow(Format::HttpV2Simple, &answer),
                "{}: not an allow: {answer:?}\n{}",
                c.label,
                c.function.logs()
            );
        }
    }
    for _ in 0..rounds {
        for c in &mut contenders {
            let cpu_before = c.function.cpu_ns().expect("schedstat");
            for _ in 0..block {
                let started = Instant::now();
                let answer = c.function.invoke(event.clone());
                c.latencies_us
                    .push(started.elapsed().as_secs_f64() * 1_000_000.0);
                assert!(
                    c.label.starts_with("extra") || common::is_allow(Format::HttpV2Simple, &answer)
                );
            }
            c.cpu_ns += c.function.cpu_ns().expect("schedstat") - cpu_before;
            c.invocations += block as u64;
        }
    }

    println!(
        "{rounds} rounds x {block} invocations per contender, interleaved; {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let std_floor = cpu_per_invocation(&contenders, "floor: std only");
    let runtime_floor = cpu_per_invocation(&contenders, "floor: lambda_runtime");
    let logged = cpu_per_invocation(&contenders, "authorizer");
    let silent = cpu_per_invocation(&contenders, "authorizer, no decision log");
    for c in &mut contenders {
        c.latencies_us.sort_by(f64::total_cmp);
        let cpu = c.cpu_ns as f64 / c.invocations as f64;
        let total = warm as u64 + c.invocations;
        println!(
            "{:<28} latency p50 {:>7.1} us  p99 {:>7.1} us   CPU {:>6.1} us/invocation ({:.2}x std floor, {:.2}x lambda_runtime floor)   {} connections for {total} invocations",
            c.label,
            percentile(&c.latencies_us, 0.5),
            percentile(&c.latencies_us, 0.99),
            cpu / 1000.0,
            cpu / std_floor,
            cpu / runtime_floor,
            c.function.connections(),
        );
    }
    println!(
        "decision log line: {:.1} us CPU per invocation ({:.1}% of the authorizer's)",
        (logged - silent) / 1000.0,
        (logged - silent) / logged * 100.0
    );
}
