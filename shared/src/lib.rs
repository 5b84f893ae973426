//! What the route functions share: the caller read from any API Gateway authorizer
//! (claims restored to JSON types, scopes united), the error-to-response mapping,
//! JSON/RFC 6750 responses, and one log line per request.
//!
//! A route is a few lines:
//! ```
//! use lambda_http::{Body, Error, Request, Response, http::StatusCode};
//! use shared::{RouteError, require_caller, response};
//!
//! pub async fn handler(req: Request) -> Result<Response<Body>, Error> {
//!     Ok(shared::handle("/private", &req, |_, caller| {
//!         let caller = require_caller(caller)?;
//!         Ok(response::text(StatusCode::OK, format!("Hello {}!", caller.sub)))
//!     }))
//! }
//! # let _ = RouteError::Unauthorized;
//! ```

#[cfg(feature = "http")]
pub mod caller;
pub mod claims;
pub mod context;
#[cfg(feature = "http")]
mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod iam;
#[cfg(feature = "http")]
pub mod response;
#[cfg(feature = "http")]
mod route;
pub mod scopes;

#[cfg(feature = "http")]
pub use caller::{Caller, caller, require_caller};
#[cfg(feature = "http")]
pub use error::RouteError;
#[cfg(feature = "http")]
pub use route::handle;
