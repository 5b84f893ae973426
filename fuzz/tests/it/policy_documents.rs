//! Generated configuration documents with the issuer and claim policy keys (issue 15): RFC 9068,
//! claim rules, lifetime, principal and usage-plan claims, Cognito forms and regions, route claim
//! rules, each drawn from valid and hostile values. Every document goes through the
//! `config_document` target (no panic, no serde wording, builds an authorizer when accepted), and
//! the policy's own promises are checked: a refusal names a place in the document, and nothing
//! given is silently dropped (an accepted rule is in the configuration).

use std::cell::Cell;

use authorizer::Config;
use fuzz_targets::config_document;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngSeed, TestRunner};
use serde_json::{Value, json};

const POOL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Fuzz";

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_0015),
        ..RunnerConfig::default()
    })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,8}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

fn rule() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!({"claim": "email_verified", "equals": true})),
        4 => Just(json!({"claim": "amr", "contains": "mfa"})),
        4 => Just(json!({"claim": "plan", "one_of": ["gold", 2, false]})),
        1 => Just(json!({"claim": "a", "equals": 1, "contains": "x"})),
        1 => Just(json!({"claim": "", "equals": 1})),
        1 => Just(json!({"claim": "a", "one_of": []})),
        1 => Just(json!({"claim": "a", "equals": null})),
        1 => Just(json!({"claim": "a", "equal": 1})),
        1 => Just(json!(["email_verified", true])),
        2 => (scalar(), scalar()).prop_map(|(c, v)| json!({"claim": c, "contains": v})),
    ]
}

fn issuer() -> impl Strategy<Value = Value> {
    let policy = (
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just(json!({})),
                Just(json!({"require_claims": true})),
                Just(json!({"require_claims": "yes"})),
                Just(json!(true))
            ],
        ),
        prop::option::weighted(0.4, prop::collection::vec(rule(), 0..3)),
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just(json!(3600)),
                Just(json!(0)),
                Just(json!(1.5)),
                Just(json!(31_622_401)),
                scalar()
            ],
        ),
        prop::option::weighted(0.2, scalar()),
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just(json!(["email", "sub"])),
                Just(json!([])),
                Just(json!("email")),
                Just(json!(["email", 3]))
            ],
        ),
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just(json!("https://x/api_key")),
                Just(json!("exp")),
                Just(json!("")),
                scalar()
            ],
        ),
    );
    let cognito = prop::option::weighted(
        0.4,
        prop_oneof![
            Just(json!({"regions": ["us-east-1"], "issuer_forms": ["updated"]})),
            Just(json!({"regions": ["us-east-1", "us-east-1"]})),
            Just(json!({"regions": ["../evil"]})),
            Just(json!({"issuer_forms": ["new"]})),
            Just(json!({"jwks_uris": {POOL: "https://keys.example/jwks"}})),
            Just(json!({"jwks_uris": {"https://evil.example/": "https://keys.example/jwks"}})),
            Just(json!({"region": ["us-east-1"]})),
            Just(json!([])),
        ],
    );
    (
        prop_oneof![Just(json!("https://a.example/")), Just(json!(POOL))],
        policy,
        cognito,
    )
        .prop_map(
            |(iss, (rfc9068, rules, lifetime, iat, principal, usage), cognito)| {
                let mut i = json!({"issuer": iss, "audience": "aud"});
                for (key, value) in [
                    ("rfc9068", rfc9068),
                    ("claim_rules", rules.map(Value::from)),
                    ("max_lifetime_seconds", lifetime),
                    ("require_iat", iat),
                    ("principal_claims", principal),
                    ("usage_identifier_claim", usage),
                    ("cognito", cognito),
                ] {
                    if let Some(value) = value {
                        i[key] = value;
                    }
                }
                i
            },
        )
}

fn document() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(issuer(), 1..3),
        prop::option::weighted(
            0.3,
            prop_oneof![
                prop::collection::vec(rule(), 0..2)
                    .prop_map(|rules| json!({"DELETE /shows/*": rules})),
                Just(json!({"DELETE shows": [{"claim": "g", "contains": "admin"}]})),
                Just(json!([{"claim": "g", "contains": "admin"}])),
                Just(json!({})),
            ],
        ),
    )
        .prop_map(|(issuers, routes)| {
            let mut d = json!({"issuers": issuers});
            if let Some(routes) = routes {
                d["route_claim_rules"] = routes;
            }
            d
        })
}

/// How many rules and issuers the document asks for, when all of them were accepted.
fn rule_count(document: &Value) -> usize {
    document["issuers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["claim_rules"].as_array())
        .map(Vec::len)
        .sum()
}

#[test]
fn policy_documents_are_parsed_or_refused_naming_their_place() {
    let (runs, accepted) = (Cell::new(0u32), Cell::new(0u32));
    runner(1500)
        .run(&document(), |document| {
            runs.set(runs.get() + 1);
            let text = document.to_string();
            let took = config_document::check(&text);
            let lookup = |name: &str| match name {
                "AUTHORIZER_CONFIG" => Some(text.clone()),
                "AUTHORIZER_CACHE_TTL_SECONDS" => Some("0".to_owned()),
                _ => None,
            };
            match Config::from_lookup(lookup) {
                Err(err) => {
                    prop_assert!(!took);
                    prop_assert!(
                        err.var.starts_with("AUTHORIZER_CONFIG"),
                        "refusal without a place: {err}"
                    );
                }
                Ok(config) => {
                    prop_assert!(took);
                    accepted.set(accepted.get() + 1);
                    // Nothing given is dropped: every issuer's rules are in the configuration
                    // (a Cognito pool's expansions carry copies of its rules).
                    let first_of_each: usize =
                        document["issuers"].as_array().map_or(0, |issuers| {
                            issuers
                                .iter()
                                .filter_map(|i| i["issuer"].as_str())
                                .filter_map(|iss| config.issuers.iter().find(|c| c.issuer == iss))
                                .map(|c| c.policy.claim_rules.len())
                                .sum()
                        });
                    prop_assert_eq!(first_of_each, rule_count(&document));
                    if document.get("route_claim_rules").is_some() {
                        prop_assert!(config.decisions_depend_on_route());
                        prop_assert!(!config.route_claim_rules.is_empty());
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let (runs, accepted) = (runs.get(), accepted.get());
    eprintln!("policy documents: {runs} generated, {accepted} accepted");
    assert!(accepted > 0 && accepted < runs, "{accepted} of {runs}");
}
