//! A decision as a report a marketer can read: fit with its criteria, the
//! stage distribution as bars, role, lifecycle, picks with their reasons.

use crate::decay::round_to;
use crate::decision::Decision;
use crate::text::Text;
use crate::time::iso8601;
use std::fmt::Write;

/// Renders a decision as plain text (UTF-8, no colour).
pub fn explain(d: &Decision) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Visitor {} · decision {} · {} · playbook {} r{}",
        d.visitor_id,
        d.seq,
        iso8601(d.now),
        d.playbook.id,
        d.playbook.revision
    );
    let gates: Vec<String> = d
        .gates
        .iter()
        .map(|g| format!("{} {}", g.id, g.status))
        .collect();
    let _ = writeln!(
        o,
        "Qualified: {}  ({})",
        if d.qualified { "yes" } else { "NO" },
        gates.join(", ")
    );
    if d.fit.from_state {
        let _ = writeln!(
            o,
            "Fit: {} → tier {}  (from the visitor state: this playbook has no fit criteria, and the decision that had them put the fit there)",
            d.fit.score, d.fit.tier
        );
    } else {
        let _ = writeln!(
            o,
            "Fit: {} → tier {}  (known attributes cover {}% of the reachable points)",
            d.fit.score,
            d.fit.tier,
            fixed(d.fit.coverage * 100.0, 0)
        );
    }
    for c in &d.fit.criteria {
        let _ = writeln!(o, "   {:>7}  {:<28} {}", signed(c.points), c.id, c.band);
    }
    let _ = writeln!(
        o,
        "Engagement: {}  ({} points after decay{})",
        d.engagement.score,
        d.engagement.points,
        if d.engagement.ignored_events > 0 {
            format!("; {} bot-like events ignored", d.engagement.ignored_events)
        } else {
            String::new()
        }
    );
    for r in &d.engagement.top {
        let _ = writeln!(o, "   {:>7}  {}", signed(r.points), r.rule);
    }
    let change = match (&d.stage.previous, d.stage.moved_back) {
        (Some(p), true) => format!("  ← moved back from {p}"),
        (Some(p), false) => format!("  ← changed from {p}"),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "Stage: {} ({}%){}",
        d.stage.id,
        fixed(d.stage.confidence * 100.0, 0),
        change
    );
    // The likeliest stage, when it is not the one kept: hysteresis (the
    // playbook's margin) holds the stage until a challenger clearly leads.
    if let Some(lead) = likeliest(&d.stage.distribution).filter(|l| l.id != d.stage.id) {
        let _ = writeln!(
            o,
            "  (kept by hysteresis: {} leads with {}%, not yet by the playbook's margin over {})",
            lead.id,
            fixed(lead.p * 100.0, 1),
            d.stage.id
        );
    }
    for p in &d.stage.distribution {
        let bar = "█".repeat((p.p * 40.0).round() as usize);
        let mark = if p.id == d.stage.id { "▶" } else { " " };
        let _ = writeln!(
            o,
            "  {mark} {:<26} {:>5}% {bar}",
            p.id,
            fixed(p.p * 100.0, 1)
        );
    }
    // `unknown`: the likeliest role is under the playbook's `min_confidence`.
    let confidence = fixed(d.role.confidence * 100.0, 0);
    let confidence = match likeliest(&d.role.distribution) {
        Some(p) if d.role.id == "unknown" => {
            format!(
                "likeliest {} at {confidence}%, under the playbook's min_confidence",
                p.id
            )
        }
        _ => format!("{confidence}%"),
    };
    let _ = writeln!(
        o,
        "Role: {} ({}){}{}",
        d.role.id,
        confidence,
        d.role
            .seniority
            .as_ref()
            .map(|s| format!(", seniority {s}"))
            .unwrap_or_default(),
        if d.role.evidence.is_empty() {
            ", no evidence yet".to_string()
        } else {
            format!(
                "; evidence: {}",
                d.role
                    .evidence
                    .iter()
                    .map(Text::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let _ = writeln!(
        o,
        "Lifecycle: {} — {}{}",
        d.lifecycle.stage,
        d.lifecycle.reason,
        if d.lifecycle.changed { " (new)" } else { "" }
    );
    for t in &d.triggers {
        let _ = writeln!(o, "Sales trigger fired: {} — {}", t.id, t.label);
    }
    let _ = writeln!(
        o,
        "Holdout: {}   Exploration changed a pick: {}",
        yes(d.holdout),
        yes(d.explored)
    );
    for s in &d.slots {
        let _ = writeln!(
            o,
            "Slot {}{}:",
            s.slot,
            if s.default { " (default)" } else { "" }
        );
        if s.picks.is_empty() {
            let _ = writeln!(
                o,
                "   no pick: nothing eligible for this visitor, the slot's default included; the page keeps its own markup"
            );
        }
        for p in &s.picks {
            let _ = writeln!(
                o,
                "   {}  {} [{}] {}",
                fixed(p.score, 3),
                p.id,
                p.format,
                p.title
            );
            let _ = writeln!(
                o,
                "          because {}",
                p.reasons.iter().collect::<Vec<_>>().join("; ")
            );
        }
    }
    let _ = writeln!(
        o,
        "Next-best action: {}{}{}",
        d.action.id,
        if d.action.label.is_empty() {
            String::new()
        } else {
            format!(" — {}", d.action.label)
        },
        d.action
            .cta
            .as_ref()
            .map(|c| format!(" (CTA: {c})"))
            .unwrap_or_default()
    );
    let names: Vec<&str> = d.signals.iter().map(|s| s.event).collect();
    let _ = writeln!(
        o,
        "Signals: {}",
        if names.is_empty() && d.lifecycle.reason == crate::decide::BOT_REASON {
            "none (flagged as a bot)".to_string()
        } else if names.is_empty() {
            "none (consent none, or nothing the playbook reports happened)".to_string()
        } else {
            names.join(", ")
        }
    );
    o
}

/// The likeliest of a distribution (the first of equals).
fn likeliest(distribution: &[crate::decision::Prob]) -> Option<&crate::decision::Prob> {
    distribution
        .iter()
        .fold(None, |best: Option<&crate::decision::Prob>, p| match best {
            Some(b) if b.p >= p.p => Some(b),
            _ => Some(p),
        })
}

/// `x` with `digits` decimals, rounded as the engine rounds its figures
/// (half away from zero on the decimal written, not on the double's
/// expansion: 1.2585 is 1.259, 72.5% is 73%).
fn fixed(x: f64, digits: usize) -> String {
    let r = round_to(x, i32::try_from(digits).unwrap_or(0));
    format!("{r:.digits$}")
}

/// Points with their sign, as the decision has them (two decimals at most),
/// and a bare 0 for none.
fn signed(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else {
        format!("{x:+}")
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::{fixed, signed};

    #[test]
    fn figures_are_rounded_as_the_engine_rounds_them() {
        assert_eq!(fixed(1.2585, 3), "1.259");
        assert_eq!(fixed(72.5, 0), "73");
        assert_eq!(fixed(0.35 * 100.0, 1), "35.0");
        assert_eq!(signed(0.0), "0");
        assert_eq!(signed(-0.04), "-0.04");
        assert_eq!(signed(12.0), "+12");
        assert_eq!(signed(1.28), "+1.28");
    }
}
