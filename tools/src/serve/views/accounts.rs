//! `GET /api/accounts`: every account (the `properties.account` domain on the
//! signals) with its fit, stage and stage history, buying-committee coverage,
//! visitors, surges and sales triggers, ranked by fit tier then engagement,
//! accounts a gate disqualified last.

use super::{round, Groups, Kind, Signal, DAY_MS};
use crate::serve::config::PlaybookMeta;
use crate::serve::iso;
use foldhash::{HashMap, HashMapExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The window a surge is measured over.
const SURGE_WINDOW_MS: i64 = 7 * DAY_MS;
/// A surge: account engagement rose by at least this many points over the window...
const SURGE_MIN_RISE: f64 = 20.0;
/// ...and at least doubled.
const SURGE_MIN_RATIO: f64 = 2.0;
/// Stage-history entries returned per account (the most recent).
const HISTORY_LIMIT: usize = 50;

#[derive(Default)]
struct Visitor<'a> {
    id: &'a str,
    /// Seniority multiplier (Demandbase-style account engagement); 1 when unknown.
    weight: Option<f64>,
    /// Engagement as each classification reported it: (time, score).
    points: Vec<(i64, f64)>,
    lifecycle: Option<&'a str>,
    /// The visitor's own stage and since when it has been in it.
    stage: Option<(&'a str, i64)>,
}

impl Visitor<'_> {
    /// The visitor's engagement at `t`: its last reported score decayed from
    /// that signal to `t`, × its seniority weight. A score is the engine's
    /// figure at that decision; with no signal since, the engine would have
    /// decayed it too (a visitor quiet for months is not engaged now).
    fn engagement_at(&self, t: i64, half_life_days: f64) -> f64 {
        let last = self.points.iter().rev().find(|(ts, _)| *ts <= t);
        last.map_or(0.0, |(ts, e)| {
            e * decayed(t - ts, half_life_days) * self.weight.unwrap_or(1.0)
        })
    }
}

/// The share of engagement left after `elapsed_ms` with the playbook's
/// default half-life (`engagement.half_life_days`): the signal carries the
/// score, not the rules' points, so a rule's own half-life cannot be applied.
/// The engine's own decay, so the view fades a score as the engine does.
fn decayed(elapsed_ms: i64, half_life_days: f64) -> f64 {
    let elapsed = u64::try_from(elapsed_ms).unwrap_or(0);
    buyerpath::decay::factor(elapsed, half_life_days * DAY_MS as f64)
}

/// A change of a visitor's own stage (or a visitor first seen bringing a
/// stage no other visitor of the account is in: `from` none).
struct Change<'a> {
    at: i64,
    stage: &'a str,
    from: Option<&'a str>,
    visitor: &'a str,
}

