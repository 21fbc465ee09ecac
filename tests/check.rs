//! Playbook validation: every problem at once, each with a code, a JSON path
//! and a hint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::Engine;
use serde_json::{json, Value};

/// The example playbook with five mistakes a marketer might make.
pub fn broken() -> serde_json::Value {
    let mut p = common::example_playbook();
    p["content"][3]["stages"][0] = json!("supplier_selecton");
    p["fit"]["criteria"][2]["weight"] = json!(-2);
    p["gates"][0]["require"] = json!({"company.country": {"$inn": ["US", "CA"]}});
    p["engagement"]["rules"][1]["points"] = json!("ten");
    p["slots"][0]["count"] = json!("three");
    p
}

#[test]
fn five_mistakes_five_precise_errors() {
    let err = Engine::from_value(broken()).unwrap_err();
    let got: Vec<(String, String)> = err
        .issues
        .iter()
        .map(|i| (i.code.clone(), i.path.clone()))
        .collect();
    assert_eq!(err.issues.len(), 5, "{err}");
    let want = [
        ("invalid_type", "$.engagement.rules[1].points"),
        ("invalid_type", "$.slots[0].count"),
        ("negative_weight", "$.fit.criteria[2].weight"),
        (
            "unknown_operator",
            "$.gates[0].require.company.country.$inn",
        ),
        ("unknown_stage", "$.content[3].stages[0]"),
    ];
    for (code, path) in want {
        assert!(
            got.iter().any(|(c, p)| c == code && p == path),
            "missing {code} at {path}; got {got:?}"
        );
    }
    let stage = err
        .issues
        .iter()
        .find(|i| i.code == "unknown_stage")
        .unwrap();
    assert_eq!(
        stage.hint.as_deref(),
        Some("did you mean `supplier_selection`?")
    );
    let op = err
        .issues
        .iter()
        .find(|i| i.code == "unknown_operator")
        .unwrap();
    assert!(op.hint.as_deref().unwrap_or("").contains("$in"), "{op}");
    let ty = err
        .issues
        .iter()
        .find(|i| i.path == "$.engagement.rules[1].points")
        .unwrap();
    assert!(ty.expected.is_some() && ty.found.is_some(), "{ty}");
}

#[test]
fn unknown_field_gets_did_you_mean() {
    let mut p = common::example_playbook();
    let stage = p["stages"][0].as_object_mut().unwrap();
    let prior = stage.remove("prior").unwrap_or(json!(1));
    stage.insert("priro".into(), prior);
    let err = Engine::from_value(p).unwrap_err();
    assert_eq!(err.issues.len(), 1, "{err}");
    let i = &err.issues[0];
    assert_eq!(
        (i.code.as_str(), i.path.as_str()),
        ("unknown_field", "$.stages[0].priro")
    );
    assert_eq!(i.hint.as_deref(), Some("did you mean `prior`?"));
}

/// An unknown key is named once, and written as a path writes it: a key
/// with a dot was named twice (`$.a.b.a.b`), one with a space unquoted
/// (`$.a b`). In a playbook, an event and a decide request alike.
#[test]
fn unknown_keys_are_named_once_as_paths_write_them() {
    for (key, path) in [
        ("content.id", "$.stages[0].content.id"),
        ("a b", "$.stages[0][\"a b\"]"),
        ("", "$.stages[0][\"\"]"),
        ("é", "$.stages[0][\"é\"]"),
    ] {
        let mut p = common::example_playbook();
        p["stages"][0][key] = json!(1);
        let err = Engine::from_value(p).unwrap_err();
        let i = &err.issues[0];
        assert_eq!(
            (i.code.as_str(), i.path.as_str()),
            ("unknown_field", path),
            "{key:?}"
        );
    }
    for (key, path) in [("a.b", "$.a.b"), ("a b", "$[\"a b\"]")] {
        let mut event = json!({"type": "page_view", "ts": 1});
        event[key] = json!(1);
        let e = buyerpath::Event::from_json(&event.to_string()).unwrap_err();
        assert_eq!(
            (e.code(), e.issues[0].path.as_str()),
            ("unknown_field", path),
            "{key:?}"
        );
        let mut request = json!({"now": 1, "slots": ["hero"]});
        request[key] = json!(1);
        let e = buyerpath::DecideRequest::from_json(&request.to_string()).unwrap_err();
        assert_eq!(
            (e.code(), e.issues[0].path.as_str()),
            ("unknown_field", path),
            "{key:?}"
        );
    }
    // Keys the engine checks by name are written so too: a tier in
    // `lifecycle.mql`, a company attribute, a form field.
    let mut p = common::example_playbook();
    p["lifecycle"]["mql"]["tier a"] = json!(50);
    let err = Engine::from_value(p).unwrap_err();
    assert!(
        err.issues
            .iter()
            .any(|i| i.path == "$.lifecycle.mql[\"tier a\"]"),
        "{err}"
    );
    let deep = json!({"now": 1, "slots": ["hero"], "context": {"company": {"a b": [[[[[[1]]]]]]}}});
    let e = buyerpath::DecideRequest::from_json(&deep.to_string()).unwrap_err();
    assert_eq!(e.issues[0].path, "$.context.company[\"a b\"]", "{e}");
    let form = json!({"type": "form_submit", "ts": 1, "fields": {"a b": "x".repeat(300)}});
    let e = buyerpath::Event::from_json(&form.to_string()).unwrap_err();
    assert_eq!(e.issues[0].path, "$.fields[\"a b\"]", "{e}");
}

