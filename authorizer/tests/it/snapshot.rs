//! JWKS snapshots through the real binary: `authorizer jwks-snapshot <file>` writes what the
//! IdP publishes, and a function started with `JWKS_SNAPSHOT_FILE` verifies its first token
//! without any request to the IdP, trusts the snapshot no longer than fetched keys, says when
//! it is stale, refreshes off the request path, and still refetches for an unknown `kid`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::common::{AUDIENCE, Format, Harness, assert_allowed, assert_denied, binary, eventually};
use serde_json::{Value, json};
use testkit::{Fault, JwksServer, TestKey};

const FORMAT: Format = Format::RestToken;

/// A file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "authorizer-snapshot-{tag}-{}-{}.json",
            std::process::id(),
            testkit::keys::random_id(6)
        )))
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }

    fn write(&self, document: &Value) {
        std::fs::write(&self.0, document.to_string()).expect("write snapshot");
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A snapshot of `keys` for `issuer`, fetched `age` ago.
fn snapshot(issuer: &str, keys: &[&TestKey], age: Duration) -> Value {
    json!({
        "format": "authorizer-jwks-snapshot/1",
        "issuers": [{
            "issuer": issuer,
            "jwks_uri": format!("{issuer}.well-known/jwks.json"),
            "fetched_at": testkit::now() - i64::try_from(age.as_secs()).expect("age"),
            "jwks": TestKey::jwks(keys),
        }]
    })
}

#[test]
fn snapshot_command_writes_the_published_keys_with_their_fetch_time() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let out = TempFile::new("written");
    let before = testkit::now();
    let run = Command::new(binary())
        .args(["jwks-snapshot", out.path()])
        .env_clear()
        .env("JWT_ISSUER", idp.issuer())
        .env("JWT_AUDIENCE", AUDIENCE)
        .output()
        .expect("run authorizer jwks-snapshot");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written: Value =
        serde_json::from_slice(&std::fs::read(&out.0).expect("snapshot written")).expect("JSON");
    assert_eq!(written["format"], "authorizer-jwks-snapshot/1");
    let entry = &written["issuers"][0];
    assert_eq!(entry["issuer"], idp.issuer());
    assert_eq!(entry["jwks_uri"], idp.jwks_uri());
    assert_eq!(entry["jwks"], TestKey::jwks(&[&key]));
    let fetched_at = entry["fetched_at"].as_i64().expect("fetched_at");
    assert!((before..=testkit::now()).contains(&fetched_at));
    assert_eq!(idp.jwks_hits(), 1);

    // And the function accepts what it wrote, with the IdP gone.
    let issuer = idp.issuer();
    drop(idp);
    let harness = Harness::start_with_idp(
        JwksServer::start(),
        &[("JWT_ISSUER", &issuer), ("JWKS_SNAPSHOT_FILE", out.path())],
    );
    let mut claims = testkit::claims(&issuer, AUDIENCE, "from-snapshot");
    claims["exp"] = json!(testkit::now() + 600);
    let token = harness.token(&key, &claims);
    assert_allowed(FORMAT, harness.call(FORMAT, &token), "from-snapshot");
}

#[test]
fn snapshot_command_refuses_an_idp_without_usable_keys() {
    let idp = JwksServer::start();
    let out = TempFile::new("refused");
    let run = Command::new(binary())
        .args(["jwks-snapshot", out.path()])
        .env_clear()
        .env("JWT_ISSUER", idp.issuer())
        .env("JWT_AUDIENCE", AUDIENCE)
        .output()
        .expect("run authorizer jwks-snapshot");
    assert!(!run.status.success());
    assert!(!out.0.exists(), "no snapshot may be written");
}

#[test]
fn fresh_snapshot_verifies_the_first_token_without_contacting_the_idp() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    idp.set_fault(Fault::Hang);
    idp.set_discovery_fault(Fault::Hang);
    let file = TempFile::new("fresh");
    file.write(&snapshot(&idp.issuer(), &[&key], Duration::from_secs(60)));
    let harness = Harness::start_with_idp(idp, &[("JWKS_SNAPSHOT_FILE", file.path())]);
    let token = harness.token(&key, &harness.claims("cold"));
    for format in Format::SIMPLE_PROCESS {
        assert_allowed(format, harness.call(format, &token), "cold");
    }
    assert_eq!(harness.idp.jwks_hits(), 0);
    assert_eq!(harness.idp.discovery_hits(), 0);
    assert!(harness.function.logs().contains("jwks_snapshot_loaded"));
    assert!(!harness.function.logs().contains("jwks_snapshot_stale"));
    harness.assert_no_token_logged();
}

