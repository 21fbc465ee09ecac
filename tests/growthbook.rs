//! GrowthBook SDK conformance (`tests/conformance/growthbook/cases.json`,
//! vendored unchanged) plus buyerpath's own checks of the condition language:
//! `$inList`, domain normalisation, regex limits, issues.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use buyerpath::condition::{compare_versions, pad_version, CompileCtx, Condition};
use buyerpath::hash::hash;
use buyerpath::lists::{hash_member, normalize_domain, ListKind, Lists, NamedList};
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::time::{Duration, Instant};

fn cases() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/growthbook/cases.json"
    );
    let text = std::fs::read_to_string(path).expect("read cases.json");
    serde_json::from_str(&text).expect("parse cases.json")
}

fn compile(cond: &Value) -> Condition {
    Condition::compile(cond, "$", &CompileCtx::default()).0
}

#[test]
fn eval_condition_cases() {
    let all = cases();
    let cases = all["evalCondition"].as_array().unwrap();
    assert_eq!(cases.len(), 143, "evalCondition case count");
    let lists = Lists::new();
    let mut failures = Vec::new();
    for case in cases {
        let c = case.as_array().unwrap();
        let (name, cond, attrs, expected) = (&c[0], &c[1], &c[2], c[3].as_bool().unwrap());
        let got = compile(cond).eval(attrs, &lists);
        if got != expected {
            failures.push(format!(
                "{name}: expected {expected}, got {got} ({cond} on {attrs})"
            ));
        }
    }
    for f in &failures {
        eprintln!("FAIL evalCondition {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} evalCondition cases failed",
        failures.len(),
        cases.len()
    );
}

#[test]
fn hash_cases() {
    let all = cases();
    let cases = all["hash"].as_array().unwrap();
    assert_eq!(cases.len(), 15, "hash case count");
    let mut failures = Vec::new();
    for case in cases {
        let c = case.as_array().unwrap();
        let seed = c[0].as_str().unwrap();
        let value = c[1].as_str().unwrap();
        let version = u32::try_from(c[2].as_u64().unwrap()).unwrap();
        let expected = c[3].as_f64();
        let got = hash(seed, value, version);
        let ok = match (expected, got) {
            (None, None) => true,
            (Some(e), Some(g)) => (e - g).abs() < 1e-9,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "hash({seed:?}, {value:?}, {version}): expected {expected:?}, got {got:?}"
            ));
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} hash cases failed", failures.len());
}

