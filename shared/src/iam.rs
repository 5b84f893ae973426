//! How API Gateway reads an IAM policy an authorizer answers with: for `execute-api:Invoke` on a
//! method or route ARN, an explicit `Deny` wins, then an `Allow`, otherwise the implicit deny.
//! One evaluator for the local API (which enforces the authorizer's answers like API Gateway) and
//! for every test that checks what an answer grants.

use serde_json::Value;

/// Whether `policy` (a `policyDocument`) lets the caller invoke `arn`. `None` when the document
/// is not a policy API Gateway would accept (no statements, an unknown effect, a missing
/// `Action` or `Resource`, a non-string entry).
pub fn allows(policy: &Value, arn: &str) -> Option<bool> {
    let statements = match policy.get("Statement")? {
        Value::Array(statements) => statements.as_slice(),
        statement @ Value::Object(_) => std::slice::from_ref(statement),
        _ => return None,
    };
    let mut allowed = false;
    for statement in statements {
        let effect = statement.get("Effect")?.as_str()?;
        let applies = strings(statement.get("Action")?)?
            .iter()
            .any(|action| wildcard_match(action, "execute-api:Invoke"))
            && strings(statement.get("Resource")?)?
                .iter()
                .any(|resource| wildcard_match(resource, arn));
        match (effect, applies) {
            ("Deny", true) => return Some(false),
            ("Allow", true) => allowed = true,
            ("Allow" | "Deny", false) => {}
            _ => return None,
        }
    }
    Some(allowed)
}

fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(one) => Some(vec![one.as_str()]),
        Value::Array(many) => many.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// IAM wildcard match: `*` any run of characters (`/` included), `?` one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/private";

    fn policy(effect: &str, resource: Value) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]
        })
    }

    #[test]
    fn allow_covering_the_arn_allows() {
        let stage_wide = "arn:aws:execute-api:us-east-1:123456789012:local/$default/*";
        assert_eq!(allows(&policy("Allow", json!(stage_wide)), ARN), Some(true));
        assert_eq!(allows(&policy("Allow", json!([ARN])), ARN), Some(true));
        let single =
            json!({"Statement": {"Action": ["execute-api:*"], "Effect": "Allow", "Resource": "*"}});
        assert_eq!(allows(&single, ARN), Some(true));
    }

    #[test]
    fn deny_or_allow_elsewhere_does_not_allow() {
        assert_eq!(allows(&policy("Deny", json!("*")), ARN), Some(false));
        let other = "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/public";
        assert_eq!(allows(&policy("Allow", json!(other)), ARN), Some(false));
        let other_action =
            json!({"Statement": [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}]});
        assert_eq!(allows(&other_action, ARN), Some(false));
    }

    #[test]
    fn explicit_deny_beats_allow() {
        let both = json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:*", "Effect": "Deny", "Resource": ARN}
        ]});
        assert_eq!(allows(&both, ARN), Some(false));
    }

    #[test]
    fn documents_api_gateway_would_refuse_are_none() {
        for document in [
            json!({}),
            json!({"Statement": "Allow"}),
            json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": [1]}]}),
        ] {
            assert_eq!(allows(&document, ARN), None, "{document}");
        }
    }

    #[test]
    fn wildcards_are_iam_wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(!wildcard_match("abc", "abcd"));
        assert!(wildcard_match("arn:*/GET/*", "arn:x/$default/GET/private"));
        assert!(wildcard_match("arn:*/GET/é*", "arn:x/GET/éa"));
    }
}
