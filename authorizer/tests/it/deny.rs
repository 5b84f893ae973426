//! Every forgery class and every invalid claim is denied, in every event format, with the deny
//! API Gateway's contract asks for (never an allow, never a 500), and without fetching anything a
//! token points at.

use crate::common::{AUDIENCE, Format, Harness, assert_allowed, assert_denied};
use serde_json::json;
use testkit::{TestKey, forge};

/// Sends `token` in every format of a default-style process and expects a deny each time.
fn denied_everywhere(harness: &Harness, token: &str, what: &str) {
    for format in Format::SIMPLE_PROCESS {
        assert_denied(format, harness.call(format, token), what);
    }
}

#[test]
fn alg_none_is_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let claims = harness.claims("mallory");
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = forge::alg_none(alg, Some(key.kid()), &claims);
        denied_everywhere(&harness, &token, &format!("alg {alg}"));
        // With a stolen genuine signature appended, too.
        let genuine = key.sign(&claims);
        let (_, sig) = genuine.rsplit_once('.').expect("JWS");
        denied_everywhere(
            &harness,
            &format!("{token}{sig}"),
            "alg none with a signature",
        );
    }
    harness.assert_no_token_logged();
}

#[test]
fn hmac_key_confusion_is_denied() {
    let rsa = TestKey::rsa2048();
    let ec = TestKey::ec_p256();
    let harness = Harness::start(&[&rsa, &ec], &[]);
    for key in [&rsa, &ec] {
        for (label, token) in forge::key_confusion_variants(key, &harness.claims("mallory")) {
            denied_everywhere(&harness, &token, label);
        }
    }
    harness.assert_no_token_logged();
}

#[test]
fn alg_not_allowed_by_the_key_is_denied() {
    // The key is published for RS256; a genuine PS256 signature by the same key must not pass.
    let rsa = TestKey::rsa2048();
    let harness = Harness::start(&[&rsa], &[]);
    let claims = harness.claims("mallory");
    let ps256 = rsa.clone().with_alg("PS256").sign(&claims);
    denied_everywhere(&harness, &ps256, "PS256 on an RS256 key");
    let rs512 = rsa.clone().with_alg("RS512").sign(&claims);
    denied_everywhere(&harness, &rs512, "RS512 on an RS256 key");
    // A label that does not match the signature either.
    let mislabelled = forge::mislabelled_alg(&rsa, "ES256", &claims);
    denied_everywhere(&harness, &mislabelled, "ES256 label on an RSA signature");
    // The genuine RS256 token passes, so the denials above are about the algorithm.
    let good = harness.token(&rsa, &claims);
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &good),
        "mallory",
    );
}

#[test]
fn crit_header_is_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let claims = harness.claims("u");
    for crit in [
        json!(["exp"]),
        json!(["urn:example:unknown"]),
        json!([]),
        json!("b64"),
    ] {
        let token = key.sign_with_extra_header(&json!({ "crit": crit, "b64": false }), &claims);
        denied_everywhere(&harness, &token, &format!("crit {crit}"));
    }
}

#[test]
fn key_injection_headers_are_not_followed() {
    let genuine = TestKey::ec_p256();
    let attacker = TestKey::ec_p256().with_kid("attacker");
    let harness = Harness::start(&[&genuine], &[]);
    let claims = harness.claims("mallory");
    let evil_jwks = harness.idp.url("/attacker/jwks.json");
    let evil_cert = harness.idp.url("/attacker/cert.pem");
    let attempts = [
        ("jku", json!({ "jku": evil_jwks })),
        ("x5u", json!({ "x5u": evil_cert })),
        ("jwk", json!({ "jwk": attacker.jwk() })),
        (
            "jku+jwk",
            json!({ "jku": evil_jwks, "jwk": attacker.jwk() }),
        ),
    ];
    for (label, extra) in attempts {
        let token = attacker.sign_with_extra_header(&extra, &claims);
        denied_everywhere(&harness, &token, label);
        // Same header on the attacker key but claiming the genuine kid.
        let mut header = attacker.header();
        header["kid"] = json!(genuine.kid());
        for (k, v) in extra.as_object().expect("object") {
            header[k] = v.clone();
        }
        let token = attacker.sign_with_header(&header, &claims);
        denied_everywhere(&harness, &token, &format!("{label} with genuine kid"));
    }
    assert_eq!(
        harness.idp.hits("/attacker/jwks.json"),
        0,
        "jku was fetched"
    );
    assert_eq!(harness.idp.hits("/attacker/cert.pem"), 0, "x5u was fetched");
}

