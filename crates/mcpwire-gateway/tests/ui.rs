//! The `/ui` pages over HTTP (the browser test is `ui_browser.rs`): off without `[ui]`; the
//! login page for a missing cookie, an unknown cookie and a wrong key; the admin key as a
//! bearer token or through the form (a session cookie that is HttpOnly, SameSite=Strict,
//! Secure behind https); the list, a request's timeline with tool output escaped, a refusal's
//! reason, the servers page; older requests read back from the audit file.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

const ADMIN_KEY: &str = "ui-PLANTED-admin-key-3f7a";
const HOSTILE: &str = "<script>window.pwned=1</script>\"><img src=x onerror=alert(1)>";

fn config(base: &str, demo: &str, audit: &std::path::Path, ui: bool) -> String {
    let mut text = config_text(base, demo, DEMO_BEARER, "", "");
    text += &audit_table(audit, &["arguments", "outputs"]);
    if ui {
        text += &ui_table(ADMIN_KEY);
    }
    text
}

async fn get(url: &str, cookie: Option<&str>, bearer: Option<&str>) -> (u16, String) {
    let mut rb = no_redirects().get(url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    if let Some(b) = bearer {
        rb = rb.bearer_auth(b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    if status == 200 || status == 401 {
        let csp = r
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("script-src"), "no script may run: {csp}");
    }
    (status, r.text().await.unwrap())
}

/// [`get`] of `page` on the gateway at `gw`, with the admin key as a bearer token.
async fn as_admin(gw: &str, page: &str) -> (u16, String) {
    get(&format!("{gw}{page}"), None, Some(ADMIN_KEY)).await
}

async fn login(gw: &str, key: &str, https: bool) -> reqwest::Response {
    let mut rb = no_redirects()
        .post(format!("{gw}/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "key={}&next=%2Fui%2Fservers",
            url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        ));
    if https {
        rb = rb.header("x-forwarded-proto", "https");
    }
    rb.send().await.unwrap()
}

fn is_login(body: &str) -> bool {
    body.contains("id=\"login\"")
        && body.contains("name=\"key\"")
        && !body.contains("id=\"requests\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_need_the_admin_key_and_escape_what_they_show() {
    let (demo, sim) = demo_and_sim().await;
    let dir = tempdir();
    let audit = dir.join("audit.jsonl");

    // Without [ui]: no pages.
    let off = start(&config(&sim.base_url(), demo.url(), &audit, false)).await;
    let (status, _) = as_admin(&off.url(), "/ui").await;
    assert_eq!(status, 404);
    off.shutdown().await;

    let gw = start(&config(&sim.base_url(), demo.url(), &audit, true)).await;
    let url = gw.url();
    let prompt = echo_then(HOSTILE, "call demo.fail {\"message\":\"boom\"}");
    let r = team_a_openai(&gw, demo.url(), &prompt, true).await;
    assert_eq!(r.status(), 200);
    let id = request_id_after_body(r).await;
    // A refused one: a server the tenant may not use.
    let r = team_a_openai(&gw, "https://not-allowed.example/mcp", "hi", false).await;
    assert_eq!(r.status(), 403);
    let refused_id = request_id(&r);

    // No cookie, a forged cookie, a wrong key: the login page.
    for (cookie, bearer) in [
        (None, None),
        (Some("mcpwire_ui=forged"), None),
        (None, Some("wrong-key")),
    ] {
        for page in ["/ui", &format!("/ui/requests/{id}"), "/ui/servers"] {
            let (status, body) = get(&format!("{url}{page}"), cookie, bearer).await;
            assert_eq!(status, 401, "{page}");
            assert!(is_login(&body), "{page}: {body}");
            assert!(!body.contains(&id) || page.contains(&id), "{page}");
        }
    }
    let wrong = login(&url, "wrong-key", false).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let body = wrong.text().await.unwrap();
    assert!(is_login(&body) && body.contains("wrong admin key"));

    // The key as a bearer token.
    let (status, list) = as_admin(&url, "/ui").await;
    assert_eq!(status, 200);
    assert!(list.contains(&id) && list.contains(&refused_id), "{list}");
    assert!(list.contains("gpt-sim") && list.contains("team-a"));

    // The form: a session cookie.
    let ok = login(&url, ADMIN_KEY, false).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/ui/servers");
    let set = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http: {set}");
    assert!(!set.contains(ADMIN_KEY));
    let cookie = set.split(';').next().unwrap().to_owned();
    let https = login(&url, ADMIN_KEY, true).await;
    assert!(
        https.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    let (status, page) = get(&format!("{url}/ui/requests/{id}"), Some(&cookie), None).await;
    assert_eq!(status, 200);
    assert!(!page.contains("<script>window.pwned"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(page.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"));
    let echo = page.find("data-tool=\"echo\"").unwrap();
    let fail = page.find("data-tool=\"fail\"").unwrap();
    assert!(echo < fail, "calls in order");
    assert!(page.contains("class=\"step failed\" data-event=\"call\" data-tool=\"fail\""));
    assert!(page.contains("data-event=\"tools_listed\""));
    assert!(!page.contains(MCP_TOKEN) && !page.contains(GATEWAY_KEY));

    let (_, refused) = get(
        &format!("{url}/ui/requests/{refused_id}"),
        Some(&cookie),
        None,
    )
    .await;
    assert!(refused.contains("id=\"refusal\"") && refused.contains("<b>Refused: "));
    assert!(
        refused.contains("https://not-allowed.example"),
        "the target: {refused}"
    );

    let (_, servers) = get(&format!("{url}/ui/servers"), Some(&cookie), None).await;
    assert!(servers.contains("data-server=\"demo\""), "{servers}");
    assert!(servers.contains("<td class=\"num calls\">2</td><td class=\"num\">1</td>"));

    let (_, filtered) = get(&format!("{url}/ui?outcome=refused"), Some(&cookie), None).await;
    assert!(
        filtered.contains(&refused_id) && !filtered.contains(&format!("data-request-id=\"{id}\""))
    );

    // Log out: the cookie no longer works.
    let out = no_redirects()
        .post(format!("{url}/ui/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let (status, _) = get(&format!("{url}/ui"), Some(&cookie), None).await;
    assert_eq!(status, 401);
    gw.shutdown().await;

    // A new process (an empty ring) reads the older requests from the audit file.
    let again = start(&config(&sim.base_url(), demo.url(), &audit, true)).await;
    let again_url = again.url();
    let (status, page) = as_admin(&again_url, &format!("/ui/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-tool=\"fail\""));
    let (_, list) = as_admin(&again_url, "/ui").await;
    assert!(list.contains(&id) && list.contains(&refused_id));
    let (status, _) = as_admin(&again_url, "/ui/requests/gw_nope").await;
    assert_eq!(status, 404);
    std::fs::remove_dir_all(&dir).unwrap();
}
