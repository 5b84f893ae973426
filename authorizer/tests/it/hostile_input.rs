//! Hostile input through the real binary under the Runtime API stand-in (issue 11): tokens
//! presented on public paths, paths that layers read differently, claims aimed at reserved
//! context keys, empty credentials, and configuration documents that must be refused.

use crate::common::{
    AUDIENCE, Decision, Format, Harness, assert_allowed_event, assert_denied, binary, decide,
};
use serde_json::{Value, json};
use testkit::{JwksServer, RuntimeApi, TestKey, forge};

/// The issuer every process here trusts, with the test key inline (no fetch), so processes with
/// different answer styles accept the same tokens.
const ISSUER: &str = "https://issuer.example.com/";

fn claims(sub: &str) -> Value {
    testkit::claims(ISSUER, AUDIENCE, sub)
}

/// The authorizer with `rules` merged into a one-issuer document, answering HTTP API payload 2.0
/// in `style` (`simple` or `iam`).
fn harness(key: &TestKey, rules: &Value, style: &str) -> Harness {
    // The stand-in IdP is not asked for anything: the keys are inline.
    let idp = JwksServer::start_with(&[key]);
    let mut document = json!({ "issuers": [{
        "issuer": ISSUER, "audience": AUDIENCE, "jwks": TestKey::jwks(&[key]),
    }] });
    for (k, v) in rules.as_object().expect("object") {
        document[k] = v.clone();
    }
    let text = document.to_string();
    Harness::start_configured(
        idp,
        &[
            ("AUTHORIZER_CONFIG", &text),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
            ("AUTHORIZER_RESPONSE_STYLE", style),
        ],
    )
}

/// Every format, each with a process configured for its answer style.
fn per_style(key: &TestKey, rules: &Value) -> Vec<(Format, std::rc::Rc<Harness>)> {
    let simple = std::rc::Rc::new(harness(key, rules, "simple"));
    let iam = std::rc::Rc::new(harness(key, rules, "iam"));
    let mut all: Vec<(Format, std::rc::Rc<Harness>)> = Format::SIMPLE_PROCESS
        .into_iter()
        .map(|f| (f, std::rc::Rc::clone(&simple)))
        .collect();
    all.push((Format::HttpV2Iam, iam));
    all
}

#[test]
fn public_path_denies_a_presented_invalid_token_and_marks_the_anonymous_caller() {
    let key = TestKey::ec_p256();
    let rules = json!({ "public_paths": ["/public", "/login/*"] });
    let harnesses = per_style(&key, &rules);
    let (_, first) = &harnesses[0];
    let claims = claims("u");
    let valid = first.token(&key, &claims);
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(testkit::now() - 3600);
    let expired = first.token(&key, &expired_claims);
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("https://attacker.example/");
    let wrong_issuer = first.token(&key, &wrong_iss);
    let forged = first.remember(&forge::flip_signature_bit(&valid));
    let other_key = TestKey::ec_p256().with_kid(key.kid());
    let other = first.remember(&other_key.sign(&claims));
    let presented: Vec<(&str, String)> = vec![
        ("forged signature", format!("Bearer {forged}")),
        ("other key, same kid", format!("Bearer {other}")),
        ("expired", format!("Bearer {expired}")),
        ("wrong issuer", format!("Bearer {wrong_issuer}")),
        ("garbage", "Bearer not-a-jwt".to_owned()),
        (
            "alg none",
            format!(
                "Bearer {}",
                forge::alg_none("none", Some(key.kid()), &claims)
            ),
        ),
        ("empty Bearer", "Bearer".to_owned()),
        ("Bearer and spaces", "Bearer   ".to_owned()),
        ("other scheme", "Basic dXNlcjpwYXNz".to_owned()),
    ];
    for (format, harness) in &harnesses {
        let format = *format;
        for path in ["/public", "/login/callback"] {
            for (what, value) in &presented {
                let event = format.at_route(format.event(Some(value)), "GET", path);
                assert_denied(
                    format,
                    harness.function.invoke(event),
                    &format!("{what} on public {path}"),
                );
            }
            // No credential at all: the anonymous allow, which says so and carries no claim.
            let event = format.at_route(format.event(None), "GET", path);
            let context = assert_allowed_event(
                format,
                harness.function.invoke(event.clone()),
                Some("anonymous"),
                &event,
            );
            assert_eq!(context, json!({ "anonymous": true }), "{format:?} {path}");
            // A valid token: allowed with its claims, no anonymous marker.
            let event = format.at_route(format.bearer(&valid), "GET", path);
            let context = assert_allowed_event(
                format,
                harness.function.invoke(event.clone()),
                Some("u"),
                &event,
            );
            assert_eq!(context["sub"], "u", "{format:?} {path}");
            assert!(context.get("anonymous").is_none(), "{context}");
        }
    }
    for (_, harness) in &harnesses {
        let logs = harness.function.logs();
        assert!(
            logs.contains("\"public_path\":true") && logs.contains("\"reason\":\"bad_signature\""),
            "denials on public paths are logged with their reason: {logs}"
        );
        assert!(logs.contains("\"reason\":\"expired\""), "{logs}");
        assert!(logs.contains("\"reason\":\"malformed_token\""), "{logs}");
        harness.assert_no_token_logged();
    }
}

