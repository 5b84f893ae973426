//! private
