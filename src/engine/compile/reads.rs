//! What a playbook's conditions read: an attribute path that nothing fills
//! (`fit.tierr`, `compnay.country`, `person.titel`) is null for every
//! visitor, and a classification value that cannot be (`fit.tier` `AA`, a
//! stage id misspelt) never matches; either way a rule silently does nothing
//! (or, in an `exclude` gate, never excludes), so both are compile errors
//! with a suggestion.

use super::*;
use crate::attrs::{Root, NESTED};
use crate::engine::matcher::{CONTENT_FIELDS, FIELDS};
use crate::error::truncate;

/// Where a condition is evaluated, for the names it can read.
#[derive(Clone, Copy)]
pub(super) enum Reads {
    /// At decide time: the decision's attributes.
    Decision,
    /// On an event (engagement, stage and hand-raise rules).
    Event,
}

impl Builder<'_> {
    /// Issues for paths `c` reads that nothing fills and, at decide time,
    /// for values compared with a classification field that it never holds.
    pub(super) fn check_reads(&mut self, v: &Value, c: &Condition, at: &At<'_>, reads: Reads) {
        for p in c.attribute_paths() {
            let segs: Vec<&str> = p.split('.').collect();
            let hint = match reads {
                Reads::Decision if Root::of(&segs).0 == Root::Null => Some(decision_hint(&p)),
                Reads::Event if !event_path(&segs) => Some(event_hint(&p)),
                _ => None,
            };
            if let Some(hint) = hint {
                self.issues.push(
                    Issue::new(
                        "unknown_attribute",
                        at.to_string(),
                        format!("`{}` is no attribute: it is null every time", truncate(&p, 64)),
                    )
                    .expected(match reads {
                        Reads::Decision => "an attribute of the README's table: company.*, account.*, person.title, fit.tier, stage.id, role.id, lifecycle...",
                        Reads::Event => "an event field: type, name, cta, form, dwell_seconds or content.id/format/stages/roles/topics/industries/gated",
                    })
                    .hint(hint),
                );
            }
        }
        if let Reads::Decision = reads {
            self.check_values(v, at);
        }
    }

    /// Values compared with `stage.id`, `role.id`, `fit.tier` or `lifecycle`
    /// anywhere in the condition document `v` (inside `$and`, `$or`, `$not`...).
    fn check_values(&mut self, v: &Value, at: &At<'_>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match self.allowed(k) {
                        Some(allowed) => {
                            for word in compared(x) {
                                // An id whose element was dropped for its own
                                // problem is reported there, not here.
                                let removed = self.removed.iter().any(|r| r == word);
                                if !removed && !allowed.iter().any(|a| a == word) {
                                    self.issues.push(
                                        Issue::new(
                                            "unknown_value",
                                            at.to_string(),
                                            format!("`{k}` is never `{}`", truncate(word, 64)),
                                        )
                                        .expected(format!("one of {}", allowed.join(", ")))
                                        .hint_or(
                                            suggest(word, &allowed),
                                            crate::error::ONE_OF_EXPECTED,
                                        ),
                                    );
                                }
                            }
                        }
                        // Documents nest only under the logical operators:
                        // elsewhere an object is a value compared whole.
                        None if matches!(k.as_str(), "$and" | "$or" | "$nor" | "$not") => {
                            self.check_values(x, at)
                        }
                        None => {}
                    }
                }
            }
            Value::Array(xs) => xs.iter().for_each(|x| self.check_values(x, at)),
            _ => {}
        }
    }

    /// The values a classification field can hold, for the fields checked.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let p = self.p;
        Some(match path {
            "stage.id" => p.stages.iter().map(|s| s.id.to_string()).collect(),
            "role.id" => p
                .roles
                .iter()
                .map(|r| r.id.to_string())
                .chain(["unknown".to_string()])
                .collect(),
            "fit.tier" => p.fit.tiers.iter().map(|t| t.id.clone()).collect(),
            "lifecycle" => crate::state::LIFECYCLE.map(str::to_string).to_vec(),
            _ => return None,
        })
    }
}

/// The strings a field's condition compares it with: the value itself, or
/// those of `$eq`, `$ne`, `$in` and `$nin`.
pub(super) fn compared(x: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    let ops = match x {
        Value::Object(ops) => ops,
        other => return other.as_str().into_iter().collect(),
    };
    for (op, v) in ops {
        if matches!(op.as_str(), "$eq" | "$ne" | "$in" | "$nin") {
            match v {
                Value::Array(xs) => out.extend(xs.iter().filter_map(Value::as_str)),
                other => out.extend(other.as_str()),
            }
        }
    }
    out
}

/// The strings conditions compare a content format with (`content.format`
/// in an event rule, `page.format` at decide time), anywhere in `v`.
pub(super) fn formats_compared(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "content.format" || k == "page.format" {
                    out.extend(compared(x).into_iter().map(str::to_string));
                } else {
                    formats_compared(x, out);
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| formats_compared(x, out)),
        _ => {}
    }
}

/// Whether an event condition's path names one of the event's fields.
fn event_path(segs: &[&str]) -> bool {
    match segs {
        ["content", key, ..] => CONTENT_FIELDS.contains(key),
        [first, ..] => FIELDS.contains(first),
        [] => true,
    }
}

/// A suggestion for an unknown path of the decision's attributes: the root
/// misspelt (`compnay.country`), or the key of a nested object (`fit.tierr`).
fn decision_hint(path: &str) -> String {
    let rest = path.split_once('.').map_or("", |(_, r)| r);
    let mut known: Vec<String> = ["qualified", "consent", "lifecycle"]
        .map(String::from)
        .to_vec();
    known.extend(NESTED.iter().map(|(o, k, _)| format!("{o}.{k}")));
    if !rest.is_empty() {
        known.extend(["company", "account", "traits", "bant"].map(|r| format!("{r}.{rest}")));
    }
    hint(
        path,
        &known,
        "unknown attributes are never filled: see the README's table of what conditions read",
    )
}

/// A suggestion for an unknown path of an event condition.
fn event_hint(path: &str) -> String {
    let mut known: Vec<String> = FIELDS.map(String::from).to_vec();
    known.extend(CONTENT_FIELDS.map(|k| format!("content.{k}")));
    hint(path, &known, "an event condition reads the event, not the visitor: use `only_if` for the visitor's attributes")
}

/// `did you mean` the closest of `known`, else `otherwise`.
fn hint(word: &str, known: &[String], otherwise: &str) -> String {
    suggest(word, known).unwrap_or_else(|| otherwise.to_string())
}

/// `did you mean` the closest of `known`.
pub(super) fn suggest(word: &str, known: &[String]) -> Option<String> {
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    did_you_mean(word, refs.iter().copied())
}
