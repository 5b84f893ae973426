//! Cold start (process spawn to the first allow posted) against an https IdP, with and without
//! a JWKS snapshot, side by side:
//! - `floor: inline keys`: the keys in `AUTHORIZER_CONFIG`, so nothing is fetched and no TLS
//!   client is built: the no-network floor of this binary;
//! - `https, loopback`: discovery + JWKS over TLS from an IdP on loopback whose certificate a
//!   test CA signed, trusted through `SSL_CERT_FILE` pointing at the system CA bundle plus the
//!   test CA (what a deployed function loads: every system root);
//! - `https, loopback, test CA only`: the same with `SSL_CERT_FILE` holding the test CA alone,
//!   so the difference is the cost of loading the system's roots;
//! - `https, 50 ms away`: every IdP request answered 50 ms late (discovery then JWKS: two);
//! - each https case again `+ snapshot` (`JWKS_SNAPSHOT_FILE`, written by
//!   `authorizer jwks-snapshot` at the start of the run), where the IdP should not be contacted.
//!
//! Runs are interleaved (one of each case in turn, `COLD_RUNS` times, default 20).
//! Run: `cargo bench -p authorizer --bench cold_start_network`.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{AUDIENCE, Format};
use serde_json::json;
use testkit::{Fault, JwksServer, RuntimeApi, TestCa, TestKey};

const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

struct Case {
    label: &'static str,
    env: Vec<(String, String)>,
    idp: Option<usize>,
    first_allow_ms: Vec<f64>,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let runs: usize = if benching {
        std::env::var("COLD_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20)
    } else {
        1
    };
    let binary = std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    );
    let dir = std::env::temp_dir().join(format!("cold-start-network-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = TestCa::new();
    let ca_only = ca.write_ca_file(&dir);
    let bundle = dir.join("bundle.pem");
    let system = std::fs::read_to_string(SYSTEM_BUNDLE).unwrap_or_default();
    std::fs::write(&bundle, format!("{system}\n{}", ca.ca_pem())).expect("bundle");

    let key = TestKey::rsa2048();
    let near = JwksServer::start_https(&[&key], &ca);
    let far = JwksServer::start_https(&[&key], &ca);
    // Both servers publish the same keys; the issuer in the token decides which one is asked.
    let issuers = [near.issuer(), far.issuer()];
    let tokens: Vec<String> = issuers
        .iter()
        .map(|issuer| {
            let mut claims = testkit::claims(issuer, AUDIENCE, "auth0|cold");
            claims["exp"] = json!(testkit::now() + 24 * 3600);
            key.sign(&claims)
        })
        .collect();
    let snapshot = |i: usize| -> PathBuf {
        let out = dir.join(format!("snapshot-{i}.json"));
        let run = Command::new(&binary)
            .args(["jwks-snapshot", out.to_str().expect("UTF-8")])
            .env_clear()
            .env("JWT_ISSUER", &issuers[i])
            .env("JWT_AUDIENCE", AUDIENCE)
            .env("SSL_CERT_FILE", &ca_only)
            .output()
            .expect("jwks-snapshot");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        out
    };
    let snapshots = [snapshot(0), snapshot(1)];
    far.set_fault(Fault::Slow(Duration::from_millis(50)));
    far.set_discovery_fault(Fault::Slow(Duration::from_millis(50)));

    let s = |v: &Path| v.to_string_lossy().into_owned();
    let https = |i: usize, roots: &Path, snapshot: bool| {
        let mut env = vec![
            ("JWT_ISSUER".to_owned(), issuers[i].clone()),
            ("JWT_AUDIENCE".to_owned(), AUDIENCE.to_owned()),
            ("SSL_CERT_FILE".to_owned(), s(roots)),
        ];
        if snapshot {
            env.push(("JWKS_SNAPSHOT_FILE".to_owned(), s(&snapshots[i])));
        }
        env
    };
    let inline = json!({"issuers": [{"issuer": issuers[0], "audience": AUDIENCE,
        "jwks": TestKey::jwks(&[&key])}]})
    .to_string();
    let case = |label, env, idp| Case {
        label,
        env,
        idp,
        first_allow_ms: Vec::with_capacity(runs),
    };
    let mut cases = [
        case(
            "floor: inline keys",
            vec![("AUTHORIZER_CONFIG".to_owned(), inline)],
            None,
        ),
        case("https, loopback", https(0, &bundle, false), Some(0)),
        case(
            "https, loopback, test CA only",
            https(0, &ca_only, false),
            Some(0),
        ),
        case(
            "https, loopback + snapshot",
            https(0, &bundle, true),
            Some(0),
        ),
        case("https, 50 ms away", https(1, &bundle, false), Some(1)),
        case(
            "https, 50 ms away + snapshot",
            https(1, &bundle, true),
            Some(1),
        ),
    ];
    let servers = [&near, &far];
    let mut fetches = vec![0usize; cases.len()];
    for _ in 0..runs {
        for (n, c) in cases.iter_mut().enumerate() {
            let token_index = c.idp.unwrap_or(0);
            let event = Format::RestToken.bearer(&tokens[token_index]);
            let hits_before = c
                .idp
                .map_or(0, |i| servers[i].jwks_hits() + servers[i].discovery_hits());
            let mut env: Vec<(&str, &str)> = vec![("AWS_LAMBDA_LOG_LEVEL", "INFO")];
            env.extend(c.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let function = RuntimeApi::start(&binary, &env).with_timeout(Duration::from_secs(10));
            let answer = function.invoke(event);
            let elapsed = function.spawned_at().elapsed();
            assert!(
                common::is_allow(Format::RestToken, &answer),
                "{}: {answer:?}\n{}",
                c.label,
                function.logs()
            );
            function.kill();
            c.first_allow_ms.push(elapsed.as_secs_f64() * 1000.0);
            fetches[n] += c
                .idp
                .map_or(0, |i| servers[i].jwks_hits() + servers[i].discovery_hits())
                - hits_before;
        }
    }
    println!(
        "{runs} cold starts per case, interleaved; {} CPUs; RS256; system bundle: {} roots",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        system.matches("BEGIN CERTIFICATE").count()
    );
    let floor = median(&mut cases[0].first_allow_ms.clone());
    for (n, c) in cases.iter_mut().enumerate() {
        let p50 = median(&mut c.first_allow_ms);
        let p90 =
            c.first_allow_ms[(c.first_allow_ms.len() * 9 / 10).min(c.first_allow_ms.len() - 1)];
        println!(
            "{:<32} spawn -> first allow: median {p50:>7.2} ms  p90 {p90:>7.2} ms  ({:+.2} ms vs floor)   IdP requests per cold start: {:.1}",
            c.label,
            p50 - floor,
            fetches[n] as f64 / runs as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
