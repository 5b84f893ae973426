//! The local API's integration tests, one binary: the `local-api` binary as a user starts it, the
//! server in process, the README walkthrough byte for byte, and the Twilio token route.

mod binary;
mod local_api;
mod readme;
mod token_route;
