//! The minted tokens are real: jsonwebtoken verifies them against the exported JWKs, and each
//! forgery is what it claims to be.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};
use testkit::{TestKey, claims, forge};

const ISS: &str = "https://issuer.example/";
const AUD: &str = "api://test";

fn validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation
}

fn verify(token: &str, key: &DecodingKey, alg: Algorithm) -> jsonwebtoken::errors::Result<Value> {
    decode::<Value>(token, key, &validation(alg)).map(|data| data.claims)
}

#[test]
fn every_algorithm_verifies_against_its_exported_jwk() {
    let rsa = TestKey::rsa2048();
    let keys = [
        (rsa.clone(), Algorithm::RS256),
        (rsa.clone().with_alg("RS384"), Algorithm::RS384),
        (rsa.clone().with_alg("RS512"), Algorithm::RS512),
        (rsa.clone().with_alg("PS256"), Algorithm::PS256),
        (rsa.clone().with_alg("PS384"), Algorithm::PS384),
        (rsa.with_alg("PS512"), Algorithm::PS512),
        (TestKey::ec_p256(), Algorithm::ES256),
        (TestKey::ec_p384(), Algorithm::ES384),
        (TestKey::ed25519(), Algorithm::EdDSA),
    ];
    for (key, alg) in keys {
        let token = key.sign(&claims(ISS, AUD, "user-1"));
        let header = decode_header(&token).expect("header decodes");
        assert_eq!(header.alg, alg);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        let verified = verify(&token, &key.decoding_key(), alg)
            .unwrap_or_else(|e| panic!("{} token must verify: {e}", key.alg()));
        assert_eq!(verified["sub"], "user-1");
    }
}

#[test]
fn exported_jwk_has_kid_alg_use_and_no_private_parts() {
    let key = TestKey::ec_p256().with_kid("k1");
    let jwk = key.jwk();
    assert_eq!(jwk["kid"], "k1");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(
        jwk.get("d").is_none(),
        "private scalar must not be published"
    );
    let rsa = TestKey::rsa2048().jwk();
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["e"], "AQAB");
    assert!(rsa.get("d").is_none() && rsa.get("p").is_none());
    let p521 = TestKey::ec_p521().jwk();
    assert_eq!(p521["crv"], "P-521");
    assert_eq!(p521["alg"], "ES512");
}

#[test]
fn token_signed_by_another_key_with_same_kid_does_not_verify() {
    let genuine = TestKey::ec_p256().with_kid("shared");
    let impostor = TestKey::ec_p256().with_kid("shared");
    let token = impostor.sign(&claims(ISS, AUD, "mallory"));
    assert!(verify(&token, &genuine.decoding_key(), Algorithm::ES256).is_err());
}

#[test]
fn key_confusion_token_is_a_valid_hmac_over_the_public_pem() {
    // The forgery only proves something if a naive verifier would accept it.
    let key = TestKey::rsa2048();
    let token = forge::key_confusion(&key, &claims(ISS, AUD, "mallory"));
    let naive = DecodingKey::from_secret(key.public_key_pem().as_bytes());
    verify(&token, &naive, Algorithm::HS256).expect("HMAC with the PEM as secret verifies");
    assert!(verify(&token, &key.decoding_key(), Algorithm::RS256).is_err());
    assert_eq!(
        decode_header(&token).expect("header").kid.as_deref(),
        Some(key.kid())
    );
}

#[test]
fn alg_none_token_has_empty_signature_and_is_rejected() {
    let key = TestKey::ed25519();
    let token = forge::alg_none("none", Some(key.kid()), &claims(ISS, AUD, "mallory"));
    assert!(token.ends_with('.'));
    assert_eq!(token.split('.').count(), 3);
    assert!(verify(&token, &key.decoding_key(), Algorithm::EdDSA).is_err());
}

#[test]
fn tampered_payload_keeps_signature_and_fails() {
    let key = TestKey::ec_p256();
    let token = key.sign(&claims(ISS, AUD, "alice"));
    let tampered = forge::tamper_payload(&token, &claims(ISS, AUD, "admin"));
    assert_eq!(token.rsplit('.').next(), tampered.rsplit('.').next());
    assert!(verify(&tampered, &key.decoding_key(), Algorithm::ES256).is_err());
    let flipped = forge::flip_signature_bit(&token);
    assert!(verify(&flipped, &key.decoding_key(), Algorithm::ES256).is_err());
}

#[test]
fn extra_header_fields_are_signed_into_the_token() {
    let key = TestKey::ec_p256();
    let token = key.sign_with_extra_header(
        &json!({"jku": "http://127.0.0.1:1/evil.json", "crit": ["exp"]}),
        &claims(ISS, AUD, "alice"),
    );
    let header = decode_header(&token).expect("header decodes");
    assert_eq!(header.jku.as_deref(), Some("http://127.0.0.1:1/evil.json"));
    // Still a genuine signature: only the header content makes it suspect.
    verify(&token, &key.decoding_key(), Algorithm::ES256).expect("signature is genuine");
}

#[test]
fn mislabelled_alg_does_not_verify_under_the_label() {
    let key = TestKey::rsa2048();
    let token = forge::mislabelled_alg(&key, "PS256", &claims(ISS, AUD, "alice"));
    assert!(verify(&token, &key.decoding_key(), Algorithm::PS256).is_err());
}

#[test]
fn oversized_token_exceeds_requested_length_and_is_validly_signed() {
    let key = TestKey::ec_p256();
    let token = forge::oversized(&key, &claims(ISS, AUD, "alice"), 16 * 1024);
    assert!(token.len() > 16 * 1024);
    verify(&token, &key.decoding_key(), Algorithm::ES256).expect("signature is genuine");
}

#[test]
fn garbage_tokens_never_verify() {
    let key = TestKey::ec_p256();
    let claims = claims(ISS, AUD, "alice");
    for (label, token) in forge::garbage_tokens(&key, &claims) {
        assert!(
            verify(&token, &key.decoding_key(), Algorithm::ES256).is_err(),
            "{label} must not verify"
        );
    }
}

#[test]
fn claims_helper_is_currently_valid() {
    let c = claims(ISS, AUD, "alice");
    let now = testkit::now();
    assert!(c["exp"].as_i64().expect("exp") > now);
    assert!(c["nbf"].as_i64().expect("nbf") <= now);
}
