//! The token route through real API Gateway events (HTTP API 2.0 with our
//! Lambda authorizer's context, the JWT authorizer, REST), decoding and
//! verifying the token it hands out.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::fixtures;
use token::TokenRoute;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "handler-test-api-key-secret-0001";
const APP: &str = "AP00000000000000000000000000000001";
const CONVERSATIONS: &str = "IS00000000000000000000000000000002";
const SYNC: &str = "IS00000000000000000000000000000003";

fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_API_KEY_SID", KEY),
        ("TWILIO_API_KEY_SECRET", SECRET),
        ("TWILIO_VOICE_APPLICATION_SID", APP),
        ("TWILIO_VOICE_INCOMING_ALLOW", "true"),
        ("TWILIO_VIDEO_ROOMS", "standup,retro"),
        ("TWILIO_CONVERSATIONS_SERVICE_SID", CONVERSATIONS),
        ("TWILIO_SYNC_SERVICE_SID", SYNC),
        ("TWILIO_TOKEN_TTL_SECONDS", "900"),
        ("TWILIO_REGION", "ie1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

fn route(vars: &HashMap<String, String>) -> TokenRoute {
    TokenRoute::from_lookup(|k| vars.get(k).cloned())
}

/// HTTP API 2.0 `GET /token?{query}` with our Lambda authorizer's context (sub `auth0|bob`).
fn lambda_authorizer_request(query: &str) -> Request {
    let mut event = fixtures::event(fixtures::HTTP_API_LAMBDA);
    event["routeKey"] = json!("GET /token");
    event["rawPath"] = json!("/token");
    event["rawQueryString"] = json!(query);
    event["requestContext"]["routeKey"] = json!("GET /token");
    event["requestContext"]["http"]["path"] = json!("/token");
    fixtures::request(&event)
}

fn anonymous_request() -> Request {
    let event = fixtures::with_authorizer(fixtures::event(fixtures::HTTP_API_LAMBDA), None);
    fixtures::request(&event)
}

async fn call(route: &TokenRoute, req: Request) -> Response<Body> {
    route.handle(req).await.expect("handler never returns Err")
}

fn body(response: &Response<Body>) -> Value {
    let Body::Text(text) = response.body() else {
        panic!("text body expected, got {:?}", response.body())
    };
    serde_json::from_str(text).expect("JSON body")
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Checks the signature with jsonwebtoken and returns (raw header, claims).
fn verified(token: &str) -> (Value, Value) {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims = HashSet::from(["exp".to_owned(), "iss".to_owned()]);
    validation.set_issuer(&[KEY]);
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("token verifies with the API key secret")
    .claims;
    let header = token.split('.').next().unwrap();
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    (header, claims)
}

#[tokio::test]
async fn configured_route_issues_every_enabled_grant() {
    let vars = env(&[]);
    let route = route(&vars);
    assert!(route.is_ready());
    let response = call(&route, lambda_authorizer_request("room=retro")).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let body = body(&response);
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    assert_eq!(body["identity"], "auth0|bob");

    let (header, claims) = verified(body["token"].as_str().unwrap());
    assert_eq!(
        header,
        json!({"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1", "twr": "ie1"})
    );
    assert_eq!(claims["iss"], KEY);
    assert_eq!(claims["sub"], ACCOUNT);
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 900);
    assert_eq!(body["expires_at"], claims["exp"]);
    assert_eq!(claims["jti"], format!("{KEY}-{iat}"));
    assert_eq!(
        claims["grants"],
        json!({
            "identity": "auth0|bob",
            "voice": {"incoming": {"allow": true}, "outgoing": {"application_sid": APP}},
            "video": {"room": "retro"},
            "chat": {"service_sid": CONVERSATIONS},
            "data_sync": {"service_sid": SYNC},
        })
    );
}

#[tokio::test]
async fn query_narrows_to_the_requested_grants() {
    let vars = env(&[]);
    let response = call(
        &route(&vars),
        lambda_authorizer_request("grants=video&room=standup"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, claims) = verified(body(&response)["token"].as_str().unwrap());
    assert_eq!(
        claims["grants"],
        json!({"identity": "auth0|bob", "video": {"room": "standup"}})
    );
}

#[tokio::test]
async fn query_cannot_widen_beyond_configuration() {
    let vars = env(&[("TWILIO_SYNC_SERVICE_SID", "")]);
    let response = call(
        &route(&vars),
        lambda_authorizer_request("grants=voice,sync"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body(&response);
    assert_eq!(body["error"], "invalid_request");
    assert!(body.get("token").is_none());
}

#[tokio::test]
async fn unknown_grant_is_a_bad_request() {
    let vars = env(&[]);
    let response = call(
        &route(&vars),
        lambda_authorizer_request("grants=video,admin"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body(&response);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("admin")
    );
}

#[tokio::test]
async fn room_outside_the_policy_is_forbidden() {
    let vars = env(&[]);
    let response = call(&route(&vars), lambda_authorizer_request("room=boardroom")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(&response)["error"], "access_denied");
}

#[tokio::test]
async fn without_a_caller_the_answer_is_401_even_when_unconfigured() {
    let vars = env(&[]);
    for route in [route(&vars), route(&HashMap::new())] {
        let response = call(&route, anonymous_request()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body(&response)["error"], "unauthorized");
    }
}

#[tokio::test]
async fn missing_twilio_configuration_is_503() {
    let route = route(&HashMap::new());
    assert!(!route.is_ready());
    let response = call(&route, lambda_authorizer_request("")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body(&response);
    assert_eq!(body["error"], "twilio_not_configured");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("not configured")
    );
}

#[tokio::test]
async fn invalid_twilio_configuration_is_503_without_details() {
    let vars = env(&[("TWILIO_API_KEY_SID", "SK-not-a-sid")]);
    let route = route(&vars);
    assert!(!route.is_ready());
    let response = call(&route, lambda_authorizer_request("")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body(&response);
    assert_eq!(body["error"], "twilio_misconfigured");
    assert!(!body.to_string().contains("SK-not-a-sid"));
    assert!(!body.to_string().contains(SECRET));
}

#[tokio::test]
async fn identity_comes_from_any_authorizer_shape() {
    let vars = env(&[("TWILIO_VIDEO_ROOMS", "*")]);
    let route = route(&vars);
    for (fixture, sub) in [
        (fixtures::HTTP_API_JWT_AUTH0, "auth0|alice"),
        (fixtures::REST_LAMBDA, "auth0|carol"),
        (
            fixtures::REST_COGNITO,
            "9a8b7c6d-5e4f-4321-8765-0fedcba98765",
        ),
    ] {
        let response = call(&route, fixtures::request(&fixtures::event(fixture))).await;
        assert_eq!(response.status(), StatusCode::OK, "{sub}");
        let body = body(&response);
        assert_eq!(body["identity"], sub);
        let (_, claims) = verified(body["token"].as_str().unwrap());
        assert_eq!(claims["grants"]["identity"], sub);
        assert_eq!(
            claims["grants"]["video"],
            json!({}),
            "any room: no room claim"
        );
    }
}

#[tokio::test]
async fn into_handler_serves_the_same_route() {
    let vars = env(&[]);
    let handler = route(&vars).into_handler();
    let response = handler(lambda_authorizer_request("grants=sync"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, claims) = verified(body(&response)["token"].as_str().unwrap());
    assert_eq!(
        claims["grants"],
        json!({"identity": "auth0|bob", "data_sync": {"service_sid": SYNC}})
    );
}

/// The sample event shipped in `events/` (for `cargo lambda invoke` / `sam local invoke`) works.
#[tokio::test]
async fn sample_event_gets_a_video_token_for_its_room() {
    let event: Value = serde_json::from_str(include_str!("../../../../events/token.json")).unwrap();
    let vars = env(&[("TWILIO_VIDEO_ROOMS", "standup")]);
    let response = call(&route(&vars), fixtures::request(&event)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body(&response);
    assert_eq!(body["identity"], "auth0|65f1c2d3e4a5b6c7d8e9f0a1");
    let (_, claims) = verified(body["token"].as_str().unwrap());
    assert_eq!(claims["grants"]["video"], json!({"room": "standup"}));
    assert_eq!(claims["grants"].as_object().unwrap().len(), 2);

    let unconfigured = call(&route(&HashMap::new()), fixtures::request(&event)).await;
    assert_eq!(unconfigured.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// The same settings as [`env`], as the one `TWILIO_SETTINGS` document a deployment reads from
/// its Secrets Manager secret.
fn settings_document() -> String {
    json!({
        "account_sid": ACCOUNT,
        "api_key_sid": KEY,
        "api_key_secret": SECRET,
        "voice_application_sid": APP,
        "voice_incoming_allow": true,
        "video_rooms": ["standup", "retro"],
        "conversations_service_sid": CONVERSATIONS,
        "sync_service_sid": SYNC,
        "token_ttl_seconds": 900,
        "region": "ie1",
    })
    .to_string()
}

#[tokio::test]
async fn settings_document_configures_the_same_route_as_the_variables() {
    let vars = HashMap::from([("TWILIO_SETTINGS".to_owned(), settings_document())]);
    let from_document = route(&vars);
    assert!(from_document.is_ready());
    let from_variables = route(&env(&[]));
    for query in ["room=retro", "grants=voice,chat", "grants=sync"] {
        let a = body(&call(&from_document, lambda_authorizer_request(query)).await);
        let b = body(&call(&from_variables, lambda_authorizer_request(query)).await);
        let (header_a, mut claims_a) = verified(a["token"].as_str().unwrap());
        let (header_b, mut claims_b) = verified(b["token"].as_str().unwrap());
        assert_eq!(header_a, header_b, "{query}");
        // Minted a moment apart: compare everything but the clock.
        for claims in [&mut claims_a, &mut claims_b] {
            let claims = claims.as_object_mut().unwrap();
            for time in ["iat", "exp", "jti"] {
                claims.remove(time);
            }
        }
        assert_eq!(claims_a, claims_b, "{query}");
    }
}

#[tokio::test]
async fn settings_document_with_a_variable_as_well_is_503_without_details() {
    let mut vars = HashMap::from([("TWILIO_SETTINGS".to_owned(), settings_document())]);
    vars.insert("TWILIO_VIDEO_ROOMS".to_owned(), "*".to_owned());
    let route = route(&vars);
    assert!(!route.is_ready());
    let response = call(&route, lambda_authorizer_request("")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = body(&response);
    assert_eq!(body["error"], "twilio_misconfigured");
    assert!(!body.to_string().contains(SECRET));
}

/// `events/token-env.json`, the `--env-vars` file for `sam local invoke TokenFunction`, holds a
/// document that configures the route for the sample event's room.
#[tokio::test]
async fn sam_local_env_file_configures_the_sample_event() {
    let file: Value =
        serde_json::from_str(include_str!("../../../../events/token-env.json")).unwrap();
    let variables = file["TokenFunction"].as_object().unwrap();
    assert_eq!(
        variables.keys().collect::<Vec<_>>(),
        ["TWILIO_SETTINGS"],
        "sam local passes only variables the template declares"
    );
    let vars = HashMap::from([(
        "TWILIO_SETTINGS".to_owned(),
        variables["TWILIO_SETTINGS"].as_str().unwrap().to_owned(),
    )]);
    let event: Value = serde_json::from_str(include_str!("../../../../events/token.json")).unwrap();
    let response = call(&route(&vars), fixtures::request(&event)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body(&response);
    let token = body["token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["grants"]["video"], json!({"room": "standup"}));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
}
