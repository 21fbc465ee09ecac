//! Conditions (GrowthBook syntax, `$regex` included): compile a condition and
//! evaluate it against an attribute document. Input: the condition JSON, a
//! newline, the attributes JSON (`{}` when absent or invalid).
#![no_main]

use buyerpath::condition::{CompileCtx, Condition};
use buyerpath::lists::{ListKind, Lists, NamedList};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

fn lists() -> &'static (Lists, Vec<String>) {
    static LISTS: OnceLock<(Lists, Vec<String>)> = OnceLock::new();
    LISTS.get_or_init(|| {
        let mut l = Lists::new();
        l.insert(
            "targets".into(),
            NamedList::clear(ListKind::Domain, ["example.com", "acme.io"]),
        );
        l.insert(
            "titles".into(),
            NamedList::clear(ListKind::Text, ["chief data officer"]),
        );
        let names = l.names().map(str::to_string).collect();
        (l, names)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (cond_text, attrs_text) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(cond) = serde_json::from_str::<Value>(cond_text) else {
        return;
    };
    let attrs =
        serde_json::from_str::<Value>(attrs_text).unwrap_or(Value::Object(Default::default()));
    let (lists, names) = lists();
    let (c, issues) = Condition::compile(&cond, "$.when", &CompileCtx { lists: names });
    for i in &issues {
        assert!(
            i.path.starts_with("$.when"),
            "issue path {} outside the condition",
            i.path
        );
    }
    let first = c.eval(&attrs, lists);
    // Evaluation is deterministic.
    assert_eq!(first, c.eval(&attrs, lists));
    let _ = c.attribute_paths();
    if c.is_always() {
        assert!(first, "a trivially true condition evaluated to false");
    }
});
