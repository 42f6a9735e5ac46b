//! The loopback redirect listener for interactive logins (RFC 8252 §7.3): bound to
//! `127.0.0.1` only, one tiny HTTP/1.1 exchange per callback.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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

const PAGE_OK: &str = "<!doctype html><title>mcpwire</title><p>Authorization received. You can close this window.</p>";
const PAGE_STATE: &str = "<!doctype html><title>mcpwire</title><p>This authorization response does not belong to the login in progress (wrong or missing state) and was ignored.</p>";
const PAGE_DENIED: &str = "<!doctype html><title>mcpwire</title><p>Authorization was denied. You can close this window.</p>";
const PAGE_FAILED: &str = "<!doctype html><title>mcpwire</title><p>Authorization did not complete; see the terminal for the reason.</p>";

/// One callback request, held open until the flow knows its outcome, so the browser is only
/// told "Authorization received" when the response was accepted.
#[derive(Debug)]
pub struct Callback {
    params: CallbackParams,
    sock: TcpStream,
}

impl Callback {
    /// The query parameters.
    pub fn params(&self) -> &CallbackParams {
        &self.params
    }

    /// Answers the browser: a success page for `Ok`, else a 400 error page that says what
    /// kind of failure it was (never any text from the request or the servers).
    pub async fn respond(mut self, outcome: std::result::Result<(), &Error>) {
        let (status, page) = match outcome {
            Ok(()) => ("200 OK", PAGE_OK),
            Err(Error::StateMismatch) => ("400 Bad Request", PAGE_STATE),
            Err(Error::AuthorizationDenied { .. }) => ("400 Bad Request", PAGE_DENIED),
            Err(_) => ("400 Bad Request", PAGE_FAILED),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n{page}",
            page.len()
        );
        let _ = self.sock.write_all(resp.as_bytes()).await;
        let _ = self.sock.shutdown().await;
    }
}

impl CallbackListener {
    /// Binds `127.0.0.1:port` (`0` = an ephemeral port).
    pub async fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| Error::callback(format!("cannot bind 127.0.0.1:{port}"), Some(e)))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::callback("cannot read the bound address", Some(e)))?
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

    /// Waits for the next request to `/callback` and returns it, unanswered: reply with
    /// [`Callback::respond`] once the response is validated. Other paths get a 404 and are
    /// skipped.
    pub async fn next_callback(&self, timeout: Duration) -> Result<Callback> {
        tokio::time::timeout(timeout, self.accept_loop())
            .await
            .map_err(|_| {
                Error::callback("timed out waiting for the authorization redirect", None)
            })?
    }

    async fn accept_loop(&self) -> Result<Callback> {
        loop {
            let (mut sock, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| Error::callback("accepting a connection", Some(e)))?;
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
            return Ok(Callback { params, sock });
        }
    }
}
