//! Shared harness for the integration tests: the real `authorizer` binary under the testkit's
//! Lambda Runtime API stand-in, with a stand-in IdP on loopback, and real API Gateway events.
#![allow(dead_code, unreachable_pub)] // the benches include this harness with #[path] and use part of it

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::{InvokeError, JwksServer, RuntimeApi, TestKey};

pub const AUDIENCE: &str = "https://api.example.com";

const REST_TOKEN: &str = include_str!("../../fixtures/apigw-custom-auth-request.json");
const REST_REQUEST: &str =
    include_str!("../../fixtures/apigw-custom-auth-request-type-request.json");
const HTTP_V1: &str = include_str!("../../fixtures/apigw-v2-custom-authorizer-v1-request.json");
const HTTP_V2: &str = include_str!("../../fixtures/apigw-v2-custom-authorizer-v2-request.json");

/// The authorizer event formats, with the answer style the process is configured for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    RestToken,
    RestRequest,
    HttpV1,
    /// Payload 2.0, `AUTHORIZER_RESPONSE_STYLE=simple` (the default).
    HttpV2Simple,
    /// Payload 2.0, `AUTHORIZER_RESPONSE_STYLE=iam`.
    HttpV2Iam,
}

impl Format {
    /// Formats a process with the default (simple) style answers.
    pub const SIMPLE_PROCESS: [Format; 4] = [
        Format::RestToken,
        Format::RestRequest,
        Format::HttpV1,
        Format::HttpV2Simple,
    ];

    /// The ARN API Gateway puts in the event (`methodArn` or `routeArn`).
    pub fn arn(self) -> String {
        let event = self.event(None);
        event
            .get("methodArn")
            .or_else(|| event.get("routeArn"))
            .and_then(Value::as_str)
            .expect("fixture has an ARN")
            .to_owned()
    }

    /// The fixture event with `authorization` (the whole header value, e.g. `Bearer x`) where API
    /// Gateway puts the credential, or no credential at all.
    pub fn event(self, authorization: Option<&str>) -> Value {
        let raw = match self {
            Format::RestToken => REST_TOKEN,
            Format::RestRequest => REST_REQUEST,
            Format::HttpV1 => HTTP_V1,
            Format::HttpV2Simple | Format::HttpV2Iam => HTTP_V2,
        };
        let mut event: Value = serde_json::from_str(raw).expect("fixture is JSON");
        let obj = event.as_object_mut().expect("fixture is an object");
        match self {
            Format::RestToken => {
                obj.remove("authorizationToken");
                if let Some(value) = authorization {
                    obj.insert("authorizationToken".into(), json!(value));
                }
            }
            Format::RestRequest | Format::HttpV1 => {
                obj.remove("authorizationToken");
                obj.remove("identitySource");
                if let Some(value) = authorization {
                    obj["headers"]["Authorization"] = json!(value);
                    if obj.contains_key("multiValueHeaders") {
                        obj["multiValueHeaders"]["Authorization"] = json!([value]);
                    }
                    if self == Format::HttpV1 {
                        obj.insert("identitySource".into(), json!(value));
                        obj.insert("authorizationToken".into(), json!(value));
                    }
                }
            }
            Format::HttpV2Simple | Format::HttpV2Iam => {
                obj.remove("identitySource");
                if let Some(value) = authorization {
                    obj["headers"]["authorization"] = json!(value);
                    obj.insert("identitySource".into(), json!([value]));
                }
            }
        }
        event
    }

    /// The fixture event with `Bearer <token>`.
    pub fn bearer(self, token: &str) -> Value {
        self.event(Some(&format!("Bearer {token}")))
    }

