//! Next-best content per slot: eligibility → affinity to stage, next stage,
//! role, industry, topics and priority → consumed content last → diversity
//! caps → deterministic Thompson exploration on the shortlist → holdout.

use crate::decay::round_to;
use crate::decision::{Pick, SlotResult};
use crate::engine::{bit32, bit64, Content, Engine, Slot};
use crate::explore::Rng;
use crate::hash::fnv1a32;
use crate::state::VisitorState;
use serde_json::Value;

/// What ranking needs to know about the visitor.
pub struct Visitor<'a> {
    /// Visitor id (exploration seed).
    pub id: &'a str,
    /// Decision sequence number (exploration seed).
    pub seq: u32,
    /// Stage probabilities by index.
    pub stage_p: &'a [f64],
    /// Reported stage index.
    pub stage: usize,
    /// Stages possible for this visitor, by index.
    pub stage_ok: &'a [bool],
    /// Role probabilities by index.
    pub role_p: &'a [f64],
    /// Company industry, lower-cased.
    pub industry: Option<String>,
    /// Full attribute document.
    pub attrs: &'a Value,
    /// The page's own content (never recommended).
    pub page: Option<usize>,
    /// Now (ms).
    pub now: u64,
    /// The next-best action's call-to-action content.
    pub action_cta: Option<usize>,
}

/// A candidate while ranking: small, so sorting moves 32 bytes, not the
/// reasons (recomputed for the few picks only).
#[derive(Clone, Copy)]
struct Scored {
    ix: usize,
    base: f64,
    score: f64,
    consumed: bool,
}

/// Fills the requested slots. Returns the results and whether exploration changed a pick.
pub fn recommend(
    engine: &Engine,
    s: &VisitorState,
    v: &Visitor<'_>,
    slots: &[&Slot],
    holdout: bool,
) -> (Vec<SlotResult>, bool) {
    let mut used: Vec<usize> = Vec::new();
    let mut consumed: Vec<bool> = Vec::new();
    let mut explored = false;
    let mut out = Vec::new();
    // Only content some requested slot can show is checked (conditions cost).
    let wanted = slots.iter().fold(0u64, |m, s| m | s.format_mask);
    let eligible: Vec<bool> = engine
        .content
        .iter()
        .enumerate()
        .map(|(i, c)| {
            wanted & bit64(c.format) != 0 && Some(i) != v.page && is_eligible(engine, c, v)
        })
        .collect();
    let topic_total: i64 = s.topics.iter().fold(0i64, |a, t| a.saturating_add(t.milli));
    // Interest by topic index, looked up once per decision.
    let interest: Vec<i64> = engine
        .topics
        .iter()
        .map(|name| crate::state::evidence(&s.topics, fnv1a32(name.as_bytes())))
        .collect();
    for slot in slots {
        if holdout {
            out.push(default_result(engine, slot, "holdout"));
            continue;
        }
        let mut cands: Vec<Scored> = engine
            .content
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                slot.format_mask & bit64(c.format) != 0
                    && eligible.get(*i).copied().unwrap_or(false)
                    && !used.contains(i)
            })
            .map(|(i, c)| {
                let (base, _) = score(engine, s, v, i, c, &interest, topic_total);
                Scored {
                    ix: i,
                    base,
                    score: base,
                    consumed: s.consumed.contains(&c.hash),
                }
            })
            .collect();
        if cands.is_empty() {
            out.push(default_result(engine, slot, "nothing eligible"));
            continue;
        }
        // Unconsumed first, then by score, then catalogue order: fully deterministic.
        let order = |a: &Scored, b: &Scored| {
            a.consumed
                .cmp(&b.consumed)
                .then(b.score.total_cmp(&a.score))
                .then(a.ix.cmp(&b.ix))
        };
        cands.iter_mut().for_each(|c| c.score = c.base);
        cands.sort_unstable_by(order);
        let exploit: Vec<usize> = cands.iter().map(|c| c.ix).collect();
        if engine.recommend.explore {
            let k = engine.recommend.shortlist.max(slot.count);
            for c in cands.iter_mut().take(k) {
                let item = engine.content.get(c.ix);
                let (a, b, h) = item
                    .map(|it| (it.alpha, it.beta, it.hash))
                    .unwrap_or((1.0, 1.0, 0));
                let draw = Rng::for_pick(v.id, v.seq, h).beta(a, b);
                let delta = engine.recommend.spec.exploration.weight * (draw - a / (a + b));
                c.score = c.base + delta;
            }
            cands.sort_unstable_by(order);
        }
        // Consumed flags by catalogue index, for the diversity passes.
        consumed.clear();
        consumed.resize(engine.content.len(), false);
        for c in &cands {
            if let Some(x) = consumed.get_mut(c.ix) {
                *x = c.consumed;
            }
        }
        let order: Vec<usize> = cands.iter().map(|c| c.ix).collect();
        let picked = diversify_ix(engine, &order, &consumed, slot.count);
        let exploit_top: Vec<usize> = diversify_ix(engine, &exploit, &consumed, slot.count);
        if picked != exploit_top {
            explored = true;
        }
        let picks: Vec<Pick> = picked
            .iter()
            .filter_map(|ix| cands.iter().find(|c| c.ix == *ix))
            .filter_map(|c| {
                engine.content.get(c.ix).map(|it| {
                    let (_, mut reasons) = score(engine, s, v, c.ix, it, &interest, topic_total);
                    let delta = c.score - c.base;
                    if delta.abs() >= 0.005 {
                        reasons.push(delta, Reason::Explore(delta));
                    }
                    to_pick(engine, v, it, c.score, &reasons)
                })
            })
            .collect();
        used.extend(picked.iter().copied());
        out.push(SlotResult {
            slot: slot.id.clone(),
            picks,
            default: false,
        });
    }
    (out, explored)
}

