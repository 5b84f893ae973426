//! The built `private` binary under a Lambda Runtime API stand-in on loopback.

use serde_json::json;
use shared::fixtures::{self, event};
use testkit::function::{self, call, start, with_token_header};

const BINARY: &str = env!("CARGO_BIN_EXE_private");

#[test]
fn private_greets_caller_of_each_authorizer_shape() {
    let runtime = start(BINARY);
    for (json, sub) in [
        (fixtures::HTTP_API_JWT_AUTH0, "auth0|alice"),
        (fixtures::HTTP_API_LAMBDA, "auth0|bob"),
        (fixtures::REST_LAMBDA, "auth0|carol"),
        (fixtures::HTTP_API_V1_JWT, "erin"),
    ] {
        let answer = call(&runtime, &event(json));
        assert_eq!(answer.status, 200, "{sub}");
        assert_eq!(answer.body, format!("Hello {sub}!"));
    }
}

#[test]
fn private_without_caller_is_401_json() {
    let runtime = start(BINARY);
    for json in [fixtures::HTTP_API_NO_AUTHORIZER, fixtures::SAM_AWS_PROXY] {
        let answer = call(&runtime, &with_token_header(event(json)));
        assert_eq!(answer.status, 401);
        assert_eq!(answer.header("content-type"), "application/json");
        assert_eq!(answer.header("www-authenticate"), "Bearer realm=\"api\"");
        assert_eq!(answer.json()["error"], json!("unauthorized"));
    }
}

#[test]
fn private_survives_malformed_events() {
    function::malformed_events_get_error_answers_and_process_keeps_serving(
        BINARY,
        &event(fixtures::HTTP_API_JWT_AUTH0),
        200,
    );
}

#[test]
fn private_logs_route_status_sub_and_elapsed_without_token() {
    let runtime = start(BINARY);
    call(
        &runtime,
        &with_token_header(event(fixtures::HTTP_API_JWT_AUTH0)),
    );
    call(
        &runtime,
        &with_token_header(event(fixtures::HTTP_API_NO_AUTHORIZER)),
    );
    let lines = function::request_log_lines(&runtime, 2);
    assert_eq!(lines.len(), 2, "{}", runtime.logs());
    let ok = &lines[0]["fields"];
    assert_eq!(
        (ok["route"].clone(), ok["status"].clone(), ok["sub"].clone()),
        (json!("/private"), json!(200), json!("auth0|alice"))
    );
    assert!(ok["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    let denied = &lines[1]["fields"];
    assert_eq!(denied["status"], json!(401));
    assert_eq!(denied["reason"], json!("no_caller"));
    assert_eq!(denied.get("sub"), None);
    assert!(!runtime.logs().contains(function::TOKEN_MARKER));
}
