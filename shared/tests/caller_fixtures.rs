//! Caller extraction and scope matching over real API Gateway event shapes.

use serde_json::{Value, json};
use shared::fixtures::{self, event, request, with_authorizer};
use shared::{Caller, caller};

fn caller_of(json: &str) -> Option<Caller> {
    caller(&request(&event(json)))
}

fn scopes(caller: &Caller) -> Vec<&str> {
    caller.scopes.iter().map(String::as_str).collect()
}

#[test]
fn every_fixture_is_an_event_lambda_http_accepts() {
    for (name, json) in fixtures::ALL {
        let parsed: Result<lambda_http::request::LambdaRequest, _> = serde_json::from_str(json);
        assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
    }
}

#[test]
fn http_api_jwt_auth0_claims_are_restored() {
    let caller = caller_of(fixtures::HTTP_API_JWT_AUTH0).expect("caller");
    assert_eq!(caller.sub, "auth0|alice");
    assert_eq!(
        caller.claims["aud"],
        json!([
            "https://api.example.com",
            "https://example.eu.auth0.com/userinfo"
        ])
    );
    assert_eq!(caller.claims["exp"], json!(1_700_086_400));
    assert_eq!(caller.claims["iat"], json!(1_700_000_000));
    assert_eq!(
        caller.claims["permissions"],
        json!(["read:shows", "write:shows"])
    );
    assert_eq!(caller.claims["https://example.com/ratio"], json!(0.5));
    assert_eq!(caller.claims["https://example.com/verified"], json!(true));
    // Strings that only look like numbers stay strings.
    assert_eq!(caller.claims["phone_number"], json!("15551234567"));
    assert_eq!(
        caller.claims["https://example.com/employee_id"],
        json!("007")
    );
    assert_eq!(caller.claims["scope"], json!("openid profile read:shows"));
    assert_eq!(
        scopes(&caller),
        ["openid", "profile", "read:shows", "write:shows"]
    );
    assert!(caller.has_scope("read:shows"));
}

#[test]
fn http_api_jwt_cognito_claims_are_restored() {
    let caller = caller_of(fixtures::HTTP_API_JWT_COGNITO).expect("caller");
    assert_eq!(caller.sub, "5f1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    assert_eq!(
        caller.claims["cognito:groups"],
        json!(["admins", "readers"])
    );
    assert_eq!(caller.claims["version"], json!(2));
    assert_eq!(caller.claims["username"], json!("0042"));
    assert_eq!(caller.claims["token_use"], json!("access"));
    assert_eq!(scopes(&caller), ["read:shows", "shows/read.all"]);
}

#[test]
fn http_api_lambda_authorizer_context_is_read() {
    let caller = caller_of(fixtures::HTTP_API_LAMBDA).expect("caller");
    assert_eq!(caller.sub, "auth0|bob");
    assert_eq!(caller.claims["aud"], json!(["https://api.example.com"]));
    assert_eq!(caller.claims["exp"], json!(1_700_086_400));
    assert_eq!(caller.claims["email_verified"], json!(true));
    assert_eq!(
        caller.claims["https://example.com/app_metadata"],
        json!({"plan": "pro", "seats": 3})
    );
    // Our authorizer passes real numbers, so a numeric-looking string is a string.
    assert_eq!(caller.claims["https://example.com/badge"], json!("12345"));
    assert_eq!(
        caller.claims["https://example.com/employee_id"],
        json!("0042")
    );
    assert_eq!(scopes(&caller), ["openid", "read:shows", "write:shows"]);
}

#[test]
fn rest_lambda_authorizer_map_is_read() {
    let caller = caller_of(fixtures::REST_LAMBDA).expect("caller");
    assert_eq!(caller.sub, "auth0|carol");
    assert_eq!(caller.claims["exp"], json!(1_700_086_400));
    assert_eq!(caller.claims["email_verified"], json!(false));
    assert_eq!(
        caller.claims["https://example.com/roles"],
        json!(["editor", "viewer"])
    );
    assert!(
        !caller.claims.contains_key("principalId"),
        "API Gateway's keys are not claims"
    );
    assert!(!caller.claims.contains_key("integrationLatency"));
    assert_eq!(scopes(&caller), ["openid", "read:shows"]);
}

#[test]
fn rest_principal_id_is_the_subject_without_sub() {
    let mut event = event(fixtures::REST_LAMBDA);
    event["requestContext"]["authorizer"] =
        json!({"principalId": "user-7", "scope": "read:shows", "integrationLatency": 3});
    let caller = caller(&request(&event)).expect("caller");
    assert_eq!(caller.sub, "user-7");
    assert!(caller.has_scope("read:shows"));
    assert_eq!(
        caller.claims,
        json!({"scope": "read:shows"}).as_object().cloned().unwrap()
    );
}

