//! The shared journey vectors: every example journey replayed natively must
//! give byte-identical decisions to `tests/vectors/*.json` (which every other
//! runtime replays too), written the same by serde_json and by the package's
//! own writer, and replaying twice must give the same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::journey::{replay, Journey};
use sha2::{Digest, Sha256};

#[test]
fn every_example_journey_has_a_vector() {
    let journeys = std::fs::read_dir(common::root().join("examples/journeys"))
        .unwrap()
        .count();
    let v = common::vectors();
    assert!(v.len() >= 12, "at least 12 journeys, found {}", v.len());
    assert_eq!(v.len(), journeys, "one vector per example journey");
}

#[test]
fn vectors_replay_byte_for_byte() {
    let engine = common::example_engine();
    let mut failures = Vec::new();
    let mut decisions = 0;
    for (name, v) in common::vectors() {
        let j: Journey = serde_json::from_value(v["journey"].clone()).unwrap();
        let got = replay(&engine, &j).unwrap();
        let expected = v["decisions"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{name}: number of decisions");
        let digests = v["sha256"].as_array().unwrap();
        for (i, ((g, e), h)) in got.iter().zip(expected).zip(digests).enumerate() {
            decisions += 1;
            // The exact bytes the engine writes, by digest...
            let raw = buyerpath::decision_json::text(g);
            let digest: String = Sha256::digest(raw.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            // ...and the readable copy, value for value.
            if digest != h.as_str().unwrap() || serde_json::to_value(g).unwrap() != *e {
                failures.push(format!("{name} decision {}", i + 1));
            }
            // The text (`decideJson`'s) is ASCII and reads back as serde's value.
            let back: serde_json::Value = serde_json::from_str(&raw).unwrap();
            if !raw.is_ascii() || back != serde_json::to_value(g).unwrap() {
                failures.push(format!("{name} decision {}: decision_json", i + 1));
            }
        }
    }
    assert!(decisions >= 24, "vectors hold {decisions} decisions");
    assert!(failures.is_empty(), "decisions differ from the vectors (run `cargo run -p buyerpath-cli -- vectors` if intended): {failures:?}");
}

#[test]
fn replay_is_deterministic() {
    let engine = common::example_engine();
    for (name, v) in common::vectors() {
        let j: Journey = serde_json::from_value(v["journey"].clone()).unwrap();
        let a = serde_json::to_string(&replay(&engine, &j).unwrap()).unwrap();
        let b = serde_json::to_string(&replay(&common::example_engine(), &j).unwrap()).unwrap();
        assert_eq!(a, b, "{name}");
    }
}
