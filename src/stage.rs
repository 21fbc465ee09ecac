//! Buying-journey stage: a distribution from priors, the account snapshot and
//! decayed evidence; the reported stage changes only when another stage beats
//! it by the hysteresis margin (relative: with 0.2 the challenger needs 1.2×
//! the current stage's probability), so one page view does not make it flap.

use crate::decay::{factor, round_to};
use crate::decision::{Prob, StageResult};
use crate::engine::Engine;
use crate::state::VisitorState;
use serde_json::Value;

/// The stage decision and the index of the reported stage.
pub struct StageNow {
    /// Reported result.
    pub result: StageResult,
    /// Index of the reported stage.
    pub index: usize,
    /// Probabilities by stage index (0 for ineligible stages).
    pub p: Vec<f64>,
    /// Whether each stage is possible for this visitor (`requires`).
    pub eligible: Vec<bool>,
}

/// Computes the stage distribution and applies hysteresis against the state's stage.
pub fn evaluate(
    engine: &Engine,
    s: &VisitorState,
    attrs: &crate::attrs::Attrs<'_>,
    now: u64,
) -> StageNow {
    let sm = &engine.stage_model;
    let decay = factor(s.elapsed_since_valued(now), sm.half_life_ms);
    let account_stage = attrs
        .account()
        .get("stage")
        .filter(|v| !v.is_null())
        .and_then(Value::as_str);
    let mut eligible: Vec<bool> = engine
        .stages
        .iter()
        .map(|st| {
            st.requires
                .as_ref()
                .map(|c| c.holds(attrs, &engine.lists))
                .unwrap_or(true)
        })
        .collect();
    if !eligible.iter().any(|e| *e) {
        eligible.iter_mut().for_each(|e| *e = true);
    }
    let weights: Vec<f64> = engine
        .stages
        .iter()
        .zip(&eligible)
        .map(|(st, ok)| {
            if !ok {
                return 0.0;
            }
            let ev = crate::state::evidence(&s.stages, st.hash) as f64 / crate::state::UNIT * decay;
            let acct = if account_stage == Some(st.id.as_str()) {
                sm.account_prior_weight
            } else {
                0.0
            };
            st.prior + acct + ev
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let n_ok = eligible.iter().filter(|e| **e).count().max(1) as f64;
    let p: Vec<f64> = weights
        .iter()
        .zip(&eligible)
        .map(|(w, ok)| match (*ok, sum > 0.0) {
            (false, _) => 0.0,
            (true, true) => w / sum,
            (true, false) => 1.0 / n_ok,
        })
        .collect();
    let best = argmax(&p);
    let prev = engine
        .stages
        .iter()
        .position(|st| st.hash == s.stage && s.stage != 0);
    let pv = |i: usize| p.get(i).copied().unwrap_or(0.0);
    let index = match prev {
        Some(pi)
            if eligible.get(pi).copied().unwrap_or(false)
                && pv(best) < pv(pi) * (1.0 + sm.hysteresis) =>
        {
            pi
        }
        _ => best,
    };
    let changed = prev.is_some_and(|pi| pi != index);
    let result = StageResult {
        id: engine
            .stages
            .get(index)
            .map(|st| st.id.clone())
            .unwrap_or_default(),
        confidence: round_to(pv(index), 4),
        changed,
        previous: if changed {
            prev.and_then(|pi| engine.stages.get(pi))
                .map(|st| st.id.clone())
        } else {
            None
        },
        moved_back: changed && prev.is_some_and(|pi| index < pi),
        distribution: engine
            .stages
            .iter()
            .zip(&p)
            .zip(&eligible)
            .filter(|(_, ok)| **ok)
            .map(|((st, p), _)| Prob {
                id: st.id.clone(),
                p: round_to(*p, 4),
            })
            .collect(),
    };
    StageNow {
        result,
        index,
        p,
        eligible,
    }
}

/// Index of the largest value; the first wins ties.
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in p.iter().enumerate() {
        if *x > p.get(best).copied().unwrap_or(f64::MIN) {
            best = i;
        }
    }
    best
}
