//! The Runtime API stand-in drives the real `lambda_runtime` client (via the `testkit-echo` function).

use std::path::Path;

use serde_json::json;
use testkit::RuntimeApi;

fn echo(env: &[(&str, &str)]) -> RuntimeApi {
    RuntimeApi::start(Path::new(env!("CARGO_BIN_EXE_testkit-echo")), env)
}

#[test]
fn invoke_returns_the_function_answer() {
    let function = echo(&[]);
    assert!(function.init_error().is_none());
    assert_eq!(
        function.invoke(json!({"echo": {"a": 1}})).expect("answer"),
        json!({"a": 1})
    );
    assert_eq!(
        function.invoke(json!({"echo": "second"})).expect("answer"),
        json!("second")
    );
    assert!(function.is_running());
    assert!(function.next_calls() >= 2);
}

#[test]
fn error_answers_carry_type_and_message() {
    let function = echo(&[]);
    let error = function
        .invoke(json!({"fail": "Unauthorized"}))
        .expect_err("error answer");
    assert_eq!(error.error_message, "Unauthorized");
    assert!(!error.error_type.is_empty());
    assert!(function.is_running());
}

#[test]
fn non_json_event_gets_an_error_answer() {
    let function = echo(&[]);
    let error = function
        .invoke_raw(b"\x00not json")
        .expect_err("error answer");
    assert!(!error.error_message.is_empty());
    assert_eq!(
        function.invoke(json!({"echo": 1})).expect("still serving"),
        json!(1)
    );
}

#[test]
fn init_failure_is_reported_with_its_message() {
    let function = echo(&[("ECHO_INIT_FAIL", "JWT_ISSUER")]);
    let failure = function.init_error().expect("init must fail");
    assert!(failure.mentions("JWT_ISSUER"), "{failure:?}");
    assert!(!function.is_running());
}

#[test]
#[should_panic(expected = "exited")]
fn process_exit_during_invocation_panics_instead_of_answering() {
    let function = echo(&[]);
    let _ = function.invoke(json!({"exit": 3}));
}

#[test]
fn peak_rss_is_readable_while_running() {
    let function = echo(&[]);
    function.invoke(json!({"echo": 1})).expect("answer");
    let peak = function.peak_rss_kib().expect("VmHWM");
    assert!(peak > 0);
}

#[test]
fn the_lambda_runtime_client_keeps_its_connections_alive() {
    // Before the vendored lambda_runtime patch, about 4 in 10 invocations opened a new TCP
    // connection (hyper-util's pool held one idle connection while `/next` raced the
    // connection still finishing `/response`). Two kept-alive connections serve any number.
    let function = echo(&[]);
    for i in 0..300 {
        assert_eq!(
            function.invoke(json!({"echo": i})).expect("answer"),
            json!(i)
        );
    }
    assert!(
        function.connections() <= 2,
        "{} connections for 300 invocations",
        function.connections()
    );
}
