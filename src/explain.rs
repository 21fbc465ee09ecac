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
            percent(d.fit.coverage, 0)
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
    // The decision lists the largest rules only: the rest, so the lines add
    // up. Each figure is rounded to hundredths on its own, so up to 0.005 a
    // line is rounding, not a rule (and fewer lines than the list holds are
    // every rule).
    let listed: f64 = d.engagement.top.iter().map(|r| r.points).sum();
    let rest = crate::decay::round_to(d.engagement.points - listed, 2);
    let noise = 0.005 * (crate::engagement::TOP_RULES + 1) as f64;
    if d.engagement.top.len() >= crate::engagement::TOP_RULES && rest.abs() > noise {
        let _ = writeln!(o, "   {:>7}  (the other rules)", signed(rest));
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
        percent(d.stage.confidence, 0),
        change
    );
    // The likeliest stage, when it is not the one kept: hysteresis (the
    // playbook's margin) holds the stage until a challenger clearly leads.
    // Equal as shown (4 decimals) is no lead: the engine chose on the digits
    // past them.
    let shown = d
        .stage
        .distribution
        .iter()
        .find(|p| p.id == d.stage.id)
        .map_or(d.stage.confidence, |p| p.p);
    if let Some(lead) = likeliest(&d.stage.distribution).filter(|l| l.p > shown) {
        let _ = writeln!(
            o,
            "  (kept by hysteresis: {} leads with {}%, not yet by the playbook's margin over {})",
            lead.id,
            percent(lead.p, 1),
            d.stage.id
        );
    }
    for p in &d.stage.distribution {
        let bar = "█".repeat((p.p * 40.0).round() as usize);
        let mark = if p.id == d.stage.id { "▶" } else { " " };
        let _ = writeln!(o, "  {mark} {:<26} {:>5}% {bar}", p.id, percent(p.p, 1));
    }
    // `unknown`: no evidence yet, or the likeliest role is under the
    // playbook's `min_confidence`.
    let confidence = percent(d.role.confidence, 0);
    let ahead = likeliest(&d.role.distribution)
        .filter(|top| d.role.distribution.iter().filter(|p| p.p == top.p).count() == 1);
    let confidence = match ahead {
        Some(p) if d.role.id == "unknown" && d.role.evidence.is_empty() => {
            format!("likeliest {} at {confidence}% from the priors alone", p.id)
        }
        None if d.role.id == "unknown" => {
            format!("no role ahead of the others, {confidence}% at most")
        }
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
        .reduce(|best, p| if p.p > best.p { p } else { best })
}

/// `x` (a figure of the decision: a few decimals) with `digits` decimals,
/// rounded half away from zero on the decimal the figure is written as, not
/// on the double's binary expansion: 1.2585 is 1.259.
fn fixed(x: f64, digits: usize) -> String {
    shifted(x, 0, digits)
}

/// A share (0.145) as a percentage with `digits` decimals, rounded as
/// [`fixed`] rounds (14.5%, or 15% with none: `0.145 * 100.0` is
/// 14.499999999999998).
fn percent(x: f64, digits: usize) -> String {
    shifted(x, 2, digits)
}

/// `x` × 10^`shift` with `digits` decimals, worked on the shortest decimal
/// that reads back as `x`.
fn shifted(x: f64, shift: usize, digits: usize) -> String {
    let text = format!("{}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    // The point moved `shift` places right, and `digits` decimals kept.
    let frac = format!("{frac:0<width$}", width = shift + digits + 1);
    let (moved, rest) = frac.split_at(shift + digits);
    let exact = format!("{int}{moved}");
    let up = rest.as_bytes().first().is_some_and(|d| *d >= b'5');
    let Ok(n) = exact.parse::<u64>().map(|n| n + u64::from(up)) else {
        return format!(
            "{:.digits$}",
            x * 10f64.powi(i32::try_from(shift).unwrap_or(0))
        );
    };
    let scale = 10u64.pow(u32::try_from(digits).unwrap_or(0));
    let sign = if x < 0.0 && n != 0 { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{n}")
    } else {
        format!("{sign}{}.{:0digits$}", n / scale, n % scale)
    }
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
    use super::{fixed, percent, signed};

    #[test]
    fn figures_are_rounded_as_the_engine_rounds_them() {
        assert_eq!(fixed(1.2585, 3), "1.259");
        assert_eq!(fixed(1.19, 3), "1.190");
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-1.2585, 3), "-1.259");
        assert_eq!(percent(0.725, 0), "73");
        assert_eq!(percent(0.145, 0), "15");
        assert_eq!(percent(0.0435, 1), "4.4");
        assert_eq!(percent(0.35, 1), "35.0");
        assert_eq!(percent(1.0, 1), "100.0");
        // Every share of four decimals, as the decision writes them.
        for i in 0..=10_000u32 {
            let p = f64::from(i) / 10_000.0;
            let want = (i + 5) / 10; // tenths of a percent, half up
            assert_eq!(percent(p, 1), format!("{}.{}", want / 10, want % 10), "{p}");
        }
        assert_eq!(signed(0.0), "0");
        assert_eq!(signed(-0.04), "-0.04");
        assert_eq!(signed(12.0), "+12");
        assert_eq!(signed(1.28), "+1.28");
    }
}
