//! One snapshot per fixture: what the payload was detected as, and what the typed schema kept
//! without modelling it. A schema change that starts (or stops) understanding a field shows up
//! here for review. Run `cargo xtask snapshots` after adding a fixture.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use mcpwire_schema::check;

/// Stable snapshot name: the path under `fixtures/`, whatever else the glob matches.
fn case_name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .canonicalize()
        .unwrap();
    path.strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn fixture_reports() {
    insta::glob!(
        "../../../fixtures",
        "{openai,anthropic}/*.{json,sse}",
        |path| {
            let bytes = std::fs::read(path).unwrap();
            let report = check::check(&bytes).unwrap();
            let summary = serde_json::json!({
                "kind": report.kind.to_string(),
                "array_len": report.array_len,
                "events": report.events,
                "kept_unmodelled": report.summary().into_iter().map(|(what, n)| format!("{what} x{n}")).collect::<Vec<_>>(),
            });
            insta::with_settings!({ snapshot_suffix => case_name(path), prepend_module_to_snapshot => false }, {
                insta::assert_json_snapshot!("report", summary);
            });
        }
    );
}
