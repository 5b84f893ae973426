//! `GET /shows`: the bundled catalogue, for callers holding `read:shows`.

pub mod catalogue;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use shared::{RouteError, require_caller, response};

/// The route, as logged.
pub const ROUTE: &str = "/shows";
/// The scope the route requires.
pub const REQUIRED_SCOPE: &str = "read:shows";

/// `200 [{id, name, url}, ...]`, filtered by `?q=` (case-insensitive substring of the
/// name); 401 without a caller, 403 without `read:shows`.
pub async fn handler(req: Request) -> Result<Response<Body>, Error> {
    Ok(shared::handle(ROUTE, &req, |req, caller| {
        require_caller(caller)?.require_scope(REQUIRED_SCOPE)?;
        let shows = catalogue::all()
            .map_err(|err| RouteError::internal("loading the show catalogue", err))?;
        let query = req
            .query_string_parameters_ref()
            .and_then(|params| params.first("q"))
            .unwrap_or_default();
        Ok(response::json(
            StatusCode::OK,
            &catalogue::search(shows, query),
        )?)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shared::fixtures::{self, event, request, with_authorizer};

    async fn call(event: &Value) -> (Response<Body>, Value) {
        let response = handler(request(event)).await.expect("no runtime error");
        assert_eq!(response.headers()["content-type"], "application/json");
        let Body::Text(text) = response.body() else {
            panic!("text body expected")
        };
        let body = serde_json::from_str(text).expect("JSON body");
        (response, body)
    }

    fn names(body: &Value) -> Vec<&str> {
        body.as_array()
            .expect("array")
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect()
    }

    /// An HTTP API event with a JWT authorizer granting `scope`, asking `?{query}`.
    fn http_event(scope: &str, query: &str) -> Value {
        let mut event = with_authorizer(
            event(fixtures::HTTP_API_JWT_AUTH0),
            Some(json!({"jwt": {"claims": {"sub": "alice", "scope": scope}}})),
        );
        event["rawQueryString"] = json!(query);
        event
            .as_object_mut()
            .unwrap()
            .remove("queryStringParameters");
        event
    }

    #[tokio::test]
    async fn shows_filters_http_api_query_case_insensitively() {
        let (response, body) = call(&event(fixtures::HTTP_API_JWT_AUTH0)).await;
        assert_eq!(response.status(), StatusCode::OK);
        // The fixture asks ?q=the.
        let names = names(&body);
        assert!(names.contains(&"The Wire") && names.contains(&"Under the Dome"));
        assert!(
            names.iter().all(|n| n.to_lowercase().contains("the")),
            "{names:?}"
        );
        assert!(!names.contains(&"Friends") && !names.contains(&"Breaking Bad"));
    }

    #[tokio::test]
    async fn shows_returns_id_name_url_objects() {
        let (_, body) = call(&http_event("read:shows", "q=sherlock")).await;
        assert_eq!(
            body,
            json!([{"id": 335, "name": "Sherlock", "url": "https://www.tvmaze.com/shows/335/sherlock"}])
        );
    }

    #[tokio::test]
    async fn shows_without_query_returns_whole_catalogue() {
        let (_, body) = call(&http_event("read:shows", "")).await;
        assert_eq!(
            body.as_array().unwrap().len(),
            catalogue::all().unwrap().len()
        );
    }

    #[tokio::test]
    async fn shows_query_is_percent_decoded() {
        let (_, body) = call(&http_event("read:shows", "q=THE%20OFFICE")).await;
        assert_eq!(names(&body), ["The Office"]);
        let (_, body) = call(&http_event("read:shows", "q=the+wire")).await;
        assert_eq!(names(&body), ["The Wire"]);
    }

    #[tokio::test]
    async fn shows_unmatched_query_is_empty_array() {
        let (response, body) = call(&http_event("read:shows", "q=zzz")).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body, json!([]));
    }

    #[tokio::test]
    async fn shows_reads_rest_api_query_and_scp_scope() {
        // REST fixture: principal carol, scp ["read:shows"], ?q=the.
        let (response, body) = call(&event(fixtures::REST_LAMBDA)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            names(&body)
                .iter()
                .all(|n| n.to_lowercase().contains("the"))
        );
        assert!(!body.as_array().unwrap().is_empty());
    }

    #[tokio::test]
    async fn shows_with_lambda_authorizer_permissions_is_allowed() {
        let (response, _) = call(&event(fixtures::HTTP_API_LAMBDA)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn shows_without_caller_is_401() {
        for json in [
            fixtures::HTTP_API_NO_AUTHORIZER,
            fixtures::SAM_AWS_PROXY,
            fixtures::SAM_HTTP_API_PROXY,
        ] {
            let (response, body) = call(&event(json)).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"api\""
            );
            assert_eq!(body["error"], "unauthorized");
        }
    }

    #[tokio::test]
    async fn shows_without_exact_scope_is_403() {
        for scope in [
            "",
            "openid",
            "read:showsX",
            "xread:shows",
            "write:shows",
            "READ:SHOWS",
        ] {
            let (response, body) = call(&http_event(scope, "")).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{scope}");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer error=\"insufficient_scope\", scope=\"read:shows\""
            );
            assert_eq!(
                body,
                json!({"error": "access_denied", "error_description": "Token does not contain the required 'read:shows' scope"})
            );
        }
        // Cognito REST user pool claims carry no scope at all.
        let (response, _) = call(&event(fixtures::REST_COGNITO)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
