//! The authorizer: event in, answer out, one log line per decision.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tracing::{info, warn};

use crate::alg::AlgSet;
use crate::claim_rules::{self, RouteClaimRules};
use crate::claims::{ClaimMapping, Context};
use crate::config::Config;
use crate::config_error::ConfigError;
use crate::decision::{Allow, Caller, Decision, Deny, Grant};
use crate::error::Reason;
use crate::event::{AuthorizerEvent, Wanted};
use crate::issuer::IssuerConfig;
use crate::jwks::{self, KeyMaterial, KeySet, VerifyKey};
use crate::policy::ResponseStyle;
use crate::rules::{self, PathRules, RouteScope};
use crate::snapshot::{self, LoadedEntry, SnapshotEntry, SnapshotFile};
use crate::token::{self, TokenSource};
use crate::verify::{IssuerVerifier, TokenFacts, Verifier};
use crate::{logging, policy};

pub use crate::error::HandlerError;

/// The Lambda authorizer, built once at start-up and shared by every invocation.
#[derive(Debug)]
pub struct Authorizer {
    verifier: Verifier,
    style: ResponseStyle,
    token_sources: Vec<TokenSource>,
    /// The headers and query parameters the token sources read: all an event needs to keep.
    wanted: Wanted,
    path_rules: PathRules,
    route_scopes: Vec<RouteScope>,
    route_claim_rules: Vec<RouteClaimRules>,
    claim_mapping: ClaimMapping,
    /// Whether decisions need the request's route (path rules or required scopes).
    needs_route: bool,
    /// Keys read from `JWKS_SNAPSHOT_FILE` by [`Authorizer::new`], seeded by `warm_up`.
    snapshot: Mutex<Vec<LoadedEntry>>,
    /// Key cache TTL and stale bound, which decide how long snapshot keys are trusted.
    jwks_ttl: Duration,
    jwks_max_stale: Duration,
}

impl Authorizer {
    /// Builds the HTTP client and the key caches, and reads `JWKS_SNAPSHOT_FILE` if set. No
    /// network I/O.
    pub fn new(config: Config) -> Result<Authorizer, ConfigError> {
        let snapshot = match &config.jwks_snapshot {
            None => Vec::new(),
            Some(path) => snapshot::load(path, SystemTime::now())
                .map_err(|e| ConfigError::new("JWKS_SNAPSHOT_FILE", e.to_string()))?,
        };
        let store = jwks::KeyStore::new(config.jwks)
            .map_err(|e| ConfigError::new("JWKS HTTP client", format!("cannot be built: {e}")))?;
        let needs_route = config.decisions_depend_on_route();
        let mut issuers = Vec::with_capacity(config.issuers.len());
        for issuer in config.issuers {
            let hmac = hmac_keys(&issuer);
            let keys = store.cache_for(issuer.issuer.clone(), issuer.key_source());
            issuers.push(IssuerVerifier {
                config: issuer,
                keys: Arc::new(keys),
                hmac,
            });
        }
        Ok(Authorizer {
            verifier: Verifier::new(issuers, config.leeway.as_secs()),
            style: config.response_style,
            wanted: TokenSource::wanted(&config.token_sources),
            token_sources: config.token_sources,
            path_rules: config.path_rules,
            route_scopes: config.route_scopes,
            route_claim_rules: config.route_claim_rules,
            claim_mapping: config.claim_mapping,
            needs_route,
            snapshot: Mutex::new(snapshot),
            jwks_ttl: config.jwks.cache_ttl,
            jwks_max_stale: config.jwks.max_stale,
        })
    }

