//! The built `public` binary under a Lambda Runtime API stand-in on loopback.

use serde_json::json;
use shared::fixtures::{self, event};
use testkit::function::{self, call, start};

const BINARY: &str = env!("CARGO_BIN_EXE_public");

#[test]
fn public_answers_http_api_and_rest_events() {
    let runtime = start(BINARY);
    for json in [
        fixtures::HTTP_API_NO_AUTHORIZER,
        fixtures::SAM_AWS_PROXY,
        fixtures::SAM_HTTP_API_PROXY,
    ] {
        let answer = call(&runtime, &event(json));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, "Hello stranger!");
        assert_eq!(answer.header("content-type"), "text/plain; charset=utf-8");
    }
}

#[test]
fn public_survives_malformed_events() {
    function::malformed_events_get_error_answers_and_process_keeps_serving(
        BINARY,
        &event(fixtures::HTTP_API_NO_AUTHORIZER),
        200,
    );
}

#[test]
fn public_logs_one_line_per_request_without_token() {
    let runtime = start(BINARY);
    call(
        &runtime,
        &function::with_token_header(event(fixtures::HTTP_API_NO_AUTHORIZER)),
    );
    let lines = function::request_log_lines(&runtime, 1);
    assert_eq!(lines.len(), 1, "{}", runtime.logs());
    assert_eq!(lines[0]["fields"]["route"], json!("/public"));
    assert_eq!(lines[0]["fields"]["status"], json!(200));
    assert!(!runtime.logs().contains(function::TOKEN_MARKER));
}
