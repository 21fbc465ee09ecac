//! What the collector tests share: the real `buyerpath serve` binary started
//! on a free loopback port (ready once it prints its address), and HTTP
//! helpers over ureq. Each test crate uses a part of it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use base64::Engine as _;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The collector's default (public) write key.
pub const KEY: &str = "demo-write-key";

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A collector process on `dir/collector.sqlite` with the example playbook;
/// killed (SIGKILL) when dropped. Its stderr (the fault log) is kept in `log`.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub db: PathBuf,
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the collector with `extra` options and waits until it listens.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let db = dir.join("collector.sqlite");
        let mut child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
            .current_dir(dir)
            .args(["serve", "--addr", "127.0.0.1:0", "--db"])
            .arg(&db)
            .arg("--playbook")
            .arg(root().join("examples/acme/playbook.json"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("buyerpath serve: listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the collector did not start: {}", log.lock().unwrap());
        };
        let addr = url.trim_start_matches("http://").to_string();
        Server {
            child,
            url,
            addr,
            db,
            log,
        }
    }

    /// The log once it holds `needle` (its stderr is read by another thread,
    /// so a line the server wrote may not be here yet), waiting at most 10 s.
    pub fn log_with(&self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.contains(needle) || Instant::now() > until {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that returns every status as a response (no error for 4xx/5xx).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// `Authorization: Basic base64(KEY:)`
pub fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// A response, read whole: JSON bodies parsed, others as a JSON string.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn retry_after(&self) -> Option<String> {
        self.header("retry-after").map(str::to_string)
    }
}

pub fn reply(mut r: ureq::http::Response<ureq::Body>) -> Reply {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = r
        .body_mut()
        .with_config()
        .limit(50_000_000)
        .read_to_string()
        .unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

/// POSTs a JSON body; `key` goes in the Basic header; `headers` are extra.
pub fn post(
    url: &str,
    path: &str,
    body: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    post_raw(url, path, body.as_bytes(), key, headers)
}

/// [`post`] with a body that need not be text.
pub fn post_raw(
    url: &str,
    path: &str,
    body: &[u8],
    key: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = agent()
        .post(format!("{url}{path}"))
        .header("Content-Type", "application/json");
    if let Some(k) = key {
        req = req.header("Authorization", basic(k));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.send(body).unwrap())
}

pub fn get(url: &str, path: &str) -> Reply {
    reply(agent().get(format!("{url}{path}")).call().unwrap())
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn iso(ms: i64) -> String {
    buyerpath::time::iso8601(ms as u64)
}

/// The `trust` column of the event with this messageId, in `table` (`events`
/// or the `events_readable` view).
pub fn trust_of(c: &rusqlite::Connection, table: &str, id: &str) -> String {
    c.query_row(
        &format!("SELECT trust FROM {table} WHERE message_id = ?1"),
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

/// One account of an `/api/accounts` answer, by name.
pub fn account_named(v: &Value, name: &str) -> Value {
    v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} in {v}"))
}

/// A field of `/proc/PID/status`, in MB (`VmHWM`: peak memory, `VmRSS`: now).
#[cfg(target_os = "linux")]
pub fn proc_mb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in {status}"));
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}