#[derive(Default)]
struct Account<'a> {
    tier: Option<&'a str>,
    fit_score: Option<f64>,
    qualified: Option<bool>,
    /// The gates that failed, as the signal that last said `qualified` reported them.
    failed_gates: &'a [Arc<str>],
    /// Some signal came with a trusted (server-side) write key: `tier`,
    /// `fit_score` and `qualified` are then taken from those signals only.
    verified: bool,
    /// The latest fit a client asserted (`tier`, `fit_score`), shown as a claim.
    claimed: Option<(Option<&'a str>, Option<f64>)>,
    /// In id order once folded (so engagement sums in one order).
    visitors: Vec<Visitor<'a>>,
    /// The stage the latest signal reported (whichever visitor's).
    stage: Option<&'a str>,
    /// One entry per change of a visitor's own stage (and the account's first stage).
    history: Vec<Change<'a>>,
    roles: BTreeSet<&'a str>,
    triggers: BTreeMap<&'a str, (usize, i64)>,
    first_seen: i64,
    last_seen: i64,
    mql: BTreeSet<&'a str>,
    sql: BTreeSet<&'a str>,
    playbook: Option<(&'a str, Option<i64>)>,
}

impl Account<'_> {
    fn engagement_at(&self, t: i64, half_life_days: f64) -> f64 {
        self.visitors
            .iter()
            .map(|v| v.engagement_at(t, half_life_days))
            .sum()
    }

    /// A gate failed (a competitor, a student): not a prospect, whatever its fit.
    fn disqualified(&self) -> bool {
        self.qualified == Some(false)
    }

    /// The account's stage, and since when: the earliest time a visitor now
    /// in it entered it (another visitor's signals in another stage do not
    /// reset it).
    fn stage_since(&self) -> Option<(&str, i64)> {
        let stage = self.stage?;
        let since = self
            .visitors
            .iter()
            .filter_map(|v| v.stage.as_ref())
            .filter(|(s, _)| *s == stage)
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
            .iter()
            .filter_map(|v| v.lifecycle)
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

fn fold(signals: &[Signal]) -> Vec<(&str, Account<'_>)> {
    let mut accounts: Vec<(&str, Account)> = Vec::new();
    // Where each account is in `accounts`, and each of its visitors in its
    // `visitors` (one hash lookup a signal).
    let mut places: HashMap<&str, usize> = HashMap::new();
    let mut visitor_places: HashMap<(usize, &str), usize> = HashMap::new();
    let groups = Groups::of(signals);
    for s in signals.iter().filter(|s| s.kind != Kind::Group) {
        let Some((name, trusted)) = groups.placed(s) else {
            continue;
        };
        let place = *places.entry(name).or_insert_with(|| {
            accounts.push((
                name,
                Account {
                    first_seen: s.ts,
                    ..Account::default()
                },
            ));
            accounts.len() - 1
        });
        let Some((_, a)) = accounts.get_mut(place) else {
            continue;
        };
        a.last_seen = a.last_seen.max(s.ts);
        let at = *visitor_places
            .entry((place, &s.visitor))
            .or_insert_with(|| {
                a.visitors.push(Visitor {
                    id: &s.visitor,
                    ..Visitor::default()
                });
                a.visitors.len() - 1
            });
        let Some(v) = a.visitors.get_mut(at) else {
            continue;
        };
        match s.kind {
            Kind::Classified => {
                // Firmographic fit is a fact only from a trusted sender; a
                // client's (anything a browser sends) is a claim that never
                // overrides a verified fit.
                if trusted && !a.verified {
                    a.verified = true;
                    a.tier = None;
                    a.fit_score = None;
                    a.qualified = None;
                    a.failed_gates = &[];
                }
                if trusted || !a.verified {
                    a.tier = s.props.fit_tier.as_deref().or(a.tier);
                    a.fit_score = s.props.fit_score.or(a.fit_score);
                    if s.props.qualified.is_some() {
                        a.failed_gates = s.props.failed_gates.as_deref().unwrap_or_default();
                    }
                    a.qualified = s.props.qualified.or(a.qualified);
                }
                if !trusted {
                    a.claimed = Some((s.props.fit_tier.as_deref(), s.props.fit_score));
                }
                a.playbook = Some((&s.playbook_id, s.revision));
                if let Some(w) = s.props.seniority_weight {
                    v.weight = Some(w);
                }
                if let Some(e) = s.props.engagement_score {
                    v.points.push((s.ts, e));
                }
                if let Some(l) = s.props.lifecycle.as_deref() {
                    v.lifecycle = Some(l);
                }
                if let Some(r) = s
                    .props
                    .role
                    .as_deref()
                    .filter(|r| !r.is_empty() && *r != "unknown")
                {
                    a.roles.insert(r);
                }
            }
            Kind::Mql => {
                a.mql.insert(&s.visitor);
            }
            Kind::Sql => {
                a.sql.insert(&s.visitor);
            }
            Kind::Trigger => {
                if let Some(t) = s.props.trigger.as_deref() {
                    let e = a.triggers.entry(t).or_insert((0, s.ts));
                    e.0 += 1;
                    e.1 = e.1.max(s.ts);
                }
            }
            Kind::StageChanged | Kind::Recommended | Kind::Group => {}
        }
        // The history follows each visitor's own stage: two visitors in
        // different stages are not the account moving back and forth. An
        // entry when a visitor's stage changes, or when a visitor first seen
        // brings a stage no other visitor of the account is in (`from` null).
        if let Some(stage) = s.stage() {
            let own = a.visitors.get(at).and_then(|v| v.stage).map(|(x, _)| x);
            if own != Some(stage) {
                let held_by_another = a
                    .visitors
                    .iter()
                    .enumerate()
                    .any(|(i, x)| i != at && x.stage.is_some_and(|(st, _)| st == stage));
                if own.is_some() || !held_by_another {
                    a.history.push(Change {
                        at: s.ts,
                        stage,
                        from: own,
                        visitor: &s.visitor,
                    });
                }
                if let Some(v) = a.visitors.get_mut(at) {
                    v.stage = Some((stage, s.ts));
                }
            }
            a.stage = Some(stage);
        }
    }
    for (_, a) in &mut accounts {
        a.visitors.sort_unstable_by(|x, y| x.id.cmp(y.id));
    }
    accounts
}

/// The surge of an account at `as_of`: its engagement then and a window
/// before, and whether it is new (first seen within the window: its rise
/// from nothing is its arrival, not a surge).
struct Surge {
    now: f64,
    before: f64,
    new: bool,
}

impl Surge {
    fn of(a: &Account<'_>, as_of: i64, half_life_days: f64) -> Surge {
        let start = as_of - SURGE_WINDOW_MS;
        Surge {
            now: a.engagement_at(as_of, half_life_days),
            before: a.engagement_at(start, half_life_days),
            new: a.first_seen >= start,
        }
    }

    fn surging(&self) -> bool {
        !self.new
            && self.now - self.before >= SURGE_MIN_RISE
            && self.now >= SURGE_MIN_RATIO * self.before
    }
}

/// What `surge.surging` means, as the API says it.
fn surge_rule(half_life_days: f64) -> String {
    format!(
        "engagement (the sum over the account's visitors of their latest score, decayed to that time with the playbook's {half_life_days}-day engagement half-life, × seniority weight) rose by ≥ {SURGE_MIN_RISE} points and at least {SURGE_MIN_RATIO}× over the last 7 days, for an account seen before those 7 days (one first seen within them is reported as new, not surging)"
    )
}

/// Sort key of a row: qualified accounts first, then fit tier (verified fit
/// ahead of an asserted one in the same tier), engagement, latest activity
/// and name.
type RankKey<'a> = (bool, usize, f64, i64, &'a str);

/// The account view at `as_of` (the signals are already cut there), every account.
pub fn view(signals: &[Signal], meta: &PlaybookMeta, as_of: i64) -> Value {
    build(signals, meta, as_of, None)
}

/// An account ranked, with what its row and the filters read.
struct Ranked<'a> {
    key: RankKey<'a>,
    account: Account<'a>,
    surge: Surge,
}

