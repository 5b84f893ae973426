//! Real API Gateway events (SAM CLI generated, `aws_lambda_events`' own, and ones
//! derived from them with each authorizer's context; see `tests/fixtures/README.md`),
//! for tests of the route crates. Only built with the `fixtures` feature.

use lambda_http::Request;
use serde_json::Value;

macro_rules! fixture {
    ($(#[$doc:meta])* $name:ident, $file:literal) => {
        $(#[$doc])*
        pub const $name: &str = include_str!(concat!("../tests/fixtures/", $file));
    };
}

fixture!(
    /// HTTP API, JWT authorizer, Auth0 access token: stringified arrays and numbers, `scopes` list; `GET /shows?q=the`.
    HTTP_API_JWT_AUTH0, "http-api-jwt-authorizer-auth0.json"
);
fixture!(
    /// HTTP API, JWT authorizer, Cognito access token; `GET /me`.
    HTTP_API_JWT_COGNITO, "http-api-jwt-authorizer-cognito.json"
);
fixture!(
    /// HTTP API, our Lambda authorizer's `lambda` context; `GET /me`.
    HTTP_API_LAMBDA, "http-api-lambda-authorizer.json"
);
fixture!(
    /// HTTP API route without an authorizer; `GET /public`.
    HTTP_API_NO_AUTHORIZER, "http-api-no-authorizer.json"
);
fixture!(
    /// HTTP API payload 1.0 (REST shape) with a JWT authorizer; `GET /private`.
    HTTP_API_V1_JWT, "http-api-v1-jwt-authorizer.json"
);
fixture!(
    /// REST API, Lambda authorizer: `principalId` plus string context; `GET /shows`.
    REST_LAMBDA, "rest-lambda-authorizer.json"
);
fixture!(
    /// REST API, Cognito user pool authorizer (`claims` map); `GET /me`.
    REST_COGNITO, "rest-cognito-authorizer.json"
);
fixture!(
    /// `sam local generate-event apigateway http-api-proxy`: JWT claims without a subject.
    SAM_HTTP_API_PROXY, "sam-http-api-proxy.json"
);
fixture!(
    /// `sam local generate-event apigateway aws-proxy`: no authorizer.
    SAM_AWS_PROXY, "sam-aws-proxy.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-request.json`: REST, `principalId` "admin", numeric context.
    AWS_EVENTS_REST, "aws-lambda-events-apigw-request.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-v2-request-jwt-authorizer.json`: claims without a subject.
    AWS_EVENTS_V2_JWT, "aws-lambda-events-apigw-v2-request-jwt-authorizer.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-v2-request-lambda-authorizer.json`: context without a subject.
    AWS_EVENTS_V2_LAMBDA, "aws-lambda-events-apigw-v2-request-lambda-authorizer.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-v2-request-no-authorizer.json`.
    AWS_EVENTS_V2_NO_AUTHORIZER, "aws-lambda-events-apigw-v2-request-no-authorizer.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-v2-request-iam.json`: IAM authorizer, no JWT caller.
    AWS_EVENTS_V2_IAM, "aws-lambda-events-apigw-v2-request-iam.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-sam-rest-request.json`.
    AWS_EVENTS_SAM_REST, "aws-lambda-events-apigw-sam-rest-request.json"
);
fixture!(
    /// aws_lambda_events `example-apigw-sam-http-request.json`.
    AWS_EVENTS_SAM_HTTP, "aws-lambda-events-apigw-sam-http-request.json"
);

/// Every fixture, by file name.
pub const ALL: &[(&str, &str)] = &[
    ("http-api-jwt-authorizer-auth0.json", HTTP_API_JWT_AUTH0),
    ("http-api-jwt-authorizer-cognito.json", HTTP_API_JWT_COGNITO),
    ("http-api-lambda-authorizer.json", HTTP_API_LAMBDA),
    ("http-api-no-authorizer.json", HTTP_API_NO_AUTHORIZER),
    ("http-api-v1-jwt-authorizer.json", HTTP_API_V1_JWT),
    ("rest-lambda-authorizer.json", REST_LAMBDA),
    ("rest-cognito-authorizer.json", REST_COGNITO),
    ("sam-http-api-proxy.json", SAM_HTTP_API_PROXY),
    ("sam-aws-proxy.json", SAM_AWS_PROXY),
    ("aws-lambda-events-apigw-request.json", AWS_EVENTS_REST),
    (
        "aws-lambda-events-apigw-v2-request-jwt-authorizer.json",
        AWS_EVENTS_V2_JWT,
    ),
    (
        "aws-lambda-events-apigw-v2-request-lambda-authorizer.json",
        AWS_EVENTS_V2_LAMBDA,
    ),
    (
        "aws-lambda-events-apigw-v2-request-no-authorizer.json",
        AWS_EVENTS_V2_NO_AUTHORIZER,
    ),
    (
        "aws-lambda-events-apigw-v2-request-iam.json",
        AWS_EVENTS_V2_IAM,
    ),
    (
        "aws-lambda-events-apigw-sam-rest-request.json",
        AWS_EVENTS_SAM_REST,
    ),
    (
        "aws-lambda-events-apigw-sam-http-request.json",
        AWS_EVENTS_SAM_HTTP,
    ),
];

/// Parses a fixture (or any event JSON) as JSON, to edit it before [`request`].
pub fn event(json: &str) -> Value {
    serde_json::from_str(json).expect("fixture is valid JSON")
}

/// Turns an event into the `Request` a handler receives, exactly as the runtime does
/// (`lambda_http`'s deserialisation of `LambdaRequest`).
pub fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string())
        .expect("event is an API Gateway event lambda_http accepts")
}

/// Sets `requestContext.authorizer` of an event (HTTP API or REST shape); `None` removes it.
pub fn with_authorizer(mut event: Value, authorizer: Option<Value>) -> Value {
    let context = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
        .expect("event has a requestContext object");
    match authorizer {
        Some(authorizer) => context.insert("authorizer".to_owned(), authorizer),
        None => context.remove("authorizer"),
    };
    event
}
