//! Every entry of a JSON document's objects, at any depth, with its path:
//! what `check`'s key warnings and `calibrate fit`'s `fit.score` warnings
//! look through.

use serde_json::Value;

/// Calls `f(path, key, value)` for each object entry below `v` (whose own
/// path is `path`), parents before their children, each entry's path
/// written as the engine's problems write them (`$.gates[0].require.x`).
pub fn entries(v: &Value, path: &str, f: &mut dyn FnMut(&str, &str, &Value)) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                f(&here, k, x);
                entries(x, &here, f);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                entries(x, &format!("{path}[{i}]"), f);
            }
        }
        _ => {}
    }
}
