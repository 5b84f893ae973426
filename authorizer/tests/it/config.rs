//! The configuration document (`AUTHORIZER_CONFIG` / `AUTHORIZER_CONFIG_FILE`, issue 7) through
//! the real binary: several issuers, token sources, path rules, claim mapping, required scopes
//! per route, inline JWKS, HMAC secrets, and their misconfigurations.

use crate::common::{
    AUDIENCE, Decision, Format, Harness, assert_allowed, assert_allowed_event, assert_denied,
    assert_init_fails_naming, decide, event_arn, policy_allows,
};
use serde_json::{Value, json};
use testkit::{JwksServer, TestKey, forge};

const POOL: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Multi";
const CLIENT: &str = "multiclient";
const SECRET: &str = "a-shared-secret-of-at-least-32-bytes!";

/// A harness whose only configuration is `document` (plus `extra` variables).
fn with_document(idp: JwksServer, document: &Value, extra: &[(&str, &str)]) -> Harness {
    let text = document.to_string();
    // Route rules need the API Gateway answer cache off (AUTHORIZER_CACHE_TTL_SECONDS=0).
    let mut env = vec![
        ("AUTHORIZER_CONFIG", text.as_str()),
        ("AUTHORIZER_CACHE_TTL_SECONDS", "0"),
    ];
    env.extend_from_slice(extra);
    Harness::start_configured(idp, &env)
}

/// A document with the IdP's issuer and `AUDIENCE`, plus `rest` merged in.
fn single_issuer(idp: &JwksServer, rest: &Value) -> Value {
    let mut document = json!({ "issuers": [{ "issuer": idp.issuer(), "audience": AUDIENCE }] });
    for (k, v) in rest.as_object().expect("object") {
        document[k] = v.clone();
    }
    document
}

#[test]
fn several_issuers_each_with_their_own_keys_and_rules() {
    let auth0_key = TestKey::ec_p256();
    let cognito_key = TestKey::rsa2048();
    let auth0 = JwksServer::start_with(&[&auth0_key]);
    let cognito = JwksServer::start_with(&[&cognito_key]);
    let document = json!({ "issuers": [
        { "issuer": auth0.issuer(), "audience": AUDIENCE },
        { "issuer": POOL, "audience": CLIENT, "jwks_uri": cognito.jwks_uri() },
    ]});
    let harness = with_document(auth0, &document, &[]);

    let auth0_token = harness.token(&auth0_key, &harness.claims("auth0|u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &auth0_token),
        "auth0|u",
    );

    let now = testkit::now();
    let access = json!({
        "iss": POOL, "sub": "cognito-u", "token_use": "access", "client_id": CLIENT,
        "iat": now, "exp": now + 300,
    });
    let cognito_token = harness.token(&cognito_key, &access);
    assert_allowed(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &cognito_token),
        "cognito-u",
    );

    // Keys do not cross issuers: the Cognito key cannot sign for the Auth0 issuer, and the Auth0
    // audience does not count for the Cognito pool.
    let crossed = harness.token(&cognito_key, &harness.claims("mallory"));
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &crossed),
        "key of the other issuer",
    );
    let mut wrong_rules = access.clone();
    wrong_rules["client_id"] = json!(AUDIENCE);
    let wrong_rules = harness.token(&cognito_key, &wrong_rules);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &wrong_rules),
        "audience of the other issuer",
    );

    // An unknown issuer is denied without any request to either IdP.
    let hits_before = harness.idp.total_hits() + cognito.total_hits();
    let stranger = testkit::claims("https://evil.example/", AUDIENCE, "mallory");
    let stranger = harness.token(&TestKey::ec_p256(), &stranger);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &stranger),
        "unknown iss",
    );
    assert_eq!(harness.idp.total_hits() + cognito.total_hits(), hits_before);
    harness.assert_no_token_logged();
}