#[test]
fn references_and_ranges_are_checked() {
    let mut p = common::example_playbook();
    p["slots"][1]["default"] = json!("no-such-item");
    p["lifecycle"]["mql"]["Z"] = json!(40);
    p["holdout"]["percent"] = json!(80);
    p["fit"]["tiers"][1]["min"] = json!(99);
    p["content"][0]["start"] = json!("2026-13-01");
    let err = Engine::from_value(p).unwrap_err();
    let codes: Vec<&str> = err.issues.iter().map(|i| i.code.as_str()).collect();
    for c in [
        "unknown_content",
        "unknown_tier",
        "out_of_range",
        "tiers_not_descending",
        "invalid_date",
    ] {
        assert!(codes.contains(&c), "missing {c}: {err}");
    }
}

#[test]
fn invalid_json_and_wrong_version() {
    let e = Engine::from_json("{\"version\": 1,").unwrap_err();
    assert_eq!(e.code(), "invalid_json");
    assert!(e.issues[0].hint.as_deref().unwrap().contains("line 1"));
    let mut p = common::example_playbook();
    p["version"] = json!(7);
    let e = Engine::from_value(p).unwrap_err();
    assert_eq!(e.code(), "unsupported_version");
    assert_eq!(Engine::from_json("[]").unwrap_err().code(), "invalid_type");
}

#[test]
fn limits_are_enforced() {
    // Nesting.
    let mut deep = json!({"x": 1});
    for _ in 0..30 {
        deep = json!({ "$and": [deep] });
    }
    let mut p = common::example_playbook();
    p["triggers"][0]["when"] = deep;
    assert_eq!(
        Engine::from_value(p).unwrap_err().code(),
        "playbook_too_deep"
    );
    // Size.
    let big = format!(
        "{{\"version\":1,\"pad\":\"{}\"}}",
        "x".repeat(5 * 1024 * 1024)
    );
    assert_eq!(
        Engine::from_json(&big).unwrap_err().code(),
        "playbook_too_large"
    );
    // Count.
    let mut p = common::example_playbook();
    let one = p["stages"][0].clone();
    let many: Vec<_> = (0..40)
        .map(|i| {
            let mut s = one.clone();
            s["id"] = json!(format!("s{i}"));
            s
        })
        .collect();
    p["stages"] = json!(many);
    let e = Engine::from_value(p).unwrap_err();
    assert!(
        e.issues
            .iter()
            .any(|i| i.code == "too_many" && i.path == "$.stages"),
        "{e}"
    );
    // Regex size.
    let mut p = common::example_playbook();
    p["triggers"][0]["when"] = json!({"page.url": {"$regex": "a".repeat(300)}});
    let e = Engine::from_value(p).unwrap_err();
    assert!(e.issues.iter().any(|i| i.code == "regex_too_large"), "{e}");
}

