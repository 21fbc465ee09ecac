//! Deserializing outside input with JSON paths, did-you-mean hints and
//! expected/found in the errors.

use crate::error::{Error, Issue};
use crate::suggest::did_you_mean;
use serde::de::DeserializeOwned;

/// Deserializes a JSON object's text into `T`, reporting the failing path
/// below `base`: text that is not JSON at all is `invalid_json` with its line
/// and column; anything but an object is `invalid_type` (serde would also read
/// a struct from the array of its fields); an object of the wrong shape names
/// the path where the read stopped.
pub fn from_str_at<T: DeserializeOwned>(text: &str, base: &str) -> Result<T, Error> {
    if text.trim_start().starts_with('{') {
        if let Ok(t) = crate::json_path::read::<T>(text) {
            return Ok(t);
        }
    }
    let tree = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(tree) => tree,
        Err(syntax) => {
            // An escaped unpaired surrogate reads as U+FFFD: read that text.
            if let Some(fixed) = without_lone_surrogates(text) {
                return from_str_at(&fixed, base);
            }
            return Err(syntax_issue(text, base, &syntax, "invalid_value").into());
        }
    };
    if !tree.is_object() {
        return Err(Issue::new("invalid_type", base, "expected a JSON object")
            .expected("an object")
            .found(crate::error::kind_of(&tree))
            .hint("pass one JSON object: `{...}`")
            .into());
    }
    // The answer is the JSON value's: a key given twice counts once, the last
    // one (as every JSON parser in a browser reads it), so the text the value
    // writes back is read again, and its failure, if any, is the one reported.
    crate::json_path::read::<T>(&tree.to_string())
        .map_err(|e| serde_issue(base, &e.path, &e.inner).into())
}

/// `text` as read by `fast` when it reads it (the common shape, without
/// serde: `event_read`, `request_read`), else by serde (`from_str_at`),
/// which also names every error.
pub(crate) fn from_str_fast<T: DeserializeOwned>(
    text: &str,
    fast: fn(&str) -> Option<T>,
) -> Result<T, Error> {
    match fast(text) {
        Some(t) => Ok(t),
        None => from_str_at(text, "$"),
    }
}

/// Deserializes a JSON value, reporting the failing path below `base`.
pub fn from_value_at<T: DeserializeOwned>(v: &serde_json::Value, base: &str) -> Result<T, Error> {
    from_str_at(&v.to_string(), base)
}

/// `text` with each escaped unpaired surrogate (`\udc00`: JavaScript's
/// `JSON.parse` reads it, and `JSON.stringify` writes one for a lone
/// surrogate in a string; serde_json refuses it) replaced by `\ufffd`, or
/// `None` when there is none. What the string becomes in UTF-8 anyway (as
/// `TextEncoder` writes a lone surrogate), so JSON text, the same value
/// passed as an object, and a string with a raw lone surrogate all read
/// alike. The replacement has the same length: positions stay valid.
pub fn without_lone_surrogates(text: &str) -> Option<String> {
    if !text.contains("\\ud") && !text.contains("\\uD") {
        return None;
    }
    let b = text.as_bytes();
    let surrogate = |at: usize| -> Option<u16> {
        let hex = text.get(at + 2..at + 6)?;
        let unit = u16::from_str_radix(hex, 16).ok()?;
        let escape = b.get(at) == Some(&b'\\') && b.get(at + 1) == Some(&b'u');
        (escape && (0xD800..=0xDFFF).contains(&unit)).then_some(unit)
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            i += 1;
            continue;
        }
        match surrogate(i) {
            // A pair, high then low: kept.
            Some(0xD800..=0xDBFF) if surrogate(i + 6).is_some_and(|lo| lo >= 0xDC00) => {
                i += 12;
            }
            Some(_) => {
                out.push_str(text.get(copied..i).unwrap_or_default());
                out.push_str("\\ufffd");
                i += 6;
                copied = i;
            }
            // Any other escape: its next byte is part of it.
            None => i += 2,
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Some(out)
}

/// `text` read as a JSON value, an escaped unpaired surrogate read as
/// U+FFFD ([`without_lone_surrogates`]).
pub fn value_from_str(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text).or_else(|e| match without_lone_surrogates(text) {
        Some(fixed) => serde_json::from_str(&fixed),
        None => Err(e),
    })
}

