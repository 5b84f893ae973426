//! A tiny Lambda function for testing the Runtime API stand-in itself, built on the real
//! `lambda_runtime` client so the stand-in is checked against what our functions use.
//!
//! Events: `{"echo": v}` answers `v`; `{"fail": "msg"}` answers an error; `{"exit": code}` exits.
//! With `ECHO_INIT_FAIL` set, init fails before the runtime loop starts.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, _context) = event.into_parts();
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(message.into());
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    Ok(payload.get("echo").cloned().unwrap_or(Value::Null))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if let Ok(variable) = std::env::var("ECHO_INIT_FAIL") {
        return Err(format!("invalid configuration: {variable} is required").into());
    }
    lambda_runtime::run(service_fn(handle)).await
}
