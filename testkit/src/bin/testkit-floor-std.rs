//! The floor of the runtime-overhead benchmark: the least a Lambda function can do per
//! invocation. A blocking HTTP/1.1 client on one kept-alive TCP connection to the Runtime API
//! (std only: no async runtime, no JSON parsing) that answers every event with a fixed allow.
//!
//! Not a deployable function: it trusts the Runtime API's framing (no chunked bodies, a
//! `Content-Length` on every answer), which is true of the real one and of testkit's stand-in.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

const ALLOW: &[u8] = br#"{"isAuthorized":true,"context":{}}"#;

fn main() -> std::io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut body = Vec::new();
    loop {
        write!(
            writer,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n"
        )?;
        let (_, request_id) = read_response(&mut reader, &mut body)?;
        let request_id = request_id.expect("lambda-runtime-aws-request-id");
        write!(
            writer,
            "POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\nHost: {api}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            ALLOW.len()
        )?;
        writer.write_all(ALLOW)?;
        read_response(&mut reader, &mut body)?;
    }
}

/// Reads one response: its status line and headers, then `Content-Length` bytes of body into
/// `body`. Returns the body length and the request id header, if any.
fn read_response(
    reader: &mut BufReader<TcpStream>,
    body: &mut Vec<u8>,
) -> std::io::Result<(usize, Option<String>)> {
    let mut line = String::new();
    let mut length = 0;
    let mut request_id = None;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                request_id = Some(value.trim().to_owned());
            }
        }
    }
    body.resize(length, 0);
    reader.read_exact(body)?;
    Ok((length, request_id))
}
