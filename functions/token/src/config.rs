//! The route's configuration, read once from the environment at start-up.
//!
//! An empty variable counts as unset: SAM passes an empty parameter as `""`.

use std::fmt;

use twilio_access_token::{ApiKeySecret, MAX_TTL_SECONDS};

/// Twilio account SID.
pub const ACCOUNT_SID: &str = "TWILIO_ACCOUNT_SID";
/// API key SID (`SK...`) that signs the tokens.
pub const API_KEY_SID: &str = "TWILIO_API_KEY_SID";
/// API key secret.
pub const API_KEY_SECRET: &str = "TWILIO_API_KEY_SECRET";
/// Token lifetime in seconds.
pub const TOKEN_TTL_SECONDS: &str = "TWILIO_TOKEN_TTL_SECONDS";
/// Twilio region written to the token header (`twr`).
pub const REGION: &str = "TWILIO_REGION";
/// TwiML application for outgoing calls: enables the voice grant.
pub const VOICE_APPLICATION_SID: &str = "TWILIO_VOICE_APPLICATION_SID";
/// `true` lets the identity receive calls: enables the voice grant.
pub const VOICE_INCOMING_ALLOW: &str = "TWILIO_VOICE_INCOMING_ALLOW";
/// Push credential for incoming-call notifications.
pub const VOICE_PUSH_CREDENTIAL_SID: &str = "TWILIO_VOICE_PUSH_CREDENTIAL_SID";
/// Video room policy: `*` (any room) or a comma-separated list of room names.
pub const VIDEO_ROOMS: &str = "TWILIO_VIDEO_ROOMS";
/// Conversations service: enables the chat grant.
pub const CONVERSATIONS_SERVICE_SID: &str = "TWILIO_CONVERSATIONS_SERVICE_SID";
/// Push credential for Conversations notifications.
pub const CONVERSATIONS_PUSH_CREDENTIAL_SID: &str = "TWILIO_CONVERSATIONS_PUSH_CREDENTIAL_SID";
/// Sync service: enables the data_sync grant.
pub const SYNC_SERVICE_SID: &str = "TWILIO_SYNC_SERVICE_SID";

/// Default token lifetime: one hour, as twilio-node.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
/// Longest video room name Twilio accepts (`UniqueName`).
pub const MAX_ROOM_NAME_CHARS: usize = 128;

/// Why the configuration cannot be used. Each message names the variable and
/// the fix; none contains the secret.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Some Twilio credentials are set but this one is not.
    #[error(
        "{var} is not set; the Twilio credentials need {ACCOUNT_SID}, {API_KEY_SID} and {API_KEY_SECRET}"
    )]
    Missing {
        /// The unset variable.
        var: &'static str,
    },
    /// A SID is not its two-letter prefix followed by 32 hex digits.
    #[error("{var} must be {prefix} followed by 32 hexadecimal digits")]
    InvalidSid {
        /// The variable.
        var: &'static str,
        /// The expected prefix (`AC`, `SK`, ...).
        prefix: &'static str,
    },
    /// The token lifetime is not a whole number of seconds in range.
    #[error("{TOKEN_TTL_SECONDS} must be a whole number of seconds from 1 to {MAX_TTL_SECONDS}")]
    InvalidTtl,
    /// The region is not a short lower-case name such as `us1`.
    #[error(
        "{REGION} must be a Twilio region such as us1, ie1 or au1 (lower-case letters and digits)"
    )]
    InvalidRegion,
    /// A flag is neither `true` nor `false`.
    #[error("{var} must be true or false")]
    InvalidBool {
        /// The variable.
        var: &'static str,
    },
    /// The room policy has an empty or over-long room name.
    #[error(
        "{VIDEO_ROOMS} must be * or a comma-separated list of room names of 1 to {MAX_ROOM_NAME_CHARS} characters"
    )]
    InvalidRooms,
    /// A setting that only makes sense with another one.
    #[error("{var} is set but {needs} is not")]
    Dependent {
        /// The variable that is set.
        var: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// Credentials are set but no product is enabled, so every token would be useless.
    #[error(
        "no Twilio product is enabled: set at least one of {VOICE_APPLICATION_SID}, {VOICE_INCOMING_ALLOW}=true, {VIDEO_ROOMS}, {CONVERSATIONS_SERVICE_SID}, {SYNC_SERVICE_SID}"
    )]
    NoGrants,
}

/// Which video rooms a token may admit to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomPolicy {
    /// Any room: the caller may name one with `?room=`, or get a token for all rooms.
    Any,
    /// Only these rooms; with one, it is the default; with several, the caller picks one.
    Only(Vec<String>),
}

