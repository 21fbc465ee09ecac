//! What every compiled engine satisfies, checked again on an engine loaded
//! from bytes (a file may have been changed after `buyerpath compile`).
//!
//! The engine's code reads every index with `get` and never trusts one, so a
//! wrong index gives a wrong decision, not a panic; what could panic or
//! exhaust memory is a size it allocates by (a slot's count, the
//! exploration shortlist, the state's limits). Those are held to the limits
//! validation holds a playbook to, and the indices and sorted indexes are
//! checked too, so a loaded engine decides as a compiled one can.

use super::Engine;
use crate::playbook::limits;

/// The first broken rule, in words; `Ok` when the engine could have been
/// compiled from a valid playbook.
pub(crate) fn check(e: &Engine) -> Result<(), &'static str> {
    let n_content = e.content.len();
    rule(e.slots.len() <= limits::SLOTS, "too many slots")?;
    for s in &e.slots {
        let count_ok = (1..=limits::SLOT_COUNT as usize).contains(&s.count);
        rule(count_ok, "a slot's count out of range")?;
        rule(
            s.default < n_content,
            "a slot's default is not in the catalogue",
        )?;
    }
    rule(
        (1..=limits::SHORTLIST).contains(&e.recommend.shortlist),
        "the exploration shortlist out of range",
    )?;
    rule(n_content <= limits::CONTENT, "too many content items")?;
    rule(e.formats.len() <= limits::FORMATS, "too many formats")?;
    // At most one condition per item, as the compiler makes them: a
    // decision allocates by their number.
    rule(
        e.content_when.len() <= n_content,
        "too many content conditions",
    )?;
    for c in &e.content {
        rule(c.format < e.formats.len(), "a content format out of range")?;
        rule(
            c.topics.iter().all(|t| *t < e.topics.len()),
            "a content topic out of range",
        )?;
        rule(
            c.when.map_or(true, |w| w < e.content_when.len()),
            "a content condition out of range",
        )?;
    }
    rule(
        sorted_index(&e.content_by_hash, &e.content, |c| c.hash),
        "the content index is not sorted or not the catalogue's",
    )?;
    rule(e.stages.len() <= limits::STAGES, "too many stages")?;
    rule(e.roles.len() <= limits::ROLES, "too many roles")?;
    let n_stages = e.stages.len();
    rule(
        e.stages
            .iter()
            .all(|s| s.next.map_or(true, |i| i < n_stages))
            && e.stage_model.rules.iter().all(|r| r.stage < n_stages),
        "a stage reference out of range",
    )?;
    rule(
        e.bant
            .iter()
            .flat_map(|d| &d.options)
            .all(|o| o.role.map_or(true, |r| r < e.roles.len())),
        "a role reference out of range",
    )?;
    rule(
        e.actions
            .iter()
            .all(|a| a.cta.map_or(true, |c| c < n_content)),
        "an action's content out of range",
    )?;
    let rules = &e.engagement.rules;
    rule(rules.len() <= limits::RULES, "too many engagement rules")?;
    rule(
        rules
            .iter()
            .all(|r| r.traits.iter().all(|t| *t < e.traits.len())),
        "an engagement trait out of range",
    )?;
    rule(
        sorted_index(&e.engagement.by_hash, rules, |r| r.hash),
        "the engagement index is not sorted or not the rules'",
    )?;
    // Ids are unique, as validation holds them: the five largest
    // contributions are ranked by id after points.
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    crate::sort::sort(&mut ids);
    rule(
        ids.windows(2).all(|w| matches!(w, [a, b] if a != b)),
        "two engagement rules share an id",
    )?;
    // The state's limits (as validation holds them; a burst of fewer events
    // than are kept).
    rule(
        (1..=limits::RECENT_EVENTS).contains(&e.recent_limit),
        "the recent-events limit out of range",
    )?;
    rule(
        (1..=limits::CONSUMED).contains(&e.consumed_limit),
        "the consumed limit out of range",
    )?;
    rule(
        (1..e.recent_limit).contains(&e.engagement.burst_max),
        "the burst limit out of range",
    )?;
    numbers(e)
}

