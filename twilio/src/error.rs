//! The one error type of this crate. Messages never contain the secret.

use std::time::SystemTimeError;

/// Why an Access Token could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenError {
    /// A required input (account SID, API key SID, secret or identity) was empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// The time to live was 0 or longer than Twilio accepts (24 hours).
    #[error("ttl must be between 1 and {max} seconds, got {ttl}")]
    InvalidTtl {
        /// The rejected value, in seconds.
        ttl: u64,
        /// The largest accepted value, in seconds.
        max: u32,
    },
    /// The region held non-ASCII characters (twilio-node writes the header as
    /// Latin-1, so such a region could not be reproduced byte for byte).
    #[error("region must be ASCII, for example \"us1\" or \"ie1\"")]
    InvalidRegion,
    /// A time (`iat`, `exp` or `nbf`) was beyond 2^53 - 1 seconds, which a
    /// JavaScript number cannot hold exactly.
    #[error("{field} = {value} is beyond the largest exact JavaScript integer")]
    TimeOutOfRange {
        /// The claim: `iat`, `exp` or `nbf`.
        field: &'static str,
        /// The rejected value, in seconds since the epoch.
        value: u64,
    },
    /// The system clock read a time before 1970.
    #[error("system clock is before the Unix epoch")]
    Clock(#[source] SystemTimeError),
    /// An algorithm name other than HS256, HS384 or HS512.
    #[error("algorithm {0:?} is not supported; allowed values are HS256, HS384, HS512")]
    UnsupportedAlgorithm(String),
}
