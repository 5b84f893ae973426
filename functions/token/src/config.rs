//! The route's configuration, read once at start-up from one of two places:
//!
//! - `TWILIO_SETTINGS`: one JSON document holding every setting. A deployment gets it from a
//!   Secrets Manager secret (the template's `TwilioSecretId`), so one stack parameter covers
//!   the whole route. Read by `config/document.rs`.
//! - the individual `TWILIO_*` variables, one per setting, handy for local runs. Read by
//!   `config/env.rs`.
//!
//! Both at once is refused: which one wins would be a guess. Each setting has one name in each
//! place (see [`Setting`]); every error names the setting where it was read ([`Place`]), and
//! none contains a value, so the secret never reaches a log.

mod document;
mod env;

use std::fmt;

use twilio_access_token::{ApiKeySecret, MAX_TTL_SECONDS};

/// The variable holding the whole configuration as one JSON document.
pub const SETTINGS: &str = "TWILIO_SETTINGS";

/// One setting, named as an environment variable and as a key of the `TWILIO_SETTINGS` document
/// (the variable's name without `TWILIO_`, in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its environment variable.
    pub var: &'static str,
    /// Its key in the `TWILIO_SETTINGS` document.
    pub key: &'static str,
}

/// Twilio account SID (`AC...`).
pub const ACCOUNT_SID: Setting = Setting {
    var: "TWILIO_ACCOUNT_SID",
    key: "account_sid",
};
/// API key SID (`SK...`) that signs the tokens.
pub const API_KEY_SID: Setting = Setting {
    var: "TWILIO_API_KEY_SID",
    key: "api_key_sid",
};
/// API key secret.
pub const API_KEY_SECRET: Setting = Setting {
    var: "TWILIO_API_KEY_SECRET",
    key: "api_key_secret",
};
/// Token lifetime in seconds.
pub const TOKEN_TTL_SECONDS: Setting = Setting {
    var: "TWILIO_TOKEN_TTL_SECONDS",
    key: "token_ttl_seconds",
};
/// Twilio region written to the token header (`twr`).
pub const REGION: Setting = Setting {
    var: "TWILIO_REGION",
    key: "region",
};
/// TwiML application for outgoing calls: enables the voice grant.
pub const VOICE_APPLICATION_SID: Setting = Setting {
    var: "TWILIO_VOICE_APPLICATION_SID",
    key: "voice_application_sid",
};
/// `true` lets the identity receive calls: enables the voice grant.
pub const VOICE_INCOMING_ALLOW: Setting = Setting {
    var: "TWILIO_VOICE_INCOMING_ALLOW",
    key: "voice_incoming_allow",
};
/// Push credential for incoming-call notifications.
pub const VOICE_PUSH_CREDENTIAL_SID: Setting = Setting {
    var: "TWILIO_VOICE_PUSH_CREDENTIAL_SID",
    key: "voice_push_credential_sid",
};
/// Video room policy: any room, or only the rooms listed.
pub const VIDEO_ROOMS: Setting = Setting {
    var: "TWILIO_VIDEO_ROOMS",
    key: "video_rooms",
};
/// Conversations service: enables the chat grant.
pub const CONVERSATIONS_SERVICE_SID: Setting = Setting {
    var: "TWILIO_CONVERSATIONS_SERVICE_SID",
    key: "conversations_service_sid",
};
/// Push credential for Conversations notifications.
pub const CONVERSATIONS_PUSH_CREDENTIAL_SID: Setting = Setting {
    var: "TWILIO_CONVERSATIONS_PUSH_CREDENTIAL_SID",
    key: "conversations_push_credential_sid",
};
/// Sync service: enables the data_sync grant.
pub const SYNC_SERVICE_SID: Setting = Setting {
    var: "TWILIO_SYNC_SERVICE_SID",
    key: "sync_service_sid",
};

