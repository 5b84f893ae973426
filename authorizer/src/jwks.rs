//! The issuer's keys: fetch (bounded in time and size), parse (skipping what we cannot use),
//! cache, and refetch under rules that keep a flood of bad tokens from becoming a flood of
//! requests to the identity provider.
//!
//! The cache reads as a story, as in aws-jwt-verify:
//! 1. look up the fresh key set (moka, with a time to live) and the key by `kid`;
//! 2. on a miss, ask [`decide`] whether a fetch is allowed now (failure backoff, unknown-kid
//!    cooldown) — a pure function of the fetch history and `now`;
//! 3. fetch under a single-flight lock: callers that waited for someone else's fetch use its
//!    result instead of fetching again;
//! 4. on failure, remember when (backoff) and keep serving the last good key set
//!    (stale while error); with nothing cached, deny at once until the backoff ends.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tracing::{error, info, warn};
use url::Url;

use crate::alg::{Alg, AlgSet};
use crate::config::{JwksSettings, TlsRoots, check_secure_url};
use crate::public_key::PublicKey;
use crate::snapshot::Freshness;

/// JWK values are base64url; tolerate padding some publishers add.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// More keys than any identity provider publishes; beyond this a JWKS is hostile or broken.
const MAX_KEYS: usize = 100;

/// Most entries a JWKS `keys` array may have, usable or not. A larger one is refused as a
/// whole: a 1 MiB body of `[1,1,1,...]` must not cost half a million parse attempts.
pub const MAX_JWKS_ENTRIES: usize = 1000;

/// What a verification key is made of.
#[derive(Debug)]
pub enum KeyMaterial {
    /// A shared secret (HMAC), verified by jsonwebtoken.
    Jwt(DecodingKey),
    /// A public key (RSA, EC P-256/384/521, Ed25519), parsed once per algorithm and
    /// verified with aws-lc-rs directly.
    Public(PublicKey),
}

/// A key ready to verify signatures: parsed once when the JWKS is fetched.
#[derive(Debug)]
pub struct VerifyKey {
    /// The JWK `kid`, if any.
    pub kid: Option<String>,
    /// Algorithms this key may verify: its `alg`, or what its type and curve imply.
    pub algs: AlgSet,
    /// The key itself.
    pub material: KeyMaterial,
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyKey>>,
}

/// Result of looking a key up for a token.
#[derive(Debug)]
pub enum Lookup {
    /// A key with that `kid` that allows the token's `alg`.
    Found(Arc<VerifyKey>),
    /// A key with that `kid` exists, but not for that `alg`.
    AlgNotAllowed,
    /// No key with that `kid` (or no `kid` and not exactly one key).
    NotFound,
}

impl KeySet {
    /// Builds a key set from keys (used for inline keys and tests).
    pub fn new(keys: Vec<VerifyKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token's `kid` and `alg`. A token without `kid` matches only when the set
    /// holds exactly one key: with several, picking one would be a guess.
    pub fn find(&self, kid: Option<&str>, alg: Alg) -> Lookup {
        let mut kid_matched = false;
        match kid {
            Some(kid) => {
                for key in self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)) {
                    if key.algs.contains(alg) {
                        return Lookup::Found(Arc::clone(key));
                    }
                    kid_matched = true;
                }
            }
            None => {
                if let [key] = self.keys.as_slice() {
                    if key.algs.contains(alg) {
                        return Lookup::Found(Arc::clone(key));
                    }
                    kid_matched = true;
                }
            }
        }
        if kid_matched {
            Lookup::AlgNotAllowed
        } else {
            Lookup::NotFound
        }
    }
}

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

/// Parses a JWKS document, skipping keys we cannot or must not use.
pub fn parse_jwks(body: &[u8]) -> Result<KeySet, JwksError> {
    let doc: Value = serde_json::from_slice(body).map_err(|source| JwksError::Json {
        url: "JWKS".to_owned(),
        source,
    })?;
    parse_jwks_value(&doc)
}

/// Parses an already-decoded JWKS value.
pub fn parse_jwks_value(doc: &Value) -> Result<KeySet, JwksError> {
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return Err(JwksError::Shape(
            "not a JWKS: expected an object with a \"keys\" array".to_owned(),
        ));
    };
    if keys.len() > MAX_JWKS_ENTRIES {
        return Err(JwksError::Shape(format!(
            "the JWKS lists {} entries, more than the {MAX_JWKS_ENTRIES} accepted",
            keys.len()
        )));
    }
    let mut usable = Vec::new();
    let mut skipped = SkippedKeys::default();
    for jwk in keys {
        if usable.len() == MAX_KEYS {
            skipped.note("more than 100 usable keys");
            continue;
        }
        match parse_jwk(jwk) {
            Ok(key) => usable.push(key),
            Err(why) => skipped.note(why),
        }
    }
    if skipped.count > 0 {
        // One line per document, not per key: the entries are the IdP's (or an attacker's) to choose.
        warn!(
            skipped = skipped.count,
            usable = usable.len(),
            first_reason = skipped.first_reason,
            "skipping unusable JWKS keys"
        );
    }
    if usable.is_empty() {
        return Err(JwksError::NoUsableKeys {
            skipped: skipped.count,
        });
    }
    Ok(KeySet::new(usable))
}

/// Keys left out of a JWKS, summarised for one log line.
#[derive(Debug, Default)]
struct SkippedKeys {
    count: usize,
    first_reason: &'static str,
}

impl SkippedKeys {
    fn note(&mut self, why: &'static str) {
        if self.count == 0 {
            self.first_reason = why;
        }
        self.count += 1;
    }
}

