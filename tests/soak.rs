//! Soak (CI size): one visitor fed 100,000 events keeps a bounded state and
//! a flat heap; one engine kept alive for 5,000 decisions over a pool of
//! visitors does not grow. The 1,000,000-event and 1,000,000-decision runs
//! are `cargo run --release --example soak` (figures in the README), and
//! `cargo test --release --test soak -- --ignored` here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
#[path = "common/soak.rs"]
mod soak;

use buyerpath::visitor::STATE_BUDGET;

/// Slack for allocator bookkeeping noise between checkpoints (bytes).
const SLACK: i64 = 16 * 1024;

/// The allocator counts the whole process: the tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check_events(n: u64, every: u64) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let engine = common::example_engine();
    let pb = common::example_playbook();
    let points = soak::events(&engine, &pb, n, every);
    soak::print(&format!("{n} events, one visitor"), &points);
    let first = points[0];
    for p in &points {
        assert!(p.encoded <= STATE_BUDGET, "{p:?}");
        assert!(
            p.entries <= first.entries + 64,
            "bounded lists: {p:?} vs {first:?}"
        );
    }
    // Warm-up is the first checkpoint; after it the visitor and everything
    // around it stay flat.
    assert!(soak::growth(&points) <= SLACK, "heap grew: {points:?}");
}

fn check_decisions(n: u64, every: u64) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let engine = common::example_engine();
    let pb = common::example_playbook();
    let points = soak::decisions(&engine, &pb, n, 100, every);
    soak::print(&format!("{n} decisions, one engine, 100 visitors"), &points);
    for p in &points {
        assert!(
            p.encoded <= STATE_BUDGET + 24,
            "signed states stay in budget: {p:?}"
        );
    }
    assert!(soak::growth(&points) <= SLACK, "heap grew: {points:?}");
}

#[test]
fn a_visitor_fed_100k_events_stays_bounded() {
    check_events(100_000, 10_000);
}

#[test]
fn an_engine_kept_for_5k_decisions_does_not_grow() {
    check_decisions(5_000, 500);
}

#[test]
#[ignore = "1,000,000 events and decisions: run in release (see examples/soak.rs)"]
fn one_million() {
    check_events(1_000_000, 100_000);
    check_decisions(1_000_000, 100_000);
}
