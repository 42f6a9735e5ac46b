//! The state every vendor handler shares: the MCP HTTP client, the per-server timeout and the
//! stored OpenAI responses (for `previous_response_id` and `item_reference`). It imports no
//! handler and not the server, so `openai`, `anthropic` and `server` all depend on it and on
//! nothing of each other's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

/// How many stored responses are kept before the oldest are forgotten.
const MAX_STORED: usize = 10_000;

/// State shared by the handlers.
pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    pub(crate) timeout: Duration,
    store: Mutex<Store>,
}

#[derive(Default)]
struct Store {
    /// Response id → its context (input items, then output items).
    responses: HashMap<String, Vec<Value>>,
    /// Output item id → item, for `item_reference`.
    items: HashMap<String, Value>,
    order: Vec<String>,
}

impl Shared {
    /// State for a simulator whose MCP steps are each bounded by `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Shared {
            http: crate::mcp::http_client(timeout),
            timeout,
            store: Mutex::new(Store::default()),
        }
    }

    pub(crate) fn stored_response(&self, id: &str) -> Option<Vec<Value>> {
        self.store.lock().ok()?.responses.get(id).cloned()
    }

    pub(crate) fn stored_item(&self, id: &str) -> Option<Value> {
        self.store.lock().ok()?.items.get(id).cloned()
    }

    pub(crate) fn store_response(&self, id: &str, mut context: Vec<Value>, response: &Value) {
        let Ok(mut store) = self.store.lock() else {
            return;
        };
        if store.order.len() >= MAX_STORED {
            let old = store.order.remove(0);
            store.responses.remove(&old);
        }
        for item in response
            .get("output")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(item_id) = item.get("id").and_then(Value::as_str) {
                store.items.insert(item_id.to_owned(), item.clone());
            }
            context.push(item.clone());
        }
        store.responses.insert(id.to_owned(), context);
        store.order.push(id.to_owned());
    }
}
