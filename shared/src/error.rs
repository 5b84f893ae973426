//! Why a route could not answer 200, and the one place that turns that into a response.

use lambda_http::{Body, Response};

use crate::response;

/// Failures of a route handler. [`RouteError::into_response`] is the only code
/// that decides between 401, 403 and 500.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The route needs a caller and no authorizer vouched for one.
    #[error("no authenticated caller in the request context")]
    Unauthorized,
    /// The caller is authenticated but lacks the scope the route requires.
    #[error("caller lacks the required scope {scope:?}")]
    InsufficientScope {
        /// The scope the route requires.
        scope: &'static str,
    },
    /// A response body could not be serialised.
    #[error("could not serialise the response body")]
    Serialize(#[from] serde_json::Error),
    /// A response could not be assembled (invalid header value, ...).
    #[error("could not build the response")]
    Http(#[from] lambda_http::http::Error),
    /// Any other failure on our side (a route's own data, a dependency).
    #[error("{context}")]
    Internal {
        /// What we were doing.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl RouteError {
    /// Wraps a failure on our side with what we were doing.
    pub fn internal(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        RouteError::Internal {
            context,
            source: source.into(),
        }
    }

    /// Whether this is our fault (500) rather than the client's (4xx).
    pub fn is_server_fault(&self) -> bool {
        !matches!(
            self,
            RouteError::Unauthorized | RouteError::InsufficientScope { .. }
        )
    }

    /// A short, stable reason for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            RouteError::Unauthorized => "no_caller",
            RouteError::InsufficientScope { .. } => "insufficient_scope",
            RouteError::Serialize(_) => "serialize",
            RouteError::Http(_) => "build_response",
            RouteError::Internal { context, .. } => context,
        }
    }

    /// The client-facing answer; server faults never reveal their details.
    pub fn into_response(self) -> Response<Body> {
        match self {
            RouteError::Unauthorized => response::unauthorized(),
            RouteError::InsufficientScope { scope } => response::insufficient_scope(scope),
            RouteError::Serialize(_) | RouteError::Http(_) | RouteError::Internal { .. } => {
                response::internal_error()
            }
        }
    }
}