#[test]
fn ambiguous_paths_are_never_public_and_meet_every_scope_rule() {
    let key = TestKey::ec_p256();
    let rules = json!({
        "public_paths": ["/public/*"],
        "required_scopes": { "GET /admin/*": "admin", "GET /shows": "read:shows" },
    });
    let harnesses = per_style(&key, &rules);
    let (_, first) = &harnesses[0];
    let reader = {
        let mut c = claims("reader");
        c["scope"] = json!("read:shows");
        first.token(&key, &c)
    };
    let hostile = [
        "/public;x/../admin",
        "/public/..;/admin",
        "/public/%2e%2e/admin",
        "/public/%2E%2E/admin",
        "/public%2f..%2fadmin",
        "/public/%c0%ae%c0%ae/admin",
        "/public/%u002e%u002e/admin",
        "/public//x",
        "/public/./x",
        "/public/x\u{0}",
        "/public/x\n",
        "/\u{ff50}ublic/x",
        "/public/\u{2025}/admin",
        "/public\\x",
    ];
    for (format, harness) in &harnesses {
        let format = *format;
        for path in hostile {
            let event = format.at_route(format.event(None), "GET", path);
            assert_denied(
                format,
                harness.function.invoke(event),
                &format!("no token on ambiguous {path:?}"),
            );
        }
        // RFC 3986 equivalents of a public path are that public path.
        for path in ["/%70ublic/x", "/public/%78/", "/publ%69c"] {
            let event = format.at_route(format.event(None), "GET", path);
            let context = assert_allowed_event(
                format,
                harness.function.invoke(event.clone()),
                Some("anonymous"),
                &event,
            );
            assert_eq!(context, json!({ "anonymous": true }), "{path}");
        }
        // A valid token without the admin scope: refused on every spelling of an admin route
        // and on ambiguous paths, where every GET rule applies.
        for path in [
            "/admin/users",
            "/%61dmin/users",
            "/admin;x/users",
            "/admin/users;jsessionid=1",
            "/x/../admin/users",
            "/\u{ff41}dmin/users",
        ] {
            let event = format.at_route(format.bearer(&reader), "GET", path);
            assert_eq!(
                decide(format, harness.function.invoke(event)),
                Decision::Forbidden,
                "{format:?}: reader on {path:?}"
            );
        }
        let event = format.at_route(format.bearer(&reader), "GET", "/%73hows");
        assert_allowed_event(
            format,
            harness.function.invoke(event.clone()),
            Some("reader"),
            &event,
        );
    }
}

