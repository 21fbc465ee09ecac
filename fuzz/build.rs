//! The collector_batch target compiles the collector's `ingest.rs` as it is;
//! the one type that file borrows from the SQLite store (`store::Row`) is
//! copied here from `tools/src/serve/store.rs` at build time, so the target
//! follows the collector's changes without linking SQLite.

use std::path::Path;

fn main() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/src/serve/store.rs");
    println!("cargo:rerun-if-changed={}", store.display());
    let text = std::fs::read_to_string(&store).unwrap_or_default();
    let row = text
        .find("pub struct Row {")
        .and_then(|start| {
            let rest = text.get(start..)?;
            let end = rest.find("\n}")?;
            rest.get(..end + 2)
        })
        .unwrap_or("pub struct Row {}");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("row.rs");
    let _ = std::fs::write(out, format!("#[derive(Debug, Clone)]\n{row}\n"));
}
