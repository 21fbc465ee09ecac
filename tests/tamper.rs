//! Tamper and abuse: forged, re-signed, stripped and replayed state strings;
//! bot-like bursts; bot-flagged visitors.
//!
//! The policy a host follows (the edge worker does): a state that does not
//! decode with the secret, or that was last active longer ago than the cookie
//! lives (`decode_at`), is dropped and a fresh visitor starts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use buyerpath::{Engine, Visitor};
use common::*;
use serde_json::json;
use std::collections::BTreeMap;

const SECRET: &[u8] = b"edge-secret-0123456789";
/// The edge's cookie lifetime (180 days): the longest idle time it accepts.
const MAX_IDLE: u64 = 180 * DAY;

fn fintech(consent: &str) -> serde_json::Value {
    json!({"consent": consent, "company": {"domain": "northbank.example", "industry": "financial_services",
        "employees": 1200, "revenue": 300_000_000, "country": "US", "region": "NY"}, "account": {"tier": "tier1"}})
}

fn view(engine: &Engine, v: &mut Visitor, t: u64, id: &str, dwell: u64) {
    engine.observe(
        v,
        &ev(json!({"type": "page_view", "ts": t, "content_id": id, "dwell_seconds": dwell})),
    );
}

/// A visitor with some history and a decision, and its signed state.
fn signed_visitor(engine: &Engine) -> (Visitor, String) {
    let mut v = engine.visitor("tamper-1").unwrap();
    for (i, id) in [
        "blog-what-is-data-observability",
        "pricing",
        "compare-pipewatch",
    ]
    .iter()
    .enumerate()
    {
        view(engine, &mut v, T0 + i as u64 * 5 * MIN, id, 90);
    }
    engine
        .decide(&mut v, &req(T0 + 20 * MIN, fintech("full")))
        .unwrap();
    let s = engine.encode(&v, Some(SECRET));
    (v, s)
}

/// `body` with the state's 16-byte HMAC-SHA256 tag made with `key`, as base64url.
fn signed_with(body: &[u8], key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&m.finalize().into_bytes()[..16]);
    URL_SAFE_NO_PAD.encode(out)
}

/// The host's policy: the decoded visitor, or a fresh one (and why).
fn restore(engine: &Engine, cookie: &str, now: u64) -> (Visitor, Result<(), String>) {
    match engine.decode_at(cookie, Some(SECRET), now, MAX_IDLE) {
        Ok(d) => (d.visitor, Ok(())),
        Err(e) => (
            engine.visitor("fresh-visitor").unwrap(),
            Err(e.code().to_string()),
        ),
    }
}

