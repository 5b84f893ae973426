//! The workspace's authorizer library, running in process exactly as the Lambda binary runs it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use authorizer::{Config, ConfigError};

use crate::gateway::{Authorize, AuthorizerFailure};

impl Authorize for authorizer::Authorizer {
    fn authorize(
        &self,
        event: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value, AuthorizerFailure>> + Send + '_>> {
        Box::pin(async move {
            self.handle(event).await.map_err(|error| {
                // The Lambda runtime reports the error's Display text; API Gateway answers 401
                // only when that text is exactly `Unauthorized`.
                if error.is_unauthorized() {
                    AuthorizerFailure::Unauthorized
                } else {
                    AuthorizerFailure::Error(error.to_string())
                }
            })
        })
    }
}

/// The local API runs the authorizer on every request and caches no answer, so route rules
/// (which the authorizer refuses while API Gateway may cache its answers) are safe here.
const NO_ANSWER_CACHE: (&str, &str) = ("AUTHORIZER_CACHE_TTL_SECONDS", "0");

/// A lookup that answers `fixed` first, then `settings`, then the process environment;
/// `hidden` variables read as unset.
fn lookup<'a>(
    fixed: &'a [(&'a str, &'a str)],
    hidden: &'a [&'a str],
    settings: &'a BTreeMap<String, String>,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        if let Some((_, value)) = fixed.iter().find(|(key, _)| *key == name) {
            return Some((*value).to_owned());
        }
        if hidden.contains(&name) {
            return None;
        }
        settings
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }
}

/// For the embedded dev issuer: its issuer and audience, its JWKS discovered from it (a
/// `JWKS_URI` or configuration document in the environment is for a real issuer and ignored);
/// the other settings (leeway, response style, timeouts) as configured.
pub(crate) fn dev_config(
    issuer: &str,
    audience: &str,
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    let hidden = [
        "JWKS_URI",
        "COGNITO_TOKEN_USE",
        "AUTHORIZER_CONFIG",
        "AUTHORIZER_CONFIG_FILE",
    ];
    issuer_config(issuer, audience, &hidden, settings)
}

/// For a given issuer and audience, the other settings as configured.
pub(crate) fn external_config(
    issuer: &str,
    audience: &str,
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    issuer_config(issuer, audience, &[], settings)
}

fn issuer_config(
    issuer: &str,
    audience: &str,
    hidden: &[&str],
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    let fixed = [
        ("JWT_ISSUER", issuer),
        ("JWT_AUDIENCE", audience),
        NO_ANSWER_CACHE,
    ];
    Config::from_lookup(lookup(&fixed, hidden, settings))
}

/// Everything from `settings` and the environment, as the Lambda function reads it.
pub(crate) fn environment_config(
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    Config::from_lookup(lookup(&[NO_ANSWER_CACHE], &[], settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_config_with_route_rules_is_accepted_locally() {
        // The Lambda function refuses route rules unless API Gateway's answer cache is off;
        // the local API caches nothing, so the same configuration must start here.
        let settings = BTreeMap::from([(
            "AUTHORIZER_CONFIG".to_owned(),
            r#"{"issuers": [{"issuer": "https://tenant.example.com/", "audience": "api"}],
                "required_scopes": {"GET /shows": "read:shows"}}"#
                .to_owned(),
        )]);
        let config = environment_config(&settings).expect("route rules accepted locally");
        assert!(config.decisions_depend_on_route());
    }
}
