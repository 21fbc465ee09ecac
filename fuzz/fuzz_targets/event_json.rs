//! Events as the browser reports them: parse and check (text and value
//! forms must agree), then fold into a visitor of the example playbook.
#![no_main]

use buyerpath::Event;
use buyerpath_fuzz::{example_engine, exercise, request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = example_engine();
    let parsed = Event::from_json(text);
    if text.len() <= buyerpath::event::MAX_EVENT_BYTES {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            // The JSON text and JSON value entry points accept the same events.
            let by_value = Event::from_value(&v);
            assert_eq!(
                parsed.is_ok(),
                by_value.is_ok(),
                "{parsed:?} vs {by_value:?}"
            );
        }
    }
    let Ok(ev) = parsed else {
        return;
    };
    let Ok(mut v) = engine.visitor("fuzz-visitor") else {
        return;
    };
    // The same event several times: caps, bursts and the recent list are reached.
    for _ in 0..8 {
        engine.observe(&mut v, &ev);
    }
    exercise(engine, &mut v, &request());
});