#[test]
fn token_sources_header_query_and_cookie() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(
        &idp,
        &json!({ "token_sources": [
            { "header": "X-Api-Token" },
            { "query": "access_token" },
            { "cookie": "session" },
        ]}),
    );
    let harness = with_document(idp, &document, &[]);
    let token = harness.token(&key, &harness.claims("u"));

    // A header without a scheme prefix.
    let mut event = Format::RestRequest.event(None);
    event["headers"]["X-Api-Token"] = json!(token);
    event["multiValueHeaders"]["X-Api-Token"] = json!([token]);
    assert_allowed(Format::RestRequest, harness.function.invoke(event), "u");

    // A query string parameter (WebSocket $connect clients cannot set headers).
    let mut event = Format::RestRequest.event(None);
    event["queryStringParameters"]["access_token"] = json!(token);
    event["multiValueQueryStringParameters"]["access_token"] = json!([token]);
    assert_allowed(Format::RestRequest, harness.function.invoke(event), "u");
    let mut event = Format::HttpV2Simple.event(None);
    event["queryStringParameters"]["access_token"] = json!(token);
    event["rawQueryString"] = json!(format!("access_token={token}"));
    assert_allowed(Format::HttpV2Simple, harness.function.invoke(event), "u");

    // A cookie: `cookies` in payload 2.0, the Cookie header elsewhere.
    let mut event = Format::HttpV2Simple.event(None);
    event["cookies"] = json!(["theme=dark", format!("session={token}")]);
    assert_allowed(Format::HttpV2Simple, harness.function.invoke(event), "u");
    let mut event = Format::RestRequest.event(None);
    event["headers"]["Cookie"] = json!(format!("theme=dark; session={token}"));
    event["multiValueHeaders"]["Cookie"] = json!([format!("theme=dark; session={token}")]);
    assert_allowed(Format::RestRequest, harness.function.invoke(event), "u");

    // The Authorization header is not a configured source here.
    assert_denied(
        Format::RestRequest,
        harness.call(Format::RestRequest, &token),
        "unconfigured source",
    );
    // A bad token in a configured source is still denied.
    let mut event = Format::RestRequest.event(None);
    let bad = forge::flip_signature_bit(&token);
    event["headers"]["X-Api-Token"] = json!(bad);
    event["multiValueHeaders"]["X-Api-Token"] = json!([bad]);
    assert_denied(
        Format::RestRequest,
        harness.function.invoke(event),
        "bad token in custom header",
    );
    harness.assert_no_token_logged();
}

#[test]
fn custom_scheme_prefix_on_a_header() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(
        &idp,
        &json!({ "token_sources": [{ "header": "Authorization", "prefix": "JWT" }] }),
    );
    let harness = with_document(idp, &document, &[]);
    let token = harness.token(&key, &harness.claims("u"));
    let event = Format::RestRequest.event(Some(&format!("JWT {token}")));
    assert_allowed(Format::RestRequest, harness.function.invoke(event), "u");
    assert_denied(
        Format::RestRequest,
        harness.call(Format::RestRequest, &token),
        "Bearer when JWT is configured",
    );
}

#[test]
fn public_paths_allow_without_a_token_and_protect_the_rest() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(&idp, &json!({ "public_paths": ["/public", "/login/*"] }));
    let harness = with_document(idp, &document, &[]);
    let token = harness.token(&key, &harness.claims("u"));
    for format in Format::SIMPLE_PROCESS {
        let private = event_arn(&format.at_route(format.event(None), "GET", "/private"));
        for path in ["/public", "/login", "/login/callback"] {
            let event = format.at_route(format.event(None), "GET", path);
            let answer = harness.function.invoke(event.clone());
            assert_allowed_event(format, answer.clone(), None, &event);
            // API Gateway caches the policy: an anonymous allow must not reach protected routes.
            assert!(
                !answer.as_ref().is_ok_and(|a| policy_allows(a, &private)),
                "{format:?}: anonymous allow for {path} also covers /private: {answer:?}"
            );
        }
        // With a valid token on a public path, the caller's claims come along.
        let event = format.at_route(format.bearer(&token), "GET", "/public");
        let context = assert_allowed_event(
            format,
            harness.function.invoke(event.clone()),
            Some("u"),
            &event,
        );
        assert_eq!(context["sub"], "u");
        for path in ["/private", "/publicity", "/loginx", "/"] {
            let event = format.at_route(format.event(None), "GET", path);
            assert_denied(
                format,
                harness.function.invoke(event),
                &format!("{path} without token"),
            );
        }
        // A bad token on a protected path is denied as usual.
        let bad = forge::flip_signature_bit(&token);
        let event = format.at_route(format.bearer(&bad), "GET", "/private");
        assert_denied(
            format,
            harness.function.invoke(event),
            "bad token on /private",
        );
    }
}

