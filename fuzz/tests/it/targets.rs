//! The stable, bounded pass over every fuzz target (run by `make test`; libFuzzer runs the same
//! bodies coverage-guided with `make fuzz`): each committed corpus and regression input, then a
//! fixed number of generated inputs from a fixed seed, so a run is repeatable.
//!
//! A crash found by libFuzzer is committed under `fuzz/regressions/<target>/` and replayed here.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use fuzz_targets::{TARGETS, config_document, event, local_request, path_rules, token};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngSeed, TestRunner};
use serde_json::{Value, json};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_0011),
        ..RunnerConfig::default()
    })
}

/// Every file under `fuzz/<dir>/<target>/`.
fn inputs(dir: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("corpus file");
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn committed_corpus_and_regressions_pass_every_target() {
    for target in TARGETS {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "{target}: no seed corpus");
        let regressions = inputs("regressions", target);
        for (path, bytes) in corpus.iter().chain(&regressions) {
            eprintln!("{target}: {}", path.display());
            assert!(fuzz_targets::run(target, bytes));
        }
        eprintln!(
            "{target}: {} corpus + {} regression inputs",
            corpus.len(),
            regressions.len()
        );
    }
}

// --- token -----------------------------------------------------------------------------------

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
    ]
}

fn header(kid: String) -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            4 => Just(json!("ES256")),
            1 => Just(json!("RS256")),
            1 => Just(json!("HS256")),
            1 => Just(json!("none")),
            1 => Just(json!("es256")),
            1 => json_scalar(),
        ],
        prop_oneof![3 => Just(json!(kid)), 1 => Just(json!("shared")), 1 => json_scalar()],
        prop::option::weighted(0.1, Just(json!(["exp"]))),
        prop::option::weighted(0.8, Just(json!("JWT"))),
    )
        .prop_map(|(alg, kid, crit, typ)| {
            let mut h = json!({"alg": alg, "kid": kid});
            if let Some(crit) = crit {
                h["crit"] = crit;
            }
            if let Some(typ) = typ {
                h["typ"] = typ;
            }
            h
        })
}

fn claims() -> impl Strategy<Value = Value> {
    let now = testkit::now();
    (
        prop_oneof![4 => Just(json!("https://fuzz.example.com/")), 1 => Just(json!("https://fuzz.example.com")), 1 => json_scalar()],
        prop_oneof![
            4 => Just(json!("https://api.example.com")),
            1 => Just(json!(["x", "https://api.example.com"])),
            1 => Just(json!(["x"])),
            1 => json_scalar(),
        ],
        prop_oneof![
            4 => Just(json!(now + 600)),
            1 => Just(json!(now - 600)),
            1 => Just(json!(1e300)),
            1 => Just(json!("9999999999")),
            1 => json_scalar(),
        ],
        prop::option::weighted(0.3, prop_oneof![Just(json!(now + 600)), Just(json!(now - 600)), json_scalar()]),
        prop_oneof![4 => Just(json!("user")), 1 => Just(json!("")), 1 => json_scalar()],
        prop::option::weighted(0.3, prop_oneof![Just(json!("read:shows admin")), Just(json!(["admin"])), json_scalar()]),
        prop::collection::btree_map("[a-zA-Z:/._]{1,12}", json_scalar(), 0..4),
    )
        .prop_map(|(iss, aud, exp, nbf, sub, scope, extra)| {
            let mut c = json!({"iss": iss, "aud": aud, "exp": exp, "sub": sub});
            if let Some(nbf) = nbf {
                c["nbf"] = nbf;
            }
            if let Some(scope) = scope {
                c["scope"] = scope;
            }
            for (k, v) in extra {
                c[k] = v;
            }
            c
        })
}

#[test]
fn token_target_generated_inputs() {
    let kid = fuzz_targets::token::fixture_kid();
    let signed = (header(kid), claims()).prop_map(|(h, c)| {
        let mut bytes = vec![2];
        bytes.extend(serde_json::to_vec(&h).unwrap());
        bytes.push(0xff);
        bytes.extend(serde_json::to_vec(&c).unwrap());
        bytes
    });
    let strategy = prop_oneof![
        3 => signed,
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => "[A-Za-z0-9_.=+/ -]{0,120}".prop_map(|s| [&[0u8][..], s.as_bytes()].concat()),
    ];
    let (runs, allowed) = (Cell::new(0u32), Cell::new(0u32));
    runner(600)
        .run(&strategy, |bytes| {
            runs.set(runs.get() + 1);
            if token::check(&bytes) == token::Outcome::Allowed {
                allowed.set(allowed.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (runs, allowed) = (runs.get(), allowed.get());
    eprintln!("token: {runs} generated inputs, {allowed} allowed");
    // The generator reaches the claim checks behind the signature, both ways.
    assert!(allowed > 0 && allowed < runs, "{allowed} of {runs} allowed");
}

// --- event -----------------------------------------------------------------------------------

fn credential() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!("Bearer"))),
        1 => Just(Some(json!("Bearer "))),
        1 => Just(Some(json!(""))),
        1 => Just(Some(json!("Bearer a.b.c"))),
        1 => Just(Some(json!("Basic dXNlcjpwYXNz"))),
        1 => Just(Some(json!(["Bearer a", "Bearer b"]))),
        1 => "[ -~]{0,40}".prop_map(|s| Some(json!(s))),
        1 => json_scalar().prop_map(Some),
    ]
}