#[test]
fn claims_never_fill_reserved_context_keys_and_are_counted() {
    let key = TestKey::ec_p256();
    for rules in [
        json!({}),
        json!({ "claims": { "strip_namespaces": true } }),
        json!({ "claims": { "strip_namespaces": ["ns:"] } }),
        json!({ "claims": { "include": { "email": "email" } } }),
    ] {
        let harnesses = per_style(&key, &rules);
        let (_, first) = &harnesses[0];
        let mut claims = claims("u");
        for (name, value) in [
            ("principalId", json!("admin")),
            ("integrationLatency", json!(0)),
            ("claims", json!({ "sub": "admin" })),
            ("jwt", json!({ "claims": { "sub": "admin" } })),
            ("lambda", json!({ "sub": "admin" })),
            ("anonymous", json!(true)),
            ("https://ns.example/principalId", json!("admin")),
            ("ns:anonymous", json!(true)),
            ("permissions", json!(["read:shows"])),
        ] {
            claims[name] = value;
        }
        let token = first.token(&key, &claims);
        for (format, harness) in &harnesses {
            let event = format.bearer(&token);
            let context = assert_allowed_event(
                *format,
                harness.function.invoke(event.clone()),
                Some("u"),
                &event,
            );
            for reserved in [
                "principalId",
                "integrationLatency",
                "claims",
                "jwt",
                "lambda",
                "anonymous",
            ] {
                assert!(
                    context.get(reserved).is_none(),
                    "{rules}: {reserved} in {context}"
                );
            }
            assert_eq!(context["sub"], "u");
            // The claims the route handlers need pass even with `include`.
            assert_eq!(
                context["permissions"], r#"["read:shows"]"#,
                "{rules}: {context}"
            );
        }
        // With `include`, the reserved claims are simply not included; otherwise they are
        // dropped (two namespaced ones keep their names rather than become reserved keys).
        let dropped = if rules["claims"].get("include").is_some() {
            0
        } else {
            6
        };
        let logs = first.function.logs();
        assert!(
            logs.contains(&format!("\"reserved_claims_dropped\":{dropped}")),
            "{rules}: dropped claims are counted in the decision line: {logs}"
        );
    }
}

#[test]
fn empty_bearer_is_malformed_and_no_later_source_decides() {
    let key = TestKey::ec_p256();
    let rules = json!({ "token_sources": [
        { "header": "Authorization", "prefix": "Bearer" },
        { "cookie": "session" },
    ]});
    let harness = harness(&key, &rules, "simple");
    let token = harness.token(&key, &claims("u"));
    for format in [Format::RestRequest, Format::HttpV1, Format::HttpV2Simple] {
        // The cookie alone is a good credential.
        let mut event = format.event(None);
        event["headers"]["Cookie"] = json!(format!("session={token}"));
        event["cookies"] = json!([format!("session={token}")]);
        assert!(
            matches!(
                decide(format, harness.function.invoke(event.clone())),
                Decision::Allow { .. }
            ),
            "{format:?}: cookie"
        );
        for empty in ["Bearer", "Bearer ", ""] {
            let mut with_header = event.clone();
            with_header["headers"]["Authorization"] = json!(empty);
            if with_header
                .get("multiValueHeaders")
                .is_some_and(Value::is_object)
            {
                with_header["multiValueHeaders"]["Authorization"] = json!([empty]);
            }
            assert_denied(
                format,
                harness.function.invoke(with_header),
                &format!("Authorization {empty:?} beside a valid cookie"),
            );
        }
    }
    assert!(
        harness
            .function
            .logs()
            .contains("\"reason\":\"malformed_token\"")
    );
}

fn init_failure(text: &str) -> testkit::InitFailure {
    let function = RuntimeApi::start(
        binary(),
        &[
            ("AUTHORIZER_CONFIG", text),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ],
    );
    function
        .init_error()
        .unwrap_or_else(|| panic!("init succeeded with {text}"))
}

