//! One OpenAI response being produced: the events of a stream (with the recorded quirks) and
//! the output items of the final response, built together.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{PlannedCall, Server, Step, ToolView, needs_approval};
use crate::http::Sink;
use crate::ids;
use crate::mcp::{self, Failure, Session};
use crate::scripted_model::{self, Outcome};
use crate::state::Shared;

/// One response being produced.
pub(super) struct Turn {
    pub(super) shared: Arc<Shared>,
    pub(super) sink: Sink,
    pub(super) seq: u64,
    pub(super) output: Vec<Value>,
    pub(super) skeleton: Value,
    pub(super) servers: Vec<Server>,
    pub(super) sessions: HashMap<String, Session>,
    pub(super) input_tokens: u64,
}

impl Turn {
    async fn event(&mut self, name: &str, fields: Value) {
        if !self.sink.is_streaming() {
            return;
        }
        let mut data = Map::new();
        data.insert("type".into(), Value::from(name));
        data.insert("sequence_number".into(), Value::from(self.seq));
        if let Value::Object(fields) = fields {
            data.extend(fields);
        }
        self.seq += 1;
        self.sink.send(name, &Value::Object(data)).await;
    }

    fn response(&self, status: &str, usage: Value) -> Value {
        let mut response = self.skeleton.clone();
        if let Some(obj) = response.as_object_mut() {
            obj.insert("status".into(), Value::from(status));
            obj.insert("output".into(), Value::Array(self.output.clone()));
            obj.insert("usage".into(), usage);
        }
        response
    }

    pub(super) async fn run(mut self, newly_listed: Vec<usize>, steps: Vec<Step>) -> Value {
        let started = self.response("in_progress", Value::Null);
        self.event("response.created", json!({"response": started}))
            .await;
        self.event("response.in_progress", json!({"response": started}))
            .await;

        self.listings(newly_listed).await;

        let mut summary: Vec<(String, String, Outcome)> = Vec::new();
        let mut paused = false;
        for step in steps {
            match step {
                Step::Denied { server, tool } => summary.push((server, tool, Outcome::Denied)),
                Step::Call(call) => {
                    let Some(server) = self.servers.iter().position(|s| s.label == call.server)
                    else {
                        summary.push((call.server, call.tool, Outcome::NoServer));
                        continue;
                    };
                    let view = self.servers[server]
                        .tools
                        .iter()
                        .find(|t| t.name == call.tool)
                        .cloned();
                    if call.approval_request_id.is_none()
                        && let Some(view) = &view
                        && needs_approval(self.servers[server].approval.as_ref(), view)
                    {
                        let item = json!({
                            "id": ids::hex_id("mcpr_", 50),
                            "type": "mcp_approval_request",
                            "arguments": call.arguments,
                            "name": call.tool,
                            "server_label": call.server,
                        });
                        let index = self.output.len();
                        self.output.push(item.clone());
                        self.event(
                            "response.output_item.added",
                            json!({"output_index": index, "item": item}),
                        )
                        .await;
                        self.event(
                            "response.output_item.done",
                            json!({"output_index": index, "item": item}),
                        )
                        .await;
                        paused = true;
                        break;
                    }
                    let outcome = self.call(server, view.is_some(), &call).await;
                    summary.push((call.server, call.tool, outcome));
                }
            }
        }

        let mut output_tokens = 1;
        if !paused {
            let text = scripted_model::summary(&summary);
            output_tokens += (text.len() / 4) as u64;
            self.message(&text).await;
        }
        for (_, session) in self.sessions.drain() {
            session.close();
        }
        let usage = json!({
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + output_tokens,
        });
        let completed = self.response("completed", usage);
        self.event("response.completed", json!({"response": completed}))
            .await;
        completed
    }

    /// The `mcp_list_tools` items of the servers listed now. As the real API does with several
    /// servers (recorded 2026-06): every listing is added up front, the `completed` events come
    /// out of index order, and only the last listing gets `response.output_item.done`;
    /// `response.completed` carries them all.
    async fn listings(&mut self, newly_listed: Vec<usize>) {
        let mut listed = Vec::new();
        for i in newly_listed {
            let label = self.servers[i].label.clone();
            let tools: Vec<Value> = self.servers[i].tools.iter().map(ToolView::json).collect();
            let item_id = ids::hex_id("mcpl_", 50);
            let index = self.output.len();
            let empty = json!({"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": []});
            let full = json!({"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": tools});
            self.output.push(full.clone());
            self.event(
                "response.output_item.added",
                json!({"output_index": index, "item": empty}),
            )
            .await;
            let progress = json!({"output_index": index, "item_id": item_id});
            self.event("response.mcp_list_tools.in_progress", progress.clone())
                .await;
            listed.push((progress, index, full));
        }
        for (progress, _, _) in listed.iter().rev() {
            self.event("response.mcp_list_tools.completed", progress.clone())
                .await;
        }
        if let Some((_, index, full)) = listed.pop() {
            self.event(
                "response.output_item.done",
                json!({"output_index": index, "item": full}),
            )
            .await;
        }
    }

