//! From log-odds to the playbook's integer points, and tier thresholds from
//! the score distribution.

/// Points per unit of log-odds: 10 points double the odds of success
/// (10 / ln 2). Rounding to whole points costs at most 0.035 log-odds a band.
pub const POINTS_PER_LOGIT: f64 = 10.0 / std::f64::consts::LN_2;

/// Whole points for each coefficient (no `-0`).
pub fn to_points(coef: &[f64]) -> Vec<f64> {
    coef.iter()
        .map(|c| {
            let p = (c * POINTS_PER_LOGIT).round();
            if p == 0.0 {
                0.0
            } else {
                p
            }
        })
        .collect()
}

/// Tier minimums (best tier first, the last always 0) so that the tiers
/// hold `shares` of the scores (fractions, best first; the last tier takes
/// the rest). Minimums are whole numbers and strictly falling, as the
/// playbook requires.
pub fn thresholds(scores: &[f64], shares: &[f64], tiers: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let n = sorted.len();
    let mut out = Vec::with_capacity(tiers);
    let mut cum = 0.0;
    let mut prev = 101.0f64;
    for t in 0..tiers {
        if t + 1 == tiers {
            out.push(0.0);
            break;
        }
        cum += shares.get(t).copied().unwrap_or(0.0);
        let k = ((cum * n as f64 - 1e-9).ceil() as usize).clamp(1, n.max(1));
        let s = sorted.get(k - 1).copied().unwrap_or(0.0);
        // Leave room below for the remaining tiers (each needs a minimum ≥ 1).
        let room = (tiers - 1 - t) as f64;
        let m = s.floor().min(prev - 1.0).max(room).min(100.0);
        out.push(m);
        prev = m;
    }
    out
}

/// Each tier's share of `tiers_of` (tier ids per row), in the order of `tiers`.
pub fn shares(tiers: &[String], tiers_of: &[String]) -> Vec<f64> {
    let n = tiers_of.len().max(1) as f64;
    tiers
        .iter()
        .map(|t| tiers_of.iter().filter(|x| *x == t).count() as f64 / n)
        .collect()
}

/// 10%, 20%, 30%... for the tiers above the last, at most 90% in all.
pub fn default_shares(tiers: usize) -> Vec<f64> {
    let mut left = 0.9;
    (1..tiers)
        .map(|i| {
            let s = (0.1 * i as f64).min(left);
            left -= s;
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_points_double_the_odds() {
        assert_eq!(
            to_points(&[std::f64::consts::LN_2, -0.01, 0.0]),
            vec![10.0, 0.0, 0.0]
        );
    }

    #[test]
    fn thresholds_follow_the_shares() {
        let scores: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(
            thresholds(&scores, &[0.1, 0.2, 0.3], 4),
            vec![90.0, 70.0, 40.0, 0.0]
        );
        // Degenerate: all equal scores still give valid, falling minimums.
        assert_eq!(
            thresholds(&[0.0; 10], &[0.1, 0.2, 0.3], 4),
            vec![3.0, 2.0, 1.0, 0.0]
        );
    }
}
