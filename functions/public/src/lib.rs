//! `GET /public`: answers everyone, no caller needed.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use shared::response;

/// The route, as logged.
pub const ROUTE: &str = "/public";

/// `200 Hello stranger!` (text/plain) for any request.
pub async fn handler(req: Request) -> Result<Response<Body>, Error> {
    Ok(shared::handle(ROUTE, &req, |_, _| {
        Ok(response::text(StatusCode::OK, "Hello stranger!"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::fixtures::{self, event, request};

    #[tokio::test]
    async fn public_greets_stranger_from_every_event_shape() {
        for (name, json) in fixtures::ALL {
            let response = handler(request(&event(json)))
                .await
                .expect("no runtime error");
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(
                response.headers()["content-type"],
                "text/plain; charset=utf-8",
                "{name}"
            );
            assert!(
                matches!(response.body(), Body::Text(t) if t == "Hello stranger!"),
                "{name}"
            );
        }
    }
}
