//! `cargo run --release --example soak [EVENTS] [DECISIONS]`: one visitor fed
//! 1,000,000 events and one engine kept alive for 1,000,000 decisions, with
//! the encoded state length and the live heap bytes (counted by the global
//! allocator) at every 100,000. Exits 1 if the heap grew after warm-up or a
//! state went over its budget.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/soak.rs"]
mod soak;

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().unwrap());
    let events = args.next().unwrap_or(1_000_000);
    let decisions = args.next().unwrap_or(1_000_000);
    let engine = common::example_engine();
    let pb = common::example_playbook();
    let t = Instant::now();
    let ev = soak::events(&engine, &pb, events, (events / 10).max(1));
    soak::print(
        &format!(
            "{events} events, one visitor ({:.1} s)",
            t.elapsed().as_secs_f64()
        ),
        &ev,
    );
    let t = Instant::now();
    let de = soak::decisions(&engine, &pb, decisions, 100, (decisions / 10).max(1));
    soak::print(
        &format!(
            "{decisions} decisions, one engine, 100 visitors ({:.1} s)",
            t.elapsed().as_secs_f64()
        ),
        &de,
    );
    let budget = buyerpath::visitor::STATE_BUDGET;
    let ok = soak::growth(&ev) <= 16 * 1024
        && soak::growth(&de) <= 16 * 1024
        && ev.iter().all(|p| p.encoded <= budget)
        && de.iter().all(|p| p.encoded <= budget + 24);
    if !ok {
        eprintln!("soak: the heap grew or a state went over budget");
        std::process::exit(1);
    }
}