/// The accounts ranked; a row's JSON is built only for the rows returned.
fn build(
    signals: &[Signal],
    meta: &PlaybookMeta,
    as_of: i64,
    selection: Option<&Selection>,
) -> Value {
    let half_life = meta.engagement_half_life_days;
    let mut rows: Vec<Ranked> = fold(signals)
        .into_iter()
        .map(|(name, a)| {
            let surge = Surge::of(&a, as_of, half_life);
            let key = (
                a.disqualified(),
                meta.tier_rank(a.tier) * 2 + usize::from(!a.verified),
                surge.now,
                a.last_seen,
                name,
            );
            Ranked {
                key,
                account: a,
                surge,
            }
        })
        .collect();
    rows.sort_by(|Ranked { key: x, .. }, Ranked { key: y, .. }| {
        x.0.cmp(&y.0)
            .then(x.1.cmp(&y.1))
            .then(y.2.total_cmp(&x.2))
            .then(y.3.cmp(&x.3))
            .then(x.4.cmp(y.4))
    });
    let total = rows.len();
    let surging = rows.iter().filter(|r| r.surge.surging()).count();
    let q = selection
        .and_then(|s| s.q.as_deref())
        .map(str::to_lowercase);
    let (offset, limit) = selection.map_or((0, None), |s| (s.offset, s.limit));
    let mut matching = 0;
    let mut list = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if !selection.is_none_or(|s| s.keeps(r, q.as_deref())) {
            continue;
        }
        if matching >= offset && limit.is_none_or(|l| list.len() < l) {
            list.push(row(i + 1, r, meta));
        }
        matching += 1;
    }
    let mut view = json!({
        "as_of": iso::format(as_of),
        "playbook": {"id": meta.id, "revision": meta.revision},
        "tiers": meta.tiers,
        "roles": labelled(&meta.roles),
        "stages": labelled(&meta.stages),
        "gates": labelled(&meta.gates),
        "engagement_half_life_days": half_life,
        "surge_rule": surge_rule(half_life),
        "total": total,
        "surging": surging,
        "accounts": list,
    });
    if let (Some(m), Some(_)) = (view.as_object_mut(), selection) {
        m.insert("matching".into(), json!(matching));
        m.insert("offset".into(), json!(offset));
        m.insert("limit".into(), json!(limit));
    }
    view
}

