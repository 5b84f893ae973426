//! The test kit's own tests, one binary: keys and forgeries, the stand-in IdP, the Runtime API stand-in.

mod jwks_server;
mod keys;
mod runtime;
