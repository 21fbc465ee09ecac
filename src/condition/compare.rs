//! JavaScript value semantics used by GrowthBook conditions: `String(v)`,
//! `Number(v)`, truthiness, `===`, the relational operators (`<`, `<=`, ...)
//! with their string/number coercions, `JSON.stringify` equality and
//! `Array.prototype.includes` membership.
//!
//! Strings compare by UTF-16 code units, as JavaScript does.

use super::number::{push_number, string_to_number};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Deepest array nesting converted by `String(array)`; deeper parts read as "".
const MAX_JOIN_DEPTH: usize = 32;

pub(crate) fn num(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// JavaScript truthiness (`!!v`).
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => {
            let x = num(n);
            x != 0.0 && !x.is_nan()
        }
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `String(v)`: arrays join with commas (null elements as ""), objects are
/// `"[object Object]"`. Borrows when `v` is a string.
pub(crate) fn js_string(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Null => Cow::Borrowed("null"),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Object(_) => Cow::Borrowed("[object Object]"),
        Value::Number(n) => {
            let mut s = String::new();
            push_number(&mut s, num(n));
            Cow::Owned(s)
        }
        Value::Array(a) => {
            let mut s = String::new();
            push_join(&mut s, a, 0);
            Cow::Owned(s)
        }
    }
}

fn push_join(out: &mut String, items: &[Value], depth: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Value::Null => {}
            Value::String(s) => out.push_str(s),
            Value::Number(n) => push_number(out, num(n)),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Object(_) => out.push_str("[object Object]"),
            Value::Array(a) => {
                if depth < MAX_JOIN_DEPTH {
                    push_join(out, a, depth + 1);
                }
            }
        }
    }
}

/// `Number(v)` (`v * 1`).
pub(crate) fn js_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => num(n),
        Value::String(s) => string_to_number(s),
        Value::Array(a) if a.is_empty() => 0.0,
        Value::Array(_) => string_to_number(&js_string(v)),
        Value::Object(_) => f64::NAN,
    }
}

/// Compares two strings the way JavaScript does (UTF-16 code units).
pub(crate) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// A key per character whose order is the UTF-16 order of the characters, so
/// `a.chars().map(utf16_key).cmp(b.chars().map(utf16_key))` is JavaScript's
/// string comparison: supplementary characters (high surrogate first) sort
/// between U+D7FF and U+E000.
pub(crate) fn utf16_key(c: char) -> u32 {
    let c = u32::from(c);
    if c < 0xD800 {
        c
    } else if c >= 0x10000 {
        0xD800 + (c - 0x10000)
    } else {
        c + 0x10_0000
    }
}

/// A primitive operand of `$eq` / `$ne` (`===`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Num(f64),
    Str(Box<str>),
}

