//! What API Gateway (HTTP API) does with an authorizer's answer, and the error responses it
//! sends itself. This module is the one place that decides 401 vs 403 vs 500 vs 502.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

/// A failed authorizer invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerFailure {
    /// The function failed with the message `Unauthorized` (API Gateway: 401).
    Unauthorized,
    /// Any other function error (API Gateway: 500).
    Error(String),
}

/// API Gateway's verdict on a request, from the authorizer's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Public route: the authorizer was not involved.
    Public,
    /// The authorizer allowed; its context goes to `requestContext.authorizer.lambda`.
    Allow(Map<String, Value>),
    /// No identity source (the authorizer was not called), or an `Unauthorized` failure: 401.
    Unauthorized { reason: &'static str },
    /// `isAuthorized: false` or a policy that does not allow the route: 403.
    Forbidden,
    /// The authorizer failed or answered something API Gateway cannot use: 500.
    AuthorizerError { reason: String },
}

impl Decision {
    /// The short word the access log prints.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Public => "public",
            Decision::Allow(_) => "allow",
            Decision::Unauthorized { .. } => "unauthorized",
            Decision::Forbidden => "deny",
            Decision::AuthorizerError { .. } => "authorizer_error",
        }
    }

    /// The response API Gateway sends instead of calling the route, if any.
    pub fn refusal(&self) -> Option<GatewayResponse> {
        match self {
            Decision::Public | Decision::Allow(_) => None,
            Decision::Unauthorized { .. } => Some(GatewayResponse::Unauthorized),
            Decision::Forbidden => Some(GatewayResponse::Forbidden),
            Decision::AuthorizerError { .. } => Some(GatewayResponse::AuthorizerError),
        }
    }
}

/// Reads an authorizer's answer to a payload 2.0 event as API Gateway does. Both answer styles
/// are understood: simple (`{"isAuthorized": bool, "context": {...}}`) and IAM policy
/// (`{"principalId", "policyDocument", "context"}`), whichever the authorizer is configured for.
pub fn decide(answer: Result<Value, AuthorizerFailure>, route_arn: &str) -> Decision {
    let answer = match answer {
        Ok(answer) => answer,
        Err(AuthorizerFailure::Unauthorized) => {
            return Decision::Unauthorized {
                reason: "authorizer_unauthorized",
            };
        }
        Err(AuthorizerFailure::Error(message)) => {
            return Decision::AuthorizerError {
                reason: format!("authorizer failed: {message}"),
            };
        }
    };
    let Some(object) = answer.as_object() else {
        return malformed("the answer is not a JSON object");
    };
    let context = match object.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(context)) => context.clone(),
        Some(_) => return malformed("`context` is not an object"),
    };
    if let Some(authorized) = object.get("isAuthorized") {
        return match authorized {
            Value::Bool(true) => Decision::Allow(context),
            Value::Bool(false) => Decision::Forbidden,
            _ => malformed("`isAuthorized` is not a boolean"),
        };
    }
    if let Some(policy) = object.get("policyDocument") {
        if !object.get("principalId").is_some_and(Value::is_string) {
            return malformed("a policy answer without a string `principalId`");
        }
        return match shared::iam::allows(policy, route_arn) {
            Some(true) => Decision::Allow(context),
            Some(false) => Decision::Forbidden,
            None => malformed("`policyDocument` is not a valid IAM policy"),
        };
    }
    malformed("neither `isAuthorized` nor `policyDocument`")
}

fn malformed(why: &str) -> Decision {
    Decision::AuthorizerError {
        reason: format!("malformed authorizer answer: {why}"),
    }
}

/// The responses API Gateway itself produces (not the integration's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayResponse {
    NotFound,
    Unauthorized,
    Forbidden,
    /// The authorizer failed or answered garbage.
    AuthorizerError,
    /// The integration (route handler) failed, panicked or answered garbage.
    IntegrationError,
    /// The integration did not answer in time.
    ServiceUnavailable,
    PayloadTooLarge,
    /// A request API Gateway's front end refuses before routing (bad Host header, ...).
    BadRequest,
    /// The head or body did not arrive in time.
    RequestTimeout,
    /// The request line and headers exceed HTTP API's 10 KiB.
    HeaderFieldsTooLarge,
}

