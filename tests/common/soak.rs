//! The soak workload shared by `tests/soak.rs` (CI size, debug build) and
//! `examples/soak.rs` (1,000,000 events and decisions, release build): one
//! visitor fed a long stream of events, and one engine kept alive for many
//! decisions over a pool of visitors whose states live as encoded strings
//! (as an edge or a server keeps them). At every checkpoint: the encoded state
//! length, the visitor's bounded lists, and the live heap bytes counted by the
//! binary's global allocator (`stats_alloc`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use buyerpath::{DecideRequest, Engine, Event, Visitor};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

/// The allocator every soak binary installs.
#[global_allocator]
pub static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap bytes right now.
pub fn live_bytes() -> i64 {
    // `realloc` already moves `bytes_allocated`/`bytes_deallocated` by the difference.
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// 2026-11-02T09:00:00Z.
const T0: u64 = 1_793_610_000_000;

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Events observed (or decisions made) so far.
    pub n: u64,
    /// Length of the encoded (unsigned) state, characters.
    pub encoded: usize,
    /// Entries in the state's lists (recent + consumed + rules + evidence).
    pub entries: usize,
    /// Live heap bytes.
    pub live: i64,
}

fn content_ids(playbook: &serde_json::Value) -> Vec<String> {
    playbook["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// The i-th event of an endless, realistic stream: sessions of page views,
/// clicks, downloads and forms over the whole catalogue, and every 50th
/// session a bot-like burst.
fn event(ids: &[String], i: u64, t: &mut u64) -> Event {
    let session = i / 8;
    *t += if i % 8 == 0 { 5 * 3_600_000 } else { 45_000 };
    let burst = session % 50 == 49;
    if burst {
        *t -= 44_900; // eight events 100 ms apart
    }
    let id = &ids[((i * 7 + i / 11) % ids.len() as u64) as usize];
    let json = match i % 13 {
        3 => serde_json::json!({"type": "cta_click", "ts": *t, "content_id": id, "cta": "pricing"}),
        7 => serde_json::json!({"type": "download", "ts": *t, "content_id": id}),
        11 => serde_json::json!({"type": "form_submit", "ts": *t, "form": "newsletter",
            "fields": {"budget": "$50k-$250k", "timeline": "this quarter"}}),
        12 => serde_json::json!({"type": "custom", "ts": *t, "name": format!("n{}", i % 97)}),
        _ => serde_json::json!({"type": "page_view", "ts": *t, "content_id": id,
            "url": format!("/c/{id}?utm_source=s{}", i % 31), "dwell_seconds": (i % 9) * 20}),
    };
    Event::from_value(&json).unwrap()
}

fn request(now: u64, i: u64) -> DecideRequest {
    let consent = ["anonymous", "full"][(i % 2) as usize];
    DecideRequest::from_value(&serde_json::json!({
        "now": now,
        "slots": ["hero", "cta", "reading", "sidebar"],
        "context": {"consent": consent,
            "company": {"domain": format!("co{}.example", i % 1000), "industry": "financial_services",
                "employees": 200 + (i % 5000), "country": "US", "region": "NY"},
            "person": {"title": "VP Engineering"},
            "campaign": {"source": format!("s{}", i % 17), "medium": "cpc"},
            "page": {"url": format!("/c/{}", i % 63)}}
    }))
    .unwrap()
}

fn entries(v: &Visitor) -> usize {
    let s = v.state();
    s.recent.len()
        + s.consumed.len()
        + s.rules.len()
        + s.stages.len()
        + s.roles.len()
        + s.topics.len()
}

/// One visitor fed `events` events (a decision every 1,000), measured every `every`.
pub fn events(
    engine: &Engine,
    playbook: &serde_json::Value,
    events: u64,
    every: u64,
) -> Vec<Point> {
    let ids = content_ids(playbook);
    let mut v = engine.visitor("soak-visitor").unwrap();
    let mut t = T0;
    let mut out = Vec::new();
    for i in 0..events {
        let e = event(&ids, i, &mut t);
        engine.observe(&mut v, &e);
        if i % 1000 == 999 {
            engine.decide(&mut v, &request(t + 1000, i)).unwrap();
        }
        if (i + 1) % every == 0 {
            let encoded = engine.encode(&v, None).len();
            out.push(Point {
                n: i + 1,
                encoded,
                entries: entries(&v),
                live: live_bytes(),
            });
        }
    }
    out
}

/// `decisions` decisions on one engine over a pool of `pool` visitors whose
/// states are kept encoded between calls (decode → observe → decide → encode),
/// measured every `every`.
pub fn decisions(
    engine: &Engine,
    playbook: &serde_json::Value,
    decisions: u64,
    pool: usize,
    every: u64,
) -> Vec<Point> {
    let ids = content_ids(playbook);
    let secret: &[u8] = b"soak-secret";
    // Pre-size the pool so its own growth is not counted as the engine's.
    let mut states: Vec<String> = (0..pool)
        .map(|p| {
            let v = engine.visitor(&format!("pool-{p}")).unwrap();
            let mut s = engine.encode(&v, Some(secret));
            s.reserve(
                buyerpath::visitor::STATE_BUDGET + 64
                    - s.len().min(buyerpath::visitor::STATE_BUDGET),
            );
            s
        })
        .collect();
    let mut t = T0;
    let mut out = Vec::new();
    for i in 0..decisions {
        let slot = (i % pool as u64) as usize;
        let mut v = engine.decode(&states[slot], Some(secret)).unwrap().visitor;
        let e = event(&ids, i, &mut t);
        engine.observe(&mut v, &e);
        let d = engine.decide(&mut v, &request(t + 500, i)).unwrap();
        std::hint::black_box(&d);
        drop(d);
        let enc = engine.encode(&v, Some(secret));
        states[slot].clear();
        states[slot].push_str(&enc);
        if (i + 1) % every == 0 {
            out.push(Point {
                n: i + 1,
                encoded: states.iter().map(String::len).max().unwrap_or(0),
                entries: entries(&v),
                live: live_bytes(),
            });
        }
    }
    out
}

/// Live-heap growth from the first checkpoint (after warm-up) to the last.
pub fn growth(points: &[Point]) -> i64 {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) => b.live - a.live,
        _ => 0,
    }
}

pub fn print(label: &str, points: &[Point]) {
    println!("{label}");
    println!(
        "  {:>10}  {:>8}  {:>8}  {:>12}",
        "n", "encoded", "entries", "live bytes"
    );
    for p in points {
        println!(
            "  {:>10}  {:>8}  {:>8}  {:>12}",
            p.n, p.encoded, p.entries, p.live
        );
    }
    println!(
        "  growth after the first checkpoint: {} bytes",
        growth(points)
    );
}
