//! Lambda entry point: parse configuration, warm the key cache, serve events.
//! A configuration error is reported to the Lambda Runtime API as an init error and the
//! process exits non-zero: the authorizer never starts serving with a bad configuration.
//!
//! `authorizer jwks-snapshot <file>` (what `make jwks-snapshot` runs) instead fetches the
//! configured issuers' keys once and writes them to `<file>` for `JWKS_SNAPSHOT_FILE`.

use std::path::Path;
use std::sync::Arc;

use authorizer::{Authorizer, Config};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

fn main() -> Result<(), lambda_runtime::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, out] = args.as_slice()
        && command == "jwks-snapshot"
    {
        return current_thread()?.block_on(write_snapshot(Path::new(out)));
    }
    if !args.is_empty() {
        eprintln!("usage: authorizer (as a Lambda bootstrap) | authorizer jwks-snapshot <file>");
        std::process::exit(2);
    }
    // Lambda Managed Instances give one environment several invocations at once and say how
    // many in this variable; lambda_runtime then polls with that many workers, which a
    // multi-threaded runtime spreads over the instance's vCPUs. Without it (classic Lambda:
    // one invocation at a time), one thread does everything, as it always has.
    let concurrent = std::env::var("AWS_LAMBDA_MAX_CONCURRENCY")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|n| n > 1);
    let runtime = if concurrent {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        current_thread()?
    };
    runtime.block_on(serve())
}

fn current_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

async fn serve() -> Result<(), lambda_runtime::Error> {
    authorizer::init_logging();

    let authorizer = match Config::from_env().and_then(Authorizer::new) {
        Ok(authorizer) => Arc::new(authorizer),
        Err(err) => {
            tracing::error!(variable = %err.var, error = %err, "invalid configuration; refusing to start");
            report_init_error(&err.to_string()).await;
            std::process::exit(1);
        }
    };
    authorizer.warm_up().await;

    // Sequential unless AWS_LAMBDA_MAX_CONCURRENCY > 1 (then one poller per slot); the same
    // tracing layer as `lambda_runtime::run`.
    lambda_runtime::Runtime::new(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.handle(event.payload).await }
    }))
    .layer(lambda_runtime::layers::TracingLayer::new())
    .run_concurrent()
    .await
}

/// Fetches and validates every issuer's keys, then writes the snapshot (atomically: a
/// half-written file must never be deployed).
async fn write_snapshot(out: &Path) -> Result<(), lambda_runtime::Error> {
    authorizer::init_logging();
    let authorizer = Authorizer::new(Config::from_env()?)?;
    let snapshot = authorizer.snapshot().await?;
    if snapshot.issuers.is_empty() {
        return Err(
            "no issuer fetches its keys (inline or HMAC keys only): nothing to snapshot".into(),
        );
    }
    let mut text = serde_json::to_vec_pretty(&snapshot)?;
    text.push(b'\n');
    let partial = out.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, out)?;
    eprintln!(
        "wrote {} ({} issuer(s)); deploy it with the function and set JWKS_SNAPSHOT_FILE",
        out.display(),
        snapshot.issuers.len()
    );
    Ok(())
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