    /// Moves `event` (of this format) to another route, consistently in the ARN and in every
    /// path and method field API Gateway fills for this format.
    pub fn at_route(self, mut event: Value, method: &str, path: &str) -> Value {
        let arn_key = if matches!(self, Format::HttpV2Simple | Format::HttpV2Iam) {
            "routeArn"
        } else {
            "methodArn"
        };
        let arn = event[arn_key].as_str().expect("ARN").to_owned();
        let mut parts: Vec<&str> = arn.splitn(4, '/').collect();
        parts.truncate(2);
        event[arn_key] = json!(format!(
            "{}/{method}/{}",
            parts.join("/"),
            path.trim_start_matches('/')
        ));
        match self {
            Format::RestToken => {}
            Format::RestRequest | Format::HttpV1 => {
                event["path"] = json!(path);
                event["resource"] = json!(path);
                event["httpMethod"] = json!(method);
                event["requestContext"]["path"] = json!(path);
                event["requestContext"]["resourcePath"] = json!(path);
                event["requestContext"]["httpMethod"] = json!(method);
            }
            Format::HttpV2Simple | Format::HttpV2Iam => {
                event["rawPath"] = json!(path);
                event["routeKey"] = json!(format!("{method} {path}"));
                event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
                event["requestContext"]["http"]["path"] = json!(path);
                event["requestContext"]["http"]["method"] = json!(method);
            }
        }
        event
    }
}

/// What API Gateway would make of an authorizer's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Allowed: the principal (REST/IAM styles) and the context.
    Allow {
        principal: Option<String>,
        context: Value,
    },
    /// An error answer with message exactly `Unauthorized`: the client sees 401.
    Unauthorized,
    /// An explicit Deny policy (403) or `isAuthorized: false` (403).
    Forbidden,
    /// Any other error answer: API Gateway answers 500.
    OtherError(InvokeError),
    /// An answer API Gateway cannot use (it answers 500).
    Malformed(Value),
}

fn statements(answer: &Value) -> Option<&Vec<Value>> {
    answer
        .get("policyDocument")
        .and_then(|p| p.get("Statement"))
        .and_then(Value::as_array)
}

