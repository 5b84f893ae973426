//! Per-request failures of the token route and the one place that maps them
//! to responses. (401 for a missing caller is `shared`'s.)

use lambda_http::http::StatusCode;
use shared::RouteError;

use crate::config::ConfigError;

/// Longest piece of caller input echoed back in an error description.
const ECHO_MAX_CHARS: usize = 40;

/// Why the route did not mint a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No Twilio credential is configured on this deployment.
    #[error("Twilio access tokens are not configured on this deployment")]
    NotConfigured,
    /// The Twilio configuration is invalid (details in the start-up log).
    #[error(
        "the Twilio configuration of this deployment is invalid; its start-up log names the setting to fix"
    )]
    Misconfigured(#[source] ConfigError),
    /// `grants=` named a grant this route does not know.
    #[error("unknown grant {0:?}: use voice, video, chat (or conversations), sync")]
    UnknownGrant(String),
    /// `grants=` was present but empty.
    #[error("grants must name at least one of voice, video, chat, sync")]
    EmptyGrants,
    /// `grants=` asked for a grant this deployment does not enable.
    #[error("the {0} grant is not enabled on this deployment")]
    GrantNotEnabled(&'static str),
    /// `room=` without the video grant.
    #[error("room applies to the video grant, which this request does not include")]
    RoomWithoutVideo,
    /// `room=` empty, too long, or given twice.
    #[error("room must be given once, with 1 to 128 characters")]
    InvalidRoom,
    /// Several rooms are allowed and none was chosen.
    #[error("choose a room with room=: one of {0}")]
    RoomRequired(String),
    /// The room is outside the configured policy.
    #[error("room {0:?} is not allowed")]
    RoomNotAllowed(String),
}

impl TokenError {
    /// A short, stable reason for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::NotConfigured => "not_configured",
            TokenError::Misconfigured(_) => "misconfigured",
            TokenError::UnknownGrant(_) => "unknown_grant",
            TokenError::EmptyGrants => "empty_grants",
            TokenError::GrantNotEnabled(_) => "grant_not_enabled",
            TokenError::RoomWithoutVideo => "room_without_video",
            TokenError::InvalidRoom => "invalid_room",
            TokenError::RoomRequired(_) => "room_required",
            TokenError::RoomNotAllowed(_) => "room_not_allowed",
        }
    }

    /// The status and the `error` code of the JSON body.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            TokenError::NotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "twilio_not_configured"),
            TokenError::Misconfigured(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "twilio_misconfigured")
            }
            TokenError::RoomNotAllowed(_) => (StatusCode::FORBIDDEN, "access_denied"),
            TokenError::UnknownGrant(_)
            | TokenError::EmptyGrants
            | TokenError::GrantNotEnabled(_)
            | TokenError::RoomWithoutVideo
            | TokenError::InvalidRoom
            | TokenError::RoomRequired(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        }
    }
}

/// The answer is `shared`'s to build and log, like every route error's. A
/// configuration error's details stay in the log: callers only learn it is broken.
impl From<TokenError> for RouteError {
    fn from(err: TokenError) -> Self {
        let (status, code) = err.status_and_code();
        RouteError::Refused {
            status,
            code,
            reason: err.reason(),
            source: Box::new(err),
        }
    }
}

/// Caller input shortened for an error message.
pub(crate) fn echo(input: &str) -> String {
    let mut out: String = input.chars().take(ECHO_MAX_CHARS).collect();
    if input.chars().count() > ECHO_MAX_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    #[test]
    fn long_input_is_shortened_when_echoed() {
        assert_eq!(echo("video"), "video");
        let long = "x".repeat(100);
        assert_eq!(echo(&long).chars().count(), ECHO_MAX_CHARS + 1);
    }

    #[test]
    fn configuration_errors_are_503_without_details() {
        let err = ConfigError::InvalidTtl {
            at: crate::config::Place::Var(crate::config::TOKEN_TTL_SECONDS.var),
        };
        let response = RouteError::from(TokenError::Misconfigured(err)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        assert!(!text.contains("TWILIO_TOKEN_TTL_SECONDS"));
        assert!(text.contains("twilio_misconfigured"));
    }
}
