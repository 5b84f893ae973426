//! When to fetch: the refetch rules (failure backoff, unknown-`kid` cooldown) and how long a
//! key set stays fresh and servable. Pure functions of a history and `now`, so the rules are
//! tested without a clock or a network.

use std::time::{Duration, Instant};

use super::settings::JwksSettings;

/// What started a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// No fresh key set (first use, or the cached one expired).
    Missing,
    /// The fresh key set lacks the token's `kid`.
    UnknownKid,
}

/// Whether to fetch now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Go ahead.
    Fetch,
    /// Not now: use what we have.
    Skip,
}

/// When fetches happened, for [`decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FetchHistory {
    /// Start of the latest fetch attempt, successful or not.
    pub last_attempt: Option<Instant>,
    /// Start of the latest fetch attempt caused by an unknown `kid`.
    pub last_kid_refetch: Option<Instant>,
    /// End of the latest failed attempt, cleared by a success.
    pub last_failure: Option<Instant>,
    /// Start of an attempt that has not reported back yet, cleared when it does. An attempt
    /// whose caller went away never reports; it counts as running for one fetch timeout (the
    /// longest it could have run), so an abandoned fetch holds back others as a failed one does.
    pub in_flight: Option<Instant>,
}

/// The refetch rules, as a pure function of the history and `now`:
/// - after a failure, nothing for `failure_backoff` (deny fast or serve stale keys);
/// - while an attempt runs (at most `timeout`), no second one;
/// - an unknown `kid` refetches at most once per `refetch_cooldown`, counted from the latest
///   refetch an unknown `kid` caused (as aws-jwt-verify's penalty box): a key rotated just now
///   is picked up by its first token, and random `kid`s cannot drive more than one request
///   per window.
pub(crate) fn decide(
    history: &FetchHistory,
    trigger: Trigger,
    now: Instant,
    settings: &JwksSettings,
) -> Decision {
    let within = |at: Option<Instant>, window: Duration| {
        at.is_some_and(|t| now.saturating_duration_since(t) < window)
    };
    if within(history.last_failure, settings.failure_backoff)
        || within(history.in_flight, settings.timeout)
    {
        return Decision::Skip;
    }
    if trigger == Trigger::UnknownKid && within(history.last_kid_refetch, settings.refetch_cooldown)
    {
        return Decision::Skip;
    }
    Decision::Fetch
}

/// How far a key set fetched `age` ago (by us, or for a snapshot) is into its life: a pure
/// function of its age and the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Younger than the TTL: used as a fetched key set, fresh for `fresh_for` more.
    Fresh {
        /// Time left before a refresh is due.
        fresh_for: Duration,
        /// Time left before it must no longer be served (`JWKS_MAX_STALE_SECONDS`).
        servable_for: Duration,
    },
    /// Past the TTL, within the stale bound: served only while a refresh (started at once,
    /// off the request path) has not succeeded.
    Stale {
        /// Time left before it must no longer be served.
        servable_for: Duration,
    },
    /// Past both: not used at all.
    Expired,
}

/// Where a key set of age `age` stands, with the cache TTL and the stale bound.
pub(crate) fn freshness(age: Duration, ttl: Duration, max_stale: Duration) -> Freshness {
    let servable_for = max_stale.saturating_sub(age);
    if age < ttl {
        Freshness::Fresh {
            fresh_for: ttl - age,
            // A fetched key set is never dropped before its TTL ends, whatever the stale bound.
            servable_for: servable_for.max(ttl - age),
        }
    } else if age < max_stale {
        Freshness::Stale { servable_for }
    } else {
        Freshness::Expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn settings() -> JwksSettings {
        JwksSettings::default()
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
            in_flight: None,
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
            in_flight: None,
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
            in_flight: None,
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
    fn attempt_in_flight_blocks_a_second_one_for_one_timeout() {
        let t0 = Instant::now();
        let history = FetchHistory {
            last_attempt: Some(t0),
            in_flight: Some(t0),
            ..FetchHistory::default()
        };
        let s = settings();
        for trigger in [Trigger::Missing, Trigger::UnknownKid] {
            assert_eq!(
                decide(
                    &history,
                    trigger,
                    t0 + s.timeout - Duration::from_millis(1),
                    &s
                ),
                Decision::Skip
            );
        }
        // An attempt that never reported back (its caller went away) stops counting once it
        // would have timed out.
        assert_eq!(
            decide(&history, Trigger::Missing, t0 + s.timeout, &s),
            Decision::Fetch
        );
    }

    #[test]
    fn freshness_young_snapshot_is_fresh_for_the_rest_of_its_ttl() {
        assert_eq!(
            freshness(Duration::from_secs(600), HOUR, DAY),
            Freshness::Fresh {
                fresh_for: Duration::from_secs(3000),
                servable_for: DAY - Duration::from_secs(600),
            }
        );
    }

    #[test]
    fn freshness_past_ttl_is_stale_until_max_stale_then_expired() {
        assert_eq!(
            freshness(2 * HOUR, HOUR, DAY),
            Freshness::Stale {
                servable_for: DAY - 2 * HOUR
            }
        );
        assert_eq!(freshness(DAY, HOUR, DAY), Freshness::Expired);
        assert_eq!(
            freshness(2 * HOUR, HOUR, Duration::ZERO),
            Freshness::Expired
        );
    }

    #[test]
    fn freshness_zero_max_stale_still_serves_until_ttl() {
        assert_eq!(
            freshness(Duration::from_secs(10), HOUR, Duration::ZERO),
            Freshness::Fresh {
                fresh_for: HOUR - Duration::from_secs(10),
                servable_for: HOUR - Duration::from_secs(10),
            }
        );
    }
}
