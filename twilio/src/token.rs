//! The Access Token builder and its signing.
//!
//! Why not `jsonwebtoken::encode`: its `Header` serialises `typ` before `alg`
//! and has no field for `twr`, so its header bytes differ from twilio-node's
//! `{"alg":..,"typ":"JWT","cty":..,"twr":..}` and the tokens would differ.
//! The header and payload are therefore assembled here, in twilio-node's key
//! order, and signed with HMAC from aws-lc-rs (the crypto backend the rest of
//! the workspace already uses).

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AccessTokenError;
use crate::grant::Grant;
use crate::js_json::{JsObject, JsValue};

/// Default time to live, as in twilio-node: one hour.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
/// Longest time to live Twilio accepts: 24 hours.
pub const MAX_TTL_SECONDS: u32 = 86_400;
/// `cty` of every Access Token.
pub const CONTENT_TYPE: &str = "twilio-fpa;v=1";
/// 2^53 - 1: JavaScript's largest exact integer.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// HMAC algorithm of the token (twilio-node's `AccessToken.ALGORITHMS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA256, the default.
    #[default]
    Hs256,
    /// HMAC-SHA384.
    Hs384,
    /// HMAC-SHA512.
    Hs512,
}

impl Algorithm {
    /// The JOSE name (`HS256`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Algorithm::Hs256 => hmac::HMAC_SHA256,
            Algorithm::Hs384 => hmac::HMAC_SHA384,
            Algorithm::Hs512 => hmac::HMAC_SHA512,
        }
    }
}

impl FromStr for Algorithm {
    type Err = AccessTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HS256" => Ok(Algorithm::Hs256),
            "HS384" => Ok(Algorithm::Hs384),
            "HS512" => Ok(Algorithm::Hs512),
            other => Err(AccessTokenError::UnsupportedAlgorithm(other.to_owned())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API key secret. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// Wraps the secret.
    pub fn new(secret: impl Into<String>) -> Self {
        ApiKeySecret(secret.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret([redacted])")
    }
}

impl From<String> for ApiKeySecret {
    fn from(secret: String) -> Self {
        ApiKeySecret(secret)
    }
}

impl From<&str> for ApiKeySecret {
    fn from(secret: &str) -> Self {
        ApiKeySecret(secret.to_owned())
    }
}

/// A Twilio Access Token under construction.
///
/// ```
/// use twilio_access_token::{AccessToken, VideoGrant};
/// let jwt = AccessToken::new("AC00000000000000000000000000000000", "SK00000000000000000000000000000000", "secret", "alice")
///     .ttl(600)
///     .grant(VideoGrant { room: Some("standup".into()) })
///     .to_jwt()
///     .unwrap();
/// assert_eq!(jwt.split('.').count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct AccessToken {
    account_sid: String,
    key_sid: String,
    secret: ApiKeySecret,
    identity: String,
    ttl: u32,
    nbf: Option<u64>,
    region: Option<String>,
    algorithm: Algorithm,
    issued_at: Option<u64>,
    grants: Vec<Grant>,
}

/// A signed token with the times it carries.
#[derive(Clone)]
pub struct SignedAccessToken {
    /// The compact JWT.
    pub jwt: String,
    /// `iat`, seconds since the epoch.
    pub issued_at: u64,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
}

impl fmt::Debug for SignedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAccessToken")
            .field("jwt", &"[redacted]")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AccessToken {
    /// A token for `identity`, signed with API key `key_sid` / `secret` of
    /// account `account_sid`; one hour, HS256, no grants yet.
    pub fn new(
        account_sid: impl Into<String>,
        key_sid: impl Into<String>,
        secret: impl Into<ApiKeySecret>,
        identity: impl Into<String>,
    ) -> Self {
        AccessToken {
            account_sid: account_sid.into(),
            key_sid: key_sid.into(),
            secret: secret.into(),
            identity: identity.into(),
            ttl: DEFAULT_TTL_SECONDS,
            nbf: None,
            region: None,
            algorithm: Algorithm::default(),
            issued_at: None,
            grants: Vec::new(),
        }
    }

    /// Time to live in seconds (1 ..= 86400; default 3600).
    #[must_use]
    pub fn ttl(mut self, seconds: u32) -> Self {
        self.ttl = seconds;
        self
    }

    /// Twilio region (`twr` header), for example `us1`, `ie1`, `au1`. An
    /// empty region is left out, as twilio-node does.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Not-before time, seconds since the epoch.
    #[must_use]
    pub fn nbf(mut self, unix_seconds: u64) -> Self {
        self.nbf = Some(unix_seconds);
        self
    }

    /// Signing algorithm (default HS256).
    #[must_use]
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Issue the token as of this time (seconds since the epoch) instead of
    /// the system clock: for tests and reproducible tokens.
    #[must_use]
    pub fn issued_at(mut self, unix_seconds: u64) -> Self {
        self.issued_at = Some(unix_seconds);
        self
    }

    /// Adds a grant. A second grant of the same kind replaces the first in
    /// its position, as assigning to `grants[key]` does in twilio-node.
    #[must_use]
    pub fn grant(mut self, grant: impl Into<Grant>) -> Self {
        self.add_grant(grant);
        self
    }

    /// Adds a grant in place (see [`AccessToken::grant`]).
    pub fn add_grant(&mut self, grant: impl Into<Grant>) {
        self.grants.push(grant.into());
    }

    /// The identity the token is for.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The grants added so far, in order.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The signed compact JWT.
    pub fn to_jwt(&self) -> Result<String, AccessTokenError> {
        self.sign().map(|signed| signed.jwt)
    }

    /// Signs the token and reports the times it carries.
    pub fn sign(&self) -> Result<SignedAccessToken, AccessTokenError> {
        self.validate()?;
        let iat = match self.issued_at {
            Some(iat) => iat,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(AccessTokenError::Clock)?
                .as_secs(),
        };
        let exp = iat.saturating_add(u64::from(self.ttl));
        check_safe("iat", iat)?;
        check_safe("exp", exp)?;
        if let Some(nbf) = self.nbf {
            check_safe("nbf", nbf)?;
        }

        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(self.header().to_json_string()),
            URL_SAFE_NO_PAD.encode(self.payload(iat, exp).to_json_string()),
        );
        let key = hmac::Key::new(self.algorithm.hmac(), self.secret.expose().as_bytes());
        let signature = hmac::sign(&key, signing_input.as_bytes());
        Ok(SignedAccessToken {
            jwt: format!(
                "{signing_input}.{}",
                URL_SAFE_NO_PAD.encode(signature.as_ref())
            ),
            issued_at: iat,
            expires_at: exp,
        })
    }

