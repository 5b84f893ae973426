//! The local API's request-to-event conversion (`local_api::event::convert`).
//!
//! The bytes are a raw HTTP/1.1 head and body: `METHOD TARGET` on the first line, `name: value`
//! header lines, an empty line, then the body. Whatever they hold, the conversion answers an
//! error (the local API's 400) or both events, and never panics: no input may reach a panicking
//! path in a dependency (lambda_http's request conversion unwraps a URL parse). An event it
//! builds is the HTTP API payload 2.0 authorizer shape with a route ARN, so the authorizer reads
//! it like API Gateway's.

use local_api::event::convert;

/// The target body.
pub fn run(data: &[u8]) {
    check(data);
}

/// Converts one raw request; `true` when it became events (`false`: refused as a bad request).
pub fn check(data: &[u8]) -> bool {
    let (head, body) = match find(data, b"\r\n\r\n").or_else(|| find(data, b"\n\n")) {
        Some((at, len)) => (&data[..at], &data[at + len..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let headers: Vec<(&[u8], &[u8])> = lines
        .map(|line| match line.iter().position(|&b| b == b':') {
            Some(colon) => (&line[..colon], trim_space(&line[colon + 1..])),
            None => (line, &[][..]),
        })
        .collect();
    let Ok(converted) = convert(method, target, &headers, body) else {
        return false;
    };
    let event = &converted.authorizer_event;
    assert_eq!(event["version"], "2.0", "{event}");
    assert_eq!(event["type"], "REQUEST", "{event}");
    assert!(event["routeArn"].is_string(), "{event}");
    true
}

fn find(data: &[u8], needle: &[u8]) -> Option<(usize, usize)> {
    data.windows(needle.len())
        .position(|w| w == needle)
        .map(|at| (at, needle.len()))
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_space(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    &value[start..]
}
