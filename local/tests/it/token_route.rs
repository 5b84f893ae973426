//! GET /token through the local API: the dev issuer's token, the real authorizer, the template's
//! route, and the token route in process (helper TWILIO's test, issue 8).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use local_api::{Environment, Options, Registry};
use reqwest::StatusCode;
use serde_json::{Value, json};
use token::TokenRoute;
use tokio::net::TcpListener;

const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "local-api-test-api-key-secret-03";

/// A local API whose token route is configured with `vars` instead of the process environment.
async fn start(vars: &[(&str, &str)]) -> String {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let route = TokenRoute::from_lookup(|k| vars.get(k).cloned());
    let mut options =
        Options::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"));
    options.registry =
        Registry::builtin(&Environment::default()).with("token", route.into_handler());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let api = local_api::LocalApi::new(options, address).expect("local API starts");
    tokio::spawn(api.serve(listener));
    format!("http://{address}")
}

async fn dev_token(base: &str, sub: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{base}/dev/token"))
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get(base: &str, path: &str, bearer: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let cache_control = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, cache_control, body)
}

#[tokio::test]
async fn signed_in_caller_gets_a_twilio_token_for_their_sub() {
    let base = start(&[
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_KEY_SID", KEY),
        ("TWILIO_API_KEY_SECRET", SECRET),
        ("TWILIO_VIDEO_ROOMS", "*"),
        (
            "TWILIO_SYNC_SERVICE_SID",
            "IS00000000000000000000000000000003",
        ),
    ])
    .await;
    let token = dev_token(&base, "alice_01").await;

    let (status, cache_control, body) =
        get(&base, "/token?grants=video&room=standup", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(cache_control.as_deref(), Some("no-store"));
    assert_eq!(body["identity"], "alice_01");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    let claims = jsonwebtoken::decode::<Value>(
        body["token"].as_str().unwrap(),
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("the Twilio token verifies with the API key secret")
    .claims;
    assert_eq!(claims["iss"], KEY);
    assert_eq!(body["expires_at"], claims["exp"]);
    assert_eq!(
        claims["grants"],
        json!({"identity": "alice_01", "video": {"room": "standup"}})
    );

    let (status, _, body) = get(&base, "/token?grants=voice", Some(&token)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "voice is not enabled: {body}"
    );
    let (status, _, body) = get(&base, "/token", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Unauthorized"}));
}

#[tokio::test]
async fn unconfigured_token_route_is_503_and_other_routes_work() {
    let base = start(&[]).await;
    let token = dev_token(&base, "alice").await;
    let (status, _, body) = get(&base, "/token", Some(&token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "twilio_not_configured");
    let (status, _, body) = get(&base, "/private", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!("Hello alice!"));
}
