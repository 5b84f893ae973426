//! Malformed events get an error answer and the process keeps serving; bad configuration fails
//! the cold start with a message naming the variable, and never reaches an allow; logs carry
//! decisions, not tokens.

use crate::common::{Decision, Format, Harness, assert_allowed, assert_init_fails_naming, decide};
use serde_json::{Value, json};
use testkit::TestKey;

#[test]
fn malformed_events_get_an_error_answer_and_the_process_keeps_serving() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("u"));
    let events = [
        json!({}),
        json!("Bearer x"),
        json!(42),
        json!([1, 2, 3]),
        json!(null),
        json!(true),
        json!({"type": "TOKEN"}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}")}),
        json!({"type": "TOKEN", "authorizationToken": 7, "methodArn": Format::RestToken.arn()}),
        json!({"type": "REQUEST", "methodArn": Format::RestRequest.arn(), "headers": "nope"}),
        json!({"type": "REQUEST", "methodArn": 5, "headers": {"Authorization": format!("Bearer {token}")}}),
        // (A 2.0 event without `routeArn` but with a valid token may be allowed in simple style,
        // whose answer does not name a resource; with a bad token it must not be.)
        json!({"version": "2.0", "type": "REQUEST", "headers": {"authorization": "Bearer a.b.c"}}),
        json!({"version": "2.0", "routeArn": Format::HttpV2Simple.arn(), "identitySource": {"a": 1}}),
        json!({"version": "3.0", "routeArn": "x"}),
    ];
    for (i, event) in events.into_iter().enumerate() {
        let answer = harness.function.invoke(event.clone());
        if i < 6 {
            // Not an object, or no authorizer fields at all: an error answer.
            assert!(
                answer.is_err(),
                "{event} must get an error answer: {answer:?}"
            );
        }
        // Whatever it answers, it is never an allow; an answer is required (a hang panics).
        assert!(
            !answer
                .as_ref()
                .is_ok_and(|v| v.to_string().contains("\"Allow\"") || v["isAuthorized"] == true),
            "malformed event {event} was allowed: {answer:?}"
        );
        assert!(harness.function.is_running(), "process died on {event}");
    }
    for raw in [
        &b"not json"[..],
        b"",
        b"{",
        b"\xff\xfe",
        b"{\"type\": \"TOKEN\"",
    ] {
        let answer = harness.function.invoke_raw(raw);
        assert!(
            answer.is_err(),
            "non-JSON event must get an error answer: {answer:?}"
        );
        assert!(harness.function.is_running());
    }
    // Still serving real events afterwards.
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    harness.assert_no_token_logged();
}

#[test]
fn foreign_event_is_an_error_answer() {
    // Objects that are no authorizer event at all must not be mistaken for one.
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let answer = harness
        .function
        .invoke(json!({"Records": [{"eventSource": "aws:sqs"}]}));
    assert!(answer.is_err(), "{answer:?}");
    assert!(harness.function.is_running());
}

#[test]
fn missing_or_bad_configuration_fails_init_naming_the_variable() {
    let issuer = "https://tenant.example.auth0.com/";
    let aud = "https://api.example.com";
    assert_init_fails_naming(&[("JWT_AUDIENCE", aud)], "JWT_ISSUER");
    assert_init_fails_naming(&[("JWT_ISSUER", issuer)], "JWT_AUDIENCE");
    assert_init_fails_naming(&[("JWT_ISSUER", ""), ("JWT_AUDIENCE", aud)], "JWT_ISSUER");
    assert_init_fails_naming(
        &[("JWT_ISSUER", issuer), ("JWT_AUDIENCE", " , ")],
        "JWT_AUDIENCE",
    );
    assert_init_fails_naming(
        &[
            ("JWT_ISSUER", "http://tenant.example.auth0.com/"),
            ("JWT_AUDIENCE", aud),
        ],
        "JWT_ISSUER",
    );
    assert_init_fails_naming(
        &[("JWT_ISSUER", "not a url"), ("JWT_AUDIENCE", aud)],
        "JWT_ISSUER",
    );
    let base = [("JWT_ISSUER", issuer), ("JWT_AUDIENCE", aud)];
    for (variable, value) in [
        ("JWKS_URI", "http://keys.example.com/jwks.json"),
        ("JWKS_URI", "ftp://keys.example.com/jwks.json"),
        ("JWT_LEEWAY_SECONDS", "301"),
        ("JWT_LEEWAY_SECONDS", "-1"),
        ("JWT_LEEWAY_SECONDS", "ten"),
        ("JWKS_TIMEOUT_MS", "0"),
        ("JWKS_CACHE_TTL_SECONDS", "forever"),
        ("JWKS_REFETCH_COOLDOWN_SECONDS", "0"),
        ("AUTHORIZER_RESPONSE_STYLE", "fancy"),
    ] {
        let mut env = base.to_vec();
        env.push((variable, value));
        assert_init_fails_naming(&env, variable);
    }
    assert_init_fails_naming(
        &[
            (
                "JWT_ISSUER",
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool",
            ),
            ("JWT_AUDIENCE", "client"),
            ("COGNITO_TOKEN_USE", "refresh"),
        ],
        "COGNITO_TOKEN_USE",
    );
}