fn request_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_owned()),
        Just("/public".to_owned()),
        Just("/login/callback".to_owned()),
        Just("/private".to_owned()),
        Just("/shows".to_owned()),
        Just("/admin/users".to_owned()),
        "(/(public|login|admin|shows|%2e|%2E%2e|%70ublic|\\.|\\.\\.|;x|%2f|%u002e|%c0%ae|\u{ff50}ublic|\u{2025}|a\\*|)){1,4}/?",
    ]
}

fn hostile_event() -> impl Strategy<Value = Value> {
    (
        0..event::FIXTURES.len(),
        request_path(),
        credential(),
        credential(),
        credential(),
        prop::option::weighted(0.2, ("[a-zA-Z]{1,10}", json_scalar())),
    )
        .prop_map(|(i, path, header, query, cookie, junk)| {
            let mut e: Value = serde_json::from_str(event::FIXTURES[i]).unwrap();
            let arn_key = if e.get("routeArn").is_some() {
                "routeArn"
            } else {
                "methodArn"
            };
            if let Some(arn) = e[arn_key].as_str() {
                let mut parts: Vec<&str> = arn.splitn(4, '/').collect();
                parts.truncate(2);
                e[arn_key] = json!(format!("{}/GET{path}", parts.join("/")));
            }
            let obj = e.as_object_mut().unwrap();
            obj.remove("authorizationToken");
            obj.remove("identitySource");
            if let Some(v) = header {
                if obj.get("type") == Some(&json!("TOKEN")) {
                    obj.insert("authorizationToken".into(), v.clone());
                }
                obj.entry("headers").or_insert_with(|| json!({}));
                if obj.get("headers").is_some_and(Value::is_object) {
                    obj["headers"]["Authorization"] = v;
                }
            }
            if let Some(v) = query {
                obj.insert("queryStringParameters".into(), json!({"access_token": v}));
            }
            if let Some(v) = cookie {
                obj.insert(
                    "cookies".into(),
                    json!([format!("session={}", v.as_str().unwrap_or(""))]),
                );
                if obj.get("headers").is_some_and(Value::is_object) {
                    obj["headers"]["Cookie"] =
                        json!(format!("session={}", v.as_str().unwrap_or("")));
                }
            }
            if let Some((k, v)) = junk {
                obj.insert(k, v);
            }
            e
        })
}

