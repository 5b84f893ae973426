//! The `me` Lambda function: wiring only, the route lives in the library.

use lambda_http::{Error, run, service_fn, tracing};

// One request at a time per execution environment: a single-threaded runtime
// starts faster and uses less memory than the multi-threaded default.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(me::handler)).await
}
