//! The compiled engine as bytes (`Engine::to_bytes` / `Engine::from_bytes`,
//! feature `compiled`): an engine loaded from bytes decides exactly as the
//! one compiled from JSON, every condition survives the trip, and damaged or
//! crafted bytes give an error with a code, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::condition::{CompileCtx, Condition};
use buyerpath::journey::{replay, Journey};
use buyerpath::lists::Lists;
use buyerpath::Engine;
use sha2::{Digest, Sha256};

fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn an_engine_from_bytes_replays_every_vector() {
    let bytes = common::example_engine().to_bytes().unwrap();
    assert!(bytes.starts_with(b"BPE6"), "the header");
    let engine = Engine::from_bytes(&bytes).unwrap();
    assert_eq!(engine.to_bytes().unwrap(), bytes, "written again unchanged");
    let mut decisions = 0;
    for (name, v) in common::vectors() {
        let j: Journey = serde_json::from_value(v["journey"].clone()).unwrap();
        let got = replay(&engine, &j).unwrap();
        let digests = v["sha256"].as_array().unwrap();
        assert_eq!(got.len(), digests.len(), "{name}: number of decisions");
        for (i, (g, h)) in got.iter().zip(digests).enumerate() {
            let raw = buyerpath::decision_json::text(g);
            let digest: String = Sha256::digest(raw.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(digest, h.as_str().unwrap(), "{name} decision {}", i + 1);
            decisions += 1;
        }
    }
    assert!(decisions >= 24, "{decisions} decisions replayed");
}

/// Every GrowthBook conformance condition (all operators, regexes with and
/// without case, deep-equality literals, version operands) read back from
/// bytes gives the same result and writes the same bytes.
#[test]
fn every_conformance_condition_survives_bytes() {
    let path = common::root().join("tests/conformance/growthbook/cases.json");
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = all["evalCondition"].as_array().unwrap();
    let lists = Lists::new();
    let mut extra = vec![
        serde_json::json!({"title": {"$regexi": "^vp\\b"}}),
        serde_json::json!({"x": {"$eq": 0.1}, "y": [0.30000000000000004, -2, 18446744073709551615u64, {"k": [null, true, "é"]}]}),
        serde_json::json!({"v": {"$vgte": "1.2.3-beta"}, "n": {"$not": {"$not": {"$in": [1, "a", null, true]}}}}),
    ];
    let mut conditions: Vec<(serde_json::Value, serde_json::Value)> =
        cases.iter().map(|c| (c[1].clone(), c[2].clone())).collect();
    conditions.extend(extra.drain(..).map(|c| {
        let attrs = serde_json::json!({"title": "VP Sales", "x": 0.1, "y": [0.30000000000000004, -2, 18446744073709551615u64, {"k": [null, true, "é"]}], "v": "1.2.10", "n": "a"});
        (c, attrs)
    }));
    for (cond, attrs) in &conditions {
        let c = Condition::compile(cond, "$", &CompileCtx::default()).0;
        let bytes = postcard::to_allocvec(&c).unwrap();
        let back: Condition = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes, "{cond}");
        assert_eq!(
            back.eval(attrs, &lists),
            c.eval(attrs, &lists),
            "{cond} on {attrs}"
        );
    }
}

/// A path is kept in an engine file as its text alone: changed there, it is
/// read as the new text says (no stored split can disagree with it).
#[test]
fn a_path_is_read_from_its_text() {
    let cond = serde_json::json!({"company.tier": "gold"});
    let c = Condition::compile(&cond, "$", &CompileCtx::default()).0;
    let mut bytes = postcard::to_allocvec(&c).unwrap();
    let at = bytes
        .windows(12)
        .position(|w| w == b"company.tier")
        .expect("the path's text is in the bytes");
    bytes[at..at + 12].copy_from_slice(b"account.tier");
    assert_eq!(
        bytes.windows(7).filter(|w| *w == b"company").count(),
        0,
        "the path is stored once, as written"
    );
    let back: Condition = postcard::from_bytes(&bytes).unwrap();
    let lists = Lists::new();
    let doc = serde_json::json!({"company": {"tier": "silver"}, "account": {"tier": "gold"}});
    assert!(back.eval(&doc, &lists));
    assert!(!c.eval(&doc, &lists));
}

