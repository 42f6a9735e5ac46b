//! What the gateway's in-process tests and the CLI's `mcpwire gateway` process tests both
//! need: tables of a gateway config as TOML text, an upstream answer that takes its time, and
//! readers of an HTTP answer.

use std::time::Duration;

use serde_json::Value;
use wiremock::ResponseTemplate;

/// The `[upstream.openai]` table of a gateway config: the vendor at `{base}/v1`, its key from
/// the environment variable `key_env`.
pub fn openai_upstream(base: &str, key_env: &str) -> String {
    format!("[upstream.openai]\nbase_url = \"{base}/v1\"\napi_key_env = \"{key_env}\"")
}

/// A `[[tenants]]` table: the tenant `name` and the SHA-256 (hex) of its gateway key.
pub fn tenant(name: &str, key_sha256: &str) -> String {
    format!("[[tenants]]\nname = \"{name}\"\nkey_sha256 = [\"{key_sha256}\"]")
}

/// A `200` answer with the JSON `body`, sent after `delay` (so that callers overlap).
pub fn json_after(delay: Duration, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_delay(delay)
        .set_body_json(body)
}

/// Sends `request` and reads the answer's body as JSON.
pub async fn fetch_json(request: reqwest::RequestBuilder) -> Value {
    let answer = request.send().await.expect("the request was answered");
    answer.json().await.expect("the answer is JSON")
}

/// Sends `request` and reads the answer's body as text.
pub async fn fetch_text(request: reqwest::RequestBuilder) -> String {
    let answer = request.send().await.expect("the request was answered");
    answer.text().await.expect("the answer has a body")
}
