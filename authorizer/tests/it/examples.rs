//! The runnable configurations in `examples/*.json` (referenced from the README), each started
//! in the real binary under the Lambda Runtime API stand-in and shown to allow a real token.
//!
//! The examples trust `make local`'s dev issuer, `http://127.0.0.1:3000/` with audience
//! `local-api`, so a user can run them as shipped. Here that one address is replaced by a
//! stand-in IdP on an ephemeral loopback port (port 3000 may be taken on a shared machine); the
//! rest of each document is used byte for byte. Issuers that are only there to show their shape
//! (Auth0, Cognito) are never sent a token, so nothing leaves loopback.

use std::path::{Path, PathBuf};

use crate::common::{
    Decision, Format, Harness, assert_allowed, assert_allowed_event, assert_denied, binary, decide,
};
use serde_json::{Value, json};
use testkit::{JwksServer, RuntimeApi, TestKey, forge};

/// The dev issuer of `make local`, as written in the examples.
const DEV_ISSUER: &str = "http://127.0.0.1:3000/";
/// The dev issuer's audience.
const DEV_AUDIENCE: &str = "local-api";

/// Every example this file checks; a new example without a test fails
/// `every_example_is_checked`.
const CHECKED: [&str; 6] = [
    "claims-mapping.json",
    "dev-issuer.json",
    "hmac-secret.json",
    "path-rules.json",
    "several-issuers.json",
    "token-sources.json",
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn example(name: &str) -> String {
    let path = examples_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example with the dev issuer's address replaced by `idp`'s.
fn against(idp: &JwksServer, name: &str) -> String {
    let text = example(name);
    assert!(
        text.contains(DEV_ISSUER),
        "{name} no longer trusts the dev issuer {DEV_ISSUER}"
    );
    text.replace(DEV_ISSUER, &idp.issuer())
}

/// A key like the dev issuer's (ES256) and an IdP serving it.
fn dev_like_idp() -> (TestKey, JwksServer) {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    (key, idp)
}

/// Claims as the dev issuer mints them (`POST /dev/token`): `sub`, `scope`, `aud` `local-api`.
fn dev_claims(idp: &JwksServer, sub: &str, scope: &str) -> Value {
    let mut claims = testkit::claims(&idp.issuer(), DEV_AUDIENCE, sub);
    claims["scope"] = json!(scope);
    claims
}

#[test]
fn every_example_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples/ exists")
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    found.sort();
    assert_eq!(found, CHECKED, "examples/*.json and the tests in this file");
    for name in CHECKED {
        let document: Value = serde_json::from_str(&example(name))
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        assert!(document.is_object(), "{name} is a JSON object");
    }
}

#[test]
fn dev_issuer_example_allows_a_dev_token_in_every_format() {
    let (key, idp) = dev_like_idp();
    let config = against(&idp, "dev-issuer.json");
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG", &config)]);
    let token = harness.token(&key, &dev_claims(&harness.idp, "alice", "read:shows"));
    for format in Format::SIMPLE_PROCESS {
        let context = assert_allowed(format, harness.call(format, &token), "alice");
        assert_eq!(context["sub"], "alice", "{format:?}");
    }
    // Another audience is not accepted.
    let mut claims = dev_claims(&harness.idp, "alice", "");
    claims["aud"] = json!("another-api");
    let other = harness.token(&key, &claims);
    assert_denied(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &other),
        "wrong audience",
    );
    harness.assert_no_token_logged();
}

#[test]
fn dev_issuer_example_is_read_from_a_file_too() {
    // AUTHORIZER_CONFIG_FILE, as a function bundling the document would use it.
    let (key, idp) = dev_like_idp();
    let path = std::env::temp_dir().join(format!(
        "example-dev-issuer-{}.json",
        testkit::keys::random_id(6)
    ));
    std::fs::write(&path, against(&idp, "dev-issuer.json")).expect("write config file");
    let path_text = path.to_string_lossy().into_owned();
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG_FILE", &path_text)]);
    let token = harness.token(&key, &dev_claims(&harness.idp, "alice", ""));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "alice",
    );
    drop(harness);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn several_issuers_example_starts_and_allows_the_dev_issuers_token() {
    let (key, idp) = dev_like_idp();
    let config = against(&idp, "several-issuers.json");
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG", &config)]);
    let token = harness.token(&key, &dev_claims(&harness.idp, "alice", ""));
    for format in [Format::HttpV2Simple, Format::RestToken] {
        assert_allowed(format, harness.call(format, &token), "alice");
    }
    // A token from an issuer the document does not list is denied without any fetch.
    let stranger = TestKey::ec_p256();
    let foreign = harness.token(
        &stranger,
        &testkit::claims("https://stranger.example.com/", DEV_AUDIENCE, "mallory"),
    );
    let hits = harness.idp.total_hits();
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &foreign),
        "unlisted issuer",
    );
    assert_eq!(
        harness.idp.total_hits(),
        hits,
        "no fetch for an unlisted issuer"
    );
    // Once the process is gone, logs() has read its output to the end (no race with the pipe).
    harness.function.kill();
    assert!(
        harness.function.logs().contains("wrong_issuer"),
        "the deny reason is wrong_issuer"
    );
    harness.assert_no_token_logged();
}

