//! The embedded development issuer: an ES256 key generated at start-up, its discovery document
//! and JWKS, and token minting for `POST /dev/token`. It exists so the local API works with no
//! Auth0 tenant or Cognito pool; the authorizer verifies its tokens exactly as it would a real
//! issuer's (discovery, JWKS fetch, signature, `iss`, `aud`, `exp`).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The audience of dev tokens (and the one the authorizer is configured with in dev mode).
pub const DEV_AUDIENCE: &str = "local-api";
/// Subject of a token requested without `sub`.
pub const DEFAULT_SUBJECT: &str = "alice";
/// Lifetime of a token requested without `expires_in`.
pub const DEFAULT_EXPIRES_IN: i64 = 3600;
/// `expires_in` bounds. Negative lifetimes mint already-expired tokens, to try the deny path.
pub const MAX_EXPIRES_IN: i64 = 86_400;
pub const MIN_EXPIRES_IN: i64 = -86_400;
const MAX_FIELD_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum DevIssuerError {
    #[error("cannot generate the dev signing key")]
    KeyGeneration,
}

/// A token request that cannot be honoured; answered with 400 `invalid_request`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenRequestError {
    #[error("`{0}` must be a string")]
    NotAString(&'static str),
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    #[error("`{0}` is given more than once")]
    Repeated(&'static str),
    #[error("`{0}` is longer than {MAX_FIELD_LEN} characters")]
    TooLong(&'static str),
    #[error(
        "`expires_in` must be an integer number of seconds between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN}"
    )]
    ExpiresIn,
    #[error("`expires_in` must be a JSON integer (seconds), not {0}")]
    NotAnInteger(&'static str),
    #[error("the body must be a JSON object or a form")]
    Body,
    #[error(
        "unknown query parameter `{0}`: /dev/token takes only `format` (raw or json) in the query; send sub, scope, expires_in and aud in the body"
    )]
    QueryParameter(String),
    #[error("`format` must be raw or json")]
    Format,
    #[error("signing failed")]
    Signing,
}

/// What `POST /dev/token` accepts (form or JSON fields).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenRequest {
    pub sub: Option<String>,
    /// Space-separated scopes, e.g. `read:shows`.
    pub scope: Option<String>,
    /// Lifetime in seconds.
    pub expires_in: Option<i64>,
    /// Overrides the audience (to try a wrong-audience token).
    pub aud: Option<String>,
}

impl TokenRequest {
    /// From a JSON object: text fields are strings, `expires_in` an integer (a string such as
    /// `"60"` is refused, as a typed client should never send it).
    pub fn from_json(fields: &Map<String, Value>) -> Result<Self, TokenRequestError> {
        let text = |name: &'static str| -> Result<Option<String>, TokenRequestError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(value)) => checked(name, value).map(Some),
                Some(_) => Err(TokenRequestError::NotAString(name)),
            }
        };
        let expires_in = match fields.get("expires_in") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_i64().ok_or(TokenRequestError::ExpiresIn)?),
            Some(Value::String(_)) => return Err(TokenRequestError::NotAnInteger("a string")),
            Some(Value::Bool(_)) => return Err(TokenRequestError::NotAnInteger("a boolean")),
            Some(_) => return Err(TokenRequestError::NotAnInteger("an array or object")),
        };
        Ok(Self {
            sub: text("sub")?,
            scope: text("scope")?,
            expires_in,
            aud: text("aud")?,
        })
    }

    /// From `application/x-www-form-urlencoded` pairs: every value is text, so `expires_in`
    /// is parsed from it. A repeated field is refused rather than guessed at.
    pub fn from_form(fields: &[(String, String)]) -> Result<Self, TokenRequestError> {
        let text = |name: &'static str| -> Result<Option<String>, TokenRequestError> {
            let mut values = fields.iter().filter(|(key, _)| key == name);
            let Some((_, value)) = values.next() else {
                return Ok(None);
            };
            if values.next().is_some() {
                return Err(TokenRequestError::Repeated(name));
            }
            checked(name, value).map(Some)
        };
        let expires_in = text("expires_in")?
            .map(|s| s.trim().parse().map_err(|_| TokenRequestError::ExpiresIn))
            .transpose()?;
        Ok(Self {
            sub: text("sub")?,
            scope: text("scope")?,
            expires_in,
            aud: text("aud")?,
        })
    }
}