/// One JWK to a verification key, or why it is skipped.
pub fn parse_jwk(jwk: &Value) -> Result<VerifyKey, &'static str> {
    let obj = jwk.as_object().ok_or("not a JSON object")?;
    let text = |name: &str| -> Result<Option<&str>, &'static str> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err("a member is not a string"),
        }
    };
    if let Some(usage) = text("use")?
        && usage != "sig"
    {
        return Err("`use` is not \"sig\"");
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops.as_array().ok_or("`key_ops` is not an array")?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err("`key_ops` does not include \"verify\"");
        }
    }
    let kid = text("kid")?.map(str::to_owned);
    let declared = match text("alg")? {
        None => None,
        Some(a) => Some(Alg::parse(a).ok_or("`alg` is not a supported algorithm")?),
    };
    let kty = text("kty")?.ok_or("no `kty`")?;
    let (implied, material) = match kty {
        "RSA" => {
            let n = decode_member(text("n")?, "RSA key without `n`")?;
            let e = decode_member(text("e")?, "RSA key without `e`")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            // `n` has no leading zero bytes left, so its first byte holds the top bit.
            let bits = n
                .first()
                .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
            if !(2048..=8192).contains(&bits) {
                return Err("RSA modulus must be 2048 to 8192 bits");
            }
            if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
                return Err("RSA exponent is not a plausible odd value");
            }
            (AlgSet::RSA, KeyMaterial::Public(PublicKey::rsa(n, e)))
        }
        "EC" => {
            let (alg, len) = match text("crv")? {
                Some("P-256") => (Alg::ES256, 32),
                Some("P-384") => (Alg::ES384, 48),
                Some("P-521") => (Alg::ES512, 66),
                _ => return Err("EC key on an unsupported curve"),
            };
            let x = decode_member(text("x")?, "EC key without `x`")?;
            let y = decode_member(text("y")?, "EC key without `y`")?;
            if x.len() != len || y.len() != len {
                return Err("EC coordinates have the wrong length for the curve");
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (
                AlgSet::single(alg),
                KeyMaterial::Public(PublicKey::bytes(point)),
            )
        }
        "OKP" => {
            if text("crv")? != Some("Ed25519") {
                return Err("OKP key on an unsupported curve (only Ed25519)");
            }
            let x = decode_member(text("x")?, "OKP key without `x`")?;
            if x.len() != 32 {
                return Err("Ed25519 public key is not 32 bytes");
            }
            (
                AlgSet::single(Alg::EdDSA),
                KeyMaterial::Public(PublicKey::bytes(x)),
            )
        }
        // A symmetric key in a public JWKS is never trusted: accepting it would let anyone who
        // can read the JWKS sign tokens.
        "oct" => return Err("symmetric (`oct`) keys are never used from a JWKS"),
        _ => return Err("unsupported `kty`"),
    };
    let algs = match declared {
        Some(alg) if implied.contains(alg) => AlgSet::single(alg),
        Some(_) => return Err("`alg` does not match the key type"),
        None => implied,
    };
    Ok(VerifyKey {
        kid,
        algs,
        material,
    })
}

fn decode_member(value: Option<&str>, missing: &'static str) -> Result<Vec<u8>, &'static str> {
    let value = value.ok_or(missing)?;
    JWK_B64
        .decode(value)
        .map_err(|_| "a key parameter is not base64url")
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// What started a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// No fresh key set (first use, or the cached one expired).
    Missing,
    /// The fresh key set lacks the token's `kid`.
    UnknownKid,
}

/// Whether to fetch now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Fetch,
    /// Not now: use what we have.
    Skip,
}

/// When fetches happened, for [`decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchHistory {
    /// Start of the latest fetch attempt, successful or not.
    pub last_attempt: Option<Instant>,
    /// Start of the latest fetch attempt caused by an unknown `kid`.
    pub last_kid_refetch: Option<Instant>,
    /// End of the latest failed attempt, cleared by a success.
    pub last_failure: Option<Instant>,
}

