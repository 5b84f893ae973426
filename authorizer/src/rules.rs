//! Route-dependent rules: which paths are public, which scopes a route requires. The route
//! (method and path) is read from the method/route ARN, which every event format carries in
//! the same shape: `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::event::ResourceArn;

/// The route a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route<'a> {
    /// HTTP method (`GET`, ...), `*`, or a WebSocket route key such as `$connect`.
    pub method: &'a str,
    /// Request path without the stage (`/` for WebSocket routes), normalised or ambiguous.
    pub path: RequestPath,
}

/// The route named by a method or route ARN; `None` when the ARN does not have that shape
/// ([`ResourceArn`]) or names no method.
pub fn route_of(arn: &str) -> Option<Route<'_>> {
    ResourceArn::parse(arn).as_ref().and_then(Route::of)
}

impl<'a> Route<'a> {
    /// The route `arn` names; `None` when it names no method.
    pub fn of(arn: &ResourceArn<'a>) -> Option<Route<'a>> {
        let method = arn.method()?;
        let path = RequestPath::parse(&format!("/{}", arn.path()));
        Some(Route { method, path })
    }
}

/// A request path as the rules see it: the rule is "normalise what RFC 3986 calls equivalent,
/// then anything still unusual is ambiguous".
///
/// A request path is attacker-chosen text that every layer after us (API Gateway, a proxy, a
/// framework that strips `;` parameters or folds Unicode) may read differently. Rather than list
/// the spellings that are dangerous, the rules accept one small alphabet they can compare
/// exactly, and treat everything else as ambiguous: never public, held to every scope rule of
/// its method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestPath {
    /// Normalised: percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2), one
    /// trailing slash removed; only [`is_plain_char`] characters, no empty or dot segment.
    Plain(String),
    /// Anything else: a `%` left after decoding (an encoded `/`, `.`-in-disguise, overlong
    /// UTF-8, `%u002e`), `;`, `\`, `*`, a control character or NUL, non-ASCII, a character RFC
    /// 3986 does not allow in a path, an empty segment (`//`) or a dot segment (`.`, `..`).
    Ambiguous,
}

impl RequestPath {
    /// Normalises `raw` (which starts with `/`) or finds it ambiguous.
    pub fn parse(raw: &str) -> RequestPath {
        match normalise_path(raw) {
            Some(path) => RequestPath::Plain(path),
            None => RequestPath::Ambiguous,
        }
    }

    /// The normalised path, `None` when ambiguous.
    pub fn plain(&self) -> Option<&str> {
        match self {
            RequestPath::Plain(path) => Some(path),
            RequestPath::Ambiguous => None,
        }
    }

    /// Whether the path is ambiguous.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, RequestPath::Ambiguous)
    }
}

/// Characters a plain path may hold after normalisation: RFC 3986 `pchar` and `/`, without `%`
/// (left only when an encoding was not of an unreserved character), `;` (path parameters that
/// Java and other back-ends strip) and `*` (a wildcard in IAM policy resources).
pub fn is_plain_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// RFC 3986 §2.3 unreserved characters: percent-encoding them changes nothing.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// The normal form of `raw`, or `None` when it is ambiguous (see [`RequestPath`]).
fn normalise_path(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            let decoded = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .filter(|b| is_unreserved(*b))?;
            out.push(char::from(decoded));
            i += 3;
            continue;
        }
        if !is_plain_char(byte) {
            return None;
        }
        out.push(char::from(byte));
        i += 1;
    }
    if !out.starts_with('/') {
        return None;
    }
    // One trailing slash is the same resource (`/login/` is `/login`); `/` stays `/`.
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    if out.len() > 1
        && out[1..]
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return None;
    }
    Some(out)
}

