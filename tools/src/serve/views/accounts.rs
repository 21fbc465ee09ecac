//! `GET /api/accounts`: every account (the `properties.account` domain on the
//! signals) with its fit, stage and stage history, buying-committee coverage,
//! visitors, surges and sales triggers, ranked by fit tier then engagement.

use super::{round, Kind, Signal, DAY_MS};
use crate::serve::config::PlaybookMeta;
use crate::serve::iso;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The window a surge is measured over.
const SURGE_WINDOW_MS: i64 = 7 * DAY_MS;
/// A surge: account engagement rose by at least this many points over the window...
const SURGE_MIN_RISE: f64 = 20.0;
/// ...and at least doubled.
const SURGE_MIN_RATIO: f64 = 2.0;
/// Stage-history entries returned per account (the most recent).
const HISTORY_LIMIT: usize = 50;

#[derive(Default)]
struct Visitor {
    /// Seniority multiplier (Demandbase-style account engagement); 1 when unknown.
    weight: Option<f64>,
    /// Engagement as each classification reported it: (time, score).
    points: Vec<(i64, f64)>,
    lifecycle: Option<String>,
    /// The visitor's own stage and since when it has been in it.
    stage: Option<(String, i64)>,
}

impl Visitor {
    fn engagement_at(&self, t: i64) -> f64 {
        let last = self.points.iter().rev().find(|(ts, _)| *ts <= t);
        last.map_or(0.0, |(_, e)| e * self.weight.unwrap_or(1.0))
    }
}

#[derive(Default)]
struct Account {
    tier: Option<String>,
    fit_score: Option<f64>,
    qualified: Option<bool>,
    /// Some signal came with a trusted (server-side) write key: `tier`,
    /// `fit_score` and `qualified` are then taken from those signals only.
    verified: bool,
    /// The latest fit a client asserted (`tier`, `fit_score`), shown as a claim.
    claimed: Option<(Option<String>, Option<f64>)>,
    visitors: BTreeMap<String, Visitor>,
    /// The stage the latest signal reported (whichever visitor's).
    stage: Option<String>,
    /// One entry per change of a visitor's own stage (and the account's first stage).
    history: Vec<Value>,
    roles: BTreeSet<String>,
    triggers: BTreeMap<String, (usize, i64)>,
    first_seen: i64,
    last_seen: i64,
    mql: BTreeSet<String>,
    sql: BTreeSet<String>,
    playbook: Option<(String, Option<i64>)>,
}

impl Account {
    fn engagement_at(&self, t: i64) -> f64 {
        self.visitors.values().map(|v| v.engagement_at(t)).sum()
    }

    /// The account's stage, and since when: the earliest time a visitor now
    /// in it entered it (another visitor's signals in another stage do not
    /// reset it).
    fn stage_since(&self) -> Option<(&str, i64)> {
        let stage = self.stage.as_deref()?;
        let since = self
            .visitors
            .values()
            .filter_map(|v| v.stage.as_ref())
            .filter(|(s, _)| s == stage)
            .map(|(_, since)| *since)
            .min()?;
        Some((stage, since))
    }

    fn lifecycle(&self) -> &'static str {
        const ORDER: [&str; 4] = ["anonymous", "engaged", "mql", "sql"];
        if !self.sql.is_empty() {
            return "sql";
        }
        let best = self
            .visitors
            .values()
            .filter_map(|v| v.lifecycle.as_deref())
            .filter_map(|l| ORDER.iter().position(|x| *x == l))
            .max()
            .unwrap_or(0);
        let best = if self.mql.is_empty() {
            best
        } else {
            best.max(2)
        };
        ORDER.get(best).copied().unwrap_or("anonymous")
    }
}

