//! Shared helpers for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use buyerpath::{DecideRequest, Engine, Event, Visitor};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn example_engine() -> Engine {
    Engine::from_json(&read("examples/acme/playbook.json")).expect("example playbook compiles")
}

pub fn example_playbook() -> serde_json::Value {
    serde_json::from_str(&read("examples/acme/playbook.json")).unwrap()
}

/// 2026-11-02T09:00:00Z.
pub const T0: u64 = 1_793_610_000_000;
pub const MIN: u64 = 60_000;
pub const DAY: u64 = 86_400_000;

pub fn ev(json: serde_json::Value) -> Event {
    Event::from_value(&json).unwrap()
}

pub fn req(now: u64, ctx: serde_json::Value) -> DecideRequest {
    DecideRequest::from_value(&serde_json::json!({ "now": now, "context": ctx })).unwrap()
}

/// A realistic 200-event visitor on the example playbook: sessions over 60
/// days reading the catalogue, with clicks, a download and a form.
pub fn visitor_with_events(engine: &Engine, n: usize) -> (Visitor, u64) {
    let pb = example_playbook();
    let ids: Vec<String> = pb["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut v = engine
        .visitor("5f0c2a9e-1b7d-4c3e-9a61-2f8d7e4b1c05")
        .unwrap();
    let mut t = T0;
    for i in 0..n {
        // a session of 5 events every ~7 hours, a minute or two apart
        t += if i % 5 == 0 { 7 * 3_600_000 } else { 97_000 };
        // walks the whole catalogue, with returns to earlier pages
        let id = &ids[(i * 7 + i / 9) % ids.len()];
        let e = match i % 10 {
            3 => serde_json::json!({"type":"cta_click","ts":t,"content_id":id,"cta":"pricing"}),
            7 => serde_json::json!({"type":"download","ts":t,"content_id":id}),
            _ => {
                serde_json::json!({"type":"page_view","ts":t,"content_id":id,"url":format!("/c/{id}"),"dwell_seconds": (i % 9) * 20})
            }
        };
        engine.observe(&mut v, &ev(e));
    }
    (v, t)
}

pub fn path(p: &str) -> &Path {
    Path::new(p)
}

/// The shared journey vectors (`tests/vectors/*.json`), by file name.
pub fn vectors() -> Vec<(String, serde_json::Value)> {
    let dir = root().join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect()
}