#[test]
fn version_compare_cases() {
    let all = cases();
    let vc = &all["versionCompare"];
    let mut total = 0;
    let mut failures = Vec::new();
    let lists = Lists::new();
    for (section, op, ord) in [
        ("lt", "$vlt", Ordering::Less),
        ("gt", "$vgt", Ordering::Greater),
        ("eq", "$veq", Ordering::Equal),
    ] {
        for case in vc[section].as_array().unwrap() {
            total += 1;
            let c = case.as_array().unwrap();
            let (a, b, expected) = (
                c[0].as_str().unwrap(),
                c[1].as_str().unwrap(),
                c[2].as_bool().unwrap(),
            );
            // Through the public compare function...
            let direct = compare_versions(a, b) == ord;
            // ...and through a condition on an attribute.
            let cond = json!({ "v": { op: b } });
            let via_condition = compile(&cond).eval(&json!({ "v": a }), &lists);
            if direct != expected || via_condition != expected {
                failures.push(format!(
                    "{section} [{a:?}, {b:?}]: expected {expected}, compare gave {direct}, {op} gave {via_condition} ({:?} vs {:?})",
                    pad_version(a),
                    pad_version(b)
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("FAIL versionCompare {f}");
    }
    assert_eq!(total, 15 + 35 + 13, "versionCompare case count");
    assert!(
        failures.is_empty(),
        "{} versionCompare cases failed",
        failures.len()
    );
}

fn lists_fixture() -> (Lists, Vec<String>) {
    let mut lists = Lists::new();
    lists.insert(
        "targets".into(),
        NamedList::clear(ListKind::Domain, ["https://www.Acme.com/", "globex.io"]),
    );
    let digests = [
        hash_member("pepper", "initech.com"),
        hash_member("pepper", "umbrella.co"),
    ];
    lists.insert(
        "secret_targets".into(),
        NamedList::hashed(
            ListKind::Domain,
            "pepper",
            digests.iter().map(String::as_str),
        ),
    );
    lists.insert(
        "titles".into(),
        NamedList::clear(ListKind::Text, [" CTO ", "VP Engineering"]),
    );
    let names = lists.names().map(str::to_string).collect();
    (lists, names)
}

#[test]
fn in_list_clear_and_hashed() {
    let (lists, names) = lists_fixture();
    let ctx = CompileCtx { lists: &names };
    let (clear, issues) = Condition::compile(
        &json!({"company.domain": {"$inList": "targets"}}),
        "$.when",
        &ctx,
    );
    assert!(issues.is_empty(), "{issues:?}");
    assert!(clear.eval(&json!({"company": {"domain": "acme.com"}}), &lists));
    assert!(clear.eval(&json!({"company": {"domain": "WWW.GLOBEX.IO."}}), &lists));
    assert!(clear.eval(
        &json!({"company": {"domain": ["x.com", "https://acme.com/about"]}}),
        &lists
    ));
    assert!(!clear.eval(&json!({"company": {"domain": "acme.org"}}), &lists));
    assert!(!clear.eval(&json!({"company": {"domain": 5}}), &lists));
    assert!(!clear.eval(&json!({}), &lists));

    let (hashed, issues) = Condition::compile(
        &json!({"email": {"$inList": "secret_targets"}}),
        "$.when",
        &ctx,
    );
    assert!(issues.is_empty(), "{issues:?}");
    assert!(hashed.eval(&json!({"email": "jane@Initech.com"}), &lists));
    assert!(hashed.eval(&json!({"email": "umbrella.co"}), &lists));
    assert!(!hashed.eval(&json!({"email": "jane@initech.org"}), &lists));

    let (text, _) = Condition::compile(
        &json!({"title": {"$not": {"$inList": "titles"}}}),
        "$",
        &ctx,
    );
    assert!(!text.eval(&json!({"title": "cto"}), &lists));
    assert!(text.eval(&json!({"title": "CEO"}), &lists));

    // An unknown list is reported (with a suggestion) and never matches.
    let (unknown, issues) =
        Condition::compile(&json!({"d": {"$inList": "target"}}), "$.when", &ctx);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, "unknown_list");
    assert_eq!(issues[0].path, "$.when.d.$inList");
    assert_eq!(issues[0].hint.as_deref(), Some("did you mean `targets`?"));
    assert!(!unknown.eval(&json!({"d": "acme.com"}), &lists));
}

#[test]
fn domain_normalisation() {
    assert_eq!(normalize_domain("https://WWW.Acme.com/pricing"), "acme.com");
    assert_eq!(normalize_domain(" acme.com. "), "acme.com");
    assert_eq!(
        normalize_domain("http://user@www.acme.com:8443/a?b#c"),
        "acme.com"
    );
    assert_eq!(normalize_domain("jane@sub.Acme.com"), "sub.acme.com");
}

#[test]
fn catastrophic_regex_is_linear() {
    let (cond, issues) = Condition::compile(
        &json!({"s": {"$regex": "(a+)+$"}}),
        "$",
        &CompileCtx::default(),
    );
    assert!(issues.is_empty());
    let attrs = json!({ "s": format!("{}b", "a".repeat(30)) });
    let lists = Lists::new();
    let start = Instant::now();
    // `$` anchors at the end, after the 'b': no match (but a match would be fine too; only time matters).
    let _ = cond.eval(&attrs, &lists);
    let long = json!({ "s": format!("{}b", "a".repeat(100_000)) });
    let _ = cond.eval(&long, &lists);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn oversize_regex_is_reported() {
    let ctx = CompileCtx::default();
    let lists = Lists::new();
    let (c, issues) =
        Condition::compile(&json!({"s": {"$regex": "a".repeat(300)}}), "$.when", &ctx);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, "regex_too_large");
    assert_eq!(issues[0].path, "$.when.s.$regex");
    assert!(!c.eval(&json!({"s": "a".repeat(300)}), &lists));

    let (c, issues) =
        Condition::compile(&json!({"s": {"$regex": "(?:a{100}){100}"}}), "$.when", &ctx);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, "regex_too_large", "{issues:?}");
    assert!(!c.eval(&json!({"s": "a".repeat(10_000)}), &lists));

    let (c, issues) = Condition::compile(&json!({"s": {"$regex": "(?=a)"}}), "$.when", &ctx);
    assert_eq!(issues[0].code, "invalid_regex");
    assert!(!c.eval(&json!({"s": "a"}), &lists));
}

#[test]
fn unknown_operator_suggests() {
    let (c, issues) = Condition::compile(
        &json!({"name": {"$regx": "hello"}}),
        "$.content[3].when",
        &CompileCtx::default(),
    );
    assert_eq!(issues.len(), 1);
    let i = &issues[0];
    assert_eq!(i.code, "unknown_operator");
    assert_eq!(i.path, "$.content[3].when.name.$regx");
    assert_eq!(i.hint.as_deref(), Some("did you mean `$regex`?"));
    assert!(!c.eval(&json!({"name": "hello"}), &Lists::new()));

    let (_, issues) = Condition::compile(&json!({"$ro": []}), "$", &CompileCtx::default());
    assert_eq!(issues[0].code, "unknown_operator");
    assert_eq!(issues[0].hint.as_deref(), Some("did you mean `$or`?"));
}

#[test]
fn issue_paths_and_operands() {
    let ctx = CompileCtx::default();
    let (_, issues) = Condition::compile(
        &json!({"company.country": {"$in": "US"}, "$and": [{"a": {"$type": "strng"}}, 5]}),
        "$.content[3].when",
        &ctx,
    );
    let got: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.code.as_str(), i.path.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("invalid_operand", "$.content[3].when.$and[0].a.$type"),
            ("invalid_operand", "$.content[3].when.$and[1]"),
            ("invalid_operand", "$.content[3].when.company.country.$in"),
        ]
    );
    assert_eq!(issues[0].hint.as_deref(), Some("did you mean `string`?"));
}

