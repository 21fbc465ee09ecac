//! Lifecycle: anonymous → engaged → MQL (a fit-tier × engagement matrix,
//! never one blended number) → SQL (a hand-raise or a complete, qualifying
//! BANT answer set). The highest stage reached is kept.

use crate::decay::round_to;
use crate::decision::LifecycleResult;
use crate::engine::Engine;
use crate::state::{VisitorState, LIFECYCLE};
use crate::text::Text;

/// Computes the lifecycle stage (index into `LIFECYCLE`) and its reason.
pub fn evaluate(
    engine: &Engine,
    s: &VisitorState,
    tier: &str,
    qualified: bool,
    engagement: f64,
) -> (u8, LifecycleResult) {
    let lc = &engine.lifecycle;
    let bant_complete = !engine.bant.is_empty()
        && engine.bant.iter().all(|d| {
            s.bant
                .iter()
                .find(|(dh, _)| *dh == d.hash)
                .and_then(|(dh, oh)| engine.bant_option(*dh, *oh))
                .is_some_and(|(_, o)| o.qualifying)
        });
    let mql_min = engine
        .tiers
        .iter()
        .find(|t| t.id == tier)
        .and_then(|t| t.mql);
    // A hand-raise or a BANT answer set from a disqualified visitor (a competitor,
    // a student) is not a sales-qualified lead.
    let (now, reason) = if s.hand_raise != 0 && qualified {
        (3u8, "raised a hand (demo or sales request)".to_string())
    } else if lc.bant_sql && bant_complete && qualified {
        (3, "complete, qualifying BANT answers".to_string())
    } else if let (Some(min), true) = (
        mql_min,
        qualified && mql_min.is_some_and(|m| engagement >= m),
    ) {
        (
            2,
            format!(
                "tier {tier} needs engagement {}, has {}",
                round_to(min, 1),
                engagement
            ),
        )
    } else if engagement >= lc.engaged_min {
        let why = match mql_min {
            Some(_) if !qualified => format!(
                "engagement {engagement} ≥ {}; not qualified for MQL",
                round_to(lc.engaged_min, 1)
            ),
            Some(m) => format!(
                "engagement {engagement} ≥ {}; tier {tier} needs {} for MQL",
                round_to(lc.engaged_min, 1),
                round_to(m, 1)
            ),
            None => format!(
                "engagement {engagement} ≥ {}; tier {tier} cannot be MQL",
                round_to(lc.engaged_min, 1)
            ),
        };
        (1, why)
    } else {
        (
            0,
            format!(
                "engagement {engagement} below {}",
                round_to(lc.engaged_min, 1)
            ),
        )
    };
    let reached = now.max(s.lifecycle.min(3));
    let reason = if reached > now {
        format!(
            "reached {} earlier",
            LIFECYCLE.get(usize::from(reached)).copied().unwrap_or("")
        )
    } else {
        reason
    };
    (
        reached,
        LifecycleResult {
            stage: LIFECYCLE
                .get(usize::from(reached))
                .copied()
                .map_or(Text::lit("anonymous"), Text::lit),
            reason,
            changed: reached > s.lifecycle,
        },
    )
}
