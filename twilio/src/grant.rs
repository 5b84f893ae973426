//! The grants an Access Token carries, one per Twilio product.
//!
//! Each grant's [`Grant::payload`] mirrors the `toPayload()` of its class in
//! twilio-node: an option that is unset or empty is left out (JavaScript's
//! `if (this.x)` skips `undefined` and `""` alike), and keys are written in
//! the order twilio-node writes them.

use crate::js_json::{JsObject, JsValue};

/// Voice SDK grant (`voice`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceGrant {
    /// Whether this identity may receive calls (`incoming.allow`); written only when true.
    pub incoming_allow: bool,
    /// TwiML application called for outgoing calls (`outgoing.application_sid`, `AP...`).
    pub outgoing_application_sid: Option<String>,
    /// Parameters passed to that application (`outgoing.params`); written only with an application SID.
    pub outgoing_application_params: Option<JsObject>,
    /// Push credential for incoming-call notifications (`push_credential_sid`, `CR...`).
    pub push_credential_sid: Option<String>,
    /// Endpoint identifier of this device (`endpoint_id`).
    pub endpoint_id: Option<String>,
}

/// Video grant (`video`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoGrant {
    /// Room name or SID (`room`); without it the token admits to any room.
    pub room: Option<String>,
}

/// Conversations / Chat grant (`chat`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatGrant {
    /// Conversations service (`service_sid`, `IS...`).
    pub service_sid: Option<String>,
    /// Endpoint identifier (`endpoint_id`).
    pub endpoint_id: Option<String>,
    /// Role given to the user (`deployment_role_sid`, `RL...`).
    pub deployment_role_sid: Option<String>,
    /// Push credential (`push_credential_sid`, `CR...`).
    pub push_credential_sid: Option<String>,
}

/// Sync grant (`data_sync`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncGrant {
    /// Sync service (`service_sid`, `IS...`).
    pub service_sid: Option<String>,
    /// Endpoint identifier (`endpoint_id`).
    pub endpoint_id: Option<String>,
}

/// TaskRouter grant (`task_router`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskRouterGrant {
    /// Workspace (`workspace_sid`, `WS...`).
    pub workspace_sid: Option<String>,
    /// Worker (`worker_sid`, `WK...`).
    pub worker_sid: Option<String>,
    /// Role (`role`).
    pub role: Option<String>,
}

/// Live Player grant (`player`): the playback grant object returned by
/// Twilio's `PlaybackGrant` API, copied into the token as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlaybackGrant {
    /// The grant object; `None` writes `{}`.
    pub grant: Option<JsObject>,
}

/// One grant of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Grant {
    /// `voice`
    Voice(VoiceGrant),
    /// `video`
    Video(VideoGrant),
    /// `chat`
    Chat(ChatGrant),
    /// `data_sync`
    Sync(SyncGrant),
    /// `task_router`
    TaskRouter(TaskRouterGrant),
    /// `player`
    Playback(PlaybackGrant),
}

impl Grant {
    /// The key under `grants` in the token payload.
    pub fn key(&self) -> &'static str {
        match self {
            Grant::Voice(_) => "voice",
            Grant::Video(_) => "video",
            Grant::Chat(_) => "chat",
            Grant::Sync(_) => "data_sync",
            Grant::TaskRouter(_) => "task_router",
            Grant::Playback(_) => "player",
        }
    }

    /// The grant's payload object, as twilio-node's `toPayload()` builds it.
    pub fn payload(&self) -> JsObject {
        let mut out = JsObject::new();
        match self {
            Grant::Voice(g) => {
                if g.incoming_allow {
                    out.insert("incoming", JsObject::new().with("allow", true));
                }
                if let Some(sid) = set(&g.outgoing_application_sid) {
                    let mut outgoing = JsObject::new().with("application_sid", sid);
                    // An empty object is truthy in JavaScript, so `{}` is written.
                    if let Some(params) = &g.outgoing_application_params {
                        outgoing.insert("params", params.clone());
                    }
                    out.insert("outgoing", outgoing);
                }
                put(&mut out, "push_credential_sid", &g.push_credential_sid);
                put(&mut out, "endpoint_id", &g.endpoint_id);
            }
            Grant::Video(g) => put(&mut out, "room", &g.room),
            Grant::Chat(g) => {
                put(&mut out, "service_sid", &g.service_sid);
                put(&mut out, "endpoint_id", &g.endpoint_id);
                put(&mut out, "deployment_role_sid", &g.deployment_role_sid);
                put(&mut out, "push_credential_sid", &g.push_credential_sid);
            }
            Grant::Sync(g) => {
                put(&mut out, "service_sid", &g.service_sid);
                put(&mut out, "endpoint_id", &g.endpoint_id);
            }
            Grant::TaskRouter(g) => {
                put(&mut out, "workspace_sid", &g.workspace_sid);
                put(&mut out, "worker_sid", &g.worker_sid);
                put(&mut out, "role", &g.role);
            }
            Grant::Playback(g) => {
                if let Some(grant) = &g.grant {
                    out = grant.clone();
                }
            }
        }
        out
    }
}

