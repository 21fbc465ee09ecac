//! Native benchmarks: compile, observe, decide, encode/decode on the example
//! playbook. `cargo bench --bench engine`; results go to BENCHMARKS.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use buyerpath::{DecideRequest, Engine, Event};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;

const T0: u64 = 1_793_610_000_000;

fn playbook() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/acme/playbook.json"
    ))
    .unwrap()
}

fn events(engine: &Engine, n: usize) -> Vec<Event> {
    let pb: serde_json::Value = serde_json::from_str(&playbook()).unwrap();
    let ids: Vec<String> = pb["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let _ = engine;
    let mut t = T0;
    (0..n)
        .map(|i| {
            t += if i % 5 == 0 { 7 * 3_600_000 } else { 97_000 };
            let id = &ids[(i * 7) % ids.len()];
            Event::from_value(&json!({"type": "page_view", "ts": t, "content_id": id, "dwell_seconds": (i % 9) * 20})).unwrap()
        })
        .collect()
}

fn context(now: u64) -> DecideRequest {
    DecideRequest::from_value(&json!({"now": now, "slots": ["hero", "reading", "cta"], "context": {
        "consent": "full",
        "company": {"domain": "northbank.example", "industry": "financial_services", "employees": 1200, "revenue": 300000000, "country": "US", "region": "NY", "type": "business", "tech": ["snowflake", "dbt", "airflow", "aws"]},
        "person": {"title": "VP Engineering"},
        "account": {"tier": "tier1"},
        "page": {"content_id": "pricing", "url": "/pricing"}
    }}))
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let text = playbook();
    c.bench_function("compile example playbook", |b| {
        b.iter(|| Engine::from_json(black_box(&text)).unwrap())
    });
    let engine = Engine::from_json(&text).unwrap();
    let evs = events(&engine, 200);
    c.bench_function("observe 200 events", |b| {
        b.iter(|| {
            let mut v = engine.visitor("bench").unwrap();
            for e in &evs {
                engine.observe(&mut v, e);
            }
            v
        })
    });
    let mut v = engine.visitor("bench").unwrap();
    for e in &evs {
        engine.observe(&mut v, e);
    }
    let now = evs.last().unwrap().ts + 60_000;
    let req = context(now);
    c.bench_function("decide (200-event visitor, 3 slots, first decision)", |b| {
        b.iter(|| engine.decide(&mut v.clone(), black_box(&req)).unwrap())
    });
    let mut steady = v.clone();
    engine.decide(&mut steady, &req).unwrap();
    c.bench_function("decide (200-event visitor, 3 slots, steady state)", |b| {
        b.iter(|| engine.decide(&mut steady, black_box(&req)).unwrap())
    });
    let s = engine.encode(&v, None);
    c.bench_function("encode state", |b| {
        b.iter(|| engine.encode(black_box(&v), None))
    });
    c.bench_function("decode state", |b| {
        b.iter(|| engine.decode(black_box(&s), None).unwrap())
    });
}

criterion_group!(engine, benches);
criterion_main!(engine);
