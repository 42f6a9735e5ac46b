//! The listing checks, pure: tool names, input schemas, size and number, listing time, each
//! against one vendor's [`VendorRules`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::report::{Check, CheckId, Status};
use crate::rules::{Basis, Limit, VendorRules};
use crate::{bytes, human, plural, remote};

/// The tools as listed, all pages.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) tools: Vec<Value>,
    /// The `tools` arrays as sent, in bytes.
    pub(crate) bytes: usize,
    pub(crate) pages: usize,
    pub(crate) elapsed: Duration,
}

fn name_of(tool: &Value) -> Option<&str> {
    tool.get("name").and_then(Value::as_str)
}

fn label(tool: &Value, index: usize) -> String {
    match name_of(tool) {
        Some(n) => format!("`{}`", remote(n, 80)),
        None => format!("tool #{index}"),
    }
}

fn tag(basis: Basis) -> &'static str {
    match basis {
        Basis::Inferred => " (inferred)",
        _ => "",
    }
}

/// Every name against the vendor's pattern and length; duplicates warn.
pub(crate) fn names(rules: &VendorRules, tools: &[Value]) -> Check {
    let mut items = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        match name_of(tool) {
            None => items.push(format!("tool #{i}: no name")),
            Some(name) => {
                if let Some(problem) = rules.name_problem(name) {
                    items.push(format!("{}: {problem}", label(tool, i)));
                }
            }
        }
    }
    let (_, basis, _) = rules.name_max;
    if !items.is_empty() {
        let why = format!(
            "{} of {} tool names refused: {}{}",
            items.len(),
            tools.len(),
            items[0],
            tag(basis)
        );
        return Check::new(CheckId::ToolNames, Status::Fail, why).with_items(items);
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for name in tools.iter().filter_map(name_of) {
        *seen.entry(name).or_default() += 1;
    }
    let dups: Vec<String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(name, n)| format!("`{}` listed {n} times", remote(name, 80)))
        .collect();
    if !dups.is_empty() {
        let why = format!(
            "duplicate tool names: {} (MCP: names should be unique; the model may never call one of them)",
            dups[0]
        );
        return Check::new(CheckId::ToolNames, Status::Warn, why).with_items(dups);
    }
    let (max, _, _) = rules.name_max;
    Check::new(
        CheckId::ToolNames,
        Status::Pass,
        format!(
            "every name ({}) fits letters, digits, `_`, `-` and {max} characters",
            tools.len()
        ),
    )
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why one input schema is refused, if it is.
fn schema_problem(rules: &VendorRules, tool: &Value) -> Option<(String, Basis)> {
    let Some(schema) = tool.get("inputSchema") else {
        return Some(("no inputSchema".to_owned(), Basis::Documented));
    };
    let Value::Object(map) = schema else {
        return Some((
            format!(
                "inputSchema is {}, not a JSON Schema object",
                json_kind(schema)
            ),
            Basis::Documented,
        ));
    };
    match map.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        Some(Value::String(t)) => {
            return Some((
                format!("inputSchema type is \"{}\", not \"object\"", remote(t, 40)),
                Basis::Documented,
            ));
        }
        Some(other) => {
            return Some((
                format!("inputSchema type is {}, not \"object\"", json_kind(other)),
                Basis::Documented,
            ));
        }
        None => {
            return Some((
                "inputSchema has no type \"object\"".to_owned(),
                Basis::Documented,
            ));
        }
    }
    if let Some(props) = map.get("properties")
        && !props.is_object()
    {
        return Some((
            format!(
                "inputSchema properties is {}, not an object",
                json_kind(props)
            ),
            Basis::Documented,
        ));
    }
    let (refused, basis, _) = rules.schema_no_root_combinators;
    if refused
        && let Some(k) = ["anyOf", "oneOf", "allOf"]
            .into_iter()
            .find(|k| map.contains_key(*k))
    {
        return Some((format!("`{k}` at the top level of inputSchema"), basis));
    }
    None
}