    /// Seeds the key caches with the snapshot's keys, as far as they may still be trusted.
    async fn seed_from_snapshot(&self) {
        let entries =
            std::mem::take(&mut *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner));
        for entry in entries {
            let Some(issuer) = self
                .verifier
                .issuers()
                .iter()
                .find(|i| i.keys.is_remote() && i.keys.issuer() == entry.issuer)
            else {
                warn!(
                    event = "jwks_snapshot_unused_issuer",
                    issuer = %entry.issuer,
                    "the JWKS snapshot lists an issuer whose keys are not fetched; ignored"
                );
                continue;
            };
            let freshness = jwks::freshness(entry.age, self.jwks_ttl, self.jwks_max_stale);
            let age_s = entry.age.as_secs();
            let keys = entry.keys.len();
            let used = issuer.keys.seed(entry.keys, freshness).await;
            if entry.age >= self.jwks_ttl {
                // Stable event name: alarm on it and rebuild the snapshot (make jwks-snapshot).
                warn!(
                    event = snapshot::STALE_EVENT,
                    issuer = %entry.issuer,
                    age_s,
                    ttl_s = self.jwks_ttl.as_secs(),
                    max_stale_s = self.jwks_max_stale.as_secs(),
                    used,
                    "the JWKS snapshot is older than JWKS_CACHE_TTL_SECONDS; rebuild it with make jwks-snapshot"
                );
            } else {
                info!(
                    event = "jwks_snapshot_loaded",
                    issuer = %entry.issuer,
                    keys,
                    age_s,
                    "keys from the JWKS snapshot"
                );
            }
        }
    }

    /// Fetches every issuer's keys now, as `make jwks-snapshot` records them. Issuers whose keys
    /// are inline or HMAC-only are left out. Fails on the first issuer whose keys cannot be
    /// fetched or have no usable key: a snapshot is complete or not written.
    pub async fn snapshot(&self) -> Result<SnapshotFile, jwks::JwksError> {
        let mut issuers = Vec::new();
        for issuer in self.verifier.issuers() {
            if !issuer.keys.is_remote() {
                continue;
            }
            let fetched = issuer.keys.fetch_document().await?;
            info!(
                event = "jwks_snapshot_fetched",
                issuer = %issuer.keys.issuer(),
                keys = fetched.keys.len(),
                "fetched keys for the snapshot"
            );
            issuers.push(SnapshotEntry {
                issuer: issuer.keys.issuer().to_owned(),
                jwks_uri: fetched.url.to_string(),
                fetched_at: snapshot::unix_now(),
                jwks: fetched.document,
            });
        }
        Ok(SnapshotFile {
            format: snapshot::FORMAT.to_owned(),
            issuers,
        })
    }

    /// Fetches every issuer's keys, concurrently, during init. Never fails; each fetch is
    /// bounded by the JWKS timeout, and a failure is retried on first use.
    pub async fn warm_up(&self) {
        self.seed_from_snapshot().await;
        let mut fetches = tokio::task::JoinSet::new();
        for issuer in self.verifier.issuers() {
            let keys = Arc::clone(&issuer.keys);
            fetches.spawn(async move { keys.warm_up().await });
        }
        while fetches.join_next().await.is_some() {}
    }

    /// Answers one authorizer event: reads it ([`AuthorizerEvent`]), decides ([`Decision`]), and
    /// makes the answer ([`policy::answer`]) and the log line ([`logging::log_decision`]) from
    /// the decision.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        let started = Instant::now();
        let mut token = TokenFacts::default();
        let event = AuthorizerEvent::from_value_keeping(event, &self.wanted);
        let decision = match &event {
            Ok(event) => self.decide(event, &mut token).await,
            Err(err) => Decision::Unreadable(*err),
        };
        let arn = event.as_ref().ok().and_then(AuthorizerEvent::resource_arn);
        let answer = policy::answer(&decision, self.style, arn);
        logging::log_decision(&decision, &answer, &token, elapsed_us(started));
        answer
    }

    /// The decision about `event`; `token` is filled with what the log line may say about the
    /// token.
    async fn decide(&self, event: &AuthorizerEvent, token: &mut TokenFacts) -> Decision {
        let kind = event.kind();
        let route = if self.needs_route {
            event.resource_arn().and_then(rules::route_of)
        } else {
            None
        };
        let public = self.path_rules.is_public(route.as_ref());
        let verified = match token::extract_token(event, &self.token_sources) {
            Ok(jwt) => self.verifier.verify(jwt, unix_now(), token).await,
            Err(reason) => Err(reason),
        };
        let verified = match verified {
            Ok(verified) => verified,
            // No token at all on a public path: let it through as nobody, on this route only.
            Err(Reason::MissingToken) if public => {
                return Decision::Allow(Allow {
                    kind,
                    caller: None,
                    grant: Grant::Route,
                    usage_identifier: None,
                });
            }
            // A token that was presented but is not valid is refused even on a public path
            // (RFC 6750 §3.1 `invalid_token`): the caller claims an identity we cannot vouch
            // for, and the handler must never mistake them for anyone.
            Err(reason) => {
                return Decision::Deny(Deny {
                    kind,
                    reason,
                    claim: token.claim.clone(),
                    caller: None,
                    public_path: public,
                });
            }
        };
        // A token that satisfies every required-scope rule is allowed on the whole stage; one
        // that lacks a scope is allowed on the requested route only (when that route does not
        // need the scope), so a cached allow can never cover a route it may not use.
        let granted = if self.route_scopes.is_empty() {
            BTreeSet::new()
        } else {
            rules::granted_scopes(&verified.claims)
        };
        let lacks_some = self
            .route_scopes
            .iter()
            .any(|rule| !rule.granted_by(&granted));
        let denied_here =
            lacks_some && !rules::has_required_scopes(&self.route_scopes, route.as_ref(), &granted);
        // Route claim rules follow the same grant rule as required scopes.
        let route_claims =
            claim_rules::judge_route(&self.route_claim_rules, route.as_ref(), &verified.claims);
        // A missing scope and a failed route claim rule are denied alike: on this route only.
        let forbidden = if denied_here {
            Some((Reason::InsufficientScope, None))
        } else {
            route_claims
                .refused_here
                .map(|rule| (Reason::ClaimRuleFailed, Some(rule.claim.clone())))
        };
        let grant = if lacks_some || route_claims.refused_somewhere {
            Grant::Route
        } else {
            Grant::Stage
        };
        let Context {
            map: context,
            dropped_reserved,
        } = self.claim_mapping.context(verified.claims);
        let caller = Caller {
            principal: verified.principal,
            sub: verified.sub,
            context,
            reserved_dropped: dropped_reserved,
        };
        match forbidden {
            Some((reason, claim)) => Decision::Deny(Deny {
                kind,
                reason,
                claim,
                caller: Some(caller),
                public_path: public,
            }),
            None => Decision::Allow(Allow {
                kind,
                caller: Some(caller),
                grant,
                usage_identifier: verified.usage_identifier,
            }),
        }
    }
}

