//! What the issuer and claim policy (issue 15) costs on the warm path: `Authorizer::handle` for a
//! REST TOKEN event with an issuer without policy, against the same token through an issuer with
//! every rule on (RFC 9068 profile, maximum lifetime, three claim rules, `principal_claims`, the
//! usage-plan key, and a route claim rule), in the same run. The policy is a few map lookups
//! after the signature check, so the two should be within noise of each other.
//!
//! Run: `cargo bench -p authorizer --bench policy`

#[path = "../tests/it/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use authorizer::Authorizer;
use common::{AUDIENCE, Format};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use testkit::{JwksServer, TestKey};

fn authorizer_for(document: &Value, runtime: &tokio::runtime::Runtime) -> Authorizer {
    let text = document.to_string();
    support::warm_authorizer(
        |key| match key {
            "AUTHORIZER_CONFIG" => Some(text.clone()),
            "AUTHORIZER_CACHE_TTL_SECONDS" => Some("0".to_owned()),
            _ => None,
        },
        runtime,
    )
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let key = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&key]);
    let mut claims = testkit::claims(&idp.issuer(), AUDIENCE, "auth0|5f7c8ec7c33c6c004bbafe82");
    claims["client_id"] = json!("8Q9uxmt3tLbY1yGvT5xm4g3e2Pp8pQkA");
    claims["jti"] = json!("0f8c2d9e-3b1a-4c5d-9e7f-1a2b3c4d5e6f");
    claims["scope"] = json!("openid profile email read:shows");
    claims["email"] = json!("ann@example.com");
    claims["email_verified"] = json!(true);
    claims["amr"] = json!(["pwd", "mfa"]);
    claims["https://example.com/plan"] = json!("gold");
    claims["https://example.com/api_key"] = json!("k3y-of-at-least-twenty-characters");
    claims["cognito:groups"] = json!(["admin"]);
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": key.kid()});
    let token = key.sign_with_header(&header, &claims);

    let plain = authorizer_for(
        &json!({"issuers": [{"issuer": idp.issuer(), "audience": AUDIENCE}]}),
        &runtime,
    );
    let with_policy = authorizer_for(
        &json!({
            "issuers": [{
                "issuer": idp.issuer(), "audience": AUDIENCE,
                "rfc9068": {"require_claims": true},
                "max_lifetime_seconds": 3600, "require_iat": true,
                "claim_rules": [{"claim": "email_verified", "equals": true},
                                {"claim": "amr", "contains": "mfa"},
                                {"claim": "https://example.com/plan", "one_of": ["gold", "silver"]}],
                "principal_claims": ["email", "sub"],
                "usage_identifier_claim": "https://example.com/api_key",
            }],
            "route_claim_rules": {"DELETE /shows/*": [{"claim": "cognito:groups", "contains": "admin"}]},
        }),
        &runtime,
    );
    let fetches_after_warm_up = idp.jwks_hits();

    let mut group = c.benchmark_group("policy");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    let event = Format::RestToken.bearer(&token);
    for (name, authorizer) in [("no_policy", &plain), ("every_rule", &with_policy)] {
        let id = format!("handle/rest_token/{name}");
        support::bench_handle(
            &mut group,
            &id,
            &runtime,
            authorizer,
            Format::RestToken,
            &event,
        );
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
