//! Cross-check against the real twilio-node `jwt.AccessToken` (npm package
//! `twilio`, version pinned in tests/node/package-lock.json): same inputs at
//! the same fixed second must give the very same token string.
//!
//! Runs where `node` and `npm` are installed; installs the package with
//! `npm ci` when tests/node/node_modules is missing. Without Node it prints a
//! skip notice and passes, except under CI (`CI` set), where it fails: CI has
//! Node, so a skip there would hide a broken check.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use twilio_access_token::{
    AccessToken, Algorithm, ChatGrant, Grant, JsObject, JsValue, PlaybackGrant, SyncGrant,
    TaskRouterGrant, VideoGrant, VoiceGrant,
};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "a-32-character-api-key-secret-xx";

/// One token, described once and built both in Rust and in Node.
struct Case {
    name: &'static str,
    /// Milliseconds since the epoch the Node clock is fixed at.
    now_millis: u64,
    identity: &'static str,
    ttl: Option<u32>,
    nbf: Option<u64>,
    region: Option<&'static str>,
    algorithm: Option<Algorithm>,
    grants: Vec<Grant>,
}

impl Case {
    fn new(name: &'static str, now_millis: u64) -> Self {
        Case {
            name,
            now_millis,
            identity: "alice",
            ttl: None,
            nbf: None,
            region: None,
            algorithm: None,
            grants: Vec::new(),
        }
    }

    fn rust_token(&self) -> String {
        let mut token =
            AccessToken::new(ACCOUNT, KEY, SECRET, self.identity).issued_at(self.now_millis / 1000);
        if let Some(ttl) = self.ttl {
            token = token.ttl(ttl);
        }
        if let Some(nbf) = self.nbf {
            token = token.nbf(nbf);
        }
        if let Some(region) = self.region {
            token = token.region(region);
        }
        if let Some(algorithm) = self.algorithm {
            token = token.algorithm(algorithm);
        }
        for grant in &self.grants {
            token = token.grant(grant.clone());
        }
        token.to_jwt().expect(self.name)
    }

    /// The case as mint.js reads it (twilio-node's camelCase options).
    #[allow(clippy::cast_precision_loss)]
    fn node_spec(&self) -> JsObject {
        let mut options = JsObject::new().with("identity", self.identity);
        if let Some(ttl) = self.ttl {
            options.insert("ttl", ttl);
        }
        if let Some(nbf) = self.nbf {
            options.insert("nbf", JsValue::Number(nbf as f64));
        }
        if let Some(region) = self.region {
            options.insert("region", region);
        }
        let grants = self
            .grants
            .iter()
            .map(|g| {
                JsValue::Object(
                    JsObject::new()
                        .with("kind", g.key())
                        .with("options", node_grant_options(g)),
                )
            })
            .collect();
        let mut spec = JsObject::new()
            .with("nowMillis", JsValue::Number(self.now_millis as f64))
            .with("accountSid", ACCOUNT)
            .with("keySid", KEY)
            .with("secret", SECRET)
            .with("options", options)
            .with("grants", JsValue::Array(grants));
        if let Some(algorithm) = self.algorithm {
            spec.insert("algorithm", algorithm.as_str());
        }
        spec
    }
}

