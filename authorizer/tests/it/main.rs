//! The authorizer's integration tests: one binary (one link, one harness), one module per concern.
//! Each drives the real `authorizer` binary under the Lambda Runtime API stand-in, against a real
//! JWKS server on loopback, with tokens signed by keys generated at run time.

mod common;

mod allow;
mod concurrency;
mod config;
mod deny;
mod examples;
mod hardening;
mod hostile_input;
mod https;
mod jwks;
mod policy;
mod robustness;
mod sample_events;
mod snapshot;
