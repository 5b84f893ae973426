//! What the warm-path benches (`verify`, `policy`) share: an authorizer built from a configuration
//! lookup with its keys fetched, and the measurement of `Authorizer::handle` on one event, checked
//! once to be the allow path. A directory module, so Cargo does not take it for a bench target.

use authorizer::{Authorizer, Config};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup};
use serde_json::Value;

use crate::common::{self, Format};

/// An authorizer configured by `lookup`, keys fetched (`warm_up`), so no iteration does I/O.
pub(crate) fn warm_authorizer(
    lookup: impl Fn(&str) -> Option<String>,
    runtime: &tokio::runtime::Runtime,
) -> Authorizer {
    let config = Config::from_lookup(lookup).expect("bench configuration");
    let authorizer = Authorizer::new(config).expect("authorizer");
    runtime.block_on(authorizer.warm_up());
    authorizer
}

/// Measures `handle` on `event` (cloned outside the measurement), after checking once, outside it,
/// that the event is allowed: a bench of a deny path by mistake would look fast.
pub(crate) fn bench_handle(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    runtime: &tokio::runtime::Runtime,
    authorizer: &Authorizer,
    format: Format,
    event: &Value,
) {
    let answer = runtime
        .block_on(authorizer.handle(event.clone()))
        .map_err(|e| testkit::InvokeError {
            error_type: String::new(),
            error_message: e.to_string(),
        });
    assert!(
        common::is_allow(format, &answer),
        "{id} does not allow: {answer:?}"
    );
    group.bench_function(id, |b| {
        b.iter_batched(
            || event.clone(),
            |event| runtime.block_on(authorizer.handle(event)),
            BatchSize::SmallInput,
        );
    });
}
