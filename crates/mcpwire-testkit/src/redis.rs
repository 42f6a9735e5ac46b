//! A private `redis-server` for one test (the binary from `MCPWIRE_REDIS_SERVER`, `PATH`,
//! or the usual places): a free 127.0.0.1 port, persistence off unless asked
//! (then in a temp dir), stopped on drop. Tests never touch a Redis they did not start.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` process of one test.
pub struct RedisServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
    dir: PathBuf,
    persist: bool,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MCPWIRE_REDIS_SERVER") {
        return PathBuf::from(p);
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("redis-server");
        if p.exists() {
            return p;
        }
    }
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "redis-server not found: install it (apt-get install redis-server) or run `cargo xtask test`"
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("redis-server test set-up")
        .local_addr()
        .expect("redis-server test set-up")
        .port()
}

impl RedisServer {
    /// Persistence off.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// With an append-only file in a temp dir, so a restart keeps the data.
    pub fn start_persistent() -> Self {
        Self::start_with(true)
    }

    fn start_with(persist: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mcpwire-redis-{}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("redis-server test set-up")
                .subsec_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("redis-server test set-up");
        let mut s = RedisServer {
            port: free_port(),
            child: None,
            dir,
            persist,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(binary());
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args([
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--appendonly", if self.persist { "yes" } else { "no" }])
            .args([
                "--appendfsync",
                "always",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(cmd.spawn().expect("redis-server test set-up"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer on port {}", self.port);
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// Every key in the server, and the keys and then every string, hash and sorted-set
    /// value joined by newlines (what a test searches for secrets in clear text).
    pub async fn keys_and_values(&self) -> (Vec<String>, String) {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect to redis");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut conn)
            .await
            .expect("redis KEYS");
        let mut everything = keys.join("\n");
        for k in &keys {
            let kind: String = redis::cmd("TYPE")
                .arg(k)
                .query_async(&mut conn)
                .await
                .expect("redis read");
            let value: Vec<String> = match kind.as_str() {
                "string" => vec![
                    redis::cmd("GET")
                        .arg(k)
                        .query_async(&mut conn)
                        .await
                        .expect("redis read"),
                ],
                "hash" => redis::cmd("HGETALL")
                    .arg(k)
                    .query_async(&mut conn)
                    .await
                    .expect("redis read"),
                "zset" => redis::cmd("ZRANGE")
                    .arg(k)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .expect("redis read"),
                _ => Vec::new(),
            };
            everything.push_str(&value.join("\n"));
        }
        (keys, everything)
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (SIGTERM, then waits: an append-only file is flushed).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
