//! `GET /api/funnel`: for each playbook revision (the one stamped on each
//! signal, so decisions are reported as they were made): visitors and
//! accounts per stage, stage-to-stage conversion, lead velocity, the MQL → SQL
//! rate, content attribution and the lift of personalisation over the holdout.

use super::lift::{Exposure, Tally};
use super::{median, ratio, round, Groups, Kind, Signal, DAY_MS};
use crate::serve::config::PlaybookMeta;
use crate::serve::iso;
use foldhash::{HashMap, HashMapExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Half-life of the time-decay attribution model.
const DECAY_HALF_LIFE_DAYS: f64 = 7.0;
const HOUR_MS: f64 = 3_600_000.0;

#[derive(Default)]
struct Visitor<'a> {
    account: Option<&'a str>,
    first_seen: i64,
    /// Every stage the visitor was seen in, in the order first seen.
    seen: Vec<Seen<'a>>,
    /// The stages seen so far, counted with repeats (the next [`Seen`] mark).
    marks: usize,
    /// The current stage and since when, and the one before.
    cur: Option<(&'a str, i64)>,
    prev: Option<(&'a str, i64)>,
    mql: Option<i64>,
    sql: Option<i64>,
    /// Content Recommended: (time, content ids).
    touches: Vec<(i64, Vec<&'a str>)>,
    /// The holdout group and whether the visitor converted after their first recommendation.
    exposure: Exposure,
}

impl<'a> Visitor<'a> {
    fn enter(&mut self, stage: &'a str, ts: i64) {
        if self.cur.map(|(s, _)| s) != Some(stage) {
            self.prev = self.cur.take();
            self.cur = Some((stage, ts));
        }
        self.mark(stage, ts);
    }

    /// Notes the visitor seen in `stage` at `ts`.
    fn mark(&mut self, stage: &'a str, ts: i64) {
        let at = self.marks;
        self.marks += 1;
        match self.seen.iter_mut().find(|s| s.stage == stage) {
            Some(s) => s.last = at,
            None => self.seen.push(Seen {
                stage,
                first: at,
                last: at,
                since: ts,
            }),
        }
    }

    fn converted_at(&self) -> Option<i64> {
        match (self.mql, self.sql) {
            (Some(m), Some(s)) => Some(m.min(s)),
            (m, s) => m.or(s),
        }
    }
}

/// A stage a visitor was seen in: the first and the last time, as marks in
/// the order of the visitor's signals (a stage advanced to after another is
/// one last seen after the other's first).
struct Seen<'a> {
    stage: &'a str,
    first: usize,
    last: usize,
    /// When first seen in it.
    since: i64,
}

#[derive(Default)]
struct Transition {
    count: usize,
    moved_back: bool,
    hours: Vec<f64>,
}

/// The funnel view at `as_of`, one report per playbook revision (newest first);
/// `only` keeps one revision.
pub fn view(signals: &[Signal], meta: &PlaybookMeta, as_of: i64, only: Option<i64>) -> Value {
    let mut groups: BTreeMap<(&str, Option<i64>), Vec<&Signal>> = BTreeMap::new();
    // Group calls are not signals: they only link visitors to accounts.
    let linked = Groups::of(signals);
    for s in signals.iter().filter(|s| s.kind != Kind::Group) {
        if only.is_none() || s.revision == only {
            groups
                .entry((&s.playbook_id, s.revision))
                .or_default()
                .push(s);
        }
    }
    let mut reports: Vec<Value> = groups
        .iter()
        .map(|((id, rev), sigs)| report(id, *rev, sigs, &linked, meta))
        .collect();
    reports.reverse(); // newest revision first
    json!({
        "as_of": iso::format(as_of),
        "stage_order_from": {"id": meta.id, "revision": meta.revision},
        "revisions": reports,
    })
}

fn report<'a>(
    id: &str,
    revision: Option<i64>,
    sigs: &[&'a Signal],
    linked: &Groups<'a>,
    meta: &PlaybookMeta,
) -> Value {
    // In the order first seen (a signal is looked up by its visitor's place).
    let mut visitors: Vec<Visitor<'a>> = Vec::new();
    let mut places: HashMap<&str, usize> = HashMap::new();
    let mut transitions: BTreeMap<(&str, &str), Transition> = BTreeMap::new();
    let mut account_stage: HashMap<&str, &str> = HashMap::new();
    let (mut mql_signals, mut sql_signals) = (0, 0);
    for s in sigs {
        let place = *places.entry(&s.visitor).or_insert_with(|| {
            visitors.push(Visitor {
                first_seen: s.ts,
                ..Visitor::default()
            });
            visitors.len() - 1
        });
        let Some(v) = visitors.get_mut(place) else {
            continue;
        };
        if v.account.is_none() {
            v.account = linked.account(s);
        }
        match s.kind {
            Kind::Classified => {
                if let Some(stage) = s.props.stage.as_deref() {
                    v.enter(stage, s.ts);
                }
            }
            Kind::StageChanged => {
                let (Some(from), Some(to)) = (s.props.from.as_deref(), s.props.to.as_deref())
                else {
                    continue;
                };
                // The decision's Visitor Classified may have come first, in the same instant.
                let entered_from = match (v.cur, v.prev) {
                    (Some((c, _)), Some((p, since))) if c == to && p == from => Some(since),
                    (Some((c, since)), _) if c == from => Some(since),
                    _ => None,
                };
                if !v.seen.iter().any(|x| x.stage == from) {
                    v.mark(from, s.ts);
                }
                v.enter(to, s.ts);
                let t = transitions.entry((from, to)).or_default();
                t.count += 1;
                t.moved_back |= s.props.moved_back.unwrap_or(false);
                if let Some(since) = entered_from {
                    t.hours.push((s.ts - since) as f64 / HOUR_MS);
                }
            }
            Kind::Recommended => {
                let ids: BTreeSet<&str> = s
                    .props
                    .slots
                    .iter()
                    .flatten()
                    .flat_map(|slot| slot.content_ids.iter().map(|id| &**id))
                    .collect();
                if !ids.is_empty() {
                    v.touches.push((s.ts, ids.into_iter().collect()));
                }
                v.exposure.recommended(s.ts, s.props.holdout);
            }
            Kind::Mql => {
                mql_signals += 1;
                v.mql = v.mql.or(Some(s.ts));
                v.exposure.reached(s.ts);
            }
            Kind::Sql => {
                sql_signals += 1;
                v.sql = v.sql.or(Some(s.ts));
                v.exposure.reached(s.ts);
            }
            Kind::Trigger | Kind::Group => {}
        }
        if let (Some(stage), Some(acct)) = (s.stage(), linked.account(s)) {
            account_stage.insert(acct, stage);
        }
    }
    let first_at = sigs.iter().map(|s| s.ts).min();
    let last_at = sigs.iter().map(|s| s.ts).max();
    let accounts: BTreeSet<&str> = visitors.iter().filter_map(|v| v.account).collect();
    json!({
        "playbook": {"id": id, "revision": revision},
        "signals": sigs.len(),
        "visitors": visitors.len(),
        "accounts": accounts.len(),
        "first_at": first_at.map(iso::format),
        "last_at": last_at.map(iso::format),
        "stages": stages(&visitors, &account_stage, meta),
        "transitions": transitions.iter().map(|((from, to), t)| json!({
            "from": from, "to": to, "count": t.count, "moved_back": t.moved_back,
            "median_hours": median(t.hours.clone()).map(|h| round(h, 2)),
        })).collect::<Vec<_>>(),
        "velocity": velocity(&visitors, &transitions),
        "lifecycle": lifecycle(&visitors, mql_signals, sql_signals),
        "attribution": attribution(&visitors, meta),
        "holdout": holdout(&visitors),
    })
}

fn stages(
    visitors: &[Visitor<'_>],
    account_stage: &HashMap<&str, &str>,
    meta: &PlaybookMeta,
) -> Vec<Value> {
    // The playbook's order, then stages it does not know (older revisions)
    // in the order they were first seen.
    let mut unknown: Vec<(i64, &str)> = Vec::new();
    for s in visitors.iter().flat_map(|v| &v.seen) {
        if meta.stages.iter().any(|(id, _)| **id == *s.stage) {
            continue;
        }
        match unknown.iter_mut().find(|(_, id)| **id == *s.stage) {
            Some(u) => u.0 = u.0.min(s.since),
            None => unknown.push((s.since, s.stage)),
        }
    }
    unknown.sort_unstable();
    let mut order: Vec<(String, String)> = meta.stages.clone();
    order.extend(
        unknown
            .iter()
            .map(|(_, id)| (id.to_string(), id.to_string())),
    );
    let index = |id: &str| order.iter().position(|(x, _)| x == id);
    order
        .iter()
        .enumerate()
        .map(|(i, (id, label))| {
            let (mut now, mut reached, mut advanced) = (0, 0, 0);
            let mut accounts_reached: BTreeSet<&str> = BTreeSet::new();
            for v in visitors.iter() {
                if v.cur.as_ref().is_some_and(|(s, _)| **s == **id) {
                    now += 1;
                }
                let Some(first) = v.seen.iter().find(|s| *s.stage == **id) else {
                    continue;
                };
                reached += 1;
                if let Some(a) = &v.account {
                    accounts_reached.insert(a);
                }
                // Seen later in a stage further down the funnel.
                let later = v.seen.iter().filter(|s| s.last > first.first);
                if later.filter_map(|s| index(s.stage)).any(|j| j > i) {
                    advanced += 1;
                }
            }
            json!({
                "id": id,
                "label": label,
                "visitors_now": now,
                "accounts_now": account_stage.values().filter(|s| **s == id.as_str()).count(),
                "visitors_reached": reached,
                "accounts_reached": accounts_reached.len(),
                "advanced": advanced,
                "conversion": ratio(advanced, reached),
            })
        })
        .collect()
}

fn velocity(visitors: &[Visitor<'_>], transitions: &BTreeMap<(&str, &str), Transition>) -> Value {
    let forward: Vec<f64> = transitions
        .values()
        .filter(|t| !t.moved_back)
        .flat_map(|t| t.hours.iter().map(|h| h / 24.0))
        .collect();
    let to_mql: Vec<f64> = visitors
        .iter()
        .filter_map(|v| v.mql.map(|m| (m - v.first_seen) as f64 / DAY_MS as f64))
        .collect();
    let mql_to_sql: Vec<f64> = visitors
        .iter()
        .filter_map(|v| match (v.mql, v.sql) {
            (Some(m), Some(s)) if s >= m => Some((s - m) as f64 / DAY_MS as f64),
            _ => None,
        })
        .collect();
    let days = |v: Vec<f64>| median(v).map(|d| round(d, 2));
    json!({
        "median_days_between_stages": days(forward),
        "median_days_first_seen_to_mql": days(to_mql),
        "median_days_mql_to_sql": days(mql_to_sql),
    })
}

fn lifecycle(visitors: &[Visitor<'_>], mql_signals: usize, sql_signals: usize) -> Value {
    let mql = visitors.iter().filter(|v| v.mql.is_some()).count();
    let sql = visitors.iter().filter(|v| v.sql.is_some()).count();
    let after = visitors
        .iter()
        .filter(|v| matches!((v.mql, v.sql), (Some(m), Some(s)) if s >= m))
        .count();
    json!({
        "mql": mql,
        "sql": sql,
        "sql_after_mql": after,
        // An SQL with an MQL only later had none before it: the two add up to `sql`.
        "sql_without_mql": sql - after,
        "mql_to_sql_rate": ratio(after, mql),
        "mql_signals": mql_signals,
        "sql_signals": sql_signals,
    })
}

/// Credit for each conversion (a visitor's first MQL or SQL) over the content
/// recommended to that visitor before it; one credit per conversion, split
/// equally among the content ids of a touch.
fn attribution(visitors: &[Visitor<'_>], meta: &PlaybookMeta) -> Value {
    #[derive(Default)]
    struct Credit {
        first: f64,
        last: f64,
        linear: f64,
        decay: f64,
    }
    let mut credit: BTreeMap<&str, Credit> = BTreeMap::new();
    let (mut conversions, mut attributed) = (0, 0);
    for v in visitors.iter() {
        let Some(at) = v.converted_at() else { continue };
        conversions += 1;
        // Content picked by the converting decision itself came after the conversion.
        let touches: Vec<&(i64, Vec<&str>)> = v.touches.iter().filter(|(t, _)| *t < at).collect();
        let n = touches.len();
        if n == 0 {
            continue;
        }
        attributed += 1;
        // Weights relative to the newest touch (weight 1), not to the
        // conversion: shares are the same, and touches long before the
        // conversion (0.5^(days/7) underflows to 0 after ~20 years) still
        // share the credit instead of all getting none.
        let newest = touches.iter().map(|(t, _)| *t).max().unwrap_or(at);
        let weights: Vec<f64> = touches
            .iter()
            .map(|(t, _)| 0.5f64.powf((newest - t) as f64 / DAY_MS as f64 / DECAY_HALF_LIFE_DAYS))
            .collect();
        let total: f64 = weights.iter().sum();
        for (k, ((_, ids), w)) in touches.iter().zip(&weights).enumerate() {
            let share = 1.0 / ids.len() as f64;
            for id in ids {
                let c = credit.entry(id).or_default();
                if k == 0 {
                    c.first += share;
                }
                if k == n - 1 {
                    c.last += share;
                }
                c.linear += share / n as f64;
                if total > 0.0 {
                    c.decay += share * w / total;
                }
            }
        }
    }
    let mut rows: Vec<(&str, Credit)> = credit.into_iter().collect();
    rows.sort_by(|a, b| b.1.linear.total_cmp(&a.1.linear).then(a.0.cmp(b.0)));
    json!({
        "conversions": conversions,
        "attributed": attributed,
        "models": ["first_touch", "last_touch", "linear", "time_decay"],
        "time_decay_half_life_days": DECAY_HALF_LIFE_DAYS,
        "content": rows.iter().map(|(id, c)| json!({
            "content_id": id,
            "title": meta.content.get(*id).map(|(t, _)| t),
            "format": meta.content.get(*id).map(|(_, f)| f),
            "first_touch": round(c.first, 4),
            "last_touch": round(c.last, 4),
            "linear": round(c.linear, 4),
            "time_decay": round(c.decay, 4),
        })).collect::<Vec<_>>(),
    })
}

/// What the holdout comparison counts, said in the answer itself.
const HOLDOUT_COUNTS: &str = "visitors by the holdout flag of their first Content Recommended; converted: MQL or SQL Reached strictly after that first recommendation";

/// Conversion of visitors shown personalised content vs the holdout, as
/// `buyerpath calibrate content` counts it (see [`super::lift`]).
fn holdout(visitors: &[Visitor<'_>]) -> Value {
    let mut tally = Tally::default();
    for v in visitors.iter() {
        tally.add(&v.exposure);
    }
    let l = tally.lift();
    json!({
        "counts": HOLDOUT_COUNTS,
        "treated": {"visitors": l.treated_visitors, "converted": l.treated_converted, "rate": l.treated_rate},
        "holdout": {"visitors": l.holdout_visitors, "converted": l.holdout_converted, "rate": l.holdout_rate},
        "difference": l.difference,
        "difference_ci95": l.difference_ci95,
        "lift": l.lift,
        "lift_ci95": l.lift_ci95,
        "z": l.z,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(visitor: &str, kind: Kind, ts: i64, props: Value) -> Signal {
        Signal {
            row: 0,
            visitor: visitor.into(),
            kind,
            account: Some(format!("{visitor}.com").into()),
            playbook_id: "p".into(),
            revision: Some(1),
            ts,
            props: serde_json::from_value(props).unwrap(),
            trusted: false,
        }
    }

    fn shown(ids: &[&str], holdout: bool) -> Value {
        json!({"slots": [{"slot": "hero", "content_ids": ids}], "holdout": holdout})
    }

    #[test]
    fn attribution_velocity_and_lift() {
        let meta = PlaybookMeta {
            stages: vec![("s1".into(), "One".into()), ("s2".into(), "Two".into())],
            ..PlaybookMeta::default()
        };
        let d = DAY_MS;
        let s = vec![
            sig("v1", Kind::Classified, 0, json!({"stage": "s1"})),
            sig("v1", Kind::Recommended, 0, shown(&["a"], false)),
            sig("v1", Kind::Classified, 2 * d, json!({"stage": "s2"})),
            sig(
                "v1",
                Kind::StageChanged,
                2 * d,
                json!({"from": "s1", "to": "s2", "moved_back": false}),
            ),
            sig("v1", Kind::Recommended, 2 * d, shown(&["b", "c"], false)),
            sig("v1", Kind::Mql, 3 * d, json!({})),
            sig("v1", Kind::Recommended, 3 * d, shown(&["z"], false)),
            sig("v2", Kind::Classified, 0, json!({"stage": "s1"})),
            sig("v2", Kind::Recommended, 0, shown(&["a"], true)),
            sig("v3", Kind::Recommended, 0, shown(&["a"], true)),
            sig("v3", Kind::Sql, d, json!({})),
            sig("v4", Kind::Recommended, 0, shown(&["a"], false)),
        ];
        let v = view(&s, &meta, 4 * d, None);
        let r = &v["revisions"][0];
        assert_eq!(r["visitors"], 4);
        assert_eq!(r["stages"][0]["visitors_reached"], 2);
        assert_eq!(r["stages"][0]["advanced"], 1);
        assert_eq!(r["stages"][0]["conversion"], 0.5);
        assert_eq!(r["stages"][1]["visitors_now"], 1);
        assert_eq!(r["transitions"][0]["median_hours"], 48.0);
        assert_eq!(r["velocity"]["median_days_first_seen_to_mql"], 3.0);
        assert_eq!(r["lifecycle"]["mql"], 1);
        assert_eq!(r["lifecycle"]["sql_without_mql"], 1);
        let c = &r["attribution"]["content"];
        assert_eq!(r["attribution"]["conversions"], 2);
        // v1: touches a (day 0) and b+c (day 2); z came with the conversion. v3: a.
        assert_eq!(c[0]["content_id"], "a");
        assert_eq!(c[0]["first_touch"], 2.0);
        assert_eq!(c[0]["last_touch"], 1.0);
        assert_eq!(c[0]["linear"], 1.5);
        assert_eq!(c[1]["content_id"], "b");
        assert_eq!(c[1]["last_touch"], 0.5);
        assert_eq!(c[1]["linear"], 0.25);
        assert!(c.as_array().unwrap().iter().all(|x| x["content_id"] != "z"));
        let h = &r["holdout"];
        assert_eq!(h["treated"]["visitors"], 2);
        assert_eq!(h["treated"]["rate"], 0.5);
        assert_eq!(h["holdout"]["rate"], 0.5);
        assert_eq!(h["lift"], 0.0);
    }

    #[test]
    fn time_decay_credit_survives_touches_long_before_the_conversion() {
        let meta = PlaybookMeta::default();
        let d = DAY_MS;
        let years = 30 * 365 * d;
        let s = vec![
            sig("v1", Kind::Recommended, 0, shown(&["a"], false)),
            sig("v1", Kind::Recommended, 7 * d, shown(&["b"], false)),
            sig("v1", Kind::Mql, years, json!({})),
        ];
        let v = view(&s, &meta, years, None);
        let attribution = &v["revisions"][0]["attribution"];
        assert_eq!(attribution["attributed"], 1);
        let credit = |id: &str| {
            attribution["content"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["content_id"] == id)
                .unwrap()["time_decay"]
                .as_f64()
                .unwrap()
        };
        // One half-life apart: b gets twice a's share, and the shares sum to 1.
        let (a, b) = (credit("a"), credit("b"));
        assert!((a + b - 1.0).abs() < 1e-3, "{a} + {b}");
        assert!((b - 2.0 * a).abs() < 1e-3, "{a} {b}");
    }

    /// Stages the playbook does not know (an older revision's) follow its
    /// own in the order they were first seen, whichever visitor saw them; a
    /// visitor advanced from a stage when seen later in one further down.
    #[test]
    fn unknown_stages_follow_in_the_order_first_seen() {
        let meta = PlaybookMeta {
            stages: vec![("s1".into(), "One".into())],
            ..PlaybookMeta::default()
        };
        let s = vec![
            sig("z", Kind::Classified, 0, json!({"stage": "old_b"})),
            sig("a", Kind::Classified, 5, json!({"stage": "s1"})),
            sig("a", Kind::Classified, 10, json!({"stage": "old_a"})),
            sig("z", Kind::Classified, 20, json!({"stage": "s1"})),
            // Back in old_b after s1: seen later in a stage further down.
            sig("z", Kind::Classified, 30, json!({"stage": "old_b"})),
        ];
        let v = view(&s, &meta, 40, None);
        let stages = &v["revisions"][0]["stages"];
        let ids: Vec<&str> = stages
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["s1", "old_b", "old_a"]);
        // s1: both visitors reached it, both were seen later further down.
        assert_eq!(stages[0]["visitors_reached"], 2);
        assert_eq!(stages[0]["advanced"], 2);
        // old_b: z reached it first, then s1 (not further down), then old_b again.
        assert_eq!(stages[1]["visitors_reached"], 1);
        assert_eq!(stages[1]["advanced"], 0);
        assert_eq!(stages[1]["visitors_now"], 1);
    }
    /// An SQL reached before the visitor's MQL had no MQL before it: it is
    /// counted there, so the two figures add up to the SQLs.
    #[test]
    fn an_sql_before_its_mql_counts_as_without() {
        let s = vec![
            sig("early", Kind::Sql, 10, json!({})),
            sig("early", Kind::Mql, 20, json!({})),
            sig("usual", Kind::Mql, 10, json!({})),
            sig("usual", Kind::Sql, 20, json!({})),
        ];
        let v = view(&s, &PlaybookMeta::default(), 100, None);
        let l = &v["revisions"][0]["lifecycle"];
        assert_eq!(
            (&l["sql"], &l["sql_after_mql"], &l["sql_without_mql"]),
            (&json!(2), &json!(1), &json!(1))
        );
    }
}
