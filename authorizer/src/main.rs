//! Lambda entry point: parse configuration, warm the key cache, serve events.
//! A configuration error is reported to the Lambda Runtime API as an init error and the
//! process exits non-zero: the authorizer never starts serving with a bad configuration.

use authorizer::{Authorizer, Config};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    authorizer::logging::init();

    let authorizer = match Config::from_env().and_then(Authorizer::new) {
        Ok(authorizer) => authorizer,
        Err(err) => {
            tracing::error!(variable = %err.var, error = %err, "invalid configuration; refusing to start");
            report_init_error(&err.to_string()).await;
            std::process::exit(1);
        }
    };
    authorizer.warm_up().await;

    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        authorizer.handle(event.payload).await
    }))
    .await
}

/// POSTs to `/runtime/init/error` so Lambda shows the message as the init failure.
/// lambda_runtime 1.5 only reports init errors of its own (SnapStart hooks), so this is done
/// here with the HTTP client we already link.
async fn report_init_error(message: &str) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body =
        serde_json::json!({"errorType": "Runtime.ConfigurationError", "errorMessage": message});
    // The Runtime API is plain http on the sandbox's loopback: no TLS roots needed (a default
    // client loads the system's CA certificates, and panics when there are none).
    let client = match reqwest::Client::builder()
        .tls_certs_only([])
        .timeout(std::time::Duration::from_secs(2))
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "could not report the init error to the Lambda Runtime API");
            return;
        }
    };
    let result = client
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.ConfigurationError",
        )
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await;
    if let Err(err) = result {
        tracing::error!(error = %err, "could not report the init error to the Lambda Runtime API");
    }
}
