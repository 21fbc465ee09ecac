//! Shared helpers of the fuzz targets: the example engine, a fixed secret,
//! and `exercise`, which drives a visitor through observe → decide → encode →
//! decode and checks the invariants every parser's output must keep.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use buyerpath::{DecideRequest, Detail, Engine, Visitor};
use std::sync::OnceLock;

/// The HMAC key the signed-state target uses.
pub const SECRET: &[u8] = b"fuzz-secret-0123456789abcdef";
/// 2026-11-02T09:00:00Z, the test vectors' epoch.
pub const T0: u64 = 1_793_610_000_000;

/// The example playbook, compiled once per process.
pub fn example_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::from_json(include_str!("../../examples/acme/playbook.json"))
            .expect("the example playbook compiles")
    })
}

/// A few events covering every kind (content ids from the example catalogue).
pub const EVENTS: &[&str] = &[
    r#"{"type":"page_view","ts":1793610000000,"content_id":"pricing","url":"/pricing","dwell_seconds":95}"#,
    r#"{"type":"cta_click","ts":1793610060000,"content_id":"pricing","cta":"demo"}"#,
    r#"{"type":"form_submit","ts":1793610120000,"form":"demo","fields":{"budget":"$50k-$250k","timeline":"this quarter"}}"#,
    r#"{"type":"download","ts":1793610180000,"content_id":"blog-build-vs-buy"}"#,
    r#"{"type":"custom","ts":1793610240000,"name":"pricing_calculator"}"#,
];

/// A decide request with firmographics, a title and a campaign.
pub const REQUEST: &str = r#"{"now":1793610300000,"context":{"consent":"full",
  "company":{"domain":"example.com","country":"US","employees":500,"industry":"software"},
  "person":{"title":"VP Data Engineering"},"page":{"content_id":"pricing","url":"/pricing"},
  "campaign":{"source":"google","medium":"cpc","name":"q4"}}}"#;

/// Decides for `v` and checks that its state survives encode/decode
/// (unsigned and signed) and that re-encoding is a fixed point.
pub fn exercise(engine: &Engine, v: &mut Visitor, req: &DecideRequest) {
    if let Ok(d) = engine.decide(v, req) {
        let serde = serde_json::to_value(&d).expect("a decision serialises");
        let _ = buyerpath::explain::explain(&d);
        // `decideJson`'s answers, full and brief: ASCII JSON; the full one
        // is serde's value, the brief one has no key the full one lacks.
        let mut full = Vec::new();
        buyerpath::decision_json::write_as(&d, Detail::Full, &mut full);
        let mut brief = Vec::new();
        buyerpath::decision_json::write_as(&d, Detail::Brief, &mut brief);
        assert!(full.is_ascii() && brief.is_ascii());
        let full: serde_json::Value = serde_json::from_slice(&full).expect("the answer is JSON");
        let brief: serde_json::Value =
            serde_json::from_slice(&brief).expect("the brief answer is JSON");
        assert_eq!(full, serde);
        let (Some(f), Some(b)) = (full.as_object(), brief.as_object()) else {
            panic!("an answer is not an object");
        };
        assert!(b.keys().all(|k| f.contains_key(k)));
        assert!(b.len() < f.len());
    }
    round_trip(engine, v);
}

/// `decode(encode(v))` succeeds, and encoding the result gives the same string.
pub fn round_trip(engine: &Engine, v: &Visitor) {
    for secret in [None, Some(SECRET)] {
        let text = engine.encode(v, secret);
        assert!(
            text.len() <= buyerpath::visitor::STATE_BUDGET,
            "encode exceeded the budget: {} characters",
            text.len()
        );
        let back = match engine.decode(&text, secret) {
            Ok(d) => d,
            Err(e) => panic!("an encoded state does not decode: {e}\n{text}"),
        };
        assert_eq!(back.verified, secret.is_some());
        assert!(!back.migrated);
        assert_eq!(
            engine.encode(&back.visitor, secret),
            text,
            "encode(decode(encode(v))) != encode(v)"
        );
    }
}

/// The default decide request.
pub fn request() -> DecideRequest {
    DecideRequest::from_json(REQUEST).expect("the fixed request is valid")
}
