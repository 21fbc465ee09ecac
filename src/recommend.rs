//! Next-best content per slot: eligibility → affinity to stage, next stage,
//! role, industry, topics and priority → consumed content last → each slot's
//! head of the ranking → deterministic Thompson exploration on the shortlist
//! → diversity caps → holdout.

use crate::decay::round_to;
use crate::decision::{Pick, Reasons, SlotResult, MAX_REASONS};
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

/// A candidate while ranking: small (its reasons are recomputed for the few
/// picks only); the ranking itself moves 16-byte keys (`rank_key`).
#[derive(Clone, Copy)]
struct Scored {
    ix: usize,
    base: f64,
    score: f64,
    consumed: bool,
    /// The item's format as a bit (slots take formats by mask).
    format_bit: u64,
}

/// Fills the requested slots. Returns the results and whether exploration changed a pick.
pub fn recommend(
    engine: &Engine,
    s: &VisitorState,
    v: &Visitor<'_>,
    slots: &[&Slot],
    holdout: bool,
) -> (Vec<SlotResult>, bool) {
    // Catalogue positions an earlier slot of this decision took.
    let mut taken: Vec<bool> = vec![false; engine.content.len()];
    let mut explored = false;
    let mut out = Vec::with_capacity(slots.len());
    // Only content some requested slot can show is checked (conditions cost).
    let wanted = slots.iter().fold(0u64, |m, s| m | s.format_mask);
    let mut cx = Context {
        topic_total: s.topics.iter().fold(0i64, |a, t| a.saturating_add(t.micro)),
        // Interest by topic index, looked up once per decision.
        interest: engine
            .topics
            .iter()
            .map(|name| crate::state::evidence(&s.topics, fnv1a32(name.as_bytes())))
            .collect(),
        stage_terms: Memo::new(),
        role_terms: Memo::new(),
    };
    // A candidate's score does not depend on the slot: every eligible item is
    // scored once; each slot ranks the items of its formats by `order`.
    let mut ranked: Vec<Scored> =
        Vec::with_capacity(if holdout { 0 } else { engine.content.len() });
    // Consumed content, by catalogue position.
    let mut consumed: Vec<bool> = vec![false; engine.content.len()];
    for ix in s.consumed.iter().flat_map(|h| engine.content_with_hash(*h)) {
        if let Some(x) = consumed.get_mut(ix) {
            *x = true;
        }
    }
    let mut elig = Eligibility {
        stage_ok: v
            .stage_ok
            .iter()
            .enumerate()
            .filter(|(_, ok)| **ok)
            .fold(0, |m, (i, _)| m | bit32(i)),
        gated_ok: None,
        when: vec![None; engine.content_when.len()],
    };
    if !holdout {
        for (i, c) in engine.content.iter().enumerate() {
            let format_bit = bit64(c.format);
            if wanted & format_bit == 0
                || Some(i) == v.page
                || !is_eligible(engine, c, v, &mut elig)
            {
                continue;
            }
            let seen = consumed.get(i).copied().unwrap_or(false);
            let base = base_score(engine, v, Item { ix: i, c, seen }, &mut cx);
            ranked.push(Scored {
                ix: i,
                base,
                score: base,
                consumed: seen,
                format_bit,
            });
        }
    }
    for slot in slots {
        if holdout {
            out.push(default_result(engine, slot, "holdout"));
            continue;
        }
        let shortlist = if engine.recommend.explore {
            engine.recommend.shortlist.max(slot.count)
        } else {
            0
        };
        // Only the head of the ranking is sorted, and made longer while the
        // caps or the shortlist read past it.
        let seed = (v.id, v.seq);
        let mut head = 4 * shortlist.max(slot.count) + 8;
        let chosen = loop {
            let (cands, total) = best(&ranked, slot.format_mask, &taken, head);
            if cands.is_empty() {
                break None;
            }
            let partial = cands.len() < total;
            match choose(engine, seed, slot, &consumed, cands, total, shortlist) {
                None if partial => head = head.saturating_mul(4),
                c => break c,
            }
        };
        let Some(Chosen {
            cands,
            picked,
            exploit,
            explored: changed,
        }) = chosen
        else {
            // The default too must be one this visitor may be shown (its
            // `when`, dates, stages, gating): a demo offer is no fallback
            // for a customer. Else the slot stays as the page has it.
            let usable = engine
                .content
                .get(slot.default)
                .is_some_and(|c| is_eligible(engine, c, v, &mut elig));
            let mut result = default_result(engine, slot, "nothing eligible");
            if !usable {
                result.picks.clear();
                result.default = false;
            }
            out.push(result);
            continue;
        };
        explored |= changed;
        let picks: Vec<Pick> = picked
            .iter()
            .enumerate()
            .filter_map(|(at, ix)| {
                // Exploration put it here (another's draw moved it up, or it
                // took the place of an item exploitation would show).
                let placed = exploit.get(at) != Some(ix);
                cands.iter().find(|c| c.ix == *ix).map(|c| (c, placed))
            })
            .filter_map(|(c, placed)| {
                engine.content.get(c.ix).map(|it| {
                    let item = Item {
                        ix: c.ix,
                        c: it,
                        seen: c.consumed,
                    };
                    let mut reasons = reasons(engine, v, item, &mut cx);
                    let delta = c.score - c.base;
                    if placed || delta.abs() >= 0.005 {
                        reasons.push(delta, Reason::Explore(delta));
                    }
                    to_pick(engine, v, it, c.score, reasons)
                })
            })
            .collect();
        for ix in &picked {
            if let Some(t) = taken.get_mut(*ix) {
                *t = true;
            }
        }
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

/// The candidates of the formats in `format_mask` that no earlier slot took
/// (`taken`, by catalogue position), best first by `order`: the first `head`
/// of them, and how many there are. Ranked on integer keys (one comparison a
/// step). A head well short of the list is kept in a max-heap, where most
/// candidates lose to the largest kept key at once; a longer one (a slot
/// that needed more) is a sort of them all.
fn best(ranked: &[Scored], format_mask: u64, taken: &[bool], head: usize) -> (Vec<Scored>, usize) {
    let head = head.max(1);
    let keys = ranked
        .iter()
        .zip(0u32..)
        .filter(|(c, _)| {
            format_mask & c.format_bit != 0 && !taken.get(c.ix).copied().unwrap_or(false)
        })
        .map(|(c, pos)| rank_key(c, pos));
    let mut top: Vec<u128>;
    let mut total = 0;
    if head.saturating_mul(4) >= ranked.len() {
        // Sized for every candidate: collected from a filter, the vector
        // would grow (and copy) a few times a slot.
        top = Vec::with_capacity(ranked.len());
        top.extend(keys);
        total = top.len();
        crate::sort::sort(&mut top);
        top.truncate(head);
    } else {
        // The `head` smallest keys in a max-heap: a candidate either loses
        // to the largest kept one at once or replaces it (nothing shifts).
        let mut heap = std::collections::BinaryHeap::with_capacity(head);
        for key in keys {
            total += 1;
            if heap.len() < head {
                heap.push(key);
            } else if let Some(mut last) = heap.peek_mut() {
                if key < *last {
                    *last = key;
                }
            }
        }
        top = heap.into_sorted_vec();
    }
    let mut cands = Vec::with_capacity(top.len());
    cands.extend(
        top.iter()
            .filter_map(|k| ranked.get((*k & u128::from(u32::MAX)) as usize))
            .copied(),
    );
    (cands, total)
}

/// What a slot shows: its candidates in their final order, the picks (indices
/// into the catalogue), the picks without exploration, and whether
/// exploration changed them.
struct Chosen {
    cands: Vec<Scored>,
    picked: Vec<usize>,
    exploit: Vec<usize>,
    explored: bool,
}

/// A slot's picks from its best candidates in order: exploration (seeded by
/// the visitor id and decision number) re-scores the first `shortlist` (0:
/// none), then the diversity caps pick. `cands` may be only the head of
/// `total` candidates: None when the head was not enough to decide exactly as
/// the whole list would (the shortlist reaches the head's end, or the capped
/// first pass of `diversify_ix` did not fill the slot within it).
fn choose(
    engine: &Engine,
    seed: (&str, u32),
    slot: &Slot,
    consumed: &[bool],
    mut cands: Vec<Scored>,
    total: usize,
    shortlist: usize,
) -> Option<Chosen> {
    let partial = cands.len() < total;
    let exploit: Vec<usize> = cands.iter().map(|c| c.ix).collect();
    let mut valid = cands.len();
    if shortlist > 0 {
        let k = shortlist.min(total);
        if partial && k >= cands.len() {
            return None;
        }
        // The head's last candidate keeps its score: everything outside the
        // head ranks after it, so the re-ranked list is exact up to it.
        let boundary = cands.last().map(|c| c.ix);
        for c in cands.iter_mut().take(k) {
            let item = engine.content.get(c.ix);
            let (a, b, h) = item
                .map(|it| (it.alpha, it.beta, it.hash))
                .unwrap_or((1.0, 1.0, 0));
            let draw = Rng::for_pick(seed.0, seed.1, h).beta(a, b);
            let delta = engine.recommend.spec.exploration.weight * (draw - a / (a + b));
            c.score = c.base + delta;
        }
        cands = rerank(cands, k);
        if partial {
            // The boundary is in the list (re-ranking only reorders); `?`
            // is for form.
            valid = cands.iter().position(|c| Some(c.ix) == boundary)? + 1;
        }
    }
    let order: Vec<usize> = cands.iter().take(valid).map(|c| c.ix).collect();
    let (picked, filled) = diversify_ix(engine, &order, consumed, slot.count);
    let (exploit_top, exploit_filled) = diversify_ix(engine, &exploit, consumed, slot.count);
    if partial && !(filled && exploit_filled) {
        return None;
    }
    let explored = picked != exploit_top;
    Some(Chosen {
        cands,
        picked,
        exploit: exploit_top,
        explored,
    })
}

/// `order` as one integer: bit 96 consumed, bits 32..96 the score mapped so
/// that a larger score gives a smaller key (the order of `f64::total_cmp`,
/// reversed), bits 0..32 the position in the catalogue-ordered list.
fn rank_key(c: &Scored, pos: u32) -> u128 {
    let bits = c.score.to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    (u128::from(c.consumed) << 96) | (u128::from(!ascending) << 32) | u128::from(pos)
}

/// Restores the order after the first `k` candidates' scores changed: those
/// are sorted and merged with the rest, which is still in order (the same
/// result as sorting the whole list).
fn rerank(cands: Vec<Scored>, k: usize) -> Vec<Scored> {
    let mut head: Vec<Scored> = cands.iter().take(k).copied().collect();
    crate::sort::sort_by(&mut head, order);
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

/// What eligibility knows of the visitor for the whole catalogue: the stages
/// they can be in, as a mask, whether gated content is open to them
/// (`gated_requires`, evaluated for the first gated item only), and each
/// distinct content condition's outcome once an item asked for it.
struct Eligibility {
    stage_ok: u32,
    gated_ok: Option<bool>,
    when: Vec<Option<bool>>,
}

fn is_eligible(engine: &Engine, c: &Content, v: &Visitor<'_>, e: &mut Eligibility) -> bool {
    if c.start_ms.is_some_and(|s| v.now < s) || c.end_ms.is_some_and(|e| v.now >= e) {
        return false;
    }
    // Content only for stages this visitor cannot be in (customer content for a prospect).
    if c.stage_count > 0 && c.stage_mask & e.stage_ok == 0 {
        return false;
    }
    if c.gated
        && !*e.gated_ok.get_or_insert_with(|| {
            engine
                .recommend
                .gated_requires
                .as_ref()
                .map_or(true, |g| g.holds(v.attrs, &engine.lists))
        })
    {
        return false;
    }
    let Some(w) = c.when else {
        return true;
    };
    // An index out of range (none, by the invariants) holds for nobody.
    match e.when.get_mut(w) {
        Some(Some(known)) => *known,
        Some(slot) => *slot.insert(
            engine
                .content_when
                .get(w)
                .is_some_and(|cond| cond.holds(v.attrs, &engine.lists)),
        ),
        None => false,
    }
}

/// What ranking knows about one candidate: the catalogue item, its index,
/// whether the visitor already consumed it.
#[derive(Clone, Copy)]
struct Item<'c> {
    ix: usize,
    c: &'c Content,
    seen: bool,
}

/// A candidate's base score: the sum of its weighted reasons, in the order
/// `contributions` gives them, without building them.
fn base_score(engine: &Engine, v: &Visitor<'_>, it: Item<'_>, cx: &mut Context) -> f64 {
    // Added in order from the start `Iterator::sum` uses: the same bits as
    // summing the list of weights (none is kept: no array to clear per item).
    let mut sum: f64 = std::iter::empty::<f64>().sum();
    let mut n = 0;
    contributions(engine, v, it, cx, &mut |x, _| {
        if n < MAX_REASONS {
            sum += x;
            n += 1;
        }
    });
    sum
}

/// A pick's weighted reasons.
fn reasons(engine: &Engine, v: &Visitor<'_>, it: Item<'_>, cx: &mut Context) -> Weighted {
    let mut r = Weighted::default();
    contributions(engine, v, it, cx, &mut |x, why| r.push(x, why));
    r
}

/// What scoring knows of the visitor for the whole catalogue: interest by
/// topic index and its total, and the stage and role terms by the item's
/// mask, made when an item first asks (items share a few: 22 stage and 14
/// role masks in the 500-item workload, and a term depends on
/// nothing else of the item).
struct Context {
    interest: Vec<i64>,
    topic_total: i64,
    stage_terms: Memo<StageTerm>,
    role_terms: Memo<(f64, usize)>,
}

/// An item's stage affinity, its best stage, and the next stage when the
/// item also serves the visitor's next one.
#[derive(Clone, Copy)]
struct StageTerm {
    aff: f64,
    best: usize,
    next: Option<usize>,
}

/// Entries of a [`Memo`].
const MEMO: usize = 64;

/// A small cache by key, one entry a place (a key that lands on a taken
/// place is made again and replaces it).
struct Memo<T: Copy> {
    places: [Option<(u64, T)>; MEMO],
}

impl<T: Copy> Memo<T> {
    fn new() -> Self {
        Memo {
            places: [None; MEMO],
        }
    }
    /// A key's place: its bits spread by a multiplicative hash, the top six.
    fn place(key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize
    }
    fn get(&mut self, key: u64, make: impl FnOnce() -> T) -> T {
        match self.places.get_mut(Self::place(key)) {
            Some(Some((k, t))) if *k == key => *t,
            Some(place) => place.insert((key, make())).1,
            None => make(),
        }
    }
}

/// The stage term of an item serving the stages of `mask` (`count` of them).
fn stage_term(engine: &Engine, v: &Visitor<'_>, mask: u32, count: u32) -> StageTerm {
    let p = |i: usize| v.stage_p.get(i).copied().unwrap_or(0.0);
    // The first of the item's stages on a tie (all at 0 too): the reason
    // names a stage the item is for.
    let (mut sum, mut best) = (0.0, None::<(f64, usize)>);
    for i in set_bits(mask).take_while(|i| *i < engine.stages.len()) {
        sum += p(i);
        if best.map_or(true, |b| p(i) > b.0) {
            best = Some((p(i), i));
        }
    }
    let (top, best) = best.unwrap_or_default();
    StageTerm {
        aff: (top + sum / f64::from(count)) / 2.0,
        best,
        next: engine
            .stages
            .get(v.stage)
            .and_then(|st| st.next)
            .filter(|next| mask & bit32(*next) != 0 && *next != v.stage),
    }
}

/// The role term of an item speaking to the roles of `mask`: the likeliest
/// of them for the visitor, and its probability.
fn role_term(engine: &Engine, v: &Visitor<'_>, mask: u32) -> (f64, usize) {
    // The first of the item's roles on a tie (all at 0 too), as for stages.
    set_bits(mask)
        .take_while(|i| *i < engine.roles.len())
        .map(|i| (v.role_p.get(i).copied().unwrap_or(0.0), i))
        .reduce(|a, b| if b.0 > a.0 { b } else { a })
        .unwrap_or_default()
}

/// Each weighted reason of a candidate, in a fixed order.
fn contributions(
    engine: &Engine,
    v: &Visitor<'_>,
    Item { ix, c, seen }: Item<'_>,
    cx: &mut Context,
    push: &mut impl FnMut(f64, Reason),
) {
    let r = &engine.recommend.spec;
    if c.stage_count > 0 {
        let key = u64::from(c.stage_mask) | u64::from(c.stage_count) << 32;
        let t = cx
            .stage_terms
            .get(key, || stage_term(engine, v, c.stage_mask, c.stage_count));
        push(r.stage_weight * t.aff, Reason::Stage(t.best, t.aff));
        if let Some(next) = t.next {
            let p = v.stage_p.get(v.stage).copied().unwrap_or(0.0);
            push(r.next_stage_weight * p, Reason::NextStage(next));
        }
    }
    if c.role_count > 0 {
        let (p, best) = cx
            .role_terms
            .get(u64::from(c.role_mask), || role_term(engine, v, c.role_mask));
        push(r.role_weight * p, Reason::Role(best, p));
    }
    if let (Some(ind), false) = (&v.industry, c.industries.is_empty()) {
        if c.industries.iter().any(|x| x == ind) {
            push(r.industry_weight, Reason::Industry);
        } else {
            push(-0.5 * r.industry_weight, Reason::OtherIndustry);
        }
    }
    if cx.topic_total > 0 && !c.topics.is_empty() {
        let share: i64 = c
            .topics
            .iter()
            .filter_map(|t| cx.interest.get(*t))
            .fold(0i64, |a, x| a.saturating_add(*x));
        let share = (share as f64 / cx.topic_total as f64).min(1.0);
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

/// The positions of the bits set in `mask`, lowest first.
fn set_bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            i
        })
    })
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
struct Weighted {
    items: [(f64, Reason); MAX_REASONS],
    len: usize,
}

