//! buyerpath: classifies an anonymous B2B visitor (fit, stage, role, engagement)
//! against a playbook and picks the next-best content, with reasons.
//!
//! The crate is a pure core: no clock, no randomness, no I/O. Time is always an
//! argument (`now`) and randomness is a hash of stable ids, so every runtime
//! (native, Node, browsers, workerd) makes byte-identical decisions.
//!
//! ```
//! # fn main() -> Result<(), buyerpath::Error> {
//! let engine = buyerpath::Engine::from_json(include_str!("../examples/acme/playbook.json"))?;
//! let mut v = engine.visitor("v-1")?;
//! engine.observe_json(&mut v, r#"{"type":"page_view","ts":1793610000000,"content_id":"pricing"}"#)?;
//! let req = buyerpath::DecideRequest { now: 1793610060000, ..Default::default() };
//! let d = engine.decide(&mut v, &req)?;
//! assert!(d.fit.score >= 0.0);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
// Unit tests may unwrap and index: a failing test should stop loudly.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub(crate) mod attrs;
pub mod condition;
pub mod context;
pub mod decay;
pub(crate) mod decide;
pub mod decision;
pub mod decision_json;
pub(crate) mod engagement;
pub mod engine;
pub mod error;
pub mod event;
pub(crate) mod event_read;
pub mod explain;
pub(crate) mod explore;
pub(crate) mod fit;
pub(crate) mod fixed;
pub(crate) mod gates;
pub mod hash;
pub mod journey;
pub mod json;
pub(crate) mod json_path;
pub(crate) mod json_read;
pub(crate) mod lifecycle;
pub mod lists;
pub(crate) mod observe;
pub mod playbook;
pub(crate) mod recommend;
pub(crate) mod request_read;
pub(crate) mod role;
pub mod score;
pub mod signals;
pub(crate) mod sort;
pub(crate) mod stage;
pub mod state;
pub mod suggest;
#[cfg(test)]
mod testing;
pub mod text;
pub mod time;
pub(crate) mod title;
pub mod visitor;

pub use context::{Consent, Context, DecideRequest, Detail};
pub use decision::Decision;
pub use engine::Engine;
pub use error::{Error, Issue};
pub use event::Event;
pub use observe::Observed;
pub use text::Text;
pub use visitor::{Decoded, Visitor};
