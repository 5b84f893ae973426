//! The token route's integration tests, one binary: real API Gateway events in process, and the built binary under the Runtime API stand-in.

mod handler;
mod runtime;
