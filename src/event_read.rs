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
use crate::json_read::{first_time, text_field, Reader};

/// `text` as an event of the common shape; `None` for anything else.
pub(crate) fn read_simple(text: &str) -> Option<EventInput> {
    let mut r = Reader::new(text);
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
    let mut seen = 0u32;
    let mut seen_texts = 0u32;
    r.document(&mut |r, key| {
        match key {
            "type" => {
                first_time(&mut seen, 0)?;
                kind = Some(r.string()?);
            }
            "ts" => {
                first_time(&mut seen, 1)?;
                ts = Some(r.whole()?);
            }
            "dwell_seconds" => {
                first_time(&mut seen, 2)?;
                ev.dwell_seconds = r.null_or(|r| r.whole())?.map(|d| d as f64);
            }
            _ => text_field(
                r,
                key,
                &mut [
                    ("content_id", &mut ev.content_id),
                    ("url", &mut ev.url),
                    ("cta", &mut ev.cta),
                    ("form", &mut ev.form),
                    ("name", &mut ev.name),
                ],
                &mut seen_texts,
            )?,
        }
        Some(())
    })?;
    ev.kind = kind?.to_string();
    ev.ts = ts?;
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::read_simple;
    use crate::testing::fast_and_serde;

    #[test]
    fn reads_the_common_shapes() {
        for text in [
            r#"{"type":"page_view","ts":1793610000000,"content_id":"careers","dwell_seconds":126,"url":"/careers/careers"}"#,
            r#"{"content_id":"careers","dwell_seconds":0,"ts":1,"type":"page_view"}"#,
            r#" { "type" : "cta_click" , "ts" : 0 , "cta" : "demo" , "url" : null }  "#,
            r#"{"type":"custom","ts":5,"name":"pricing_calculator","form":"x","cta":"é—ü"}"#,
            "{\"type\":\"form_submit\",\n\t\"ts\":7,\r\"form\":\"demo\"}\n",
        ] {
            assert_eq!(fast_and_serde(read_simple, text), (true, true), "{text}");
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
            let (fast, slow) = fast_and_serde(read_simple, &text);
            if fast {
                answered += 1;
            }
            if is_plain && slow {
                plain += 1;
            }
        }
        // The fast reader is not idle: it answers for most events serde reads.
        assert!(answered * 2 > plain, "answered {answered} of {plain}");
    }
}