/// Every number within what validation allows (a NaN fails every test): a
/// non-finite weight would put NaN in the answers, a prior below zero or a
/// negative cap would break the sampler and the daily caps.
fn numbers(e: &Engine) -> Result<(), &'static str> {
    const MAX: f64 = f64::MAX;
    let sm = &e.stage_model;
    let rm = &e.role_model;
    let r = &e.recommend.spec;
    rule(
        e.stages.iter().all(|s| within(s.prior, 0.0, MAX))
            && within(sm.hysteresis, 0.0, 10.0)
            && positive(sm.half_life_ms)
            && within(sm.content_view_weight, 0.0, MAX)
            && within(sm.account_prior_weight, 0.0, MAX)
            && sm.rules.iter().all(|r| positive(r.weight)),
        "a stage number out of range",
    )?;
    rule(
        e.roles.iter().all(|r| within(r.prior, 0.0, MAX))
            && within(rm.title_weight, 0.0, MAX)
            && within(rm.content_view_weight, 0.0, MAX)
            && positive(rm.half_life_ms)
            && within(rm.min_confidence, 0.0, 1.0)
            && rm
                .seniority
                .iter()
                .all(|s| within(s.multiplier, 0.0, limits::SENIORITY_MULTIPLIER)),
        "a role number out of range",
    )?;
    rule(
        within(e.fit_max, 0.0, MAX)
            && e.criteria.iter().all(|c| {
                within(c.weight, 0.0, MAX)
                    && within(c.max, 0.0, MAX)
                    && finite(c.otherwise)
                    && c.bands.iter().all(|b| {
                        finite(b.points) && b.min.map_or(true, finite) && b.max.map_or(true, finite)
                    })
            })
            && e.tiers.iter().all(|t| {
                within(t.min, 0.0, 100.0) && t.mql.map_or(true, |m| within(m, 0.0, 100.0))
            }),
        "a fit number out of range",
    )?;
    rule(
        positive(e.engagement.saturation)
            && within(e.lifecycle.engaged_min, 0.0, MAX)
            && e.engagement
                .rules
                .iter()
                .all(|r| positive(r.half_life_ms) && r.cap_milli.map_or(true, |c| c >= 0)),
        "an engagement number out of range",
    )?;
    rule(
        e.content
            .iter()
            .all(|c| within(c.priority, 0.0, 1.0) && positive(c.alpha) && positive(c.beta)),
        "a content item's priority or prior out of range",
    )?;
    rule(
        [
            r.stage_weight,
            r.next_stage_weight,
            r.role_weight,
            r.industry_weight,
            r.topic_weight,
            r.priority_weight,
            r.action_weight,
            r.exploration.weight,
        ]
        .iter()
        .all(|w| within(*w, 0.0, 10.0))
            && within(e.holdout_percent, 0.0, 50.0)
            && within(e.consumed_min_dwell, 0.0, MAX),
        "a ranking or holdout number out of range",
    )
}

fn within(x: f64, lo: f64, hi: f64) -> bool {
    x >= lo && x <= hi
}

fn positive(x: f64) -> bool {
    x > 0.0 && x <= f64::MAX
}

fn finite(x: f64) -> bool {
    x.is_finite()
}

fn rule(holds: bool, what: &'static str) -> Result<(), &'static str> {
    if holds {
        Ok(())
    } else {
        Err(what)
    }
}

/// `(hash, index)` pairs sorted by hash, exactly one for each of `items`,
/// each with its item's `hash`.
fn sorted_index<T>(index: &[(u32, usize)], items: &[T], hash: impl Fn(&T) -> u32) -> bool {
    let mut seen = vec![false; items.len()];
    index.len() == items.len()
        && index.windows(2).all(|w| matches!(w, [a, b] if a.0 <= b.0))
        && index.iter().all(|(h, i)| {
            items.get(*i).map(&hash) == Some(*h)
                && seen
                    .get_mut(*i)
                    .is_some_and(|s| !std::mem::replace(s, true))
        })
}
