//! One issuer's keys, cached. moka holds the fresh key sets (each entry expires with the time
//! it has left to live) and makes a load single-flight: concurrent callers that miss the same
//! entry share one fetch (`try_get_with`). Beside it the cache keeps only what moka cannot
//! express: the last good key set, served while the IdP fails (stale while error), and the
//! fetch history that the refetch rules ([`decide`]) read.
//!
//! A refetch for an unknown `kid` loads under the next *epoch* of the issuer's entry, so that
//! concurrent refetches coalesce on that entry while the current key set keeps answering
//! tokens whose `kid` it has.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::{error, info, warn};
use url::Url;

use super::error::JwksError;
use super::http::{HttpClients, get_bounded, parse_discovery, well_known};
use super::jwk::{KeySet, Lookup, VerifyKey, parse_jwks_value};
use super::refetch::{Decision, FetchHistory, Freshness, Trigger, decide};
use super::settings::JwksSettings;
use crate::alg::Alg;

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

/// An entry of the fresh cache: issuer slot and epoch.
type EntryKey = (usize, u64);

/// A fresh key set and how long it stays fresh from its insertion: the TTL for a fetched set,
/// what is left of it for keys seeded from a snapshot fetched earlier.
#[derive(Debug, Clone)]
struct Fresh {
    keys: Arc<KeySet>,
    ttl: Duration,
}

/// moka's per-entry expiry: each entry lives as long as its [`Fresh::ttl`].
struct FreshFor;

impl moka::Expiry<EntryKey, Fresh> for FreshFor {
    fn expire_after_create(&self, _: &EntryKey, fresh: &Fresh, _: Instant) -> Option<Duration> {
        Some(fresh.ttl)
    }
}

/// Why a load put nothing in the cache. The caller serves the last good keys, if any; the
/// load itself logged what happened.
#[derive(Debug)]
enum NotLoaded {
    /// The refetch rules said not now, or a newer key set was loaded meanwhile.
    Skipped,
    /// The fetch failed.
    Failed,
}

/// What every issuer's key cache shares: the HTTP clients and one moka cache of fresh key sets.
#[derive(Debug)]
pub(crate) struct KeyStore {
    settings: JwksSettings,
    clients: Arc<HttpClients>,
    fresh: moka::future::Cache<EntryKey, Fresh>,
    next_slot: AtomicUsize,
}

impl KeyStore {
    /// The plain HTTP client and an empty cache (the https client is built on first use).
    pub(crate) fn new(settings: JwksSettings) -> Result<Self, reqwest::Error> {
        Ok(Self {
            settings,
            clients: Arc::new(HttpClients::new(&settings)?),
            fresh: moka::future::Cache::builder()
                .expire_after(FreshFor)
                .build(),
            next_slot: AtomicUsize::new(0),
        })
    }

    /// The cache of `issuer`'s keys. No I/O.
    pub(crate) fn cache_for(&self, issuer: String, source: KeySource) -> JwksCache {
        JwksCache {
            issuer,
            source,
            clients: Arc::clone(&self.clients),
            settings: self.settings,
            fresh: self.fresh.clone(),
            slot: self.next_slot.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
            state: Mutex::new(FetchState::default()),
        }
    }
}

#[derive(Debug, Default)]
struct FetchState {
    history: FetchHistory,
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

    /// Whether a fetch is running (or was abandoned less than a fetch timeout ago).
    fn fetching(&self, now: Instant, timeout: Duration) -> bool {
        self.history
            .in_flight
            .is_some_and(|at| now.saturating_duration_since(at) < timeout)
    }
}

/// One issuer's keys.
#[derive(Debug)]
pub(crate) struct JwksCache {
    issuer: String,
    source: KeySource,
    clients: Arc<HttpClients>,
    settings: JwksSettings,
    /// Fresh key sets of all issuers (see [`KeyStore`]), keyed by this cache's `slot` and epoch.
    fresh: moka::future::Cache<EntryKey, Fresh>,
    slot: usize,
    /// The epoch under which the current key set is cached. A refetch for an unknown `kid`
    /// loads under the next one and advances this when it succeeds. Read without the lock (on
    /// every request); written only with `state` locked, so decisions taken under the lock see
    /// it as it stands.
    epoch: AtomicU64,
    state: Mutex<FetchState>,
}

