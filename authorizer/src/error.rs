//! Why a request was denied, and the error the Lambda handler returns.
//!
//! [`Reason`] is the reason code that appears in the decision log line; [`HandlerError`]
//! is what the Lambda runtime reports back to API Gateway when the answer is not a
//! JSON document. Which decision becomes which answer is decided in one place:
//! [`crate::policy::answer`].

use std::fmt;

use crate::event::EventError;

/// Why a token (or an event) was not accepted. Each variant is a stable reason code
/// written to the decision log; dashboards and alarms may match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No credential in any token source (absent, not empty: an empty one is malformed).
    MissingToken,
    /// Not a compact JWS: empty, wrong scheme, several tokens, bad base64/JSON, a missing claim.
    MalformedToken,
    /// The token is larger than we agree to parse.
    TokenTooLarge,
    /// The header names a `kid` that the issuer's JWKS does not contain (after the allowed refetch).
    UnknownKid,
    /// `alg` is `none`, HMAC without a configured secret, unknown, or not allowed for the key.
    UnsupportedAlg,
    /// The signature does not verify with the key.
    BadSignature,
    /// `exp` is in the past (beyond the configured leeway).
    Expired,
    /// `nbf` is in the future (beyond the configured leeway).
    NotYetValid,
    /// `iss` is missing, not a string, or names no configured issuer.
    WrongIssuer,
    /// `aud` (or Cognito's `client_id`) names none of the configured audiences.
    WrongAudience,
    /// Cognito `token_use` is missing or not allowed.
    WrongTokenUse,
    /// The header carries a `crit` parameter; we implement no JWS extension.
    CriticalHeader,
    /// No keys could be obtained from the issuer (nothing cached and the fetch failed).
    JwksUnavailable,
    /// The event is not an API Gateway authorizer event we understand.
    MalformedEvent,
    /// The token is valid but lacks a scope the route requires.
    InsufficientScope,
    /// The header `typ` is not `at+jwt` (RFC 9068) where the issuer requires access tokens.
    WrongTokenType,
    /// A claim the issuer's rules require (`iat`, or an RFC 9068 profile claim) is absent or
    /// of the wrong type.
    MissingClaim,
    /// `exp` lies further after `iat` (or after now) than the issuer's maximum token lifetime.
    LifetimeTooLong,
    /// A claim rule of the issuer or of the route does not hold for the token.
    ClaimRuleFailed,
}

impl Reason {
    /// The reason code as written to logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::MalformedToken => "malformed_token",
            Self::TokenTooLarge => "token_too_large",
            Self::UnknownKid => "unknown_kid",
            Self::UnsupportedAlg => "unsupported_alg",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongTokenUse => "wrong_token_use",
            Self::CriticalHeader => "critical_header",
            Self::JwksUnavailable => "jwks_unavailable",
            Self::MalformedEvent => "malformed_event",
            Self::InsufficientScope => "insufficient_scope",
            Self::WrongTokenType => "wrong_token_type",
            Self::MissingClaim => "missing_claim",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::ClaimRuleFailed => "claim_rule_failed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error a handler invocation ends with. The Lambda runtime reports its `Display`
/// text as `errorMessage`, which is all API Gateway looks at.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Deny with 401: API Gateway (REST, and HTTP API payload 1.0) turns a failed invocation whose
    /// message is exactly `Unauthorized` into a 401 answer. Do not change the text.
    #[error("Unauthorized")]
    Unauthorized {
        /// Why the caller was refused (logged, never sent).
        reason: Reason,
    },
    /// The event is not an authorizer event we understand (the function is wired to the wrong
    /// trigger, or the payload format is unknown). API Gateway answers 500: fail closed and loud.
    #[error("malformed authorizer event: {0}")]
    MalformedEvent(#[from] EventError),
}

impl HandlerError {
    /// True for the variant that API Gateway turns into a 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// The reason code for the decision log.
    pub fn reason(&self) -> Reason {
        match self {
            Self::Unauthorized { reason } => *reason,
            Self::MalformedEvent(_) => Reason::MalformedEvent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_display_is_exactly_unauthorized() {
        let err = HandlerError::Unauthorized {
            reason: Reason::Expired,
        };
        assert_eq!(err.to_string(), "Unauthorized");
        assert!(err.is_unauthorized());
        assert_eq!(err.reason(), Reason::Expired);
    }

    #[test]
    fn malformed_event_display_is_not_unauthorized() {
        let err = HandlerError::MalformedEvent(EventError::NoResourceArn);
        assert_ne!(err.to_string(), "Unauthorized");
        assert!(!err.is_unauthorized());
        assert_eq!(err.reason(), Reason::MalformedEvent);
    }
}
