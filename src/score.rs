//! Scoring only: the gates, fit and engagement of a visitor as they stand,
//! without stage, role, ranking, signals or any change to the state. What
//! batch scoring, CRM enrichment and a comparison with a rules engine need;
//! the numbers are the ones `decide` would report for the same request.

use crate::attrs::Attrs;
use crate::context::{Consent, DecideRequest};
use crate::decision::{EngagementResult, FitResult, GateResult};
use crate::engine::Engine;
use crate::state::VisitorState;
use crate::{engagement, fit, gates, role};
use serde::Serialize;

/// Gates, fit and engagement for one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Every gate passed.
    pub qualified: bool,
    /// Each gate's outcome.
    pub gates: Vec<GateResult>,
    /// Fit against the ideal customer profile, with every criterion's points.
    pub fit: FitResult,
    /// Engagement after decay and caps (0 for a host-flagged bot).
    pub engagement: EngagementResult,
}

/// Scores a visitor for a request; the state is only read. The request's
/// slots are not used (nothing is ranked), so an unknown slot is not an error.
pub fn score(engine: &Engine, s: &VisitorState, req: &DecideRequest) -> Scores {
    let ctx = &req.context;
    // Without full consent `decide` forgets the BANT answers before reading
    // the attributes; here a copy forgets them.
    let anonymous;
    let s = if ctx.consent == Consent::Full || s.bant.is_empty() {
        s
    } else {
        let mut copy = s.clone();
        copy.bant.clear();
        anonymous = copy;
        &anonymous
    };
    // The person's own words count only with full consent, as in `decide`.
    let seniority = if ctx.consent != Consent::Full {
        None
    } else {
        role::person_reading(engine, s, &ctx.person).1
    };
    let seniority_id = seniority
        .and_then(|i| engine.role_model.seniority.get(i))
        .map(|x| x.id.as_str());
    let a = Attrs::base(engine, s, ctx, req.now, seniority_id);
    let (gates, qualified) = gates::evaluate(engine, &a);
    let fit = fit::evaluate(engine, s, &a);
    let mut engagement = engagement::evaluate(engine, s, &a, req.now).result;
    if ctx.bot {
        engagement.silence();
    }
    Scores {
        qualified,
        gates,
        fit,
        engagement,
    }
}
