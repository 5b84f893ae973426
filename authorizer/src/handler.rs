//! The authorizer: event in, answer out, one log line per decision.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tracing::{error, info, warn};

use crate::alg::AlgSet;
use crate::claim_rules::{self, RouteClaimRules};
use crate::claims::{ANONYMOUS_KEY, ClaimMapping, Context};
use crate::config::Config;
use crate::config_error::ConfigError;
use crate::error::Reason;
use crate::issuer::IssuerConfig;
use crate::jwks::{self, KeyMaterial, KeySet, VerifyKey};
use crate::policy::{self, Grant, ResponseStyle};
use crate::rules::{self, PathRules, RouteScope};
use crate::snapshot::{self, LoadedEntry, SnapshotEntry, SnapshotFile};
use crate::token::{self, EventKind, TokenSource};
use crate::verify::{IssuerVerifier, TokenFacts, Verifier};

pub use crate::error::HandlerError;

/// Longest header value (`kid`, `alg`) copied into a log line: they are attacker-chosen.
const MAX_LOGGED_HEADER_VALUE: usize = 64;

/// `principalId` of a caller let through a public path without a valid token.
const ANONYMOUS: &str = "anonymous";

/// The Lambda authorizer, built once at start-up and shared by every invocation.
#[derive(Debug)]
pub struct Authorizer {
    verifier: Verifier,
    style: ResponseStyle,
    token_sources: Vec<TokenSource>,
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

