//! Route-dependent rules: which paths are public, which scopes a route requires. The route
//! (method and path) is read from the method/route ARN, which every event format carries in
//! the same shape: `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`.

use serde_json::{Map, Value};

/// The route a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route<'a> {
    /// HTTP method (`GET`, ...), `*`, or a WebSocket route key such as `$connect`.
    pub method: &'a str,
    /// Request path without the stage, starting with `/` (`/` for WebSocket routes).
    pub path: String,
}

/// The route named by a method or route ARN; `None` when the ARN does not have that shape.
pub fn route_of(arn: &str) -> Option<Route<'_>> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.splitn(4, '/');
    let (_api, _stage, method) = (parts.next()?, parts.next()?, parts.next()?);
    if method.is_empty() {
        return None;
    }
    let path = format!("/{}", parts.next().unwrap_or(""));
    Some(Route { method, path })
}

/// Whether a request path could mean different things to us and to whatever routes it
/// after us: empty segments (`//`), dot segments (`/./`, `/../`), a backslash, or a
/// percent-encoded slash, dot, backslash or percent sign. Such a path is never public and is
/// held to every required-scope rule of its method: when in doubt, the rules bite. (API
/// Gateway compares paths case-sensitively, and so do we.)
pub fn is_ambiguous(path: &str) -> bool {
    if path.contains("//") || path.contains('\\') {
        return true;
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return true;
    }
    let lower = path.to_ascii_lowercase();
    ["%2f", "%2e", "%5c", "%25"]
        .iter()
        .any(|encoded| lower.contains(encoded))
}

/// An exact path (`/login`) or a prefix wildcard (`/login/*`, which also matches `/login`).
/// A trailing slash on the request path is ignored (`/login/` is `/login`); see
/// [`is_ambiguous`] for paths that match nothing public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    /// The path, without the `/*` suffix for wildcards.
    base: String,
    /// Whether everything below `base` matches too.
    wildcard: bool,
}

impl PathPattern {
    /// Parses `/x`, `/x/*` or `*`; the error says what is wrong.
    pub fn parse(pattern: &str) -> Result<PathPattern, String> {
        let pattern = pattern.trim();
        if pattern == "*" || pattern == "/*" {
            return Ok(PathPattern {
                base: String::new(),
                wildcard: true,
            });
        }
        if !pattern.starts_with('/') {
            return Err(format!("path {pattern:?} must start with `/`"));
        }
        let (base, wildcard) = match pattern.strip_suffix("/*") {
            Some(base) => (base, true),
            None => (pattern, false),
        };
        if base.contains('*') {
            return Err(format!(
                "path {pattern:?}: `*` is only allowed as a final `/*`"
            ));
        }
        Ok(PathPattern {
            base: normalise(base).to_owned(),
            wildcard,
        })
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let path = normalise(path);
        if path == self.base {
            return true;
        }
        self.wildcard
            && path
                .strip_prefix(self.base.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

fn normalise(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) => stripped,
        None => path,
    }
}

/// Which routes need a token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PathRules {
    /// Every route (the default).
    #[default]
    ProtectAll,
    /// Every route except these public paths.
    PublicPaths(Vec<PathPattern>),
    /// Only these paths; everything else is public.
    ProtectedPaths(Vec<PathPattern>),
}

impl PathRules {
    /// Whether the route may be called without a token. An unknown route is protected.
    pub fn is_public(&self, route: Option<&Route<'_>>) -> bool {
        let Some(route) = route else {
            return false;
        };
        if is_ambiguous(&route.path) {
            return false;
        }
        match self {
            PathRules::ProtectAll => false,
            PathRules::PublicPaths(public) => public.iter().any(|p| p.matches(&route.path)),
            PathRules::ProtectedPaths(protected) => {
                !protected.iter().any(|p| p.matches(&route.path))
            }
        }
    }
}

/// Scopes a route requires (`GET /shows = read:shows`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteScope {
    /// Method, upper case; `None` for any method (`ANY` or `*`).
    pub method: Option<String>,
    /// The path pattern.
    pub path: PathPattern,
    /// Every one of these scopes is required.
    pub scopes: Vec<String>,
}

