//! A loopback HTTP server on its own thread and runtime.
//!
//! Each server owns a current-thread tokio runtime on a dedicated OS thread, so the testkit's API can
//! be synchronous and usable from plain `#[test]`s, `#[tokio::test]`s and bench binaries alike, and a
//! test that blocks its own thread (waiting for an invocation) cannot starve the server.
//! Dropping the handle stops the runtime, which also drops connections parked in a `Hang` fault.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use axum::Router;
use axum::serve::ListenerExt as _;

use crate::tls::{TestCa, TlsListener};
use tokio::sync::oneshot;

#[derive(Debug)]
pub(crate) struct ServerHandle {
    addr: SocketAddr,
    /// TCP connections accepted so far: shows whether a client reuses its connections.
    connections: Arc<AtomicUsize>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Binds `127.0.0.1:0`, then builds the router knowing the address (servers that advertise
    /// their own URLs need it) and serves it.
    pub(crate) fn start(name: &str, router: impl FnOnce(SocketAddr) -> Router) -> Self {
        Self::start_with_tls(name, None, router)
    }

    /// As [`ServerHandle::start`], speaking TLS with `tls`'s server certificate when given.
    pub(crate) fn start_with_tls(
        name: &str,
        tls: Option<&TestCa>,
        router: impl FnOnce(SocketAddr) -> Router,
    ) -> Self {
        let acceptor = tls.map(TestCa::acceptor);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let router = router(addr);
        let (shutdown, stop) = oneshot::channel::<()>();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        let thread = std::thread::Builder::new()
            .name(format!("testkit-{name}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                runtime.block_on(async move {
                    let tcp = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let count = move || {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    };
                    let served = async move {
                        let result = match acceptor {
                            None => axum::serve(tcp.tap_io(move |_| count()), router).await,
                            Some(acceptor) => {
                                let tls = TlsListener { tcp, acceptor };
                                axum::serve(tls.tap_io(move |_| count()), router).await
                            }
                        };
                        if let Err(error) = result {
                            eprintln!("testkit server stopped: {error}");
                        }
                    };
                    tokio::select! {
                        () = served => {}
                        _ = stop => {}
                    }
                });
                // Dropping the runtime here cancels every connection task, hung ones included.
                drop(runtime);
            })
            .expect("spawn server thread");
        Self {
            addr,
            connections,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many TCP connections the server has accepted.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
