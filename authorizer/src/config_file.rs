//! The JSON configuration document (`AUTHORIZER_CONFIG`, or a file named by
//! `AUTHORIZER_CONFIG_FILE`): several issuers, token sources, path rules, claim mapping,
//! required scopes per route, inline keys and HMAC secrets. Parsed once, with errors that
//! name the place in the document; unknown fields are errors, so a typo cannot silently
//! disable a rule.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::alg::{Alg, AlgSet};
use crate::claim_rules::{RouteClaimRules, parse_route_rules};
use crate::claims::{ClaimMapping, StripNamespaces};
use crate::config::{ConfigError, HmacKey, IssuerConfig, Secret, parse_issuer};
use crate::issuer_policy::{IssuerPolicy, PolicyFields};
use crate::jwks::parse_jwks_value;
use crate::rules::{PathPattern, PathRules, RouteScope};
use crate::token::TokenSource;

/// What the document configures; `None`/defaults where it is silent.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub(crate) issuers: Option<Vec<IssuerConfig>>,
    pub(crate) token_sources: Option<Vec<TokenSource>>,
    pub(crate) path_rules: PathRules,
    pub(crate) claim_mapping: ClaimMapping,
    pub(crate) route_scopes: Vec<RouteScope>,
    pub(crate) route_claim_rules: Vec<RouteClaimRules>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(default)]
    issuers: Option<Vec<RawIssuer>>,
    #[serde(default)]
    token_sources: Option<Vec<RawTokenSource>>,
    #[serde(default)]
    public_paths: Option<Vec<String>>,
    #[serde(default)]
    protected_paths: Option<Vec<String>>,
    #[serde(default)]
    claims: Option<RawClaims>,
    #[serde(default)]
    required_scopes: Option<BTreeMap<String, OneOrMany>>,
    /// Read as JSON and checked by `claim_rules`, so every error names its place.
    #[serde(default)]
    route_claim_rules: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    issuer: String,
    audience: OneOrMany,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    jwks: Option<Value>,
    #[serde(default)]
    token_use: Option<OneOrMany>,
    #[serde(default)]
    hmac: Option<Vec<RawHmac>>,
    // Policy and Cognito settings: read as JSON and checked by `issuer_policy` / `cognito`, so
    // every error (types included) names its place.
    #[serde(default)]
    cognito: Option<Value>,
    #[serde(default)]
    rfc9068: Option<Value>,
    #[serde(default)]
    claim_rules: Option<Value>,
    #[serde(default)]
    max_lifetime_seconds: Option<Value>,
    #[serde(default)]
    require_iat: Option<Value>,
    #[serde(default)]
    principal_claims: Option<Value>,
    #[serde(default)]
    usage_identifier_claim: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHmac {
    kid: String,
    /// Name of the environment variable holding the secret: secrets never sit in the document.
    secret_env: String,
    #[serde(default)]
    alg: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTokenSource {
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    cookie: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    #[serde(default)]
    include: Option<BTreeMap<String, String>>,
    #[serde(default)]
    strip_namespaces: Option<StripSetting>,
    #[serde(default)]
    scope_as_list: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StripSetting {
    All(bool),
    Prefixes(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// A list; a single string may itself be comma-separated (as in the environment variables).
    fn into_list(self) -> Vec<String> {
        let items = match self {
            OneOrMany::One(s) => s.split(',').map(str::to_owned).collect(),
            OneOrMany::Many(v) => v,
        };
        items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Parses the document `text` read from `var`. `lookup` resolves HMAC `secret_env` names.
pub(crate) fn parse_document(
    var: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Document, ConfigError> {
    let raw: RawDocument = serde_json::from_str(text).map_err(|e| {
        ConfigError::new(var, format!("is not a valid configuration document: {e}"))
    })?;
    let at = |place: String, message: String| ConfigError::new(format!("{var} {place}"), message);

    let issuers = match raw.issuers {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(at(
                "issuers".into(),
                "is empty: list at least one issuer".into(),
            ));
        }
        Some(list) => {
            let mut issuers: Vec<IssuerConfig> = Vec::with_capacity(list.len());
            for (i, raw) in list.into_iter().enumerate() {
                let place = format!("issuers[{i}]");
                // A Cognito pool may stand for several issuers (its forms and regions).
                for issuer in parse_raw_issuer(&place, raw, var, lookup)? {
                    if issuers.iter().any(|other| other.issuer == issuer.issuer) {
                        return Err(at(
                            place,
                            format!("repeats issuer {:?}: list each issuer once", issuer.issuer),
                        ));
                    }
                    issuers.push(issuer);
                }
            }
            Some(issuers)
        }
    };

    let token_sources = match raw.token_sources {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(at(
                "token_sources".into(),
                "is empty: list at least one source".into(),
            ));
        }
        Some(list) => Some(
            list.into_iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_token_source(s).map_err(|m| at(format!("token_sources[{i}]"), m))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };

    let patterns = |name: &str, list: Vec<String>| -> Result<Vec<PathPattern>, ConfigError> {
        if list.is_empty() {
            return Err(at(
                name.into(),
                "is empty: list at least one path or leave it out".into(),
            ));
        }
        list.iter()
            .enumerate()
            .map(|(i, p)| PathPattern::parse(p).map_err(|m| at(format!("{name}[{i}]"), m)))
            .collect()
    };
    let path_rules = match (raw.public_paths, raw.protected_paths) {
        (Some(_), Some(_)) => {
            return Err(at(
                "public_paths/protected_paths".into(),
                "are both set: use public_paths (protect everything except these) or protected_paths \
                 (protect only these), not both"
                    .into(),
            ));
        }
        (Some(public), None) => PathRules::PublicPaths(patterns("public_paths", public)?),
        (None, Some(protected)) => {
            PathRules::ProtectedPaths(patterns("protected_paths", protected)?)
        }
        (None, None) => PathRules::ProtectAll,
    };

    let claim_mapping = match raw.claims {
        None => ClaimMapping::default(),
        Some(claims) => ClaimMapping {
            include: claims.include.map(|m| m.into_iter().collect()),
            strip_namespaces: match claims.strip_namespaces {
                None | Some(StripSetting::All(false)) => StripNamespaces::No,
                Some(StripSetting::All(true)) => StripNamespaces::UrlLike,
                Some(StripSetting::Prefixes(p)) if p.iter().any(String::is_empty) => {
                    return Err(at(
                        "claims.strip_namespaces".into(),
                        "contains an empty prefix".into(),
                    ));
                }
                Some(StripSetting::Prefixes(p)) => StripNamespaces::Prefixes(p),
            },
            scope_as_list: claims.scope_as_list.unwrap_or(false),
        },
    };
    if let Some(include) = &claim_mapping.include
        && include
            .iter()
            .any(|(from, to)| from.is_empty() || to.is_empty())
    {
        return Err(at(
            "claims.include".into(),
            "maps from or to an empty name".into(),
        ));
    }

    let mut route_scopes = Vec::new();
    for (route, scopes) in raw.required_scopes.unwrap_or_default() {
        let place = format!("required_scopes[{route:?}]");
        let scopes = scopes
            .into_list()
            .into_iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
        let scopes: Vec<String> = scopes.collect();
        if scopes.is_empty() {
            return Err(at(place, "lists no scope".into()));
        }
        route_scopes.push(RouteScope::parse(&route, scopes).map_err(|m| at(place, m))?);
    }

    let route_claim_rules = match &raw.route_claim_rules {
        None => Vec::new(),
        Some(value) => parse_route_rules(&format!("{var} route_claim_rules"), value)?,
    };

    Ok(Document {
        issuers,
        token_sources,
        path_rules,
        claim_mapping,
        route_scopes,
        route_claim_rules,
    })
}

fn parse_raw_issuer(
    place: &str,
    raw: RawIssuer,
    var: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<IssuerConfig>, ConfigError> {
    let name = |field: &str| format!("{var} {place}.{field}");
    let audience = raw.audience.into_list().join(",");
    let issuer_var = name("issuer");
    let audience_var = name("audience");
    let jwks_uri_var = name("jwks_uri");
    let token_use_var = name("token_use");
    let token_use = raw.token_use.map(|t| t.into_list().join(","));
    let mut issuer = parse_issuer(
        &issuer_var,
        raw.issuer.trim(),
        &audience_var,
        &audience,
        raw.jwks_uri.as_deref().map(|u| (jwks_uri_var.as_str(), u)),
        token_use.as_deref().map(|t| (token_use_var.as_str(), t)),
    )?;
    if token_use.is_some() && issuer.cognito.is_none() {
        return Err(ConfigError::new(
            token_use_var,
            "only applies to Cognito issuers (https://cognito-idp.<region>.amazonaws.com/<pool id> or \
             https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>): remove it",
        ));
    }
    if let Some(jwks) = raw.jwks {
        if issuer.jwks_uri.is_some() {
            return Err(ConfigError::new(
                name("jwks"),
                "and jwks_uri are both set: keep one",
            ));
        }
        parse_jwks_value(&jwks)
            .map_err(|e| ConfigError::new(name("jwks"), format!("is not a usable JWKS: {e}")))?;
        issuer.jwks_inline = Some(jwks);
    }
    for (i, hmac) in raw.hmac.unwrap_or_default().into_iter().enumerate() {
        let at = |m: String| ConfigError::new(format!("{var} {place}.hmac[{i}]"), m);
        if hmac.kid.trim().is_empty() {
            return Err(at(
                "has an empty kid: the secret must name its own key id".into()
            ));
        }
        let alg_name = hmac.alg.as_deref().unwrap_or("HS256");
        let alg = Alg::parse(alg_name)
            .filter(|a| AlgSet::HMAC.contains(*a))
            .ok_or_else(|| at(format!("alg {alg_name:?} is not HS256, HS384 or HS512")))?;
        let secret = lookup(&hmac.secret_env).filter(|s| !s.is_empty()).ok_or_else(|| {
            at(format!(
                "secret_env names {:?}, which is not set: set that variable to the shared secret",
                hmac.secret_env
            ))
        })?;
        // RFC 7518 §3.2: a key at least as long as the hash output.
        let min = match alg {
            Alg::HS384 => 48,
            Alg::HS512 => 64,
            _ => 32,
        };
        if secret.len() < min {
            return Err(at(format!(
                "the secret in {} is {} bytes; {} needs at least {min}",
                hmac.secret_env,
                secret.len(),
                alg.as_str()
            )));
        }
        if issuer.hmac_keys.iter().any(|k| k.kid == hmac.kid) {
            return Err(at(format!("repeats kid {:?}", hmac.kid)));
        }
        issuer.hmac_keys.push(HmacKey {
            kid: hmac.kid,
            alg,
            secret: Secret::new(secret.into_bytes()),
        });
    }
    issuer.policy = IssuerPolicy::parse(
        &format!("{var} {place}"),
        PolicyFields {
            rfc9068: raw.rfc9068,
            claim_rules: raw.claim_rules,
            max_lifetime_seconds: raw.max_lifetime_seconds,
            require_iat: raw.require_iat,
            principal_claims: raw.principal_claims,
            usage_identifier_claim: raw.usage_identifier_claim,
        },
    )?;
    crate::cognito::expand(&name("cognito"), issuer, raw.cognito.as_ref())
}

fn parse_token_source(raw: RawTokenSource) -> Result<TokenSource, String> {
    let nonempty = |s: String, what: &str| {
        let s = s.trim().to_owned();
        if s.is_empty() {
            Err(format!("has an empty {what} name"))
        } else {
            Ok(s)
        }
    };
    match (raw.header, raw.query, raw.cookie) {
        (Some(header), None, None) => Ok(TokenSource::Header {
            name: nonempty(header, "header")?,
            prefix: raw
                .prefix
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty()),
        }),
        (None, Some(_), None) | (None, None, Some(_)) if raw.prefix.is_some() => {
            Err("`prefix` only applies to header sources".into())
        }
        (None, Some(query), None) => Ok(TokenSource::Query {
            name: nonempty(query, "query parameter")?,
        }),
        (None, None, Some(cookie)) => Ok(TokenSource::Cookie {
            name: nonempty(cookie, "cookie")?,
        }),
        _ => Err("must name exactly one of `header`, `query` or `cookie`".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::config::Config;

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
        assert_eq!(err_var(doc, &[]), "AUTHORIZER_CONFIG");
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
        let doc = json!({"issuers": [{"issuer": AUTH0, "audience": "a", "jwks": {"keys": [{"kty": "oct", "k": "AA"}]}}]});
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