impl RouteScope {
    /// Parses a route key `METHOD /path` (or `/path` for any method).
    pub fn parse(route: &str, scopes: Vec<String>) -> Result<RouteScope, String> {
        let route = route.trim();
        let (method, path) = match route.split_once(char::is_whitespace) {
            Some((method, path)) => (method, path.trim()),
            None => ("ANY", route),
        };
        let method = method.to_ascii_uppercase();
        let method = match method.as_str() {
            "ANY" | "*" => None,
            m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) => Some(method),
            _ => return Err(format!("route {route:?}: expected `METHOD /path`")),
        };
        Ok(RouteScope {
            method,
            path: PathPattern::parse(path)?,
            scopes,
        })
    }

    /// Whether the rule covers `route`.
    pub fn applies_to(&self, route: &Route<'_>) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(route.method))
            && (is_ambiguous(&route.path) || self.path.matches(&route.path))
    }

    /// Whether `claims` grant every scope the rule requires.
    pub fn granted_by(&self, claims: &Map<String, Value>) -> bool {
        self.scopes
            .iter()
            .all(|needed| granted_scopes(claims).any(|s| s == needed))
    }
}

/// The scopes a token grants: `scope` (space-separated string, OAuth 2.0), `scp` (array, as
/// some IdPs send) or `permissions` (array: Auth0 RBAC's "Add Permissions in the Access
/// Token"). The same union the route handlers (`shared::Caller`) grant, so a rule here never
/// refuses a caller the handler behind it would serve.
pub fn granted_scopes(claims: &Map<String, Value>) -> impl Iterator<Item = &str> {
    let from_scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .into_iter()
        .flat_map(str::split_whitespace);
    let from_arrays = ["scp", "permissions"]
        .into_iter()
        .filter_map(|name| claims.get(name).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str);
    from_scope.chain(from_arrays)
}

