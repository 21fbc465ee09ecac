//! `buyerpath serve`, tested as clients use it: the real binary on a free
//! loopback port, real HTTP, a temporary SQLite file read back with rusqlite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{agent, basic, get, iso, now_ms, post, reply, root, Reply, Server, KEY};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn track(id: &str) -> Value {
    json!({
        "type": "track",
        "event": "Test Event",
        "messageId": id,
        "anonymousId": "visitor-1",
        "originalTimestamp": iso(now_ms()),
        "properties": {"n": 1},
    })
}

fn batch(events: &[Value]) -> String {
    json!({ "batch": events, "sentAt": iso(now_ms()) }).to_string()
}

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn count(path: &Path) -> i64 {
    db(path)
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

/// Every signal of every decision in the shared vectors, per journey.
fn vector_signals() -> Vec<Vec<Value>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .iter()
        .map(|f| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            v["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|d| d["signals"].as_array().unwrap().clone())
                .collect()
        })
        .collect()
}

#[test]
fn a_resent_batch_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let events = [track("dup-1"), track("dup-2"), track("dup-3")];
    let first = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["accepted"], 3);
    assert_eq!(first.body["duplicates"], 0);
    let again = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(again.status, 200);
    assert_eq!(again.body["accepted"], 0);
    assert_eq!(again.body["duplicates"], 3);
    // A repeat inside one batch counts too.
    let inner = post(
        &s.url,
        "/v1/batch",
        &batch(&[track("dup-4"), track("dup-4")]),
        Some(KEY),
        &[],
    );
    assert_eq!(
        (
            inner.body["accepted"].clone(),
            inner.body["duplicates"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(count(&s.db), 4);
}

#[test]
fn a_half_invalid_batch_stores_the_valid_half_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let mut no_id = track("x");
    no_id["messageId"] = json!(42);
    let mut bad_time = track("bad-time");
    bad_time["originalTimestamp"] = json!("yesterday at noon");
    let mut big = track("too-big");
    big["properties"]["blob"] = json!("x".repeat(33 * 1024));
    let events = [
        track("ok-1"),
        no_id,
        bad_time,
        json!({"type": "track", "messageId": "no-event", "anonymousId": "a"}),
        json!({"type": "identify", "messageId": "ok-2", "userId": "u-1", "traits": {"plan": "pro"}}),
        big,
        json!({"type": "page", "messageId": "no-visitor", "properties": []}),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 2);
    let rejected = r.body["rejected"].as_array().unwrap();
    let by_index = |i: usize| rejected.iter().find(|x| x["index"] == i).unwrap();
    assert_eq!(rejected.len(), 5);
    assert!(by_index(1)["reason"]
        .as_str()
        .unwrap()
        .contains("messageId: expected a non-empty string"));
    assert_eq!(by_index(2)["messageId"], "bad-time");
    assert!(by_index(2)["reason"]
        .as_str()
        .unwrap()
        .contains("originalTimestamp"));
    assert!(by_index(3)["reason"]
        .as_str()
        .unwrap()
        .contains("event: missing"));
    assert!(by_index(5)["reason"].as_str().unwrap().contains("32 KiB"));
    let r6 = by_index(6)["reason"].as_str().unwrap();
    assert!(
        r6.contains("anonymousId or userId") && r6.contains("properties: must be an object"),
        "{r6}"
    );
    // The same, one problem at a time: a code, a JSON path into the body, a hint where one helps.
    let problem = |i: usize, code: &str| {
        by_index(i)["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .unwrap_or_else(|| panic!("{code} at {i}: {}", by_index(i)))
            .clone()
    };
    assert_eq!(problem(1, "invalid_type")["path"], "$.batch[1].messageId");
    assert_eq!(
        problem(2, "invalid_timestamp")["path"],
        "$.batch[2].originalTimestamp"
    );
    assert_eq!(problem(3, "missing")["path"], "$.batch[3].event");
    let big = problem(5, "event_too_large");
    assert_eq!(big["path"], "$.batch[5]");
    assert!(
        big["hint"].as_str().unwrap().contains("by reference"),
        "{big}"
    );
    assert_eq!(problem(6, "invalid_type")["path"], "$.batch[6].properties");
    assert_eq!(by_index(6)["problems"].as_array().unwrap().len(), 2);
    let ids: BTreeSet<String> = db(&s.db)
        .prepare("SELECT message_id FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["ok-1".to_string(), "ok-2".to_string()])
    );

    // Nothing valid: 400, with the reasons.
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[json!({"type": "shout"})]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 400);
    assert!(r.body["rejected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("`shout`"));
    let r = post(&s.url, "/v1/batch", "{not json", Some(KEY), &[]);
    assert_eq!(r.status, 400);
    assert_eq!(count(&s.db), 2);
}

#[test]
fn a_batch_over_500_kb_is_413() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let events: Vec<Value> = (0..40)
        .map(|i| {
            let mut e = track(&format!("big-{i}"));
            e["properties"]["blob"] = json!("y".repeat(15 * 1024));
            e
        })
        .collect();
    let body = batch(&events);
    assert!(body.len() > 500 * 1024);
    let r = post(&s.url, "/v1/batch", &body, Some(KEY), &[]);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("500 KiB"));
    assert_eq!(count(&s.db), 0);
}

#[test]
fn a_wrong_or_missing_write_key_is_401() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(
        dir.path(),
        &["--write-key", "key-one", "--write-key", "key-two"],
    );
    let body = batch(&[track("k-1")]);
    let none = post(&s.url, "/v1/batch", &body, None, &[]);
    assert_eq!(none.status, 401);
    assert!(none.header("www-authenticate").is_some());
    assert_eq!(
        post(&s.url, "/v1/batch", &body, Some("wrong"), &[]).status,
        401
    );
    assert_eq!(
        post(&s.url, "/v1/batch", &body, Some(KEY), &[]).status,
        401,
        "the demo key is not accepted once keys are configured"
    );
    // A wrong header is refused even when the body carries a good key.
    let mut with_key: Value = serde_json::from_str(&body).unwrap();
    with_key["writeKey"] = json!("key-one");
    assert_eq!(
        post(
            &s.url,
            "/v1/batch",
            &with_key.to_string(),
            Some("wrong"),
            &[]
        )
        .status,
        401
    );
    assert_eq!(
        post(&s.url, "/v1/batch", &body, Some("key-two"), &[]).status,
        200
    );
    // sendBeacon: no header, the key in the body, text/plain.
    with_key["batch"][0]["messageId"] = json!("k-2");
    let beacon = post(
        &s.url,
        "/v1/batch",
        &with_key.to_string(),
        None,
        &[("Content-Type", "text/plain;charset=UTF-8")],
    );
    assert_eq!(beacon.status, 200, "{}", beacon.body);
    // The single-event endpoint, key in the body; the key is not stored.
    let one = json!({"writeKey": "key-one", "event": "Solo", "messageId": "k-3", "userId": "u"});
    assert_eq!(
        post(&s.url, "/v1/track", &one.to_string(), None, &[]).status,
        200
    );
    assert_eq!(count(&s.db), 3);
    let leaked: i64 = db(&s.db)
        .query_row(
            "SELECT count(*) FROM events WHERE payload LIKE '%key-one%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
}

#[test]
fn a_client_clock_an_hour_behind_is_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let client_now = now - 3_600_000;
    let mut e = track("skewed");
    e["originalTimestamp"] = json!(iso(client_now - 10_000)); // 10 s before sending, on the client's clock
    let body = json!({"batch": [e], "sentAt": iso(client_now)}).to_string();
    let r = post(&s.url, "/v1/batch", &body, Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let after = now_ms();
    let (ts, original, sent, received): (i64, i64, i64, i64) = db(&s.db)
        .query_row(
            "SELECT timestamp, original_timestamp, sent_at, received_at FROM events WHERE message_id = 'skewed'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(original, client_now - 10_000);
    assert_eq!(sent, client_now);
    assert!(received >= now && received <= after);
    assert_eq!(
        ts,
        received - 10_000,
        "receivedAt − (sentAt − originalTimestamp)"
    );
}

#[test]
fn cors_is_only_for_the_configured_origin() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--cors-origin", "https://shop.example"]);
    let preflight_to = |path: &str, origin: &str| {
        reply(
            agent()
                .options(format!("{}{path}", s.url))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization, content-type",
                )
                .call()
                .unwrap(),
        )
    };
    let preflight = |origin: &str| preflight_to("/v1/batch", origin);
    let ok = preflight("https://shop.example");
    assert_eq!(ok.status, 204);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let allowed = ok
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    assert!(ok
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));

    assert_eq!(
        ok.header("access-control-allow-methods"),
        Some("POST, OPTIONS"),
        "the route's own methods"
    );
    // A read route allows what it answers; a path that does not exist passes no
    // preflight (it used to be 204 on any path).
    let single = preflight_to("/v1/track", "https://shop.example");
    assert_eq!(single.status, 204);
    assert_eq!(
        single.header("access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    let view = preflight_to("/api/accounts", "https://shop.example");
    assert_eq!(view.status, 204);
    assert_eq!(
        view.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    for path in ["/v1/nope", "/api/nope", "/no-such-page"] {
        let none = preflight_to(path, "https://shop.example");
        assert_eq!(none.status, 404, "{path}");
        assert_eq!(none.header("access-control-allow-origin"), None, "{path}");
        assert_eq!(none.header("access-control-allow-methods"), None, "{path}");
    }

    let bad = preflight("https://evil.example");
    assert_eq!(bad.status, 403);
    assert_eq!(bad.header("access-control-allow-origin"), None);

    let body = batch(&[track("cors-1")]);
    let r = post(
        &s.url,
        "/v1/batch",
        &body,
        Some(KEY),
        &[("Origin", "https://shop.example")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Retry-After")
    );
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[track("cors-2")]),
        Some(KEY),
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(count(&s.db), 1);
}

/// DNS rebinding: a page on a name pointed at 127.0.0.1 is same-origin with
/// itself, so only the `Host` check keeps it from reading the views and
/// writing as the collector's own site.
#[test]
fn names_other_than_localhost_and_allowed_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--allowed-host", "Collector.Example"]);
    let port = s.addr.rsplit_once(':').unwrap().1;
    // A beacon: the write key in the body, plain text, the page's own origin.
    let mut doc: Value = serde_json::from_str(&batch(&[track("rebound")])).unwrap();
    doc["writeKey"] = json!(KEY);
    let body = doc.to_string();
    let post_as = |host: &str| {
        let extra = format!(
            "Origin: http://{host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
            body.len()
        );
        let out = raw_as(&s.url, host, "POST", "/v1/batch", &extra, &body);
        status_and(&out, "content-type").0
    };
    assert_eq!(post_as(&format!("evil.example:{port}")), 403);
    assert_eq!(count(&s.db), 0, "nothing stored from a rebound name");
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
    ] {
        for path in ["/api/accounts", "/api/health", "/dashboard/", "/"] {
            let out = raw_as(&s.url, &host, "GET", path, "", "");
            let (status, _) = status_and(&out, "content-type");
            assert_eq!(status, 403, "{host}{path}: {out}");
            assert!(out.contains("\"host_not_allowed\""), "{out}");
            assert!(out.contains("--allowed-host"), "{out}");
        }
    }
    // The server says so, once per host.
    let log = s.log_with("refused requests for the host `evil.example:");
    assert_eq!(
        log.matches("refused requests for the host `evil.example:")
            .count(),
        1,
        "{log}"
    );
    for host in [
        s.addr.clone(),
        format!("localhost:{port}"),
        format!("collector.example:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, _) = status_and(&raw_as(&s.url, &host, "GET", "/api/health", "", ""), "x");
        assert_eq!(status, 200, "{host}");
    }
    assert_eq!(post_as(&format!("localhost:{port}")), 200);
    assert_eq!(count(&s.db), 1);
    // Two Host headers: 400. An absolute-form target overrides Host, so its
    // name is checked too.
    let out = raw_as(
        &s.url,
        &s.addr,
        "GET",
        "/api/health",
        "Host: evil.example\r\n",
        "",
    );
    assert_eq!(status_and(&out, "x").0, 400, "{out}");
    assert!(out.contains("\"duplicate_host\""), "{out}");
    let out = raw_as(
        &s.url,
        &s.addr,
        "GET",
        "http://evil.example/api/health",
        "",
        "",
    );
    assert_eq!(status_and(&out, "x").0, 403, "{out}");
    let out = raw_as(
        &s.url,
        &s.addr,
        "GET",
        &format!("http://{}/api/health", s.addr),
        "",
        "",
    );
    assert_eq!(status_and(&out, "x").0, 200, "{out}");
    // HTTP/1.1 without Host: 400 (RFC 9112); HTTP/1.0 may leave it out.
    let no_host = |version: &str| {
        send_raw(
            &s.addr,
            &format!("GET /api/health {version}\r\nConnection: close\r\n\r\n"),
        )
    };
    let out = no_host("HTTP/1.1");
    assert_eq!(status_and(&out, "x").0, 400, "{out}");
    assert!(out.contains("\"missing_host\""), "{out}");
    let out = no_host("HTTP/1.0");
    assert_eq!(status_and(&out, "x").0, 200, "{out}");
}

/// A batch refused before it is read (a refused host, a wrong key) is read
/// to its end first: answered mid-upload, the client sees a reset
/// connection instead of the answer, and sends the batch again.
#[test]
fn a_large_batch_refused_early_still_gets_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let events: Vec<Value> = (0..2600).map(|i| track(&format!("big-{i}"))).collect();
    let body = batch(&events);
    assert!(
        body.len() > 300_000 && body.len() < 500_000,
        "{}",
        body.len()
    );
    let port = s.addr.rsplit_once(':').unwrap().1;
    let wrong_key = format!("Authorization: {}\r\n", basic("wrong"));
    for (host, auth, want) in [
        (format!("evil.example:{port}"), String::new(), 403),
        (s.addr.clone(), wrong_key, 401),
    ] {
        for round in 0..5 {
            let addr = s.url.trim_start_matches("http://");
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let head = format!(
                "POST /v1/batch HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            // Sent in pieces, as a slow uplink would: the answer comes
            // before the end of the body.
            let sent = stream.write_all(head.as_bytes()).and_then(|()| {
                body.as_bytes().chunks(64 * 1024).try_for_each(|piece| {
                    std::thread::sleep(Duration::from_millis(30));
                    stream.write_all(piece)
                })
            });
            let mut out = String::new();
            let read = stream.read_to_string(&mut out);
            assert!(
                sent.is_ok() && read.is_ok(),
                "{host} round {round}: {sent:?} {read:?}"
            );
            assert_eq!(status_and(&out, "x").0, want, "{host} round {round}: {out}");
        }
    }
    assert_eq!(count(&s.db), 0);
}

#[test]
fn kill_9_during_a_burst_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_secs(10);
    let senders: Vec<_> = (0..8)
        .map(|w| {
            let (url, acked) = (s.url.clone(), acked.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .into();
                for n in 0..10_000 {
                    if Instant::now() > stop_at {
                        break;
                    }
                    let ids: Vec<String> = (0..50).map(|i| format!("burst-{w}-{n}-{i}")).collect();
                    let events: Vec<Value> = ids.iter().map(|id| track(id)).collect();
                    let res = agent
                        .post(format!("{url}/v1/batch"))
                        .header("Authorization", basic(KEY))
                        .send(batch(&events).as_str());
                    match res {
                        Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                        Ok(_) => {}
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then kill the process without warning.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 2_000 && started.elapsed() < Duration::from_secs(8) {
        std::thread::sleep(Duration::from_millis(20));
    }
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    for t in senders {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 2_000,
        "only {} events acknowledged before the kill",
        acked.len()
    );
    let conn = db(&s.db);
    let mut stmt = conn
        .prepare("SELECT 1 FROM events WHERE message_id = ?1")
        .unwrap();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| !stmt.exists([id.as_str()]).unwrap())
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    drop(stmt);
    drop(conn);
    // The collector starts again on the same file and counts them all.
    let s2 = Server::start(dir.path(), &[]);
    let h = get(&s2.url, "/api/health");
    assert!(
        h.body["events"].as_u64().unwrap() >= acked.len() as u64,
        "{}",
        h.body
    );
}

#[test]
fn sigterm_drains_checkpoints_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[track("t-1"), track("t-2")]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200);
    let killed = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = s
        .wait_exit(Duration::from_secs(20))
        .expect("the collector did not stop on SIGTERM");
    assert!(status.success(), "{status:?}");
    // Checkpointed: the WAL is folded into the database file.
    let wal = PathBuf::from(format!("{}-wal", s.db.display()));
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    assert_eq!(count(&s.db), 2);
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--queue", "1", "--commit-delay-ms", "1500"]);
    let results: Vec<_> = (0..4)
        .map(|i| {
            let url = s.url.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150 * i));
                let r = post(
                    &url,
                    "/v1/batch",
                    &batch(&[track(&format!("q-{i}"))]),
                    Some(KEY),
                    &[],
                );
                (
                    i,
                    r.status,
                    r.header("retry-after").map(str::to_string),
                    r.body["code"].clone(),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let throttled: Vec<_> = results.iter().filter(|r| r.1 == 429).collect();
    assert!(!throttled.is_empty(), "{results:?}");
    assert!(throttled.iter().all(|r| r.2.as_deref() == Some("1")));
    assert!(
        throttled.iter().all(|r| r.3 == "queue_full"),
        "{throttled:?}"
    );
    let ok: Vec<String> = results
        .iter()
        .filter(|r| r.1 == 200)
        .map(|r| format!("q-{}", r.0))
        .collect();
    assert!(!ok.is_empty(), "{results:?}");
    for id in ok {
        assert!(db(&s.db)
            .prepare("SELECT 1 FROM events WHERE message_id = ?1")
            .unwrap()
            .exists([id])
            .unwrap());
    }
}

#[test]
fn the_engines_own_batches_are_accepted_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let mut total = 0;
    for signals in vector_signals() {
        if signals.is_empty() {
            continue; // the no-consent journey emits nothing
        }
        let body = json!({ "batch": signals }).to_string();
        let r = post(&s.url, "/v1/batch", &body, Some(KEY), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["accepted"], signals.len());
        assert_eq!(r.body["rejected"], json!([]));
        total += signals.len();
    }
    assert_eq!(count(&s.db) as usize, total);
    // Without sentAt the engine's originalTimestamp is the time.
    let (ts, original): (i64, i64) = db(&s.db)
        .query_row(
            "SELECT timestamp, original_timestamp FROM events LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(ts, original);
}

#[test]
fn the_views_report_the_replayed_journeys() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let journeys = vector_signals();
    let all: Vec<&Value> = journeys.iter().flatten().collect();
    for signals in &journeys {
        if !signals.is_empty() {
            let r = post(
                &s.url,
                "/v1/batch",
                &json!({ "batch": signals }).to_string(),
                Some(KEY),
                &[],
            );
            assert_eq!(r.status, 200);
        }
    }
    let count_of = |name: &str| all.iter().filter(|s| s["event"] == name).count();

    let a = get(&s.url, "/api/accounts");
    assert_eq!(a.status, 200, "{}", a.body);
    let accounts = a.body["accounts"].as_array().unwrap();
    let domains: BTreeSet<&str> = all
        .iter()
        .filter_map(|s| s["properties"]["account"].as_str())
        .collect();
    assert_eq!(accounts.len(), domains.len());
    assert_eq!(accounts[0]["fit_tier"], "A", "{}", accounts[0]);
    // Ranked qualified first (a failed gate: after every prospect), then by
    // tier, then engagement within a tier.
    let tiers = ["A", "B", "C", "D"];
    for pair in accounts.windows(2) {
        let rank = |x: &Value| {
            let tier = tiers.iter().position(|t| x["fit_tier"] == *t).unwrap();
            (x["qualified"] == false, tier)
        };
        assert!(
            rank(&pair[0]) <= rank(&pair[1]),
            "{} / {}",
            pair[0],
            pair[1]
        );
        if rank(&pair[0]) == rank(&pair[1]) {
            assert!(pair[0]["engagement"].as_f64() >= pair[1]["engagement"].as_f64());
        }
    }
    let disqualified: Vec<&Value> = accounts
        .iter()
        .filter(|x| x["qualified"] == false)
        .collect();
    assert!(!disqualified.is_empty());
    assert!(disqualified
        .iter()
        .all(|x| !x["failed_gates"].as_array().unwrap().is_empty()));
    let find = |d: &str| accounts.iter().find(|x| x["account"] == d).unwrap();
    let hudson = find("hudsonledger.com");
    assert_eq!(hudson["stage"]["id"], "supplier_selection");
    assert_eq!(hudson["committee"]["seen"], json!(["technical_evaluator"]));
    assert_eq!(hudson["committee"]["coverage"], 0.2);
    assert_eq!(hudson["lifecycle"], "mql");
    let trig: BTreeSet<&str> = hudson["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        trig,
        BTreeSet::from([
            "target_account_new_role",
            "tier_a_on_pricing",
            "target_account_surge"
        ])
    );
    assert_eq!(hudson["stage_history"].as_array().unwrap().len(), 2);
    // cobaltretail.com went from 10 to 50.7 within the last week of the data.
    assert_eq!(find("cobaltretail.com")["surge"]["surging"], true);
    assert_eq!(find("quaypay.com")["lifecycle"], "sql");

    let f = get(&s.url, "/api/funnel");
    assert_eq!(f.status, 200, "{}", f.body);
    let revisions = f.body["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 1);
    let r = &revisions[0];
    assert_eq!(r["playbook"], json!({"id": "lumora-b2b", "revision": 1}));
    assert_eq!(r["lifecycle"]["mql"], count_of("MQL Reached"));
    assert_eq!(r["lifecycle"]["sql"], count_of("SQL Reached"));
    assert_eq!(r["lifecycle"]["mql_signals"], count_of("MQL Reached"));
    assert_eq!(r["accounts"], domains.len());
    let visitors: BTreeSet<&str> = all
        .iter()
        .filter_map(|s| s["anonymousId"].as_str())
        .collect();
    assert_eq!(r["visitors"], visitors.len());
    let stages = r["stages"].as_array().unwrap();
    assert_eq!(stages[0]["id"], "problem_identification");
    let now_total: u64 = stages
        .iter()
        .map(|s| s["visitors_now"].as_u64().unwrap())
        .sum();
    assert_eq!(now_total as usize, visitors.len());
    let moves: u64 = r["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(moves as usize, count_of("Stage Changed"));
    assert!(
        r["velocity"]["median_days_between_stages"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let attribution = &r["attribution"];
    assert_eq!(
        attribution["conversions"].as_u64().unwrap() as usize,
        count_of("MQL Reached") + count_of("SQL Reached")
    );
    let credit: f64 = attribution["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["linear"].as_f64().unwrap())
        .sum();
    assert!(
        (credit - attribution["attributed"].as_f64().unwrap()).abs() < 0.01,
        "one credit per attributed conversion"
    );
    assert_eq!(r["holdout"]["holdout"]["visitors"], 0);
    assert_eq!(r["holdout"]["lift"], Value::Null);

    // As of before the data: nothing; revision filter; health.
    let early = get(&s.url, "/api/accounts?as_of=2020-01-01T00:00:00Z");
    assert_eq!(early.body["total"], 0);
    assert_eq!(
        get(&s.url, "/api/funnel?revision=2").body["revisions"],
        json!([])
    );
    assert_eq!(get(&s.url, "/api/accounts?as_of=soon").status, 400);
    let h = get(&s.url, "/api/health");
    assert_eq!(h.body["events"].as_u64().unwrap() as usize, all.len());
    assert_eq!(h.body["queue"]["batches"], 0);
}

/// A request with the path exactly as written (clients normalise `..`).
fn raw_get(url: &str, path: &str) -> String {
    raw(url, "GET", path)
}

/// A request with any method and the path exactly as written: the whole answer.
fn raw(url: &str, method: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://");
    raw_as(url, addr, method, path, "", "")
}

/// [`raw`] with the `Host` given, `extra` header lines (each ending in
/// `\r\n`) and a body.
fn raw_as(url: &str, host: &str, method: &str, path: &str, extra: &str, body: &str) -> String {
    send_raw(
        url.trim_start_matches("http://"),
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n{body}"
        ),
    )
}

/// `request` written as it is to `addr`: the whole answer.
fn send_raw(addr: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

/// The status code and a header of a raw answer.
fn status_and(out: &str, header: &str) -> (u16, Option<String>) {
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let head = out.split("\r\n\r\n").next().unwrap();
    let value = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(header).then(|| v.trim().to_string())
    });
    (status, value)
}

#[test]
fn static_files_and_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("site");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::create_dir_all(www.join("docs")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(www.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(www.join("pricing.html"), "<h1>pricing</h1>").unwrap();
    std::fs::write(www.join("docs/quickstart.html"), "<h1>quickstart</h1>").unwrap();
    std::fs::write(www.join("pkg/engine_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "do not serve").unwrap();
    let s = Server::start(dir.path(), &["--www", www.to_str().unwrap()]);
    let home = get(&s.url, "/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.body, Value::String("<h1>demo</h1>".into()));
    let wasm = agent()
        .get(format!("{}/pkg/engine_bg.wasm", s.url))
        .call()
        .unwrap();
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        get(&s.url, "/docs/").body,
        Value::String("<h1>docs</h1>".into())
    );
    // Clean URLs, as the site links them.
    assert_eq!(
        get(&s.url, "/pricing").body,
        Value::String("<h1>pricing</h1>".into())
    );
    assert_eq!(
        get(&s.url, "/docs/quickstart").body,
        Value::String("<h1>quickstart</h1>".into())
    );
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/docs/..%2f..%2fsecret.txt",
        "/nope.html",
    ] {
        let out = raw_get(&s.url, bad);
        assert!(out.starts_with("HTTP/1.1 404"), "{bad}: {out}");
        assert!(!out.contains("do not serve"));
    }
    // With a 404.html of its own, the site's page is the answer (still 404).
    std::fs::write(www.join("404.html"), "<h1>lost?</h1>").unwrap();
    for missing in ["/nope", "/docs/nope.html", "/../secret.txt"] {
        let out = raw_get(&s.url, missing);
        assert!(out.starts_with("HTTP/1.1 404"), "{missing}: {out}");
        assert!(
            out.contains("<h1>lost?</h1>") && out.contains("text/html"),
            "{missing}: {out}"
        );
        assert!(!out.contains("do not serve"));
    }
    let dash = get(&s.url, "/dashboard/");
    assert_eq!(dash.status, 200);
    assert!(dash.body.as_str().unwrap().contains("<title>buyerpath"));
    assert_eq!(
        get(&s.url, "/dashboard/app.js").header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}

#[test]
fn directory_redirects_use_the_clean_path_and_keep_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("site");
    for d in ["js", "customers/onboarding", "a b", "x"] {
        std::fs::create_dir_all(www.join(d)).unwrap();
        std::fs::write(www.join(d).join("index.html"), "<h1>dir</h1>").unwrap();
    }
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    let s = Server::start(dir.path(), &["--www", www.to_str().unwrap()]);
    for (path, to) in [
        // `//js/` would be a protocol-relative URL: the host `js`.
        ("//js", "/js/"),
        ("//customers/onboarding", "/customers/onboarding/"),
        ("/.//customers//onboarding", "/customers/onboarding/"),
        ("/%2F%2Fx", "/x/"),
        ("/a%20b", "/a%20b/"),
        ("/js?as=fintech", "/js/?as=fintech"),
        ("//js?as=fintech&x=%2F", "/js/?as=fintech&x=%2F"),
        (
            "/dashboard?as_of=2026-11-01",
            "/dashboard/?as_of=2026-11-01",
        ),
        ("/dashboard", "/dashboard/"),
    ] {
        let out = raw_get(&s.url, path);
        let (status, location) = status_and(&out, "location");
        assert_eq!(status, 308, "{path}: {out}");
        assert_eq!(location.as_deref(), Some(to), "{path}");
    }
    // The redirect leads somewhere.
    assert!(raw_get(&s.url, "/a%20b/").contains("<h1>dir</h1>"));
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_site_is_not_found_even_as_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("site");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(outside.join("inner")).unwrap();
    std::fs::write(outside.join("secret.html"), "do not serve").unwrap();
    std::fs::create_dir_all(www.join("docs")).unwrap();
    std::fs::create_dir_all(www.join("js")).unwrap();
    std::fs::write(www.join("js/index.html"), "<h1>js</h1>").unwrap();
    std::os::unix::fs::symlink(&outside, www.join("out")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.html"), www.join("docs/index.html")).unwrap();
    std::os::unix::fs::symlink(www.join("js"), www.join("alias")).unwrap();
    let s = Server::start(dir.path(), &["--www", www.to_str().unwrap()]);
    // A directory outside answers as one that does not exist: no redirect
    // tells it is there.
    for path in [
        "/out/inner",
        "/out/no-such-dir",
        "/out",
        "/out/",
        "/out/inner/",
        "/out/secret.html",
        "/out/secret",
        "/docs/",
    ] {
        let out = raw_get(&s.url, path);
        let (status, location) = status_and(&out, "location");
        assert_eq!((status, location), (404, None), "{path}: {out}");
        assert!(!out.contains("do not serve"), "{path}");
    }
    // A link inside the site is followed.
    let (status, location) = status_and(&raw_get(&s.url, "/alias"), "location");
    assert_eq!((status, location.as_deref()), (308, Some("/alias/")));
    assert!(raw_get(&s.url, "/alias/").contains("<h1>js</h1>"));
}

#[test]
fn options_without_origin_names_the_routes_methods_or_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("site");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    let s = Server::start(dir.path(), &["--www", www.to_str().unwrap()]);
    for (path, allow) in [
        ("/api/accounts", "GET, HEAD, OPTIONS"),
        ("/api/health", "GET, HEAD, OPTIONS"),
        ("/v1/batch", "POST, OPTIONS"),
        ("/v1/track", "POST, OPTIONS"),
        ("/dashboard/", "GET, HEAD, OPTIONS"),
        ("/", "GET, HEAD, OPTIONS"),
        ("/index.html", "GET, HEAD, OPTIONS"),
    ] {
        let out = raw(&s.url, "OPTIONS", path);
        assert_eq!(
            status_and(&out, "allow"),
            (204, Some(allow.to_string())),
            "OPTIONS {path}: {out}"
        );
    }
    for path in [
        "/api/no-such-endpoint",
        "/v1/no-such",
        "/no-such-page",
        "/dashboard/nope.js",
    ] {
        let out = raw(&s.url, "OPTIONS", path);
        assert_eq!(
            status_and(&out, "allow"),
            (404, None),
            "OPTIONS {path}: {out}"
        );
        // Nor does another method on an unknown endpoint name methods.
        let out = raw_get(&s.url, path);
        assert_eq!(status_and(&out, "allow"), (404, None), "GET {path}: {out}");
    }
}

/// The schema of the collector before the `trust` column (user_version 1,
/// as of commit 9bc497a), verbatim.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS events (
    message_id         TEXT PRIMARY KEY NOT NULL,  -- the dedupe key
    type               TEXT NOT NULL,              -- track, identify, page, screen, group, alias
    event              TEXT,                       -- the track event's name
    anonymous_id       TEXT,
    user_id            TEXT,
    account            TEXT,                       -- properties.account (the company domain)
    playbook_id        TEXT,                       -- context.playbook.id
    playbook_revision  INTEGER,                    -- context.playbook.revision
    received_at        INTEGER NOT NULL,           -- server clock, ms since the epoch
    sent_at            INTEGER,                    -- client clock when the batch left
    original_timestamp INTEGER,                    -- client clock when the event happened
    timestamp          INTEGER NOT NULL,           -- corrected: received_at - (sent_at - original_timestamp)
    payload            TEXT NOT NULL               -- the event as received (less any writeKey)
);
CREATE VIEW IF NOT EXISTS events_readable AS
SELECT message_id, type, event, anonymous_id, user_id, account, playbook_id, playbook_revision,
       strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch') AS received_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', sent_at / 1000.0, 'unixepoch') AS sent_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', original_timestamp / 1000.0, 'unixepoch') AS original_timestamp,
       strftime('%Y-%m-%dT%H:%M:%fZ', timestamp / 1000.0, 'unixepoch') AS timestamp,
       payload
FROM events;
PRAGMA user_version = 1;
";

fn view_columns(c: &rusqlite::Connection) -> Vec<String> {
    c.prepare("SELECT name FROM pragma_table_info('events_readable')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_old_database_gets_the_trust_column_and_a_view_that_shows_it() {
    const TRUSTED: &str = "edge-secret-key";
    // v1: written before the trust column. v2: the trust column added by a
    // collector that kept the old view (user_version 2, view without trust).
    for version in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("collector.sqlite");
        {
            let c = db(&path);
            c.execute_batch("PRAGMA journal_mode=WAL").unwrap();
            c.execute_batch(SCHEMA_V1).unwrap();
            let t = now_ms() - 60_000;
            let payload = track("old-1").to_string();
            c.execute(
                "INSERT INTO events (message_id, type, event, anonymous_id, received_at, timestamp, payload)
                 VALUES ('old-1', 'track', 'Test Event', 'visitor-1', ?1, ?1, ?2)",
                rusqlite::params![t, payload],
            )
            .unwrap();
            if version == 2 {
                c.execute_batch(
                    "ALTER TABLE events ADD COLUMN trust TEXT NOT NULL DEFAULT 'asserted';
                     PRAGMA user_version = 2;",
                )
                .unwrap();
            }
            assert!(!view_columns(&c).iter().any(|n| n == "trust"));
        }
        let s = Server::start(dir.path(), &["--trusted-write-key", TRUSTED]);
        let r = post(
            &s.url,
            "/v1/batch",
            &batch(&[track("new-a")]),
            Some(KEY),
            &[],
        );
        assert_eq!(r.status, 200, "v{version}: {}", r.body);
        assert_eq!(r.body["accepted"], 1);
        let r = post(
            &s.url,
            "/v1/batch",
            &batch(&[track("new-v")]),
            Some(TRUSTED),
            &[],
        );
        assert_eq!(r.status, 200, "v{version}: {}", r.body);
        assert_eq!(r.body["accepted"], 1);
        // The old row is counted and reads as asserted.
        assert_eq!(get(&s.url, "/api/health").body["events"], 3);
        let check = |label: &str| {
            let c = db(&path);
            let cols = view_columns(&c);
            assert!(
                cols.iter().any(|n| n == "trust"),
                "v{version} {label}: {cols:?}"
            );
            let trust = |id: &str| common::trust_of(&c, "events_readable", id);
            assert_eq!(trust("old-1"), "asserted", "v{version} {label}");
            assert_eq!(trust("new-a"), "asserted", "v{version} {label}");
            assert_eq!(trust("new-v"), "verified", "v{version} {label}");
            let user_version: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(user_version, 3, "v{version} {label}");
            let n: i64 = c
                .query_row("SELECT count(*) FROM events_readable", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 3, "v{version} {label}");
        };
        check("migrated");
        // Opening the migrated database again changes nothing.
        drop(s);
        let s = Server::start(dir.path(), &["--trusted-write-key", TRUSTED]);
        assert_eq!(get(&s.url, "/api/health").body["events"], 3);
        check("reopened");
    }
}

/// A public write key is in every page: what a forged signal can claim is
/// bounded. A time more than a day ahead is refused (it would become the
/// views' "now"), numbers the engine never reports are ignored, and a signal
/// stamped with another playbook revision does not become the default one.
#[test]
fn forged_times_and_numbers_do_not_move_the_views() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let signal = |id: &str, account: &str, engagement: Value, fit: Value| {
        json!({
            "type": "track", "event": "Visitor Classified", "messageId": id,
            "anonymousId": format!("v-{id}"), "originalTimestamp": iso(now - 60_000),
            "properties": {"account": account, "fit_tier": "A", "fit_score": fit,
                           "engagement_score": engagement, "seniority_weight": 1e308},
            "context": {"playbook": {"id": "lumora-b2b", "revision": 1}},
        })
    };
    let honest = signal("honest", "honest.com", json!(40.0), json!(80.0));
    let forged = signal("forged", "forged.com", json!(1e308), json!(1e308));
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[honest, forged]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Far ahead by its own time (without sentAt: with it, a time is never
    // later than its arrival), or before 2000 by a wild sentAt.
    let mut ahead = track("ahead");
    ahead["originalTimestamp"] = json!("9999-12-31T23:59:59Z");
    let mut wild = track("wild");
    wild["originalTimestamp"] = json!("2000-01-01T00:00:00Z");
    let r = post(&s.url, "/v1/track", &ahead.to_string(), Some(KEY), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("more than a day after"),
        "{}",
        r.body
    );
    let body = json!({"batch": [wild], "sentAt": "2100-01-01T00:00:00Z"}).to_string();
    let r = post(&s.url, "/v1/batch", &body, Some(KEY), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("before 2000-01-01"),
        "{}",
        r.body
    );
    // A day's drift is still a clock, not a forgery.
    let mut drift = track("drift");
    drift["originalTimestamp"] = json!(iso(now + 3_600_000));
    let r = post(&s.url, "/v1/track", &drift.to_string(), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    // A signal of a revision the server does not run: kept, not the default.
    let mut other = signal("other-rev", "other.com", json!(10.0), json!(10.0));
    other["context"]["playbook"]["revision"] = json!(99_999_999);
    let r = post(&s.url, "/v1/batch", &batch(&[other]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    let a = get(&s.url, "/api/accounts");
    assert_eq!(a.status, 200, "{}", a.body);
    let as_of = a.body["as_of"].as_str().unwrap().to_string();
    assert!(as_of.as_str() < "2100", "{as_of}");
    let honest = common::account_named(&a.body, "honest.com");
    let forged = common::account_named(&a.body, "forged.com");
    assert_eq!(honest["fit_score"], json!(80.0), "{honest}");
    assert!(forged["fit_score"].is_null(), "{forged}");
    assert!(
        a.body.to_string().len() < 20_000 && !a.body.to_string().contains("e308"),
        "{}",
        a.body
    );
    let rank = |v: &Value| v["rank"].as_i64().unwrap();
    assert!(rank(&honest) < rank(&forged), "{honest} / {forged}");
    let f = get(&s.url, "/api/funnel");
    assert_eq!(f.body["stage_order_from"]["revision"], json!(1));

    // A client clock two days ahead that sends `timestamp` and `sentAt` (as
    // analytics.js does) is corrected, not refused.
    let mut ahead = track("ahead-with-sent-at");
    ahead.as_object_mut().unwrap().remove("originalTimestamp");
    ahead["timestamp"] = json!(iso(now + 2 * 86_400_000 - 5_000));
    ahead["sentAt"] = json!(iso(now + 2 * 86_400_000));
    let r = post(&s.url, "/v1/track", &ahead.to_string(), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let ts: i64 = db(&s.db)
        .query_row(
            "SELECT timestamp FROM events WHERE message_id = 'ahead-with-sent-at'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (ts - (now - 5_000)).abs() < 60_000,
        "about 5 s before arrival: {ts} / {now}"
    );

    // A row stored before times were bounded (written here directly) does not
    // freeze the views at year 9999 either.
    db(&s.db)
        .execute(
            "INSERT INTO events (message_id, type, event, anonymous_id, account, received_at, timestamp, payload, trust)
             VALUES ('old-9999', 'track', 'Visitor Classified', 'v-old', 'old.com', ?1, 253402300799000, '{}', 'asserted')",
            [now],
        )
        .unwrap();
    let a = get(&s.url, "/api/accounts");
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body["as_of"].as_str().unwrap() < "2100",
        "{}",
        a.body["as_of"]
    );
}

/// `time` as a client in UTC+2 writes it: `2026-11-05T02:00:00.000+02:00`.
fn plus_two_hours(ms: i64) -> String {
    let local = iso(ms + 2 * 3_600_000);
    format!("{}+02:00", local.trim_end_matches('Z'))
}

#[test]
fn account_engagement_fades_and_disqualified_accounts_rank_last() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let day = 86_400_000;
    let now = now_ms();
    let signal = |id: &str, account: &str, at: i64, engagement: f64, gates: &[&str]| {
        json!({
            "type": "track", "event": "Visitor Classified", "messageId": id,
            "anonymousId": format!("v-{id}"), "originalTimestamp": iso(at),
            "properties": {"account": account, "fit_tier": "A", "fit_score": 80.0,
                           "engagement_score": engagement, "qualified": gates.is_empty(),
                           "failed_gates": gates, "stage": "problem_identification"},
            "context": {"playbook": {"id": "lumora-b2b", "revision": 1}},
        })
    };
    let quiet_at = now - 200 * day;
    let events = [
        // Very engaged once, quiet for 200 days since.
        signal("quiet", "quiet.com", quiet_at, 90.0, &[]),
        signal("busy", "busy.com", now - day, 30.0, &[]),
        // First seen two days ago: new, not surging.
        signal("fresh", "fresh.com", now - 2 * day, 60.0, &[]),
        // A competitor, however engaged.
        signal("rival", "rival.com", now - day, 99.0, &["competitors"]),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    let a = get(&s.url, "/api/accounts");
    assert_eq!(a.status, 200, "{}", a.body);
    let order: Vec<&str> = a.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["account"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["fresh.com", "busy.com", "quiet.com", "rival.com"],
        "{}",
        a.body
    );
    let quiet = common::account_named(&a.body, "quiet.com");
    assert!(quiet["engagement"].as_f64().unwrap() < 1.0, "{quiet}");
    let rival = common::account_named(&a.body, "rival.com");
    assert_eq!(rival["failed_gates"], json!(["competitors"]), "{rival}");
    assert_eq!(rival["rank"], 4);
    let fresh = common::account_named(&a.body, "fresh.com");
    assert_eq!(fresh["surge"]["new"], true, "{fresh}");
    assert_eq!(fresh["surge"]["surging"], false, "{fresh}");
    assert_eq!(a.body["surging"], 0);
    assert_eq!(a.body["engagement_half_life_days"], 30.0);
    assert!(
        a.body["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "competitors"),
        "{}",
        a.body["gates"]
    );

    // One half-life (30 days) after its signal, asked with an unencoded `+`
    // (it arrives as a space): half the engagement.
    let as_of = plus_two_hours(quiet_at + 30 * day);
    assert!(as_of.ends_with("+02:00"), "{as_of}");
    let then = get(&s.url, &format!("/api/accounts?as_of={as_of}"));
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.body["total"], 1, "{}", then.body);
    assert_eq!(
        then.body["accounts"][0]["engagement"], 45.0,
        "{}",
        then.body
    );

    // A time that is none: what arrived, and how to write one.
    let bad = get(&s.url, "/api/accounts?as_of=next+tuesday");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]
            .as_str()
            .unwrap()
            .contains("`next tuesday`"),
        "{}",
        bad.body
    );
    assert!(
        bad.body["hint"].as_str().unwrap().contains("%2B02:00"),
        "{}",
        bad.body
    );
}

#[test]
fn a_single_event_endpoint_gives_paths_into_its_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let mut e = track("wrong-endpoint");
    e["type"] = json!("identify");
    e["userId"] = json!(7);
    let r = post(&s.url, "/v1/track", &e.to_string(), Some(KEY), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let problems = r.body["rejected"][0]["problems"].as_array().unwrap();
    let paths: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p["code"].as_str().unwrap(), p["path"].as_str().unwrap()))
        .collect();
    assert!(paths.contains(&("wrong_endpoint", "$.type")), "{paths:?}");
    assert!(paths.contains(&("invalid_type", "$.userId")), "{paths:?}");
    assert!(problems.iter().any(|p| p["hint"].is_string()), "{}", r.body);
}

#[test]
fn a_wrong_method_is_405_in_json_with_allow() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    for (path, allow) in [
        ("/v1/batch", "POST, OPTIONS"),
        ("/v1/track", "POST, OPTIONS"),
    ] {
        let r = get(&s.url, path);
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("allow"), Some(allow), "{path}");
        assert!(
            r.body["error"]
                .as_str()
                .unwrap()
                .contains("GET is not allowed"),
            "{}",
            r.body
        );
    }
    let r = post(&s.url, "/api/accounts", "{}", Some(KEY), &[]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    // An endpoint that does not exist is a 404 whatever the method.
    for r in [
        get(&s.url, "/v1/bogus"),
        post(&s.url, "/v1/bogus", "{}", Some(KEY), &[]),
    ] {
        assert_eq!(r.status, 404, "{}", r.body);
        assert!(r.body["error"]
            .as_str()
            .unwrap()
            .contains("unknown endpoint"));
    }
}

/// A signal the accounts view counts: a visitor of `account`.
fn classified(id: &str, visitor: Value, account: &str) -> Value {
    json!({"type": "track", "event": "Visitor Classified", "messageId": id, "anonymousId": visitor,
        "originalTimestamp": iso(now_ms() - 5_000), "context": {"playbook": {"id": "lumora-b2b", "revision": 1}},
        "properties": {"account": account, "fit_tier": "A", "fit_score": 80.0,
            "engagement_score": 10.0, "stage": "problem_identification", "role": "unknown"}})
}

/// The same classification naming no account (the engine did not know the company).
fn unplaced(id: &str, visitor: Value) -> Value {
    let mut e = classified(id, visitor, "");
    e["properties"].as_object_mut().unwrap().remove("account");
    e
}

/// GET `path`, refused with a 400 `invalid_parameter` naming `name`.
fn refused_parameter(url: &str, path: &str, name: &str) -> Reply {
    let r = get(url, path);
    assert_eq!(r.status, 400, "{path}: {}", r.body);
    assert_eq!(r.body["code"], "invalid_parameter", "{}", r.body);
    assert_eq!(r.body["parameter"], name, "{}", r.body);
    r
}

/// The accounts `/api/accounts` lists, in rank order.
fn account_names(v: &Value) -> Vec<&str> {
    v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"].as_str().unwrap())
        .collect()
}

#[test]
fn null_ids_are_no_visitor_and_make_no_phantom_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let mut both_null = classified("nid-2", Value::Null, "ghost.com");
    both_null["userId"] = Value::Null;
    let events = [
        classified("nid-0", json!("v-real"), "ghost.com"),
        classified("nid-1", Value::Null, "ghost.com"),
        both_null,
        classified("nid-3", json!("   "), "ghost.com"),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 1, "{}", r.body);
    let rejected = r.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 3, "{}", r.body);
    for (i, x) in rejected.iter().enumerate() {
        let required = x["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["message"] == "anonymousId or userId: one is required")
            .unwrap_or_else(|| panic!("{x}"));
        assert_eq!(required["code"], "missing");
        assert_eq!(required["path"], format!("$.batch[{}]", i + 1));
    }
    assert_eq!(count(&s.db), 1);
    let a = get(&s.url, "/api/accounts");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(common::account_named(&a.body, "ghost.com")["visitors"], 1);
}

#[test]
fn a_blank_id_is_invalid_value_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let r = post(&s.url, "/v1/batch", &batch(&[track("   ")]), Some(KEY), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let problems = r.body["rejected"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{}", r.body);
    assert_eq!(problems[0]["code"], "invalid_value");
    assert_eq!(problems[0]["path"], "$.batch[0].messageId");
}

#[test]
fn an_account_domain_over_256_bytes_is_rejected_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let long = format!("{}.com", "a".repeat(300));
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[
            track("short-acct"),
            classified("long-acct", json!("v-1"), &long),
        ]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 1);
    let x = &r.body["rejected"][0];
    assert_eq!(x["index"], 1);
    assert_eq!(x["messageId"], "long-acct");
    assert_eq!(x["problems"][0]["code"], "too_long", "{x}");
    assert_eq!(x["problems"][0]["path"], "$.batch[1].properties.account");
    assert_eq!(count(&s.db), 1);
    let r = post(
        &s.url,
        "/v1/track",
        &classified("long-acct-2", json!("v-1"), &long).to_string(),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["rejected"][0]["problems"][0]["path"],
        "$.properties.account"
    );
}

#[test]
fn a_body_write_key_gets_the_requests_400_not_401() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let beacon = |path: &str, body: &str| {
        post(
            &s.url,
            path,
            body,
            None,
            &[("Content-Type", "text/plain;charset=UTF-8")],
        )
    };
    let event = track("wk-1");
    for (body, reason) in [
        (
            json!({"writeKey": KEY, "sentAt": "yesterday", "batch": [event]}).to_string(),
            "sentAt",
        ),
        (
            json!({"writeKey": KEY, "context": [], "batch": [event]}).to_string(),
            "context: must be an object",
        ),
        (json!({"writeKey": KEY}).to_string(), "batch: missing"),
        (format!(r#"{{"writeKey":"{KEY}","batch":["#), "EOF"),
        // The key cannot be read: the parser's reason (see http.rs).
        ("{not json".to_string(), "not a JSON batch"),
        (
            format!(r#"{{"batch":[,"writeKey":"{KEY}"}}"#),
            "not a JSON batch",
        ),
    ] {
        let r = beacon("/v1/batch", &body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let err = r.body["error"].as_str().unwrap();
        assert!(
            err.contains(reason),
            "{body}: `{err}` should say `{reason}`"
        );
    }
    // A single-event body, the same.
    let r = beacon(
        "/v1/track",
        &format!(r#"{{"writeKey":"{KEY}","event":"E","messageId":"#),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // A wrong key, or none in a body that was read, is still 401.
    for body in [
        json!({"writeKey": "wrong", "sentAt": "yesterday", "batch": []}).to_string(),
        r#"{"writeKey":"wrong","batch":["#.to_string(),
        json!({"sentAt": "yesterday", "batch": []}).to_string(),
        json!({"batch": [track("wk-2")]}).to_string(),
        r#"[{"writeKey":"demo-write-key"}]"#.to_string(),
    ] {
        let r = beacon("/v1/batch", &body);
        assert_eq!(r.status, 401, "{body}: {}", r.body);
    }
    assert_eq!(count(&s.db), 0);
}

/// Runs `buyerpath serve` expecting it to refuse to start: its exit status
/// and stderr (it is killed if it is still running after 20 s).
fn refused_start(dir: &Path, db: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(dir)
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--playbook")
        .arg(root().join("examples/acme/playbook.json"))
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the collector started ({extra:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn a_write_key_with_a_colon_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    for option in ["--write-key", "--trusted-write-key"] {
        let (code, err) = refused_start(dir.path(), &db, &[option, "site:key"]);
        assert_eq!(code, Some(2), "{option}: {err}");
        assert!(
            err.contains(&format!("{option}: a write key cannot contain `:`")),
            "{option}: {err}"
        );
        assert!(!err.contains("site:key"), "the key is not echoed: {err}");
    }
}

#[test]
fn a_foreign_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "another application's events table",
            "CREATE TABLE events(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO events(name) VALUES ('theirs');",
            "`events` table is not the collector's",
        ),
        (
            "a view named events",
            "CREATE TABLE t(x); CREATE VIEW events AS SELECT x FROM t;",
            "`events` is a view",
        ),
        (
            "a newer schema",
            "PRAGMA user_version = 9;",
            "newer than this collector's",
        ),
        (
            "another application's user_version",
            "CREATE TABLE accounts(id INTEGER PRIMARY KEY); PRAGMA user_version = 2;",
            "no `events` table",
        ),
    ];
    for (label, sql, why) in cases {
        let db = dir
            .path()
            .join(format!("{}.sqlite", label.replace(' ', "-")));
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let before = std::fs::read(&db).unwrap();
        let (code, err) = refused_start(dir.path(), &db, &[]);
        assert_eq!(code, Some(2), "{label}: {err}");
        assert!(
            err.contains("is not a buyerpath collector database") && err.contains(why),
            "{label}: {err}"
        );
        assert!(
            std::fs::read(&db).unwrap() == before,
            "{label}: the file changed"
        );
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        assert!(!wal.exists(), "{label}: {}", wal.display());
    }
    // A file that is not SQLite at all: the same refusal as before.
    let db = dir.path().join("notes.sqlite");
    std::fs::write(&db, "not a database, just text ".repeat(100)).unwrap();
    let (code, err) = refused_start(dir.path(), &db, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("file is not a database"), "{err}");
}

#[test]
fn an_imported_event_keeps_the_timestamp_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    // An event exported a month ago, replayed with all its times.
    let then = now_ms() - 30 * 86_400_000;
    let mut e = track("imported");
    e["timestamp"] = json!(iso(then));
    e["originalTimestamp"] = json!(iso(then - 2_000));
    let body = json!({"batch": [e], "sentAt": iso(then + 3_000)}).to_string();
    let r = post(&s.url, "/v1/import", &body, Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let (ts, original): (i64, i64) = db(&s.db)
        .query_row(
            "SELECT timestamp, original_timestamp FROM events WHERE message_id = 'imported'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(ts, then, "the client's timestamp, as it was given");
    assert_eq!(original, then - 2_000);
}

#[test]
fn an_unreadable_events_position_is_in_the_request_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let body = r#"{"sentAt":null,
 "batch":[{"type":"track","event":"E","messageId":"s1","anonymousId":"v","properties":{"x":"\ud800"}}]}"#;
    let whole = serde_json::from_str::<Value>(body).err().unwrap();
    assert_eq!(whole.line(), 2);
    let r = post(&s.url, "/v1/batch", body, Some(KEY), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let p = &r.body["rejected"][0]["problems"][0];
    assert_eq!(p["code"], "unreadable_event");
    assert_eq!(p["path"], "$.batch[0]");
    let message = p["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!(
            " at line {} column {}",
            whole.line(),
            whole.column()
        )),
        "{message} / {whole}"
    );
}

/// `/api/health`'s `events` once it is `n`: another process's rows are
/// counted at most once a second, so they may show up to a second late.
fn health_events_reach(url: &str, n: u64) -> Duration {
    let t = Instant::now();
    loop {
        let events = get(url, "/api/health").body["events"].as_u64();
        if events == Some(n) {
            return t.elapsed();
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{events:?}, not {n}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn another_process_writing_the_database_is_seen_by_the_views_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let events = [
        classified("w-0", json!("v-a"), "alpha.com"),
        classified("w-1", json!("v-b"), "alpha.com"),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let names = |v: &Value| -> BTreeSet<String> {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["account"].as_str().unwrap().to_string())
            .collect()
    };
    // Computed and cached.
    let before = get(&s.url, "/api/accounts");
    assert_eq!(
        names(&before.body),
        BTreeSet::from(["alpha.com".to_string()])
    );
    assert_eq!(get(&s.url, "/api/health").body["events"], 2);
    // Another connection (another process, the sqlite3 tool) adds signals
    // of another account.
    let other = db(&s.db);
    other.busy_timeout(Duration::from_secs(10)).unwrap();
    let copied = other
        .execute(
            "INSERT INTO events SELECT 'copy-' || message_id, type, event, anonymous_id || '-copy', user_id,
                 'beta.com', playbook_id, playbook_revision, received_at, sent_at, original_timestamp,
                 timestamp, replace(payload, 'alpha.com', 'beta.com'), trust FROM events",
            [],
        )
        .unwrap();
    assert_eq!(copied, 2);
    let after = get(&s.url, "/api/accounts");
    assert_eq!(
        names(&after.body),
        BTreeSet::from(["alpha.com".to_string(), "beta.com".to_string()]),
        "the view sees the other connection's commit"
    );
    let late = health_events_reach(&s.url, 4);
    assert!(late < Duration::from_millis(2_500), "{late:?}");
    // This process's own inserts show at once.
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[classified("w-3", json!("v-d"), "alpha.com")]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&s.url, "/api/health").body["events"], 5);
    // And a second collector on the same file.
    let second = Server::start(dir.path(), &[]);
    assert_eq!(second.db, s.db);
    let r = post(
        &second.url,
        "/v1/batch",
        &batch(&[classified("w-2", json!("v-c"), "gamma.com")]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(names(&get(&s.url, "/api/accounts").body).contains("gamma.com"));
    health_events_reach(&s.url, 6);
}

#[test]
fn a_key_repeated_in_an_event_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    // serde_json keeps the last copy (checked: printable), SQLite's
    // json_extract reads the first (a terminal escape).
    let body = r#"{"batch":[
        {"type":"track","event":"E","messageId":"dk-0","anonymousId":"v\u001b[31mEVIL","anonymousId":"ok"},
        {"type":"track","event":"E","messageId":"dk-1","anonymousId":"v","properties":{"account":"a.com","slots":[{"id":1,"id":2}]}},
        {"type":"track","event":"E","messageId":"dk-2","anonymousId":"v","properties":{"a b":1,"a b":2}},
        {"type":"track","event":"E","messageId":"dk-3","anonymousId":"v","properties":{"account":"a.com"}}
    ]}"#;
    let r = post(&s.url, "/v1/batch", body, Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 1);
    let rejected = r.body["rejected"].as_array().unwrap();
    let paths: Vec<&str> = rejected
        .iter()
        .map(|x| {
            let p = &x["problems"][0];
            assert_eq!(p["code"], "duplicate_key", "{x}");
            assert!(p["hint"].as_str().unwrap().contains("each key once"), "{p}");
            p["path"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "$.batch[0].anonymousId",
            "$.batch[1].properties.slots[0].id",
            "$.batch[2].properties[\"a b\"]"
        ]
    );
    assert_eq!(rejected[0]["messageId"], "dk-0");
    assert!(rejected[0]["reason"]
        .as_str()
        .unwrap()
        .contains("`anonymousId` appears more than once"));
    let c = db(&s.db);
    let stored: Vec<String> = c
        .prepare("SELECT json_extract(payload, '$.anonymousId') FROM events")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored, ["v"]);
    // A single-event endpoint, the same.
    let r = post(
        &s.url,
        "/v1/track",
        r#"{"event":"E","messageId":"dk-4","userId":"u","userId":"w"}"#,
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["rejected"][0]["problems"][0]["path"], "$.userId");
    assert_eq!(
        r.body["rejected"][0]["problems"][0]["code"],
        "duplicate_key"
    );
}

/// What Segment's own clients and docs send: analytics.js posts to `/v1/t`
/// and `/v1/b`, the HTTP API docs' examples have no `messageId`, and B2B
/// events name their account in `context.groupId`. A retried copy without a
/// `messageId` is stored once.
#[test]
fn segment_clients_short_paths_ids_and_group_ids_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let event = json!({"type": "track", "event": "Trial Started", "anonymousId": "seg-1",
        "timestamp": iso(now_ms() - 5_000), "context": {"groupId": "Initech.com"}})
    .to_string();
    for _ in 0..2 {
        let r = post(&s.url, "/v1/t", &event, Some(KEY), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(count(&s.db), 1, "a retried copy is one event");
    let r = post(&s.url, "/v1/b", &batch(&[track("via-b")]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(count(&s.db), 2);
    let (id, account): (String, String) = db(&s.db)
        .query_row(
            "SELECT message_id, account FROM events WHERE event = 'Trial Started'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(id.starts_with("bp-"), "{id}");
    assert_eq!(account, "initech.com");
    // A letter that names no endpoint is still a 404.
    let r = post(&s.url, "/v1/x", &event, Some(KEY), &[]);
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn the_loadtest_finds_every_acknowledged_batch_by_its_message_ids() {
    let out = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(root())
        .args([
            "loadtest",
            "--seconds",
            "1",
            "--concurrency",
            "2",
            "--batch",
            "20",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("stored"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("acknowledged events (each batch checked by messageId): none lost"),
        "{line}"
    );
    // `stored N of the N acknowledged events`, N > 0.
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1], words[4], "{line}");
    assert!(words[1].parse::<u64>().unwrap() > 0, "{line}");
    // Every acknowledged batch answered for every event it sent.
    assert!(!text.contains("MISCOUNTED"), "{text}");
}

/// The lift over the holdout is one figure: `/api/funnel` and `calibrate
/// content --db` on the same store count a visitor converted only by an MQL
/// or SQL after their first recommendation (not one reached before it or by
/// the recommending decision itself, and not a stage move).
#[test]
fn the_funnel_and_calibrate_content_report_one_lift() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let t0 = now_ms() - 3_600_000;
    let signal = |visitor: &str, event: &str, at: i64, props: Value| {
        json!({
            "type": "track", "event": event, "messageId": format!("{visitor}-{event}-{at}"),
            "anonymousId": visitor, "originalTimestamp": iso(at), "properties": props,
            "context": {"playbook": {"id": "lumora-b2b", "revision": 1}, "page": {"path": "/"}},
        })
    };
    let rec = |visitor: &str, at: i64, holdout: bool| {
        signal(
            visitor,
            "Content Recommended",
            at,
            json!({"holdout": holdout, "stage": "problem_identification",
                   "slots": [{"slot": "reading", "content_ids": ["blog-what-is-data-observability"]}]}),
        )
    };
    let events = [
        // Treated: MQL a second before the first recommendation.
        signal("t-before", "MQL Reached", t0, json!({})),
        rec("t-before", t0 + 1_000, false),
        // Treated: MQL by the recommending decision itself (same time).
        rec("t-same", t0, false),
        signal("t-same", "MQL Reached", t0, json!({})),
        // Treated: a forward stage move after it is progress, not a conversion.
        rec("t-stage", t0, false),
        signal(
            "t-stage",
            "Stage Changed",
            t0 + 60_000,
            json!({"from": "problem_identification", "to": "solution_exploration", "moved_back": false}),
        ),
        // Treated: MQL a minute after it: the one conversion.
        rec("t-after", t0, false),
        signal("t-after", "MQL Reached", t0 + 60_000, json!({})),
        rec("t-none", t0, false),
        // Holdout: SQL after the first (default-showing) recommendation.
        rec("h-after", t0, true),
        signal("h-after", "SQL Reached", t0 + 60_000, json!({})),
        rec("h-none", t0, true),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    let f = get(&s.url, "/api/funnel");
    assert_eq!(f.status, 200, "{}", f.body);
    let h = &f.body["revisions"][0]["holdout"];
    assert_eq!(
        h["treated"],
        json!({"visitors": 5, "converted": 1, "rate": 0.2}),
        "{h}"
    );
    assert_eq!(
        h["holdout"],
        json!({"visitors": 2, "converted": 1, "rate": 0.5}),
        "{h}"
    );
    assert_eq!(h["lift"], json!(-0.6), "{h}");
    assert!(h["lift_ci95"].is_array() && h["z"].is_number(), "{h}");
    assert!(h["counts"].as_str().unwrap().contains("after"), "{h}");

    let out = dir.path().join("pb2.json");
    let o = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(["calibrate", "content", "--playbook"])
        .arg(root().join("examples/acme/playbook.json"))
        .arg("--db")
        .arg(&s.db)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pb2.content.json")).unwrap(),
    )
    .unwrap();
    let l = &report["lift"];
    let pairs = [
        ("treated_visitors", &h["treated"]["visitors"]),
        ("treated_converted", &h["treated"]["converted"]),
        ("treated_rate", &h["treated"]["rate"]),
        ("holdout_visitors", &h["holdout"]["visitors"]),
        ("holdout_converted", &h["holdout"]["converted"]),
        ("holdout_rate", &h["holdout"]["rate"]),
        ("lift", &h["lift"]),
        ("lift_ci95", &h["lift_ci95"]),
        ("difference_ci95", &h["difference_ci95"]),
        ("z", &h["z"]),
    ];
    for (k, api) in pairs {
        assert_eq!(&l[k], api, "{k}: CLI {l} vs API {h}");
    }
}

/// `/api/accounts` pages (`offset`, `limit`, with `matching` and `total`)
/// and filters by fit tier, qualification and a part of the name; an
/// unknown parameter on it or on `/api/funnel` is a 400 naming it.
#[test]
fn accounts_page_and_filter_and_unknown_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let signal = |account: &str, tier: &str, engagement: f64, gates: &[&str]| {
        json!({
            "type": "track", "event": "Visitor Classified", "messageId": account,
            "anonymousId": format!("v-{account}"), "originalTimestamp": iso(now - 60_000),
            "properties": {"account": account, "fit_tier": tier, "fit_score": 50.0,
                           "engagement_score": engagement, "qualified": gates.is_empty(),
                           "failed_gates": gates},
            "context": {"playbook": {"id": "lumora-b2b", "revision": 1}},
        })
    };
    let events = [
        signal("alpha-one.com", "A", 90.0, &[]),
        signal("beta.com", "A", 50.0, &[]),
        signal("alpha-two.com", "B", 80.0, &[]),
        signal("gamma.com", "C", 70.0, &[]),
        signal("rival-alpha.com", "A", 99.0, &["competitors"]),
    ];
    let r = post(&s.url, "/v1/batch", &batch(&events), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let names = |path: &str| -> (Value, Vec<String>) {
        let a = get(&s.url, path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let list = a.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["account"].as_str().unwrap().to_string())
            .collect();
        (a.body, list)
    };
    let (all, order) = names("/api/accounts");
    assert_eq!(
        order,
        [
            "alpha-one.com",
            "beta.com",
            "alpha-two.com",
            "gamma.com",
            "rival-alpha.com"
        ]
    );
    assert_eq!(
        (all["total"].clone(), all["matching"].clone()),
        (json!(5), json!(5))
    );

    // Pages: the next one starts where the last one stopped, ranks kept.
    let (first, rows) = names("/api/accounts?limit=2");
    assert_eq!(rows, order[..2]);
    assert_eq!(
        (first["offset"].clone(), first["limit"].clone()),
        (json!(0), json!(2))
    );
    let (next, rows) = names("/api/accounts?limit=2&offset=2");
    assert_eq!(rows, order[2..4]);
    assert_eq!(next["accounts"][0]["rank"], 3);
    assert_eq!(
        (next["total"].clone(), next["matching"].clone()),
        (json!(5), json!(5))
    );
    let (past, rows) = names("/api/accounts?offset=10");
    assert!(rows.is_empty() && past["matching"] == 5, "{past}");

    // Filters, alone and together; `total` still counts every account.
    let (tier, rows) = names("/api/accounts?tier=A");
    assert_eq!(rows, ["alpha-one.com", "beta.com", "rival-alpha.com"]);
    assert_eq!(
        (tier["matching"].clone(), tier["total"].clone()),
        (json!(3), json!(5))
    );
    assert_eq!(tier["accounts"][2]["rank"], 5);
    assert_eq!(
        names("/api/accounts?qualified=false").1,
        ["rival-alpha.com"]
    );
    assert_eq!(names("/api/accounts?qualified=true").1, order[..4]);
    assert_eq!(
        names("/api/accounts?q=ALPHA").1,
        ["alpha-one.com", "alpha-two.com", "rival-alpha.com"]
    );
    assert_eq!(
        names("/api/accounts?q=alpha&tier=A&qualified=true").1,
        ["alpha-one.com"]
    );
    assert_eq!(names("/api/accounts?q=").1, order);

    // A value that is none, and a parameter the view does not take.
    let bad = refused_parameter(&s.url, "/api/accounts?qualified=yes", "qualified");
    assert!(
        bad.body["hint"].as_str().unwrap().contains("true or false"),
        "{}",
        bad.body
    );
    refused_parameter(&s.url, "/api/accounts?limit=ten", "limit");
    refused_parameter(&s.url, "/api/funnel?as_of=yesterday", "as_of");
    assert!(
        bad.body["error"]
            .as_str()
            .unwrap()
            .starts_with("qualified:"),
        "{}",
        bad.body
    );
    for (path, name, takes) in [
        ("/api/accounts?limt=5", "limt", "offset"),
        ("/api/funnel?revison=1", "revison", "revision"),
        (
            "/api/calibration?asof=2026-11-23T00:00:00Z",
            "asof",
            "as_of",
        ),
    ] {
        let r = refused_parameter(&s.url, path, name);
        assert!(
            r.body["error"].as_str().unwrap().starts_with(name),
            "{}",
            r.body
        );
        let hint = r.body["hint"].as_str().unwrap();
        assert!(hint.contains(takes) && hint.contains("as_of"), "{hint}");
    }
    // A parameter given twice is refused, not read as the last one.
    for (path, name) in [
        ("/api/accounts?limit=10&limit=20", "limit"),
        (
            "/api/funnel?as_of=2026-11-23T00:00:00Z&as_of=2026-11-24T00:00:00Z",
            "as_of",
        ),
        (
            "/api/calibration?as_of=2026-11-23T00:00:00Z&as_of=x",
            "as_of",
        ),
    ] {
        let r = refused_parameter(&s.url, path, name);
        assert!(
            r.body["error"].as_str().unwrap().contains("more than once"),
            "{}",
            r.body
        );
    }
    // A time that is none, with or without a calibration candidate, and a
    // date with signs in it.
    for path in [
        "/api/calibration?as_of=garbage",
        "/api/funnel?as_of=2026-%2B1-%2B5T00:00:00Z",
    ] {
        let r = get(&s.url, path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.body["code"], "invalid_parameter", "{}", r.body);
    }
}

/// A group call's account is its own `groupId`, whatever the context says;
/// an account with a control character is refused at its path, and a
/// `groupId` too long is said once.
#[test]
fn a_group_calls_own_group_id_wins_and_accounts_are_printable() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let mut moved = unplaced("gi-1", json!("v-moved"));
    moved["originalTimestamp"] = json!(iso(now - 60_000));
    let group = json!({"type": "group", "messageId": "gi-2", "anonymousId": "v-moved",
        "groupId": "New.com", "context": {"groupId": "old.com"},
        "originalTimestamp": iso(now - 30_000)});
    let bell = classified("gi-3", json!("v-2"), "evil\u{7}.com");
    let mut escape = unplaced("gi-4", json!("v-3"));
    escape["context"]["groupId"] = json!("\u{1b}[31mred.com");
    let long = json!({"type": "group", "messageId": "gi-5", "anonymousId": "v-4",
        "groupId": format!("{}.com", "a".repeat(300))});
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[moved, group, bell, escape, long]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["accepted"], 2, "{}", r.body);
    let rejected = r.body["rejected"].as_array().unwrap();
    let problems = |i: usize| -> Vec<(String, String)> {
        let x = rejected.iter().find(|x| x["index"] == i).unwrap();
        x["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["code"].as_str().unwrap().to_string(),
                    p["path"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let one = |code: &str, path: &str| vec![(code.to_string(), path.to_string())];
    assert_eq!(
        problems(2),
        one("invalid_value", "$.batch[2].properties.account")
    );
    assert_eq!(
        problems(3),
        one("invalid_value", "$.batch[3].context.groupId")
    );
    assert_eq!(problems(4), one("too_long", "$.batch[4].groupId"));
    let v = get(&s.url, "/api/accounts").body;
    assert_eq!(account_names(&v), ["new.com"], "{v}");
}

/// Another process's `INSERT OR REPLACE` (whose delete fires no trigger), and
/// a change the writer pruned from the log before the views read it: the
/// views still show the store as it is.
#[test]
fn a_replaced_row_and_a_pruned_change_log_are_read_right() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = account_names(v).into_iter().map(String::from).collect();
        n.sort();
        n
    };
    let mut alpha = classified("u-alpha", json!("v-a"), "alpha.com");
    alpha["originalTimestamp"] = json!(iso(now - 60_000));
    let mut beta = classified("u-beta", json!("v-b"), "beta.com");
    beta["originalTimestamp"] = json!(iso(now - 50_000));
    let r = post(&s.url, "/v1/batch", &batch(&[alpha, beta]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        names(&get(&s.url, "/api/accounts").body),
        ["alpha.com", "beta.com"]
    );

    // Another process replaces alpha's row with one for gamma.com.
    let other = db(&s.db);
    other.busy_timeout(Duration::from_secs(10)).unwrap();
    let replaced = other
        .execute(
            "INSERT OR REPLACE INTO events (message_id, type, event, anonymous_id, user_id,
                 account, playbook_id, playbook_revision, received_at, sent_at,
                 original_timestamp, timestamp, payload, trust)
             SELECT message_id, type, event, anonymous_id, user_id, 'gamma.com', playbook_id,
                 playbook_revision, received_at, sent_at, original_timestamp, timestamp,
                 replace(payload, 'alpha.com', 'gamma.com'), trust
             FROM events WHERE message_id = 'u-alpha'",
            [],
        )
        .unwrap();
    assert_eq!(replaced, 1);
    assert_eq!(count(&s.db), 2);
    assert_eq!(
        names(&get(&s.url, "/api/accounts").body),
        ["beta.com", "gamma.com"]
    );

    // It deletes beta's row, then logs more changes (of one row that is
    // none) than the writer keeps (100,000), and the collector commits.
    other
        .execute("DELETE FROM events WHERE message_id = 'u-beta'", [])
        .unwrap();
    other
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100010)
             INSERT INTO changed (row) SELECT -1 FROM n",
            [],
        )
        .unwrap();
    let mut delta = classified("u-delta", json!("v-d"), "delta.com");
    delta["originalTimestamp"] = json!(iso(now - 40_000));
    let r = post(&s.url, "/v1/batch", &batch(&[delta]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let kept: i64 = other
        .query_row("SELECT count(*) FROM changed", [], |r| r.get(0))
        .unwrap();
    assert!(kept <= 100_000, "the log is pruned: {kept} entries");
    assert_eq!(
        names(&get(&s.url, "/api/accounts").body),
        ["delta.com", "gamma.com"],
        "the delete, pruned from the log, is not missed"
    );
}

/// The views keep the signals they read and read only what changed since:
/// new rows, a row an asserted event's verified copy replaced in place, a
/// row another process deleted, and an event that arrives late (a time
/// before signals already read) all show in the next view as a fresh read
/// of the whole store would show them.
#[test]
fn the_views_follow_new_upgraded_deleted_and_late_rows() {
    const TRUSTED: &str = "edge-secret-key";
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &["--trusted-write-key", TRUSTED]);
    let at = |e: &mut Value, ms: i64| e["originalTimestamp"] = json!(iso(ms));
    let now = now_ms();
    let mut alpha = classified("u-alpha", json!("v-a"), "alpha.com");
    alpha["properties"]["fit_tier"] = json!("C");
    at(&mut alpha, now - 60_000);
    let mut beta = classified("u-beta", json!("v-b"), "beta.com");
    at(&mut beta, now - 50_000);
    let r = post(
        &s.url,
        "/v1/batch",
        &batch(&[alpha.clone(), beta]),
        Some(KEY),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let account = |view: &Value, name: &str| -> Option<Value> {
        view["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == name)
            .cloned()
    };
    let v = get(&s.url, "/api/accounts").body;
    let a = account(&v, "alpha.com").unwrap();
    assert_eq!(
        (&a["fit_tier"], &a["firmographics"]),
        (&json!("C"), &json!("asserted"))
    );
    assert!(account(&v, "beta.com").is_some());

    // The edge's verified copy of the same event replaces the stored row.
    let mut verified = alpha.clone();
    verified["properties"]["fit_tier"] = json!("A");
    let r = post(&s.url, "/v1/batch", &batch(&[verified]), Some(TRUSTED), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    // Another process deletes beta's row.
    let other = db(&s.db);
    other.busy_timeout(Duration::from_secs(10)).unwrap();
    let gone = other
        .execute("DELETE FROM events WHERE message_id = 'u-beta'", [])
        .unwrap();
    assert_eq!(gone, 1);
    // A late event: a new visitor of alpha seen before everything above,
    // in another stage.
    let mut late = classified("u-late", json!("v-late"), "alpha.com");
    late["properties"]["stage"] = json!("solution_exploration");
    at(&mut late, now - 120_000);
    let r = post(&s.url, "/v1/batch", &batch(&[late]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);

    let v = get(&s.url, "/api/accounts").body;
    let a = account(&v, "alpha.com").unwrap();
    assert_eq!(
        (&a["fit_tier"], &a["firmographics"]),
        (&json!("A"), &json!("verified")),
        "the upgraded row is read again: {a}"
    );
    assert_eq!(
        account(&v, "beta.com"),
        None,
        "the deleted row is gone: {v}"
    );
    assert_eq!(a["visitors"], 2, "{a}");
    let history: Vec<&str> = a["stage_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["visitor"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["v-late", "v-a"], "in time order: {a}");
    // A second collector started on the same file reads it whole: the same view.
    let fresh = Server::start(dir.path(), &["--trusted-write-key", TRUSTED]);
    let mut whole = get(&fresh.url, "/api/accounts").body;
    let mut kept = v.clone();
    for view in [&mut whole, &mut kept] {
        view.as_object_mut().unwrap().remove("as_of");
    }
    assert_eq!(kept, whole);
    // And `as_of` before the late event's time reads none of it.
    let before = get(
        &s.url,
        &format!("/api/accounts?as_of={}", iso(now - 180_000)),
    )
    .body;
    assert_eq!(before["total"], 0, "{before}");
}

/// A visitor the engine could not place (no enrichment: its signals name no
/// account) is placed by Segment's group call, as analytics.js makes it for
/// a signed-in user: the views count its signals for the group's account. A
/// group call is no activity of the account's, but the views read up to it.
#[test]
fn a_group_call_places_a_visitor_the_engine_could_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let now = now_ms();
    let mut anon = unplaced("g-1", json!("v-anon"));
    anon["originalTimestamp"] = json!(iso(now - 60_000));
    let group = json!({"type": "group", "messageId": "g-2", "anonymousId": "v-anon",
        "groupId": "initech.com", "traits": {"name": "Initech"},
        "originalTimestamp": iso(now - 30_000)});
    let r = post(&s.url, "/v1/batch", &batch(&[anon, group]), Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = get(&s.url, "/api/accounts").body;
    assert_eq!(account_names(&v), ["initech.com"], "{v}");
    assert_eq!(v["accounts"][0]["visitors"], 1);
    assert_eq!(v["accounts"][0]["fit_tier"], "A");
    // The views' time is the group call's, 30 s after the signal (clocks
    // corrected by a few milliseconds at most), and the account's activity
    // the signal's alone.
    let as_of = v["as_of"].as_str().unwrap();
    assert!(as_of > iso(now - 40_000).as_str(), "{as_of}");
    let last_seen = v["accounts"][0]["last_seen"].as_str().unwrap();
    assert!(last_seen < iso(now - 50_000).as_str(), "{last_seen}");
    let f = get(&s.url, "/api/funnel").body;
    assert_eq!(f["revisions"].as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f["revisions"][0]["signals"], 1, "{f}");
    assert_eq!(f["revisions"][0]["accounts"], 1, "{f}");
}