fn fold(signals: &[Signal]) -> BTreeMap<String, Account> {
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    for s in signals {
        let Some(name) = &s.account else { continue };
        let a = accounts.entry(name.clone()).or_insert_with(|| Account {
            first_seen: s.ts,
            ..Account::default()
        });
        a.last_seen = a.last_seen.max(s.ts);
        let v = a.visitors.entry(s.visitor.clone()).or_default();
        match s.kind {
            Kind::Classified => {
                // Firmographic fit is a fact only from a trusted sender; a
                // client's (anything a browser sends) is a claim that never
                // overrides a verified fit.
                if s.trusted && !a.verified {
                    a.verified = true;
                    a.tier = None;
                    a.fit_score = None;
                    a.qualified = None;
                }
                if s.trusted || !a.verified {
                    a.tier = s.props.fit_tier.clone().or(a.tier.take());
                    a.fit_score = s.props.fit_score.or(a.fit_score);
                    a.qualified = s.props.qualified.or(a.qualified);
                }
                if !s.trusted {
                    a.claimed = Some((s.props.fit_tier.clone(), s.props.fit_score));
                }
                a.playbook = Some((s.playbook_id.clone(), s.revision));
                if let Some(w) = s.props.seniority_weight {
                    v.weight = Some(w);
                }
                if let Some(e) = s.props.engagement_score {
                    v.points.push((s.ts, e));
                }
                if let Some(l) = &s.props.lifecycle {
                    v.lifecycle = Some(l.clone());
                }
                if let Some(r) = s
                    .props
                    .role
                    .as_deref()
                    .filter(|r| !r.is_empty() && *r != "unknown")
                {
                    a.roles.insert(r.to_string());
                }
            }
            Kind::Mql => {
                a.mql.insert(s.visitor.clone());
            }
            Kind::Sql => {
                a.sql.insert(s.visitor.clone());
            }
            Kind::Trigger => {
                if let Some(t) = &s.props.trigger {
                    let e = a.triggers.entry(t.clone()).or_insert((0, s.ts));
                    e.0 += 1;
                    e.1 = e.1.max(s.ts);
                }
            }
            Kind::StageChanged | Kind::Recommended => {}
        }
        // The history follows each visitor's own stage: two visitors in
        // different stages are not the account moving back and forth. An
        // entry when a visitor's stage changes, or when a visitor first seen
        // brings a stage no other visitor of the account is in (`from` null).
        if let Some(stage) = s.stage() {
            let own = a
                .visitors
                .get(&s.visitor)
                .and_then(|v| v.stage.as_ref())
                .map(|(x, _)| x.clone());
            if own.as_deref() != Some(stage) {
                let held_by_another = a.visitors.iter().any(|(id, x)| {
                    *id != s.visitor && x.stage.as_ref().is_some_and(|(st, _)| st == stage)
                });
                if own.is_some() || !held_by_another {
                    a.history.push(json!({
                        "at": iso::format(s.ts),
                        "stage": stage,
                        "from": own,
                        "visitor": s.visitor,
                    }));
                }
                if let Some(v) = a.visitors.get_mut(&s.visitor) {
                    v.stage = Some((stage.to_string(), s.ts));
                }
            }
            a.stage = Some(stage.to_string());
        }
    }
    accounts
}

