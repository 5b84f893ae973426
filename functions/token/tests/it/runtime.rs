//! The built `token` binary under testkit's Lambda Runtime API stand-in: the
//! configuration read from the real process environment, real events in,
//! API Gateway responses out, and logs that never carry a token or the secret.

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Value, json};
use shared::fixtures::{self, event};
use testkit::function::{self, call, with_token_header};
use testkit::runtime::RuntimeApi;

const BINARY: &str = env!("CARGO_BIN_EXE_token");
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "runtime-test-api-key-secret-0002";

fn configured() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_API_KEY_SID", KEY),
        ("TWILIO_API_KEY_SECRET", SECRET),
        ("TWILIO_VIDEO_ROOMS", "standup"),
        (
            "TWILIO_SYNC_SERVICE_SID",
            "IS00000000000000000000000000000003",
        ),
        ("TWILIO_TOKEN_TTL_SECONDS", "300"),
    ]
}

fn start(env: &[(&str, &str)]) -> RuntimeApi {
    let runtime = RuntimeApi::start(Path::new(BINARY), env);
    if let Some(failure) = runtime.init_error() {
        panic!("init failed: {failure:?}");
    }
    runtime
}

/// HTTP API 2.0 `GET /token?{query}` from our Lambda authorizer (sub `auth0|bob`),
/// with the caller's bearer token in the headers as a real request has.
fn token_event(query: &str) -> Value {
    let mut event = with_token_header(event(fixtures::HTTP_API_LAMBDA));
    event["routeKey"] = json!("GET /token");
    event["rawPath"] = json!("/token");
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["path"] = json!("/token");
    event
}

fn claims(token: &str) -> Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("token verifies with the API key secret")
    .claims
}

fn assert_no_secrets_in_logs(runtime: &RuntimeApi, token: Option<&str>) {
    let logs = runtime.logs();
    assert!(!logs.contains(SECRET), "secret in logs:\n{logs}");
    assert!(
        !logs.contains(function::TOKEN_MARKER),
        "caller token in logs:\n{logs}"
    );
    if let Some(token) = token {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "issued token in logs:\n{logs}");
    }
}

#[test]
fn configured_binary_issues_a_verifiable_token() {
    let runtime = start(&configured());
    let answer = call(&runtime, &token_event("grants=video,sync"));
    assert_eq!(answer.status, 200, "{}", runtime.logs());
    assert_eq!(answer.header("cache-control"), "no-store");
    let body = answer.json();
    assert_eq!(body["identity"], "auth0|bob");
    let token = body["token"].as_str().unwrap();
    let claims = claims(token);
    assert_eq!(claims["iss"], KEY);
    assert_eq!(claims["sub"], ACCOUNT);
    assert_eq!(body["expires_at"], claims["exp"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert_eq!(
        claims["grants"],
        json!({
            "identity": "auth0|bob",
            "video": {"room": "standup"},
            "data_sync": {"service_sid": "IS00000000000000000000000000000003"},
        })
    );
    let denied = call(&runtime, &token_event("room=boardroom"));
    assert_eq!(denied.status, 403);
    assert_no_secrets_in_logs(&runtime, Some(token));
}

#[test]
fn unconfigured_binary_starts_and_answers_503() {
    let runtime = start(&[]);
    let answer = call(&runtime, &token_event(""));
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"], "twilio_not_configured");
    let anonymous = call(&runtime, &event(fixtures::AWS_EVENTS_V2_NO_AUTHORIZER));
    assert_eq!(anonymous.status, 401);
    assert!(runtime.logs().contains("twilio credentials not set"));
}

#[test]
fn misconfigured_binary_logs_the_variable_and_answers_503() {
    let mut env = configured();
    env.retain(|(k, _)| *k != "TWILIO_API_KEY_SID");
    env.push(("TWILIO_API_KEY_SID", "AC0123456789abcdef0123456789abcdef"));
    let runtime = start(&env);
    let answer = call(&runtime, &token_event(""));
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"], "twilio_misconfigured");
    let logs = runtime.logs();
    assert!(
        logs.contains("TWILIO_API_KEY_SID must be SK followed by 32 hexadecimal digits"),
        "{logs}"
    );
    assert_no_secrets_in_logs(&runtime, None);
}

#[test]
fn token_survives_malformed_events() {
    function::malformed_events_get_error_answers_and_process_keeps_serving(
        BINARY,
        &event(fixtures::HTTP_API_LAMBDA),
        503,
    );
}

#[test]
fn voice_grant_for_a_voice_unsafe_identity_is_issued_with_a_warning() {
    let mut env = configured();
    env.push(("TWILIO_VOICE_INCOMING_ALLOW", "true"));
    let runtime = start(&env);
    let answer = call(&runtime, &token_event("grants=voice"));
    assert_eq!(answer.status, 200, "{}", runtime.logs());
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        claims(&token)["grants"]["voice"],
        json!({"incoming": {"allow": true}})
    );
    // The start-up line, the warning and the request's line.
    let warned = function::request_log_lines(&runtime, 3).iter().any(|line| {
        line["fields"]["reason"] == "identity_not_voice_safe" && line["level"] == "WARN"
    });
    assert!(warned, "{}", runtime.logs());
    assert_no_secrets_in_logs(&runtime, Some(&token));
}

#[test]
fn a_refused_request_logs_one_line_with_its_status_and_reason() {
    let runtime = start(&configured());
    assert_eq!(call(&runtime, &token_event("room=boardroom")).status, 403);
    // A later request's line comes after every line of the first on the same stdout.
    assert_eq!(call(&runtime, &token_event("grants=sync")).status, 200);
    // The start-up line and one line per request.
    let lines = function::request_log_lines(&runtime, 3);
    assert_eq!(lines.len(), 3, "{}", runtime.logs());
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["reason"] == "room_not_allowed")
        .collect();
    assert_eq!(refused.len(), 1, "{}", runtime.logs());
    assert_eq!(refused[0]["fields"]["status"], 403);
    assert_eq!(refused[0]["fields"]["sub"], "auth0|bob");
}

