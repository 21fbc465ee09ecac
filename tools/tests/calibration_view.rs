//! `buyerpath serve --candidate`: the review step of calibration, tested as
//! it is used: the real binary on a loopback port with a temporary SQLite
//! file, accounts signalled by the engine itself (the example playbook, the
//! firmographics of `examples/crm/crm.csv`), and the calibrated revision
//! `examples/crm/playbook.r2.json` as the candidate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use buyerpath::{DecideRequest, Engine};
use common::{agent, root, Server, KEY};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::process::Command;

fn get(url: &str, path: &str) -> (u16, Value) {
    let r = common::get(url, path);
    (r.status, r.body)
}

fn post_batch(url: &str, events: &[Value]) {
    let body = json!({ "batch": events }).to_string();
    let r = common::post(url, "/v1/batch", &body, Some(KEY), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A CSV cell as the engine wants it: lists split on `;`, numbers typed.
fn cell(v: &str) -> Value {
    if v.contains(';') {
        return Value::Array(v.split(';').map(Value::from).collect());
    }
    v.parse::<f64>()
        .map_or_else(|_| Value::from(v), Value::from)
}

/// The first `n` rows of the example CRM export without BANT answers (a
/// visitor on the site has not answered any), as decision contexts.
fn crm_contexts(n: usize) -> Vec<Value> {
    let mut r = csv::Reader::from_path(root().join("examples/crm/crm.csv")).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let mut scopes: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut bant = false;
        for (h, v) in headers.iter().zip(rec.iter()) {
            if v.is_empty() {
                continue;
            }
            match h.split_once('.') {
                Some(("bant", _)) => bant = true,
                Some((scope @ ("company" | "account" | "campaign"), key)) => {
                    let value = if scope == "campaign" {
                        Value::from(v)
                    } else {
                        cell(v)
                    };
                    scopes.entry(scope).or_default().insert(key.into(), value);
                }
                _ => {}
            }
        }
        if bant {
            continue;
        }
        let mut ctx = json!({"consent": "full"});
        for (scope, m) in scopes {
            ctx[scope] = Value::Object(m);
        }
        out.push(ctx);
        if out.len() == n {
            break;
        }
    }
    out
}

fn now_ms() -> u64 {
    u64::try_from(common::now_ms()).unwrap()
}

/// One visit per context, decided by the engine under the current playbook:
/// the signals a site would send.
fn signals(prefix: &str, contexts: &[Value]) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("examples/acme/playbook.json")).unwrap();
    let engine = Engine::from_json(&text).unwrap();
    let now = now_ms();
    let mut out = Vec::new();
    for (i, ctx) in contexts.iter().enumerate() {
        let mut v = engine.visitor(&format!("{prefix}-{i}")).unwrap();
        let ev = json!({"type": "page_view", "ts": now - 60_000, "url": "/pricing"});
        engine.observe_json(&mut v, &ev.to_string()).unwrap();
        let req = DecideRequest {
            now,
            slots: Vec::new(),
            context: serde_json::from_value(ctx.clone()).unwrap(),
            ..Default::default()
        };
        let d = engine.decide(&mut v, &req).unwrap();
        let list = serde_json::to_value(&d.signals).unwrap();
        out.extend(list.as_array().unwrap().iter().cloned());
    }
    out
}

fn tier_rank(tiers: &Value, t: &Value) -> usize {
    tiers
        .as_array()
        .unwrap()
        .iter()
        .position(|x| x == t)
        .unwrap()
}

