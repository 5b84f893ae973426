//! Authorizer event reading (the format's `aws_lambda_events` type) and token extraction, for
//! every event format.
//!
//! The bytes are an event (JSON); anything that is not JSON is used as the `Authorization` value
//! of each real fixture event instead. No input can hold a valid token (the process's key is new
//! on every run), so any allow must be the anonymous allow of a public path: no credential in any
//! configured source, a plain (not ambiguous) path the rules call public, and a context that
//! says "no caller" and carries no claim.

use authorizer::HandlerError;
use authorizer::TokenSource;
use authorizer::fuzzing::extract_token;
use authorizer::fuzzing::route_of;
use authorizer::fuzzing::{AuthorizerEvent, EventError, EventKind};
use authorizer::{Reason, ResponseStyle};
use serde_json::{Value, json};

use crate::setup::fixture;

/// Real API Gateway authorizer events, one per format.
pub const FIXTURES: &[&str] = &[
    include_str!("../../authorizer/tests/fixtures/apigw-custom-auth-request.json"),
    include_str!("../../authorizer/tests/fixtures/apigw-custom-auth-request-type-request.json"),
    include_str!("../../authorizer/tests/fixtures/apigw-v2-custom-authorizer-v1-request.json"),
    include_str!("../../authorizer/tests/fixtures/apigw-v2-custom-authorizer-v2-request.json"),
    include_str!(
        "../../authorizer/tests/fixtures/apigw-v2-custom-authorizer-v2-request-null-maps.json"
    ),
    include_str!(
        "../../authorizer/tests/fixtures/apigw-v2-custom-authorizer-websocket-request.json"
    ),
];

/// The target body.
pub fn run(data: &[u8]) {
    match serde_json::from_slice::<Value>(data) {
        Ok(event) => {
            check(&event);
        }
        Err(_) => {
            let value = String::from_utf8_lossy(data);
            for fixture in FIXTURES {
                let mut event: Value = serde_json::from_str(fixture).expect("fixture is JSON");
                event["authorizationToken"] = json!(value);
                if event.get("headers").is_some_and(Value::is_object) {
                    event["headers"]["Authorization"] = json!(value);
                }
                check(&event);
            }
        }
    }
}

/// Whether the answer lets the request through.
pub fn is_allow(answer: &Value) -> bool {
    answer["isAuthorized"] == true || answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
}

/// Runs one event through reading, extraction and the whole handler, and checks the answer
/// against the rules; `true` when it was the anonymous allow of a public path.
pub fn check(event: &Value) -> bool {
    let fixture = fixture();
    let config = &fixture.config;
    if let Ok(read) = &AuthorizerEvent::from_value(event.clone()) {
        let _ = read.resource_arn();
        let _ = extract_token(read, &TokenSource::defaults());
    }
    // As the authorizer reads it: only the headers and parameters its token sources look at.
    let read = AuthorizerEvent::from_value_keeping(
        event.clone(),
        &TokenSource::wanted(&config.token_sources),
    );
    let answer = fixture
        .runtime
        .block_on(fixture.authorizer.handle(event.clone()));
    let read = match read {
        Ok(read) => read,
        Err(err) => {
            assert!(
                matches!(&answer, Err(HandlerError::MalformedEvent(e)) if *e == err),
                "an event we cannot read ({err}) was answered {answer:?}"
            );
            return false;
        }
    };
    let kind = read.kind();
    let answer = match answer {
        Ok(answer) => answer,
        Err(HandlerError::Unauthorized { .. }) => return false,
        Err(HandlerError::MalformedEvent(why)) => {
            // Only an IAM-style answer needs an ARN; we answer HTTP v2 in simple style.
            assert!(
                why == EventError::NoResourceArn
                    && (kind != EventKind::HttpV2
                        || config.response_style != ResponseStyle::Simple),
                "{kind:?} event answered as malformed ({why}): {event}"
            );
            return false;
        }
    };
    if !is_allow(&answer) {
        return false;
    }
    let token = extract_token(&read, &config.token_sources);
    assert_eq!(
        token.err(),
        Some(Reason::MissingToken),
        "allowed although a credential was presented: {event} -> {answer}"
    );
    let route = read.resource_arn().and_then(route_of);
    let route = route.expect("an allow without a route");
    assert!(
        !route.path.is_ambiguous() && config.path_rules.is_public(Some(&route)),
        "allowed without a token on a path that is not public: {route:?}"
    );
    assert_eq!(
        answer["context"],
        json!({"anonymous": true}),
        "the anonymous allow must say so and carry no claim"
    );
    true
}
