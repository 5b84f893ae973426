//! Signing keys generated at test time, their public JWKs, and token minting.
//!
//! Signing is done here with aws-lc-rs rather than through `jsonwebtoken::encode`, so a test can put
//! anything in the header (`crit`, `jku`, an alg that does not match the key...) and still get a real
//! signature: the forged tokens in [`crate::forge`] need exactly that freedom.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

/// Base64url without padding, the JOSE encoding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch, as JWT time claims count them.
pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// Claims a valid token carries: `iss`, `aud`, `sub`, `iat` and `nbf` now, `exp` in five minutes.
pub fn claims(iss: &str, aud: &str, sub: &str) -> Value {
    let now = now();
    json!({
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    })
}

/// A random identifier (hex), used for key ids and request ids.
pub fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone)]
enum Material {
    Rsa(Arc<RsaKeyPair>),
    Ec(Arc<EcdsaKeyPair>, &'static str),
    Ed(Arc<Ed25519KeyPair>),
}

/// An asymmetric signing key with the `kid` and `alg` it is published under.
///
/// Cloning is cheap (the key material is shared), so one slow-to-generate RSA key can be reused
/// under several algorithms with [`TestKey::with_alg`].
#[derive(Clone)]
pub struct TestKey {
    material: Material,
    kid: String,
    alg: String,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl TestKey {
    /// RSA key of 2048, 3072, 4096 or 8192 bits, published as RS256.
    ///
    /// # Panics
    /// On any other size.
    pub fn rsa(bits: usize) -> Self {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => panic!("unsupported RSA size {other}"),
        };
        let pair = RsaKeyPair::generate(size).expect("RSA key generation");
        Self::new(Material::Rsa(Arc::new(pair)), "RS256")
    }

    /// RSA 2048, published as RS256.
    pub fn rsa2048() -> Self {
        Self::rsa(2048)
    }

    /// EC P-256, published as ES256.
    pub fn ec_p256() -> Self {
        Self::ec(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            "P-256",
            "ES256",
        )
    }

    /// EC P-384, published as ES384.
    pub fn ec_p384() -> Self {
        Self::ec(
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            "P-384",
            "ES384",
        )
    }

    /// EC P-521, published as ES512 (an algorithm jsonwebtoken does not implement: useful to check
    /// that such a key is skipped, not fatal).
    pub fn ec_p521() -> Self {
        Self::ec(
            &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            "P-521",
            "ES512",
        )
    }

    /// Ed25519, published as EdDSA.
    pub fn ed25519() -> Self {
        let pair = Ed25519KeyPair::generate().expect("Ed25519 key generation");
        Self::new(Material::Ed(Arc::new(pair)), "EdDSA")
    }

    /// A key for `alg`: RSA 2048 for RS*/PS*, the matching curve for ES*, Ed25519 for EdDSA.
    ///
    /// # Panics
    /// On an algorithm that has no asymmetric key type here.
    pub fn for_alg(alg: &str) -> Self {
        match alg {
            "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
                Self::rsa2048().with_alg(alg)
            }
            "ES256" => Self::ec_p256(),
            "ES384" => Self::ec_p384(),
            "ES512" => Self::ec_p521(),
            "EdDSA" => Self::ed25519(),
            other => panic!("no test key for alg {other}"),
        }
    }

    fn ec(alg: &'static signature::EcdsaSigningAlgorithm, crv: &'static str, jws: &str) -> Self {
        let pair = EcdsaKeyPair::generate(alg).expect("EC key generation");
        Self::new(Material::Ec(Arc::new(pair), crv), jws)
    }

    fn new(material: Material, alg: &str) -> Self {
        Self {
            material,
            kid: random_id(8),
            alg: alg.to_owned(),
        }
    }