#[test]
fn every_forged_state_is_refused_and_a_fresh_visitor_starts() {
    let engine = example_engine();
    let (orig, good) = signed_visitor(&engine);
    let now = T0 + DAY;
    let (back, ok) = restore(&engine, &good, now);
    assert_eq!(ok, Ok(()));
    assert_eq!(back, orig, "the genuine state round-trips");

    let raw = URL_SAFE_NO_PAD.decode(&good).unwrap();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    // Every single-bit flip of every byte (header, body, tag) is refused.
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut b = raw.clone();
            b[i] ^= 1 << bit;
            let (v, r) = restore(&engine, &URL_SAFE_NO_PAD.encode(&b), now);
            let code = r.expect_err(&format!("byte {i} bit {bit} flipped was accepted"));
            assert_eq!(v.id(), "fresh-visitor");
            assert_eq!(v.state().seq, 0, "a fresh visitor has no history");
            *codes.entry(code).or_default() += 1;
        }
    }
    assert!(
        codes.get("state_bad_signature").copied().unwrap_or(0) > raw.len() * 6,
        "{codes:?}"
    );

    // States the visitor could make themselves: the genuine one unsigned, one
    // signed with a guessed key, another visitor's state carrying the genuine tag.
    let mut forged = engine.decode(&good, None).unwrap().visitor;
    let unsigned = engine.encode(&forged, None);
    let guessed = engine.encode(&forged, Some(b"secret"));
    let tag = raw[raw.len() - 16..].to_vec();
    forged = engine.visitor("someone-else").unwrap();
    let mut body = URL_SAFE_NO_PAD
        .decode(engine.encode(&forged, Some(b"x")))
        .unwrap();
    let n = body.len();
    body[n - 16..].copy_from_slice(&tag);
    let moved_tag = URL_SAFE_NO_PAD.encode(&body);
    let mut stripped = raw[..raw.len() - 16].to_vec();
    stripped[2] = 0; // "unsigned" flag on the genuine body
    let stripped = URL_SAFE_NO_PAD.encode(&stripped);
    let truncated_tag = URL_SAFE_NO_PAD.encode(&raw[..raw.len() - 4]);
    let other_playbook = {
        let mut pb = example_playbook();
        pb["id"] = json!("another-playbook");
        let other = Engine::from_value(pb).unwrap();
        let mut v = other.visitor("tamper-1").unwrap();
        other.decide(&mut v, &req(T0, fintech("full"))).unwrap();
        other.encode(&v, Some(SECRET))
    };
    // A later (or earlier) encoding version, signed with this key or another:
    // its own old state is told apart from another site's by the refusal.
    let mut other_version = raw[..raw.len() - 16].to_vec();
    other_version[1] = 3;
    let version_here = signed_with(&other_version, SECRET);
    let version_elsewhere = signed_with(&other_version, b"secret");
    for (label, text, code) in [
        (
            "another version, this key",
            version_here.as_str(),
            "state_version",
        ),
        (
            "another version, another key",
            &version_elsewhere,
            "state_bad_signature",
        ),
        ("unsigned", unsigned.as_str(), "state_unsigned"),
        ("signed with a guessed key", &guessed, "state_bad_signature"),
        (
            "genuine tag on a forged body",
            &moved_tag,
            "state_bad_signature",
        ),
        ("tag stripped, flag cleared", &stripped, "state_unsigned"),
        ("tag truncated", &truncated_tag, "state_bad_signature"),
        (
            "another playbook, right key",
            &other_playbook,
            "state_foreign_playbook",
        ),
        ("empty", "", "state_garbage"),
        ("not base64", "%%%", "state_not_base64"),
    ] {
        let (v, r) = restore(&engine, text, now);
        assert_eq!(r, Err(code.to_string()), "{label}");
        assert_eq!(v.id(), "fresh-visitor", "{label}");
    }
}

#[test]
fn a_state_replayed_past_its_lifetime_is_refused() {
    let engine = example_engine();
    let (v, good) = signed_visitor(&engine);
    let last = v.last_active();
    assert_eq!(last, T0 + 10 * MIN, "the latest event");
    // Within the lifetime: accepted.
    assert_eq!(restore(&engine, &good, last + MAX_IDLE).1, Ok(()));
    // One millisecond past it: an old cookie presented again starts a fresh visitor.
    let (fresh, r) = restore(&engine, &good, last + MAX_IDLE + 1);
    assert_eq!(r, Err("state_expired".to_string()));
    assert_eq!(fresh.state().seq, 0);
    // A visitor who only decided (no events) is dated by their first decision.
    let mut d = engine.visitor("decides-only").unwrap();
    engine
        .decide(&mut d, &req(T0, fintech("anonymous")))
        .unwrap();
    assert_eq!(d.last_active(), T0);
    let s = engine.encode(&d, Some(SECRET));
    assert!(engine
        .decode_at(&s, Some(SECRET), T0 + 181 * DAY, MAX_IDLE)
        .is_err());
    // The expiry is checked after the signature: a forged "fresh" date is impossible.
    let e = engine
        .decode_at(&s, Some(b"other"), T0, MAX_IDLE)
        .unwrap_err();
    assert_eq!(e.code(), "state_bad_signature");
}