    fn validate(&self) -> Result<(), AccessTokenError> {
        // Same checks, same order as twilio-node's constructor.
        for (name, value) in [
            ("account_sid", self.account_sid.as_str()),
            ("key_sid", self.key_sid.as_str()),
            ("secret", self.secret.expose()),
            ("identity", self.identity.as_str()),
        ] {
            if value.is_empty() {
                return Err(AccessTokenError::Missing(name));
            }
        }
        // twilio-node turns ttl 0 into 3600 silently; a caller asking for 0
        // has a bug, so say so instead.
        if self.ttl == 0 || self.ttl > MAX_TTL_SECONDS {
            return Err(AccessTokenError::InvalidTtl {
                ttl: u64::from(self.ttl),
                max: MAX_TTL_SECONDS,
            });
        }
        if self.region.as_deref().is_some_and(|r| !r.is_ascii()) {
            return Err(AccessTokenError::InvalidRegion);
        }
        Ok(())
    }

    /// jsonwebtoken's `sign` builds `Object.assign({alg, typ, kid}, header)`
    /// with `kid` undefined (dropped by JSON.stringify), then twilio-node's
    /// `{cty, typ}` (typ already present keeps its place), then `twr`.
    fn header(&self) -> JsObject {
        let mut header = JsObject::new()
            .with("alg", self.algorithm.as_str())
            .with("typ", "JWT")
            .with("cty", CONTENT_TYPE);
        if let Some(region) = self.region.as_deref().filter(|r| !r.is_empty()) {
            header.insert("twr", region);
        }
        header
    }

    /// twilio-node builds `{jti, grants}` (+ `nbf`), then jsonwebtoken
    /// appends `iat`, `exp`, `iss`, `sub` in that order.
    fn payload(&self, iat: u64, exp: u64) -> JsObject {
        let mut grants = JsObject::new().with("identity", self.identity.as_str());
        for grant in &self.grants {
            grants.insert(grant.key(), grant.payload());
        }
        let mut payload = JsObject::new()
            .with("jti", format!("{}-{iat}", self.key_sid))
            .with("grants", grants);
        if let Some(nbf) = self.nbf {
            payload.insert("nbf", js_number(nbf));
        }
        payload.insert("iat", js_number(iat));
        payload.insert("exp", js_number(exp));
        payload.insert("iss", self.key_sid.as_str());
        payload.insert("sub", self.account_sid.as_str());
        payload
    }
}

