//! The `TWILIO_SETTINGS` document: one JSON object whose keys are the settings' names
//! ([`super::Setting::key`]). Strict, because a deployment reads it from a secret nobody sees:
//! an unknown key (a typo), a repeated key (JSON parsers usually keep the last one silently),
//! a value of the wrong type and an explicit `null` are errors, never a default. Values are
//! used exactly as written (no trimming).
//!
//! serde_json's own messages are never shown: some quote the value they refused, and a value
//! here may be the API key secret. Errors name the key and the value's type only.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::Value;
use serde_json::error::Category;

use super::{
    ALL_SETTINGS, ConfigError, Place, Raw, RoomPolicy, Secret, Setting, TOKEN_TTL_SECONDS,
    VIDEO_ROOMS, VOICE_INCOMING_ALLOW, only_rooms,
};

/// Longest piece of an unknown key echoed in an error.
const KEY_ECHO_MAX_CHARS: usize = 40;

/// The document's members in the order written, duplicates kept (so they can be refused).
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Value>()? {
            members.push(member);
        }
        Ok(Members(members))
    }
}

/// Reads the document `text` (not blank: blank is unset).
pub(super) fn read(text: &str) -> Result<Raw, ConfigError> {
    if text.trim_start().starts_with("{{resolve:") {
        return Err(ConfigError::UnresolvedReference);
    }
    // Values are any JSON, so the only data error left is a document that is not an object.
    let Members(members) = serde_json::from_str(text).map_err(|e| match e.classify() {
        Category::Data => ConfigError::NotAnObject,
        Category::Syntax | Category::Eof | Category::Io => ConfigError::NotJson {
            line: e.line(),
            column: e.column(),
        },
    })?;

    let mut found: Vec<(Setting, Value)> = Vec::with_capacity(members.len());
    for (key, value) in members {
        let Some(setting) = ALL_SETTINGS.iter().find(|s| s.key == key) else {
            return Err(ConfigError::UnknownKey { key: echo(&key) });
        };
        if found.iter().any(|(s, _)| s == setting) {
            return Err(ConfigError::DuplicateKey { key: setting.key });
        }
        found.push((*setting, value));
    }
    let value = |setting: Setting| {
        found
            .iter()
            .find(|(s, _)| *s == setting)
            .map(|(_, v)| (Place::Key(setting.key), v))
    };
    let string = |setting: Setting| {
        value(setting)
            .map(|(at, v)| string(at, v).map(str::to_owned))
            .transpose()
    };

    Ok(Raw {
        account_sid: string(super::ACCOUNT_SID)?,
        api_key_sid: string(super::API_KEY_SID)?,
        api_key_secret: string(super::API_KEY_SECRET)?.map(Secret),
        token_ttl_seconds: value(TOKEN_TTL_SECONDS)
            .map(|(at, v)| seconds(at, v))
            .transpose()?,
        region: string(super::REGION)?,
        voice_application_sid: string(super::VOICE_APPLICATION_SID)?,
        voice_incoming_allow: value(VOICE_INCOMING_ALLOW)
            .map(|(at, v)| match v {
                Value::Bool(b) => Ok(*b),
                other => Err(wrong_type(at, "true or false", other)),
            })
            .transpose()?,
        voice_push_credential_sid: string(super::VOICE_PUSH_CREDENTIAL_SID)?,
        video_rooms: value(VIDEO_ROOMS).map(|(at, v)| rooms(at, v)).transpose()?,
        conversations_service_sid: string(super::CONVERSATIONS_SERVICE_SID)?,
        conversations_push_credential_sid: string(super::CONVERSATIONS_PUSH_CREDENTIAL_SID)?,
        sync_service_sid: string(super::SYNC_SERVICE_SID)?,
    })
}

/// A non-empty string.
fn string(at: Place, value: &Value) -> Result<&str, ConfigError> {
    match value {
        Value::String(s) if s.is_empty() => Err(ConfigError::Empty { at }),
        Value::String(s) => Ok(s),
        other => Err(wrong_type(at, "a string", other)),
    }
}

/// A whole number (its range is checked with the other rules).
fn seconds(at: Place, value: &Value) -> Result<u64, ConfigError> {
    match value {
        Value::Number(n) => n.as_u64().ok_or(ConfigError::InvalidTtl { at }),
        other => Err(wrong_type(at, "a whole number of seconds", other)),
    }
}

