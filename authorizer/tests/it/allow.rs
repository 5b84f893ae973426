//! Valid tokens are allowed in every event format and with every algorithm, and the answer carries
//! the claims the way API Gateway needs them.

use crate::common::{AUDIENCE, Format, Harness, assert_allowed, assert_denied};
use serde_json::{Value, json};
use testkit::TestKey;

#[test]
fn valid_token_is_allowed_in_every_event_format() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("user-1"));
    for format in Format::SIMPLE_PROCESS {
        let context = assert_allowed(format, harness.call(format, &token), "user-1");
        assert_eq!(context["sub"], "user-1", "{format:?} context carries sub");
    }
    harness.assert_no_token_logged();
}

#[test]
fn iam_style_answers_http_api_v2_with_a_policy() {
    let key = TestKey::ed25519();
    let harness = Harness::start(&[&key], &[("AUTHORIZER_RESPONSE_STYLE", "iam")]);
    let token = harness.token(&key, &harness.claims("user-2"));
    let context = assert_allowed(
        Format::HttpV2Iam,
        harness.call(Format::HttpV2Iam, &token),
        "user-2",
    );
    assert_eq!(context["sub"], "user-2");
    // REST events are answered with policies whatever the HTTP API style.
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "user-2",
    );
    let bad = testkit::forge::flip_signature_bit(&token);
    assert_denied(
        Format::HttpV2Iam,
        harness.call(Format::HttpV2Iam, &bad),
        "bad signature",
    );
}

#[test]
fn every_supported_algorithm_is_allowed() {
    let rsa = TestKey::rsa2048();
    let keys: Vec<TestKey> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        .iter()
        .map(|alg| rsa.clone().with_alg(alg).with_kid(&format!("rsa-{alg}")))
        .chain([TestKey::ec_p256(), TestKey::ec_p384(), TestKey::ed25519()])
        .collect();
    let refs: Vec<&TestKey> = keys.iter().collect();
    let harness = Harness::start(&refs, &[]);
    for key in &keys {
        let token = harness.token(key, &harness.claims(&format!("sub-{}", key.alg())));
        for format in [Format::RestToken, Format::HttpV2Simple] {
            assert_allowed(
                format,
                harness.call(format, &token),
                &format!("sub-{}", key.alg()),
            );
        }
    }
    harness.assert_no_token_logged();
}

#[test]
fn es512_on_p521_is_allowed() {
    // Not in jsonwebtoken; the authorizer verifies P-521 itself.
    let key = TestKey::ec_p521();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("p521-user"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "p521-user",
    );
}

#[test]
fn key_without_alg_allows_algorithms_of_its_type() {
    let rsa = TestKey::rsa2048().with_kid("no-alg");
    let mut jwk = rsa.jwk();
    jwk.as_object_mut().expect("object").remove("alg");
    let harness = Harness::start(&[], &[]);
    harness.idp.set_jwks(json!({ "keys": [jwk] }));
    for alg in ["RS256", "PS256"] {
        let token = harness.remember(&rsa.clone().with_alg(alg).sign(&harness.claims("u")));
        assert_allowed(
            Format::RestToken,
            harness.call(Format::RestToken, &token),
            "u",
        );
    }
    // ... but never an HMAC algorithm.
    let forged = testkit::forge::key_confusion(&rsa, &harness.claims("mallory"));
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &forged),
        "HS256 on RSA key",
    );
}

#[test]
fn single_key_without_kid_serves_tokens_without_kid() {
    let key = TestKey::ec_p256();
    let mut jwk = key.jwk();
    jwk.as_object_mut().expect("object").remove("kid");
    let harness = Harness::start(&[], &[]);
    harness.idp.set_jwks(json!({ "keys": [jwk] }));
    let token = harness.remember(&key.sign_with_header(
        &json!({"alg": "ES256", "typ": "JWT"}),
        &harness.claims("no-kid"),
    ));
    assert_allowed(
        Format::RestRequest,
        harness.call(Format::RestRequest, &token),
        "no-kid",
    );
}

