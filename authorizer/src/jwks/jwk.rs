//! JWK parsing and key lookup: a JWKS document becomes the keys we can verify with, each parsed
//! once (as aws-jwt-verify's `jwk.ts`); what we cannot or must not use is skipped, and lookup
//! by `kid` never guesses.

use std::sync::Arc;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tracing::warn;

use super::error::JwksError;
use crate::alg::{Alg, AlgSet};
use crate::public_key::PublicKey;

/// JWK values are base64url; tolerate padding some publishers add.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// More keys than any identity provider publishes; beyond this a JWKS is hostile or broken.
const MAX_KEYS: usize = 100;

/// Most entries a JWKS `keys` array may have, usable or not. A larger one is refused as a
/// whole: a 1 MiB body of `[1,1,1,...]` must not cost half a million parse attempts.
pub(crate) const MAX_JWKS_ENTRIES: usize = 1000;

/// What a verification key is made of.
///
/// jsonwebtoken does the job for shared secrets. Public keys are verified with aws-lc-rs
/// directly: jsonwebtoken parses a public key again on every verification (its
/// `DecodingKey` keeps the encoded components), which the verify benches showed to dominate a
/// token's cost, while a [`PublicKey`] is parsed once per algorithm and reused.
#[derive(Debug)]
pub enum KeyMaterial {
    /// A shared secret (HMAC), verified by jsonwebtoken.
    Jwt(DecodingKey),
    /// A public key (RSA, EC P-256/384/521, Ed25519), parsed once per algorithm and
    /// verified with aws-lc-rs directly.
    Public(PublicKey),
}

/// A key ready to verify signatures: parsed once when the JWKS is fetched.
#[derive(Debug)]
pub struct VerifyKey {
    /// The JWK `kid`, if any.
    pub kid: Option<String>,
    /// Algorithms this key may verify: its `alg`, or what its type and curve imply.
    pub algs: AlgSet,
    /// The key itself.
    pub material: KeyMaterial,
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyKey>>,
}

/// Result of looking a key up for a token.
#[derive(Debug)]
pub enum Lookup {
    /// A key with that `kid` that allows the token's `alg`.
    Found(Arc<VerifyKey>),
    /// A key with that `kid` exists, but not for that `alg`.
    AlgNotAllowed,
    /// No key with that `kid` (or no `kid` and not exactly one key).
    NotFound,
}

impl KeySet {
    /// Builds a key set from keys (used for inline keys and tests).
    pub fn new(keys: Vec<VerifyKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token's `kid` and `alg`. A token without `kid` matches only when the set
    /// holds exactly one key: with several, picking one would be a guess.
    pub fn find(&self, kid: Option<&str>, alg: Alg) -> Lookup {
        let mut kid_matched = false;
        match kid {
            Some(kid) => {
                for key in self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)) {
                    if key.algs.contains(alg) {
                        return Lookup::Found(Arc::clone(key));
                    }
                    kid_matched = true;
                }
            }
            None => {
                if let [key] = self.keys.as_slice() {
                    if key.algs.contains(alg) {
                        return Lookup::Found(Arc::clone(key));
                    }
                    kid_matched = true;
                }
            }
        }
        if kid_matched {
            Lookup::AlgNotAllowed
        } else {
            Lookup::NotFound
        }
    }
}

/// Parses an already-decoded JWKS value.
pub(crate) fn parse_jwks_value(doc: &Value) -> Result<KeySet, JwksError> {
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return Err(JwksError::Shape(
            "not a JWKS: expected an object with a \"keys\" array".to_owned(),
        ));
    };
    if keys.len() > MAX_JWKS_ENTRIES {
        return Err(JwksError::Shape(format!(
            "the JWKS lists {} entries, more than the {MAX_JWKS_ENTRIES} accepted",
            keys.len()
        )));
    }
    let mut usable = Vec::new();
    let mut skipped = SkippedKeys::default();
    for jwk in keys {
        if usable.len() == MAX_KEYS {
            skipped.note("more than 100 usable keys");
            continue;
        }
        match parse_jwk(jwk) {
            Ok(key) => usable.push(key),
            Err(why) => skipped.note(why),
        }
    }
    if skipped.count > 0 {
        // One line per document, not per key: the entries are the IdP's (or an attacker's) to choose.
        warn!(
            skipped = skipped.count,
            usable = usable.len(),
            first_reason = skipped.first_reason,
            "skipping unusable JWKS keys"
        );
    }
    if usable.is_empty() {
        return Err(JwksError::NoUsableKeys {
            skipped: skipped.count,
        });
    }
    Ok(KeySet::new(usable))
}

/// Keys left out of a JWKS, summarised for one log line.
#[derive(Debug, Default)]
struct SkippedKeys {
    count: usize,
    first_reason: &'static str,
}

impl SkippedKeys {
    fn note(&mut self, why: &'static str) {
        if self.count == 0 {
            self.first_reason = why;
        }
        self.count += 1;
    }
}

