//! Every documented limit on outside input (README "Limits", SECURITY.md):
//! one test per limit that goes just past it and checks the error's code and
//! JSON path. Inputs just at the limit are accepted where that is cheap to show.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::condition::{CompileCtx, Condition};
use buyerpath::{DecideRequest, Engine, Error, Event};
use common::{example_engine, example_playbook, T0};
use serde_json::{json, Value};

/// The issue with `code` at `path`, or a failure listing what was found.
fn has(e: &Error, code: &str, path: &str) {
    assert!(
        e.issues.iter().any(|i| i.code == code && i.path == path),
        "expected {code} at {path}, got:\n{e}"
    );
}

fn compile_err(p: Value) -> Error {
    Engine::from_value(p).expect_err("the playbook must be refused")
}

/// The example playbook with the array at `pointer` grown to `n` copies of its
/// first element, each with a fresh id.
fn grown(pointer: &str, n: usize) -> Value {
    let mut p = example_playbook();
    let arr = p.pointer_mut(pointer).unwrap().as_array_mut().unwrap();
    let one = arr[0].clone();
    *arr = (0..n)
        .map(|i| {
            let mut x = one.clone();
            if x.get("id").is_some() {
                x["id"] = json!(format!("x{i}"));
            }
            x
        })
        .collect();
    p
}

// ---- playbook --------------------------------------------------------------

