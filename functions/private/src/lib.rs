//! `GET /private`: greets the authenticated caller by subject.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use shared::{require_caller, response};

/// The route, as logged.
pub const ROUTE: &str = "/private";

/// `200 Hello {sub}!` (text/plain); 401 without a caller.
pub async fn handler(req: Request) -> Result<Response<Body>, Error> {
    Ok(shared::handle(ROUTE, &req, |_, caller| {
        let caller = require_caller(caller)?;
        Ok(response::text(
            StatusCode::OK,
            format!("Hello {}!", caller.sub),
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shared::fixtures::{self, event, request, with_authorizer};

    async fn call(event: &Value) -> Response<Body> {
        handler(request(event)).await.expect("no runtime error")
    }

    fn text(response: &Response<Body>) -> &str {
        match response.body() {
            Body::Text(t) => t,
            other => panic!("text body expected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn private_greets_caller_from_each_authorizer() {
        for (json, sub) in [
            (fixtures::HTTP_API_JWT_AUTH0, "auth0|alice"),
            (
                fixtures::HTTP_API_JWT_COGNITO,
                "5f1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
            ),
            (fixtures::HTTP_API_LAMBDA, "auth0|bob"),
            (fixtures::REST_LAMBDA, "auth0|carol"),
            (
                fixtures::REST_COGNITO,
                "9a8b7c6d-5e4f-4321-8765-0fedcba98765",
            ),
            (fixtures::HTTP_API_V1_JWT, "erin"),
            (fixtures::AWS_EVENTS_REST, "admin"),
        ] {
            let response = call(&event(json)).await;
            assert_eq!(response.status(), StatusCode::OK, "{sub}");
            assert_eq!(
                response.headers()["content-type"],
                "text/plain; charset=utf-8"
            );
            assert_eq!(text(&response), format!("Hello {sub}!"));
        }
    }

    #[tokio::test]
    async fn private_without_caller_is_401() {
        for json in [
            fixtures::HTTP_API_NO_AUTHORIZER,
            fixtures::SAM_HTTP_API_PROXY,
            fixtures::SAM_AWS_PROXY,
            fixtures::AWS_EVENTS_V2_IAM,
            fixtures::AWS_EVENTS_V2_JWT,
        ] {
            let response = call(&event(json)).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"api\""
            );
            let body: Value = serde_json::from_str(text(&response)).unwrap();
            assert_eq!(body["error"], "unauthorized");
        }
    }

    #[tokio::test]
    async fn private_does_not_trust_a_forged_authorization_header() {
        // A client can send any header; only the authorizer's context counts.
        let mut event = with_authorizer(event(fixtures::HTTP_API_NO_AUTHORIZER), None);
        event["headers"]["authorization"] =
            json!("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.");
        event["headers"]["x-amzn-oidc-identity"] = json!("mallory");
        assert_eq!(call(&event).await.status(), StatusCode::UNAUTHORIZED);
    }
}
