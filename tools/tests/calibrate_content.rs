//! `buyerpath calibrate content`: what counts as a click (one visit is at
//! most one click, and a decision never clicks its own recommendation), which
//! signals count (those decided under the playbook's revision, unless
//! `--from-revision` says otherwise, from a JSONL file or the collector's
//! store), timestamps with offsets, and time near-linear in a visitor's
//! signals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn playbook() -> PathBuf {
    common::root().join("examples/acme/playbook.json")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap()
}

/// The example playbook with another revision, written into `dir`.
fn playbook_at(dir: &Path, revision: u64) -> PathBuf {
    let mut pb: Value =
        serde_json::from_str(&std::fs::read_to_string(playbook()).unwrap()).unwrap();
    pb["revision"] = json!(revision);
    let p = dir.join(format!("pb{revision}.json"));
    std::fs::write(&p, serde_json::to_string_pretty(&pb).unwrap()).unwrap();
    p
}

/// One signal as the engine sends it (`revision`: `context.playbook`'s).
fn sig(
    visitor: &str,
    event: &str,
    ts: impl Into<Value>,
    path: &str,
    props: Value,
    revision: Option<u64>,
) -> Value {
    let mut context = json!({"page": {"path": path}});
    if let Some(r) = revision {
        context["playbook"] = json!({"id": "lumora-b2b", "revision": r});
    }
    json!({"type": "track", "event": event, "anonymousId": visitor, "timestamp": ts.into(),
           "context": context, "properties": props})
}

/// A `Content Recommended` of `ids` in one slot.
fn rec(visitor: &str, ts: impl Into<Value>, path: &str, ids: &[&str], rev: Option<u64>) -> Value {
    sig(
        visitor,
        "Content Recommended",
        ts,
        path,
        json!({"holdout": false, "stage": "solution_exploration",
               "slots": [{"slot": "reading", "content_ids": ids}]}),
        rev,
    )
}

/// Another signal on `path` (a page the visitor opened).
fn visit(visitor: &str, ts: impl Into<Value>, path: &str, rev: Option<u64>) -> Value {
    sig(visitor, "Visitor Classified", ts, path, json!({}), rev)
}

