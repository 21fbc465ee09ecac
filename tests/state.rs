//! Visitor state: size bound, exact round trip, signing, strict decoding,
//! migration between playbook revisions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::Engine;
use common::*;
use serde_json::json;

#[test]
fn two_hundred_events_fit_in_a_cookie() {
    let engine = example_engine();
    let (mut v, t) = visitor_with_events(&engine, 200);
    let d = engine.decide(&mut v, &req(t + MIN, json!({"consent": "full", "company": {"domain": "acme.com", "industry": "software"}, "campaign": {"source": "google", "medium": "cpc", "name": "q4-observability"}}))).unwrap();
    assert!(d.engagement.score > 0.0);
    let s = engine.encode(&v, None);
    let signed = engine.encode(&v, Some(b"edge-secret"));
    println!(
        "state for 200 events: {} chars ({} signed)",
        s.len(),
        signed.len()
    );
    assert!(s.len() <= 1200, "state is {} chars", s.len());
    assert!(
        signed.len() <= 1200,
        "signed state is {} chars",
        signed.len()
    );
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "cookie-safe"
    );
}

#[test]
fn state_stays_bounded_for_long_histories() {
    let engine = example_engine();
    let (v, _) = visitor_with_events(&engine, 3000);
    let s = engine.encode(&v, None);
    assert!(
        s.len() <= 1200,
        "state is {} chars after 3000 events",
        s.len()
    );
}

#[test]
fn decode_encode_round_trips_exactly() {
    let engine = example_engine();
    for n in [0, 1, 20, 200] {
        let (mut v, t) = visitor_with_events(&engine, n);
        engine
            .decide(
                &mut v,
                &req(
                    t + MIN,
                    json!({"consent": "full", "person": {"title": "VP Eng"}}),
                ),
            )
            .unwrap();
        let d = engine.decode(&engine.encode(&v, None), None).unwrap();
        assert_eq!(d.visitor, v, "{n} events");
        assert!(!d.migrated && !d.verified);
        let d = engine
            .decode(&engine.encode(&v, Some(b"k")), Some(b"k"))
            .unwrap();
        assert_eq!(d.visitor, v);
        assert!(d.verified);
    }
}

#[test]
fn decisions_continue_identically_after_a_round_trip() {
    let engine = example_engine();
    let (mut a, t) = visitor_with_events(&engine, 50);
    let mut b = engine
        .decode(&engine.encode(&a, None), None)
        .unwrap()
        .visitor;
    let r = req(
        t + DAY,
        json!({"consent": "anonymous", "company": {"industry": "financial_services", "employees": 900, "country": "US", "region": "NY"}}),
    );
    let da = serde_json::to_string(&engine.decide(&mut a, &r).unwrap()).unwrap();
    let db = serde_json::to_string(&engine.decide(&mut b, &r).unwrap()).unwrap();
    assert_eq!(da, db);
}

/// A state written before the aggregates had their own valuation time
/// (encoding version 1, by the engine of December 2026, signed and not) is
/// still read, as valued at its latest event, and decides as it did then.
#[test]
fn a_state_of_the_previous_encoding_is_still_read() {
    let engine = example_engine();
    let old: serde_json::Value =
        serde_json::from_str(&read("tests/fixtures/state-v1.json")).unwrap();
    let secret = old["secret"].as_str().unwrap().as_bytes();
    for (text, key) in [(&old["unsigned"], None), (&old["signed"], Some(secret))] {
        let text = text.as_str().unwrap();
        // The version byte: 1.
        assert!(text.starts_with("QgE"), "{text}");
        let back = engine.decode(text, key).unwrap();
        assert_eq!(back.verified, key.is_some());
        let mut v = back.visitor;
        let st = v.state();
        assert_eq!(st.valued_at, st.anchor);
        // The latest event was 40 minutes before the state was written.
        assert_eq!(st.anchor, old["encoded_at"].as_u64().unwrap() - 40 * MIN);
        let d = engine
            .decide(
                &mut v,
                &req(old["decided_at"].as_u64().unwrap(), old["context"].clone()),
            )
            .unwrap();
        assert_eq!(
            d.engagement.points,
            old["engagement_points"].as_f64().unwrap()
        );
        assert_eq!(serde_json::to_value(&d.stage).unwrap(), old["stage"]);
        assert_eq!(serde_json::to_value(&d.role).unwrap(), old["role"]);
        // Written back in the current encoding, it reads the same.
        let again = engine.decode(&engine.encode(&v, key), key).unwrap();
        assert!(engine.encode(&v, key).starts_with("QgI"));
        assert_eq!(again.visitor, v);
    }
}

