//! Per-user MCP credentials end to end: two users of one tenant against the bearer-checking
//! demo MCP server (which records the tokens it saw), the simulator as the vendor, and a
//! mock authorization server the test plays the browser against. The connect flow, its
//! abuse (replayed, expired, forged, other-user state, a refused consent), listing, revoking,
//! dropping unconnected servers, and ID-JAG for JWT-identified users.

#![allow(clippy::unwrap_used)]

mod common;

use common::per_user::world;
use common::*;
use serde_json::{Value, json};

/// The number of tokens the demo server has seen, once it stopped growing for 150 ms.
async fn settled_count(demo: &mcpwire_sim::DemoServerHandle) -> usize {
    let mut last = demo.tokens_seen().len();
    let mut stable = 0;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = demo.tokens_seen().len();
        stable = if now == last { stable + 1 } else { 0 };
        last = now;
        if stable == 3 {
            break;
        }
    }
    last
}

/// The first `key` query parameter of `url`.
fn query_value(url: &str, key: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let (_, value) = url.query_pairs().find(|(k, _)| k == key).unwrap();
    value.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_reaches_the_server_with_their_own_token() {
    let w = world("").await;
    w.connect("alice").await;

    // Alice: her token reaches the MCP server, through both vendors.
    let before = w.demo.tokens_seen().len();
    let r = w.openai("alice", json!([w.docs_tool()])).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = w.anthropic("alice").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let alice_tokens: Vec<String> = w.demo.tokens_seen()[before..].to_vec();
    assert!(!alice_tokens.is_empty());
    assert!(
        alice_tokens.iter().all(|t| t.starts_with("at-alice-")),
        "{alice_tokens:?}"
    );

    // Bob has not connected: 424 with a link, in both shapes, before anything goes upstream.
    // The vendor may still close alice's MCP session after her response ended: wait until
    // the server has seen her last request, so that any later one is bob's.
    let seen = settled_count(&w.demo).await;
    let r = w.openai("bob", json!([w.docs_tool()])).await;
    assert_eq!(r.status(), 424);
    assert_eq!(r.headers()["x-should-retry"], "false");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "mcp_authorization_required", "{e}");
    assert_eq!(e["error"]["type"], "external_connector_error", "{e}");
    let link = e["error"]["authorization_url"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/authorize?", w.auth.issuer)),
        "{link}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Connect your `docs` account")
    );
    let r = w.anthropic("bob").await;
    assert_eq!(r.status(), 424);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "mcp_authorization_required", "{e}");
    assert!(e["error"]["authorization_url"].is_string(), "{e}");
    assert_eq!(
        w.demo.tokens_seen().len(),
        seen,
        "nothing reached the MCP server for bob"
    );

    // Bob connects through the link from the error; his token is his own.
    let cb = w.consent(&link, "bob", false).await;
    let (s, page, _) = w.follow(&cb).await;
    assert_eq!(s, 200, "{page}");
    let before = w.demo.tokens_seen().len();
    assert_eq!(w.openai("bob", json!([w.docs_tool()])).await.status(), 200);
    let bob_tokens: Vec<String> = w.demo.tokens_seen()[before..].to_vec();
    assert!(!bob_tokens.is_empty());
    assert!(
        bob_tokens.iter().all(|t| t.starts_with("at-bob-")),
        "{bob_tokens:?}"
    );
    assert!(bob_tokens.iter().all(|t| !alice_tokens.contains(t)));

    // Listing: status, scopes, expiry; never a token.
    let list = w.connections("alice").await;
    let docs = mcpwire_testkit::http_kit::find_in(&list["connections"], "server", "docs");
    assert_eq!(docs["status"], "connected", "{list}");
    assert!(docs["expires_at"].as_u64().unwrap() > 0);
    assert!(!list.to_string().contains("at-alice"), "{list}");
    let list = w.connections("carol").await;
    assert!(
        list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "not_connected"),
        "{list}"
    );

    // The file store holds the users' tokens, mode 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&w.store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The servers page names who is connected to which per-user server, never a token.
    let page = w.servers_page().await;
    assert!(page.contains("Connected users"), "{page}");
    for user in ["alice", "bob"] {
        assert!(
            page.contains(&format!(
                "<td>team-a</td><td>docs</td><td class=\"user\">{user}</td>"
            )),
            "{user}: {page}"
        );
    }
    assert!(!page.contains("carol"), "{page}");
    assert!(
        !page.contains("at-alice") && !page.contains("rt-alice"),
        "{page}"
    );

    // Revoke: at the authorization server, then deleted; the next request needs a connect.
    let r = http()
        .delete(format!("{}/v1/mcpwire/connections/docs", w.gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .header("x-mcpwire-user", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["revoked"], true, "{b}");
    assert!(
        w.auth
            .record()
            .revoked
            .iter()
            .any(|t| t.starts_with("rt-alice-"))
    );
    assert_eq!(
        w.openai("alice", json!([w.docs_tool()])).await.status(),
        424
    );
    assert_eq!(
        w.openai("bob", json!([w.docs_tool()])).await.status(),
        200,
        "bob keeps his"
    );
    let page = w.servers_page().await;
    assert!(
        !page.contains("\"user\">alice<"),
        "alice disconnected: {page}"
    );
    assert!(page.contains("\"user\">bob<"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconnected_servers_can_be_dropped_and_users_must_be_named() {
    let w = world("").await;
    w.connect("alice").await;
    let extra = json!({"type": "mcp", "server_label": "extra", "server_url": w.demo.url().replace("/mcp", "/mcp/"), "require_approval": "never"});
    let r = w.openai("alice", json!([w.docs_tool(), extra])).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(r.headers()["x-mcpwire-dropped-servers"], "extra");
    // A tenant with users must name one, 1-256 printable characters.
    let r = http()
        .post(format!("{}/v1/responses", w.gw.url()))
        .bearer_auth(GATEWAY_KEY)
        .json(&json!({"model": "m", "input": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["param"], "x-mcpwire-user", "{e}");
    for bad in ["x".repeat(257), "tab\there".to_owned()] {
        let r = http()
            .post(format!("{}/v1/responses", w.gw.url()))
            .bearer_auth(GATEWAY_KEY)
            .header("x-mcpwire-user", bad.as_str())
            .json(&json!({"model": "m", "input": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_state_cannot_be_abused() {
    let w = world("").await;
    let start = async |user: &str, body: Value| {
        let (s, b) = w.connect_request(user, body).await;
        assert_eq!(s, 200, "{b}");
        b["authorization_url"].as_str().unwrap().to_owned()
    };
    let tokens = || std::fs::read_to_string(&w.store).unwrap_or_default();
    // Whose tokens the store holds (pending connect requests aside).
    let holders = || -> Vec<String> {
        let file: Value = serde_json::from_str(&tokens()).unwrap_or(Value::Null);
        file["tokens"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|e| e["subject"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };

    // Replayed: the first callback connects, the same one again is refused.
    let link = start("alice", json!({"server": "docs"})).await;
    let cb = w.consent(&link, "alice", false).await;
    assert_eq!(w.follow(&cb).await.0, 200);
    let (s, page, _) = w.follow(&cb).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("already used"), "{page}");
    assert_eq!(w.auth.record().redeemed, 1, "the code was redeemed once");

    // Forged state: refused, nothing stored.
    let (s, _, _) = w
        .follow(&format!(
            "{}/oauth/callback?code=x&state=forged-state",
            w.gw.url()
        ))
        .await;
    assert_eq!(s, 400);
    assert_eq!(holders(), ["team-a:alice"]);

    // Another user's state with this user's code (the PKCE verifier cannot match): refused
    // by the authorization server, nothing stored for either.
    let bob_link = start("bob", json!({"server": "docs"})).await;
    let carol_link = start("carol", json!({"server": "docs"})).await;
    let bob_cb = w.consent(&bob_link, "bob", false).await;
    let carol_cb = w.consent(&carol_link, "carol", false).await;
    let bob_code = query_value(&bob_cb, "code");
    let carol_state = query_value(&carol_cb, "state");
    let refused_before = w.auth.record().refused_codes;
    let (s, page, _) = w
        .follow(&format!(
            "{}/oauth/callback?code={bob_code}&state={carol_state}",
            w.gw.url()
        ))
        .await;
    assert!(s >= 400, "{s} {page}");
    assert_eq!(w.auth.record().refused_codes, refused_before + 1);
    assert_eq!(holders(), ["team-a:alice"], "{}", tokens());
    // Carol's state was spent on that attempt: her genuine callback is refused too.
    assert_eq!(w.follow(&carol_cb).await.0, 400);

    // Refused consent: error=access_denied, nothing stored, the state is spent.
    let link = start("dave", json!({"server": "docs"})).await;
    let cb = w.consent(&link, "dave", true).await;
    let (s, page, _) = w.follow(&cb).await;
    assert_eq!(s, 400);
    assert!(page.contains("not allowed"), "{page}");
    assert_eq!(holders(), ["team-a:alice"]);

    // Expired: the stored request is older than its 10 minutes.
    let link = start("erin", json!({"server": "docs"})).await;
    let cb = w.consent(&link, "erin", false).await;
    let mut file: Value = serde_json::from_str(&tokens()).unwrap();
    for p in file["pending"].as_array_mut().unwrap() {
        p["expires_at"] = json!(1);
    }
    std::fs::write(&w.store, serde_json::to_vec(&file).unwrap()).unwrap();
    let (s, page, _) = w.follow(&cb).await;
    assert_eq!(s, 400);
    assert!(page.contains("expired"), "{page}");
    assert_eq!(holders(), ["team-a:alice"]);

    // A return_url outside the tenant's list is refused; one inside is where the browser goes.
    let (s, b) = w
        .connect_request(
            "frank",
            json!({"server": "docs", "return_url": "https://evil.example.net/"}),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let link = start(
        "frank",
        json!({"server": "docs", "return_url": "https://app.example.com/settings/mcp"}),
    )
    .await;
    let cb = w.consent(&link, "frank", false).await;
    let (s, _, location) = w.follow(&cb).await;
    assert_eq!(s, 302);
    assert_eq!(
        location.as_deref(),
        Some("https://app.example.com/settings/mcp?mcpwire_connected=docs")
    );
    // No secret of the flow is in the page or the store's keys.
    assert!(!tokens().contains("client-PLANTED-secret-77"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_page_escapes_and_unknown_servers_are_404() {
    let w = world("").await;
    let (s, b) = w.connect_request("alice", json!({"server": "nope"})).await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["error"]["param"], "server");
    let (s, page, _) = w
        .follow(&format!("{}/oauth/callback?state=%3Cscript%3E", w.gw.url()))
        .await;
    assert_eq!(s, 400);
    assert!(!page.contains("<script>"), "{page}");
}