/// Every setting, in the order the README lists them.
pub const ALL_SETTINGS: [Setting; 12] = [
    ACCOUNT_SID,
    API_KEY_SID,
    API_KEY_SECRET,
    TOKEN_TTL_SECONDS,
    REGION,
    VOICE_APPLICATION_SID,
    VOICE_INCOMING_ALLOW,
    VOICE_PUSH_CREDENTIAL_SID,
    VIDEO_ROOMS,
    CONVERSATIONS_SERVICE_SID,
    CONVERSATIONS_PUSH_CREDENTIAL_SID,
    SYNC_SERVICE_SID,
];

/// Default token lifetime: one hour, as twilio-node.
pub const DEFAULT_TTL_SECONDS: u32 = 3600;
/// Longest video room name Twilio accepts (`UniqueName`).
pub const MAX_ROOM_NAME_CHARS: usize = 128;

/// Where the configuration was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The individual `TWILIO_*` variables.
    Variables,
    /// The `TWILIO_SETTINGS` document.
    Document,
}

impl Source {
    /// Where `setting` is read from in this source.
    pub fn place(self, setting: Setting) -> Place {
        match self {
            Source::Variables => Place::Var(setting.var),
            Source::Document => Place::Key(setting.key),
        }
    }

    /// The settings that enable a product, as this source names them.
    fn products(self) -> String {
        let on = |s: Setting, value: &str| match self {
            Source::Variables => format!("{}{value}", s.var),
            Source::Document => format!("{}{value}", s.key),
        };
        let is_true = match self {
            Source::Variables => "=true",
            Source::Document => ": true",
        };
        [
            on(VOICE_APPLICATION_SID, ""),
            on(VOICE_INCOMING_ALLOW, is_true),
            on(VIDEO_ROOMS, ""),
            on(CONVERSATIONS_SERVICE_SID, ""),
            on(SYNC_SERVICE_SID, ""),
        ]
        .join(", ")
    }
}

/// A setting's place in the configuration, as errors name it: `TWILIO_REGION`, or
/// `TWILIO_SETTINGS.region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An environment variable.
    Var(&'static str),
    /// A key of the `TWILIO_SETTINGS` document.
    Key(&'static str),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Var(var) => f.write_str(var),
            Place::Key(key) => write!(f, "{SETTINGS}.{key}"),
        }
    }
}

impl Place {
    fn rooms_syntax(self) -> &'static str {
        match self {
            Place::Var(_) => "* or a comma-separated list of room names",
            Place::Key(_) => "\"*\" or a list of room names",
        }
    }
}