/// The issue of `text`, which serde_json could not read (`syntax`): text
/// nested deeper than serde_json reads (128 levels) is `deep_code` at the
/// path where it passes 16 levels; anything else is `invalid_json` at the
/// path below `base` where reading stopped (a bad escape or a lone surrogate
/// is its field's problem), with the line and column.
pub fn syntax_issue(text: &str, base: &str, syntax: &serde_json::Error, deep_code: &str) -> Issue {
    if past_nesting_limit(syntax) {
        let inner = crate::json_path::deeper_than(text, 16).unwrap_or_default();
        return Issue::new(deep_code, path_below(base, &inner), "nested too deeply")
            .expected("at most 128 levels (and the limits of each field)")
            .found(format!("more than 128 levels (line {})", syntax.line()))
            .hint("flatten the value");
    }
    let inner = crate::json_path::syntax_path(text, syntax);
    Issue::new(
        "invalid_json",
        path_below(base, &inner),
        format!("not valid JSON: {syntax}"),
    )
    .hint(format!(
        "check line {}, column {}",
        syntax.line(),
        syntax.column()
    ))
}

/// Whether serde_json stopped at its own nesting limit (128 levels), which
/// is valid JSON too deep to read, not a syntax error.
pub fn past_nesting_limit(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("recursion limit exceeded")
}

/// A path below `base` in `json_path`'s form (`items[0].count`) appended to it.
pub fn path_below(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else if inner.starts_with('[') {
        format!("{base}{inner}")
    } else {
        format!("{base}.{inner}")
    }
}

/// Turns a serde error and the path it happened at (below `base`) into an
/// issue with a full JSON path.
pub fn serde_issue(base: &str, inner: &str, e: &serde_json::Error) -> Issue {
    let path = path_below(base, inner);
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        let candidates: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        // The path may end at the field already (`.a.b` for `a.b`,
        // `["a b"]` for `a b`): named once, as a path writes it.
        let tail = crate::error::key_path("", name);
        let path = if path.ends_with(&tail) {
            path
        } else {
            path + &tail
        };
        return Issue::new("unknown_field", path, format!("unknown field `{name}`"))
            .expected(format!("one of {}", candidates.join(", ")))
            .hint_or(
                did_you_mean(name, candidates.iter().copied()),
                crate::error::ONE_OF_EXPECTED,
            );
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return Issue::new(
            "missing_field",
            path,
            format!("missing required field `{name}`"),
        )
        .hint(format!("add `{name}`"));
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = found_expected(rest);
        // A string's text, as serde quotes it (`string "3"`).
        let quoted = found
            .strip_prefix("string \"")
            .and_then(|q| q.strip_suffix('"'));
        // JSON.stringify writes NaN, Infinity (and undefined in arrays) as null.
        let number = expected.contains("number");
        let hint = match quoted {
            _ if found == "null" && number => "a number that is NaN or Infinity in JavaScript becomes null in JSON: pass a finite number".to_string(),
            Some(q) if number && q.trim().parse::<f64>().is_ok() => {
                "write the number without quotes: `3`, not `\"3\"`".to_string()
            }
            Some(_) if number => format!("write {expected} in digits, without quotes: `3`"),
            Some("true" | "false") if expected == "true or false" => {
                "write `true` or `false` without quotes".to_string()
            }
            _ if expected.is_empty() => "give a value of the type the documentation gives".to_string(),
            _ => format!("give {expected}"),
        };
        return Issue::new("invalid_type", path, format!("wrong type: {found}"))
            .expected(expected)
            .found(found)
            .hint(hint);
    }
    if let Some(rest) = msg
        .strip_prefix("invalid value: ")
        .filter(|r| r.starts_with("integer") || r.starts_with("floating point"))
    {
        // `integer `-1`, expected u64`: said without Rust's type names.
        let (found, expected) = found_expected(rest);
        return Issue::new("invalid_value", path, format!("out of range: {found}"))
            .expected(expected)
            .found(found)
            .hint("use a value in the range `expected` gives");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or("");
        let candidates: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        return Issue::new("unknown_variant", path, format!("unknown value `{name}`"))
            .expected(format!("one of {}", candidates.join(", ")))
            .hint_or(
                did_you_mean(name, candidates.iter().copied()),
                crate::error::ONE_OF_EXPECTED,
            );
    }
    // Read from valid JSON (every caller's text is), serde_json's parser
    // still says "expected value" for a named value (`detail`, `consent`)
    // given as something other than a string: the wrong type, not bad JSON.
    if msg == "expected value" {
        return Issue::new(
            "invalid_type",
            path,
            "wrong type: expected one of the named values",
        )
        .expected("a string")
        .hint("give one of the names the documentation lists, as a string");
    }
    if msg.starts_with("EOF") || msg.starts_with("expected") || msg.starts_with("key must") {
        return Issue::new("invalid_json", path, msg).hint("fix the JSON at this place");
    }
    Issue::new("invalid_value", path, msg).hint("fix the value at this place (see the types)")
}

