//! The real binary fetching keys over https from an IdP on loopback whose certificate a test CA
//! signed: trusted through `SSL_CERT_FILE` (which switches from the compiled-in roots to the
//! system root loader, as on any Linux), refused without it. Plain http is only ever accepted for loopback; this is the path every
//! deployed issuer takes.

use crate::common::{Format, Harness, assert_allowed, assert_denied};
use testkit::{JwksServer, TestCa, TestKey};

const FORMAT: Format = Format::RestToken;

#[test]
fn https_idp_signed_by_a_trusted_ca_is_used() {
    let ca = TestCa::new();
    let ca_file = ca.write_ca_file(&std::env::temp_dir());
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_https(&[&key], &ca);
    assert!(idp.issuer().starts_with("https://127.0.0.1:"));
    let harness = Harness::start_with_idp(
        idp,
        &[("SSL_CERT_FILE", ca_file.to_str().expect("UTF-8 path"))],
    );
    let token = harness.token(&key, &harness.claims("tls"));
    assert_allowed(FORMAT, harness.call(FORMAT, &token), "tls");
    assert_eq!(harness.idp.discovery_hits(), 1);
    assert_eq!(harness.idp.jwks_hits(), 1);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn https_idp_signed_by_an_unknown_ca_is_refused() {
    let trusted = TestCa::new();
    let other = TestCa::new();
    let ca_file = trusted.write_ca_file(&std::env::temp_dir());
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_https(&[&key], &other);
    let harness = Harness::start_with_idp(
        idp,
        &[("SSL_CERT_FILE", ca_file.to_str().expect("UTF-8 path"))],
    );
    let token = harness.token(&key, &harness.claims("mitm"));
    assert_denied(
        FORMAT,
        harness.call(FORMAT, &token),
        "untrusted certificate",
    );
    assert!(harness.function.is_running());
    assert_eq!(
        harness.idp.jwks_hits(),
        0,
        "no request may be sent over an unverified connection"
    );
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn compiled_in_roots_do_not_trust_a_private_ca() {
    // No SSL_CERT_FILE/SSL_CERT_DIR: Mozilla's roots compiled into the binary, and nothing else.
    let ca = TestCa::new();
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_https(&[&key], &ca);
    let harness = Harness::start_with_idp(idp, &[]);
    let token = harness.token(&key, &harness.claims("private-ca"));
    assert_denied(
        FORMAT,
        harness.call(FORMAT, &token),
        "private CA without SSL_CERT_FILE",
    );
    assert!(harness.function.is_running());
    assert_eq!(harness.idp.jwks_hits(), 0);
    assert_eq!(harness.idp.discovery_hits(), 0);
}
