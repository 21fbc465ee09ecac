//! `score` (gates, fit and engagement only) gives exactly what `decide`
//! reports for the same request, at every decision of every example journey,
//! and leaves the visitor's state untouched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::journey::{self, Step};
use common::*;

#[test]
fn score_matches_decide_on_every_journey_and_changes_nothing() {
    let engine = example_engine();
    let dir = root().join("examples/journeys");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for f in &files {
        let j = journey::parse(&std::fs::read_to_string(f).unwrap()).unwrap();
        let mut v = engine.visitor(&j.visitor_id).unwrap();
        for (i, step) in j.steps.iter().enumerate() {
            match step {
                Step::Observe(e) => {
                    engine.observe(&mut v, &buyerpath::Event::from_value(e).unwrap());
                }
                Step::Decide(d) => {
                    let req = journey::request(&j, d, "$").unwrap();
                    let before = v.state().clone();
                    let s = engine.score(&v, &req);
                    assert_eq!(
                        v.state(),
                        &before,
                        "{f:?} step {i}: score changed the state"
                    );
                    let dec = engine.decide(&mut v, &req).unwrap();
                    let at = format!("{} step {i}", f.display());
                    assert_eq!(s.qualified, dec.qualified, "{at}");
                    assert_eq!(s.gates, dec.gates, "{at}");
                    assert_eq!(s.fit, dec.fit, "{at}");
                    assert_eq!(s.engagement, dec.engagement, "{at}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 40, "{checked} decisions checked");
}