/// The refetch rules, as a pure function of the history and `now`:
/// - after a failure, nothing for `failure_backoff` (deny fast or serve stale keys);
/// - an unknown `kid` refetches at most once per `refetch_cooldown`, counted from the latest
///   refetch an unknown `kid` caused (as aws-jwt-verify's penalty box): a key rotated just now
///   is picked up by its first token, and random `kid`s cannot drive more than one request
///   per window.
pub fn decide(
    history: &FetchHistory,
    trigger: Trigger,
    now: Instant,
    settings: &JwksSettings,
) -> Decision {
    let within = |at: Option<Instant>, window: Duration| {
        at.is_some_and(|t| now.saturating_duration_since(t) < window)
    };
    if within(history.last_failure, settings.failure_backoff) {
        return Decision::Skip;
    }
    if trigger == Trigger::UnknownKid && within(history.last_kid_refetch, settings.refetch_cooldown)
    {
        return Decision::Skip;
    }
    Decision::Fetch
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS URL (configured, or discovered from the issuer's metadata).
    Remote {
        /// Configured `jwks_uri`; `None` means discover it.
        jwks_uri: Option<Url>,
    },
    /// Keys given in configuration: never fetched.
    Inline(Arc<KeySet>),
    /// No public keys (an issuer with HMAC secrets only): nothing to fetch.
    None,
}

#[derive(Debug, Default)]
struct FetchState {
    history: FetchHistory,
    /// Bumped after every attempt so waiters can tell a fetch happened while they queued.
    generation: u64,
    /// The last key set fetched successfully, served when the IdP fails (stale while error),
    /// up to `max_stale` after it was fetched; see [`FetchState::servable`].
    last_good: Option<Arc<KeySet>>,
    /// Until when `last_good` may be served: `max_stale` after it was fetched (by us, or by
    /// `make jwks-snapshot`, whose fetch may predate this process and its monotonic clock).
    last_good_until: Option<Instant>,
    /// `jwks_uri` learnt from discovery.
    discovered: Option<Url>,
    /// Set by [`JwksCache::seed`] until `warm_up` schedules the seeded keys' refresh: how long
    /// they stay fresh.
    seeded_fresh_for: Option<Duration>,
}

impl FetchState {
    /// The last good key set, unless it was fetched more than `max_stale` ago: keys the IdP
    /// withdrew (a leaked key, say) must stop working even while the IdP cannot be reached.
    fn servable(&self, now: Instant) -> Option<Arc<KeySet>> {
        if now > self.last_good_until? {
            return None;
        }
        self.last_good.clone()
    }
}

/// One issuer's keys.
#[derive(Debug)]
pub struct JwksCache {
    issuer: String,
    source: KeySource,
    clients: Arc<HttpClients>,
    settings: JwksSettings,
    /// Fresh key sets of all issuers, keyed by issuer position; entries expire after the TTL.
    fresh: moka::future::Cache<usize, Arc<KeySet>>,
    slot: usize,
    state: Mutex<FetchState>,
    /// Held for the duration of a fetch: single flight.
    fetch_lock: tokio::sync::Mutex<()>,
}

/// Outcome of a key lookup through the cache.
#[derive(Debug)]
pub enum KeyOutcome {
    /// The key to verify with.
    Key(Arc<VerifyKey>),
    /// The `kid` exists but does not allow this `alg`.
    AlgNotAllowed,
    /// The `kid` is unknown even after any allowed refetch.
    UnknownKid,
    /// No keys at all: nothing cached and the identity provider did not answer usefully.
    Unavailable,
}

impl JwksCache {
    /// A cache for `issuer`'s keys. No I/O.
    pub fn new(
        issuer: String,
        source: KeySource,
        clients: Arc<HttpClients>,
        settings: JwksSettings,
        fresh: moka::future::Cache<usize, Arc<KeySet>>,
        slot: usize,
    ) -> Self {
        Self {
            issuer,
            source,
            clients,
            settings,
            fresh,
            slot,
            state: Mutex::new(FetchState::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FetchState> {
        // The state is plain data updated in single statements; a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key for a token's `kid` and `alg`, fetching or refetching as the rules allow.
    pub async fn key_for(&self, kid: Option<&str>, alg: Alg) -> KeyOutcome {
        let set = match &self.source {
            KeySource::Inline(set) => return outcome(set.find(kid, alg)),
            KeySource::None => return KeyOutcome::AlgNotAllowed,
            KeySource::Remote { .. } => self.fresh.get(&self.slot).await,
        };
        if let Some(set) = set {
            match set.find(kid, alg) {
                Lookup::NotFound => {}
                found => return outcome(found),
            }
            // Maybe the IdP rotated its keys: refetch if the cooldown allows.
            return match self.refresh(Trigger::UnknownKid).await {
                Some(set) => outcome(set.find(kid, alg)),
                None => KeyOutcome::UnknownKid,
            };
        }
        match self.refresh(Trigger::Missing).await {
            Some(set) => outcome(set.find(kid, alg)),
            None => KeyOutcome::Unavailable,
        }
    }

    /// Prefetches the keys (init). Failure is logged, not fatal: the first request retries.
    /// Keys seeded from a snapshot are not fetched now: their refresh is scheduled in the
    /// background for when they would have expired (at once for a stale snapshot), so no
    /// request waits for it.
    pub async fn warm_up(self: &Arc<Self>) {
        if !matches!(self.source, KeySource::Remote { .. }) {
            return;
        }
        let seeded = self.state().seeded_fresh_for.take();
        if let Some(fresh_for) = seeded {
            let cache = Arc::clone(self);
            tokio::spawn(async move { cache.refresh_seeded_after(fresh_for).await });
            return;
        }
        if self.fresh.get(&self.slot).await.is_none() {
            self.refresh(Trigger::Missing).await;
        }
    }

    /// Seeds the cache with a snapshot's keys, trusted as keys fetched when the snapshot was
    /// (see [`crate::snapshot`]). Returns `false` (and seeds nothing) when the snapshot is too
    /// old to be served at all. Call before [`JwksCache::warm_up`].
    pub async fn seed(&self, keys: KeySet, freshness: Freshness) -> bool {
        if !matches!(self.source, KeySource::Remote { .. }) {
            return false;
        }
        let (fresh_for, servable_for) = match freshness {
            Freshness::Fresh {
                fresh_for,
                servable_for,
            } => (fresh_for, servable_for),
            Freshness::Stale { servable_for } => (Duration::ZERO, servable_for),
            Freshness::Expired => return false,
        };
        let set = Arc::new(keys);
        // Into the fresh cache even when stale: until the background refresh holds the fetch
        // lock, a request must find these keys rather than start a fetch of its own.
        self.fresh.insert(self.slot, Arc::clone(&set)).await;
        let mut state = self.state();
        state.last_good = Some(set);
        state.last_good_until = Instant::now().checked_add(servable_for);
        state.seeded_fresh_for = Some(fresh_for);
        true
    }

    /// When a seeded key set would have expired, drops it from the fresh cache (its TTL there
    /// counts from the seeding, not from the snapshot's fetch) and refreshes, holding the fetch
    /// lock throughout: requests meanwhile are served the seeded keys as stale ones (within
    /// their bound), and none waits for this fetch unless it brings a kid they lack.
    async fn refresh_seeded_after(&self, fresh_for: Duration) {
        if !fresh_for.is_zero() {
            tokio::time::sleep(fresh_for).await;
        }
        let _flight = self.fetch_lock.lock().await;
        self.fresh.invalidate(&self.slot).await;
        self.fetch_in_flight(Trigger::Missing, None).await;
    }

    /// Single-flight refresh. Returns the newest key set available (fresh, or the last good
    /// one when the fetch is skipped or fails), `None` when there is none.
    async fn refresh(&self, trigger: Trigger) -> Option<Arc<KeySet>> {
        let (seen_generation, decision) = {
            let state = self.state();
            (
                state.generation,
                decide(&state.history, trigger, Instant::now(), &self.settings),
            )
        };
        if decision == Decision::Skip {
            // No fetch of our own. But with concurrent invocations, the refetch that put us in
            // the cooldown may still be in flight, and it may bring this kid: wait for it and
            // use its result (N concurrent new kids, one fetch, N answers from it).
            if trigger == Trigger::UnknownKid && self.fetch_lock.try_lock().is_err() {
                let _landed = self.fetch_lock.lock().await;
            }
            return self.state().servable(Instant::now());
        }
        let _flight = match self.fetch_lock.try_lock() {
            Ok(flight) => flight,
            Err(_) => {
                // A fetch is in flight. When our keys merely expired, serve the last good ones
                // rather than queue behind it (it may take the whole timeout); an unknown kid
                // waits, since that fetch may bring it.
                let stale = match trigger {
                    Trigger::Missing => self.state().servable(Instant::now()),
                    Trigger::UnknownKid => None,
                };
                if stale.is_some() {
                    return stale;
                }
                self.fetch_lock.lock().await
            }
        };
        self.fetch_in_flight(trigger, Some(seen_generation)).await
    }

    /// The fetch itself, for a caller holding `fetch_lock`. With `seen_generation`, a fetch
    /// that completed since the caller looked is used instead of fetching again.
    async fn fetch_in_flight(
        &self,
        trigger: Trigger,
        seen_generation: Option<u64>,
    ) -> Option<Arc<KeySet>> {
        let started = {
            let mut state = self.state();
            let now = Instant::now();
            if seen_generation.is_some_and(|seen| seen != state.generation) {
                // Someone fetched while we queued: use their result, do not fetch again.
                return state.servable(now);
            }
            if decide(&state.history, trigger, now, &self.settings) == Decision::Skip {
                return state.servable(now);
            }
            state.history.last_attempt = Some(now);
            if trigger == Trigger::UnknownKid {
                state.history.last_kid_refetch = Some(now);
            }
            now
        };
        // Until the attempt is settled, a drop (a panic while parsing, a cancelled caller)
        // counts as a failure: the backoff must hold even when this function never returns.
        let attempt = Attempt {
            cache: self,
            settled: false,
        };
        match self.fetch().await {
            Ok(set) => {
                let set = Arc::new(set);
                self.fresh.insert(self.slot, Arc::clone(&set)).await;
                attempt.succeeded(&set);
                info!(
                    issuer = %self.issuer,
                    keys = set.len(),
                    trigger = ?trigger,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "fetched JWKS"
                );
                Some(set)
            }
            Err(err) => {
                let stale = attempt.failed();
                error!(
                    issuer = %self.issuer,
                    error = %err,
                    serving_stale_keys = stale.is_some(),
                    retry_after_s = self.settings.failure_backoff.as_secs(),
                    "JWKS fetch failed"
                );
                stale
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, JwksError> {
        tokio::time::timeout(self.settings.timeout, self.fetch_unbounded())
            .await
            .map_err(|_| JwksError::Timeout(self.settings.timeout))?
    }

    async fn fetch_unbounded(&self) -> Result<KeySet, JwksError> {
        self.fetch_document_unbounded()
            .await
            .map(|fetched| fetched.keys)
    }

    /// Fetches the issuer's JWKS as the cache would (discovery, bounds, timeout, validation),
    /// without caching it: what `make jwks-snapshot` records.
    pub async fn fetch_document(&self) -> Result<FetchedJwks, JwksError> {
        tokio::time::timeout(self.settings.timeout, self.fetch_document_unbounded())
            .await
            .map_err(|_| JwksError::Timeout(self.settings.timeout))?
    }

    async fn fetch_document_unbounded(&self) -> Result<FetchedJwks, JwksError> {
        let url = match &self.source {
            KeySource::Remote {
                jwks_uri: Some(url),
            } => url.clone(),
            _ => self.discover_jwks_uri().await,
        };
        let body = get_bounded(&self.clients, &url, self.settings.max_bytes).await?;
        let document: Value = serde_json::from_slice(&body).map_err(|source| JwksError::Json {
            url: url.to_string(),
            source,
        })?;
        let keys = parse_jwks_value(&document)?;
        Ok(FetchedJwks {
            url,
            document,
            keys,
        })
    }

    /// The issuer these keys belong to.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether the keys are fetched (not inline, not HMAC only).
    pub fn is_remote(&self) -> bool {
        matches!(self.source, KeySource::Remote { .. })
    }

    /// `jwks_uri` from `<issuer>/.well-known/openid-configuration`, else `<issuer>/.well-known/jwks.json`.
    async fn discover_jwks_uri(&self) -> Url {
        if let Some(url) = self.state().discovered.clone() {
            return url;
        }
        let fallback = well_known(&self.issuer, "jwks.json");
        let Some(discovery) = well_known(&self.issuer, "openid-configuration") else {
            // The issuer was validated as a URL at start-up; this cannot fail in practice.
            return fallback
                .unwrap_or_else(|| Url::parse("https://invalid.invalid/").expect("static URL"));
        };
        let found = match get_bounded(&self.clients, &discovery, self.settings.max_bytes).await {
            Ok(body) => parse_discovery(&body, &self.issuer),
            Err(err) => Err(err),
        };
        match found {
            Ok(url) => {
                self.state().discovered = Some(url.clone());
                url
            }
            Err(err) => {
                warn!(issuer = %self.issuer, error = %err, "OIDC discovery failed; trying <issuer>/.well-known/jwks.json");
                fallback.unwrap_or(discovery)
            }
        }
    }
}

/// A JWKS as fetched: where from, the document, and its usable keys.
#[derive(Debug)]
pub struct FetchedJwks {
    /// The URL the JWKS came from.
    pub url: Url,
    /// The document as published.
    pub document: Value,
    /// Its usable keys.
    pub keys: KeySet,
}

/// One fetch attempt in progress; see [`JwksCache::refresh`].
struct Attempt<'a> {
    cache: &'a JwksCache,
    settled: bool,
}

impl Attempt<'_> {
    fn succeeded(mut self, set: &Arc<KeySet>) {
        self.settled = true;
        let mut state = self.cache.state();
        state.generation += 1;
        state.history.last_failure = None;
        state.last_good = Some(Arc::clone(set));
        state.last_good_until = Instant::now().checked_add(self.cache.settings.max_stale);
    }

    /// Records the failure; returns the last good key set, if any.
    fn failed(mut self) -> Option<Arc<KeySet>> {
        self.settled = true;
        record_failure(&mut self.cache.state())
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            record_failure(&mut self.cache.state());
        }
    }
}

fn record_failure(state: &mut FetchState) -> Option<Arc<KeySet>> {
    let now = Instant::now();
    state.generation += 1;
    state.history.last_failure = Some(now);
    state.servable(now)
}

#[cfg(test)]
impl JwksCache {
    /// Moves the fetch history `by` into the past: lets tests cross a cooldown or backoff
    /// without sleeping.
    pub(crate) fn backdate(&self, by: Duration) {
        let mut state = self.state();
        let back = |t: &mut Option<Instant>| {
            if let Some(at) = t.as_mut() {
                *at = at.checked_sub(by).unwrap_or(*at);
            }
        };
        back(&mut state.history.last_attempt);
        back(&mut state.history.last_kid_refetch);
        back(&mut state.history.last_failure);
        back(&mut state.last_good_until);
    }

    /// Drops the fresh key set, as its TTL would.
    pub(crate) async fn expire_fresh(&self) {
        self.fresh.invalidate(&self.slot).await;
    }
}

fn outcome(lookup: Lookup) -> KeyOutcome {
    match lookup {
        Lookup::Found(key) => KeyOutcome::Key(key),
        Lookup::AlgNotAllowed => KeyOutcome::AlgNotAllowed,
        Lookup::NotFound => KeyOutcome::UnknownKid,
    }
}

/// `<issuer>/.well-known/<name>`, with or without a trailing slash on the issuer.
pub fn well_known(issuer: &str, name: &str) -> Option<Url> {
    Url::parse(&format!(
        "{}/.well-known/{name}",
        issuer.trim_end_matches('/')
    ))
    .ok()
}

/// The `jwks_uri` of an OpenID Provider metadata document for `issuer`.
/// - The document's `issuer` must be exactly the configured issuer (OpenID Connect Discovery
///   1.0 §4.3: otherwise the metadata must not be used).
/// - `jwks_uri` is held to the https rule of configured URLs, and plain http on a loopback
///   host is accepted only when the issuer itself is plain http on loopback (local runs):
///   a document served for an https issuer must not point us at internal http services.
pub fn parse_discovery(body: &[u8], issuer: &str) -> Result<Url, JwksError> {
    let doc: Value = serde_json::from_slice(body).map_err(|source| JwksError::Json {
        url: "discovery document".to_owned(),
        source,
    })?;
    match doc.get("issuer") {
        Some(Value::String(found)) if found == issuer => {}
        Some(Value::String(_)) => {
            return Err(JwksError::Shape(
                "discovery document names another `issuer` than the configured one".to_owned(),
            ));
        }
        _ => {
            return Err(JwksError::Shape(
                "discovery document has no string `issuer`".to_owned(),
            ));
        }
    }
    let raw = doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| {
        JwksError::Shape("discovery document has no string `jwks_uri`".to_owned())
    })?;
    let url = Url::parse(raw)
        .map_err(|e| JwksError::Shape(format!("discovered jwks_uri is not a URL: {e}")))?;
    check_secure_url(&url)
        .map_err(|problem| JwksError::Shape(format!("discovered jwks_uri {problem}")))?;
    let issuer_is_plain_http = Url::parse(issuer).is_ok_and(|i| i.scheme() == "http");
    if url.scheme() != "https" && !issuer_is_plain_http {
        return Err(JwksError::Shape(
            "discovered jwks_uri must use https for an https issuer".to_owned(),
        ));
    }
    Ok(url)
}

/// GET `url` and read at most `limit` bytes of body, streaming, so a huge or endless
/// body is cut off instead of buffered.
pub async fn get_bounded(
    clients: &HttpClients,
    url: &Url,
    limit: usize,
) -> Result<Vec<u8>, JwksError> {
    let client = clients.for_url(url)?;
    let http = |source| JwksError::Http {
        url: url.to_string(),
        source,
    };
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(JwksError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || JwksError::TooLarge {
        url: url.to_string(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(response.content_length().map_or(8 * 1024, |n| n as usize));
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// HTTP clients for key fetches: no redirects (a JWKS that moves must be reconfigured, and a
/// redirect could downgrade to plain http), bounded time.
///
/// The https client is built on the first https fetch only, so a deployment whose keys are on
/// loopback http (local runs, tests), or that starts from a JWKS snapshot, builds it off the
/// cold path or never. Its roots are compiled in unless `SSL_CERT_FILE`/`SSL_CERT_DIR` ask for
/// the system's (see [`TlsRoots`]).
#[derive(Debug)]
pub struct HttpClients {
    settings: JwksSettings,
    plain: reqwest::Client,
    tls: std::sync::OnceLock<Result<reqwest::Client, String>>,
}

impl HttpClients {
    /// The plain client now, the https client on first use.
    pub fn new(settings: &JwksSettings) -> Result<Self, reqwest::Error> {
        // No roots: this client only ever speaks plain http to loopback hosts.
        let plain = client_builder(settings).tls_certs_only([]).build()?;
        Ok(Self {
            settings: *settings,
            plain,
            tls: std::sync::OnceLock::new(),
        })
    }

    /// The client for `url`'s scheme.
    pub fn for_url(&self, url: &Url) -> Result<&reqwest::Client, JwksError> {
        if url.scheme() != "https" {
            return Ok(&self.plain);
        }
        self.tls
            .get_or_init(|| {
                let builder = client_builder(&self.settings);
                let builder = match self.settings.tls_roots {
                    TlsRoots::System => builder,
                    TlsRoots::CompiledIn => builder.tls_certs_only(
                        webpki_root_certs::TLS_SERVER_ROOT_CERTS
                            .iter()
                            .filter_map(|der| reqwest::Certificate::from_der(der).ok()),
                    ),
                };
                builder.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| JwksError::Client(e.clone()))
    }
}

fn client_builder(settings: &JwksSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .user_agent(concat!("jwt-lambda-authorizer/", env!("CARGO_PKG_VERSION")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> JwksSettings {
        JwksSettings::default()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_jwk(bits: usize) -> Value {
        let mut n = vec![0xC5u8; bits / 8];
        n[bits / 8 - 1] |= 1;
        json!({"kty": "RSA", "kid": "r", "n": b64(&n), "e": "AQAB"})
    }

    fn ec_jwk(crv: &str, len: usize) -> Value {
        json!({"kty": "EC", "kid": "e", "crv": crv, "x": b64(&vec![1; len]), "y": b64(&vec![2; len])})
    }

    #[test]
    fn parse_jwk_rsa_without_alg_allows_rsa_family() {
        let key = parse_jwk(&rsa_jwk(2048)).unwrap();
        assert_eq!(key.algs, AlgSet::RSA);
        assert_eq!(key.kid.as_deref(), Some("r"));
    }

    #[test]
    fn parse_jwk_alg_pins_single_algorithm() {
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("PS384");
        assert_eq!(parse_jwk(&jwk).unwrap().algs, AlgSet::single(Alg::PS384));
    }

    #[test]
    fn parse_jwk_alg_mismatching_kty_is_skipped() {
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("ES256");
        assert!(parse_jwk(&jwk).is_err());
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("HS256");
        assert!(parse_jwk(&jwk).is_err());
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = json!("none");
        assert!(parse_jwk(&jwk).is_err());
    }

    #[test]
    fn parse_jwk_short_rsa_modulus_is_skipped() {
        assert!(parse_jwk(&json!({"kty": "RSA", "n": "AAAA", "e": "AQAB"})).is_err());
        assert!(parse_jwk(&json!({"kty": "RSA", "n": "", "e": ""})).is_err());
        assert!(parse_jwk(&rsa_jwk(1024)).is_err());
        assert!(parse_jwk(&rsa_jwk(4096)).is_ok());
    }

    #[test]
    fn parse_jwk_ec_curve_determines_alg() {
        assert_eq!(
            parse_jwk(&ec_jwk("P-256", 32)).unwrap().algs,
            AlgSet::single(Alg::ES256)
        );
        assert_eq!(
            parse_jwk(&ec_jwk("P-384", 48)).unwrap().algs,
            AlgSet::single(Alg::ES384)
        );
        assert_eq!(
            parse_jwk(&ec_jwk("P-521", 66)).unwrap().algs,
            AlgSet::single(Alg::ES512)
        );
        assert!(parse_jwk(&ec_jwk("P-256", 48)).is_err());
        assert!(parse_jwk(&ec_jwk("secp256k1", 32)).is_err());
        let mut jwk = ec_jwk("P-256", 32);
        jwk["alg"] = json!("ES384");
        assert!(parse_jwk(&jwk).is_err());
    }

    #[test]
    fn parse_jwk_unusable_keys_are_skipped() {
        let enc = {
            let mut jwk = rsa_jwk(2048);
            jwk["use"] = json!("enc");
            jwk
        };
        let ops = {
            let mut jwk = rsa_jwk(2048);
            jwk["key_ops"] = json!(["encrypt"]);
            jwk
        };
        for jwk in [
            enc,
            ops,
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "XYZ"}),
            json!({"kty": "OKP", "crv": "X25519", "x": b64(&[1; 32])}),
            json!({"kty": "RSA", "n": "!!", "e": "AQAB"}),
            json!({"kty": "RSA", "e": "AQAB"}),
            json!({"kid": 5, "kty": "RSA"}),
            json!("not an object"),
        ] {
            assert!(parse_jwk(&jwk).is_err(), "{jwk}");
        }
    }

    #[test]
    fn parse_jwks_skips_bad_keys_and_keeps_good_ones() {
        let doc =
            json!({"keys": [{"kty": "oct", "k": "AA"}, ec_jwk("P-256", 32), {"kty": "weird"}]});
        let set = parse_jwks(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn parse_jwks_without_usable_keys_is_error() {
        let doc = json!({"keys": [{"kty": "oct", "k": "AA"}]});
        assert!(matches!(
            parse_jwks(doc.to_string().as_bytes()),
            Err(JwksError::NoUsableKeys { skipped: 1 })
        ));
        assert!(matches!(
            parse_jwks(b"{\"keys\": 5}"),
            Err(JwksError::Shape(_))
        ));
        assert!(matches!(parse_jwks(b"<html>"), Err(JwksError::Json { .. })));
    }

    #[test]
    fn find_without_kid_uses_single_key_only() {
        let one = KeySet::new(vec![parse_jwk(&ec_jwk("P-256", 32)).unwrap()]);
        assert!(matches!(one.find(None, Alg::ES256), Lookup::Found(_)));
        let two = KeySet::new(vec![
            parse_jwk(&ec_jwk("P-256", 32)).unwrap(),
            parse_jwk(&rsa_jwk(2048)).unwrap(),
        ]);
        assert!(matches!(two.find(None, Alg::ES256), Lookup::NotFound));
    }

    #[test]
    fn find_alg_not_allowed_for_key_is_reported() {
        let set = KeySet::new(vec![parse_jwk(&ec_jwk("P-256", 32)).unwrap()]);
        assert!(matches!(
            set.find(Some("e"), Alg::HS256),
            Lookup::AlgNotAllowed
        ));
        assert!(matches!(
            set.find(Some("e"), Alg::RS256),
            Lookup::AlgNotAllowed
        ));
        assert!(matches!(
            set.find(Some("other"), Alg::ES256),
            Lookup::NotFound
        ));
    }

    #[test]
    fn decide_first_fetch_is_allowed() {
        let now = Instant::now();
        let history = FetchHistory::default();
        assert_eq!(
            decide(&history, Trigger::Missing, now, &settings()),
            Decision::Fetch
        );
        assert_eq!(
            decide(&history, Trigger::UnknownKid, now, &settings()),
            Decision::Fetch
        );
    }

    #[test]
    fn refetch_blocked_within_cooldown() {
        let t0 = Instant::now();
        let history = FetchHistory {
            last_attempt: Some(t0),
            last_kid_refetch: Some(t0),
            last_failure: None,
        };
        let s = settings();
        assert_eq!(
            decide(
                &history,
                Trigger::UnknownKid,
                t0 + Duration::from_secs(1),
                &s
            ),
            Decision::Skip
        );
        assert_eq!(
            decide(
                &history,
                Trigger::UnknownKid,
                t0 + s.refetch_cooldown - Duration::from_millis(1),
                &s
            ),
            Decision::Skip
        );
        assert_eq!(
            decide(&history, Trigger::UnknownKid, t0 + s.refetch_cooldown, &s),
            Decision::Fetch
        );
        // An expired cache is refreshed regardless of the unknown-kid cooldown.
        assert_eq!(
            decide(&history, Trigger::Missing, t0 + Duration::from_secs(1), &s),
            Decision::Fetch
        );
    }

    #[test]
    fn first_unknown_kid_after_a_routine_fetch_refetches() {
        let t0 = Instant::now();
        let history = FetchHistory {
            last_attempt: Some(t0),
            last_kid_refetch: None,
            last_failure: None,
        };
        assert_eq!(
            decide(
                &history,
                Trigger::UnknownKid,
                t0 + Duration::from_millis(10),
                &settings()
            ),
            Decision::Fetch
        );
    }

    #[test]
    fn failed_fetch_backs_off_for_every_trigger() {
        let t0 = Instant::now();
        let history = FetchHistory {
            last_attempt: Some(t0),
            last_kid_refetch: None,
            last_failure: Some(t0),
        };
        let s = settings();
        let during = t0 + s.failure_backoff - Duration::from_millis(1);
        assert_eq!(
            decide(&history, Trigger::Missing, during, &s),
            Decision::Skip
        );
        assert_eq!(
            decide(&history, Trigger::UnknownKid, during, &s),
            Decision::Skip
        );
        assert_eq!(
            decide(&history, Trigger::Missing, t0 + s.failure_backoff, &s),
            Decision::Fetch
        );
    }

    #[test]
    fn https_client_is_built_on_first_https_use_only() {
        let clients = HttpClients::new(&settings()).unwrap();
        assert!(clients.tls.get().is_none());
        clients
            .for_url(&Url::parse("http://127.0.0.1:1/jwks").unwrap())
            .unwrap();
        assert!(
            clients.tls.get().is_none(),
            "plain http must not load root certificates"
        );
        // Building may fail on a machine without CA certificates; either way it is attempted now.
        let _ = clients.for_url(&Url::parse("https://idp.example.com/jwks").unwrap());
        assert!(clients.tls.get().is_some());
    }

    #[test]
    fn well_known_joins_with_and_without_trailing_slash() {
        assert_eq!(
            well_known("https://t.auth0.com/", "jwks.json")
                .unwrap()
                .as_str(),
            "https://t.auth0.com/.well-known/jwks.json"
        );
        assert_eq!(
            well_known(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
                "openid-configuration"
            )
            .unwrap()
            .as_str(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x/.well-known/openid-configuration"
        );
    }

    #[test]
    fn parse_discovery_applies_https_rule() {
        let https = "https://idp.example.com/";
        let ok = parse_discovery(
            br#"{"issuer": "https://idp.example.com/", "jwks_uri": "https://idp.example.com/keys"}"#,
            https,
        )
        .unwrap();
        assert_eq!(ok.as_str(), "https://idp.example.com/keys");
        assert!(
            parse_discovery(
                br#"{"issuer": "https://idp.example.com/", "jwks_uri": "http://idp.example.com/keys"}"#,
                https
            )
            .is_err()
        );
        assert!(parse_discovery(br#"{"issuer": "https://idp.example.com/"}"#, https).is_err());
        assert!(parse_discovery(b"garbage", https).is_err());
    }

    #[test]
    fn discovery_for_https_issuer_pointing_at_loopback_http_is_rejected() {
        for jwks_uri in [
            "http://127.0.0.1:1/keys",
            "http://localhost/keys",
            "http://[::1]/keys",
        ] {
            let doc = json!({"issuer": "https://idp.example.com/", "jwks_uri": jwks_uri});
            let err = parse_discovery(doc.to_string().as_bytes(), "https://idp.example.com/")
                .unwrap_err();
            assert!(err.to_string().contains("https"), "{jwks_uri}: {err}");
        }
    }

    #[test]
    fn discovery_for_loopback_issuer_may_use_loopback_http() {
        let doc =
            json!({"issuer": "http://127.0.0.1:8080/", "jwks_uri": "http://127.0.0.1:8080/keys"});
        let url = parse_discovery(doc.to_string().as_bytes(), "http://127.0.0.1:8080/").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/keys");
        // Still never plain http to a non-loopback host.
        let doc = json!({"issuer": "http://127.0.0.1:8080/", "jwks_uri": "http://10.0.0.1/keys"});
        assert!(parse_discovery(doc.to_string().as_bytes(), "http://127.0.0.1:8080/").is_err());
    }

    #[test]
    fn discovery_with_other_or_missing_issuer_is_rejected() {
        let issuer = "https://tenant.auth0.com/";
        for doc in [
            json!({"issuer": "https://evil.example.com/", "jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"issuer": "https://tenant.auth0.com", "jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"jwks_uri": "https://tenant.auth0.com/keys"}),
            json!({"issuer": 1, "jwks_uri": "https://tenant.auth0.com/keys"}),
        ] {
            assert!(
                parse_discovery(doc.to_string().as_bytes(), issuer).is_err(),
                "{doc}"
            );
        }
    }

    #[test]
    fn jwks_with_too_many_entries_is_rejected_whole() {
        let mut keys = vec![usable_jwk()];
        keys.extend(std::iter::repeat_n(json!(1), MAX_JWKS_ENTRIES));
        let err = parse_jwks_value(&json!({ "keys": keys })).unwrap_err();
        assert!(matches!(err, JwksError::Shape(_)), "{err}");
        assert!(err.to_string().contains("1001 entries"), "{err}");
    }

    #[test]
    fn jwks_at_entry_limit_keeps_usable_keys() {
        let mut keys = vec![usable_jwk()];
        keys.extend(std::iter::repeat_n(json!(1), MAX_JWKS_ENTRIES - 1));
        let set = parse_jwks_value(&json!({ "keys": keys })).unwrap();
        assert_eq!(set.len(), 1);
    }

    fn usable_jwk() -> Value {
        testkit::TestKey::ec_p256().jwk()
    }

    #[tokio::test]
    async fn interrupted_fetch_backs_off_like_a_failed_one() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        idp.set_fault(testkit::Fault::Hang);
        let settings = JwksSettings::default();
        let cache = Arc::new(JwksCache::new(
            idp.issuer(),
            KeySource::Remote {
                jwks_uri: Some(Url::parse(&idp.jwks_uri()).unwrap()),
            },
            Arc::new(HttpClients::new(&settings).unwrap()),
            settings,
            moka::future::Cache::builder().build(),
            0,
        ));
        let first = tokio::spawn({
            let cache = Arc::clone(&cache);
            async move { cache.key_for(Some("k"), Alg::ES256).await }
        });
        while idp.jwks_hits() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The attempt never finishes (as when parsing panics or the caller goes away).
        first.abort();
        assert!(first.await.is_err());
        idp.set_fault(testkit::Fault::Ok);
        assert!(matches!(
            cache.key_for(Some(key.kid()), Alg::ES256).await,
            KeyOutcome::Unavailable
        ));
        assert_eq!(idp.jwks_hits(), 1, "refetched within the failure backoff");
    }

    fn cache_for(idp: &testkit::JwksServer, settings: JwksSettings) -> JwksCache {
        JwksCache::new(
            idp.issuer(),
            KeySource::Remote {
                jwks_uri: Some(Url::parse(&idp.jwks_uri()).unwrap()),
            },
            Arc::new(HttpClients::new(&settings).unwrap()),
            settings,
            moka::future::Cache::builder().build(),
            0,
        )
    }

    #[tokio::test]
    async fn stale_keys_older_than_max_stale_are_not_served() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        let settings = JwksSettings {
            max_stale: Duration::from_secs(60),
            ..JwksSettings::default()
        };
        let cache = cache_for(&idp, settings);
        let found = |o: &KeyOutcome| matches!(o, KeyOutcome::Key(_));
        assert!(found(&cache.key_for(Some(key.kid()), Alg::ES256).await));
        idp.set_fault(testkit::Fault::Status(500));

        // Within the limit: the IdP fails, the last good keys are served.
        cache.expire_fresh().await;
        cache.backdate(Duration::from_secs(59));
        assert!(found(&cache.key_for(Some(key.kid()), Alg::ES256).await));

        // Past it: denied as unavailable, even though keys are remembered.
        cache.backdate(Duration::from_secs(30));
        assert!(matches!(
            cache.key_for(Some(key.kid()), Alg::ES256).await,
            KeyOutcome::Unavailable
        ));
        assert_eq!(idp.jwks_hits(), 3);
    }
}
