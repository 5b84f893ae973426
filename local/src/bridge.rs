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
    let fixed = [("JWT_ISSUER", issuer), ("JWT_AUDIENCE", audience)];
    let hidden = [
        "JWKS_URI",
        "COGNITO_TOKEN_USE",
        "AUTHORIZER_CONFIG",
        "AUTHORIZER_CONFIG_FILE",
    ];
    Config::from_lookup(lookup(&fixed, &hidden, settings))
}

/// For a given issuer and audience, the other settings as configured.
pub(crate) fn external_config(
    issuer: &str,
    audience: &str,
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    let fixed = [("JWT_ISSUER", issuer), ("JWT_AUDIENCE", audience)];
    Config::from_lookup(lookup(&fixed, &[], settings))
}

/// Everything from `settings` and the environment, as the Lambda function reads it.
pub(crate) fn environment_config(
    settings: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    Config::from_lookup(lookup(&[], &[], settings))
}
