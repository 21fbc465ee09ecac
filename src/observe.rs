//! Folding one event into the visitor state: burst check, the state's clock
//! and the time its aggregates are valued at, engagement points with daily
//! caps, stage/role/topic evidence, consumed content, BANT buckets and
//! hand-raises.

use crate::decay::{between, round, scale_fixed, Factors};
use crate::engine::{bit32, Engine, OTHER_BUCKET};
use crate::event::{Event, EventKind};
use crate::hash::fnv1a32;
use crate::state::{entry, Evidence, Recent, RuleAgg, VisitorState, MAX_TOPICS, MAX_VALUE, UNIT};
use crate::text::Text;
use crate::time::DAY_MS;
use serde::Serialize;

/// What one event did, for debugging and the inspector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// Ignored as part of a bot-like burst.
    pub burst: bool,
    /// Engagement rules that matched, with the points they added (after the cap).
    pub points: Vec<(Text, f64)>,
    /// Hand-raise rule that fired, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hand_raise: Option<String>,
}

/// Folds an event into the state.
pub fn observe(engine: &Engine, s: &mut VisitorState, ev: &Event) -> Observed {
    let mut out = Observed {
        burst: false,
        points: Vec::new(),
        hand_raise: None,
    };
    // Only an event built by hand, not checked, is later than the end of
    // 9999: it is left out (a state valued there would never decay, and is
    // not read back).
    if ev.ts > crate::event::MAX_TS {
        return out;
    }
    s.events = s.events.saturating_add(1);
    if s.first_seen == 0 || ev.ts < s.first_seen {
        s.first_seen = ev.ts;
    }
    out.burst = in_burst(engine, &s.recent, ev.ts);

    advance(engine, s, ev.ts);
    let view = crate::engine::EventView::new(engine, ev);
    let content = view.content;
    let dwell = ev.input.dwell_seconds.unwrap_or(0.0);
    let rec = Recent {
        ts: ev.ts,
        kind: ev.kind.code(),
        content: content.map(|c| c.hash).unwrap_or(0),
        dwell: dwell.min(86_400.0) as u32,
        burst: out.burst,
    };
    let pos = s.recent.partition_point(|r| r.ts <= ev.ts);
    s.recent.insert(pos, rec);
    let excess = s.recent.len().saturating_sub(engine.recent_limit);
    s.recent.drain(..excess);
    if out.burst {
        // A burst scores nothing, but what a visitor states on a form (a
        // demo request, BANT answers) early in one is not noise: a quick
        // buyer who books a demo within seconds of arriving is still heard.
        // Deep in a burst (more events flagged in its window than the burst
        // threshold) it is a bot's, and states nothing.
        s.ignored = s.ignored.saturating_add(1);
        let w = engine.engagement.burst_window_ms;
        let flagged = s
            .recent
            .iter()
            .filter(|r| r.burst && r.ts <= ev.ts && r.ts.saturating_add(w) >= ev.ts)
            .count();
        if flagged <= engine.engagement.burst_max {
            stated(engine, s, ev, &view, &mut out);
        }
        return out;
    }

    // The event's points and evidence are moved from its time to the
    // aggregates' (decayed when it is older, grown when it is newer).
    let (at, ts) = (s.valued_at, ev.ts);
    for rule in &engine.engagement.rules {
        if !rule.on.matches(&view) {
            continue;
        }
        let Some(agg) = entry(
            &mut s.rules,
            rule.hash,
            |r| r.hash,
            |h| RuleAgg {
                hash: h,
                ..RuleAgg::default()
            },
        ) else {
            continue;
        };
        let mut pts = rule.milli;
        if let Some(cap) = rule.cap_milli {
            let day = u32::try_from(ev.ts / DAY_MS).unwrap_or(u32::MAX);
            if day > agg.cap_day {
                agg.cap_day = day;
                agg.cap_used = 0;
            }
            // An event dated before the cap's day gets no room: late or replayed
            // events cannot bypass the cap.
            let used = if day == agg.cap_day {
                // max/min, not clamp: a cap below zero (refused when an
                // engine is loaded) must not panic either.
                agg.cap_used.max(0).min(cap)
            } else {
                cap
            };
            let room = cap.saturating_sub(used).max(0);
            pts = pts.clamp(-room, room);
            if day == agg.cap_day {
                agg.cap_used = agg.cap_used.saturating_add(pts.saturating_abs());
            }
        }
        let bound = MAX_VALUE as i64;
        // The rule's thousandths of a point (capped as counted) in the
        // state's millionths.
        let micro = pts.saturating_mul(1000);
        agg.micro = agg
            .micro
            .saturating_add(scale_fixed(micro, between(ts, at, rule.half_life_ms)))
            .clamp(-bound, bound);
        out.points.push((rule.id.clone(), pts as f64 / 1000.0));
    }

    let consuming = matches!(
        ev.kind,
        EventKind::PageView | EventKind::Download | EventKind::VideoPlay
    );
    if let (Some(c), true) = (content, consuming) {
        let sm = &engine.stage_model;
        if c.stage_count > 0 {
            let w = sm.content_view_weight / f64::from(c.stage_count)
                * between(ts, at, sm.half_life_ms);
            for (i, st) in engine.stages.iter().enumerate() {
                if c.stage_mask & bit32(i) != 0 {
                    add(&mut s.stages, st.hash, w);
                }
            }
        }
        let rm = &engine.role_model;
        if c.role_count > 0 {
            let w =
                rm.content_view_weight / f64::from(c.role_count) * between(ts, at, rm.half_life_ms);
            for (i, r) in engine.roles.iter().enumerate() {
                if c.role_mask & bit32(i) != 0 {
                    add(&mut s.roles, r.hash, w);
                }
            }
        }
        let tw = between(ts, at, sm.half_life_ms);
        for t in &c.topics {
            if let Some(name) = engine.topics.get(*t) {
                add(&mut s.topics, fnv1a32(name.as_bytes()), tw);
            }
        }
        if ev.kind != EventKind::PageView || dwell >= engine.consumed_min_dwell {
            s.consumed.retain(|h| *h != c.hash);
            s.consumed.insert(0, c.hash);
            s.consumed.truncate(engine.consumed_limit);
        }
    }
    for rule in &engine.stage_model.rules {
        if rule.on.matches(&view) {
            if let Some(st) = engine.stages.get(rule.stage) {
                add(
                    &mut s.stages,
                    st.hash,
                    rule.weight * between(ts, at, engine.stage_model.half_life_ms),
                );
            }
        }
    }
    stated(engine, s, ev, &view, &mut out);
    out
}

