//! shows
