//! Where in JSON text a read failed, as a JSON path: serde_json reports the
//! line and column it stopped at; scanning the text up to there tells which
//! object keys and array indices lead to that point. Only failures pay for it,
//! and no path-tracking wrapper is compiled around every type.

/// A typed read that failed: the path below the document (`content[3].stages[0]`,
/// empty for the document itself) and serde's error.
#[derive(Debug)]
pub struct ReadError {
    /// Keys and indices leading to the failure, in `serde_path_to_error` style.
    pub path: String,
    /// What serde said.
    pub inner: serde_json::Error,
}

/// Reads JSON text into `T`, rejecting trailing characters; on failure, says where.
pub fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let read = T::deserialize(&mut de).and_then(|t| de.end().map(|()| t));
    read.map_err(|inner| {
        let at = offset(text, inner.line(), inner.column());
        // A syntax-class failure is at the byte serde_json stopped on (an
        // enum given `[`): the value it is in is the path, not one inside it.
        let at = if inner.classify() == serde_json::error::Category::Syntax {
            at.saturating_sub(1)
        } else {
            at
        };
        // A missing field is reported at the object's closing brace: the path
        // is the object's, not its last key's.
        let missing = inner.to_string().starts_with("missing field");
        ReadError {
            path: path_at(text, at, missing, usize::MAX).0,
            inner,
        }
    })
}

/// Where reading `text` as JSON failed (`e`, serde's syntax error): the path
/// of the innermost value open there, in [`ReadError::path`]'s form, so that
/// a bad escape or a lone surrogate is reported at its field. Empty for text
/// cut short: the document as a whole is incomplete.
pub fn syntax_path(text: &str, e: &serde_json::Error) -> String {
    if e.is_eof() {
        return String::new();
    }
    // serde's column is past the byte that failed (`]` after `tru`), which
    // may close the value the failure is in.
    let at = offset(text, e.line(), e.column()).saturating_sub(1);
    path_at(text, at, false, usize::MAX).0
}

/// The path (in [`ReadError::path`]'s form) of the first array or object in
/// `text` nested more than `max` deep, if any: where a document too deep for
/// serde_json to read is too deep.
pub fn deeper_than(text: &str, max: usize) -> Option<String> {
    let (path, deeper) = path_at(text, text.len(), false, max);
    deeper.then_some(path)
}

/// The byte offset of serde_json's (1-based line, bytes consumed on that line).
fn offset(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return text.len();
    }
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    start.saturating_add(column).min(text.len())
}

enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The path of the innermost value open at byte `at`, or of the first array
/// or object nested more than `limit` deep before it (then also `true`).
fn path_at(text: &str, at: usize, missing: bool, limit: usize) -> (String, bool) {
    let bytes = text.as_bytes();
    let end = at.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let (mut i, mut deeper) = (0, false);
    while i < end {
        let b = bytes.get(i).copied().unwrap_or(b' ');
        match b {
            b'"' => {
                let close = string_end(bytes, i);
                if let Some(Frame::Object { key, expect_key }) = stack.last_mut() {
                    // (A key that the failure cut short is not named.)
                    if *expect_key && close <= end {
                        let raw = text.get(i..close.min(bytes.len())).unwrap_or("\"\"");
                        *key = Some(serde_json::from_str::<String>(raw).unwrap_or_default());
                        *expect_key = false;
                    }
                }
                i = close;
                continue;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, expect_key }) => {
                    *key = None;
                    *expect_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        if stack.len() > limit {
            stack.truncate(limit);
            deeper = true;
            break;
        }
        i += 1;
    }
    let last = stack.len().saturating_sub(1);
    let mut out = String::new();
    for (n, f) in stack.iter().enumerate() {
        match f {
            Frame::Object { key: Some(k), .. } if !(missing && n == last) => {
                // As `error::At` writes a key: `["a b"]` when it is not plain.
                if crate::error::plain_key(k) {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                } else {
                    out.push_str(&crate::error::key_path("", k));
                }
            }
            Frame::Object { .. } => {}
            Frame::Array { index } => out.push_str(&format!("[{index}]")),
        }
    }
    (out, deeper)
}

/// The index just past the string that starts at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::read;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
        name: String,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        id: String,
        count: u32,
        tags: Vec<String>,
    }

    fn path(text: &str) -> String {
        read::<Doc>(text).unwrap_err().path
    }

    #[test]
    fn paths_of_failures() {
        let ok = r#"{"items":[{"id":"a","count":1,"tags":[]}],"name":"n"}"#;
        assert!(read::<Doc>(ok).is_ok());
        assert_eq!(
            path(r#"{"items":[{"id":"a","count":"x","tags":[]}],"name":"n"}"#),
            "items[0].count"
        );
        assert_eq!(
            path(
                r#"{"items":[{"id":"a","count":1,"tags":[]},{"id":"b","count":2,"tags":["t",5]}],"name":"n"}"#
            ),
            "items[1].tags[1]"
        );
        assert_eq!(
            path(r#"{"items":[{"id":"a","count":1,"tags":[],"colour":1}],"name":"n"}"#),
            "items[0].colour"
        );
        assert_eq!(
            path(r#"{"items":[{"id":"a","tags":[]}],"name":"n"}"#),
            "items[0]"
        );
        assert_eq!(
            path(r#"{"items":[{"id":"a,\"}[","count":1,"tags":[]}],"name":{"x":1}}"#),
            "name"
        );
        assert_eq!(path(r#"{"items":[]}"#), "");
        assert_eq!(path("{\n  \"items\": [\n    {\"id\": \"a\", \"count\": -1, \"tags\": []}\n  ],\n  \"name\": \"n\"\n}"), "items[0].count");
    }

    /// The path of a syntax error: the field it is in, not the document; a
    /// key cut short by the error is not named; text cut short is the document's.
    #[test]
    fn paths_of_syntax_errors() {
        let at = |text: &str| {
            let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            super::syntax_path(text, &e)
        };
        assert_eq!(at(r#"{"a":{"b":"x\ud800"}}"#), "a.b");
        assert_eq!(at("{\n \"a\": [1,\n  2, tru]}"), "a[2]");
        assert_eq!(at(r#"{"a":1,"b\ud800":2}"#), "");
        assert_eq!(at(r#"{"a":[{"b":1},{"c":"\q"}]}"#), "a[1].c");
        assert_eq!(at(r#"{"a":1} x"#), "");
        assert_eq!(at(r#"{"a":[1,2"#), "");
    }

    /// The first array or object nested more than `max` deep, by the path
    /// leading to it.
    #[test]
    fn paths_of_nesting_too_deep() {
        assert_eq!(super::deeper_than(r#"{"a":[[1]],"b":{"c":[2]}}"#, 3), None);
        assert_eq!(
            super::deeper_than(r#"{"a":[[1]],"b":{"c":[[2]]}}"#, 3).as_deref(),
            Some("b.c[0]")
        );
        assert_eq!(
            super::deeper_than(r#"{"s":"[[[[","a":[[[]]]}"#, 2).as_deref(),
            Some("a[0]")
        );
    }
}
