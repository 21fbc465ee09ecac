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

/// A key given twice counts once, the last one, whether the event comes as
/// text or as a JSON value (found by the event_json fuzz target after the
/// path-tracking wrapper was replaced).
#[test]
fn a_key_given_twice_counts_once_in_text_and_value_forms() {
    let text = r#"{"content_id":"pricing","dwell_seconds":120,"ts":90,"ts":1794420000000,"type":"page_view"}"#;
    let by_text = buyerpath::Event::from_json(text).expect("accepted as text");
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    let by_value = buyerpath::Event::from_value(&value).expect("accepted as a value");
    assert_eq!(by_text, by_value);
    assert_eq!(by_text.ts, 1_794_420_000_000);
}

/// The first of two copies of a key has the wrong type: the last one counts,
/// in the text form as in the value form.
#[test]
fn a_wrong_first_copy_of_a_key_does_not_count() {
    let text = r#"{"content_id":"p","form":"gated_download","ts":"soon","ts":179507039999,"type":"form_submit"}"#;
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        buyerpath::Event::from_json(text).expect("accepted as text"),
        buyerpath::Event::from_value(&value).expect("accepted as a value")
    );
}