fn write_signals(dir: &Path, name: &str, signals: &[Value]) -> PathBuf {
    let p = dir.join(name);
    let text: String = signals.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `calibrate content` into `dir/<name>.json`: the output and, when it
/// succeeded, its JSON report.
fn content(dir: &Path, name: &str, pb: &Path, source: &[&str], extra: &[&str]) -> (Output, Value) {
    let out = dir.join(format!("{name}.json"));
    let mut args = vec![
        "calibrate",
        "content",
        "--playbook",
        s(pb),
        "--out",
        s(&out),
    ];
    args.extend_from_slice(source);
    args.extend_from_slice(extra);
    let o = run(&args);
    let report = std::fs::read_to_string(out.with_extension("content.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(Value::Null);
    (o, report)
}

fn ok_report(dir: &Path, name: &str, pb: &Path, source: &[&str], extra: &[&str]) -> Value {
    let (o, r) = content(dir, name, pb, source, extra);
    assert!(
        o.status.success(),
        "{name} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    r
}

/// (impressions, clicks) of one content item in a report.
fn counts(r: &Value, id: &str) -> (u64, u64) {
    let p = r["priors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_id"] == id && p.get("stage").is_none())
        .unwrap();
    (
        p["impressions"].as_u64().unwrap(),
        p["clicks"].as_u64().unwrap(),
    )
}

const ITEM: &str = "compare-pipewatch";
const ITEM_PAGE: &str = "/compare/lumora-vs-pipewatch";
const T: i64 = 1_796_112_000_000; // 2026-12-01T10:00:00Z
const MIN: i64 = 60_000;

/// A click is the visitor's next page after the recommending one, within
/// 30 minutes, being the item's page, and one visit credits only the last
/// recommendation of the item before it.
#[test]
fn one_visit_is_one_click_on_the_last_recommendation_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let signals = [
        // Recommended on three pages in turn, opened once: 1 click of 3.
        rec("v1", T, "/", &[ITEM], None),
        rec("v1", T + MIN, "/blog/column-level-lineage", &[ITEM], None),
        rec("v1", T + 2 * MIN, "/docs/quickstart", &[ITEM], None),
        visit("v1", T + 3 * MIN, ITEM_PAGE, None),
        // The same page reloaded, then opened: 1 click of 2.
        rec("v2", T, "/", &[ITEM], None),
        rec("v2", T + MIN, "/", &[ITEM], None),
        visit("v2", T + 2 * MIN, ITEM_PAGE, None),
        // Opened 31 minutes later: no click.
        rec("v3", T, "/", &[ITEM], None),
        visit("v3", T + 31 * MIN, ITEM_PAGE, None),
        // A CTA Clicked naming it on the recommending page: a click.
        rec("v4", T, "/", &[ITEM], None),
        sig(
            "v4",
            "CTA Clicked",
            T + MIN / 2,
            "/",
            json!({"content_id": ITEM}),
            None,
        ),
        visit("v4", T + MIN, "/pricing", None),
        // Another page first, the item's page after it: no click.
        rec("v5", T, "/", &[ITEM], None),
        visit("v5", T + MIN, "/pricing", None),
        visit("v5", T + 5 * MIN, ITEM_PAGE, None),
    ];
    let file = write_signals(dir.path(), "s.jsonl", &signals);
    let r = ok_report(dir.path(), "c", &playbook(), &["--signals", s(&file)], &[]);
    assert_eq!(counts(&r, ITEM), (8, 3), "{r}");
    assert_eq!(
        (r["impressions"].as_u64(), r["clicks"].as_u64()),
        (Some(8), Some(3))
    );
}

/// The signals a decision sends with its recommendation (same time, same
/// page: SQL Reached, a sales trigger on /demo) are not a click on it.
#[test]
fn a_decisions_own_signals_are_not_its_click() {
    let dir = tempfile::tempdir().unwrap();
    let signals = [
        rec("v1", T, "/demo", &["demo-request"], None),
        sig("v1", "SQL Reached", T, "/demo", json!({}), None),
        sig("v1", "Sales Trigger Fired", T, "/demo", json!({}), None),
    ];
    let file = write_signals(dir.path(), "s.jsonl", &signals);
    let r = ok_report(dir.path(), "c", &playbook(), &["--signals", s(&file)], &[]);
    assert_eq!(counts(&r, "demo-request"), (1, 0), "{r}");
}

/// `--signals` reads an RFC 3339 offset as the store does: 10:20+02:00 is
/// 20 minutes after 08:00Z. A date-time without a zone is refused.
#[test]
fn signals_file_timestamps_keep_their_offset() {
    let dir = tempfile::tempdir().unwrap();
    let signals = [
        rec("v1", "2026-12-01T08:00:00Z", "/", &[ITEM], None),
        visit("v1", "2026-12-01T10:20:00+02:00", ITEM_PAGE, None),
        rec("v2", "2026-12-01T08:00:00.000-05:00", "/", &[ITEM], None),
        visit("v2", "2026-12-01T13:10:00Z", ITEM_PAGE, None),
    ];
    let file = write_signals(dir.path(), "s.jsonl", &signals);
    let r = ok_report(dir.path(), "c", &playbook(), &["--signals", s(&file)], &[]);
    assert_eq!(counts(&r, ITEM), (2, 2), "{r}");

    let file = write_signals(
        dir.path(),
        "zoneless.jsonl",
        &[rec("v1", "2026-12-01T08:00:00", "/", &[ITEM], None)],
    );
    let (o, _) = content(dir.path(), "z", &playbook(), &["--signals", s(&file)], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 1") && err.contains("2026-12-01T08:00:00"),
        "{err}"
    );
}

/// Ten visitors who clicked under revision 1, ten who did not under
/// revision 2 (and one of another playbook).
fn two_revisions() -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..10 {
        let t = T + i * 10 * MIN;
        let v = format!("a{i}");
        out.push(rec(&v, t, "/", &[ITEM], Some(1)));
        out.push(visit(&v, t + MIN, ITEM_PAGE, Some(1)));
        let v = format!("b{i}");
        out.push(rec(&v, t, "/", &[ITEM], Some(2)));
        out.push(visit(&v, t + MIN, "/pricing", Some(2)));
    }
    let mut other = rec("c0", T, "/", &[ITEM], Some(2));
    other["context"]["playbook"]["id"] = json!("another-playbook");
    out.push(other);
    out
}

/// The counts a revision-2 playbook learns from `source`, by default and
/// with `--from-revision 1`, and the report of the default.
fn learn_revision_two(dir: &Path, source: &[&str]) {
    let pb2 = playbook_at(dir, 2);
    let r = ok_report(dir, "d", &pb2, source, &[]);
    assert_eq!(counts(&r, ITEM), (10, 0), "{r}");
    assert_eq!(r["from_revision"], 2, "{r}");
    assert_eq!(r["left_out"]["earlier_revisions"], json!({"1": 10}), "{r}");
    assert_eq!(r["left_out"]["other_playbooks"], 1, "{r}");
    let r = ok_report(dir, "e", &pb2, source, &["--from-revision", "1"]);
    assert_eq!(counts(&r, ITEM), (20, 10), "{r}");
    assert_eq!(r["left_out"]["earlier_revisions"], json!({}), "{r}");

    // Revision 3, calibrated from the same signals, has nothing new to learn.
    let pb3 = playbook_at(dir, 3);
    let (o, _) = content(dir, "f", &pb3, source, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("revision 3")
            && err.contains("20 were decided under earlier revisions")
            && err.contains("--from-revision"),
        "{err}"
    );
}

/// Re-running on the revision a run wrote does not count the same signals
/// again: by default only the playbook's own revision counts.
#[test]
fn signals_of_earlier_revisions_are_left_out_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_signals(dir.path(), "s.jsonl", &two_revisions());
    learn_revision_two(dir.path(), &["--signals", s(&file)]);
    let pb2 = playbook_at(dir.path(), 2);
    let (o, _) = content(dir.path(), "g", &pb2, &["--signals", s(&file)], &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("left out 10 recommendations decided under revision 1"),
        "{stdout}"
    );
}

