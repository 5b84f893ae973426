//! What one request gets: the configured grants, narrowed by `?grants=` and
//! `?room=`, never widened. Pure: no I/O, no clock.

use twilio_access_token::{ChatGrant, Grant, SyncGrant, VideoGrant, VoiceGrant};

use crate::config::{MAX_ROOM_NAME_CHARS, RoomPolicy, TokenConfig};
use crate::error::{TokenError, echo};

/// A grant the route can hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum GrantKind {
    Voice,
    Video,
    Chat,
    Sync,
}

impl GrantKind {
    fn parse(name: &str) -> Result<Self, TokenError> {
        match name.to_ascii_lowercase().as_str() {
            "voice" => Ok(GrantKind::Voice),
            "video" => Ok(GrantKind::Video),
            "chat" | "conversations" => Ok(GrantKind::Chat),
            "sync" | "data_sync" => Ok(GrantKind::Sync),
            _ => Err(TokenError::UnknownGrant(echo(name))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            GrantKind::Voice => "voice",
            GrantKind::Video => "video",
            GrantKind::Chat => "chat",
            GrantKind::Sync => "sync",
        }
    }

    fn enabled(self, config: &TokenConfig) -> bool {
        match self {
            GrantKind::Voice => config.voice.is_some(),
            GrantKind::Video => config.video.is_some(),
            GrantKind::Chat => config.conversations.is_some(),
            GrantKind::Sync => config.sync_service_sid.is_some(),
        }
    }
}

const ALL: [GrantKind; 4] = [
    GrantKind::Voice,
    GrantKind::Video,
    GrantKind::Chat,
    GrantKind::Sync,
];

/// The query parameters that matter, as the request gave them.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Query<'a> {
    /// Every `grants=` value (each a comma-separated list); `None`: not given.
    pub(crate) grants: Option<&'a [&'a str]>,
    /// Every `room=` value.
    pub(crate) rooms: &'a [&'a str],
}

/// The grants for one token, in a fixed order (voice, video, chat, sync).
pub(crate) fn select(config: &TokenConfig, query: Query<'_>) -> Result<Vec<Grant>, TokenError> {
    let kinds = match query.grants {
        None => ALL.into_iter().filter(|k| k.enabled(config)).collect(),
        Some(values) => requested_kinds(config, values)?,
    };
    let room = requested_room(query.rooms)?;
    if room.is_some() && !kinds.contains(&GrantKind::Video) {
        return Err(TokenError::RoomWithoutVideo);
    }

    let mut grants = Vec::with_capacity(kinds.len());
    for kind in kinds {
        grants.push(match kind {
            GrantKind::Voice => {
                let voice = config
                    .voice
                    .as_ref()
                    .ok_or(TokenError::GrantNotEnabled("voice"))?;
                Grant::from(VoiceGrant {
                    incoming_allow: voice.incoming_allow,
                    outgoing_application_sid: voice.application_sid.clone(),
                    outgoing_application_params: None,
                    push_credential_sid: voice.push_credential_sid.clone(),
                    endpoint_id: None,
                })
            }
            GrantKind::Video => {
                let policy = config
                    .video
                    .as_ref()
                    .ok_or(TokenError::GrantNotEnabled("video"))?;
                Grant::from(VideoGrant {
                    room: video_room(policy, room)?,
                })
            }
            GrantKind::Chat => {
                let chat = config
                    .conversations
                    .as_ref()
                    .ok_or(TokenError::GrantNotEnabled("chat"))?;
                Grant::from(ChatGrant {
                    service_sid: Some(chat.service_sid.clone()),
                    push_credential_sid: chat.push_credential_sid.clone(),
                    ..ChatGrant::default()
                })
            }
            GrantKind::Sync => {
                let service = config
                    .sync_service_sid
                    .as_ref()
                    .ok_or(TokenError::GrantNotEnabled("sync"))?;
                Grant::from(SyncGrant {
                    service_sid: Some(service.clone()),
                    endpoint_id: None,
                })
            }
        });
    }
    Ok(grants)
}

fn requested_kinds(config: &TokenConfig, values: &[&str]) -> Result<Vec<GrantKind>, TokenError> {
    let mut kinds = Vec::new();
    for name in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let kind = GrantKind::parse(name)?;
        if !kind.enabled(config) {
            return Err(TokenError::GrantNotEnabled(kind.name()));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(TokenError::EmptyGrants);
    }
    kinds.sort_unstable();
    kinds.dedup();
    Ok(kinds)
}

fn requested_room<'a>(rooms: &[&'a str]) -> Result<Option<&'a str>, TokenError> {
    match rooms {
        [] => Ok(None),
        [room] if !room.is_empty() && room.chars().count() <= MAX_ROOM_NAME_CHARS => Ok(Some(room)),
        _ => Err(TokenError::InvalidRoom),
    }
}

