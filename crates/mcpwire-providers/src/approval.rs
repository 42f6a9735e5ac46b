//! Approvals (OpenAI): an async handler answers each `mcp_approval_request`, and the client
//! continues the response with the answers.

use async_trait::async_trait;
use serde_json::Value;

/// A call OpenAI wants approved before it runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// The `mcpr_...` id; the call that follows carries it as `approval_request_id`.
    pub approval_id: String,
    /// The server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The arguments (a JSON value when they parse, else the text as a JSON string).
    pub arguments: Value,
}

/// The answer to an approval request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Run the call.
    Approve,
    /// Do not run it.
    Deny {
        /// Why, for the model.
        reason: Option<String>,
    },
}

/// Answers approval requests.
///
/// ```
/// use mcpwire_providers::approval::{ApprovalHandler, ApprovalRequest, Decision};
///
/// struct OnlyReads;
///
/// #[async_trait::async_trait]
/// impl ApprovalHandler for OnlyReads {
///     async fn decide(&self, request: &ApprovalRequest) -> Decision {
///         if request.tool.starts_with("get_") { Decision::Approve } else { Decision::Deny { reason: None } }
///     }
/// }
/// ```
#[async_trait]
pub trait ApprovalHandler: Send + Sync {
    /// Decides one request.
    async fn decide(&self, request: &ApprovalRequest) -> Decision;
}

/// Approves everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApproveAll;

#[async_trait]
impl ApprovalHandler for ApproveAll {
    async fn decide(&self, _: &ApprovalRequest) -> Decision {
        Decision::Approve
    }
}

/// Denies everything (the response then ends with the model's answer without the calls).
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

#[async_trait]
impl ApprovalHandler for DenyAll {
    async fn decide(&self, _: &ApprovalRequest) -> Decision {
        Decision::Deny { reason: None }
    }
}
