//! The calibration report in words a marketer reads: what changed, why
//! (counts and win rates), and whether it ranks accounts better.

use super::fit::Report;
use super::metrics::TierRow;
use std::fmt::Write as _;

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

fn auc(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.3}"))
}

fn pts(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.fract() == 0.0 {
        format!("{x:+}")
    } else {
        format!("{x:+.1}")
    }
}

fn tiers_table(out: &mut String, rows: &[TierRow], thresholds: &[(String, f64)], model: bool) {
    let _ = writeln!(
        out,
        "| Tier | from score | rows (learn) | win rate (learn) |{} rows (held out) | win rate (held out) |",
        if model { " predicted |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|{}---:|---:|",
        if model { "---:|" } else { "" }
    );
    for r in rows {
        let min = thresholds
            .iter()
            .find(|(t, _)| *t == r.tier)
            .map_or("–".into(), |(_, m)| format!("{m}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |{} {} | {} |",
            r.tier,
            min,
            r.learn_n,
            pct(r.learn_rate),
            if model {
                format!(" {} |", pct(r.predicted))
            } else {
                String::new()
            },
            r.test_n,
            pct(r.test_rate)
        );
    }
}

/// The closed rows left out because no success outcome is of their kind.
fn other_kind(r: &Report) -> String {
    match r.other_kind_skipped {
        0 => String::new(),
        n => format!(
            "; {n} closed rows of another kind skipped (success names only {}: a renewal is not a lost deal)",
            if r.positive.iter().any(|p| super::crm::Outcome::parse(p).is_some_and(|o| !o.of_customer())) {
                "new deals"
            } else {
                "customers' outcomes"
            }
        ),
    }
}

/// Renders the report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Fit calibration: `{}` revision {} → {}\n",
        r.playbook_id, r.old_revision, r.new_revision
    );
    let _ = writeln!(
        o,
        "Learned from **{} closed rows** of `{}` ({} successes = {}; success means {}; {} open rows skipped{}). \
         {} rows were used to learn and **{} were held out** to test (seed {}): every figure below about \"held out\" \
         comes from accounts the calibration never saw.\n",
        r.rows,
        r.export,
        r.successes,
        pct(r.success_rate),
        r.positive.join(" / "),
        r.open_skipped,
        other_kind(r),
        r.learn_rows,
        r.test_rows,
        r.seed
    );
    let _ = writeln!(
        o,
        "New revision: `{}` — review it, then publish it (it is not live yet).\n",
        r.out
    );
    let _ = writeln!(o, "## Does it rank accounts better?\n");
    let _ = writeln!(o, "| Scoring | held-out AUC |\n|---|---:|");
    let _ = writeln!(
        o,
        "| Current playbook (revision {}) | {} |",
        r.old_revision,
        auc(r.auc.current)
    );
    let _ = writeln!(
        o,
        "| **Calibrated playbook (revision {})** | **{}** |",
        r.new_revision,
        auc(r.auc.calibrated)
    );
    let _ = writeln!(
        o,
        "| Plain logistic regression on the same bands (benchmark, not a playbook) | {} |",
        auc(r.auc.plain_logistic)
    );
    let _ = writeln!(
        o,
        "\nAUC is the chance that a randomly picked won account scores higher than a randomly picked lost one: \
         0.5 is a coin toss, 1.0 is perfect.\n"
    );
    let _ = writeln!(o, "## Do the tiers keep their promise?\n");
    let _ = writeln!(
        o,
        "A tier's win rate on the learning rows is what it promises; the held-out win rate is what happened. \
         Good tiers fall steeply from the first to the last and hold their promise.\n"
    );
    let _ = writeln!(o, "**Current playbook**\n");
    tiers_table(&mut o, &r.tiers_current, &r.thresholds_current, false);
    let _ = writeln!(o, "\n**Calibrated playbook**\n");
    tiers_table(&mut o, &r.tiers_calibrated, &r.thresholds_calibrated, true);
    let _ = writeln!(
        o,
        "\n\"predicted\" is the model's own win probability, averaged over the tier's held-out rows. A row is a closed opportunity (or renewal); an account with several counts once in the fit, each of its rows here.\n"
    );
    let _ = writeln!(o, "## What changed, criterion by criterion\n");
    let _ = writeln!(
        o,
        "Points now mean the same everywhere: **+10 points double the odds of winning**, −10 halve them; \
         an unknown attribute scores 0. Criteria are listed by how much they separate accounts now \
         (the spread of their points over the accounts).\n"
    );
    let mut order: Vec<usize> = (0..r.criteria.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (r.criteria.get(a), r.criteria.get(b));
        let (xi, yi) = (
            x.map_or(0.0, |c| c.new_importance),
            y.map_or(0.0, |c| c.new_importance),
        );
        yi.total_cmp(&xi).then(a.cmp(&b))
    });
    for c in order.iter().filter_map(|&i| r.criteria.get(i)) {
        let _ = writeln!(
            o,
            "### {} (`{}`)\n\nKnown for {} rows (win rate {}); unknown for {} (win rate {}). Spread: {:.1} points now, {:.1} before.\n",
            if c.label.is_empty() { &c.id } else { &c.label },
            c.attribute,
            c.known,
            pct(c.known_win_rate),
            c.unknown,
            pct(c.unknown_win_rate),
            c.new_importance,
            c.old_importance
        );
        let _ = writeln!(o, "| Band | rows | won | win rate | points before | points now |\n|---|---:|---:|---:|---:|---:|");
        for b in &c.bands {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                b.band.replace('|', "/"),
                b.accounts,
                b.won,
                pct(b.win_rate),
                pts(b.old_points),
                pts(b.new_points)
            );
        }
        if let Some(w) = &c.warning {
            let _ = writeln!(o, "\n> ⚠ {w}");
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "## Warnings\n");
    if r.warnings.is_empty() {
        let _ = writeln!(o, "None.");
    }
    for w in &r.warnings {
        let _ = writeln!(o, "- {w}");
    }
    let _ = writeln!(
        o,
        "\n## How this was computed\n\n\
         Each band (and \"anything else\") of each criterion is one yes/no feature, matched by the engine itself. \
         A logistic regression learns how much each band changes the odds of success, with an L2 penalty (λ = {}) \
         that pulls every band toward its current points ({:.4} log-odds per current point, fitted on the learning rows): \
         bands with little evidence keep about their current points on that scale, so a band with none changes by the \
         change of scale alone. An account's rows share one weight: repeated, they are one account's evidence. The log-odds are turned into whole points \
         ({:.2} points per unit of log-odds), and the tier minimums are cut from the new score distribution so that \
         each tier holds about as many accounts as before (10% / 20% / 30% / rest when a current tier is nearly empty; \
         or `--tier-shares`). The benchmark is the same regression \
         without the pull (λ = 0.001). Same inputs and seed, same output.",
        r.l2, r.current_scale, r.points_per_logit
    );
    o
}
