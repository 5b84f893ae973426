//! Answers to API Gateway. Every allow and deny is shaped here, and [`answer_denial`] is the
//! one place that decides, per event format, whether a refusal is a 401 (failed invocation
//! with the message `Unauthorized`), a 403 (explicit deny / `isAuthorized: false`) or an
//! error (malformed event → 500).

use serde_json::{Map, Value, json};

use crate::error::{HandlerError, Reason};
use crate::token::EventKind;

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

/// `arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/*` from a method or route
/// ARN, so one cached allow covers every route of the stage (API Gateway caches the policy per
/// identity, and a policy naming only the first route would deny the caller's next one).
/// `None` when the ARN does not have that shape.
pub fn stage_wide_resource(arn: &str) -> Option<String> {
    stage_base(arn).map(|base| base + "*")
}

/// `arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/`, the prefix of every
/// resource of the stage; `None` when the ARN does not have that shape.
pub fn stage_base(arn: &str) -> Option<String> {
    let mut fields = arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(partition),
        Some("execute-api"),
        Some(region),
        Some(account),
        Some(resource),
    ) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    )
    else {
        return None;
    };
    let mut path = resource.splitn(3, '/');
    let (Some(api_id), Some(stage)) = (path.next(), path.next()) else {
        return None;
    };
    let plain = |s: &str| !s.is_empty() && !s.contains([':', '/']);
    if ![partition, region, account, api_id, stage]
        .into_iter()
        .all(plain)
    {
        return None;
    }
    Some(format!(
        "arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/"
    ))
}

/// The authorizer context with the default claim mapping (every claim, flattened); see
/// [`crate::claims::ClaimMapping`].
pub fn context_from_claims(claims: Map<String, Value>) -> Map<String, Value> {
    crate::claims::ClaimMapping::default().context(claims).map
}

/// How much of the API an allow covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// The whole stage: the decision does not depend on the route.
    Stage,
    /// Only the requested route: path rules or required scopes make decisions route-specific.
    Route,
}

fn policy(principal_id: &str, effect: &str, resource: &str, context: Map<String, Value>) -> Value {
    json!({
        "principalId": principal_id,
        "policyDocument": {
            "Version": POLICY_VERSION,
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": effect,
                "Resource": resource,
            }],
        },
        "context": context,
    })
}

fn uses_policy(kind: EventKind, style: ResponseStyle) -> bool {
    kind != EventKind::HttpV2 || style == ResponseStyle::Iam
}

/// The allow answer for a verified caller.
pub fn allow(
    kind: EventKind,
    style: ResponseStyle,
    arn: Option<&str>,
    sub: &str,
    context: Map<String, Value>,
    grant: Grant,
) -> Result<Value, HandlerError> {
    if !uses_policy(kind, style) {
        return Ok(json!({"isAuthorized": true, "context": context}));
    }
    let arn = arn.ok_or(HandlerError::MalformedEvent(
        "no methodArn/routeArn to grant access to",
    ))?;
    // An ARN of unexpected shape is granted as given: narrower, never wider.
    let resource = match grant {
        Grant::Stage => stage_wide_resource(arn).unwrap_or_else(|| arn.to_owned()),
        Grant::Route => arn.to_owned(),
    };
    Ok(policy(sub, "Allow", &resource, context))
}

/// `answer` (an allow) with `usageIdentifierKey` set to `key`, for REST API events only: a REST
/// API with `apiKeySource: AUTHORIZER` meters its usage plans by it. HTTP APIs and WebSocket APIs
/// (whose `$connect` authorizer gets a REST-shaped `REQUEST` event, with a route key such as
/// `$connect` where a REST method would be) have no usage plans, and their answers stay as they
/// are. Without a key, nothing is added (API Gateway then refuses a method that requires an API
/// key with 403).
pub fn with_usage_identifier(
    mut answer: Value,
    kind: EventKind,
    arn: Option<&str>,
    key: Option<&str>,
) -> Value {
    let websocket = arn
        .and_then(|arn| arn.splitn(6, ':').nth(5))
        .and_then(|resource| resource.split('/').nth(2))
        .is_some_and(|method| method.starts_with('$'));
    if let (EventKind::RestToken | EventKind::RestRequest, false, Some(key), Some(fields)) =
        (kind, websocket, key, answer.as_object_mut())
    {
        fields.insert("usageIdentifierKey".into(), Value::String(key.to_owned()));
    }
    answer
}

