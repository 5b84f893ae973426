//! public
