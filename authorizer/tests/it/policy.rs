//! Issuer and claim policy (issue 15) through the real binary under the Runtime API stand-in,
//! with real signed tokens and loopback JWKS servers: RFC 9068 access tokens, claim rules per
//! issuer and per route, maximum lifetime and `iat`, `principalId` claims, the usage-plan key,
//! and Cognito issuer forms and regions. Each for every event format where it applies, with the
//! reason code of the decision log line.

use std::time::{Duration, Instant};

use crate::common::{
    AUDIENCE, Decision, Format, Harness, assert_allowed, assert_allowed_event, assert_denied,
    assert_init_fails_naming, decide, event_arn, policy_allows,
};
use serde_json::{Value, json};
use testkit::{InvokeError, JwksServer, TestKey};

/// Every format, with the answer style its process needs.
const ALL: [Format; 5] = [
    Format::RestToken,
    Format::RestRequest,
    Format::HttpV1,
    Format::HttpV2Simple,
    Format::HttpV2Iam,
];

/// A process for `document` (plus `extra`), in the answer style `format` needs.
fn start(idp: JwksServer, document: &Value, format: Format, extra: &[(&str, &str)]) -> Harness {
    let text = document.to_string();
    let style = if format == Format::HttpV2Iam {
        "iam"
    } else {
        "simple"
    };
    let mut env = vec![
        ("AUTHORIZER_CONFIG", text.as_str()),
        ("AUTHORIZER_RESPONSE_STYLE", style),
    ];
    env.extend_from_slice(extra);
    Harness::start_configured(idp, &env)
}

/// One issuer (the IdP's) with `policy` fields merged in.
fn issuer(idp: &JwksServer, policy: &Value) -> Value {
    let mut issuer = json!({"issuer": idp.issuer(), "audience": AUDIENCE});
    for (k, v) in policy.as_object().expect("object") {
        issuer[k] = v.clone();
    }
    issuer
}

/// The fields of the decision log lines so far (JSON lines with a `decision`).
fn decisions(harness: &Harness) -> Vec<Value> {
    harness
        .function
        .logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .map(|line| line.get("fields").cloned().unwrap_or(line))
        .filter(|fields| fields.get("decision").is_some())
        .collect()
}