/// What the visitor states rather than does: BANT answers on a form and a
/// hand-raise. Kept in a burst too.
fn stated(
    engine: &Engine,
    s: &mut VisitorState,
    ev: &Event,
    view: &crate::engine::EventView<'_>,
    out: &mut Observed,
) {
    if ev.kind == EventKind::FormSubmit {
        record_bant(engine, s, ev);
    }
    if s.hand_raise == 0 {
        if let Some((id, _)) = engine
            .lifecycle
            .hand_raise
            .iter()
            .find(|(_, m)| m.matches(view))
        {
            s.hand_raise = ev.ts.max(1);
            out.hand_raise = Some(id.clone());
        }
    }
}

/// Whether an event at `ts` is part of a burst: some window of the burst's
/// length that holds it already holds `burst_max` recent events. Events
/// arrive out of order (client clocks, a queue sent again), so the windows
/// that start before `ts` and end after it count too, not only the one that
/// ends with it: a burst sent newest first is a burst. (`recent` is sorted
/// by time.)
fn in_burst(engine: &Engine, recent: &[Recent], ts: u64) -> bool {
    let w = engine.engagement.burst_window_ms;
    let lo = recent.partition_point(|r| r.ts < ts.saturating_sub(w));
    let hi = recent.partition_point(|r| r.ts <= ts.saturating_add(w));
    let near = recent.get(lo..hi).unwrap_or_default();
    // The fullest window starts at the earliest event it holds: this one, or
    // a near one before it.
    let starts = near.iter().map(|r| r.ts).filter(|&t| t <= ts);
    std::iter::once(ts)
        .chain(starts)
        .map(|a| {
            let end = a.saturating_add(w);
            let upto = near.partition_point(|r| r.ts <= end);
            upto.saturating_sub(near.partition_point(|r| r.ts < a))
        })
        .any(|n| n >= engine.engagement.burst_max)
}