/// The value when it is set and non-empty (JavaScript truthiness of a string).
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn put(out: &mut JsObject, key: &str, value: &Option<String>) {
    if let Some(v) = set(value) {
        out.insert(key, JsValue::from(v));
    }
}

macro_rules! grant_from {
    ($($ty:ident => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for Grant {
            fn from(grant: $ty) -> Self {
                Grant::$variant(grant)
            }
        })*
    };
}

grant_from! {
    VoiceGrant => Voice,
    VideoGrant => Video,
    ChatGrant => Chat,
    SyncGrant => Sync,
    TaskRouterGrant => TaskRouter,
    PlaybackGrant => Playback,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(grant: impl Into<Grant>) -> String {
        grant.into().payload().to_json_string()
    }

    #[test]
    fn empty_grants_write_empty_objects() {
        assert_eq!(json(VoiceGrant::default()), "{}");
        assert_eq!(json(VideoGrant::default()), "{}");
        assert_eq!(json(ChatGrant::default()), "{}");
        assert_eq!(json(SyncGrant::default()), "{}");
        assert_eq!(json(TaskRouterGrant::default()), "{}");
        assert_eq!(json(PlaybackGrant::default()), "{}");
    }

    #[test]
    fn empty_strings_are_omitted_like_unset_options() {
        let video = VideoGrant {
            room: Some(String::new()),
        };
        assert_eq!(json(video), "{}");
        let voice = VoiceGrant {
            outgoing_application_sid: Some(String::new()),
            outgoing_application_params: Some(JsObject::new().with("a", "b")),
            ..VoiceGrant::default()
        };
        assert_eq!(json(voice), "{}");
    }

    #[test]
    fn voice_params_need_an_application_sid_and_keep_empty_objects() {
        let voice = VoiceGrant {
            outgoing_application_sid: Some("AP1".into()),
            outgoing_application_params: Some(JsObject::new()),
            ..VoiceGrant::default()
        };
        assert_eq!(
            json(voice),
            r#"{"outgoing":{"application_sid":"AP1","params":{}}}"#
        );
    }

    #[test]
    fn voice_full_grant_keeps_twilio_node_key_order() {
        let voice = VoiceGrant {
            incoming_allow: true,
            outgoing_application_sid: Some("AP1".into()),
            outgoing_application_params: Some(JsObject::new().with("to", "bob")),
            push_credential_sid: Some("CR1".into()),
            endpoint_id: Some("e1".into()),
        };
        assert_eq!(
            json(voice),
            r#"{"incoming":{"allow":true},"outgoing":{"application_sid":"AP1","params":{"to":"bob"}},"push_credential_sid":"CR1","endpoint_id":"e1"}"#
        );
    }

    #[test]
    fn grant_keys_match_twilio_node() {
        let keys: Vec<_> = [
            Grant::from(VoiceGrant::default()),
            VideoGrant::default().into(),
            ChatGrant::default().into(),
            SyncGrant::default().into(),
            TaskRouterGrant::default().into(),
            PlaybackGrant::default().into(),
        ]
        .iter()
        .map(Grant::key)
        .collect();
        assert_eq!(
            keys,
            [
                "voice",
                "video",
                "chat",
                "data_sync",
                "task_router",
                "player"
            ]
        );
    }
}
