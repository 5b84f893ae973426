//! JWKS snapshots: the issuers' key sets fetched ahead of time (`make jwks-snapshot`) and
//! shipped with the deployment (`JWKS_SNAPSHOT_FILE`), so a cold start verifies its first
//! token without a network call.
//!
//! A snapshot records when its keys were fetched, and they are trusted exactly as long as keys
//! fetched at that moment would be: used as fresh until `JWKS_CACHE_TTL_SECONDS` after the
//! fetch, then served only while a refresh fails, until `JWKS_MAX_STALE_SECONDS` after it.
//! Past that the snapshot is ignored (and logged, see [`STALE_EVENT`]); the function fetches
//! as if there were none.
//!
//! The file (one entry per issuer; `jwks` is the document as the issuer published it, parsed
//! and validated again at start-up):
//! ```json
//! {"format": "authorizer-jwks-snapshot/1",
//!  "issuers": [{"issuer": "https://example.auth0.com/",
//!               "jwks_uri": "https://example.auth0.com/.well-known/jwks.json",
//!               "fetched_at": 1764633600,
//!               "jwks": {"keys": [...]}}]}
//! ```

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwks::{JwksError, KeySet, parse_jwks_value};

/// The value of the file's `format` member.
pub(crate) const FORMAT: &str = "authorizer-jwks-snapshot/1";

/// The `event` field of the warning logged when a snapshot is older than the key cache TTL:
/// alarm on it to rebuild the snapshot (`make jwks-snapshot`) before it stops being used.
pub(crate) const STALE_EVENT: &str = "jwks_snapshot_stale";

/// Largest snapshot file read, in bytes (a few issuers' JWKS are a few KiB each).
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A snapshot's clock may run a little ahead of ours; more than this is a broken file.
const FUTURE_SKEW: Duration = Duration::from_secs(300);

/// The snapshot file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// One entry per issuer.
    pub issuers: Vec<SnapshotEntry>,
}

/// One issuer's keys as fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEntry {
    /// The issuer, exactly as configured (`JWT_ISSUER` or the configuration document).
    pub issuer: String,
    /// Where the keys were fetched from (informative).
    pub jwks_uri: String,
    /// When they were fetched, in seconds since the Unix epoch.
    pub fetched_at: u64,
    /// The JWKS document.
    pub jwks: Value,
}

/// Why a snapshot file cannot be used. Reported as a configuration error naming
/// `JWKS_SNAPSHOT_FILE`: a snapshot that was asked for and is broken fails the cold start,
/// at deployment time, rather than silently costing a fetch on every cold start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The path.
        path: String,
    },
    /// Not a snapshot document.
    #[error("{path} is not a JWKS snapshot ({FORMAT}): {source}")]
    Shape {
        /// The path.
        path: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// Another format version.
    #[error("{path} has format {found:?}, expected {FORMAT:?}: rebuild it with make jwks-snapshot")]
    Format {
        /// The path.
        path: String,
        /// The `format` found.
        found: String,
    },
    /// Two entries for one issuer.
    #[error("{path} lists issuer {issuer:?} twice")]
    Duplicate {
        /// The path.
        path: String,
        /// The issuer.
        issuer: String,
    },
    /// A `fetched_at` in the future.
    #[error(
        "{path}: the keys of {issuer:?} claim to be fetched in the future (fetched_at {fetched_at})"
    )]
    FromTheFuture {
        /// The path.
        path: String,
        /// The issuer.
        issuer: String,
        /// The recorded time.
        fetched_at: u64,
    },
    /// A JWKS with no usable key (or not a JWKS).
    #[error("{path}: the keys of {issuer:?} are unusable: {source}")]
    Keys {
        /// The path.
        path: String,
        /// The issuer.
        issuer: String,
        /// Why.
        #[source]
        source: JwksError,
    },
}

/// A validated snapshot entry, ready to seed a key cache.
#[derive(Debug)]
pub(crate) struct LoadedEntry {
    /// The issuer it belongs to.
    pub issuer: String,
    /// Its usable keys.
    pub keys: KeySet,
    /// How old the keys were when the file was loaded.
    pub age: Duration,
}

/// Reads and validates a snapshot file; `now` is the wall clock.
pub(crate) fn load(path: &Path, now: SystemTime) -> Result<Vec<LoadedEntry>, SnapshotError> {
    let shown = path.display().to_string();
    let read = |source| SnapshotError::Read {
        path: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(SnapshotError::TooLarge { path: shown });
    }
    let text = std::fs::read(path).map_err(read)?;
    parse(&shown, &text, now)
}

