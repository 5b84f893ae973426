//! Which in-process handler serves which binary named in the template. Adding a route to the
//! local API is one line in [`Registry::builtin`].

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Error, Request, Response};

use crate::config::Environment;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

/// A route handler: the same `lambda_http` function the Lambda binary runs.
pub type Handler = Arc<dyn Fn(Request) -> HandlerFuture + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<String, Handler>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// The route handlers of this workspace, by binary name; the token route reads its
    /// configuration from `environment`.
    pub fn builtin(environment: &Environment) -> Self {
        Self::default()
            .with("public", public::handler)
            .with("private", private::handler)
            .with("me", me::handler)
            .with("shows", shows::handler)
            // Configuration parsed once, as in the Lambda's init phase.
            .with(
                "token",
                token::TokenRoute::from_lookup(|name| environment.get(name).map(str::to_owned))
                    .into_handler(),
            )
    }

    /// Registers `handler` for the binary `binary`.
    pub fn with<F, Fut>(mut self, binary: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response<Body>, Error>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |request| Box::pin(handler(request)));
        self.handlers.insert(binary.to_owned(), handler);
        self
    }

    pub fn get(&self, binary: &str) -> Option<Handler> {
        self.handlers.get(binary).cloned()
    }

    pub fn contains(&self, binary: &str) -> bool {
        self.handlers.contains_key(binary)
    }
}