/// Why the configuration cannot be used. Each message names the setting and the fix; none
/// contains a value (a key of the document, at most, cut short).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Some Twilio credentials are set but this one is not.
    #[error(
        "{at} is not set; Twilio credentials need the account SID, the API key SID and the API key secret"
    )]
    Missing {
        /// The missing setting.
        at: Place,
    },
    /// A SID is not its two-letter prefix followed by 32 hex digits.
    #[error("{at} must be {prefix} followed by 32 hexadecimal digits")]
    InvalidSid {
        /// The setting.
        at: Place,
        /// The expected prefix (`AC`, `SK`, ...).
        prefix: &'static str,
    },
    /// The token lifetime is not a whole number of seconds in range.
    #[error("{at} must be a whole number of seconds from 1 to {MAX_TTL_SECONDS}")]
    InvalidTtl {
        /// The setting.
        at: Place,
    },
    /// The region is not a short lower-case name such as `us1`.
    #[error(
        "{at} must be a Twilio region such as us1, ie1 or au1 (up to 16 lower-case letters and digits)"
    )]
    InvalidRegion {
        /// The setting.
        at: Place,
    },
    /// A flag variable is neither `true` nor `false`.
    #[error("{at} must be true or false")]
    InvalidBool {
        /// The setting.
        at: Place,
    },
    /// The room policy has an empty or over-long room name, or none at all.
    #[error(
        "{at} must be {} of 1 to {MAX_ROOM_NAME_CHARS} characters each", .at.rooms_syntax()
    )]
    InvalidRooms {
        /// The setting.
        at: Place,
    },
    /// A setting that only makes sense with another one.
    #[error("{at} is set but {needs} is not")]
    Dependent {
        /// The setting that is set.
        at: Place,
        /// What it needs, named as the source names it.
        needs: &'static str,
    },
    /// Credentials are set but no product is enabled, so every token would be useless.
    #[error("no Twilio product is enabled: set at least one of {}", .from.products())]
    NoGrants {
        /// Where the configuration was read from (to name the settings).
        from: Source,
    },
    /// `TWILIO_SETTINGS` and an individual variable are both set.
    #[error(
        "{SETTINGS} and {var} are both set: give the Twilio settings in one place, {SETTINGS} or the individual TWILIO_* variables"
    )]
    BothSources {
        /// The first individual variable found set.
        var: &'static str,
    },
    /// `TWILIO_SETTINGS` is a CloudFormation dynamic reference nobody resolved.
    #[error(
        "{SETTINGS} is an unresolved {{{{resolve:...}}}} reference: a deployment resolves it, sam local does not; give the JSON document itself (sam local: --env-vars)"
    )]
    UnresolvedReference,
    /// `TWILIO_SETTINGS` is not JSON.
    #[error("{SETTINGS} is not valid JSON (line {line}, column {column})")]
    NotJson {
        /// Where the parser stopped.
        line: usize,
        /// Where the parser stopped.
        column: usize,
    },
    /// `TWILIO_SETTINGS` is JSON, but not an object.
    #[error("{SETTINGS} must be a JSON object of Twilio settings ({{\"account_sid\": ...}})")]
    NotAnObject,
    /// A key of `TWILIO_SETTINGS` that names no setting.
    #[error(
        "{SETTINGS} has an unknown key {key:?}; the keys are account_sid, api_key_sid, api_key_secret, token_ttl_seconds, region, voice_application_sid, voice_incoming_allow, voice_push_credential_sid, video_rooms, conversations_service_sid, conversations_push_credential_sid, sync_service_sid"
    )]
    UnknownKey {
        /// The key, cut to a few characters.
        key: String,
    },
    /// A key given twice in `TWILIO_SETTINGS` (JSON parsers usually keep the last one silently).
    #[error("{SETTINGS} repeats the key {key:?}: give each setting once")]
    DuplicateKey {
        /// The key.
        key: &'static str,
    },
    /// A document value of the wrong JSON type (`null` included: it never means "unset").
    #[error("{at} must be {expected}, not {found}")]
    WrongType {
        /// The setting.
        at: Place,
        /// What it must be.
        expected: &'static str,
        /// What it is (its type, never its value).
        found: &'static str,
    },
    /// An empty string in the document.
    #[error("{at} is empty: give a value or leave the key out")]
    Empty {
        /// The setting.
        at: Place,
    },
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
    /// Account SID (`AC` + 32 hex).
    pub account_sid: String,
    /// API key SID (`SK` + 32 hex).
    pub api_key_sid: String,
    /// API key secret.
    pub api_key_secret: Secret,
    /// Token lifetime, default 3600, at most 86400.
    pub ttl_seconds: u32,
    /// Region, default none (Twilio's default, us1).
    pub region: Option<String>,
    /// Voice grant; on when an application SID is set or incoming calls are allowed.
    pub voice: Option<VoiceSettings>,
    /// Video grant; on when a room policy is set.
    pub video: Option<RoomPolicy>,
    /// Chat grant; on when a Conversations service is set.
    pub conversations: Option<ConversationsSettings>,
    /// Sync grant (`IS...`); on when a Sync service is set.
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

/// The settings as read, typed but not yet checked against each other. Both readers produce
/// it, so the rules (SID shapes, ranges, which setting needs which) live in one place.
#[derive(Debug, Default)]
struct Raw {
    account_sid: Option<String>,
    api_key_sid: Option<String>,
    api_key_secret: Option<Secret>,
    /// Any whole number; the range is checked with the rest.
    token_ttl_seconds: Option<u64>,
    region: Option<String>,
    voice_application_sid: Option<String>,
    voice_incoming_allow: Option<bool>,
    voice_push_credential_sid: Option<String>,
    video_rooms: Option<RoomPolicy>,
    conversations_service_sid: Option<String>,
    conversations_push_credential_sid: Option<String>,
    sync_service_sid: Option<String>,
}

