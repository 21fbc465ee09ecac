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

/// A brief answer (`"detail":"brief"`) is the full decision without the
/// lists that explain its numbers, value for value, for every decision of
/// every vector; and it is ASCII, like the full text.
#[test]
fn brief_answers_are_the_full_decisions_without_their_lists() {
    use buyerpath::{decision_json, Detail};
    use serde_json::Value;
    fn drop_keys(v: &mut Value, keys: &[&str]) {
        let m = v.as_object_mut().expect("an object");
        for k in keys {
            assert!(m.remove(*k).is_some(), "the full decision has `{k}`");
        }
    }
    let engine = common::example_engine();
    let mut checked = 0;
    for (name, v) in common::vectors() {
        let j: Journey = serde_json::from_value(v["journey"].clone()).unwrap();
        for (i, g) in replay(&engine, &j).unwrap().iter().enumerate() {
            let mut full: Value = serde_json::from_str(&decision_json::text(g)).unwrap();
            drop_keys(&mut full, &["gates"]);
            drop_keys(&mut full["fit"], &["criteria"]);
            drop_keys(&mut full["engagement"], &["top"]);
            drop_keys(&mut full["stage"], &["distribution"]);
            drop_keys(&mut full["role"], &["evidence", "distribution"]);
            for slot in full["slots"].as_array_mut().unwrap() {
                for pick in slot["picks"].as_array_mut().unwrap() {
                    drop_keys(pick, &["reasons"]);
                }
            }
            let mut out = Vec::new();
            decision_json::write_as(g, Detail::Brief, &mut out);
            assert!(out.is_ascii(), "{name} decision {}", i + 1);
            let brief: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(brief, full, "{name} decision {}", i + 1);
            // `scoreJson`'s answer for the same numbers: full, what serde
            // writes; brief, the brief decision's `qualified`, `fit` and
            // `engagement`, and nothing else.
            let sc = buyerpath::score::Scores {
                qualified: g.qualified,
                gates: g.gates.clone(),
                fit: g.fit.clone(),
                engagement: g.engagement.clone(),
            };
            let mut s_full = Vec::new();
            decision_json::write_scores(&sc, Detail::Full, &mut s_full);
            let s_full: Value = serde_json::from_slice(&s_full).unwrap();
            assert_eq!(
                s_full,
                serde_json::to_value(&sc).unwrap(),
                "{name} scores {}",
                i + 1
            );
            let mut s_brief = Vec::new();
            decision_json::write_scores(&sc, Detail::Brief, &mut s_brief);
            assert!(s_brief.is_ascii());
            let want = serde_json::json!({
                "qualified": brief["qualified"],
                "fit": brief["fit"],
                "engagement": brief["engagement"],
            });
            let got: Value = serde_json::from_slice(&s_brief).unwrap();
            assert_eq!(got, want, "{name} brief scores {}", i + 1);
            checked += 1;
        }
    }
    assert!(checked >= 24, "{checked} decisions");
}

/// `detail` is read from the request, by the fast reader and by serde alike;
/// anything but `full` or `brief` is refused at `$.detail`.
#[test]
fn the_request_says_its_detail() {
    use buyerpath::{DecideRequest, Detail};
    let read = |t: &str| DecideRequest::from_json(t);
    assert_eq!(read(r#"{"now":1}"#).unwrap().detail, Detail::Full);
    assert_eq!(
        read(r#"{"now":1,"detail":"brief"}"#).unwrap().detail,
        Detail::Brief
    );
    assert_eq!(
        read(r#"{"now":1,"detail":"full"}"#).unwrap().detail,
        Detail::Full
    );
    // An escape sends the text to serde's reader: the same answer.
    assert_eq!(
        read(r#"{"now":1,"detail":"bri\u0065f"}"#).unwrap().detail,
        Detail::Brief
    );
    for bad in [
        r#"{"now":1,"detail":"short"}"#,
        r#"{"now":1,"detail":null}"#,
        r#"{"now":1,"detail":2}"#,
    ] {
        let e = read(bad).unwrap_err();
        let issue = &e.issues[0];
        assert_eq!(issue.path, "$.detail", "{bad}: {e:?}");
    }
    let e = read(r#"{"now":1,"detail":"short"}"#).unwrap_err();
    assert_eq!(e.issues[0].code, "unknown_variant");
    assert_eq!(e.issues[0].expected.as_deref(), Some("one of full, brief"));
}