/// One account's row of the view, at its rank.
fn row(rank: usize, r: &Ranked, meta: &PlaybookMeta) -> Value {
    let Ranked {
        key,
        account: a,
        surge,
    } = r;
    let name = &key.4;
    let now = surge.now;
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
                "label": meta.triggers.get(&**id),
                "count": count,
                "last_at": iso::format(*last),
            })
        })
        .collect();
    let skip = a.history.len().saturating_sub(HISTORY_LIMIT);
    json!({
        "rank": rank,
        "account": name,
        "fit_tier": a.tier,
        "fit_score": a.fit_score,
        "qualified": a.qualified,
        "failed_gates": a.failed_gates,
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
        "stage_history": a.history.iter().skip(skip).map(|c| json!({
            "at": iso::format(c.at),
            "stage": c.stage,
            "from": c.from,
            "visitor": c.visitor,
        })).collect::<Vec<_>>(),
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
            "surging": surge.surging(),
            "new": surge.new,
            "engagement": round(now, 1),
            "engagement_7d_ago": round(surge.before, 1),
            "rise": round(now - surge.before, 1),
        },
        "triggers": triggers,
        "playbook": a.playbook.as_ref().map(|(id, rev)| json!({"id": id, "revision": rev})),
    })
}

/// Which accounts a request asks for: the filters, then a page of the rows
/// they keep. Ranks stay those of the whole ranking (a filtered row is still
/// the 57th account), and `total` and `surging` still count every account.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A fit tier id (`fit_tier`).
    pub tier: Option<String>,
    /// `false`: accounts a gate disqualified; `true`: the others.
    pub qualified: Option<bool>,
    /// A part of the account name, in any case.
    pub q: Option<String>,
    pub offset: usize,
    pub limit: Option<usize>,
}

impl Selection {
    fn keeps(&self, r: &Ranked, q: Option<&str>) -> bool {
        let tier_ok = self
            .tier
            .as_deref()
            .is_none_or(|t| r.account.tier == Some(t));
        // As the ranking reads it: only a failed gate disqualifies.
        let qualified_ok = self
            .qualified
            .is_none_or(|want| want != r.account.disqualified());
        let name_ok = q.is_none_or(|q| r.key.4.to_lowercase().contains(q));
        tier_ok && qualified_ok && name_ok
    }

    /// The account view with the selected page of accounts, and `matching`
    /// (how many the filters keep), `offset` and `limit` to page through them.
    pub fn view(&self, signals: &[Signal], meta: &PlaybookMeta, as_of: i64) -> Value {
        build(signals, meta, as_of, Some(self))
    }
}