#[test]
fn x5c_header_is_not_trusted() {
    let genuine = TestKey::ec_p256();
    let attacker = TestKey::ec_p256();
    let harness = Harness::start(&[&genuine], &[]);
    let der = testkit::keys::b64url(&attacker.public_key_der());
    let mut header = attacker.header();
    header["kid"] = json!(genuine.kid());
    header["x5c"] = json!([der]);
    let token = attacker.sign_with_header(&header, &harness.claims("mallory"));
    denied_everywhere(&harness, &token, "x5c");
}

#[test]
fn wrong_kid_and_signature_by_another_key_are_denied() {
    let genuine = TestKey::ec_p256();
    let harness = Harness::start(&[&genuine], &[]);
    let claims = harness.claims("mallory");
    let impostor_same_kid = TestKey::ec_p256().with_kid(genuine.kid());
    denied_everywhere(
        &harness,
        &impostor_same_kid.sign(&claims),
        "impostor with genuine kid",
    );
    denied_everywhere(
        &harness,
        &genuine.clone().with_kid("unknown").sign(&claims),
        "unknown kid",
    );
}

#[test]
fn tampered_tokens_are_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("alice"));
    let mut admin = harness.claims("admin");
    admin["scope"] = json!("admin");
    denied_everywhere(
        &harness,
        &forge::tamper_payload(&token, &admin),
        "tampered payload",
    );
    denied_everywhere(
        &harness,
        &forge::flip_signature_bit(&token),
        "flipped signature bit",
    );
    for stripped in forge::strip_signature(&token) {
        denied_everywhere(&harness, &stripped, "stripped signature");
    }
    harness.assert_no_token_logged();
}

#[test]
fn time_claims_are_enforced() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let now = testkit::now();
    let mut expired = harness.claims("u");
    expired["exp"] = json!(now - 5);
    denied_everywhere(&harness, &harness.token(&key, &expired), "expired");
    let mut future = harness.claims("u");
    future["nbf"] = json!(now + 600);
    denied_everywhere(&harness, &harness.token(&key, &future), "nbf in the future");
    let mut no_exp = harness.claims("u");
    no_exp.as_object_mut().expect("object").remove("exp");
    denied_everywhere(&harness, &harness.token(&key, &no_exp), "no exp");
    let mut string_exp = harness.claims("u");
    string_exp["exp"] = json!((now + 300).to_string());
    denied_everywhere(
        &harness,
        &harness.token(&key, &string_exp),
        "exp as a string",
    );
}

#[test]
fn issuer_must_match_exactly() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let issuer = harness.idp.issuer();
    for wrong in [
        "https://evil.example/".to_owned(),
        issuer.trim_end_matches('/').to_owned(),
        format!("{issuer}x"),
        issuer.to_uppercase(),
    ] {
        let mut claims = harness.claims("u");
        claims["iss"] = json!(wrong);
        denied_everywhere(
            &harness,
            &harness.token(&key, &claims),
            &format!("iss {wrong}"),
        );
    }
    let mut claims = harness.claims("u");
    claims.as_object_mut().expect("object").remove("iss");
    denied_everywhere(&harness, &harness.token(&key, &claims), "no iss");
}

#[test]
fn audience_must_match() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    for wrong in [
        json!("https://other.example"),
        json!([]),
        json!(["https://other.example"]),
        json!(format!("{AUDIENCE}/")),
    ] {
        let mut claims = harness.claims("u");
        claims["aud"] = wrong.clone();
        denied_everywhere(
            &harness,
            &harness.token(&key, &claims),
            &format!("aud {wrong}"),
        );
    }
    let mut claims = harness.claims("u");
    claims.as_object_mut().expect("object").remove("aud");
    denied_everywhere(&harness, &harness.token(&key, &claims), "no aud");
}

