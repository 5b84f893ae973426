//! The built `shows` binary under a Lambda Runtime API stand-in on loopback.

use serde_json::json;
use shared::fixtures::{self, event, with_authorizer};
use testkit::function::{self, call, start};

const BINARY: &str = env!("CARGO_BIN_EXE_shows");

#[test]
fn shows_with_scope_returns_filtered_catalogue() {
    let runtime = start(BINARY);
    for json in [fixtures::HTTP_API_JWT_AUTH0, fixtures::REST_LAMBDA] {
        let answer = call(&runtime, &event(json));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), "application/json");
        let shows = answer.json();
        let shows = shows.as_array().expect("array");
        assert!(!shows.is_empty());
        for show in shows {
            assert!(
                show["name"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("the"),
                "{show}"
            );
            assert!(show["id"].is_u64() && show["url"].is_string(), "{show}");
        }
    }
}

#[test]
fn shows_without_scope_is_403_and_without_caller_401() {
    let runtime = start(BINARY);
    let no_scope = with_authorizer(
        event(fixtures::HTTP_API_JWT_AUTH0),
        Some(
            json!({"jwt": {"claims": {"sub": "alice", "scope": "read:showsX xread:shows"}, "scopes": ["read:showsX"]}}),
        ),
    );
    let answer = call(&runtime, &no_scope);
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.header("www-authenticate"),
        "Bearer error=\"insufficient_scope\", scope=\"read:shows\""
    );
    assert_eq!(
        answer.json(),
        json!({"error": "access_denied", "error_description": "Token does not contain the required 'read:shows' scope"})
    );
    let answer = call(&runtime, &event(fixtures::SAM_AWS_PROXY));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("www-authenticate"), "Bearer realm=\"api\"");

    let lines = function::request_log_lines(&runtime, 2);
    let reasons: Vec<_> = lines
        .iter()
        .map(|l| l["fields"]["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [json!("insufficient_scope"), json!("no_caller")],
        "{}",
        runtime.logs()
    );
}

#[test]
fn shows_survives_malformed_events() {
    function::malformed_events_get_error_answers_and_process_keeps_serving(
        BINARY,
        &event(fixtures::REST_LAMBDA),
        200,
    );
}