#[test]
fn rest_cognito_user_pool_claims_are_read() {
    let caller = caller_of(fixtures::REST_COGNITO).expect("caller");
    assert_eq!(caller.sub, "9a8b7c6d-5e4f-4321-8765-0fedcba98765");
    assert_eq!(caller.claims["email_verified"], json!(true));
    assert_eq!(caller.claims["auth_time"], json!(1_700_000_000));
    assert_eq!(caller.claims["exp"], json!("Wed Nov 15 00:13:20 UTC 2023"));
    assert!(caller.scopes.is_empty());
}

#[test]
fn http_api_payload_v1_jwt_authorizer_is_read() {
    let caller = caller_of(fixtures::HTTP_API_V1_JWT).expect("caller");
    assert_eq!(caller.sub, "erin");
    assert_eq!(caller.claims["exp"], json!(1_700_086_400));
    assert_eq!(scopes(&caller), ["read:shows"]);
}

#[test]
fn http_api_payload_v1_lambda_context_is_read() {
    let event = with_authorizer(
        event(fixtures::HTTP_API_V1_JWT),
        Some(json!({"lambda": {"sub": "frank", "permissions": "[\"read:shows\"]", "n": "12"}})),
    );
    let caller = caller(&request(&event)).expect("caller");
    assert_eq!(caller.sub, "frank");
    assert_eq!(caller.claims["n"], json!("12"));
    assert!(caller.has_scope("read:shows"));
}

#[test]
fn aws_lambda_events_rest_fixture_yields_principal() {
    let caller = caller_of(fixtures::AWS_EVENTS_REST).expect("caller");
    assert_eq!(caller.sub, "admin");
    assert_eq!(caller.claims["clientId"], json!(1));
    assert_eq!(caller.claims["clientName"], json!("Exata"));
}

#[test]
fn events_without_a_subject_have_no_caller() {
    for (name, json) in [
        (
            "sam http-api-proxy (claims without sub)",
            fixtures::SAM_HTTP_API_PROXY,
        ),
        ("sam aws-proxy (no authorizer)", fixtures::SAM_AWS_PROXY),
        (
            "http api without authorizer",
            fixtures::HTTP_API_NO_AUTHORIZER,
        ),
        (
            "aws_lambda_events v2 jwt without sub",
            fixtures::AWS_EVENTS_V2_JWT,
        ),
        (
            "aws_lambda_events v2 lambda without sub",
            fixtures::AWS_EVENTS_V2_LAMBDA,
        ),
        (
            "aws_lambda_events v2 no authorizer",
            fixtures::AWS_EVENTS_V2_NO_AUTHORIZER,
        ),
        ("aws_lambda_events v2 iam", fixtures::AWS_EVENTS_V2_IAM),
        ("aws_lambda_events sam rest", fixtures::AWS_EVENTS_SAM_REST),
        ("aws_lambda_events sam http", fixtures::AWS_EVENTS_SAM_HTTP),
    ] {
        assert_eq!(caller_of(json), None, "{name}");
    }
}

#[test]
fn empty_or_non_string_subject_is_no_caller() {
    for authorizer in [
        json!({"jwt": {"claims": {"sub": ""}, "scopes": ["read:shows"]}}),
        json!({"jwt": {"claims": {"sub": "   "}}}),
        json!({"jwt": {"claims": {}}}),
        json!({"jwt": {"claims": null, "scopes": null}}),
        json!({"lambda": {"sub": null, "scope": "read:shows"}}),
        json!({"lambda": {"sub": ["a"]}}),
        json!({"lambda": {"sub": {"id": "a"}}}),
        json!({"lambda": {}}),
        json!({}),
        json!(null),
    ] {
        let event = with_authorizer(
            event(fixtures::HTTP_API_JWT_AUTH0),
            Some(authorizer.clone()),
        );
        assert_eq!(caller(&request(&event)), None, "{authorizer}");
    }
    for authorizer in [
        json!({"principalId": ""}),
        json!({"scope": "read:shows"}),
        json!({}),
        json!(null),
    ] {
        let event = with_authorizer(event(fixtures::REST_LAMBDA), Some(authorizer.clone()));
        assert_eq!(caller(&request(&event)), None, "{authorizer}");
    }
}

#[test]
fn numeric_subject_from_lambda_context_is_its_text() {
    let event = with_authorizer(
        event(fixtures::HTTP_API_LAMBDA),
        Some(json!({"lambda": {"sub": 42}})),
    );
    assert_eq!(caller(&request(&event)).expect("caller").sub, "42");
}

#[test]
fn numeric_looking_subject_stays_a_string_claim() {
    let event = with_authorizer(
        event(fixtures::HTTP_API_JWT_AUTH0),
        Some(json!({"jwt": {"claims": {"sub": "0012", "exp": "5"}}})),
    );
    let caller = caller(&request(&event)).expect("caller");
    assert_eq!(caller.sub, "0012");
    assert_eq!(caller.claims["sub"], json!("0012"));
    assert_eq!(caller.claims["exp"], json!(5));
}