#[test]
fn cognito_token_use_and_client_id_rules() {
    const POOL: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool";
    const CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
    let key = TestKey::rsa2048();
    let idp = testkit::JwksServer::start_with(&[&key]);
    let jwks_uri = idp.jwks_uri();
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWT_ISSUER", POOL),
            ("JWT_AUDIENCE", CLIENT),
            ("JWKS_URI", &jwks_uri),
        ],
    );
    let now = testkit::now();
    let access = json!({
        "iss": POOL, "sub": "c0gn170", "token_use": "access", "client_id": CLIENT,
        "scope": "aws.cognito.signin.user.admin", "iat": now, "exp": now + 300,
    });
    let context = assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &harness.token(&key, &access)),
        "c0gn170",
    );
    assert_eq!(context["client_id"], CLIENT);

    let mut wrong_client = access.clone();
    wrong_client["client_id"] = json!("someotherclient");
    denied_everywhere(
        &harness,
        &harness.token(&key, &wrong_client),
        "wrong client_id",
    );

    let mut no_token_use = access.clone();
    no_token_use
        .as_object_mut()
        .expect("object")
        .remove("token_use");
    denied_everywhere(
        &harness,
        &harness.token(&key, &no_token_use),
        "no token_use",
    );

    // An id token is not accepted by default (COGNITO_TOKEN_USE=access).
    let id = json!({
        "iss": POOL, "sub": "c0gn170", "token_use": "id", "aud": CLIENT,
        "iat": now, "exp": now + 300,
    });
    denied_everywhere(
        &harness,
        &harness.token(&key, &id),
        "id token when access is required",
    );
    // The JWKS_URI was used, the (unreachable) Cognito issuer never.
    assert!(harness.idp.jwks_hits() >= 1);
}

#[test]
fn cognito_id_tokens_when_configured() {
    const POOL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_IdPool";
    const CLIENT: &str = "idclient";
    let key = TestKey::ec_p256();
    let idp = testkit::JwksServer::start_with(&[&key]);
    let jwks_uri = idp.jwks_uri();
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWT_ISSUER", POOL),
            ("JWT_AUDIENCE", CLIENT),
            ("JWKS_URI", &jwks_uri),
            ("COGNITO_TOKEN_USE", "id"),
        ],
    );
    let now = testkit::now();
    let id = json!({
        "iss": POOL, "sub": "u", "token_use": "id", "aud": CLIENT, "iat": now, "exp": now + 300,
    });
    assert_allowed(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &harness.token(&key, &id)),
        "u",
    );
    let mut wrong_aud = id.clone();
    wrong_aud["aud"] = json!("other");
    denied_everywhere(
        &harness,
        &harness.token(&key, &wrong_aud),
        "id token, wrong aud",
    );
    let access = json!({
        "iss": POOL, "sub": "u", "token_use": "access", "client_id": CLIENT,
        "iat": now, "exp": now + 300,
    });
    denied_everywhere(
        &harness,
        &harness.token(&key, &access),
        "access token when id is required",
    );
}

#[test]
fn oversized_and_garbage_tokens_are_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let claims = harness.claims("u");
    denied_everywhere(
        &harness,
        &forge::oversized(&key, &claims, 17 * 1024),
        "17 KiB token",
    );
    denied_everywhere(
        &harness,
        &forge::oversized(&key, &claims, 1024 * 1024),
        "1 MiB token",
    );
    for (label, token) in forge::garbage_tokens(&key, &claims) {
        denied_everywhere(&harness, &token, label);
    }
    assert!(harness.function.is_running());
}

#[test]
fn missing_token_wrong_scheme_and_two_tokens_are_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("u"));
    let other = harness.token(&key, &harness.claims("v"));
    for format in Format::SIMPLE_PROCESS {
        assert_denied(
            format,
            harness.function.invoke(format.event(None)),
            "missing token",
        );
        for value in [
            String::new(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            token.clone(),
            format!("Basic {token}"),
            format!("Token {token}"),
            format!("Bearer{token}"),
            format!("Bearer {token} {other}"),
            format!("Bearer {token}, Bearer {other}"),
            format!("Bearer {token},{other}"),
        ] {
            if format == Format::RestToken && value == token {
                // A TOKEN authorizer may be configured to accept the bare token; not asserted.
                continue;
            }
            assert_denied(
                format,
                harness.function.invoke(format.event(Some(&value))),
                &value.chars().take(12).collect::<String>(),
            );
        }
    }
    // Two Authorization headers (different case) in one REQUEST event.
    // (API Gateway lists both in `headers` and in `multiValueHeaders`.)
    let mut event = Format::RestRequest.bearer(&token);
    event["headers"]["authorization"] = json!(format!("Bearer {other}"));
    event["multiValueHeaders"]["authorization"] = json!([format!("Bearer {other}")]);
    assert_denied(
        Format::RestRequest,
        harness.function.invoke(event),
        "two Authorization headers",
    );
    // Two values of the header in multiValueHeaders.
    let mut event = Format::RestRequest.bearer(&token);
    event["multiValueHeaders"]["Authorization"] =
        json!([format!("Bearer {token}"), format!("Bearer {other}")]);
    assert_denied(
        Format::RestRequest,
        harness.function.invoke(event),
        "two header values",
    );
    harness.assert_no_token_logged();
}

