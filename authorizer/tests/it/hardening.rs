//! Hardening through the real binary: what no configuration may change.

use crate::common::{Format, Harness, assert_allowed, assert_denied};
use testkit::{TestKey, forge};

/// Whatever the log level, the raw event (with the `Authorization` header) never reaches the
/// logs, and an ordinary denial is not reported as an ERROR by the runtime.
#[test]
fn trace_log_level_logs_no_token_and_no_error_line_for_denials() {
    let settings: [&[(&str, &str)]; 2] = [
        &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")],
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
            (
                "RUST_LOG",
                "trace,lambda_runtime=trace,lambda_runtime::layers::api_response=trace",
            ),
        ],
    ];
    for extra in settings {
        let key = TestKey::ec_p256();
        let harness = Harness::start(&[&key], extra);
        let token = harness.token(&key, &harness.claims("u"));
        for format in Format::SIMPLE_PROCESS {
            assert_allowed(format, harness.call(format, &token), "u");
        }
        let bad = harness.remember(&forge::flip_signature_bit(&token));
        for format in Format::SIMPLE_PROCESS {
            assert_denied(format, harness.call(format, &bad), "flipped signature");
        }
        harness.function.kill();
        let logs = harness.function.logs();
        assert!(
            logs.contains("\"decision\":\"deny\""),
            "{extra:?}: our own decision lines are kept: {logs}"
        );
        harness.assert_no_token_logged();
        assert!(
            !logs.contains("\"level\":\"ERROR\""),
            "{extra:?}: a denial produced an ERROR line: {logs}"
        );
    }
}
