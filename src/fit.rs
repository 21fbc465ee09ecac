//! ICP fit: each criterion scores its first matching band; unknown attributes
//! are neutral (0 points); the sum is normalised to 0–100 against the best
//! reachable total and mapped to a tier.

use crate::attrs::Attrs;
use crate::decay::round_to;
use crate::decision::{CriterionResult, FitResult};
use crate::engine::{Band, Engine};
use crate::state::VisitorState;
use crate::text::Text;
use serde_json::Value;

/// Computes fit. Without criteria (a browser-safe playbook) the fit comes from the state.
pub fn evaluate(engine: &Engine, s: &VisitorState, attrs: &Attrs<'_>) -> FitResult {
    if engine.criteria.is_empty() {
        let (score, tier) = if s.fit_score <= 100 {
            (
                f64::from(s.fit_score),
                engine.tiers.get(usize::from(s.fit_tier)),
            )
        } else {
            (0.0, None)
        };
        let tier = tier
            .or_else(|| tier_for(engine, score))
            .map(|t| t.id.clone())
            .unwrap_or_default();
        return FitResult {
            score,
            tier,
            coverage: 0.0,
            criteria: Vec::new(),
            from_state: s.fit_score <= 100,
        };
    }
    let mut total = 0.0;
    let mut known_max = 0.0;
    let mut criteria = Vec::with_capacity(engine.criteria.len());
    for c in &engine.criteria {
        let Some(value) = attrs.lookup(&c.path) else {
            continue;
        };
        known_max += c.max;
        let band = c
            .bands
            .iter()
            .find(|b| band_matches(engine, b, value, attrs));
        let (label, pts) = match band {
            Some(b) => (b.label.clone(), b.points * c.weight),
            None => (Text::lit("otherwise"), c.otherwise * c.weight),
        };
        total += pts;
        if pts != 0.0 {
            criteria.push(CriterionResult {
                id: c.id.clone(),
                band: label,
                points: round_to(pts, 2),
            });
        }
    }
    crate::sort::sort_by(&mut criteria, |a, b| {
        b.points
            .abs()
            .total_cmp(&a.points.abs())
            .then_with(|| a.id.cmp(&b.id))
    });
    let score = if engine.fit_max > 0.0 {
        (total / engine.fit_max * 100.0).clamp(0.0, 100.0)
    } else {
        0.0
    };
    let score = round_to(score, 1);
    let coverage = if engine.fit_max > 0.0 {
        round_to(known_max / engine.fit_max, 3)
    } else {
        0.0
    };
    let tier = tier_for(engine, score)
        .map(|t| t.id.clone())
        .unwrap_or_default();
    FitResult {
        score,
        tier,
        coverage,
        criteria,
        from_state: false,
    }
}

/// The tier a score falls in (tiers are ordered best first).
pub fn tier_for(engine: &Engine, score: f64) -> Option<&crate::engine::Tier> {
    engine
        .tiers
        .iter()
        .find(|t| score >= t.min)
        .or_else(|| engine.tiers.last())
}

fn band_matches(engine: &Engine, b: &Band, value: &Value, attrs: &Attrs<'_>) -> bool {
    if b.min.is_some() || b.max.is_some() {
        let Some(x) = value.as_f64() else {
            return false;
        };
        if b.min.map(|m| x < m).unwrap_or(false) || b.max.map(|m| x >= m).unwrap_or(false) {
            return false;
        }
    }
    if let Some(vals) = &b.in_values {
        // The values were lower-cased (Unicode) at compile time; an ASCII
        // value compares without a copy, any other is lower-cased the same way.
        let hit = |v: &Value| match v.as_str() {
            Some(s) if s.is_ascii() => vals.iter().any(|x| x.eq_ignore_ascii_case(s)),
            Some(s) => {
                let lower = s.to_lowercase();
                vals.contains(&lower)
            }
            None => false,
        };
        let ok = match value {
            Value::Array(a) => a.iter().any(hit),
            v => hit(v),
        };
        if !ok {
            return false;
        }
    }
    match &b.when {
        Some(c) => c.holds(attrs, &engine.lists),
        None => true,
    }
}