/// `{"a": 1}` wrapped in `nots` `$not`s: `nots + 2` levels (the attribute test is one).
fn nested(nots: usize) -> Value {
    let mut v = json!({"a": 1});
    for _ in 0..nots {
        v = json!({ "$not": v });
    }
    v
}

#[test]
fn nesting_limit() {
    let ctx = CompileCtx::default();
    let lists = Lists::new();
    // 16 levels compile: 14 `$not`s (even) around {"a": 1}.
    let (ok, issues) = Condition::compile(&nested(14), "$", &ctx);
    assert!(issues.is_empty(), "{issues:?}");
    assert!(ok.eval(&json!({"a": 1}), &lists));
    assert!(!ok.eval(&json!({"a": 2}), &lists));
    // 17 levels do not; the whole condition is then false.
    let (deep, issues) = Condition::compile(&nested(15), "$", &ctx);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].code, "condition_too_deep");
    assert!(!deep.eval(&json!({"a": 2}), &lists));
    assert!(!deep.eval(&json!({"a": 1}), &lists));
    let (_, issues) = Condition::compile(&nested(1000), "$", &ctx);
    assert_eq!(issues.len(), 1, "{issues:?}");
    // Deep literals count too.
    let mut lit = json!(1);
    for _ in 0..40 {
        lit = json!([lit]);
    }
    let (_, issues) = Condition::compile(&json!({ "x": lit }), "$", &ctx);
    assert_eq!(issues[0].code, "condition_too_deep");
}

#[test]
fn size_limit() {
    let mut map = serde_json::Map::new();
    for i in 0..300 {
        map.insert(format!("a{i}"), json!({"$gt": i}));
    }
    let (c, issues) = Condition::compile(&Value::Object(map), "$.when", &CompileCtx::default());
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code, "condition_too_large");
    assert_eq!(issues[0].path, "$.when");
    assert!(!c.eval(&json!({}), &Lists::new()));
}

#[test]
fn always_and_paths() {
    assert!(Condition::always().is_always());
    assert!(Condition::always().eval(&json!({}), &Lists::new()));
    assert!(compile(&json!({})).is_always());
    assert!(!compile(&json!({"a": 1})).is_always());
    assert!(!compile(&json!({"$nor": []})).is_always());
    let c = compile(&json!({
        "b.c": 1,
        "$or": [{"a": 1}, {"b.c": {"$gt": 0}}],
        "$not": {"z": {"$elemMatch": {"inner": 1}}}
    }));
    assert_eq!(c.attribute_paths(), vec!["a", "b.c", "z"]);
}