/// The account view at `as_of` (the signals are already cut there).
pub fn view(signals: &[Signal], meta: &PlaybookMeta, as_of: i64) -> Value {
    let accounts = fold(signals);
    let mut rows: Vec<(usize, f64, i64, String, Value)> = accounts
        .into_iter()
        .map(|(name, a)| {
            let now = a.engagement_at(as_of);
            let before = a.engagement_at(as_of - SURGE_WINDOW_MS);
            let surging = now - before >= SURGE_MIN_RISE && now >= SURGE_MIN_RATIO * before;
            let needed: Vec<&str> = meta.roles.iter().map(|(id, _)| id.as_str()).collect();
            let covered = needed.iter().filter(|r| a.roles.contains(**r)).count();
            let missing: Vec<&str> = needed
                .iter()
                .copied()
                .filter(|r| !a.roles.contains(*r))
                .collect();
            let coverage = if needed.is_empty() {
                Value::Null
            } else {
                json!(round(covered as f64 / needed.len() as f64, 4))
            };
            let triggers: Vec<Value> = a
                .triggers
                .iter()
                .map(|(id, (count, last))| {
                    json!({
                        "id": id,
                        "label": meta.triggers.get(id),
                        "count": count,
                        "last_at": iso::format(*last),
                    })
                })
                .collect();
            let skip = a.history.len().saturating_sub(HISTORY_LIMIT);
            let body = json!({
                "account": name,
                "fit_tier": a.tier,
                "fit_score": a.fit_score,
                "qualified": a.qualified,
                // `verified`: the fit comes from a trusted (server-side) sender;
                // `asserted`: only clients (browsers) reported it.
                "firmographics": if a.verified { "verified" } else { "asserted" },
                "claimed_fit": a.claimed.as_ref()
                    .filter(|(t, sc)| !a.verified || *t != a.tier || *sc != a.fit_score)
                    .map(|(t, sc)| json!({"fit_tier": t, "fit_score": sc})),
                "engagement": round(now, 1),
                "stage": a.stage_since().map(|(id, since)| json!({
                    "id": id, "label": meta.stage_label(id), "since": iso::format(since),
                })),
                "stage_history": a.history.iter().skip(skip).collect::<Vec<_>>(),
                "stage_changes": a.history.len(),
                "committee": {
                    "seen": a.roles,
                    "needed": needed,
                    "missing": missing,
                    "coverage": coverage,
                },
                "visitors": a.visitors.len(),
                "lifecycle": a.lifecycle(),
                "mql_visitors": a.mql.len(),
                "sql_visitors": a.sql.len(),
                "first_seen": iso::format(a.first_seen),
                "last_seen": iso::format(a.last_seen),
                "surge": {
                    "surging": surging,
                    "engagement": round(now, 1),
                    "engagement_7d_ago": round(before, 1),
                    "rise": round(now - before, 1),
                },
                "triggers": triggers,
                "playbook": a.playbook.as_ref().map(|(id, rev)| json!({"id": id, "revision": rev})),
            });
            (
                // Verified fit ranks ahead of an asserted one in the same tier.
                meta.tier_rank(a.tier.as_deref()) * 2 + usize::from(!a.verified),
                now,
                a.last_seen,
                name,
                body,
            )
        })
        .collect();
    rows.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(y.1.total_cmp(&x.1))
            .then(y.2.cmp(&x.2))
            .then(x.3.cmp(&y.3))
    });
    let surging = rows
        .iter()
        .filter(|r| r.4.pointer("/surge/surging") == Some(&Value::Bool(true)))
        .count();
    let list: Vec<Value> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if let Some(m) = r.4.as_object_mut() {
                m.insert("rank".into(), json!(i + 1));
            }
            r.4
        })
        .collect();
    json!({
        "as_of": iso::format(as_of),
        "playbook": {"id": meta.id, "revision": meta.revision},
        "tiers": meta.tiers,
        "roles": meta.roles.iter().map(|(id, label)| json!({"id": id, "label": label})).collect::<Vec<_>>(),
        "surge_rule": format!(
            "engagement (sum over the account's visitors of their latest score × seniority weight) rose by ≥ {SURGE_MIN_RISE} points and at least {SURGE_MIN_RATIO}× over the last 7 days"
        ),
        "total": list.len(),
        "surging": surging,
        "accounts": list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(visitor: &str, kind: Kind, ts: i64, props: Value) -> Signal {
        Signal {
            visitor: visitor.into(),
            kind,
            account: props["account"].as_str().map(str::to_string),
            playbook_id: "p".into(),
            revision: Some(1),
            ts,
            props: serde_json::from_value(props).unwrap(),
            trusted: false,
        }
    }

    #[test]
    fn ranks_by_tier_then_engagement_and_sees_surges() {
        let meta = PlaybookMeta {
            tiers: vec!["A".into(), "B".into()],
            roles: vec![
                ("buyer".into(), String::new()),
                ("user".into(), String::new()),
            ],
            ..PlaybookMeta::default()
        };
        let d = DAY_MS;
        let s = vec![
            sig(
                "b1",
                Kind::Classified,
                0,
                json!({"account": "b.com", "fit_tier": "B", "engagement_score": 90.0, "stage": "x", "role": "user"}),
            ),
            sig(
                "a1",
                Kind::Classified,
                0,
                json!({"account": "a.com", "fit_tier": "A", "engagement_score": 5.0, "stage": "x", "role": "buyer", "seniority_weight": 2.0}),
            ),
            sig(
                "a1",
                Kind::Classified,
                9 * d,
                json!({"account": "a.com", "fit_tier": "A", "engagement_score": 30.0, "stage": "y", "role": "buyer", "seniority_weight": 2.0}),
            ),
            sig(
                "a2",
                Kind::Classified,
                9 * d,
                json!({"account": "a.com", "fit_tier": "A", "engagement_score": 10.0, "stage": "y", "role": "unknown"}),
            ),
        ];
        let v = view(&s, &meta, 10 * d);
        let a = &v["accounts"][0];
        assert_eq!(a["account"], "a.com");
        assert_eq!(a["rank"], 1);
        assert_eq!(a["engagement"], 70.0);
        assert_eq!(a["surge"]["engagement_7d_ago"], 10.0);
        assert_eq!(a["surge"]["surging"], true);
        assert_eq!(a["committee"]["coverage"], 0.5);
        assert_eq!(a["committee"]["missing"], json!(["user"]));
        assert_eq!(a["stage"]["id"], "y");
        assert_eq!(a["stage_history"].as_array().unwrap().len(), 2);
        assert_eq!(v["accounts"][1]["account"], "b.com");
        assert_eq!(v["accounts"][1]["surge"]["surging"], false);
    }

    #[test]
    fn stage_history_follows_each_visitors_own_stage() {
        let meta = PlaybookMeta::default();
        let h = 3_600_000;
        let at = |stage: &str| json!({"account": "flip.com", "stage": stage});
        // Alice and Bob stay in their stages, classified in turns.
        let mut s = Vec::new();
        for k in 0..5 {
            s.push(sig("alice", Kind::Classified, k * h, at("pi")));
            s.push(sig("bob", Kind::Classified, k * h + 60_000, at("ss")));
        }
        let v = view(&s, &meta, 5 * h);
        let a = &v["accounts"][0];
        // One entry per visitor arriving in a stage no one else is in, no flip-flop.
        assert_eq!(a["stage_changes"], 2, "{}", a["stage_history"]);
        assert_eq!(
            a["stage_history"],
            json!([
                {"at": iso::format(0), "stage": "pi", "from": null, "visitor": "alice"},
                {"at": iso::format(60_000), "stage": "ss", "from": null, "visitor": "bob"},
            ])
        );
        // The latest signal's stage, since Bob entered it (not his latest signal).
        assert_eq!(a["stage"]["id"], "ss");
        assert_eq!(a["stage"]["since"], iso::format(60_000));
        // Alice moves on: her own change, from her own stage.
        s.push(sig("alice", Kind::Classified, 6 * h, at("ev")));
        // Carol arrives where Bob is: not a change.
        s.push(sig("carol", Kind::Classified, 7 * h, at("ss")));
        let v = view(&s, &meta, 8 * h);
        let a = &v["accounts"][0];
        assert_eq!(a["stage_changes"], 3, "{}", a["stage_history"]);
        assert_eq!(
            a["stage_history"][2],
            json!({"at": iso::format(6 * h), "stage": "ev", "from": "pi", "visitor": "alice"})
        );
        assert_eq!(a["stage"]["id"], "ss");
        assert_eq!(
            a["stage"]["since"],
            iso::format(60_000),
            "Bob has been there since"
        );
    }
}
