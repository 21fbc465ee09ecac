//! `check`'s warnings: what a valid playbook may hold by mistake and the
//! engine cannot refuse. `check` says the playbook is ok (exit 0) and lists
//! them.

mod dupes;
mod inert;
mod keys;
mod urls;

use serde_json::Value;

/// One warning, in the shape of the engine's problems (with its severity).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// Always `warning` (a problem has none).
    pub severity: &'static str,
    /// What kind of warning.
    pub code: &'static str,
    /// Where, as the engine's problems give paths.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl Warning {
    fn new(code: &'static str, path: String, message: String, hint: String) -> Warning {
        Warning {
            severity: "warning",
            code,
            path,
            message,
            hint,
        }
    }
}

/// Every warning for a playbook (its text, and that text read), by kind,
/// each in document order.
pub fn all(text: &str, playbook: &Value) -> Vec<Warning> {
    let mut out = dupes::repeated_keys(text);
    out.extend(keys::near_misses(playbook));
    out.extend(urls::unroutable(playbook));
    out.extend(inert::inert(playbook));
    out
}