#[test]
fn symmetric_and_encryption_keys_in_the_jwks_are_never_used() {
    let good = TestKey::ec_p256();
    let enc = TestKey::rsa2048().with_kid("enc-key");
    let mut enc_jwk = enc.jwk();
    enc_jwk["use"] = json!("enc");
    enc_jwk["alg"] = json!("RSA-OAEP");
    let secret = b"a-public-jwks-is-public";
    let harness = Harness::start(&[], &[]);
    harness.idp.set_jwks(json!({ "keys": [
        { "kty": "oct", "kid": "sym", "alg": "HS256", "k": testkit::keys::b64url(secret) },
        enc_jwk,
        { "kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB" },
        { "kty": "EC", "kid": "bad-curve", "crv": "P-192", "x": "AA", "y": "AA" },
        { "kty": "whatever", "kid": "odd" },
        42,
        "not a key",
        good.jwk(),
    ]}));
    let claims = harness.claims("mallory");
    // A published symmetric key is no secret: an HS256 token under it must not pass.
    let hs = forge::hmac_signed(
        "HS256",
        secret,
        &json!({"kid": "sym", "typ": "JWT"}),
        &claims,
    );
    denied_everywhere(&harness, &hs, "HS256 with a JWKS oct key");
    let rs = enc.clone().with_alg("RS256").sign(&claims);
    denied_everywhere(&harness, &rs, "signature by a key published for encryption");
    // Unusable entries are skipped, not fatal: the good key still works.
    let token = harness.token(&good, &harness.claims("u"));
    for format in Format::SIMPLE_PROCESS {
        assert_allowed(format, harness.call(format, &token), "u");
    }
}

#[test]
fn deeply_nested_and_odd_json_does_not_crash_the_process() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    // 5000 nested arrays: under the 16 KiB token limit once encoded, far beyond any sane depth.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let nested_payload = key.sign_raw(&key.header(), deep.as_bytes());
    denied_everywhere(&harness, &nested_payload, "deeply nested payload");
    let mut claims = harness.claims("u");
    claims["deep"] = json!(0);
    let text = claims
        .to_string()
        .replace("\"deep\":0", &format!("\"deep\":{deep}"));
    let nested_claim = key.sign_raw(&key.header(), text.as_bytes());
    let answer = harness.call(Format::RestToken, &nested_claim);
    assert!(
        !matches!(
            crate::common::decide(Format::RestToken, answer.clone()),
            crate::common::Decision::OtherError(_) | crate::common::Decision::Malformed(_)
        ),
        "nested claim: {answer:?}"
    );
    let header_text = format!(r#"{{"alg":"ES256","kid":"{}","x":{deep}}}"#, key.kid());
    let input = format!(
        "{}.{}",
        testkit::keys::b64url(header_text.as_bytes()),
        testkit::keys::b64url(harness.claims("u").to_string().as_bytes())
    );
    let nested_header = format!(
        "{input}.{}",
        testkit::keys::b64url(&key.signature("ES256", input.as_bytes()))
    );
    let answer = harness.call(Format::RestToken, &nested_header);
    assert!(
        !matches!(
            crate::common::decide(Format::RestToken, answer.clone()),
            crate::common::Decision::OtherError(_) | crate::common::Decision::Malformed(_)
        ),
        "nested header: {answer:?}"
    );
    for (label, exp) in [
        ("huge exp", "1e400"),
        ("negative exp", "-1"),
        ("float exp", "1.5"),
        ("u64 overflow", "99999999999999999999999"),
    ] {
        let base = harness.claims("u");
        let original = base.to_string();
        let text = original.replacen(
            &format!("\"exp\":{}", base["exp"]),
            &format!("\"exp\":{exp}"),
            1,
        );
        assert_ne!(text, original, "exp replaced");
        let token = key.sign_raw(&key.header(), text.as_bytes());
        let answer = harness.call(Format::RestToken, &token);
        assert!(
            !matches!(
                crate::common::decide(Format::RestToken, answer.clone()),
                crate::common::Decision::OtherError(_) | crate::common::Decision::Malformed(_)
            ),
            "{label}: {answer:?}"
        );
        // Past dates must deny; absurd far-future ones are the signer's business (no crash).
        if matches!(exp, "-1" | "1.5") {
            assert_denied(Format::RestToken, answer, label);
        }
    }
    // A very long kid is an unknown kid: a deny, not a crash or a fetch per request.
    let long_kid = key
        .clone()
        .with_kid(&"k".repeat(8000))
        .sign(&harness.claims("u"));
    denied_everywhere(&harness, &long_kid, "8000-byte kid");
    assert!(harness.function.is_running());
}