#[test]
fn case_insensitive_operators() {
    let lists = Lists::new();
    let t = |cond: Value, attrs: Value| compile(&cond).eval(&attrs, &lists);
    assert!(t(json!({"c": {"$ini": ["US", "ca"]}}), json!({"c": "us"})));
    assert!(t(
        json!({"c": {"$ini": ["US", "ca"]}}),
        json!({"c": ["de", "CA"]})
    ));
    assert!(!t(json!({"c": {"$nini": ["US"]}}), json!({"c": "uS"})));
    assert!(t(json!({"c": {"$nini": ["US"]}}), json!({"c": "de"})));
    assert!(t(
        json!({"t": {"$alli": ["A", "b"]}}),
        json!({"t": ["a", "B", "c"]})
    ));
    assert!(!t(
        json!({"t": {"$all": ["A", "b"]}}),
        json!({"t": ["a", "B", "c"]})
    ));
    // A capital sigma folds as JavaScript's toLowerCase folds the whole
    // string: final (ς) at the end of a word, σ elsewhere.
    assert!(t(json!({"c": {"$ini": ["ας"]}}), json!({"c": "ΑΣ"})));
    assert!(!t(json!({"c": {"$ini": ["ασ"]}}), json!({"c": "ΑΣ"})));
    assert!(t(json!({"c": {"$ini": ["σα"]}}), json!({"c": "ΣΑ"})));
    assert!(t(json!({"c": {"$ini": ["ΑΣ"]}}), json!({"c": "ας"})));
    assert!(t(json!({"c": {"$nini": ["ασ"]}}), json!({"c": "ΑΣ"})));
    assert!(t(json!({"t": {"$alli": ["ΟΔΟΣ"]}}), json!({"t": ["οδος"]})));
    assert!(t(json!({"t": {"$alli": ["ΟΔΟΣ"]}}), json!({"t": ["ΟΔΟΣ"]})));
    assert!(t(
        json!({"u": {"$regexi": "^mobile"}}),
        json!({"u": "MOBILE Safari"})
    ));
    assert!(!t(
        json!({"u": {"$regex": "^mobile"}}),
        json!({"u": "MOBILE Safari"})
    ));
}

#[test]
fn javascript_coercions() {
    let lists = Lists::new();
    let t = |cond: Value, attrs: Value| compile(&cond).eval(&attrs, &lists);
    assert!(t(json!({"n": "10"}), json!({"n": 10})));
    assert!(!t(json!({"n": "10.0"}), json!({"n": 10})));
    assert!(t(json!({"n": 10}), json!({"n": "10.0"})));
    assert!(t(json!({"n": 0}), json!({})));
    assert!(t(json!({"n": "null"}), json!({})));
    assert!(t(json!({"n": "a,b"}), json!({"n": ["a", "b"]})));
    assert!(t(json!({"n": true}), json!({"n": "yes"})));
    assert!(!t(json!({"n": false}), json!({})));
    assert!(t(json!({"n": {"$regex": "^nu"}}), json!({})));
    // Two strings compare as strings: "10" < "9".
    assert!(!t(json!({"n": {"$gt": "9"}}), json!({"n": "10"})));
    assert!(!t(json!({"n": {"$gt": 1}}), json!({"n": "abc"})));
    assert!(!t(json!({"n": {"$lte": 1}}), json!({"n": "abc"})));
    assert!(t(json!({"n": {"$eq": 1}}), json!({"n": 1.0})));
    assert!(!t(json!({"n": {"$eq": "1"}}), json!({"n": 1})));
    assert!(t(json!({"n": {"$size": {"$gte": 1}}}), json!({"n": [0]})));
    // `$elemMatch` skips only null elements (GrowthBook 1.8, and MongoDB):
    // 0, "" and false are tested like any other.
    assert!(t(
        json!({"n": {"$elemMatch": {"$eq": 0}}}),
        json!({"n": [0]})
    ));
    assert!(t(
        json!({"n": {"$elemMatch": {"$in": ["", false]}}}),
        json!({"n": [null, false]})
    ));
    assert!(!t(
        json!({"n": {"$elemMatch": {"$exists": false}}}),
        json!({"n": [null]})
    ));
    assert!(t(
        json!({"n": {"$elemMatch": {"a": {"$exists": false}}}}),
        json!({"n": [0]})
    ));
    assert!(t(
        json!({"o": {"b": 1, "a": [1, 2]}}),
        json!({"o": {"a": [1.0, 2], "b": 1}})
    ));
    assert!(t(json!({"a.1": "y"}), json!({"a": ["x", "y"]})));
}