#[test]
fn tampered_forged_and_foreign_states_are_refused() {
    let engine = example_engine();
    let (v, _) = visitor_with_events(&engine, 30);
    let signed = engine.encode(&v, Some(b"right-key"));
    assert_eq!(
        engine
            .decode(&signed, Some(b"wrong-key"))
            .unwrap_err()
            .code(),
        "state_bad_signature"
    );
    // Flip one character in the middle.
    let mut chars: Vec<char> = signed.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert!(engine.decode(&tampered, Some(b"right-key")).is_err());
    // An unsigned state where a signed one is required.
    assert_eq!(
        engine
            .decode(&engine.encode(&v, None), Some(b"right-key"))
            .unwrap_err()
            .code(),
        "state_unsigned"
    );
    // Garbage of every kind: an error, never a panic.
    for g in [
        "",
        "!!!",
        "QUJD",
        "Qg",
        "QgE",
        "QgEA",
        &"A".repeat(9000),
        "QgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(engine.decode(g, None).is_err(), "{g:?}");
    }
    // Every truncation of a valid state fails cleanly.
    let plain = engine.encode(&v, None);
    for cut in 0..plain.len() {
        assert!(engine.decode(&plain[..cut], None).is_err(), "cut at {cut}");
    }
    // A state from another playbook.
    let mut other = example_playbook();
    other["id"] = json!("someone-else");
    let other = Engine::from_value(other).unwrap();
    assert_eq!(
        other.decode(&plain, None).unwrap_err().code(),
        "state_foreign_playbook"
    );
}

