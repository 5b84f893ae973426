//! Twilio Access Tokens, byte for byte as twilio-node's `jwt.AccessToken`
//! makes them: same header, same payload (key order included), same HMAC, so
//! the same inputs at the same second give the same token string.
//!
//! ```
//! use twilio_access_token::{AccessToken, Algorithm, VoiceGrant};
//! let token = AccessToken::new(
//!     "AC00000000000000000000000000000000",
//!     "SK00000000000000000000000000000000",
//!     "api key secret",
//!     "alice",
//! )
//! .algorithm(Algorithm::Hs512)
//! .grant(VoiceGrant { incoming_allow: true, ..VoiceGrant::default() })
//! .sign()
//! .unwrap();
//! assert_eq!(token.expires_at - token.issued_at, 3600);
//! ```

mod error;
mod grant;
pub mod js_json;
mod token;

pub use error::AccessTokenError;
pub use grant::{
    ChatGrant, Grant, PlaybackGrant, SyncGrant, TaskRouterGrant, VideoGrant, VoiceGrant,
};
pub use js_json::{JsObject, JsValue};
pub use token::{
    AccessToken, Algorithm, ApiKeySecret, CONTENT_TYPE, DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS,
    SignedAccessToken,
};
