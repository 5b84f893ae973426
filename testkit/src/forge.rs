//! Tokens a correct verifier must reject, including the ones jsonwebtoken refuses to produce.
//!
//! Each helper builds one attack class from RFC 8725 / known JWT library bugs. They return plain
//! strings so they can go anywhere a token goes (an `Authorization` header, `authorizationToken`).

use aws_lc_rs::hmac;
use serde_json::{Value, json};

use crate::keys::{TestKey, b64url};

fn segment(value: &Value) -> String {
    b64url(&serde_json::to_vec(value).expect("JSON serialises"))
}

/// An unsigned token: header `{"alg": <alg>, "typ": "JWT", "kid"}` and an empty signature.
/// Try `none`, `None`, `NONE`, `nOnE`: some libraries once compared case-sensitively.
pub fn alg_none(alg: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    format!("{}.{}.", segment(&header), segment(claims))
}

/// A token MACed with `alg` (HS256/384/512) and the given secret, with the given header.
///
/// # Panics
/// If `alg` is not an HMAC algorithm.
pub fn hmac_signed(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("{other} is not an HMAC algorithm"),
    };
    let mut header = header.clone();
    header["alg"] = json!(alg);
    let input = format!("{}.{}", segment(&header), segment(claims));
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

/// The classic key-confusion attack: HS256 with the victim key's public PEM as the HMAC secret,
/// under the victim key's `kid`. A verifier that takes the algorithm from the token accepts it.
pub fn key_confusion(key: &TestKey, claims: &Value) -> String {
    hmac_signed(
        "HS256",
        key.public_key_pem().as_bytes(),
        &key.header(),
        claims,
    )
}

/// Key confusion variants with other encodings of the public key as the secret (DER SPKI, and the
/// JWK's JSON), in case a verifier turns a JWK into bytes some other way.
pub fn key_confusion_variants(key: &TestKey, claims: &Value) -> Vec<(&'static str, String)> {
    let header = key.header();
    vec![
        (
            "hs256-pem",
            hmac_signed("HS256", key.public_key_pem().as_bytes(), &header, claims),
        ),
        (
            "hs256-der",
            hmac_signed("HS256", &key.public_key_der(), &header, claims),
        ),
        (
            "hs256-jwk-json",
            hmac_signed(
                "HS256",
                &serde_json::to_vec(&key.jwk()).expect("JWK serialises"),
                &header,
                claims,
            ),
        ),
        (
            "hs512-pem",
            hmac_signed("HS512", key.public_key_pem().as_bytes(), &header, claims),
        ),
    ]
}

/// A token whose header says `header_alg` but whose signature is the key's own algorithm (e.g. an
/// RS256 signature presented as PS256, or an RSA key's signature labelled ES256).
pub fn mislabelled_alg(key: &TestKey, header_alg: &str, claims: &Value) -> String {
    let mut header = key.header();
    header["alg"] = json!(header_alg);
    key.sign_with_header(&header, claims)
}

/// Replaces the payload of a genuinely signed token, keeping its header and signature.
///
/// # Panics
/// If `token` does not have three segments.
pub fn tamper_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS");
    format!("{}.{}.{}", parts[0], segment(claims), parts[2])
}

/// Flips one bit in the middle of the signature.
///
/// # Panics
/// If `token` does not have three segments.
pub fn flip_signature_bit(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("not a compact JWS");
    let mut bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig)
        .expect("signature is base64url");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    format!("{input}.{}", b64url(&bytes))
}

/// The token with its signature segment removed (`header.payload.`) and without its last dot.
pub fn strip_signature(token: &str) -> Vec<String> {
    let (input, _) = token.rsplit_once('.').expect("not a compact JWS");
    vec![format!("{input}."), input.to_owned()]
}

/// A validly signed token longer than `min_len` bytes (padded with a filler claim).
pub fn oversized(key: &TestKey, claims: &Value, min_len: usize) -> String {
    let mut claims = claims.clone();
    // base64 grows 4/3, so this many filler bytes always exceed min_len once encoded.
    claims["filler"] = json!("x".repeat(min_len));
    key.sign(&claims)
}

/// Malformed tokens, each with a label saying what is wrong. None of them can verify.
pub fn garbage_tokens(key: &TestKey, claims: &Value) -> Vec<(&'static str, String)> {
    let good = key.sign(claims);
    let parts: Vec<&str> = good.split('.').collect();
    let header = parts[0];
    let payload = parts[1];
    let sig = parts[2];
    vec![
        ("empty", String::new()),
        ("one segment", "abc".to_owned()),
        ("two segments", format!("{header}.{payload}")),
        ("four segments", format!("{good}.{sig}")),
        (
            "five segments (JWE shape)",
            format!("{header}.{payload}.{sig}.{sig}.{sig}"),
        ),
        ("only dots", "..".to_owned()),
        ("empty header", format!(".{payload}.{sig}")),
        ("empty payload", format!("{header}..{sig}")),
        ("not base64", format!("{header}.{payload}.***")),
        ("header not base64", format!("!!{header}.{payload}.{sig}")),
        (
            "header not JSON",
            format!("{}.{payload}.{sig}", b64url(b"not json")),
        ),
        (
            "header JSON array",
            format!("{}.{payload}.{sig}", b64url(b"[1,2]")),
        ),
        (
            "payload not JSON",
            key.sign_raw(&key.header(), b"definitely not json"),
        ),
        (
            "payload JSON string",
            key.sign_raw(&key.header(), b"\"sub\""),
        ),
        ("padded base64", format!("{header}=.{payload}.{sig}")),
        ("whitespace inside", format!("{header}. {payload}.{sig}")),
        ("unicode", format!("{header}.{payload}.\u{1F600}")),
        (
            "truncated signature",
            format!("{header}.{payload}.{}", &sig[..sig.len() / 2]),
        ),
        ("flipped signature bit", flip_signature_bit(&good)),
    ]
}
