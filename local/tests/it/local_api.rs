//! The local API over real HTTP on an ephemeral loopback port: the repository's template and
//! handlers, the real authorizer library, and the embedded dev issuer (whose JWKS the authorizer
//! fetches from the same server).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Body, Request, RequestExt as _, Response};
use local_api::{IssuerMode, Options, Registry};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

fn repository_template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

/// Starts a local API and returns its base URL.
async fn start(options: Options) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let api = local_api::LocalApi::new(options, address).expect("local API starts");
    tokio::spawn(api.serve(listener));
    format!("http://{address}")
}

async fn start_default() -> String {
    start(Options::new(repository_template())).await
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// A token from the dev issuer, through `POST /dev/token` (form body, JSON answer).
async fn dev_token(base: &str, form: &[(&str, &str)]) -> String {
    let response = client()
        .post(format!("{base}/dev/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get(base: &str, path: &str, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = client().get(format!("{base}{path}"));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn json_body(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn public_route_answers_without_a_token() {
    let base = start_default().await;
    let response = client().get(format!("{base}/public")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["apigw-requestid"].len(), 16);
    assert_eq!(response.text().await.unwrap(), "Hello stranger!");
}

#[tokio::test]
async fn protected_route_without_token_is_401() {
    let base = start_default().await;
    for path in ["/private", "/me", "/shows"] {
        let (status, body) = get(&base, path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(json_body(&body), json!({"message": "Unauthorized"}));
    }
    // An empty identity source counts as missing.
    let (status, _) = get(&base, "/private", Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dev_token_for_alice_opens_private() {
    let base = start_default().await;
    let token = dev_token(&base, &[("sub", "alice")]).await;
    let (status, body) = get(&base, "/private", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "Hello alice!");
    // The scheme is case-insensitive, as the authorizer reads it.
    let (status, _) = get(&base, "/private", Some(&format!("bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn me_returns_alices_claims() {
    let base = start_default().await;
    let token = dev_token(&base, &[("sub", "alice"), ("scope", "read:shows openid")]).await;
    let (status, body) = get(&base, "/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me = json_body(&body);
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["scopes"], json!(["openid", "read:shows"]));
    assert_eq!(me["claims"]["iss"], format!("{base}/"));
    assert_eq!(me["claims"]["aud"], "local-api");
    assert_eq!(me["claims"]["scope"], "read:shows openid");
    let issued_at = me["claims"]["iat"]
        .as_i64()
        .expect("iat restored as a number");
    assert_eq!(me["claims"]["exp"].as_i64(), Some(issued_at + 3600));
}

#[tokio::test]
async fn shows_needs_the_read_shows_scope() {
    let base = start_default().await;
    let without = dev_token(&base, &[("sub", "alice"), ("scope", "read:movies")]).await;
    let response = client()
        .get(format!("{base}/shows"))
        .bearer_auth(&without)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"], "access_denied",
        "the handler's 403, not API Gateway's"
    );

    let with = dev_token(&base, &[("sub", "alice"), ("scope", "read:shows")]).await;
    let (status, body) = get(&base, "/shows?q=the", Some(&format!("Bearer {with}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shows = json_body(&body);
    let shows = shows.as_array().expect("a JSON array");
    assert!(!shows.is_empty());
    for show in shows {
        let name = show["name"].as_str().unwrap().to_lowercase();
        assert!(name.contains("the"), "?q=the reached the handler: {name}");
    }
}

/// With simple responses our authorizer answers a bad token with `isAuthorized: false`, which API
/// Gateway turns into 403 `Forbidden` (401 is only for a missing identity source).
async fn assert_denied(base: &str, authorization: &str) {
    let (status, body) = get(base, "/private", Some(authorization)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{authorization:.40}: {body}");
    assert_eq!(json_body(&body), json!({"message": "Forbidden"}));
}

#[tokio::test]
async fn expired_token_is_forbidden() {
    let base = start_default().await;
    let expired = dev_token(&base, &[("sub", "alice"), ("expires_in", "-60")]).await;
    assert_denied(&base, &format!("Bearer {expired}")).await;
}

#[tokio::test]
async fn tampered_token_is_forbidden() {
    let base = start_default().await;
    let token = dev_token(&base, &[("sub", "alice")]).await;
    let parts: Vec<&str> = token.split('.').collect();
    // Same signature, payload rewritten to another subject.
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("mallory");
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_denied(&base, &format!("Bearer {forged}")).await;
    // alg none with the original payload.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert_denied(&base, &format!("Bearer {none_header}.{}.", parts[1])).await;
}

#[tokio::test]
async fn wrong_audience_is_forbidden() {
    let base = start_default().await;
    let token = dev_token(&base, &[("sub", "alice"), ("aud", "someone-else")]).await;
    assert_denied(&base, &format!("Bearer {token}")).await;
}

#[tokio::test]
async fn garbage_authorization_is_forbidden() {
    let base = start_default().await;
    for authorization in [
        "Bearer garbage",
        "Basic YWxpY2U6cGFzcw==",
        "Bearer a.b.c",
        "Bearer",
        "x",
    ] {
        assert_denied(&base, authorization).await;
    }
}

#[tokio::test]
async fn unknown_route_or_method_is_404() {
    let base = start_default().await;
    for path in ["/nope", "/", "/public/", "/PUBLIC", "/private/x"] {
        let (status, body) = get(&base, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json_body(&body), json!({"message": "Not Found"}));
    }
    let response = client()
        .post(format!("{base}/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dev_token_endpoint_accepts_json_and_raw_format_and_refuses_bad_input() {
    let base = start_default().await;
    let raw = client()
        .post(format!("{base}/dev/token?format=raw"))
        .json(&json!({"sub": "bob", "scope": "read:shows", "expires_in": 120}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert!(
        raw.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let token = raw.text().await.unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3);
    let (status, body) = get(&base, "/private", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Hello bob!"));

    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "expires_in=999999999"),
        ("application/x-www-form-urlencoded", "sub="),
        ("application/json", "[1,2]"),
        ("application/json", r#"{"sub": 42}"#),
    ] {
        let response = client()
            .post(format!("{base}/dev/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_request");
    }
}

#[tokio::test]
async fn discovery_document_points_at_the_served_jwks() {
    let base = start_default().await;
    let discovery: Value = client()
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], format!("{base}/"));
    let jwks: Value = client()
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("ES256"))
    );
    assert!(key.get("d").is_none(), "never publish the private key");
}

#[tokio::test]
async fn malformed_http_does_not_stop_the_server() {
    let base = start_default().await;
    let address = base.trim_start_matches("http://");
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /public HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"\x00\x01\x02\x03",
        // Cut short: the client half-closes in the middle of the head.
        b"GET /public HTTP/1.1\r\nHost: x\r\nX-Cut",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /public HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    ] {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(garbage).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
        // hyper's own 400 is stamped like every other answer.
        assert!(has_request_id(&answer), "{answer}");
    }
    let (status, _) = get(&base, "/public", None).await;
    assert_eq!(status, StatusCode::OK);
}

/// Echoes what the handler received, to check the event the local API built.
async fn echo(request: Request) -> Result<Response<Body>, lambda_http::Error> {
    let context = request.request_context_ref();
    let authorizer = context
        .and_then(|c| c.authorizer())
        .map(|a| json!(a.fields))
        .unwrap_or(Value::Null);
    let body = json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "proxy": request.path_parameters_ref().and_then(|p| p.first("proxy")),
        "cookie": request.headers().get("cookie").and_then(|v| v.to_str().ok()),
        "body": String::from_utf8_lossy(request.body().as_ref()),
        "authorizer": authorizer,
        "request_id": request.lambda_context_ref().map(|c| c.request_id.clone()),
    });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .header("x-echo", "yes")
        .body(Body::from(body.to_string()))?)
}

async fn start_faults() -> String {
    let registry = Registry::default()
        .with("echo", echo)
        .with("failing", |_request: Request| async {
            Err::<Response<Body>, _>(lambda_http::Error::from("the database is on fire"))
        })
        .with("panicking", |_request: Request| async {
            if std::hint::black_box(true) {
                panic!("handler bug");
            }
            Ok(Response::new(Body::Empty))
        });
    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/faults.yaml");
    start(Options {
        registry,
        ..Options::new(template)
    })
    .await
}

#[tokio::test]
async fn handler_sees_the_request_as_api_gateway_sends_it() {
    let base = start_faults().await;
    let response = client()
        .post(format!("{base}/echo/a/b?x=1&x=2"))
        .header("cookie", "c1=v1; c2=v2")
        .header("content-type", "application/octet-stream")
        .body(vec![0xde, 0xad, 0xbe, 0xef])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-echo"], "yes");
    let request_id = response.headers()["apigw-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/echo/a/b");
    assert_eq!(seen["query"], "x=1&x=2");
    assert_eq!(seen["proxy"], "a/b");
    assert_eq!(seen["cookie"], "c1=v1; c2=v2");
    // Base64 on the wire (binary content type), decoded back by lambda_http.
    assert_eq!(
        seen["body"],
        String::from_utf8_lossy(&[0xde, 0xad, 0xbe, 0xef]).as_ref()
    );
    assert_eq!(seen["request_id"], request_id);
    assert_eq!(seen["authorizer"], Value::Null);
}

#[tokio::test]
async fn authorizer_context_reaches_the_handler() {
    let base = start_faults().await;
    let token = dev_token(&base, &[("sub", "alice"), ("scope", "read:shows")]).await;
    let response = client()
        .get(format!("{base}/whoami"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["authorizer"]["sub"], "alice");
    assert_eq!(seen["authorizer"]["scope"], "read:shows");
}

#[tokio::test]
async fn failing_panicking_or_missing_handlers_are_502_and_the_server_goes_on() {
    let base = start_faults().await;
    for path in ["/fail", "/panic", "/missing", "/panic"] {
        let response = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{path}");
        assert!(response.headers().contains_key("x-local-api-error"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"message": "Internal Server Error"}));
    }
    let response = client()
        .get(format!("{base}/echo/still-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn external_issuer_mode_verifies_that_issuers_tokens_and_turns_dev_endpoints_off() {
    // One local API plays the real issuer (Auth0, Cognito); the other trusts it.
    let issuer_base = start_default().await;
    let api_base = start(Options {
        issuer: IssuerMode::External {
            issuer: format!("{issuer_base}/"),
            audience: "local-api".to_owned(),
        },
        ..Options::new(repository_template())
    })
    .await;
    let token = dev_token(&issuer_base, &[("sub", "dave")]).await;
    let (status, body) = get(&api_base, "/private", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Hello dave!"));

    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        let (status, _) = get(&api_base, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let response = client()
        .post(format!("{api_base}/dev/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A token from another dev issuer (another key, another iss) is refused.
    let stranger = start_default().await;
    let foreign = dev_token(&stranger, &[("sub", "dave")]).await;
    assert_denied(&api_base, &format!("Bearer {foreign}")).await;
}

#[tokio::test]
async fn every_route_of_the_repository_template_has_an_in_process_handler() {
    let api = local_api::LocalApi::new(
        Options::new(repository_template()),
        "127.0.0.1:3000".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(api.warnings(), &[] as &[String]);
    let banner = api.banner();
    for route in ["/public", "/private", "/me", "/shows", "/token"] {
        assert!(
            banner.contains(&format!("http://127.0.0.1:3000{route}\n")),
            "{route}: {banner}"
        );
    }
    assert!(!banner.contains("no handler"), "{banner}");
}

#[tokio::test]
async fn iam_policy_answers_are_read_like_api_gateway() {
    // AUTHORIZER_RESPONSE_STYLE=iam: the authorizer answers payload 2.0 events with an IAM
    // policy, and the local API evaluates it against the route's ARN.
    let mut options = Options::new(repository_template());
    options.environment.set("AUTHORIZER_RESPONSE_STYLE", "iam");
    let base = start(options).await;
    let token = dev_token(&base, &[("sub", "erin"), ("scope", "read:shows")]).await;
    let (status, body) = get(&base, "/private", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Hello erin!"));
    let (status, body) = get(&base, "/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        json_body(&body)["claims"]["scope"],
        "read:shows",
        "context reaches the handler"
    );
    let expired = dev_token(&base, &[("sub", "erin"), ("expires_in", "-60")]).await;
    let (status, _) = get(&base, "/private", Some(&format!("Bearer {expired}"))).await;
    // The authorizer answers a Deny policy for the route: 403, like an explicit deny on AWS.
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn environment_mode_reads_the_authorizer_configuration_like_the_lambda() {
    let issuer_base = start_default().await;
    let mut options = Options::new(repository_template());
    options.issuer = IssuerMode::Environment;
    // Taken before the process environment, like variables set on the Lambda function.
    options
        .environment
        .set("JWT_ISSUER", format!("{issuer_base}/"));
    options
        .environment
        .set("JWT_AUDIENCE", "local-api,another-api");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let api = local_api::LocalApi::new(options, address).unwrap();
    let banner = api.banner();
    assert!(
        banner.contains(&format!("{issuer_base}/ (audience local-api, another-api)")),
        "{banner}"
    );
    assert!(!banner.contains("/dev/token"), "{banner}");
    tokio::spawn(api.serve(listener));
    let api_base = format!("http://{address}");

    let token = dev_token(&issuer_base, &[("sub", "frank")]).await;
    let (status, body) = get(&api_base, "/private", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Hello frank!"));
    let (status, _) = get(&api_base, "/.well-known/jwks.json", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Sends raw bytes on a fresh connection, half-closes unless `keep_open`, and returns what the
/// server answered before closing (at most 5 s: a hang fails the test instead of stalling it).
async fn raw_exchange(base: &str, request: &[u8], keep_open: bool) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer (and stop reading) before all of a refused request is written.
    let _ = stream.write_all(request).await;
    if !keep_open {
        let _ = stream.shutdown().await;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers and closes");
    String::from_utf8_lossy(&answer).into_owned()
}

fn has_request_id(answer: &str) -> bool {
    answer
        .lines()
        .any(|line| line.to_ascii_lowercase().starts_with("apigw-requestid: "))
}

#[tokio::test]
async fn hostile_host_headers_get_400_and_the_server_goes_on() {
    let base = start_default().await;
    for host in [
        "[::1",
        "[",
        "a b",
        "::::",
        "127.0.0.1:99999",
        "user@127.0.0.1",
        "[::1]x",
    ] {
        for path in ["/public", "/private"] {
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            let answer = raw_exchange(&base, request.as_bytes(), false).await;
            assert!(
                answer.starts_with("HTTP/1.1 400"),
                "Host {host:?} {path}: {answer}"
            );
            assert!(has_request_id(&answer), "{answer}");
            assert!(answer.ends_with(r#"{"message":"Bad Request"}"#), "{answer}");
        }
    }
    // Two Host headers are as bad as one broken one.
    let answer = raw_exchange(
        &base,
        b"GET /public HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        false,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let (status, _) = get(&base, "/public", None).await;
    assert_eq!(status, StatusCode::OK);
}

fn limited(limits: local_api::Limits) -> Options {
    Options {
        limits,
        ..Options::new(repository_template())
    }
}

#[tokio::test]
async fn gateway_refusals_carry_the_request_id() {
    let base = start(limited(local_api::Limits {
        max_body_bytes: 1024,
        ..local_api::Limits::default()
    }))
    .await;
    // axum's 405 for a dev endpoint.
    let response = client()
        .get(format!("{base}/dev/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["apigw-requestid"].len(), 16);
    // 413, declared or streamed, on the API and on a dev endpoint.
    for path in ["/public", "/private", "/dev/token"] {
        let response = client()
            .post(format!("{base}{path}"))
            .body(vec![b'a'; 2048])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(response.headers()["apigw-requestid"].len(), 16);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"message": "Request Entity Too Large"})
        );
    }
    let chunked = raw_exchange(
        &base,
        format!(
            "POST /public HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n800\r\n{}\r\n0\r\n\r\n",
            "a".repeat(2048)
        )
        .as_bytes(),
        false,
    )
    .await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(has_request_id(&chunked), "{chunked}");
    // 431 past HTTP API's 10 KiB of headers: one big header, or many small ones.
    for headers in [
        vec![("x-big".to_owned(), "a".repeat(11 * 1024))],
        (0..600)
            .map(|i| (format!("x-h{i}"), "abcdefgh".to_owned()))
            .collect(),
    ] {
        let mut request = client().get(format!("{base}/public"));
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        assert_eq!(response.headers()["apigw-requestid"].len(), 16);
    }
    // Past hyper's own 1 MiB read buffer hyper answers, stamped all the same.
    let huge = raw_exchange(
        &base,
        format!(
            "GET /public HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
            "a".repeat(1100 * 1024)
        )
        .as_bytes(),
        false,
    )
    .await;
    assert!(huge.starts_with("HTTP/1.1 431"), "{huge:.200}");
    assert!(has_request_id(&huge), "{huge:.200}");
    let (status, _) = get(&base, "/public", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn half_sent_requests_get_408_instead_of_holding_the_connection() {
    let base = start(limited(local_api::Limits {
        header_read_timeout: std::time::Duration::from_millis(300),
        body_read_timeout: std::time::Duration::from_millis(300),
        ..local_api::Limits::default()
    }))
    .await;
    let head = raw_exchange(&base, b"GET /public HTTP/1.1\r\nHost: x\r\nX-Slow", true).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(has_request_id(&head), "{head}");
    let body = raw_exchange(
        &base,
        b"POST /public HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
        true,
    )
    .await;
    assert!(body.starts_with("HTTP/1.1 408"), "{body}");
    assert!(has_request_id(&body), "{body}");
    assert!(body.ends_with(r#"{"message":"Request Timeout"}"#), "{body}");
    let (status, _) = get(&base, "/public", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn dev_token_refuses_unknown_query_parameters_and_mistyped_fields() {
    let base = start_default().await;
    for (query, content_type, body, named) in [
        ("?sub=bob", "application/x-www-form-urlencoded", "", "`sub`"),
        (
            "?format=xml",
            "application/x-www-form-urlencoded",
            "",
            "format",
        ),
        (
            "",
            "application/json",
            r#"{"expires_in": "60"}"#,
            "expires_in",
        ),
        (
            "",
            "application/json",
            r#"{"expires_in": true}"#,
            "expires_in",
        ),
        (
            "",
            "application/x-www-form-urlencoded",
            "sub=a&sub=b",
            "`sub`",
        ),
    ] {
        let response = client()
            .post(format!("{base}/dev/token{query}"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query} {body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "invalid_request");
        let description = answer["error_description"].as_str().unwrap();
        assert!(description.contains(named), "{description}");
    }
    // The form's text and JSON's number both mean 60 seconds.
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "expires_in=60"),
        ("application/json", r#"{"expires_in": 60}"#),
    ] {
        let response = client()
            .post(format!("{base}/dev/token?format=json"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap()["expires_in"], 60);
    }
}

const SCOPE_RULES: &str = r#""required_scopes": {"GET /shows": "read:shows"}"#;

#[tokio::test]
async fn route_rules_are_refused_at_start_up_with_the_template_cache_ttl_as_deployed() {
    let rules = format!(
        r#"{{"issuers": [{{"issuer": "https://tenant.example.com/", "audience": "api"}}], {SCOPE_RULES}}}"#
    );
    let mut options = Options::new(repository_template());
    options.issuer = IssuerMode::Environment;
    options.environment.set("AUTHORIZER_CONFIG", &rules);
    let error = local_api::LocalApi::new(options.clone(), "127.0.0.1:0".parse().unwrap())
        .expect_err("the template's AuthorizerCacheTtlSeconds default is 300");
    let message = error.to_string();
    for expected in [
        "AUTHORIZER_CACHE_TTL_SECONDS",
        "is 300 seconds",
        "AuthorizerCacheTtlSeconds=0",
    ] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // The fix the message names works.
    options.environment.set("AUTHORIZER_CACHE_TTL_SECONDS", "0");
    local_api::LocalApi::new(options, "127.0.0.1:0".parse().unwrap())
        .expect("route rules with the cache off");
}

#[tokio::test]
async fn query_and_cookie_token_sources_work_as_the_template_declares_them() {
    let issuer_base = start_default().await;
    let config = json!({
        "issuers": [{"issuer": format!("{issuer_base}/"), "audience": "local-api"}],
        "token_sources": [{"query": "access_token"}, {"cookie": "session"}],
    });
    let mut options = Options {
        registry: Registry::default().with("echo", echo),
        ..Options::new(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity.yaml"),
        )
    };
    options.issuer = IssuerMode::Environment;
    options
        .environment
        .set("AUTHORIZER_CONFIG", config.to_string());
    let base = start(options).await;
    let token = dev_token(&issuer_base, &[("sub", "grace")]).await;

    // Identity: {QueryStrings: [access_token]}: without it, 401 before the authorizer.
    let response = client()
        .get(format!("{base}/query"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = client()
        .get(format!("{base}/query?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["authorizer"]["sub"], "grace");
    let response = client()
        .get(format!("{base}/query?access_token=forged.token.here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // No identity source declared: the authorizer is called and finds the cookie.
    let response = client()
        .get(format!("{base}/cookie"))
        .header("cookie", format!("theme=dark; session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = client().get(format!("{base}/cookie")).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "the authorizer ran and found no token"
    );
}
