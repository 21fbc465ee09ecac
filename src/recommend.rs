//! Next-best content per slot: eligibility → affinity to stage, next stage,
//! role, industry, topics and priority → consumed content last → diversity
//! caps → deterministic Thompson exploration on the shortlist → holdout.

use crate::decay::round_to;
use crate::decision::{Pick, SlotResult};
use crate::engine::{bit32, bit64, Content, Engine, Slot};
use crate::explore::Rng;
use crate::hash::fnv1a32;
use crate::state::VisitorState;

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
    pub attrs: &'a crate::attrs::Attrs<'a>,
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
    let mut explored = false;
    let mut out = Vec::new();
    // Only content some requested slot can show is checked (conditions cost).
    let wanted = slots.iter().fold(0u64, |m, s| m | s.format_mask);
    let topic_total: i64 = s.topics.iter().fold(0i64, |a, t| a.saturating_add(t.milli));
    // Interest by topic index, looked up once per decision.
    let interest: Vec<i64> = engine
        .topics
        .iter()
        .map(|name| crate::state::evidence(&s.topics, fnv1a32(name.as_bytes())))
        .collect();
    // A candidate's score does not depend on the slot: every eligible item is
    // scored once and the catalogue ranked once; a slot takes the items of its
    // formats in that order (the order of a subset of a ranked list).
    let mut ranked: Vec<Scored> = Vec::new();
    let mut consumed: Vec<bool> = vec![false; engine.content.len()];
    if !holdout {
        let mut seen_hashes = s.consumed.clone();
        crate::sort::sort(&mut seen_hashes);
        for (i, c) in engine.content.iter().enumerate() {
            if wanted & bit64(c.format) == 0 || Some(i) == v.page || !is_eligible(engine, c, v) {
                continue;
            }
            let seen = seen_hashes.binary_search(&c.hash).is_ok();
            let base = base_score(engine, v, Item { ix: i, c, seen }, &interest, topic_total);
            if let Some(x) = consumed.get_mut(i) {
                *x = seen;
            }
            ranked.push(Scored {
                ix: i,
                base,
                score: base,
                consumed: seen,
            });
        }
        // The one hot sort (the whole eligible catalogue) keeps the standard
        // library's: through `crate::sort` it costs 9% more on 500 items.
        ranked.sort_unstable_by(order);
    }
    for slot in slots {
        if holdout {
            out.push(default_result(engine, slot, "holdout"));
            continue;
        }
        let mut cands: Vec<Scored> = ranked
            .iter()
            .filter(|c| {
                engine
                    .content
                    .get(c.ix)
                    .is_some_and(|it| slot.format_mask & bit64(it.format) != 0)
                    && !used.contains(&c.ix)
            })
            .copied()
            .collect();
        if cands.is_empty() {
            out.push(default_result(engine, slot, "nothing eligible"));
            continue;
        }
        let exploit: Vec<usize> = cands.iter().map(|c| c.ix).collect();
        if engine.recommend.explore {
            let k = engine.recommend.shortlist.max(slot.count).min(cands.len());
            for c in cands.iter_mut().take(k) {
                let item = engine.content.get(c.ix);
                let (a, b, h) = item
                    .map(|it| (it.alpha, it.beta, it.hash))
                    .unwrap_or((1.0, 1.0, 0));
                let draw = Rng::for_pick(v.id, v.seq, h).beta(a, b);
                let delta = engine.recommend.spec.exploration.weight * (draw - a / (a + b));
                c.score = c.base + delta;
            }
            cands = rerank(cands, k);
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
                    let item = Item {
                        ix: c.ix,
                        c: it,
                        seen: c.consumed,
                    };
                    let mut reasons = reasons(engine, v, item, &interest, topic_total);
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

/// Unconsumed first, then by score, then catalogue order: a total order, so
/// every sort gives the same result on every target.
fn order(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    a.consumed
        .cmp(&b.consumed)
        .then(b.score.total_cmp(&a.score))
        .then(a.ix.cmp(&b.ix))
}

/// Restores the order after the first `k` candidates' scores changed: those
/// are sorted and merged with the rest, which is still in order (the same
/// result as sorting the whole list).
fn rerank(cands: Vec<Scored>, k: usize) -> Vec<Scored> {
    let mut head: Vec<Scored> = cands.iter().take(k).copied().collect();
    head.sort_unstable_by(order);
    let mut merged = Vec::with_capacity(cands.len());
    let (mut h, mut t) = (
        head.into_iter().peekable(),
        cands.into_iter().skip(k).peekable(),
    );
    loop {
        let next = match (h.peek(), t.peek()) {
            (Some(a), Some(b)) if order(a, b) != std::cmp::Ordering::Greater => h.next(),
            (Some(_), Some(_)) => t.next(),
            (Some(_), None) => h.next(),
            (None, _) => t.next(),
        };
        match next {
            Some(c) => merged.push(c),
            None => return merged,
        }
    }
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
            if !g.holds(v.attrs, &engine.lists) {
                return false;
            }
        }
    }
    c.when
        .as_ref()
        .map(|w| w.holds(v.attrs, &engine.lists))
        .unwrap_or(true)
}

/// What ranking knows about one candidate: the catalogue item, its index,
/// whether the visitor already consumed it.
#[derive(Clone, Copy)]
struct Item<'c> {
    ix: usize,
    c: &'c Content,
    seen: bool,
}

