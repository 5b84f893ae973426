//! Claim rules: "this claim must have this value", per issuer (`issuers[].claim_rules`) and per
//! route (`route_claim_rules`). A rule is one claim and one test: `equals` a value, is `one_of`
//! several, or `contains` a string (in an array, or in a space-separated string such as `scope`
//! or `amr`). Types are strict: `true` never equals `"true"`, and a claim of the wrong type, or
//! an absent claim, fails the rule.

use serde_json::{Map, Value};

use crate::config_error::ConfigError;
use crate::rules::{Route, RouteScope};

/// One claim and the test its value must pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRule {
    /// The claim's name, exactly as in the token (no path syntax: names may hold `.` and `/`).
    pub claim: String,
    /// What the value must be.
    pub test: ClaimTest,
}

/// The test of a [`ClaimRule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimTest {
    /// The claim is this string, number or boolean (same JSON type).
    Equals(Value),
    /// The claim is one of these strings, numbers or booleans.
    OneOf(Vec<Value>),
    /// The claim is an array with this string among its items, or a string with this word
    /// among its space-separated (`' '`) words.
    Contains(String),
}

impl ClaimRule {
    /// Whether the rule holds for `claims`.
    pub fn holds(&self, claims: &Map<String, Value>) -> bool {
        let Some(value) = claims.get(&self.claim) else {
            return false;
        };
        match &self.test {
            ClaimTest::Equals(expected) => same_scalar(value, expected),
            ClaimTest::OneOf(options) => options.iter().any(|o| same_scalar(value, o)),
            ClaimTest::Contains(needle) => match value {
                Value::Array(items) => items.iter().any(|i| i.as_str() == Some(needle.as_str())),
                // Separated by spaces (%x20) as OAuth `scope` is (RFC 6749 §3.3); a tab or another
                // Unicode space does not separate, so it cannot smuggle a word in.
                Value::String(words) => words.split(' ').any(|w| w == needle),
                _ => false,
            },
        }
    }
}

/// The first rule of `rules` that does not hold for `claims`.
pub(crate) fn first_failing<'a>(
    rules: &'a [ClaimRule],
    claims: &Map<String, Value>,
) -> Option<&'a ClaimRule> {
    rules.iter().find(|rule| !rule.holds(claims))
}

/// Equality of JSON scalars of the same type. Numbers compare by value (`1` equals `1.0`), but
/// an integer is only compared with a float when the float can hold it exactly.
fn same_scalar(value: &Value, expected: &Value) -> bool {
    match (value, expected) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
                return x == y;
            }
            // At least one is a float (or the integers have different signs and ranges).
            matches!((exact_f64(a), exact_f64(b)), (Some(x), Some(y)) if x == y)
        }
        _ => false,
    }
}

/// The number as a float, when a float holds it exactly (integers up to 2^53 in magnitude).
fn exact_f64(n: &serde_json::Number) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    if n.is_f64() {
        return n.as_f64();
    }
    let magnitude = n.as_u64().or_else(|| n.as_i64().map(i64::unsigned_abs))?;
    (magnitude <= EXACT).then(|| n.as_f64()).flatten()
}

/// Claim rules that apply to one route (`"DELETE /shows/*": [...]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteClaimRules {
    /// The route the rules apply to (method and path pattern; its scope list is empty: only
    /// its route matching is used).
    pub route: RouteScope,
    /// Every one of these must hold.
    pub rules: Vec<ClaimRule>,
}

/// What the route claim rules say about a verified token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RouteVerdict<'a> {
    /// The rule that refuses the token on the requested route, if any.
    pub refused_here: Option<&'a ClaimRule>,
    /// Whether some route's rules refuse the token (then an allow may cover the requested
    /// route only, never the whole stage).
    pub refused_somewhere: bool,
}