/// Classifies an answer to an event of `format`, checking the shape API Gateway requires.
pub fn decide(format: Format, result: Result<Value, InvokeError>) -> Decision {
    let answer = match result {
        Ok(answer) => answer,
        Err(e) if e.error_message == "Unauthorized" => return Decision::Unauthorized,
        Err(e) => return Decision::OtherError(e),
    };
    if format == Format::HttpV2Simple {
        let context = answer.get("context").cloned().unwrap_or(Value::Null);
        return match answer.get("isAuthorized") {
            Some(Value::Bool(true)) if context.is_object() => Decision::Allow {
                principal: None,
                context,
            },
            Some(Value::Bool(false)) => Decision::Forbidden,
            _ => Decision::Malformed(answer),
        };
    }
    let Some(statements) = statements(&answer) else {
        return Decision::Malformed(answer);
    };
    let effects: Vec<&str> = statements
        .iter()
        .filter_map(|s| s.get("Effect").and_then(Value::as_str))
        .collect();
    if effects.is_empty() || effects.len() != statements.len() {
        return Decision::Malformed(answer);
    }
    if effects.contains(&"Deny") || !effects.iter().all(|e| *e == "Allow") {
        return Decision::Forbidden;
    }
    let principal = answer
        .get("principalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let context = answer.get("context").cloned().unwrap_or(Value::Null);
    if principal.is_none() || !context.is_object() {
        return Decision::Malformed(answer);
    }
    Decision::Allow { principal, context }
}

/// Asserts the answer is the deny API Gateway's contract asks for a bad or missing token:
/// `Unauthorized` for REST, `isAuthorized: false` for HTTP API simple, and either of the two
/// deny forms for the IAM-policy styles of HTTP APIs. Never an allow, never a 500.
#[track_caller]
pub fn assert_denied(format: Format, result: Result<Value, InvokeError>, what: &str) {
    let decision = decide(format, result);
    let ok = match format {
        Format::RestToken | Format::RestRequest => decision == Decision::Unauthorized,
        Format::HttpV2Simple => decision == Decision::Forbidden,
        Format::HttpV1 | Format::HttpV2Iam => {
            matches!(decision, Decision::Unauthorized | Decision::Forbidden)
        }
    };
    assert!(ok, "{what} ({format:?}): expected a deny, got {decision:?}");
}

/// Asserts an allow with the IAM policy covering the whole stage, and returns the context.
#[track_caller]
pub fn assert_allowed(format: Format, result: Result<Value, InvokeError>, sub: &str) -> Value {
    let arn = format.arn();
    // arn:aws:execute-api:region:account:api/stage/METHOD/path -> same stage, other route.
    let mut parts: Vec<&str> = arn.splitn(4, '/').collect();
    parts.truncate(2);
    let other_route = format!("{}/DELETE/some/other/route", parts.join("/"));
    allowed_covering(format, result, Some(sub), &[&arn, &other_route])
}

/// Asserts an allow whose policy covers at least `event`'s own ARN (route-dependent rules may
/// narrow the policy to the route), and returns the context.
#[track_caller]
pub fn assert_allowed_event(
    format: Format,
    result: Result<Value, InvokeError>,
    sub: Option<&str>,
    event: &Value,
) -> Value {
    let arn = event
        .get("methodArn")
        .or_else(|| event.get("routeArn"))
        .and_then(Value::as_str)
        .expect("event has an ARN");
    allowed_covering(format, result, sub, &[arn])
}

#[track_caller]
fn allowed_covering(
    format: Format,
    result: Result<Value, InvokeError>,
    sub: Option<&str>,
    targets: &[&str],
) -> Value {
    let raw = result.clone();
    match decide(format, result) {
        Decision::Allow { principal, context } => {
            if format != Format::HttpV2Simple {
                if let Some(sub) = sub {
                    assert_eq!(principal.as_deref(), Some(sub), "principalId is the sub");
                }
                let answer = raw.expect("allowed");
                assert_policy_covers(format, &answer, targets);
            }
            context
        }
        other => panic!("{format:?}: expected an allow for {sub:?}, got {other:?}"),
    }
}

/// The Allow statement must be `execute-api:Invoke` on resources that match every target ARN
/// (API Gateway caches the policy per token, so a stage-wide answer must cover other routes).
#[track_caller]
fn assert_policy_covers(format: Format, answer: &Value, targets: &[&str]) {
    let statement = &statements(answer).expect("statements")[0];
    let action = &statement["Action"];
    assert!(
        action == "execute-api:Invoke" || action == &json!(["execute-api:Invoke"]),
        "action: {action}"
    );
    let resources: Vec<String> = match &statement["Resource"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        other => panic!("resource: {other}"),
    };
    for target in targets {
        assert!(
            resources
                .iter()
                .any(|r| shared::iam::wildcard_match(r, target)),
            "{format:?}: policy resources {resources:?} do not cover {target}"
        );
    }
}

/// Whether API Gateway would let an answer's caller invoke `arn` (false for `isAuthorized`
/// answers and for documents it would refuse).
pub fn policy_allows(answer: &Value, arn: &str) -> bool {
    shared::iam::allows(&answer["policyDocument"], arn) == Some(true)
}

/// The ARN of an event (`methodArn` or `routeArn`).
pub fn event_arn(event: &Value) -> String {
    event
        .get("methodArn")
        .or_else(|| event.get("routeArn"))
        .and_then(Value::as_str)
        .expect("event has an ARN")
        .to_owned()
}

/// The keys a test process trusts, the stand-in IdP serving them, and the authorizer process.
pub struct Harness {
    pub idp: JwksServer,
    pub function: RuntimeApi,
    minted: Mutex<Vec<String>>,
}

impl Harness {
    /// Starts an IdP serving `keys` and the authorizer configured for it (issuer with trailing
    /// slash, `AUDIENCE`), with `extra` environment on top.
    pub fn start(keys: &[&TestKey], extra: &[(&str, &str)]) -> Self {
        let idp = JwksServer::start_with(keys);
        Self::start_with_idp(idp, extra)
    }

    /// Starts the authorizer against an IdP the test prepared (e.g. already faulty).
    pub fn start_with_idp(idp: JwksServer, extra: &[(&str, &str)]) -> Self {
        let issuer = idp.issuer();
        let mut env: Vec<(&str, &str)> = vec![("JWT_ISSUER", &issuer), ("JWT_AUDIENCE", AUDIENCE)];
        env.extend_from_slice(extra);
        Self::start_configured(idp, &env)
    }

    /// Starts the authorizer with exactly `env` (plus debug logging): no issuer variables, for
    /// tests that configure issuers through `AUTHORIZER_CONFIG`.
    pub fn start_configured(idp: JwksServer, env: &[(&str, &str)]) -> Self {
        // Debug logs, so the no-token-in-logs checks see everything the authorizer might say.
        let mut all: Vec<(&str, &str)> = vec![("AWS_LAMBDA_LOG_LEVEL", "DEBUG")];
        all.extend_from_slice(env);
        let function = RuntimeApi::start(binary(), &all);
        Self {
            idp,
            function,
            minted: Mutex::new(Vec::new()),
        }
    }

    /// Claims for the configured issuer and audience.
    pub fn claims(&self, sub: &str) -> Value {
        testkit::claims(&self.idp.issuer(), AUDIENCE, sub)
    }

    /// Remembers a token so [`Harness::assert_no_token_logged`] can look for it.
    pub fn remember(&self, token: &str) -> String {
        self.minted
            .lock()
            .expect("minted tokens")
            .push(token.to_owned());
        token.to_owned()
    }

    /// Signs `claims` with `key` (remembered for the log check).
    pub fn token(&self, key: &TestKey, claims: &Value) -> String {
        self.remember(&key.sign(claims))
    }

    /// Invokes with `Bearer <token>` in `format`'s event.
    pub fn call(&self, format: Format, token: &str) -> Result<Value, InvokeError> {
        self.remember(token);
        self.function.invoke(format.bearer(token))
    }

    /// Neither a token nor any signature segment of one appears in the process's output.
    #[track_caller]
    pub fn assert_no_token_logged(&self) {
        let logs = self.function.logs();
        for token in self.minted.lock().expect("minted tokens").iter() {
            if token.len() < 16 {
                continue;
            }
            assert!(
                !logs.contains(token.as_str()),
                "a token appears in the logs"
            );
            if let Some((_, signature)) = token.rsplit_once('.')
                && signature.len() >= 16
            {
                assert!(
                    !logs.contains(signature),
                    "a token signature appears in the logs"
                );
            }
        }
    }

    /// Invokes until `done` holds for the answer, at most `within` (for behaviour that depends on
    /// a configured time window: cache lifetimes, cooldowns). Returns the answer that satisfied it.
    #[track_caller]
    pub fn call_until(
        &self,
        format: Format,
        token: &str,
        within: Duration,
        mut done: impl FnMut(&Result<Value, InvokeError>) -> bool,
    ) -> Result<Value, InvokeError> {
        let started = Instant::now();
        loop {
            let answer = self.call(format, token);
            if done(&answer) {
                return answer;
            }
            assert!(
                started.elapsed() < within,
                "condition not reached within {within:?}; last answer {answer:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The authorizer binary cargo built for these tests.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_authorizer"))
}

/// Whether `result` is an allow for `format`.
pub fn is_allow(format: Format, result: &Result<Value, InvokeError>) -> bool {
    matches!(decide(format, result.clone()), Decision::Allow { .. })
}

/// Starts the binary with exactly `env` and asserts that its init fails with an error naming
/// `needle` (a variable or a place in the configuration document).
#[track_caller]
pub fn assert_init_fails_naming(env: &[(&str, &str)], needle: &str) {
    let function = RuntimeApi::start(binary(), env);
    let Some(failure) = function.init_error() else {
        // It asked for an event: make sure it would not allow anything, then fail.
        let answer = function.invoke(json!({"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": Format::RestToken.arn()}));
        panic!(
            "init succeeded with a bad configuration naming {needle} (env {env:?}); answer to a call: {answer:?}"
        );
    };
    assert!(
        failure.mentions(needle),
        "init failure does not name {needle}: {failure:?}"
    );
}

/// Polls `condition` for at most 10 s, then fails naming `what` (no test asserts how long
/// anything takes).
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