impl TokenConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Option<TokenConfig>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (an empty or blank value counts as unset:
    /// SAM passes an empty parameter as `""`). `Ok(None)`: nothing configures the route.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TokenConfig>, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        match get(SETTINGS) {
            Some(text) => {
                if let Some(other) = ALL_SETTINGS.iter().find(|s| get(s.var).is_some()) {
                    return Err(ConfigError::BothSources { var: other.var });
                }
                let raw = document::read(&text)?;
                validate(raw, Source::Document).map(Some)
            }
            None => match env::read(&get)? {
                Some(raw) => validate(raw, Source::Variables).map(Some),
                None => Ok(None),
            },
        }
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

/// The rules every configuration meets, whichever place it was read from.
fn validate(raw: Raw, from: Source) -> Result<TokenConfig, ConfigError> {
    let at = |setting| from.place(setting);
    let account_sid = raw.account_sid.ok_or(ConfigError::Missing {
        at: at(ACCOUNT_SID),
    })?;
    let api_key_sid = raw.api_key_sid.ok_or(ConfigError::Missing {
        at: at(API_KEY_SID),
    })?;
    let api_key_secret = raw.api_key_secret.ok_or(ConfigError::Missing {
        at: at(API_KEY_SECRET),
    })?;
    let account_sid = sid(at(ACCOUNT_SID), "AC", account_sid)?;
    let api_key_sid = sid(at(API_KEY_SID), "SK", api_key_sid)?;

    let ttl_seconds = match raw.token_ttl_seconds {
        None => DEFAULT_TTL_SECONDS,
        Some(ttl) => u32::try_from(ttl)
            .ok()
            .filter(|t| (1..=MAX_TTL_SECONDS).contains(t))
            .ok_or(ConfigError::InvalidTtl {
                at: at(TOKEN_TTL_SECONDS),
            })?,
    };
    let region = raw
        .region
        .map(|r| {
            let valid = r.len() <= 16
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if valid {
                Ok(r)
            } else {
                Err(ConfigError::InvalidRegion { at: at(REGION) })
            }
        })
        .transpose()?;
    let optional_sid = |setting: Setting, prefix: &'static str, value: Option<String>| {
        value.map(|v| sid(at(setting), prefix, v)).transpose()
    };

    let application_sid = optional_sid(VOICE_APPLICATION_SID, "AP", raw.voice_application_sid)?;
    let incoming_allow = raw.voice_incoming_allow.unwrap_or(false);
    let voice_push = optional_sid(
        VOICE_PUSH_CREDENTIAL_SID,
        "CR",
        raw.voice_push_credential_sid,
    )?;
    let voice = if application_sid.is_some() || incoming_allow {
        Some(VoiceSettings {
            application_sid,
            incoming_allow,
            push_credential_sid: voice_push,
        })
    } else if voice_push.is_some() {
        return Err(ConfigError::Dependent {
            at: at(VOICE_PUSH_CREDENTIAL_SID),
            needs: match from {
                Source::Variables => {
                    "TWILIO_VOICE_APPLICATION_SID or TWILIO_VOICE_INCOMING_ALLOW=true"
                }
                Source::Document => "voice_application_sid or voice_incoming_allow: true",
            },
        });
    } else {
        None
    };

    let conversations_push = optional_sid(
        CONVERSATIONS_PUSH_CREDENTIAL_SID,
        "CR",
        raw.conversations_push_credential_sid,
    )?;
    let conversations = match optional_sid(
        CONVERSATIONS_SERVICE_SID,
        "IS",
        raw.conversations_service_sid,
    )? {
        Some(service_sid) => Some(ConversationsSettings {
            service_sid,
            push_credential_sid: conversations_push,
        }),
        None if conversations_push.is_some() => {
            return Err(ConfigError::Dependent {
                at: at(CONVERSATIONS_PUSH_CREDENTIAL_SID),
                needs: match from {
                    Source::Variables => CONVERSATIONS_SERVICE_SID.var,
                    Source::Document => CONVERSATIONS_SERVICE_SID.key,
                },
            });
        }
        None => None,
    };
    let sync_service_sid = optional_sid(SYNC_SERVICE_SID, "IS", raw.sync_service_sid)?;
    let video = raw.video_rooms;

    if voice.is_none() && video.is_none() && conversations.is_none() && sync_service_sid.is_none() {
        return Err(ConfigError::NoGrants { from });
    }
    Ok(TokenConfig {
        account_sid,
        api_key_sid,
        api_key_secret,
        ttl_seconds,
        region,
        voice,
        video,
        conversations,
        sync_service_sid,
    })
}

