//! A stand-in for the Lambda Runtime API on loopback that runs a built function binary.
//!
//! It implements the four endpoints a custom runtime uses (`invocation/next`, `invocation/{id}/response`,
//! `invocation/{id}/error`, `init/error`), spawns the binary with the environment Lambda gives it, and
//! turns each [`RuntimeApi::invoke`] into one invocation. The process's stdout and stderr are captured
//! so tests can assert on logs (and that no token ever appears in them). The process is killed on drop.
//!
//! An invocation that gets no answer within the timeout, or a process that dies while one is pending,
//! panics with the captured logs: a hang or a crash must never look like an error answer (a deny).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::keys::random_id;
use crate::server::ServerHandle;

/// The ARN handed to the function as `Lambda-Runtime-Invoked-Function-Arn`.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:under-test";

/// How long [`RuntimeApi::invoke`] waits for an answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// An error answer (`invocation/{id}/error` or `init/error`) as the function reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeError {
    /// `errorType` from the body (or the `Lambda-Runtime-Function-Error-Type` header).
    pub error_type: String,
    /// `errorMessage` from the body.
    pub error_message: String,
}

/// Why the function did not finish its init.
#[derive(Debug, Clone)]
pub struct InitFailure {
    /// What it posted to `init/error`, if anything.
    pub reported: Option<InvokeError>,
    /// Its exit status, if it exited.
    pub exit_status: Option<ExitStatus>,
    /// Everything it wrote to stdout and stderr.
    pub logs: String,
}

impl InitFailure {
    /// Whether the reported error or the logs mention `needle` (e.g. the variable at fault).
    pub fn mentions(&self, needle: &str) -> bool {
        self.reported
            .as_ref()
            .is_some_and(|e| e.error_message.contains(needle) || e.error_type.contains(needle))
            || self.logs.contains(needle)
    }
}

enum Outcome {
    Response(Bytes),
    Error(InvokeError),
}

struct Invocation {
    id: String,
    body: Bytes,
}

/// A queued invocation whose answer is not in yet.
struct Pending {
    id: String,
    rx: mpsc::Receiver<Outcome>,
    started: Instant,
}

