//! An authorization server's token endpoint that rotates refresh tokens and, as real ones do,
//! revokes the whole family when a refresh token is presented twice. It answers after
//! `delay`; a client that goes away before then has refreshed nothing (the refresh is not
//! processed), so a replica killed mid-refresh cannot have consumed the token.
//!
//! A small hand-written HTTP/1.1 server: the one thing it must notice, a client that hangs
//! up while waiting, is easiest to see on the raw socket.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
pub struct Rotation {
    /// The refresh token that is valid now.
    pub current: String,
    /// Refreshes answered (each issued `at-N` / `rt-N`).
    pub issued: u32,
    /// Refresh tokens presented after they were rotated away.
    pub reused: Vec<String>,
    pub revoked: bool,
    /// Refresh requests received (answered or not).
    pub received: u32,
}

pub struct RotatingAs {
    pub url: String,
    pub state: Arc<Mutex<Rotation>>,
}

impl RotatingAs {
    pub async fn start(delay: Duration) -> RotatingAs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(Rotation {
            current: "rt-0".into(),
            ..Rotation::default()
        }));
        let s = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(tcp, s.clone(), delay));
            }
        });
        RotatingAs { url, state }
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.url)
    }
}

async fn serve(mut tcp: TcpStream, state: Arc<Mutex<Rotation>>, delay: Duration) {
    let mut buf = Vec::new();
    loop {
        // Read one request: head, then content-length bytes.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
        buf.drain(..head_end + len);
        let presented = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("refresh_token="))
            .map(|v| v.replace("%2D", "-"))
            .unwrap_or_default();
        state.lock().unwrap().received += 1;
        // Wait, watching for the client to hang up.
        let mut probe = [0u8; 1];
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = tcp.read(&mut probe) => return,
        }
        let (status, json) = {
            let mut st = state.lock().unwrap();
            if st.revoked {
                (400, r#"{"error":"invalid_grant"}"#.to_owned())
            } else if presented == st.current {
                st.issued += 1;
                st.current = format!("rt-{}", st.issued);
                (
                    200,
                    format!(
                        r#"{{"access_token":"at-fleet-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-{n}"}}"#,
                        n = st.issued
                    ),
                )
            } else {
                st.reused.push(presented.clone());
                st.revoked = true;
                (400, r#"{"error":"invalid_grant"}"#.to_owned())
            }
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
            json.len()
        );
        if tcp.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
