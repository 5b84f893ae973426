//! The JSON configuration document (`AUTHORIZER_CONFIG`, or a file named by
//! `AUTHORIZER_CONFIG_FILE`): several issuers, token sources, path rules, claim mapping,
//! required scopes per route, inline keys and HMAC secrets. Parsed once, in two steps:
//!
//! 1. the text becomes a JSON tree, refusing a key that appears twice in any object (JSON
//!    parsers usually keep the last one silently, which could weaken a rule);
//! 2. the tree is read field by field. Every error names its place in the document
//!    (`issuers[0].audience: expected a string or a list of strings, found the number 5`);
//!    unknown keys are errors, so a typo cannot silently disable a rule, and every object must
//!    be an object (a list in its place is refused, never read positionally).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use std::sync::Arc;

use crate::alg::{Alg, AlgSet};
use crate::claim_rules::{RouteClaimRules, parse_route_rules};
use crate::claims::{ClaimMapping, StripNamespaces, is_reserved_context_key};
use crate::cognito::{self, CognitoIssuer};
use crate::config_error::ConfigError;
use crate::issuer::{CognitoRules, HmacKey, IssuerConfig, Secret, TokenUse};
use crate::issuer_policy::{IssuerPolicy, PolicyFields};
use crate::jwks::{parse_jwks_value, parse_secure_url};
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

/// JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Parses the document `text` read from `var`. `lookup` resolves HMAC `secret_env` names.
pub(crate) fn parse_document(
    var: &str,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Document, ConfigError> {
    let tree = parse_json_without_duplicates(text).map_err(|e| {
        ConfigError::new(var, format!("is not a valid configuration document: {e}"))
    })?;
    let doc = Reader { var };
    let root = doc.object(
        &Place::root(),
        &tree,
        "a JSON object (`{...}`)",
        &[
            "issuers",
            "token_sources",
            "public_paths",
            "protected_paths",
            "claims",
            "required_scopes",
            "route_claim_rules",
        ],
    )?;
    let place = Place::root();

    let issuers = match field(root, "issuers") {
        None => None,
        Some(value) => {
            let at = place.key("issuers");
            let list = doc.list(&at, value, "a list of issuer objects")?;
            if list.is_empty() {
                return Err(doc.error(&at, "is empty: list at least one issuer"));
            }
            let mut issuers: Vec<IssuerConfig> = Vec::with_capacity(list.len());
            for (i, raw) in list.iter().enumerate() {
                let at = at.index(i);
                // A Cognito pool may stand for several issuers (its forms and regions).
                for issuer in parse_issuer_object(&doc, &at, raw, lookup)? {
                    if issuers.iter().any(|other| other.issuer == issuer.issuer) {
                        return Err(doc.error(
                            &at,
                            format!("repeats issuer {:?}: list each issuer once", issuer.issuer),
                        ));
                    }
                    issuers.push(issuer);
                }
            }
            Some(issuers)
        }
    };

    let token_sources = match field(root, "token_sources") {
        None => None,
        Some(value) => {
            let at = place.key("token_sources");
            let list = doc.list(&at, value, "a list of token source objects")?;
            if list.is_empty() {
                return Err(doc.error(&at, "is empty: list at least one source"));
            }
            let sources = list
                .iter()
                .enumerate()
                .map(|(i, raw)| parse_token_source(&doc, &at.index(i), raw))
                .collect::<Result<Vec<_>, _>>()?;
            Some(sources)
        }
    };

    let patterns = |name: &str, value: &Value| -> Result<Vec<PathPattern>, ConfigError> {
        let at = place.key(name);
        let list = doc.string_list(&at, value)?;
        if list.is_empty() {
            return Err(doc.error(&at, "is empty: list at least one path or leave it out"));
        }
        list.iter()
            .enumerate()
            .map(|(i, p)| PathPattern::parse(p).map_err(|m| doc.error(&at.index(i), m)))
            .collect()
    };
    let path_rules = match (field(root, "public_paths"), field(root, "protected_paths")) {
        (Some(_), Some(_)) => {
            return Err(doc.error(
                &place.key("public_paths/protected_paths"),
                "are both set: use public_paths (protect everything except these) or protected_paths \
                 (protect only these), not both",
            ));
        }
        (Some(public), None) => PathRules::PublicPaths(patterns("public_paths", public)?),
        (None, Some(protected)) => {
            PathRules::ProtectedPaths(patterns("protected_paths", protected)?)
        }
        (None, None) => PathRules::ProtectAll,
    };

    let claim_mapping = match field(root, "claims") {
        None => ClaimMapping::default(),
        Some(value) => parse_claims(&doc, &place.key("claims"), value)?,
    };

    let mut route_scopes = Vec::new();
    if let Some(value) = field(root, "required_scopes") {
        let at = place.key("required_scopes");
        let rules = doc.object(
            &at,
            value,
            "an object of `\"METHOD /path\": scopes` entries",
            &[],
        )?;
        for (route, scopes) in rules {
            let at = at.entry(route);
            let scopes: Vec<String> = doc
                .string_or_list(&at, scopes)?
                .iter()
                .flat_map(|s| s.split_whitespace().map(str::to_owned))
                .collect();
            if scopes.is_empty() {
                return Err(doc.error(&at, "lists no scope"));
            }
            route_scopes.push(RouteScope::parse(route, scopes).map_err(|m| doc.error(&at, m))?);
        }
    }

    // Read by `claim_rules` (an explicit `null` is an error there, not "no rules").
    let route_claim_rules = match root.get("route_claim_rules") {
        None => Vec::new(),
        Some(value) => parse_route_rules(&doc.var_of(&place.key("route_claim_rules")), value)?,
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

fn parse_issuer_object(
    doc: &Reader<'_>,
    place: &Place,
    value: &Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<IssuerConfig>, ConfigError> {
    let obj = doc.object(
        place,
        value,
        "an issuer object (`{\"issuer\": ..., \"audience\": ...}`)",
        &[
            "issuer",
            "audience",
            "jwks_uri",
            "jwks",
            "token_use",
            "hmac",
            "cognito",
            "rfc9068",
            "claim_rules",
            "max_lifetime_seconds",
            "require_iat",
            "principal_claims",
            "usage_identifier_claim",
        ],
    )?;
    let issuer = doc.string(&place.key("issuer"), doc.required(place, obj, "issuer")?)?;
    let audiences = doc.string_or_list(
        &place.key("audience"),
        doc.required(place, obj, "audience")?,
    )?;
    let jwks_uri = field(obj, "jwks_uri")
        .map(|v| doc.string(&place.key("jwks_uri"), v))
        .transpose()?;
    let token_use = field(obj, "token_use")
        .map(|v| doc.string_or_list(&place.key("token_use"), v))
        .transpose()?;
    let name = |field: &str| doc.var_of(&place.key(field));
    let (issuer_var, audience_var) = (name("issuer"), name("audience"));
    let (jwks_uri_var, token_use_var) = (name("jwks_uri"), name("token_use"));
    let token_use_given = token_use.is_some();
    let mut issuer = parse_issuer(
        (&issuer_var, issuer.trim()),
        (&audience_var, audiences),
        jwks_uri.as_deref().map(|u| (jwks_uri_var.as_str(), u)),
        token_use.map(|uses| (token_use_var.as_str(), uses)),
    )?;
    if token_use_given && issuer.cognito.is_none() {
        return Err(ConfigError::new(
            token_use_var,
            "only applies to Cognito issuers (https://cognito-idp.<region>.amazonaws.com/<pool id> or \
             https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>): remove it",
        ));
    }
    if let Some(jwks) = field(obj, "jwks") {
        let at = place.key("jwks");
        if issuer.jwks_uri.is_some() {
            return Err(doc.error(&at, "and jwks_uri are both set: keep one"));
        }
        refuse_private_keys(doc, &at, jwks)?;
        let keys = parse_jwks_value(jwks)
            .map_err(|e| doc.error(&at, format!("is not a usable JWKS: {e}")))?;
        issuer.jwks_inline = Some(Arc::new(keys));
    }
    if let Some(hmac) = field(obj, "hmac") {
        let at = place.key("hmac");
        for (i, entry) in doc
            .list(&at, hmac, "a list of HMAC key objects")?
            .iter()
            .enumerate()
        {
            let key = parse_hmac(doc, &at.index(i), entry, lookup)?;
            if issuer.hmac_keys.iter().any(|k| k.kid == key.kid) {
                return Err(doc.error(&at.index(i), format!("repeats kid {:?}", key.kid)));
            }
            issuer.hmac_keys.push(key);
        }
    }
    // Policy and Cognito settings are read by their own modules; an explicit `null` there is an
    // error, not "unset", so no rule is switched off by accident.
    let own = |key: &str| obj.get(key).cloned();
    issuer.policy = IssuerPolicy::parse(
        &doc.var_of(place),
        PolicyFields {
            rfc9068: own("rfc9068"),
            claim_rules: own("claim_rules"),
            max_lifetime_seconds: own("max_lifetime_seconds"),
            require_iat: own("require_iat"),
            principal_claims: own("principal_claims"),
            usage_identifier_claim: own("usage_identifier_claim"),
        },
    )?;
    cognito::expand(
        &doc.var_of(&place.key("cognito")),
        issuer,
        obj.get("cognito"),
    )
}

/// Builds one issuer's configuration from values read from the environment or a document,
/// each with the name its errors give (`JWT_AUDIENCE`, `AUTHORIZER_CONFIG issuers[0].audience`).
/// Lists arrive as lists (split, trimmed, empty items dropped) and stay lists.
pub(crate) fn parse_issuer(
    (issuer_var, issuer): (&str, &str),
    (audience_var, audiences): (&str, Vec<String>),
    jwks_uri: Option<(&str, &str)>,
    token_use: Option<(&str, Vec<String>)>,
) -> Result<IssuerConfig, ConfigError> {
    let issuer_url = parse_secure_url(issuer_var, issuer)?;
    if audiences.is_empty() {
        return Err(ConfigError::new(
            audience_var,
            "lists no audience: give at least one value (comma-separated)",
        ));
    }
    let jwks_uri = jwks_uri
        .map(|(var, value)| parse_secure_url(var, value))
        .transpose()?;
    let cognito = if CognitoIssuer::parse(&issuer_url).is_some() {
        let token_use = match token_use {
            None => vec![TokenUse::Access],
            Some((var, uses)) => parse_token_use(var, &uses)?,
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

/// A comma-separated variable as a list: items trimmed, empty ones dropped.
pub(crate) fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_token_use(var: &str, items: &[String]) -> Result<Vec<TokenUse>, ConfigError> {
    let mut uses = Vec::new();
    for item in items {
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

/// A JWKS pasted into the configuration must hold public keys only: a private key there is a
/// leaked key, and a symmetric one a secret in plain sight. Say so rather than use it.
fn refuse_private_keys(doc: &Reader<'_>, place: &Place, jwks: &Value) -> Result<(), ConfigError> {
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return Ok(()); // parse_jwks_value says what is wrong with the shape.
    };
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key.as_object() else { continue };
        let symmetric = key.get("kty").and_then(Value::as_str) == Some("oct");
        if let Some(member) = PRIVATE_JWK_MEMBERS.iter().find(|m| key.contains_key(**m)) {
            return Err(doc.error(
                &place.key("keys").index(i),
                format!(
                    "holds private key material (`{member}`): put only public keys here (`kty`, \
                     `kid`, `n`/`e` or `crv`/`x`/`y`); a private key that was pasted into a \
                     configuration should be treated as leaked and replaced at the IdP"
                ),
            ));
        }
        if symmetric {
            return Err(doc.error(
                &place.key("keys").index(i),
                "is a symmetric (`oct`) key: shared secrets go under `hmac` with `secret_env`, \
                 never in a JWKS",
            ));
        }
    }
    Ok(())
}

fn parse_hmac(
    doc: &Reader<'_>,
    place: &Place,
    value: &Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<HmacKey, ConfigError> {
    let obj = doc.object(
        place,
        value,
        "an HMAC key object (`{\"kid\": ..., \"secret_env\": ...}`)",
        &["kid", "secret_env", "alg"],
    )?;
    let kid = doc.string(&place.key("kid"), doc.required(place, obj, "kid")?)?;
    // The name of the environment variable holding the secret: secrets never sit in the document.
    let secret_env = doc.string(
        &place.key("secret_env"),
        doc.required(place, obj, "secret_env")?,
    )?;
    let alg_name = field(obj, "alg")
        .map(|v| doc.string(&place.key("alg"), v))
        .transpose()?
        .unwrap_or_else(|| "HS256".to_owned());
    if kid.trim().is_empty() {
        return Err(doc.error(
            place,
            "has an empty kid: the secret must name its own key id",
        ));
    }
    let alg = Alg::parse(&alg_name)
        .filter(|a| AlgSet::HMAC.contains(*a))
        .ok_or_else(|| {
            doc.error(
                place,
                format!("alg {alg_name:?} is not HS256, HS384 or HS512"),
            )
        })?;
    let secret = lookup(&secret_env)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            doc.error(
                place,
                format!(
                    "secret_env names {secret_env:?}, which is not set: set that variable to the shared secret"
                ),
            )
        })?;
    // RFC 7518 §3.2: a key at least as long as the hash output.
    let min = match alg {
        Alg::HS384 => 48,
        Alg::HS512 => 64,
        _ => 32,
    };
    if secret.len() < min {
        return Err(doc.error(
            place,
            format!(
                "the secret in {secret_env} is {} bytes; {} needs at least {min}",
                secret.len(),
                alg.as_str()
            ),
        ));
    }
    Ok(HmacKey {
        kid,
        alg,
        secret: Secret::new(secret.into_bytes()),
    })
}

fn parse_token_source(
    doc: &Reader<'_>,
    place: &Place,
    value: &Value,
) -> Result<TokenSource, ConfigError> {
    let obj = doc.object(
        place,
        value,
        "a token source object (`{\"header\": ...}`, `{\"query\": ...}` or `{\"cookie\": ...}`)",
        &["header", "prefix", "query", "cookie"],
    )?;
    let text = |key: &str| {
        field(obj, key)
            .map(|v| doc.string(&place.key(key), v))
            .transpose()
    };
    let (header, prefix, query, cookie) = (
        text("header")?,
        text("prefix")?,
        text("query")?,
        text("cookie")?,
    );
    let nonempty = |s: String, what: &str| {
        let s = s.trim().to_owned();
        if s.is_empty() {
            Err(doc.error(place, format!("has an empty {what} name")))
        } else {
            Ok(s)
        }
    };
    match (header, query, cookie) {
        (Some(header), None, None) => Ok(TokenSource::Header {
            name: nonempty(header, "header")?,
            prefix: prefix
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty()),
        }),
        (None, Some(_), None) | (None, None, Some(_)) if prefix.is_some() => {
            Err(doc.error(place, "`prefix` only applies to header sources"))
        }
        (None, Some(query), None) => Ok(TokenSource::Query {
            name: nonempty(query, "query parameter")?,
        }),
        (None, None, Some(cookie)) => Ok(TokenSource::Cookie {
            name: nonempty(cookie, "cookie")?,
        }),
        _ => Err(doc.error(
            place,
            "must name exactly one of `header`, `query` or `cookie`",
        )),
    }
}

fn parse_claims(
    doc: &Reader<'_>,
    place: &Place,
    value: &Value,
) -> Result<ClaimMapping, ConfigError> {
    let obj = doc.object(
        place,
        value,
        "a claims object",
        &["include", "strip_namespaces", "scope_as_list"],
    )?;
    let include = match field(obj, "include") {
        None => None,
        Some(value) => {
            let at = place.key("include");
            let map = doc.object(
                &at,
                value,
                "an object of `\"claim name\": \"context name\"` entries",
                &[],
            )?;
            let mut include = Vec::with_capacity(map.len());
            for (from, to) in map {
                let entry = at.entry(from);
                let to = doc.string(&entry, to)?;
                if from.is_empty() || to.is_empty() {
                    return Err(doc.error(&entry, "maps from or to an empty name"));
                }
                if is_reserved_context_key(&to) {
                    return Err(doc.error(
                        &entry,
                        format!(
                            "maps a claim onto {to:?}, a context key API Gateway or the route \
                             handlers give their own meaning: pick another name"
                        ),
                    ));
                }
                include.push((from.clone(), to));
            }
            Some(include)
        }
    };
    let strip_namespaces = match field(obj, "strip_namespaces") {
        None | Some(Value::Bool(false)) => StripNamespaces::No,
        Some(Value::Bool(true)) => StripNamespaces::UrlLike,
        Some(value @ Value::Array(_)) => {
            let at = place.key("strip_namespaces");
            let prefixes = doc.string_list(&at, value)?;
            if prefixes.iter().any(String::is_empty) {
                return Err(doc.error(&at, "contains an empty prefix"));
            }
            StripNamespaces::Prefixes(prefixes)
        }
        Some(other) => {
            return Err(doc.type_error(
                &place.key("strip_namespaces"),
                "true, false or a list of prefixes",
                other,
            ));
        }
    };
    let scope_as_list = match field(obj, "scope_as_list") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(doc.type_error(&place.key("scope_as_list"), "true or false", other));
        }
    };
    Ok(ClaimMapping {
        include,
        strip_namespaces,
        scope_as_list,
    })
}

/// A field of an object (`object` has already refused a `null` one).
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
}

/// Where in the document a value is: `issuers[0].audience`, `required_scopes["GET /x"]`.
#[derive(Clone, Debug)]
struct Place(String);

impl Place {
    fn root() -> Place {
        Place(String::new())
    }

    fn key(&self, key: &str) -> Place {
        if self.0.is_empty() {
            Place(key.to_owned())
        } else {
            Place(format!("{}.{key}", self.0))
        }
    }

    fn index(&self, i: usize) -> Place {
        Place(format!("{}[{i}]", self.0))
    }

    /// An entry of a map whose keys are data (routes, claim names), quoted.
    fn entry(&self, key: &str) -> Place {
        Place(format!("{}[{key:?}]", self.0))
    }
}

/// Reads typed values out of the tree, with errors naming their place.
struct Reader<'a> {
    var: &'a str,
}

impl Reader<'_> {
    /// The `ConfigError::var` for a place: `AUTHORIZER_CONFIG issuers[0].audience`.
    fn var_of(&self, place: &Place) -> String {
        if place.0.is_empty() {
            self.var.to_owned()
        } else {
            format!("{} {}", self.var, place.0)
        }
    }

    fn error(&self, place: &Place, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.var_of(place), message)
    }

    fn type_error(&self, place: &Place, expected: &str, found: &Value) -> ConfigError {
        self.error(
            place,
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    fn required<'v>(
        &self,
        place: &Place,
        obj: &'v Map<String, Value>,
        key: &str,
    ) -> Result<&'v Value, ConfigError> {
        field(obj, key).ok_or_else(|| self.error(&place.key(key), "is missing"))
    }

    /// An object whose keys are all in `allowed` (any key when `allowed` is empty).
    fn object<'v>(
        &self,
        place: &Place,
        value: &'v Value,
        expected: &str,
        allowed: &[&str],
    ) -> Result<&'v Map<String, Value>, ConfigError> {
        let Value::Object(obj) = value else {
            return Err(self.type_error(place, expected, value));
        };
        if !allowed.is_empty()
            && let Some(unknown) = obj.keys().find(|k| !allowed.contains(&k.as_str()))
        {
            return Err(self.error(
                place,
                format!(
                    "has an unknown key {unknown:?}; expected one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
        // One rule for every key: `null` is refused, never read as "unset", so a generated
        // document cannot switch a setting off (or a rule to its default) by accident.
        if !allowed.is_empty()
            && let Some((key, _)) = obj.iter().find(|(_, v)| v.is_null())
        {
            return Err(self.error(
                &place.key(key),
                "is null: leave the key out to use its default",
            ));
        }
        Ok(obj)
    }

    fn list<'v>(
        &self,
        place: &Place,
        value: &'v Value,
        expected: &str,
    ) -> Result<&'v [Value], ConfigError> {
        match value {
            Value::Array(items) => Ok(items),
            other => Err(self.type_error(place, expected, other)),
        }
    }

    fn string(&self, place: &Place, value: &Value) -> Result<String, ConfigError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.type_error(place, "a string", other)),
        }
    }

    fn string_list(&self, place: &Place, value: &Value) -> Result<Vec<String>, ConfigError> {
        self.list(place, value, "a list of strings")?
            .iter()
            .enumerate()
            .map(|(i, item)| self.string(&place.index(i), item))
            .collect()
    }

    /// A string (itself comma-separated, as in the environment variables) or a list of strings;
    /// items trimmed, empty ones dropped.
    fn string_or_list(&self, place: &Place, value: &Value) -> Result<Vec<String>, ConfigError> {
        let items = match value {
            Value::String(s) => s.split(',').map(str::to_owned).collect(),
            Value::Array(_) => self.string_list(place, value)?,
            other => return Err(self.type_error(place, "a string or a list of strings", other)),
        };
        Ok(items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect())
    }
}

/// A value's type in words, for error messages; a string's content is never echoed (it may be a
/// pasted secret).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Parses JSON text into a tree, refusing any object that repeats a key (the error names the
/// key and its place). Nesting depth is bounded by serde_json's recursion limit (128).
pub(crate) fn parse_json_without_duplicates(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Strict {
        place: Place::root(),
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A JSON value whose objects have unique keys.
struct Strict {
    place: Place,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict {
            place: self.place.index(items.len()),
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if obj.contains_key(&key) {
                let within = if self.place.0.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", self.place.0)
                };
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice{within}: keep one (JSON parsers silently keep \
                     the last, which could weaken a rule)"
                )));
            }
            let value = map.next_value_seed(Strict {
                place: self.place.key(&key),
            })?;
            obj.insert(key, value);
        }
        Ok(Value::Object(obj))
    }
}
