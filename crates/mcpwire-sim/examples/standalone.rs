//! Starts the vendor simulator and a demo MCP server on 127.0.0.1 and keeps them up until
//! Ctrl-C, printing where they are and a request to try (what `mcpwire sim` does).
//!
//! ```sh
//! cargo run -p mcpwire-sim --example standalone -- 8787    # port; 0 or none: any free one
//! ```

use std::process::ExitCode;

#[allow(clippy::print_stdout, clippy::print_stderr)] // an example program prints its URLs
fn main() -> ExitCode {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("standalone: the port: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("standalone: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let running = match mcpwire_sim::run_standalone(port).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("standalone: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("OpenAI Responses:   POST {}", running.openai_url);
        println!("Anthropic Messages: POST {}", running.anthropic_url);
        println!("demo MCP server:    {}", running.demo_mcp_url);
        println!(
            "try: curl -s {} -H 'content-type: application/json' -d '{{\"model\":\"sim\",\"input\":\"call demo.echo {{\\\"text\\\":\\\"hi\\\"}}\",\"tools\":[{{\"type\":\"mcp\",\"server_label\":\"demo\",\"server_url\":\"{}\",\"require_approval\":\"never\"}}]}}'",
            running.openai_url, running.demo_mcp_url
        );
        println!("Ctrl-C stops.");
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
