//! Configuration: read once at start-up into a typed [`Config`], with errors that name the
//! variable and say how to fix it. The handler never reads the environment.
//!
//! Every default lives in [`defaults`]. An empty variable counts as unset, so a SAM parameter
//! left at `""` behaves like an absent one.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use url::{Host, Url};

use crate::alg::Alg;
use crate::claim_rules::RouteClaimRules;
use crate::claims::ClaimMapping;
use crate::cognito::CognitoIssuer;
use crate::config_file::parse_document;
use crate::issuer_policy::IssuerPolicy;
use crate::rules::{PathRules, RouteScope};
use crate::token::TokenSource;

/// Default values, in one place.
pub mod defaults {
    use std::time::Duration;

    /// `JWT_LEEWAY_SECONDS`: no clock-skew allowance unless asked for.
    pub const LEEWAY: Duration = Duration::from_secs(0);
    /// Upper bound for `JWT_LEEWAY_SECONDS`.
    pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
    /// `JWKS_TIMEOUT_MS`: total time for one fetch attempt (discovery + JWKS).
    pub const JWKS_TIMEOUT: Duration = Duration::from_millis(3000);
    /// `JWKS_CACHE_TTL_SECONDS`: how long fetched keys are used before refetching.
    pub const JWKS_CACHE_TTL: Duration = Duration::from_secs(3600);
    /// `JWKS_REFETCH_COOLDOWN_SECONDS`: at most one fetch per window for unknown `kid`s.
    pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(15);
    /// `JWKS_FAILURE_BACKOFF_SECONDS`: after a failed fetch, deny fast for this long
    /// (or serve stale keys) instead of retrying on every request.
    pub const JWKS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
    /// `JWKS_MAX_STALE_SECONDS`: while the IdP fails, the last good keys are served for at most
    /// this long after they were fetched; then requests are denied (`jwks_unavailable`).
    pub const JWKS_MAX_STALE: Duration = Duration::from_secs(24 * 3600);
    /// Largest JWKS (or discovery document) body we read, in bytes.
    pub const JWKS_MAX_BYTES: usize = 1024 * 1024;
}

/// Whole authorizer configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Trusted issuers; a token is checked against the one its `iss` names. Never empty.
    pub issuers: Vec<IssuerConfig>,
    /// Clock-skew allowance for `exp` and `nbf`. Default 0 s, at most 300 s.
    pub leeway: Duration,
    /// How keys are fetched and cached.
    pub jwks: JwksSettings,
    /// Answer shape for HTTP API payload 2.0 events. Default [`ResponseStyle::Simple`].
    pub response_style: ResponseStyle,
    /// Where tokens are looked for, in order. Default: `Authorization: Bearer`.
    pub token_sources: Vec<TokenSource>,
    /// Which paths need a token. Default: all.
    pub path_rules: PathRules,
    /// Which claims reach the context, under which names. Default: all, unchanged.
    pub claim_mapping: ClaimMapping,
    /// Scopes required per route. Default: none.
    pub route_scopes: Vec<RouteScope>,
    /// Claim rules per route (`route_claim_rules`). Default: none.
    pub route_claim_rules: Vec<RouteClaimRules>,
    /// `AUTHORIZER_CACHE_TTL_SECONDS`: how long API Gateway caches this authorizer's answers
    /// (the API's `ReauthorizeEvery` / `authorizerResultTtlInSeconds`). `None` (unset) means
    /// unknown, and is treated as "cached". Route rules require `Some(0)`.
    pub api_cache_ttl: Option<Duration>,
    /// `JWKS_SNAPSHOT_FILE`: a file written by `make jwks-snapshot` whose keys are used at
    /// start-up instead of a fetch, for as long as fetched keys would be (see
    /// [`crate::snapshot`]). Default: none (keys are fetched during init).
    pub jwks_snapshot: Option<PathBuf>,
}