#[test]
fn playbook_size() {
    let max = buyerpath::playbook::MAX_PLAYBOOK_BYTES;
    let big = format!(r#"{{"version":1,"pad":"{}"}}"#, "x".repeat(max));
    let e = Engine::from_json(&big).unwrap_err();
    assert_eq!((e.code(), e.path()), ("playbook_too_large", "$"));
    assert!(e.issues[0].found.as_deref().unwrap().contains("bytes"));
}

/// `{"x": 1}` inside `levels - 1` objects: `levels` levels of JSON.
fn nested_object(levels: usize) -> Value {
    let mut v = json!({"x": 1});
    for _ in 1..levels {
        v = json!({ "a": v });
    }
    v
}

#[test]
fn playbook_nesting_depth() {
    let max = buyerpath::playbook::MAX_DEPTH;
    // `$.x` is the second level: the value there may hold max - 1 levels.
    let mut p = example_playbook();
    p["pad"] = nested_object(max); // max + 1 levels in all
    let e = compile_err(p);
    // Reported at the first value too deep, the innermost object: the root
    // is level 1, `$.pad` level 2, and it is max - 1 `a` keys below `$.pad`.
    let path = format!("$.pad{}", ".a".repeat(max - 1));
    assert_eq!((e.code(), e.path()), ("playbook_too_deep", path.as_str()));
    // Deeper than serde_json's own recursion limit (128): the same error, not a syntax error.
    let text = format!(
        r#"{{"version":1,"x":{}1{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let e = Engine::from_json(&text).unwrap_err();
    // The array at level max + 1: `$.x` is level 2.
    let path = format!("$.x{}", "[0]".repeat(max - 1));
    assert_eq!((e.code(), e.path()), ("playbook_too_deep", path.as_str()));
    assert!(e.issues[0].found.as_deref().unwrap().contains("128"));
}

#[test]
fn stages_roles_slots() {
    for (pointer, max, path) in [
        ("/stages", 32, "$.stages"),
        ("/roles", 32, "$.roles"),
        ("/slots", 16, "$.slots"),
    ] {
        let e = compile_err(grown(pointer, max + 1));
        has(&e, "too_many", path);
        assert_eq!(
            e.issues
                .iter()
                .find(|i| i.code == "too_many")
                .unwrap()
                .expected
                .as_deref(),
            Some(format!("at most {max}").as_str())
        );
    }
}

#[test]
fn criteria_bands_rules() {
    has(
        &compile_err(grown("/fit/criteria", 257)),
        "too_many",
        "$.fit.criteria",
    );
    has(
        &compile_err(grown("/fit/criteria/0/bands", 33)),
        "too_many",
        "$.fit.criteria[0].bands",
    );
    has(
        &compile_err(grown("/engagement/rules", 257)),
        "too_many",
        "$.engagement.rules",
    );
}

#[test]
fn content_items_and_formats() {
    has(
        &compile_err(grown("/content", 5001)),
        "too_many",
        "$.content",
    );
    let mut p = grown("/content", 65);
    for (i, c) in p["content"].as_array_mut().unwrap().iter_mut().enumerate() {
        c["format"] = json!(format!("f{i}"));
    }
    let e = compile_err(p);
    assert!(
        e.issues.iter().any(|i| i.code == "too_many"
            && i.path == "$.content"
            && i.message.contains("formats")),
        "{e}"
    );
    // 64 distinct formats (each twice, apart) are within the limit.
    let mut p = grown("/content", 128);
    for (i, c) in p["content"].as_array_mut().unwrap().iter_mut().enumerate() {
        c["format"] = json!(format!("f{}", i % 64));
    }
    let formats_issue = |p: Value| match Engine::from_value(p) {
        Ok(_) => false,
        Err(e) => e.issues.iter().any(|i| i.message.contains("formats")),
    };
    assert!(!formats_issue(p));
}

#[test]
fn content_titles_and_urls_and_diversity_caps_are_named_where_they_are() {
    let mut p = example_playbook();
    p["content"][0]["title"] = json!("t".repeat(301));
    p["content"][1]["url"] = json!(format!("/{}", "u".repeat(500)));
    p["recommend"]["max_per_format"] = json!(0);
    p["recommend"]["max_per_topic"] = json!(0);
    let e = compile_err(p);
    has(&e, "too_long", "$.content[0].title");
    has(&e, "too_long", "$.content[1].url");
    has(&e, "out_of_range", "$.recommend.max_per_format");
    has(&e, "out_of_range", "$.recommend.max_per_topic");
    assert!(e.issues.iter().all(|i| i.hint.is_some()), "{e}");
}

#[test]
fn shortlists_recent_events_and_an_items_topics_are_checked_not_clamped() {
    // The exploration shortlist was clamped to 1–32 without a word; a topic
    // listed twice in an item counted twice; `recent_events: 1` could never
    // hold a burst of `max_events` (1 or more) and fewer.
    for (shortlist, refused) in [(0, true), (1, false), (32, false), (33, true)] {
        let mut p = example_playbook();
        p["recommend"]["exploration"]["shortlist"] = json!(shortlist);
        match Engine::from_value(p) {
            Ok(_) => assert!(!refused, "shortlist {shortlist} taken"),
            Err(e) => {
                assert!(refused, "shortlist {shortlist} refused: {e}");
                has(&e, "out_of_range", "$.recommend.exploration.shortlist");
            }
        }
    }
    let mut p = example_playbook();
    let topic = p["content"][2]["topics"][0].clone();
    p["content"][2]["topics"] = json!([topic, "other", topic]);
    p["state"]["recent_events"] = json!(1);
    p["engagement"]["burst"]["max_events"] = json!(1);
    let e = compile_err(p);
    has(&e, "duplicate_id", "$.content[2].topics[2]");
    has(&e, "out_of_range", "$.state.recent_events");
    // One problem, at the field that is wrong: a burst of 1 is right once
    // more than one recent event is kept.
    assert!(
        !e.issues
            .iter()
            .any(|i| i.path == "$.engagement.burst.max_events"),
        "{e}"
    );
    assert!(e.issues.iter().all(|i| i.hint.is_some()), "{e}");
    assert!(
        !e.issues.iter().any(|i| i.path == "$.content[2].topics[0]"),
        "the first listing is not the duplicate: {e}"
    );
}

#[test]
fn small_sections() {
    for (pointer, path) in [
        ("/gates", "$.gates"),
        ("/triggers", "$.triggers"),
        ("/actions", "$.actions"),
        ("/bant", "$.bant"),
        ("/stage_model/rules", "$.stage_model.rules"),
        ("/lifecycle/hand_raise", "$.lifecycle.hand_raise"),
    ] {
        has(&compile_err(grown(pointer, 65)), "too_many", path);
    }
}

#[test]
fn picks_per_slot() {
    let mut p = example_playbook();
    p["slots"][0]["count"] = json!(11);
    has(&compile_err(p), "out_of_range", "$.slots[0].count");
}

#[test]
fn lists_and_list_members() {
    let mut p = example_playbook();
    let values: Vec<String> = (0..100_001).map(|i| format!("d{i}.example")).collect();
    p["lists"]["competitors"]["values"] = json!(values);
    has(&compile_err(p), "too_many", "$.lists.competitors.values");

    let mut p = example_playbook();
    let lists = p["lists"].as_object_mut().unwrap();
    for i in 0..62 {
        lists.insert(format!("l{i}"), json!({"values": ["example.com"]}));
    }
    assert_eq!(lists.len(), 65);
    has(&compile_err(p), "too_many", "$.lists");
}

#[test]
fn ids() {
    let mut p = example_playbook();
    p["stages"][0]["id"] = json!("s".repeat(65));
    has(&compile_err(p), "invalid_id", "$.stages[0].id");
    let mut p = example_playbook();
    p["id"] = json!("has space");
    has(&compile_err(p), "invalid_id", "$.id");
}

// ---- conditions ------------------------------------------------------------

fn cond_issues(c: Value) -> Vec<buyerpath::Issue> {
    Condition::compile(&c, "$.when", &CompileCtx::default()).1
}

#[test]
fn condition_depth() {
    let max = buyerpath::condition::MAX_DEPTH;
    // `{"a": 1}` is two levels (object and test); each `$not` adds one.
    let mut ok = json!({"a": 1});
    for _ in 0..max - 2 {
        ok = json!({ "$not": ok });
    }
    assert!(cond_issues(ok.clone()).is_empty());
    let issues = cond_issues(json!({ "$not": ok }));
    assert_eq!(issues[0].code, "condition_too_deep");
    assert!(issues[0].path.starts_with("$.when.$not"), "{issues:?}");
}

#[test]
fn condition_nodes() {
    let max = buyerpath::condition::MAX_NODES;
    let map: serde_json::Map<String, Value> = (0..max)
        .map(|i| (format!("a{i}"), json!({"$gt": i})))
        .collect();
    let issues = cond_issues(Value::Object(map));
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].code.as_str(), issues[0].path.as_str()),
        ("condition_too_large", "$.when")
    );
}

