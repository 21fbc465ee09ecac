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

/// The collector with `--candidate` and `--accounts` (a path, or a name in `dir`).
fn with_candidate(dir: &std::path::Path, candidate: &std::path::Path, accounts: &str) -> Server {
    Server::start(
        dir,
        &[
            "--candidate",
            candidate.to_str().unwrap(),
            "--accounts",
            accounts,
        ],
    )
}

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
            slots: None,
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
    let s = with_candidate(dir.path(), &candidate, accounts.to_str().unwrap());
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
    let s = with_candidate(dir.path(), &candidate, "empty.csv");
    let (status, v) = get(&s.url, "/api/calibration");
    assert_eq!(status, 200, "{v}");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("empty.csv has no account rows: no account can be re-scored"),
        "{warnings}"
    );
}

/// Posts the signals of the first `n` CRM accounts (revision 1 deciding).
fn post_crm_signals(url: &str, n: usize) {
    let events = signals("crm", &crm_contexts(n));
    for chunk in events.chunks(100) {
        post_batch(url, chunk);
    }
}

/// A candidate with another tier list: the same id is the same tier (never a
/// move), and a tier only the candidate has (`S`, above `A`) ranks by its
/// `min` among the others. Tiers used to be compared by position, so every
/// account kept at `D` moved "down" (`D` is 4th of 4 now, 5th of 5 then).
#[test]
fn a_candidate_with_another_tier_list_compares_tiers_by_id_and_min() {
    let dir = tempfile::tempdir().unwrap();
    let r2_path = root().join("examples/crm/playbook.r2.json");
    let accounts = root().join("examples/crm/crm.csv");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&r2_path).unwrap()).unwrap();
    let tiers = doc["fit"]["tiers"].as_array_mut().unwrap();
    let top = tiers[0]["min"].as_i64().unwrap();
    tiers.insert(0, json!({"id": "S", "min": top + 17}));
    let with_s = dir.path().join("with-s.json");
    std::fs::write(&with_s, serde_json::to_string_pretty(&doc).unwrap()).unwrap();

    let view = |candidate: &std::path::Path, post: bool| -> Value {
        let s = with_candidate(dir.path(), candidate, accounts.to_str().unwrap());
        if post {
            post_crm_signals(&s.url, 120);
        }
        let (status, v) = get(&s.url, "/api/calibration");
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["status"], "ready", "{v}");
        v
    };
    // The same store under both candidates.
    let plain = view(&r2_path, true);
    let v = view(&with_s, false);
    assert_eq!(v["scored"], plain["scored"]);
    let order = ["S", "A", "B", "C", "D"];
    let level = |t: &Value| order.iter().position(|x| t == *x).unwrap();
    for m in v["movers"].as_array().unwrap() {
        assert_ne!(m["from"], m["to"], "the same tier is no move: {m}");
        let dir = if level(&m["to"]) < level(&m["from"]) {
            "up"
        } else {
            "down"
        };
        assert_eq!(m["direction"], dir, "{m}");
    }
    assert_eq!(v["tier_order"], json!([["S"], ["A"], ["B"], ["C"], ["D"]]));
    assert!(
        v["warnings"].to_string().contains("S > A > B > C > D"),
        "{}",
        v["warnings"]
    );
    // The matrix: a cell's move follows the order; the same id is "same".
    let (from, to) = (&v["matrix"]["from"], &v["matrix"]["to"]);
    let (mut up, mut down, mut same) = (0, 0, 0);
    for (i, row) in v["matrix"]["counts"].as_array().unwrap().iter().enumerate() {
        for (j, c) in row.as_array().unwrap().iter().enumerate() {
            let (a, b) = (level(&from[i]), level(&to[j]));
            let kind = match b.cmp(&a) {
                std::cmp::Ordering::Less => "up",
                std::cmp::Ordering::Greater => "down",
                std::cmp::Ordering::Equal => "same",
            };
            assert_eq!(v["matrix"]["moves"][i][j], kind);
            let c = c.as_u64().unwrap();
            match kind {
                "up" => up += c,
                "down" => down += c,
                _ => same += c,
            }
        }
    }
    assert_eq!(
        (
            v["up"].as_u64().unwrap(),
            v["down"].as_u64().unwrap(),
            v["same"].as_u64().unwrap()
        ),
        (up, down, same)
    );
    // S splits the candidate's A: a move to A is now a move to A or S, and
    // only an account in A now that lands in S moves where it did not.
    let a_to_s = v["movers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "A" && m["to"] == "S")
        .count() as u64;
    assert_eq!(
        v["up"].as_u64().unwrap(),
        plain["up"].as_u64().unwrap() + a_to_s
    );
    assert_eq!(v["down"], plain["down"]);
}