fn check_safe(field: &'static str, value: u64) -> Result<(), AccessTokenError> {
    if value > MAX_SAFE_INTEGER {
        return Err(AccessTokenError::TimeOutOfRange { field, value });
    }
    Ok(())
}

/// Exact for every value `check_safe` accepts.
#[allow(clippy::cast_precision_loss)]
fn js_number(value: u64) -> JsValue {
    JsValue::Number(value as f64)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};

    use super::*;
    use crate::grant::{
        ChatGrant, PlaybackGrant, SyncGrant, TaskRouterGrant, VideoGrant, VoiceGrant,
    };

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const SECRET: &str = "s3cr3t-api-key-secret";
    const IAT: u64 = 1_700_000_000;

    fn token() -> AccessToken {
        AccessToken::new(ACCOUNT, KEY, SECRET, "alice").issued_at(IAT)
    }

    /// Splits a compact JWT into its raw header and payload JSON text.
    fn parts(jwt: &str) -> (String, String) {
        let mut it = jwt.split('.');
        let decode = |s: &str| String::from_utf8(URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
        let header = decode(it.next().unwrap());
        let payload = decode(it.next().unwrap());
        assert!(it.next().is_some(), "signature part");
        assert!(it.next().is_none(), "exactly three parts");
        (header, payload)
    }

    /// Verifies the signature with jsonwebtoken (an implementation other
    /// than ours) and returns the claims.
    fn verify(jwt: &str, alg: jsonwebtoken::Algorithm, secret: &str) -> Value {
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.validate_exp = false;
        validation.required_spec_claims = HashSet::new();
        jsonwebtoken::decode::<Value>(
            jwt,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .expect("signature verifies")
        .claims
    }

    fn grants_of(grant: impl Into<Grant>) -> Value {
        let jwt = token().grant(grant).to_jwt().unwrap();
        verify(&jwt, jsonwebtoken::Algorithm::HS256, SECRET)["grants"].clone()
    }

    #[test]
    fn default_token_has_twilio_header_and_payload_in_order() {
        let jwt = token().to_jwt().unwrap();
        let (header, payload) = parts(&jwt);
        assert_eq!(
            header,
            r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}"#
        );
        assert_eq!(
            payload,
            format!(
                r#"{{"jti":"{KEY}-{IAT}","grants":{{"identity":"alice"}},"iat":{IAT},"exp":{},"iss":"{KEY}","sub":"{ACCOUNT}"}}"#,
                IAT + 3600
            )
        );
        let claims = verify(&jwt, jsonwebtoken::Algorithm::HS256, SECRET);
        assert_eq!(claims["jti"], format!("{KEY}-{IAT}"));
        assert_eq!(claims["iss"], KEY);
        assert_eq!(claims["sub"], ACCOUNT);
        assert_eq!(claims["iat"], IAT);
        assert_eq!(claims["exp"], IAT + 3600);
        assert!(claims.get("nbf").is_none());
    }

    #[test]
    fn region_goes_in_header_after_cty() {
        let (header, _) = parts(&token().region("ie1").to_jwt().unwrap());
        assert_eq!(
            header,
            r#"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}"#
        );
    }

    #[test]
    fn empty_region_is_omitted() {
        let (header, _) = parts(&token().region("").to_jwt().unwrap());
        assert!(!header.contains("twr"));
    }

    #[test]
    fn non_ascii_region_is_rejected() {
        let err = token().region("éu1").to_jwt().unwrap_err();
        assert!(matches!(err, AccessTokenError::InvalidRegion));
    }

    #[test]
    fn nbf_and_ttl_are_written_between_grants_and_iat() {
        let jwt = token().nbf(IAT - 5).ttl(60).to_jwt().unwrap();
        let (_, payload) = parts(&jwt);
        assert!(payload.contains(&format!(
            r#""grants":{{"identity":"alice"}},"nbf":{},"iat":{IAT},"exp":{},"iss""#,
            IAT - 5,
            IAT + 60
        )));
        let claims = verify(&jwt, jsonwebtoken::Algorithm::HS256, SECRET);
        assert_eq!(claims["nbf"], IAT - 5);
        assert_eq!(claims["exp"], IAT + 60);
    }

    #[test]
    fn hs384_and_hs512_sign_with_their_algorithm() {
        for (ours, theirs) in [
            (Algorithm::Hs384, jsonwebtoken::Algorithm::HS384),
            (Algorithm::Hs512, jsonwebtoken::Algorithm::HS512),
        ] {
            let jwt = token().algorithm(ours).to_jwt().unwrap();
            let (header, _) = parts(&jwt);
            assert!(header.starts_with(&format!(r#"{{"alg":"{ours}","typ""#)));
            verify(&jwt, theirs, SECRET);
        }
    }

    #[test]
    fn wrong_secret_fails_verification() {
        let jwt = token().to_jwt().unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = HashSet::new();
        let result = jsonwebtoken::decode::<Value>(
            &jwt,
            &jsonwebtoken::DecodingKey::from_secret(b"another secret"),
            &validation,
        );
        assert!(result.is_err());
    }

    #[test]
    fn algorithm_names_parse_and_others_are_rejected() {
        assert_eq!("HS384".parse::<Algorithm>().unwrap(), Algorithm::Hs384);
        assert!(matches!(
            "RS256".parse::<Algorithm>(),
            Err(AccessTokenError::UnsupportedAlgorithm(name)) if name == "RS256"
        ));
    }

    #[test]
    fn voice_grant_payload_field_by_field() {
        let grants = grants_of(VoiceGrant {
            incoming_allow: true,
            outgoing_application_sid: Some("AP0123".into()),
            outgoing_application_params: Some(JsObject::new().with("to", "+15551234567")),
            push_credential_sid: Some("CR0123".into()),
            endpoint_id: Some("alice-phone".into()),
        });
        assert_eq!(grants["identity"], "alice");
        let voice = &grants["voice"];
        assert_eq!(voice["incoming"], json!({"allow": true}));
        assert_eq!(voice["outgoing"]["application_sid"], "AP0123");
        assert_eq!(voice["outgoing"]["params"], json!({"to": "+15551234567"}));
        assert_eq!(voice["push_credential_sid"], "CR0123");
        assert_eq!(voice["endpoint_id"], "alice-phone");
        assert_eq!(voice.as_object().unwrap().len(), 4);
    }

    #[test]
    fn voice_grant_without_incoming_omits_incoming() {
        let grants = grants_of(VoiceGrant {
            outgoing_application_sid: Some("AP0123".into()),
            ..VoiceGrant::default()
        });
        assert_eq!(
            grants["voice"],
            json!({"outgoing": {"application_sid": "AP0123"}})
        );
    }

    #[test]
    fn video_grant_payload_field_by_field() {
        let grants = grants_of(VideoGrant {
            room: Some("standup".into()),
        });
        assert_eq!(grants["video"], json!({"room": "standup"}));
        assert_eq!(grants_of(VideoGrant::default())["video"], json!({}));
    }

    #[test]
    fn chat_grant_payload_field_by_field() {
        let grants = grants_of(ChatGrant {
            service_sid: Some("IS1".into()),
            endpoint_id: Some("e".into()),
            deployment_role_sid: Some("RL1".into()),
            push_credential_sid: Some("CR1".into()),
        });
        let chat = &grants["chat"];
        assert_eq!(chat["service_sid"], "IS1");
        assert_eq!(chat["endpoint_id"], "e");
        assert_eq!(chat["deployment_role_sid"], "RL1");
        assert_eq!(chat["push_credential_sid"], "CR1");
        assert_eq!(chat.as_object().unwrap().len(), 4);
    }

    #[test]
    fn sync_grant_payload_field_by_field() {
        let grants = grants_of(SyncGrant {
            service_sid: Some("IS2".into()),
            endpoint_id: None,
        });
        assert_eq!(grants["data_sync"], json!({"service_sid": "IS2"}));
    }

    #[test]
    fn task_router_grant_payload_field_by_field() {
        let grants = grants_of(TaskRouterGrant {
            workspace_sid: Some("WS1".into()),
            worker_sid: Some("WK1".into()),
            role: Some("worker".into()),
        });
        assert_eq!(
            grants["task_router"],
            json!({"workspace_sid": "WS1", "worker_sid": "WK1", "role": "worker"})
        );
    }

    #[test]
    fn playback_grant_is_copied_as_given() {
        let object = JsObject::from_json_str(
            r#"{"requestCredentials":null,"playbackUrl":"https://example.com/x","playerStreamerSid":"VJ1"}"#,
        )
        .unwrap();
        let jwt = token()
            .grant(PlaybackGrant {
                grant: Some(object),
            })
            .to_jwt()
            .unwrap();
        let (_, payload) = parts(&jwt);
        assert!(payload.contains(
            r#""player":{"requestCredentials":null,"playbackUrl":"https://example.com/x","playerStreamerSid":"VJ1"}"#
        ));
    }

    #[test]
    fn grants_follow_identity_in_insertion_order() {
        let jwt = token()
            .grant(VideoGrant::default())
            .grant(VoiceGrant::default())
            .grant(SyncGrant::default())
            .to_jwt()
            .unwrap();
        let (_, payload) = parts(&jwt);
        assert!(
            payload
                .contains(r#""grants":{"identity":"alice","video":{},"voice":{},"data_sync":{}}"#)
        );
    }

    #[test]
    fn second_grant_of_a_kind_replaces_first_in_place() {
        let jwt = token()
            .grant(VideoGrant {
                room: Some("a".into()),
            })
            .grant(VoiceGrant::default())
            .grant(VideoGrant {
                room: Some("b".into()),
            })
            .to_jwt()
            .unwrap();
        let (_, payload) = parts(&jwt);
        assert!(
            payload.contains(r#""grants":{"identity":"alice","video":{"room":"b"},"voice":{}}"#)
        );
    }

    #[test]
    fn missing_inputs_are_named() {
        let cases = [
            (AccessToken::new("", KEY, SECRET, "a"), "account_sid"),
            (AccessToken::new(ACCOUNT, "", SECRET, "a"), "key_sid"),
            (AccessToken::new(ACCOUNT, KEY, "", "a"), "secret"),
            (AccessToken::new(ACCOUNT, KEY, SECRET, ""), "identity"),
        ];
        for (token, name) in cases {
            match token.to_jwt() {
                Err(AccessTokenError::Missing(n)) => assert_eq!(n, name),
                other => panic!("{name}: expected Missing, got {other:?}"),
            }
        }
    }

    #[test]
    fn ttl_zero_or_over_a_day_is_rejected() {
        for ttl in [0, MAX_TTL_SECONDS + 1] {
            assert!(matches!(
                token().ttl(ttl).to_jwt(),
                Err(AccessTokenError::InvalidTtl { .. })
            ));
        }
        let signed = token().ttl(MAX_TTL_SECONDS).sign().unwrap();
        assert_eq!(signed.expires_at, IAT + u64::from(MAX_TTL_SECONDS));
    }

    #[test]
    fn times_beyond_javascript_integers_are_rejected() {
        assert!(matches!(
            token().nbf(1 << 60).to_jwt(),
            Err(AccessTokenError::TimeOutOfRange { field: "nbf", .. })
        ));
        assert!(matches!(
            token().issued_at(MAX_SAFE_INTEGER).to_jwt(),
            Err(AccessTokenError::TimeOutOfRange { field: "exp", .. })
        ));
    }

    #[test]
    fn system_clock_is_used_without_issued_at() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let signed = AccessToken::new(ACCOUNT, KEY, SECRET, "a").sign().unwrap();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!((before..=after).contains(&signed.issued_at));
        let claims = verify(&signed.jwt, jsonwebtoken::Algorithm::HS256, SECRET);
        assert_eq!(claims["jti"], format!("{KEY}-{}", signed.issued_at));
    }

    #[test]
    fn debug_output_never_shows_secret_or_token() {
        let token = token();
        let signed = token.sign().unwrap();
        let debug = format!("{token:?} {signed:?}");
        assert!(!debug.contains(SECRET));
        assert!(!debug.contains(&signed.jwt));
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn identity_with_special_characters_is_json_escaped() {
        let jwt = AccessToken::new(ACCOUNT, KEY, SECRET, "auth0|\"ü\"\n")
            .issued_at(IAT)
            .to_jwt()
            .unwrap();
        let (_, payload) = parts(&jwt);
        assert!(payload.contains(r#""identity":"auth0|\"ü\"\n""#));
    }
}