#[test]
fn a_state_replayed_within_its_lifetime_repeats_its_message_ids() {
    // Replay inside the window cannot be told from the genuine visitor without
    // a server-side nonce store; what bounds it: the state is bound to its
    // visitor id and playbook (inside the MAC), and a replayed state repeats its
    // decision numbers, so the signals it re-emits carry the messageIds the
    // store has already seen and are deduplicated there.
    let engine = example_engine();
    let (_, good) = signed_visitor(&engine);
    let run = |cookie: &str, t: u64| {
        let mut v = engine.decode(cookie, Some(SECRET)).unwrap().visitor;
        view(&engine, &mut v, t, "pricing", 120);
        let d = engine
            .decide(&mut v, &req(t + MIN, fintech("full")))
            .unwrap();
        (d, engine.encode(&v, Some(SECRET)))
    };
    let (first, next) = run(&good, T0 + DAY);
    let (replayed, _) = run(&good, T0 + 2 * DAY);
    assert_eq!(first.seq, replayed.seq);
    let ids = |d: &buyerpath::Decision| -> BTreeMap<String, String> {
        d.signals
            .iter()
            .map(|s| {
                let v = serde_json::to_value(s).unwrap();
                (
                    v["event"].as_str().unwrap().to_string(),
                    v["messageId"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (a, b) = (ids(&first), ids(&replayed));
    assert!(!b.is_empty());
    let mut compared = 0;
    for (event, id) in &b {
        if let Some(orig) = a.get(event) {
            assert_eq!(
                orig, id,
                "{event}: a replayed decision re-uses its messageId"
            );
            compared += 1;
        }
    }
    assert!(
        compared > 0,
        "the replay re-emitted none of the first signals"
    );
    // The genuine continuation moves on to new decision numbers.
    let (after, _) = run(&next, T0 + 3 * DAY);
    assert_eq!(after.seq, first.seq + 1);
}

#[test]
fn a_burst_adds_no_engagement_beyond_what_the_burst_rule_lets_through() {
    // The example playbook: at most 6 events in any 10 s window count.
    let engine = example_engine();
    let mut capped = engine.visitor("burst-6").unwrap();
    let mut bot = engine.visitor("burst-1000").unwrap();
    let ids = [
        "pricing",
        "compare-pipewatch",
        "demo-request",
        "roi-calculator",
    ];
    for i in 0..6u64 {
        view(&engine, &mut capped, T0 + i, ids[i as usize % 4], 60);
    }
    // 1,000 events inside one second.
    let mut ignored = 0;
    for i in 0..1000u64 {
        let o = engine.observe(
            &mut bot,
            &ev(json!({"type": "page_view", "ts": T0 + i, "content_id": ids[i as usize % 4], "dwell_seconds": 60})),
        );
        ignored += usize::from(o.burst);
    }
    assert_eq!(ignored, 994);
    let r = req(T0 + 2000, fintech("anonymous"));
    let c = engine.decide(&mut capped, &r).unwrap();
    let b = engine.decide(&mut bot, &r).unwrap();
    assert_eq!(b.engagement.ignored_events, 994);
    assert_eq!(b.engagement.points, c.engagement.points);
    assert_eq!(b.engagement.score, c.engagement.score);
    assert_eq!(b.stage.id, c.stage.id);
    // Repeated bursts over a day: each burst adds at most its first 6 events,
    // and the daily caps bound those.
    let mut day = engine.visitor("burst-day").unwrap();
    for burst in 0..200u64 {
        for i in 0..50u64 {
            view(&engine, &mut day, T0 + burst * 20_000 + i, "pricing", 60);
        }
    }
    let d = engine
        .decide(&mut day, &req(T0 + DAY / 2, fintech("anonymous")))
        .unwrap();
    assert_eq!(d.engagement.ignored_events, 200 * 44);
    assert!(d.engagement.score <= 100.0);
}

#[test]
fn a_bot_flagged_visitor_is_never_scored_promoted_or_reported() {
    let engine = example_engine();
    let mut v = engine.visitor("bot-flagged").unwrap();
    let mut human = engine.visitor("human-twin").unwrap();
    for t in 0..40u64 {
        for x in [&mut v, &mut human] {
            view(&engine, x, T0 + t * 5 * MIN, "pricing", 120);
        }
    }
    for x in [&mut v, &mut human] {
        engine.observe(
            x,
            &ev(json!({"type": "form_submit", "ts": T0 + 4 * 3_600_000, "form": "demo_request"})),
        );
    }
    let mut ctx = fintech("full");
    ctx["bot"] = json!(true);
    let t = T0 + 5 * 3_600_000;
    let h = engine.decide(&mut human, &req(t, fintech("full"))).unwrap();
    assert!(
        h.engagement.score > 0.0 && !h.signals.is_empty(),
        "the twin is scored"
    );
    assert_eq!(h.lifecycle.stage, "sql");
    for step in 0..5u64 {
        let d = engine
            .decide(&mut v, &req(t + step * MIN, ctx.clone()))
            .unwrap();
        assert_eq!(d.engagement.score, 0.0);
        assert_eq!(d.engagement.points, 0.0);
        assert_eq!(d.lifecycle.stage, "anonymous");
        assert!(d.signals.is_empty(), "{:?}", d.signals);
        assert!(d.triggers.is_empty());
        assert!(!d.slots.is_empty(), "still shown content");
    }
    assert_eq!(v.state().lifecycle, 0, "no promotion is remembered");
}