fn checked(name: &'static str, value: &str) -> Result<String, TokenRequestError> {
    if value.len() > MAX_FIELD_LEN {
        return Err(TokenRequestError::TooLong(name));
    }
    Ok(value.to_owned())
}

/// How `POST /dev/token` answers, from its query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// `?format=raw`: the bare token, for `TOKEN=$(curl ...)`.
    Raw,
    /// `?format=json`: the OAuth token response.
    Json,
    /// No `format`: the bare token for `Accept: text/plain`, else JSON.
    Negotiated,
}

impl TokenFormat {
    /// `format` is the one query parameter; any other is refused rather than ignored.
    pub fn from_query(query: &str) -> Result<Self, TokenRequestError> {
        let mut format = TokenFormat::Negotiated;
        let mut seen = false;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name != "format" {
                let mut name = name.into_owned();
                name.truncate(64);
                return Err(TokenRequestError::QueryParameter(name));
            }
            if seen {
                return Err(TokenRequestError::Repeated("format"));
            }
            seen = true;
            format = match value.as_ref() {
                "raw" => TokenFormat::Raw,
                "json" => TokenFormat::Json,
                _ => return Err(TokenRequestError::Format),
            };
        }
        Ok(format)
    }
}

/// The answer of `POST /dev/token`, shaped like an OAuth 2.0 token response.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

pub struct DevIssuer {
    issuer: String,
    audience: String,
    kid: String,
    jwk: Value,
    key: EncodingKey,
}

