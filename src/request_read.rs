//! The common decide request read straight from its text, without serde:
//! `{now, slots, detail, context: {consent, company, person, account, page,
//! campaign, bot}}` with each key at most once, attribute values that are
//! scalars or flat arrays of them, strings without escapes and whole
//! numbers. That is what hosts send, and serde's derived reader took a fifth
//! of `scoreJson` in Wasm.
//!
//! Anything else (an escape, a decimal or negative number, a nested object
//! in `company` or `account`, an unknown or repeated key, a syntax error)
//! gives `None`, and the caller reads the text with serde, which gives the
//! same value or names the error. `Some` is always what serde would read:
//! `tests::agrees_with_serde`.

use crate::context::{Campaign, Consent, Context, DecideRequest, Detail, Page, Person};
use crate::json_read::{first_time, text_field, Reader};
use serde_json::{Map, Value};

/// `text` as a decide request of the common shape; `None` for anything else.
pub(crate) fn read_simple(text: &str) -> Option<DecideRequest> {
    let mut r = Reader::new(text);
    let mut req = DecideRequest::default();
    let mut now = None;
    let mut seen = 0u32;
    r.document(&mut |r, key| {
        match key {
            "now" => {
                first_time(&mut seen, 0)?;
                now = Some(r.whole()?);
            }
            "slots" => {
                first_time(&mut seen, 1)?;
                req.slots = Some(strings(r)?);
            }
            "context" => {
                first_time(&mut seen, 2)?;
                req.context = context(r)?;
            }
            "detail" => {
                first_time(&mut seen, 3)?;
                req.detail = match r.string()? {
                    "full" => Detail::Full,
                    "brief" => Detail::Brief,
                    _ => return None,
                };
            }
            _ => return None,
        }
        Some(())
    })?;
    req.now = now?;
    Some(req)
}

fn context(r: &mut Reader<'_>) -> Option<Context> {
    let mut c = Context::default();
    let mut seen = 0u32;
    r.object(&mut |r, key| {
        match key {
            "consent" => {
                first_time(&mut seen, 0)?;
                c.consent = match r.string()? {
                    "none" => Consent::None,
                    "anonymous" => Consent::Anonymous,
                    "full" => Consent::Full,
                    _ => return None,
                };
            }
            "company" => {
                first_time(&mut seen, 1)?;
                c.company = attributes(r)?;
            }
            "person" => {
                first_time(&mut seen, 2)?;
                c.person = person(r)?;
            }
            "account" => {
                first_time(&mut seen, 3)?;
                c.account = attributes(r)?;
            }
            "page" => {
                first_time(&mut seen, 4)?;
                c.page = page(r)?;
            }
            "campaign" => {
                first_time(&mut seen, 5)?;
                c.campaign = campaign(r)?;
            }
            "bot" => {
                first_time(&mut seen, 6)?;
                c.bot = r.boolean()?;
            }
            _ => return None,
        }
        Some(())
    })?;
    Some(c)
}

fn person(r: &mut Reader<'_>) -> Option<Person> {
    let mut p = Person::default();
    let mut seen = 0u32;
    r.object(&mut |r, key| {
        let fields = &mut [("title", &mut p.title), ("department", &mut p.department)];
        text_field(r, key, fields, &mut seen)
    })?;
    Some(p)
}

fn page(r: &mut Reader<'_>) -> Option<Page> {
    let mut p = Page::default();
    let mut seen = 0u32;
    r.object(&mut |r, key| {
        let fields = &mut [
            ("content_id", &mut p.content_id),
            ("url", &mut p.url),
            ("referrer", &mut p.referrer),
        ];
        text_field(r, key, fields, &mut seen)
    })?;
    Some(p)
}