impl Weighted {
    fn push(&mut self, weight: f64, r: Reason) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (weight, r);
            self.len += 1;
        }
    }
    fn iter(&self) -> impl Iterator<Item = &(f64, Reason)> {
        self.items.iter().take(self.len)
    }
    /// Largest weight first; equal ones keep their order (the same order on
    /// every target).
    fn sort(&mut self) {
        let items = self.items.get_mut(..self.len).unwrap_or_default();
        crate::sort::stable_short_by(items, |a, b| b.0.total_cmp(&a.0));
    }
}

/// Appends reason `r` as text to `out`.
fn render(engine: &Engine, v: &Visitor<'_>, r: Reason, out: &mut String) {
    let stage = |i: usize| engine.stages.get(i).map(|s| s.id.as_str()).unwrap_or("");
    // Built by hand (see `fixed`): `format!` cost ~1,200 instructions a reason.
    let mut text = |parts: &[&str], n: Option<(f64, bool)>| {
        parts.iter().for_each(|p| out.push_str(p));
        if let Some((x, plus)) = n {
            crate::fixed::push2(out, x, plus);
        }
    };
    match r {
        Reason::None => {}
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
        Reason::OtherIndustry => text(&["other industry"], None),
        Reason::Topics(share) => text(&["topics "], Some((share, false))),
        Reason::Priority(p) => text(&["priority "], Some((p, false))),
        // Picked only when no unread eligible item is left, or each one left
        // would break a diversity cap of the slot.
        Reason::Consumed => text(&["already seen (no unread item fits)"], None),
        // Put in place by other items' draws, its own too small to show.
        Reason::Explore(d) if d.abs() < 0.005 => text(&["exploration (other items' draws)"], None),
        Reason::Explore(d) => text(&["exploration "], Some((d, true))),
        Reason::Action => text(&["next-best action"], None),
    }
}

