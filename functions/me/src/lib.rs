//! me