    /// Answers one authorizer event.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        let started = Instant::now();
        let kind = match token::classify(&event) {
            Ok(kind) => kind,
            Err(why) => {
                error!(
                    decision = "error",
                    reason = Reason::MalformedEvent.as_str(),
                    detail = why,
                    elapsed_us = elapsed_us(started),
                    "authorizer event not understood"
                );
                return Err(HandlerError::MalformedEvent(why));
            }
        };
        let arn = token::resource_arn(&event, kind);
        let route = if self.needs_route {
            arn.and_then(rules::route_of)
        } else {
            None
        };
        let public = self.path_rules.is_public(route.as_ref());
        let mut facts = TokenFacts::default();
        let verified = match token::extract_token(&event, kind, &self.token_sources) {
            Ok(token) => self.verifier.verify(token, unix_now(), &mut facts).await,
            Err(reason) => Err(reason),
        };
        let kid = facts.kid.as_deref().map(loggable);
        let alg = facts.alg.as_deref().map(loggable);
        let claim = facts.claim.as_deref();
        let caller = match verified {
            Ok(caller) => caller,
            Err(Reason::MissingToken) if public => {
                // No token at all on a public path: let it through as nobody. The context says so
                // explicitly and carries no claims (see `shared::context`).
                let mut context = serde_json::Map::new();
                context.insert(ANONYMOUS_KEY.to_owned(), Value::Bool(true));
                let answer = policy::allow(kind, self.style, arn, ANONYMOUS, context, Grant::Route);
                info!(
                    decision = "allow",
                    reason = "public_path",
                    token_reason = Reason::MissingToken.as_str(),
                    event = kind.as_str(),
                    elapsed_us = elapsed_us(started),
                    "public path"
                );
                return answer;
            }
            Err(reason) => {
                // A token that was presented but is not valid is refused even on a public path
                // (RFC 6750 §3.1 `invalid_token`): the caller claims an identity we cannot
                // vouch for, and the handler must never mistake them for anyone.
                let answer = policy::answer_denial(Some(kind), self.style, arn, reason);
                log_denial(kind, reason, claim, public, kid, alg, started);
                return answer;
            }
        };
        // A token that satisfies every required-scope rule is allowed on the whole stage; one
        // that lacks a scope is allowed on the requested route only (when that route does not
        // need the scope), so a cached allow can never cover a route it may not use.
        let granted = if self.route_scopes.is_empty() {
            BTreeSet::new()
        } else {
            rules::granted_scopes(&caller.claims)
        };
        let lacks_some = self
            .route_scopes
            .iter()
            .any(|rule| !rule.granted_by(&granted));
        let denied_here =
            lacks_some && !rules::has_required_scopes(&self.route_scopes, route.as_ref(), &granted);
        // Route claim rules follow the same grant rule as required scopes.
        let route_claims =
            claim_rules::judge_route(&self.route_claim_rules, route.as_ref(), &caller.claims);
        let Context {
            map: context,
            dropped_reserved,
        } = self.claim_mapping.context(caller.claims);
        // A missing scope and a failed route claim rule are denied alike: on this route only.
        let forbidden = if denied_here {
            Some((Reason::InsufficientScope, None))
        } else {
            route_claims
                .refused_here
                .map(|rule| (Reason::ClaimRuleFailed, Some(rule.claim.as_str())))
        };
        if let Some((reason, claim)) = forbidden {
            let answer = policy::forbid(kind, self.style, arn, &caller.principal, context);
            info!(
                decision = "deny",
                reason = reason.as_str(),
                claim,
                event = kind.as_str(),
                sub = %caller.sub,
                kid,
                alg,
                reserved_claims_dropped = dropped_reserved,
                elapsed_us = elapsed_us(started),
                "denied"
            );
            return answer;
        }
        let grant = if lacks_some || route_claims.refused_somewhere {
            Grant::Route
        } else {
            Grant::Stage
        };
        let answer =
            policy::allow(kind, self.style, arn, &caller.principal, context, grant).map(|answer| {
                policy::with_usage_identifier(answer, kind, arn, caller.usage_identifier.as_deref())
            });
        match &answer {
            Ok(_) => info!(
                decision = "allow",
                event = kind.as_str(),
                sub = %caller.sub,
                kid,
                alg,
                reserved_claims_dropped = dropped_reserved,
                elapsed_us = elapsed_us(started),
                "authorized"
            ),
            Err(err) => error!(
                decision = "error",
                reason = err.reason().as_str(),
                event = kind.as_str(),
                error = %err,
                elapsed_us = elapsed_us(started),
                "valid token but the event cannot be answered"
            ),
        }
        answer
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

fn log_denial(
    kind: EventKind,
    reason: Reason,
    claim: Option<&str>,
    public_path: bool,
    kid: Option<&str>,
    alg: Option<&str>,
    started: Instant,
) {
    let reason_code = reason.as_str();
    let elapsed_us = elapsed_us(started);
    if reason == Reason::JwksUnavailable {
        // The caller is refused because of us (the IdP is unreachable), not because of them.
        warn!(
            decision = "deny",
            reason = reason_code,
            claim,
            event = kind.as_str(),
            public_path,
            kid,
            alg,
            elapsed_us,
            "denied"
        );
    } else {
        info!(
            decision = "deny",
            reason = reason_code,
            claim,
            event = kind.as_str(),
            public_path,
            kid,
            alg,
            elapsed_us,
            "denied"
        );
    }
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

fn loggable(value: &str) -> &str {
    if value.len() <= MAX_LOGGED_HEADER_VALUE {
        return value;
    }
    let mut end = MAX_LOGGED_HEADER_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use serde_json::json;
    use testkit::{Fault, JwksServer, TestKey, forge};

    use super::*;

    const AUDIENCE: &str = "https://api.example.com";
    const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/shows";
    const ROUTE_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/me";

    fn authorizer(vars: &[(&str, &str)]) -> Authorizer {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Authorizer::new(Config::from_lookup(|k| map.get(k).cloned()).unwrap()).unwrap()
    }

    fn for_server(idp: &JwksServer, extra: &[(&str, &str)]) -> Authorizer {
        let issuer = idp.issuer();
        let jwks_uri = idp.jwks_uri();
        let mut vars = vec![
            ("JWT_ISSUER", issuer.as_str()),
            ("JWT_AUDIENCE", AUDIENCE),
            ("JWKS_URI", jwks_uri.as_str()),
        ];
        vars.extend_from_slice(extra);
        authorizer(&vars)
    }

    fn rest_token(token: &str) -> Value {
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": METHOD_ARN})
    }

    fn rest_request(token: &str) -> Value {
        json!({"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"Authorization": format!("Bearer {token}")}})
    }

    fn http_v1(token: &str) -> Value {
        json!({"version": "1.0", "type": "REQUEST", "methodArn": METHOD_ARN,
               "headers": {"authorization": format!("Bearer {token}")}, "identitySource": format!("Bearer {token}")})
    }

    fn http_v2(token: &str) -> Value {
        json!({"version": "2.0", "type": "REQUEST", "routeArn": ROUTE_ARN, "identitySource": [format!("Bearer {token}")],
               "headers": {"authorization": format!("Bearer {token}")}, "rawPath": "/me"})
    }

    fn claims(idp: &JwksServer, sub: &str) -> Value {
        testkit::claims(&idp.issuer(), AUDIENCE, sub)
    }

    async fn reason_for(authorizer: &Authorizer, token: &str) -> Reason {
        match authorizer.handle(rest_token(token)).await {
            Err(HandlerError::Unauthorized { reason }) => reason,
            other => panic!("expected a 401 denial, got {other:?}"),
        }
    }

    /// IAM evaluation as API Gateway does it for a cached policy: an explicit Deny matching
    /// the resource wins, else an Allow must match (`*` matches any characters, `/` included).
    fn iam_allows(answer: &Value, resource: &str) -> bool {
        fn matches(pattern: &str, text: &str) -> bool {
            match pattern.split_once('*') {
                None => pattern == text,
                Some((head, tail)) => {
                    text.starts_with(head)
                        && (0..=text.len() - head.len()).any(|i| {
                            text.is_char_boundary(head.len() + i)
                                && matches(tail, &text[head.len() + i..])
                        })
                }
            }
        }
        let statements = answer["policyDocument"]["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let hits = |effect: &str| {
            statements.iter().any(|st| {
                st["Effect"] == effect
                    && match &st["Resource"] {
                        Value::String(r) => matches(r, resource),
                        Value::Array(rs) => rs
                            .iter()
                            .filter_map(Value::as_str)
                            .any(|r| matches(r, resource)),
                        _ => false,
                    }
            })
        };
        !hits("Deny") && hits("Allow")
    }

    fn is_allow_policy(answer: &Value, principal: &str) -> bool {
        answer["principalId"] == principal
            && answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
            && answer["policyDocument"]["Statement"][0]["Resource"]
                == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
    }

    #[tokio::test]
    async fn valid_token_is_allowed_in_every_format_and_algorithm() {
        for alg in [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
            "EdDSA",
        ] {
            let key = TestKey::for_alg(alg);
            let idp = JwksServer::start_with(&[&key]);
            let auth = for_server(&idp, &[]);
            auth.warm_up().await;
            let mut body = claims(&idp, "user-1");
            body["scope"] = json!("read:shows write:shows");
            body["roles"] = json!(["admin"]);
            let token = key.sign(&body);

            for event in [rest_token(&token), rest_request(&token), http_v1(&token)] {
                let answer = auth
                    .handle(event)
                    .await
                    .unwrap_or_else(|e| panic!("{alg}: {e}"));
                assert!(is_allow_policy(&answer, "user-1"), "{alg}: {answer}");
                assert_eq!(answer["context"]["scope"], "read:shows write:shows");
                assert_eq!(answer["context"]["roles"], r#"["admin"]"#);
            }
            let answer = auth.handle(http_v2(&token)).await.unwrap();
            assert_eq!(answer["isAuthorized"], true, "{alg}");
            assert_eq!(answer["context"]["sub"], "user-1");
            assert_eq!(idp.jwks_hits(), 1, "{alg}: keys fetched once at warm-up");
        }
    }

    #[tokio::test]
    async fn http_v2_iam_style_allows_with_stage_policy_and_denies_with_policy() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[("AUTHORIZER_RESPONSE_STYLE", "iam")]);
        let token = key.sign(&claims(&idp, "user-2"));
        let answer = auth.handle(http_v2(&token)).await.unwrap();
        assert_eq!(answer["principalId"], "user-2");
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/*"
        );
        let answer = auth.handle(http_v2("garbage")).await.unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(answer["context"], json!({}));
    }

    #[tokio::test]
    async fn forged_tokens_are_denied_in_every_format() {
        let key = TestKey::rsa2048();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let body = claims(&idp, "mallory");
        let other = TestKey::rsa2048().with_kid(key.kid());
        let mut forged: Vec<(String, String)> = vec![
            (
                "alg none".into(),
                forge::alg_none("none", Some(key.kid()), &body),
            ),
            (
                "alg None".into(),
                forge::alg_none("None", Some(key.kid()), &body),
            ),
            ("other key same kid".into(), other.sign(&body)),
            (
                "tampered payload".into(),
                forge::tamper_payload(&key.sign(&claims(&idp, "alice")), &body),
            ),
            (
                "flipped signature".into(),
                forge::flip_signature_bit(&key.sign(&body)),
            ),
            (
                "mislabelled PS256".into(),
                forge::mislabelled_alg(&key, "PS256", &body),
            ),
            ("oversized".into(), forge::oversized(&key, &body, 20_000)),
        ];
        forged.extend(
            forge::key_confusion_variants(&key, &body)
                .into_iter()
                .map(|(l, t)| (l.to_owned(), t)),
        );
        forged.extend(
            forge::strip_signature(&key.sign(&body))
                .into_iter()
                .map(|t| ("stripped".to_owned(), t)),
        );
        forged.extend(
            forge::garbage_tokens(&key, &body)
                .into_iter()
                .map(|(l, t)| (l.to_owned(), t)),
        );
        for (label, token) in &forged {
            for event in [rest_token(token), rest_request(token), http_v1(token)] {
                let err = auth.handle(event).await.expect_err(label);
                assert!(err.is_unauthorized(), "{label}: {err}");
            }
            let answer = auth.handle(http_v2(token)).await.unwrap();
            assert_eq!(
                answer,
                json!({"isAuthorized": false, "context": {}}),
                "{label}"
            );
        }
    }

    #[tokio::test]
    async fn forgery_reasons_are_specific() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
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
    async fn header_key_urls_are_never_fetched() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let attacker = TestKey::ec_p256();
        let evil = JwksServer::start_with(&[&attacker]);
        let auth = for_server(&idp, &[]);
        auth.warm_up().await;
        let extra = json!({"jku": evil.jwks_uri(), "x5u": evil.url("/cert.pem"), "jwk": attacker.jwk(), "kid": attacker.kid()});
        let token = attacker.sign_with_extra_header(&extra, &claims(&idp, "mallory"));
        assert!(
            auth.handle(rest_token(&token))
                .await
                .unwrap_err()
                .is_unauthorized()
        );
        assert_eq!(evil.total_hits(), 0);
    }

    #[tokio::test]
    async fn claim_failures_map_to_reasons() {
        let key = TestKey::ed25519();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let now = testkit::now();
        let cases = [
            (json!({"exp": now - 1}), Reason::Expired),
            (json!({"nbf": now + 60}), Reason::NotYetValid),
            (json!({"aud": "someone-else"}), Reason::WrongAudience),
            (
                json!({"iss": "https://evil.example.com/"}),
                Reason::WrongIssuer,
            ),
            (json!({"exp": null}), Reason::MalformedToken),
            (json!({"sub": null}), Reason::MalformedToken),
        ];
        for (patch, reason) in cases {
            let mut body = claims(&idp, "u");
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            assert_eq!(reason_for(&auth, &key.sign(&body)).await, reason, "{patch}");
        }
    }

    #[tokio::test]
    async fn unknown_issuer_costs_no_fetch() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let mut body = claims(&idp, "u");
        body["iss"] = json!("https://other.example.com/");
        assert_eq!(
            reason_for(&auth, &key.sign(&body)).await,
            Reason::WrongIssuer
        );
        assert_eq!(idp.total_hits(), 0);
    }

    #[tokio::test]
    async fn unknown_kid_flood_refetches_once_per_cooldown() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = Arc::new(for_server(&idp, &[]));
        auth.warm_up().await;
        assert_eq!(idp.jwks_hits(), 1);
        let body = claims(&idp, "u");

        // The first unknown kid refetches (the keys may have just rotated); the rest of the
        // window's unknown kids are denied without fetching, concurrent or not.
        let flood = |tag: &'static str| {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..20 {
                let token = TestKey::ec_p256()
                    .with_kid(&format!("{tag}-{i}"))
                    .sign(&body);
                let auth = Arc::clone(&auth);
                set.spawn(async move { auth.handle(rest_token(&token)).await });
            }
            set
        };
        let mut first = flood("first");
        while let Some(result) = first.join_next().await {
            assert_eq!(result.unwrap().unwrap_err().reason(), Reason::UnknownKid);
        }
        assert_eq!(idp.jwks_hits(), 2);
        for i in 0..20 {
            let token = TestKey::ec_p256()
                .with_kid(&format!("more-{i}"))
                .sign(&body);
            assert_eq!(reason_for(&auth, &token).await, Reason::UnknownKid);
        }
        assert_eq!(idp.jwks_hits(), 2);

        // Once the cooldown has passed, the next flood costs exactly one more fetch.
        auth.verifier.issuers()[0]
            .keys
            .backdate(crate::config::defaults::JWKS_REFETCH_COOLDOWN);
        let mut second = flood("second");
        while let Some(result) = second.join_next().await {
            assert!(result.unwrap().unwrap_err().is_unauthorized());
        }
        assert_eq!(idp.jwks_hits(), 3);
    }

    #[tokio::test]
    async fn rotated_key_is_picked_up_by_its_first_token() {
        let old = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&old]);
        let auth = for_server(&idp, &[]);
        auth.warm_up().await;
        let new = TestKey::ed25519();
        idp.set_keys(&[&new]);
        let token = new.sign(&claims(&idp, "rotated"));
        assert!(is_allow_policy(
            &auth.handle(rest_token(&token)).await.unwrap(),
            "rotated"
        ));
        assert_eq!(idp.jwks_hits(), 2);
        // The withdrawn key stopped working with the refetch.
        let old_token = old.sign(&claims(&idp, "old"));
        assert_eq!(reason_for(&auth, &old_token).await, Reason::UnknownKid);

        // A second rotation within the cooldown waits for the window to pass.
        let newer = TestKey::ec_p384();
        idp.set_keys(&[&newer]);
        let newer_token = newer.sign(&claims(&idp, "newer"));
        assert_eq!(reason_for(&auth, &newer_token).await, Reason::UnknownKid);
        auth.verifier.issuers()[0]
            .keys
            .backdate(crate::config::defaults::JWKS_REFETCH_COOLDOWN);
        assert!(is_allow_policy(
            &auth.handle(rest_token(&newer_token)).await.unwrap(),
            "newer"
        ));
        assert_eq!(idp.jwks_hits(), 3);
    }

    #[tokio::test]
    async fn stale_keys_are_served_while_idp_fails() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        auth.warm_up().await;
        let keys = &auth.verifier.issuers()[0].keys;
        for fault in [
            Fault::Status(500),
            Fault::Garbage,
            Fault::WrongShape,
            Fault::Huge,
        ] {
            idp.set_fault(fault);
            keys.expire_fresh().await;
            keys.backdate(Duration::from_secs(3600));
            let before = idp.jwks_hits();
            let token = key.sign(&claims(&idp, "still-me"));
            assert!(
                is_allow_policy(&auth.handle(rest_token(&token)).await.unwrap(), "still-me"),
                "{fault:?}"
            );
            // Backoff: the next request does not try again.
            assert!(auth.handle(rest_token(&token)).await.is_ok(), "{fault:?}");
            assert_eq!(idp.jwks_hits(), before + 1, "{fault:?}");
        }
    }

    #[tokio::test]
    async fn expired_keys_are_served_while_a_refresh_hangs() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = Arc::new(for_server(&idp, &[("JWKS_TIMEOUT_MS", "10000")]));
        auth.warm_up().await;
        let keys = Arc::clone(&auth.verifier.issuers()[0].keys);
        keys.expire_fresh().await;
        keys.backdate(Duration::from_secs(3600));
        idp.set_fault(Fault::Hang);
        let token = key.sign(&claims(&idp, "patient"));

        // The first request refreshes and hangs on the IdP...
        let first = {
            let (auth, token) = (Arc::clone(&auth), token.clone());
            tokio::spawn(async move { auth.handle(rest_token(&token)).await })
        };
        while idp.jwks_hits() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // ...while the next one is answered with the last good keys instead of queueing.
        assert!(is_allow_policy(
            &auth.handle(rest_token(&token)).await.unwrap(),
            "patient"
        ));
        assert!(!first.is_finished());
        assert_eq!(idp.jwks_hits(), 2);
        first.abort();
    }

    #[tokio::test]
    async fn nothing_cached_and_idp_down_denies_fast_then_recovers() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        idp.set_fault(Fault::Status(503));
        let auth = for_server(&idp, &[]);
        auth.warm_up().await;
        assert_eq!(idp.jwks_hits(), 1);
        let token = key.sign(&claims(&idp, "u"));
        for _ in 0..10 {
            assert_eq!(reason_for(&auth, &token).await, Reason::JwksUnavailable);
        }
        assert_eq!(idp.jwks_hits(), 1, "backoff: no fetch per request");
        idp.set_fault(Fault::Ok);
        auth.verifier.issuers()[0]
            .keys
            .backdate(crate::config::defaults::JWKS_FAILURE_BACKOFF);
        assert!(is_allow_policy(
            &auth.handle(rest_token(&token)).await.unwrap(),
            "u"
        ));
        assert_eq!(idp.jwks_hits(), 2);
    }

    #[tokio::test]
    async fn hanging_idp_is_cut_off_by_the_timeout() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        idp.set_fault(Fault::Hang);
        let auth = for_server(&idp, &[("JWKS_TIMEOUT_MS", "200")]);
        auth.warm_up().await;
        let token = key.sign(&claims(&idp, "u"));
        assert_eq!(reason_for(&auth, &token).await, Reason::JwksUnavailable);
    }

    #[tokio::test]
    async fn keys_are_discovered_from_the_issuer() {
        let key = TestKey::ec_p384();
        let idp = JwksServer::start_with(&[&key]);
        let issuer = idp.issuer_without_slash();
        // The metadata must name the issuer exactly as configured (OIDC Discovery §4.3).
        idp.set_discovery(json!({"issuer": issuer, "jwks_uri": idp.jwks_uri()}));
        let auth = authorizer(&[("JWT_ISSUER", issuer.as_str()), ("JWT_AUDIENCE", AUDIENCE)]);
        let mut body = claims(&idp, "discovered");
        body["iss"] = json!(issuer);
        assert!(is_allow_policy(
            &auth.handle(rest_token(&key.sign(&body))).await.unwrap(),
            "discovered"
        ));
        assert_eq!((idp.discovery_hits(), idp.jwks_hits()), (1, 1));
    }

    #[tokio::test]
    async fn discovery_naming_another_issuer_is_not_followed() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let decoy = JwksServer::start_with(&[&key]);
        // Right keys behind a document for another issuer: the metadata must not be used.
        idp.set_discovery(
            json!({"issuer": "https://other.example.com/", "jwks_uri": decoy.jwks_uri()}),
        );
        let issuer = idp.issuer();
        let auth = authorizer(&[("JWT_ISSUER", issuer.as_str()), ("JWT_AUDIENCE", AUDIENCE)]);
        assert!(
            auth.handle(rest_token(&key.sign(&claims(&idp, "u"))))
                .await
                .is_ok()
        );
        assert_eq!(decoy.jwks_hits(), 0, "jwks_uri of foreign metadata fetched");
        assert_eq!(
            idp.jwks_hits(),
            1,
            "falls back to <issuer>/.well-known/jwks.json"
        );
    }

    #[tokio::test]
    async fn failed_discovery_falls_back_to_well_known_jwks() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        idp.set_discovery_fault(Fault::Status(404));
        let issuer = idp.issuer();
        let auth = authorizer(&[("JWT_ISSUER", issuer.as_str()), ("JWT_AUDIENCE", AUDIENCE)]);
        assert!(
            auth.handle(rest_token(&key.sign(&claims(&idp, "fb"))))
                .await
                .is_ok()
        );
        assert_eq!((idp.discovery_hits(), idp.jwks_hits()), (1, 1));
    }

    #[tokio::test]
    async fn single_key_without_kid_serves_tokens_without_kid() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start();
        let mut jwk = key.jwk();
        jwk.as_object_mut().unwrap().remove("kid");
        idp.set_jwks(json!({"keys": [jwk]}));
        let auth = for_server(&idp, &[]);
        let token = key.sign_with_header(
            &json!({"alg": "ES256", "typ": "JWT"}),
            &claims(&idp, "nokid"),
        );
        assert!(is_allow_policy(
            &auth.handle(rest_token(&token)).await.unwrap(),
            "nokid"
        ));
    }

    #[tokio::test]
    async fn missing_or_malformed_credentials_are_denied_per_format() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let token = key.sign(&claims(&idp, "u"));
        let no_header = json!({"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {}});
        assert_eq!(
            auth.handle(no_header).await.unwrap_err().reason(),
            Reason::MissingToken
        );
        let two_tokens = json!({"type": "TOKEN", "methodArn": METHOD_ARN, "authorizationToken": format!("Bearer {token} {token}")});
        assert_eq!(
            auth.handle(two_tokens).await.unwrap_err().reason(),
            Reason::MalformedToken
        );
        let basic =
            json!({"type": "TOKEN", "methodArn": METHOD_ARN, "authorizationToken": "Basic dTpw"});
        assert_eq!(
            auth.handle(basic).await.unwrap_err().reason(),
            Reason::MalformedToken
        );
        let v2_missing = json!({"version": "2.0", "routeArn": ROUTE_ARN, "headers": {}});
        assert_eq!(
            auth.handle(v2_missing).await.unwrap(),
            json!({"isAuthorized": false, "context": {}})
        );
    }

    #[tokio::test]
    async fn malformed_events_are_errors_and_serving_continues() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let token = key.sign(&claims(&idp, "u"));
        for event in [
            json!(null),
            json!(42),
            json!("TOKEN"),
            json!([]),
            json!({}),
            json!({"type": 7}),
            json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}")}),
        ] {
            let err = auth.handle(event.clone()).await.unwrap_err();
            assert!(!err.is_unauthorized(), "{event}");
        }
        assert!(auth.handle(rest_token(&token)).await.is_ok());
    }

    // ---- Issue 7: configuration beyond the basics ----

    fn with_document(document: Value, extra: &[(&str, &str)]) -> Authorizer {
        let text = document.to_string();
        // These tests model an API without an authorizer cache, which route rules require.
        let mut vars = vec![
            ("AUTHORIZER_CONFIG", text.as_str()),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ];
        vars.extend_from_slice(extra);
        authorizer(&vars)
    }

    fn rest_request_to(path: &str, headers: Value) -> Value {
        json!({"type": "REQUEST", "headers": headers,
               "methodArn": format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET{path}")})
    }

    fn v2_to(method: &str, path: &str, headers: Value) -> Value {
        json!({"version": "2.0", "type": "REQUEST", "headers": headers, "rawPath": path,
               "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/{method}{path}")})
    }

    #[tokio::test]
    async fn several_issuers_each_verify_their_own_tokens() {
        let auth0_key = TestKey::rsa2048();
        let cognito_key = TestKey::ec_p256();
        let auth0 = JwksServer::start_with(&[&auth0_key]);
        let cognito = JwksServer::start_with(&[&cognito_key]);
        let auth = with_document(
            json!({"issuers": [
                {"issuer": auth0.issuer(), "audience": AUDIENCE, "jwks_uri": auth0.jwks_uri()},
                {"issuer": cognito.issuer_without_slash(), "audience": "client-1", "jwks_uri": cognito.jwks_uri()}
            ]}),
            &[],
        );
        auth.warm_up().await;
        assert_eq!((auth0.jwks_hits(), cognito.jwks_hits()), (1, 1));

        let a = auth0_key.sign(&claims(&auth0, "auth0-user"));
        assert!(is_allow_policy(
            &auth.handle(rest_token(&a)).await.unwrap(),
            "auth0-user"
        ));
        let mut body = testkit::claims(&cognito.issuer_without_slash(), "client-1", "cognito-user");
        let b = cognito_key.sign(&body);
        assert!(is_allow_policy(
            &auth.handle(rest_token(&b)).await.unwrap(),
            "cognito-user"
        ));

        // A token signed by one issuer's key but naming the other issuer is refused.
        body["iss"] = json!(auth0.issuer());
        body["aud"] = json!(AUDIENCE);
        let crossed = cognito_key.with_kid(auth0_key.kid()).sign(&body);
        assert!(auth.handle(rest_token(&crossed)).await.is_err());

        // An unknown issuer costs no fetch at either IdP.
        let mut stranger = claims(&auth0, "x");
        stranger["iss"] = json!("https://stranger.example.com/");
        assert_eq!(
            reason_for(&auth, &auth0_key.sign(&stranger)).await,
            Reason::WrongIssuer
        );
        assert_eq!((auth0.jwks_hits(), cognito.jwks_hits()), (1, 1));
    }

    #[tokio::test]
    async fn inline_jwks_needs_no_network() {
        let key = TestKey::ec_p521();
        let issuer = "https://idp.invalid/";
        let auth = with_document(
            json!({"issuers": [{"issuer": issuer, "audience": AUDIENCE, "jwks": TestKey::jwks(&[&key])}]}),
            &[],
        );
        auth.warm_up().await;
        let token = key.sign(&testkit::claims(issuer, AUDIENCE, "inline"));
        assert!(is_allow_policy(
            &auth.handle(rest_token(&token)).await.unwrap(),
            "inline"
        ));
        let other = TestKey::ec_p521().sign(&testkit::claims(issuer, AUDIENCE, "inline"));
        assert_eq!(reason_for(&auth, &other).await, Reason::UnknownKid);
    }

    #[tokio::test]
    async fn hmac_secret_verifies_only_tokens_under_its_kid() {
        let secret = "a-long-enough-shared-secret-for-hs256!";
        let issuer = "https://self.example.com/";
        let auth = with_document(
            json!({"issuers": [{"issuer": issuer, "audience": AUDIENCE,
                                "hmac": [{"kid": "local-1", "secret_env": "LOCAL_SECRET"}]}]}),
            &[("LOCAL_SECRET", secret)],
        );
        let body = testkit::claims(issuer, AUDIENCE, "self");
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": "local-1"});
        let good = forge::hmac_signed("HS256", secret.as_bytes(), &header, &body);
        assert!(is_allow_policy(
            &auth.handle(rest_token(&good)).await.unwrap(),
            "self"
        ));

        let wrong_secret = forge::hmac_signed(
            "HS256",
            b"another-secret-that-is-long-enough!!",
            &header,
            &body,
        );
        assert_eq!(reason_for(&auth, &wrong_secret).await, Reason::BadSignature);
        let no_kid =
            forge::hmac_signed("HS256", secret.as_bytes(), &json!({"alg": "HS256"}), &body);
        assert_eq!(reason_for(&auth, &no_kid).await, Reason::UnknownKid);
        let other_alg = forge::hmac_signed(
            "HS512",
            secret.as_bytes(),
            &json!({"alg": "HS512", "kid": "local-1"}),
            &body,
        );
        assert_eq!(reason_for(&auth, &other_alg).await, Reason::UnsupportedAlg);
        // No JWKS for an HMAC-only issuer: asymmetric tokens are refused without any fetch.
        let rsa = TestKey::ec_p256().with_kid("local-1").sign(&body);
        assert_eq!(reason_for(&auth, &rsa).await, Reason::UnsupportedAlg);
    }

    #[tokio::test]
    async fn hmac_secret_and_jwks_never_stand_in_for_each_other() {
        let key = TestKey::rsa2048();
        let idp = JwksServer::start_with(&[&key]);
        let secret = "a-long-enough-shared-secret-for-hs256!";
        let auth = with_document(
            json!({"issuers": [{"issuer": idp.issuer(), "audience": AUDIENCE, "jwks_uri": idp.jwks_uri(),
                                "hmac": [{"kid": "local-1", "secret_env": "S"}]}]}),
            &[("S", secret)],
        );
        let body = claims(&idp, "mallory");
        // The public key as an HMAC secret, under the RSA key's kid: no HMAC key has that kid.
        for (label, token) in forge::key_confusion_variants(&key, &body) {
            assert!(
                auth.handle(rest_token(&token))
                    .await
                    .unwrap_err()
                    .is_unauthorized(),
                "{label}"
            );
        }
        // An RSA-signed token that names the HMAC kid finds no public key under it.
        let named = key.sign_with_extra_header(&json!({"kid": "local-1"}), &body);
        assert_eq!(reason_for(&auth, &named).await, Reason::UnknownKid);
        // Both kinds still work on their own.
        assert!(auth.handle(rest_token(&key.sign(&body))).await.is_ok());
        let hs = forge::hmac_signed(
            "HS256",
            secret.as_bytes(),
            &json!({"alg": "HS256", "kid": "local-1"}),
            &body,
        );
        assert!(auth.handle(rest_token(&hs)).await.is_ok());
    }

    #[tokio::test]
    async fn token_sources_are_tried_in_order() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let issuer = idp.issuer();
        let jwks_uri = idp.jwks_uri();
        let auth = with_document(
            json!({"token_sources": [{"header": "X-Token"}, {"query": "access_token"}, {"cookie": "session"}]}),
            &[
                ("JWT_ISSUER", &issuer),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", &jwks_uri),
            ],
        );
        let token = key.sign(&claims(&idp, "sourced"));
        let header =
            json!({"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"x-token": token}});
        assert!(auth.handle(header).await.is_ok());
        // WebSocket $connect: the token in the query string.
        let query = json!({"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:1:abc/prod/$connect",
                           "queryStringParameters": {"access_token": token}});
        assert!(auth.handle(query).await.is_ok());
        let cookie_v2 = json!({"version": "2.0", "routeArn": ROUTE_ARN, "headers": {},
                               "cookies": ["theme=dark", format!("session={token}")]});
        assert_eq!(auth.handle(cookie_v2).await.unwrap()["isAuthorized"], true);
        let cookie_rest = json!({"type": "REQUEST", "methodArn": METHOD_ARN,
                                 "headers": {"Cookie": format!("a=1; session={token}")}});
        assert!(auth.handle(cookie_rest).await.is_ok());
        // The first source present decides: a bad header is not rescued by a good cookie.
        let bad_first = json!({"type": "REQUEST", "methodArn": METHOD_ARN,
                               "headers": {"X-Token": "garbage", "Cookie": format!("session={token}")}});
        assert!(auth.handle(bad_first).await.unwrap_err().is_unauthorized());
        // The default Authorization header is not a source any more.
        let bearer = rest_request(&token);
        assert_eq!(
            auth.handle(bearer).await.unwrap_err().reason(),
            Reason::MissingToken
        );
        let two_cookies = json!({"version": "2.0", "routeArn": ROUTE_ARN, "cookies": [format!("session={token}"), "session=x"]});
        assert_eq!(
            auth.handle(two_cookies).await.unwrap()["isAuthorized"],
            false
        );
    }

    #[tokio::test]
    async fn public_paths_allow_without_token_and_only_that_route() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let (issuer, jwks_uri) = (idp.issuer(), idp.jwks_uri());
        let auth = with_document(
            json!({"public_paths": ["/public", "/login/*"]}),
            &[
                ("JWT_ISSUER", &issuer),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", &jwks_uri),
            ],
        );
        let token = key.sign(&claims(&idp, "known"));
        let anonymous = auth
            .handle(rest_request_to("/login/callback", json!({})))
            .await
            .unwrap();
        assert_eq!(anonymous["principalId"], "anonymous");
        assert_eq!(anonymous["context"], json!({"anonymous": true}));
        assert_eq!(
            anonymous["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/login/callback"
        );
        // A presented but invalid token is refused even on a public path (RFC 6750 invalid_token).
        for presented in ["Bearer x.y.z", "Bearer", "Bearer ", "Basic abc", "garbage"] {
            let refused = auth
                .handle(rest_request_to(
                    "/public",
                    json!({"Authorization": presented}),
                ))
                .await
                .unwrap_err();
            assert!(refused.is_unauthorized(), "{presented:?}");
        }
        let known = auth
            .handle(rest_request_to(
                "/public",
                json!({"Authorization": format!("Bearer {token}")}),
            ))
            .await
            .unwrap();
        assert_eq!(known["principalId"], "known");
        assert_eq!(known["context"]["sub"], "known");
        // Protected routes still need a token, and a valid token's allow names only its route.
        let private = auth
            .handle(rest_request_to("/private", json!({})))
            .await
            .unwrap_err();
        assert_eq!(private.reason(), Reason::MissingToken);
        let allowed = auth
            .handle(rest_request_to(
                "/private",
                json!({"Authorization": format!("Bearer {token}")}),
            ))
            .await
            .unwrap();
        // A valid token is good on every route: the allow covers the stage (cacheable).
        assert_eq!(
            allowed["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
        );
        let v2 = auth
            .handle(v2_to("GET", "/public", json!({})))
            .await
            .unwrap();
        assert_eq!(
            v2,
            json!({"isAuthorized": true, "context": {"anonymous": true}})
        );
    }

    #[tokio::test]
    async fn protected_paths_leave_the_rest_public() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let (issuer, jwks_uri) = (idp.issuer(), idp.jwks_uri());
        let auth = with_document(
            json!({"protected_paths": ["/admin/*"]}),
            &[
                ("JWT_ISSUER", &issuer),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", &jwks_uri),
            ],
        );
        assert!(
            auth.handle(rest_request_to("/home", json!({})))
                .await
                .is_ok()
        );
        assert!(
            auth.handle(rest_request_to("/admin/users", json!({})))
                .await
                .is_err()
        );
        assert!(
            auth.handle(rest_request_to("/admin", json!({})))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn missing_route_scope_is_an_explicit_deny() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let (issuer, jwks_uri) = (idp.issuer(), idp.jwks_uri());
        let auth = with_document(
            json!({"required_scopes": {"GET /shows": "read:shows"}}),
            &[
                ("JWT_ISSUER", &issuer),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", &jwks_uri),
            ],
        );
        let mut body = claims(&idp, "reader");
        body["scope"] = json!("openid profile");
        let without = key.sign(&body);
        body["scope"] = json!("openid read:shows");
        let with = key.sign(&body);
        let bearer = |t: &str| json!({"Authorization": format!("Bearer {t}")});

        let arn = |method: &str, path: &str| {
            format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/{method}{path}")
        };
        let denied = auth
            .handle(rest_request_to("/shows", bearer(&without)))
            .await
            .unwrap();
        assert_eq!(denied["principalId"], "reader");
        assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert!(!iam_allows(&denied, &arn("GET", "/shows")));
        assert!(
            !iam_allows(&denied, &arn("GET", "/me")),
            "a deny names no other route"
        );
        let allowed = auth
            .handle(rest_request_to("/shows", bearer(&with)))
            .await
            .unwrap();
        // Every scope present: the allow covers the stage.
        assert!(iam_allows(&allowed, &arn("GET", "/shows")));
        assert!(iam_allows(&allowed, &arn("DELETE", "/anything")));
        let other_route = auth
            .handle(rest_request_to("/me", bearer(&without)))
            .await
            .unwrap();
        // A scope missing: allowed where no scope is needed, and the (cacheable) allow does not
        // reach the route that needs it.
        assert!(iam_allows(&other_route, &arn("GET", "/me")));
        assert!(!iam_allows(&other_route, &arn("GET", "/shows")));
        let v2 = auth
            .handle(v2_to("GET", "/shows", bearer(&without)))
            .await
            .unwrap();
        assert_eq!(v2["isAuthorized"], false);
        let v2_post = auth
            .handle(v2_to("POST", "/shows", bearer(&without)))
            .await
            .unwrap();
        assert_eq!(v2_post["isAuthorized"], true);
    }

    #[tokio::test]
    async fn claim_mapping_shapes_the_context() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let (issuer, jwks_uri) = (idp.issuer(), idp.jwks_uri());
        let auth = with_document(
            json!({"claims": {"include": {"https://example.com/roles": "roles", "scope": "scope"}, "scope_as_list": true}}),
            &[
                ("JWT_ISSUER", &issuer),
                ("JWT_AUDIENCE", AUDIENCE),
                ("JWKS_URI", &jwks_uri),
            ],
        );
        let mut body = claims(&idp, "mapped");
        body["https://example.com/roles"] = json!(["admin"]);
        body["scope"] = json!("read:shows write:shows");
        let answer = auth.handle(http_v2(&key.sign(&body))).await.unwrap();
        assert_eq!(
            answer["context"],
            json!({"roles": "[\"admin\"]", "scope": "[\"read:shows\",\"write:shows\"]", "sub": "mapped"})
        );
    }

    /// Every fixture with each top-level member replaced by values of every JSON type, and
    /// removed: the handler answers (allow only with the valid token), never panics.
    #[tokio::test]
    async fn mangled_real_events_never_panic_and_never_allow_without_token() {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let auth = for_server(&idp, &[]);
        let fixtures = [
            include_str!("../tests/fixtures/apigw-custom-auth-request.json"),
            include_str!("../tests/fixtures/apigw-custom-auth-request-type-request.json"),
            include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v1-request.json"),
            include_str!("../tests/fixtures/apigw-v2-custom-authorizer-v2-request.json"),
            include_str!("../tests/fixtures/apigw-v2-custom-authorizer-websocket-request.json"),
        ];
        let replacements = [
            json!(null),
            json!(0),
            json!(-1.5e300),
            json!(true),
            json!(""),
            json!("Bearer "),
            json!("Bearer a.b.c"),
            json!([]),
            json!([null, 1, "x"]),
            json!({}),
            json!({"Authorization": ["Bearer x"], "authorization": {"a": 1}}),
        ];
        let mut checked = 0;
        for fixture in fixtures {
            let event: Value = serde_json::from_str(fixture).unwrap();
            let keys: Vec<String> = event.as_object().unwrap().keys().cloned().collect();
            for member in &keys {
                let mut removed = event.clone();
                removed.as_object_mut().unwrap().remove(member);
                let mut variants = vec![removed];
                for replacement in &replacements {
                    let mut changed = event.clone();
                    changed[member.as_str()] = replacement.clone();
                    variants.push(changed);
                }
                for variant in variants {
                    let answer = auth.handle(variant.clone()).await;
                    let allowed = match &answer {
                        Ok(v) => {
                            v["isAuthorized"] == true
                                || v["policyDocument"]["Statement"][0]["Effect"] == "Allow"
                        }
                        Err(_) => false,
                    };
                    assert!(!allowed, "allowed without a token: {variant}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }

    #[test]
    fn authorizer_and_its_futures_can_be_shared_across_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let auth = authorizer(&[
            ("JWT_ISSUER", "https://idp.example.com/"),
            ("JWT_AUDIENCE", "a"),
        ]);
        send_sync(&auth);
        send(auth.handle(json!({})));
        send(auth.warm_up());
    }

    #[test]
    fn loggable_truncates_on_char_boundary() {
        let long = "é".repeat(100);
        let cut = loggable(&long);
        assert!(cut.len() <= MAX_LOGGED_HEADER_VALUE);
        assert!(long.starts_with(cut));
        assert_eq!(loggable("kid-1"), "kid-1");
    }
}