#[test]
fn decisions_are_logged_as_json_lines_without_tokens() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("logged-user"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "logged-user",
    );
    let mut expired = harness.claims("u");
    expired["exp"] = json!(testkit::now() - 60);
    let expired = harness.token(&key, &expired);
    assert!(matches!(
        decide(Format::RestToken, harness.call(Format::RestToken, &expired)),
        Decision::Unauthorized
    ));
    let garbage = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw";
    harness.remember(garbage);
    let _ = harness.call(Format::RestToken, garbage);

    // One decision line per call.
    let logs = harness.function.logs_once(
        |logs| logs.matches("\"decision\":").count() >= 3,
        std::time::Duration::from_secs(5),
    );
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("log lines are JSON"))
        .collect();
    assert!(!lines.is_empty(), "no JSON log lines: {logs}");
    let text = logs.to_lowercase();
    assert!(
        text.contains("logged-user"),
        "allow decision names the sub: {logs}"
    );
    assert!(
        text.contains("expired"),
        "deny decision gives the reason: {logs}"
    );
    harness.assert_no_token_logged();
}

#[test]
fn real_event_variants_with_null_maps_and_websocket_connect() {
    let key = TestKey::ec_p256();
    let harness = Harness::start(&[&key], &[]);
    let token = harness.token(&key, &harness.claims("u"));
    let bearer = format!("Bearer {token}");

    // Payload 2.0 with null maps and the token only in identitySource.
    let mut event: Value = serde_json::from_str(include_str!(
        "../fixtures/apigw-v2-custom-authorizer-v2-request-null-maps.json"
    ))
    .expect("fixture");
    event["identitySource"] = json!([bearer]);
    assert_allowed(
        Format::HttpV2Simple,
        harness.function.invoke(event.clone()),
        "u",
    );
    event["headers"] = Value::Null;
    event["cookies"] = Value::Null;
    assert_allowed(
        Format::HttpV2Simple,
        harness.function.invoke(event.clone()),
        "u",
    );
    event["identitySource"] = Value::Null;
    let decision = decide(Format::HttpV2Simple, harness.function.invoke(event));
    assert_eq!(decision, Decision::Forbidden, "no credential anywhere");

    // REST REQUEST with null multi-value maps, and with null headers.
    let mut event = Format::RestRequest.bearer(&token);
    event["multiValueHeaders"] = Value::Null;
    event["multiValueQueryStringParameters"] = Value::Null;
    event["queryStringParameters"] = Value::Null;
    assert_allowed(
        Format::RestRequest,
        harness.function.invoke(event.clone()),
        "u",
    );
    event["headers"] = Value::Null;
    assert_eq!(
        decide(Format::RestRequest, harness.function.invoke(event)),
        Decision::Unauthorized
    );

    // WebSocket $connect (REQUEST authorizer, version "$LATEST").
    let mut event: Value = serde_json::from_str(include_str!(
        "../fixtures/apigw-v2-custom-authorizer-websocket-request.json"
    ))
    .expect("fixture");
    event["headers"]["Authorization"] = json!(bearer);
    event["multiValueHeaders"]["Authorization"] = json!([bearer]);
    let answer = harness.function.invoke(event.clone());
    let decision = decide(Format::RestRequest, answer.clone());
    assert!(matches!(decision, Decision::Allow { .. }), "{decision:?}");
    let arn = event["methodArn"].as_str().expect("methodArn");
    assert!(
        crate::common::policy_allows(&answer.expect("allowed"), arn),
        "policy does not cover {arn}"
    );
    event["headers"]["Authorization"] = json!("Bearer not.a.token");
    event["multiValueHeaders"]["Authorization"] = json!(["Bearer not.a.token"]);
    assert_eq!(
        decide(Format::RestRequest, harness.function.invoke(event)),
        Decision::Unauthorized
    );
    harness.assert_no_token_logged();
}
