//! The recorded vendor payloads under the workspace's `fixtures/` directory, and wiremock
//! answers that replay them.

use std::path::{Path, PathBuf};

use wiremock::ResponseTemplate;

/// The path of `fixtures/{rel}` in the workspace.
pub fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

/// The bytes of `fixtures/{rel}`; panics when it cannot be read.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixture_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An answer with `status` and `fixtures/{rel}` as its body of `content_type`.
pub fn fixture_reply(status: u16, rel: &str, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(rel), content_type)
}

/// [`fixture_reply`] with a JSON body.
pub fn json_fixture(status: u16, rel: &str) -> ResponseTemplate {
    fixture_reply(status, rel, "application/json")
}
