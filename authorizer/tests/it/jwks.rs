//! The authorizer against a misbehaving identity provider: failures deny (never crash, never hang,
//! never allow), cached keys keep serving while the IdP is down, it recovers by itself, rotated
//! keys are picked up, and a flood of unknown `kid`s does not become a flood of fetches.
//!
//! Where behaviour depends on a configured window (cache lifetime, cooldown, backoff), tests shrink
//! the window through the environment and poll for the outcome with a generous bound: no test
//! asserts how long anything took.

use std::time::{Duration, Instant};

use crate::common::{Format, Harness, assert_allowed, assert_denied, is_allow};
use testkit::{Fault, JwksServer, TestKey};

/// Faults that leave the authorizer without keys, with a label.
fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("500", Fault::Status(500)),
        ("404", Fault::Status(404)),
        ("garbage", Fault::Garbage),
        ("wrong shape", Fault::WrongShape),
        (
            "slower than the timeout",
            Fault::Slow(Duration::from_secs(5)),
        ),
        ("hang", Fault::Hang),
        ("64 MiB body", Fault::Huge),
    ]
}

#[test]
fn jwks_failures_deny_and_the_process_keeps_serving() {
    for (label, fault) in faults() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        idp.set_fault(fault);
        // The authorizer must give up on its own well before the invocation timeout.
        let harness = Harness::start_with_idp(idp, &[("JWKS_TIMEOUT_MS", "500")]);
        assert!(
            harness.function.init_error().is_none(),
            "{label}: an unreachable IdP must not fail init"
        );
        let token = harness.token(&key, &harness.claims("u"));
        for format in Format::SIMPLE_PROCESS {
            assert_denied(format, harness.call(format, &token), label);
        }
        assert!(harness.function.is_running(), "{label}: process died");
        assert!(
            harness.idp.jwks_hits() >= 1,
            "{label}: JWKS never requested"
        );
    }
}

#[test]
fn huge_jwks_body_is_not_buffered() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    idp.set_fault(Fault::Huge);
    let harness = Harness::start_with_idp(idp, &[("JWKS_TIMEOUT_MS", "3000")]);
    let token = harness.token(&key, &harness.claims("u"));
    // The real keys sit after 64 MiB of padding: only a client without a size cap would allow.
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "huge body",
    );
    let peak_kib = harness.function.peak_rss_kib().expect("VmHWM");
    assert!(
        peak_kib < 48 * 1024,
        "peak RSS {peak_kib} KiB: the 64 MiB body was buffered"
    );
}

#[test]
fn discovery_failure_falls_back_to_the_well_known_jwks() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    idp.set_discovery_fault(Fault::Status(404));
    let harness = Harness::start_with_idp(idp, &[]);
    let token = harness.token(&key, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    assert!(harness.idp.jwks_hits() >= 1);
}

#[test]
fn cached_keys_keep_serving_while_the_idp_is_down() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(
        &[&key],
        &[
            ("JWKS_CACHE_TTL_SECONDS", "1"),
            ("JWKS_REFETCH_COOLDOWN_SECONDS", "1"),
            ("JWKS_FAILURE_BACKOFF_SECONDS", "1"),
            ("JWKS_TIMEOUT_MS", "500"),
        ],
    );
    let token = harness.token(&key, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );

    harness.idp.set_fault(Fault::Status(503));
    let hits_before = harness.idp.jwks_hits();
    // An unknown kid forces a refetch attempt that fails...
    let stranger = TestKey::ec_p256();
    let unknown = harness.token(&stranger, &harness.claims("x"));
    let _ = harness.call_until(Format::RestToken, &unknown, Duration::from_secs(10), |_| {
        harness.idp.jwks_hits() > hits_before
    });
    // ... and once the cache lifetime has passed, refetches fail too; every answer meanwhile must
    // still be an allow from the stale keys.
    let hits_after_kid = harness.idp.jwks_hits();
    let answer = harness.call_until(Format::RestToken, &token, Duration::from_secs(10), |a| {
        assert!(
            is_allow(Format::RestToken, a),
            "stale keys must keep serving: {a:?}"
        );
        harness.idp.jwks_hits() > hits_after_kid
    });
    assert_allowed(Format::RestToken, answer, "u");
    assert_allowed(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &token),
        "u",
    );
    assert!(harness.function.is_running());
}

