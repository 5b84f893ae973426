//! The fuzz targets' stable pass and the policy's generated-input checks, one binary.

mod policy_documents;
mod policy_tokens;
mod targets;
