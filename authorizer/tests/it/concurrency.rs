//! Lambda Managed Instances: with `AWS_LAMBDA_MAX_CONCURRENCY=N` the real binary polls the
//! Runtime API with N workers and answers invocations that are in flight at the same time;
//! the key cache stays single-flight (N concurrent tokens with a new `kid` cost one fetch).
//! Without the variable it polls with one, as on classic Lambda.

use std::time::Duration;

use crate::common::{Format, Harness, assert_allowed, assert_denied, eventually};
use serde_json::{Value, json};
use testkit::{Fault, TestKey};

const FORMAT: Format = Format::HttpV2Simple;

#[test]
fn max_concurrency_polls_with_that_many_workers() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    eventually("8 pollers never waited at once", || {
        harness.function.waiting_pollers() == 8
    });
    let events: Vec<Value> = (0..32)
        .map(|i| {
            let token = harness.token(&key, &harness.claims(&format!("user-{i}")));
            FORMAT.bearer(&token)
        })
        .collect();
    for (i, answer) in harness.function.invoke_all(&events).into_iter().enumerate() {
        let context = assert_allowed(FORMAT, answer, &format!("user-{i}"));
        // Every answer belongs to its own event, not to a neighbour's.
        assert_eq!(context["sub"], json!(format!("user-{i}")));
    }
    harness.assert_no_token_logged();
}

#[test]
fn without_max_concurrency_one_worker_polls() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    eventually("the poller never waited", || {
        harness.function.waiting_pollers() == 1
    });
    let token = harness.token(&key, &harness.claims("u"));
    let events = vec![FORMAT.bearer(&token); 4];
    for answer in harness.function.invoke_all(&events) {
        assert_allowed(FORMAT, answer, "u");
    }
    eventually("the poller never came back", || {
        harness.function.waiting_pollers() == 1
    });
    assert_eq!(
        harness.function.next_calls(),
        5,
        "one /next per event, then the parked one"
    );
}

#[test]
fn concurrent_tokens_with_a_new_kid_cost_one_fetch() {
    let old = TestKey::ec_p256();
    let rotated = TestKey::ec_p256();
    let harness = Harness::start(&[&old], &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    eventually("8 pollers", || harness.function.waiting_pollers() == 8);
    assert_eq!(harness.idp.jwks_hits(), 1, "init fetches once");
    // The IdP rotates, and answers slowly enough that all 8 requests are waiting at once.
    harness.idp.set_keys(&[&old, &rotated]);
    harness
        .idp
        .set_fault(Fault::Slow(Duration::from_millis(300)));
    let token = harness.token(&rotated, &harness.claims("rotated"));
    let events = vec![FORMAT.bearer(&token); 8];
    for answer in harness.function.invoke_all(&events) {
        assert_allowed(FORMAT, answer, "rotated");
    }
    assert_eq!(
        harness.idp.jwks_hits(),
        2,
        "one refetch for 8 concurrent new kids"
    );
}

#[test]
fn concurrent_unknown_kids_cost_one_fetch_and_are_denied() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    eventually("8 pollers", || harness.function.waiting_pollers() == 8);
    harness
        .idp
        .set_fault(Fault::Slow(Duration::from_millis(300)));
    let events: Vec<Value> = (0..16)
        .map(|i| {
            let header = json!({"alg": "ES256", "typ": "JWT", "kid": format!("forged-{i}")});
            let token = harness.remember(&key.sign_with_header(&header, &harness.claims("u")));
            FORMAT.bearer(&token)
        })
        .collect();
    for answer in harness.function.invoke_all(&events) {
        assert_denied(FORMAT, answer, "unknown kid");
    }
    assert_eq!(
        harness.idp.jwks_hits(),
        2,
        "init + one refetch, then the cooldown"
    );
}