/// Checks `prefix` + 32 hex digits (Twilio SIDs are lower-case hex; upper case is accepted
/// too, as Twilio's API does).
fn sid(at: Place, prefix: &'static str, value: String) -> Result<String, ConfigError> {
    let valid = value.len() == prefix.len() + 32
        && value.starts_with(prefix)
        && value[prefix.len()..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::InvalidSid { at, prefix })
    }
}

/// Whether `room` can be a Twilio room name (`*` stands for any room, so it is not one).
fn is_room_name(room: &str) -> bool {
    !room.is_empty() && room.chars().count() <= MAX_ROOM_NAME_CHARS && room != "*"
}

/// The rooms in the order given, each once.
fn only_rooms<'a>(
    at: Place,
    rooms: impl IntoIterator<Item = &'a str>,
) -> Result<RoomPolicy, ConfigError> {
    let mut names: Vec<String> = Vec::new();
    for room in rooms {
        if !is_room_name(room) {
            return Err(ConfigError::InvalidRooms { at });
        }
        if !names.iter().any(|r| r == room) {
            names.push(room.to_owned());
        }
    }
    if names.is_empty() {
        return Err(ConfigError::InvalidRooms { at });
    }
    Ok(RoomPolicy::Only(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "IS0123456789abcdef0123456789abcdef";

    fn lookup(vars: &[(&str, &str)]) -> Result<Option<TokenConfig>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TokenConfig::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_set_means_not_configured() {
        assert_eq!(lookup(&[]), Ok(None));
        assert_eq!(lookup(&[(SETTINGS, "  ")]), Ok(None));
    }

    #[test]
    fn settings_and_a_variable_together_are_refused() {
        let document = format!(
            r#"{{"account_sid": "{ACCOUNT}", "api_key_sid": "{KEY}", "api_key_secret": "s", "sync_service_sid": "{SERVICE}"}}"#
        );
        assert!(lookup(&[(SETTINGS, &document)]).unwrap().is_some());
        for setting in ALL_SETTINGS {
            assert_eq!(
                lookup(&[(SETTINGS, &document), (setting.var, "x")]),
                Err(ConfigError::BothSources { var: setting.var }),
                "{}",
                setting.var
            );
        }
        // An empty variable is unset, so it does not count as a second place.
        assert!(
            lookup(&[(SETTINGS, &document), (VIDEO_ROOMS.var, "")])
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn every_setting_has_a_variable_and_a_key_of_the_same_name() {
        for setting in ALL_SETTINGS {
            assert_eq!(
                setting.var,
                format!("TWILIO_{}", setting.key.to_ascii_uppercase())
            );
        }
    }

    #[test]
    fn errors_name_the_place_in_the_source_terms() {
        let err = ConfigError::InvalidTtl {
            at: Source::Document.place(TOKEN_TTL_SECONDS),
        };
        assert!(
            err.to_string()
                .starts_with("TWILIO_SETTINGS.token_ttl_seconds must be")
        );
        let err = ConfigError::NoGrants {
            from: Source::Document,
        };
        assert!(
            err.to_string().contains("voice_incoming_allow: true"),
            "{err}"
        );
        let err = ConfigError::NoGrants {
            from: Source::Variables,
        };
        assert!(
            err.to_string().contains("TWILIO_VOICE_INCOMING_ALLOW=true"),
            "{err}"
        );
    }
}
