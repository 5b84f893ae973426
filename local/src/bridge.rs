//! The workspace's authorizer library, configured and called in process exactly as the Lambda
//! binary is: the same variables, from the same places.

use std::collections::BTreeMap;

use serde_json::Value;

use authorizer::{Authorizer, Config, ConfigError};

use crate::config::Environment;
use crate::gateway::AuthorizerFailure;

/// Calls the authorizer with an event and reports a failure as the Lambda runtime would.
pub(crate) async fn invoke(
    authorizer: &Authorizer,
    event: Value,
) -> Result<Value, AuthorizerFailure> {
    authorizer.handle(event).await.map_err(|error| {
        // The Lambda runtime reports the error's Display text; API Gateway answers 401 only
        // when that text is exactly `Unauthorized`.
        if error.is_unauthorized() {
            AuthorizerFailure::Unauthorized
        } else {
            AuthorizerFailure::Error(error.to_string())
        }
    })
}

/// Where each authorizer variable comes from, first match wins: `fixed` (the dev issuer's own
/// issuer and audience), then the local environment (as a variable set on the function would
/// be), then the value the template gives the deployed function (`!Ref` to a parameter's
/// default, e.g. `AUTHORIZER_CACHE_TTL_SECONDS` from `AuthorizerCacheTtlSeconds`). `hidden`
/// variables read as unset.
#[derive(Debug)]
pub(crate) struct Sources<'a> {
    pub(crate) environment: &'a Environment,
    pub(crate) template: &'a BTreeMap<String, String>,
}

impl Sources<'_> {
    fn config(&self, fixed: &[(&str, &str)], hidden: &[&str]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name: &str| {
            if let Some((_, value)) = fixed.iter().find(|(key, _)| *key == name) {
                return Some((*value).to_owned());
            }
            if hidden.contains(&name) {
                return None;
            }
            self.environment
                .get(name)
                .or_else(|| self.template.get(name).map(String::as_str))
                .map(str::to_owned)
        })
    }

    /// For the embedded dev issuer: its issuer and audience, its JWKS discovered from it (a
    /// `JWKS_URI` or configuration document is for a real issuer and ignored); the other
    /// settings (leeway, response style, answer cache TTL, timeouts) as configured.
    pub(crate) fn dev_config(&self, issuer: &str, audience: &str) -> Result<Config, ConfigError> {
        let hidden = [
            "JWKS_URI",
            "COGNITO_TOKEN_USE",
            "AUTHORIZER_CONFIG",
            "AUTHORIZER_CONFIG_FILE",
        ];
        self.config(
            &[("JWT_ISSUER", issuer), ("JWT_AUDIENCE", audience)],
            &hidden,
        )
    }

    /// For a given issuer and audience, the other settings as configured.
    pub(crate) fn external_config(
        &self,
        issuer: &str,
        audience: &str,
    ) -> Result<Config, ConfigError> {
        self.config(&[("JWT_ISSUER", issuer), ("JWT_AUDIENCE", audience)], &[])
    }

    /// Everything as the Lambda function reads it.
    pub(crate) fn environment_config(&self) -> Result<Config, ConfigError> {
        self.config(&[], &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE_RULES: &str = r#"{"issuers": [{"issuer": "https://tenant.example.com/", "audience": "api"}],
        "required_scopes": {"GET /shows": "read:shows"}}"#;

    fn template_ttl(ttl: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("AUTHORIZER_CACHE_TTL_SECONDS".to_owned(), ttl.to_owned())])
    }

    #[test]
    fn route_rules_with_the_template_cache_ttl_are_refused_as_deployed() {
        let environment = Environment::from_pairs([("AUTHORIZER_CONFIG", ROUTE_RULES)]);
        let template = template_ttl("300");
        let sources = Sources {
            environment: &environment,
            template: &template,
        };
        let error = sources.environment_config().unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("AUTHORIZER_CACHE_TTL_SECONDS"),
            "{message}"
        );
        assert!(message.contains("is 300 seconds"), "{message}");
        assert!(message.contains("AuthorizerCacheTtlSeconds=0"), "{message}");
    }

    #[test]
    fn the_environment_overrides_the_template_ttl() {
        let environment = Environment::from_pairs([
            ("AUTHORIZER_CONFIG", ROUTE_RULES),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ]);
        let template = template_ttl("300");
        let sources = Sources {
            environment: &environment,
            template: &template,
        };
        let config = sources
            .environment_config()
            .expect("cache off: route rules accepted");
        assert!(config.decisions_depend_on_route());

        let environment = Environment::from_pairs([
            ("AUTHORIZER_CONFIG", ROUTE_RULES),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "60"),
        ]);
        let template = template_ttl("0");
        let sources = Sources {
            environment: &environment,
            template: &template,
        };
        let message = sources.environment_config().unwrap_err().to_string();
        assert!(
            message.contains("is 60 seconds"),
            "an explicit value wins: {message}"
        );
    }
}
