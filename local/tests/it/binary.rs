//! The `local-api` binary itself, as `make local` runs it: arguments, banner, serving.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the child when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_routes_and_serves_them() {
    let child = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .args(["--port", "0", "--template"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
        .env_remove("JWT_ISSUER")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("local-api starts");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        // The banner ends with the curl walkthrough; read until its last line.
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.is_empty() && banner.contains("Try it:");
            banner.push_str(&line);
            banner.push('\n');
            if done {
                break;
            }
        }
        banner
    })
    .await
    .unwrap();

    let base = banner
        .lines()
        .find_map(|line| line.strip_prefix("Local API on "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in banner:\n{banner}"))
        .to_owned();
    assert!(
        !base.ends_with(":0"),
        "the banner shows the port actually bound: {base}"
    );
    for expected in [
        "GET     /public",
        "GET     /private",
        "Issuer: embedded dev issuer",
        "/dev/token?format=raw",
    ] {
        assert!(
            banner.contains(expected),
            "{expected} missing from:\n{banner}"
        );
    }

    let client = reqwest::Client::new();
    let response = client.get(format!("{base}/public")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "Hello stranger!");
    let token = client
        .post(format!("{base}/dev/token?format=raw"))
        .form(&[("sub", "alice")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .get(format!("{base}/private"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "Hello alice!");
}

#[test]
fn bad_arguments_exit_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .args(["--port", "not-a-port"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("port must be a number"), "{stderr}");
    assert!(stderr.contains("Usage: local-api"), "{stderr}");
}