#[test]
fn a_new_revision_migrates_the_state() {
    let engine = example_engine();
    let (v, t) = visitor_with_events(&engine, 60);
    let text = engine.encode(&v, None);
    let mut next = example_playbook();
    next["revision"] = json!(2);
    // Remove the first engagement rule and the first content item.
    let rule = next["engagement"]["rules"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    next["engagement"]["rules"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    let next = Engine::from_value(next).unwrap();
    let d = next.decode(&text, None).unwrap();
    assert!(d.migrated);
    assert_eq!(d.visitor.state().revision, 2);
    assert!(d.visitor.state().rules.len() <= v.state().rules.len());
    let h = buyerpath::hash::fnv1a32(rule.as_bytes());
    assert!(d.visitor.state().rules.iter().all(|r| r.hash != h));
    let mut mv = d.visitor;
    next.decide(&mut mv, &req(t + MIN, json!({}))).unwrap();
}

#[test]
fn the_state_string_never_exceeds_its_budget() {
    let engine = example_engine();
    let (mut v, t) = visitor_with_events(&engine, 3000);
    let long = "x".repeat(200);
    engine
        .decide(&mut v, &req(t + MIN, json!({"consent": "full", "person": {"title": "VP Engineering"}, "campaign": {"source": long, "medium": long, "name": long}})))
        .unwrap();
    let plain = engine.encode(&v, None);
    let signed = engine.encode(&v, Some(b"k"));
    assert!(
        plain.len() <= buyerpath::visitor::STATE_BUDGET
            && signed.len() <= buyerpath::visitor::STATE_BUDGET,
        "{} / {}",
        plain.len(),
        signed.len()
    );
    // What was kept still decodes and decides.
    let mut back = engine.decode(&signed, Some(b"k")).unwrap().visitor;
    engine
        .decide(&mut back, &req(t + 2 * MIN, json!({})))
        .unwrap();
}

/// The state keeps the fit score as a whole number. A browser-safe playbook
/// (no fit criteria) reads the score and the tier from it, and the two must
/// agree with its tiers: a score just under a threshold is not rounded over it.
#[test]
fn a_fit_score_kept_in_the_state_agrees_with_its_tier() {
    let full = example_engine();
    let ctx = json!({"consent": "anonymous", "company": {"industry": "financial services", "employees": 1200, "country": "US", "region": "NY"}});
    let mut v = full.visitor("fit-edge").unwrap();
    let score = full
        .decide(&mut v, &req(T0, ctx.clone()))
        .unwrap()
        .fit
        .score;
    let round = score.round();
    assert!(
        score != round && score > 3.0,
        "a score with a fraction: {score}"
    );
    // A tier threshold between the score and its rounding: the score is on
    // one side, its rounding on the other.
    {
        let threshold = (score + round) / 2.0;
        let mut pb = example_playbook();
        pb["fit"]["tiers"] = json!([
            {"id": "A", "min": threshold},
            {"id": "B", "min": threshold - 1.0},
            {"id": "C", "min": threshold - 2.0},
            {"id": "D", "min": 0}
        ]);
        let engine = Engine::from_json(&pb.to_string()).unwrap();
        let mut v = engine.visitor("fit-edge").unwrap();
        let d = engine.decide(&mut v, &req(T0, ctx.clone())).unwrap();
        let tier = d.fit.tier.to_string();
        assert_eq!(d.fit.score, score);
        pb["fit"]["criteria"] = json!([]);
        let browser = Engine::from_json(&pb.to_string()).unwrap();
        let mut b = browser
            .decode(&engine.encode(&v, None), None)
            .unwrap()
            .visitor;
        let e = browser.decide(&mut b, &req(T0 + MIN, ctx.clone())).unwrap();
        assert!(e.fit.from_state);
        assert_eq!(e.fit.tier.to_string(), tier, "the tier kept");
        let in_a = e.fit.score >= threshold;
        assert_eq!(
            in_a,
            tier == "A",
            "score {} (from {score}) against {threshold} in tier {tier}",
            e.fit.score
        );
        assert!((e.fit.score - score).abs() < 1.0);
    }
}

/// During a rollout a page on revision 1 and an edge on revision 2 take turns
/// with one state: revision 1 keeps what only revision 2 knows, so a trigger
/// fires once, not at every turn.
#[test]
fn a_state_read_by_an_older_revision_keeps_the_newer_ones_entries() {
    let v1 = example_playbook();
    let mut v2 = v1.clone();
    v2["revision"] = json!(2);
    v2["triggers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "pricing_visit", "label": "On the pricing page", "when": {"page.format": "pricing"}}));
    v2["engagement"]["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "any_view", "event": "page_view", "points": 3}));
    let (old, new) = (
        Engine::from_value(v1).unwrap(),
        Engine::from_value(v2).unwrap(),
    );
    let on_pricing = json!({"consent": "full", "page": {"content_id": "pricing"}});
    let mut state = new.encode(&new.visitor("rollout").unwrap(), Some(b"k"));
    let mut fired = 0;
    for i in 0..3 {
        let mut v = new.decode(&state, Some(b"k")).unwrap().visitor;
        new.observe(&mut v, &ev(json!({"type": "page_view", "ts": T0 + i * MIN, "content_id": "pricing", "dwell_seconds": 30})));
        let d = new
            .decide(&mut v, &req(T0 + i * MIN + 1, on_pricing.clone()))
            .unwrap();
        fired += d
            .triggers
            .iter()
            .filter(|t| &*t.id == "pricing_visit")
            .count();
        let points = new
            .score(&v, &req(T0 + i * MIN + 1, on_pricing.clone()))
            .engagement
            .points;
        state = new.encode(&v, Some(b"k"));
        let mut back = old.decode(&state, Some(b"k")).unwrap();
        assert!(back.migrated);
        old.decide(
            &mut back.visitor,
            &req(T0 + i * MIN + 2, on_pricing.clone()),
        )
        .unwrap();
        state = old.encode(&back.visitor, Some(b"k"));
        // Revision 2 finds its own rule's points again.
        let again = new.decode(&state, Some(b"k")).unwrap().visitor;
        let kept = new
            .score(&again, &req(T0 + i * MIN + 1, on_pricing.clone()))
            .engagement
            .points;
        assert_eq!(kept, points, "turn {i}");
    }
    assert_eq!(fired, 1, "the trigger fires once across the turns");

    // Upgrading still drops what the newer revision removed.
    let rule = buyerpath::hash::fnv1a32(b"any_view");
    let mut v = new.visitor("down").unwrap();
    new.observe(
        &mut v,
        &ev(json!({"type": "page_view", "ts": T0, "content_id": "pricing", "dwell_seconds": 30})),
    );
    let down = old.decode(&new.encode(&v, None), None).unwrap().visitor;
    assert!(
        down.state().rules.iter().any(|r| r.hash == rule),
        "kept going down"
    );
    let mut v3 = example_playbook();
    v3["revision"] = json!(3);
    let v3 = Engine::from_value(v3).unwrap();
    let up = v3.decode(&new.encode(&v, None), None).unwrap().visitor;
    assert!(
        up.state().rules.iter().all(|r| r.hash != rule),
        "dropped going up"
    );
}

/// A revision with smaller `state` limits cuts a migrated state to them, as
/// if the visitor had lived under it.
#[test]
fn migration_applies_the_new_revisions_state_limits() {
    let engine = example_engine();
    let (v, _) = visitor_with_events(&engine, 200);
    assert!(v.state().consumed.len() > 2 && v.state().recent.len() > 3);
    let mut next = example_playbook();
    next["revision"] = json!(2);
    next["state"]["consumed_limit"] = json!(2);
    next["state"]["recent_events"] = json!(3);
    next["engagement"]["burst"]["max_events"] = json!(2);
    let next = Engine::from_value(next).unwrap();
    let m = next.decode(&engine.encode(&v, None), None).unwrap().visitor;
    assert_eq!(m.state().consumed, v.state().consumed[..2].to_vec());
    let n = v.state().recent.len();
    assert_eq!(m.state().recent, v.state().recent[n - 3..].to_vec());
}

/// Past the state budget `encode` drops the oldest recent events, but never
/// below the burst rule's threshold: a visitor decoded between events (as at
/// the edge) is still flagged in a burst.
#[test]
fn a_trimmed_state_still_detects_bursts() {
    let mut pb = example_playbook();
    let rules = pb["engagement"]["rules"].as_array_mut().unwrap();
    for i in 0..150 {
        rules.push(json!({"id": format!("custom_{i}"), "event": "custom", "when": {"name": format!("n{i}")}, "points": 0.1, "half_life_days": 365}));
    }
    let engine = Engine::from_value(pb).unwrap();
    let mut v = engine.visitor("bursty").unwrap();
    for i in 0..150u64 {
        engine.observe(
            &mut v,
            &ev(json!({"type": "custom", "name": format!("n{i}"), "ts": T0 + i * MIN})),
        );
    }
    let mut state = engine.encode(&v, None);
    assert!(
        state.len() > buyerpath::visitor::STATE_BUDGET,
        "over budget: {}",
        state.len()
    );
    let mut flagged = 0;
    for i in 0..20u64 {
        let mut w = engine.decode(&state, None).unwrap().visitor;
        let o = engine.observe(&mut w, &ev(json!({"type": "page_view", "ts": T0 + DAY + i * 200, "content_id": "pricing", "dwell_seconds": 1})));
        flagged += usize::from(o.burst);
        state = engine.encode(&w, None);
    }
    // The long-lived visitor flags 14 of the 20 (the first 6 fill the window).
    assert_eq!(flagged, 14);
}

/// Recent events outside the burst window are trimmed first: a high
/// `burst.max_events` keeps a quiet visitor within the budget.
#[test]
fn a_high_burst_threshold_keeps_a_quiet_visitor_within_the_budget() {
    let mut pb = example_playbook();
    pb["state"]["recent_events"] = json!(64);
    pb["engagement"]["burst"]["max_events"] = json!(63);
    let engine = Engine::from_value(pb).unwrap();
    let (v, _) = visitor_with_events(&engine, 200);
    let s = engine.encode(&v, Some(b"k"));
    assert!(
        s.len() <= buyerpath::visitor::STATE_BUDGET,
        "{} characters",
        s.len()
    );
}

/// A state from a newer revision keeps content only that revision knows,
/// but not at the cost of content this revision knows was read.
#[test]
fn kept_unknown_content_goes_before_known_content_at_the_limit() {
    let mut newer = example_playbook();
    newer["revision"] = json!(2);
    let known = newer["content"][0]["id"].as_str().unwrap().to_string();
    for i in 0..3 {
        let mut item = newer["content"][1].clone();
        item["id"] = json!(format!("only-in-r2-{i}"));
        item["url"] = json!(format!("/only-in-r2/{i}"));
        newer["content"].as_array_mut().unwrap().push(item);
    }
    newer["state"]["consumed_limit"] = json!(48);
    let newer = Engine::from_value(newer).unwrap();
    let mut v = newer.visitor("reader").unwrap();
    let read = |v: &mut buyerpath::Visitor, id: &str, t: u64| {
        newer.observe(
            v,
            &ev(json!({"type": "page_view", "ts": t, "content_id": id, "dwell_seconds": 60})),
        );
    };
    read(&mut v, &known, T0);
    for i in 0..3 {
        read(&mut v, &format!("only-in-r2-{i}"), T0 + (i + 1) * MIN);
    }
    let mut small = example_playbook();
    small["state"]["consumed_limit"] = json!(2);
    let small = Engine::from_value(small).unwrap();
    let down = small.decode(&newer.encode(&v, None), None).unwrap().visitor;
    let h = buyerpath::hash::fnv1a32(known.as_bytes());
    assert!(
        down.state().consumed.contains(&h),
        "{:?}",
        down.state().consumed
    );
    assert_eq!(down.state().consumed.len(), 2);
}
