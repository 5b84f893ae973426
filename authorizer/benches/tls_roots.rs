//! What building the https client costs with each root store, interleaved, 50 times each
//! (`TLS_ROOTS_RUNS`): the system's roots (rustls-platform-verifier reading
//! `/etc/ssl/certs`, what the authorizer does when `SSL_CERT_FILE`/`SSL_CERT_DIR` is set),
//! Mozilla's roots compiled in (webpki-root-certs, the default), and a single root (the floor).
//!
//! Run: `cargo bench -p authorizer --bench tls_roots`.

use std::time::Instant;

const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let runs: usize = if benching {
        std::env::var("TLS_ROOTS_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50)
    } else {
        1
    };
    let bundle = std::fs::read_to_string(SYSTEM_BUNDLE).expect("a system CA bundle");
    let end = "-----END CERTIFICATE-----";
    let first = &bundle[..bundle.find(end).expect("a certificate") + end.len()];
    let mut cases: Vec<(&str, Vec<f64>)> = vec![
        ("system roots (platform verifier)", Vec::new()),
        ("webpki-root-certs compiled in", Vec::new()),
        ("one root only", Vec::new()),
    ];
    for _ in 0..runs {
        let started = Instant::now();
        reqwest::Client::builder().build().expect("system roots");
        cases[0].1.push(started.elapsed().as_secs_f64() * 1e3);

        let started = Instant::now();
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok());
        reqwest::Client::builder()
            .tls_certs_only(roots)
            .build()
            .expect("compiled-in roots");
        cases[1].1.push(started.elapsed().as_secs_f64() * 1e3);

        let started = Instant::now();
        let one = reqwest::Certificate::from_pem(first.as_bytes()).expect("PEM");
        reqwest::Client::builder()
            .tls_certs_only([one])
            .build()
            .expect("one root");
        cases[2].1.push(started.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "https client build, {runs} runs each, interleaved; system bundle: {} roots",
        bundle.matches("BEGIN CERTIFICATE").count()
    );
    for (label, mut times) in cases {
        times.sort_by(f64::total_cmp);
        println!(
            "{label:<36} median {:>7.3} ms  p90 {:>7.3} ms",
            times[times.len() / 2],
            times[times.len() * 9 / 10]
        );
    }
}
