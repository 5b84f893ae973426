//! The individual `TWILIO_*` variables: text, trimmed (a pasted value often carries a space or a
//! newline), except the secret, which is used exactly as given.

use super::{
    ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, CONVERSATIONS_PUSH_CREDENTIAL_SID,
    CONVERSATIONS_SERVICE_SID, ConfigError, Place, REGION, Raw, RoomPolicy, SYNC_SERVICE_SID,
    Secret, Setting, TOKEN_TTL_SECONDS, VIDEO_ROOMS, VOICE_APPLICATION_SID, VOICE_INCOMING_ALLOW,
    VOICE_PUSH_CREDENTIAL_SID, only_rooms,
};

/// Reads the variables through `get` (which already treats empty as unset). `Ok(None)`: no
/// credential is set, so the route is simply not configured, whatever else is.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Raw>, ConfigError> {
    if [ACCOUNT_SID, API_KEY_SID, API_KEY_SECRET]
        .iter()
        .all(|s| get(s.var).is_none())
    {
        return Ok(None);
    }
    let text = |s: Setting| get(s.var).map(|v| v.trim().to_owned());
    let ttl = TOKEN_TTL_SECONDS;
    Ok(Some(Raw {
        account_sid: text(ACCOUNT_SID),
        api_key_sid: text(API_KEY_SID),
        api_key_secret: get(API_KEY_SECRET.var).map(Secret),
        token_ttl_seconds: text(ttl)
            .map(|v| {
                v.parse::<u64>().map_err(|_| ConfigError::InvalidTtl {
                    at: Place::Var(ttl.var),
                })
            })
            .transpose()?,
        region: text(REGION),
        voice_application_sid: text(VOICE_APPLICATION_SID),
        voice_incoming_allow: text(VOICE_INCOMING_ALLOW)
            .map(|v| flag(VOICE_INCOMING_ALLOW, &v))
            .transpose()?,
        voice_push_credential_sid: text(VOICE_PUSH_CREDENTIAL_SID),
        video_rooms: text(VIDEO_ROOMS).map(|v| rooms(&v)).transpose()?,
        conversations_service_sid: text(CONVERSATIONS_SERVICE_SID),
        conversations_push_credential_sid: text(CONVERSATIONS_PUSH_CREDENTIAL_SID),
        sync_service_sid: text(SYNC_SERVICE_SID),
    }))
}

/// `true` or `false`, in any case.
fn flag(setting: Setting, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::InvalidBool {
            at: Place::Var(setting.var),
        }),
    }
}

