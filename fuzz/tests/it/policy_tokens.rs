//! Generated tokens, really signed, against an issuer with every policy rule on (RFC 9068
//! profile, lifetime bound, required `iat`, claim rules, `principal_claims`): the authorizer
//! allows exactly the tokens an independent reading of the rules allows, and the `principalId`
//! is the one the rules say. A differential check: the oracle below is written from the README's
//! wording, not from the authorizer's code.

use std::cell::Cell;

use authorizer::{Authorizer, Config};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngSeed, TestRunner};
use serde_json::{Value, json};
use testkit::TestKey;

const ISSUER: &str = "https://policy.example.com/";
const AUDIENCE: &str = "https://api.example.com";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/shows";
const MAX_LIFETIME: i64 = 600;

/// A claim's value, or absent.
type Claim = Option<Value>;

#[derive(Debug, Clone)]
struct Case {
    typ: Claim,
    iat: Claim,
    exp_from_now: i64,
    client_id: Claim,
    jti: Claim,
    email_verified: Claim,
    amr: Claim,
    email: Claim,
}

/// One of `values`, the first (the valid one) more often, so allows are reached.
fn pick(values: Vec<Claim>) -> impl Strategy<Value = Claim> {
    let valid = values[0].clone();
    prop_oneof![2 => Just(valid), 1 => proptest::sample::select(values)]
}

fn case(now: i64) -> impl Strategy<Value = Case> {
    (
        pick(vec![
            Some(json!("at+jwt")),
            Some(json!("AT+JWT")),
            Some(json!("application/at+jwt")),
            Some(json!("JWT")),
            Some(json!("at+jwt ")),
            Some(json!("application/application/at+jwt")),
            Some(json!(["at+jwt"])),
            None,
        ]),
        pick(vec![
            Some(json!(now)),
            Some(json!(now - 100)),
            Some(json!(now + 1000)),
            Some(json!("now")),
            None,
        ]),
        proptest::sample::select(vec![100_i64, 500, 600, 700, 3600, -5]),
        pick(vec![
            Some(json!("client")),
            Some(json!("")),
            Some(json!(7)),
            None,
        ]),
        pick(vec![Some(json!("jti-1")), Some(json!(5)), None]),
        pick(vec![
            Some(json!(true)),
            Some(json!("true")),
            Some(json!(false)),
            Some(json!(1)),
            None,
        ]),
        pick(vec![
            Some(json!(["pwd", "mfa"])),
            Some(json!(["pwd"])),
            Some(json!("pwd mfa")),
            Some(json!("pwd\tmfa")),
            Some(json!("mfa2")),
            Some(json!({"mfa": true})),
            None,
        ]),
        pick(vec![
            Some(json!("ann@example.com")),
            Some(json!(" ")),
            Some(json!(42)),
            None,
        ]),
    )
        .prop_map(
            |(typ, iat, exp_from_now, client_id, jti, email_verified, amr, email)| Case {
                typ,
                iat,
                exp_from_now,
                client_id,
                jti,
                email_verified,
                amr,
                email,
            },
        )
}

/// The rules as the README states them.
fn oracle_allows(case: &Case, now: i64) -> bool {
    let typ_ok = case.typ.as_ref().and_then(Value::as_str).is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t == "at+jwt" || t == "application/at+jwt"
    });
    let nonempty = |c: &Claim| {
        c.as_ref()
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let exp = now + case.exp_from_now;
    let iat = case.iat.as_ref().and_then(Value::as_i64);
    let lifetime_ok = iat.is_none_or(|iat| exp - iat <= MAX_LIFETIME) && exp - now <= MAX_LIFETIME;
    let amr_ok = match &case.amr {
        Some(Value::Array(items)) => items.iter().any(|i| i == "mfa"),
        Some(Value::String(s)) => s.split(' ').any(|w| w == "mfa"),
        _ => false,
    };
    typ_ok
        && nonempty(&case.client_id)
        && nonempty(&case.jti)
        && iat.is_some()
        && exp > now
        && lifetime_ok
        && case.email_verified == Some(json!(true))
        && amr_ok
}

#[test]
fn policy_allows_exactly_what_the_rules_say() {
    let key = TestKey::ec_p256();
    let document = json!({"issuers": [{
        "issuer": ISSUER, "audience": AUDIENCE, "jwks": TestKey::jwks(&[&key]),
        "rfc9068": {"require_claims": true},
        "max_lifetime_seconds": MAX_LIFETIME, "require_iat": true,
        "claim_rules": [{"claim": "email_verified", "equals": true},
                        {"claim": "amr", "contains": "mfa"}],
        "principal_claims": ["email"],
    }]})
    .to_string();
    let config = Config::from_lookup(|name| match name {
        "AUTHORIZER_CONFIG" => Some(document.clone()),
        _ => None,
    })
    .expect("configuration");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let authorizer = {
        let _guard = runtime.enter();
        Authorizer::new(config).expect("authorizer")
    };
    let now = testkit::now();
    let (runs, allowed) = (Cell::new(0u32), Cell::new(0u32));
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 2000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_0915),
        ..RunnerConfig::default()
    });
    runner
        .run(&case(now), |case| {
            runs.set(runs.get() + 1);
            let mut claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "the-sub",
                                    "exp": now + case.exp_from_now});
            for (name, value) in [
                ("iat", &case.iat),
                ("client_id", &case.client_id),
                ("jti", &case.jti),
                ("email_verified", &case.email_verified),
                ("amr", &case.amr),
                ("email", &case.email),
            ] {
                if let Some(value) = value {
                    claims[name] = value.clone();
                }
            }
            let mut header = json!({"alg": "ES256", "kid": key.kid()});
            if let Some(typ) = &case.typ {
                header["typ"] = typ.clone();
            }
            let token = key.sign_with_header(&header, &claims);
            let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
                               "methodArn": ARN});
            let answer = runtime.block_on(authorizer.handle(event));
            let expected = oracle_allows(&case, now);
            match answer {
                Ok(answer) => {
                    prop_assert!(expected, "allowed against the rules: {case:?}");
                    allowed.set(allowed.get() + 1);
                    let principal = match &case.email {
                        Some(Value::String(e)) if !e.trim().is_empty() => e.as_str(),
                        _ => "the-sub",
                    };
                    prop_assert_eq!(&answer["principalId"], principal);
                }
                Err(err) => {
                    prop_assert!(err.is_unauthorized(), "{err}");
                    prop_assert!(
                        !expected,
                        "denied ({:?}) against the rules: {case:?}",
                        err.reason()
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "policy tokens: {} generated, {} allowed",
        runs.get(),
        allowed.get()
    );
    assert!(
        allowed.get() > 0,
        "no case was allowed: the generator never reaches an allow"
    );
}
