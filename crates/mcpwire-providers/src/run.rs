//! [`Client::run`]: a request run to its end over as many turns as it needs (OpenAI approvals,
//! Anthropic `pause_turn`), every event handed to the caller as it comes and not kept, under
//! one deadline; a vendor failure after HTTP 200 is an error.

use futures_util::StreamExt;
use mcpwire_normalize::FinalResponse;
use mcpwire_normalize::anthropic as norm_anthropic;
use mcpwire_schema::Maybe;
use mcpwire_schema::anthropic::{ContentBlock, StopReason};
use mcpwire_schema::event::{ErrorInfo, Event, EventBody, Vendor};
use mcpwire_schema::openai::{Item, McpApprovalResponse};
use serde_json::{Map, Value, json};
use tracing::{Instrument, debug, info_span};

use crate::approval::{ApprovalHandler, ApprovalRequest, Decision};
use crate::client::{Client, unsupported};
use crate::error::{Error, ErrorKind};
use crate::origin::origin;
use crate::render::Warning;
use crate::request::{Input, McpRequest, Role};
use crate::retry::Deadline;
use crate::stream::StreamItem;

/// What [`Client::run`] saw over every turn. The events themselves went to the callback only:
/// nothing here grows with the length of a stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The vendor's final response or message of each turn.
    pub responses: Vec<FinalResponse>,
    /// Fields converted or dropped in lossy rendering.
    pub warnings: Vec<Warning>,
}

/// How a turn continues an earlier one (OpenAI approvals, Anthropic `pause_turn`).
#[derive(Debug, Clone)]
pub(crate) enum Continuation {
    /// Anthropic `pause_turn`: the paused assistant content, re-sent as the last message.
    Resume { assistant: Vec<ContentBlock> },
    /// `previous_response_id` + the answers.
    Stored {
        response_id: String,
        answers: Vec<Value>,
    },
    /// `store: false`: the whole history replayed as input items, then the answers.
    Replay { items: Vec<Value> },
}

impl Continuation {
    /// Applies the continuation to a rendered request body.
    pub(crate) fn apply(&self, body: &mut Map<String, Value>) {
        match self {
            Continuation::Stored {
                response_id,
                answers,
            } => {
                body.insert(
                    "previous_response_id".to_owned(),
                    Value::String(response_id.clone()),
                );
                body.insert("input".to_owned(), Value::Array(answers.clone()));
            }
            Continuation::Replay { items } => {
                body.insert("input".to_owned(), Value::Array(items.clone()));
            }
            Continuation::Resume { assistant } => {
                if let Some(Value::Array(messages)) = body.get_mut("messages") {
                    let content = serde_json::to_value(assistant).unwrap_or(Value::Null);
                    messages.push(json!({"role": "assistant", "content": content}));
                }
            }
        }
    }

    /// For an Anthropic continuation, the `mcp_tool_use` blocks already sent, so that results
    /// of those calls are attributed to their server and tool.
    pub(crate) fn context(&self) -> Option<norm_anthropic::Context> {
        let Continuation::Resume { assistant } = self else {
            return None;
        };
        let mut context = norm_anthropic::Context::new();
        for block in assistant {
            context.observe(block);
        }
        Some(context)
    }
}

pub(crate) fn span(vendor: Vendor, request: &McpRequest) -> tracing::Span {
    let servers: Vec<&str> = request.servers.iter().map(|s| s.name.as_str()).collect();
    let origins: Vec<String> = request
        .servers
        .iter()
        .filter_map(|s| s.url.as_deref())
        .map(origin)
        .collect();
    info_span!("mcpwire.request", vendor = %vendor, model = %request.model, servers = %servers.join(","), server_origins = %origins.join(","))
}

