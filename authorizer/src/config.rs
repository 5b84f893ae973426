//! Configuration: read once at start-up into a typed [`Config`], with errors that name the
//! variable and say how to fix it. The handler never reads the environment.
//!
//! Every default lives in [`defaults`]. An empty variable counts as unset, so a SAM parameter
//! left at `""` behaves like an absent one.

use std::path::PathBuf;
use std::time::Duration;

use crate::claim_rules::RouteClaimRules;
use crate::claims::ClaimMapping;
use crate::config_error::ConfigError;
use crate::config_file::{parse_document, parse_issuer, parse_list};
use crate::issuer::IssuerConfig;
use crate::jwks::{JwksSettings, TlsRoots};
use crate::policy::ResponseStyle;
use crate::rules::{PathRules, RouteScope};
use crate::token::TokenSource;

/// Default values, in one place.
pub(crate) mod defaults {
    use std::time::Duration;

    /// `JWT_LEEWAY_SECONDS`: no clock-skew allowance unless asked for.
    pub(crate) const LEEWAY: Duration = Duration::from_secs(0);
    /// Upper bound for `JWT_LEEWAY_SECONDS`.
    pub(crate) const MAX_LEEWAY: Duration = Duration::from_secs(300);
    // The key cache's, with the settings they are the defaults of.
}

/// Whole authorizer configuration.
#[derive(Clone, Debug)]
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
    let token_use = get("COGNITO_TOKEN_USE").map(|v| parse_list(&v));
    parse_issuer(
        ("JWT_ISSUER", &issuer),
        ("JWT_AUDIENCE", parse_list(&audience)),
        get("JWKS_URI").as_deref().map(|u| ("JWKS_URI", u)),
        token_use.map(|uses| ("COGNITO_TOKEN_USE", uses)),
    )
}