/// Both readings of a playbook (the direct one `from_json` takes for valid
/// text, the element-by-element one for text it rejects) must agree: the same
/// engine for a valid playbook, the same problems for a broken one.
#[test]
fn direct_and_element_wise_readings_agree() {
    let base = common::example_playbook();
    let mut variants: Vec<(&str, serde_json::Value)> = vec![("valid", base.clone())];
    let mut with = |name: &'static str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = base.clone();
        f(&mut p);
        variants.push((name, p));
    };
    with("five mistakes", &|p| *p = broken());
    with("unknown stage", &|p| {
        p["content"][0]["stages"] = json!(["nowhere"])
    });
    with("wrong type", &|p| {
        p["fit"]["criteria"][0]["weight"] = json!("heavy")
    });
    with("version 2", &|p| p["version"] = json!(2));
    with("no version", &|p| {
        p.as_object_mut().unwrap().remove("version");
    });
    with("unknown field", &|p| p["slots"][0]["colour"] = json!("red"));
    with("missing id", &|p| {
        p["content"][1].as_object_mut().unwrap().remove("id");
    });
    with("float count", &|p| p["slots"][0]["count"] = json!(2.5));
    with("negative count", &|p| p["slots"][0]["count"] = json!(-1));
    with("huge weight", &|p| {
        p["fit"]["criteria"][0]["weight"] = json!(1e300)
    });
    with("deep condition", &|p| {
        let mut c = json!({"company.country": "US"});
        for _ in 0..30 {
            c = json!({ "$and": [c] });
        }
        p["gates"][0]["require"] = c;
    });
    with("quotes and brackets in text", &|p| {
        p["content"][0]["title"] = json!("a \"quoted\" [title] {with} \\ brackets");
    });
    let journey = common::read("examples/journeys/01-tier-a-evaluator.json");
    let journey = buyerpath::journey::parse(&journey).unwrap();
    for (name, p) in variants {
        let direct = Engine::from_json(&p.to_string());
        let element_wise = Engine::from_value_element_wise(p.clone());
        match (direct, element_wise) {
            (Ok(a), Ok(b)) => {
                let da = buyerpath::journey::replay(&a, &journey).unwrap();
                let db = buyerpath::journey::replay(&b, &journey).unwrap();
                assert_eq!(
                    serde_json::to_string(&da).unwrap(),
                    serde_json::to_string(&db).unwrap(),
                    "{name}: the two engines decide differently"
                );
            }
            (Err(a), Err(b)) => assert_eq!(a.issues, b.issues, "{name}"),
            (a, b) => panic!(
                "{name}: direct {:?}, element-wise {:?}",
                a.err().map(|e| e.to_string()),
                b.err().map(|e| e.to_string())
            ),
        }
    }
}

/// serde reads a struct from the array of its fields too; a playbook is only
/// ever an object, on the direct path as on the reporting one.
#[test]
fn a_playbook_written_as_an_array_of_its_fields_is_refused() {
    let p: buyerpath::playbook::Playbook =
        serde_json::from_str(&common::read("examples/acme/playbook.json")).unwrap();
    let object = serde_json::to_string(&p).unwrap();
    // The top-level keys removed, in declaration order: `{"a":1,"b":[..]}` → `[1,[..]]`.
    let (mut out, mut depth, mut in_str, mut esc, mut key_at) =
        (String::new(), 0, false, false, None);
    for (i, ch) in object.char_indices() {
        if in_str {
            match ch {
                _ if esc => esc = false,
                '\\' => esc = true,
                '"' => in_str = false,
                _ => {}
            }
        } else {
            match ch {
                '"' => {
                    in_str = true;
                    if depth == 1 && key_at.is_none() {
                        key_at = Some(i);
                    }
                }
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                ':' if depth == 1 => {
                    let start = key_at.take().unwrap();
                    out.truncate(out.len() - (i - start));
                    continue;
                }
                ',' if depth == 1 => key_at = None,
                _ => {}
            }
            if depth == 1 && matches!(ch, ',') {
                out.push(ch);
                key_at = None;
                continue;
            }
        }
        out.push(ch);
    }
    let array = format!("[{}]", &out[1..out.len() - 1]);
    assert!(
        serde_json::from_str::<buyerpath::playbook::Playbook>(&array).is_ok(),
        "serde itself reads the array form"
    );
    let err = Engine::from_json(&array)
        .map(|_| ())
        .expect_err("an array is not a playbook");
    assert_eq!((err.code(), err.path()), ("invalid_type", "$"), "{err}");
}

