//! The process environment, read once at start-up. Nothing else in the crate calls
//! `std::env::var`: tests hand [`Environment::from_pairs`] a map instead of mutating the process.

use std::collections::BTreeMap;
use std::time::Duration;

/// Environment variables as the local API saw them at start-up. An empty value reads as unset,
/// as the Lambda functions read theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process environment (variables whose name or value is not UTF-8 are skipped: none of
    /// ours is).
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The value of `name`; `None` when unset or empty (blank counts as empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// Sets `name` (for tests and callers that configure the authorizer in code).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }
}

/// The gateway's own limits, as API Gateway (HTTP API) enforces them on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole request head must arrive within this time, else 408 and the connection
    /// closes. Default 10 s.
    pub header_read_timeout: Duration,
    /// The whole body must arrive within this time once the head has, else 408. Default 10 s.
    pub body_read_timeout: Duration,
    /// HTTP API's payload limit, 10 MiB; larger bodies get 413.
    pub max_body_bytes: usize,
    /// HTTP API's limit on the request line and headers together, 10,240 bytes; more gets 431.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_header_bytes: 10 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_values_read_as_unset() {
        let env = Environment::from_pairs([("A", ""), ("B", "  "), ("C", "x")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), Some("x"));
        assert_eq!(env.get("D"), None);
    }
}
