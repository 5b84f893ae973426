//! Token verification (RFC 7519, RFC 8725): size bound, strict compact-JWS parsing, issuer
//! routing by `iss`, key and algorithm from the key (never from the token alone), signature,
//! then the claim rules as a pure function of `now`.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::alg::{Alg, AlgSet};
use crate::error::Reason;
use crate::issuer::{IssuerConfig, TokenUse};
use crate::jwks::{JwksCache, KeyMaterial, KeyOutcome, KeySet, Lookup, VerifyKey};

/// Tokens longer than this are rejected before any decoding. Real access and ID tokens are
/// 1–4 KiB; API Gateway itself caps headers at 10 KiB.
pub(crate) const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The protected header, as read before verification: only what we act on. `jku`, `x5u`,
/// `jwk` and `x5c` are deliberately not read, so they can never be used.
#[derive(Debug, Deserialize)]
pub struct UnverifiedHeader {
    /// The algorithm the token claims.
    pub alg: String,
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// Whether the header has a `crit` member (any value): we implement no extension.
    #[serde(default, deserialize_with = "present")]
    pub crit: bool,
    /// `typ`, as found (any JSON value): judged only where an issuer requires RFC 9068 access
    /// tokens, so a token of another issuer with an odd `typ` is treated as before.
    #[serde(default)]
    pub typ: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Ok(true)
}

/// A compact JWS split and decoded, signature not yet checked.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    /// The decoded header.
    pub header: UnverifiedHeader,
    /// The decoded claims (untrusted until the signature is checked).
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: &'a str,
    /// The signature, still base64url.
    pub signature: &'a str,
}

/// Splits and decodes a compact JWS without verifying anything but its shape.
pub fn decode_unverified(token: &str) -> Result<UnverifiedToken<'_>, Reason> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Reason::TokenTooLarge);
    }
    let mut parts = token.splitn(4, '.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reason::MalformedToken);
    };
    // An empty signature is judged after the header: `alg: none` tokens have one, and
    // "unsupported_alg" says more about them than "malformed_token".
    if header.is_empty() || payload.is_empty() {
        return Err(Reason::MalformedToken);
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header_json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Reason::MalformedToken)?;
    let UniqueObject(header) =
        serde_json::from_slice(&header_json).map_err(|_| Reason::MalformedToken)?;
    let header: UnverifiedHeader =
        serde_json::from_value(Value::Object(header)).map_err(|_| Reason::MalformedToken)?;
    let payload_json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Reason::MalformedToken)?;
    let UniqueObject(claims) =
        serde_json::from_slice(&payload_json).map_err(|_| Reason::MalformedToken)?;
    Ok(UnverifiedToken {
        header,
        claims,
        signing_input,
        signature,
    })
}

/// A JSON object whose member names are all distinct. RFC 7515 §5.2 and RFC 7519 §4 let a
/// parser either reject duplicate names or keep the last; we reject them: two `sub`s or two
/// `alg`s mean different things to different parsers (ours, the IdP's, the routes'), which is
/// exactly what a forger wants.
struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = UniqueObject;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some(name) = access.next_key::<String>()? {
                    if map.contains_key(&name) {
                        return Err(serde::de::Error::custom("duplicate member name"));
                    }
                    let value = access.next_value()?;
                    map.insert(name, value);
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(Members)
    }
}

/// A token that passed every check.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The claims.
    pub claims: Map<String, Value>,
    /// `sub`.
    pub sub: String,
    /// The `principalId` for policy answers: the issuer's `principal_claims`, else `sub`.
    /// Never empty.
    pub principal: String,
    /// The usage-plan key for REST answers, when the issuer names a claim and the token has it.
    pub usage_identifier: Option<String>,
}

/// What a log line may say about a token.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TokenFacts {
    /// Header `kid`.
    pub kid: Option<String>,
    /// Header `alg`.
    pub alg: Option<String>,
    /// The claim at fault when the issuer's policy refused the token (a configured name).
    pub claim: Option<String>,
}

/// One trusted issuer and its keys.
#[derive(Debug)]
pub(crate) struct IssuerVerifier {
    /// Its configuration.
    pub config: IssuerConfig,
    /// Its public keys (fetched, inline, or none).
    pub keys: Arc<JwksCache>,
    /// Its HMAC secrets, kept apart from the public keys.
    pub hmac: KeySet,
}