impl Config {
    /// Whether decisions need the requested route (path rules, required scopes or route claim
    /// rules), read from the method/route ARN.
    pub fn decisions_depend_on_route(&self) -> bool {
        self.path_rules != PathRules::ProtectAll
            || !self.route_scopes.is_empty()
            || !self.route_claim_rules.is_empty()
    }
}

/// One trusted token issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// A JWKS given in configuration (validated at start-up): used instead of fetching.
    pub jwks_inline: Option<Value>,
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

/// JWKS fetching and caching parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    /// Total time per fetch attempt. Default 3 s.
    pub timeout: Duration,
    /// Key lifetime in the cache. Default 1 h.
    pub cache_ttl: Duration,
    /// Minimum time between fetches triggered by unknown `kid`s. Default 15 s.
    pub refetch_cooldown: Duration,
    /// After a failed fetch, no new attempt for this long. Default 5 s.
    pub failure_backoff: Duration,
    /// Body size cap. Default 1 MiB.
    pub max_bytes: usize,
    /// How long after their fetch the last good keys may still be served while the IdP
    /// fails. Default 24 h.
    pub max_stale: Duration,
    /// Which roots verify the IdP's certificate. Default [`TlsRoots::CompiledIn`].
    pub tls_roots: TlsRoots,
}

/// Which root certificates verify the IdP's https certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// Mozilla's roots as compiled into the binary (webpki-root-certs): building the https
    /// client reads no file (0.16 ms, against about 7 ms for the system's roots, measured side
    /// by side; README, Performance). The default.
    #[default]
    CompiledIn,
    /// The system's roots, read when the https client is built (rustls-native-certs): used when
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, which is how a private CA (or a test CA) is
    /// trusted.
    System,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            timeout: defaults::JWKS_TIMEOUT,
            cache_ttl: defaults::JWKS_CACHE_TTL,
            refetch_cooldown: defaults::JWKS_REFETCH_COOLDOWN,
            failure_backoff: defaults::JWKS_FAILURE_BACKOFF,
            max_bytes: defaults::JWKS_MAX_BYTES,
            max_stale: defaults::JWKS_MAX_STALE,
            tls_roots: TlsRoots::default(),
        }
    }
}

/// How HTTP API payload 2.0 events are answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseStyle {
    /// `{"isAuthorized": bool, "context": {...}}` (the authorizer has `EnableSimpleResponses: true`).
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

