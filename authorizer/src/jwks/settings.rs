//! How keys are fetched and cached: limits and windows, each with its default.

use std::time::Duration;

/// `JWKS_TIMEOUT_MS`: total time for one fetch attempt (discovery + JWKS).
pub(crate) const JWKS_TIMEOUT: Duration = Duration::from_millis(3000);
/// `JWKS_CACHE_TTL_SECONDS`: how long fetched keys are used before refetching.
pub(crate) const JWKS_CACHE_TTL: Duration = Duration::from_secs(3600);
/// `JWKS_REFETCH_COOLDOWN_SECONDS`: at most one fetch per window for unknown `kid`s.
pub(crate) const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(15);
/// `JWKS_FAILURE_BACKOFF_SECONDS`: after a failed fetch, deny fast for this long
/// (or serve stale keys) instead of retrying on every request.
pub(crate) const JWKS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// `JWKS_MAX_STALE_SECONDS`: while the IdP fails, the last good keys are served for at most
/// this long after they were fetched; then requests are denied (`jwks_unavailable`).
pub(crate) const JWKS_MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// Largest JWKS (or discovery document) body we read, in bytes.
pub(crate) const JWKS_MAX_BYTES: usize = 1024 * 1024;

/// JWKS fetching and caching parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    /// Total time per fetch attempt. Default [`JWKS_TIMEOUT`] (3 s).
    pub timeout: Duration,
    /// Key lifetime in the cache. Default [`JWKS_CACHE_TTL`] (1 h).
    pub cache_ttl: Duration,
    /// Minimum time between fetches triggered by unknown `kid`s. Default
    /// [`JWKS_REFETCH_COOLDOWN`] (15 s).
    pub refetch_cooldown: Duration,
    /// After a failed fetch, no new attempt for this long. Default [`JWKS_FAILURE_BACKOFF`] (5 s).
    pub failure_backoff: Duration,
    /// Body size cap. Default [`JWKS_MAX_BYTES`] (1 MiB).
    pub max_bytes: usize,
    /// How long after their fetch the last good keys may still be served while the IdP
    /// fails. Default [`JWKS_MAX_STALE`] (24 h).
    pub max_stale: Duration,
    /// Which roots verify the IdP's certificate. Default [`TlsRoots::CompiledIn`].
    pub tls_roots: TlsRoots,
}

/// Which root certificates verify the IdP's https certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// Mozilla's roots as compiled into the binary (webpki-root-certs): building the https
    /// client reads no file (0.16 ms, against about 7 ms for the system's roots, measured side
    /// by side; README, Performance). The default.
    #[default]
    CompiledIn,
    /// The system's roots, read when the https client is built (rustls-native-certs): used when
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, which is how a private CA (or a test CA) is
    /// trusted.
    System,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            timeout: JWKS_TIMEOUT,
            cache_ttl: JWKS_CACHE_TTL,
            refetch_cooldown: JWKS_REFETCH_COOLDOWN,
            failure_backoff: JWKS_FAILURE_BACKOFF,
            max_bytes: JWKS_MAX_BYTES,
            max_stale: JWKS_MAX_STALE,
            tls_roots: TlsRoots::default(),
        }
    }
}