    async fn call(&mut self, server: usize, known: bool, call: &PlannedCall) -> Outcome {
        let item_id = ids::hex_id("mcp_", 50);
        let index = self.output.len();
        let item = |status: &str, arguments: &str, error: Value, output: Value| {
            json!({
                "id": item_id,
                "type": "mcp_call",
                "status": status,
                "approval_request_id": call.approval_request_id,
                "arguments": arguments,
                "error": error,
                "name": call.tool,
                "output": output,
                "server_label": call.server,
            })
        };
        self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": item("in_progress", "", Value::Null, Value::Null)}),
        )
        .await;
        let progress = json!({"output_index": index, "item_id": item_id});
        self.event("response.mcp_call.in_progress", progress.clone())
            .await;
        self.event(
            "response.mcp_call_arguments.delta",
            json!({"output_index": index, "item_id": item_id, "delta": call.arguments, "obfuscation": ids::obfuscation(8)}),
        )
        .await;
        // The real API sends `in_progress` a second time here (recorded 2025-12).
        self.event("response.mcp_call.in_progress", progress.clone())
            .await;
        self.event(
            "response.mcp_call_arguments.done",
            json!({"output_index": index, "item_id": item_id, "arguments": call.arguments}),
        )
        .await;

        let result = self.execute(server, known, call).await;
        let (done, outcome, event) = match result {
            Ok(result) if result.is_error == Some(true) => {
                let content = mcp::content_json(&result);
                let text = mcp::content_text(&result);
                (
                    item(
                        "failed",
                        &call.arguments,
                        json!({"type": "mcp_tool_execution_error", "content": content}),
                        Value::Null,
                    ),
                    Outcome::Failed(text),
                    "response.mcp_call.failed",
                )
            }
            Ok(result) => {
                let text = mcp::content_text(&result);
                (
                    item(
                        "completed",
                        &call.arguments,
                        Value::Null,
                        Value::from(text.clone()),
                    ),
                    Outcome::Returned(text),
                    "response.mcp_call.completed",
                )
            }
            Err(failure) => {
                let error = match &failure {
                    Failure::Protocol { code, message } => {
                        json!({"type": "mcp_protocol_error", "code": code, "message": message})
                    }
                    other => {
                        json!({"type": "http_error", "code": other.status(), "message": other.message()})
                    }
                };
                (
                    item("failed", &call.arguments, error, Value::Null),
                    Outcome::Failed(failure.message()),
                    "response.mcp_call.failed",
                )
            }
        };
        self.output.push(done.clone());
        self.event(event, progress).await;
        self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        )
        .await;
        outcome
    }

    async fn execute(
        &mut self,
        server: usize,
        known: bool,
        call: &PlannedCall,
    ) -> Result<rmcp::model::CallToolResult, Failure> {
        let arguments = match serde_json::from_str::<Value>(&call.arguments) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(Failure::Protocol {
                    code: -32602,
                    message: format!(
                        "Invalid arguments for tool {}: expected a JSON object",
                        call.tool
                    ),
                });
            }
            Err(e) => {
                return Err(Failure::Protocol {
                    code: -32602,
                    message: format!("Invalid arguments for tool {}: {e}", call.tool),
                });
            }
        };
        if !known {
            return Err(Failure::Protocol {
                code: -32602,
                message: format!(
                    "Tool '{}' not found on MCP server '{}'",
                    call.tool, self.servers[server].label
                ),
            });
        }
        let label = self.servers[server].label.clone();
        if !self.sessions.contains_key(&label) {
            let session = Session::connect(
                &self.shared.http,
                &self.servers[server].target,
                self.shared.timeout,
            )
            .await?;
            self.sessions.insert(label.clone(), session);
        }
        match self.sessions.get(&label) {
            Some(session) => session.call(&call.tool, arguments).await,
            None => Err(Failure::Other("no session".to_owned())),
        }
    }

    async fn message(&mut self, text: &str) {
        let item_id = ids::hex_id("msg_", 50);
        let index = self.output.len();
        let part =
            |t: &str| json!({"type": "output_text", "annotations": [], "logprobs": [], "text": t});
        self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": {"id": item_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
        )
        .await;
        self.event(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part("")}),
        )
        .await;
        for chunk in scripted_model::chunks(text) {
            self.event(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": chunk, "logprobs": [], "obfuscation": ids::obfuscation(6)}),
            )
            .await;
        }
        self.event(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}),
        )
        .await;
        self.event(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part(text)}),
        )
        .await;
        let done = json!({"id": item_id, "type": "message", "status": "completed", "content": [part(text)], "role": "assistant"});
        self.output.push(done.clone());
        self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        )
        .await;
    }
}
