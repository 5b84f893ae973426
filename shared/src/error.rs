//! Why a route could not answer 200, and the one place that turns that into a response.

use lambda_http::http::header::CACHE_CONTROL;
use lambda_http::http::{HeaderValue, StatusCode};
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
    /// The route refused the request for a reason of its own: `status` with the
    /// JSON body `{"error": code, "error_description": <source's message>}`. A 5xx
    /// is logged as a server fault with the source's cause chain; the client only
    /// reads the source's own message, so it must not carry details.
    #[error("refused with {code}")]
    Refused {
        /// The answer's status.
        status: StatusCode,
        /// The body's `error` code.
        code: &'static str,
        /// A short, stable reason for logs.
        reason: &'static str,
        /// Why, in words a client may read.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
        match self {
            RouteError::Unauthorized | RouteError::InsufficientScope { .. } => false,
            RouteError::Refused { status, .. } => status.is_server_error(),
            RouteError::Serialize(_) | RouteError::Http(_) | RouteError::Internal { .. } => true,
        }
    }

    /// A short, stable reason for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            RouteError::Unauthorized => "no_caller",
            RouteError::InsufficientScope { .. } => "insufficient_scope",
            RouteError::Serialize(_) => "serialize",
            RouteError::Http(_) => "build_response",
            RouteError::Refused { reason, .. }
            | RouteError::Internal {
                context: reason, ..
            } => reason,
        }
    }

    /// The client-facing answer; server faults never reveal their details.
    pub fn into_response(self) -> Response<Body> {
        match self {
            RouteError::Unauthorized => response::unauthorized(),
            RouteError::InsufficientScope { scope } => response::insufficient_scope(scope),
            RouteError::Refused {
                status,
                code,
                source,
                ..
            } => {
                let mut response = response::error(status, code, &source.to_string());
                // A refusal is about this request: no cache may answer the next one with it.
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            RouteError::Serialize(_) | RouteError::Http(_) | RouteError::Internal { .. } => {
                response::internal_error()
            }
        }
    }
}