fn parse_response_style(var: &str, value: &str) -> Result<ResponseStyle, ConfigError> {
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

fn parse_in_range(var: &str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n = parse_u64(var, value)?;
    if !(min..=max).contains(&n) {
        return Err(ConfigError::new(
            var,
            format!("{n} is out of range: use a value from {min} to {max}"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use url::Url;

    use super::*;
    use crate::cognito::CognitoIssuer;
    use crate::issuer::{CognitoRules, TokenUse};

    fn is_cognito_issuer(url: &Url) -> bool {
        CognitoIssuer::parse(url).is_some()
    }

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

/// The configuration document, read end to end (with the environment it sits beside).
#[cfg(test)]
mod document_tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::alg::Alg;

    const AUTH0: &str = "https://tenant.eu.auth0.com/";
    const COGNITO: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC";
    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn config(document: Value, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.insert("AUTHORIZER_CONFIG".into(), document.to_string());
        // Route rules need the API Gateway answer cache off; these tests are about parsing.
        map.entry("AUTHORIZER_CACHE_TTL_SECONDS".into())
            .or_insert_with(|| "0".into());
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn err_var(document: Value, extra: &[(&str, &str)]) -> String {
        config(document, extra).unwrap_err().var
    }

    #[test]
    fn several_issuers_are_parsed_with_their_own_rules() {
        let c = config(
            json!({"issuers": [
                {"issuer": AUTH0, "audience": "https://api"},
                {"issuer": COGNITO, "audience": ["client1", "client2"], "token_use": ["access", "id"]}
            ]}),
            &[],
        )
        .unwrap();
        assert_eq!(c.issuers.len(), 2);
        assert_eq!(c.issuers[0].audiences, vec!["https://api"]);
        assert!(c.issuers[0].cognito.is_none());
        assert_eq!(c.issuers[1].audiences, vec!["client1", "client2"]);
        assert_eq!(c.issuers[1].cognito.as_ref().unwrap().token_use.len(), 2);
        assert_eq!(c.token_sources, TokenSource::defaults());
        assert_eq!(c.path_rules, PathRules::ProtectAll);
        assert!(!c.decisions_depend_on_route());
    }

    #[test]
    fn audience_string_is_split_on_commas_and_list_items_are_kept_whole() {
        let c = config(
            json!({"issuers": [
                {"issuer": AUTH0, "audience": " a, b ,,"},
                {"issuer": COGNITO, "audience": [" client1 ", "x,y", ""]}
            ]}),
            &[],
        )
        .unwrap();
        assert_eq!(c.issuers[0].audiences, vec!["a", "b"]);
        // A list is already a list: an item is one audience, never joined and split again.
        assert_eq!(c.issuers[1].audiences, vec!["client1", "x,y"]);
    }

    #[test]
    fn inline_jwks_is_parsed_once_into_the_keys_served() {
        let key = testkit::TestKey::ec_p256();
        let c = config(
            json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": testkit::TestKey::jwks(&[&key])}]}),
            &[],
        )
        .unwrap();
        let keys = c.issuers[0].jwks_inline.as_ref().expect("inline keys");
        assert_eq!(keys.len(), 1);
        match c.issuers[0].key_source() {
            crate::jwks::KeySource::Inline(served) => assert!(Arc::ptr_eq(&served, keys)),
            other => panic!("expected the inline keys, got {other:?}"),
        }
    }

    #[test]
    fn document_without_issuers_keeps_single_issuer_variables() {
        let c = config(
            json!({"public_paths": ["/health"]}),
            &[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")],
        )
        .unwrap();
        assert_eq!(c.issuers[0].issuer, AUTH0);
        assert!(c.decisions_depend_on_route());
    }

    #[test]
    fn issuers_in_document_and_environment_conflict() {
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a"}]});
        assert_eq!(err_var(doc, &[("JWT_ISSUER", AUTH0)]), "JWT_ISSUER");
    }

    #[test]
    fn duplicate_issuer_is_rejected_naming_its_place() {
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a"}, {"issuer": AUTH0, "audience": "b"}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[1]");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let err = config(json!({"isuers": []}), &[]).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CONFIG");
        assert!(err.message.contains("isuers"), "{err}");
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a", "audiences": "b"}]});
        let err = config(doc, &[]).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CONFIG issuers[0]");
        assert!(err.message.contains("\"audiences\""), "{err}");
    }

    fn err_text(text: &str) -> ConfigError {
        let map: HashMap<&str, &str> = [
            ("AUTHORIZER_CONFIG", text),
            ("JWT_ISSUER", AUTH0),
            ("JWT_AUDIENCE", "a"),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ]
        .into();
        Config::from_lookup(|k| map.get(k).map(|v| (*v).to_owned())).unwrap_err()
    }

    #[test]
    fn type_errors_name_their_place_and_what_was_found() {
        let err = config(json!({"issuers": [{"issuer": AUTH0, "audience": 5}]}), &[]).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CONFIG issuers[0].audience");
        assert_eq!(
            err.message,
            "expected a string or a list of strings, found the number 5"
        );
        assert_eq!(
            err.to_string(),
            "configuration error in AUTHORIZER_CONFIG issuers[0].audience: expected a string or a \
             list of strings, found the number 5"
        );
        let env = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        for (doc, place, found) in [
            (
                json!({"issuers": [{"issuer": 1, "audience": "a"}]}),
                "issuers[0].issuer",
                "the number 1",
            ),
            (
                json!({"issuers": [{"issuer": AUTH0, "audience": ["a", 2]}]}),
                "issuers[0].audience[1]",
                "the number 2",
            ),
            (
                json!({"issuers": {"issuer": AUTH0}}),
                "issuers",
                "an object",
            ),
            (json!({"public_paths": "/a"}), "public_paths", "a string"),
            (
                json!({"public_paths": ["/a", null]}),
                "public_paths[1]",
                "null",
            ),
            (
                json!({"token_sources": [{"header": true}]}),
                "token_sources[0].header",
                "true",
            ),
            (
                json!({"claims": {"strip_namespaces": "yes"}}),
                "claims.strip_namespaces",
                "a string",
            ),
            (
                json!({"claims": {"scope_as_list": "true"}}),
                "claims.scope_as_list",
                "a string",
            ),
            (
                json!({"claims": {"include": {"a": 1}}}),
                "claims.include[\"a\"]",
                "the number 1",
            ),
            (
                json!({"required_scopes": {"GET /x": {"a": 1}}}),
                "required_scopes[\"GET /x\"]",
                "an object",
            ),
            (
                json!({"required_scopes": ["GET /x"]}),
                "required_scopes",
                "a list",
            ),
        ] {
            let err = config(doc.clone(), &env).unwrap_err();
            assert_eq!(err.var, format!("AUTHORIZER_CONFIG {place}"), "{doc}");
            assert!(
                err.message.ends_with(&format!("found {found}")),
                "{doc}: {err}"
            );
            assert!(!err.message.contains("line 1"), "{err}");
            assert!(!err.message.contains("variant"), "{err}");
        }
        let err = config(json!({"issuers": [{"issuer": AUTH0}]}), &[]).unwrap_err();
        assert_eq!(
            (err.var.as_str(), err.message.as_str()),
            ("AUTHORIZER_CONFIG issuers[0].audience", "is missing")
        );
    }

    #[test]
    fn null_is_refused_at_every_level_never_read_as_unset() {
        let issuer = json!({"issuer": AUTH0, "audience": "a"});
        let with = |key: &str| {
            let mut one = issuer.clone();
            one[key] = Value::Null;
            json!({ "issuers": [one] })
        };
        for (doc, place) in [
            (json!({"public_paths": null}), "public_paths"),
            (json!({"protected_paths": null}), "protected_paths"),
            (json!({"required_scopes": null}), "required_scopes"),
            (json!({"claims": null}), "claims"),
            (json!({"claims": {"include": null}}), "claims.include"),
            (json!({"issuers": null}), "issuers"),
            (with("audience"), "issuers[0].audience"),
            (with("jwks_uri"), "issuers[0].jwks_uri"),
            (with("rfc9068"), "issuers[0].rfc9068"),
            (with("claim_rules"), "issuers[0].claim_rules"),
        ] {
            let err = config(doc.clone(), &[]).unwrap_err();
            assert_eq!(err.var, format!("AUTHORIZER_CONFIG {place}"), "{doc}");
            assert!(err.message.contains("null"), "{doc}: {err}");
        }
    }

    #[test]
    fn document_and_its_objects_must_be_objects_not_lists() {
        for text in ["[]", "[[]]", "\"x\"", "5", "null", "true"] {
            let err = err_text(text);
            assert_eq!(err.var, "AUTHORIZER_CONFIG", "{text}");
            assert!(
                err.message.contains("expected a JSON object"),
                "{text}: {err}"
            );
        }
        // Positional forms of nested objects are refused too.
        let doc = json!({"issuers": [[AUTH0, "a"]]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0]");
        let doc = json!({"token_sources": [["Authorization", "Bearer"]]});
        assert_eq!(
            err_var(doc, &[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")]),
            "AUTHORIZER_CONFIG token_sources[0]"
        );
    }

    #[test]
    fn duplicate_keys_are_refused_at_every_level() {
        for (text, key) in [
            (
                r#"{"public_paths": ["/a"], "public_paths": ["/b"]}"#,
                "public_paths",
            ),
            (
                r#"{"required_scopes": {"GET /shows": "read:shows", "GET /shows": "x"}}"#,
                "GET /shows",
            ),
            (r#"{"claims": {"include": {"a": "b", "a": "c"}}}"#, "a"),
            (
                r#"{"token_sources": [{"header": "A", "header": "B"}]}"#,
                "header",
            ),
            (
                r#"{"issuers": [{"issuer": "https://a.example/", "audience": "a", "jwks": {"keys": [{"kty": "EC", "kty": "RSA"}]}}]}"#,
                "kty",
            ),
        ] {
            let err = err_text(text);
            assert_eq!(err.var, "AUTHORIZER_CONFIG", "{text}");
            assert!(
                err.message.contains(&format!("{key:?} appears twice")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn inline_jwks_with_private_key_material_is_refused() {
        for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
            let mut jwk = json!({"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"});
            jwk[member] = json!("AQAB");
            let doc =
                json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": {"keys": [jwk]}}]});
            let err = config(doc, &[]).unwrap_err();
            assert_eq!(err.var, "AUTHORIZER_CONFIG issuers[0].jwks.keys[0]");
            assert!(
                err.message
                    .contains(&format!("private key material (`{member}`)")),
                "{err}"
            );
        }
        for jwk in [
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "oct"}),
        ] {
            let doc =
                json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": {"keys": [jwk]}}]});
            let err = config(doc, &[]).unwrap_err();
            assert_eq!(err.var, "AUTHORIZER_CONFIG issuers[0].jwks.keys[0]");
            assert!(!err.message.contains("c2VjcmV0"), "{err}");
        }
    }

    #[test]
    fn include_onto_a_reserved_context_key_is_refused() {
        let env = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        for target in [
            "principalId",
            "integrationLatency",
            "claims",
            "jwt",
            "lambda",
            "anonymous",
        ] {
            let doc = json!({"claims": {"include": {"https://x/id": target}}});
            assert_eq!(
                err_var(doc, &env),
                "AUTHORIZER_CONFIG claims.include[\"https://x/id\"]",
                "{target}"
            );
        }
    }

    #[test]
    fn not_json_is_rejected() {
        let map: HashMap<&str, &str> = [("AUTHORIZER_CONFIG", "{issuers:")].into();
        let err = Config::from_lookup(|k| map.get(k).map(|v| (*v).to_owned())).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CONFIG");
    }

    #[test]
    fn issuer_rules_apply_inside_document() {
        let doc = json!({"issuers": [{"issuer": "http://idp.example.com/", "audience": "a"}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].issuer");
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": []}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].audience");
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a", "token_use": "id"}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].token_use");
    }

    #[test]
    fn inline_jwks_is_validated() {
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": {"keys": [{"kty": "EC", "crv": "P-256"}]}}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].jwks");
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": {"keys": []},
                                      "jwks_uri": "https://idp.example.com/jwks"}]});
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].jwks");
    }

    #[test]
    fn hmac_secret_comes_from_named_variable_and_is_never_printed() {
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a",
                                      "hmac": [{"kid": "local", "secret_env": "MY_SECRET"}]}]});
        let c = config(doc.clone(), &[("MY_SECRET", SECRET)]).unwrap();
        let key = &c.issuers[0].hmac_keys[0];
        assert_eq!((key.kid.as_str(), key.alg), ("local", Alg::HS256));
        assert_eq!(key.secret.expose(), SECRET.as_bytes());
        assert!(!format!("{c:?}").contains(SECRET));
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG issuers[0].hmac[0]");
    }

    #[test]
    fn short_hmac_secret_is_rejected_per_algorithm() {
        let doc = |alg: &str| {
            json!({"issuers": [{"issuer": AUTH0, "audience": "a",
                                "hmac": [{"kid": "k", "secret_env": "S", "alg": alg}]}]})
        };
        let err = config(doc("HS256"), &[("S", "too-short")]).unwrap_err();
        assert_eq!(err.var, "AUTHORIZER_CONFIG issuers[0].hmac[0]");
        assert!(!err.to_string().contains("too-short"));
        assert!(config(doc("HS256"), &[("S", SECRET)]).is_ok());
        assert!(config(doc("HS384"), &[("S", SECRET)]).is_err());
        assert!(config(doc("RS256"), &[("S", SECRET)]).is_err());
    }

    #[test]
    fn token_sources_are_parsed_in_order() {
        let doc = json!({"token_sources": [
            {"header": "Authorization", "prefix": "Token"},
            {"header": "X-Api-Key"},
            {"query": "access_token"},
            {"cookie": "session"}
        ]});
        let c = config(doc, &[("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")]).unwrap();
        assert_eq!(
            c.token_sources,
            vec![
                TokenSource::Header {
                    name: "Authorization".into(),
                    prefix: Some("Token".into())
                },
                TokenSource::Header {
                    name: "X-Api-Key".into(),
                    prefix: None
                },
                TokenSource::Query {
                    name: "access_token".into()
                },
                TokenSource::Cookie {
                    name: "session".into()
                },
            ]
        );
    }

    #[test]
    fn ambiguous_token_source_is_rejected() {
        let env = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        for source in [
            json!({"header": "A", "query": "b"}),
            json!({"query": "t", "prefix": "Bearer"}),
            json!({}),
            json!({"cookie": " "}),
        ] {
            let doc = json!({"token_sources": [source]});
            assert_eq!(
                err_var(doc, &env),
                "AUTHORIZER_CONFIG token_sources[0]",
                "{source}"
            );
        }
        assert_eq!(
            err_var(json!({"token_sources": []}), &env),
            "AUTHORIZER_CONFIG token_sources"
        );
    }

    #[test]
    fn path_rules_are_exclusive_and_validated() {
        let env = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        let both = json!({"public_paths": ["/a"], "protected_paths": ["/b"]});
        assert_eq!(
            err_var(both, &env),
            "AUTHORIZER_CONFIG public_paths/protected_paths"
        );
        assert_eq!(
            err_var(json!({"public_paths": ["nope"]}), &env),
            "AUTHORIZER_CONFIG public_paths[0]"
        );
        let c = config(json!({"protected_paths": ["/admin/*"]}), &env).unwrap();
        assert!(matches!(c.path_rules, PathRules::ProtectedPaths(_)));
    }

    #[test]
    fn claims_and_required_scopes_are_parsed() {
        let env = [("JWT_ISSUER", AUTH0), ("JWT_AUDIENCE", "a")];
        let doc = json!({
            "claims": {"include": {"https://example.com/roles": "roles"}, "strip_namespaces": ["https://example.com/"], "scope_as_list": true},
            "required_scopes": {"GET /shows": "read:shows", "POST /shows/*": ["write:shows", "admin"]}
        });
        let c = config(doc, &env).unwrap();
        assert_eq!(
            c.claim_mapping.include,
            Some(vec![(
                "https://example.com/roles".to_owned(),
                "roles".to_owned()
            )])
        );
        assert!(c.claim_mapping.scope_as_list);
        assert_eq!(c.route_scopes.len(), 2);
        assert!(c.decisions_depend_on_route());
        let bad = json!({"required_scopes": {"GET shows": "x"}});
        assert_eq!(
            err_var(bad, &env),
            "AUTHORIZER_CONFIG required_scopes[\"GET shows\"]"
        );
        let empty = json!({"required_scopes": {"GET /shows": []}});
        assert_eq!(
            err_var(empty, &env),
            "AUTHORIZER_CONFIG required_scopes[\"GET /shows\"]"
        );
    }

    #[test]
    fn config_file_is_read_and_exclusive_with_inline_document() {
        let path =
            std::env::temp_dir().join(format!("authorizer-config-{}.json", std::process::id()));
        std::fs::write(
            &path,
            json!({"issuers": [{"issuer": AUTH0, "audience": "a"}]}).to_string(),
        )
        .unwrap();
        let path_str = path.to_str().unwrap().to_owned();
        let map: HashMap<&str, String> = [("AUTHORIZER_CONFIG_FILE", path_str.clone())].into();
        let c = Config::from_lookup(|k| map.get(k).cloned()).unwrap();
        assert_eq!(c.issuers[0].issuer, AUTH0);
        let both: HashMap<&str, String> = [
            ("AUTHORIZER_CONFIG_FILE", path_str),
            ("AUTHORIZER_CONFIG", "{}".into()),
        ]
        .into();
        assert_eq!(
            Config::from_lookup(|k| both.get(k).cloned())
                .unwrap_err()
                .var,
            "AUTHORIZER_CONFIG"
        );
        std::fs::remove_file(&path).unwrap();
        let missing: HashMap<&str, String> =
            [("AUTHORIZER_CONFIG_FILE", "/nonexistent/config.json".into())].into();
        assert_eq!(
            Config::from_lookup(|k| missing.get(k).cloned())
                .unwrap_err()
                .var,
            "AUTHORIZER_CONFIG_FILE"
        );
    }
}