/// A condition reading an attribute nothing fills, or comparing a
/// classification field with a value it never holds, is refused with a
/// suggestion: such a rule silently never matched.
#[test]
fn conditions_that_can_never_read_anything_are_refused() {
    let cases: [(&str, Value, &str, &str, &str); 6] = [
        (
            "/triggers/0/when",
            json!({"qualified": true, "fit.tierr": "A"}),
            "unknown_attribute",
            "$.triggers[0].when",
            "did you mean `fit.tier`?",
        ),
        (
            "/content/0/when",
            json!({"compnay.country": "US"}),
            "unknown_attribute",
            "$.content[0].when",
            "did you mean `company.country`?",
        ),
        (
            "/triggers/0/when",
            json!({"fit.tier": "AA"}),
            "unknown_value",
            "$.triggers[0].when",
            "did you mean `A`?",
        ),
        (
            "/actions/0/when",
            json!({"$or": [{"stage.id": {"$in": ["supplier_selecton"]}}]}),
            "unknown_value",
            "$.actions[0].when",
            "did you mean `supplier_selection`?",
        ),
        (
            "/actions/0/when",
            json!({"lifecycle": {"$ne": "SQL"}}),
            "unknown_value",
            "$.actions[0].when",
            "did you mean `sql`?",
        ),
        (
            "/engagement/rules/0/when",
            json!({"contnet.format": "blog"}),
            "unknown_attribute",
            "$.engagement.rules[0].when",
            "did you mean `content.format`?",
        ),
    ];
    for (pointer, cond, code, path, hint) in cases {
        let mut p = common::example_playbook();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        p.pointer_mut(parent).unwrap()[key] = cond.clone();
        let err = Engine::from_value(p).unwrap_err();
        assert_eq!(err.issues.len(), 1, "{cond}: {err}");
        let i = &err.issues[0];
        assert_eq!(
            (i.code.as_str(), i.path.as_str()),
            (code, path),
            "{cond}: {i}"
        );
        assert_eq!(i.hint.as_deref(), Some(hint), "{cond}: {i}");
    }
    // What the README's table lists is read, role `unknown` included, and
    // `company.*` and `account.*` keys are the enrichment's own.
    let mut p = common::example_playbook();
    p["triggers"][0]["when"] = json!({"role.id": {"$nin": ["unknown"]}, "company.anything": 1,
        "account.crm": {"lifecycle": "customer", "stage.id": "x"},
        "account.whatever": true, "traits.x": 1, "visitor.events": {"$gt": 3}, "person.title": "CFO"});
    Engine::from_value(p).unwrap();
}

/// A content format no slot shows and no rule reads, close to one that is
/// named, is a misspelling: its items were never shown. A format of its own
/// (far from every named one) is still allowed.
#[test]
fn a_misspelt_content_format_is_refused() {
    let mut p = common::example_playbook();
    let defaults: Vec<Value> = p["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["default"].clone())
        .collect();
    let i = p["content"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["format"] == "blog" && !defaults.contains(&c["id"]))
        .unwrap();
    p["content"][i]["format"] = json!("blgo");
    let err = Engine::from_value(p.clone()).unwrap_err();
    assert_eq!(err.issues.len(), 1, "{err}");
    let issue = &err.issues[0];
    assert_eq!(
        (issue.code.as_str(), issue.path.clone()),
        ("unknown_format", format!("$.content[{i}].format"))
    );
    assert_eq!(issue.hint.as_deref(), Some("did you mean `blog`?"));
    p["content"][i]["format"] = json!("press_release");
    Engine::from_value(p.clone()).unwrap();
    // Close to `contact`, but named: by a condition on `content.format`, or
    // as the format of an action's call to action.
    p["content"][i]["format"] = json!("contract");
    let mut by_rule = p.clone();
    by_rule["engagement"]["rules"][0]["when"] = json!({"content.format": {"$in": ["contract"]}});
    Engine::from_value(by_rule).unwrap();
    let mut by_action = p.clone();
    by_action["actions"][0]["cta"] = p["content"][i]["id"].clone();
    Engine::from_value(by_action).unwrap();
    assert_eq!(
        Engine::from_value(p).unwrap_err().issues[0].code,
        "unknown_format"
    );
}
