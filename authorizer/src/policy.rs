//! Answers to API Gateway, in `aws_lambda_events`' response types. [`answer`] is the one place
//! that turns a [`Decision`] into the answer for the event's format, and so the one place that
//! decides whether a refusal is a 401 (failed invocation with the message `Unauthorized`), a 403
//! (explicit deny / `isAuthorized: false`) or an error (malformed event → 500).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::claims::ANONYMOUS_KEY;
use crate::decision::{Decision, Grant};
use crate::error::HandlerError;
use crate::event::{EventError, EventKind, ResourceArn};

/// How HTTP API payload 2.0 events are answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseStyle {
    /// `{"isAuthorized": bool, "context": {...}}` (the authorizer has `EnableSimpleResponses: true`).
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

/// IAM policy language version.
const POLICY_VERSION: &str = "2012-10-17";

/// `principalId` of a caller without a verified token (the anonymous caller of a public path,
/// and the IAM-style deny of HTTP APIs).
const ANONYMOUS: &str = "anonymous";

/// The answer to an event of format `kind` about `arn`, for `decision`:
/// - allow: a policy allowing `arn` (or its whole stage, see [`Grant`]), or `isAuthorized: true`;
/// - deny of a verified caller (the route refuses it): a policy denying `arn` only, or
///   `isAuthorized: false`, with the caller's context → 403;
/// - deny without a caller: REST TOKEN/REQUEST and HTTP API 1.0 fail with `Unauthorized` → 401;
///   HTTP API 2.0 answers `isAuthorized: false` (simple) or a Deny policy (IAM) → 403;
/// - an unreadable event, or a policy answer without an ARN to name: an error → 500.
pub(crate) fn answer(
    decision: &Decision,
    style: ResponseStyle,
    arn: Option<&str>,
) -> Result<Value, HandlerError> {
    let (kind, effect, caller, resource) = match decision {
        Decision::Unreadable(err) => return Err(HandlerError::MalformedEvent(*err)),
        Decision::Allow(allow) => {
            let resource = arn.map(|arn| match allow.grant {
                // An ARN of unexpected shape is granted as given: narrower, never wider.
                Grant::Stage => ResourceArn::parse(arn)
                    .map_or_else(|| arn.to_owned(), |parsed| parsed.stage_wide()),
                Grant::Route => arn.to_owned(),
            });
            (
                allow.kind,
                IamPolicyEffect::Allow,
                allow.caller.as_ref(),
                resource,
            )
        }
        Decision::Deny(deny) => {
            if deny.caller.is_none() && deny.kind != EventKind::HttpV2 {
                return Err(HandlerError::Unauthorized {
                    reason: deny.reason,
                });
            }
            (
                deny.kind,
                IamPolicyEffect::Deny,
                deny.caller.as_ref(),
                arn.map(str::to_owned),
            )
        }
    };
    let context = match (caller, decision) {
        (Some(caller), _) => caller.context.clone(),
        // No token at all on a public path: the context says so and carries no claims (see
        // `shared::context`).
        (None, Decision::Allow(_)) => {
            Map::from_iter([(ANONYMOUS_KEY.to_owned(), Value::Bool(true))])
        }
        (None, _) => Map::new(),
    };
    let allowed = effect == IamPolicyEffect::Allow;
    if kind == EventKind::HttpV2 && style == ResponseStyle::Simple {
        let mut simple = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
        simple.is_authorized = allowed;
        return Ok(to_answer(&simple, context));
    }
    let resource = resource.ok_or(HandlerError::MalformedEvent(EventError::NoResourceArn))?;
    let principal = caller
        .map_or(ANONYMOUS, |c| c.principal.as_str())
        .to_owned();
    let document = policy_document(effect, resource);
    if kind == EventKind::HttpV2 {
        let mut iam = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Value>::default();
        iam.principal_id = Some(principal);
        iam.policy_document = document;
        return Ok(to_answer(&iam, context));
    }
    let mut rest = ApiGatewayCustomAuthorizerResponse::<Value>::default();
    rest.principal_id = Some(principal);
    rest.policy_document = document;
    if let Decision::Allow(allow) = decision {
        rest.usage_identifier_key = usage_identifier(kind, arn, allow.usage_identifier.as_deref());
    }
    Ok(to_answer(&rest, context))
}

fn policy_document(effect: IamPolicyEffect, resource: String) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource];
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some(POLICY_VERSION.to_owned());
    document.statement = vec![statement];
    document
}

