//! Playbook JSON: parse, validate and compile; a playbook that compiles is
//! then run (events, a decision, a state round trip).
#![no_main]

use buyerpath::Engine;
use buyerpath_fuzz::{exercise, request, EVENTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = match Engine::from_json(text) {
        Ok(e) => e,
        Err(e) => {
            // Every error carries at least one issue with a code and a path.
            assert!(!e.issues.is_empty());
            assert!(e
                .issues
                .iter()
                .all(|i| !i.code.is_empty() && i.path.starts_with('$')));
            let _ = e.to_string();
            return;
        }
    };
    let Ok(mut v) = engine.visitor("fuzz-visitor") else {
        return;
    };
    for ev in EVENTS {
        let _ = engine.observe_json(&mut v, ev);
    }
    exercise(&engine, &mut v, &request());
});