/// The room written into the video grant (`None`: all rooms).
fn video_room(policy: &RoomPolicy, requested: Option<&str>) -> Result<Option<String>, TokenError> {
    match (policy, requested) {
        (RoomPolicy::Any, room) => Ok(room.map(str::to_owned)),
        (RoomPolicy::Only(allowed), Some(room)) => {
            if allowed.iter().any(|a| a == room) {
                Ok(Some(room.to_owned()))
            } else {
                Err(TokenError::RoomNotAllowed(echo(room)))
            }
        }
        (RoomPolicy::Only(allowed), None) => match allowed.as_slice() {
            [only] => Ok(Some(only.clone())),
            _ => Err(TokenError::RoomRequired(allowed.join(", "))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConversationsSettings, Secret, VoiceSettings};

    fn config(video: RoomPolicy) -> TokenConfig {
        TokenConfig {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            api_key_sid: "SK0123456789abcdef0123456789abcdef".into(),
            api_key_secret: Secret::new("s"),
            ttl_seconds: 3600,
            region: None,
            voice: Some(VoiceSettings {
                application_sid: Some("AP0123456789abcdef0123456789abcdef".into()),
                incoming_allow: true,
                push_credential_sid: None,
            }),
            video: Some(video),
            conversations: Some(ConversationsSettings {
                service_sid: "IS0123456789abcdef0123456789abcdef".into(),
                push_credential_sid: None,
            }),
            sync_service_sid: None,
        }
    }

    fn keys(grants: &[Grant]) -> Vec<&'static str> {
        grants.iter().map(Grant::key).collect()
    }

    fn query<'a>(grants: Option<&'a [&'a str]>, rooms: &'a [&'a str]) -> Query<'a> {
        Query { grants, rooms }
    }

    #[test]
    fn no_query_gives_every_enabled_grant() {
        let grants = select(&config(RoomPolicy::Any), Query::default()).unwrap();
        assert_eq!(keys(&grants), ["voice", "video", "chat"]);
        assert_eq!(grants[1], Grant::from(VideoGrant { room: None }));
    }

    #[test]
    fn grants_parameter_narrows_in_fixed_order_without_duplicates() {
        let grants = select(
            &config(RoomPolicy::Any),
            query(Some(&["video,VOICE", "conversations", "voice"]), &[]),
        )
        .unwrap();
        assert_eq!(keys(&grants), ["voice", "video", "chat"]);
        let grants = select(&config(RoomPolicy::Any), query(Some(&["chat"]), &[])).unwrap();
        assert_eq!(keys(&grants), ["chat"]);
    }

    #[test]
    fn grants_parameter_never_widens() {
        let err = select(&config(RoomPolicy::Any), query(Some(&["video,sync"]), &[])).unwrap_err();
        assert!(matches!(err, TokenError::GrantNotEnabled("sync")));
    }

    #[test]
    fn unknown_or_empty_grant_lists_are_rejected() {
        let config = config(RoomPolicy::Any);
        assert!(matches!(
            select(&config, query(Some(&["video,admin"]), &[])),
            Err(TokenError::UnknownGrant(name)) if name == "admin"
        ));
        assert!(matches!(
            select(&config, query(Some(&[" , "]), &[])),
            Err(TokenError::EmptyGrants)
        ));
    }

    #[test]
    fn any_room_policy_takes_the_requested_room() {
        let grants = select(
            &config(RoomPolicy::Any),
            query(Some(&["video"]), &["standup"]),
        )
        .unwrap();
        assert_eq!(
            grants,
            [Grant::from(VideoGrant {
                room: Some("standup".into())
            })]
        );
    }

    #[test]
    fn fixed_room_policy_defaults_and_refuses_other_rooms() {
        let policy = RoomPolicy::Only(vec!["standup".into()]);
        let grants = select(&config(policy.clone()), query(Some(&["video"]), &[])).unwrap();
        assert_eq!(
            grants,
            [Grant::from(VideoGrant {
                room: Some("standup".into())
            })]
        );
        assert!(matches!(
            select(&config(policy), query(None, &["boardroom"])),
            Err(TokenError::RoomNotAllowed(room)) if room == "boardroom"
        ));
    }

    #[test]
    fn several_allowed_rooms_require_a_choice() {
        let policy = RoomPolicy::Only(vec!["standup".into(), "retro".into()]);
        assert!(matches!(
            select(&config(policy.clone()), query(Some(&["video"]), &[])),
            Err(TokenError::RoomRequired(list)) if list == "standup, retro"
        ));
        let grants = select(&config(policy), query(Some(&["video"]), &["retro"])).unwrap();
        assert_eq!(
            grants,
            [Grant::from(VideoGrant {
                room: Some("retro".into())
            })]
        );
    }

    #[test]
    fn room_without_video_or_malformed_room_is_rejected() {
        let config = config(RoomPolicy::Any);
        assert!(matches!(
            select(&config, query(Some(&["voice"]), &["standup"])),
            Err(TokenError::RoomWithoutVideo)
        ));
        let long = "r".repeat(MAX_ROOM_NAME_CHARS + 1);
        for rooms in [&[""][..], &["a", "b"][..], &[long.as_str()][..]] {
            assert!(matches!(
                select(&config, query(None, rooms)),
                Err(TokenError::InvalidRoom)
            ));
        }
    }

    #[test]
    fn voice_and_chat_grants_carry_configured_sids() {
        let grants = select(&config(RoomPolicy::Any), query(Some(&["voice,chat"]), &[])).unwrap();
        assert_eq!(
            grants[0],
            Grant::from(VoiceGrant {
                incoming_allow: true,
                outgoing_application_sid: Some("AP0123456789abcdef0123456789abcdef".into()),
                ..VoiceGrant::default()
            })
        );
        assert_eq!(
            grants[1],
            Grant::from(ChatGrant {
                service_sid: Some("IS0123456789abcdef0123456789abcdef".into()),
                ..ChatGrant::default()
            })
        );
    }
}
