//! Inputs the fuzz targets (fuzz/, see SECURITY.md) once failed on, kept as
//! tests once fixed. The raw inputs are also in fuzz/regressions/<target>/, so
//! every fuzzing run starts from them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use buyerpath::{DecideRequest, Event};

/// event_json: serde reads a struct from the array of its fields, so the JSON
/// text `["download",4]` was accepted as a download event while the same
/// value given as a JSON value was refused. Only an object is an event (or a
/// decide request), whichever way it is given.
#[test]
fn an_array_of_fields_is_not_an_event() {
    let text = "[\"download\"\t,4]";
    for e in [
        Event::from_json(text).unwrap_err(),
        Event::from_value(&serde_json::from_str(text).unwrap()).unwrap_err(),
    ] {
        assert_eq!((e.code(), e.path()), ("invalid_type", "$"));
        assert_eq!(e.issues[0].found.as_deref(), Some("an array"));
    }
    for text in ["[1793610000000]", " [1793610000000, [\"hero\"]]"] {
        for e in [
            DecideRequest::from_json(text).unwrap_err(),
            DecideRequest::from_value(&serde_json::from_str(text).unwrap()).unwrap_err(),
        ] {
            assert_eq!((e.code(), e.path()), ("invalid_type", "$"), "{text}");
        }
    }
    // Not JSON at all stays a syntax error; an object is still read as before.
    assert_eq!(
        Event::from_json("[\"download\",").unwrap_err().code(),
        "invalid_json"
    );
    assert!(Event::from_json(" {\"type\":\"download\",\"ts\":4}").is_ok());
}