/// Judges `claims` against the route claim rules for `route`. An ambiguous path is held to
/// every rule of its method (as for required scopes); without a known route, any rule that
/// fails anywhere refuses (fail closed).
pub(crate) fn judge_route<'a>(
    rules: &'a [RouteClaimRules],
    route: Option<&Route<'_>>,
    claims: &Map<String, Value>,
) -> RouteVerdict<'a> {
    let mut verdict = RouteVerdict {
        refused_here: None,
        refused_somewhere: false,
    };
    for entry in rules {
        let Some(failing) = first_failing(&entry.rules, claims) else {
            continue;
        };
        verdict.refused_somewhere = true;
        let applies = route.is_none_or(|route| entry.route.applies_to(route));
        if applies && verdict.refused_here.is_none() {
            verdict.refused_here = Some(failing);
        }
    }
    verdict
}

/// Describes a JSON value for an error message, without echoing long or secret-looking text.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A configuration error at `place` (`"AUTHORIZER_CONFIG issuers[0].claim_rules[1].contains"`).
pub(crate) fn error_at(place: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(place, message)
}

/// Parses a list of claim rules found at `place`.
pub(crate) fn parse_rules(place: &str, value: &Value) -> Result<Vec<ClaimRule>, ConfigError> {
    let Value::Array(items) = value else {
        return Err(error_at(
            place,
            format!("expected a list of claim rules, found {}", describe(value)),
        ));
    };
    if items.is_empty() {
        return Err(error_at(
            place,
            "lists no rule: give at least one or leave it out",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_rule(&format!("{place}[{i}]"), item))
        .collect()
}

fn parse_rule(place: &str, value: &Value) -> Result<ClaimRule, ConfigError> {
    let Value::Object(fields) = value else {
        return Err(error_at(
            place,
            format!(
                "expected a rule such as {{\"claim\": \"email_verified\", \"equals\": true}}, found {}",
                describe(value)
            ),
        ));
    };
    for name in fields.keys() {
        if !["claim", "equals", "one_of", "contains"].contains(&name.as_str()) {
            return Err(error_at(
                place,
                format!(
                    "unknown field {name:?}: a rule has `claim` and one of `equals`, `one_of`, `contains`"
                ),
            ));
        }
    }
    let claim = match fields.get("claim") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err(error_at(
                &format!("{place}.claim"),
                "is empty: name a claim",
            ));
        }
        Some(other) => {
            return Err(error_at(
                &format!("{place}.claim"),
                format!("expected a string, found {}", describe(other)),
            ));
        }
        None => {
            return Err(error_at(
                place,
                "has no `claim`: name the claim the rule tests",
            ));
        }
    };
    let tests: Vec<&str> = ["equals", "one_of", "contains"]
        .into_iter()
        .filter(|t| fields.contains_key(*t))
        .collect();
    let test = match tests.as_slice() {
        ["equals"] => ClaimTest::Equals(scalar(&format!("{place}.equals"), &fields["equals"])?),
        ["one_of"] => {
            let at = format!("{place}.one_of");
            let Value::Array(options) = &fields["one_of"] else {
                return Err(error_at(
                    &at,
                    format!(
                        "expected a list of strings, numbers or booleans, found {}",
                        describe(&fields["one_of"])
                    ),
                ));
            };
            if options.is_empty() {
                return Err(error_at(
                    &at,
                    "is empty: a rule no value can pass would refuse every token",
                ));
            }
            ClaimTest::OneOf(
                options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| scalar(&format!("{at}[{i}]"), o))
                    .collect::<Result<_, _>>()?,
            )
        }
        ["contains"] => {
            let at = format!("{place}.contains");
            match &fields["contains"] {
                Value::String(s) if !s.trim().is_empty() => ClaimTest::Contains(s.clone()),
                Value::String(_) => {
                    return Err(error_at(
                        &at,
                        "is empty: give the value the claim must contain",
                    ));
                }
                other => {
                    return Err(error_at(
                        &at,
                        format!("expected a string, found {}", describe(other)),
                    ));
                }
            }
        }
        [] => {
            return Err(error_at(
                place,
                "has no test: give one of `equals`, `one_of`, `contains`",
            ));
        }
        _ => {
            return Err(error_at(
                place,
                format!(
                    "has several tests ({}): give exactly one (use one rule per test)",
                    tests.join(", ")
                ),
            ));
        }
    };
    Ok(ClaimRule { claim, test })
}