/// Whether the claims carry every scope that every matching rule requires. Without a known
/// route, any scope rule at all means refusal (fail closed).
pub fn has_required_scopes(
    rules: &[RouteScope],
    route: Option<&Route<'_>>,
    claims: &Map<String, Value>,
) -> bool {
    if rules.is_empty() {
        return true;
    }
    let Some(route) = route else {
        return false;
    };
    rules
        .iter()
        .filter(|rule| rule.applies_to(route))
        .all(|rule| rule.granted_by(claims))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pattern(p: &str) -> PathPattern {
        PathPattern::parse(p).unwrap()
    }

    #[test]
    fn route_of_reads_method_and_path_from_arn() {
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/prod/GET/shows/42").unwrap();
        assert_eq!((r.method, r.path.as_str()), ("GET", "/shows/42"));
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/$default/POST/").unwrap();
        assert_eq!((r.method, r.path.as_str()), ("POST", "/"));
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/prod/$connect").unwrap();
        assert_eq!((r.method, r.path.as_str()), ("$connect", "/"));
        // Paths may contain colons (timestamps); only the first five separate ARN fields.
        let r = route_of(
            "arn:aws:execute-api:eu-central-1:1:api/lab/GET/counters/2021-08-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(r.path, "/counters/2021-08-01T00:00:00Z");
        assert_eq!(route_of("arn:aws:execute-api:us-east-1:1:api/prod"), None);
        assert_eq!(route_of("garbage"), None);
    }

    #[test]
    fn exact_pattern_matches_only_that_path() {
        let p = pattern("/login");
        assert!(p.matches("/login"));
        assert!(p.matches("/login/"));
        assert!(!p.matches("/login/x"));
        assert!(!p.matches("/loginx"));
        assert!(!p.matches("/"));
    }

    #[test]
    fn wildcard_pattern_matches_below_but_not_siblings() {
        let p = pattern("/login/*");
        assert!(p.matches("/login"));
        assert!(p.matches("/login/callback"));
        assert!(p.matches("/login/a/b"));
        assert!(!p.matches("/loginx"));
        assert!(!p.matches("/log"));
        assert!(pattern("*").matches("/anything"));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for p in ["login", "/a*", "/*/x", ""] {
            assert!(PathPattern::parse(p).is_err(), "{p}");
        }
    }

    #[test]
    fn public_paths_rule_makes_only_those_public() {
        let rules = PathRules::PublicPaths(vec![pattern("/public"), pattern("/login/*")]);
        let route = |arn: &'static str| route_of(arn);
        assert!(rules.is_public(route("arn:aws:execute-api:r:1:a/s/GET/public").as_ref()));
        assert!(rules.is_public(route("arn:aws:execute-api:r:1:a/s/GET/login/cb").as_ref()));
        assert!(!rules.is_public(route("arn:aws:execute-api:r:1:a/s/GET/private").as_ref()));
        assert!(!rules.is_public(None));
    }

    #[test]
    fn protected_paths_rule_makes_the_rest_public() {
        let rules = PathRules::ProtectedPaths(vec![pattern("/admin/*")]);
        assert!(!rules.is_public(route_of("arn:aws:execute-api:r:1:a/s/GET/admin/users").as_ref()));
        assert!(rules.is_public(route_of("arn:aws:execute-api:r:1:a/s/GET/home").as_ref()));
        assert!(!rules.is_public(None));
        assert!(
            !PathRules::ProtectAll
                .is_public(route_of("arn:aws:execute-api:r:1:a/s/GET/x").as_ref())
        );
    }

    #[test]
    fn route_scope_parse_accepts_method_and_any() {
        let r = RouteScope::parse("get /shows", vec!["read:shows".into()]).unwrap();
        assert_eq!(r.method.as_deref(), Some("GET"));
        assert_eq!(RouteScope::parse("ANY /x", vec![]).unwrap().method, None);
        assert_eq!(RouteScope::parse("/x", vec![]).unwrap().method, None);
        assert!(RouteScope::parse("GET shows", vec![]).is_err());
        assert!(RouteScope::parse("G-T /x", vec![]).is_err());
    }

    #[test]
    fn missing_scope_fails_route_rule() {
        let rules = vec![RouteScope::parse("GET /shows/*", vec!["read:shows".into()]).unwrap()];
        let claims = |v: Value| v.as_object().unwrap().clone();
        let shows = route_of("arn:aws:execute-api:r:1:a/s/GET/shows/1");
        let post = route_of("arn:aws:execute-api:r:1:a/s/POST/shows/1");
        assert!(has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({"scope": "openid read:shows"}))
        ));
        assert!(has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({"scp": ["read:shows"]}))
        ));
        assert!(has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({"permissions": ["read:shows"]}))
        ));
        assert!(!has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({"permissions": "read:shows"}))
        ));
        assert!(!has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({"scope": "read:show"}))
        ));
        assert!(!has_required_scopes(
            &rules,
            shows.as_ref(),
            &claims(json!({}))
        ));
        assert!(has_required_scopes(
            &rules,
            post.as_ref(),
            &claims(json!({}))
        ));
        assert!(!has_required_scopes(
            &rules,
            None,
            &claims(json!({"scope": "read:shows"}))
        ));
        assert!(has_required_scopes(&[], None, &claims(json!({}))));
    }

    fn at(path: &str) -> Option<Route<'static>> {
        Some(Route {
            method: "GET",
            path: path.to_owned(),
        })
    }

    #[test]
    fn protected_paths_ambiguous_path_is_not_public() {
        let rules = PathRules::ProtectedPaths(vec![pattern("/admin"), pattern("/users/*")]);
        for path in [
            "/admin//",
            "//admin",
            "/admin/.",
            "/x/../admin",
            "/users//1",
            "/%61dmin%2f",
            "/users%2F1",
            "/admin\\",
            "/./admin",
        ] {
            assert!(!rules.is_public(at(path).as_ref()), "{path}");
        }
        // Still public: plain paths outside the protected ones, with or without one trailing slash.
        assert!(rules.is_public(at("/home/").as_ref()));
        assert!(rules.is_public(at("/administrator").as_ref()));
        // Case-sensitive, as API Gateway routes are.
        assert!(rules.is_public(at("/Admin").as_ref()));
    }

    #[test]
    fn public_paths_ambiguous_path_is_protected() {
        let rules = PathRules::PublicPaths(vec![pattern("/public/*")]);
        assert!(rules.is_public(at("/public/a/").as_ref()));
        for path in ["/public/../private", "/public//x", "/public/%2e%2e/private"] {
            assert!(!rules.is_public(at(path).as_ref()), "{path}");
        }
    }

    #[test]
    fn required_scope_applies_to_ambiguous_path() {
        let rules = vec![RouteScope::parse("GET /shows", vec!["read:shows".into()]).unwrap()];
        let none = Map::new();
        for path in ["//shows", "/shows//", "/x/../shows", "/%73hows%2F"] {
            assert!(
                !has_required_scopes(&rules, at(path).as_ref(), &none),
                "{path}"
            );
        }
        assert!(has_required_scopes(&rules, at("/movies").as_ref(), &none));
    }
}