/// Outcome of a key lookup through the cache.
#[derive(Debug)]
pub(crate) enum KeyOutcome {
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
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn state(&self) -> MutexGuard<'_, FetchState> {
        // The state is plain data updated in single statements; a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key for a token's `kid` and `alg`, fetching or refetching as the rules allow:
    /// look up the fresh key set and the key; on a miss, refresh (or join a refresh in
    /// flight); when no fetch may run or it fails, answer from the last good keys.
    pub(crate) async fn key_for(&self, kid: Option<&str>, alg: Alg) -> KeyOutcome {
        match &self.source {
            KeySource::Inline(set) => return outcome(set.find(kid, alg)),
            KeySource::None => return KeyOutcome::AlgNotAllowed,
            KeySource::Remote { .. } => {}
        }
        let epoch = self.epoch();
        let Some(fresh) = self.fresh.get(&(self.slot, epoch)).await else {
            return match self.refresh(Trigger::Missing, epoch).await {
                Some(set) => outcome(set.find(kid, alg)),
                None => KeyOutcome::Unavailable,
            };
        };
        match fresh.keys.find(kid, alg) {
            Lookup::NotFound => {}
            found => return outcome(found),
        }
        // Maybe the IdP rotated its keys: refetch if the cooldown allows.
        match self.refresh(Trigger::UnknownKid, epoch).await {
            Some(set) => outcome(set.find(kid, alg)),
            None => KeyOutcome::UnknownKid,
        }
    }

    /// Prefetches the keys (init). Failure is logged, not fatal: the first request retries.
    /// Keys seeded from a snapshot are not fetched now: their refresh is scheduled in the
    /// background for when they would have expired (at once for a stale snapshot), so no
    /// request waits for it.
    pub(crate) async fn warm_up(self: &Arc<Self>) {
        if !self.is_remote() {
            return;
        }
        let seeded = self.state().seeded_fresh_for.take();
        if let Some(fresh_for) = seeded {
            self.schedule_refresh(fresh_for);
            return;
        }
        let epoch = self.epoch();
        if self.fresh.get(&(self.slot, epoch)).await.is_none() {
            self.refresh(Trigger::Missing, epoch).await;
        }
    }

