//! Engagement at read time: every rule's aggregate decayed from the time the
//! state values it at (`valued_at`) to `now`, filtered by the rule's
//! `only_if`, summed and normalised.

use crate::decay::{round_to, Factors};
use crate::decision::{EngagementResult, RulePoints};
use crate::engine::Engine;
use crate::state::VisitorState;
use serde_json::{Map, Value};

/// Engagement and the decayed points of each trait.
pub struct EngagementNow {
    /// The reported result.
    pub result: EngagementResult,
    /// `traits.<name>` values.
    pub traits: Map<String, Value>,
}

/// Rules a decision lists by their points (`engagement.top`): the largest.
pub const TOP_RULES: usize = 5;

/// Computes engagement at `now`.
pub fn evaluate(
    engine: &Engine,
    s: &VisitorState,
    attrs: &crate::attrs::Attrs<'_>,
    now: u64,
) -> EngagementNow {
    let dt = s.elapsed_since_valued(now);
    let mut total = 0i64;
    let mut contributions = Vec::with_capacity(s.rules.len());
    let mut traits = vec![0i64; engine.traits.len()];
    let mut f = Factors::over(dt);
    let mut rule_of = engine.engagement.cursor();
    for agg in &s.rules {
        let Some(rule) = rule_of(agg.hash) else {
            continue;
        };
        if let Some(c) = &rule.only_if {
            if !c.holds(attrs, &engine.lists) {
                continue;
            }
        }
        let v = f.decay(agg.micro, rule.half_life_ms);
        if v == 0 {
            continue;
        }
        total = total.saturating_add(v);
        for t in &rule.traits {
            if let Some(x) = traits.get_mut(*t) {
                *x = x.saturating_add(v);
            }
        }
        contributions.push((&rule.id, v));
    }
    // The largest by absolute value (rule ids are unique: a total order).
    let top = crate::sort::first_by(contributions, TOP_RULES, |a, b| {
        b.1.unsigned_abs()
            .cmp(&a.1.unsigned_abs())
            .then_with(|| a.0.cmp(b.0))
    });
    // From the exact micro-points in one division, so that a total ending in
    // 5 rounds as the points shown do (21.375 points of 150: 14.25, so 14.3;
    // dividing the points first gave 14.2499…, so 14.2 beside 21.38 points).
    let score = round_to(
        score_of(total, engine.engagement.saturation).clamp(0.0, 100.0),
        1,
    );
    // A rule whose points show as 0.00 is not among those that count.
    let top = top
        .iter()
        .map(|(id, v)| RulePoints {
            rule: (*id).clone(),
            points: hundredths(*v),
        })
        .filter(|r| r.points != 0.0)
        .collect();
    // Trait names are unique: inserted one by one, as `collect` would build
    // the map, without the sort `collect` compiles for it.
    let mut by_name = Map::new();
    for (name, v) in engine.traits.iter().zip(traits) {
        by_name.insert(name.clone(), Value::from(hundredths(v)));
    }
    EngagementNow {
        result: EngagementResult {
            score,
            points: hundredths(total),
            top,
            ignored_events: s.ignored,
        },
        traits: by_name,
    }
}

/// Micro-points to two decimals, half away from zero, from the exact integer
/// (1,275,000 micro-points are 1.28; `round_to(1.275, 2)` reads the double
/// 1.27499… and gives 1.27, beside a score that counted 1.275).
fn hundredths(micro: i64) -> f64 {
    let cents = if micro >= 0 {
        micro.saturating_add(5_000) / 10_000
    } else {
        micro.saturating_sub(5_000) / 10_000
    };
    cents as f64 / 100.0
}

/// The score (0–100 before clamping) of `total` micro-points against the
/// saturation. A saturation written with at most three decimals (0.56, 150)
/// is a whole number of milli-points, and the division is of two exact
/// numbers, so a score ending in 5 at the second decimal is exactly that.
fn score_of(total: i64, saturation: f64) -> f64 {
    let milli = (saturation * 1000.0).round();
    if (milli - saturation * 1000.0).abs() < 1e-6 * milli.max(1.0) && milli >= 1.0 {
        // total / 1e6 / (milli / 1000) * 100
        total as f64 * 100.0 / (milli * 1000.0)
    } else {
        total as f64 / (saturation * 10_000.0)
    }
}
