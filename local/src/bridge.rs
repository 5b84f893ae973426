//! The workspace's authorizer library, running in process exactly as the Lambda binary runs it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

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

/// The authorizer for `issuer`/`audience`. Its other settings (leeway, response style, timeouts)
/// come from `settings`, else the environment, as in the Lambda function; with `discover` the JWKS location is
/// always discovered from the issuer (the dev issuer), ignoring `JWKS_URI`.
pub(crate) fn authorizer(
    issuer: &str,
    audience: &str,
    discover: bool,
    settings: &BTreeMap<String, String>,
) -> Result<authorizer::Authorizer, authorizer::ConfigError> {
    let config = authorizer::Config::from_lookup(|name: &str| match name {
        "JWT_ISSUER" => Some(issuer.to_owned()),
        "JWT_AUDIENCE" => Some(audience.to_owned()),
        "JWKS_URI" | "COGNITO_TOKEN_USE" if discover => None,
        other => settings
            .get(other)
            .cloned()
            .or_else(|| std::env::var(other).ok()),
    })?;
    authorizer::Authorizer::new(config)
}
