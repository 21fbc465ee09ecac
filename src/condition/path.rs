//! Dotted attribute paths (`company.country`), split once when compiled or
//! when an engine file is loaded, and JSON-path rendering for issues.

use crate::attrs::Root;
pub(crate) use crate::error::At;
use serde_json::Value;

/// The `null` every missing attribute reads as.
pub(crate) static NULL: Value = Value::Null;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    key: Box<str>,
    /// The key read as a canonical array index (`"0"`, `"12"`, not `"01"`).
    index: Option<usize>,
}

/// A pre-split attribute path. An engine file stores it as written and
/// splits it again on load (`engine::compiled`), so its parts always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    /// The path as written.
    pub(crate) raw: Box<str>,
    segs: Box<[Seg]>,
    /// Where it starts in a decision's attributes ([`crate::attrs::Attrs`]).
    pub(crate) root: Root,
    /// How many segments `root` stands for.
    pub(crate) skip: usize,
    /// FNV-1a of the segment after `root` (the key looked up in a request's
    /// `company`, `account` or `traits` map; 0 when there is none).
    pub(crate) key_hash: u32,
}

impl Path {
    pub(crate) fn new(raw: &str) -> Path {
        let split: Vec<&str> = raw.split('.').collect();
        let (root, skip) = Root::of(&split);
        let segs = split
            .iter()
            .map(|k| Seg {
                key: (*k).into(),
                index: array_index(k),
            })
            .collect();
        Path {
            raw: raw.into(),
            key_hash: split
                .get(skip)
                .map_or(0, |k| crate::hash::fnv1a32(k.as_bytes())),
            segs,
            root,
            skip,
        }
    }

    /// Segment `i`, as written.
    pub(crate) fn seg(&self, i: usize) -> Option<&str> {
        self.segs.get(i).map(|s| &*s.key)
    }

    /// The value the segments from `from` on lead to below `start`, or
    /// `null`; arrays are entered by canonical index when `arrays` is set.
    pub(crate) fn walk<'v>(&self, start: &'v Value, from: usize, arrays: bool) -> &'v Value {
        let mut cur = start;
        for seg in self.segs.iter().skip(from) {
            let next = match cur {
                Value::Object(m) => m.get(&*seg.key),
                Value::Array(a) if arrays => seg.index.and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(v) => cur = v,
                None => return &NULL,
            }
        }
        cur
    }

    /// The value at this path, or `null` when any step is missing (as
    /// GrowthBook's `getPath`: a missing attribute reads as `null`). Objects
    /// are entered by key, arrays by canonical index; anything else stops.
    pub(crate) fn resolve<'v>(&self, doc: &'v Value) -> &'v Value {
        self.walk(doc, 0, true)
    }
}

fn array_index(k: &str) -> Option<usize> {
    let canonical = !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_digit())
        && (k == "0" || !k.starts_with('0'))
        && k.len() <= 10;
    if canonical {
        k.parse().ok()
    } else {
        None
    }
}

/// `base` followed by an object key (see [`At`]).
pub(crate) fn key_path(base: &str, key: &str) -> String {
    At::Key(&At::Root(base), key).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves() {
        let doc = json!({"a": {"b": [10, {"c": "x"}]}, "": {"": 1}});
        assert_eq!(Path::new("a.b.0").resolve(&doc), &json!(10));
        assert_eq!(Path::new("a.b.1.c").resolve(&doc), &json!("x"));
        assert_eq!(Path::new("a.b.01").resolve(&doc), &Value::Null);
        assert_eq!(Path::new("a.b.2").resolve(&doc), &Value::Null);
        assert_eq!(Path::new("a.x").resolve(&doc), &Value::Null);
        assert_eq!(Path::new("a.b.1.c.d").resolve(&doc), &Value::Null);
        assert_eq!(Path::new(".").resolve(&doc), &json!(1));
    }

    #[test]
    fn renders() {
        assert_eq!(
            key_path("$.when", "company.country"),
            "$.when.company.country"
        );
        assert_eq!(key_path("$.when", "$in"), "$.when.$in");
        assert_eq!(key_path("$", "a b"), "$[\"a b\"]");
        assert_eq!(key_path("$", ""), "$[\"\"]");
        assert_eq!(
            At::Index(&At::Root("$.when.$and"), 2).to_string(),
            "$.when.$and[2]"
        );
    }
}
