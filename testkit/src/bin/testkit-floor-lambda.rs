//! The second floor of the runtime-overhead benchmark: what `lambda_runtime` itself costs per
//! invocation, run as the authorizer runs it (release profile, the same patched lambda_runtime,
//! a current-thread tokio runtime, `Runtime::run_concurrent` with the tracing layer), with a
//! handler that does no work: it answers every event with a fixed allow.

use lambda_runtime::{Error, LambdaEvent, Runtime, layers::TracingLayer, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    Runtime::new(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"isAuthorized": true, "context": {}}))
    }))
    .layer(TracingLayer::new())
    .run_concurrent()
    .await
}
