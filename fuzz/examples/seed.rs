//! Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) and a
//! libFuzzer dictionary (fuzz/corpus/json.dict) from the repository's own
//! inputs: the example playbook, the test vectors and example journeys, the
//! GrowthBook conformance cases and the collector's batches, plus every input
//! that once failed a target (fuzz/regressions/<target>/).
//!
//! Run from the repository root (stable toolchain, no sanitizer):
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use buyerpath::journey::{self, Step};
use buyerpath::Engine;
use buyerpath_fuzz::SECRET;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

struct Corpus {
    dir: PathBuf,
    count: usize,
    seen: BTreeSet<String>,
}

impl Corpus {
    fn new(target: &str) -> Corpus {
        let dir = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        Corpus {
            dir,
            count: 0,
            seen: BTreeSet::new(),
        }
    }
    fn add(&mut self, bytes: &[u8]) {
        let name: String = Sha256::digest(bytes)
            .iter()
            .take(10)
            .map(|b| format!("{b:02x}"))
            .collect();
        if self.seen.insert(name.clone()) {
            std::fs::write(self.dir.join(format!("seed-{name}")), bytes).unwrap();
            self.count += 1;
        }
    }
}

/// Every condition-looking value in a playbook (`when`, `requires`, `only_if`...).
fn conditions(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if matches!(k.as_str(), "when" | "requires" | "only_if" | "condition")
                    && x.is_object()
                {
                    out.push(x.clone());
                }
                conditions(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| conditions(x, out)),
        _ => {}
    }
}

fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        Value::String(s) if s.len() <= 24 => {
            out.insert(s.clone());
        }
        _ => {}
    }
}

/// Greedily removes array elements and sections of a valid playbook while it keeps compiling.
fn shrink(valid: &Value) -> Value {
    let compiles = |v: &Value| Engine::from_value(v.clone()).is_ok();
    let mut p = valid.clone();
    let mut arrays = vec![
        "/content".to_string(),
        "/fit/criteria".into(),
        "/engagement/rules".into(),
        "/stage_model/rules".into(),
        "/gates".into(),
        "/triggers".into(),
        "/actions".into(),
        "/bant".into(),
        "/lifecycle/hand_raise".into(),
        "/role_model/synonyms".into(),
        "/role_model/seniority".into(),
        "/slots".into(),
        "/stages".into(),
        "/roles".into(),
        "/fit/tiers".into(),
    ];
    for (name, _) in valid["lists"].as_object().into_iter().flatten() {
        arrays.push(format!("/lists/{name}/values"));
    }
    for i in 0..valid["roles"].as_array().map_or(0, Vec::len) {
        arrays.push(format!("/roles/{i}/titles"));
    }
    // Twice: cutting one array can free another.
    for _ in 0..2 {
        for ptr in &arrays {
            let len = p.pointer(ptr).and_then(Value::as_array).map_or(0, Vec::len);
            for i in (0..len).rev() {
                let mut q = p.clone();
                if let Some(a) = q.pointer_mut(ptr).and_then(Value::as_array_mut) {
                    a.remove(i);
                }
                if compiles(&q) {
                    p = q;
                }
            }
        }
        let keys: Vec<String> = p.as_object().unwrap().keys().cloned().collect();
        for k in keys {
            let mut q = p.clone();
            q.as_object_mut().unwrap().remove(&k);
            if compiles(&q) {
                p = q;
            }
        }
    }
    p
}