/// A configuration problem. The message names the variable and the fix; it never echoes
/// a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error in {var}: {message}")]
pub struct ConfigError {
    /// The environment variable (or configuration key) at fault.
    pub var: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(var: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map instead of touching the
    /// process environment).
    pub fn from_lookup<F>(lookup: F) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let document = match (get("AUTHORIZER_CONFIG"), get("AUTHORIZER_CONFIG_FILE")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "AUTHORIZER_CONFIG",
                    "and AUTHORIZER_CONFIG_FILE are both set: keep one",
                ));
            }
            (Some(text), None) => Some(parse_document("AUTHORIZER_CONFIG", &text, &lookup)?),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::new(
                        "AUTHORIZER_CONFIG_FILE",
                        format!("cannot read {path:?}: {e}"),
                    )
                })?;
                Some(parse_document("AUTHORIZER_CONFIG_FILE", &text, &lookup)?)
            }
            (None, None) => None,
        };
        let mut document = document.unwrap_or_default();

        let issuers = match document.issuers.take() {
            Some(issuers) => {
                for var in ["JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URI"] {
                    if get(var).is_some() {
                        return Err(ConfigError::new(
                            var,
                            "is set, but the configuration document lists `issuers`: configure issuers in one place",
                        ));
                    }
                }
                issuers
            }
            None => vec![issuer_from_env(&get)?],
        };
        let leeway = match get("JWT_LEEWAY_SECONDS") {
            None => defaults::LEEWAY,
            Some(v) => {
                let secs = parse_u64("JWT_LEEWAY_SECONDS", &v)?;
                if secs > defaults::MAX_LEEWAY.as_secs() {
                    return Err(ConfigError::new(
                        "JWT_LEEWAY_SECONDS",
                        format!(
                            "{secs} is too large: use at most {} seconds (0 is the safe default)",
                            defaults::MAX_LEEWAY.as_secs()
                        ),
                    ));
                }
                Duration::from_secs(secs)
            }
        };

        let mut jwks = JwksSettings::default();
        if let Some(v) = get("JWKS_TIMEOUT_MS") {
            jwks.timeout =
                Duration::from_millis(parse_in_range("JWKS_TIMEOUT_MS", &v, 100, 30_000)?);
        }
        if let Some(v) = get("JWKS_CACHE_TTL_SECONDS") {
            jwks.cache_ttl =
                Duration::from_secs(parse_in_range("JWKS_CACHE_TTL_SECONDS", &v, 1, 86_400)?);
        }
        if let Some(v) = get("JWKS_REFETCH_COOLDOWN_SECONDS") {
            jwks.refetch_cooldown = Duration::from_secs(parse_in_range(
                "JWKS_REFETCH_COOLDOWN_SECONDS",
                &v,
                1,
                3_600,
            )?);
        }
        if let Some(v) = get("JWKS_FAILURE_BACKOFF_SECONDS") {
            jwks.failure_backoff =
                Duration::from_secs(parse_in_range("JWKS_FAILURE_BACKOFF_SECONDS", &v, 1, 300)?);
        }

        if let Some(v) = get("JWKS_MAX_STALE_SECONDS") {
            jwks.max_stale =
                Duration::from_secs(parse_in_range("JWKS_MAX_STALE_SECONDS", &v, 0, 604_800)?);
        }

        if get("SSL_CERT_FILE").is_some() || get("SSL_CERT_DIR").is_some() {
            jwks.tls_roots = TlsRoots::System;
        }

        let response_style = match get("AUTHORIZER_RESPONSE_STYLE") {
            None => ResponseStyle::default(),
            Some(v) => parse_response_style("AUTHORIZER_RESPONSE_STYLE", &v)?,
        };
        let api_cache_ttl = get("AUTHORIZER_CACHE_TTL_SECONDS")
            .map(|v| parse_in_range("AUTHORIZER_CACHE_TTL_SECONDS", &v, 0, 3_600))
            .transpose()?
            .map(Duration::from_secs);

        let config = Config {
            issuers,
            leeway,
            jwks,
            response_style,
            token_sources: document.token_sources.unwrap_or_else(TokenSource::defaults),
            path_rules: document.path_rules,
            claim_mapping: document.claim_mapping,
            route_scopes: document.route_scopes,
            route_claim_rules: document.route_claim_rules,
            api_cache_ttl,
            jwks_snapshot: get("JWKS_SNAPSHOT_FILE").map(PathBuf::from),
        };
        check_route_rules_uncached(&config)?;
        Ok(config)
    }
}

/// Route rules (public/protected paths, required scopes) make an answer true for one route
/// only, but API Gateway caches an answer under the identity source (the `Authorization`
/// header) and replays it for the caller's other routes: an anonymous allow on a public path
/// would then open protected routes, and an allow for a route without scope rules would
/// open the routes that need a scope. HTTP API simple answers (`isAuthorized`) cannot be
/// narrowed to a route at all. Adding `$context.routeKey` to the identity sources does not
/// make this safe either: the route key is the route template (`ANY /{proxy+}`, `$default`,
/// `GET /items/{id}`), which many paths share. So route rules are accepted only when the
/// answer cache is known to be off.
fn check_route_rules_uncached(config: &Config) -> Result<(), ConfigError> {
    if !config.decisions_depend_on_route() || config.api_cache_ttl == Some(Duration::ZERO) {
        return Ok(());
    }
    let seen = match config.api_cache_ttl {
        None => "is not set (so the API Gateway authorizer cache is assumed on)".to_owned(),
        Some(ttl) => format!("is {} seconds", ttl.as_secs()),
    };
    Err(ConfigError::new(
        "AUTHORIZER_CACHE_TTL_SECONDS",
        format!(
            "{seen}, but public_paths, protected_paths, required_scopes or route_claim_rules make answers depend on \
             the route, and API Gateway would replay a cached answer on the caller's other routes. \
             Turn the authorizer cache off (SAM parameter AuthorizerCacheTtlSeconds=0, i.e. \
             ReauthorizeEvery / authorizerResultTtlInSeconds 0) and set \
             AUTHORIZER_CACHE_TTL_SECONDS=0 to match, or remove the route rules"
        ),
    ))
}

