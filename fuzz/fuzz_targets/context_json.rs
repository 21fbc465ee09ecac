//! Decide requests (consent, firmographics, title, page, campaign — all
//! client-asserted): parse and check, then decide for a visitor with history.
#![no_main]

use buyerpath::DecideRequest;
use buyerpath_fuzz::{example_engine, exercise, EVENTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = DecideRequest::from_json(text) else {
        return;
    };
    let engine = example_engine();
    let Ok(mut v) = engine.visitor("fuzz-visitor") else {
        return;
    };
    for ev in EVENTS {
        let _ = engine.observe_json(&mut v, ev);
    }
    exercise(engine, &mut v, &req);
    // A second decision on the updated state.
    exercise(engine, &mut v, &req);
});