fn campaign(r: &mut Reader<'_>) -> Option<Campaign> {
    let mut c = Campaign::default();
    let mut seen = 0u32;
    r.object(&mut |r, key| {
        let fields = &mut [
            ("source", &mut c.source),
            ("medium", &mut c.medium),
            ("name", &mut c.name),
        ];
        text_field(r, key, fields, &mut seen)
    })?;
    Some(c)
}

/// `company` or `account`: names to scalars or flat arrays, each name once.
fn attributes(r: &mut Reader<'_>) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    r.object(&mut |r, key| {
        let v = r.value()?;
        match m.insert(key.to_string(), v) {
            None => Some(()),
            Some(_) => None,
        }
    })?;
    Some(m)
}

/// An array of strings.
fn strings(r: &mut Reader<'_>) -> Option<Vec<String>> {
    r.eat(b'[')?;
    let mut out = Vec::new();
    r.items(b']', &mut |r| {
        out.push(r.string()?.to_string());
        Some(())
    })?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::read_simple;
    use crate::testing::fast_and_serde;

    #[test]
    fn reads_the_common_shapes() {
        for text in [
            r#"{"context":{"account":{"roles_engaged":["end_user"],"tier":"tier1"},"company":{"country":"US","domain":"northbank.example","employees":1200,"funding_stage":"public","industry":"financial_services","region":"NY","revenue":300000000,"tech":["snowflake","dbt","airflow","aws","looker"],"type":"business"},"consent":"full","page":{"content_id":"pricing","url":"/pricing"},"person":{"title":"VP Engineering"}},"now":1798564533200,"slots":["hero","reading","cta"]}"#,
            r#"{"context":{"company":{},"consent":"anonymous","page":{"content_id":"pricing","url":"/pricing"}},"now":1800149729200,"slots":["hero","reading","cta"]}"#,
            r#"{"now":1}"#,
            r#" { "now" : 0 , "slots" : [ ] , "context" : { "bot" : true , "campaign" : { "source" : "newsletter" , "medium" : null } , "person" : { "title" : null } } } "#,
            r#"{"now":5,"context":{"account":{"customer":true,"open_opportunity":false,"arr":0,"owner":null,"mixed":[1,"a",true,null]},"consent":"none"}}"#,
        ] {
            assert_eq!(fast_and_serde(read_simple, text), (true, true), "{text}");
        }
    }

    #[test]
    fn leaves_the_rest_to_serde() {
        for text in [
            r#"{"slots":["hero"]}"#,
            r#"{"now":1,"now":2}"#,
            r#"{"now":1,"context":{"consent":"partial"}}"#,
            r#"{"now":1,"context":{"company":{"a":1,"a":2}}}"#,
            r#"{"now":1,"context":{"company":{"hq":{"city":"Oslo"}}}}"#,
            r#"{"now":1,"context":{"company":{"tech":[["a"]]}}}"#,
            r#"{"now":1,"context":{"company":{"margin":0.25}}}"#,
            r#"{"now":1,"context":{"company":{"delta":-3}}}"#,
            r#"{"now":1,"context":{"company":{"name":"A\"B"}}}"#,
            r#"{"now":1,"context":{"person":{"title":"x","email":"a@b.c"}}}"#,
            r#"{"now":1,"context":{"bot":null}}"#,
            r#"{"now":1,"context":null}"#,
            r#"{"now":1,"slots":null}"#,
            r#"{"now":1,"slots":["hero",1]}"#,
            r#"{"now":1,"extra":true}"#,
            r#"{"now":1} {}"#,
            r#"{"now":1,}"#,
            r#"[]"#,
            "",
        ] {
            assert_eq!(read_simple(text), None, "{text}");
        }
    }

    /// On texts built from the pieces hosts and attackers send, whenever the
    /// fast reader answers, serde reads the same request; and it answers for
    /// most of the requests serde reads.
    #[test]
    fn agrees_with_serde() {
        let mut next = crate::testing::xorshift(0x5eed_4e90_0003_0004);
        let pick = |next: &mut dyn FnMut() -> u64, xs: &[&'static str]| -> &'static str {
            xs[(next() as usize) % xs.len()]
        };
        let ws = ["", " ", "\n", "\t "];
        let scalars = [
            "\"x\"",
            "\"é ü\"",
            "\"a\\\"b\"",
            "\"\"",
            "0",
            "12",
            "007",
            "-4",
            "2.5",
            "1e3",
            "12345678901234567",
            "true",
            "false",
            "null",
        ];
        let values = [
            "[]",
            "[\"a\",\"b\"]",
            "[1,true,null]",
            "[[1]]",
            "{}",
            "{\"k\":1}",
        ];
        let mut answered = 0;
        let mut read = 0;
        for _ in 0..30_000 {
            let obj = |next: &mut dyn FnMut() -> u64, members: Vec<String>| {
                let w = pick(next, &ws);
                format!("{{{w}{}{w}}}", members.join(&format!(",{w}")))
            };
            let mut attrs = Vec::new();
            for _ in 0..(next() % 5) {
                let k = pick(
                    &mut next,
                    &["industry", "employees", "tech", "tier", "industry"],
                );
                let v = if next() % 4 == 0 {
                    pick(&mut next, &values)
                } else {
                    pick(&mut next, &scalars)
                };
                attrs.push(format!("\"{k}\":{v}"));
            }
            let mut ctx = Vec::new();
            for _ in 0..(next() % 6) {
                let member = match next() % 9 {
                    0 => format!(
                        "\"consent\":{}",
                        pick(
                            &mut next,
                            &["\"full\"", "\"anonymous\"", "\"none\"", "\"all\"", "null"]
                        )
                    ),
                    1 | 2 => format!("\"company\":{}", obj(&mut next, attrs.clone())),
                    3 => format!("\"account\":{}", obj(&mut next, attrs.clone())),
                    4 => format!(
                        "\"person\":{{\"title\":{}}}",
                        pick(&mut next, &["\"VP Eng\"", "null", "3"])
                    ),
                    5 => format!(
                        "\"page\":{{\"content_id\":\"pricing\",\"url\":{}}}",
                        pick(&mut next, &["\"/p\"", "null", "\"/p\\n\""])
                    ),
                    6 => format!(
                        "\"campaign\":{{\"{}\":\"x\"}}",
                        pick(&mut next, &["source", "medium", "name", "term"])
                    ),
                    7 => format!(
                        "\"bot\":{}",
                        pick(&mut next, &["true", "false", "null", "1"])
                    ),
                    _ => format!("\"{}\":1", pick(&mut next, &["referrer", "consent"])),
                };
                ctx.push(member);
            }
            let mut top = Vec::new();
            if next() % 10 != 0 {
                top.push(format!(
                    "\"now\":{}",
                    pick(&mut next, &["1798564533200", "0", "1.5", "-1", "01"])
                ));
            }
            if next() % 2 == 0 {
                top.push(format!(
                    "\"slots\":{}",
                    pick(
                        &mut next,
                        &["[\"hero\",\"cta\"]", "[]", "null", "[\"a\",2]"]
                    )
                ));
            }
            if next() % 5 != 0 {
                top.push(format!("\"context\":{}", obj(&mut next, ctx)));
            }
            if next() % 3 == 0 {
                top.push(format!(
                    "\"detail\":{}",
                    pick(
                        &mut next,
                        &["\"brief\"", "\"full\"", "\"short\"", "null", "\"Brief\""]
                    )
                ));
            }
            if next() % 30 == 0 {
                top.push(
                    pick(&mut next, &["\"now\":2", "\"x\":1", "\"detail\":\"full\""]).to_string(),
                );
            }
            let text = obj(&mut next, top);
            let (fast, slow) = fast_and_serde(read_simple, &text);
            if fast {
                answered += 1;
            }
            if slow {
                read += 1;
            }
        }
        assert!(answered * 4 > read, "answered {answered} of {read}");
    }
}
