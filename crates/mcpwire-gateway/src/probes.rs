//! `[server] probe_on_start = true`: at start (and after each reload) every configured MCP
//! server is probed the way each served vendor's hosted client would reach it
//! (`mcpwire-probe`), with the credentials the gateway would inject. Never fatal and never in
//! the way of serving: the probes run in the background, failures are logged, and the
//! latest result of each server is in `/readyz`'s body.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcpwire_auth::Secret;
use mcpwire_probe::{ProbeOptions, Target};
use mcpwire_schema::event::Vendor;

use crate::credentials::Injection;
use crate::state::Live;

/// Each probe's budget.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// The latest probe result per server (`name (origin)`).
#[derive(Default)]
pub(crate) struct Probes {
    results: Mutex<BTreeMap<String, serde_json::Value>>,
}

impl Probes {
    /// What `/readyz` shows.
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let r = self.results.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::Value::Object(r.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Probes every server of `live` in the background, replacing earlier results.
    pub(crate) fn start(self: &Arc<Self>, live: Arc<Live>) {
        if !live.config.probe_on_start {
            return;
        }
        let mut vendors = Vec::new();
        if live.config.openai.is_some() {
            vendors.push(Vendor::OpenAi);
        }
        if live.config.anthropic.is_some() {
            vendors.push(Vendor::Anthropic);
        }
        let probes = self.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut results = BTreeMap::new();
            for (ti, tenant) in live.config.tenants.iter().enumerate() {
                for (si, server) in tenant.mcp.iter().enumerate() {
                    if seen.contains(&server.url) {
                        continue;
                    }
                    seen.push(server.url.clone());
                    let mut target = Target::new(server.url.clone());
                    match live
                        .creds
                        .server(
                            crate::credentials::ServerRef {
                                tenant: ti,
                                tenant_name: &tenant.name,
                                server: si,
                                url: &server.url,
                            },
                            None,
                        )
                        .await
                    {
                        Ok((Injection::Bearer(t), _)) => {
                            target = target.with_bearer(Secret::new(t.expose()));
                        }
                        Ok((Injection::Headers(h), _)) => {
                            for (name, value) in h {
                                target = target.with_header(name, Secret::new(value.expose()));
                            }
                        }
                        Ok((Injection::None, _)) => {}
                        Err(e) => {
                            tracing::warn!(server = %server.name, error = %e.message, "probe: no credentials; probing without");
                        }
                    }
                    let options = ProbeOptions::default()
                        .with_timeout(PROBE_TIMEOUT)
                        .with_vendors(vendors.iter().copied());
                    let report = mcpwire_probe::probe(&target, &options).await;
                    let key = format!(
                        "{} ({})",
                        server.name,
                        mcpwire_auth::redact::origin(&server.url)
                    );
                    if report.ok {
                        tracing::info!(server = %server.name, "probe: {}", report.summary());
                    } else {
                        tracing::warn!(server = %server.name, "probe failed: {}", report.summary());
                    }
                    results.insert(
                        key,
                        serde_json::json!({"ok": report.ok, "summary": report.summary()}),
                    );
                }
            }
            *probes.results.lock().unwrap_or_else(|p| p.into_inner()) = results;
        });
    }
}