#[test]
fn protected_paths_protect_only_those() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(&idp, &json!({ "protected_paths": ["/admin/*"] }));
    let harness = with_document(idp, &document, &[]);
    let format = Format::HttpV2Simple;
    let event = format.at_route(format.event(None), "GET", "/admin/users");
    assert_denied(
        format,
        harness.function.invoke(event),
        "/admin/users without token",
    );
    let event = format.at_route(format.event(None), "GET", "/hello");
    assert_allowed_event(format, harness.function.invoke(event.clone()), None, &event);
    let format = Format::RestRequest;
    let event = format.at_route(format.event(None), "GET", "/hello");
    let answer = harness.function.invoke(event.clone());
    assert_allowed_event(format, answer.clone(), None, &event);
    let admin = event_arn(&format.at_route(format.event(None), "GET", "/admin/users"));
    assert!(
        !policy_allows(&answer.expect("allowed"), &admin),
        "anonymous allow covers /admin"
    );
}

#[test]
fn required_scopes_per_route_give_an_explicit_deny() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(
        &idp,
        &json!({ "required_scopes": { "GET /shows": "read:shows" } }),
    );
    let harness = with_document(idp, &document, &[]);
    let mut with_scope = harness.claims("reader");
    with_scope["scope"] = json!("openid read:shows");
    let reader = harness.token(&key, &with_scope);
    let mut near_miss = harness.claims("other");
    near_miss["scope"] = json!("read:showsX xread:shows write:shows");
    let other = harness.token(&key, &near_miss);
    for format in Format::SIMPLE_PROCESS {
        let shows = |token: &str| format.at_route(format.bearer(token), "GET", "/shows");
        assert_allowed_event(
            format,
            harness.function.invoke(shows(&reader)),
            Some("reader"),
            &shows(&reader),
        );
        // A valid token without the scope: 403, not 401.
        let decision = decide(format, harness.function.invoke(shows(&other)));
        assert_eq!(decision, Decision::Forbidden, "{format:?}: missing scope");
        // Other routes need no scope; but API Gateway caches the policy per token, so the
        // allow for /me must not cover /shows, or the next call to /shows would skip the check.
        let me = format.at_route(format.bearer(&other), "GET", "/me");
        let answer = harness.function.invoke(me.clone());
        assert_allowed_event(format, answer.clone(), Some("other"), &me);
        assert!(
            !answer
                .as_ref()
                .is_ok_and(|a| policy_allows(a, &event_arn(&shows(&other)))),
            "{format:?}: the allow for /me also covers GET /shows: {answer:?}"
        );
    }
}

#[test]
fn claim_mapping_renames_strips_and_lists() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(
        &idp,
        &json!({ "claims": {
            "include": { "sub": "sub", "https://example.com/roles": "roles", "scope": "scope" },
            "scope_as_list": true,
        }}),
    );
    let harness = with_document(idp, &document, &[]);
    let mut claims = harness.claims("u");
    claims["https://example.com/roles"] = json!(["admin", "editor"]);
    claims["email"] = json!("u@example.com");
    claims["scope"] = json!("read:shows write:shows");
    let token = harness.token(&key, &claims);
    let context = assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    assert_eq!(context["sub"], "u");
    let roles: Value =
        serde_json::from_str(context["roles"].as_str().expect("roles as a JSON string"))
            .expect("JSON");
    assert_eq!(roles, json!(["admin", "editor"]));
    assert!(
        context.get("email").is_none(),
        "claims not included are dropped: {context}"
    );
    assert!(context.get("https://example.com/roles").is_none());
    let scope = &context["scope"];
    let scopes: Value = match scope {
        Value::String(s) => serde_json::from_str(s).expect("scope list as a JSON string"),
        other => other.clone(),
    };
    assert_eq!(scopes, json!(["read:shows", "write:shows"]));
}