#[test]
fn token_without_kid_is_denied_when_several_keys_are_published() {
    let a = TestKey::ec_p256();
    let b = TestKey::ec_p256();
    let harness = Harness::start(&[&a, &b], &[]);
    let token = harness.remember(&a.sign_with_header(
        &json!({"alg": "ES256", "typ": "JWT"}),
        &harness.claims("no-kid"),
    ));
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "no kid, two keys",
    );
}

#[test]
fn context_flattens_claims_for_api_gateway() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let mut claims = harness.claims("auth0|abc");
    claims["scope"] = json!("read:shows write:shows");
    claims["permissions"] = json!(["read:shows", "admin"]);
    claims["email_verified"] = json!(true);
    claims["org"] = json!({"id": "o1", "roles": ["a"]});
    claims["n"] = json!(42);
    let token = harness.token(&key, &claims);
    for format in Format::SIMPLE_PROCESS {
        let context = assert_allowed(format, harness.call(format, &token), "auth0|abc");
        assert_eq!(context["scope"], "read:shows write:shows", "{format:?}");
        assert_eq!(context["email_verified"], true, "{format:?}");
        assert_eq!(context["n"], 42, "{format:?}");
        // Arrays and objects are JSON strings (API Gateway rejects nested context values).
        let permissions: Value = serde_json::from_str(
            context["permissions"]
                .as_str()
                .expect("permissions as a JSON string"),
        )
        .expect("JSON");
        assert_eq!(permissions, json!(["read:shows", "admin"]), "{format:?}");
        let org: Value =
            serde_json::from_str(context["org"].as_str().expect("org as a JSON string"))
                .expect("JSON");
        assert_eq!(org, json!({"id": "o1", "roles": ["a"]}), "{format:?}");
        assert!(
            context
                .as_object()
                .expect("object")
                .values()
                .all(|v| !v.is_array() && !v.is_object()),
            "{format:?}: context values must be flat: {context}"
        );
    }
}

#[test]
fn audience_list_and_array_aud_are_accepted() {
    let key = TestKey::ec_p256();
    let audiences = format!("https://other.example,{AUDIENCE}");
    let harness = Harness::start(&[&key], &[("JWT_AUDIENCE", &audiences)]);
    let mut claims = harness.claims("u");
    claims["aud"] = json!(["https://unrelated.example", AUDIENCE]);
    let token = harness.token(&key, &claims);
    assert_allowed(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &token),
        "u",
    );
}

#[test]
fn header_name_and_scheme_are_case_insensitive() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("u"));
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let value = format!("{scheme} {token}");
        assert_allowed(
            Format::RestToken,
            harness
                .function
                .invoke(Format::RestToken.event(Some(&value))),
            "u",
        );
        for header in ["authorization", "AUTHORIZATION"] {
            let mut event = Format::RestRequest.event(None);
            event["headers"][header] = json!(value);
            event["multiValueHeaders"][header] = json!([value]);
            assert_allowed(Format::RestRequest, harness.function.invoke(event), "u");
        }
    }
}

#[test]
fn leeway_accepts_a_recently_expired_token() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[("JWT_LEEWAY_SECONDS", "120")]);
    let mut claims = harness.claims("u");
    claims["exp"] = json!(testkit::now() - 30);
    let token = harness.token(&key, &claims);
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    claims["exp"] = json!(testkit::now() - 600);
    let old = harness.token(&key, &claims);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &old),
        "expired beyond leeway",
    );
}

#[test]
fn discovery_is_used_and_issuer_without_trailing_slash_works() {
    // Cognito-style issuer (no trailing slash): discovery must join paths correctly.
    let key = TestKey::ec_p256();
    let idp = testkit::JwksServer::start_with(&[&key]);
    let issuer = idp.issuer_without_slash();
    let harness = Harness::start_with_idp(idp, &[("JWT_ISSUER", &issuer)]);
    let mut claims = harness.claims("u");
    claims["iss"] = json!(issuer);
    let token = harness.token(&key, &claims);
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    assert!(harness.idp.jwks_hits() >= 1);
    assert_eq!(harness.idp.hits("//.well-known/jwks.json"), 0);
}