/// The single issuer of `JWT_ISSUER`, `JWT_AUDIENCE`, `JWKS_URI`, `COGNITO_TOKEN_USE`.
fn issuer_from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<IssuerConfig, ConfigError> {
    let issuer = get("JWT_ISSUER").ok_or_else(|| {
        ConfigError::new(
            "JWT_ISSUER",
            "not set: set it to your identity provider's issuer, exactly as tokens carry it in `iss` \
             (Auth0: https://<tenant>.auth0.com/ with the trailing slash; Cognito: \
             https://cognito-idp.<region>.amazonaws.com/<user pool id>), or list issuers in AUTHORIZER_CONFIG",
        )
    })?;
    let audience = get("JWT_AUDIENCE").ok_or_else(|| {
        ConfigError::new(
            "JWT_AUDIENCE",
            "not set: set it to the accepted audience(s), comma-separated (Auth0: the API identifier; \
             Cognito: the app client id(s))",
        )
    })?;
    parse_issuer(
        "JWT_ISSUER",
        &issuer,
        "JWT_AUDIENCE",
        &audience,
        get("JWKS_URI").as_deref().map(|u| ("JWKS_URI", u)),
        get("COGNITO_TOKEN_USE")
            .as_deref()
            .map(|u| ("COGNITO_TOKEN_USE", u)),
    )
}

/// Builds one issuer's configuration; `*_var` names are used in error messages.
pub(crate) fn parse_issuer(
    issuer_var: &str,
    issuer: &str,
    audience_var: &str,
    audience: &str,
    jwks_uri: Option<(&str, &str)>,
    token_use: Option<(&str, &str)>,
) -> Result<IssuerConfig, ConfigError> {
    let issuer_url = parse_secure_url(issuer_var, issuer)?;
    let audiences = parse_list(audience);
    if audiences.is_empty() {
        return Err(ConfigError::new(
            audience_var,
            "lists no audience: give at least one value (comma-separated)",
        ));
    }
    let jwks_uri = jwks_uri
        .map(|(var, value)| parse_secure_url(var, value))
        .transpose()?;
    let cognito = if is_cognito_issuer(&issuer_url) {
        let token_use = match token_use {
            None => vec![TokenUse::Access],
            Some((var, value)) => parse_token_use(var, value)?,
        };
        Some(CognitoRules { token_use })
    } else {
        None
    };
    Ok(IssuerConfig {
        issuer: issuer.to_owned(),
        audiences,
        jwks_uri,
        cognito,
        jwks_inline: None,
        hmac_keys: Vec::new(),
        policy: IssuerPolicy::default(),
    })
}

fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn parse_token_use(var: &str, value: &str) -> Result<Vec<TokenUse>, ConfigError> {
    let mut uses = Vec::new();
    for item in parse_list(value) {
        let token_use = match item.as_str() {
            "access" => TokenUse::Access,
            "id" => TokenUse::Id,
            other => {
                return Err(ConfigError::new(
                    var,
                    format!("unknown token use {other:?}: use `access`, `id` or `access,id`"),
                ));
            }
        };
        if !uses.contains(&token_use) {
            uses.push(token_use);
        }
    }
    if uses.is_empty() {
        return Err(ConfigError::new(
            var,
            "is empty: use `access`, `id` or `access,id`",
        ));
    }
    Ok(uses)
}