fn main() {
    let playbook_text = read("examples/acme/playbook.json");
    let playbook: Value = serde_json::from_str(&playbook_text).unwrap();
    let engine = Engine::from_json(&playbook_text).unwrap();

    // Playbooks: the example (pretty and compact), the broken fixture, and
    // smaller variants (short catalogue, one section left out at a time).
    let mut pb = Corpus::new("playbook_json");
    pb.add(playbook_text.as_bytes());
    pb.add(playbook.to_string().as_bytes());
    pb.add(read("tests/fixtures/broken-playbook.json").as_bytes());
    let mut small = playbook.clone();
    if let Some(c) = small["content"].as_array_mut() {
        c.truncate(4);
    }
    small["lists"] = json!({});
    pb.add(small.to_string().as_bytes());
    if let Value::Object(m) = &small {
        for k in m.keys() {
            let mut v = small.clone();
            v.as_object_mut().unwrap().remove(k);
            pb.add(v.to_string().as_bytes());
        }
    }

    // A small playbook that still compiles (array elements and optional
    // sections removed one by one while the engine accepts the result): small
    // inputs that reach compilation and decisions, for fast mutation.
    let tiny = shrink(&playbook);
    pb.add(tiny.to_string().as_bytes());
    println!("smallest valid playbook: {} bytes", tiny.to_string().len());

    // Conditions: GrowthBook's evalCondition cases, then the playbook's own
    // conditions against the vectors' company attributes.
    let mut cond = Corpus::new("condition");
    let gb: Value = serde_json::from_str(&read("tests/conformance/growthbook/cases.json")).unwrap();
    for case in gb["evalCondition"].as_array().unwrap() {
        cond.add(format!("{}\n{}", case[1], case[2]).as_bytes());
    }
    let mut conds = Vec::new();
    conditions(&playbook, &mut conds);

    // Journeys: events, decide requests, states (after every step), batches.
    let mut events = Corpus::new("event_json");
    let mut contexts = Corpus::new("context_json");
    let mut states = Corpus::new("state_decode");
    let mut signed = Corpus::new("state_decode_signed");
    let mut batches = Corpus::new("collector_batch");
    let mut journeys = Vec::new();
    for f in json_files("examples/journeys") {
        journeys.push(journey::parse(&std::fs::read_to_string(&f).unwrap()).unwrap());
    }
    for f in json_files("tests/vectors") {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        journeys.push(serde_json::from_value(v["journey"].clone()).unwrap());
    }
    for j in &journeys {
        if let Some(company) = j.context.get("company") {
            for c in &conds {
                cond.add(format!("{c}\n{}", json!({ "company": company })).as_bytes());
            }
        }
        let mut v = engine.visitor(&j.visitor_id).unwrap();
        let mut signals = Vec::new();
        for (i, step) in j.steps.iter().enumerate() {
            match step {
                Step::Observe(e) => {
                    events.add(e.to_string().as_bytes());
                    let ev = buyerpath::Event::from_value(e).unwrap();
                    engine.observe(&mut v, &ev);
                }
                Step::Decide(d) => {
                    let req = journey::request(j, d, &format!("$.steps[{i}]")).unwrap();
                    contexts.add(serde_json::to_string(&req).unwrap().as_bytes());
                    let dec = engine.decide(&mut v, &req).unwrap();
                    for s in &dec.signals {
                        signals.push(serde_json::to_value(s).unwrap());
                    }
                }
            }
            states.add(engine.encode(&v, None).as_bytes());
            let s = engine.encode(&v, Some(SECRET));
            states.add(s.as_bytes());
            let raw = URL_SAFE_NO_PAD.decode(&s).unwrap();
            signed.add(&raw[..raw.len() - 16]);
        }
        if let Some(first) = signals.first() {
            batches.add(
                json!({"batch": signals, "sentAt": "2026-11-02T09:00:00.000Z"})
                    .to_string()
                    .as_bytes(),
            );
            batches.add(first.to_string().as_bytes());
        }
    }
    batches.add(
        br#"{"sentAt":"2026-11-02T09:00:00Z","writeKey":"k","context":{"library":{"name":"x"}},"batch":[
            {"type":"track","event":"A","messageId":"m1","anonymousId":"v","originalTimestamp":"2026-11-02T08:59:50+01:00"},
            {"type":"track","messageId":"m2","properties":[1],"originalTimestamp":"now"},
            {"type":"identify","messageId":"m3","userId":"u","traits":{"a":1},"timestamp":"2026-11-02 09:00:00.123-0500"},
            {"type":"group","messageId":"m4","userId":"u","groupId":"g"},
            {"type":"alias","messageId":"m5","userId":"u","previousId":"p"},
            7
        ]}"#,
    );

    // Inputs that once failed a target (fuzz/regressions/<target>/) start every run.
    let mut corpora = [
        &mut pb,
        &mut cond,
        &mut events,
        &mut contexts,
        &mut states,
        &mut signed,
        &mut batches,
    ];
    for c in corpora.iter_mut() {
        let target = c.dir.file_name().unwrap().to_owned();
        let dir = root().join("fuzz/regressions").join(target);
        for f in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            c.add(&std::fs::read(f.path()).unwrap());
        }
    }

    // A dictionary: JSON tokens, every key and short string of the playbook,
    // the condition operators and the event types.
    let mut words = BTreeSet::new();
    keys(&playbook, &mut words);
    for op in buyerpath::condition::OPERATORS
        .iter()
        .chain(buyerpath::condition::LOGICAL.iter())
    {
        words.insert((*op).to_string());
    }
    for k in buyerpath::event::EVENT_KINDS {
        words.insert(k.as_str().to_string());
    }
    for w in [
        "batch",
        "sentAt",
        "writeKey",
        "messageId",
        "anonymousId",
        "userId",
        "type",
        "track",
        "identify",
        "page",
        "group",
        "alias",
        "properties",
        "context",
        "originalTimestamp",
        "timestamp",
        "now",
        "slots",
        "consent",
        "company",
        "person",
        "account",
        "campaign",
        "bot",
        "full",
        "anonymous",
        "none",
        "title",
        "fields",
        "dwell_seconds",
        "content_id",
        "url",
        "cta",
        "form",
        "name",
        "ts",
    ] {
        words.insert(w.to_string());
    }
    let mut dict = String::from(
        "\"{\"\n\"}\"\n\"[\"\n\"]\"\n\":\"\n\",\"\n\"\\\"\"\n\"true\"\n\"false\"\n\"null\"\n\"-1\"\n\"1e308\"\n\"0.5\"\n",
    );
    for w in &words {
        let quoted = serde_json::to_string(w).unwrap();
        // libFuzzer dictionary entries are C-escaped strings.
        let escaped: String = quoted
            .chars()
            .flat_map(|c| match c {
                '"' => vec!['\\', '"'],
                '\\' => vec!['\\', '\\'],
                c if c.is_ascii() && !c.is_ascii_control() => vec![c],
                _ => vec![],
            })
            .collect();
        dict.push_str(&format!("\"{escaped}\"\n"));
    }
    std::fs::write(root().join("fuzz/corpus/json.dict"), dict).unwrap();

    for (name, c) in [
        ("playbook_json", &pb),
        ("condition", &cond),
        ("event_json", &events),
        ("context_json", &contexts),
        ("state_decode", &states),
        ("state_decode_signed", &signed),
        ("collector_batch", &batches),
    ] {
        println!("{name}: {} seeds in {}", c.count, c.dir.display());
    }
}