/// One JWK to a verification key, or why it is skipped.
pub(crate) fn parse_jwk(jwk: &Value) -> Result<VerifyKey, &'static str> {
    let obj = jwk.as_object().ok_or("not a JSON object")?;
    let text = |name: &str| -> Result<Option<&str>, &'static str> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err("a member is not a string"),
        }
    };
    if let Some(usage) = text("use")?
        && usage != "sig"
    {
        return Err("`use` is not \"sig\"");
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops.as_array().ok_or("`key_ops` is not an array")?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err("`key_ops` does not include \"verify\"");
        }
    }
    let kid = text("kid")?.map(str::to_owned);
    let declared = match text("alg")? {
        None => None,
        Some(a) => Some(Alg::parse(a).ok_or("`alg` is not a supported algorithm")?),
    };
    let kty = text("kty")?.ok_or("no `kty`")?;
    let (implied, material) = match kty {
        "RSA" => {
            let n = decode_member(text("n")?, "RSA key without `n`")?;
            let e = decode_member(text("e")?, "RSA key without `e`")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            // `n` has no leading zero bytes left, so its first byte holds the top bit.
            let bits = n
                .first()
                .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
            if !(2048..=8192).contains(&bits) {
                return Err("RSA modulus must be 2048 to 8192 bits");
            }
            if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
                return Err("RSA exponent is not a plausible odd value");
            }
            (AlgSet::RSA, KeyMaterial::Public(PublicKey::rsa(n, e)))
        }
        "EC" => {
            let (alg, len) = match text("crv")? {
                Some("P-256") => (Alg::ES256, 32),
                Some("P-384") => (Alg::ES384, 48),
                Some("P-521") => (Alg::ES512, 66),
                _ => return Err("EC key on an unsupported curve"),
            };
            let x = decode_member(text("x")?, "EC key without `x`")?;
            let y = decode_member(text("y")?, "EC key without `y`")?;
            if x.len() != len || y.len() != len {
                return Err("EC coordinates have the wrong length for the curve");
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (
                AlgSet::single(alg),
                KeyMaterial::Public(PublicKey::bytes(point)),
            )
        }
        "OKP" => {
            if text("crv")? != Some("Ed25519") {
                return Err("OKP key on an unsupported curve (only Ed25519)");
            }
            let x = decode_member(text("x")?, "OKP key without `x`")?;
            if x.len() != 32 {
                return Err("Ed25519 public key is not 32 bytes");
            }
            (
                AlgSet::single(Alg::EdDSA),
                KeyMaterial::Public(PublicKey::bytes(x)),
            )
        }
        // A symmetric key in a public JWKS is never trusted: accepting it would let anyone who
        // can read the JWKS sign tokens.
        "oct" => return Err("symmetric (`oct`) keys are never used from a JWKS"),
        _ => return Err("unsupported `kty`"),
    };
    let algs = match declared {
        Some(alg) if implied.contains(alg) => AlgSet::single(alg),
        Some(_) => return Err("`alg` does not match the key type"),
        None => implied,
    };
    Ok(VerifyKey {
        kid,
        algs,
        material,
    })
}

