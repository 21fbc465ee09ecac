//! Visitor-state strings (cookie / localStorage), unsigned: decode with the
//! example playbook; a state that decodes is then used (events, a decision)
//! and must survive encode/decode.
#![no_main]

use buyerpath_fuzz::{example_engine, exercise, request, EVENTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = example_engine();
    let Ok(decoded) = engine.decode(text, None) else {
        return;
    };
    assert!(!decoded.verified);
    let mut v = decoded.visitor;
    for ev in EVENTS {
        let _ = engine.observe_json(&mut v, ev);
    }
    exercise(engine, &mut v, &request());
});