/// Verifies tokens against the configured issuers.
#[derive(Debug)]
pub(crate) struct Verifier {
    issuers: Vec<IssuerVerifier>,
    leeway_secs: u64,
}

impl Verifier {
    /// A verifier over `issuers`.
    pub(crate) fn new(issuers: Vec<IssuerVerifier>, leeway_secs: u64) -> Self {
        Self {
            issuers,
            leeway_secs,
        }
    }

    /// The issuers, in configuration order.
    pub(crate) fn issuers(&self) -> &[IssuerVerifier] {
        &self.issuers
    }

    /// Verifies `token` at time `now` (seconds since the Unix epoch). `facts` is filled with
    /// the header's `kid`/`alg` as soon as they are known, for the decision log.
    pub(crate) async fn verify(
        &self,
        token: &str,
        now: u64,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Reason> {
        let unverified = decode_unverified(token)?;
        facts.kid.clone_from(&unverified.header.kid);
        facts.alg = Some(unverified.header.alg.clone());
        if unverified.header.crit {
            return Err(Reason::CriticalHeader);
        }
        let alg = Alg::parse(&unverified.header.alg).ok_or(Reason::UnsupportedAlg)?;
        if unverified.signature.is_empty() {
            return Err(Reason::MalformedToken);
        }

        // Route by `iss` before any key work: an unknown issuer costs no network call.
        let issuer_index = match unverified.claims.get("iss") {
            Some(Value::String(iss)) => self
                .issuers
                .iter()
                .position(|i| i.config.issuer == *iss)
                .ok_or(Reason::WrongIssuer)?,
            _ => return Err(Reason::WrongIssuer),
        };
        let issuer = &self.issuers[issuer_index];

        let kid = unverified.header.kid.as_deref();
        let key = if AlgSet::HMAC.contains(alg) {
            // HMAC tokens are checked only against configured secrets, under their own kid;
            // a public key can never serve as an HMAC secret.
            if issuer.hmac.is_empty() {
                return Err(Reason::UnsupportedAlg);
            }
            match kid.map(|kid| issuer.hmac.find(Some(kid), alg)) {
                Some(Lookup::Found(key)) => key,
                Some(Lookup::AlgNotAllowed) => return Err(Reason::UnsupportedAlg),
                Some(Lookup::NotFound) | None => return Err(Reason::UnknownKid),
            }
        } else {
            match issuer.keys.key_for(kid, alg).await {
                KeyOutcome::Key(key) => key,
                KeyOutcome::AlgNotAllowed => return Err(Reason::UnsupportedAlg),
                KeyOutcome::UnknownKid => return Err(Reason::UnknownKid),
                KeyOutcome::Unavailable => return Err(Reason::JwksUnavailable),
            }
        };
        if !verify_signature(
            &key,
            alg,
            unverified.signing_input.as_bytes(),
            unverified.signature,
        ) {
            return Err(Reason::BadSignature);
        }

        let claims = unverified.claims;
        check_claims(&claims, &issuer.config, self.leeway_secs, now)?;
        let sub = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(Reason::MalformedToken),
        };
        let policy = &issuer.config.policy;
        if let Err(refusal) = policy.check(
            unverified.header.typ.as_ref(),
            &claims,
            self.leeway_secs,
            now,
        ) {
            facts.claim = refusal.claim;
            return Err(refusal.reason);
        }
        Ok(Verified {
            principal: policy.principal(&claims, &sub),
            usage_identifier: policy.usage_identifier(&claims),
            claims,
            sub,
        })
    }
}

/// Checks the signature with `key`, which the caller has already matched to `alg`.
pub(crate) fn verify_signature(
    key: &VerifyKey,
    alg: Alg,
    signing_input: &[u8],
    signature_b64: &str,
) -> bool {
    if !key.algs.contains(alg) {
        return false;
    }
    match &key.material {
        KeyMaterial::Jwt(decoding_key) => {
            let Some(jwt_alg) = alg.to_jwt() else {
                return false;
            };
            jsonwebtoken::crypto::verify(signature_b64, signing_input, decoding_key, jwt_alg)
                .unwrap_or(false)
        }
        KeyMaterial::Public(public_key) => {
            let Ok(signature) = URL_SAFE_NO_PAD.decode(signature_b64) else {
                return false;
            };
            public_key.verify(alg, signing_input, &signature)
        }
    }
}