/// Takes `count` items in order, respecting the per-format and per-topic caps,
/// relaxing them only when the slot would otherwise stay short. `consumed` is
/// indexed by catalogue position. Also says whether the first pass (caps
/// kept, consumed items skipped while others exist) filled the slot: then
/// items after `order` could not have changed the picks.
fn diversify_ix(
    engine: &Engine,
    order: &[usize],
    consumed: &[bool],
    count: usize,
) -> (Vec<usize>, bool) {
    let consumed = |ix: usize| consumed.get(ix).copied().unwrap_or(false);
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    // Picks per format (a playbook has at most 64 formats: the slots take
    // them by a 64-bit mask; validation rejects more, an engine is built
    // only from a valid playbook, and one loaded from bytes is checked the
    // same way (`engine::invariants`), so `c.format` < 64) and per topic.
    let mut formats = [0u32; crate::playbook::limits::FORMATS];
    let mut topics: Vec<(usize, u32)> = Vec::with_capacity(4 * count);
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
    // Pass 0 keeps the caps and skips what the visitor read while unread
    // items exist; pass 1 keeps the caps and takes read items; pass 2, for a
    // slot still short, lifts the caps.
    for pass in 0..3 {
        if pass == 1 && !unconsumed_exist {
            // Pass 0 already tried every item with the caps kept.
            continue;
        }
        for ix in order {
            if picked.len() >= count {
                break;
            }
            if picked.contains(ix) || (unconsumed_exist && consumed(*ix) && pass == 0) {
                continue;
            }
            let Some(c) = engine.content.get(*ix) else {
                continue;
            };
            let capped = formats.get(c.format).copied().unwrap_or(0)
                >= engine.recommend.spec.max_per_format
                || c.topics
                    .iter()
                    .any(|t| count_of(&topics, *t) >= engine.recommend.spec.max_per_topic);
            if capped && pass < 2 {
                continue;
            }
            picked.push(*ix);
            if let Some(n) = formats.get_mut(c.format) {
                *n += 1;
            }
            for t in &c.topics {
                bump(&mut topics, *t);
            }
        }
        if picked.len() >= count {
            return (picked, pass == 0);
        }
    }
    (picked, false)
}

