//! One authorizer per process, configured as hostile deployments are: an inline JWKS (no
//! network), public paths, required scopes, an HMAC secret; and the runtime to drive it.

use std::sync::OnceLock;

use authorizer::{Authorizer, Config};
use serde_json::json;
use testkit::TestKey;

pub(crate) const ISSUER: &str = "https://fuzz.example.com/";
pub(crate) const AUDIENCE: &str = "https://api.example.com";
/// An HMAC secret the configuration names by variable; it must never appear in an error.
pub(crate) const SECRET: &str = "fuzz-secret-of-at-least-thirty-two-bytes";
/// `methodArn` of a protected route without scope rules.
pub(crate) const PRIVATE_ARN: &str =
    "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/private";

pub(crate) struct Fixture {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) key: TestKey,
    pub(crate) authorizer: Authorizer,
    pub(crate) config: Config,
}

/// The document the authorizer runs with: what the path and event targets check against.
pub(crate) fn document(key: &TestKey) -> serde_json::Value {
    json!({
        "issuers": [{
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks": TestKey::jwks(&[key]),
            "hmac": [{"kid": "shared", "secret_env": "FUZZ_SECRET"}],
        }],
        "public_paths": ["/", "/public", "/login/*", "/a-b_c~/x"],
        "required_scopes": {"GET /shows": "read:shows", "ANY /admin/*": "admin"},
        "token_sources": [
            {"header": "Authorization", "prefix": "Bearer"},
            {"query": "access_token"},
            {"cookie": "session"},
        ],
    })
}

pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let key = TestKey::ec_p256();
        let text = document(&key).to_string();
        let lookup = |name: &str| match name {
            "AUTHORIZER_CONFIG" => Some(text.clone()),
            "AUTHORIZER_CACHE_TTL_SECONDS" => Some("0".to_owned()),
            "FUZZ_SECRET" => Some(SECRET.to_owned()),
            _ => None,
        };
        let config = Config::from_lookup(lookup).expect("fuzz configuration");
        let authorizer = {
            let _guard = runtime.enter();
            Authorizer::new(config.clone()).expect("fuzz authorizer")
        };
        Fixture {
            runtime,
            key,
            authorizer,
            config,
        }
    })
}
