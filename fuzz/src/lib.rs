//! The bodies of the fuzz targets, as plain functions over bytes.
//!
//! Each body feeds attacker-shaped input to the real code and asserts what must hold for every
//! input (a panic is a finding): no crash, and no allow the rules do not grant. libFuzzer runs
//! them coverage-guided through `fuzz/libfuzzer` (`make fuzz`, nightly features via
//! `RUSTC_BOOTSTRAP=1`); `make test` runs them on stable over the committed corpus, the committed
//! regressions and a bounded number of generated inputs (`fuzz/tests/it/targets.rs`), so they cannot
//! rot.
//!
//! | target | body | what it holds to |
//! |---|---|---|
//! | `token` | [`token::run`] | token parser and verifier: never an allow for an unsigned token; a signed one only with valid claims |
//! | `event` | [`event::run`] | reading the event as its format's type, and token extraction, for every format: any allow without a valid token is the anonymous allow of a public, plain path |
//! | `path_rules` | [`path_rules::run`] | normalisation is idempotent, equivalent spellings decide alike, no path is both ambiguous and public |
//! | `config_document` | [`config_document::run`] | the configuration parser never panics, never echoes a secret, never accepts a mapping onto a reserved key |
//!
//! | `local_request` | [`local_request::run`] | the local API's request-to-event conversion: an error or both events, never a panic |

pub mod config_document;
pub mod event;
pub mod local_request;
pub mod path_rules;
mod setup;
pub mod token;

/// The names of the targets, as `fuzz/libfuzzer` and the corpus directories know them.
pub const TARGETS: &[&str] = &[
    "token",
    "event",
    "path_rules",
    "config_document",
    "local_request",
];

/// Runs the body of target `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "token" => token::run(data),
        "event" => event::run(data),
        "path_rules" => path_rules::run(data),
        "config_document" => config_document::run(data),
        "local_request" => local_request::run(data),
        _ => return false,
    }
    true
}
