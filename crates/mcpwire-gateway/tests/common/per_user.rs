//! A tenant with per-user MCP credentials and everything around it: the demo MCP server
//! checking tokens against a mock authorization server, the simulator as the vendor, a
//! gateway with a file token store, and the test as the user's browser.

#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use mcpwire_sim::DemoServerHandle;
use mcpwire_testkit::gateway_kit::{fetch_json, tenant};
use mcpwire_testkit::mock_as::MockAs;
use serde_json::{Value, json};

use super::*;

/// The servers of one test.
pub struct World {
    pub auth: MockAs,
    pub demo: DemoServerHandle,
    pub _sim: mcpwire_sim::SimHandle,
    pub gw: mcpwire_gateway::GatewayHandle,
    pub store: std::path::PathBuf,
}

/// The `/ui` admin key of the world's gateway.
pub const ADMIN_KEY: &str = "ui-admin-PLANTED-key-31";

/// A tenant whose users are named in a header, a per-user demo server (`docs`) and a second
/// per-user server that is dropped when unconnected (`extra`), tokens in a file store.
pub async fn world(tenant_extra: &str) -> World {
    let (auth, demo, sim) = oauth_demo_and_sim().await;
    let dir = tempdir();
    let store = dir.join("tokens.json");
    let port = free_port();
    // The second server: the same demo server under another path spelling is another URL.
    let extra_url = demo.url().replace("/mcp", "/mcp/");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"

[ui]
admin_key_sha256 = ["{admin}"]

{openai}

[upstream.anthropic]
base_url = "{sim}"
api_key_env = "GW_ANTHROPIC_KEY"

[stores.users]
path = "{store}"

{team_a}
return_urls = ["https://app.example.com/settings"]
{tenant_extra}

[[tenants.mcp]]
name = "docs"
url = "{demo}"
auth = {{ oauth_per_user = {{ client_id = "gw-client", client_secret_env = "GW_CLIENT_SECRET" }} }}

[[tenants.mcp]]
name = "extra"
url = "{extra_url}"
auth = {{ oauth_per_user = {{ client_id = "gw-client", client_secret_env = "GW_CLIENT_SECRET" }} }}
when_unconnected = "drop"
"#,
        openai = openai_upstream(&sim.base_url()),
        sim = sim.base_url(),
        store = store.display(),
        team_a = tenant(
            "team-a",
            &mcpwire_gateway::config::key_hash_hex(GATEWAY_KEY)
        ),
        admin = mcpwire_gateway::config::key_hash_hex(ADMIN_KEY),
        demo = demo.url(),
    );
    let text = if tenant_extra.contains("[tenants.users]") {
        text
    } else {
        text.replace(
            "return_urls = [",
            "users = { mode = \"header\" }\nreturn_urls = [",
        )
    };
    let gw = start_with(&text, &[("GW_CLIENT_SECRET", "client-PLANTED-secret-77")]).await;
    World {
        auth,
        demo,
        _sim: sim,
        gw,
        store,
    }
}

impl World {
    pub async fn connect_request(&self, user: &str, body: Value) -> (u16, Value) {
        let r = http()
            .post(format!("{}/v1/mcpwire/connections", self.gw.url()))
            .bearer_auth(GATEWAY_KEY)
            .header("x-mcpwire-user", user)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// The browser: opens the authorization URL as `user` (`deny`: refuses consent) and
    /// returns the callback URL the authorization server redirects to.
    pub async fn consent(&self, authorization_url: &str, user: &str, deny: bool) -> String {
        let mut rb = no_redirects()
            .get(authorization_url)
            .header("x-test-user", user);
        if deny {
            rb = rb.header("x-test-deny", "1");
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
        r.headers()["location"].to_str().unwrap().to_owned()
    }

    pub async fn follow(&self, callback: &str) -> (u16, String, Option<String>) {
        let r = no_redirects().get(callback).send().await.unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }

    /// Connects `user` all the way.
    pub async fn connect(&self, user: &str) {
        let (s, b) = self.connect_request(user, json!({"server": "docs"})).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["status"], "pending", "{b}");
        let cb = self
            .consent(b["authorization_url"].as_str().unwrap(), user, false)
            .await;
        let (s, page, _) = self.follow(&cb).await;
        assert_eq!(s, 200, "{page}");
        assert!(page.contains("connected"), "{page}");
    }

    /// `/ui/servers`, as the admin.
    pub async fn servers_page(&self) -> String {
        let r = http()
            .get(format!("{}/ui/servers", self.gw.url()))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }

    pub async fn openai(&self, user: &str, tools: Value) -> reqwest::Response {
        http()
            .post(format!("{}/v1/responses", self.gw.url()))
            .bearer_auth(GATEWAY_KEY)
            .header("x-mcpwire-user", user)
            .json(&json!({"model": "gpt-sim", "input": "call docs.echo {\"text\":\"hi\"}", "tools": tools}))
            .send()
            .await
            .unwrap()
    }

    pub fn docs_tool(&self) -> Value {
        json!({"type": "mcp", "server_label": "docs", "server_url": self.demo.url(), "require_approval": "never"})
    }

    pub async fn anthropic(&self, user: &str) -> reqwest::Response {
        http()
            .post(format!("{}/v1/messages", self.gw.url()))
            .header("x-api-key", GATEWAY_KEY)
            .header("x-mcpwire-user", user)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "mcp-client-2025-11-20")
            .json(&json!({
                "model": "claude-sim", "max_tokens": 64,
                "messages": [{"role": "user", "content": "call docs.echo {\"text\":\"hi\"}"}],
                "mcp_servers": [{"type": "url", "url": self.demo.url(), "name": "docs"}],
                "tools": [{"type": "mcp_toolset", "mcp_server_name": "docs"}],
            }))
            .send()
            .await
            .unwrap()
    }

    pub async fn connections(&self, user: &str) -> Value {
        let request = http()
            .get(format!("{}/v1/mcpwire/connections", self.gw.url()))
            .bearer_auth(GATEWAY_KEY)
            .header("x-mcpwire-user", user);
        fetch_json(request).await
    }
}