/// Voice grant settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceSettings {
    /// TwiML application for outgoing calls (`AP...`); none: no outgoing calls.
    pub application_sid: Option<String>,
    /// Whether the identity may receive calls. Default false.
    pub incoming_allow: bool,
    /// Push credential (`CR...`). Default none.
    pub push_credential_sid: Option<String>,
}

/// Conversations (chat grant) settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationsSettings {
    /// Conversations service (`IS...`).
    pub service_sid: String,
    /// Push credential (`CR...`). Default none.
    pub push_credential_sid: Option<String>,
}

/// Everything the route needs to mint tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// `TWILIO_ACCOUNT_SID` (`AC` + 32 hex).
    pub account_sid: String,
    /// `TWILIO_API_KEY_SID` (`SK` + 32 hex).
    pub api_key_sid: String,
    /// `TWILIO_API_KEY_SECRET`.
    pub api_key_secret: Secret,
    /// `TWILIO_TOKEN_TTL_SECONDS`, default 3600, at most 86400.
    pub ttl_seconds: u32,
    /// `TWILIO_REGION`, default none (Twilio's default, us1).
    pub region: Option<String>,
    /// Voice grant; on when an application SID is set or incoming calls are allowed.
    pub voice: Option<VoiceSettings>,
    /// Video grant; on when `TWILIO_VIDEO_ROOMS` is set.
    pub video: Option<RoomPolicy>,
    /// Chat grant; on when `TWILIO_CONVERSATIONS_SERVICE_SID` is set.
    pub conversations: Option<ConversationsSettings>,
    /// Sync grant (`IS...`); on when `TWILIO_SYNC_SERVICE_SID` is set.
    pub sync_service_sid: Option<String>,
}

/// The API key secret; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps the secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    pub(crate) fn api_key_secret(&self) -> ApiKeySecret {
        ApiKeySecret::new(self.0.as_str())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .field("api_key_secret", &self.api_key_secret)
            .field("ttl_seconds", &self.ttl_seconds)
            .field("region", &self.region)
            .field("voice", &self.voice)
            .field("video", &self.video)
            .field("conversations", &self.conversations)
            .field("sync_service_sid", &self.sync_service_sid)
            .finish()
    }
}