#[test]
fn regex_length() {
    let max = buyerpath::condition::MAX_REGEX_LEN;
    assert!(cond_issues(json!({"s": {"$regex": "a".repeat(max)}})).is_empty());
    let issues = cond_issues(json!({"s": {"$regex": "a".repeat(max + 1)}}));
    assert_eq!(
        (issues[0].code.as_str(), issues[0].path.as_str()),
        ("regex_too_large", "$.when.s.$regex")
    );
}

#[test]
fn regex_compiled_size_and_nesting() {
    // 10,000 repetitions compile past the 64 KiB limit.
    let issues = cond_issues(json!({"s": {"$regex": "(?:a{100}){100}"}}));
    assert_eq!(
        (issues[0].code.as_str(), issues[0].path.as_str()),
        ("regex_too_large", "$.when.s.$regex")
    );
    let nest = buyerpath::condition::REGEX_NEST_LIMIT as usize + 1;
    let deep = format!("{}a{}", "(".repeat(nest), ")".repeat(nest));
    let issues = cond_issues(json!({"s": {"$regexi": deep}}));
    assert_eq!(
        (issues[0].code.as_str(), issues[0].path.as_str()),
        ("regex_too_large", "$.when.s.$regexi")
    );
}

#[test]
fn condition_limits_reach_the_playbook_error() {
    let mut p = example_playbook();
    p["triggers"][0]["when"] = json!({"page.url": {"$regex": "a".repeat(300)}});
    has(
        &compile_err(p),
        "regex_too_large",
        "$.triggers[0].when.page.url.$regex",
    );
}

// ---- events ----------------------------------------------------------------

#[test]
fn event_size() {
    let max = buyerpath::event::MAX_EVENT_BYTES;
    let pad = max - r#"{"type":"page_view","ts":1,"url":""}"#.len() + 1;
    let text = format!(
        r#"{{"type":"page_view","ts":1,"url":"{}"}}"#,
        "x".repeat(pad)
    );
    assert_eq!(text.len(), max + 1);
    let e = Event::from_json(&text).unwrap_err();
    assert_eq!((e.code(), e.path()), ("event_too_large", "$"));
}

#[test]
fn event_strings() {
    for (field, max) in [
        ("content_id", 128),
        ("url", 2048),
        ("cta", 64),
        ("form", 64),
        ("name", 64),
    ] {
        let ok = json!({"type": "custom", "ts": T0, field: "x".repeat(max)});
        assert!(Event::from_value(&ok).is_ok(), "{field} at {max}");
        let long = json!({"type": "custom", "ts": T0, field: "x".repeat(max + 1)});
        let e = Event::from_value(&long).unwrap_err();
        assert_eq!(
            (e.code(), e.path()),
            ("too_long", format!("$.{field}").as_str())
        );
    }
}

#[test]
fn event_form_fields() {
    let fields: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("f{i}"), json!("x"))).collect();
    let e =
        Event::from_value(&json!({"type": "form_submit", "ts": T0, "fields": fields})).unwrap_err();
    assert_eq!((e.code(), e.path()), ("too_many", "$.fields"));
    let e = Event::from_value(
        &json!({"type": "form_submit", "ts": T0, "fields": {"budget": "x".repeat(257)}}),
    )
    .unwrap_err();
    assert_eq!((e.code(), e.path()), ("too_long", "$.fields.budget"));
}