impl Client {
    /// Runs the request to its end: streams or not as `request.stream` says, hands every event
    /// to `on_event`, answers OpenAI approval requests with `approvals` and continues (with
    /// `previous_response_id` for stored responses, or by replaying the items when the request
    /// sets `store: false`; never both), re-sending the full server URLs and fresh credentials
    /// every turn. Without a handler, a response that asks for approvals simply ends there
    /// (its last event says `needs_approval`). An Anthropic response that stops with
    /// `pause_turn` (the server-side tool loop hit its limit) is continued by re-sending its
    /// content as the assistant message, as Anthropic documents.
    ///
    /// Every turn shares one deadline ([`Timeouts::total`](crate::Timeouts::total)). When the
    /// vendor reports a failure (an `error` event, `response.failed`, `status: "failed"`), the
    /// events, the error event included, are delivered first and then the run returns an
    /// error with [`ErrorKind::Stream`] or the kind the vendor's error type names.
    pub async fn run(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        approvals: Option<&dyn ApprovalHandler>,
        on_event: &mut (dyn FnMut(&Event<'static>) + Send),
    ) -> Result<RunOutcome, Error> {
        self.run_inner(vendor, request, approvals, on_event)
            .instrument(span(vendor, request))
            .await
    }

    async fn run_inner(
        &self,
        vendor: Vendor,
        request: &McpRequest,
        approvals: Option<&dyn ApprovalHandler>,
        on_event: &mut (dyn FnMut(&Event<'static>) + Send),
    ) -> Result<RunOutcome, Error> {
        if !matches!(vendor, Vendor::OpenAi | Vendor::Anthropic) {
            return Err(unsupported(vendor));
        }
        let deadline = Deadline::after(self.config.timeouts.total);
        let mut outcome = RunOutcome {
            responses: Vec::new(),
            warnings: Vec::new(),
        };
        let replay = request.extra.openai.get("store") == Some(&Value::Bool(false));
        let mut history: Vec<Value> = if replay {
            initial_items(request)
        } else {
            Vec::new()
        };
        let mut continuation: Option<Continuation> = None;
        let max_turns = self.config.max_approval_turns;
        for turn in 0..=max_turns {
            debug!(turn, "turn");
            let mut failure: Option<ErrorInfo> = None;
            let mut deliver = |event: &Event<'static>| {
                if let EventBody::Error { error } = &event.body {
                    failure.get_or_insert_with(|| error.clone());
                }
                on_event(event);
            };
            let final_response = if request.stream {
                let mut stream = self
                    .stream_turn(vendor, request, continuation.as_ref(), deadline)
                    .await?;
                outcome.warnings.append(&mut stream.warnings);
                while let Some(item) = stream.next().await {
                    if let StreamItem::Event(event) = item? {
                        deliver(&event);
                    }
                }
                stream.final_response()
            } else {
                let response = self
                    .send_turn(vendor, request, continuation.as_ref(), deadline)
                    .await?;
                outcome.warnings.extend(response.warnings);
                for event in &response.events {
                    deliver(event);
                }
                Some(response.body)
            };
            if let Some(error) = failure {
                return Err(Error::vendor_failure(
                    vendor,
                    &error.error_type,
                    &error.message,
                ));
            }
            let Some(final_response) = final_response else {
                return Ok(outcome);
            };
            let next = match &final_response {
                FinalResponse::Anthropic(message) => {
                    // `pause_turn`: the server-side tool loop hit its limit; re-send the
                    // assistant content as it is, with the same tools, to let it go on.
                    if message.stop_reason.get() != Some(&StopReason::PauseTurn)
                        || turn == max_turns
                    {
                        None
                    } else {
                        let mut assistant = match continuation.take() {
                            Some(Continuation::Resume { assistant }) => assistant,
                            _ => Vec::new(),
                        };
                        assistant.extend(message.content.iter().cloned());
                        debug!(turn, "pause_turn: continuing");
                        Some(Continuation::Resume { assistant })
                    }
                }
                FinalResponse::OpenAi(response) => {
                    let requests = approval_requests(response);
                    match approvals.filter(|_| !requests.is_empty()) {
                        None => None,
                        Some(_) if turn == max_turns => {
                            return Err(Error::new(
                                ErrorKind::Other,
                                format!("still asking for approvals after {turn} rounds"),
                            )
                            .vendor(vendor));
                        }
                        Some(approvals) => {
                            let answers = answer(approvals, &requests).await;
                            Some(if replay {
                                history.extend(
                                    response
                                        .output
                                        .iter()
                                        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null)),
                                );
                                history.extend(answers);
                                Continuation::Replay {
                                    items: history.clone(),
                                }
                            } else {
                                Continuation::Stored {
                                    response_id: response.id.clone(),
                                    answers,
                                }
                            })
                        }
                    }
                }
                _ => None,
            };
            outcome.responses.push(final_response);
            match next {
                Some(next) => continuation = Some(next),
                None => return Ok(outcome),
            }
        }
        Ok(outcome)
    }
}

/// Asks the handler about every request; the answers as input items.
async fn answer(approvals: &dyn ApprovalHandler, requests: &[ApprovalRequest]) -> Vec<Value> {
    let mut answers = Vec::new();
    for req in requests {
        let decision = approvals.decide(req).await;
        debug!(approval_id = %req.approval_id, server = %req.server, tool = %req.tool, approved = matches!(decision, Decision::Approve), "approval");
        let mut answer = McpApprovalResponse::new(
            req.approval_id.clone(),
            matches!(decision, Decision::Approve),
        );
        if let Decision::Deny {
            reason: Some(reason),
        } = decision
        {
            answer.reason = Maybe::Value(reason);
        }
        answers
            .push(serde_json::to_value(Item::McpApprovalResponse(answer)).unwrap_or(Value::Null));
    }
    answers
}

/// The neutral input as OpenAI input items (for replaying history with `store: false`).
fn initial_items(request: &McpRequest) -> Vec<Value> {
    match &request.input {
        Input::Text(text) => {
            vec![json!({"type": "message", "role": "user", "content": text})]
        }
        Input::Messages(messages) => messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::Assistant => "assistant",
                    _ => "user",
                };
                json!({"type": "message", "role": role, "content": m.text})
            })
            .collect(),
    }
}

/// The approval requests a completed OpenAI response ends with (those no call answers yet).
fn approval_requests(response: &mcpwire_schema::openai::Response) -> Vec<ApprovalRequest> {
    let answered: Vec<&str> = response
        .output
        .iter()
        .filter_map(|item| match item {
            Item::McpCall(call) => call.approval_request_id.get().map(String::as_str),
            Item::McpApprovalResponse(r) => Some(r.approval_request_id.as_str()),
            _ => None,
        })
        .collect();
    response
        .output
        .iter()
        .filter_map(|item| match item {
            Item::McpApprovalRequest(r) if !answered.contains(&r.id.as_str()) => {
                Some(ApprovalRequest {
                    approval_id: r.id.clone(),
                    server: r.server_label.clone(),
                    tool: r.name.clone(),
                    arguments: serde_json::from_str(&r.arguments)
                        .unwrap_or_else(|_| Value::String(r.arguments.clone())),
                })
            }
            _ => None,
        })
        .collect()
}
