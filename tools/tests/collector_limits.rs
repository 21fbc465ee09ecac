//! `buyerpath serve` under clients that hold resources: a client that never
//! reads its response is cut off after `--write-timeout-ms`, connections past
//! `--max-connections` wait until one closes, slow readers of one view share
//! one copy of it, and static files are streamed (`HEAD` reads none).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

#[cfg(target_os = "linux")]
use common::proc_mb;
use common::{get, iso, now_ms, post, Server, KEY};
use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sends a request on a new connection and returns it, unread.
fn send(addr: &str, method: &str, path: &str) -> TcpStream {
    let mut sock = TcpStream::connect(addr).unwrap();
    write!(sock, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    sock
}

/// Reads until the server closes the connection (`Some(bytes)`), or `None`
/// if it is still sending or open after `limit` of silence.
fn drain(sock: &mut TcpStream, limit: Duration) -> Option<u64> {
    sock.set_read_timeout(Some(limit)).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return Some(total),
            Ok(n) => total += n as u64,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None
            }
            Err(_) => return Some(total), // reset by the server
        }
    }
}

/// A site directory with a sparse file of `len` bytes at `/big.bin`.
fn site_with_big_file(dir: &Path, len: u64) -> std::path::PathBuf {
    let www = dir.join("site");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::File::create(www.join("big.bin"))
        .unwrap()
        .set_len(len)
        .unwrap();
    www
}

#[test]
fn a_client_that_never_reads_its_response_is_cut_off_within_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    const LEN: u64 = 64 * 1024 * 1024;
    let www = site_with_big_file(dir.path(), LEN);
    let s = Server::start(
        dir.path(),
        &["--www", www.to_str().unwrap(), "--write-timeout-ms", "1000"],
    );
    let mut stalled: Vec<TcpStream> = (0..5).map(|_| send(&s.addr, "GET", "/big.bin")).collect();
    // And one for a response small enough for the socket's buffers.
    stalled.push(send(&s.addr, "GET", "/dashboard/app.js"));
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(2500));
    // Others are served meanwhile.
    assert_eq!(get(&s.url, "/api/health").status, 200);
    for (i, sock) in stalled.iter_mut().take(5).enumerate() {
        // What the kernel had buffered, then the end: the server gave up.
        let got = drain(sock, Duration::from_secs(3));
        let got = got.unwrap_or_else(|| {
            panic!(
                "connection {i} still open {:?} after the request",
                t.elapsed()
            )
        });
        assert!(got < LEN, "connection {i} got the whole file ({got} bytes)");
    }
    // A small response fits in the socket's buffers: written, nothing stalls.
    let small = drain(&mut stalled[5], Duration::from_millis(300));
    assert!(small.is_none(), "a finished response keeps its connection");
}

#[test]
fn connections_past_the_cap_wait_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        dir.path(),
        &["--max-connections", "2", "--header-timeout-ms", "10000"],
    );
    // Two idle connections take both slots.
    let first = TcpStream::connect(&s.addr).unwrap();
    let _second = TcpStream::connect(&s.addr).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = TcpStream::connect(&s.addr).unwrap();
    write!(
        third,
        "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    let mut buf = [0u8; 64];
    match third.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a third connection was served past the cap: {other:?}"),
    }
    // One closes: the waiting one is served.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut out = String::new();
    third.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

#[cfg(target_os = "linux")]
#[test]
fn slow_readers_of_one_view_share_one_copy_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    // About 8 MB of /api/accounts: more than the kernel buffers for a
    // connection (a smaller response leaves the process's memory at once).
    let events: Vec<_> = (0..10_000)
        .map(|i| {
            json!({"type": "track", "event": "Visitor Classified", "messageId": format!("m-{i}"),
                "anonymousId": format!("v-{i}"), "originalTimestamp": iso(now_ms() - 5_000),
                "context": {"playbook": {"id": "lumora-b2b", "revision": 1}},
                "properties": {"account": format!("account-{i}.example.com"), "fit_tier": "A",
                    "fit_score": 80.0, "engagement_score": 10.0, "stage": "problem_identification",
                    "role": "unknown"}})
        })
        .collect();
    for chunk in events.chunks(1000) {
        let body = json!({"batch": chunk}).to_string();
        let r = post(&s.url, "/v1/batch", &body, Some(KEY), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let whole = get(&s.url, "/api/accounts");
    let size = whole.body.to_string().len() as u64;
    assert!(size > 7_000_000, "{size}");
    std::thread::sleep(Duration::from_millis(300));
    let before = proc_mb(s.pid(), "VmRSS");
    let held: Vec<TcpStream> = (0..40)
        .map(|_| send(&s.addr, "GET", "/api/accounts"))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let after = proc_mb(s.pid(), "VmRSS");
    // A copy each would be 40 × the view, less what the kernel buffers.
    assert!(
        after.saturating_sub(before) < 30,
        "RSS {before} MB → {after} MB with {} readers of a {size}-byte view",
        held.len()
    );
    // The same for requests that arrive together while no copy is cached
    // (an insert invalidated it): the view is computed once, not by each.
    let one = json!({"batch": [events[0].clone()]}).to_string();
    let mut fresh = one.replace("\"m-0\"", "\"m-new\"");
    fresh = fresh.replace("account-0.example.com", "account-new.example.com");
    assert_eq!(
        post(&s.url, "/v1/batch", &fresh, Some(KEY), &[]).body["accepted"],
        1
    );
    let before = proc_mb(s.pid(), "VmRSS");
    let mut stampede: Vec<TcpStream> = (0..40)
        .map(|_| send(&s.addr, "GET", "/api/accounts"))
        .collect();
    // Every one answered (its first byte read; the rest left unread).
    for sock in &mut stampede {
        sock.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut first = [0u8; 1];
        assert_eq!(sock.read(&mut first).unwrap(), 1);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = proc_mb(s.pid(), "VmRSS");
    // One computation of the view costs ~70 MB here (its JSON tree, freed
    // but kept by the allocator); each computing its own copy cost 4.5 GB.
    assert!(
        after.saturating_sub(before) < 200,
        "RSS {before} MB → {after} MB with {} requests at once for an uncached view",
        stampede.len()
    );
    drop(held);
}

#[cfg(target_os = "linux")]
#[test]
fn static_files_are_streamed_and_head_reads_no_file() {
    let dir = tempfile::tempdir().unwrap();
    const LEN: u64 = 256 * 1024 * 1024;
    let www = site_with_big_file(dir.path(), LEN);
    let s = Server::start(dir.path(), &["--www", www.to_str().unwrap()]);
    let mut head = send(&s.addr, "HEAD", "/big.bin");
    head.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = head.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("content-length: {LEN}\r\n")),
        "{answer}"
    );
    assert!(answer.contains("content-type: application/octet-stream"));
    assert!(answer.ends_with("\r\n\r\n"), "headers only: {answer}");
    let peak = proc_mb(s.pid(), "VmHWM");
    assert!(peak < 100, "HEAD of a {LEN}-byte file: peak RSS {peak} MB");
    // GET streams it: all of it arrives, never all of it in memory.
    let mut sock = TcpStream::connect(&s.addr).unwrap();
    write!(
        sock,
        "GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let got = drain(&mut sock, Duration::from_secs(30)).expect("the whole response");
    assert!(got > LEN && got < LEN + 1024, "{got}");
    let peak = proc_mb(s.pid(), "VmHWM");
    assert!(peak < 100, "GET of a {LEN}-byte file: peak RSS {peak} MB");
}