#[test]
fn event_timestamp_and_dwell() {
    let e = Event::from_value(&json!({"type": "page_view", "ts": buyerpath::event::MAX_TS + 1}))
        .unwrap_err();
    assert_eq!((e.code(), e.path()), ("out_of_range", "$.ts"));
    // The last millisecond of 9999 is the last whose ISO 8601 form has four
    // year digits (a signal's originalTimestamp): read, and one past refused.
    let max = buyerpath::event::MAX_TS;
    assert_eq!(max, 253_402_300_799_999);
    assert!(Event::from_value(&json!({"type": "page_view", "ts": max})).is_ok());
    let r = |now: u64| buyerpath::DecideRequest::from_value(&json!({ "now": now }));
    assert!(r(max).is_ok());
    let e = r(max + 1).unwrap_err();
    assert_eq!((e.code(), e.path()), ("out_of_range", "$.now"));
    let engine = example_engine();
    let mut v = engine.visitor("end-of-time").unwrap();
    let req = DecideRequest::from_value(&json!({"now": max, "context": {"consent": "full"}}));
    let d = engine.decide(&mut v, &req.unwrap()).unwrap();
    assert_eq!(
        &*d.signals[0].original_timestamp,
        "9999-12-31T23:59:59.999Z"
    );
    let e = Event::from_value(&json!({"type": "page_view", "ts": T0, "dwell_seconds": 86_401}))
        .unwrap_err();
    assert_eq!((e.code(), e.path()), ("out_of_range", "$.dwell_seconds"));
}

/// The rate limit per visitor: past `engagement.burst.max_events` events in
/// `window_seconds`, events are kept (flagged) but earn nothing. The example
/// playbook allows 6 events in 10 seconds.
#[test]
fn event_rate_per_visitor() {
    let engine = example_engine();
    let mut v = engine.visitor("burst-1").unwrap();
    let mut burst = Vec::new();
    for i in 0..10u64 {
        let o = engine
            .observe_json(
                &mut v,
                &format!(
                    r#"{{"type":"page_view","ts":{},"content_id":"pricing"}}"#,
                    T0 + i * 1000
                ),
            )
            .unwrap();
        assert!(!o.burst || o.points.is_empty(), "a burst event scored");
        burst.push(o.burst);
    }
    assert_eq!(
        burst,
        [false, false, false, false, false, false, true, true, true, true]
    );
    let d = engine
        .decide(
            &mut v,
            &DecideRequest {
                now: T0 + 20_000,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(d.engagement.ignored_events, 4);
    // The state stays bounded however many events arrive.
    for i in 0..500u64 {
        let _ = engine.observe_json(
            &mut v,
            &format!(
                r#"{{"type":"page_view","ts":{},"content_id":"pricing"}}"#,
                T0 + 30_000 + i
            ),
        );
    }
    assert!(engine.encode(&v, None).len() <= buyerpath::visitor::STATE_BUDGET);
}

// ---- decide requests -------------------------------------------------------

#[test]
fn decide_request_size() {
    let max = buyerpath::context::MAX_CONTEXT_BYTES;
    let text = format!(
        r#"{{"now":1,"context":{{"page":{{"url":"{}"}}}}}}"#,
        "x".repeat(max)
    );
    let e = DecideRequest::from_json(&text).unwrap_err();
    assert_eq!((e.code(), e.path()), ("context_too_large", "$"));
}

#[test]
fn decide_request_slots_and_attributes() {
    let slots: Vec<String> = (0..17).map(|i| format!("s{i}")).collect();
    let e = DecideRequest::from_value(&json!({"now": T0, "slots": slots})).unwrap_err();
    assert_eq!((e.code(), e.path()), ("too_many", "$.slots"));

    let company: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("a{i}"), json!(i))).collect();
    let e = DecideRequest::from_value(&json!({"now": T0, "context": {"company": company}}))
        .unwrap_err();
    assert_eq!((e.code(), e.path()), ("too_many", "$.context.company"));

    let e = DecideRequest::from_value(
        &json!({"now": T0, "context": {"account": {"notes": "x".repeat(4097)}}}),
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("invalid_value", "$.context.account.notes")
    );

    let e = DecideRequest::from_value(
        &json!({"now": T0, "context": {"company": {"tech": [[[[[["deep"]]]]]]}}}),
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("invalid_value", "$.context.company.tech")
    );

    let e = DecideRequest::from_value(
        &json!({"now": T0, "context": {"person": {"title": "x".repeat(257)}}}),
    )
    .unwrap_err();
    assert_eq!((e.code(), e.path()), ("too_long", "$.context.person.title"));
}

