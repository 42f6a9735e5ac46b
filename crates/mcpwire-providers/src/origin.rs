//! What may be logged: URL origins only (path and query dropped, as OpenAI does), never a
//! header value or token. The rule itself is `mcpwire_auth::redact::origin`, shared with the
//! gateway; this module keeps its public path.

/// The origin of a URL (`scheme://host[:port]`), or `<invalid url>`.
///
/// ```
/// assert_eq!(mcpwire_providers::origin::origin("https://mcp.example.com/t/ACME-KEY?k=1"), "https://mcp.example.com");
/// ```
pub use mcpwire_auth::redact::origin;
