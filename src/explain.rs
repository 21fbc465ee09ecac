//! A decision as a report a marketer can read: fit with its criteria, the
//! stage distribution as bars, role, lifecycle, picks with their reasons.

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
    let _ = writeln!(
        o,
        "Fit: {} → tier {}  (known attributes cover {:.0}% of the reachable points{})",
        d.fit.score,
        d.fit.tier,
        d.fit.coverage * 100.0,
        if d.fit.from_state {
            "; from the signed state"
        } else {
            ""
        }
    );
    for c in &d.fit.criteria {
        let _ = writeln!(o, "   {:>+7.1}  {:<28} {}", c.points, c.id, c.band);
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
        let _ = writeln!(o, "   {:>+7.1}  {}", r.points, r.rule);
    }
    let change = match (&d.stage.previous, d.stage.moved_back) {
        (Some(p), true) => format!("  ← moved back from {p}"),
        (Some(p), false) => format!("  ← changed from {p}"),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "Stage: {} ({:.0}%){}",
        d.stage.id,
        d.stage.confidence * 100.0,
        change
    );
    for p in &d.stage.distribution {
        let bar = "█".repeat((p.p * 40.0).round() as usize);
        let mark = if p.id == d.stage.id { "▶" } else { " " };
        let _ = writeln!(o, "  {mark} {:<26} {:>5.1}% {bar}", p.id, p.p * 100.0);
    }
    let _ = writeln!(
        o,
        "Role: {} ({:.0}%){}{}",
        d.role.id,
        d.role.confidence * 100.0,
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
        for p in &s.picks {
            let _ = writeln!(o, "   {:.3}  {} [{}] {}", p.score, p.id, p.format, p.title);
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
            "none (no consent)".to_string()
        } else {
            names.join(", ")
        }
    );
    o
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
