//! Cost of minting one Access Token (header + payload JSON, base64url, HMAC), the work the
//! `token` route does per request besides reading the caller.
//!
//! Run: `cargo bench -p twilio-access-token --bench sign`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twilio_access_token::{
    AccessToken, Algorithm, ChatGrant, JsObject, SyncGrant, VideoGrant, VoiceGrant,
};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "SKfedcba9876543210fedcba9876543210";
const SECRET: &str = "a-32-character-api-key-secret-xx";

fn video_only() -> AccessToken {
    AccessToken::new(ACCOUNT, KEY, SECRET, "auth0|65f1c2d3e4a5b6c7d8e9f0a1")
        .issued_at(1_764_000_000)
        .grant(VideoGrant {
            room: Some("standup".into()),
        })
}

fn every_route_grant() -> AccessToken {
    video_only()
        .region("ie1")
        .grant(VoiceGrant {
            incoming_allow: true,
            outgoing_application_sid: Some("AP0123456789abcdef0123456789abcdef".into()),
            outgoing_application_params: Some(JsObject::new().with("to", "+15551234567")),
            ..VoiceGrant::default()
        })
        .grant(ChatGrant {
            service_sid: Some("IS0123456789abcdef0123456789abcdef".into()),
            ..ChatGrant::default()
        })
        .grant(SyncGrant {
            service_sid: Some("ISfedcba9876543210fedcba9876543210".into()),
            endpoint_id: None,
        })
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("mint");
    let token = video_only();
    group.bench_function("video_hs256", |b| {
        b.iter(|| black_box(&token).to_jwt().unwrap());
    });
    let token = every_route_grant();
    group.bench_function("voice_video_chat_sync_hs256", |b| {
        b.iter(|| black_box(&token).to_jwt().unwrap());
    });
    let token = every_route_grant().algorithm(Algorithm::Hs512);
    group.bench_function("voice_video_chat_sync_hs512", |b| {
        b.iter(|| black_box(&token).to_jwt().unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
