//! The stand-in IdP serves what it says, counts every request, and its faults behave as documented.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use testkit::jwks_server::{DISCOVERY_PATH, HUGE_BODY_PADDING};
use testkit::{Fault, JwksServer, TestKey};

/// A minimal HTTP/1.1 GET (the testkit has no HTTP client): returns status and body.
fn get(url: &str, read_timeout: Duration) -> std::io::Result<(u16, Vec<u8>)> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("path"));
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(read_timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head[9..12].parse().expect("status code");
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).expect("hex"), 16)
            .expect("chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

fn get_json(url: &str) -> Value {
    let (status, body) = get(url, Duration::from_secs(10)).expect("GET");
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("JSON body")
}

#[test]
fn discovery_points_at_the_jwks_which_holds_the_keys() {
    let key = TestKey::ec_p256();
    let server = JwksServer::start_with(&[&key]);
    assert!(server.issuer().starts_with("http://127.0.0.1:"));
    assert!(server.issuer().ends_with('/'));
    let discovery = get_json(&server.url(DISCOVERY_PATH));
    assert_eq!(discovery["issuer"], server.issuer());
    assert_eq!(discovery["jwks_uri"], server.jwks_uri());
    let jwks = get_json(&server.jwks_uri());
    assert_eq!(jwks["keys"][0]["kid"], key.kid());
    assert_eq!(server.discovery_hits(), 1);
    assert_eq!(server.jwks_hits(), 1);
}

#[test]
fn rotation_replaces_the_served_keys() {
    let old = TestKey::ec_p256();
    let new = TestKey::ed25519();
    let server = JwksServer::start_with(&[&old]);
    server.set_keys(&[&new]);
    let jwks = get_json(&server.jwks_uri());
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], new.kid());
}

#[test]
fn unknown_paths_are_counted_and_not_found() {
    let server = JwksServer::start();
    let (status, _) = get(&server.url("/evil/jwks.json"), Duration::from_secs(5)).expect("GET");
    assert_eq!(status, 404);
    assert_eq!(server.hits("/evil/jwks.json"), 1);
    assert_eq!(server.total_hits(), 1);
    server.reset_hits();
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn status_garbage_and_wrong_shape_faults() {
    let key = TestKey::ec_p256();
    let server = JwksServer::start_with(&[&key]);
    server.set_fault(Fault::Status(503));
    assert_eq!(
        get(&server.jwks_uri(), Duration::from_secs(5))
            .expect("GET")
            .0,
        503
    );
    server.set_fault(Fault::Garbage);
    let (status, body) = get(&server.jwks_uri(), Duration::from_secs(5)).expect("GET");
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    server.set_fault(Fault::WrongShape);
    let shape = get_json(&server.jwks_uri());
    assert!(!shape["keys"].is_array());
    server.set_fault(Fault::Ok);
    assert!(get_json(&server.jwks_uri())["keys"].is_array());
    assert_eq!(server.jwks_hits(), 4);
}

#[test]
fn discovery_fault_is_independent_of_jwks() {
    let server = JwksServer::start();
    server.set_discovery_fault(Fault::Status(500));
    assert_eq!(
        get(&server.url(DISCOVERY_PATH), Duration::from_secs(5))
            .expect("GET")
            .0,
        500
    );
    assert_eq!(
        get(&server.jwks_uri(), Duration::from_secs(5))
            .expect("GET")
            .0,
        200
    );
}

#[test]
fn hang_never_answers_but_is_counted() {
    let server = JwksServer::start();
    server.set_fault(Fault::Hang);
    let result = get(&server.jwks_uri(), Duration::from_millis(300));
    let error = result.expect_err("a hung endpoint must not answer");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{error:?}"
    );
    assert_eq!(server.jwks_hits(), 1);
}

#[test]
fn huge_body_is_valid_only_after_the_padding() {
    let key = TestKey::ec_p256();
    let server = JwksServer::start_with(&[&key]);
    server.set_fault(Fault::Huge);
    let (status, body) = get(&server.jwks_uri(), Duration::from_secs(60)).expect("GET");
    assert_eq!(status, 200);
    assert!(body.len() > HUGE_BODY_PADDING);
    let jwks: Value = serde_json::from_slice(&body).expect("JSON once fully read");
    assert_eq!(jwks["keys"][0]["kid"], key.kid());
}

#[test]
fn slow_answers_after_the_delay_with_the_keys() {
    let key = TestKey::ec_p256();
    let server = JwksServer::start_with(&[&key]);
    server.set_fault(Fault::Slow(Duration::from_millis(200)));
    // A client that gives up before the delay sees nothing...
    assert!(get(&server.jwks_uri(), Duration::from_millis(50)).is_err());
    // ...one that waits gets the keys.
    let (status, body) = get(&server.jwks_uri(), Duration::from_secs(10)).expect("GET");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains(key.kid()));
}