#[test]
fn scope_matching_is_exact() {
    for granted in [
        "read:showsX",
        "xread:shows",
        "read:show",
        "READ:SHOWS",
        "read:shows,write:shows",
        "read: shows",
    ] {
        for authorizer in [
            json!({"jwt": {"claims": {"sub": "a", "scope": granted}}}),
            json!({"jwt": {"claims": {"sub": "a"}, "scopes": [granted]}}),
            json!({"lambda": {"sub": "a", "permissions": Value::String(format!("[\"{granted}\"]"))}}),
            json!({"lambda": {"sub": "a", "scp": [granted]}}),
        ] {
            let event = with_authorizer(
                event(fixtures::HTTP_API_JWT_AUTH0),
                Some(authorizer.clone()),
            );
            let caller = caller(&request(&event)).expect("caller");
            assert!(!caller.has_scope("read:shows"), "{authorizer}");
        }
    }
}

#[test]
fn scope_is_found_in_each_source_alone() {
    for authorizer in [
        json!({"jwt": {"claims": {"sub": "a", "scope": "openid read:shows"}}}),
        json!({"jwt": {"claims": {"sub": "a", "scp": "[read:shows other]"}}}),
        json!({"jwt": {"claims": {"sub": "a", "permissions": "[read:shows]"}}}),
        json!({"jwt": {"claims": {"sub": "a"}, "scopes": ["read:shows"]}}),
        json!({"lambda": {"sub": "a", "scope": "read:shows"}}),
        json!({"lambda": {"sub": "a", "scp": "[\"read:shows\"]"}}),
        json!({"lambda": {"sub": "a", "permissions": "[\"read:shows\"]"}}),
    ] {
        let event = with_authorizer(
            event(fixtures::HTTP_API_JWT_AUTH0),
            Some(authorizer.clone()),
        );
        assert!(
            caller(&request(&event))
                .expect("caller")
                .has_scope("read:shows"),
            "{authorizer}"
        );
    }
    for authorizer in [
        json!({"principalId": "a", "scope": "read:shows"}),
        json!({"principalId": "a", "scp": "[\"read:shows\"]"}),
        json!({"principalId": "a", "permissions": "[read:shows]"}),
    ] {
        let event = with_authorizer(event(fixtures::REST_LAMBDA), Some(authorizer.clone()));
        assert!(
            caller(&request(&event))
                .expect("caller")
                .has_scope("read:shows"),
            "{authorizer}"
        );
    }
}

#[test]
fn caller_serialises_with_sorted_scopes() {
    let caller = caller_of(fixtures::HTTP_API_V1_JWT).expect("caller");
    assert_eq!(
        serde_json::to_value(&caller).unwrap(),
        json!({"sub": "erin", "scopes": ["read:shows"], "claims": {"sub": "erin", "scope": "read:shows", "exp": 1_700_086_400}})
    );
}

/// Our authorizer's anonymous allow of a public path, as API Gateway passes it on in each
/// event shape, is no caller; the same shape with a subject and no marker is a caller.
#[test]
fn anonymous_allow_is_no_caller_in_every_authorizer_context_shape() {
    let cases = [
        // REST API (TOKEN or REQUEST authorizer): context flattened beside principalId, strings.
        (
            fixtures::REST_LAMBDA,
            json!({"principalId": "anonymous", "anonymous": "true", "integrationLatency": 0}),
            json!({"principalId": "u1", "sub": "u1", "integrationLatency": 0}),
        ),
        // HTTP API payload 2.0: `lambda` object, JSON scalars.
        (
            fixtures::HTTP_API_LAMBDA,
            json!({"lambda": {"anonymous": true}}),
            json!({"lambda": {"sub": "u1"}}),
        ),
        // HTTP API payload 1.0 (REST-shaped event with a `lambda` object).
        (
            fixtures::HTTP_API_V1_JWT,
            json!({"lambda": {"anonymous": true}}),
            json!({"lambda": {"sub": "u1"}}),
        ),
    ];
    for (fixture, anonymous, known) in cases {
        let anon = with_authorizer(event(fixture), Some(anonymous.clone()));
        assert_eq!(caller(&request(&anon)), None, "{anonymous}");
        // A marker beside claims (never sent by our authorizer) still means no caller.
        let mut mixed = known.clone();
        match mixed.get_mut("lambda") {
            Some(lambda) => lambda["anonymous"] = json!("true"),
            None => mixed["anonymous"] = json!("true"),
        }
        let mixed_event = with_authorizer(event(fixture), Some(mixed.clone()));
        assert_eq!(caller(&request(&mixed_event)), None, "{mixed}");
        let known_event = with_authorizer(event(fixture), Some(known.clone()));
        assert_eq!(
            caller(&request(&known_event)).map(|c| c.sub).as_deref(),
            Some("u1"),
            "{known}"
        );
    }
}