#[test]
fn namespaced_claims_can_be_stripped() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(&idp, &json!({ "claims": { "strip_namespaces": true } }));
    let harness = with_document(idp, &document, &[]);
    let mut claims = harness.claims("u");
    claims["https://example.com/org"] = json!("acme");
    let token = harness.token(&key, &claims);
    let context = assert_allowed(
        Format::HttpV2Simple,
        harness.call(Format::HttpV2Simple, &token),
        "u",
    );
    assert_eq!(context["org"], "acme", "{context}");
}

#[test]
fn inline_jwks_needs_no_network() {
    let key = TestKey::ed25519();
    // An issuer nobody can reach: only the inline keys can verify its tokens.
    let issuer = "https://issuer.invalid/";
    let document = json!({ "issuers": [{
        "issuer": issuer, "audience": AUDIENCE, "jwks": TestKey::jwks(&[&key]),
    }]});
    let harness = with_document(JwksServer::start(), &document, &[]);
    let token = harness.token(&key, &testkit::claims(issuer, AUDIENCE, "inline-u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "inline-u",
    );
    let other = harness.token(
        &TestKey::ed25519().with_kid(key.kid()),
        &testkit::claims(issuer, AUDIENCE, "m"),
    );
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &other),
        "not the inline key",
    );
}

#[test]
fn hmac_secret_verifies_its_own_kid_only() {
    let rsa = TestKey::rsa2048();
    let idp = JwksServer::start_with(&[&rsa]);
    let issuer = idp.issuer();
    let document = json!({ "issuers": [{
        "issuer": issuer, "audience": AUDIENCE,
        // With HMAC secrets, remote keys are used only when jwks_uri says where they are.
        "jwks_uri": idp.jwks_uri(),
        "hmac": [{ "kid": "self-issued", "secret_env": "SELF_SECRET" }],
    }]});
    let harness = with_document(idp, &document, &[("SELF_SECRET", SECRET)]);
    let claims = harness.claims("svc");
    let header = json!({ "kid": "self-issued", "typ": "JWT" });
    let good = harness.remember(&forge::hmac_signed(
        "HS256",
        SECRET.as_bytes(),
        &header,
        &claims,
    ));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &good),
        "svc",
    );
    // The JWKS keys still work beside it.
    let rs = harness.token(&rsa, &claims);
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &rs),
        "svc",
    );

    let wrong_secret = forge::hmac_signed(
        "HS256",
        b"another-secret-of-at-least-32-bytes!!",
        &header,
        &claims,
    );
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &wrong_secret),
        "wrong secret",
    );
    let wrong_alg = forge::hmac_signed("HS512", SECRET.as_bytes(), &header, &claims);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &wrong_alg),
        "HS512 on an HS256 secret",
    );
    // The secret is not usable under a JWKS kid, nor the JWKS key as an HMAC secret.
    let mut rsa_kid = header.clone();
    rsa_kid["kid"] = json!(rsa.kid());
    let confused = forge::hmac_signed("HS256", SECRET.as_bytes(), &rsa_kid, &claims);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &confused),
        "secret under a JWKS kid",
    );
    for (label, token) in forge::key_confusion_variants(&rsa, &claims) {
        assert_denied(
            Format::RestToken,
            harness.call(Format::RestToken, &token),
            label,
        );
    }
    let none = forge::alg_none("none", Some("self-issued"), &claims);
    assert_denied(
        Format::RestToken,
        harness.call(Format::RestToken, &none),
        "alg none on the HMAC kid",
    );
    let logs = harness.function.logs();
    assert!(!logs.contains(SECRET), "the secret appears in the logs");
    harness.assert_no_token_logged();
}