/// `*`, or room names separated by commas.
fn rooms(value: &str) -> Result<RoomPolicy, ConfigError> {
    if value == "*" {
        return Ok(RoomPolicy::Any);
    }
    only_rooms(Place::Var(VIDEO_ROOMS.var), value.split(',').map(str::trim))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{ConversationsSettings, Source, TokenConfig, VoiceSettings};
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const APP: &str = "AP0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "IS0123456789abcdef0123456789abcdef";
    const PUSH: &str = "CR0123456789abcdef0123456789abcdef";

    fn var(setting: Setting) -> Place {
        Place::Var(setting.var)
    }

    fn parse(vars: &[(Setting, &str)]) -> Result<Option<TokenConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.var.to_owned(), (*v).to_owned()))
            .collect();
        TokenConfig::from_lookup(|k| map.get(k).cloned())
    }

    fn with_credentials(extra: &[(Setting, &'static str)]) -> Vec<(Setting, &'static str)> {
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
        assert_eq!(
            parse(&[
                (ACCOUNT_SID, ""),
                (VIDEO_ROOMS, "*"),
                (TOKEN_TTL_SECONDS, "x")
            ]),
            Ok(None)
        );
    }

    #[test]
    fn partial_credentials_name_the_missing_variable() {
        assert_eq!(
            parse(&[(ACCOUNT_SID, ACCOUNT), (API_KEY_SID, KEY)]),
            Err(ConfigError::Missing {
                at: var(API_KEY_SECRET)
            })
        );
        assert_eq!(
            parse(&[(API_KEY_SECRET, "s")]),
            Err(ConfigError::Missing {
                at: var(ACCOUNT_SID)
            })
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
        for (setting, value, prefix) in cases {
            let mut vars = with_credentials(&[(VIDEO_ROOMS, "*")]);
            vars.retain(|(k, _)| *k != setting);
            vars.push((setting, value));
            assert_eq!(
                parse(&vars),
                Err(ConfigError::InvalidSid {
                    at: var(setting),
                    prefix
                }),
                "{}={value}",
                setting.var
            );
        }
    }

    #[test]
    fn credentials_without_products_are_rejected() {
        assert_eq!(
            parse(&with_credentials(&[])),
            Err(ConfigError::NoGrants {
                from: Source::Variables
            })
        );
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
    fn every_product_parses_with_values_trimmed() {
        let config = parse(&with_credentials(&[
            (VOICE_APPLICATION_SID, APP),
            (VOICE_INCOMING_ALLOW, "TRUE"),
            (VOICE_PUSH_CREDENTIAL_SID, PUSH),
            (VIDEO_ROOMS, " standup , retro,standup"),
            (CONVERSATIONS_SERVICE_SID, SERVICE),
            (CONVERSATIONS_PUSH_CREDENTIAL_SID, PUSH),
            (SYNC_SERVICE_SID, " IS0123456789abcdef0123456789abcdef\n"),
            (TOKEN_TTL_SECONDS, " 600"),
            (REGION, "ie1 "),
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
        for ttl in ["0", "86401", "-1", "1h", "3600.5", "99999999999999999999"] {
            assert_eq!(
                parse(&with_credentials(&[
                    (VIDEO_ROOMS, "*"),
                    (TOKEN_TTL_SECONDS, ttl)
                ])),
                Err(ConfigError::InvalidTtl {
                    at: var(TOKEN_TTL_SECONDS)
                }),
                "{ttl}"
            );
        }
    }

    #[test]
    fn bad_region_bool_and_rooms_are_rejected() {
        let bad = [
            (
                (REGION, "US1"),
                ConfigError::InvalidRegion { at: var(REGION) },
            ),
            (
                (REGION, "ié1"),
                ConfigError::InvalidRegion { at: var(REGION) },
            ),
            (
                (VOICE_INCOMING_ALLOW, "yes"),
                ConfigError::InvalidBool {
                    at: var(VOICE_INCOMING_ALLOW),
                },
            ),
            (
                (VIDEO_ROOMS, "a,,b"),
                ConfigError::InvalidRooms {
                    at: var(VIDEO_ROOMS),
                },
            ),
            (
                (VIDEO_ROOMS, "a,*"),
                ConfigError::InvalidRooms {
                    at: var(VIDEO_ROOMS),
                },
            ),
        ];
        for ((setting, value), expected) in bad {
            let vars = with_credentials(&[(SYNC_SERVICE_SID, SERVICE), (setting, value)]);
            assert_eq!(parse(&vars), Err(expected), "{}={value}", setting.var);
        }
    }

    #[test]
    fn push_credentials_without_their_product_are_rejected() {
        let err = parse(&with_credentials(&[
            (SYNC_SERVICE_SID, SERVICE),
            (VOICE_PUSH_CREDENTIAL_SID, PUSH),
        ]))
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Dependent { at, .. } if at == var(VOICE_PUSH_CREDENTIAL_SID))
        );
        assert_eq!(
            err.to_string(),
            "TWILIO_VOICE_PUSH_CREDENTIAL_SID is set but TWILIO_VOICE_APPLICATION_SID or TWILIO_VOICE_INCOMING_ALLOW=true is not"
        );
        assert_eq!(
            parse(&with_credentials(&[
                (SYNC_SERVICE_SID, SERVICE),
                (CONVERSATIONS_PUSH_CREDENTIAL_SID, PUSH)
            ])),
            Err(ConfigError::Dependent {
                at: var(CONVERSATIONS_PUSH_CREDENTIAL_SID),
                needs: CONVERSATIONS_SERVICE_SID.var,
            })
        );
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
    fn the_secret_is_used_untrimmed_and_never_shown() {
        let config = parse(&with_credentials(&[
            (VIDEO_ROOMS, "*"),
            (API_KEY_SECRET, " sekret-value-1234 "),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(config.api_key_secret, Secret::new(" sekret-value-1234 "));
        assert!(!format!("{config:?}").contains("sekret-value-1234"));
        let err = parse(&[(API_KEY_SECRET, "hunter2")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
