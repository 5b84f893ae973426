//! The authorizer's sample events in `events/` (for `make invoke-*` and `sam local invoke`), fed
//! to the real binary as `events/README.md` describes them: denied as shipped, with the reason the
//! README gives for each configuration, and allowed once `TOKEN=` puts a real token in them (the
//! same substitution `make invoke-<event> TOKEN=...` makes).

use std::path::Path;

use crate::common::{Format, Harness, assert_allowed_event, assert_denied, binary};
use serde_json::{Value, json};
use testkit::{JwksServer, RuntimeApi, TestKey};

/// The events and the format each one is.
const EVENTS: [(&str, Format); 4] = [
    ("authorizer-rest-token.json", Format::RestToken),
    ("authorizer-rest-request.json", Format::RestRequest),
    ("authorizer-http-v1.json", Format::HttpV1),
    ("authorizer-http-v2.json", Format::HttpV2Simple),
];

/// The issuer the sample token names.
const SAMPLE_ISSUER: &str = "https://example.eu.auth0.com/";
const SAMPLE_AUDIENCE: &str = "https://shows.example.com";

fn event_text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn event(name: &str) -> Value {
    serde_json::from_str(&event_text(name)).expect("event is JSON")
}

/// What `make invoke-<event> TOKEN=<jwt>` sends: every `Bearer <token>` replaced.
fn with_token(name: &str, token: &str) -> Value {
    let text = event_text(name);
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("Bearer ") {
        out.push_str(&rest[..at + "Bearer ".len()]);
        rest = &rest[at + "Bearer ".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)))
            .unwrap_or(rest.len());
        out.push_str(token);
        rest = &rest[end..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).expect("event is still JSON")
}

/// Every `reason` the authorizer logged (JSON log lines, at any depth).
fn reasons(logs: &str) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("reason", Value::String(s)) => out.push(s.clone()),
                        _ => collect(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for line in logs.lines().filter(|l| l.trim_start().starts_with('{')) {
        if let Ok(value) = serde_json::from_str::<Value>(line) {
            collect(&value, &mut out);
        }
    }
    out
}

#[test]
fn sample_events_are_denied_as_wrong_issuer_under_the_dev_issuer_recipe() {
    // events/README.md: JWT_ISSUER=<dev issuer> JWT_AUDIENCE=local-api make watch.
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let issuer = idp.issuer();
    let harness = Harness::start_configured(
        idp,
        &[("JWT_ISSUER", &issuer), ("JWT_AUDIENCE", "local-api")],
    );
    // With TOKEN= a dev token, each event is allowed ...
    let mut claims = testkit::claims(&issuer, "local-api", "alice");
    claims["scope"] = json!("read:shows");
    let token = harness.token(&key, &claims);
    for (name, format) in EVENTS {
        let event = with_token(name, &token);
        let context = assert_allowed_event(
            format,
            harness.function.invoke(event.clone()),
            Some("alice"),
            &event,
        );
        assert_eq!(context["sub"], "alice", "{name}");
    }
    // ... and as shipped, each is denied.
    for (name, format) in EVENTS {
        assert_denied(format, harness.function.invoke(event(name)), name);
    }
    // Once the process is gone, logs() has read its output to the end (no race with the pipe).
    harness.function.kill();
    let logged = reasons(&harness.function.logs());
    assert_eq!(
        logged,
        vec!["wrong_issuer"; EVENTS.len()],
        "one wrong_issuer deny per event (allows log no reason)"
    );
    harness.assert_no_token_logged();
}

#[test]
fn sample_events_are_denied_as_unknown_kid_by_their_own_issuer() {
    // Configured for the issuer the sample token names, with keys that do not include its kid.
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let jwks_uri = idp.jwks_uri();
    let harness = Harness::start_configured(
        idp,
        &[
            ("JWT_ISSUER", SAMPLE_ISSUER),
            ("JWT_AUDIENCE", SAMPLE_AUDIENCE),
            ("JWKS_URI", &jwks_uri),
        ],
    );
    for (name, format) in EVENTS {
        assert_denied(format, harness.function.invoke(event(name)), name);
    }
    harness.function.kill();
    let logged = reasons(&harness.function.logs());
    assert!(
        !logged.is_empty() && logged.iter().all(|r| r == "unknown_kid"),
        "reasons: {logged:?}"
    );
}

#[test]
fn sample_events_are_denied_as_jwks_unavailable_when_the_issuer_is_unreachable() {
    // A loopback port nobody listens on: the fetch fails at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let jwks_uri = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let function = RuntimeApi::start(
        binary(),
        &[
            ("JWT_ISSUER", SAMPLE_ISSUER),
            ("JWT_AUDIENCE", SAMPLE_AUDIENCE),
            ("JWKS_URI", &jwks_uri),
        ],
    );
    for (name, format) in EVENTS {
        assert_denied(format, function.invoke(event(name)), name);
    }
    function.kill();
    let logged = reasons(&function.logs());
    assert!(
        !logged.is_empty() && logged.iter().all(|r| r == "jwks_unavailable"),
        "reasons: {logged:?}"
    );
}
