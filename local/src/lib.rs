//! Runs the whole API locally, in one native process: the routes of `template.yaml`, the Lambda
//! authorizer in front of the protected ones, and (without `JWT_ISSUER`) an embedded dev issuer,
//! all on one HTTP port. Requests go through what API Gateway (HTTP API) does: route matching,
//! the identity source check, the authorizer's payload 2.0 event and verdict, the route's
//! payload 2.0 event, and the handler's answer back as the HTTP response.
//!
//! ```no_run
//! # async fn run() -> Result<(), local_api::StartError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! local_api::serve(listener, local_api::Options::new("template.yaml")).await
//! # }
//! ```

mod bridge;
pub mod config;
pub mod dev_issuer;
pub mod event;
pub mod gateway;
pub mod registry;
pub mod routes;
mod server;
mod stamp;
pub mod template;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::{Environment, Limits};
pub use registry::Registry;
pub use server::AUTHORIZER_BINARY;

use crate::dev_issuer::{DEV_AUDIENCE, DevIssuer, DevIssuerError};
use crate::routes::RouteTable;
use crate::server::Gateway;
use crate::template::TemplateError;

/// Where tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerMode {
    /// An embedded issuer on the same port mints tokens; the authorizer trusts it.
    Dev,
    /// A real issuer (Auth0, Cognito, any OIDC provider); the dev endpoints are off. The
    /// authorizer's other settings (`JWKS_URI`, `COGNITO_TOKEN_USE`, leeway, ...) come from
    /// [`Options::environment`], else the template, as in the Lambda function.
    External {
        /// `JWT_ISSUER`.
        issuer: String,
        /// `JWT_AUDIENCE` (comma-separated).
        audience: String,
    },
    /// The authorizer configured entirely from [`Options::environment`] (then the template),
    /// exactly as the Lambda function (`JWT_ISSUER`/`JWT_AUDIENCE`, or
    /// `AUTHORIZER_CONFIG`/`AUTHORIZER_CONFIG_FILE`); the dev endpoints are off.
    Environment,
}

