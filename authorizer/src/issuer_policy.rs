//! What an issuer's tokens must be beyond a valid signature, `exp`, `nbf` and audience: the
//! RFC 9068 access-token profile, a maximum lifetime, claim rules; and what the answer takes
//! from them: the `principalId` and the usage-plan key. Checked after the signature, as a pure
//! function of the header `typ`, the claims and `now`.

use serde_json::{Map, Value};

use crate::claim_rules::{ClaimRule, describe, error_at, first_failing, parse_rules};
use crate::config_error::ConfigError;
use crate::error::Reason;

/// Longest configurable token lifetime: a year (366 days).
pub(crate) const MAX_LIFETIME_LIMIT: u64 = 366 * 24 * 3600;

/// Claims that are NumericDates and so can never be an API key.
const NUMERIC_DATE_CLAIMS: &[&str] = &["exp", "nbf", "iat", "auth_time"];

/// One issuer's policy. The default adds nothing to the standard checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssuerPolicy {
    /// `rfc9068`: require the RFC 9068 JWT access-token profile. `None`: any `typ`.
    pub access_token: Option<AccessTokenProfile>,
    /// `claim_rules`: every one must hold.
    pub claim_rules: Vec<ClaimRule>,
    /// `max_lifetime_seconds`: largest `exp - iat` (and `exp - now`) accepted.
    pub max_lifetime_secs: Option<u64>,
    /// `require_iat`: a token without a numeric `iat` is refused.
    pub require_iat: bool,
    /// `principal_claims`: the first of these that is a non-blank string is the `principalId`;
    /// `sub` when none is (or when the list is empty).
    pub principal_claims: Vec<String>,
    /// `usage_identifier_claim`: the claim whose string value REST answers carry as
    /// `usageIdentifierKey` (API Gateway usage plans with `apiKeySource: AUTHORIZER`).
    pub usage_identifier_claim: Option<String>,
}

/// The RFC 9068 profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessTokenProfile {
    /// Also require the profile's claims: `sub`, `client_id`, `jti` (non-empty strings) and
    /// `iat` (a number). `exp`, `iss` and `aud` are always required.
    pub require_claims: bool,
}

/// Why the policy refused a token: the reason code and, for the log, the claim at fault (a
/// configured name, never a token value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Reason code.
    pub reason: Reason,
    /// The claim at fault, when one is.
    pub claim: Option<String>,
}

impl Refusal {
    fn new(reason: Reason, claim: Option<&str>) -> Self {
        Self {
            reason,
            claim: claim.map(str::to_owned),
        }
    }
}

impl IssuerPolicy {
    /// Checks a token whose signature, `exp`, `nbf` and audience are already verified.
    /// `typ` is the protected header's `typ` member, when present.
    pub fn check(
        &self,
        typ: Option<&Value>,
        claims: &Map<String, Value>,
        leeway_secs: u64,
        now: u64,
    ) -> Result<(), Refusal> {
        if let Some(profile) = self.access_token {
            if !is_access_token_type(typ) {
                return Err(Refusal::new(Reason::WrongTokenType, None));
            }
            if profile.require_claims {
                for name in ["sub", "client_id", "jti"] {
                    if !matches!(claims.get(name), Some(Value::String(s)) if !s.is_empty()) {
                        return Err(Refusal::new(Reason::MissingClaim, Some(name)));
                    }
                }
            }
        }
        let needs_iat = self.require_iat || self.access_token.is_some_and(|p| p.require_claims);
        let iat = match claims.get("iat") {
            None if needs_iat => return Err(Refusal::new(Reason::MissingClaim, Some("iat"))),
            None => None,
            Some(value) => match value.as_f64().filter(|v| v.is_finite()) {
                Some(iat) => Some(iat),
                // A present but non-numeric `iat` only matters where a rule reads it.
                None if needs_iat || self.max_lifetime_secs.is_some() => {
                    return Err(Refusal::new(Reason::MalformedToken, Some("iat")));
                }
                None => None,
            },
        };
        if let Some(max) = self.max_lifetime_secs {
            // `exp` was checked to be a finite number before the policy runs.
            let exp = claims
                .get("exp")
                .and_then(Value::as_f64)
                .unwrap_or(f64::INFINITY);
            let max = max as f64;
            let too_long_from_iat = iat.is_some_and(|iat| exp - iat > max);
            // Also bound by now: a token without `iat`, or with an `iat` in the future, still
            // cannot live longer than the maximum from the moment we see it.
            let too_long_from_now = exp - now as f64 > max + leeway_secs as f64;
            if too_long_from_iat || too_long_from_now {
                return Err(Refusal::new(Reason::LifetimeTooLong, Some("exp")));
            }
        }
        if let Some(rule) = first_failing(&self.claim_rules, claims) {
            return Err(Refusal::new(Reason::ClaimRuleFailed, Some(&rule.claim)));
        }
        Ok(())
    }

