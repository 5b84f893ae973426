//! The README's local walkthroughs, run as printed: the banner `make local` prints, and every
//! `console` block marked `<!-- readme-check: console -->`, whose `$ ` lines run in one bash
//! session (so `TOKEN=$(...)` carries over) and whose other lines are the expected output, byte
//! for byte. A `<!-- readme-check: server -->` block names one more `make local` to start (its
//! environment and `ARGS`), e.g. with an `examples/*.json` configuration.
//!
//! The README's addresses are `127.0.0.1:3000` (and the ports of its server blocks); here every
//! server listens on a free port (3000 may be taken on a shared machine) and the commands and
//! their output are mapped between the two. `iat` and `exp` are the time a token was minted: the
//! README says so, and they are compared as numbers with `exp = iat + 3600`.
//! `scripts/check_readme.py` checks that every other shell block is marked for what runs it.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const README_PORT: u16 = 3000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fenced block preceded by a `<!-- readme-check: ... -->` line.
#[derive(Debug)]
struct Block {
    marker: String,
    line: usize,
    body: String,
}

fn marked_blocks(markdown: &str) -> Vec<Block> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let marker = lines[i]
            .trim()
            .strip_prefix("<!-- readme-check:")
            .and_then(|rest| rest.strip_suffix("-->"))
            .map(|m| m.trim().to_owned());
        let fence = lines.get(i + 1).is_some_and(|l| l.starts_with("```"));
        if let (Some(marker), true) = (marker, fence) {
            let start = i + 2;
            let end = (start..lines.len())
                .find(|&j| lines[j].starts_with("```"))
                .unwrap_or_else(|| panic!("README line {}: unclosed code block", i + 2));
            blocks.push(Block {
                marker,
                line: i + 2,
                body: lines[start..end].join("\n"),
            });
            i = end;
        }
        i += 1;
    }
    blocks
}

/// Kills the server when the test ends, pass or fail.
struct Server {
    child: Child,
    port: u16,
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `local-api` on a free port with exactly `env` on top of a clean slate for the
/// variables that change its mode, and reads its banner.
fn start(args: &[String], env: &BTreeMap<String, String>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local-api"));
    command
        .args(args)
        .arg("--port")
        .arg("0")
        .arg("--template")
        .arg(root().join("template.yaml"))
        .current_dir(root());
    for var in [
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "AUTHORIZER_CONFIG",
        "AUTHORIZER_CONFIG_FILE",
        "AUTHORIZER_CACHE_TTL_SECONDS",
        "PORT",
    ] {
        command.env_remove(var);
    }
    let mut child = command
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("local-api starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.expect("banner line");
        // The banner ends with the curl lines of "Try it:" and a blank line.
        if line.is_empty() && banner.contains("Try it:") {
            break;
        }
        banner.push_str(&line);
        banner.push('\n');
    }
    // Keep reading, so a later line on stdout never meets a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let port = banner
        .lines()
        .find_map(|l| l.strip_prefix("Local API on http://127.0.0.1:"))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in the banner:\n{banner}"));
    Server {
        child,
        port,
        banner,
    }
}

/// Replaces `http://127.0.0.1:<from>` by `...:<to>` for each pair.
fn map_ports(text: &str, ports: &[(u16, u16)]) -> String {
    // A replaced address is marked until the end, so a later pair cannot replace it again.
    const DONE: &str = "\u{1}";
    let mut out = text.to_owned();
    for &(from, to) in ports {
        out = out.replace(
            &format!("http://127.0.0.1:{from}"),
            &format!("http://127.0.0.1:{DONE}{to}"),
        );
    }
    out.replace(DONE, "")
}

/// `"iat":N` and `"exp":N` replaced by a placeholder; returns the numbers found.
fn mask_times(text: &str) -> (String, Vec<(String, i64)>) {
    let mut out = String::new();
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = ["\"iat\":", "\"exp\":"]
        .iter()
        .filter_map(|key| rest.find(key).map(|i| (i, *key)))
        .min()
    {
        let (i, key) = at;
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let number: i64 = rest[..digits]
            .parse()
            .unwrap_or_else(|_| panic!("{key} is not a number in {text}"));
        found.push((key.to_owned(), number));
        out.push_str("<time>");
        rest = &rest[digits..];
    }
    out.push_str(rest);
    (out, found)
}

/// Parses `VAR=value ... make local ARGS="..."`: the environment and the arguments.
fn parse_server_command(line: &str) -> (BTreeMap<String, String>, Vec<String>, u16) {
    let words = shell_words(line);
    let make = words
        .iter()
        .position(|w| w == "make")
        .unwrap_or_else(|| panic!("server block is not `... make local ...`: {line}"));
    assert_eq!(
        words.get(make + 1).map(String::as_str),
        Some("local"),
        "{line}"
    );
    let env: BTreeMap<String, String> = words[..make]
        .iter()
        .map(|w| {
            let (k, v) = w
                .split_once('=')
                .unwrap_or_else(|| panic!("not VAR=value: {w}"));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let mut args = Vec::new();
    for w in &words[make + 2..] {
        let value = w
            .strip_prefix("ARGS=")
            .unwrap_or_else(|| panic!("only ARGS= may follow make local: {line}"));
        args.extend(value.split_whitespace().map(str::to_owned));
    }
    let port = args
        .iter()
        .position(|a| a == "--port")
        .map(|i| args.remove(i + 1).parse().expect("port"))
        .expect("a server block gives --port");
    args.retain(|a| a != "--port");
    (env, args, port)
}

/// Splits a shell line into words: whitespace-separated, double or single quotes kept together.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// Commands and the output the README shows for each.
fn console_steps(body: &str) -> Vec<(String, Vec<String>)> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    for line in body.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push((command.to_owned(), Vec::new()));
        } else {
            steps
                .last_mut()
                .unwrap_or_else(|| panic!("output before the first command: {line}"))
                .1
                .push(line.to_owned());
        }
    }
    steps
}