#[test]
fn event_target_generated_inputs() {
    let runs = Cell::new(0u32);
    let anonymous = Cell::new(0u32);
    runner(1500)
        .run(&hostile_event(), |e| {
            runs.set(runs.get() + 1);
            if event::check(&e) {
                anonymous.set(anonymous.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (runs, anonymous) = (runs.get(), anonymous.get());
    eprintln!("event: {runs} generated events, {anonymous} anonymous allows");
    assert!(anonymous > 0 && anonymous < runs, "{anonymous} of {runs}");
}

// --- path rules ------------------------------------------------------------------------------

#[test]
fn path_rules_target_generated_inputs() {
    let alphabet = "(/|public|login|admin|a-b_c~|x|%|%2|%2e|%2E|%2f|%5c|%61|%70|%7E|%c0%ae|%u002e|;|\\.|\\\\|\\*|:|@|~|\u{0}|\t| |\u{ff41}|\u{2025}|é){0,12}";
    let runs = Cell::new(0u32);
    runner(3000)
        .run(&alphabet, |raw| {
            runs.set(runs.get() + 1);
            path_rules::run(raw.as_bytes());
            Ok(())
        })
        .unwrap();
    eprintln!("path_rules: {} generated paths", runs.get());
}

// --- configuration document -------------------------------------------------------------------

fn document() -> impl Strategy<Value = String> {
    let issuer = (
        prop_oneof![
            6 => Just(json!("https://a.example/")),
            1 => Just(json!("http://a.example/")),
            1 => json_scalar()
        ],
        prop_oneof![
            4 => Just(json!("aud")),
            2 => Just(json!(["a", "b"])),
            1 => Just(json!([])),
            1 => json_scalar()
        ],
        prop::option::weighted(
            0.3,
            prop_oneof![
                Just(json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]})),
                Just(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
                Just(json!({"keys": "nope"})),
                json_scalar(),
            ],
        ),
        prop::option::weighted(
            0.2,
            prop_oneof![
                Just(json!([{"kid": "k", "secret_env": "FUZZ_SECRET"}])),
                Just(json!([{"kid": "k", "secret_env": "FUZZ_SECRET", "alg": "HS512"}])),
                Just(json!([["k", "FUZZ_SECRET"]])),
            ],
        ),
    )
        .prop_map(|(iss, aud, jwks, hmac)| {
            let mut i = json!({"issuer": iss, "audience": aud});
            if let Some(j) = jwks {
                i["jwks"] = j;
            }
            if let Some(h) = hmac {
                i["hmac"] = h;
            }
            i
        });
    (
        prop::collection::vec(issuer, 1..2),
        prop::option::weighted(
            0.4,
            prop_oneof![
                Just(json!(["/public", "/login/*"])),
                Just(json!(["/a;b"])),
                Just(json!(["nope"])),
                Just(json!("/x")),
            ],
        ),
        prop::option::weighted(
            0.4,
            prop_oneof![
                Just(json!({"include": {"https://x/roles": "roles"}})),
                Just(json!({"include": {"https://x/id": "principalId"}})),
                Just(json!({"strip_namespaces": true})),
                Just(json!({"strip_namespaces": ["https://x/", ""]})),
                Just(json!({"scope_as_list": "yes"})),
            ],
        ),
        prop::option::weighted(
            0.4,
            prop_oneof![
                Just(json!({"GET /shows": "read:shows"})),
                Just(json!({"GET /shows": []})),
                Just(json!({"GET shows": "x"})),
                Just(json!(["GET /shows"])),
            ],
        ),
        prop_oneof![4 => Just(0u8), 1 => 1..4u8],
    )
        .prop_map(|(issuers, paths, claims, scopes, shape)| {
            let mut d = json!({"issuers": issuers});
            if let Some(p) = paths {
                d["public_paths"] = p;
            }
            if let Some(c) = claims {
                d["claims"] = c;
            }
            if let Some(s) = scopes {
                d["required_scopes"] = s;
            }
            let text = d.to_string();
            match shape {
                // A repeated key, as a hand-edited document may hold.
                1 => text.replacen(
                    "{\"issuers\"",
                    "{\"public_paths\":[\"/\"],\"public_paths\":[\"/x\"],\"issuers\"",
                    1,
                ),
                // The positional form of the same document.
                2 => format!("[{text}]"),
                3 => text[..text.len() / 2].to_owned(),
                _ => text,
            }
        })
}

#[test]
fn config_document_target_generated_inputs() {
    let (runs, accepted) = (Cell::new(0u32), Cell::new(0u32));
    runner(1500)
        .run(&document(), |text| {
            runs.set(runs.get() + 1);
            if config_document::check(&text) {
                accepted.set(accepted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (runs, accepted) = (runs.get(), accepted.get());
    eprintln!("config_document: {runs} generated documents, {accepted} accepted");
    assert!(accepted > 0 && accepted < runs, "{accepted} of {runs}");
}

// --- local API request -------------------------------------------------------------------------

/// A request head built from hostile pieces: methods, targets, Host values and header bytes that
/// the local API must refuse with a 400 or convert, never panic on.
fn hostile_request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("G T".to_owned()),
        "[A-Z]{0,8}",
    ];
    let target = prop_oneof![
        Just("/public".to_owned()),
        Just("/private?x=1".to_owned()),
        Just("/%c0%ae%c0%ae/admin".to_owned()),
        Just("*".to_owned()),
        Just("http://[::1/".to_owned()),
        "/[ -~]{0,24}",
    ];
    let host = prop_oneof![
        Just("127.0.0.1:3000".to_owned()),
        Just("[::1".to_owned()),
        Just("[".to_owned()),
        Just("a b".to_owned()),
        Just("::::".to_owned()),
        Just("127.0.0.1:99999".to_owned()),
        Just("user@host".to_owned()),
        "[ -~]{0,16}",
    ];
    let extra = proptest::collection::vec(any::<u8>(), 0..24);
    (method, target, host, extra).prop_map(|(method, target, host, extra)| {
        let mut bytes =
            format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer x\r\n")
                .into_bytes();
        bytes.extend_from_slice(b"X-Extra: ");
        bytes.extend_from_slice(&extra);
        bytes.extend_from_slice(b"\r\n\r\nbody");
        bytes
    })
}

#[test]
fn local_request_target_generated_inputs() {
    let runs = Cell::new(0u32);
    let converted = Cell::new(0u32);
    runner(1500)
        .run(&hostile_request(), |bytes| {
            runs.set(runs.get() + 1);
            if local_request::check(&bytes) {
                converted.set(converted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    let (runs, converted) = (runs.get(), converted.get());
    eprintln!("local_request: {runs} generated requests, {converted} converted");
    // Both outcomes are reached: the generator is not stuck on one side of the validation.
    assert!(converted > 0 && converted < runs, "{converted} of {runs}");
}