#[test]
fn recovers_by_itself_when_the_idp_comes_back() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    idp.set_fault(Fault::Status(500));
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWKS_FAILURE_BACKOFF_SECONDS", "1"),
            ("JWKS_REFETCH_COOLDOWN_SECONDS", "1"),
        ],
    );
    let token = harness.token(&key, &harness.claims("u"));
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "IdP down",
    );
    harness.idp.set_fault(Fault::Ok);
    let answer = harness.call_until(Format::RestToken, &token, Duration::from_secs(15), |a| {
        is_allow(Format::RestToken, a)
    });
    assert_allowed(Format::RestToken, answer, "u");
}

#[test]
fn rotated_key_is_picked_up_and_withdrawn_key_stops_working() {
    let old = TestKey::ec_p256();
    let new = TestKey::ed25519();
    let harness = Harness::start(&[&old], &[("JWKS_REFETCH_COOLDOWN_SECONDS", "1")]);
    let old_token = harness.token(&old, &harness.claims("u"));
    let new_token = harness.token(&new, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &old_token),
        "u",
    );

    harness.idp.set_keys(&[&new]);
    let hits_before = harness.idp.jwks_hits();
    let answer = harness.call_until(
        Format::RestToken,
        &new_token,
        Duration::from_secs(10),
        |a| is_allow(Format::RestToken, a),
    );
    assert_allowed(Format::RestToken, answer, "u");
    assert!(harness.idp.jwks_hits() > hits_before);
    // The refetched set replaced the old one: the withdrawn key no longer verifies.
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &old_token),
        "withdrawn key",
    );
}

#[test]
fn rotation_within_default_cooldown_needs_at_most_one_fetch() {
    // With the default cooldown, the first unknown kid after start-up may refetch at once (the
    // keys may have rotated just now); what matters is that it is picked up without a restart.
    let old = TestKey::ec_p256();
    let new = TestKey::ec_p256();
    let harness = Harness::start(&[&old], &[]);
    assert!(harness.function.init_error().is_none());
    harness.idp.set_keys(&[&old, &new]);
    let new_token = harness.token(&new, &harness.claims("u"));
    let hits_before = harness.idp.jwks_hits();
    let answer = harness.call_until(
        Format::RestToken,
        &new_token,
        Duration::from_secs(40),
        |a| is_allow(Format::RestToken, a),
    );
    assert_allowed(Format::RestToken, answer, "u");
    assert!(harness.idp.jwks_hits() - hits_before <= 3);
}

#[test]
fn unknown_kid_flood_does_not_flood_the_idp() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let good = harness.token(&key, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &good),
        "u",
    );
    let hits_before = harness.idp.jwks_hits();
    let attacker = TestKey::ec_p256();
    let started = Instant::now();
    for _ in 0..200 {
        let kid = testkit::keys::random_id(8);
        let token = attacker
            .clone()
            .with_kid(&kid)
            .sign(&harness.claims("mallory"));
        assert_denied(
            Format::RestToken,
            harness.call(Format::RestToken, &token),
            "random kid",
        );
    }
    let refetches = harness.idp.jwks_hits() - hits_before;
    // One refetch per default cooldown (15 s) at most; the flood normally takes well under one.
    let windows = usize::try_from(started.elapsed().as_secs() / 15).unwrap_or(usize::MAX);
    assert!(
        refetches <= 1 + windows,
        "{refetches} JWKS fetches for 200 unknown kids"
    );
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &good),
        "u",
    );
}

#[test]
fn init_prefetches_the_keys() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    assert!(harness.function.init_error().is_none());
    // The function asked for its first event only after fetching the keys.
    assert_eq!(harness.idp.jwks_hits(), 1, "keys fetched during init");
    let token = harness.token(&key, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    assert_eq!(
        harness.idp.jwks_hits(),
        1,
        "the init fetch serves the first call"
    );
    for _ in 0..5 {
        assert_allowed(
            Format::RestToken,
            harness.call(Format::RestToken, &token),
            "u",
        );
    }
    assert_eq!(harness.idp.jwks_hits(), 1, "warm calls must not refetch");
}

#[test]
fn failing_idp_is_not_hammered() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    idp.set_fault(Fault::Status(500));
    let harness = Harness::start_with_idp(idp, &[]);
    let token = harness.token(&key, &harness.claims("u"));
    let started = Instant::now();
    for _ in 0..50 {
        assert_denied(
            Format::RestToken,
            harness.call(Format::RestToken, &token),
            "IdP down",
        );
    }
    // Init tries once (discovery, then the well-known fallback); after that the failure backoff
    // (default 5 s) allows one attempt per window, not one per request.
    let windows = usize::try_from(started.elapsed().as_secs() / 5).unwrap_or(usize::MAX);
    let hits = harness.idp.total_hits();
    assert!(
        hits <= 3 + 2 * windows,
        "{hits} requests to a failing IdP for 50 calls"
    );
}