/// `key` for an allow of a REST API event only: a REST API with `apiKeySource: AUTHORIZER`
/// meters its usage plans by it. HTTP APIs and WebSocket APIs (whose `$connect` authorizer gets
/// a REST-shaped `REQUEST` event, with a route key such as `$connect` where a REST method would
/// be) have no usage plans. Without a key, nothing is added (API Gateway then refuses a method
/// that requires an API key with 403).
fn usage_identifier(kind: EventKind, arn: Option<&str>, key: Option<&str>) -> Option<String> {
    let websocket = arn
        .and_then(ResourceArn::parse)
        .is_some_and(|arn| arn.is_websocket());
    match kind {
        EventKind::RestToken | EventKind::RestRequest if !websocket => key.map(str::to_owned),
        _ => None,
    }
}

/// The answer's JSON, in the shape answers have always had. The library writes `Action` and
/// `Resource` as lists and an absent `usageIdentifierKey` as `null`; API Gateway reads a string
/// as a list of one and an absent key as none, and our answers (which tests and peer authorizers
/// compare byte for byte) have always written the one action and the one resource as strings
/// and left an absent key out.
///
/// The context is moved in after serialising: through `to_value` every claim would be copied once
/// more, the largest part of the answer's cost (`benches/verify.rs`).
fn to_answer(response: &impl Serialize, context: Map<String, Value>) -> Value {
    // Serialising these types cannot fail: their maps have string keys.
    let mut answer = serde_json::to_value(response).unwrap_or(Value::Null);
    if let Some(fields) = answer.as_object_mut() {
        fields.insert("context".to_owned(), Value::Object(context));
        if fields.get("usageIdentifierKey").is_some_and(Value::is_null) {
            fields.remove("usageIdentifierKey");
        }
        let statements = fields
            .get_mut("policyDocument")
            .and_then(|p| p.get_mut("Statement"))
            .and_then(Value::as_array_mut);
        for statement in statements.into_iter().flatten() {
            for name in ["Action", "Resource"] {
                if let Some(list) = statement.get_mut(name)
                    && let Some([one]) = list.as_array_mut().map(Vec::as_mut_slice)
                {
                    *list = one.take();
                }
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
    };
    use serde_json::json;

    use super::*;
    use crate::decision::{Allow, Caller, Deny};
    use crate::error::Reason;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/shows";
    const ALL: [EventKind; 4] = [
        EventKind::RestToken,
        EventKind::RestRequest,
        EventKind::HttpV1,
        EventKind::HttpV2,
    ];

    fn caller() -> Caller {
        Caller {
            principal: "p1".into(),
            sub: "u1".into(),
            context: Map::from_iter([("sub".to_owned(), json!("u1"))]),
            reserved_dropped: 0,
        }
    }

    fn allow(kind: EventKind, grant: Grant, usage_identifier: Option<&str>) -> Decision {
        Decision::Allow(Allow {
            kind,
            caller: Some(caller()),
            grant,
            usage_identifier: usage_identifier.map(str::to_owned),
        })
    }

    fn deny(kind: EventKind, caller: Option<Caller>) -> Decision {
        Decision::Deny(Deny {
            kind,
            reason: Reason::Expired,
            claim: None,
            caller,
            public_path: false,
        })
    }

    fn iam(kind: EventKind) -> ResponseStyle {
        if kind == EventKind::HttpV2 {
            ResponseStyle::Iam
        } else {
            ResponseStyle::Simple
        }
    }

    #[test]
    fn allow_policy_is_stage_wide_byte_for_byte_and_round_trips() {
        for kind in ALL {
            let answer = super::answer(&allow(kind, Grant::Stage, None), iam(kind), Some(ARN));
            let answer = answer.unwrap();
            assert_eq!(
                answer.to_string(),
                r#"{"context":{"sub":"u1"},"policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/prod/*"}],"Version":"2012-10-17"},"principalId":"p1"}"#,
                "{kind:?}"
            );
            let typed: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(answer).unwrap();
            assert_eq!(typed.principal_id.as_deref(), Some("p1"));
        }
    }

    #[test]
    fn allow_http_v2_simple_is_is_authorized_true_with_context() {
        let answer = super::answer(
            &allow(EventKind::HttpV2, Grant::Stage, Some("key")),
            ResponseStyle::Simple,
            None,
        )
        .unwrap();
        assert_eq!(
            answer,
            json!({"isAuthorized": true, "context": {"sub": "u1"}})
        );
        let typed: ApiGatewayV2CustomAuthorizerSimpleResponse =
            serde_json::from_value(answer).unwrap();
        assert!(typed.is_authorized);
    }

    #[test]
    fn allow_route_grant_and_odd_arns_name_only_the_arn() {
        let answer = super::answer(
            &allow(EventKind::RestToken, Grant::Route, None),
            ResponseStyle::Simple,
            Some(ARN),
        )
        .unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], ARN);
        let answer = super::answer(
            &allow(EventKind::RestRequest, Grant::Stage, None),
            ResponseStyle::Simple,
            Some("weird"),
        )
        .unwrap();
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            "weird"
        );
    }

    #[test]
    fn policy_without_arn_is_malformed_event() {
        for kind in ALL {
            let err = super::answer(&allow(kind, Grant::Stage, None), iam(kind), None).unwrap_err();
            assert!(matches!(
                err,
                HandlerError::MalformedEvent(EventError::NoResourceArn)
            ));
        }
        let err = super::answer(&deny(EventKind::HttpV2, None), ResponseStyle::Iam, None);
        assert!(!err.unwrap_err().is_unauthorized());
    }

    #[test]
    fn usage_identifier_only_in_rest_allows_and_not_for_websocket() {
        for (kind, arn, expected) in [
            (EventKind::RestToken, ARN, Some("k3y")),
            (EventKind::RestRequest, ARN, Some("k3y")),
            (
                EventKind::RestRequest,
                "arn:aws:execute-api:us-east-1:1:abc/prod/$connect",
                None,
            ),
            (EventKind::HttpV1, ARN, None),
            (EventKind::HttpV2, ARN, None),
        ] {
            let decision = allow(kind, Grant::Stage, Some("k3y"));
            let answer = super::answer(&decision, iam(kind), Some(arn)).unwrap();
            assert_eq!(
                answer.get("usageIdentifierKey").and_then(Value::as_str),
                expected,
                "{kind:?} {arn}"
            );
        }
    }

    #[test]
    fn refused_caller_gets_a_deny_naming_only_the_route_with_its_context() {
        for kind in ALL {
            let answer = super::answer(&deny(kind, Some(caller())), iam(kind), Some(ARN)).unwrap();
            assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
            assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], ARN);
            assert_eq!(answer["context"], json!({"sub": "u1"}));
        }
        let simple = super::answer(
            &deny(EventKind::HttpV2, Some(caller())),
            ResponseStyle::Simple,
            None,
        )
        .unwrap();
        assert_eq!(
            simple,
            json!({"isAuthorized": false, "context": {"sub": "u1"}})
        );
    }

    #[test]
    fn denial_without_caller_is_unauthorized_for_rest_and_http_v1() {
        for kind in [
            EventKind::RestToken,
            EventKind::RestRequest,
            EventKind::HttpV1,
        ] {
            for style in [ResponseStyle::Simple, ResponseStyle::Iam] {
                let err = super::answer(&deny(kind, None), style, Some(ARN)).unwrap_err();
                assert_eq!(err.to_string(), "Unauthorized");
                assert_eq!(err.reason(), Reason::Expired);
            }
        }
    }

    #[test]
    fn denial_without_caller_http_v2_is_a_403_answer() {
        let answer =
            super::answer(&deny(EventKind::HttpV2, None), ResponseStyle::Simple, None).unwrap();
        assert_eq!(answer.to_string(), r#"{"context":{},"isAuthorized":false}"#);
        let answer = super::answer(
            &deny(EventKind::HttpV2, None),
            ResponseStyle::Iam,
            Some(ARN),
        )
        .unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], ARN);
        assert_eq!(answer["context"], json!({}));
        assert_eq!(answer["principalId"], "anonymous");
    }

    #[test]
    fn anonymous_allow_says_so_and_carries_no_claim() {
        let decision = Decision::Allow(Allow {
            kind: EventKind::RestRequest,
            caller: None,
            grant: Grant::Route,
            usage_identifier: None,
        });
        let answer = super::answer(&decision, ResponseStyle::Simple, Some(ARN)).unwrap();
        assert_eq!(answer["principalId"], "anonymous");
        assert_eq!(answer["context"], json!({"anonymous": true}));
        assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], ARN);
    }

    #[test]
    fn unreadable_event_is_malformed_event_error() {
        let decision = Decision::Unreadable(EventError::UnknownFormat);
        let err = super::answer(&decision, ResponseStyle::Simple, None);
        assert!(matches!(
            err,
            Err(HandlerError::MalformedEvent(EventError::UnknownFormat))
        ));
    }
}
