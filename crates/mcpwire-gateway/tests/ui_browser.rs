//! The `/ui` pages in a real headless browser: Debian's Chromium driven over WebDriver
//! (chromedriver, through `fantoccini`), both provided by `cargo xtask test`
//! (`MCPWIRE_CHROMIUM`, `MCPWIRE_CHROMEDRIVER`). Two requests shaped like the official SDKs'
//! (OpenAI streamed, Anthropic whole; plain HTTP, so this test does not need the Python venv)
//! go through the gateway to the simulator; then: a wrong admin key gets the login page again,
//! the right one shows both requests, the OpenAI one shows its calls in order with the failing
//! one marked, a tool output holding `<script>` and `"><img onerror=...>` is text (no element,
//! no script ran), and without the cookie the login page comes back. A screenshot of each page
//! goes to `target/ui-screenshots/`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const ADMIN_KEY: &str = "ui-PLANTED-admin-key-8c21";
const HOSTILE: &str = "<script>window.pwned=1</script>\"><img src=x onerror=\"window.pwned=2\">";

fn screenshots() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// chromedriver on a free loopback port; killed when dropped.
async fn chromedriver() -> (tokio::process::Child, String) {
    let driver = std::env::var("MCPWIRE_CHROMEDRIVER")
        .expect("MCPWIRE_CHROMEDRIVER must name chromedriver (cargo xtask test sets it)");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if http()
            .get(format!("{url}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    let chromium = std::env::var("MCPWIRE_CHROMIUM")
        .expect("MCPWIRE_CHROMIUM must name chromium (cargo xtask test sets it)");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,860",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver)
        .await
        .unwrap()
}

async fn is_login(c: &Client) -> bool {
    c.find(Locator::Css("form#login input[name=key]"))
        .await
        .is_ok()
        && c.find(Locator::Css("table#requests")).await.is_err()
}

/// Clicks the element `css` names.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for the element `css` names to appear.
async fn wait_for(c: &Client, css: &str) -> Element {
    c.wait().for_element(Locator::Css(css)).await.unwrap()
}

async fn log_in(c: &Client, key: &str) {
    let field = c.find(Locator::Css("input[name=key]")).await.unwrap();
    field.send_keys(key).await.unwrap();
    click(c, "#login-submit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium: cargo xtask test runs it"]
async fn the_request_log_in_a_real_browser() {
    let dir = tempdir();
    let tables =
        audit_table(&dir.join("audit.jsonl"), &["arguments", "outputs"]) + &ui_table(ADMIN_KEY);
    let (demo, _sim, gw) = sim_gateway("", &tables).await;
    let calls = "call demo.add {\"a\":2,\"b\":3}\ncall demo.fail {\"message\":\"the tool broke\"}";
    let r = team_a_openai(&gw, demo.url(), &echo_then(HOSTILE, calls), true).await;
    assert_eq!(r.status(), 200);
    let openai_id = request_id_after_body(r).await;
    let r = team_a_anthropic(&gw, demo.url(), "call demo.add {\"a\":1,\"b\":2}", false).await;
    assert_eq!(r.status(), 200);
    let anthropic_id = request_id_after_body(r).await;

    let (_driver, driver_url) = chromedriver().await;
    let c = browser(&driver_url, &dir.join("profile")).await;
    let base = gw.url();

    // No cookie: the login page. A wrong key: the login page again, with the error.
    c.goto(&format!("{base}/ui")).await.unwrap();
    assert!(is_login(&c).await);
    shot(&c, "login").await;
    log_in(&c, "not-the-admin-key").await;
    assert!(is_login(&c).await);
    let error = c.find(Locator::Css("#login-error")).await.unwrap();
    assert_eq!(error.text().await.unwrap(), "wrong admin key");

    // The right key: the list, both requests.
    log_in(&c, ADMIN_KEY).await;
    let table = wait_for(&c, "table#requests").await;
    let rows = table.find_all(Locator::Css("tbody tr.row")).await.unwrap();
    assert_eq!(rows.len(), 2, "two requests listed");
    let mut ids = Vec::new();
    for row in &rows {
        ids.push(row.attr("data-request-id").await.unwrap().unwrap());
    }
    assert!(
        ids.contains(&openai_id) && ids.contains(&anthropic_id),
        "{ids:?}"
    );
    let listed = table.text().await.unwrap();
    assert!(listed.contains("openai") && listed.contains("anthropic") && listed.contains("team-a"));
    shot(&c, "requests").await;

    // Open the OpenAI request.
    click(&c, &format!("tr[data-request-id=\"{openai_id}\"] a")).await;
    let timeline = wait_for(&c, "table#timeline").await;
    let steps = timeline.find_all(Locator::Css("tr.step")).await.unwrap();
    let mut seen = Vec::new();
    for step in &steps {
        let event = step.attr("data-event").await.unwrap().unwrap();
        let tool = step.attr("data-tool").await.unwrap().unwrap_or_default();
        let class = step.attr("class").await.unwrap().unwrap();
        seen.push((event, tool, class.contains("failed")));
    }
    let want = [
        ("tools_listed", "", false),
        ("call", "echo", false),
        ("call", "add", false),
        ("call", "fail", true),
    ];
    let seen_ref: Vec<(&str, &str, bool)> = seen
        .iter()
        .map(|(e, t, f)| (e.as_str(), t.as_str(), *f))
        .collect();
    assert_eq!(seen_ref, want);
    // The hostile output is text: present verbatim, no element made from it, nothing ran.
    let outputs = c.find_all(Locator::Css("pre.output")).await.unwrap();
    let mut output_text = String::new();
    for o in &outputs {
        output_text.push_str(&o.text().await.unwrap());
    }
    assert!(
        output_text.contains("<script>window.pwned=1</script>"),
        "{output_text}"
    );
    assert!(output_text.contains("<img src=x onerror="), "{output_text}");
    assert!(
        c.find_all(Locator::Css("main img"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        c.find_all(Locator::Css("main script, script"))
            .await
            .unwrap()
            .is_empty()
    );
    let pwned = c
        .execute("return typeof window.pwned;", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!("undefined"));
    let failing = c
        .find(Locator::Css("tr.step.failed + tr.detail .error"))
        .await
        .unwrap();
    assert!(failing.text().await.unwrap().contains("the tool broke"));
    c.set_window_size(1280, 1400).await.unwrap();
    shot(&c, "request").await;

    c.set_window_size(1280, 720).await.unwrap();
    c.goto(&format!("{base}/ui/servers")).await.unwrap();
    let card = wait_for(&c, "section.server[data-server=demo]").await;
    let calls = card.find(Locator::Css("td.calls")).await.unwrap();
    assert_eq!(calls.text().await.unwrap(), "4");
    shot(&c, "servers").await;

    // Without the cookie: the login page, on every page.
    c.delete_all_cookies().await.unwrap();
    for page in ["/ui", &format!("/ui/requests/{openai_id}"), "/ui/servers"] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        assert!(is_login(&c).await, "{page}");
    }
    c.close().await.unwrap();
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
