//! Why fetching or reading a JWKS failed.

use std::time::Duration;

/// Why a fetch attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Connection, TLS or protocol failure.
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-2xx status (redirects are not followed).
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body exceeded the size cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The whole attempt (discovery + JWKS) took longer than the configured timeout.
    #[error("fetching keys took longer than {0:?}")]
    Timeout(Duration),
    /// The body is not JSON.
    #[error("{url} did not send JSON: {source}")]
    Json {
        /// The URL requested.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The https client could not be built (for instance, no root certificates on the system).
    #[error("cannot set up https: {0}")]
    Client(String),
    /// JSON, but not a JWKS (`{"keys": [...]}`) or not a discovery document with a usable `jwks_uri`.
    #[error("{0}")]
    Shape(String),
    /// A JWKS in which no key is usable.
    #[error("the JWKS has no usable signing key ({skipped} skipped)")]
    NoUsableKeys {
        /// How many keys were skipped.
        skipped: usize,
    },
}
