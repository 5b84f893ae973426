//! Amazon Cognito issuer forms. A user pool issues as
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>` (the original issuer) or, with the
//! updated issuer configuration that multi-Region replication uses,
//! `https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>`; a replica region may issue with
//! its own region. One configured pool accepts the forms and regions its settings list, each an
//! issuer of its own (exact `iss`, its own JWKS, the pool's rules), all computed at start-up:
//! nothing is inferred from a token, so any other `iss` is still refused without a network call.

use serde_json::Value;
use url::{Host, Url};

use crate::claim_rules::{describe, error_at};
use crate::config_error::ConfigError;
use crate::issuer::IssuerConfig;
use crate::jwks::parse_secure_url;

/// Which of the two issuer URL shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IssuerForm {
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    Original,
    /// `https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>`.
    Updated,
}

impl IssuerForm {
    fn host_prefix(self) -> &'static str {
        match self {
            IssuerForm::Original => "cognito-idp.",
            IssuerForm::Updated => "issuer-cognito-idp.",
        }
    }
}

/// A Cognito issuer URL taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CognitoIssuer {
    /// The URL shape.
    pub form: IssuerForm,
    /// The region in the host name.
    pub region: String,
    /// `.amazonaws.com`, or `.amazonaws.com.cn` in the China partition.
    pub domain: &'static str,
    /// The user pool id (the path).
    pub pool: String,
}

impl CognitoIssuer {
    /// Takes a Cognito issuer URL apart; `None` for anything else (another host shape, a path
    /// that is not exactly one pool id).
    pub(crate) fn parse(url: &Url) -> Option<CognitoIssuer> {
        let Some(Host::Domain(host)) = url.host() else {
            return None;
        };
        // The longer prefix first: `issuer-cognito-idp.` does not start with `cognito-idp.`,
        // but be explicit.
        let (form, rest) = [IssuerForm::Updated, IssuerForm::Original]
            .into_iter()
            .find_map(|form| {
                host.strip_prefix(form.host_prefix())
                    .map(|rest| (form, rest))
            })?;
        let (region, domain) = [".amazonaws.com", ".amazonaws.com.cn"]
            .into_iter()
            .find_map(|domain| rest.strip_suffix(domain).map(|region| (region, domain)))?;
        let pool = url.path().trim_start_matches('/');
        if !is_region(region) || pool.is_empty() || pool.contains('/') {
            return None;
        }
        Some(CognitoIssuer {
            form,
            region: region.to_owned(),
            domain,
            pool: pool.to_owned(),
        })
    }

    /// The issuer of this pool in `form` and `region`.
    fn url(&self, form: IssuerForm, region: &str) -> String {
        format!(
            "https://{}{region}{}/{}",
            form.host_prefix(),
            self.domain,
            self.pool
        )
    }
}

/// An AWS region name: lowercase words and a number, joined by `-` (`eu-west-1`,
/// `us-gov-west-1`, `cn-north-1`).
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    region.len() <= 32
        && parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Expands a configured Cognito issuer into one issuer per accepted form and region, as its
/// `cognito` settings (found at `place`, e.g. `AUTHORIZER_CONFIG issuers[0].cognito`) say. The
/// configured issuer comes first, kept byte for byte; every expansion shares its audiences,
/// `token_use` and policy. Without settings, the issuer alone.
pub(crate) fn expand(
    place: &str,
    issuer: IssuerConfig,
    settings: Option<&Value>,
) -> Result<Vec<IssuerConfig>, ConfigError> {
    let Some(settings) = settings else {
        return Ok(vec![issuer]);
    };
    let parsed = Url::parse(&issuer.issuer)
        .ok()
        .and_then(|url| CognitoIssuer::parse(&url));
    let Some(pool) = parsed.filter(|_| issuer.cognito.is_some()) else {
        return Err(error_at(
            place,
            "only applies to Cognito issuers (https://cognito-idp.<region>.amazonaws.com/<pool id> or \
             https://issuer-cognito-idp.<region>.amazonaws.com/<pool id>): remove it",
        ));
    };
    let Value::Object(fields) = settings else {
        return Err(error_at(
            place,
            format!(
                "expected an object such as {{\"regions\": [\"eu-west-1\", \"us-east-1\"], \
                 \"issuer_forms\": [\"original\", \"updated\"]}}, found {}",
                describe(settings)
            ),
        ));
    };
    for name in fields.keys() {
        if !["regions", "issuer_forms", "jwks_uris"].contains(&name.as_str()) {
            return Err(error_at(
                place,
                format!("unknown field {name:?}: use `regions`, `issuer_forms` or `jwks_uris`"),
            ));
        }
    }

    let mut regions = vec![pool.region.clone()];
    if let Some(value) = fields.get("regions") {
        for (i, region) in strings(&format!("{place}.regions"), value)?
            .into_iter()
            .enumerate()
        {
            if !is_region(&region) {
                return Err(error_at(
                    &format!("{place}.regions[{i}]"),
                    format!("{region:?} is not an AWS region name (such as \"eu-west-1\")"),
                ));
            }
            if !regions.contains(&region) {
                regions.push(region);
            }
        }
    }
    let mut forms = vec![pool.form];
    if let Some(value) = fields.get("issuer_forms") {
        for (i, form) in strings(&format!("{place}.issuer_forms"), value)?
            .into_iter()
            .enumerate()
        {
            let form = match form.as_str() {
                "original" => IssuerForm::Original,
                "updated" => IssuerForm::Updated,
                other => {
                    return Err(error_at(
                        &format!("{place}.issuer_forms[{i}]"),
                        format!(
                            "unknown issuer form {other:?}: use \"original\" (cognito-idp.<region>) or \"updated\" (issuer-cognito-idp.<region>)"
                        ),
                    ));
                }
            };
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }

    let mut accepted = vec![issuer.issuer.clone()];
    for form in &forms {
        for region in &regions {
            let url = pool.url(*form, region);
            if (*form, region.as_str()) != (pool.form, pool.region.as_str())
                && !accepted.contains(&url)
            {
                accepted.push(url);
            }
        }
    }
    if accepted.len() > 1
        && (issuer.jwks_uri.is_some()
            || issuer.jwks_inline.is_some()
            || !issuer.hmac_keys.is_empty())
    {
        return Err(error_at(
            place,
            "accepts several issuer forms, each with its own keys: give their JWKS URLs in \
             cognito.jwks_uris (by issuer) instead of jwks_uri, jwks or hmac",
        ));
    }

    let mut jwks_uris: Vec<(String, Url)> = Vec::new();
    if let Some(value) = fields.get("jwks_uris") {
        let here = format!("{place}.jwks_uris");
        let Value::Object(map) = value else {
            return Err(error_at(
                &here,
                format!(
                    "expected an object from issuer to JWKS URL, found {}",
                    describe(value)
                ),
            ));
        };
        for (iss, uri) in map {
            let at = format!("{here}[{iss:?}]");
            if !accepted.contains(iss) {
                return Err(error_at(
                    &at,
                    format!(
                        "is not one of the issuers this pool accepts ({})",
                        accepted.join(", ")
                    ),
                ));
            }
            let Value::String(uri) = uri else {
                return Err(error_at(
                    &at,
                    format!("expected a string, found {}", describe(uri)),
                ));
            };
            jwks_uris.push((iss.clone(), parse_secure_url(&at, uri)?));
        }
    }

    Ok(accepted
        .into_iter()
        .map(|iss| {
            let mut form = issuer.clone();
            if let Some((_, uri)) = jwks_uris.iter().find(|(i, _)| *i == iss) {
                form.jwks_uri = Some(uri.clone());
            }
            form.issuer = iss;
            form
        })
        .collect())
}

fn strings(place: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(error_at(
            place,
            format!("expected a list of strings, found {}", describe(value)),
        ));
    };
    if items.is_empty() {
        return Err(error_at(
            place,
            "is empty: list at least one or leave it out",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(error_at(
                &format!("{place}[{i}]"),
                format!("expected a string, found {}", describe(other)),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::issuer::{CognitoRules, TokenUse};

    const POOL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC";

    /// The issuer as the configuration builds it: Cognito rules for a Cognito issuer.
    fn issuer(iss: &str) -> IssuerConfig {
        let url = Url::parse(iss).unwrap();
        IssuerConfig {
            issuer: iss.to_owned(),
            audiences: vec!["client1".to_owned()],
            jwks_uri: None,
            cognito: CognitoIssuer::parse(&url).map(|_| CognitoRules {
                token_use: vec![TokenUse::Access],
            }),
            jwks_inline: None,
            hmac_keys: Vec::new(),
            policy: Default::default(),
        }
    }

    fn accepted(iss: &str, settings: Value) -> Vec<String> {
        expand("cognito", issuer(iss), Some(&settings))
            .unwrap()
            .into_iter()
            .map(|i| i.issuer)
            .collect()
    }

    #[test]
    fn parse_reads_both_forms_and_partitions() {
        let p = |s: &str| CognitoIssuer::parse(&Url::parse(s).unwrap());
        let original = p(POOL).unwrap();
        assert_eq!(
            (
                original.form,
                original.region.as_str(),
                original.pool.as_str()
            ),
            (IssuerForm::Original, "eu-west-1", "eu-west-1_AbC")
        );
        let updated = p("https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_X").unwrap();
        assert_eq!(updated.form, IssuerForm::Updated);
        assert_eq!(
            p("https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_X")
                .unwrap()
                .domain,
            ".amazonaws.com.cn"
        );
        for no in [
            "https://xissuer-cognito-idp.us-east-1.amazonaws.com/p",
            "https://issuer-cognito-idp.us-east-1.amazonaws.com.evil.com/p",
            "https://issuer-cognito-idp.us-east-1.amazonaws.com/",
            "https://issuer-cognito-idp.us-east-1.amazonaws.com/p/x",
            "https://issuer-cognito-idp.amazonaws.com/p",
            "https://cognito-idp.evil.amazonaws.com/p",
            "https://cognito-idp.us_east_1.amazonaws.com/p",
        ] {
            assert_eq!(p(no), None, "{no}");
        }
    }

    #[test]
    fn expand_accepts_listed_forms_in_listed_regions_configured_first() {
        assert_eq!(
            accepted(
                POOL,
                json!({"regions": ["us-east-1"], "issuer_forms": ["updated"]})
            ),
            vec![
                POOL.to_owned(),
                "https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC".into(),
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC".into(),
                "https://issuer-cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC".into(),
            ]
        );
        assert_eq!(
            accepted(POOL, json!({"issuer_forms": ["updated", "original"]})),
            vec![
                POOL.to_owned(),
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC".into()
            ]
        );
        assert_eq!(accepted(POOL, json!({})), vec![POOL.to_owned()]);
        let all = expand("c", issuer(POOL), Some(&json!({"regions": ["us-east-1"]}))).unwrap();
        assert!(
            all.iter()
                .all(|i| i.cognito == all[0].cognito && i.audiences == all[0].audiences)
        );
    }

    #[test]
    fn expand_refuses_bad_settings_naming_their_place() {
        let err = |iss: &str, v: Value| {
            expand("issuers[0].cognito", issuer(iss), Some(&v))
                .unwrap_err()
                .var
        };
        assert_eq!(
            err("https://tenant.auth0.com/", json!({})),
            "issuers[0].cognito"
        );
        assert_eq!(err(POOL, json!(["us-east-1"])), "issuers[0].cognito");
        assert_eq!(
            err(POOL, json!({"region": ["us-east-1"]})),
            "issuers[0].cognito"
        );
        assert_eq!(
            err(POOL, json!({"regions": "us-east-1"})),
            "issuers[0].cognito.regions"
        );
        assert_eq!(
            err(POOL, json!({"regions": []})),
            "issuers[0].cognito.regions"
        );
        assert_eq!(
            err(POOL, json!({"regions": ["us-east-1", "evil.com/x"]})),
            "issuers[0].cognito.regions[1]"
        );
        assert_eq!(
            err(POOL, json!({"regions": [5]})),
            "issuers[0].cognito.regions[0]"
        );
        assert_eq!(
            err(POOL, json!({"issuer_forms": ["new"]})),
            "issuers[0].cognito.issuer_forms[0]"
        );
        assert_eq!(
            err(
                POOL,
                json!({"jwks_uris": {"https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC": "https://k/jwks"}})
            ),
            "issuers[0].cognito.jwks_uris[\"https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC\"]"
        );
        assert_eq!(
            err(
                POOL,
                json!({"jwks_uris": {POOL: "http://evil.example/jwks"}})
            ),
            format!("issuers[0].cognito.jwks_uris[{POOL:?}]")
        );
        let mut with_uri = issuer(POOL);
        with_uri.jwks_uri = Some(Url::parse("https://k.example/jwks").unwrap());
        assert_eq!(
            expand("c", with_uri, Some(&json!({"regions": ["us-east-1"]})))
                .unwrap_err()
                .var,
            "c"
        );
    }

    #[test]
    fn updated_form_alone_is_a_cognito_issuer_with_cognito_rules() {
        let updated = issuer("https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC");
        assert_eq!(
            updated.cognito.map(|c| c.token_use),
            Some(vec![TokenUse::Access])
        );
        // ... and from it, the original form is one more accepted issuer.
        assert_eq!(
            accepted(
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
                json!({"issuer_forms": ["original"]})
            ),
            vec![
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC".to_owned(),
                POOL.to_owned()
            ]
        );
    }

    #[test]
    fn expand_gives_each_form_its_own_jwks_uri() {
        let settings = json!({"issuer_forms": ["updated"], "jwks_uris": {
            "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC": "http://127.0.0.1:9/updated"
        }});
        let all = expand("c", issuer(POOL), Some(&settings)).unwrap();
        assert_eq!(all[0].jwks_uri, None);
        assert_eq!(
            all[1].jwks_uri.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:9/updated")
        );
    }
}