/// `configured()` as the one `TWILIO_SETTINGS` document a deployment resolves from Secrets Manager.
fn settings_document() -> String {
    json!({
        "account_sid": ACCOUNT,
        "api_key_sid": KEY,
        "api_key_secret": SECRET,
        "video_rooms": ["standup"],
        "sync_service_sid": "IS00000000000000000000000000000003",
        "token_ttl_seconds": 300,
    })
    .to_string()
}

#[test]
fn binary_configured_by_the_settings_document_issues_a_verifiable_token() {
    let document = settings_document();
    let runtime = start(&[("TWILIO_SETTINGS", &document)]);
    let answer = call(&runtime, &token_event("grants=video,sync"));
    assert_eq!(answer.status, 200, "{}", runtime.logs());
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    let claims = claims(&token);
    assert_eq!(claims["iss"], KEY);
    assert_eq!(claims["sub"], ACCOUNT);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert_eq!(
        claims["grants"],
        json!({
            "identity": "auth0|bob",
            "video": {"room": "standup"},
            "data_sync": {"service_sid": "IS00000000000000000000000000000003"},
        })
    );
    assert_no_secrets_in_logs(&runtime, Some(&token));
}

#[test]
fn settings_document_and_variables_together_are_refused_naming_both() {
    let document = settings_document();
    let mut env = configured();
    env.push(("TWILIO_SETTINGS", &document));
    let runtime = start(&env);
    let answer = call(&runtime, &token_event(""));
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["error"], "twilio_misconfigured");
    let logs = runtime.logs();
    assert!(
        logs.contains("TWILIO_SETTINGS and TWILIO_ACCOUNT_SID are both set"),
        "{logs}"
    );
    assert_no_secrets_in_logs(&runtime, None);
}

#[test]
fn bad_settings_documents_are_logged_by_key_without_the_secret() {
    let cases = [
        (
            // The secret where a number belongs: named by type, never echoed.
            json!({"account_sid": ACCOUNT, "api_key_sid": KEY, "api_key_secret": "k",
                   "token_ttl_seconds": SECRET, "video_rooms": "*"})
            .to_string(),
            "TWILIO_SETTINGS.token_ttl_seconds must be a whole number of seconds, not a string",
        ),
        (
            format!(
                r#"{{"account_sid": "{ACCOUNT}", "api_key_secret": "{SECRET}", "api_key_secret": "x"}}"#
            ),
            "TWILIO_SETTINGS repeats the key \\\"api_key_secret\\\"",
        ),
        (
            // The old format: the secret itself as plain text.
            SECRET.to_owned(),
            "TWILIO_SETTINGS is not valid JSON (line 1, column 1)",
        ),
        (
            format!("\"{SECRET}\""),
            "TWILIO_SETTINGS must be a JSON object of Twilio settings",
        ),
    ];
    for (document, expected) in cases {
        let runtime = start(&[("TWILIO_SETTINGS", &document)]);
        let answer = call(&runtime, &token_event(""));
        assert_eq!(answer.status, 503, "{document}");
        assert_eq!(answer.json()["error"], "twilio_misconfigured");
        assert!(runtime.logs().contains(expected), "{}", runtime.logs());
        assert_no_secrets_in_logs(&runtime, None);
    }
}