impl Scalar {
    pub(crate) fn from_value(v: &Value) -> Option<Scalar> {
        match v {
            Value::Null => Some(Scalar::Null),
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            Value::Number(n) => Some(Scalar::Num(num(n))),
            Value::String(s) => Some(Scalar::Str(s.as_str().into())),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// `actual === self`; arrays and objects are never strictly equal to a literal.
    pub(crate) fn strict_eq(&self, actual: &Value) -> bool {
        match (self, actual) {
            (Scalar::Null, Value::Null) => true,
            (Scalar::Bool(a), Value::Bool(b)) => a == b,
            (Scalar::Num(a), Value::Number(b)) => *a == num(b),
            (Scalar::Str(a), Value::String(b)) => **a == **b,
            _ => false,
        }
    }
}

/// The right-hand side of `<`, `<=`, `>`, `>=` after `ToPrimitive`: its
/// string form when it is a string, and its `Number()` value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct CmpLit {
    pub(crate) s: Option<Box<str>>,
    pub(crate) n: f64,
}

impl CmpLit {
    /// `None` for arrays and objects (not accepted as comparison operands).
    pub(crate) fn from_value(v: &Value) -> Option<CmpLit> {
        match v {
            Value::String(s) => Some(CmpLit {
                s: Some(s.as_str().into()),
                n: string_to_number(s),
            }),
            Value::Array(_) | Value::Object(_) => None,
            other => Some(CmpLit {
                s: None,
                n: js_number(other),
            }),
        }
    }
}

/// How `actual` compares to `lit` under JavaScript's abstract relational
/// comparison: two strings compare as strings, anything else as numbers;
/// `None` when a NaN is involved (every relational operator is then false).
pub(crate) fn js_compare(actual: &Value, lit: &CmpLit) -> Option<Ordering> {
    match actual {
        Value::String(s) => cmp_string_to(s, lit),
        Value::Number(n) => num(n).partial_cmp(&lit.n),
        Value::Null => 0.0f64.partial_cmp(&lit.n),
        Value::Bool(b) => f64::from(u8::from(*b)).partial_cmp(&lit.n),
        Value::Array(_) | Value::Object(_) => cmp_string_to(&js_string(actual), lit),
    }
}

fn cmp_string_to(s: &str, lit: &CmpLit) -> Option<Ordering> {
    match &lit.s {
        Some(ls) => Some(cmp_utf16(s, ls)),
        None => string_to_number(s).partial_cmp(&lit.n),
    }
}

/// `String(actual) === s`, where `canonical` is `Some(x)` when `s` is how
/// JavaScript writes the number `x` (so numbers compare without formatting).
pub(crate) fn string_eq(actual: &Value, s: &str, canonical: Option<f64>) -> bool {
    match actual {
        Value::String(a) => a == s,
        Value::Number(n) => canonical.is_some_and(|x| x == num(n)),
        Value::Null => s == "null",
        Value::Bool(b) => s == if *b { "true" } else { "false" },
        Value::Object(_) => s == "[object Object]",
        Value::Array(_) => js_string(actual) == s,
    }
}

/// Lowercases the way both sides of a case-insensitive comparison are folded.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// `fold(a) == folded`, without allocating unless `a` holds a capital sigma,
/// whose lower case depends on where it stands (`ΑΣ` → `ας`, as JavaScript's
/// `toLowerCase` does): every other character folds on its own.
pub(crate) fn eq_folded(a: &str, folded: &str) -> bool {
    if a.contains('Σ') {
        return fold(a) == folded;
    }
    a.chars().flat_map(char::to_lowercase).eq(folded.chars())
}

/// `JSON.stringify(a) === JSON.stringify(b)`, except that object key order
/// is ignored (objects are equal when they have the same keys and values).
/// Recursion stops at the shallower of the two values.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => num(x) == num(y),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => false,
    }
}

/// The operand of `$in` / `$nin` (`expected.includes(actual)`), indexed:
/// strings sorted for binary search, numbers sorted, flags for the rest.
/// Array and object elements can never be `===` to an attribute and are dropped.
#[derive(Debug, Clone, Default, PartialEq)]
// `remote = "Self"`: the derived code is wrapped by the impls in
// `engine::compiled`, which sort a loaded set again (lookups are binary searches).
#[cfg_attr(
    feature = "compiled",
    derive(serde::Serialize, serde::Deserialize),
    serde(remote = "Self")
)]
pub(crate) struct InSet {
    strs: Vec<Box<str>>,
    nums: Vec<f64>,
    null: bool,
    t: bool,
    f: bool,
    /// `$ini` / `$nini`: strings compare case-insensitively (stored folded).
    insensitive: bool,
}

impl InSet {
    pub(crate) fn new(items: &[Value], insensitive: bool) -> InSet {
        let mut set = InSet {
            insensitive,
            ..InSet::default()
        };
        for item in items {
            match item {
                Value::Null => set.null = true,
                Value::Bool(true) => set.t = true,
                Value::Bool(false) => set.f = true,
                Value::Number(n) => set.nums.push(num(n) + 0.0),
                Value::String(s) if insensitive => set.strs.push(fold(s).into()),
                Value::String(s) => set.strs.push(s.as_str().into()),
                Value::Array(_) | Value::Object(_) => {}
            }
        }
        set.sorted()
    }

    /// The set with its strings and numbers sorted and without repeats, as
    /// the binary searches of [`InSet::matches`] need them.
    pub(crate) fn sorted(mut self) -> InSet {
        crate::sort::sort(&mut self.strs);
        self.strs.dedup();
        crate::sort::sort_by(&mut self.nums, f64::total_cmp);
        self.nums.dedup();
        self
    }

    /// GrowthBook's `isIn`: for an array attribute, true when any element is
    /// in the set; otherwise whether the value itself is.
    pub(crate) fn matches(&self, actual: &Value) -> bool {
        match actual {
            Value::Array(a) => a.iter().any(|e| self.has(e)),
            other => self.has(other),
        }
    }

    fn has(&self, v: &Value) -> bool {
        match v {
            Value::Null => self.null,
            Value::Bool(true) => self.t,
            Value::Bool(false) => self.f,
            Value::Number(n) => {
                let x = num(n) + 0.0;
                self.nums.binary_search_by(|p| p.total_cmp(&x)).is_ok()
            }
            Value::String(s) if self.insensitive && s.contains('Σ') => {
                let s = fold(s);
                self.strs
                    .binary_search_by(|p| (**p).cmp(s.as_str()))
                    .is_ok()
            }
            Value::String(s) if self.insensitive => self
                .strs
                .binary_search_by(|p| p.chars().cmp(s.chars().flat_map(char::to_lowercase)))
                .is_ok(),
            Value::String(s) => self
                .strs
                .binary_search_by(|p| (**p).cmp(s.as_str()))
                .is_ok(),
            Value::Array(_) | Value::Object(_) => false,
        }
    }
}

