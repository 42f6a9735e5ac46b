//! What may be logged: URL origins only (path and query dropped, as OpenAI does), never a
//! header value or token.

/// The origin of a URL (`scheme://host[:port]`), or `<invalid url>`.
///
/// ```
/// assert_eq!(mcpwire_providers::origin::origin("https://mcp.example.com/t/ACME-KEY?k=1"), "https://mcp.example.com");
/// ```
pub fn origin(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "<invalid url>".to_owned(),
    }
}