/// A candidate's base score: the sum of its weighted reasons (summed as the
/// reasons of a pick are, so the two always agree), without building them.
fn base_score(engine: &Engine, v: &Visitor<'_>, it: Item<'_>, interest: &[i64], total: i64) -> f64 {
    let mut w = [0.0f64; REASONS];
    let mut n = 0;
    contributions(engine, v, it, interest, total, &mut |x, _| {
        if let Some(slot) = w.get_mut(n) {
            *slot = x;
            n += 1;
        }
    });
    w.iter().take(n).sum()
}

/// A pick's weighted reasons.
fn reasons(
    engine: &Engine,
    v: &Visitor<'_>,
    it: Item<'_>,
    interest: &[i64],
    total: i64,
) -> Reasons {
    let mut r = Reasons::default();
    contributions(engine, v, it, interest, total, &mut |x, why| r.push(x, why));
    r
}

/// Each weighted reason of a candidate, in a fixed order.
fn contributions(
    engine: &Engine,
    v: &Visitor<'_>,
    Item { ix, c, seen }: Item<'_>,
    interest: &[i64],
    topic_total: i64,
    push: &mut impl FnMut(f64, Reason),
) {
    let r = &engine.recommend.spec;
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
        push(r.stage_weight * aff, Reason::Stage(best.1, aff));
        if let Some(next) = engine.stages.get(v.stage).and_then(|st| st.next) {
            if c.stage_mask & bit32(next) != 0 && next != v.stage {
                push(r.next_stage_weight * p(v.stage), Reason::NextStage(next));
            }
        }
    }
    if c.role_count > 0 {
        let best = (0..engine.roles.len())
            .filter(|i| c.role_mask & bit32(*i) != 0)
            .map(|i| (v.role_p.get(i).copied().unwrap_or(0.0), i))
            .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
        push(r.role_weight * best.0, Reason::Role(best.1, best.0));
    }
    if let (Some(ind), false) = (&v.industry, c.industries.is_empty()) {
        if c.industries.iter().any(|x| x == ind) {
            push(r.industry_weight, Reason::Industry);
        } else {
            push(-0.5 * r.industry_weight, Reason::OtherIndustry);
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
            push(r.topic_weight * share, Reason::Topics(share));
        }
    }
    if c.priority > 0.0 {
        push(r.priority_weight * c.priority, Reason::Priority(c.priority));
    }
    if v.action_cta == Some(ix) {
        push(r.action_weight, Reason::Action);
    }
    if seen {
        push(0.0, Reason::Consumed);
    }
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

/// At most this many reasons per pick (eight kinds, plus exploration).
const REASONS: usize = 10;

/// A fixed-size list of weighted reasons (no allocation per candidate).
#[derive(Clone, Copy, Default)]
struct Reasons {
    items: [(f64, Reason); REASONS],
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
    // Built by hand (see `fixed`): `format!` cost ~1,200 instructions a reason.
    let text = |parts: &[&str], n: Option<(f64, bool)>| {
        let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 8);
        parts.iter().for_each(|p| s.push_str(p));
        if let Some((x, plus)) = n {
            crate::fixed::push2(&mut s, x, plus);
        }
        s
    };
    match r {
        Reason::None => String::new(),
        Reason::Stage(i, aff) => text(&["stage ", stage(i), " "], Some((aff, false))),
        Reason::NextStage(i) => text(&["next stage ", stage(i)], None),
        Reason::Role(i, p) => text(
            &[
                "role ",
                engine.roles.get(i).map(|x| x.id.as_str()).unwrap_or(""),
                " ",
            ],
            Some((p, false)),
        ),
        Reason::Industry => text(&["industry ", v.industry.as_deref().unwrap_or("")], None),
        Reason::OtherIndustry => "other industry".to_string(),
        Reason::Topics(share) => text(&["topics "], Some((share, false))),
        Reason::Priority(p) => text(&["priority "], Some((p, false))),
        Reason::Consumed => "already seen (nothing else eligible)".to_string(),
        Reason::Explore(d) => text(&["exploration "], Some((d, true))),
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
    crate::sort::sort_by(&mut reasons, |a, b| {
        b.1 .0.total_cmp(&a.1 .0).then(a.0.cmp(&b.0))
    });
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

#[cfg(test)]
mod tests {
    use super::{order, rerank, Scored};

    /// Re-ranking after the head's scores changed gives exactly the full sort,
    /// ties and consumed items included.
    #[test]
    fn rerank_equals_a_full_sort() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..500 {
            let n = (next() % 40) as usize + 1;
            let mut cands: Vec<Scored> = (0..n)
                .map(|ix| {
                    let base = (next() % 8) as f64 / 4.0;
                    Scored {
                        ix,
                        base,
                        score: base,
                        consumed: next() % 5 == 0,
                    }
                })
                .collect();
            cands.sort_unstable_by(order);
            let k = (next() as usize % n) + 1;
            for c in cands.iter_mut().take(k) {
                c.score = c.base + ((next() % 9) as f64 - 4.0) / 8.0;
            }
            let mut full = cands.clone();
            full.sort_unstable_by(order);
            let fast = rerank(cands, k);
            let key = |v: &[Scored]| {
                v.iter()
                    .map(|c| (c.ix, c.score.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(key(&fast), key(&full), "round {round}, n {n}, k {k}");
        }
    }
}