impl IssuerMode {
    /// `Environment` when `JWT_ISSUER`, `AUTHORIZER_CONFIG` or `AUTHORIZER_CONFIG_FILE` is set
    /// (and not empty), else `Dev`.
    pub fn from_environment(environment: &Environment) -> Self {
        if ["JWT_ISSUER", "AUTHORIZER_CONFIG", "AUTHORIZER_CONFIG_FILE"]
            .iter()
            .any(|name| environment.get(name).is_some())
        {
            IssuerMode::Environment
        } else {
            IssuerMode::Dev
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The SAM template the routes come from.
    pub template: PathBuf,
    pub issuer: IssuerMode,
    /// In-process handlers by binary name.
    pub registry: Registry,
    /// The variables the functions see (`AUTHORIZER_RESPONSE_STYLE`, `JWT_LEEWAY_SECONDS`,
    /// `AUTHORIZER_CACHE_TTL_SECONDS`, ...), before the values the template gives them.
    /// Empty in [`Options::new`]; the process environment in [`Options::from_environment`].
    pub environment: Environment,
    /// Header and body timeouts and size limits.
    pub limits: Limits,
}

impl Options {
    /// Dev issuer, the workspace's handlers, an empty environment (the template's values only).
    pub fn new(template: impl Into<PathBuf>) -> Self {
        Self::from_environment(template, Environment::default())
    }

    /// As `make local` runs: the issuer mode and every function's variables from `environment`.
    pub fn from_environment(template: impl Into<PathBuf>, environment: Environment) -> Self {
        Self {
            template: template.into(),
            issuer: IssuerMode::from_environment(&environment),
            registry: Registry::builtin(&environment),
            environment,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    DevIssuer(#[from] DevIssuerError),
    #[error("authorizer configuration: {0}")]
    Authorizer(#[from] authorizer::ConfigError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A configured local API, ready to serve on the listener whose address it was built for.
pub struct LocalApi {
    gateway: Arc<Gateway>,
    authorizer: Arc<authorizer::Authorizer>,
    base_url: String,
    /// The issuers the authorizer trusts, for the banner.
    issuers: Vec<String>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for LocalApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalApi")
            .field("base_url", &self.base_url)
            .field("routes", &self.gateway.table.routes().len())
            .finish_non_exhaustive()
    }
}

impl LocalApi {
    /// Reads the template and builds the authorizer (and dev issuer) for a server on `address`.
    pub fn new(options: Options, address: SocketAddr) -> Result<Self, StartError> {
        let template = template::load(&options.template)?;
        let base_url = format!("http://{address}");
        let no_variables = BTreeMap::new();
        let sources = bridge::Sources {
            environment: &options.environment,
            template: template
                .environments
                .get(AUTHORIZER_BINARY)
                .unwrap_or(&no_variables),
        };
        let (dev_issuer, config) = match &options.issuer {
            IssuerMode::Dev => {
                // Loopback http is what the authorizer accepts for a non-https issuer.
                let issuer = format!("http://127.0.0.1:{}/", address.port());
                let dev = DevIssuer::generate(issuer, DEV_AUDIENCE.to_owned())?;
                let config = sources.dev_config(dev.issuer(), dev.audience())?;
                (Some(dev), config)
            }
            IssuerMode::External { issuer, audience } => {
                (None, sources.external_config(issuer, audience)?)
            }
            IssuerMode::Environment => (None, sources.environment_config()?),
        };
        let token_sources = config.token_sources.clone();
        let issuers = config
            .issuers
            .iter()
            .map(|i| format!("{} (audience {})", i.issuer, i.audiences.join(", ")))
            .collect();
        let authorizer = authorizer::Authorizer::new(config)?;
        let mut warnings = template.warnings;
        for route in &template.routes {
            if !options.registry.contains(&route.binary) {
                warnings.push(format!(
                    "{}: binary `{}` has no in-process handler (local/src/registry.rs); the route answers 502",
                    route.route_key(),
                    route.binary
                ));
            }
            if let Some(spec) = &route.authorizer
                && (!spec.is_lambda || spec.binary.as_deref() != Some(AUTHORIZER_BINARY))
            {
                warnings.push(format!(
                    "{}: authorizer {} is not the `{AUTHORIZER_BINARY}` Lambda function; the route answers 500",
                    route.route_key(),
                    spec.name
                ));
            }
            if let Some(spec) = &route.authorizer
                && spec.identity == template::Identity::Unreadable
            {
                warnings.push(format!(
                    "{}: the Identity of authorizer {} cannot be read here; the local API asks for one of the authorizer's token sources instead",
                    route.route_key(),
                    spec.name
                ));
            }
        }
        warnings.dedup();
        let authorizer = Arc::new(authorizer);
        let gateway = Gateway {
            table: RouteTable::new(template.routes),
            registry: options.registry,
            authorizer: Arc::clone(&authorizer),
            token_sources,
            dev_issuer,
            local_port: address.port(),
            limits: options.limits,
        };
        Ok(Self {
            gateway: Arc::new(gateway),
            authorizer,
            base_url,
            issuers,
            warnings,
        })
    }

    /// `http://127.0.0.1:3000`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The embedded issuer's URL, in dev mode.
    pub fn dev_issuer(&self) -> Option<&str> {
        self.gateway.dev_issuer.as_ref().map(DevIssuer::issuer)
    }

    /// Template problems and routes that cannot be served.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Serves until the listener fails. The authorizer's JWKS warm-up runs once the server is
    /// accepting, since in dev mode the keys come from this very server.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let authorizer = Arc::clone(&self.authorizer);
        tokio::spawn(async move { authorizer.warm_up().await });
        server::run(self.gateway, listener).await
    }

    /// What `local-api` prints at start-up: routes, issuer, a curl walkthrough.
    pub fn banner(&self) -> String {
        let base = &self.base_url;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Local API on {base} (payload format 2.0, stage $default)"
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "Routes:");
        for route in self.gateway.table.routes() {
            let access = if route.is_public() {
                "public"
            } else {
                "protected"
            };
            let handler = if self.gateway.registry.contains(&route.binary) {
                route.binary.clone()
            } else {
                format!("{} (no handler: 502)", route.binary)
            };
            let _ = writeln!(
                out,
                "  {:<7} {:<20} {:<10} -> {handler}",
                route.method, route.path, access
            );
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "  warning: {warning}");
        }
        let _ = writeln!(out);
        match &self.gateway.dev_issuer {
            Some(dev) => {
                let _ = writeln!(
                    out,
                    "Issuer: embedded dev issuer {} (ES256 key generated at start-up, audience {})",
                    dev.issuer(),
                    dev.audience()
                );
                let _ = writeln!(
                    out,
                    "  discovery  {}.well-known/openid-configuration",
                    dev.issuer()
                );
                let _ = writeln!(out, "  jwks       {}", dev.jwks_uri());
                let _ = writeln!(
                    out,
                    "  tokens     POST {} (form or JSON: sub, scope, expires_in, aud)",
                    dev.token_endpoint()
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Issuer (from the configuration; the /dev endpoints are off):"
                );
                for issuer in &self.issuers {
                    let _ = writeln!(out, "  {issuer}");
                }
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Try it:");
        let fmt = "-w ' [HTTP %{http_code}]\\n'";
        let curl = |route: &template::RouteSpec, token: bool| {
            let method = match route.method.as_str() {
                "GET" | "ANY" => String::new(),
                other => format!("-X {other} "),
            };
            let auth = if token {
                "-H \"Authorization: Bearer $TOKEN\" "
            } else {
                ""
            };
            format!(
                "  curl -s {fmt} {method}{auth}{base}{}",
                example_path(&route.path)
            )
        };
        let routes: Vec<_> = self
            .gateway
            .table
            .routes()
            .iter()
            .filter(|r| r.path != "$default")
            .collect();
        for route in routes.iter().filter(|r| r.is_public()) {
            let _ = writeln!(out, "{}", curl(route, false));
        }
        if let Some(route) = routes.iter().find(|r| !r.is_public()) {
            let _ = writeln!(out, "{}    # no token: 401", curl(route, false));
        }
        if self.gateway.dev_issuer.is_some() {
            let _ = writeln!(
                out,
                "  TOKEN=$(curl -s -X POST '{base}/dev/token?format=raw' -d sub=alice -d scope=read:shows)"
            );
        } else {
            let _ = writeln!(out, "  TOKEN=<an access token from your issuer>");
        }
        for route in routes.iter().filter(|r| !r.is_public()) {
            let _ = writeln!(out, "{}", curl(route, true));
        }
        out
    }
}

/// `/items/{id}` becomes `/items/example`, for the curl lines.
fn example_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "example"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Builds the local API for `listener`'s address and serves on it.
pub async fn serve(listener: TcpListener, options: Options) -> Result<(), StartError> {
    let api = LocalApi::new(options, listener.local_addr()?)?;
    api.serve(listener).await?;
    Ok(())
}
