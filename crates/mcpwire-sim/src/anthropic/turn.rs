//! One Anthropic message being produced: the stream's events (padded as recorded) and the
//! content blocks of the final message, built together.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::Server;
use crate::http::Sink;
use crate::ids;
use crate::mcp::{self, Failure, Session};
use crate::scripted_model::{self, Outcome};
use crate::state::Shared;

pub(super) struct Turn {
    pub(super) shared: Arc<Shared>,
    pub(super) sink: Sink,
    pub(super) content: Vec<Value>,
    pub(super) listings: bool,
    pub(super) servers: Vec<Server>,
    pub(super) sessions: HashMap<String, Session>,
    pub(super) id: String,
    pub(super) model: String,
    pub(super) input_tokens: u64,
}

impl Turn {
    async fn event(&self, fields: Value) {
        let name = fields
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // The real API pads its JSON with a varying number of spaces before the final brace.
        let pad = name.len() % 7;
        self.sink.send_padded(&name, &fields, pad).await;
    }

    /// A block that arrives whole in `content_block_start`.
    async fn whole_block(&mut self, block: Value) {
        let index = self.content.len();
        self.content.push(block.clone());
        self.event(json!({"type": "content_block_start", "index": index, "content_block": block}))
            .await;
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;
    }

    fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        })
    }

    pub(super) async fn run(mut self, directives: Vec<scripted_model::Directive>) -> Value {
        self.event(json!({
            "type": "message_start",
            "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": self.input_tokens, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "output_tokens": 1},
            }
        }))
        .await;
        self.event(json!({"type": "ping"})).await;

        if self.listings {
            let listings: Vec<Value> = self
                .servers
                .iter()
                .filter(|s| s.pinned.is_none())
                .map(|s| {
                    let tools: Vec<Value> = s
                        .tools
                        .iter()
                        .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
                        .collect();
                    json!({"type": "mcp_tool_listing", "mcp_server_name": s.name, "tools": tools})
                })
                .collect();
            for listing in listings {
                self.whole_block(listing).await;
            }
        }

        let mut summary: Vec<(String, String, Outcome)> = Vec::new();
        for directive in directives {
            let Some(server) = self.servers.iter().position(|s| s.name == directive.server) else {
                summary.push((directive.server, directive.tool, Outcome::NoServer));
                continue;
            };
            let outcome = self.call(server, &directive).await;
            summary.push((directive.server, directive.tool, outcome));
        }

        let text = scripted_model::summary(&summary);
        let index = self.content.len();
        self.content.push(json!({"type": "text", "text": text}));
        self.event(json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            .await;
        for chunk in scripted_model::chunks(&text) {
            self.event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": chunk}}))
                .await;
        }
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;

        for (_, session) in self.sessions.drain() {
            session.close();
        }
        let output_tokens = 1 + (text.len() / 4) as u64;
        let usage = self.usage(output_tokens);
        self.event(json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": usage,
        }))
        .await;
        self.event(json!({"type": "message_stop"})).await;
        json!({
            "model": self.model,
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "content": self.content,
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": usage,
        })
    }

    async fn call(&mut self, server: usize, directive: &scripted_model::Directive) -> Outcome {
        let parsed: Result<Map<String, Value>, String> =
            match serde_json::from_str::<Value>(&directive.arguments) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err("Invalid tool input: expected a JSON object".to_owned()),
                Err(e) => Err(format!("Invalid tool input: {e}")),
            };
        let input = Value::Object(parsed.clone().unwrap_or_default());
        let use_id = ids::b62_id("mcptoolu_01", 22);
        let index = self.content.len();
        self.content.push(json!({
            "type": "mcp_tool_use", "id": use_id, "name": directive.tool,
            "input": input, "server_name": directive.server,
        }));
        self.event(json!({
            "type": "content_block_start", "index": index,
            "content_block": {"type": "mcp_tool_use", "id": use_id, "name": directive.tool, "input": {}, "server_name": directive.server},
        }))
        .await;
        let input_text = input.to_string();
        let mut pieces = vec![""];
        pieces.extend(split3(&input_text));
        for piece in pieces {
            self.event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}}))
                .await;
        }
        self.event(json!({"type": "content_block_stop", "index": index}))
            .await;

        let result = match parsed {
            Err(why) => Err(Failure::Protocol {
                code: -32602,
                message: why,
            }),
            Ok(arguments) => self.execute(server, &directive.tool, arguments).await,
        };
        let (is_error, blocks, outcome) = match result {
            Ok(result) => {
                let mut blocks: Vec<Value> = mcp::content_json(&result)
                    .into_iter()
                    .filter_map(|c| {
                        c.get("text")
                            .and_then(Value::as_str)
                            .map(|t| json!({"type": "text", "text": t}))
                    })
                    .collect();
                let text = mcp::content_text(&result);
                if blocks.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                if result.is_error == Some(true) {
                    (true, blocks, Outcome::Failed(text))
                } else {
                    (false, blocks, Outcome::Returned(text))
                }
            }
            Err(failure) => {
                let message = match &failure {
                    Failure::Protocol { message, .. } => message.clone(),
                    other => format!("MCP server error: {}", other.message()),
                };
                (
                    true,
                    vec![json!({"type": "text", "text": message})],
                    Outcome::Failed(message),
                )
            }
        };
        self.whole_block(json!({
            "type": "mcp_tool_result", "tool_use_id": use_id, "is_error": is_error, "content": blocks,
        }))
        .await;
        self.event(json!({"type": "ping"})).await;
        outcome
    }

    async fn execute(
        &mut self,
        server: usize,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<rmcp::model::CallToolResult, Failure> {
        let name = self.servers[server].name.clone();
        if !self.servers[server].tools.iter().any(|t| t.name == tool) {
            return Err(Failure::Protocol {
                code: -32602,
                message: format!("Tool '{tool}' not found on MCP server '{name}'"),
            });
        }
        if !self.sessions.contains_key(&name) {
            let session = Session::connect(
                &self.shared.http,
                &self.servers[server].target,
                self.shared.timeout,
            )
            .await?;
            self.sessions.insert(name.clone(), session);
        }
        match self.sessions.get(&name) {
            Some(session) => session.call(tool, arguments).await,
            None => Err(Failure::Other("no session".to_owned())),
        }
    }
}

/// Splits text into up to three pieces at character boundaries.
fn split3(text: &str) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if chars.len() < 3 {
        return vec![text];
    }
    let a = chars[chars.len() / 3];
    let b = chars[2 * chars.len() / 3];
    vec![&text[..a], &text[a..b], &text[b..]]
}