/// The explicit deny for a valid token that may not use this route (403): it names only
/// this route, so it cannot block the caller's other routes.
pub fn forbid(
    kind: EventKind,
    style: ResponseStyle,
    arn: Option<&str>,
    sub: &str,
    context: Map<String, Value>,
) -> Result<Value, HandlerError> {
    if !uses_policy(kind, style) {
        return Ok(json!({"isAuthorized": false, "context": context}));
    }
    let arn = arn.ok_or(HandlerError::MalformedEvent(
        "no methodArn/routeArn to deny",
    ))?;
    Ok(policy(sub, "Deny", arn, context))
}

/// The answer to a request refused for `reason` before a caller was established:
/// - REST TOKEN/REQUEST and HTTP API payload 1.0: fail with `Unauthorized` → 401;
/// - HTTP API payload 2.0, simple style: `isAuthorized: false` → 403;
/// - HTTP API payload 2.0, IAM style: a Deny policy → 403.
pub fn answer_denial(
    kind: Option<EventKind>,
    style: ResponseStyle,
    arn: Option<&str>,
    reason: Reason,
) -> Result<Value, HandlerError> {
    match kind {
        None => Err(HandlerError::MalformedEvent(
            "not an API Gateway authorizer event",
        )),
        Some(EventKind::HttpV2) if style == ResponseStyle::Simple => {
            Ok(json!({"isAuthorized": false, "context": {}}))
        }
        Some(EventKind::HttpV2) => match arn {
            Some(arn) => Ok(policy("anonymous", "Deny", arn, Map::new())),
            None => Err(HandlerError::MalformedEvent("no routeArn to deny")),
        },
        Some(EventKind::RestToken | EventKind::RestRequest | EventKind::HttpV1) => {
            Err(HandlerError::Unauthorized { reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
    };

    use super::*;

    #[test]
    fn stage_wide_resource_covers_whole_stage() {
        assert_eq!(
            stage_wide_resource(
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"
            )
            .as_deref(),
            Some("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")
        );
        assert_eq!(
            stage_wide_resource("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/$connect")
                .as_deref(),
            Some("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/*")
        );
        assert_eq!(
            stage_wide_resource("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/")
                .as_deref(),
            Some("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*")
        );
    }

    #[test]
    fn stage_wide_resource_keeps_colons_in_path_out_of_the_grant() {
        assert_eq!(
            stage_wide_resource(
                "arn:aws:execute-api:eu-central-1:1:api/lab/GET/c/2021-08-01T00:00:00Z"
            )
            .as_deref(),
            Some("arn:aws:execute-api:eu-central-1:1:api/lab/*")
        );
    }

    #[test]
    fn stage_wide_resource_odd_arns_are_none() {
        for arn in [
            "",
            "arn",
            "arn:aws:lambda:us-east-1:1:function:x",
            "arn:aws:execute-api:us-east-1:1:api",
            "arn:aws:execute-api:us-east-1:1:api/",
            "arn:aws:execute-api::1:api/stage/GET/",
            "arn:aws:execute-api:r:1:/stage/GET",
            "not an arn at all/with/slashes",
            "arn:aws:execute-api:r:1:api:x/stage/GET",
        ] {
            assert_eq!(stage_wide_resource(arn), None, "{arn}");
        }
    }

    #[test]
    fn context_flattens_nested_values_and_skips_nulls() {
        let claims = json!({
            "sub": "u1", "scope": "read:shows write:shows", "n": 3, "admin": true, "nothing": null,
            "roles": ["a", "b"], "addr": {"city": "X"}
        });
        let context = context_from_claims(claims.as_object().unwrap().clone());
        assert_eq!(context["sub"], "u1");
        assert_eq!(context["scope"], "read:shows write:shows");
        assert_eq!(context["n"], 3);
        assert_eq!(context["admin"], true);
        assert_eq!(context["roles"], r#"["a","b"]"#);
        assert_eq!(context["addr"], r#"{"city":"X"}"#);
        assert!(!context.contains_key("nothing"));
    }

    #[test]
    fn allow_rest_is_stage_wide_policy_that_round_trips() {
        let mut context = Map::new();
        context.insert("sub".into(), json!("u1"));
        let answer = allow(
            EventKind::RestToken,
            ResponseStyle::Simple,
            Some("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/shows"),
            "u1",
            context,
            Grant::Stage,
        )
        .unwrap();
        assert_eq!(answer["principalId"], "u1");
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/*"
        );
        let typed: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(answer).unwrap();
        assert_eq!(typed.principal_id.as_deref(), Some("u1"));
        assert_eq!(typed.context["sub"], "u1");
    }

    #[test]
    fn allow_http_v2_simple_is_is_authorized_true() {
        let answer = allow(
            EventKind::HttpV2,
            ResponseStyle::Simple,
            None,
            "u1",
            Map::new(),
            Grant::Stage,
        )
        .unwrap();
        let typed: ApiGatewayV2CustomAuthorizerSimpleResponse =
            serde_json::from_value(answer.clone()).unwrap();
        assert!(typed.is_authorized);
        assert!(answer["context"].is_object());
    }

    #[test]
    fn allow_route_grant_names_only_the_route() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/shows";
        let answer = allow(
            EventKind::RestToken,
            ResponseStyle::Simple,
            Some(arn),
            "u1",
            Map::new(),
            Grant::Route,
        )
        .unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], arn);
    }

    #[test]
    fn allow_odd_arn_grants_only_that_arn() {
        let answer = allow(
            EventKind::RestRequest,
            ResponseStyle::Simple,
            Some("weird"),
            "u1",
            Map::new(),
            Grant::Stage,
        )
        .unwrap();
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            "weird"
        );
    }

    #[test]
    fn allow_policy_without_arn_is_malformed_event() {
        let err = allow(
            EventKind::RestToken,
            ResponseStyle::Simple,
            None,
            "u1",
            Map::new(),
            Grant::Stage,
        )
        .unwrap_err();
        assert!(!err.is_unauthorized());
    }

    #[test]
    fn forbid_names_only_the_requested_route() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/shows";
        let answer = forbid(
            EventKind::HttpV1,
            ResponseStyle::Simple,
            Some(arn),
            "u1",
            Map::new(),
        )
        .unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(answer["policyDocument"]["Statement"][0]["Resource"], arn);
        let simple = forbid(
            EventKind::HttpV2,
            ResponseStyle::Simple,
            None,
            "u1",
            Map::new(),
        )
        .unwrap();
        assert_eq!(simple["isAuthorized"], false);
    }

    #[test]
    fn denial_rest_and_http_v1_is_unauthorized_error() {
        for kind in [
            EventKind::RestToken,
            EventKind::RestRequest,
            EventKind::HttpV1,
        ] {
            let err = answer_denial(
                Some(kind),
                ResponseStyle::Simple,
                Some("arn"),
                Reason::Expired,
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "Unauthorized");
        }
    }

    #[test]
    fn denial_http_v2_simple_is_not_authorized_with_empty_context() {
        let answer = answer_denial(
            Some(EventKind::HttpV2),
            ResponseStyle::Simple,
            None,
            Reason::BadSignature,
        )
        .unwrap();
        assert_eq!(answer, json!({"isAuthorized": false, "context": {}}));
    }

    #[test]
    fn denial_http_v2_iam_is_deny_policy() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/x";
        let answer = answer_denial(
            Some(EventKind::HttpV2),
            ResponseStyle::Iam,
            Some(arn),
            Reason::Expired,
        )
        .unwrap();
        assert_eq!(answer["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(answer["context"], json!({}));
        let typed: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(answer).unwrap();
        assert_eq!(typed.principal_id.as_deref(), Some("anonymous"));
    }

    #[test]
    fn denial_unknown_event_is_malformed_event_error() {
        let err =
            answer_denial(None, ResponseStyle::Simple, None, Reason::MalformedEvent).unwrap_err();
        assert!(!err.is_unauthorized());
    }
}
