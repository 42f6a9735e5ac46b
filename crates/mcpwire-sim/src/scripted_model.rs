//! The scripted stand-in for the model: directives in the prompt say which tools to call.
//!
//! One directive per line: `call <server>.<tool> <json-arguments>` (arguments default to
//! `{}`). Every other line is ignored. The final answer summarises what happened, one line per
//! call (`demo.add returned 5`).

/// One `call` directive.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Directive {
    pub(crate) server: String,
    pub(crate) tool: String,
    /// The argument text as written (may be invalid JSON).
    pub(crate) arguments: String,
}

/// The directives of a prompt, in order.
pub(crate) fn directives(prompt: &str) -> Vec<Directive> {
    prompt.lines().filter_map(directive).collect()
}

fn directive(line: &str) -> Option<Directive> {
    let rest = line.trim().strip_prefix("call ")?.trim_start();
    let (target, arguments) = match rest.find(char::is_whitespace) {
        Some(at) => (&rest[..at], rest[at..].trim()),
        None => (rest, ""),
    };
    let (server, tool) = target.split_once('.')?;
    if server.is_empty() || tool.is_empty() {
        return None;
    }
    Some(Directive {
        server: server.to_owned(),
        tool: tool.to_owned(),
        arguments: if arguments.is_empty() {
            "{}".to_owned()
        } else {
            arguments.to_owned()
        },
    })
}

/// What one step of the turn produced, for the summary.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The call returned this text.
    Returned(String),
    /// The call failed.
    Failed(String),
    /// The user denied the call.
    Denied,
    /// The directive named a server the request does not have.
    NoServer,
}

/// The final answer: one line per step.
pub(crate) fn summary(steps: &[(String, String, Outcome)]) -> String {
    if steps.is_empty() {
        return "No MCP tool was called.".to_owned();
    }
    steps
        .iter()
        .map(|(server, tool, outcome)| match outcome {
            Outcome::Returned(text) => format!("{server}.{tool} returned {text}"),
            Outcome::Failed(why) => format!("{server}.{tool} failed: {why}"),
            Outcome::Denied => format!("{server}.{tool} was not approved"),
            Outcome::NoServer => format!("{server}.{tool}: no MCP server named {server}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits text into word-sized chunks for streaming.
pub(crate) fn chunks(text: &str) -> Vec<&str> {
    let parts: Vec<&str> = text.split_inclusive(' ').collect();
    if parts.is_empty() { vec![""] } else { parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        let d =
            directives("hello\ncall demo.add {\"a\":2,\"b\":3}\n  call x.echo\ncall nodot {}\n");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].server, "demo");
        assert_eq!(d[0].tool, "add");
        assert_eq!(d[0].arguments, "{\"a\":2,\"b\":3}");
        assert_eq!(d[1].arguments, "{}");
    }

    #[test]
    fn chunks_rejoin() {
        let text = "demo.add returned 5\nok";
        assert_eq!(chunks(text).concat(), text);
    }
}