    /// The `principalId`: the first configured claim that is a non-blank string, else `sub`
    /// (which verification guarantees is a non-empty string). Never empty.
    pub fn principal(&self, claims: &Map<String, Value>, sub: &str) -> String {
        self.principal_claims
            .iter()
            .find_map(|name| match claims.get(name) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| sub.to_owned())
    }

    /// The usage-plan key the token supplies, when configured and present as a non-blank string.
    pub fn usage_identifier(&self, claims: &Map<String, Value>) -> Option<String> {
        let name = self.usage_identifier_claim.as_deref()?;
        match claims.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => None,
        }
    }
}

/// RFC 9068 §2.1 / RFC 7515 §4.1.9: `at+jwt`, with or without the `application/` prefix,
/// compared case-insensitively (media type names are). Nothing else: no parameters, no spaces.
fn is_access_token_type(typ: Option<&Value>) -> bool {
    let Some(Value::String(typ)) = typ else {
        return false;
    };
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ.as_str(),
    };
    bare.eq_ignore_ascii_case("at+jwt")
}

/// The issuer document's policy fields, as found (each parsed here, with its place named).
#[derive(Debug, Default)]
pub(crate) struct PolicyFields {
    pub(crate) rfc9068: Option<Value>,
    pub(crate) claim_rules: Option<Value>,
    pub(crate) max_lifetime_seconds: Option<Value>,
    pub(crate) require_iat: Option<Value>,
    pub(crate) principal_claims: Option<Value>,
    pub(crate) usage_identifier_claim: Option<Value>,
}

impl IssuerPolicy {
    /// Parses the fields of the issuer at `place` (`"AUTHORIZER_CONFIG issuers[0]"`).
    pub(crate) fn parse(place: &str, fields: PolicyFields) -> Result<IssuerPolicy, ConfigError> {
        let at = |field: &str| format!("{place}.{field}");
        let mut policy = IssuerPolicy::default();

        if let Some(value) = fields.rfc9068 {
            let here = at("rfc9068");
            let Value::Object(options) = &value else {
                return Err(error_at(
                    &here,
                    format!(
                        "expected an object ({{}} to require typ at+jwt, {{\"require_claims\": true}} for the profile's claims too), found {}",
                        describe(&value)
                    ),
                ));
            };
            let mut profile = AccessTokenProfile::default();
            for (name, option) in options {
                match (name.as_str(), option) {
                    ("require_claims", Value::Bool(b)) => profile.require_claims = *b,
                    ("require_claims", other) => {
                        return Err(error_at(
                            &format!("{here}.require_claims"),
                            format!("expected a boolean, found {}", describe(other)),
                        ));
                    }
                    (other, _) => {
                        return Err(error_at(
                            &here,
                            format!("unknown field {other:?}: the only option is `require_claims`"),
                        ));
                    }
                }
            }
            policy.access_token = Some(profile);
        }

        if let Some(value) = fields.claim_rules {
            policy.claim_rules = parse_rules(&at("claim_rules"), &value)?;
        }

        if let Some(value) = fields.max_lifetime_seconds {
            let here = at("max_lifetime_seconds");
            let secs = value
                .as_u64()
                .filter(|s| (1..=MAX_LIFETIME_LIMIT).contains(s));
            policy.max_lifetime_secs = Some(secs.ok_or_else(|| {
                error_at(
                    &here,
                    format!(
                        "expected a whole number of seconds from 1 to {MAX_LIFETIME_LIMIT}, found {}",
                        describe(&value)
                    ),
                )
            })?);
        }

        if let Some(value) = fields.require_iat {
            policy.require_iat = value.as_bool().ok_or_else(|| {
                error_at(
                    &at("require_iat"),
                    format!("expected a boolean, found {}", describe(&value)),
                )
            })?;
        }

        if let Some(value) = fields.principal_claims {
            let here = at("principal_claims");
            policy.principal_claims = claim_names(&here, &value)?;
        }

        if let Some(value) = fields.usage_identifier_claim {
            let here = at("usage_identifier_claim");
            let name = match &value {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::String(_) => {
                    return Err(error_at(
                        &here,
                        "is empty: name the claim that holds the API key",
                    ));
                }
                other => {
                    return Err(error_at(
                        &here,
                        format!("expected a string, found {}", describe(other)),
                    ));
                }
            };
            if NUMERIC_DATE_CLAIMS.contains(&name.as_str()) {
                return Err(error_at(
                    &here,
                    format!(
                        "names {name:?}, a time (a number), which can never be an API key: name a string claim"
                    ),
                ));
            }
            policy.usage_identifier_claim = Some(name);
        }
        Ok(policy)
    }
}

