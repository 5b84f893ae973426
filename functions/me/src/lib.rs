//! `GET /me`: the authenticated caller's subject, scopes and claims.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use shared::{require_caller, response};

/// The route, as logged.
pub const ROUTE: &str = "/me";

/// `200 {"sub", "scopes": [...], "claims": {...}}` with claims restored to their JSON
/// types (see `shared::claims`); 401 without a caller.
pub async fn handler(req: Request) -> Result<Response<Body>, Error> {
    Ok(shared::handle(ROUTE, &req, |_, caller| {
        let caller = require_caller(caller)?;
        Ok(response::json(StatusCode::OK, caller)?)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shared::fixtures::{self, event, request};

    async fn call(json: &str) -> (StatusCode, Value) {
        let response = handler(request(&event(json)))
            .await
            .expect("no runtime error");
        assert_eq!(response.headers()["content-type"], "application/json");
        let Body::Text(text) = response.body() else {
            panic!("text body expected")
        };
        (
            response.status(),
            serde_json::from_str(text).expect("JSON body"),
        )
    }

    #[tokio::test]
    async fn me_returns_restored_jwt_authorizer_claims() {
        let (status, body) = call(fixtures::HTTP_API_JWT_AUTH0).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["sub"], "auth0|alice");
        assert_eq!(
            body["scopes"],
            json!(["openid", "profile", "read:shows", "write:shows"])
        );
        assert_eq!(body["claims"]["exp"], json!(1_700_086_400));
        assert_eq!(
            body["claims"]["aud"],
            json!([
                "https://api.example.com",
                "https://example.eu.auth0.com/userinfo"
            ])
        );
        assert_eq!(
            body["claims"]["permissions"],
            json!(["read:shows", "write:shows"])
        );
        assert_eq!(body["claims"]["phone_number"], json!("15551234567"));
        assert_eq!(
            body["claims"]["https://example.com/employee_id"],
            json!("007")
        );
        assert_eq!(
            body.as_object().unwrap().len(),
            3,
            "exactly sub, scopes, claims"
        );
    }

    #[tokio::test]
    async fn me_returns_lambda_authorizer_context_with_json_types() {
        let (status, body) = call(fixtures::HTTP_API_LAMBDA).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["sub"], "auth0|bob");
        assert_eq!(
            body["claims"]["https://example.com/app_metadata"],
            json!({"plan": "pro", "seats": 3})
        );
        assert_eq!(body["claims"]["email_verified"], json!(true));
        assert_eq!(body["claims"]["https://example.com/badge"], json!("12345"));
    }

    #[tokio::test]
    async fn me_returns_rest_authorizer_claims() {
        let (status, body) = call(fixtures::REST_LAMBDA).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["sub"], "auth0|carol");
        assert_eq!(body["scopes"], json!(["openid", "read:shows"]));
        assert_eq!(
            body["claims"]["https://example.com/roles"],
            json!(["editor", "viewer"])
        );
        assert_eq!(body["claims"].get("principalId"), None);
    }

    #[tokio::test]
    async fn me_without_caller_is_401() {
        for json in [
            fixtures::HTTP_API_NO_AUTHORIZER,
            fixtures::SAM_AWS_PROXY,
            fixtures::AWS_EVENTS_V2_LAMBDA,
        ] {
            let (status, body) = call(json).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"], "unauthorized");
        }
    }
}
