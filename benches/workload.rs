//! Native benchmarks on the reference workload (`buyerpath workload`): compile
//! by catalogue size, loading the compiled engine (with `--features
//! compiled`), observe and decide by visitor size, decide by catalogue
//! size, encode/decode, and condition evaluation on GrowthBook's 143
//! conformance conditions.
//!
//! ```sh
//! cargo run --release -p buyerpath-cli -- workload --out target/workload
//! cargo bench --bench workload --features compiled
//! ```
//!
//! `BUYERPATH_WORKLOAD` overrides the workload directory (default
//! `target/workload`). `scripts/bench.mjs` runs this and reads the medians
//! from `target/criterion/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use buyerpath::condition::{CompileCtx, Condition};
use buyerpath::lists::Lists;
use buyerpath::{DecideRequest, Engine, Event, Visitor};
use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const CATALOGUES: [usize; 3] = [50, 500, 5000];
const HISTORIES: [usize; 4] = [1, 20, 200, 2000];
/// Catalogue sizes of the scaling curve.
const CATALOGUE_CURVE: [usize; 5] = [50, 150, 500, 1500, 5000];
/// The reference: 500 items, 200 events.
const REF_ITEMS: usize = 500;
const REF_EVENTS: usize = 200;

fn dir() -> PathBuf {
    std::env::var_os("BUYERPATH_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/workload")))
}

fn read(name: &str) -> String {
    let path = dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; generate the workload first: cargo run --release -p buyerpath-cli -- workload --out target/workload",
            path.display()
        )
    })
}

/// The reference visitor (the first profile) of `visitors-<n>.json`.
struct Workload {
    events: Vec<Event>,
    request: DecideRequest,
}

fn workload(n: usize) -> Workload {
    let doc: Value = serde_json::from_str(&read(&format!("visitors-{n}.json"))).unwrap();
    let v = &doc["visitors"][0];
    Workload {
        events: v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Event::from_value(e).unwrap())
            .collect(),
        request: DecideRequest::from_value(&v["request"]).unwrap(),
    }
}

fn observed(engine: &Engine, w: &Workload) -> Visitor {
    let mut v = engine.visitor("w-0").unwrap();
    for e in &w.events {
        engine.observe(&mut v, e);
    }
    v
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    for n in CATALOGUES {
        let text = read(&format!("playbook-{n}.json"));
        if n >= 5000 {
            g.sample_size(10);
        }
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Engine::from_json(black_box(&text)).unwrap())
        });
    }
    g.finish();
}

/// Loading an engine compiled ahead (`buyerpath compile`): what a runtime
/// without the JSON compiler does instead of `compile`.
#[cfg(feature = "compiled")]
fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    for n in CATALOGUES {
        let bytes = Engine::from_json(&read(&format!("playbook-{n}.json")))
            .unwrap()
            .to_bytes()
            .unwrap();
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Engine::from_bytes(black_box(&bytes)).unwrap())
        });
    }
    g.finish();
}

#[cfg(not(feature = "compiled"))]
fn load(_: &mut Criterion) {}

fn observe(c: &mut Criterion) {
    let engine = Engine::from_json(&read(&format!("playbook-{REF_ITEMS}.json"))).unwrap();
    let mut g = c.benchmark_group("observe");
    for n in HISTORIES {
        let w = workload(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| observed(&engine, black_box(&w)))
        });
    }
    g.finish();
}

fn decide(c: &mut Criterion) {
    let engine = Engine::from_json(&read(&format!("playbook-{REF_ITEMS}.json"))).unwrap();
    let mut g = c.benchmark_group("decide_history");
    for n in HISTORIES {
        let w = workload(n);
        let mut v = observed(&engine, &w);
        engine.decide(&mut v, &w.request).unwrap();
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| engine.decide(&mut v, black_box(&w.request)).unwrap())
        });
    }
    g.finish();

    // Catalogue sizes between the generated ones are prefixes of the largest
    // (every generated catalogue is a prefix of a larger one).
    let w = workload(REF_EVENTS);
    let largest: Value = serde_json::from_str(&read("playbook-5000.json")).unwrap();
    let mut g = c.benchmark_group("decide_catalogue");
    for n in CATALOGUE_CURVE {
        let mut pb = largest.clone();
        pb["content"].as_array_mut().unwrap().truncate(n);
        let engine = Engine::from_value(pb).unwrap();
        let mut v = observed(&engine, &w);
        engine.decide(&mut v, &w.request).unwrap();
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| engine.decide(&mut v, black_box(&w.request)).unwrap())
        });
    }
    g.finish();

    let v = observed(&engine, &w);
    let mut g = c.benchmark_group("decide_first");
    g.bench_function("200", |b| {
        b.iter_batched(
            || v.clone(),
            |mut v| engine.decide(&mut v, black_box(&w.request)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let s = engine.encode(&v, None);
    let secret = b"bench-secret".as_slice();
    let signed = engine.encode(&v, Some(secret));
    let mut g = c.benchmark_group("state");
    g.bench_function("encode", |b| b.iter(|| engine.encode(black_box(&v), None)));
    g.bench_function("decode", |b| {
        b.iter(|| engine.decode(black_box(&s), None).unwrap())
    });
    g.bench_function("encode_signed", |b| {
        b.iter(|| engine.encode(black_box(&v), Some(secret)))
    });
    g.bench_function("decode_signed", |b| {
        b.iter(|| engine.decode(black_box(&signed), Some(secret)).unwrap())
    });
    g.finish();
}

fn conditions(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/growthbook/cases.json"
    ))
    .unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let cases: Vec<(Value, Value, bool)> = all["evalCondition"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[1].clone(), c[2].clone(), c[3].as_bool().unwrap()))
        .collect();
    let lists = Lists::new();
    let ctx = CompileCtx::default();
    let compiled: Vec<(Condition, &Value)> = cases
        .iter()
        .map(|(cond, attrs, _)| (Condition::compile(cond, "$", &ctx).0, attrs))
        .collect();
    for ((cond, attrs), (_, _, want)) in compiled.iter().zip(&cases) {
        assert_eq!(cond.eval(attrs, &lists), *want, "conformance case");
    }
    let mut g = c.benchmark_group("condition");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("eval_143", |b| {
        b.iter(|| {
            compiled
                .iter()
                .filter(|(cond, attrs)| cond.eval(black_box(attrs), &lists))
                .count()
        })
    });
    g.bench_function("compile_eval_143", |b| {
        b.iter(|| {
            cases
                .iter()
                .filter(|(cond, attrs, _)| {
                    Condition::compile(black_box(cond), "$", &ctx)
                        .0
                        .eval(attrs, &lists)
                })
                .count()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = workload_benches;
    config = config();
    targets = compile, load, observe, decide, conditions
}
criterion_main!(workload_benches);