#[test]
fn snapshot_is_refreshed_in_the_background_when_its_ttl_ends() {
    let old = TestKey::ec_p256();
    let new = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&new]);
    let file = TempFile::new("ttl");
    // Fetched 1 s ago with a 2 s TTL: fresh now, due for a refresh within a second.
    file.write(&snapshot(&idp.issuer(), &[&old], Duration::from_secs(1)));
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWKS_SNAPSHOT_FILE", file.path()),
            ("JWKS_CACHE_TTL_SECONDS", "2"),
        ],
    );
    let old_token = harness.token(&old, &harness.claims("old"));
    assert_allowed(FORMAT, harness.call(FORMAT, &old_token), "old");
    // No request asked for it: the refresh comes from the timer.
    eventually("the snapshot was never refreshed", || {
        harness.idp.jwks_hits() >= 1
    });
    let new_token = harness.token(&new, &harness.claims("new"));
    assert_allowed(FORMAT, harness.call(FORMAT, &new_token), "new");
}

#[test]
fn stale_snapshot_is_logged_served_and_refreshed_off_the_request_path() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    // The IdP hangs for longer than the stand-in waits for an answer (15 s): a request that
    // waited for the refresh would fail the test.
    idp.set_discovery_fault(Fault::Hang);
    let file = TempFile::new("stale");
    file.write(&snapshot(&idp.issuer(), &[&key], Duration::from_secs(7200)));
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWKS_SNAPSHOT_FILE", file.path()),
            ("JWKS_TIMEOUT_MS", "30000"),
        ],
    );
    let token = harness.token(&key, &harness.claims("stale"));
    assert_allowed(FORMAT, harness.call(FORMAT, &token), "stale");
    eventually("the background refresh never started", || {
        harness.idp.discovery_hits() >= 1
    });
    let logs = harness.function.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("jwks_snapshot_stale"))
        .unwrap_or_else(|| panic!("no stale snapshot line:\n{logs}"));
    let line: Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(line["fields"]["event"], "jwks_snapshot_stale");
    assert_eq!(line["fields"]["used"], true);
    assert_eq!(
        line["fields"]["age_s"].as_u64().map(|a| a >= 7200),
        Some(true)
    );
}

#[test]
fn snapshot_older_than_max_stale_is_not_trusted() {
    let withdrawn = TestKey::ec_p256();
    let current = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&current]);
    let file = TempFile::new("expired");
    file.write(&snapshot(
        &idp.issuer(),
        &[&withdrawn],
        Duration::from_secs(3 * 3600),
    ));
    let harness = Harness::start_with_idp(
        idp,
        &[
            ("JWKS_SNAPSHOT_FILE", file.path()),
            ("JWKS_MAX_STALE_SECONDS", "7200"),
        ],
    );
    let token = harness.token(&withdrawn, &harness.claims("withdrawn"));
    assert_denied(FORMAT, harness.call(FORMAT, &token), "withdrawn key");
    let token = harness.token(&current, &harness.claims("current"));
    assert_allowed(FORMAT, harness.call(FORMAT, &token), "current");
    let logs = harness.function.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("jwks_snapshot_stale") && l.contains("\"used\":false")),
        "{logs}"
    );
}

#[test]
fn unknown_kid_refetches_as_without_a_snapshot() {
    let shipped = TestKey::ec_p256();
    let rotated = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&shipped, &rotated]);
    let file = TempFile::new("kid");
    file.write(&snapshot(
        &idp.issuer(),
        &[&shipped],
        Duration::from_secs(10),
    ));
    let harness = Harness::start_with_idp(idp, &[("JWKS_SNAPSHOT_FILE", file.path())]);
    let token = harness.token(&rotated, &harness.claims("rotated"));
    assert_allowed(FORMAT, harness.call(FORMAT, &token), "rotated");
    assert_eq!(harness.idp.jwks_hits(), 1);
}

#[test]
fn broken_snapshot_fails_init_naming_the_variable() {
    let key = TestKey::ec_p256();
    let issuer_idp = JwksServer::start_with(&[&key]);
    let issuer = issuer_idp.issuer();
    let file = TempFile::new("broken");
    let future = {
        let mut s = snapshot(&issuer, &[&key], Duration::ZERO);
        s["issuers"][0]["fetched_at"] = json!(testkit::now() + 86_400);
        s
    };
    let no_keys = {
        let mut s = snapshot(&issuer, &[&key], Duration::ZERO);
        s["issuers"][0]["jwks"] = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        s
    };
    let cases: Vec<(&str, Option<Value>)> = vec![
        ("missing file", None),
        ("not JSON", Some(json!("not a snapshot"))),
        ("fetched in the future", Some(future)),
        ("no usable key", Some(no_keys)),
    ];
    for (label, document) in cases {
        if let Some(document) = &document {
            file.write(document);
        } else {
            let _ = std::fs::remove_file(&file.0);
        }
        let harness = Harness::start_with_idp(
            JwksServer::start_with(&[&key]),
            &[("JWT_ISSUER", &issuer), ("JWKS_SNAPSHOT_FILE", file.path())],
        );
        let failure = harness
            .function
            .init_error()
            .unwrap_or_else(|| panic!("{label}: init must fail"));
        assert!(
            failure.mentions("JWKS_SNAPSHOT_FILE"),
            "{label}: {failure:?}"
        );
    }
}