/// Every input schema against the vendor's constraints.
pub(crate) fn schemas(rules: &VendorRules, tools: &[Value]) -> Check {
    let mut items = Vec::new();
    let mut basis = Basis::Documented;
    for (i, tool) in tools.iter().enumerate() {
        if let Some((problem, b)) = schema_problem(rules, tool) {
            if b == Basis::Inferred {
                basis = b;
            }
            items.push(format!("{}: {problem}", label(tool, i)));
        }
    }
    if items.is_empty() {
        return Check::new(
            CheckId::ToolSchemas,
            Status::Pass,
            format!("{} of type object", plural(tools.len(), "input schema")),
        );
    }
    let why = format!(
        "{} of {} input schemas refused: {}{}",
        items.len(),
        tools.len(),
        items[0],
        tag(basis)
    );
    Check::new(CheckId::ToolSchemas, Status::Fail, why).with_items(items)
}

fn against<T: PartialOrd + Copy>(value: T, limit: &Limit<T>) -> Status {
    if value > limit.fail {
        Status::Fail
    } else if value > limit.warn {
        Status::Warn
    } else {
        Status::Pass
    }
}

/// The size of the listing and the number of tools.
pub(crate) fn size(rules: &VendorRules, listing: &Listing) -> Check {
    let n = listing.tools.len();
    let pages = if listing.pages > 1 {
        format!(" in {} pages", listing.pages)
    } else {
        String::new()
    };
    let by_size = against(listing.bytes, &rules.listing_bytes);
    let size_why = match by_size {
        Status::Fail => format!(
            "{} of tool definitions: over the {} a model context can take{}",
            bytes(listing.bytes),
            bytes(rules.listing_bytes.fail),
            tag(rules.listing_bytes.basis)
        ),
        Status::Warn => format!(
            "{} of tool definitions, sent to the model on every request (above {}){}",
            bytes(listing.bytes),
            bytes(rules.listing_bytes.warn),
            tag(rules.listing_bytes.basis)
        ),
        Status::Pass => String::new(),
    };
    let (by_count, count_why) = match &rules.tool_count {
        Some(limit) => match against(n, limit) {
            Status::Pass => (Status::Pass, String::new()),
            s => (
                s,
                format!(
                    "{n} tools: above the {} tools a request may carry; narrow them with allowed_tools{}",
                    limit.warn,
                    tag(limit.basis)
                ),
            ),
        },
        None => (Status::Pass, String::new()),
    };
    let status = by_size.max(by_count);
    let why = match (size_why.is_empty(), count_why.is_empty()) {
        (true, true) => format!("{}, {}{pages}", plural(n, "tool"), bytes(listing.bytes)),
        (false, true) => size_why,
        (true, false) => count_why,
        (false, false) if by_size >= by_count => format!("{size_why}; {count_why}"),
        (false, false) => format!("{count_why}; {size_why}"),
    };
    Check::new(CheckId::ListingSize, status, why)
}