#[test]
fn config_file_is_read() {
    let key = TestKey::ec_p256();
    let idp = JwksServer::start_with(&[&key]);
    let document = single_issuer(&idp, &json!({}));
    let path = std::env::temp_dir().join(format!(
        "authorizer-config-{}.json",
        testkit::keys::random_id(6)
    ));
    std::fs::write(&path, document.to_string()).expect("write config file");
    let path_text = path.to_string_lossy().into_owned();
    let harness = Harness::start_configured(idp, &[("AUTHORIZER_CONFIG_FILE", &path_text)]);
    let token = harness.token(&key, &harness.claims("u"));
    assert_allowed(
        Format::RestToken,
        harness.call(Format::RestToken, &token),
        "u",
    );
    drop(harness);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn bad_documents_fail_init_naming_the_place() {
    let issuer = json!({ "issuer": "https://tenant.example.auth0.com/", "audience": AUDIENCE });
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "isuers": [issuer] }), "AUTHORIZER_CONFIG"),
        (json!({ "issuers": [] }), "issuers"),
        (
            json!({ "issuers": [{ "issuer": "http://tenant.example.com/", "audience": AUDIENCE }] }),
            "issuers[0].issuer",
        ),
        (
            json!({ "issuers": [{ "issuer": "https://a.example/" }] }),
            "AUTHORIZER_CONFIG",
        ),
        (json!({ "issuers": [issuer, issuer] }), "issuers[1]"),
        (
            json!({ "issuers": [issuer], "public_paths": ["/a"], "protected_paths": ["/b"] }),
            "public_paths",
        ),
        (
            json!({ "issuers": [issuer], "public_paths": ["no-slash"] }),
            "public_paths[0]",
        ),
        (
            json!({ "issuers": [issuer], "token_sources": [{ "header": "A", "query": "b" }] }),
            "token_sources[0]",
        ),
        (
            json!({ "issuers": [issuer], "token_sources": [] }),
            "token_sources",
        ),
        (
            json!({ "issuers": [issuer], "required_scopes": { "GET /shows": [] } }),
            "required_scopes",
        ),
        (
            json!({ "issuers": [{ "issuer": "https://a.example/", "audience": AUDIENCE,
            "hmac": [{ "kid": "k", "secret_env": "UNSET_SECRET_VAR" }] }] }),
            "UNSET_SECRET_VAR",
        ),
        (
            json!({ "issuers": [{ "issuer": "https://a.example/", "audience": AUDIENCE,
            "jwks": { "keys": "nope" } }] }),
            "issuers[0].jwks",
        ),
    ];
    for (document, needle) in cases {
        let text = document.to_string();
        assert_init_fails_naming(&[("AUTHORIZER_CONFIG", &text)], needle);
    }
    assert_init_fails_naming(&[("AUTHORIZER_CONFIG", "{not json")], "AUTHORIZER_CONFIG");
    // A short HMAC secret.
    let text = json!({ "issuers": [{ "issuer": "https://a.example/", "audience": AUDIENCE,
        "hmac": [{ "kid": "k", "secret_env": "SHORT_SECRET" }] }] })
    .to_string();
    assert_init_fails_naming(
        &[("AUTHORIZER_CONFIG", &text), ("SHORT_SECRET", "too-short")],
        "SHORT_SECRET",
    );
    // Issuers in two places.
    let text = json!({ "issuers": [issuer] }).to_string();
    assert_init_fails_naming(
        &[
            ("AUTHORIZER_CONFIG", &text),
            ("JWT_ISSUER", "https://b.example/"),
        ],
        "JWT_ISSUER",
    );
    // Route rules while API Gateway may cache answers (TTL unset or not 0): a cached allow would
    // be replayed on the caller's other routes.
    for rules in [
        json!({ "issuers": [issuer], "public_paths": ["/login/*"] }),
        json!({ "issuers": [issuer], "required_scopes": { "GET /shows": "read:shows" } }),
    ] {
        let text = rules.to_string();
        assert_init_fails_naming(
            &[("AUTHORIZER_CONFIG", &text)],
            "AUTHORIZER_CACHE_TTL_SECONDS",
        );
        assert_init_fails_naming(
            &[
                ("AUTHORIZER_CONFIG", &text),
                ("AUTHORIZER_CACHE_TTL_SECONDS", "300"),
            ],
            "AUTHORIZER_CACHE_TTL_SECONDS",
        );
    }
    assert_init_fails_naming(
        &[("AUTHORIZER_CONFIG_FILE", "/nonexistent/authorizer.json")],
        "AUTHORIZER_CONFIG_FILE",
    );
}
