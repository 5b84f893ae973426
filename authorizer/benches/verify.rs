//! Warm-path cost: a bare RS256 verification (jsonwebtoken `decode` with a warm `DecodingKey`,
//! the floor any JWT authorizer pays) against the whole event -> answer path through
//! `Authorizer::handle` (reading the event into its aws_lambda_events type, the token, the
//! decision, the answer in the library's response type), for each event format, in the same run.
//! Target: the whole path within 1.2x of the bare verify.
//!
//! Keys are served by the testkit's JWKS server on loopback and fetched by `warm_up` before
//! measuring, so no iteration does I/O. Events are the aws_lambda_events fixtures the integration
//! tests use; cloning an event is kept out of the measurement (`iter_batched`).
//!
//! Run: `cargo bench -p authorizer --bench verify`

#[path = "../tests/it/common/mod.rs"]
mod common;
mod support;

use std::hint::black_box;
use std::time::Duration;

use authorizer::Authorizer;
use common::{AUDIENCE, Format};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, Validation, decode};
use serde_json::{Value, json};
use testkit::{JwksServer, TestKey};

fn authorizer_for(idp: &JwksServer, style: &str, runtime: &tokio::runtime::Runtime) -> Authorizer {
    let issuer = idp.issuer();
    support::warm_authorizer(
        |key| match key {
            "JWT_ISSUER" => Some(issuer.clone()),
            "JWT_AUDIENCE" => Some(AUDIENCE.to_owned()),
            "AUTHORIZER_RESPONSE_STYLE" => Some(style.to_owned()),
            _ => None,
        },
        runtime,
    )
}

/// The subscriber `lambda_runtime::tracing::init_default_subscriber` installs in the binary with
/// Lambda's JSON log format at the default INFO level, built here without reading the environment.
fn install_json_logging_to_sink() {
    use lambda_runtime::tracing::subscriber::{self, EnvFilter};
    subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .json()
        .init();
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let key = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&key]);
    let mut claims = testkit::claims(&idp.issuer(), AUDIENCE, "auth0|5f7c8ec7c33c6c004bbafe82");
    // A realistic Auth0 access token: a few extra claims, scopes and permissions.
    claims["exp"] = json!(testkit::now() + 24 * 3600);
    claims["azp"] = json!("8Q9uxmt3tLbY1yGvT5xm4g3e2Pp8pQkA");
    claims["scope"] = json!("openid profile email read:shows");
    claims["permissions"] = json!(["read:shows"]);
    let token = key.sign(&claims);

    let simple = authorizer_for(&idp, "simple", &runtime);
    let iam = authorizer_for(&idp, "iam", &runtime);
    let fetches_after_warm_up = idp.jwks_hits();

    // Bare verification: what jsonwebtoken alone costs with the key already parsed.
    let decoding_key = key.decoding_key();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[idp.issuer()]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);

    let mut group = c.benchmark_group("authorizer");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("bare_rs256_verify", |b| {
        b.iter(|| {
            decode::<Value>(black_box(&token), &decoding_key, &validation)
                .expect("verifies")
                .claims
        });
    });

    let cases = [
        ("rest_token", Format::RestToken, &simple),
        ("rest_request", Format::RestRequest, &simple),
        ("http_v1", Format::HttpV1, &simple),
        ("http_v2_simple", Format::HttpV2Simple, &simple),
        ("http_v2_iam", Format::HttpV2Iam, &iam),
    ];
    // First without a tracing subscriber (the library as such), then with the logging a deployed
    // function has, writing to a sink: one JSON decision line per call is part of what it pays.
    for prefix in ["handle", "handle_logged"] {
        if prefix == "handle_logged" {
            install_json_logging_to_sink();
        }
        for (name, format, authorizer) in &cases {
            let (format, authorizer) = (*format, *authorizer);
            let id = format!("{prefix}/{name}");
            support::bench_handle(
                &mut group,
                &id,
                &runtime,
                authorizer,
                format,
                &format.bearer(&token),
            );
        }
    }
    group.finish();
    assert_eq!(
        idp.jwks_hits(),
        fetches_after_warm_up,
        "the warm path fetched keys during the measurement"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
