//! The lift of personalisation over the holdout: one definition for the
//! funnel view (`/api/funnel`, the dashboard's key figure) and for `buyerpath
//! calibrate content`, so the two never report different figures for one
//! store.
//!
//! A visitor is **exposed** at their first `Content Recommended`: treated
//! visitors see the picks, holdout visitors the slot defaults (the engine
//! sends the signal for both, with its `holdout` flag, which puts the visitor
//! in a group). A visitor **converts** when they reach MQL or SQL (the
//! product's outcome; a stage move is not a conversion) strictly after that
//! exposure: an MQL reached before it, or by the exposing decision itself
//! (same time), owes nothing to what was shown.

use super::round;
use serde::Serialize;

/// One visitor's part in the comparison, read from their signals in time order.
#[derive(Debug, Clone, Default)]
pub struct Exposure {
    first: Option<i64>,
    holdout: Option<bool>,
    converted: bool,
}

impl Exposure {
    /// A `Content Recommended` at `ts`: the first is the exposure; the group
    /// is the first `holdout` flag given.
    pub fn recommended(&mut self, ts: i64, holdout: Option<bool>) {
        self.first.get_or_insert(ts);
        if self.holdout.is_none() {
            self.holdout = holdout;
        }
    }

    /// An `MQL Reached` or `SQL Reached` at `ts`: a conversion only after the exposure.
    pub fn reached(&mut self, ts: i64) {
        if self.first.is_some_and(|t| ts > t) {
            self.converted = true;
        }
    }
}

/// Visitors and conversions per group.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    treated: usize,
    treated_converted: usize,
    holdout: usize,
    holdout_converted: usize,
}

impl Tally {
    /// Counts a visitor in their group (none without a `holdout` flag).
    pub fn add(&mut self, e: &Exposure) {
        let c = usize::from(e.converted);
        match e.holdout {
            Some(true) => {
                self.holdout += 1;
                self.holdout_converted += c;
            }
            Some(false) => {
                self.treated += 1;
                self.treated_converted += c;
            }
            None => {}
        }
    }

    pub fn lift(&self) -> Lift {
        compare(
            self.treated,
            self.treated_converted,
            self.holdout,
            self.holdout_converted,
        )
    }
}

/// Conversion of treated visitors vs the holdout, with 95% intervals.
#[derive(Debug, Clone, Serialize)]
pub struct Lift {
    pub treated_visitors: usize,
    pub treated_converted: usize,
    pub holdout_visitors: usize,
    pub holdout_converted: usize,
    pub treated_rate: Option<f64>,
    pub holdout_rate: Option<f64>,
    /// Difference in conversion (treated − holdout), percentage points as a fraction, and its 95% CI.
    pub difference: Option<f64>,
    pub difference_ci95: Option<(f64, f64)>,
    /// Relative lift (treated / holdout − 1) and its 95% CI (log ratio; needs
    /// a conversion in each group).
    pub lift: Option<f64>,
    pub lift_ci95: Option<(f64, f64)>,
    /// Two-proportion z statistic (|z| ≥ 1.96 ≈ significant at 95%).
    pub z: Option<f64>,
}

/// The comparison of `tc` of `tn` treated against `hc` of `hn` held out:
/// difference (Newcombe's interval), relative lift (Katz log-ratio interval)
/// and the pooled z statistic.
pub fn compare(tn: usize, tc: usize, hn: usize, hc: usize) -> Lift {
    let rate = |c: usize, n: usize| (n > 0).then(|| c as f64 / n as f64);
    let (rt, rh) = (rate(tc, tn), rate(hc, hn));
    let (mut difference, mut difference_ci95, mut lift, mut lift_ci95, mut z) =
        (None, None, None, None, None);
    if let (Some(t), Some(h)) = (rt, rh) {
        // Newcombe's interval from the two Wilson intervals: Wald's collapses
        // to a point at rates of 0 or 1 (5 of 5 against 0 of 3 read as
        // exactly +100 points).
        let d = t - h;
        let ((tl, tu), (hl, hu)) = (wilson(tc, tn), wilson(hc, hn));
        difference = Some(round(d, 4));
        difference_ci95 = Some((
            round(d - ((t - tl).powi(2) + (hu - h).powi(2)).sqrt(), 4),
            round(d + ((tu - t).powi(2) + (h - hl).powi(2)).sqrt(), 4),
        ));
        if h > 0.0 {
            // No treated conversion is a lift of −100%, but its log ratio has no interval.
            lift = Some(round(t / h - 1.0, 4));
        }
        if tc > 0 && hc > 0 {
            let l = (t / h).ln();
            let se = (1.0 / tc as f64 - 1.0 / tn as f64 + 1.0 / hc as f64 - 1.0 / hn as f64).sqrt();
            lift_ci95 = Some((
                round((l - 1.96 * se).exp() - 1.0, 4),
                round((l + 1.96 * se).exp() - 1.0, 4),
            ));
        }
        let p = (tc + hc) as f64 / (tn + hn) as f64;
        let se = (p * (1.0 - p) * (1.0 / tn as f64 + 1.0 / hn as f64)).sqrt();
        z = (se > 0.0).then(|| round(d / se, 3));
    }
    Lift {
        treated_visitors: tn,
        treated_converted: tc,
        holdout_visitors: hn,
        holdout_converted: hc,
        treated_rate: rt.map(|r| round(r, 4)),
        holdout_rate: rh.map(|r| round(r, 4)),
        difference,
        difference_ci95,
        lift,
        lift_ci95,
        z,
    }
}

/// The 95% Wilson score interval of `c` successes in `n` (n > 0).
fn wilson(c: usize, n: usize) -> (f64, f64) {
    let (z, n, p) = (1.96f64, n as f64, c as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_conversion_after_the_first_recommendation_counts() {
        let mut tally = Tally::default();
        // MQL before the first recommendation, and SQL by the same decision.
        let mut early = Exposure::default();
        early.reached(1);
        early.recommended(5, Some(false));
        early.reached(5);
        tally.add(&early);
        let mut later = Exposure::default();
        later.recommended(5, Some(true));
        later.recommended(6, Some(false));
        later.reached(7);
        tally.add(&later);
        let l = tally.lift();
        assert_eq!((l.treated_visitors, l.treated_converted), (1, 0));
        assert_eq!((l.holdout_visitors, l.holdout_converted), (1, 1));
        assert_eq!(l.lift, Some(-1.0));
        assert_eq!(l.lift_ci95, None);
    }

    #[test]
    fn lift_has_an_interval_and_a_z() {
        let l = compare(1000, 200, 100, 10);
        assert_eq!(l.lift, Some(1.0));
        let (lo, hi) = l.lift_ci95.unwrap();
        assert!(lo > 0.0 && hi > 1.0, "{lo} {hi}");
        assert!(l.z.unwrap() > 1.96, "{:?}", l.z);
    }
}