    /// The same key published under another `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: &str) -> Self {
        kid.clone_into(&mut self.kid);
        self
    }

    /// The same key published for (and signing with) another algorithm, e.g. an RSA key as PS384.
    ///
    /// # Panics
    /// If the algorithm does not fit the key type.
    #[must_use]
    pub fn with_alg(mut self, alg: &str) -> Self {
        let fits = match &self.material {
            Material::Rsa(_) => alg.starts_with("RS") || alg.starts_with("PS"),
            Material::Ec(_, crv) => matches!(
                (*crv, alg),
                ("P-256", "ES256") | ("P-384", "ES384") | ("P-521", "ES512")
            ),
            Material::Ed(_) => alg == "EdDSA",
        };
        assert!(fits, "alg {alg} does not fit this key");
        alg.clone_into(&mut self.alg);
        self
    }

    /// The key id it is published under.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm it is published under and signs with.
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// The key type parameters of the public JWK (`kty` plus `n`/`e`, `crv`/`x`/`y` or `crv`/`x`),
    /// without `kid`, `alg` or `use`.
    pub fn public_params(&self) -> Map<String, Value> {
        let value = match &self.material {
            Material::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64url(public.modulus().big_endian_without_leading_zero()),
                    "e": b64url(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Material::Ec(pair, crv) => {
                // Uncompressed SEC1 point: 0x04 || x || y, both coordinates the same length.
                let point = pair.public_key().as_ref();
                let coord = (point.len() - 1) / 2;
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": b64url(&point[1..=coord]),
                    "y": b64url(&point[1 + coord..]),
                })
            }
            Material::Ed(pair) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64url(pair.public_key().as_ref()),
            }),
        };
        match value {
            Value::Object(map) => map,
            _ => unreachable!("built as an object"),
        }
    }

    /// The public JWK as an IdP publishes it: key parameters plus `kid`, `alg` and `use: sig`.
    pub fn jwk(&self) -> Value {
        let mut map = self.public_params();
        map.insert("kid".into(), json!(self.kid));
        map.insert("alg".into(), json!(self.alg));
        map.insert("use".into(), json!("sig"));
        Value::Object(map)
    }

    /// A JWKS document holding the public JWKs of `keys`.
    pub fn jwks(keys: &[&TestKey]) -> Value {
        json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> Vec<u8> {
        let der = match &self.material {
            Material::Rsa(pair) => pair.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Material::Ec(pair, _) => pair.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Material::Ed(pair) => pair.public_key().as_der().map(|d| d.as_ref().to_vec()),
        };
        der.expect("public key DER encoding")
    }

    /// The public key as a PEM `PUBLIC KEY` block, what a key-confusion attacker would use as an
    /// HMAC secret.
    pub fn public_key_pem(&self) -> String {
        let body = STANDARD.encode(self.public_key_der());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// A jsonwebtoken decoding key for the public half (built from the JWK).
    pub fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(self.jwk()).expect("our JWK parses as a jsonwebtoken Jwk");
        jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("decoding key from our JWK")
    }

    /// The header a well-behaved IdP would send: `{"alg", "typ": "JWT", "kid"}`.
    pub fn header(&self) -> Value {
        json!({ "alg": self.alg, "typ": "JWT", "kid": self.kid })
    }

    /// A token signed with this key's algorithm, with [`TestKey::header`].
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// A token with any header (serialised as given, whatever its `alg` says), signed with this
    /// key's algorithm.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialise");
        self.sign_raw(header, &payload)
    }

    /// A token whose payload segment is the given bytes (which need not be JSON).
    pub fn sign_raw(&self, header: &Value, payload: &[u8]) -> String {
        let header = serde_json::to_vec(header).expect("header serialises");
        let signing_input = format!("{}.{}", b64url(&header), b64url(payload));
        let signature = self.signature(&self.alg, signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(&signature))
    }

    /// A token with this key's header plus `extra` header fields merged in (e.g. `jku`, `crit`).
    pub fn sign_with_extra_header(&self, extra: &Value, claims: &Value) -> String {
        let mut header = self.header();
        if let (Value::Object(h), Value::Object(e)) = (&mut header, extra) {
            for (k, v) in e {
                h.insert(k.clone(), v.clone());
            }
        }
        self.sign_with_header(&header, claims)
    }

    /// The raw JWS signature of `input` under `alg` with this key.
    ///
    /// # Panics
    /// If `alg` does not fit the key type.
    pub fn signature(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        match &self.material {
            Material::Rsa(pair) => {
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    other => panic!("{other} is not an RSA algorithm"),
                };
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(encoding, &SystemRandom::new(), input, &mut sig)
                    .expect("RSA signing");
                sig
            }
            Material::Ec(pair, _) => pair
                .sign(&SystemRandom::new(), input)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
            Material::Ed(pair) => pair.sign(input).as_ref().to_vec(),
        }
    }
}