#[test]
fn a_candidate_revision_shows_who_moves_before_anyone_adopts_it() {
    let dir = tempfile::tempdir().unwrap();
    let candidate = root().join("examples/crm/playbook.r2.json");
    let accounts = root().join("examples/crm/crm.csv");
    let s = Server::start(
        dir.path(),
        &[
            "--candidate",
            candidate.to_str().unwrap(),
            "--accounts",
            accounts.to_str().unwrap(),
        ],
    );
    let contexts = crm_contexts(80);
    assert_eq!(contexts.len(), 80);
    let mut events = signals("crm", &contexts);
    // An account the CRM file does not know: shown, but not re-scored.
    events.extend(signals(
        "other",
        &[json!({
            "consent": "full",
            "company": {"domain": "stranger.example.org", "employees": 900, "country": "US"},
        })],
    ));
    for chunk in events.chunks(100) {
        post_batch(&s.url, chunk);
    }

    let (status, v) = get(&s.url, "/api/calibration");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["current"]["revision"], 1);
    assert_eq!(v["candidate"]["revision"], 2);
    assert_eq!(v["candidate"]["id"], "lumora-b2b");
    assert_eq!(v["warnings"], json!([]));
    assert_eq!(v["firmographics"]["source"], "accounts_file");
    assert_eq!(v["accounts"], 81, "{v}");
    assert_eq!(v["scored"], 80);
    assert_eq!(v["unscored"], 1);
    assert_eq!(v["unscored_accounts"], json!(["stranger.example.org"]));
    let n = |k: &str| v[k].as_u64().unwrap();
    assert_eq!(n("up") + n("down") + n("same"), n("scored"));
    assert!(
        n("up") > 0 && n("down") > 0,
        "the calibrated revision re-tiers some accounts both ways: {v}"
    );
    // The engine on the site and the review score the same attributes alike.
    assert_eq!(v["signalled_differs"], 0, "{v}");

    // The matrix: every scored account once; the diagonal keeps its tier.
    let from = &v["matrix"]["from"];
    let to = &v["matrix"]["to"];
    let counts = v["matrix"]["counts"].as_array().unwrap();
    let mut total = 0;
    let mut diagonal = 0;
    let mut above = 0;
    for (i, row) in counts.iter().enumerate() {
        for (j, c) in row.as_array().unwrap().iter().enumerate() {
            let c = c.as_u64().unwrap();
            total += c;
            let (a, b) = (tier_rank(from, &from[i]), tier_rank(to, &to[j]));
            if a == b {
                diagonal += c;
            } else if b < a {
                above += c;
            }
        }
    }
    assert_eq!(total, n("scored"));
    assert_eq!(diagonal, n("same"));
    assert_eq!(above, n("up"));
    let sum = |k: &str| -> u64 {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|t| t["accounts"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum("before"), n("scored"));
    assert_eq!(sum("after"), n("scored"));

    // The movers: exactly the accounts that change tier, in the right direction.
    let movers = v["movers"].as_array().unwrap();
    assert_eq!(movers.len() as u64, n("up") + n("down"));
    assert_eq!(v["movers_total"].as_u64().unwrap(), movers.len() as u64);
    let ups = movers.iter().filter(|m| m["direction"] == "up").count() as u64;
    assert_eq!(ups, n("up"));
    for m in movers {
        let (a, b) = (tier_rank(from, &m["from"]), tier_rank(to, &m["to"]));
        assert_ne!(a, b, "{m}");
        assert_eq!(m["direction"], if b < a { "up" } else { "down" }, "{m}");
        // The old tier is the one the site signalled for the account.
        assert_eq!(m["signalled"]["fit_tier"], m["from"], "{m}");
        assert!(m["old_score"].is_number() && m["new_score"].is_number());
    }

    // The dashboard has the section.
    let page = agent()
        .get(format!("{}/dashboard/", s.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("id=\"calibration\""));
}

#[test]
fn without_a_candidate_the_view_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let (status, v) = get(&s.url, "/api/calibration");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "no_candidate");
    assert_eq!(v["candidate"], Value::Null);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("no candidate revision loaded"));
    assert_eq!(v["current"]["revision"], 1);
}

#[test]
fn accounts_without_a_candidate_or_a_broken_candidate_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_buyerpath"))
            .current_dir(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--db", "x.sqlite"])
            .arg("--playbook")
            .arg(root().join("examples/acme/playbook.json"))
            .args(extra)
            .output()
            .unwrap()
    };
    let accounts = root().join("examples/crm/crm.csv");
    let out = run(&["--accounts", accounts.to_str().unwrap()]);
    assert!(!out.status.success());
    std::fs::write(dir.path().join("bad.json"), r#"{"id": "x"}"#).unwrap();
    let out = run(&["--candidate", "bad.json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("candidate"), "{err}");
}

#[test]
fn an_accounts_file_without_rows_is_said_at_start_and_in_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let header = std::fs::read_to_string(root().join("examples/crm/crm.csv")).unwrap();
    let header = header.lines().next().unwrap();
    std::fs::write(dir.path().join("empty.csv"), format!("{header}\n")).unwrap();
    let candidate = root().join("examples/crm/playbook.r2.json");
    let s = Server::start(
        dir.path(),
        &[
            "--candidate",
            candidate.to_str().unwrap(),
            "--accounts",
            "empty.csv",
        ],
    );
    let (status, v) = get(&s.url, "/api/calibration");
    assert_eq!(status, 200, "{v}");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("empty.csv has no account rows: no account can be re-scored"),
        "{warnings}"
    );
}
