//! The configuration error: what fails a cold start. Its own module, depending on nothing, so
//! that every module that reads a piece of configuration (claim rules, issuer policy, Cognito
//! settings, URLs) can say what is wrong without depending on the configuration as a whole.

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