/// The names `$type` accepts, as JavaScript's `typeof` (plus `null`, `array`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "compiled", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum JsType {
    Null,
    Array,
    String,
    Number,
    Boolean,
    Object,
}

impl JsType {
    pub(crate) const NAMES: [&'static str; 6] =
        ["string", "number", "boolean", "object", "array", "null"];

    pub(crate) fn parse(s: &str) -> Option<JsType> {
        Some(match s {
            "null" => JsType::Null,
            "array" => JsType::Array,
            "string" => JsType::String,
            "number" => JsType::Number,
            "boolean" => JsType::Boolean,
            "object" => JsType::Object,
            _ => return None,
        })
    }

    pub(crate) fn of(v: &Value) -> JsType {
        match v {
            Value::Null => JsType::Null,
            Value::Array(_) => JsType::Array,
            Value::String(_) => JsType::String,
            Value::Number(_) => JsType::Number,
            Value::Bool(_) => JsType::Boolean,
            Value::Object(_) => JsType::Object,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A set written out of order (a changed engine file) is sorted on load:
    /// every member is still found.
    #[cfg(feature = "compiled")]
    #[test]
    fn a_loaded_set_is_sorted_again() {
        let unsorted = InSet {
            strs: vec!["pear".into(), "apple".into(), "fig".into(), "apple".into()],
            nums: vec![3.0, -1.0, 2.5],
            ..InSet::default()
        };
        let bytes = postcard::to_allocvec(&unsorted).unwrap();
        let back: InSet = postcard::from_bytes(&bytes).unwrap();
        // As written, bisection misses members.
        assert!(!unsorted.matches(&json!("pear")) && !unsorted.matches(&json!(3)));
        for v in [
            json!("pear"),
            json!("apple"),
            json!("fig"),
            json!(3),
            json!(-1),
            json!(2.5),
        ] {
            assert!(back.matches(&v), "{v}");
        }
        assert!(!back.matches(&json!("plum")));
        assert_eq!(
            back,
            InSet::new(
                &[
                    json!("fig"),
                    json!("apple"),
                    json!("pear"),
                    json!(2.5),
                    json!(-1),
                    json!(3)
                ],
                false
            )
        );
    }

    #[test]
    fn strings_of_values() {
        assert_eq!(
            js_string(&json!([1, null, "a", [2, [3]], {"x": 1}, true])),
            "1,,a,2,3,[object Object],true"
        );
        assert_eq!(js_string(&json!(1.5)), "1.5");
        assert_eq!(js_string(&json!(null)), "null");
    }

    #[test]
    fn relational() {
        let lt = |a: Value, b: Value| {
            js_compare(&a, &CmpLit::from_value(&b).unwrap()) == Some(Ordering::Less)
        };
        assert!(lt(json!("8"), json!(10)));
        assert!(!lt(json!("8"), json!("10")));
        assert!(lt(json!(null), json!(1)));
        assert!(!lt(json!("abc"), json!(1)));
        assert!(!lt(json!(1), json!("abc")));
        assert!(lt(json!([5]), json!(6)));
        assert!(!lt(json!("\u{FFFF}"), json!("\u{1F600}")));
        assert_eq!(cmp_utf16("\u{FFFF}", "\u{1F600}"), Ordering::Greater);
        assert!(utf16_key('\u{FFFF}') > utf16_key('\u{1F600}'));
        assert!(utf16_key('\u{D7FF}') < utf16_key('\u{1F600}'));
    }

    #[test]
    fn in_sets() {
        let s = InSet::new(
            &[json!("b"), json!(1), json!(null), json!("a"), json!([1])],
            false,
        );
        assert!(s.matches(&json!("a")));
        assert!(s.matches(&json!(1.0)));
        assert!(s.matches(&json!(null)));
        assert!(s.matches(&json!(["z", "b"])));
        assert!(!s.matches(&json!("A")));
        assert!(s.matches(&json!([1])));
        assert!(!s.matches(&json!(false)));
        let i = InSet::new(&[json!("US"), json!("Gb")], true);
        assert!(i.matches(&json!("us")));
        assert!(i.matches(&json!(["x", "GB"])));
        assert!(!i.matches(&json!("de")));
    }
}