/// Invokes `event` and returns the answer with the decision line it logged (waiting, bounded,
/// for the log capture thread to read it). Every invocation logs exactly one decision line.
fn call_logged(harness: &Harness, event: Value) -> (Result<Value, InvokeError>, Value) {
    // Every call of these tests goes through here, so the lines of earlier calls are all in.
    let before = decisions(harness).len();
    let answer = harness.function.invoke(event);
    let started = Instant::now();
    loop {
        let lines = decisions(harness);
        if lines.len() > before {
            return (answer, lines[before].clone());
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no decision line logged for the call"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts `token` is denied in `format` with `reason` (and `claim`, when given) in the log.
#[track_caller]
fn assert_denied_for(
    harness: &Harness,
    format: Format,
    token: &str,
    reason: &str,
    claim: Option<&str>,
    what: &str,
) {
    harness.remember(token);
    let (answer, line) = call_logged(harness, format.bearer(token));
    assert_denied(format, answer, what);
    assert_eq!(line["decision"], "deny", "{what} ({format:?}): {line}");
    assert_eq!(line["reason"], reason, "{what} ({format:?}): {line}");
    if let Some(claim) = claim {
        assert_eq!(line["claim"], claim, "{what} ({format:?}): {line}");
    }
}

/// Invokes with `Bearer <token>` in `format`'s event, waiting for its decision line.
fn call(harness: &Harness, format: Format, token: &str) -> Result<Value, InvokeError> {
    harness.remember(token);
    call_logged(harness, format.bearer(token)).0
}

fn signed_with_typ(key: &TestKey, typ: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": key.alg(), "kid": key.kid()});
    if let Some(typ) = typ {
        header["typ"] = json!(typ);
    }
    key.sign_with_header(&header, claims)
}

#[test]
fn rfc9068_access_tokens_are_required_per_issuer() {
    for format in ALL {
        let key = TestKey::ec_p256();
        let other_key = TestKey::ed25519();
        let other = JwksServer::start_with(&[&other_key]);
        let idp = JwksServer::start_with(&[&key]);
        let document = json!({"issuers": [
            issuer(&idp, &json!({"rfc9068": {"require_claims": true}})),
            {"issuer": other.issuer(), "audience": AUDIENCE, "jwks_uri": other.jwks_uri()},
        ]});
        let harness = start(idp, &document, format, &[]);
        let mut access = harness.claims("at-user");
        access["client_id"] = json!("client-1");
        access["jti"] = json!("jti-1");

        for typ in ["at+jwt", "application/AT+JWT"] {
            let token = harness.remember(&signed_with_typ(&key, Some(typ), &access));
            assert_allowed(format, call(&harness, format, &token), "at-user");
        }
        for typ in [
            Some("JWT"),
            None,
            Some("at+jwt;v=1"),
            Some("application/jwt"),
        ] {
            let token = signed_with_typ(&key, typ, &access);
            let what = format!("typ {typ:?}");
            assert_denied_for(&harness, format, &token, "wrong_token_type", None, &what);
        }
        for missing in ["jti", "client_id", "iat"] {
            let mut claims = access.clone();
            claims.as_object_mut().expect("object").remove(missing);
            let token = signed_with_typ(&key, Some("at+jwt"), &claims);
            let what = format!("no {missing}");
            assert_denied_for(
                &harness,
                format,
                &token,
                "missing_claim",
                Some(missing),
                &what,
            );
        }
        // The other issuer does not ask for the profile: its ID-style tokens still pass.
        let plain = testkit::claims(&other.issuer(), AUDIENCE, "plain-user");
        let token = harness.token(&other_key, &plain);
        assert_allowed(format, call(&harness, format, &token), "plain-user");
        harness.assert_no_token_logged();
    }
}

#[test]
fn claim_rules_per_issuer_deny_with_their_own_reason() {
    for format in ALL {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let document = json!({"issuers": [issuer(&idp, &json!({"claim_rules": [
            {"claim": "email_verified", "equals": true},
            {"claim": "amr", "contains": "mfa"},
            {"claim": "plan", "one_of": ["gold", "silver"]},
        ]}))]});
        let harness = start(idp, &document, format, &[]);
        let mut good = harness.claims("rule-user");
        good["email_verified"] = json!(true);
        good["amr"] = json!(["pwd", "mfa"]);
        good["plan"] = json!("silver");
        assert_allowed(
            format,
            call(&harness, format, &harness.token(&key, &good)),
            "rule-user",
        );
        let mut spaced = good.clone();
        spaced["amr"] = json!("pwd mfa");
        assert_allowed(
            format,
            call(&harness, format, &harness.token(&key, &spaced)),
            "rule-user",
        );

        for (claim, value) in [
            ("email_verified", json!("true")),
            ("email_verified", json!(false)),
            ("email_verified", Value::Null),
            ("amr", json!(["pwd"])),
            ("amr", json!("pwd mfa2")),
            ("amr", json!({"mfa": true})),
            ("plan", json!("bronze")),
            ("plan", json!(["gold"])),
        ] {
            let mut claims = good.clone();
            if value.is_null() {
                claims.as_object_mut().expect("object").remove(claim);
            } else {
                claims[claim] = value.clone();
            }
            let token = key.sign(&claims);
            let what = format!("{claim} = {value}");
            assert_denied_for(
                &harness,
                format,
                &token,
                "claim_rule_failed",
                Some(claim),
                &what,
            );
        }
        harness.assert_no_token_logged();
    }
}

#[test]
fn route_claim_rules_refuse_only_their_route() {
    let rules = json!({"DELETE /shows/*": [{"claim": "cognito:groups", "contains": "admin"}]});
    for format in ALL {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let document = json!({"issuers": [issuer(&idp, &json!({}))], "route_claim_rules": rules});
        let harness = start(
            idp,
            &document,
            format,
            &[("AUTHORIZER_CACHE_TTL_SECONDS", "0")],
        );
        let mut user = harness.claims("plain");
        user["cognito:groups"] = json!(["users"]);
        let mut admin = harness.claims("admin");
        admin["cognito:groups"] = json!(["users", "admin"]);
        let user = harness.token(&key, &user);
        let admin = harness.token(&key, &admin);
        let delete = |token: &str| format.at_route(format.bearer(token), "DELETE", "/shows/42");
        let get = |token: &str| format.at_route(format.bearer(token), "GET", "/shows/42");

        // Refused on the route whose rule fails, with an explicit deny (403) and its reason.
        let (answer, line) = call_logged(&harness, delete(&user));
        assert_eq!(decide(format, answer), Decision::Forbidden, "{format:?}");
        assert_eq!(line["reason"], "claim_rule_failed", "{line}");
        assert_eq!(line["claim"], "cognito:groups", "{line}");
        // Ambiguous spellings of that route are held to the rule too.
        let sneaky = format.at_route(format.bearer(&user), "DELETE", "/shows//42");
        let decision = decide(format, call_logged(&harness, sneaky).0);
        assert!(
            !matches!(decision, Decision::Allow { .. }),
            "{format:?}: ambiguous path: {decision:?}"
        );

        // Allowed elsewhere, but a policy answer covers that route only, so a cached answer
        // could never open the DELETE route.
        let event = get(&user);
        let answer = call_logged(&harness, event.clone()).0;
        assert_allowed_event(format, answer.clone(), Some("plain"), &event);
        if let Ok(answer) = &answer
            && format != Format::HttpV2Simple
        {
            let delete_arn = event_arn(&delete(&user));
            assert!(!policy_allows(answer, &delete_arn), "{format:?}: {answer}");
        }

        // A token that meets every rule may use the route, and its answer covers the stage.
        let event = delete(&admin);
        let answer = call_logged(&harness, event.clone()).0;
        assert_allowed_event(format, answer.clone(), Some("admin"), &event);
        if let Ok(answer) = &answer
            && format != Format::HttpV2Simple
        {
            assert!(
                policy_allows(answer, &event_arn(&get(&admin))),
                "{format:?}: {answer}"
            );
        }
        harness.assert_no_token_logged();
    }
}

#[test]
fn route_claim_rules_need_the_answer_cache_off() {
    let idp = JwksServer::start();
    let document = json!({
        "issuers": [{"issuer": idp.issuer(), "audience": AUDIENCE}],
        "route_claim_rules": {"DELETE /shows/*": [{"claim": "cognito:groups", "contains": "admin"}]},
    })
    .to_string();
    for ttl in [None, Some("300")] {
        let mut env = vec![("AUTHORIZER_CONFIG", document.as_str())];
        if let Some(ttl) = ttl {
            env.push(("AUTHORIZER_CACHE_TTL_SECONDS", ttl));
        }
        assert_init_fails_naming(&env, "AUTHORIZER_CACHE_TTL_SECONDS");
    }
}

#[test]
fn max_lifetime_and_required_iat() {
    for format in ALL {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let document = json!({"issuers": [issuer(&idp, &json!({
            "max_lifetime_seconds": 600, "require_iat": true
        }))]});
        let harness = start(idp, &document, format, &[]);
        let now = testkit::now();
        let with = |iat: Option<i64>, exp: i64| {
            let mut claims = harness.claims("life");
            claims["exp"] = json!(exp);
            match iat {
                Some(iat) => claims["iat"] = json!(iat),
                None => {
                    claims.as_object_mut().expect("object").remove("iat");
                }
            }
            harness.remember(&key.sign(&claims))
        };
        assert_allowed(
            format,
            call(&harness, format, &with(Some(now), now + 600)),
            "life",
        );
        // Issued 500 s ago for 600 s: fine.
        assert_allowed(
            format,
            call(&harness, format, &with(Some(now - 500), now + 100)),
            "life",
        );
        let too_long = with(Some(now), now + 601);
        assert_denied_for(
            &harness,
            format,
            &too_long,
            "lifetime_too_long",
            None,
            "601 s",
        );
        let future_iat = with(Some(now + 86_400), now + 86_460);
        assert_denied_for(
            &harness,
            format,
            &future_iat,
            "lifetime_too_long",
            None,
            "iat ahead",
        );
        let no_iat = with(None, now + 60);
        assert_denied_for(
            &harness,
            format,
            &no_iat,
            "missing_claim",
            Some("iat"),
            "no iat",
        );
        harness.assert_no_token_logged();
    }
}

#[test]
fn max_lifetime_without_iat_is_bounded_from_now() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = json!({"issuers": [issuer(&idp, &json!({"max_lifetime_seconds": 600}))]});
    let harness = start(idp, &document, Format::RestToken, &[]);
    let now = testkit::now();
    let mut claims = harness.claims("no-iat");
    claims.as_object_mut().expect("object").remove("iat");
    claims["exp"] = json!(now + 300);
    let token = harness.token(&key, &claims);
    for format in Format::SIMPLE_PROCESS {
        assert_allowed(format, call(&harness, format, &token), "no-iat");
    }
    claims["exp"] = json!(now + 3600);
    let token = key.sign(&claims);
    for format in Format::SIMPLE_PROCESS {
        assert_denied_for(
            &harness,
            format,
            &token,
            "lifetime_too_long",
            None,
            "an hour, no iat",
        );
    }
}

#[test]
fn principal_claims_choose_the_principal_id() {
    for format in ALL {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let document =
            json!({"issuers": [issuer(&idp, &json!({"principal_claims": ["email", "username"]}))]});
        let harness = start(idp, &document, format, &[]);
        let mut claims = harness.claims("sub-1");
        claims["email"] = json!("ann@example.com");
        claims["username"] = json!("ann");
        let context = assert_allowed(
            format,
            call(&harness, format, &harness.token(&key, &claims)),
            "ann@example.com",
        );
        assert_eq!(
            context["sub"], "sub-1",
            "{format:?}: the context still says who by sub"
        );
        claims["email"] = json!("  ");
        assert_allowed(
            format,
            call(&harness, format, &harness.token(&key, &claims)),
            "ann",
        );
        claims["username"] = json!(42);
        assert_allowed(
            format,
            call(&harness, format, &harness.token(&key, &claims)),
            "sub-1",
        );
    }
}

#[test]
fn usage_identifier_key_only_in_rest_answers() {
    const CLAIM: &str = "https://example.com/api_key";
    const API_KEY: &str = "k3y-of-at-least-twenty-characters";
    for format in ALL {
        let key = TestKey::ec_p256();
        let idp = JwksServer::start_with(&[&key]);
        let document =
            json!({"issuers": [issuer(&idp, &json!({"usage_identifier_claim": CLAIM}))]});
        let harness = start(idp, &document, format, &[]);
        let mut claims = harness.claims("metered");
        claims[CLAIM] = json!(API_KEY);
        let answer = call(&harness, format, &harness.token(&key, &claims));
        assert_allowed(format, answer.clone(), "metered");
        let answer = answer.expect("allowed");
        match format {
            Format::RestToken | Format::RestRequest => {
                assert_eq!(answer["usageIdentifierKey"], API_KEY, "{format:?}")
            }
            _ => assert!(
                answer.get("usageIdentifierKey").is_none(),
                "{format:?}: {answer}"
            ),
        }
        if format == Format::RestRequest {
            // A WebSocket `$connect` authorizer gets a REST-shaped REQUEST event; WebSocket APIs
            // have no usage plans, so no key.
            let mut event: Value = serde_json::from_str(include_str!(
                "../fixtures/apigw-v2-custom-authorizer-websocket-request.json"
            ))
            .expect("fixture");
            let token = harness.token(&key, &claims);
            event["headers"]["Authorization"] = json!(format!("Bearer {token}"));
            event["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}")]);
            let answer = harness.function.invoke(event).expect("allowed");
            assert_eq!(
                answer["policyDocument"]["Statement"][0]["Effect"], "Allow",
                "{answer}"
            );
            assert!(
                answer.get("usageIdentifierKey").is_none(),
                "websocket: {answer}"
            );
        }
        // Without the claim the caller is still allowed, with no key (API Gateway then refuses
        // methods that require one).
        claims.as_object_mut().expect("object").remove(CLAIM);
        let answer = call(&harness, format, &harness.token(&key, &claims));
        assert_allowed(format, answer.clone(), "metered");
        assert!(answer.expect("allowed").get("usageIdentifierKey").is_none());
    }
}