pub(crate) fn parse_response_style(var: &str, value: &str) -> Result<ResponseStyle, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "simple" => Ok(ResponseStyle::Simple),
        "iam" => Ok(ResponseStyle::Iam),
        _ => Err(ConfigError::new(
            var,
            format!(
                "unknown style {value:?}: use `simple` (HTTP API authorizer with EnableSimpleResponses) \
                 or `iam` (IAM policy answers)"
            ),
        )),
    }
}

fn parse_u64(var: &str, value: &str) -> Result<u64, ConfigError> {
    value
        .parse::<u64>()
        .map_err(|_| ConfigError::new(var, format!("{value:?} is not a whole non-negative number")))
}

pub(crate) fn parse_in_range(
    var: &str,
    value: &str,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let n = parse_u64(var, value)?;
    if !(min..=max).contains(&n) {
        return Err(ConfigError::new(
            var,
            format!("{n} is out of range: use a value from {min} to {max}"),
        ));
    }
    Ok(n)
}

/// An issuer or key URL: `https`, or `http` on a loopback host (local development and tests).
pub(crate) fn parse_secure_url(var: &str, value: &str) -> Result<Url, ConfigError> {
    let shown = without_userinfo(value);
    let url = Url::parse(value)
        .map_err(|e| ConfigError::new(var, format!("{shown:?} is not a valid URL ({e})")))?;
    check_secure_url(&url)
        .map_err(|problem| ConfigError::new(var, format!("{shown:?} {problem}")))?;
    Ok(url)
}

/// `value` with any `user:password@` removed, for error messages (which reach the Lambda
/// init error and the logs). Works on text that does not parse as a URL too.
fn without_userinfo(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return value.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &value[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!(
            "{}[credentials removed]@{}",
            &value[..authority_start],
            &rest[at + 1..]
        ),
        None => value.to_owned(),
    }
}

/// The https rule shared by configuration and discovered `jwks_uri`s.
pub(crate) fn check_secure_url(url: &Url) -> Result<(), &'static str> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment (#...)");
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if url.host().is_some_and(|h| is_loopback(&h)) => Ok(()),
        "http" => Err(
            "must use https (plain http is only accepted for loopback hosts: 127.0.0.1, ::1, localhost)",
        ),
        _ => Err("must be an https URL"),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// `https://cognito-idp.<region>.amazonaws.com/<user pool id>` or