/// Runs the steps in one bash session; returns each step's output lines.
fn run_console(steps: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    const MARK: &str = "@@readme-step@@";
    let mut script = String::from("set -u\n");
    for (command, _) in steps {
        script.push_str(&format!("printf '%s\\n' '{MARK}'\n{command}\n"));
    }
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "the walkthrough failed: {output:?}"
    );
    let text = String::from_utf8(output.stdout).expect("utf-8 output");
    let mut outputs: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line == MARK {
            outputs.push(Vec::new());
        } else if let Some(current) = outputs.last_mut() {
            current.push(line.to_owned());
        }
    }
    assert_eq!(outputs.len(), steps.len(), "every step ran:\n{text}");
    outputs
}

#[test]
fn readme_local_walkthrough_reproduces_as_printed() {
    assert!(
        Command::new("curl")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "the README walkthrough needs curl (apt-get install curl)"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let blocks = marked_blocks(&readme);
    let dev = start(&[], &BTreeMap::new());
    let mut ports = vec![(README_PORT, dev.port)];
    let mut servers = Vec::new();
    let mut banners = 0;
    let mut consoles = 0;
    for block in &blocks {
        match block.marker.as_str() {
            "banner" => {
                banners += 1;
                let shown = map_ports(&format!("{}\n", block.body), &ports);
                assert_eq!(
                    dev.banner, shown,
                    "README line {}: the banner make local prints",
                    block.line
                );
            }
            "server" => {
                let (mut env, args, readme_port) = parse_server_command(block.body.trim());
                // A configuration file that trusts the dev issuer: pointed at this test's.
                if let Some(file) = env.get("AUTHORIZER_CONFIG_FILE").cloned() {
                    let text = std::fs::read_to_string(root().join(&file))
                        .unwrap_or_else(|e| panic!("README line {}: {file}: {e}", block.line));
                    let copy = std::env::temp_dir().join(format!(
                        "readme-{}-{}",
                        std::process::id(),
                        file.replace('/', "-")
                    ));
                    std::fs::write(&copy, map_ports(&text, &ports)).expect("write config copy");
                    env.insert(
                        "AUTHORIZER_CONFIG_FILE".into(),
                        copy.to_string_lossy().into_owned(),
                    );
                }
                let server = start(&args, &env);
                ports.push((readme_port, server.port));
                servers.push(server);
            }
            "console" => {
                consoles += 1;
                let steps: Vec<(String, Vec<String>)> = console_steps(&block.body)
                    .into_iter()
                    .map(|(c, o)| (map_ports(&c, &ports), o))
                    .collect();
                let back: Vec<(u16, u16)> = ports.iter().map(|&(r, a)| (a, r)).collect();
                for ((command, expected), actual) in steps.iter().zip(run_console(&steps)) {
                    let actual = map_ports(&actual.join("\n"), &back);
                    let (actual, times) = mask_times(&actual);
                    let (expected, _) = mask_times(&expected.join("\n"));
                    assert_eq!(
                        actual, expected,
                        "README line {}: output of `{command}`",
                        block.line
                    );
                    if let [(iat_key, iat), (exp_key, exp)] = times.as_slice() {
                        let (iat, exp) = if iat_key == "\"iat\":" {
                            (iat, exp)
                        } else {
                            assert_eq!(exp_key, "\"iat\":");
                            (exp, iat)
                        };
                        assert_eq!(exp - iat, 3600, "exp = iat + 3600 in `{command}`");
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(banners, 1, "one banner block in the README");
    assert!(consoles >= 1, "at least one console block in the README");
}

#[test]
fn shell_words_keep_quoted_arguments_together() {
    assert_eq!(
        shell_words(r#"A=b C="d e" make local ARGS="--port 3001""#),
        ["A=b", "C=d e", "make", "local", "ARGS=--port 3001"]
    );
}

#[test]
fn times_are_masked_and_collected() {
    let (masked, times) = mask_times(r#"{"exp":1795533100,"iat":1795529500,"x":1}"#);
    assert_eq!(masked, r#"{"exp":<time>,"iat":<time>,"x":1}"#);
    assert_eq!(
        times,
        [
            ("\"exp\":".into(), 1795533100),
            ("\"iat\":".into(), 1795529500)
        ]
    );
}