#[test]
fn cognito_issuer_forms_and_regions_each_with_their_own_keys() {
    const POOL_ID: &str = "eu-west-1_MrrPool";
    const CLIENT: &str = "mrrclient";
    let forms = [
        format!("https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"),
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"),
        format!("https://issuer-cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"),
        format!("https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"),
    ];
    let keys: Vec<TestKey> = (0..forms.len()).map(|_| TestKey::ec_p256()).collect();
    let servers: Vec<JwksServer> = keys.iter().map(|k| JwksServer::start_with(&[k])).collect();
    let jwks_uris: serde_json::Map<String, Value> = forms
        .iter()
        .zip(&servers)
        .map(|(iss, server)| (iss.clone(), json!(server.jwks_uri())))
        .collect();
    let document = json!({"issuers": [{
        "issuer": forms[0], "audience": CLIENT, "token_use": "access",
        "cognito": {"regions": ["us-east-1"], "issuer_forms": ["updated"], "jwks_uris": jwks_uris},
    }]});
    let access = |iss: &str| {
        let now = testkit::now();
        json!({"iss": iss, "sub": "mrr-user", "token_use": "access", "client_id": CLIENT,
               "iat": now, "exp": now + 300})
    };
    for format in ALL {
        let harness = start(JwksServer::start(), &document, format, &[]);
        for (i, iss) in forms.iter().enumerate() {
            let token = harness.token(&keys[i], &access(iss));
            assert_allowed(format, call(&harness, format, &token), "mrr-user");
            // Each form has its own keys: another form's key does not sign for it.
            let other = harness.remember(&keys[(i + 1) % keys.len()].sign(&access(iss)));
            assert_denied(
                format,
                call(&harness, format, &other),
                "key of another form",
            );
            // Cognito rules apply to every form.
            let mut wrong_client = access(iss);
            wrong_client["client_id"] = json!("other-client");
            let token = keys[i].sign(&wrong_client);
            assert_denied_for(&harness, format, &token, "wrong_audience", None, iss);
            let mut id = access(iss);
            id["token_use"] = json!("id");
            id["aud"] = json!(CLIENT);
            let token = keys[i].sign(&id);
            assert_denied_for(&harness, format, &token, "wrong_token_use", None, iss);
        }
        // Regions and forms nobody configured are other issuers: denied without any fetch,
        // whatever the token says about itself.
        let hits: usize = servers.iter().map(JwksServer::total_hits).sum();
        for stranger in [
            format!("https://cognito-idp.ap-south-1.amazonaws.com/{POOL_ID}"),
            format!("https://issuer-cognito-idp.ap-south-1.amazonaws.com/{POOL_ID}"),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other".to_owned(),
            format!("https://issuer-cognito-idp.eu-west-1.amazonaws.com.evil.example/{POOL_ID}"),
            format!("https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}/"),
        ] {
            let token = keys[0].sign(&access(&stranger));
            assert_denied_for(&harness, format, &token, "wrong_issuer", None, &stranger);
        }
        assert_eq!(
            servers.iter().map(JwksServer::total_hits).sum::<usize>(),
            hits
        );
        harness.assert_no_token_logged();
    }
}

