//! The built `me` binary under a Lambda Runtime API stand-in on loopback.

use serde_json::json;
use shared::fixtures::{self, event};
use testkit::function::{self, call, start};

const BINARY: &str = env!("CARGO_BIN_EXE_me");

#[test]
fn me_returns_claims_with_json_types_from_jwt_authorizer() {
    let runtime = start(BINARY);
    let answer = call(&runtime, &event(fixtures::HTTP_API_JWT_COGNITO));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/json");
    let body = answer.json();
    assert_eq!(body["sub"], json!("5f1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"));
    assert_eq!(body["scopes"], json!(["read:shows", "shows/read.all"]));
    assert_eq!(
        body["claims"]["cognito:groups"],
        json!(["admins", "readers"])
    );
    assert_eq!(body["claims"]["exp"], json!(1_700_003_600));
    assert_eq!(body["claims"]["username"], json!("0042"));
}

#[test]
fn me_returns_rest_and_lambda_contexts() {
    let runtime = start(BINARY);
    let rest = call(&runtime, &event(fixtures::REST_COGNITO)).json();
    assert_eq!(rest["claims"]["email"], json!("dave@example.com"));
    assert_eq!(rest["claims"]["email_verified"], json!(true));
    let lambda = call(&runtime, &event(fixtures::HTTP_API_LAMBDA)).json();
    assert_eq!(
        lambda["claims"]["https://example.com/app_metadata"]["seats"],
        json!(3)
    );
}

#[test]
fn me_without_caller_is_401() {
    let runtime = start(BINARY);
    let answer = call(&runtime, &event(fixtures::AWS_EVENTS_V2_NO_AUTHORIZER));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], json!("unauthorized"));
}

#[test]
fn me_survives_malformed_events() {
    function::malformed_events_get_error_answers_and_process_keeps_serving(
        BINARY,
        &event(fixtures::HTTP_API_LAMBDA),
        200,
    );
}
