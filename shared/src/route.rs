//! Running a route: read the caller, answer, and log one line about it.

use std::time::Instant;

use lambda_http::{Body, Request, Response};
use tracing::{error, info};

use crate::caller::{Caller, caller};
use crate::error::RouteError;

/// Runs a route's logic and turns its outcome into a response, logging exactly one
/// line per request: `route`, `method`, `status`, `sub` (when known), `elapsed_ms`,
/// and for failures a `reason` (server faults at error level with the cause chain).
/// Never logs a token: the request's headers are not looked at here.
pub fn handle<F>(route: &'static str, req: &Request, answer: F) -> Response<Body>
where
    F: FnOnce(&Request, Option<&Caller>) -> Result<Response<Body>, RouteError>,
{
    let started = Instant::now();
    let caller = caller(req);
    let outcome = answer(req, caller.as_ref());
    let sub = caller.as_ref().map(|c| c.sub.as_str());
    let method = req.method().as_str();
    match outcome {
        Ok(response) => {
            let status = response.status().as_u16();
            info!(
                route,
                method,
                status,
                sub,
                elapsed_ms = elapsed_ms(started),
                "request handled"
            );
            response
        }
        Err(err) => {
            let reason = err.reason();
            let server_fault = err.is_server_fault();
            let chain = server_fault.then(|| error_chain(&err));
            let response = err.into_response();
            let status = response.status().as_u16();
            let elapsed_ms = elapsed_ms(started);
            if let Some(chain) = chain {
                error!(route, method, status, sub, elapsed_ms, reason, error = %chain, "request failed");
            } else {
                info!(
                    route,
                    method, status, sub, elapsed_ms, reason, "request denied"
                );
            }
            response
        }
    }
}

fn elapsed_ms(started: Instant) -> f64 {
    // Microsecond resolution is plenty and keeps the log line short.
    (started.elapsed().as_micros() as f64) / 1000.0
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response;
    use lambda_http::http::StatusCode;

    fn request_with_caller() -> Request {
        crate::fixtures::request(&crate::fixtures::event(crate::fixtures::HTTP_API_JWT_AUTH0))
    }

    #[test]
    fn handle_passes_the_caller_to_the_route() {
        let response = handle("/t", &request_with_caller(), |_, caller| {
            Ok(response::text(
                StatusCode::OK,
                caller.map_or("none", |c| c.sub.as_str()).to_owned(),
            ))
        });
        assert!(matches!(response.body(), Body::Text(t) if t == "auth0|alice"));
    }

    #[test]
    fn handle_maps_errors_to_their_responses() {
        let req = request_with_caller();
        let status = |err: fn() -> RouteError| handle("/t", &req, |_, _| Err(err())).status();
        assert_eq!(
            status(|| RouteError::Unauthorized),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(|| RouteError::InsufficientScope { scope: "x" }),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(|| RouteError::internal("loading data", std::io::Error::other("disk"))),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn refusals_answer_their_status_code_and_message_uncached() {
        let req = request_with_caller();
        let refused = |status| {
            handle("/t", &req, |_, _| {
                Err(RouteError::Refused {
                    status,
                    code: "invalid_request",
                    reason: "bad_room",
                    source: "room must be given once".into(),
                })
            })
        };
        let response = refused(StatusCode::BAD_REQUEST);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).unwrap(),
            serde_json::json!({
                "error": "invalid_request",
                "error_description": "room must be given once"
            })
        );
        assert_eq!(
            refused(StatusCode::SERVICE_UNAVAILABLE).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn only_5xx_refusals_are_server_faults() {
        let refused = |status| RouteError::Refused {
            status,
            code: "c",
            reason: "r",
            source: "why".into(),
        };
        assert!(!refused(StatusCode::FORBIDDEN).is_server_fault());
        assert!(refused(StatusCode::SERVICE_UNAVAILABLE).is_server_fault());
        assert_eq!(refused(StatusCode::FORBIDDEN).reason(), "r");
    }

    #[test]
    fn error_chain_includes_every_cause() {
        let err = RouteError::internal("loading data", std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&err), "loading data: disk on fire");
    }
}