/// The same from the collector's store.
#[test]
fn the_stores_signals_are_counted_by_their_revision() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start(dir.path(), &[]);
    let base = common::now_ms() - 6 * 3_600_000;
    let batch: Vec<Value> = two_revisions()
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            let t = v["timestamp"].as_i64().unwrap() - T + base;
            v["timestamp"] = json!(common::iso(t));
            v["messageId"] = json!(format!("m{i}"));
            v
        })
        .collect();
    let body = json!({ "batch": batch }).to_string();
    let r = common::post(&server.url, "/v1/batch", &body, Some(common::KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    drop(server);
    let db = dir.path().join("collector.sqlite");
    learn_revision_two(dir.path(), &["--db", s(&db)]);
}

/// One visitor with 60,000 recommendations over 7 days: near-linear time
/// (the 7-day progress window was scanned again for every impression).
#[test]
fn a_visitor_with_many_signals_is_read_in_near_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let n = 60_000i64;
    let step = 10_000; // 60,000 × 10 s ≈ 6.9 days
    let mut signals: Vec<Value> = (0..n)
        .map(|i| rec("heavy", T + i * step, "/blog/x", &[ITEM], None))
        .collect();
    let moved = T + n * step + 86_400_000;
    signals.push(sig(
        "heavy",
        "Stage Changed",
        moved,
        "/pricing",
        json!({"from": "solution_exploration", "to": "requirements_building"}),
        None,
    ));
    let file = write_signals(dir.path(), "s.jsonl", &signals);
    let out = dir.path().join("c.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .args(["calibrate", "content", "--playbook", s(&playbook())])
        .args(["--signals", s(&file), "--out", s(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let limit = Duration::from_secs(15);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("60,000 signals of one visitor took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("content.json")).unwrap())
            .unwrap();
    let p = r["priors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_id"] == ITEM && p.get("stage").is_none())
        .unwrap();
    // Progress: the recommendations within 7 days before the stage move.
    let within = (0..n)
        .filter(|i| moved - (T + i * step) <= 7 * 86_400_000)
        .count();
    assert_eq!(p["impressions"], n);
    assert_eq!(p["clicks"], 0);
    assert_eq!(p["progress"], within);
}