fn to_pick(
    engine: &Engine,
    v: &Visitor<'_>,
    it: &Content,
    score: f64,
    mut weighted: Weighted,
) -> Pick {
    weighted.sort();
    let mut reasons = Reasons::default();
    for (_, r) in weighted.iter() {
        reasons.push_with(|out| render(engine, v, *r, out));
    }
    pick(engine, it, round_to(score, 4), reasons)
}

fn pick(engine: &Engine, it: &Content, score: f64, reasons: Reasons) -> Pick {
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
        .map(|it| {
            let mut reasons = Reasons::default();
            reasons.push_with(|out| {
                out.push_str("slot default (");
                out.push_str(why);
                out.push(')');
            });
            pick(engine, it, 0.0, reasons)
        })
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
    use super::{order, rerank, Reason, Scored, Weighted};
    use crate::testing::xorshift;

    /// A memo gives each key its own value, also for keys that land on the
    /// same place (each is made again there), and makes a value once while
    /// its key keeps the place.
    #[test]
    fn memo_answers_each_key() {
        let place = super::Memo::<u64>::place;
        let a = 7u64;
        let b = (8..).find(|k| place(*k) == place(a)).unwrap_or(0);
        let mut memo = super::Memo::new();
        let mut made = 0;
        for key in [a, a, b, b, a, 1 << 40, a] {
            let got = memo.get(key, || {
                made += 1;
                key * 3
            });
            assert_eq!(got, key * 3);
        }
        // a, b, a again (b had taken its place) and 1 << 40 (another
        // place); the last a is read from the memo.
        assert_ne!(place(1 << 40), place(a));
        assert_eq!(made, 4);
    }

    /// Reasons sort largest weight first, equal weights in the order given
    /// (as the stable sort with the position as tie-break it replaces).
    #[test]
    fn weighted_reasons_sort_stably() {
        let mut next = xorshift(0x7e45_0a11_0000_0015);
        for _ in 0..2_000 {
            let mut w = Weighted::default();
            let n = (next() % 11) as usize;
            for i in 0..n {
                let x = [0.5, -0.5, 0.0, -0.0, 1.25, 0.5][(next() % 6) as usize];
                w.push(x, Reason::NextStage(i));
            }
            let mut expected: Vec<(usize, f64)> =
                w.iter().enumerate().map(|(i, (x, _))| (i, *x)).collect();
            expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            w.sort();
            let got: Vec<(usize, f64)> = w
                .iter()
                .map(|(x, r)| match r {
                    Reason::NextStage(i) => (*i, *x),
                    _ => (usize::MAX, *x),
                })
                .collect();
            assert_eq!(got, expected);
        }
    }

    /// A ranking as comparable values: each candidate and its score's bits.
    fn ranking(v: &[Scored]) -> Vec<(usize, u64)> {
        v.iter().map(|c| (c.ix, c.score.to_bits())).collect()
    }

    /// The integer keys rank exactly as `order` does: ties, signed zeros,
    /// infinities and NaN included.
    #[test]
    fn rank_keys_sort_as_order() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let special = [
            0.0,
            -0.0,
            1.5,
            -1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            1e-310,
        ];
        for round in 0..300 {
            let n = (next() % 60) as usize;
            let cands: Vec<Scored> = (0..n)
                .map(|ix| {
                    let score = match next() % 3 {
                        0 => special[(next() % special.len() as u64) as usize],
                        1 => (next() % 8) as f64 / 4.0,
                        _ => f64::from_bits(next()),
                    };
                    Scored {
                        ix,
                        base: score,
                        score,
                        consumed: next() % 4 == 0,
                        format_bit: 1,
                    }
                })
                .collect();
            let mut want = cands.clone();
            want.sort_unstable_by(order);
            let n = cands.len();
            let (got, total) = super::best(&cands, 1, &[], n);
            assert_eq!(total, n);
            // A head is the start of the whole ranking.
            let head = (next() % 12) as usize;
            let (top, _) = super::best(&cands, 1, &[], head);
            assert_eq!(
                ranking(&top),
                ranking(&want[..head.max(1).min(n)]),
                "round {round}, head {head}"
            );
            assert_eq!(ranking(&got), ranking(&want), "round {round}");
        }
    }

    /// A slot decided from the head of its ranking picks exactly what it picks
    /// from the whole ranking, or says the head was not enough: random
    /// candidate lists (ties, NaN scores, consumed items, items earlier slots
    /// took, few formats and topics so the caps skip) on the example
    /// playbook's catalogue and slots.
    #[test]
    fn a_head_decides_as_the_whole_ranking() {
        let engine = crate::Engine::from_json(include_str!("../examples/acme/playbook.json"))
            .expect("the example playbook compiles");
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let n_items = engine.content.len();
        let (mut decided, mut fell_back) = (0, 0);
        for round in 0..3000 {
            let slot = &engine.slots[(next() % engine.slots.len() as u64) as usize];
            let consumed: Vec<bool> = (0..n_items).map(|_| next() % 4 == 0).collect();
            let mut ranked: Vec<Scored> = Vec::new();
            for (ix, seen) in consumed.iter().enumerate() {
                if next() % 3 != 0 {
                    let base = match next() % 30 {
                        0 => f64::NAN,
                        r => (r % 6) as f64 / 4.0,
                    };
                    ranked.push(Scored {
                        ix,
                        base,
                        score: base,
                        consumed: *seen,
                        format_bit: super::bit64(engine.content[ix].format),
                    });
                }
            }
            // Items an earlier slot of the decision took.
            let used: Vec<usize> = (0..next() % 4)
                .map(|_| (next() % n_items as u64) as usize)
                .collect();
            let mut taken = vec![false; n_items];
            for u in &used {
                taken[*u] = true;
            }
            let shortlist = if round % 2 == 0 {
                slot.count.max(1 + (next() % 6) as usize)
            } else {
                0
            };
            let seed = ("v-test", (next() % 50) as u32);
            let (all, total) = super::best(&ranked, slot.format_mask, &taken, usize::MAX);
            if total == 0 {
                continue;
            }
            let whole = super::choose(&engine, seed, slot, &consumed, all, total, shortlist)
                .expect("the whole ranking always decides");
            let head = super::best(
                &ranked,
                slot.format_mask,
                &taken,
                1 + (next() % 12) as usize,
            )
            .0;
            match super::choose(&engine, seed, slot, &consumed, head, total, shortlist) {
                Some(part) => {
                    decided += 1;
                    assert_eq!(part.picked, whole.picked, "round {round}");
                    assert_eq!(part.explored, whole.explored, "round {round}");
                    for ix in &part.picked {
                        let score = |c: &super::Chosen| {
                            c.cands
                                .iter()
                                .find(|s| s.ix == *ix)
                                .map(|s| s.score.to_bits())
                        };
                        assert_eq!(score(&part), score(&whole), "round {round}");
                    }
                }
                None => fell_back += 1,
            }
        }
        assert!(
            decided > 500 && fell_back > 50,
            "decided {decided}, fell back {fell_back}"
        );
    }

    /// Items that share a content condition are in or out together, and the
    /// outcome cached for the first of them is the one each would get alone:
    /// the example playbook's six customer-only items, for a customer and for
    /// a prospect.
    #[test]
    fn items_sharing_a_condition_are_in_or_out_together() {
        use super::{is_eligible, Eligibility, Visitor};
        let engine = crate::Engine::from_json(include_str!("../examples/acme/playbook.json"))
            .expect("the example playbook compiles");
        let state = crate::state::VisitorState::new("v-test", engine.revision).unwrap();
        let customer_only: Vec<usize> = engine
            .content
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.when.is_some() && engine.content.iter().filter(|o| o.when == c.when).count() == 6
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(customer_only.len(), 6);
        let now = 1_798_564_533_200; // 2026-12-29, after every item's start
        let fresh = |n: usize| Eligibility {
            stage_ok: u32::MAX,
            gated_ok: Some(true),
            when: vec![None; n],
        };
        for (account, want) in [
            (serde_json::json!({"customer": true}), true),
            (serde_json::json!({}), false),
        ] {
            let ctx = crate::context::Context {
                account: account.as_object().unwrap().clone(),
                ..Default::default()
            };
            let attrs = crate::attrs::Attrs::base(&engine, &state, &ctx, now, None);
            let v = Visitor {
                id: "v-test",
                seq: 1,
                stage_p: &[],
                stage: 0,
                stage_ok: &[],
                role_p: &[],
                industry: None,
                attrs: &attrs,
                page: None,
                now,
                action_cta: None,
            };
            let mut shared = fresh(engine.content_when.len());
            for (i, c) in engine.content.iter().enumerate() {
                let cached = is_eligible(&engine, c, &v, &mut shared);
                let alone = is_eligible(&engine, c, &v, &mut fresh(engine.content_when.len()));
                assert_eq!(cached, alone, "{}", c.id);
                if customer_only.contains(&i) {
                    assert_eq!(cached, want, "{}: customer {want}", c.id);
                }
            }
        }
    }

    /// Re-ranking after the head's scores changed gives exactly the full sort,
    /// ties and consumed items included.
    #[test]
    fn rerank_equals_a_full_sort() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
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
                        format_bit: 0,
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
            assert_eq!(
                ranking(&fast),
                ranking(&full),
                "round {round}, n {n}, k {k}"
            );
        }
    }
}