struct Inner {
    queue_tx: tokio::sync::mpsc::UnboundedSender<Invocation>,
    queue_rx: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Invocation>>,
    waiters: Mutex<HashMap<String, mpsc::Sender<Outcome>>>,
    init_error: Mutex<Option<InvokeError>>,
    next_calls: AtomicUsize,
    /// `invocation/next` requests parked until an event is queued.
    waiting: AtomicUsize,
    deadline: Mutex<Duration>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running function under a stand-in Runtime API.
pub struct RuntimeApi {
    inner: Arc<Inner>,
    child: Mutex<Child>,
    pid: u32,
    logs: Arc<Mutex<Vec<u8>>>,
    capture_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    spawned_at: Instant,
    timeout: Duration,
    // Dropped after the child is killed (field order is drop order).
    server: ServerHandle,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("pid", &self.pid)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// Starts the Runtime API on `127.0.0.1:0` and spawns `binary` against it.
    ///
    /// The child gets a clean environment: the variables Lambda sets (`AWS_LAMBDA_RUNTIME_API`,
    /// `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128`, `AWS_LAMBDA_FUNCTION_VERSION`,
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`, `AWS_REGION`, ...) then `env`, which overrides them.
    ///
    /// # Panics
    /// If the binary cannot be spawned.
    pub fn start(binary: &Path, env: &[(&str, &str)]) -> Self {
        let (queue_tx, queue_rx) = tokio::sync::mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            waiters: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            next_calls: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            deadline: Mutex::new(DEFAULT_TIMEOUT),
        });
        let state = Arc::clone(&inner);
        let server = ServerHandle::start("runtime-api", move |_| {
            Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next))
                .route(
                    "/2018-06-01/runtime/invocation/{id}/response",
                    post(response),
                )
                .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
                .route("/2018-06-01/runtime/init/error", post(init_error))
                .with_state(state)
        });

        let name = binary
            .file_name()
            .map_or_else(|| "function".into(), |n| n.to_string_lossy().into_owned());
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", server.addr().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]testkit")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("TZ", ":UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let spawned_at = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", binary.display()));
        let pid = child.id();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut capture_threads = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            capture_threads.push(capture(stdout, Arc::clone(&logs)));
        }
        if let Some(stderr) = child.stderr.take() {
            capture_threads.push(capture(stderr, Arc::clone(&logs)));
        }
        Self {
            inner,
            child: Mutex::new(child),
            pid,
            logs,
            capture_threads: Mutex::new(capture_threads),
            spawned_at,
            timeout: DEFAULT_TIMEOUT,
            server,
        }
    }

    /// Changes how long an invocation may take before the test panics.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        *lock(&self.inner.deadline) = timeout;
        self
    }

    /// Sends `event` as one invocation and waits for the function's answer: `Ok` with the response
    /// JSON, or `Err` with what it posted to `invocation/{id}/error`.
    ///
    /// # Panics
    /// On timeout, if the process exits meanwhile, or if the response is not JSON.
    pub fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        self.invoke_raw(event.to_string().as_bytes())
    }

    /// Like [`RuntimeApi::invoke`] with any bytes as the event body (not necessarily JSON).
    ///
    /// # Panics
    /// On timeout, if the process exits meanwhile, or if the response is not JSON.
    pub fn invoke_raw(&self, event: &[u8]) -> Result<Value, InvokeError> {
        let pending = self.submit(event);
        self.wait(pending)
    }

    /// Queues every event at once and waits for all the answers (in the order of `events`): with
    /// several pollers (`AWS_LAMBDA_MAX_CONCURRENCY`), they are in flight at the same time.
    ///
    /// # Panics
    /// As [`RuntimeApi::invoke`], for any of them.
    pub fn invoke_all(&self, events: &[Value]) -> Vec<Result<Value, InvokeError>> {
        let pending: Vec<Pending> = events
            .iter()
            .map(|event| self.submit(event.to_string().as_bytes()))
            .collect();
        pending.into_iter().map(|p| self.wait(p)).collect()
    }

    fn submit(&self, event: &[u8]) -> Pending {
        let id = random_id(16);
        let (tx, rx) = mpsc::channel();
        lock(&self.inner.waiters).insert(id.clone(), tx);
        self.inner
            .queue_tx
            .send(Invocation {
                id: id.clone(),
                body: Bytes::copy_from_slice(event),
            })
            .expect("runtime API server is running");
        Pending {
            id,
            rx,
            started: Instant::now(),
        }
    }

    fn wait(&self, pending: Pending) -> Result<Value, InvokeError> {
        let Pending { id, rx, started } = pending;
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(Outcome::Response(body)) => {
                    return Ok(serde_json::from_slice(&body).unwrap_or_else(|e| {
                        panic!(
                            "response is not JSON ({e}): {:?}\n--- logs ---\n{}",
                            String::from_utf8_lossy(&body),
                            self.logs()
                        )
                    }));
                }
                Ok(Outcome::Error(error)) => return Err(error),
                Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("sender kept in map"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(status) = self.exit_status() {
                panic!(
                    "function exited ({status}) during invocation {id}\n--- logs ---\n{}",
                    self.logs()
                );
            }
            if started.elapsed() > self.timeout {
                lock(&self.inner.waiters).remove(&id);
                panic!(
                    "no answer to invocation {id} within {:?}\n--- logs ---\n{}",
                    self.timeout,
                    self.logs()
                );
            }
        }
    }

    /// Waits until the function either finishes init (asks for its first event: `None`), reports an
    /// init error, or exits (`Some`). Panics if none of these happens within the timeout.
    ///
    /// # Panics
    /// On timeout.
    pub fn init_error(&self) -> Option<InitFailure> {
        let started = Instant::now();
        loop {
            let reported = lock(&self.inner.init_error).clone();
            let exit_status = self.exit_status();
            if reported.is_some() || exit_status.is_some() {
                if reported.is_some() && exit_status.is_none() {
                    // Let it exit and flush its logs. Bounded by the same timeout as everything
                    // else: on a loaded machine two seconds proved too short for callers that
                    // then assert the process has exited.
                    let _ = self.wait_exit(self.timeout);
                }
                return Some(InitFailure {
                    reported,
                    exit_status: self.exit_status(),
                    logs: self.logs(),
                });
            }
            if self.inner.next_calls.load(Ordering::SeqCst) > 0 {
                return None;
            }
            assert!(
                started.elapsed() <= self.timeout,
                "function neither initialised nor failed within {:?}\n--- logs ---\n{}",
                self.timeout,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still alive.
    pub fn is_running(&self) -> bool {
        self.exit_status().is_none()
    }

    /// The exit status, once the process has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Everything the process wrote to stdout and stderr so far (lines in arrival order). Once the
    /// process has exited, this waits until its output has been read to the end.
    pub fn logs(&self) -> String {
        if self.exit_status().is_some() {
            let threads = std::mem::take(&mut *lock(&self.capture_threads));
            for thread in threads {
                let _ = thread.join();
            }
        }
        String::from_utf8_lossy(&lock(&self.logs)).into_owned()
    }

    /// The logs once `ready` holds for them, or once `timeout` has passed, whatever they are
    /// then: the output is captured on other threads, so a line written while answering can
    /// reach the capture just after the answer reaches the test.
    pub fn logs_once(&self, ready: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            let logs = self.logs();
            if ready(&logs) || started.elapsed() >= timeout {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When the process was spawned (for start-up time measurements).
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// How many times the function asked for an event (`invocation/next`).
    pub fn next_calls(&self) -> usize {
        self.inner.next_calls.load(Ordering::SeqCst)
    }

    /// How many TCP connections the function opened to this Runtime API so far. A client that
    /// keeps its connection alive opens one (or two: see the README's performance section).
    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// How many `invocation/next` requests are parked right now, waiting for an event: with
    /// `AWS_LAMBDA_MAX_CONCURRENCY=N`, N once the function is idle.
    pub fn waiting_pollers(&self) -> usize {
        self.inner.waiting.load(Ordering::SeqCst)
    }

    /// CPU time the process has used so far, in nanoseconds: the sum over its live threads of
    /// the first field of `/proc/<pid>/task/<tid>/schedstat` (time on CPU, user and kernel).
    /// Threads that already exited are not counted, so take differences over a window in which
    /// the process starts or ends no thread (a warm series).
    pub fn cpu_ns(&self) -> Option<u64> {
        cpu_ns(self.pid)
    }

    /// Peak resident set size in KiB (`VmHWM` from `/proc/<pid>/status`), while the process lives.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// Current resident set size in KiB (`VmRSS`), while the process lives.
    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// Kills the process and waits for it.
    pub fn kill(&self) {
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.kill();
    }
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// See [`RuntimeApi::cpu_ns`]; `pid` may be any process (the bench measures itself too).
pub fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue; // the thread exited meanwhile
        };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn capture(
    stream: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            lock(&sink).extend_from_slice(&line);
            line.clear();
        }
    })
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

struct Parked<'a>(&'a AtomicUsize);

impl<'a> Parked<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    inner.next_calls.fetch_add(1, Ordering::SeqCst);
    let invocation = {
        // Counted down on drop: a poller that hangs up while parked is no longer waiting.
        let _parked = Parked::new(&inner.waiting);
        let mut queue = inner.queue_rx.lock().await;
        queue.recv().await
    };
    let Some(invocation) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let deadline = epoch_ms() + lock(&inner.deadline).as_millis();
    let trace = format!(
        "Root=1-{}-{};Parent={};Sampled=0",
        &random_id(4),
        random_id(12),
        random_id(8)
    );
    (
        StatusCode::OK,
        [
            ("content-type", "application/json".to_owned()),
            ("lambda-runtime-aws-request-id", invocation.id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                FUNCTION_ARN.to_owned(),
            ),
            ("lambda-runtime-trace-id", trace),
        ],
        invocation.body,
    )
        .into_response()
}

async fn response(
    State(inner): State<Arc<Inner>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    match lock(&inner.waiters).remove(&id) {
        Some(waiter) => {
            let _ = waiter.send(Outcome::Response(body));
            accepted()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// What the real Runtime API answers to a response or an error: 202 with a small JSON body,
/// which the client must read (or drain) to keep its connection for the next request.
fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

fn parse_error(headers: &HeaderMap, body: &[u8]) -> InvokeError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    InvokeError {
        error_type: json
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or(header_type)
            .to_owned(),
        error_message: json
            .get("errorMessage")
            .and_then(Value::as_str)
            .map_or_else(|| String::from_utf8_lossy(body).into_owned(), str::to_owned),
    }
}

async fn error(
    State(inner): State<Arc<Inner>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match lock(&inner.waiters).remove(&id) {
        Some(waiter) => {
            let _ = waiter.send(Outcome::Error(parse_error(&headers, &body)));
            accepted()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn init_error(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    *lock(&inner.init_error) = Some(parse_error(&headers, &body));
    StatusCode::ACCEPTED
}