#[test]
fn another_header_or_version_is_refused_with_a_code() {
    let bytes = common::example_engine().to_bytes().unwrap();
    let mut other = bytes.clone();
    other[0] = b'X';
    let e = Engine::from_bytes(&other).unwrap_err();
    assert_eq!(e.issues[0].code, "engine_file_invalid");
    assert!(e.issues[0].hint.is_some());
    // The version follows the magic, length-prefixed: change its last byte.
    let len = usize::from(bytes[4]);
    let mut other = bytes.clone();
    other[4 + len] ^= 1;
    let e = Engine::from_bytes(&other).unwrap_err();
    assert_eq!(e.issues[0].code, "engine_file_version");
    assert_eq!(e.issues[0].path, "$");
    assert_eq!(
        Engine::from_bytes(b"").unwrap_err().issues[0].code,
        "engine_file_invalid"
    );
    let e = Engine::from_bytes(br#"{"id": "a playbook"}"#).unwrap_err();
    assert_eq!(e.issues[0].code, "engine_file_invalid");
    // Files of the earlier layouts (paths stored split; a condition per
    // content item) are another version's.
    for magic in [b"BPE1", b"BPE2", b"BPE3", b"BPE4", b"BPE5"] {
        let mut older = bytes.clone();
        older[..4].copy_from_slice(magic);
        let e = Engine::from_bytes(&older).unwrap_err();
        assert_eq!(e.issues[0].code, "engine_file_version");
        assert!(e.issues[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("buyerpath compile"));
    }
}

/// The header alone (what the Wasm binding checks before copying a
/// buffer in) refuses what `from_bytes` refuses for its header, with the
/// same issue, and passes a real file's first bytes.
#[test]
fn the_header_alone_is_checked_as_from_bytes_checks_it() {
    use buyerpath::engine::compiled::{check_header, HEADER_MAX};
    let bytes = common::example_engine().to_bytes().unwrap();
    assert!(check_header(&bytes[..HEADER_MAX]).is_ok());
    assert!(check_header(&bytes).is_ok());
    let zeros = vec![0u8; HEADER_MAX];
    let mut older = bytes.clone();
    older[..4].copy_from_slice(b"BPE5");
    let len = usize::from(bytes[4]);
    let mut version = bytes.clone();
    version[4 + len] ^= 1;
    for bad in [&zeros[..], b"", b"BPE6", &older[..], &version[..]] {
        let head = &bad[..bad.len().min(HEADER_MAX)];
        let want = Engine::from_bytes(bad).unwrap_err();
        assert_eq!(
            check_header(head).unwrap_err(),
            want,
            "{:?}",
            &head[..head.len().min(8)]
        );
    }
}

/// `bytes` with the checksum after the header made right again: damage made
/// on purpose, to reach the reader and the invariants behind the checksum.
fn resum(mut bytes: Vec<u8>) -> Vec<u8> {
    let at = 5 + usize::from(bytes[4]);
    let sum = xxhash_rust::xxh64::xxh64(&bytes[at + 8..], 0);
    bytes[at..at + 8].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// Every truncation fails; random damage fails on the checksum; with the
/// checksum made right again, it either fails or loads an engine that still
/// decides without panicking.
#[test]
fn damaged_bytes_fail_or_decide_never_panic() {
    let engine = common::example_engine();
    let bytes = engine.to_bytes().unwrap();
    for cut in (0..bytes.len()).step_by(7) {
        let e = Engine::from_bytes(&bytes[..cut]).unwrap_err();
        assert_eq!(e.issues[0].code, "engine_file_invalid", "cut at {cut}");
    }
    let header = 5 + usize::from(bytes[4]) + 8;
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let (mut loaded, mut refused) = (0, 0);
    for _ in 0..3000 {
        let mut damaged = bytes.clone();
        for _ in 0..=(next() % 3) {
            let at = header + (next() as usize) % (bytes.len() - header);
            damaged[at] = next() as u8;
        }
        if damaged == bytes {
            continue;
        }
        let e = Engine::from_bytes(&damaged).unwrap_err();
        assert!(
            e.issues[0].message.contains("checksum"),
            "{}",
            e.issues[0].message
        );
        match Engine::from_bytes(&resum(damaged)) {
            Ok(e) => {
                loaded += 1;
                let (mut v, now) = common::visitor_with_events(&e, 5);
                let _ = e.decide(&mut v, &common::req(now, serde_json::json!({"consent": "full", "company": {"country": "US", "employees": 800}})));
            }
            Err(err) => {
                refused += 1;
                assert_eq!(err.issues[0].code, "engine_file_invalid");
            }
        }
    }
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}

/// A crafted condition nested far deeper than any compiled one (`$not`
/// 100,000 times: one byte a level) is refused, not a stack overflow.
#[test]
fn crafted_deep_nesting_is_refused() {
    // Node::Not is variant 3, Node::Never variant 5 (postcard: one byte each).
    let not = postcard::to_allocvec(
        &Condition::compile(
            &serde_json::json!({"$not": {"$or": [{"a": 1}]}}),
            "$",
            &CompileCtx::default(),
        )
        .0,
    )
    .unwrap();
    assert_eq!(not[0], 3, "Node::Not is variant 3");
    let mut deep = vec![3u8; 100_000];
    deep.push(5);
    assert!(postcard::from_bytes::<Condition>(&deep).is_err());
    // 150 levels, within the limit, load.
    let mut ok = vec![3u8; 150];
    ok.push(5);
    assert!(postcard::from_bytes::<Condition>(&ok).is_ok());
}