fn is_eligible(engine: &Engine, c: &Content, v: &Visitor<'_>) -> bool {
    if c.start_ms.is_some_and(|s| v.now < s) || c.end_ms.is_some_and(|e| v.now >= e) {
        return false;
    }
    // Content only for stages this visitor cannot be in (customer content for a prospect).
    if c.stage_count > 0
        && !v
            .stage_ok
            .iter()
            .enumerate()
            .any(|(i, ok)| *ok && c.stage_mask & bit32(i) != 0)
    {
        return false;
    }
    if c.gated {
        if let Some(g) = &engine.recommend.gated_requires {
            if !g.eval(v.attrs, &engine.lists) {
                return false;
            }
        }
    }
    c.when
        .as_ref()
        .map(|w| w.eval(v.attrs, &engine.lists))
        .unwrap_or(true)
}

fn score(
    engine: &Engine,
    s: &VisitorState,
    v: &Visitor<'_>,
    ix: usize,
    c: &Content,
    interest: &[i64],
    topic_total: i64,
) -> (f64, Reasons) {
    let r = &engine.recommend.spec;
    let mut reasons = Reasons::default();
    let p = |i: usize| v.stage_p.get(i).copied().unwrap_or(0.0);
    if c.stage_count > 0 {
        let (mut sum, mut best) = (0.0, (0.0, 0usize));
        for i in (0..engine.stages.len()).filter(|i| c.stage_mask & bit32(*i) != 0) {
            sum += p(i);
            if p(i) > best.0 {
                best = (p(i), i);
            }
        }
        let aff = (best.0 + sum / f64::from(c.stage_count)) / 2.0;
        reasons.push(r.stage_weight * aff, Reason::Stage(best.1, aff));
        if let Some(next) = engine.stages.get(v.stage).and_then(|st| st.next) {
            if c.stage_mask & bit32(next) != 0 && next != v.stage {
                reasons.push(r.next_stage_weight * p(v.stage), Reason::NextStage(next));
            }
        }
    }
    if c.role_count > 0 {
        let best = (0..engine.roles.len())
            .filter(|i| c.role_mask & bit32(*i) != 0)
            .map(|i| (v.role_p.get(i).copied().unwrap_or(0.0), i))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
        reasons.push(r.role_weight * best.0, Reason::Role(best.1, best.0));
    }
    if let (Some(ind), false) = (&v.industry, c.industries.is_empty()) {
        if c.industries.iter().any(|x| x == ind) {
            reasons.push(r.industry_weight, Reason::Industry);
        } else {
            reasons.push(-0.5 * r.industry_weight, Reason::OtherIndustry);
        }
    }
    if topic_total > 0 && !c.topics.is_empty() {
        let share: i64 = c
            .topics
            .iter()
            .filter_map(|t| interest.get(*t))
            .fold(0i64, |a, x| a.saturating_add(*x));
        let share = (share as f64 / topic_total as f64).min(1.0);
        if share > 0.0 {
            reasons.push(r.topic_weight * share, Reason::Topics(share));
        }
    }
    if c.priority > 0.0 {
        reasons.push(r.priority_weight * c.priority, Reason::Priority(c.priority));
    }
    if v.action_cta == Some(ix) {
        reasons.push(r.action_weight, Reason::Action);
    }
    if s.consumed.contains(&c.hash) {
        reasons.push(0.0, Reason::Consumed);
    }
    let base: f64 = reasons.iter().map(|(w, _)| w).sum();
    (base, reasons)
}

/// Why a pick scored what it did; rendered to text only for the picks.
#[derive(Clone, Copy, Default)]
enum Reason {
    #[default]
    None,
    Stage(usize, f64),
    NextStage(usize),
    Role(usize, f64),
    Industry,
    OtherIndustry,
    Topics(f64),
    Priority(f64),
    Consumed,
    Explore(f64),
    Action,
}

