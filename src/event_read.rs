//! The common event read straight from its text, without serde: one flat
//! object of known fields, each at most once, strings without escapes,
//! whole numbers. That is what hosts send (the browser layer, the edge
//! worker, the workload), and serde's derived reader spent a fifth of
//! `observe` on it in Wasm (matching keys, `Option` visitors).
//!
//! Anything else (an escape, a decimal or negative number, `fields`, an
//! unknown or repeated key, a syntax error) gives `None`, and the caller
//! reads the text with serde, which gives the same value or names the error.
//! `Some` is always what serde would read: `tests::agrees_with_serde`.

use crate::event::EventInput;

/// Whole numbers read here have at most this many digits (below 2^53: exact
/// as `f64`, and far from `u64`'s overflow).
const MAX_DIGITS: usize = 15;

/// `text` as an event of the common shape; `None` for anything else.
pub(crate) fn read_simple(text: &str) -> Option<EventInput> {
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        at: 0,
    };
    let mut kind = None;
    let mut ts = None;
    let mut ev = EventInput {
        kind: String::new(),
        ts: 0,
        content_id: None,
        url: None,
        dwell_seconds: None,
        cta: None,
        form: None,
        fields: Default::default(),
        name: None,
    };
    let mut seen = 0u8;
    r.ws();
    r.eat(b'{')?;
    r.ws();
    if r.peek()? != b'}' {
        loop {
            let key = r.string()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            let (bit, slot) = match key {
                "type" => {
                    kind = Some(r.string()?);
                    (0, None)
                }
                "ts" => {
                    ts = Some(r.whole()?);
                    (1, None)
                }
                "dwell_seconds" => {
                    ev.dwell_seconds = r.null_or(|r| r.whole())?.map(|d| d as f64);
                    (2, None)
                }
                "content_id" => (3, Some(&mut ev.content_id)),
                "url" => (4, Some(&mut ev.url)),
                "cta" => (5, Some(&mut ev.cta)),
                "form" => (6, Some(&mut ev.form)),
                "name" => (7, Some(&mut ev.name)),
                _ => return None,
            };
            if seen & (1 << bit) != 0 {
                return None;
            }
            seen |= 1 << bit;
            if let Some(slot) = slot {
                *slot = r.null_or(|r| r.string())?.map(str::to_string);
            }
            r.ws();
            match r.next()? {
                b',' => r.ws(),
                b'}' => break,
                _ => return None,
            }
        }
    } else {
        r.at += 1;
    }
    r.ws();
    if r.at != r.b.len() {
        return None;
    }
    ev.kind = kind?.to_string();
    ev.ts = ts?;
    Some(ev)
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    /// JSON whitespace.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }
    /// A string without escapes or control bytes.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.b.get(self.at..)?;
        let len = crate::json::clean_prefix(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        // Cut at ASCII bytes (the quotes), so on character boundaries.
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }
    /// A whole number: `0` or digits without a leading zero, at most
    /// `MAX_DIGITS`, and no fraction or exponent after them.
    fn whole(&mut self) -> Option<u64> {
        let start = self.at;
        let mut n = 0u64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.at - start == MAX_DIGITS {
                return None;
            }
            n = n * 10 + u64::from(d - b'0');
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.b.get(start) == Some(&b'0');
        if digits == 0 || leading_zero {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(n)
    }
    /// `null` as `None`, else `read`'s value.
    fn null_or<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.b.get(self.at..self.at + 4) == Some(b"null") {
            self.at += 4;
            return Some(None);
        }
        read(self).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::read_simple;
    use crate::event::EventInput;

    fn serde_read(text: &str) -> Option<EventInput> {
        crate::json::from_str_at::<EventInput>(text, "$").ok()
    }

    #[test]
    fn reads_the_common_shapes() {
        for text in [
            r#"{"type":"page_view","ts":1793610000000,"content_id":"careers","dwell_seconds":126,"url":"/careers/careers"}"#,
            r#"{"content_id":"careers","dwell_seconds":0,"ts":1,"type":"page_view"}"#,
            r#" { "type" : "cta_click" , "ts" : 0 , "cta" : "demo" , "url" : null }  "#,
            r#"{"type":"custom","ts":5,"name":"pricing_calculator","form":"x","cta":"é—ü"}"#,
            "{\"type\":\"form_submit\",\n\t\"ts\":7,\r\"form\":\"demo\"}\n",
        ] {
            let got = read_simple(text);
            assert!(got.is_some(), "{text}");
            assert_eq!(got, serde_read(text), "{text}");
        }
    }

    #[test]
    fn leaves_the_rest_to_serde() {
        for text in [
            r#"{"type":"page_view","ts":1,"fields":{"budget":"100k"}}"#,
            r#"{"type":"page_view","ts":1,"email":"a@b.c"}"#,
            r#"{"type":"page_view","ts":1,"ts":2}"#,
            r#"{"type":"page_view","ts":1,"url":"/a","url":"/b"}"#,
            r#"{"type":"page\u005fview","ts":1}"#,
            r#"{"type":"page_view","ts":1.5}"#,
            r#"{"type":"page_view","ts":1e3}"#,
            r#"{"type":"page_view","ts":-1}"#,
            r#"{"type":"page_view","ts":01}"#,
            r#"{"type":"page_view","ts":1,"dwell_seconds":2.5}"#,
            r#"{"type":"page_view","ts":12345678901234567890}"#,
            r#"{"type":"page_view"}"#,
            r#"{"ts":1}"#,
            r#"{}"#,
            r#"{"type":"page_view","ts":1,}"#,
            r#"{"type":"page_view","ts":1} x"#,
            r#"{"type":null,"ts":1}"#,
            r#"[]"#,
            "",
        ] {
            assert_eq!(read_simple(text), None, "{text}");
        }
    }

    /// On texts built from the pieces hosts and attackers send, whenever the
    /// fast reader answers, serde reads the same event; and it answers for
    /// most of the plain ones.
    #[test]
    fn agrees_with_serde() {
        let mut next = crate::testing::xorshift(0x5eed_e7e7_0001_0002);
        let keys = [
            "type",
            "ts",
            "content_id",
            "url",
            "dwell_seconds",
            "cta",
            "form",
            "name",
            "fields",
            "other",
            "Type",
        ];
        let values = [
            "\"page_view\"",
            "\"cta_click\"",
            "\"/a/b?c=d\"",
            "\"é ü 漢\"",
            "\"a\\\"b\"",
            "\"a\\u0041\"",
            "\"\"",
            "null",
            "0",
            "7",
            "00",
            "-3",
            "2.5",
            "1e2",
            "1793610000000",
            "999999999999999",
            "9999999999999999",
            "123456789012345678901234",
            "true",
            "{}",
            "[]",
            "{\"budget\":\"100k\"}",
            "\"x\" ",
        ];
        let ws = ["", " ", "\n", "\t ", "\r\n"];
        let mut answered = 0;
        let mut plain = 0;
        for _ in 0..40_000 {
            let n = (next() % 6) as usize;
            let mut text = String::from(ws[(next() % 5) as usize]);
            text.push('{');
            let mut is_plain = true;
            for i in 0..n {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(ws[(next() % 5) as usize]);
                let (k, v) = if next() % 3 == 0 {
                    (
                        keys[(next() as usize) % keys.len()],
                        values[(next() as usize) % values.len()],
                    )
                } else {
                    // Mostly well-typed pairs, so plain events come up often.
                    match i {
                        0 => ("type", "\"page_view\""),
                        1 => ("ts", "1793610000000"),
                        _ => (
                            ["content_id", "url", "cta", "form", "name", "dwell_seconds"]
                                [(next() % 6) as usize],
                            ["\"x\"", "null", "12"][(next() % 3) as usize],
                        ),
                    }
                };
                is_plain &= !matches!(v, "{}" | "[]" | "true");
                text.push('"');
                text.push_str(k);
                text.push('"');
                text.push_str(ws[(next() % 5) as usize]);
                text.push(':');
                text.push_str(v);
            }
            text.push('}');
            if next() % 20 == 0 {
                text.push_str([",", "}", " x", "{}"][(next() % 4) as usize]);
            }
            text.push_str(ws[(next() % 5) as usize]);
            let fast = read_simple(&text);
            let slow = serde_read(&text);
            if fast.is_some() {
                answered += 1;
                assert_eq!(fast, slow, "{text}");
            }
            if is_plain && slow.is_some() {
                plain += 1;
            }
        }
        // The fast reader is not idle: it answers for most events serde reads.
        assert!(answered * 2 > plain, "answered {answered} of {plain}");
    }
}