    /// Seeds the cache with a snapshot's keys, trusted as keys fetched when the snapshot was
    /// (see [`crate::snapshot`]). Returns `false` (and seeds nothing) when the snapshot is too
    /// old to be served at all. Call before [`JwksCache::warm_up`].
    pub(crate) async fn seed(&self, keys: KeySet, freshness: Freshness) -> bool {
        if !self.is_remote() {
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
        let keys = Arc::new(keys);
        let epoch = {
            let mut state = self.state();
            state.last_good = Some(Arc::clone(&keys));
            state.last_good_until = Instant::now().checked_add(servable_for);
            state.seeded_fresh_for = Some(fresh_for);
            self.epoch()
        };
        if !fresh_for.is_zero() {
            // Fresh for what is left of its life counted from the snapshot's fetch, plus the
            // time its background refresh (due then) may take: until that refresh replaces
            // them, requests find these keys rather than start a fetch of their own.
            let fresh = Fresh {
                keys,
                ttl: fresh_for.saturating_add(self.settings.timeout),
            };
            self.fresh.insert((self.slot, epoch), fresh).await;
        }
        true
    }

    /// Refreshes seeded keys off the request path: a stale seed at once, a fresh one when its
    /// freshness ends. The attempt is recorded as running from its start, so requests that
    /// find no fresh keys meanwhile are answered from the seeded ones instead of waiting (or
    /// fetching themselves).
    fn schedule_refresh(self: &Arc<Self>, fresh_for: Duration) {
        // Recorded now, before the task first runs, when the seeded keys are already due.
        let begun = if fresh_for.is_zero() {
            let epoch = self.epoch();
            self.begin(Trigger::Missing, epoch).ok()
        } else {
            None
        };
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let (started, target) = match begun {
                Some(begun) => begun,
                None => {
                    tokio::time::sleep(fresh_for).await;
                    let epoch = cache.epoch();
                    match cache.begin(Trigger::Missing, epoch) {
                        Ok(begun) => begun,
                        Err(_) => return,
                    }
                }
            };
            let fetched = cache.fetch().await;
            if let Ok(fresh) = cache
                .finish(Trigger::Missing, started, target, fetched)
                .await
            {
                cache.fresh.insert((cache.slot, target), fresh).await;
            }
        });
    }

    /// After a miss (`trigger`) on the key set of epoch `seen`: the newest key set to answer
    /// with. That is a fresh one from a fetch (ours, or one in flight that we join), else the
    /// last good one when no fetch may run now or it fails; `None` when there is none.
    async fn refresh(&self, trigger: Trigger, seen: u64) -> Option<Arc<KeySet>> {
        let target = {
            let state = self.state();
            let now = Instant::now();
            let current = self.epoch();
            if current != seen {
                // A refetch succeeded since we looked: its key set is the one to use.
                current
            } else if trigger == Trigger::UnknownKid {
                // Concurrent unknown kids load the same next epoch: one fetch, every answer
                // from it (or, within the cooldown, no fetch at all).
                seen + 1
            } else if state.fetching(now, self.settings.timeout)
                && let Some(stale) = state.servable(now)
            {
                // Our keys merely expired and a fetch is running: answer from the last good
                // keys rather than wait for it (it may take the whole timeout).
                return Some(stale);
            } else {
                seen
            }
        };
        let loaded = self
            .fresh
            .try_get_with((self.slot, target), self.load(trigger, target))
            .await;
        match loaded {
            Ok(fresh) => Some(fresh.keys),
            Err(_) => {
                let state = self.state();
                state.servable(Instant::now())
            }
        }
    }

    /// Loads the key set of epoch `target` for moka, which runs one load per entry at a time.
    async fn load(&self, trigger: Trigger, target: u64) -> Result<Fresh, NotLoaded> {
        let (started, target) = self.begin(trigger, target)?;
        let fetched = self.fetch().await;
        self.finish(trigger, started, target, fetched).await
    }

    /// Starts an attempt if the refetch rules allow one now, and records it.
    fn begin(&self, trigger: Trigger, target: u64) -> Result<(Instant, u64), NotLoaded> {
        let mut state = self.state();
        let now = Instant::now();
        if target < self.epoch()
            || decide(&state.history, trigger, now, &self.settings) == Decision::Skip
        {
            return Err(NotLoaded::Skipped);
        }
        state.history.last_attempt = Some(now);
        state.history.in_flight = Some(now);
        if trigger == Trigger::UnknownKid {
            state.history.last_kid_refetch = Some(now);
        }
        Ok((now, target))
    }

    /// Records how an attempt ended and logs it; the fresh entry for epoch `target` on success.
    async fn finish(
        &self,
        trigger: Trigger,
        started: Instant,
        target: u64,
        fetched: Result<KeySet, JwksError>,
    ) -> Result<Fresh, NotLoaded> {
        let now = Instant::now();
        let elapsed_ms = u64::try_from(now.duration_since(started).as_millis()).unwrap_or(u64::MAX);
        let (keys, superseded) = {
            let mut state = self.state();
            state.history.in_flight = None;
            match fetched {
                Ok(keys) => {
                    let keys = Arc::new(keys);
                    state.history.last_failure = None;
                    state.last_good = Some(Arc::clone(&keys));
                    state.last_good_until = now.checked_add(self.settings.max_stale);
                    let current = self.epoch();
                    let superseded = (current < target).then_some(current);
                    self.epoch.fetch_max(target, Ordering::AcqRel);
                    (keys, superseded)
                }
                Err(err) => {
                    state.history.last_failure = Some(now);
                    let serving_stale_keys = state.servable(now).is_some();
                    error!(
                        issuer = %self.issuer,
                        error = %err,
                        serving_stale_keys,
                        retry_after_s = self.settings.failure_backoff.as_secs(),
                        "JWKS fetch failed"
                    );
                    return Err(NotLoaded::Failed);
                }
            }
        };
        if let Some(old) = superseded {
            // Readers of the old epoch find it gone and move to the new one.
            self.fresh.invalidate(&(self.slot, old)).await;
        }
        info!(
            issuer = %self.issuer,
            keys = keys.len(),
            trigger = ?trigger,
            elapsed_ms,
            "fetched JWKS"
        );
        Ok(Fresh {
            keys,
            ttl: self.settings.cache_ttl,
        })
    }

    async fn fetch(&self) -> Result<KeySet, JwksError> {
        self.fetch_document().await.map(|fetched| fetched.keys)
    }

    /// Fetches the issuer's JWKS as the cache would (discovery, bounds, timeout, validation),
    /// without caching it: what `make jwks-snapshot` records.
    pub(crate) async fn fetch_document(&self) -> Result<FetchedJwks, JwksError> {
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
    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether the keys are fetched (not inline, not HMAC only).
    pub(crate) fn is_remote(&self) -> bool {
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
pub(crate) struct FetchedJwks {
    /// The URL the JWKS came from.
    pub url: Url,
    /// The document as published.
    pub document: Value,
    /// Its usable keys.
    pub keys: KeySet,
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
        back(&mut state.history.in_flight);
        back(&mut state.last_good_until);
    }

    /// Drops the fresh key set, as its TTL would.
    pub(crate) async fn expire_fresh(&self) {
        let epoch = self.epoch();
        self.fresh.invalidate(&(self.slot, epoch)).await;
    }
}

fn outcome(lookup: Lookup) -> KeyOutcome {
    match lookup {
        Lookup::Found(key) => KeyOutcome::Key(key),
        Lookup::AlgNotAllowed => KeyOutcome::AlgNotAllowed,
        Lookup::NotFound => KeyOutcome::UnknownKid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_for(idp: &testkit::JwksServer, settings: JwksSettings) -> Arc<JwksCache> {
        let source = KeySource::Remote {
            jwks_uri: Some(Url::parse(&idp.jwks_uri()).unwrap()),
        };
        let store = KeyStore::new(settings).unwrap();
        Arc::new(store.cache_for(idp.issuer(), source))
    }

    /// Whether the cache finds an ES256 key under `kid`.
    async fn finds(cache: &JwksCache, kid: &str) -> bool {
        matches!(
            cache.key_for(Some(kid), Alg::ES256).await,
            KeyOutcome::Key(_)
        )
    }

    #[tokio::test]
    async fn interrupted_fetch_backs_off_like_a_failed_one() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        idp.set_fault(testkit::Fault::Hang);
        let cache = cache_for(&idp, JwksSettings::default());
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
        // Once a whole fetch timeout has passed, the abandoned attempt no longer holds back.
        cache.backdate(JwksSettings::default().timeout);
        assert!(finds(&cache, key.kid()).await);
        assert_eq!(idp.jwks_hits(), 2);
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
        assert!(finds(&cache, key.kid()).await);
        idp.set_fault(testkit::Fault::Status(500));

        // Within the limit: the IdP fails, the last good keys are served.
        cache.expire_fresh().await;
        cache.backdate(Duration::from_secs(59));
        assert!(finds(&cache, key.kid()).await);

        // Past it: denied as unavailable, even though keys are remembered.
        cache.backdate(Duration::from_secs(30));
        assert!(matches!(
            cache.key_for(Some(key.kid()), Alg::ES256).await,
            KeyOutcome::Unavailable
        ));
        assert_eq!(idp.jwks_hits(), 3);
    }

    #[tokio::test]
    async fn failed_unknown_kid_refetch_keeps_the_current_keys_fresh() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        let cache = cache_for(&idp, JwksSettings::default());
        assert!(finds(&cache, key.kid()).await);
        idp.set_fault(testkit::Fault::Status(503));
        assert!(matches!(
            cache.key_for(Some("rotated"), Alg::ES256).await,
            KeyOutcome::UnknownKid
        ));
        assert_eq!(idp.jwks_hits(), 2);
        // The known key still answers from the fresh set, past the failure backoff too: the
        // failed refetch neither dropped it nor made it due for a fetch.
        cache.backdate(JwksSettings::default().failure_backoff);
        assert!(finds(&cache, key.kid()).await);
        assert_eq!(idp.jwks_hits(), 2);
    }

    #[tokio::test]
    async fn stale_seed_is_served_while_its_background_refresh_hangs() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        idp.set_fault(testkit::Fault::Hang);
        let cache = cache_for(&idp, JwksSettings::default());
        let keys = parse_jwks_value(&testkit::TestKey::jwks(&[&key])).unwrap();
        let stale = Freshness::Stale {
            servable_for: Duration::from_secs(60),
        };
        assert!(cache.seed(keys, stale).await);
        cache.warm_up().await;
        // Answered at once from the seeded keys, before the refresh task has even run.
        assert!(finds(&cache, key.kid()).await);
        while idp.jwks_hits() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(finds(&cache, key.kid()).await);
        assert_eq!(
            idp.jwks_hits(),
            1,
            "requests never fetch beside the refresh"
        );
    }

    #[tokio::test]
    async fn expired_snapshot_seeds_nothing() {
        let key = testkit::TestKey::ec_p256();
        let idp = testkit::JwksServer::start_with(&[&key]);
        let cache = cache_for(&idp, JwksSettings::default());
        let keys = parse_jwks_value(&testkit::TestKey::jwks(&[&key])).unwrap();
        assert!(!cache.seed(keys, Freshness::Expired).await);
        idp.set_fault(testkit::Fault::Status(503));
        assert!(matches!(
            cache.key_for(Some(key.kid()), Alg::ES256).await,
            KeyOutcome::Unavailable
        ));
    }
}