/// Moves the state's clock (`anchor`, the latest event) forward to `ts`,
/// and the time the aggregates are valued at to the clock once that is an
/// eighth of the shortest half-life or more past it, decaying every
/// aggregate there (from a time of 0 too: a fresh state has nothing to
/// decay, and one whose events were at `ts` 0 decays them as any other).
/// Checked at every event, late ones too: a state read by a revision with
/// shorter half-lives moves at its first event, whenever that is dated.
///
/// Each move rounds every aggregate to a millionth of a point, and so does
/// each event's points grown to the valuation time (by at most 2^(1/8),
/// 9%). Kept in thousandths and moved at every event, as the engine did
/// until December 2026, every decay step under half a thousandth was lost:
/// events a minute or a second apart kept points undecayed for as long as
/// they came. A millionth is a thousand times finer, and moves an eighth of
/// the shortest half-life apart are few: a 60-day rule's 50 points lose
/// 0.5 of them over the 21 hours of a 7-day shortest half-life, beside a
/// rounding of 0.0000005.
fn advance(engine: &Engine, s: &mut VisitorState, ts: u64) {
    let latest = ts.max(s.anchor);
    s.anchor = latest;
    let dt = latest.saturating_sub(s.valued_at);
    if dt == 0 || (dt as f64) * 8.0 < shortest_half_life(engine) {
        return;
    }
    // One `exp2` per half-life rather than per value: rules mostly share one.
    let mut f = Factors::over(dt);
    let mut rule = engine.engagement.cursor();
    for agg in &mut s.rules {
        if agg.micro == 0 {
            continue;
        }
        let hl = rule(agg.hash)
            .map(|r| r.half_life_ms)
            .unwrap_or(30.0 * DAY_MS as f64);
        agg.micro = f.decay(agg.micro, hl);
    }
    let today = u32::try_from(latest / DAY_MS).unwrap_or(u32::MAX);
    s.rules.retain(|a| a.micro != 0 || a.cap_day >= today);
    let shl = engine.stage_model.half_life_ms;
    let rhl = engine.role_model.half_life_ms;
    for (list, hl) in [
        (&mut s.stages, shl),
        (&mut s.roles, rhl),
        (&mut s.topics, shl),
    ] {
        let fac = f.get(hl);
        for e in list.iter_mut() {
            e.micro = scale_fixed(e.micro, fac);
        }
        list.retain(|e| e.micro > 0);
    }
    s.valued_at = latest;
}

/// The shortest half-life (ms) of anything the state values: the engagement
/// rules', the stage model's (stages and topics) and the role model's.
fn shortest_half_life(engine: &Engine) -> f64 {
    engine.engagement.rules.iter().map(|r| r.half_life_ms).fold(
        engine
            .stage_model
            .half_life_ms
            .min(engine.role_model.half_life_ms),
        f64::min,
    )
}

fn add(list: &mut Vec<Evidence>, hash: u32, amount: f64) {
    if let Some(e) = entry(list, hash, |e| e.hash, |h| Evidence { hash: h, micro: 0 }) {
        e.micro = e
            .micro
            .saturating_add(round(amount * UNIT) as i64)
            .clamp(0, MAX_VALUE as i64);
    }
    // Bounded: forget the weakest entry (the first such in hash order).
    while list.len() > MAX_TOPICS {
        let weakest = list
            .iter()
            .enumerate()
            .min_by_key(|(_, e)| e.micro)
            .map(|(i, _)| i)
            .unwrap_or(0);
        list.remove(weakest);
    }
}

/// Maps form answers to BANT buckets; the free text itself is dropped.
fn record_bant(engine: &Engine, s: &mut VisitorState, ev: &Event) {
    for dim in &engine.bant {
        let Some(answer) = ev.input.fields.get(&dim.field) else {
            continue;
        };
        let a = answer.trim().to_lowercase();
        if a.is_empty() {
            continue;
        }
        // The bucket the answer names, else `other` (every dimension has one).
        let opt = dim
            .options
            .iter()
            .find(|o| o.values.contains(&a))
            .or_else(|| dim.options.iter().find(|o| o.id == OTHER_BUCKET));
        if let Some(opt) = opt {
            match s.bant.binary_search_by(|(d, _)| d.cmp(&dim.hash)) {
                Ok(i) => {
                    if let Some(slot) = s.bant.get_mut(i) {
                        slot.1 = opt.hash;
                    }
                }
                Err(i) => s.bant.insert(i, (dim.hash, opt.hash)),
            }
        }
    }
}