impl GatewayResponse {
    pub fn status(self) -> StatusCode {
        match self {
            GatewayResponse::NotFound => StatusCode::NOT_FOUND,
            GatewayResponse::Unauthorized => StatusCode::UNAUTHORIZED,
            GatewayResponse::Forbidden => StatusCode::FORBIDDEN,
            GatewayResponse::AuthorizerError => StatusCode::INTERNAL_SERVER_ERROR,
            // Lambda docs: "If the function runs but returns an error, or returns a response in
            // the wrong format, API Gateway returns a 502."
            GatewayResponse::IntegrationError => StatusCode::BAD_GATEWAY,
            GatewayResponse::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            GatewayResponse::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayResponse::BadRequest => StatusCode::BAD_REQUEST,
            GatewayResponse::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            GatewayResponse::HeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            GatewayResponse::NotFound => "Not Found",
            GatewayResponse::Unauthorized => "Unauthorized",
            GatewayResponse::Forbidden => "Forbidden",
            GatewayResponse::AuthorizerError | GatewayResponse::IntegrationError => {
                "Internal Server Error"
            }
            GatewayResponse::ServiceUnavailable => "Service Unavailable",
            GatewayResponse::PayloadTooLarge => "Request Entity Too Large",
            GatewayResponse::BadRequest => "Bad Request",
            GatewayResponse::RequestTimeout => "Request Timeout",
            GatewayResponse::HeaderFieldsTooLarge => "Request Header Fields Too Large",
        }
    }
}

impl IntoResponse for GatewayResponse {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message() }).to_string();
        let mut response = (self.status(), body).into_response();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/private";

    fn policy(effect: &str, resource: Value) -> Value {
        json!({
            "principalId": "alice",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]
            },
            "context": {"sub": "alice"}
        })
    }

    #[test]
    fn simple_allow_carries_context() {
        let decision = decide(
            Ok(json!({"isAuthorized": true, "context": {"sub": "alice", "n": 1}})),
            ARN,
        );
        let Decision::Allow(context) = decision else {
            panic!("expected allow, got {decision:?}")
        };
        assert_eq!(context["sub"], "alice");
        assert_eq!(context["n"], 1);
    }

    #[test]
    fn simple_deny_is_forbidden() {
        assert_eq!(
            decide(Ok(json!({"isAuthorized": false, "context": {}})), ARN),
            Decision::Forbidden
        );
    }

    #[test]
    fn unauthorized_failure_is_401_other_failures_500() {
        assert_eq!(
            decide(Err(AuthorizerFailure::Unauthorized), ARN).label(),
            "unauthorized"
        );
        assert_eq!(
            decide(Err(AuthorizerFailure::Error("boom".into())), ARN).label(),
            "authorizer_error"
        );
    }

    #[test]
    fn malformed_answers_are_authorizer_errors() {
        for answer in [
            json!("allow"),
            json!({"isAuthorized": "true"}),
            json!({"isAuthorized": true, "context": "x"}),
            json!({}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}}),
            json!({"policyDocument": {"Statement": []}}),
        ] {
            let decision = decide(Ok(answer.clone()), ARN);
            assert_eq!(decision.label(), "authorizer_error", "{answer}");
        }
    }

    #[test]
    fn policy_answers_are_read_as_api_gateway_reads_them() {
        let stage_wide = "arn:aws:execute-api:us-east-1:123456789012:local/$default/*";
        assert!(matches!(
            decide(Ok(policy("Allow", json!(stage_wide))), ARN),
            Decision::Allow(_)
        ));
        assert_eq!(
            decide(Ok(policy("Deny", json!("*"))), ARN),
            Decision::Forbidden
        );
    }

    #[test]
    fn gateway_responses_match_api_gateway() {
        assert_eq!(GatewayResponse::NotFound.status(), 404);
        assert_eq!(GatewayResponse::NotFound.message(), "Not Found");
        assert_eq!(GatewayResponse::AuthorizerError.status(), 500);
        assert_eq!(GatewayResponse::IntegrationError.status(), 502);
        assert_eq!(
            GatewayResponse::IntegrationError.message(),
            "Internal Server Error"
        );
    }
}