/// Playbook (id, label) pairs as the API lists them, for clients to name ids.
fn labelled(pairs: &[(String, String)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(id, label)| json!({"id": id, "label": label}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(visitor: &str, kind: Kind, ts: i64, props: Value) -> Signal {
        Signal {
            row: 0,
            visitor: visitor.into(),
            kind,
            account: props["account"].as_str().map(Arc::from),
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
        // (30 × 2 + 10) a day later, 10 three days later (30-day half-life).
        assert_eq!(a["engagement"], 68.4);
        assert_eq!(a["surge"]["engagement_7d_ago"], 9.3);
        assert_eq!(a["surge"]["surging"], true);
        assert_eq!(a["surge"]["new"], false);
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

    /// A Visitor Classified signal of `account` at `ts` with this engagement.
    fn engaged(visitor: &str, account: &str, ts: i64, engagement: f64) -> Signal {
        sig(
            visitor,
            Kind::Classified,
            ts,
            json!({"account": account, "fit_tier": "A", "engagement_score": engagement}),
        )
    }

    #[test]
    fn engagement_fades_with_the_playbooks_half_life() {
        let meta = PlaybookMeta {
            tiers: vec!["A".into()],
            engagement_half_life_days: 30.0,
            ..PlaybookMeta::default()
        };
        let d = DAY_MS;
        let s = vec![
            engaged("q", "quiet.com", 0, 90.0),
            engaged("b", "busy.com", 199 * d, 30.0),
        ];
        let at = |t: i64| view(&s, &meta, t);
        // The day it was reported: the score as it was.
        assert_eq!(at(0)["accounts"][0]["engagement"], 90.0);
        // One half-life later, half; 200 days later, next to nothing, and the
        // account active yesterday ranks first.
        assert_eq!(at(30 * d)["accounts"][0]["engagement"], 45.0);
        let late = at(200 * d);
        assert_eq!(late["accounts"][0]["account"], "busy.com", "{late}");
        let quiet = &late["accounts"][1];
        assert_eq!(quiet["account"], "quiet.com");
        assert!(quiet["engagement"].as_f64().unwrap() < 1.0, "{quiet}");
        assert_eq!(late["engagement_half_life_days"], 30.0);
        // The half-life is the playbook's.
        let fast = PlaybookMeta {
            engagement_half_life_days: 10.0,
            ..meta.clone()
        };
        assert_eq!(view(&s, &fast, 10 * d)["accounts"][0]["engagement"], 45.0);
    }

    #[test]
    fn a_surge_is_measured_on_decayed_engagement_and_not_for_a_new_account() {
        let meta = PlaybookMeta {
            tiers: vec!["A".into()],
            engagement_half_life_days: 7.0,
            ..PlaybookMeta::default()
        };
        let d = DAY_MS;
        let s = vec![
            // 80 a month before, then back at 50: undecayed, a fall from 80;
            // decayed, 80 had faded to 5 a week ago, and 50 now is a surge.
            engaged("r", "back.com", 0, 80.0),
            engaged("r", "back.com", 35 * d, 50.0),
            // First seen three days ago at 60: new, not surging.
            engaged("n", "new.com", 32 * d, 60.0),
        ];
        let v = view(&s, &meta, 35 * d);
        let surge = |name: &str| {
            v["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["account"] == name)
                .unwrap()["surge"]
                .clone()
        };
        let back = surge("back.com");
        assert_eq!(back["engagement_7d_ago"], 5.0, "{back}");
        assert_eq!(back["surging"], true, "{back}");
        assert_eq!(back["new"], false, "{back}");
        let new = surge("new.com");
        assert_eq!(new["new"], true, "{new}");
        assert_eq!(new["surging"], false, "{new}");
        assert!(new["rise"].as_f64().unwrap() >= 20.0, "{new}");
        assert_eq!(v["surging"], 1);
        let rule = v["surge_rule"].as_str().unwrap();
        assert!(rule.contains("7-day engagement half-life"), "{rule}");
        assert!(rule.contains("seen before those 7 days"), "{rule}");
    }

    #[test]
    fn disqualified_accounts_rank_after_every_qualified_one_with_their_gates() {
        let meta = PlaybookMeta {
            tiers: vec!["A".into(), "B".into()],
            ..PlaybookMeta::default()
        };
        let classified = |visitor: &str, account: &str, tier: &str, e: f64, qualified: Value| {
            let mut p = json!({"account": account, "fit_tier": tier, "engagement_score": e});
            if let Some(q) = qualified.as_bool() {
                p["qualified"] = json!(q);
                p["failed_gates"] = if q { json!([]) } else { json!(["competitors"]) };
            }
            sig(visitor, Kind::Classified, 0, p)
        };
        let s = vec![
            classified("r", "rival.com", "A", 99.0, json!(false)),
            classified("b", "b-tier.com", "B", 5.0, json!(true)),
            classified("a", "a-tier.com", "A", 10.0, json!(true)),
            classified("u", "unknown.com", "B", 1.0, Value::Null),
        ];
        let v = view(&s, &meta, 0);
        let order: Vec<&str> = v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["account"].as_str().unwrap())
            .collect();
        // Qualified (or not said) by tier and engagement; the competitor last.
        assert_eq!(
            order,
            ["a-tier.com", "b-tier.com", "unknown.com", "rival.com"]
        );
        let rival = &v["accounts"][3];
        assert_eq!(rival["qualified"], false);
        assert_eq!(rival["failed_gates"], json!(["competitors"]));
        assert_eq!(v["accounts"][0]["failed_gates"], json!([]));
        // Qualified again later (a gate's list changed): back among prospects.
        let mut s = s;
        s.push(classified("r", "rival.com", "A", 99.0, json!(true)));
        let v = view(&s, &meta, 0);
        assert_eq!(v["accounts"][0]["account"], "rival.com");
        assert_eq!(v["accounts"][0]["failed_gates"], json!([]));
    }

    /// Signals that name no account (the engine did not know the company)
    /// are about the account of their visitor's latest group call up to the
    /// view's time; a signal's own account wins, and a group call is not a
    /// signal (it adds no activity).
    #[test]
    fn group_calls_link_visitors_to_accounts() {
        let meta = PlaybookMeta::default();
        let classified = |v: &str, ts: i64, account: Option<&str>| {
            let mut p = json!({"stage": "s1", "engagement_score": 10.0, "fit_tier": "A"});
            if let Some(a) = account {
                p["account"] = json!(a);
            }
            sig(v, Kind::Classified, ts, p)
        };
        let group =
            |v: &str, ts: i64, account: &str| sig(v, Kind::Group, ts, json!({"account": account}));
        let s = vec![
            classified("anon", 10, None),
            group("anon", 20, "old.com"),
            classified("known", 30, Some("own.com")),
            group("known", 40, "other.com"),
            group("anon", 50, "acme.com"),
            classified("anon", 60, None),
            group("anon", 500, "later.com"),
        ];
        let names = |v: &Value| -> Vec<String> {
            let mut n: Vec<String> = v["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["account"].as_str().unwrap().to_string())
                .collect();
            n.sort();
            n
        };
        // At 100 the visitor's latest group call is acme.com's: both its
        // signals are acme.com's, the one before the call too.
        let v = view(&s[..6], &meta, 100);
        assert_eq!(names(&v), ["acme.com", "own.com"]);
        let acme = &v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == "acme.com")
            .unwrap()
            .clone();
        assert_eq!(acme["visitors"], 1);
        assert_eq!(acme["first_seen"], iso::format(10));
        assert_eq!(acme["last_seen"], iso::format(60));
        // A later call moves them, once the view reads it.
        assert_eq!(names(&view(&s, &meta, 600)), ["later.com", "own.com"]);
    }
    /// A group call from a browser (not a trusted key) cannot make another
    /// visitor's verified fit the fit of a verified account it names; a
    /// trusted call can place a verified signal.
    #[test]
    fn a_browsers_group_call_places_no_verified_fit() {
        let meta = PlaybookMeta {
            tiers: vec!["A".into(), "D".into()],
            ..PlaybookMeta::default()
        };
        let verified = |mut s: Signal| {
            s.trusted = true;
            s
        };
        let fit = |tier: &str, qualified: bool, account: Option<&str>| {
            let mut p = json!({"stage": "s1", "fit_tier": tier, "qualified": qualified});
            if let Some(a) = account {
                p["account"] = json!(a);
            }
            p
        };
        let mut s = vec![
            verified(sig(
                "buyer",
                Kind::Classified,
                10,
                fit("A", true, Some("victim.com")),
            )),
            verified(sig("attacker", Kind::Classified, 20, fit("D", false, None))),
            sig(
                "attacker",
                Kind::Group,
                30,
                json!({"account": "victim.com"}),
            ),
        ];
        let row = |s: &[Signal]| view(s, &meta, 100)["accounts"][0].clone();
        let r = row(&s);
        assert_eq!(
            (
                &r["account"],
                &r["fit_tier"],
                &r["qualified"],
                &r["firmographics"]
            ),
            (
                &json!("victim.com"),
                &json!("A"),
                &json!(true),
                &json!("verified")
            )
        );
        assert_eq!(r["visitors"], 2, "the visitor is still placed there");
        // The same call with a trusted key places the verified fit.
        s[2].trusted = true;
        let r = row(&s);
        assert_eq!(
            (&r["fit_tier"], &r["qualified"]),
            (&json!("D"), &json!(false))
        );
    }
}