/// serde's `<found>, expected <type>`, with the type as a reader would say it.
fn found_expected(rest: &str) -> (String, String) {
    let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let found = match found {
        "map" => "an object",
        "sequence" => "an array",
        other => other,
    };
    (found.to_string(), readable_type(expected))
}

/// serde's name of an expected type, as a reader of the error would say it.
fn readable_type(t: &str) -> String {
    match t {
        "u8" => "a whole number from 0 to 255".to_string(),
        "u16" => "a whole number from 0 to 65535".to_string(),
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "u64" | "usize" => "a whole number ≥ 0".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "i64" | "i32" => "a whole number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        other if other.starts_with("struct ") => "an object".to_string(),
        other => other.to_string(),
    }
}

/// Nesting depth of a JSON value (a scalar is 1), computed without recursion
/// so hostile input cannot overflow the stack.
pub fn depth(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    if !matches!(v, Value::Array(_) | Value::Object(_)) {
        return 1;
    }
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

/// Whether `v` written as compact JSON is longer than `max` bytes. A scalar
/// short enough in every spelling is decided without writing it (a number is
/// at most 24 bytes, a string at most 6 bytes per byte plus its quotes); the
/// rest is written to a counter, never to memory.
pub fn longer_than(v: &serde_json::Value, max: usize) -> bool {
    use serde_json::Value;
    let bound = match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => Some(32),
        Value::String(s) => Some(s.len().saturating_mul(6).saturating_add(2)),
        Value::Array(_) | Value::Object(_) => None,
    };
    if bound.is_some_and(|b| b <= max) {
        return false;
    }
    compact_len(v) > max
}

/// The length of `v`'s compact JSON, counted without writing it to memory
/// (`usize::MAX` if it cannot be written).
pub fn compact_len<T: serde::Serialize + ?Sized>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(b.len());
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    match serde_json::to_writer(&mut n, v) {
        Ok(()) => n.0,
        Err(_) => usize::MAX,
    }
}

/// The length of the longest prefix of `bytes` with nothing to escape in a
/// JSON string (no control byte, `"` or `\`): what a JSON reader copies as
/// it is.
pub(crate) fn clean_prefix(bytes: &[u8]) -> usize {
    plain_prefix::<false>(bytes)
}

/// The length of the longest prefix of `bytes` that a JSON string holds as
/// it is in ASCII-only JSON: [`clean_prefix`] that stops at a non-ASCII byte
/// too (the engine's JSON writer escapes those as `\uXXXX`).
pub(crate) fn ascii_prefix(bytes: &[u8]) -> usize {
    plain_prefix::<true>(bytes)
}

