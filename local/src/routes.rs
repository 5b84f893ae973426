//! Picks the route for a request the way HTTP API does: the most specific route wins (literal
//! segments over `{variables}`, `{variables}` over a greedy `{proxy+}`, an explicit method over
//! `ANY`), then the `$default` route, else 404.

use std::collections::BTreeMap;

use crate::template::RouteSpec;

/// A route and the path parameters its `{variables}` captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    pub route: &'a RouteSpec,
    pub path_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<RouteSpec>,
}

impl RouteTable {
    pub fn new(routes: Vec<RouteSpec>) -> Self {
        Self { routes }
    }

    pub fn routes(&self) -> &[RouteSpec] {
        &self.routes
    }

    /// The route serving `method path`, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let best = self
            .routes
            .iter()
            .filter(|route| route.path != "$default")
            .filter(|route| route.method == "ANY" || route.method == method)
            .filter_map(|route| {
                let (score, path_parameters) = match_path(&route.path, path)?;
                let method_rank = u8::from(route.method != "ANY");
                Some((
                    (score, method_rank),
                    RouteMatch {
                        route,
                        path_parameters,
                    },
                ))
            })
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, found)| found);
        best.or_else(|| {
            self.routes
                .iter()
                .find(|route| route.path == "$default")
                .map(|route| RouteMatch {
                    route,
                    path_parameters: BTreeMap::new(),
                })
        })
    }
}

/// How specifically a pattern matched: first, whether it matched without a greedy variable;
/// then, segment by segment from the left, literal (2) beats variable (1).
type Specificity = (bool, Vec<u8>);

fn match_path(pattern: &str, path: &str) -> Option<(Specificity, BTreeMap<String, String>)> {
    let pattern_segments: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let path_segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let mut parameters = BTreeMap::new();
    let mut ranks = Vec::with_capacity(pattern_segments.len());
    for (index, segment) in pattern_segments.iter().enumerate() {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            // A greedy variable must be last and swallows one or more remaining segments.
            let rest = path_segments.get(index..)?;
            if index + 1 != pattern_segments.len() || rest.is_empty() || rest.concat().is_empty() {
                return None;
            }
            parameters.insert(name.to_owned(), rest.join("/"));
            ranks.push(0);
            return Some(((false, ranks), parameters));
        }
        let actual = path_segments.get(index)?;
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if actual.is_empty() {
                return None;
            }
            parameters.insert(name.to_owned(), (*actual).to_owned());
            ranks.push(1);
        } else if segment == actual {
            ranks.push(2);
        } else {
            return None;
        }
    }
    (path_segments.len() == pattern_segments.len()).then_some(((true, ranks), parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> RouteSpec {
        RouteSpec {
            method: method.to_owned(),
            path: path.to_owned(),
            binary: format!("{method} {path}"),
            function: "F".to_owned(),
            authorizer: None,
        }
    }

    fn table(routes: &[(&str, &str)]) -> RouteTable {
        RouteTable::new(routes.iter().map(|(m, p)| route(m, p)).collect())
    }

    fn found(table: &RouteTable, method: &str, path: &str) -> Option<String> {
        table.find(method, path).map(|m| m.route.binary.clone())
    }

    #[test]
    fn exact_path_and_method_match() {
        let t = table(&[("GET", "/public"), ("GET", "/private")]);
        assert_eq!(
            found(&t, "GET", "/private").as_deref(),
            Some("GET /private")
        );
        assert_eq!(found(&t, "POST", "/private"), None);
        assert_eq!(found(&t, "GET", "/private/"), None);
        assert_eq!(found(&t, "GET", "/PRIVATE"), None);
        assert_eq!(found(&t, "GET", "/"), None);
    }

    #[test]
    fn literal_beats_variable_beats_greedy() {
        let t = table(&[
            ("GET", "/pets/{proxy+}"),
            ("GET", "/pets/{id}"),
            ("GET", "/pets/dog"),
        ]);
        assert_eq!(
            found(&t, "GET", "/pets/dog").as_deref(),
            Some("GET /pets/dog")
        );
        assert_eq!(
            found(&t, "GET", "/pets/cat").as_deref(),
            Some("GET /pets/{id}")
        );
        assert_eq!(
            found(&t, "GET", "/pets/cat/1").as_deref(),
            Some("GET /pets/{proxy+}")
        );
        assert_eq!(
            found(&t, "GET", "/pets"),
            None,
            "a greedy variable needs a segment"
        );
        let m = t.find("GET", "/pets/cat/1").unwrap();
        assert_eq!(
            m.path_parameters.get("proxy").map(String::as_str),
            Some("cat/1")
        );
        let m = t.find("GET", "/pets/cat").unwrap();
        assert_eq!(m.path_parameters.get("id").map(String::as_str), Some("cat"));
    }

    #[test]
    fn explicit_method_beats_any_and_default_is_last() {
        let t = table(&[("ANY", "/items"), ("POST", "/items"), ("ANY", "$default")]);
        assert_eq!(found(&t, "POST", "/items").as_deref(), Some("POST /items"));
        assert_eq!(found(&t, "DELETE", "/items").as_deref(), Some("ANY /items"));
        assert_eq!(
            found(&t, "GET", "/elsewhere").as_deref(),
            Some("ANY $default")
        );
    }
}