#[test]
fn hostile_documents_fail_init_naming_the_place() {
    let issuer = r#"{"issuer": "https://tenant.example.auth0.com/", "audience": "a"}"#;
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                r#"{{"issuers": [{issuer}], "required_scopes": {{"GET /shows": "read:shows", "GET /shows": "x"}}}}"#
            ),
            r#""GET /shows" appears twice"#,
        ),
        (
            format!(r#"{{"issuers": [{issuer}], "public_paths": ["/a"], "public_paths": ["/b"]}}"#),
            r#""public_paths" appears twice"#,
        ),
        ("[]".to_owned(), "expected a JSON object"),
        (
            r#"[["https://tenant.example.auth0.com/", "a"]]"#.to_owned(),
            "expected a JSON object",
        ),
        (
            r#"{"issuers": [{"issuer": "https://tenant.example.auth0.com/", "audience": 5}]}"#
                .to_owned(),
            "issuers[0].audience: expected a string or a list of strings, found the number 5",
        ),
        (
            r#"{"issuers": [["https://tenant.example.auth0.com/", "a"]]}"#.to_owned(),
            "issuers[0]: expected an issuer object",
        ),
        (
                            r#"{"issuers": [{"issuer": "https://tenant.example.auth0.com/", "audience": "a",
            "jwks": {"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]}}]}"#
            .to_owned(),
            "issuers[0].jwks.keys[0]: holds private key material (`d`)",
        ),
        (
                            r#"{"issuers": [{"issuer": "https://tenant.example.auth0.com/", "audience": "a",
            "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}]}"#
            .to_owned(),
            "issuers[0].jwks.keys[0]: holds private key material (`k`)",
        ),
        (
            format!(
                r#"{{"issuers": [{issuer}], "claims": {{"include": {{"https://x/id": "principalId"}}}}}}"#
            ),
            r#"claims.include["https://x/id"]"#,
        ),
        (
            format!(r#"{{"issuers": [{issuer}], "public_paths": ["/admin;x"]}}"#),
            "public_paths[0]",
        ),
    ];
    for (text, needle) in cases {
        let failure = init_failure(&text);
        assert!(
            failure.mentions(needle),
            "{text}: does not say {needle:?}: {failure:?}"
        );
        if !needle.contains("appears twice") {
            // Type errors name the place, not a position (a repeated key also gets its position).
            assert!(!failure.mentions("line 1 column"), "{text}: {failure:?}");
        }
        assert!(!failure.mentions("untagged enum"), "{text}: {failure:?}");
        assert!(
            !failure.mentions("c2VjcmV0"),
            "{text}: the key is echoed: {failure:?}"
        );
    }
}

/// Two credentials in one request are refused, however the event carries them: header keys that
/// differ only in case (which a header map would merge into one), two values in
/// `multiValueHeaders`, and payload 2.0's comma-joined repeats. Each credential alone is valid,
/// so picking either would be an allow.
#[test]
fn two_credentials_in_one_event_are_refused_in_every_format() {
    let key = TestKey::ec_p256();
    let harness = harness(&key, &json!({}), "simple");
    let a = harness.token(&key, &claims("a"));
    let b = harness.token(&key, &claims("b"));
    let (a, b) = (format!("Bearer {a}"), format!("Bearer {b}"));
    for format in [Format::RestRequest, Format::HttpV1] {
        let mut event = format.event(None);
        event["headers"]["Authorization"] = json!(a);
        event["headers"]["authorization"] = json!(b);
        event
            .as_object_mut()
            .expect("object")
            .remove("multiValueHeaders");
        assert_denied(
            format,
            harness.function.invoke(event),
            "Authorization and authorization",
        );
    }
    let mut event = Format::RestRequest.event(Some(&a));
    event["multiValueHeaders"]["Authorization"] = json!([a, b]);
    assert_denied(
        Format::RestRequest,
        harness.function.invoke(event),
        "two multi-value Authorization headers",
    );
    let mut event = Format::RestRequest.event(Some(&a));
    event["multiValueHeaders"]["AUTHORIZATION"] = json!([b]);
    assert_denied(
        Format::RestRequest,
        harness.function.invoke(event),
        "multi-value keys differing in case",
    );
    let format = Format::HttpV2Simple;
    let mut event = format.event(Some(&a));
    event["headers"]["authorization"] = json!(format!("{a},{b}"));
    event["identitySource"] = json!([format!("{a},{b}")]);
    assert_denied(format, harness.function.invoke(event), "joined repeats");
    let mut event = format.event(None);
    event["identitySource"] = json!([a, b]);
    assert_denied(
        format,
        harness.function.invoke(event),
        "two identity sources",
    );
    // Each alone is allowed: the refusals above are about the pair.
    for format in [Format::RestRequest, Format::HttpV1, Format::HttpV2Simple] {
        let event = format.event(Some(&b));
        assert_allowed_event(
            format,
            harness.function.invoke(event.clone()),
            Some("b"),
            &event,
        );
    }
    harness.assert_no_token_logged();
}