/// The issuer's HMAC secrets as verification keys, each pinned to its algorithm.
fn hmac_keys(issuer: &IssuerConfig) -> KeySet {
    KeySet::new(
        issuer
            .hmac_keys
            .iter()
            .map(|k| VerifyKey {
                kid: Some(k.kid.clone()),
                algs: AlgSet::single(k.alg),
                material: KeyMaterial::Jwt(jsonwebtoken::DecodingKey::from_secret(
                    k.secret.expose(),
                )),
            })
            .collect(),
    )
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(err: HandlerError) -> Self {
        let error_type = match &err {
            HandlerError::Unauthorized { .. } => "Unauthorized",
            HandlerError::MalformedEvent(_) => "MalformedEvent",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: err.to_string(),
        }
    }
}

// Scenarios through the whole handler are tested where they belong, in authorizer/tests/ (the
// real binary under the Runtime API stand-in); here only what those tests do not assert.
#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;
    use testkit::{JwksServer, TestKey, forge};

    use super::*;

    const AUDIENCE: &str = "https://api.example.com";
    const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/shows";

    fn for_server(idp: &JwksServer) -> Authorizer {
        let vars: HashMap<&str, String> = HashMap::from([
            ("JWT_ISSUER", idp.issuer()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("JWKS_URI", idp.jwks_uri()),
        ]);
        Authorizer::new(Config::from_lookup(|k| vars.get(k).cloned()).unwrap()).unwrap()
    }

    fn claims(idp: &JwksServer, sub: &str) -> Value {
        testkit::claims(&idp.issuer(), AUDIENCE, sub)
    }

    /// The reason code of the 401 for `token` in a REST TOKEN event: the integration tests see
    /// only the deny, and the codes are a stable contract (dashboards and alarms match on them).
    async fn reason_for(authorizer: &Authorizer, token: &str) -> Reason {
        let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": METHOD_ARN});
        match authorizer.handle(event).await {
            Err(HandlerError::Unauthorized { reason }) => reason,
            other => panic!("expected a 401 denial, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn forgery_reasons_are_specific() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp);
        let body = claims(&idp, "mallory");
        assert_eq!(
            reason_for(&auth, &forge::alg_none("none", Some(key.kid()), &body)).await,
            Reason::UnsupportedAlg
        );
        assert_eq!(
            reason_for(&auth, &forge::key_confusion(&key, &body)).await,
            Reason::UnsupportedAlg
        );
        assert_eq!(
            reason_for(&auth, &TestKey::ec_p256().with_kid(key.kid()).sign(&body)).await,
            Reason::BadSignature
        );
        let crit = key.sign_with_extra_header(&json!({"crit": ["b64"], "b64": false}), &body);
        assert_eq!(reason_for(&auth, &crit).await, Reason::CriticalHeader);
        let oversized = forge::oversized(&key, &body, 17 * 1024);
        assert_eq!(reason_for(&auth, &oversized).await, Reason::TokenTooLarge);
    }

    #[tokio::test]
    async fn unknown_issuer_costs_no_fetch() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp);
        let mut body = claims(&idp, "u");
        body["iss"] = json!("https://other.example.com/");
        assert_eq!(
            reason_for(&auth, &key.sign(&body)).await,
            Reason::WrongIssuer
        );
        assert_eq!(idp.total_hits(), 0);
    }

    #[test]
    fn authorizer_and_its_futures_can_be_shared_across_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let idp = JwksServer::start_with(&[&TestKey::ec_p256()]);
        let auth = for_server(&idp);
        send_sync(&auth);
        send(auth.handle(json!({})));
        send(auth.warm_up());
    }
}
