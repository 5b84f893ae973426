//! `local-api [--port N] [--template PATH]`: the whole API on http://127.0.0.1:3000.

use std::io::IsTerminal as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use local_api::{Environment, IssuerMode, LocalApi, Options};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
Usage: local-api [--port N] [--template PATH]

Runs every route of the SAM template on http://127.0.0.1:<port>, with the Lambda authorizer in
front of the protected ones, in one process.

Options:
  --port N          listen port (default: $PORT, else 3000; 0 picks a free one)
  --template PATH   SAM template with the routes (default: $LOCAL_API_TEMPLATE, else template.yaml)

Environment:
  JWT_ISSUER, JWT_AUDIENCE   verify tokens from this issuer (Auth0, Cognito) instead of the
                             embedded dev issuer; the /dev endpoints are then off
  RUST_LOG                   log filter (default: info)";

#[derive(Debug)]
struct Args {
    port: u16,
    template: PathBuf,
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
    environment: &Environment,
) -> Result<Args, String> {
    let mut port = environment.get("PORT").map(str::to_owned);
    let mut template = environment.get("LOCAL_API_TEMPLATE").map(str::to_owned);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" | "-p" => port = Some(value()?),
            "--template" | "-t" => template = Some(value()?),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| format!("port must be a number from 0 to 65535, got {port:?}"))?,
        None => 3000,
    };
    let template = template.map_or_else(default_template, PathBuf::from);
    Ok(Args { port, template })
}

/// `template.yaml` in the working directory, else the workspace's (for runs from elsewhere).
fn default_template() -> PathBuf {
    let here = PathBuf::from("template.yaml");
    if here.exists() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
}

#[tokio::main]
async fn main() -> ExitCode {
    // The one read of the process environment; everything below gets this snapshot.
    let environment = Environment::from_process();
    let args = match parse_args(std::env::args().skip(1), &environment) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("local-api: {message}\n");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    // Loopback only: the dev issuer mints tokens for anyone who asks.
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("local-api: cannot listen on {address}: {error} (try --port)");
            return ExitCode::FAILURE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("local-api: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options::from_environment(&args.template, environment);
    if options.issuer == IssuerMode::Dev && options.environment.get("JWT_AUDIENCE").is_some() {
        tracing::warn!("JWT_AUDIENCE is ignored without JWT_ISSUER: using the embedded dev issuer");
    }
    let api = match LocalApi::new(options, bound) {
        Ok(api) => api,
        Err(error) => {
            eprintln!("local-api: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", api.banner());
    match api.serve(listener).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-api: {error}");
            ExitCode::FAILURE
        }
    }
}