fn scalar(place: &str, value: &Value) -> Result<Value, ConfigError> {
    match value {
        Value::String(_) | Value::Bool(_) | Value::Number(_) => Ok(value.clone()),
        other => Err(error_at(
            place,
            format!(
                "expected a string, number or boolean, found {} (for arrays and space-separated strings, use `contains`)",
                describe(other)
            ),
        )),
    }
}

/// Parses `route_claim_rules`: an object from `"METHOD /path"` to a list of rules.
pub(crate) fn parse_route_rules(
    place: &str,
    value: &Value,
) -> Result<Vec<RouteClaimRules>, ConfigError> {
    let Value::Object(routes) = value else {
        return Err(error_at(
            place,
            format!(
                "expected an object such as {{\"DELETE /shows/*\": [rules]}}, found {}",
                describe(value)
            ),
        ));
    };
    if routes.is_empty() {
        return Err(error_at(
            place,
            "is empty: list at least one route or leave it out",
        ));
    }
    routes
        .iter()
        .map(|(key, rules)| {
            let at = format!("{place}[{key:?}]");
            let route = RouteScope::parse(key, Vec::new()).map_err(|m| error_at(&at, m))?;
            Ok(RouteClaimRules {
                route,
                rules: parse_rules(&at, rules)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rules::route_of;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn rule(v: Value) -> ClaimRule {
        parse_rule("r", &v).unwrap()
    }

    #[test]
    fn equals_is_type_strict() {
        let r = rule(json!({"claim": "email_verified", "equals": true}));
        assert!(r.holds(&claims(json!({"email_verified": true}))));
        for v in [
            json!(false),
            json!("true"),
            json!(1),
            json!([true]),
            json!(null),
        ] {
            assert!(!r.holds(&claims(json!({"email_verified": v}))), "{v}");
        }
        assert!(!r.holds(&claims(json!({}))));
    }

    #[test]
    fn equals_numbers_compare_by_value_but_exactly() {
        let r = rule(json!({"claim": "tier", "equals": 2}));
        assert!(r.holds(&claims(json!({"tier": 2}))));
        assert!(r.holds(&claims(json!({"tier": 2.0}))));
        assert!(!r.holds(&claims(json!({"tier": 2.5}))));
        assert!(!r.holds(&claims(json!({"tier": "2"}))));
        let big = rule(json!({"claim": "n", "equals": 9_007_199_254_740_993_u64}));
        assert!(!big.holds(&claims(json!({"n": 9_007_199_254_740_992.0_f64}))));
        assert!(big.holds(&claims(json!({"n": 9_007_199_254_740_993_u64}))));
        let negative = rule(json!({"claim": "n", "equals": -1}));
        assert!(!negative.holds(&claims(json!({"n": u64::MAX}))));
    }

    #[test]
    fn one_of_accepts_any_listed_value() {
        let r = rule(json!({"claim": "plan", "one_of": ["gold", "silver"]}));
        assert!(r.holds(&claims(json!({"plan": "silver"}))));
        assert!(!r.holds(&claims(json!({"plan": "bronze"}))));
        assert!(!r.holds(&claims(json!({"plan": ["gold"]}))));
    }

    #[test]
    fn contains_reads_arrays_and_space_separated_strings() {
        let r = rule(json!({"claim": "amr", "contains": "mfa"}));
        assert!(r.holds(&claims(json!({"amr": ["pwd", "mfa"]}))));
        assert!(r.holds(&claims(json!({"amr": "pwd mfa"}))));
        for v in [
            json!("pwd mfa2"),
            json!(["MFA"]),
            json!({"mfa": true}),
            json!(1),
            json!("pwdmfa"),
            json!([["mfa"]]),
            json!("pwd\tmfa"),
            json!("pwd\u{a0}mfa"),
        ] {
            assert!(!r.holds(&claims(json!({"amr": v}))), "{v}");
        }
    }

    #[test]
    fn parse_rules_errors_name_their_place() {
        let err = |v: Value| parse_rules("issuers[0].claim_rules", &v).unwrap_err();
        assert_eq!(err(json!({})).var, "issuers[0].claim_rules");
        assert_eq!(err(json!([])).var, "issuers[0].claim_rules");
        let e = err(json!([{"claim": "a", "equals": 1}, {"claim": "b", "contains": 5}]));
        assert_eq!(e.var, "issuers[0].claim_rules[1].contains");
        assert!(e.message.contains("expected a string"), "{e}");
        assert_eq!(
            err(json!([{"claim": "a"}])).var,
            "issuers[0].claim_rules[0]"
        );
        assert_eq!(
            err(json!([{"claim": "a", "equals": 1, "contains": "x"}])).var,
            "issuers[0].claim_rules[0]"
        );
        assert_eq!(
            err(json!([{"claim": "a", "equal": 1}])).var,
            "issuers[0].claim_rules[0]"
        );
        assert_eq!(
            err(json!([{"claim": "", "equals": 1}])).var,
            "issuers[0].claim_rules[0].claim"
        );
        assert_eq!(
            err(json!([{"claim": 3, "equals": 1}])).var,
            "issuers[0].claim_rules[0].claim"
        );
        assert_eq!(err(json!([{"equals": 1}])).var, "issuers[0].claim_rules[0]");
        assert_eq!(
            err(json!([{"claim": "a", "equals": null}])).var,
            "issuers[0].claim_rules[0].equals"
        );
        assert_eq!(
            err(json!([{"claim": "a", "equals": ["x"]}])).var,
            "issuers[0].claim_rules[0].equals"
        );
        assert_eq!(
            err(json!([{"claim": "a", "one_of": []}])).var,
            "issuers[0].claim_rules[0].one_of"
        );
        assert_eq!(
            err(json!([{"claim": "a", "one_of": "x"}])).var,
            "issuers[0].claim_rules[0].one_of"
        );
        assert_eq!(
            err(json!([{"claim": "a", "one_of": ["x", {}]}])).var,
            "issuers[0].claim_rules[0].one_of[1]"
        );
        assert_eq!(
            err(json!([{"claim": "a", "contains": " "}])).var,
            "issuers[0].claim_rules[0].contains"
        );
        assert_eq!(err(json!(["a"])).var, "issuers[0].claim_rules[0]");
    }

    #[test]
    fn route_rules_refuse_here_and_mark_the_grant_route_only() {
        let rules = parse_route_rules(
            "route_claim_rules",
            &json!({"DELETE /shows/*": [{"claim": "cognito:groups", "contains": "admin"}]}),
        )
        .unwrap();
        let admin = claims(json!({"cognito:groups": ["admin"]}));
        let user = claims(json!({"cognito:groups": ["users"]}));
        let delete = route_of("arn:aws:execute-api:r:1:a/s/DELETE/shows/1");
        let get = route_of("arn:aws:execute-api:r:1:a/s/GET/shows/1");
        let v = judge_route(&rules, delete.as_ref(), &admin);
        assert_eq!(
            (v.refused_here.is_some(), v.refused_somewhere),
            (false, false)
        );
        let v = judge_route(&rules, delete.as_ref(), &user);
        assert_eq!(
            v.refused_here.map(|r| r.claim.as_str()),
            Some("cognito:groups")
        );
        let v = judge_route(&rules, get.as_ref(), &user);
        assert_eq!(
            (v.refused_here.is_some(), v.refused_somewhere),
            (false, true)
        );
        let v = judge_route(&rules, None, &user);
        assert!(v.refused_here.is_some(), "unknown route: refused");
        let ambiguous = route_of("arn:aws:execute-api:r:1:a/s/DELETE/x/..%2fshows/1");
        assert!(
            judge_route(&rules, ambiguous.as_ref(), &user)
                .refused_here
                .is_some()
        );
    }

    #[test]
    fn route_rules_errors_name_their_place() {
        let err = |v: Value| parse_route_rules("route_claim_rules", &v).unwrap_err().var;
        assert_eq!(err(json!([])), "route_claim_rules");
        assert_eq!(err(json!({})), "route_claim_rules");
        assert_eq!(
            err(json!({"GET shows": [{"claim": "a", "equals": 1}]})),
            "route_claim_rules[\"GET shows\"]"
        );
        assert_eq!(
            err(json!({"GET /shows": [{"claim": "a", "contains": 1}]})),
            "route_claim_rules[\"GET /shows\"][0].contains"
        );
    }
}
