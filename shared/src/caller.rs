//! Who is calling: read from whichever authorizer API Gateway ran before us.
//!
//! | API and authorizer                       | where the claims are                              | values                 |
//! |------------------------------------------|---------------------------------------------------|------------------------|
//! | HTTP API, JWT authorizer                 | `requestContext.authorizer.jwt.claims` + `.scopes` | all strings            |
//! | HTTP API, Lambda authorizer (our one)    | `requestContext.authorizer.lambda`                 | JSON scalars           |
//! | REST API, Lambda authorizer              | `requestContext.authorizer` (`principalId` + keys) | strings                |
//! | REST API, Cognito user pool authorizer   | `requestContext.authorizer.claims`                 | strings                |
//! | HTTP API payload 1.0, JWT / Lambda       | `requestContext.authorizer.jwt` / `.lambda`        | as for payload 2.0     |
//!
//! API Gateway writes `requestContext` itself (a client cannot set it), so whatever
//! is there was put by the authorizer that allowed the request.

use std::collections::{BTreeSet, HashMap};

use lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::claims::{self, Encoding};
use crate::context;
use crate::error::RouteError;
use crate::scopes;

/// Keys API Gateway adds to a REST authorizer's context that are not claims.
const REST_GATEWAY_KEYS: &[&str] = &["principalId", "integrationLatency"];

/// The authenticated caller of a route.
///
/// Serialises as `{"sub": ..., "scopes": [...], "claims": {...}}` (scopes sorted).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Caller {
    /// The subject: the `sub` claim, or a REST authorizer's `principalId` without one.
    pub sub: String,
    /// Union of `scope`, `scp`, `permissions` and the JWT authorizer's `scopes`.
    pub scopes: BTreeSet<String>,
    /// Every claim the authorizer passed, restored to JSON types (see [`crate::claims`]).
    pub claims: Map<String, Value>,
}

impl Caller {
    /// Whether the caller holds exactly this scope (`read:showsX` is not `read:shows`).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// `Ok` when the caller holds `scope`, else [`RouteError::InsufficientScope`].
    pub fn require_scope(&self, scope: &'static str) -> Result<(), RouteError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(RouteError::InsufficientScope { scope })
        }
    }

    /// Reads the caller from an HTTP API (payload 2.0) authorizer context.
    pub fn from_http_api(authorizer: &ApiGatewayRequestAuthorizer) -> Option<Caller> {
        if let Some(jwt) = &authorizer.jwt {
            let raw = jwt
                .claims
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect();
            return build(
                raw,
                Encoding::Stringified,
                jwt.scopes.as_deref().unwrap_or_default(),
                None,
            );
        }
        // lambda_http exposes the Lambda authorizer's `lambda` object as `fields`.
        if context::marks_anonymous(authorizer.fields.get(context::ANONYMOUS_KEY)) {
            return None;
        }
        from_map(&authorizer.fields, Encoding::JsonScalars, None)
    }

    /// Reads the caller from a REST API (or HTTP API payload 1.0) authorizer map.
    pub fn from_rest_api(fields: &HashMap<String, Value>) -> Option<Caller> {
        if let Some(Value::Object(jwt)) = fields.get("jwt") {
            let raw = match jwt.get("claims") {
                Some(Value::Object(claims)) => claims.clone(),
                _ => Map::new(),
            };
            let listed: Vec<String> = match jwt.get("scopes") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            return build(raw, Encoding::Stringified, &listed, None);
        }
        if let Some(Value::Object(lambda)) = fields.get("lambda") {
            if context::marks_anonymous(lambda.get(context::ANONYMOUS_KEY)) {
                return None;
            }
            return build(lambda.clone(), Encoding::JsonScalars, &[], None);
        }
        if let Some(Value::Object(cognito)) = fields.get("claims") {
            return build(cognito.clone(), Encoding::Stringified, &[], None);
        }
        // A Lambda authorizer's context, flattened beside `principalId`. The anonymous allow of a
        // public path still has a `principalId` (`anonymous`): the marker, not the principal, decides.
        if context::marks_anonymous(fields.get(context::ANONYMOUS_KEY)) {
            return None;
        }
        let principal = fields.get("principalId").and_then(Value::as_str);
        let raw = fields
            .iter()
            .filter(|(name, _)| !REST_GATEWAY_KEYS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        build(raw, Encoding::Stringified, &[], principal)
    }
}

/// The caller of a request, or `None` when no authorizer vouched for one
/// (no authorizer context, an IAM authorizer, a context without a subject, or our authorizer's
/// anonymous allow of a public path: see [`crate::context`]).
pub fn caller(req: &Request) -> Option<Caller> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => Caller::from_http_api(ctx.authorizer.as_ref()?),
        RequestContext::ApiGatewayV1(ctx) => Caller::from_rest_api(&ctx.authorizer.fields),
        #[allow(unreachable_patterns)] // ALB / VPC Lattice, depending on lambda_http features
        _ => None,
    }
}

/// `Err(RouteError::Unauthorized)` when there is no caller.
pub fn require_caller(caller: Option<&Caller>) -> Result<&Caller, RouteError> {
    caller.ok_or(RouteError::Unauthorized)
}

fn from_map(
    fields: &HashMap<String, Value>,
    encoding: Encoding,
    principal: Option<&str>,
) -> Option<Caller> {
    let raw = fields
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    build(raw, encoding, &[], principal)
}

fn build(
    raw: Map<String, Value>,
    encoding: Encoding,
    listed: &[String],
    principal: Option<&str>,
) -> Option<Caller> {
    let sub = subject(raw.get("sub")).or_else(|| {
        principal
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned)
    })?;
    let scopes = scopes::collect(&raw, listed);
    let claims = claims::restore_all(&raw, encoding);
    Some(Caller {
        sub,
        scopes,
        claims,
    })
}

fn subject(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