/// A JWT NumericDate: a JSON number of seconds, possibly fractional.
fn numeric_date(value: &Value) -> Option<f64> {
    value.as_f64().filter(|v| v.is_finite())
}

/// The claim rules, as a pure function of the claims, the issuer's rules and `now`.
/// `iss` has already been matched exactly when choosing the issuer.
pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    issuer: &IssuerConfig,
    leeway_secs: u64,
    now: u64,
) -> Result<(), Reason> {
    let now = now as f64;
    let leeway = leeway_secs as f64;
    let exp = claims.get("exp").ok_or(Reason::MalformedToken)?;
    let exp = numeric_date(exp).ok_or(Reason::MalformedToken)?;
    // RFC 7519 §4.1.4: the current time must be before `exp`.
    if now >= exp + leeway {
        return Err(Reason::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = numeric_date(nbf).ok_or(Reason::MalformedToken)?;
        if now + leeway < nbf {
            return Err(Reason::NotYetValid);
        }
    }
    match &issuer.cognito {
        None => check_audience(claims.get("aud"), &issuer.audiences),
        Some(rules) => {
            let token_use = match claims.get("token_use") {
                Some(Value::String(s)) => match s.as_str() {
                    "access" => TokenUse::Access,
                    "id" => TokenUse::Id,
                    _ => return Err(Reason::WrongTokenUse),
                },
                _ => return Err(Reason::WrongTokenUse),
            };
            if !rules.token_use.contains(&token_use) {
                return Err(Reason::WrongTokenUse);
            }
            match token_use {
                // Cognito access tokens carry the app client in `client_id` and no `aud`.
                TokenUse::Access => match claims.get("client_id") {
                    Some(Value::String(id)) if issuer.audiences.iter().any(|a| a == id) => Ok(()),
                    _ => Err(Reason::WrongAudience),
                },
                TokenUse::Id => check_audience(claims.get("aud"), &issuer.audiences),
            }
        }
    }
}

/// `aud` (a string or an array of strings, RFC 7519 §4.1.3) must name one of the accepted
/// audiences. An array with anything but strings in it is not a valid `aud` at all, even if
/// one of its strings matches.
fn check_audience(aud: Option<&Value>, accepted: &[String]) -> Result<(), Reason> {
    let accepts = |s: &str| accepted.iter().any(|a| a == s);
    match aud {
        Some(Value::String(s)) if accepts(s) => Ok(()),
        Some(Value::Array(items))
            if items.iter().all(Value::is_string)
                && items.iter().filter_map(Value::as_str).any(accepts) =>
        {
            Ok(())
        }
        _ => Err(Reason::WrongAudience),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::issuer::CognitoRules;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn auth0() -> IssuerConfig {
        IssuerConfig {
            issuer: "https://t.auth0.com/".into(),
            audiences: vec!["api1".into(), "api2".into()],
            jwks_uri: None,
            cognito: None,
            jwks_inline: None,
            hmac_keys: Vec::new(),
            policy: Default::default(),
        }
    }

    fn cognito(uses: &[TokenUse]) -> IssuerConfig {
        IssuerConfig {
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x".into(),
            audiences: vec!["client1".into()],
            jwks_uri: None,
            cognito: Some(CognitoRules {
                token_use: uses.to_vec(),
            }),
            jwks_inline: None,
            hmac_keys: Vec::new(),
            policy: Default::default(),
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn decode_unverified_oversized_token_is_rejected_before_parsing() {
        let token = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            decode_unverified(&token).unwrap_err(),
            Reason::TokenTooLarge
        );
    }

    #[test]
    fn decode_unverified_wrong_part_count_is_malformed() {
        let h = b64(r#"{"alg":"ES256"}"#);
        let p = b64("{}");
        for token in [
            String::new(),
            "abc".into(),
            format!("{h}.{p}"),
            format!("{h}.{p}.sig.extra"),
            format!("{h}..sig"),
            format!(".{p}.sig"),
        ] {
            assert_eq!(
                decode_unverified(&token).unwrap_err(),
                Reason::MalformedToken,
                "{token}"
            );
        }
    }

    #[test]
    fn decode_unverified_empty_signature_is_left_to_the_alg_check() {
        let token = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(decode_unverified(&token).unwrap().signature, "");
    }

    #[test]
    fn decode_unverified_bad_base64_or_json_is_malformed() {
        let p = b64("{}");
        for header in [
            "!!!",
            &b64("not json"),
            &b64("[]"),
            &b64(r#"{"kid":"x"}"#),
            &b64(r#"{"alg":5}"#),
        ] {
            let token = format!("{header}.{p}.c2ln");
            assert_eq!(
                decode_unverified(&token).unwrap_err(),
                Reason::MalformedToken,
                "{header}"
            );
        }
        // Padding is not allowed in compact JWS.
        let token = format!("{}=.{p}.c2ln", b64(r#"{"alg":"ES256"}"#));
        assert_eq!(
            decode_unverified(&token).unwrap_err(),
            Reason::MalformedToken
        );
        // Claims must be a JSON object.
        let token = format!("{}.{}.c2ln", b64(r#"{"alg":"ES256"}"#), b64("[1]"));
        assert_eq!(
            decode_unverified(&token).unwrap_err(),
            Reason::MalformedToken
        );
    }

    #[test]
    fn decode_unverified_duplicate_alg_is_malformed() {
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"ES256","alg":"none"}"#),
            b64("{}")
        );
        assert_eq!(
            decode_unverified(&token).unwrap_err(),
            Reason::MalformedToken
        );
    }

    #[test]
    fn decode_unverified_detects_crit_and_ignores_key_urls() {
        let header = b64(
            r#"{"alg":"ES256","kid":"k","crit":["exp"],"jku":"https://evil/jwks","x5u":"https://evil/x"}"#,
        );
        let token = format!("{header}.{}.c2ln", b64(r#"{"sub":"a"}"#));
        let t = decode_unverified(&token).unwrap();
        assert!(t.header.crit);
        assert_eq!(t.header.kid.as_deref(), Some("k"));
        assert_eq!(t.signing_input, &token[..token.len() - 5]);
        assert_eq!(t.signature, "c2ln");
    }

    #[test]
    fn check_claims_valid_token_passes() {
        let c = claims(json!({"exp": NOW + 60, "nbf": NOW - 1, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 0, NOW), Ok(()));
    }

    #[test]
    fn expired_token_is_denied() {
        let c = claims(json!({"exp": NOW - 1, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 0, NOW), Err(Reason::Expired));
        let c = claims(json!({"exp": NOW, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 0, NOW), Err(Reason::Expired));
    }

    #[test]
    fn expired_token_within_leeway_passes() {
        let c = claims(json!({"exp": NOW - 30, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 60, NOW), Ok(()));
        assert_eq!(check_claims(&c, &auth0(), 30, NOW), Err(Reason::Expired));
    }

    #[test]
    fn missing_or_non_numeric_exp_is_malformed() {
        for c in [
            json!({"aud": "api1"}),
            json!({"exp": "9999999999", "aud": "api1"}),
            json!({"exp": null, "aud": "api1"}),
        ] {
            assert_eq!(
                check_claims(&claims(c), &auth0(), 0, NOW),
                Err(Reason::MalformedToken)
            );
        }
    }

    #[test]
    fn fractional_exp_is_accepted() {
        let c = claims(json!({"exp": NOW as f64 + 0.5, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 0, NOW), Ok(()));
    }

    #[test]
    fn future_nbf_is_not_yet_valid() {
        let c = claims(json!({"exp": NOW + 600, "nbf": NOW + 10, "aud": "api1"}));
        assert_eq!(check_claims(&c, &auth0(), 0, NOW), Err(Reason::NotYetValid));
        assert_eq!(check_claims(&c, &auth0(), 10, NOW), Ok(()));
        let c = claims(json!({"exp": NOW + 600, "nbf": "soon", "aud": "api1"}));
        assert_eq!(
            check_claims(&c, &auth0(), 0, NOW),
            Err(Reason::MalformedToken)
        );
    }

    #[test]
    fn audience_string_or_array_must_match() {
        for (aud, ok) in [
            (json!("api2"), true),
            (json!(["other", "api1"]), true),
            (json!("other"), false),
            (json!([]), false),
            (json!([1, 2]), false),
            (json!(null), false),
            (json!({"aud": "api1"}), false),
        ] {
            let c = claims(json!({"exp": NOW + 60, "aud": aud}));
            assert_eq!(check_claims(&c, &auth0(), 0, NOW).is_ok(), ok, "{aud}");
        }
        let c = claims(json!({"exp": NOW + 60}));
        assert_eq!(
            check_claims(&c, &auth0(), 0, NOW),
            Err(Reason::WrongAudience)
        );
    }

    #[test]
    fn cognito_access_token_checks_client_id() {
        let issuer = cognito(&[TokenUse::Access]);
        let ok = claims(json!({"exp": NOW + 60, "token_use": "access", "client_id": "client1"}));
        assert_eq!(check_claims(&ok, &issuer, 0, NOW), Ok(()));
        let wrong = claims(json!({"exp": NOW + 60, "token_use": "access", "client_id": "client2"}));
        assert_eq!(
            check_claims(&wrong, &issuer, 0, NOW),
            Err(Reason::WrongAudience)
        );
        // An `aud` does not stand in for `client_id` on access tokens.
        let aud_only = claims(json!({"exp": NOW + 60, "token_use": "access", "aud": "client1"}));
        assert_eq!(
            check_claims(&aud_only, &issuer, 0, NOW),
            Err(Reason::WrongAudience)
        );
    }

    #[test]
    fn cognito_token_use_is_required_and_allowed() {
        let issuer = cognito(&[TokenUse::Access]);
        let none = claims(json!({"exp": NOW + 60, "client_id": "client1"}));
        assert_eq!(
            check_claims(&none, &issuer, 0, NOW),
            Err(Reason::WrongTokenUse)
        );
        let id = claims(json!({"exp": NOW + 60, "token_use": "id", "aud": "client1"}));
        assert_eq!(
            check_claims(&id, &issuer, 0, NOW),
            Err(Reason::WrongTokenUse)
        );
        let refresh =
            claims(json!({"exp": NOW + 60, "token_use": "refresh", "client_id": "client1"}));
        assert_eq!(
            check_claims(&refresh, &issuer, 0, NOW),
            Err(Reason::WrongTokenUse)
        );
    }

    #[test]
    fn cognito_id_token_checks_aud() {
        let issuer = cognito(&[TokenUse::Access, TokenUse::Id]);
        let ok = claims(json!({"exp": NOW + 60, "token_use": "id", "aud": "client1"}));
        assert_eq!(check_claims(&ok, &issuer, 0, NOW), Ok(()));
        let wrong = claims(
            json!({"exp": NOW + 60, "token_use": "id", "aud": "client9", "client_id": "client1"}),
        );
        assert_eq!(
            check_claims(&wrong, &issuer, 0, NOW),
            Err(Reason::WrongAudience)
        );
    }

    #[test]
    fn audience_array_with_non_strings_is_wrong_audience() {
        let issuer = auth0();
        let accepted = &issuer.audiences[0];
        for aud in [
            json!([1, {"x": 2}, null, accepted]),
            json!([accepted, 1]),
            json!([accepted, null]),
            json!([accepted, [accepted]]),
        ] {
            assert_eq!(
                check_audience(Some(&aud), &issuer.audiences),
                Err(Reason::WrongAudience),
                "{aud}"
            );
        }
        assert_eq!(
            check_audience(Some(&json!(["other", accepted])), &issuer.audiences),
            Ok(())
        );
    }

    #[test]
    fn decode_unverified_duplicate_claim_is_malformed() {
        let header = b64(r#"{"alg":"RS256","kid":"k"}"#);
        for payload in [
            r#"{"sub":"alice","sub":"admin","exp":9999999999}"#,
            r#"{"scope":"read","iss":"a","scope":"admin"}"#,
        ] {
            let token = format!("{header}.{}.c2ln", b64(payload));
            assert_eq!(
                decode_unverified(&token).unwrap_err(),
                Reason::MalformedToken,
                "{payload}"
            );
        }
    }

    #[test]
    fn decode_unverified_duplicate_header_member_is_malformed() {
        // `kid` and unknown members too, not only the ones the header struct names.
        for header in [
            r#"{"alg":"RS256","kid":"a","kid":"b"}"#,
            r#"{"alg":"RS256","x":1,"x":2}"#,
        ] {
            let token = format!("{}.{}.c2ln", b64(header), b64(r#"{"sub":"a"}"#));
            assert_eq!(
                decode_unverified(&token).unwrap_err(),
                Reason::MalformedToken,
                "{header}"
            );
        }
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"a"}"#),
            b64(r#"{"sub":"a","nested":{"x":1}}"#)
        );
        assert!(decode_unverified(&token).is_ok());
    }
}
