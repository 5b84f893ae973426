//! The bundled catalogue of shows: compiled into the binary, parsed once.

use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

/// One show of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Show {
    /// Stable identifier.
    pub id: u64,
    /// Display name, what `?q=` searches.
    pub name: String,
    /// Where to read about the show.
    pub url: String,
}

const CATALOGUE_JSON: &str = include_str!("catalogue.json");

static CATALOGUE: LazyLock<Result<Vec<Show>, Arc<serde_json::Error>>> =
    LazyLock::new(|| serde_json::from_str(CATALOGUE_JSON).map_err(Arc::new));

/// Every show, in catalogue order. Parsed on first use; a broken catalogue is an
/// error for every request (a 500), not a crash of the function.
pub fn all() -> Result<&'static [Show], Arc<serde_json::Error>> {
    CATALOGUE.as_deref().map_err(Arc::clone)
}

/// Shows whose name contains `query`, ignoring case; every show for an empty query.
pub fn search<'a>(shows: &'a [Show], query: &str) -> Vec<&'a Show> {
    let needle = query.trim().to_lowercase();
    shows
        .iter()
        .filter(|show| needle.is_empty() || show.name.to_lowercase().contains(&needle))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(shows: &[&Show]) -> Vec<String> {
        shows.iter().map(|s| s.name.clone()).collect()
    }

    #[test]
    fn bundled_catalogue_parses_with_unique_ids() {
        let shows = all().expect("catalogue parses");
        assert!(shows.len() >= 10);
        let mut ids: Vec<u64> = shows.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), shows.len());
        assert!(
            shows
                .iter()
                .all(|s| s.url.starts_with("https://") && !s.name.is_empty())
        );
    }

    #[test]
    fn search_ignores_case_and_surrounding_space() {
        let shows = all().unwrap();
        assert_eq!(names(&search(shows, "  THE wire ")), ["The Wire"]);
        assert_eq!(names(&search(shows, "thing")), ["Stranger Things"]);
    }

    #[test]
    fn search_with_empty_query_returns_everything() {
        let shows = all().unwrap();
        assert_eq!(search(shows, "").len(), shows.len());
        assert_eq!(search(shows, "   ").len(), shows.len());
    }

    #[test]
    fn search_without_match_is_empty() {
        assert!(search(all().unwrap(), "no such show").is_empty());
    }
}