/// How long a step took, against a limit.
pub(crate) fn latency(id: CheckId, what: &str, limit: &Limit<Duration>, took: Duration) -> Check {
    let status = against(took, limit);
    let why = match status {
        Status::Pass => format!("{what} in {}", human(took)),
        Status::Warn => format!(
            "{what} in {}: slower than {}; vendors' timeouts are not documented{}",
            human(took),
            human(limit.warn),
            tag(limit.basis)
        ),
        Status::Fail => format!(
            "{what} in {}: a vendor is unlikely to wait more than {}{}",
            human(took),
            human(limit.fail),
            tag(limit.basis)
        ),
    };
    Check::new(id, status, why).with_elapsed(took)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::rules_for;
    use mcpwire_schema::event::Vendor;
    use serde_json::json;

    fn anthropic() -> &'static VendorRules {
        rules_for(Vendor::Anthropic).unwrap()
    }

    #[test]
    fn names_fail_and_list_every_offender() {
        let tools = vec![
            json!({"name": "ok_tool", "inputSchema": {"type": "object"}}),
            json!({"name": "get data", "inputSchema": {"type": "object"}}),
            json!({"name": "a.b", "inputSchema": {"type": "object"}}),
        ];
        let c = names(anthropic(), &tools);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.why
                .starts_with("2 of 3 tool names refused: `get data`: contains a space"),
            "{}",
            c.why
        );
        assert_eq!(c.items.len(), 2);
        let ok = names(anthropic(), &tools[..1]);
        assert_eq!(ok.status, Status::Pass);
    }

    #[test]
    fn duplicate_names_warn() {
        let t = json!({"name": "x", "inputSchema": {"type": "object"}});
        let c = names(anthropic(), &[t.clone(), t]);
        assert_eq!(c.status, Status::Warn);
    }

    #[test]
    fn schemas() {
        let openai = rules_for(Vendor::OpenAi).unwrap();
        let cases = [
            (json!({"name": "a"}), Some("no inputSchema")),
            (
                json!({"name": "a", "inputSchema": "object"}),
                Some("inputSchema is a string"),
            ),
            (
                json!({"name": "a", "inputSchema": {"type": "array"}}),
                Some("type is \"array\""),
            ),
            (json!({"name": "a", "inputSchema": {}}), Some("no type")),
            (
                json!({"name": "a", "inputSchema": {"type": "object", "properties": []}}),
                Some("properties is an array"),
            ),
            (
                json!({"name": "a", "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}}),
                None,
            ),
        ];
        for (tool, want) in cases {
            let got = super::schemas(openai, std::slice::from_ref(&tool));
            match want {
                Some(w) => {
                    assert_eq!(got.status, Status::Fail, "{tool}");
                    assert!(got.why.contains(w), "{} lacks {w}", got.why);
                }
                None => assert_eq!(got.status, Status::Pass, "{tool}"),
            }
        }
        let root_any =
            json!({"name": "a", "inputSchema": {"type": "object", "anyOf": [{"required": ["x"]}]}});
        assert_eq!(
            super::schemas(openai, std::slice::from_ref(&root_any)).status,
            Status::Pass
        );
        let c = super::schemas(anthropic(), &[root_any]);
        assert_eq!(c.status, Status::Fail);
        assert!(c.why.contains("`anyOf` at the top level"));
    }

    #[test]
    fn size_and_count() {
        let openai = rules_for(Vendor::OpenAi).unwrap();
        let small = Listing {
            tools: vec![json!({}); 3],
            bytes: 900,
            pages: 1,
            elapsed: Duration::ZERO,
        };
        let c = size(openai, &small);
        assert_eq!((c.status, c.why.as_str()), (Status::Pass, "3 tools, 900 B"));
        let big = Listing {
            tools: vec![json!({}); 3],
            bytes: 2 * 1024 * 1024,
            pages: 2,
            elapsed: Duration::ZERO,
        };
        assert_eq!(size(openai, &big).status, Status::Fail);
        let many = Listing {
            tools: vec![json!({}); 200],
            bytes: 50_000,
            pages: 1,
            elapsed: Duration::ZERO,
        };
        let c = size(openai, &many);
        assert_eq!(c.status, Status::Warn);
        assert!(c.why.starts_with("200 tools"), "{}", c.why);
        assert_eq!(size(anthropic(), &many).status, Status::Pass);
    }

    #[test]
    fn latency_thresholds() {
        let l = &anthropic().listing_time;
        assert_eq!(
            latency(
                CheckId::ListingLatency,
                "listed",
                l,
                Duration::from_millis(20)
            )
            .status,
            Status::Pass
        );
        assert_eq!(
            latency(CheckId::ListingLatency, "listed", l, Duration::from_secs(4)).status,
            Status::Warn
        );
        assert_eq!(
            latency(
                CheckId::ListingLatency,
                "listed",
                l,
                Duration::from_secs(11)
            )
            .status,
            Status::Fail
        );
    }
}