#[test]
fn policy_misconfigurations_stop_the_cold_start_naming_their_place() {
    let idp = JwksServer::start();
    let iss = idp.issuer();
    let pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bad";
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"issuer": iss, "audience": "a", "claim_rules": [
                {"claim": "a", "equals": 1}, {"claim": "b", "contains": 5}]}),
            "issuers[0].claim_rules[1].contains",
        ),
        (
            json!({"issuer": iss, "audience": "a", "claim_rules": [{"claim": "a", "equals": 1, "one_of": [1]}]}),
            "issuers[0].claim_rules[0]",
        ),
        (
            json!({"issuer": iss, "audience": "a", "rfc9068": true}),
            "issuers[0].rfc9068",
        ),
        (
            json!({"issuer": iss, "audience": "a", "rfc9068": {"require_claim": true}}),
            "issuers[0].rfc9068",
        ),
        (
            json!({"issuer": iss, "audience": "a", "max_lifetime_seconds": "3600"}),
            "issuers[0].max_lifetime_seconds",
        ),
        (
            json!({"issuer": iss, "audience": "a", "max_lifetime_seconds": 0}),
            "issuers[0].max_lifetime_seconds",
        ),
        (
            json!({"issuer": iss, "audience": "a", "require_iat": 1}),
            "issuers[0].require_iat",
        ),
        (
            json!({"issuer": iss, "audience": "a", "principal_claims": ["email", null]}),
            "issuers[0].principal_claims[1]",
        ),
        (
            json!({"issuer": iss, "audience": "a", "usage_identifier_claim": "iat"}),
            "issuers[0].usage_identifier_claim",
        ),
        (
            json!({"issuer": iss, "audience": "a", "usage_identifier_claim": true}),
            "issuers[0].usage_identifier_claim",
        ),
        (
            json!({"issuer": iss, "audience": "a", "cognito": {}}),
            "issuers[0].cognito",
        ),
        (
            json!({"issuer": pool, "audience": "a", "cognito": {"regions": ["us-east-1;evil"]}}),
            "issuers[0].cognito.regions[0]",
        ),
        (
            json!({"issuer": pool, "audience": "a", "cognito": {"issuer_form": ["updated"]}}),
            "issuers[0].cognito",
        ),
        (
            json!({"issuer": pool, "audience": "a", "jwks_uri": idp.jwks_uri(),
                   "cognito": {"issuer_forms": ["updated"]}}),
            "issuers[0].cognito",
        ),
    ];
    for (issuer, place) in cases {
        let document = json!({"issuers": [issuer]}).to_string();
        assert_init_fails_naming(&[("AUTHORIZER_CONFIG", &document)], place);
    }
    // Two pools whose forms overlap are one issuer listed twice.
    let document = json!({"issuers": [
        {"issuer": pool, "audience": "a", "cognito": {"regions": ["us-east-1"]}},
        {"issuer": "https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_Bad", "audience": "b"},
    ]})
    .to_string();
    assert_init_fails_naming(&[("AUTHORIZER_CONFIG", &document)], "issuers[1]");
    let document = json!({"issuers": [{"issuer": iss, "audience": "a"}],
                          "route_claim_rules": {"DELETE /x": [{"claim": "g", "contains": []}]}})
    .to_string();
    assert_init_fails_naming(
        &[
            ("AUTHORIZER_CONFIG", &document),
            ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
        ],
        "route_claim_rules[\"DELETE /x\"][0].contains",
    );
}
