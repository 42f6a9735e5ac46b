//! The loopback redirect listener for interactive logins (RFC 8252 §7.3): bound to
//! `127.0.0.1` only, one tiny HTTP/1.1 exchange per callback.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::debug;

use crate::error::{Error, Result};

/// Query parameters of a callback.
pub type CallbackParams = Vec<(String, String)>;

/// A listener on `127.0.0.1:<port>` that receives the authorization redirect.
#[derive(Debug)]
pub struct CallbackListener {
    listener: TcpListener,
    port: u16,
}

const PAGE: &str = "<!doctype html><title>mcpwire</title><p>Authorization received. You can close this window.</p>";

impl CallbackListener {
    /// Binds `127.0.0.1:port` (`0` = an ephemeral port).
    pub async fn bind(port: u16) -> Result<Self> {
        let listener =
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| Error::Callback {
                    message: format!("cannot bind 127.0.0.1:{port}: {e}"),
                })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Callback {
                message: e.to_string(),
            })?
            .port();
        Ok(CallbackListener { listener, port })
    }

    /// The bound address (always 127.0.0.1).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// The redirect URI to register and send: `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Waits for the next request to `/callback` and returns its query parameters. Other
    /// paths get a 404 and are skipped.
    pub async fn next_callback(&self, timeout: Duration) -> Result<CallbackParams> {
        tokio::time::timeout(timeout, self.accept_loop())
            .await
            .map_err(|_| Error::Callback {
                message: "timed out waiting for the authorization redirect".into(),
            })?
    }

    async fn accept_loop(&self) -> Result<CallbackParams> {
        loop {
            let (mut sock, _) = self.listener.accept().await.map_err(|e| Error::Callback {
                message: e.to_string(),
            })?;
            let mut buf = vec![0u8; 8192];
            let mut n = 0;
            while let Ok(read) = sock.read(&mut buf[n..]).await {
                if read == 0 {
                    break;
                }
                n += read;
                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") || n == buf.len() {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..n]);
            let target = head
                .lines()
                .next()
                .and_then(|l| {
                    let mut it = l.split(' ');
                    (it.next() == Some("GET")).then(|| it.next()).flatten()
                })
                .unwrap_or("")
                .to_owned();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path != "/callback" {
                debug!("ignoring non-callback request on the loopback listener");
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
                continue;
            }
            let params: CallbackParams = url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n{PAGE}",
                PAGE.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
            return Ok(params);
        }
    }
}