fn node_grant_options(grant: &Grant) -> JsObject {
    fn put(o: &mut JsObject, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            o.insert(key, v.as_str());
        }
    }
    let mut o = JsObject::new();
    match grant {
        Grant::Voice(g) => {
            o.insert("incomingAllow", g.incoming_allow);
            put(
                &mut o,
                "outgoingApplicationSid",
                &g.outgoing_application_sid,
            );
            if let Some(params) = &g.outgoing_application_params {
                o.insert("outgoingApplicationParams", params.clone());
            }
            put(&mut o, "pushCredentialSid", &g.push_credential_sid);
            put(&mut o, "endpointId", &g.endpoint_id);
        }
        Grant::Video(g) => put(&mut o, "room", &g.room),
        Grant::Chat(g) => {
            put(&mut o, "serviceSid", &g.service_sid);
            put(&mut o, "endpointId", &g.endpoint_id);
            put(&mut o, "deploymentRoleSid", &g.deployment_role_sid);
            put(&mut o, "pushCredentialSid", &g.push_credential_sid);
        }
        Grant::Sync(g) => {
            put(&mut o, "serviceSid", &g.service_sid);
            put(&mut o, "endpointId", &g.endpoint_id);
        }
        Grant::TaskRouter(g) => {
            put(&mut o, "workspaceSid", &g.workspace_sid);
            put(&mut o, "workerSid", &g.worker_sid);
            put(&mut o, "role", &g.role);
        }
        Grant::Playback(g) => {
            if let Some(grant) = &g.grant {
                o.insert("grant", grant.clone());
            }
        }
    }
    o
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();

    out.push(Case::new("identity only", 1_700_000_000_000));

    let mut c = Case::new("video room, region, short ttl", 1_700_000_123_999);
    c.region = Some("ie1");
    c.ttl = Some(600);
    c.grants.push(VideoGrant { room: s("standup") }.into());
    out.push(c);

    let mut c = Case::new("every grant, nbf, HS512", 1_712_345_678_250);
    c.algorithm = Some(Algorithm::Hs512);
    c.nbf = Some(1_712_345_600);
    c.ttl = Some(86_400);
    c.region = Some("au1");
    c.grants = vec![
        VoiceGrant {
            incoming_allow: true,
            outgoing_application_sid: s("AP0123456789abcdef0123456789abcdef"),
            outgoing_application_params: Some(
                JsObject::new()
                    .with("to", "+15551234567")
                    .with("2", "index keys sort first")
                    .with("caller", "alice"),
            ),
            push_credential_sid: s("CR0123456789abcdef0123456789abcdef"),
            endpoint_id: s("alice-phone"),
        }
        .into(),
        VideoGrant { room: s("RM123") }.into(),
        ChatGrant {
            service_sid: s("IS0123456789abcdef0123456789abcdef"),
            endpoint_id: s("alice-laptop"),
            deployment_role_sid: s("RL0123456789abcdef0123456789abcdef"),
            push_credential_sid: s("CRfedcba9876543210fedcba9876543210"),
        }
        .into(),
        SyncGrant {
            service_sid: s("ISfedcba9876543210fedcba9876543210"),
            endpoint_id: s("sync-endpoint"),
        }
        .into(),
        TaskRouterGrant {
            workspace_sid: s("WS0123456789abcdef0123456789abcdef"),
            worker_sid: s("WK0123456789abcdef0123456789abcdef"),
            role: s("worker"),
        }
        .into(),
        PlaybackGrant {
            grant: Some(
                JsObject::from_json_str(
                    r#"{"requestCredentials":null,"playbackUrl":"https://example.com/live.m3u8","playerStreamerSid":"VJ0123","nested":{"b":1.0,"a":[1e21,0.1,-0.0],"10":true,"9":false}}"#,
                )
                .unwrap(),
            ),
        }
        .into(),
    ];
    out.push(c);

    let mut c = Case::new("HS384, unicode identity, empty options", 1_650_000_000_001);
    c.algorithm = Some(Algorithm::Hs384);
    c.identity = "zoë \"the\" \\ user\n😀\u{2028}";
    c.region = Some("");
    c.grants = vec![
        VideoGrant { room: s("") }.into(),
        ChatGrant {
            service_sid: s("IS1"),
            endpoint_id: s(""),
            ..ChatGrant::default()
        }
        .into(),
        VoiceGrant {
            incoming_allow: false,
            outgoing_application_sid: s("AP1"),
            outgoing_application_params: Some(JsObject::new()),
            ..VoiceGrant::default()
        }
        .into(),
        PlaybackGrant::default().into(),
        TaskRouterGrant::default().into(),
    ];
    out.push(c);

    let mut c = Case::new("same grant twice, auth0 identity", 1_800_000_000_999);
    c.identity = "auth0|65f0c0ffee";
    c.grants = vec![
        VideoGrant { room: s("first") }.into(),
        VoiceGrant {
            incoming_allow: true,
            ..VoiceGrant::default()
        }
        .into(),
        VideoGrant { room: s("second") }.into(),
    ];
    out.push(c);

    out
}

/// Loud even under the test harness's output capture.
fn notice(message: &str) {
    let _ = writeln!(std::io::stderr(), "node_crosscheck: {message}");
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Skips (or, under CI, fails) with a reason.
fn unavailable(reason: &str) {
    assert!(
        !in_ci(),
        "twilio-node cross-check cannot run under CI: {reason}"
    );
    notice(&format!("SKIPPED: {reason}"));
}

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

fn tool_works(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Ensures tests/node/node_modules holds the pinned twilio package.
fn install_twilio(dir: &Path) -> Result<(), String> {
    if dir.join("node_modules/twilio/package.json").is_file() {
        return Ok(());
    }
    if !tool_works("npm") {
        return Err("npm is not installed, so the twilio package cannot be installed".into());
    }
    notice("installing the pinned twilio npm package with `npm ci`");
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("could not run npm ci: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm ci failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

fn node_tokens(dir: &Path, spec: &str) -> Vec<serde_json::Value> {
    let mut child = Command::new("node")
        .arg("mint.js")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "mint.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("mint.js prints a JSON array")
}

fn decoded_parts(jwt: &str) -> (String, String) {
    let mut it = jwt.split('.').map(|p| {
        String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(p).unwrap_or_default()).into_owned()
    });
    (it.next().unwrap_or_default(), it.next().unwrap_or_default())
}

#[test]
fn tokens_are_identical_to_twilio_node() {
    if !tool_works("node") {
        return unavailable("node is not installed");
    }
    let dir = node_dir();
    if let Err(reason) = install_twilio(&dir) {
        return unavailable(&reason);
    }

    let cases = cases();
    let spec = JsValue::Array(cases.iter().map(|c| c.node_spec().into()).collect());
    let from_node = node_tokens(&dir, &spec.to_json_string());
    assert_eq!(from_node.len(), cases.len());

    for (case, node) in cases.iter().zip(&from_node) {
        let node = node
            .as_str()
            .unwrap_or_else(|| panic!("{}: twilio-node refused the case: {node}", case.name));
        let ours = case.rust_token();
        let (node_header, node_payload) = decoded_parts(node);
        let (our_header, our_payload) = decoded_parts(&ours);
        assert_eq!(our_header, node_header, "{}: header", case.name);
        assert_eq!(our_payload, node_payload, "{}: payload", case.name);
        assert_eq!(ours, node, "{}: signature", case.name);
    }
    notice(&format!(
        "{} tokens identical to twilio-node's, byte for byte",
        cases.len()
    ));
}