impl std::fmt::Debug for DevIssuer {
    // The signing key stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// Generates a fresh P-256 key for `issuer` (which should end with `/`, as Auth0's do).
    pub fn generate(issuer: String, audience: String) -> Result<Self, DevIssuerError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| DevIssuerError::KeyGeneration)?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| DevIssuerError::KeyGeneration)?;
        // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(DevIssuerError::KeyGeneration);
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..]);
        // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "use": "sig", "alg": "ES256", "kid": kid,
        });
        Ok(Self {
            issuer,
            audience,
            kid,
            jwk,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// `<issuer>.well-known/jwks.json`.
    pub fn jwks_uri(&self) -> String {
        format!("{}.well-known/jwks.json", self.issuer)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}dev/token", self.issuer)
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// The OpenID Provider metadata the authorizer discovers the JWKS from.
    pub fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri(),
            "token_endpoint": self.token_endpoint(),
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["none"],
        })
    }

    /// Signs an access token for `request`, at `now` (seconds since the epoch).
    pub fn mint(&self, request: &TokenRequest, now: i64) -> Result<IssuedToken, TokenRequestError> {
        let sub = request.sub.as_deref().unwrap_or(DEFAULT_SUBJECT);
        if sub.is_empty() {
            return Err(TokenRequestError::Empty("sub"));
        }
        let aud = request.aud.as_deref().unwrap_or(&self.audience);
        if aud.is_empty() {
            return Err(TokenRequestError::Empty("aud"));
        }
        let expires_in = request.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
        if !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&expires_in) {
            return Err(TokenRequestError::ExpiresIn);
        }
        let scope = request
            .scope
            .as_deref()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty());
        let mut claims = json!({
            "iss": self.issuer,
            "sub": sub,
            "aud": aud,
            "iat": now,
            "exp": now + expires_in,
        });
        if let Some(scope) = &scope {
            claims["scope"] = json!(scope);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let access_token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|_| TokenRequestError::Signing)?;
        Ok(IssuedToken {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode};

    use super::*;

    fn issuer() -> DevIssuer {
        DevIssuer::generate("http://127.0.0.1:3000/".to_owned(), DEV_AUDIENCE.to_owned()).unwrap()
    }

    fn verify(issuer: &DevIssuer, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(issuer.jwks()["keys"][0].clone()).unwrap();
        let key = DecodingKey::from_jwk(&jwk)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = 0;
        validation.set_issuer(&[issuer.issuer()]);
        validation.set_audience(&[DEV_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Value>(token, &key, &validation).map(|data| data.claims)
    }

    fn now() -> i64 {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap()
    }

    #[test]
    fn minted_token_verifies_against_published_jwk() {
        let issuer = issuer();
        let request = TokenRequest {
            sub: Some("bob".to_owned()),
            scope: Some("  read:shows   write:shows ".to_owned()),
            ..TokenRequest::default()
        };
        let token = issuer.mint(&request, now()).unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in, 3600);
        let claims = verify(&issuer, &token.access_token).unwrap();
        assert_eq!(claims["sub"], "bob");
        assert_eq!(claims["scope"], "read:shows write:shows");
        let header = jsonwebtoken::decode_header(&token.access_token).unwrap();
        assert_eq!(
            header.kid.as_deref(),
            issuer.jwks()["keys"][0]["kid"].as_str()
        );
    }

    #[test]
    fn default_subject_is_alice_without_scope() {
        let issuer = issuer();
        let token = issuer.mint(&TokenRequest::default(), now()).unwrap();
        let claims = verify(&issuer, &token.access_token).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert!(claims.get("scope").is_none());
    }

    #[test]
    fn negative_lifetime_mints_an_expired_token() {
        let issuer = issuer();
        let request = TokenRequest {
            expires_in: Some(-60),
            ..TokenRequest::default()
        };
        let token = issuer.mint(&request, now()).unwrap();
        let error = verify(&issuer, &token.access_token).unwrap_err();
        assert_eq!(
            error.kind(),
            &jsonwebtoken::errors::ErrorKind::ExpiredSignature
        );
    }

    #[test]
    fn out_of_bounds_requests_are_refused() {
        let issuer = issuer();
        let long = TokenRequest {
            expires_in: Some(MAX_EXPIRES_IN + 1),
            ..TokenRequest::default()
        };
        assert_eq!(
            issuer.mint(&long, 0).unwrap_err(),
            TokenRequestError::ExpiresIn
        );
        let empty = TokenRequest {
            sub: Some(String::new()),
            ..TokenRequest::default()
        };
        assert_eq!(
            issuer.mint(&empty, 0).unwrap_err(),
            TokenRequestError::Empty("sub")
        );
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn form_values_are_text_and_expires_in_is_parsed() {
        let request = TokenRequest::from_form(&form(&[
            ("sub", "carol"),
            ("expires_in", "120"),
            ("scope", "a b"),
        ]))
        .unwrap();
        assert_eq!(request.expires_in, Some(120));
        assert_eq!(request.sub.as_deref(), Some("carol"));
        assert_eq!(
            TokenRequest::from_form(&form(&[("expires_in", "soon")])).unwrap_err(),
            TokenRequestError::ExpiresIn
        );
        assert_eq!(
            TokenRequest::from_form(&form(&[("sub", "a"), ("sub", "b")])).unwrap_err(),
            TokenRequestError::Repeated("sub")
        );
    }

    #[test]
    fn json_fields_must_have_their_types() {
        let fields = json!({"expires_in": 60});
        assert_eq!(
            TokenRequest::from_json(fields.as_object().unwrap())
                .unwrap()
                .expires_in,
            Some(60)
        );
        for (fields, error) in [
            (
                json!({"expires_in": "60"}),
                TokenRequestError::NotAnInteger("a string"),
            ),
            (
                json!({"expires_in": true}),
                TokenRequestError::NotAnInteger("a boolean"),
            ),
            (
                json!({"expires_in": [60]}),
                TokenRequestError::NotAnInteger("an array or object"),
            ),
            (json!({"expires_in": 1.5}), TokenRequestError::ExpiresIn),
            (json!({"sub": 7}), TokenRequestError::NotAString("sub")),
        ] {
            assert_eq!(
                TokenRequest::from_json(fields.as_object().unwrap()).unwrap_err(),
                error,
                "{fields}"
            );
        }
    }

    #[test]
    fn query_takes_only_format() {
        assert_eq!(TokenFormat::from_query(""), Ok(TokenFormat::Negotiated));
        assert_eq!(TokenFormat::from_query("format=raw"), Ok(TokenFormat::Raw));
        assert_eq!(
            TokenFormat::from_query("format=json"),
            Ok(TokenFormat::Json)
        );
        assert_eq!(
            TokenFormat::from_query("format=xml"),
            Err(TokenRequestError::Format)
        );
        assert_eq!(
            TokenFormat::from_query("format=raw&format=json"),
            Err(TokenRequestError::Repeated("format"))
        );
        assert_eq!(
            TokenFormat::from_query("sub=bob"),
            Err(TokenRequestError::QueryParameter("sub".to_owned()))
        );
    }

    #[test]
    fn keys_differ_per_start() {
        assert_ne!(issuer().jwks(), issuer().jwks());
    }

    #[test]
    fn discovery_points_at_jwks() {
        let issuer = issuer();
        let doc = issuer.openid_configuration();
        assert_eq!(doc["issuer"], "http://127.0.0.1:3000/");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:3000/.well-known/jwks.json"
        );
    }
}
