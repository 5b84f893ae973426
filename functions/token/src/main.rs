//! The `token` Lambda function: wiring only, the route lives in the library.

use lambda_http::{Error, Request, run, service_fn, tracing};
use token::TokenRoute;

// One request at a time per execution environment: a single-threaded runtime
// starts faster and uses less memory than the multi-threaded default.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // Parsed once per cold start; a broken configuration makes this route
    // answer 503 rather than fail the init, so the error is readable by clients.
    let route = TokenRoute::from_env();
    let route = &route;
    run(service_fn(move |req: Request| route.handle(req))).await
}