fn decode_member(value: Option<&str>, missing: &'static str) -> Result<Vec<u8>, &'static str> {
    let value = value.ok_or(missing)?;
    JWK_B64
        .decode(value)
        .map_err(|_| "a key parameter is not base64url")
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Parses a JWKS document, skipping keys we cannot or must not use.
    fn parse_jwks(body: &[u8]) -> Result<KeySet, JwksError> {
        let doc: Value = serde_json::from_slice(body).map_err(|source| JwksError::Json {
            url: "JWKS".to_owned(),
            source,
        })?;
        parse_jwks_value(&doc)
    }

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_jwk(bits: usize) -> Value {
        let mut n = vec![0xC5u8; bits / 8];
        n[bits / 8 - 1] |= 1;
        json!({"kty": "RSA", "kid": "r", "n": b64(&n), "e": "AQAB"})
    }

    fn ec_jwk(crv: &str, len: usize) -> Value {
        json!({"kty": "EC", "kid": "e", "crv": crv, "x": b64(&vec![1; len]), "y": b64(&vec![2; len])})
    }

    #[test]
    fn parse_jwk_rsa_without_alg_allows_rsa_family() {
        let key = parse_jwk(&rsa_jwk(2048)).unwrap();
        assert_eq!(key.algs, AlgSet::RSA);
        assert_eq!(key.kid.as_deref(), Some("r"));
    }

    #[test]
    fn parse_jwk_alg_pins_single_algorithm() {
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("PS384");
        assert_eq!(parse_jwk(&jwk).unwrap().algs, AlgSet::single(Alg::PS384));
    }

    #[test]
    fn parse_jwk_alg_mismatching_kty_is_skipped() {
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("ES256");
        assert!(parse_jwk(&jwk).is_err());
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("HS256");
        assert!(parse_jwk(&jwk).is_err());
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("none");
        assert!(parse_jwk(&jwk).is_err());
    }

    #[test]
    fn parse_jwk_short_rsa_modulus_is_skipped() {
        assert!(parse_jwk(&json!({"kty": "RSA", "n": "AAAA", "e": "AQAB"})).is_err());
        assert!(parse_jwk(&json!({"kty": "RSA", "n": "", "e": ""})).is_err());
        assert!(parse_jwk(&rsa_jwk(1024)).is_err());
        assert!(parse_jwk(&rsa_jwk(4096)).is_ok());
    }

    #[test]
    fn parse_jwk_ec_curve_determines_alg() {
        assert_eq!(
            parse_jwk(&ec_jwk("P-256", 32)).unwrap().algs,
            AlgSet::single(Alg::ES256)
        );
        assert_eq!(
            parse_jwk(&ec_jwk("P-384", 48)).unwrap().algs,
            AlgSet::single(Alg::ES384)
        );
        assert_eq!(
            parse_jwk(&ec_jwk("P-521", 66)).unwrap().algs,
            AlgSet::single(Alg::ES512)
        );
        assert!(parse_jwk(&ec_jwk("P-256", 48)).is_err());
        assert!(parse_jwk(&ec_jwk("secp256k1", 32)).is_err());
        let mut jwk = ec_jwk("P-256", 32);
        jwk["alg"] = json!("ES384");
        assert!(parse_jwk(&jwk).is_err());
    }

    #[test]
    fn parse_jwk_unusable_keys_are_skipped() {
        let enc = {
            let mut jwk = rsa_jwk(2048);
            jwk["use"] = json!("enc");
            jwk
        };
        let ops = {
            let mut jwk = rsa_jwk(2048);
            jwk["key_ops"] = json!(["encrypt"]);
            jwk
        };
        for jwk in [
            enc,
            ops,
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "XYZ"}),
            json!({"kty": "OKP", "crv": "X25519", "x": b64(&[1; 32])}),
            json!({"kty": "RSA", "n": "!!", "e": "AQAB"}),
            json!({"kty": "RSA", "e": "AQAB"}),
            json!({"kid": 5, "kty": "RSA"}),
            json!("not an object"),
        ] {
            assert!(parse_jwk(&jwk).is_err(), "{jwk}");
        }
    }

    #[test]
    fn parse_jwks_skips_bad_keys_and_keeps_good_ones() {
        let doc =
            json!({"keys": [{"kty": "oct", "k": "AA"}, ec_jwk("P-256", 32), {"kty": "weird"}]});
        let set = parse_jwks(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn parse_jwks_without_usable_keys_is_error() {
        let doc = json!({"keys": [{"kty": "oct", "k": "AA"}]});
        assert!(matches!(
            parse_jwks(doc.to_string().as_bytes()),
            Err(JwksError::NoUsableKeys { skipped: 1 })
        ));
        assert!(matches!(
            parse_jwks(b"{\"keys\": 5}"),
            Err(JwksError::Shape(_))
        ));
        assert!(matches!(parse_jwks(b"<html>"), Err(JwksError::Json { .. })));
    }

    #[test]
    fn find_without_kid_uses_single_key_only() {
        let one = KeySet::new(vec![parse_jwk(&ec_jwk("P-256", 32)).unwrap()]);
        assert!(matches!(one.find(None, Alg::ES256), Lookup::Found(_)));
        let two = KeySet::new(vec![
            parse_jwk(&ec_jwk("P-256", 32)).unwrap(),
            parse_jwk(&rsa_jwk(2048)).unwrap(),
        ]);
        assert!(matches!(two.find(None, Alg::ES256), Lookup::NotFound));
    }

    #[test]
    fn find_alg_not_allowed_for_key_is_reported() {
        let set = KeySet::new(vec![parse_jwk(&ec_jwk("P-256", 32)).unwrap()]);
        assert!(matches!(
            set.find(Some("e"), Alg::HS256),
            Lookup::AlgNotAllowed
        ));
        assert!(matches!(
            set.find(Some("e"), Alg::RS256),
            Lookup::AlgNotAllowed
        ));
        assert!(matches!(
            set.find(Some("other"), Alg::ES256),
            Lookup::NotFound
        ));
    }

    #[test]
    fn jwks_with_too_many_entries_is_rejected_whole() {
        let mut keys = vec![usable_jwk()];
        keys.extend(std::iter::repeat_n(json!(1), MAX_JWKS_ENTRIES));
        let err = parse_jwks_value(&json!({ "keys": keys })).unwrap_err();
        assert!(matches!(err, JwksError::Shape(_)), "{err}");
        assert!(err.to_string().contains("1001 entries"), "{err}");
    }

    #[test]
    fn jwks_at_entry_limit_keeps_usable_keys() {
        let mut keys = vec![usable_jwk()];
        keys.extend(std::iter::repeat_n(json!(1), MAX_JWKS_ENTRIES - 1));
        let set = parse_jwks_value(&json!({ "keys": keys })).unwrap();
        assert_eq!(set.len(), 1);
    }

    fn usable_jwk() -> Value {
        testkit::TestKey::ec_p256().jwk()
    }
}