/// An exact path (`/login`) or a prefix wildcard (`/login/*`, which also matches `/login`).
/// Patterns and request paths are compared in their normal form ([`RequestPath`]), so a
/// trailing slash is ignored (`/login/` is `/login`) and `/%61dmin` is `/admin`; an ambiguous
/// request path matches no pattern.
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
        let Some(base) = normalise_path(base) else {
            return Err(format!(
                "path {pattern:?} is ambiguous (`%` other than an encoded letter, digit or `-._~`, \
                 `;`, `\\`, a control or non-ASCII character, `//`, or a `.`/`..` segment): \
                 no request could ever match it; write the plain path"
            ));
        };
        // `/` as a wildcard base is everything; as an exact pattern it is the root only.
        let base = if wildcard && base == "/" {
            String::new()
        } else {
            base
        };
        Ok(PathPattern { base, wildcard })
    }

    /// Whether the request path matches; an ambiguous path matches nothing.
    pub fn matches(&self, path: &RequestPath) -> bool {
        path.plain().is_some_and(|path| self.matches_plain(path))
    }

    /// Whether a normalised path matches.
    fn matches_plain(&self, path: &str) -> bool {
        if path == self.base {
            return true;
        }
        self.wildcard
            && path
                .strip_prefix(self.base.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
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
        if route.path.is_ambiguous() {
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
            && (route.path.is_ambiguous() || self.path.matches(&route.path))
    }

    /// Whether the caller's scopes (see [`granted_scopes`]) include every scope the rule requires.
    pub fn granted_by(&self, granted: &BTreeSet<String>) -> bool {
        self.scopes.iter().all(|needed| granted.contains(needed))
    }
}

/// The scopes a token grants: `scope`, `scp` and `permissions` (Auth0 RBAC), each as an array
/// of strings, a space-separated string, a JSON-encoded array or the `"[a b]"` form. This is
/// [`shared::scopes::collect`], the very function the route handlers read the context with, so
/// a rule here never refuses a caller the handler behind it would serve, nor the reverse.
pub(crate) fn granted_scopes(claims: &Map<String, Value>) -> BTreeSet<String> {
    shared::scopes::collect(claims, &[])
}

/// Whether the claims carry every scope that every matching rule requires. Without a known
/// route, any scope rule at all means refusal (fail closed).
pub fn has_required_scopes(
    rules: &[RouteScope],
    route: Option<&Route<'_>>,
    granted: &BTreeSet<String>,
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
        .all(|rule| rule.granted_by(granted))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pattern(p: &str) -> PathPattern {
        PathPattern::parse(p).unwrap()
    }

    fn path(p: &str) -> RequestPath {
        RequestPath::parse(p)
    }

    fn at(p: &str) -> Option<Route<'static>> {
        Some(Route {
            method: "GET",
            path: path(p),
        })
    }

    fn scopes(claims: Value) -> BTreeSet<String> {
        granted_scopes(claims.as_object().unwrap())
    }

    #[test]
    fn route_of_reads_method_and_path_from_arn() {
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/prod/GET/shows/42").unwrap();
        assert_eq!((r.method, r.path.plain()), ("GET", Some("/shows/42")));
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/$default/POST/").unwrap();
        assert_eq!((r.method, r.path.plain()), ("POST", Some("/")));
        let r = route_of("arn:aws:execute-api:us-east-1:1:api/prod/$connect").unwrap();
        assert_eq!((r.method, r.path.plain()), ("$connect", Some("/")));
        // Paths may contain colons (timestamps); only the first five separate ARN fields.
        let r = route_of(
            "arn:aws:execute-api:eu-central-1:1:api/lab/GET/counters/2021-08-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(r.path.plain(), Some("/counters/2021-08-01T00:00:00Z"));
        assert_eq!(route_of("arn:aws:execute-api:us-east-1:1:api/prod"), None);
        assert_eq!(route_of("garbage"), None);
        // The same parser as the policy's: an ARN it cannot scope names no route (protected,
        // held to every rule), rather than a route read from an ARN of another shape.
        assert_eq!(
            route_of("arn:aws:lambda:us-east-1:1:api/prod/GET/public"),
            None
        );
        assert_eq!(route_of("arn:aws:execute-api::1:api/prod/GET/public"), None);
    }

    #[test]
    fn request_path_decodes_unreserved_and_drops_one_trailing_slash() {
        assert_eq!(path("/%61dmin").plain(), Some("/admin"));
        assert_eq!(path("/%41%2d%5F%7e").plain(), Some("/A-_~"));
        assert_eq!(path("/login/").plain(), Some("/login"));
        assert_eq!(path("/").plain(), Some("/"));
        assert_eq!(path("/a:b@c!$&'()+,=/x").plain(), Some("/a:b@c!$&'()+,=/x"));
    }

    #[test]
    fn request_path_unusual_spellings_are_ambiguous() {
        for p in [
            // `;` path parameters, stripped by Java and other back-ends.
            "/admin;jsessionid=1/users",
            "/admin;/users",
            "/account;x",
            // Encodings left after decoding the unreserved ones: `/`, `.`-in-disguise, `%`.
            "/users%2F1",
            "/a%2fb",
            "/%c0%ae%c0%ae/admin",
            "/%u002e%u002e/admin",
            "/%25%32%65",
            "/%",
            "/%4",
            "/%zz",
            "/%e2%80%a5",
            // Encoded dots become dot segments.
            "/%2e%2e/admin",
            "/public/%2E/x",
            // Control characters, NUL, DEL, backslash, wildcards, characters outside RFC 3986.
            "/admin\0",
            "/admin\n",
            "/ad\tmin",
            "/admin\u{7f}",
            "/admin\\",
            "/admin/*",
            "/a b",
            "/a\"b",
            "/a<b>",
            "/a|b",
            "/a{b}",
            "/a^b",
            "/a`b",
            "/a[0]",
            "/a#b",
            "/a?b",
            // Non-ASCII look-alikes: fullwidth letters, two-dot leader.
            "/\u{ff41}dmin",
            "/\u{2025}/admin",
            "/admín",
            // Empty and dot segments.
            "//admin",
            "/admin//",
            "/admin//x",
            "/./admin",
            "/x/../admin",
            "/admin/.",
            "/admin/..",
            "",
            "admin",
        ] {
            assert!(path(p).is_ambiguous(), "{p:?}");
        }
    }

    #[test]
    fn exact_pattern_matches_only_that_path() {
        let p = pattern("/login");
        assert!(p.matches(&path("/login")));
        assert!(p.matches(&path("/login/")));
        assert!(p.matches(&path("/%6cogin")));
        assert!(!p.matches(&path("/login/x")));
        assert!(!p.matches(&path("/loginx")));
        assert!(!p.matches(&path("/")));
        assert!(!p.matches(&path("/login;x")));
        assert!(pattern("/").matches(&path("/")));
        assert!(!pattern("/").matches(&path("/x")));
    }

    #[test]
    fn wildcard_pattern_matches_below_but_not_siblings() {
        let p = pattern("/login/*");
        assert!(p.matches(&path("/login")));
        assert!(p.matches(&path("/login/callback")));
        assert!(p.matches(&path("/login/a/b")));
        assert!(!p.matches(&path("/loginx")));
        assert!(!p.matches(&path("/log")));
        assert!(!p.matches(&path("/login//x")));
        assert!(pattern("*").matches(&path("/anything")));
        assert!(!pattern("*").matches(&path("/any;thing")));
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for p in [
            "login", "/a*", "/*/x", "", "/a;b", "/a%2fb", "/a//b", "/a/../b", "/ä", "/a\0",
        ] {
            assert!(PathPattern::parse(p).is_err(), "{p:?}");
        }
        // Equivalent spellings of a plain path are the plain path.
        assert_eq!(pattern("/%61dmin/"), pattern("/admin"));
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
        assert!(RouteScope::parse("GET /x;y", vec![]).is_err());
    }

    #[test]
    fn missing_scope_fails_route_rule() {
        let rules = vec![RouteScope::parse("GET /shows/*", vec!["read:shows".into()]).unwrap()];
        let shows = route_of("arn:aws:execute-api:r:1:a/s/GET/shows/1");
        let post = route_of("arn:aws:execute-api:r:1:a/s/POST/shows/1");
        for granted in [
            json!({"scope": "openid read:shows"}),
            json!({"scp": ["read:shows"]}),
            json!({"scp": "read:shows openid"}),
            json!({"permissions": ["read:shows"]}),
            json!({"permissions": "read:shows"}),
        ] {
            assert!(
                has_required_scopes(&rules, shows.as_ref(), &scopes(granted.clone())),
                "{granted}"
            );
        }
        for refused in [
            json!({"scope": "read:show"}),
            json!({"scope": "read:showsX"}),
            json!({"scp": [["read:shows"]]}),
            json!({"permissions": {"read:shows": true}}),
            json!({}),
        ] {
            assert!(
                !has_required_scopes(&rules, shows.as_ref(), &scopes(refused.clone())),
                "{refused}"
            );
        }
        assert!(has_required_scopes(
            &rules,
            post.as_ref(),
            &scopes(json!({}))
        ));
        assert!(!has_required_scopes(
            &rules,
            None,
            &scopes(json!({"scope": "read:shows"}))
        ));
        assert!(has_required_scopes(&[], None, &scopes(json!({}))));
    }

    #[test]
    fn protected_paths_ambiguous_path_is_not_public() {
        let rules = PathRules::ProtectedPaths(vec![pattern("/admin"), pattern("/users/*")]);
        for p in [
            "/admin//",
            "//admin",
            "/admin/.",
            "/x/../admin",
            "/users//1",
            "/%61dmin%2f",
            "/users%2F1",
            "/admin\\",
            "/./admin",
            "/admin;jsessionid=1",
            "/admin;/users",
            "/%c0%ae%c0%ae/admin",
            "/\u{ff41}dmin",
            "/admin\0",
        ] {
            assert!(!rules.is_public(at(p).as_ref()), "{p:?}");
        }
        // Equivalent spellings of a protected path are that path.
        assert!(!rules.is_public(at("/%61dmin").as_ref()));
        assert!(!rules.is_public(at("/users/%31").as_ref()));
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
        assert!(rules.is_public(at("/%70ublic/a").as_ref()));
        for p in [
            "/public/../private",
            "/public//x",
            "/public/%2e%2e/private",
            "/public;x/../private",
            "/public/a;b",
            "/public/\u{2025}/private",
        ] {
            assert!(!rules.is_public(at(p).as_ref()), "{p:?}");
        }
    }

    #[test]
    fn required_scope_applies_to_ambiguous_path() {
        let rules = vec![RouteScope::parse("GET /shows", vec!["read:shows".into()]).unwrap()];
        let none = BTreeSet::new();
        for p in [
            "//shows",
            "/shows//",
            "/x/../shows",
            "/%73hows%2F",
            "/shows;x",
            "/%73hows",
            "/\u{ff53}hows",
        ] {
            assert!(!has_required_scopes(&rules, at(p).as_ref(), &none), "{p:?}");
        }
        assert!(has_required_scopes(&rules, at("/movies").as_ref(), &none));
    }
}
