//! The reference collector's request bodies (`/v1/batch` and the single-event
//! endpoints). The parser lives in the binary crate (tools/src/serve/ingest.rs);
//! it is compiled here from its source file, unchanged, with the one type it
//! borrows from the SQLite store (`store::Row`) copied by build.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

// `ingest` reaches its siblings as `super::iso` and `super::store`: here the
// crate root plays the part of the `serve` module.
#[allow(dead_code)]
#[path = "../../tools/src/serve/ingest.rs"]
mod ingest;
#[allow(dead_code)]
#[path = "../../tools/src/serve/iso.rs"]
mod iso;
/// `store::Row`, copied from tools/src/serve/store.rs by build.rs.
#[allow(dead_code)]
mod store {
    include!(concat!(env!("OUT_DIR"), "/row.rs"));
}

const NOW: i64 = 1_793_610_000_000;

#[derive(serde::Deserialize)]
struct Count<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a serde_json::value::RawValue>>,
}

fuzz_target!(|data: &[u8]| {
    if data.len() > ingest::MAX_BATCH_BYTES {
        return; // refused with 413 before parsing
    }
    if let Ok(p) = ingest::batch(data, NOW) {
        // Counted with the envelope's own leniency: like any serde struct, it
        // skips unknown top-level keys without checking them (even invalid
        // UTF-8 there passes; nothing of those keys is kept).
        let n = serde_json::from_slice::<Count>(data)
            .ok()
            .and_then(|c| c.batch)
            .map_or(0, |b| b.len());
        // Every event is either stored or rejected (the first ones listed
        // with their index and a reason, all counted).
        assert_eq!(p.rows.len() + p.rejected_count, n);
        assert!(p.rejected.len() <= ingest::MAX_LISTED_REJECTIONS);
        for r in &p.rows {
            let payload: Value =
                serde_json::from_str(&r.payload).expect("a stored payload is JSON");
            assert!(payload.is_object());
        }
        for r in &p.rejected {
            assert!(r.index < n && !r.reason().is_empty());
        }
    }
    for kind in ["track", "page"] {
        if let Ok(p) = ingest::single(data, kind, NOW) {
            assert_eq!(p.rows.len() + p.rejected_count, 1);
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = iso::parse_ms(s.get(..64).unwrap_or(s));
    }
});
