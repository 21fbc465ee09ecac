//! Writing the new revision as a small edit of the author's own file: only
//! the numbers that changed (points, `otherwise`, weights, tiers, revision)
//! are replaced in the text, so key order, comments-free hand formatting and
//! line breaks stay and a reviewer's diff shows just the calibration.
//! The result is checked: parsed back, it must equal the intended document,
//! or the whole document is written out by serde instead.

use serde_json::Value;
use std::collections::BTreeMap;

/// Byte spans of every value, by JSON pointer.
type Spans = BTreeMap<String, (usize, usize)>;

/// One text edit: replace `start..end` with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Returns `original` edited to become `target` where the two differ in
/// the calibrated fields; falls back to pretty-printing `target`.
pub fn patch(original: &str, target: &Value) -> String {
    try_patch(original, target).unwrap_or_else(|| pretty(target))
}

/// The fallback: the whole document, pretty-printed by serde.
fn pretty(target: &Value) -> String {
    serde_json::to_string_pretty(target).unwrap_or_default() + "\n"
}

/// Where each value of `original` is; `None` if it is not JSON the scanner reads.
fn spans_of(original: &str) -> Option<Spans> {
    let mut spans = Spans::new();
    let mut s = Scanner {
        b: original.as_bytes(),
        i: 0,
    };
    s.value("", &mut spans)?;
    Some(spans)
}

fn try_patch(original: &str, target: &Value) -> Option<String> {
    let spans = spans_of(original)?;
    let mut edits = Vec::new();
    let num = |v: &Value| -> Option<String> {
        let x = v.as_f64()?;
        Some(if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        })
    };
    if let (Some(span), Some(v)) = (spans.get("/revision"), target.get("revision")) {
        edits.push(Edit {
            start: span.0,
            end: span.1,
            text: v.to_string(),
        });
    }
    let crits = target.pointer("/fit/criteria")?.as_array()?;
    for (i, c) in crits.iter().enumerate() {
        let base = format!("/fit/criteria/{i}");
        for (j, b) in c.get("bands")?.as_array()?.iter().enumerate() {
            let span = spans.get(&format!("{base}/bands/{j}/points"))?;
            edits.push(Edit {
                start: span.0,
                end: span.1,
                text: num(b.get("points")?)?,
            });
        }
        for key in ["otherwise", "weight"] {
            let Some(v) = c.get(key) else { continue };
            match spans.get(&format!("{base}/{key}")) {
                Some(span) => edits.push(Edit {
                    start: span.0,
                    end: span.1,
                    text: num(v)?,
                }),
                None => {
                    // Absent in the original: insert it after the bands.
                    let bands = spans.get(&format!("{base}/bands"))?;
                    let indent = line_indent(original, bands.0);
                    edits.push(Edit {
                        start: bands.1,
                        end: bands.1,
                        text: format!(",\n{indent}\"{key}\": {}", num(v)?),
                    });
                }
            }
        }
    }
    if let Some(span) = spans.get("/fit/tiers") {
        let indent = line_indent(original, span.0);
        let tiers = target.pointer("/fit/tiers")?.as_array()?;
        let items: Vec<String> = tiers
            .iter()
            .map(|t| {
                Some(format!(
                    "{indent}  {{\"id\": {}, \"min\": {}}}",
                    t.get("id")?,
                    num(t.get("min")?)?
                ))
            })
            .collect::<Option<_>>()?;
        edits.push(Edit {
            start: span.0,
            end: span.1,
            text: format!("[\n{}\n{indent}]", items.join(",\n")),
        });
    }
    apply(original, edits, target)
}

/// Applies the edits to `original` (last first, so earlier spans stay put)
/// and keeps the result only if it parses back to exactly `target`.
fn apply(original: &str, mut edits: Vec<Edit>, target: &Value) -> Option<String> {
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = original.to_string();
    for e in edits {
        if e.start > e.end || e.end > out.len() {
            return None;
        }
        out.replace_range(e.start..e.end, &e.text);
    }
    let back: Value = serde_json::from_str(&out).ok()?;
    (back == *target).then_some(out)
}

/// Returns `original` with the given fields (object pointer, key) set to
/// their values in `target` (compact JSON), inserted after the object's last
/// value when absent; falls back to pretty-printing `target`.
pub fn set_fields(original: &str, target: &Value, fields: &[(String, String)]) -> String {
    let attempt = || -> Option<String> {
        let spans = spans_of(original)?;
        let mut edits = Vec::new();
        for (obj, key) in fields {
            let v = target.pointer(obj)?.get(key)?;
            let text = serde_json::to_string(v)
                .ok()?
                .replace(",\"", ", \"")
                .replace("\":", "\": ");
            match spans.get(&format!("{obj}/{key}")) {
                Some(span) => edits.push(Edit {
                    start: span.0,
                    end: span.1,
                    text,
                }),
                None => {
                    let span = spans.get(obj)?;
                    let inner = original.get(span.0..span.1.checked_sub(1)?)?;
                    let at = span.0 + inner.trim_end().len();
                    edits.push(Edit {
                        start: at,
                        end: at,
                        text: format!(", \"{key}\": {text}"),
                    });
                }
            }
        }
        apply(original, edits, target)
    };
    attempt().unwrap_or_else(|| pretty(target))
}

/// The leading whitespace of the line that holds byte `at`.
fn line_indent(text: &str, at: usize) -> String {
    let start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    text.get(start..)
        .unwrap_or("")
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// A minimal JSON scanner that records where each value is.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn value(&mut self, path: &str, spans: &mut Spans) -> Option<()> {
        self.ws();
        let start = self.i;
        match self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let ks = self.i;
                        self.string()?;
                        let key: String = serde_json::from_slice(self.b.get(ks..self.i)?).ok()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        let esc = key.replace('~', "~0").replace('/', "~1");
                        self.value(&format!("{path}/{esc}"), spans)?;
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    let mut n = 0;
                    loop {
                        self.value(&format!("{path}/{n}"), spans)?;
                        n += 1;
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'"' => self.string()?,
            _ => {
                while matches!(
                    self.b.get(self.i),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z')
                ) {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        spans.insert(path.to_string(), (start, self.i));
        Some(())
    }

    fn string(&mut self) -> Option<()> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        loop {
            match self.b.get(self.i)? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_numbers_change() {
        let text = "{\n  \"revision\": 1,\n  \"fit\": {\n    \"criteria\": [\n      {\"id\": \"a\", \"bands\": [{\"in\": [\"x\"], \"points\": 4}]}\n    ],\n    \"tiers\": [{\"id\": \"A\", \"min\": 50}, {\"id\": \"B\", \"min\": 0}]\n  }\n}\n";
        let target = json!({"revision": 2, "fit": {"criteria": [
            {"id": "a", "bands": [{"in": ["x"], "points": 7}], "otherwise": -3}],
            "tiers": [{"id": "A", "min": 61}, {"id": "B", "min": 0}]}});
        let out = patch(text, &target);
        assert!(
            out.contains("\"points\": 7}],\n      \"otherwise\": -3}"),
            "{out}"
        );
        assert!(out.contains("{\"id\": \"A\", \"min\": 61}"), "{out}");
        assert!(out.starts_with("{\n  \"revision\": 2,\n  \"fit\""), "{out}");
    }
}
