//! For the route functions' integration tests: run a built function binary under the Runtime API
//! stand-in, read its API Gateway proxy answers and its log lines.

use std::path::Path;

use crate::runtime::RuntimeApi;
use serde_json::{Value, json};

/// A token-shaped marker sent in `Authorization` headers: it must never reach a log.
pub const TOKEN_MARKER: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnbmF0dXJlLW11c3Qtbm90LWxlYWs";

/// Starts the function and checks it finished init.
pub fn start(binary: &str) -> RuntimeApi {
    let runtime = RuntimeApi::start(Path::new(binary), &[]);
    if let Some(failure) = runtime.init_error() {
        panic!("init failed: {failure:?}");
    }
    runtime
}

/// An API Gateway answer as the function returned it.
#[derive(Debug)]
pub struct Answer {
    pub status: u64,
    pub headers: Value,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers[name]
            .as_str()
            .unwrap_or_else(|| panic!("no header {name} in {}", self.headers))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// Invokes with an event and expects an API Gateway proxy response.
pub fn call(runtime: &RuntimeApi, event: &Value) -> Answer {
    let response = runtime
        .invoke(event.clone())
        .unwrap_or_else(|e| panic!("error answer {e:?}\n{}", runtime.logs()));
    assert_eq!(
        response["isBase64Encoded"],
        json!(false),
        "text bodies are never base64: {response}"
    );
    // lambda_http answers REST events with `multiValueHeaders` only, HTTP API events
    // with `headers`: fold both into one name -> first value map.
    let mut headers = serde_json::Map::new();
    if let Some(multi) = response["multiValueHeaders"].as_object() {
        for (name, values) in multi {
            headers.insert(name.to_ascii_lowercase(), values[0].clone());
        }
    }
    if let Some(single) = response["headers"].as_object() {
        for (name, value) in single {
            headers.insert(name.to_ascii_lowercase(), value.clone());
        }
    }
    Answer {
        status: response["statusCode"].as_u64().expect("statusCode"),
        headers: Value::Object(headers),
        body: response["body"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Adds an `Authorization: Bearer <marker>` header, as a real client request has.
pub fn with_token_header(mut event: Value) -> Value {
    event["headers"]["Authorization"] = json!(format!("Bearer {TOKEN_MARKER}"));
    event
}

/// Events that are not API Gateway requests, as raw bytes.
pub const MALFORMED_EVENTS: &[&[u8]] = &[
    b"{}",
    b"\"a string\"",
    b"42",
    b"null",
    b"[]",
    b"{\"requestContext\": \"wrong type\"}",
    b"{\"version\": \"2.0\", \"rawPath\": \"/x\", \"requestContext\": 7}",
    b"{\"httpMethod\": \"GET\", \"requestContext\": []}",
    b"not json at all",
    b"",
];

/// Sends every malformed event: each gets an error answer, the process stays up, and a
/// good event afterwards is still answered by `expect_after` status.
pub fn malformed_events_get_error_answers_and_process_keeps_serving(
    binary: &str,
    good: &Value,
    expect_after: u64,
) {
    let runtime = start(binary);
    for raw in MALFORMED_EVENTS {
        let answer = runtime.invoke_raw(raw);
        let error = answer.expect_err(&format!(
            "{:?} must get an error answer",
            String::from_utf8_lossy(raw)
        ));
        // lambda_http rejects it before our handler runs; the runtime reports it and goes on.
        assert!(error.error_type.contains("DeserializeError"), "{error:?}");
        assert!(
            runtime.is_running(),
            "process died on {:?}\n{}",
            String::from_utf8_lossy(raw),
            runtime.logs()
        );
    }
    assert_eq!(
        call(&runtime, good).status,
        expect_after,
        "{}",
        runtime.logs()
    );
    assert!(runtime.is_running());
}

/// The JSON log lines (the stand-in sets `AWS_LAMBDA_LOG_FORMAT=JSON`) that carry a `route` field.
///
/// Waits (bounded) for `at_least` lines: the stand-in captures the process's output on another
/// thread, so a line written while answering can reach the capture just after the answer does.
pub fn request_log_lines(runtime: &RuntimeApi, at_least: usize) -> Vec<Value> {
    let lines = |logs: &str| -> Vec<Value> {
        logs.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["fields"].get("route").is_some())
            .collect()
    };
    let logs = runtime.logs_once(
        |logs| lines(logs).len() >= at_least,
        std::time::Duration::from_secs(5),
    );
    lines(&logs)
}