// ---- visitor ids and state strings -----------------------------------------

#[test]
fn visitor_id() {
    let engine = example_engine();
    assert!(engine.visitor(&"v".repeat(64)).is_ok());
    let e = engine.visitor(&"v".repeat(65)).unwrap_err();
    assert_eq!(e.code(), "invalid_visitor_id");
}

#[test]
fn state_string_size() {
    let engine = example_engine();
    let long = "A".repeat(8193);
    let e = engine.decode(&long, None).unwrap_err();
    assert_eq!((e.code(), e.path()), ("state_too_large", "$.state"));
}

#[test]
fn state_encoding_budget() {
    let engine = example_engine();
    let (v, _) = common::visitor_with_events(&engine, 3000);
    for secret in [None, Some(&b"k"[..])] {
        let s = engine.encode(&v, secret);
        assert!(s.len() <= buyerpath::visitor::STATE_BUDGET, "{}", s.len());
        assert!(engine.decode(&s, secret).is_ok());
    }
}

/// Ids whose FNV-1a 32 hashes are equal (found by search) are refused in a
/// section, each after the first, wherever they stand.
#[test]
fn ids_that_hash_alike() {
    assert_eq!(
        buyerpath::hash::fnv1a32(b"item-352798"),
        buyerpath::hash::fnv1a32(b"item-1023240")
    );
    let mut p = grown("/content", 6);
    p["content"][1]["id"] = json!("item-1023240");
    p["content"][4]["id"] = json!("item-352798");
    let e = compile_err(p);
    let hits: Vec<&buyerpath::Issue> = e
        .issues
        .iter()
        .filter(|i| i.code == "id_hash_collision")
        .collect();
    assert_eq!(hits.len(), 1, "{e}");
    assert_eq!(hits[0].path, "$.content");
    assert!(
        hits[0].message.contains("`item-352798`"),
        "the later one: {e}"
    );
    let mut p = grown("/engagement/rules", 4);
    p["engagement"]["rules"][0]["id"] = json!("item-352798");
    p["engagement"]["rules"][3]["id"] = json!("item-1023240");
    let e = compile_err(p);
    assert!(
        e.issues.iter().any(|i| i.code == "id_hash_collision"
            && i.path == "$.engagement.rules"
            && i.message.contains("`item-1023240`")),
        "{e}"
    );
    // The same id twice is a duplicate, said once, not also a collision:
    // in the content (its sorted index) and in a small section (stages).
    let duplicate_only = |p| {
        let e = compile_err(p);
        assert!(e.issues.iter().any(|i| i.code == "duplicate_id"), "{e}");
        assert!(
            !e.issues.iter().any(|i| i.code == "id_hash_collision"),
            "{e}"
        );
    };
    let mut p = grown("/content", 3);
    p["content"][2]["id"] = p["content"][0]["id"].clone();
    duplicate_only(p);
    let mut p = example_playbook();
    p["stages"][2]["id"] = p["stages"][1]["id"].clone();
    duplicate_only(p);
}

#[test]
fn seniority_multipliers() {
    let mut p = example_playbook();
    p["role_model"]["seniority"][0]["multiplier"] = json!(100.5);
    has(
        &compile_err(p),
        "out_of_range",
        "$.role_model.seniority[0].multiplier",
    );
    let mut p = example_playbook();
    p["role_model"]["seniority"][0]["multiplier"] = json!(100.0);
    assert!(Engine::from_value(p).is_ok());
}

/// A value out of range is told with the bound it broke: an upper one too.
#[test]
fn range_errors_name_the_bound_that_was_broken() {
    let issue = |pointer: &str, value: Value| {
        let mut p = example_playbook();
        *p.pointer_mut(pointer).unwrap() = value;
        compile_err(p).issues.remove(0)
    };
    let i = issue("/revision", json!(4_294_967_296u64));
    assert_eq!(i.path, "$.revision");
    assert!(
        i.expected.as_deref().unwrap().contains("4294967295"),
        "{i:?}"
    );
    let i = issue("/engagement/saturation", json!(1e12));
    assert_eq!(
        (i.code.as_str(), i.path.as_str()),
        ("out_of_range", "$.engagement.saturation")
    );
    assert!(i.message.contains("at most 1e9"), "{i:?}");
    let i = issue("/stages/0/prior", json!(1e308));
    assert!(
        i.message.contains("1e9") && !i.message.contains('≥'),
        "{i:?}"
    );
    let i = issue("/recommend/stage_weight", json!(11));
    assert_eq!(i.code, "out_of_range");
    let i = issue("/recommend/stage_weight", json!(-1));
    assert_eq!(i.code, "negative_weight");
}
