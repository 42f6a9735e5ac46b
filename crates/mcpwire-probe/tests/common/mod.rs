//! A scriptable MCP server on wiremock: a correct Streamable HTTP server by default, with one
//! knob per rule a test breaks (tools, protocol era, a hang, a bearer token and its challenge).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use mcpwire_probe::{CheckId, Report, Status, VendorReport};
use mcpwire_schema::event::Vendor;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Which openings the fake server answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize` (2024-11-05 .. 2025-11-25); `server/discover` is an unknown method.
    Legacy,
    /// Only the 2026-07-28 revision: `initialize` gets an unsupported-version error.
    ModernOnly,
}

#[derive(Clone)]
pub struct Fake {
    pub tools: Value,
    pub era: Era,
    pub list_delay: Option<Duration>,
    /// Requests need `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The `WWW-Authenticate` value of the 401 (when `token` is set).
    pub challenge: Option<String>,
    /// Requests need this header (name, value), else 401 without a challenge.
    pub header: Option<(String, String)>,
}

pub fn tool(name: &str) -> Value {
    json!({
        "name": name,
        "description": "a tool",
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}
    })
}

impl Fake {
    pub fn new(tools: Value) -> Self {
        Fake {
            tools,
            era: Era::Legacy,
            list_delay: None,
            token: None,
            challenge: None,
            header: None,
        }
    }

    fn rpc(id: &Value, result: Value) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
    }

    fn error(
        status: u16,
        id: &Value,
        code: i64,
        message: &str,
        data: Option<Value>,
    ) -> ResponseTemplate {
        let mut error = json!({"code": code, "message": message});
        if let Some(d) = data {
            error["data"] = d;
        }
        ResponseTemplate::new(status)
            .insert_header("content-type", "application/json")
            .set_body_string(json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string())
    }

    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(token) = &self.token {
            let ok = request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                == Some(format!("Bearer {token}").as_str());
            if !ok {
                let mut r = ResponseTemplate::new(401)
                    .insert_header("content-type", "application/json")
                    .set_body_string(r#"{"error":"invalid_token"}"#);
                if let Some(c) = &self.challenge {
                    r = r.insert_header("www-authenticate", c.as_str());
                }
                return r;
            }
        }
        if let Some((name, value)) = &self.header {
            let ok = request
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                == Some(value.as_str());
            if !ok {
                return ResponseTemplate::new(401).set_body_string("missing api key");
            }
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(400).set_body_string("not json");
        };
        let id = body.get("id").cloned().unwrap_or(Value::Null);
        let method = body.get("method").and_then(Value::as_str).unwrap_or("");
        let modern_version = body
            .pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match (method, self.era) {
            ("initialize", Era::Legacy) => {
                let asked = body
                    .pointer("/params/protocolVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let supported = ["2025-11-25", "2025-06-18", "2025-03-26"];
                let agreed = if supported.contains(&asked) {
                    asked
                } else {
                    supported[0]
                };
                Self::rpc(
                    &id,
                    json!({"protocolVersion": agreed, "capabilities": {"tools": {}},
                           "serverInfo": {"name": "fake", "version": "1"}}),
                )
                .insert_header("mcp-session-id", "s-1")
            }
            ("initialize", Era::ModernOnly) => Self::error(
                400,
                &id,
                -32022,
                "Unsupported protocol version",
                Some(
                    json!({"supported": ["2026-07-28"], "requested": body.pointer("/params/protocolVersion")}),
                ),
            ),
            ("notifications/initialized", _) => ResponseTemplate::new(202),
            ("server/discover", Era::ModernOnly) => Self::rpc(
                &id,
                json!({"resultType": "complete", "supportedVersions": ["2026-07-28"],
                       "capabilities": {"tools": {}}, "serverInfo": {"name": "fake", "version": "1"}}),
            ),
            ("server/discover", Era::Legacy) => Self::error(
                400,
                &id,
                -32600,
                "Bad Request: Server not initialized",
                None,
            ),
            ("tools/list", era) => {
                if era == Era::ModernOnly && modern_version.as_deref() != Some("2026-07-28") {
                    return Self::error(400, &id, -32020, "Header mismatch", None);
                }
                let r = Self::rpc(&id, json!({"tools": self.tools}));
                match self.list_delay {
                    Some(d) => r.set_delay(d),
                    None => r,
                }
            }
            ("tools/call", _) => {
                let name = body
                    .pointer("/params/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Self::rpc(
                    &id,
                    json!({"content": [{"type": "text", "text": format!("called {name}")}]}),
                )
            }
            _ => Self::error(404, &id, -32601, "Method not found", None),
        }
    }

    /// Serves the fake at `/mcp` of a new wiremock server.
    pub async fn start(self) -> MockServer {
        let server = MockServer::start().await;
        self.mount(&server).await;
        server
    }

    pub async fn mount(self, server: &MockServer) {
        Mock::given(method("POST"))
            .and(path("/mcp"))
            .respond_with(move |r: &Request| self.respond(r))
            .mount(server)
            .await;
    }
}

pub fn url(server: &MockServer) -> String {
    format!("{}/mcp", server.uri())
}

/// Mounts protected resource metadata and authorization server metadata for an OAuth chain
/// on the same server (`resource` as given; the issuer is the server's origin).
pub async fn mount_oauth(server: &MockServer, resource: &str, s256: bool) {
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource/mcp"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resource": resource,
            "authorization_servers": [issuer],
        })))
        .mount(server)
        .await;
    let methods = if s256 {
        json!(["S256"])
    } else {
        json!(["plain"])
    };
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "registration_endpoint": format!("{issuer}/register"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": methods,
        })))
        .mount(server)
        .await;
}

pub fn vendor(report: &Report, vendor: Vendor) -> &VendorReport {
    report
        .vendor(vendor)
        .unwrap_or_else(|| panic!("no {vendor} report"))
}

/// The status of a check, with the whole report in the panic message when absent.
pub fn status(report: &Report, v: Vendor, id: CheckId) -> Status {
    vendor(report, v)
        .check(id)
        .map(|c| c.status)
        .unwrap_or_else(|| {
            panic!(
                "no {} check for {v}: {}",
                id.as_str(),
                serde_json::to_string_pretty(report).unwrap()
            )
        })
}

pub fn why(report: &Report, v: Vendor, id: CheckId) -> String {
    vendor(report, v)
        .check(id)
        .map(|c| c.why.clone())
        .unwrap_or_default()
}

/// The failing check ids of a vendor.
pub fn failing(report: &Report, v: Vendor) -> Vec<&'static str> {
    vendor(report, v)
        .failures()
        .map(|c| c.id.as_str())
        .collect()
}