/// A fixed-size list of weighted reasons (no allocation per candidate).
#[derive(Clone, Copy, Default)]
struct Reasons {
    items: [(f64, Reason); 10],
    len: usize,
}

impl Reasons {
    fn push(&mut self, weight: f64, r: Reason) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (weight, r);
            self.len += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = &(f64, Reason)> {
        self.items.iter().take(self.len)
    }
}

fn render(engine: &Engine, v: &Visitor<'_>, r: Reason) -> String {
    let stage = |i: usize| engine.stages.get(i).map(|s| s.id.as_str()).unwrap_or("");
    match r {
        Reason::None => String::new(),
        Reason::Stage(i, aff) => format!("stage {} {:.2}", stage(i), aff),
        Reason::NextStage(i) => format!("next stage {}", stage(i)),
        Reason::Role(i, p) => format!(
            "role {} {:.2}",
            engine.roles.get(i).map(|x| x.id.as_str()).unwrap_or(""),
            p
        ),
        Reason::Industry => format!("industry {}", v.industry.as_deref().unwrap_or("")),
        Reason::OtherIndustry => "other industry".to_string(),
        Reason::Topics(share) => format!("topics {share:.2}"),
        Reason::Priority(p) => format!("priority {p:.2}"),
        Reason::Consumed => "already seen (nothing else eligible)".to_string(),
        Reason::Explore(d) => format!("exploration {d:+.2}"),
        Reason::Action => "next-best action".to_string(),
    }
}

/// Takes `count` items in order, respecting the per-format and per-topic caps,
/// relaxing them only when the slot would otherwise stay short. `consumed` is
/// indexed by catalogue position.
fn diversify_ix(engine: &Engine, order: &[usize], consumed: &[bool], count: usize) -> Vec<usize> {
    let consumed = |ix: usize| consumed.get(ix).copied().unwrap_or(false);
    let mut picked: Vec<usize> = Vec::new();
    let mut formats: Vec<(usize, u32)> = Vec::new();
    let mut topics: Vec<(usize, u32)> = Vec::new();
    let bump = |list: &mut Vec<(usize, u32)>, k: usize| match list.iter_mut().find(|(x, _)| *x == k)
    {
        Some((_, n)) => *n += 1,
        None => list.push((k, 1)),
    };
    let count_of = |list: &[(usize, u32)], k: usize| {
        list.iter()
            .find(|(x, _)| *x == k)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let unconsumed_exist = order.iter().any(|ix| !consumed(*ix));
    for pass in 0..2 {
        for ix in order {
            if picked.len() >= count {
                return picked;
            }
            if picked.contains(ix) || (unconsumed_exist && consumed(*ix) && pass == 0) {
                continue;
            }
            let Some(c) = engine.content.get(*ix) else {
                continue;
            };
            let capped = count_of(&formats, c.format) >= engine.recommend.spec.max_per_format
                || c.topics
                    .iter()
                    .any(|t| count_of(&topics, *t) >= engine.recommend.spec.max_per_topic);
            if capped && pass == 0 {
                continue;
            }
            picked.push(*ix);
            bump(&mut formats, c.format);
            for t in &c.topics {
                bump(&mut topics, *t);
            }
        }
    }
    picked
}

fn to_pick(engine: &Engine, v: &Visitor<'_>, it: &Content, score: f64, c: &Reasons) -> Pick {
    // Largest contribution first; equal ones keep their order (a total order, so
    // the unstable sort gives the same result on every target).
    let mut reasons: Vec<(usize, (f64, Reason))> = c.iter().copied().enumerate().collect();
    reasons.sort_unstable_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let reasons: Vec<(f64, Reason)> = reasons.into_iter().map(|(_, r)| r).collect();
    pick(
        engine,
        it,
        round_to(score, 4),
        reasons
            .into_iter()
            .map(|(_, r)| render(engine, v, r))
            .collect(),
    )
}

fn pick(engine: &Engine, it: &Content, score: f64, reasons: Vec<String>) -> Pick {
    Pick {
        id: it.id.clone(),
        title: it.title.clone(),
        url: it.url.clone(),
        format: engine.formats.get(it.format).cloned().unwrap_or_default(),
        cta: it.cta.clone(),
        score,
        reasons,
    }
}

fn default_result(engine: &Engine, slot: &Slot, why: &str) -> SlotResult {
    let picks = engine
        .content
        .get(slot.default)
        .map(|it| pick(engine, it, 0.0, vec![format!("slot default ({why})")]))
        .into_iter()
        .collect();
    SlotResult {
        slot: slot.id.clone(),
        picks,
        default: true,
    }
}