fn claim_names(place: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(error_at(
            place,
            format!(
                "expected a list of claim names (e.g. [\"email\", \"sub\"]), found {}",
                describe(value)
            ),
        ));
    };
    if items.is_empty() {
        return Err(error_at(
            place,
            "lists no claim: give at least one or leave it out",
        ));
    }
    let mut names = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) if !s.is_empty() => names.push(s.clone()),
            Value::String(_) => {
                return Err(error_at(&format!("{place}[{i}]"), "is empty: name a claim"));
            }
            other => {
                return Err(error_at(
                    &format!("{place}[{i}]"),
                    format!("expected a string, found {}", describe(other)),
                ));
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn policy(fields: Value) -> Result<IssuerPolicy, ConfigError> {
        let f = fields.as_object().unwrap();
        IssuerPolicy::parse(
            "issuers[0]",
            PolicyFields {
                rfc9068: f.get("rfc9068").cloned(),
                claim_rules: f.get("claim_rules").cloned(),
                max_lifetime_seconds: f.get("max_lifetime_seconds").cloned(),
                require_iat: f.get("require_iat").cloned(),
                principal_claims: f.get("principal_claims").cloned(),
                usage_identifier_claim: f.get("usage_identifier_claim").cloned(),
            },
        )
    }

    fn reason(p: &IssuerPolicy, typ: Option<Value>, c: Value) -> Option<Reason> {
        p.check(typ.as_ref(), &claims(c), 0, NOW)
            .err()
            .map(|r| r.reason)
    }

    #[test]
    fn rfc9068_typ_must_be_at_jwt_in_either_spelling() {
        let p = policy(json!({"rfc9068": {}})).unwrap();
        let c = json!({"exp": NOW + 60});
        for ok in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+JWT",
        ] {
            assert_eq!(reason(&p, Some(json!(ok)), c.clone()), None, "{ok}");
        }
        for bad in [
            json!("JWT"),
            json!("jwt"),
            json!("at+jwt "),
            json!(" at+jwt"),
            json!("application/jwt"),
            json!("application/application/at+jwt"),
            json!("at+jwt; charset=utf-8"),
            json!("application/"),
            json!(["at+jwt"]),
            json!(null),
            json!(1),
        ] {
            assert_eq!(
                reason(&p, Some(bad.clone()), c.clone()),
                Some(Reason::WrongTokenType),
                "{bad}"
            );
        }
        assert_eq!(reason(&p, None, c), Some(Reason::WrongTokenType));
        // Without the profile, any typ (or none) is accepted as before.
        assert_eq!(
            reason(
                &IssuerPolicy::default(),
                Some(json!("JWT")),
                json!({"exp": NOW + 60})
            ),
            None
        );
    }

    #[test]
    fn rfc9068_required_claims_are_each_checked() {
        let p = policy(json!({"rfc9068": {"require_claims": true}})).unwrap();
        let full = json!({"exp": NOW + 60, "iat": NOW, "sub": "u", "client_id": "c", "jti": "j"});
        assert_eq!(reason(&p, Some(json!("at+jwt")), full.clone()), None);
        for (name, bad) in [
            ("sub", json!(null)),
            ("client_id", json!(null)),
            ("client_id", json!("")),
            ("client_id", json!(5)),
            ("jti", json!(null)),
            ("jti", json!(["j"])),
            ("iat", json!(null)),
        ] {
            let mut c = full.clone();
            if bad.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = bad.clone();
            }
            let r = p
                .check(Some(&json!("at+jwt")), &claims(c), 0, NOW)
                .unwrap_err();
            assert_eq!(r.claim.as_deref(), Some(name), "{name} {bad}");
            assert_eq!(r.reason, Reason::MissingClaim, "{name} {bad}");
        }
        let mut c = full;
        c["iat"] = json!("now");
        assert_eq!(
            reason(&p, Some(json!("at+jwt")), c),
            Some(Reason::MalformedToken)
        );
    }

    #[test]
    fn lifetime_is_bounded_from_iat_and_from_now() {
        let p = policy(json!({"max_lifetime_seconds": 3600})).unwrap();
        assert_eq!(
            reason(&p, None, json!({"iat": NOW, "exp": NOW + 3600})),
            None
        );
        assert_eq!(
            reason(&p, None, json!({"iat": NOW, "exp": NOW + 3601})),
            Some(Reason::LifetimeTooLong)
        );
        // Issued long ago, still within its hour from iat, fine.
        assert_eq!(
            reason(&p, None, json!({"iat": NOW - 3000, "exp": NOW + 600})),
            None
        );
        // No iat: bounded from now.
        assert_eq!(reason(&p, None, json!({"exp": NOW + 3600})), None);
        assert_eq!(
            reason(&p, None, json!({"exp": NOW + 3601})),
            Some(Reason::LifetimeTooLong)
        );
        // An iat in the future does not stretch the bound.
        assert_eq!(
            reason(
                &p,
                None,
                json!({"iat": NOW + 86_400, "exp": NOW + 86_400 + 60})
            ),
            Some(Reason::LifetimeTooLong)
        );
        assert_eq!(
            reason(&p, None, json!({"iat": "x", "exp": NOW + 60})),
            Some(Reason::MalformedToken)
        );
        // Leeway widens only the bound from now (clock skew), never the one from iat.
        let c = claims(json!({"exp": NOW + 3610}));
        assert!(p.check(None, &c, 10, NOW).is_ok());
        let c = claims(json!({"iat": NOW, "exp": NOW + 3610}));
        assert!(p.check(None, &c, 10, NOW).is_err());
    }

    #[test]
    fn require_iat_refuses_tokens_without_it() {
        let p = policy(json!({"require_iat": true})).unwrap();
        assert_eq!(
            reason(&p, None, json!({"exp": NOW + 60})),
            Some(Reason::MissingClaim)
        );
        assert_eq!(
            reason(&p, None, json!({"exp": NOW + 60, "iat": "yesterday"})),
            Some(Reason::MalformedToken)
        );
        assert_eq!(reason(&p, None, json!({"exp": NOW + 60, "iat": NOW})), None);
        // Without the rule a string iat is not our business (as before this policy existed).
        assert_eq!(
            reason(
                &IssuerPolicy::default(),
                None,
                json!({"exp": NOW + 60, "iat": "x"})
            ),
            None
        );
    }

    #[test]
    fn claim_rules_refuse_with_their_own_reason_and_claim() {
        let p = policy(json!({"claim_rules": [
            {"claim": "email_verified", "equals": true},
            {"claim": "amr", "contains": "mfa"}
        ]}))
        .unwrap();
        let ok = json!({"exp": NOW + 60, "email_verified": true, "amr": ["pwd", "mfa"]});
        assert_eq!(reason(&p, None, ok), None);
        let r = p
            .check(
                None,
                &claims(json!({"exp": NOW + 60, "email_verified": true, "amr": ["pwd"]})),
                0,
                NOW,
            )
            .unwrap_err();
        assert_eq!(
            (r.reason, r.claim.as_deref()),
            (Reason::ClaimRuleFailed, Some("amr"))
        );
    }

    #[test]
    fn principal_takes_first_non_blank_string_else_sub() {
        let p = policy(json!({"principal_claims": ["email", "username"]})).unwrap();
        let pick = |c: Value| p.principal(&claims(c), "the-sub");
        assert_eq!(
            pick(json!({"email": "a@example.com", "username": "a"})),
            "a@example.com"
        );
        assert_eq!(pick(json!({"email": "", "username": "a"})), "a");
        assert_eq!(pick(json!({"email": "  ", "username": 5})), "the-sub");
        assert_eq!(pick(json!({"email": ["a@example.com"]})), "the-sub");
        assert_eq!(IssuerPolicy::default().principal(&Map::new(), "s"), "s");
    }

    #[test]
    fn usage_identifier_is_a_non_blank_string_claim() {
        let p = policy(json!({"usage_identifier_claim": "https://example.com/api_key"})).unwrap();
        let key = |c: Value| p.usage_identifier(&claims(c));
        assert_eq!(
            key(json!({"https://example.com/api_key": "k-123"})).as_deref(),
            Some("k-123")
        );
        assert_eq!(key(json!({"https://example.com/api_key": ""})), None);
        assert_eq!(key(json!({"https://example.com/api_key": 5})), None);
        assert_eq!(key(json!({})), None);
        assert_eq!(
            IssuerPolicy::default().usage_identifier(&claims(json!({"k": "v"}))),
            None
        );
    }

    #[test]
    fn readme_example_document_parses_into_these_rules() {
        let document = json!({
          "issuers": [
            {"issuer": "https://example.eu.auth0.com/", "audience": "https://shows.example.com",
             "rfc9068": {"require_claims": true},
             "max_lifetime_seconds": 86400, "require_iat": true,
             "claim_rules": [{"claim": "email_verified", "equals": true},
                             {"claim": "amr", "contains": "mfa"},
                             {"claim": "https://example.com/plan", "one_of": ["gold", "silver"]}],
             "principal_claims": ["email", "sub"],
             "usage_identifier_claim": "https://example.com/api_key"},
            {"issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", "audience": "app-client-id",
             "cognito": {"regions": ["us-east-1"], "issuer_forms": ["original", "updated"]}}
          ],
          "route_claim_rules": {"DELETE /shows/*": [{"claim": "cognito:groups", "contains": "admin"}]}
        })
        .to_string();
        let env = |k: &str| match k {
            "AUTHORIZER_CONFIG" => Some(document.clone()),
            "AUTHORIZER_CACHE_TTL_SECONDS" => Some("0".to_owned()),
            _ => None,
        };
        let config = crate::Config::from_lookup(env).unwrap();
        let auth0 = &config.issuers[0].policy;
        assert_eq!(
            auth0.access_token,
            Some(AccessTokenProfile {
                require_claims: true
            })
        );
        assert_eq!(
            (auth0.max_lifetime_secs, auth0.require_iat),
            (Some(86400), true)
        );
        assert_eq!(auth0.claim_rules.len(), 3);
        assert_eq!(auth0.principal_claims, vec!["email", "sub"]);
        let pool: Vec<&str> = config.issuers[1..]
            .iter()
            .map(|i| i.issuer.as_str())
            .collect();
        assert_eq!(pool.len(), 4, "{pool:?}");
        assert_eq!(config.route_claim_rules.len(), 1);
        assert!(config.decisions_depend_on_route());
    }

    #[test]
    fn policy_fields_are_type_checked_naming_their_place() {
        let err = |v: Value| policy(v).unwrap_err().var;
        assert_eq!(err(json!({"rfc9068": true})), "issuers[0].rfc9068");
        assert_eq!(
            err(json!({"rfc9068": {"require_claim": true}})),
            "issuers[0].rfc9068"
        );
        assert_eq!(
            err(json!({"rfc9068": {"require_claims": "yes"}})),
            "issuers[0].rfc9068.require_claims"
        );
        for bad in [
            json!(0),
            json!(-5),
            json!(1.5),
            json!("3600"),
            json!(MAX_LIFETIME_LIMIT + 1),
            json!(null),
        ] {
            assert_eq!(
                err(json!({"max_lifetime_seconds": bad})),
                "issuers[0].max_lifetime_seconds",
                "{bad}"
            );
        }
        assert_eq!(
            err(json!({"require_iat": "true"})),
            "issuers[0].require_iat"
        );
        assert_eq!(
            err(json!({"principal_claims": "email"})),
            "issuers[0].principal_claims"
        );
        assert_eq!(
            err(json!({"principal_claims": []})),
            "issuers[0].principal_claims"
        );
        assert_eq!(
            err(json!({"principal_claims": ["email", 3]})),
            "issuers[0].principal_claims[1]"
        );
        assert_eq!(
            err(json!({"principal_claims": [""]})),
            "issuers[0].principal_claims[0]"
        );
        assert_eq!(
            err(json!({"usage_identifier_claim": ["k"]})),
            "issuers[0].usage_identifier_claim"
        );
        assert_eq!(
            err(json!({"usage_identifier_claim": ""})),
            "issuers[0].usage_identifier_claim"
        );
        assert_eq!(
            err(json!({"usage_identifier_claim": "exp"})),
            "issuers[0].usage_identifier_claim"
        );
        let e = policy(
            json!({"claim_rules": [{"claim": "a", "equals": 1}, {"claim": "b", "contains": 5}]}),
        )
        .unwrap_err();
        assert_eq!(e.var, "issuers[0].claim_rules[1].contains");
        assert!(e.message.starts_with("expected a string"), "{e}");
    }
}
