//! What the authorizer decided about one event: a value, made once by the handler, from which
//! [`crate::policy::answer`] makes the answer for the event's format and
//! [`crate::logging::log_decision`] the one log line.

use serde_json::{Map, Value};

use crate::error::Reason;
use crate::event::{EventError, EventKind};

/// The decision about one event.
#[derive(Debug)]
pub(crate) enum Decision {
    /// The event could not be read: there is nobody to decide about.
    Unreadable(EventError),
    /// Let the request through.
    Allow(Allow),
    /// Refuse the request.
    Deny(Deny),
}

/// How much of the API an allow covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grant {
    /// The whole stage: the decision does not depend on the route.
    Stage,
    /// Only the requested route: path rules or required scopes make decisions route-specific.
    Route,
}

/// A verified caller, as the answer and the log line see it.
#[derive(Debug)]
pub(crate) struct Caller {
    /// `principalId` of policy answers.
    pub(crate) principal: String,
    /// `sub`, for the log line.
    pub(crate) sub: String,
    /// The authorizer context.
    pub(crate) context: Map<String, Value>,
    /// How many claims were dropped because they would have filled a reserved context key.
    pub(crate) reserved_dropped: usize,
}

/// An allow.
#[derive(Debug)]
pub(crate) struct Allow {
    /// The event's format.
    pub(crate) kind: EventKind,
    /// The verified caller; `None` for the anonymous caller of a public path.
    pub(crate) caller: Option<Caller>,
    /// How much of the API the allow covers.
    pub(crate) grant: Grant,
    /// The usage-plan key (REST answers only).
    pub(crate) usage_identifier: Option<String>,
}

/// A refusal.
#[derive(Debug)]
pub(crate) struct Deny {
    /// The event's format.
    pub(crate) kind: EventKind,
    /// Why.
    pub(crate) reason: Reason,
    /// The claim at fault, when one is (a configured name, never a value).
    pub(crate) claim: Option<String>,
    /// The verified caller this route refuses (403, naming this route only); `None` when no
    /// caller was established (the token is missing or not valid).
    pub(crate) caller: Option<Caller>,
    /// Whether the request was for a public path (a presented token is still checked there).
    pub(crate) public_path: bool,
}
