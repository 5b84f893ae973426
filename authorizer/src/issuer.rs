//! One trusted issuer: the `iss` a token must carry, its audiences, where its keys are, and
//! what else its tokens must be. Built by the configuration (`crate::config`), read by the
//! verifier.

use std::sync::Arc;

use url::Url;

use crate::alg::Alg;
use crate::issuer_policy::IssuerPolicy;
use crate::jwks::{KeySet, KeySource};

/// One trusted token issuer.
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// Exact value the token's `iss` must have (kept byte for byte as configured).
    pub issuer: String,
    /// Accepted audiences (`aud`; for Cognito access tokens, `client_id`). Never empty.
    pub audiences: Vec<String>,
    /// Where the keys are. `None`: discover from `<issuer>/.well-known/openid-configuration`,
    /// falling back to `<issuer>/.well-known/jwks.json`.
    pub jwks_uri: Option<Url>,
    /// Cognito rules, present when the issuer is a Cognito user pool.
    pub cognito: Option<CognitoRules>,
    /// A JWKS given in configuration, parsed once at start-up: used instead of fetching.
    pub jwks_inline: Option<Arc<KeySet>>,
    /// Shared secrets for HS256/384/512 tokens, each under its own `kid`. They live apart from
    /// the JWKS keys: an HMAC token is only ever checked against these, and a JWKS never
    /// provides an HMAC key. An issuer with secrets and no `jwks_uri`/`jwks` fetches no keys.
    pub hmac_keys: Vec<HmacKey>,
    /// What its tokens must be beyond the standard checks, and what the answer takes from them
    /// (RFC 9068 profile, lifetime, claim rules, `principalId`, usage-plan key). Default: nothing.
    pub policy: IssuerPolicy,
}

/// A shared secret for HMAC-signed tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HmacKey {
    /// The `kid` tokens signed with it carry.
    pub kid: String,
    /// The one algorithm it verifies.
    pub alg: Alg,
    /// The secret.
    pub secret: Secret,
}

/// Secret bytes; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.0.len())
    }
}

/// Rules specific to Amazon Cognito user pools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CognitoRules {
    /// Accepted `token_use` values. Default: access only.
    pub token_use: Vec<TokenUse>,
}

/// Cognito's `token_use` claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenUse {
    /// Access token: carries `client_id`, no `aud`.
    Access,
    /// ID token: carries `aud`.
    Id,
}

impl TokenUse {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Id => "id",
        }
    }
}

impl IssuerConfig {
    /// Where its public keys come from: inline keys, a JWKS URL (configured or discovered),
    /// or nothing at all for an issuer with HMAC secrets only.
    pub fn key_source(&self) -> KeySource {
        if let Some(keys) = &self.jwks_inline {
            return KeySource::Inline(Arc::clone(keys));
        }
        if self.jwks_uri.is_none() && !self.hmac_keys.is_empty() {
            return KeySource::None;
        }
        KeySource::Remote {
            jwks_uri: self.jwks_uri.clone(),
        }
    }
}