/// `"*"`, or a non-empty list of room names.
fn rooms(at: Place, value: &Value) -> Result<RoomPolicy, ConfigError> {
    match value {
        Value::String(s) if s == "*" => Ok(RoomPolicy::Any),
        Value::Array(items) => {
            let names = items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(wrong_type(at, "a list of room names (strings)", other)),
                })
                .collect::<Result<Vec<&str>, _>>()?;
            only_rooms(at, names)
        }
        Value::String(_) => Err(ConfigError::InvalidRooms { at }),
        other => Err(wrong_type(at, "\"*\" or a list of room names", other)),
    }
}

fn wrong_type(at: Place, expected: &'static str, found: &Value) -> ConfigError {
    ConfigError::WrongType {
        at,
        expected,
        found: describe(found),
    }
}

/// A value's type in words; the value itself is never shown (it may be the secret).
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An unknown key, cut short (it is the document author's text, not a setting name).
fn echo(key: &str) -> String {
    let mut out: String = key.chars().take(KEY_ECHO_MAX_CHARS).collect();
    if key.chars().count() > KEY_ECHO_MAX_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{
        ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, CONVERSATIONS_PUSH_CREDENTIAL_SID,
        CONVERSATIONS_SERVICE_SID, ConversationsSettings, REGION, SETTINGS, SYNC_SERVICE_SID,
        Source, TokenConfig, VOICE_APPLICATION_SID, VOICE_PUSH_CREDENTIAL_SID, VoiceSettings,
    };
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const APP: &str = "AP0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "IS0123456789abcdef0123456789abcdef";
    const PUSH: &str = "CR0123456789abcdef0123456789abcdef";
    const SECRET: &str = "document-api-key-secret-value-77";

    fn parse(text: &str) -> Result<Option<TokenConfig>, ConfigError> {
        TokenConfig::from_lookup(|k| (k == SETTINGS).then(|| text.to_owned()))
    }

    /// The credentials and one product, with `changes` merged in (`null` removes a key).
    fn document(changes: Value) -> String {
        let mut doc = json!({
            "account_sid": ACCOUNT,
            "api_key_sid": KEY,
            "api_key_secret": SECRET,
            "sync_service_sid": SERVICE,
        });
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                doc.as_object_mut().unwrap().remove(k);
            } else {
                doc[k] = v.clone();
            }
        }
        doc.to_string()
    }

    fn one(key: &str, value: Value) -> Value {
        Value::Object([(key.to_owned(), value)].into_iter().collect())
    }

    fn key(setting: Setting) -> Place {
        Place::Key(setting.key)
    }

    fn assert_refused(text: &str, expected: ConfigError) {
        let err = parse(text).unwrap_err();
        assert_eq!(err, expected, "{text}");
        let message = err.to_string();
        assert!(!message.contains(SECRET), "{message}");
    }

    #[test]
    fn a_full_document_parses_into_every_grant() {
        // As `aws secretsmanager create-secret --secret-string file://...` stores it: pretty-printed.
        let text = format!(
            r#"{{
  "account_sid": "{ACCOUNT}",
  "api_key_sid": "{KEY}",
  "api_key_secret": "{SECRET}",
  "token_ttl_seconds": 600,
  "region": "ie1",
  "voice_application_sid": "{APP}",
  "voice_incoming_allow": true,
  "voice_push_credential_sid": "{PUSH}",
  "video_rooms": ["standup", "retro", "standup"],
  "conversations_service_sid": "{SERVICE}",
  "conversations_push_credential_sid": "{PUSH}",
  "sync_service_sid": "{SERVICE}"
}}
"#
        );
        let config = parse(&text).unwrap().unwrap();
        assert_eq!(config.account_sid, ACCOUNT);
        assert_eq!(config.api_key_sid, KEY);
        assert_eq!(config.api_key_secret, Secret::new(SECRET));
        assert_eq!(config.ttl_seconds, 600);
        assert_eq!(config.region.as_deref(), Some("ie1"));
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
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn a_minimal_document_takes_the_defaults() {
        let config = parse(&document(
            json!({"video_rooms": "*", "sync_service_sid": null}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(config.ttl_seconds, 3600);
        assert_eq!(config.region, None);
        assert_eq!(config.video, Some(RoomPolicy::Any));
        assert_eq!(config.enabled_grants(), ["video"]);
        let config = parse(&document(json!({"voice_incoming_allow": false})))
            .unwrap()
            .unwrap();
        assert_eq!(config.voice, None);
    }

    #[test]
    fn text_that_is_not_json_names_where_it_stops() {
        for (text, line, column) in [
            ("{\"account_sid\": \"AC\",}", 1, 22),
            ("{\"account_sid\"", 1, 14),
            ("sekret-as-plain-text", 1, 1),
            ("{} trailing", 1, 4),
        ] {
            assert_refused(text, ConfigError::NotJson { line, column });
        }
    }

    #[test]
    fn deeply_nested_values_stop_at_the_parser_limit_without_a_crash() {
        let deep = format!(
            "{{\"video_rooms\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(matches!(
            parse(&deep),
            Err(ConfigError::NotJson { line: 1, .. })
        ));
    }

    #[test]
    fn json_that_is_not_an_object_is_refused_without_echo() {
        for text in [
            "\"document-api-key-secret-value-77\"",
            "[1, 2]",
            "42",
            "null",
            "true",
        ] {
            assert_refused(text, ConfigError::NotAnObject);
        }
    }

    #[test]
    fn unresolved_dynamic_reference_is_named() {
        assert_refused(
            "{{resolve:secretsmanager:twilio/settings}}",
            ConfigError::UnresolvedReference,
        );
    }

    #[test]
    fn unknown_keys_are_refused_and_cut_short() {
        assert_refused(
            &document(json!({"video_room": "*"})),
            ConfigError::UnknownKey {
                key: "video_room".into(),
            },
        );
        // The variable's name is not a key.
        assert_refused(
            &document(json!({"TWILIO_ACCOUNT_SID": ACCOUNT})),
            ConfigError::UnknownKey {
                key: "TWILIO_ACCOUNT_SID".into(),
            },
        );
        let long = "k".repeat(500);
        let err = parse(&document(one(&long, json!(1)))).unwrap_err();
        assert!(!err.to_string().contains(&long));
        assert!(err.to_string().contains(&"k".repeat(KEY_ECHO_MAX_CHARS)));
    }

    #[test]
    fn repeated_keys_are_refused() {
        let text = format!(
            r#"{{"account_sid": "{ACCOUNT}", "api_key_sid": "{KEY}", "api_key_secret": "{SECRET}",
                "video_rooms": ["standup"], "video_rooms": "*"}}"#
        );
        assert_refused(
            &text,
            ConfigError::DuplicateKey {
                key: VIDEO_ROOMS.key,
            },
        );
        let text = format!(
            r#"{{"account_sid": "{ACCOUNT}", "account_sid": "{ACCOUNT}", "api_key_sid": "{KEY}"}}"#
        );
        assert_refused(
            &text,
            ConfigError::DuplicateKey {
                key: ACCOUNT_SID.key,
            },
        );
    }

    #[test]
    fn values_of_the_wrong_type_are_refused_naming_the_type_only() {
        let cases = [
            (
                json!({"api_key_secret": 12345}),
                API_KEY_SECRET,
                "a string",
                "a number",
            ),
            (
                json!({"account_sid": [ACCOUNT]}),
                ACCOUNT_SID,
                "a string",
                "a list",
            ),
            (
                json!({"token_ttl_seconds": "3600"}),
                TOKEN_TTL_SECONDS,
                "a whole number of seconds",
                "a string",
            ),
            (
                json!({"voice_incoming_allow": "true"}),
                VOICE_INCOMING_ALLOW,
                "true or false",
                "a string",
            ),
            (
                json!({"region": {"name": "ie1"}}),
                REGION,
                "a string",
                "an object",
            ),
            (
                json!({"video_rooms": true}),
                VIDEO_ROOMS,
                "\"*\" or a list of room names",
                "a boolean",
            ),
            (
                json!({"video_rooms": ["standup", 7]}),
                VIDEO_ROOMS,
                "a list of room names (strings)",
                "a number",
            ),
        ];
        for (changes, setting, expected, found) in cases {
            assert_refused(
                &document(changes),
                ConfigError::WrongType {
                    at: key(setting),
                    expected,
                    found,
                },
            );
        }
    }

    #[test]
    fn null_never_means_unset() {
        let text = format!(
            r#"{{"account_sid": "{ACCOUNT}", "api_key_sid": "{KEY}", "api_key_secret": "{SECRET}",
                "sync_service_sid": "{SERVICE}", "region": null}}"#
        );
        assert_refused(
            &text,
            ConfigError::WrongType {
                at: key(REGION),
                expected: "a string",
                found: "null",
            },
        );
    }

    #[test]
    fn empty_strings_are_refused() {
        for setting in [ACCOUNT_SID, API_KEY_SECRET, REGION, VOICE_APPLICATION_SID] {
            assert_refused(
                &document(one(setting.key, json!(""))),
                ConfigError::Empty { at: key(setting) },
            );
        }
    }

    #[test]
    fn values_are_not_trimmed() {
        assert_refused(
            &document(json!({"account_sid": format!(" {ACCOUNT}")})),
            ConfigError::InvalidSid {
                at: key(ACCOUNT_SID),
                prefix: "AC",
            },
        );
        assert_refused(
            &document(json!({"region": "ie1 "})),
            ConfigError::InvalidRegion { at: key(REGION) },
        );
    }

    #[test]
    fn rules_are_the_variables_rules_named_as_keys() {
        let cases = [
            (
                json!({"api_key_secret": null}),
                ConfigError::Missing {
                    at: key(API_KEY_SECRET),
                },
            ),
            (
                json!({"api_key_sid": ACCOUNT}),
                ConfigError::InvalidSid {
                    at: key(API_KEY_SID),
                    prefix: "SK",
                },
            ),
            (
                json!({"sync_service_sid": APP}),
                ConfigError::InvalidSid {
                    at: key(SYNC_SERVICE_SID),
                    prefix: "IS",
                },
            ),
            (
                json!({"token_ttl_seconds": 0}),
                ConfigError::InvalidTtl {
                    at: key(TOKEN_TTL_SECONDS),
                },
            ),
            (
                json!({"token_ttl_seconds": 86401}),
                ConfigError::InvalidTtl {
                    at: key(TOKEN_TTL_SECONDS),
                },
            ),
            (
                json!({"token_ttl_seconds": -5}),
                ConfigError::InvalidTtl {
                    at: key(TOKEN_TTL_SECONDS),
                },
            ),
            (
                json!({"token_ttl_seconds": 600.5}),
                ConfigError::InvalidTtl {
                    at: key(TOKEN_TTL_SECONDS),
                },
            ),
            (
                json!({"region": "IE1"}),
                ConfigError::InvalidRegion { at: key(REGION) },
            ),
            (
                json!({"video_rooms": []}),
                ConfigError::InvalidRooms {
                    at: key(VIDEO_ROOMS),
                },
            ),
            (
                json!({"video_rooms": ["standup", "*"]}),
                ConfigError::InvalidRooms {
                    at: key(VIDEO_ROOMS),
                },
            ),
            (
                json!({"video_rooms": ["r".repeat(129)]}),
                ConfigError::InvalidRooms {
                    at: key(VIDEO_ROOMS),
                },
            ),
            (
                // The variables' comma syntax is not the document's.
                json!({"video_rooms": "standup,retro"}),
                ConfigError::InvalidRooms {
                    at: key(VIDEO_ROOMS),
                },
            ),
            (
                json!({"voice_push_credential_sid": PUSH}),
                ConfigError::Dependent {
                    at: key(VOICE_PUSH_CREDENTIAL_SID),
                    needs: "voice_application_sid or voice_incoming_allow: true",
                },
            ),
            (
                json!({"conversations_push_credential_sid": PUSH}),
                ConfigError::Dependent {
                    at: key(CONVERSATIONS_PUSH_CREDENTIAL_SID),
                    needs: CONVERSATIONS_SERVICE_SID.key,
                },
            ),
            (
                json!({"sync_service_sid": null}),
                ConfigError::NoGrants {
                    from: Source::Document,
                },
            ),
        ];
        for (changes, expected) in cases {
            assert_refused(&document(changes), expected);
        }
    }

    #[test]
    fn an_empty_object_names_the_first_credential() {
        assert_refused(
            "{}",
            ConfigError::Missing {
                at: key(ACCOUNT_SID),
            },
        );
    }

    #[test]
    fn messages_name_the_variable_and_key() {
        let err = parse(&document(json!({"api_key_secret": 5}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TWILIO_SETTINGS.api_key_secret must be a string, not a number"
        );
        let err = parse(&document(json!({"video_rooms": []}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TWILIO_SETTINGS.video_rooms must be \"*\" or a list of room names of 1 to 128 characters each"
        );
    }
}