/// The prefix of bytes other than controls, `"` and `\` (and, with
/// `ASCII`, bytes from 0x80). Whole words are tested at once (a byte below
/// 0x20, a `"` or a `\` in eight bytes: the exact word tests of "Bit
/// Twiddling Hacks"; a high bit set); the word holding the first such byte,
/// and the tail, byte by byte.
fn plain_prefix<const ASCII: bool>(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0;
        if control
            || (ASCII && w & HIGH != 0)
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
        {
            break;
        }
        at += 8;
    }
    let tail = bytes.get(at..).unwrap_or_default();
    at + tail
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\' || (ASCII && b >= 0x80))
        .unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    /// Escaped unpaired surrogates become U+FFFD, as the same string does in
    /// UTF-8; pairs and other escapes stay, and so does the length.
    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        let r = |t: &str| super::without_lone_surrogates(t).unwrap_or_else(|| t.to_string());
        assert_eq!(r(r#"{"a":"x\udc00y"}"#), r#"{"a":"x\ufffdy"}"#);
        assert_eq!(
            r(r#"["\ud800","\udbff\\ud800"]"#),
            r#"["\ufffd","\ufffd\\ud800"]"#
        );
        assert_eq!(r(r#"["\ud83d\ude00"]"#), r#"["\ud83d\ude00"]"#);
        assert_eq!(r(r#"["\ude00\ud83d"]"#), r#"["\ufffd\ufffd"]"#);
        assert_eq!(r(r#"["\u00e9\n\\udc00"]"#), r#"["\u00e9\n\\udc00"]"#);
        assert_eq!(r(r#"["\ud800"#), r#"["\ufffd"#);
        assert_eq!(r(r#"["\ud8"]"#), r#"["\ud8"]"#);
        assert_eq!(super::without_lone_surrogates(r#"["\ud83d\ude00"]"#), None);
        let v = super::value_from_str(r#"{"a":"x\udc00"}"#).unwrap();
        assert_eq!(v["a"], "x\u{FFFD}");
        assert!(super::value_from_str(r#"{"a":"x\q"}"#).is_err());
    }

    use serde_json::{json, Value};

    /// serde's messages are said without Rust's type names; a null where a
    /// number belongs hints at NaN and Infinity, which JSON writes as null.
    #[test]
    fn serde_errors_in_a_readers_words() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            now: u64,
        }
        let e = super::from_str_at::<R>(r#"{"now": -1}"#, "$").unwrap_err();
        let i = &e.issues[0];
        assert_eq!(
            (i.code.as_str(), i.path.as_str()),
            ("invalid_value", "$.now")
        );
        assert_eq!(i.message, "out of range: integer `-1`");
        assert_eq!(i.expected.as_deref(), Some("a whole number ≥ 0"));
        let e = super::from_str_at::<R>(r#"{"now": null}"#, "$").unwrap_err();
        let i = &e.issues[0];
        assert_eq!(i.code, "invalid_type");
        assert!(i.hint.as_deref().unwrap_or("").contains("NaN"), "{e}");
        let e = super::from_str_at::<R>(r#"{"now": "x"}"#, "$").unwrap_err();
        assert_eq!(
            e.issues[0].hint.as_deref(),
            Some("write a whole number ≥ 0 in digits, without quotes: `3`")
        );
        let e = super::from_str_at::<R>(r#"{"now": "30"}"#, "$").unwrap_err();
        assert_eq!(
            e.issues[0].hint.as_deref(),
            Some("write the number without quotes: `3`, not `\"3\"`")
        );
        let e = super::from_str_at::<R>(r#"{"now": [1]}"#, "$").unwrap_err();
        assert_eq!(e.issues[0].hint.as_deref(), Some("give a whole number ≥ 0"));
        // Rust's and serde's words for JSON's objects and arrays.
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            inner: R,
            list: Vec<u8>,
        }
        let e = super::from_str_at::<Outer>(r#"{"inner": 5, "list": []}"#, "$").unwrap_err();
        let i = &e.issues[0];
        assert_eq!(
            (i.message.as_str(), i.expected.as_deref()),
            ("wrong type: integer `5`", Some("an object")),
            "{e}"
        );
        let e =
            super::from_str_at::<Outer>(r#"{"inner": {"now": 1}, "list": {}}"#, "$").unwrap_err();
        let i = &e.issues[0];
        assert_eq!(
            (i.message.as_str(), i.expected.as_deref()),
            ("wrong type: an object", Some("an array")),
            "{e}"
        );
    }

    /// `longer_than` agrees with the length of the written text, on either
    /// side of the bound, for scalars, escapes and nested values.
    #[test]
    fn longer_than_is_the_written_length() {
        let values: Vec<Value> = vec![
            json!(null),
            json!(true),
            json!(-1.7976931348623157e308),
            json!(u64::MAX),
            json!(""),
            json!("a\u{1}\"\\é"),
            json!("\u{1}".repeat(40)),
            json!("x".repeat(300)),
            json!(["ab", 1, {"k": "v\n"}]),
            json!({"a": {"b": [1, 2, "\u{7f}"]}}),
        ];
        for v in &values {
            let len = v.to_string().len();
            for max in [
                0,
                1,
                2,
                len.saturating_sub(1),
                len,
                len + 1,
                31,
                32,
                250,
                4096,
            ] {
                assert_eq!(super::longer_than(v, max), len > max, "{v} against {max}");
            }
            assert_eq!(super::depth(v), super::depth(&json!([v])) - 1, "{v}");
        }
    }

    /// The word-at-a-time scans stop exactly where a byte-by-byte one does.
    #[test]
    fn clean_prefix_is_exact() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let alphabet = [
            b'a', b' ', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xc3, 0xa9, 0xff, 0x5b,
            0x5d,
        ];
        for _ in 0..20_000 {
            let x = next();
            let len = (x % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    let r = x.rotate_left(i as u32 * 5);
                    // Mostly plain letters, so long clean runs occur.
                    if r % 11 == 0 {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    } else {
                        b'a' + (r >> 16) as u8 % 26
                    }
                })
                .collect();
            let want = bytes
                .iter()
                .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
                .unwrap_or(bytes.len());
            assert_eq!(super::clean_prefix(&bytes), want, "{bytes:?}");
            let want_ascii = bytes
                .iter()
                .position(|&b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80)
                .unwrap_or(bytes.len());
            assert_eq!(super::ascii_prefix(&bytes), want_ascii, "{bytes:?}");
        }
    }
}