impl TokenConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Option<TokenConfig>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup`. `Ok(None)`: no Twilio
    /// credential is set at all, so the route is simply not configured.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TokenConfig>, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());

        let credentials = [ACCOUNT_SID, API_KEY_SID, API_KEY_SECRET].map(|var| (var, get(var)));
        if credentials.iter().all(|(_, value)| value.is_none()) {
            return Ok(None);
        }
        let [account_sid, api_key_sid, api_key_secret] =
            credentials.map(|(var, value)| value.ok_or(ConfigError::Missing { var }));
        let account_sid = sid(ACCOUNT_SID, "AC", account_sid?)?;
        let api_key_sid = sid(API_KEY_SID, "SK", api_key_sid?)?;
        // Not trimmed: the secret is used exactly as given.
        let api_key_secret = Secret(api_key_secret?);

        let ttl_seconds = match get(TOKEN_TTL_SECONDS) {
            None => DEFAULT_TTL_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|t| (1..=MAX_TTL_SECONDS).contains(t))
                .ok_or(ConfigError::InvalidTtl)?,
        };
        let region = get(REGION)
            .map(|r| {
                let r = r.trim().to_owned();
                let valid = r.len() <= 16
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if valid {
                    Ok(r)
                } else {
                    Err(ConfigError::InvalidRegion)
                }
            })
            .transpose()?;

        let optional_sid = |var: &'static str, prefix: &'static str| {
            get(var).map(|v| sid(var, prefix, v)).transpose()
        };

        let application_sid = optional_sid(VOICE_APPLICATION_SID, "AP")?;
        let incoming_allow = match get(VOICE_INCOMING_ALLOW) {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ConfigError::InvalidBool {
                        var: VOICE_INCOMING_ALLOW,
                    });
                }
            },
        };
        let voice_push = optional_sid(VOICE_PUSH_CREDENTIAL_SID, "CR")?;
        let voice = if application_sid.is_some() || incoming_allow {
            Some(VoiceSettings {
                application_sid,
                incoming_allow,
                push_credential_sid: voice_push,
            })
        } else if voice_push.is_some() {
            return Err(ConfigError::Dependent {
                var: VOICE_PUSH_CREDENTIAL_SID,
                needs: "TWILIO_VOICE_APPLICATION_SID or TWILIO_VOICE_INCOMING_ALLOW=true",
            });
        } else {
            None
        };

        let video = get(VIDEO_ROOMS).map(|v| room_policy(&v)).transpose()?;

        let conversations_push = optional_sid(CONVERSATIONS_PUSH_CREDENTIAL_SID, "CR")?;
        let conversations = match optional_sid(CONVERSATIONS_SERVICE_SID, "IS")? {
            Some(service_sid) => Some(ConversationsSettings {
                service_sid,
                push_credential_sid: conversations_push,
            }),
            None if conversations_push.is_some() => {
                return Err(ConfigError::Dependent {
                    var: CONVERSATIONS_PUSH_CREDENTIAL_SID,
                    needs: CONVERSATIONS_SERVICE_SID,
                });
            }
            None => None,
        };
        let sync_service_sid = optional_sid(SYNC_SERVICE_SID, "IS")?;

        if voice.is_none()
            && video.is_none()
            && conversations.is_none()
            && sync_service_sid.is_none()
        {
            return Err(ConfigError::NoGrants);
        }
        Ok(Some(TokenConfig {
            account_sid,
            api_key_sid,
            api_key_secret,
            ttl_seconds,
            region,
            voice,
            video,
            conversations,
            sync_service_sid,
        }))
    }

    /// Names of the enabled grants, for logs.
    pub fn enabled_grants(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.voice.is_some() {
            names.push("voice");
        }
        if self.video.is_some() {
            names.push("video");
        }
        if self.conversations.is_some() {
            names.push("chat");
        }
        if self.sync_service_sid.is_some() {
            names.push("sync");
        }
        names
    }
}

/// Checks `prefix` + 32 hex digits (Twilio SIDs are lower-case hex; upper
/// case is accepted too, as Twilio's API does).
fn sid(var: &'static str, prefix: &'static str, value: String) -> Result<String, ConfigError> {
    let value = value.trim().to_owned();
    let valid = value.len() == prefix.len() + 32
        && value.starts_with(prefix)
        && value[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::InvalidSid { var, prefix })
    }
}

fn room_policy(value: &str) -> Result<RoomPolicy, ConfigError> {
    if value.trim() == "*" {
        return Ok(RoomPolicy::Any);
    }
    let mut rooms = Vec::new();
    for room in value.split(',').map(str::trim) {
        if room.is_empty() || room.chars().count() > MAX_ROOM_NAME_CHARS || room == "*" {
            return Err(ConfigError::InvalidRooms);
        }
        if !rooms.iter().any(|r| r == room) {
            rooms.push(room.to_owned());
        }
    }
    Ok(RoomPolicy::Only(rooms))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    pub(crate) const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    pub(crate) const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const APP: &str = "AP0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "IS0123456789abcdef0123456789abcdef";
    const PUSH: &str = "CR0123456789abcdef0123456789abcdef";

    fn parse(vars: &[(&str, &str)]) -> Result<Option<TokenConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TokenConfig::from_lookup(|k| map.get(k).cloned())
    }

    fn with_credentials(
        extra: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let mut vars = vec![
            (ACCOUNT_SID, ACCOUNT),
            (API_KEY_SID, KEY),
            (API_KEY_SECRET, "sekret-value-1234"),
        ];
        vars.extend_from_slice(extra);
        vars
    }

    #[test]
    fn no_credentials_means_not_configured() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[(ACCOUNT_SID, ""), (VIDEO_ROOMS, "*")]), Ok(None));
    }

    #[test]
    fn partial_credentials_name_the_missing_variable() {
        assert_eq!(
            parse(&[(ACCOUNT_SID, ACCOUNT), (API_KEY_SID, KEY)]),
            Err(ConfigError::Missing {
                var: API_KEY_SECRET
            })
        );
        assert_eq!(
            parse(&[(API_KEY_SECRET, "s")]),
            Err(ConfigError::Missing { var: ACCOUNT_SID })
        );
    }

    #[test]
    fn malformed_sids_are_rejected_with_their_prefix() {
        let cases = [
            (ACCOUNT_SID, "SK0123456789abcdef0123456789abcdef", "AC"),
            (API_KEY_SID, "SK0123", "SK"),
            (API_KEY_SID, "SK0123456789abcdef0123456789abcdeg", "SK"),
            (
                VOICE_APPLICATION_SID,
                "AP0123456789abcdef0123456789abcdef0",
                "AP",
            ),
            (SYNC_SERVICE_SID, "ISé123456789abcdef0123456789abcde", "IS"),
        ];
        for (var, value, prefix) in cases {
            let mut vars = with_credentials(&[(VIDEO_ROOMS, "*")]);
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            assert_eq!(
                parse(&vars),
                Err(ConfigError::InvalidSid { var, prefix }),
                "{var}={value}"
            );
        }
    }

    #[test]
    fn credentials_without_products_are_rejected() {
        assert_eq!(parse(&with_credentials(&[])), Err(ConfigError::NoGrants));
    }

    #[test]
    fn defaults_apply_when_only_one_product_is_set() {
        let config = parse(&with_credentials(&[(VIDEO_ROOMS, "*")]))
            .unwrap()
            .unwrap();
        assert_eq!(config.ttl_seconds, 3600);
        assert_eq!(config.region, None);
        assert_eq!(config.video, Some(RoomPolicy::Any));
        assert_eq!(config.voice, None);
        assert_eq!(config.enabled_grants(), ["video"]);
    }

    #[test]
    fn every_product_parses() {
        let config = parse(&with_credentials(&[
            (VOICE_APPLICATION_SID, APP),
            (VOICE_INCOMING_ALLOW, "TRUE"),
            (VOICE_PUSH_CREDENTIAL_SID, PUSH),
            (VIDEO_ROOMS, " standup , retro,standup"),
            (CONVERSATIONS_SERVICE_SID, SERVICE),
            (CONVERSATIONS_PUSH_CREDENTIAL_SID, PUSH),
            (SYNC_SERVICE_SID, SERVICE),
            (TOKEN_TTL_SECONDS, "600"),
            (REGION, "ie1"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            config.voice,
            Some(VoiceSettings {
                application_sid: Some(APP.into()),
                incoming_allow: true,
                push_credential_sid: Some(PUSH.into()),
            })
        );
        assert_eq!(
            config.video,
            Some(RoomPolicy::Only(vec!["standup".into(), "retro".into()]))
        );
        assert_eq!(
            config.conversations,
            Some(ConversationsSettings {
                service_sid: SERVICE.into(),
                push_credential_sid: Some(PUSH.into()),
            })
        );
        assert_eq!(config.sync_service_sid.as_deref(), Some(SERVICE));
        assert_eq!(config.ttl_seconds, 600);
        assert_eq!(config.region.as_deref(), Some("ie1"));
        assert_eq!(config.enabled_grants(), ["voice", "video", "chat", "sync"]);
    }

    #[test]
    fn ttl_out_of_range_or_not_a_number_is_rejected() {
        for ttl in ["0", "86401", "-1", "1h", "3600.5"] {
            assert_eq!(
                parse(&with_credentials(&[
                    (VIDEO_ROOMS, "*"),
                    (TOKEN_TTL_SECONDS, ttl)
                ])),
                Err(ConfigError::InvalidTtl),
                "{ttl}"
            );
        }
    }

    #[test]
    fn bad_region_bool_and_rooms_are_rejected() {
        let bad = [
            ((REGION, "US1"), ConfigError::InvalidRegion),
            ((REGION, "ié1"), ConfigError::InvalidRegion),
            (
                (VOICE_INCOMING_ALLOW, "yes"),
                ConfigError::InvalidBool {
                    var: VOICE_INCOMING_ALLOW,
                },
            ),
            ((VIDEO_ROOMS, "a,,b"), ConfigError::InvalidRooms),
            ((VIDEO_ROOMS, "a,*"), ConfigError::InvalidRooms),
        ];
        for ((var, value), expected) in bad {
            let vars = with_credentials(&[(SYNC_SERVICE_SID, SERVICE), (var, value)]);
            assert_eq!(parse(&vars), Err(expected), "{var}={value}");
        }
    }

    #[test]
    fn push_credentials_without_their_product_are_rejected() {
        assert!(matches!(
            parse(&with_credentials(&[
                (SYNC_SERVICE_SID, SERVICE),
                (VOICE_PUSH_CREDENTIAL_SID, PUSH)
            ])),
            Err(ConfigError::Dependent {
                var: VOICE_PUSH_CREDENTIAL_SID,
                ..
            })
        ));
        assert!(matches!(
            parse(&with_credentials(&[
                (SYNC_SERVICE_SID, SERVICE),
                (CONVERSATIONS_PUSH_CREDENTIAL_SID, PUSH)
            ])),
            Err(ConfigError::Dependent {
                var: CONVERSATIONS_PUSH_CREDENTIAL_SID,
                ..
            })
        ));
    }

    #[test]
    fn incoming_only_voice_has_no_application() {
        let config = parse(&with_credentials(&[(VOICE_INCOMING_ALLOW, "true")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            config.voice,
            Some(VoiceSettings {
                application_sid: None,
                incoming_allow: true,
                push_credential_sid: None
            })
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_secret() {
        let config = parse(&with_credentials(&[(VIDEO_ROOMS, "*")]))
            .unwrap()
            .unwrap();
        assert!(!format!("{config:?}").contains("sekret-value-1234"));
        let err = parse(&[(API_KEY_SECRET, "hunter2")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