/// [`load`] on bytes already read; `path` only names the file in errors.
pub(crate) fn parse(
    path: &str,
    text: &[u8],
    now: SystemTime,
) -> Result<Vec<LoadedEntry>, SnapshotError> {
    let file: SnapshotFile =
        serde_json::from_slice(text).map_err(|source| SnapshotError::Shape {
            path: path.to_owned(),
            source,
        })?;
    if file.format != FORMAT {
        return Err(SnapshotError::Format {
            path: path.to_owned(),
            found: file.format,
        });
    }
    let now_s = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut loaded: Vec<LoadedEntry> = Vec::with_capacity(file.issuers.len());
    for entry in file.issuers {
        if loaded.iter().any(|l| l.issuer == entry.issuer) {
            return Err(SnapshotError::Duplicate {
                path: path.to_owned(),
                issuer: entry.issuer,
            });
        }
        if entry.fetched_at > now_s.saturating_add(FUTURE_SKEW.as_secs()) {
            return Err(SnapshotError::FromTheFuture {
                path: path.to_owned(),
                issuer: entry.issuer,
                fetched_at: entry.fetched_at,
            });
        }
        let keys = parse_jwks_value(&entry.jwks).map_err(|source| SnapshotError::Keys {
            path: path.to_owned(),
            issuer: entry.issuer.clone(),
            source,
        })?;
        loaded.push(LoadedEntry {
            issuer: entry.issuer,
            keys,
            age: Duration::from_secs(now_s.saturating_sub(entry.fetched_at)),
        });
    }
    Ok(loaded)
}

/// Seconds since the Unix epoch, for `fetched_at`.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ec_jwks() -> Value {
        // A P-256 public key (the RFC 7515 appendix A.3 example).
        json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})
    }

    fn file(fetched_at: u64) -> Vec<u8> {
        json!({"format": FORMAT, "issuers": [{"issuer": "https://idp.example/",
            "jwks_uri": "https://idp.example/jwks", "fetched_at": fetched_at, "jwks": ec_jwks()}]})
        .to_string()
        .into_bytes()
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn parse_valid_file_gives_keys_and_age() {
        let loaded = parse("s.json", &file(1000), at(1600)).expect("valid");
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].issuer, "https://idp.example/");
        assert_eq!(loaded[0].keys.len(), 1);
        assert_eq!(loaded[0].age, Duration::from_secs(600));
    }

    #[test]
    fn parse_future_fetch_time_is_refused() {
        let err = parse("s.json", &file(10_000), at(1000)).expect_err("future");
        assert!(matches!(err, SnapshotError::FromTheFuture { .. }), "{err}");
        // Within the allowed skew: accepted, age zero.
        let loaded = parse("s.json", &file(1100), at(1000)).expect("small skew");
        assert_eq!(loaded[0].age, Duration::ZERO);
    }

    #[test]
    fn parse_broken_files_are_refused_with_the_path() {
        let cases: Vec<Vec<u8>> = vec![
            b"not json".to_vec(),
            b"{}".to_vec(),
            json!({"format": "other/2", "issuers": []})
                .to_string()
                .into_bytes(),
            json!({"format": FORMAT, "issuers": [{"issuer": "i", "jwks_uri": "u",
                "fetched_at": 1, "jwks": {"keys": []}}]})
            .to_string()
            .into_bytes(),
            json!({"format": FORMAT, "issuers": [{"issuer": "i", "jwks_uri": "u",
                "fetched_at": -1, "jwks": ec_jwks()}]})
            .to_string()
            .into_bytes(),
            json!({"format": FORMAT, "extra": 1, "issuers": []})
                .to_string()
                .into_bytes(),
        ];
        for text in cases {
            let err = parse("/var/task/s.json", &text, at(1000)).expect_err("broken");
            assert!(err.to_string().contains("/var/task/s.json"), "{err}");
        }
    }

    #[test]
    fn parse_duplicate_issuer_is_refused() {
        let entry = json!({"issuer": "i", "jwks_uri": "u", "fetched_at": 1, "jwks": ec_jwks()});
        let text = json!({"format": FORMAT, "issuers": [entry, entry]}).to_string();
        let err = parse("s.json", text.as_bytes(), at(1000)).expect_err("duplicate");
        assert!(matches!(err, SnapshotError::Duplicate { .. }), "{err}");
    }

    #[test]
    fn load_missing_file_is_refused() {
        let missing = std::env::temp_dir().join("authorizer-no-such-snapshot.json");
        assert!(matches!(
            load(&missing, at(0)),
            Err(SnapshotError::Read { .. })
        ));
    }
}