/// `https://issuer-cognito-idp.<region>.amazonaws.com/<user pool id>`, or `.amazonaws.com.cn` in
/// the China partition (see [`crate::cognito`]).
pub(crate) fn is_cognito_issuer(url: &Url) -> bool {
    CognitoIssuer::parse(url).is_some()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const AUTH0: &str = "https://tenant.eu.auth0.com/";
    const COGNITO: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";

    #[test]
    fn minimal_config_uses_defaults() {
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "https://api.example.com"),
        ])
        .unwrap();
        assert_eq!(c.issuers.len(), 1);
        let issuer = &c.issuers[0];
        assert_eq!(issuer.issuer, AUTH0);
        assert_eq!(issuer.audiences, vec!["https://api.example.com"]);
        assert_eq!(issuer.jwks_uri, None);
        assert_eq!(issuer.cognito, None);
        assert_eq!(c.leeway, Duration::ZERO);
        assert_eq!(c.jwks, JwksSettings::default());
        assert_eq!(c.response_style, ResponseStyle::Simple);
    }

    #[test]
    fn missing_issuer_is_rejected_naming_variable() {
        let err = config(&[("JWT_AUDIENCE", "a")]).unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
        assert!(err.to_string().contains("JWT_ISSUER"));
    }

    #[test]
    fn empty_issuer_counts_as_missing() {
        let err = config(&[("JWT_ISSUER", "  "), ("JWT_AUDIENCE", "a")]).unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
    }

    #[test]
    fn missing_audience_is_rejected_naming_variable() {
        let err = config(&[("JWT_ISSUER", AUTH0)]).unwrap_err();
        assert_eq!(err.var, "JWT_AUDIENCE");
    }

    #[test]
    fn audience_of_only_commas_is_rejected() {
        let err = config(&[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", " , ,")]).unwrap_err();
        assert_eq!(err.var, "JWT_AUDIENCE");
    }

    #[test]
    fn audience_list_is_split_and_trimmed() {
        let c = config(&[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", " a , b,,c ")]).unwrap();
        assert_eq!(c.issuers[0].audiences, vec!["a", "b", "c"]);
    }

    #[test]
    fn http_issuer_on_public_host_is_rejected() {
        let err = config(&[
            ("JWT_ISSUER", "http://tenant.auth0.com/"),
            ("JWT_AUDIENCE", "a"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
        assert!(err.message.contains("https"));
    }

    #[test]
    fn http_issuer_on_loopback_is_accepted() {
        for issuer in [
            "http://127.0.0.1:8080/",
            "http://127.1.2.3/",
            "http://[::1]:9000",
            "http://localhost:3000/",
        ] {
            let c = config(&[("JWT_ISSUER", issuer), ("JWT_AUDIENCE", "a")]);
            assert!(c.is_ok(), "{issuer}: {c:?}");
        }
    }

    #[test]
    fn http_issuer_on_lookalike_host_is_rejected() {
        for issuer in [
            "http://localhost.evil.com/",
            "http://128.0.0.1/",
            "http://0.0.0.0/",
        ] {
            let err = config(&[("JWT_ISSUER", issuer), ("JWT_AUDIENCE", "a")]).unwrap_err();
            assert_eq!(err.var, "JWT_ISSUER", "{issuer}");
        }
    }

    #[test]
    fn non_http_issuer_is_rejected() {
        let err =
            config(&[("JWT_ISSUER", "ftp://example.com/"), ("JWT_AUDIENCE", "a")]).unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
        let err = config(&[("JWT_ISSUER", "not a url"), ("JWT_AUDIENCE", "a")]).unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
    }

    #[test]
    fn issuer_with_credentials_is_rejected() {
        let err = config(&[
            ("JWT_ISSUER", "https://u:p@example.com/"),
            ("JWT_AUDIENCE", "a"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "JWT_ISSUER");
        assert!(!err.to_string().contains("u:p@") || err.message.contains("credentials"));
    }

    #[test]
    fn jwks_uri_follows_https_rule() {
        let err = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_URI", "http://keys.example.com/jwks.json"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "JWKS_URI");
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_URI", "https://keys.example.com/jwks.json"),
        ])
        .unwrap();
        assert_eq!(
            c.issuers[0].jwks_uri.as_ref().map(Url::as_str),
            Some("https://keys.example.com/jwks.json")
        );
    }

    #[test]
    fn issuer_is_kept_byte_for_byte() {
        // Url would add a trailing slash; `iss` comparison must use what the user wrote.
        let c = config(&[
            ("JWT_ISSUER", "https://idp.example.com"),
            ("JWT_AUDIENCE", "a"),
        ])
        .unwrap();
        assert_eq!(c.issuers[0].issuer, "https://idp.example.com");
    }

    #[test]
    fn cognito_issuer_defaults_to_access_tokens() {
        let c = config(&[("JWT_ISSUER", COGNITO), ("JWT_AUDIENCE", "client1")]).unwrap();
        assert_eq!(
            c.issuers[0].cognito,
            Some(CognitoRules {
                token_use: vec![TokenUse::Access]
            })
        );
    }

    #[test]
    fn cognito_token_use_list_is_parsed() {
        let c = config(&[
            ("JWT_ISSUER", COGNITO),
            ("JWT_AUDIENCE", "client1"),
            ("COGNITO_TOKEN_USE", "id, access"),
        ])
        .unwrap();
        assert_eq!(
            c.issuers[0].cognito.as_ref().unwrap().token_use,
            vec![TokenUse::Id, TokenUse::Access]
        );
    }

    #[test]
    fn cognito_token_use_unknown_value_is_rejected() {
        let err = config(&[
            ("JWT_ISSUER", COGNITO),
            ("JWT_AUDIENCE", "client1"),
            ("COGNITO_TOKEN_USE", "refresh"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "COGNITO_TOKEN_USE");
    }

    #[test]
    fn cognito_detection_requires_exact_host_shape() {
        let yes = Url::parse(COGNITO).unwrap();
        assert!(is_cognito_issuer(&yes));
        for no in [
            "https://cognito-idp.eu-west-1.amazonaws.com.evil.com/pool",
            "https://cognito-idp.eu-west-1.amazonaws.com/",
            "https://cognito-idp.eu-west-1.amazonaws.com/pool/extra",
            "https://tenant.auth0.com/",
        ] {
            assert!(!is_cognito_issuer(&Url::parse(no).unwrap()), "{no}");
        }
    }

    #[test]
    fn leeway_above_maximum_is_rejected() {
        let err = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWT_LEEWAY_SECONDS", "301"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "JWT_LEEWAY_SECONDS");
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWT_LEEWAY_SECONDS", "300"),
        ])
        .unwrap();
        assert_eq!(c.leeway, Duration::from_secs(300));
    }

    #[test]
    fn non_numeric_durations_are_rejected_naming_variable() {
        for var in [
            "JWT_LEEWAY_SECONDS",
            "JWKS_TIMEOUT_MS",
            "JWKS_CACHE_TTL_SECONDS",
            "JWKS_REFETCH_COOLDOWN_SECONDS",
            "JWKS_FAILURE_BACKOFF_SECONDS",
            "JWKS_MAX_STALE_SECONDS",
            "AUTHORIZER_CACHE_TTL_SECONDS",
        ] {
            let err =
                config(&[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a"), (var, "-1")]).unwrap_err();
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn tls_roots_are_compiled_in_unless_ssl_cert_variables_are_set() {
        let base = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        assert_eq!(config(&base).unwrap().jwks.tls_roots, TlsRoots::CompiledIn);
        for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
            let mut env = base.to_vec();
            env.push((var, "/etc/pki/private-ca.pem"));
            assert_eq!(
                config(&env).unwrap().jwks.tls_roots,
                TlsRoots::System,
                "{var}"
            );
            env.pop();
            env.push((var, "  "));
            assert_eq!(
                config(&env).unwrap().jwks.tls_roots,
                TlsRoots::CompiledIn,
                "empty {var}"
            );
        }
    }

    #[test]
    fn jwks_settings_are_read() {
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_TIMEOUT_MS", "500"),
            ("JWKS_CACHE_TTL_SECONDS", "60"),
            ("JWKS_REFETCH_COOLDOWN_SECONDS", "10"),
            ("JWKS_FAILURE_BACKOFF_SECONDS", "2"),
            ("JWKS_MAX_STALE_SECONDS", "7200"),
        ])
        .unwrap();
        assert_eq!(c.jwks.max_stale, Duration::from_secs(7200));
        assert_eq!(c.jwks.timeout, Duration::from_millis(500));
        assert_eq!(c.jwks.cache_ttl, Duration::from_secs(60));
        assert_eq!(c.jwks.refetch_cooldown, Duration::from_secs(10));
        assert_eq!(c.jwks.failure_backoff, Duration::from_secs(2));
    }

    #[test]
    fn zero_cooldown_is_rejected() {
        let err = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_REFETCH_COOLDOWN_SECONDS", "0"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "JWKS_REFETCH_COOLDOWN_SECONDS");
    }

    #[test]
    fn response_style_is_parsed_case_insensitively() {
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("AUTHORIZER_RESPONSE_STYLE", "IAM"),
        ])
        .unwrap();
        assert_eq!(c.response_style, ResponseStyle::Iam);
        let err = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("AUTHORIZER_RESPONSE_STYLE", "x"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_RESPONSE_STYLE");
    }

    fn with_route_rule(ttl: Option<&str>) -> Result<Config, ConfigError> {
        let document = r#"{"issuers": [{"issuer": "https://tenant.eu.auth0.com/", "audience": "a"}],
                           "public_paths": ["/login"]}"#;
        let mut vars = vec![("AUTHORIZER_CONFIG", document)];
        if let Some(ttl) = ttl {
            vars.push(("AUTHORIZER_CACHE_TTL_SECONDS", ttl));
        }
        config(&vars)
    }

    #[test]
    fn route_rules_with_unknown_cache_ttl_are_rejected() {
        let err = with_route_rule(None).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CACHE_TTL_SECONDS");
        assert!(err.message.contains("AuthorizerCacheTtlSeconds=0"), "{err}");
    }

    #[test]
    fn route_rules_with_cache_on_are_rejected() {
        let err = with_route_rule(Some("300")).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CACHE_TTL_SECONDS");
        assert!(err.message.contains("300 seconds"), "{err}");
        let scopes = r#"{"issuers": [{"issuer": "https://t.auth0.com/", "audience": "a"}],
                         "required_scopes": {"GET /shows": "read:shows"}}"#;
        let err = config(&[
            ("AUTHORIZER_CONFIG", scopes),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "1"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CACHE_TTL_SECONDS");
    }

    #[test]
    fn route_rules_with_cache_off_are_accepted() {
        let c = with_route_rule(Some("0")).unwrap();
        assert!(c.decisions_depend_on_route());
        assert_eq!(c.api_cache_ttl, Some(Duration::ZERO));
    }

    #[test]
    fn cache_ttl_without_route_rules_is_accepted_and_validated() {
        let c = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "300"),
        ])
        .unwrap();
        assert_eq!(c.api_cache_ttl, Some(Duration::from_secs(300)));
        let err = config(&[
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "3601"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CACHE_TTL_SECONDS");
    }

    #[test]
    fn url_credentials_never_appear_in_config_errors() {
        for (var, value) in [
            (
                "JWKS_URI",
                "https://admin:hunter2secret@keys.example.com/jwks.json",
            ),
            (
                "JWKS_URI",
                "http://admin:hunter2secret@keys.example.com/jwks.json",
            ),
            (
                "JWKS_URI",
                "https://admin:hunter2secret@keys.exa mple.com/jwks.json",
            ),
            ("JWT_ISSUER", "https://hunter2secret@tenant.auth0.com/"),
        ] {
            let mut vars = vec![("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            let err = config(&vars).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(!err.to_string().contains("hunter2secret"), "{err}");
            assert!(err.to_string().contains("credentials removed"), "{err}");
        }
        assert_eq!(
            without_userinfo("https://keys.example.com/a@b"),
            "https://keys.example.com/a@b"
        );
    }

    #[test]
    fn cognito_issuer_in_china_partition_gets_cognito_rules() {
        let c = config(&[
            (
                "JWT_ISSUER",
                "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbCdEf123",
            ),
            ("JWT_AUDIENCE", "client1"),
        ])
        .unwrap();
        assert_eq!(
            c.issuers[0].cognito.as_ref().map(|r| r.token_use.clone()),
            Some(vec![TokenUse::Access])
        );
        for no in [
            "https://cognito-idp.cn-north-1.amazonaws.com.cn.evil.com/pool",
            "https://cognito-idp.cn-north-1.amazonaws.cn/pool",
        ] {
            assert!(!is_cognito_issuer(&Url::parse(no).unwrap()), "{no}");
        }
    }
}
