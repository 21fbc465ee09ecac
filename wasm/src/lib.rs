//! wasm-bindgen bindings: one small file per exported class, no logic the
//! core does not have. Every error is a JS `Error` with `code`, `path`,
//! `hint` and `issues`; nothing here can panic.
#![forbid(unsafe_code)]

#[cfg(feature = "compiler")]
mod condition;
mod engine;
mod error;
mod input;
mod visitor;

#[cfg(feature = "compiler")]
pub use condition::{eval_condition, WasmCondition};
pub use engine::WasmEngine;
pub use visitor::WasmVisitor;