#[test]
fn path_rules_example_opens_public_paths_and_scopes_shows() {
    let (key, idp) = dev_like_idp();
    let config = against(&idp, "path-rules.json");
    let harness = Harness::start_configured(
        idp,
        &[
            ("AUTHORIZER_CONFIG", &config),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ],
    );
    let reader = harness.token(&key, &dev_claims(&harness.idp, "alice", "read:shows"));
    let nobody = harness.token(&key, &dev_claims(&harness.idp, "bob", ""));
    let format = Format::HttpV2Simple;

    let public = format.at_route(format.event(None), "GET", "/public");
    assert_allowed_event(
        format,
        harness.function.invoke(public.clone()),
        None,
        &public,
    );
    let private = format.at_route(format.event(None), "GET", "/private");
    assert_denied(
        format,
        harness.function.invoke(private),
        "/private without a token",
    );

    let shows = |token: &str| format.at_route(format.bearer(token), "GET", "/shows");
    assert_allowed_event(
        format,
        harness.function.invoke(shows(&reader)),
        Some("alice"),
        &shows(&reader),
    );
    assert_eq!(
        decide(format, harness.function.invoke(shows(&nobody))),
        Decision::Forbidden,
        "GET /shows without read:shows"
    );
    let post = format.at_route(format.bearer(&reader), "POST", "/shows/179");
    assert_eq!(
        decide(format, harness.function.invoke(post)),
        Decision::Forbidden,
        "POST /shows/179 without write:shows"
    );
    harness.assert_no_token_logged();
}

#[test]
fn path_rules_example_refuses_to_start_with_the_answer_cache_on() {
    // The README says so: path rules need AuthorizerCacheTtlSeconds=0.
    let (_key, idp) = dev_like_idp();
    let config = against(&idp, "path-rules.json");
    let function = RuntimeApi::start(binary(), &[("AUTHORIZER_CONFIG", &config)]);
    let failure = function
        .init_error()
        .expect("init fails with route rules and an unknown cache TTL");
    assert!(
        failure.mentions("AUTHORIZER_CACHE_TTL_SECONDS"),
        "the error names the variable: {failure:?}"
    );
}

#[test]
fn token_sources_example_reads_header_query_and_cookie() {
    let (key, idp) = dev_like_idp();
    let config = against(&idp, "token-sources.json");
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG", &config)]);
    let token = harness.token(&key, &dev_claims(&harness.idp, "alice", ""));
    let format = Format::HttpV2Simple;

    assert_allowed(format, harness.call(format, &token), "alice");

    let mut query = format.event(None);
    query["queryStringParameters"] = json!({ "access_token": token });
    query["rawQueryString"] = json!(format!("access_token={token}"));
    assert_allowed(format, harness.function.invoke(query), "alice");

    let mut cookie = format.event(None);
    cookie["cookies"] = json!(["theme=dark", format!("session={token}")]);
    assert_allowed(format, harness.function.invoke(cookie), "alice");

    // The first source present decides: a bad header is not rescued by a good cookie.
    let mut both = format.bearer(&forge::flip_signature_bit(&token));
    both["cookies"] = json!([format!("session={token}")]);
    assert_denied(
        format,
        harness.function.invoke(both),
        "bad header, good cookie",
    );
    harness.assert_no_token_logged();
}

#[test]
fn claims_mapping_example_passes_only_the_listed_claims_renamed() {
    let (key, idp) = dev_like_idp();
    let config = against(&idp, "claims-mapping.json");
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG", &config)]);
    let mut claims = dev_claims(&harness.idp, "alice", "openid read:shows");
    claims["https://example.com/roles"] = json!(["admin", "editor"]);
    claims["email"] = json!("alice@example.com");
    claims["internal_note"] = json!("not for the routes");
    let token = harness.token(&key, &claims);
    let context = assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "alice",
    );
    assert_eq!(context["sub"], "alice");
    assert_eq!(context["scope"], "openid read:shows");
    assert_eq!(context["email"], "alice@example.com");
    assert_eq!(context["roles"], r#"["admin","editor"]"#);
    assert!(context.get("internal_note").is_none(), "{context}");
    assert!(
        context.get("https://example.com/roles").is_none(),
        "{context}"
    );
    harness.assert_no_token_logged();
}

#[test]
fn hmac_secret_example_runs_as_shipped_with_its_secret_variable() {
    // Used exactly as shipped (AUTHORIZER_CONFIG_FILE pointing into examples/): its issuer
    // fetches nothing, so no IdP is involved.
    let secret = testkit::keys::random_id(32);
    let path = examples_dir().join("hmac-secret.json");
    let path_text = path.to_string_lossy().into_owned();
    let unused_idp = JwksServer::start();
    let harness = Harness::start_configured(
        unused_idp,
        &[
            ("AUTHORIZER_CONFIG_FILE", &path_text),
            ("INTERNAL_JWT_SECRET", &secret),
        ],
    );
    let claims = testkit::claims("https://internal.example.com/", "internal-api", "billing");
    let header = json!({ "kid": "internal-2026", "typ": "JWT" });
    let token = harness.remember(&forge::hmac_signed(
        "HS256",
        secret.as_bytes(),
        &header,
        &claims,
    ));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "billing",
    );
    let forged = harness.remember(&forge::hmac_signed(
        "HS256",
        b"not-the-secret-but-just-as-long-as-one",
        &header,
        &claims,
    ));
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &forged),
        "another secret",
    );
    assert_eq!(
        harness.idp.total_hits(),
        0,
        "an HMAC-only issuer fetches nothing"
    );
    harness.function.kill();
    assert!(
        !harness.function.logs().contains(&secret),
        "the secret appears in the logs"
    );
    harness.assert_no_token_logged();
}

#[test]
fn hmac_secret_example_without_its_variable_names_it() {
    let path = examples_dir().join("hmac-secret.json");
    let path_text = path.to_string_lossy().into_owned();
    let function = RuntimeApi::start(binary(), &[("AUTHORIZER_CONFIG_FILE", &path_text)]);
    let failure = function
        .init_error()
        .expect("init fails without the secret");
    assert!(
        failure.mentions("INTERNAL_JWT_SECRET"),
        "the error names the variable: {failure:?}"
    );
}