/// `serve --playbook` and `--candidate` read a playbook with a UTF-8 byte
/// order mark, as `check` and `calibrate fit` do.
#[test]
fn a_playbook_or_candidate_with_a_byte_order_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let bom = |from: &str, name: &str| {
        let text = std::fs::read_to_string(root().join(from)).unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, format!("\u{feff}{text}")).unwrap();
        p
    };
    let pb = bom("examples/acme/playbook.json", "playbook.json");
    let cand = bom("examples/crm/playbook.r2.json", "r2.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_buyerpath"))
        .current_dir(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--db", "x.sqlite"])
        .arg("--playbook")
        .arg(&pb)
        .arg("--candidate")
        .arg(&cand)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut started = false;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let Ok(line) = line else { break };
        if let Some(url) = line.strip_prefix("buyerpath serve: listening on ") {
            let (status, v) = get(url.trim(), "/api/calibration");
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["candidate"]["revision"], 2, "{v}");
            started = true;
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(started, "{}", String::from_utf8_lossy(&out.stderr));
}

/// An accounts file that cannot be joined (no `company.domain`, no `id`) or
/// lacks firmographics the candidate reads is said at start and in the view,
/// not shown as a calm "0 up, 0 down".
#[test]
fn an_accounts_file_without_keys_or_attributes_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let candidate = root().join("examples/crm/playbook.r2.json");
    let (header, rows) = {
        let mut r = csv::Reader::from_path(root().join("examples/crm/crm.csv")).unwrap();
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows: Vec<Vec<String>> = r
            .records()
            .take(50)
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect();
        (h, rows)
    };
    let only = |name: &str, cols: &[&str]| {
        let idx: Vec<usize> = cols
            .iter()
            .map(|c| header.iter().position(|h| h == c).unwrap())
            .collect();
        let mut text = cols.join(",") + "\n";
        for r in &rows {
            text += &(idx
                .iter()
                .map(|&i| r[i].as_str())
                .collect::<Vec<_>>()
                .join(",")
                + "\n");
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    };
    only(
        "noid.csv",
        &["company.employees", "company.industry", "company.country"],
    );
    only("min.csv", &["company.domain", "company.employees"]);
    let warnings = |accounts: &str| -> String {
        let s = with_candidate(dir.path(), &candidate, accounts);
        let (status, v) = get(&s.url, "/api/calibration");
        assert_eq!(status, 200, "{v}");
        v["warnings"].to_string()
    };
    let w = warnings("noid.csv");
    assert!(
        w.contains(
            "no row of noid.csv has a `company.domain` or an `id`: no store account can be joined"
        ),
        "{w}"
    );
    let w = warnings("min.csv");
    assert!(
        w.contains("no row of min.csv has `company.industry` (industry)"),
        "{w}"
    );
    assert!(w.contains("`company.tech` (21 criteria)"), "{w}");
    assert!(
        !w.contains("`company.employees`") && !w.contains("company.domain"),
        "{w}"
    );
    // Visit attributes (BANT, the visitor's title) are not asked of an account list.
    assert!(!w.contains("bant.") && !w.contains("person."), "{w}");
}
