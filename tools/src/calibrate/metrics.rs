//! How well a score ranks and how well its tiers keep their promise.

use serde::Serialize;

/// Area under the ROC curve: the chance that a random success scores above a
/// random failure (ties count half). `None` without both classes.
pub fn auc(scores: &[f64], y: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len().min(y.len())).collect();
    idx.sort_by(|&a, &b| {
        let (x, z) = (
            scores.get(a).copied().unwrap_or(0.0),
            scores.get(b).copied().unwrap_or(0.0),
        );
        x.total_cmp(&z)
    });
    let (mut rank_sum, mut pos, mut neg) = (0.0, 0usize, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let s = idx
            .get(i)
            .and_then(|&k| scores.get(k))
            .copied()
            .unwrap_or(0.0);
        let mut j = i;
        while j < idx.len() && idx.get(j).and_then(|&k| scores.get(k)).copied() == Some(s) {
            j += 1;
        }
        // Average rank (1-based) of the tied block i..j.
        let avg = (i + 1 + j) as f64 / 2.0;
        for k in i..j {
            if idx.get(k).and_then(|&r| y.get(r)).copied().unwrap_or(false) {
                rank_sum += avg;
                pos += 1;
            } else {
                neg += 1;
            }
        }
        i = j;
    }
    if pos == 0 || neg == 0 {
        return None;
    }
    let p = pos as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * neg as f64))
}

/// One tier's promise against what happened on held-out rows.
#[derive(Debug, Clone, Serialize)]
pub struct TierRow {
    pub tier: String,
    /// Learning rows in the tier and their success rate (what the tier promises).
    pub learn_n: usize,
    pub learn_rate: Option<f64>,
    /// The model's mean predicted probability on the held-out rows (calibrated playbook only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted: Option<f64>,
    /// Held-out rows in the tier, their successes and success rate.
    pub test_n: usize,
    pub test_wins: usize,
    pub test_rate: Option<f64>,
}

/// Per tier (in playbook order): learning vs held-out success rates.
pub fn tier_table(
    tiers: &[String],
    learn: &[(String, bool)],
    test: &[(String, bool)],
    predicted: Option<&[f64]>,
) -> Vec<TierRow> {
    tiers
        .iter()
        .map(|t| {
            let count = |rows: &[(String, bool)]| {
                let n = rows.iter().filter(|(x, _)| x == t).count();
                let w = rows.iter().filter(|(x, y)| x == t && *y).count();
                (n, w)
            };
            let (ln, lw) = count(learn);
            let (tn, tw) = count(test);
            let pred = predicted.and_then(|p| {
                let v: Vec<f64> = test
                    .iter()
                    .zip(p)
                    .filter(|((x, _), _)| x == t)
                    .map(|(_, q)| *q)
                    .collect();
                (!v.is_empty()).then(|| round(v.iter().sum::<f64>() / v.len() as f64, 4))
            });
            TierRow {
                tier: t.clone(),
                learn_n: ln,
                learn_rate: rate(lw, ln),
                predicted: pred,
                test_n: tn,
                test_wins: tw,
                test_rate: rate(tw, tn),
            }
        })
        .collect()
}

/// `w / n` rounded, or `None` for an empty group.
pub fn rate(w: usize, n: usize) -> Option<f64> {
    (n > 0).then(|| round(w as f64 / n as f64, 4))
}

/// Rounds to `d` decimals (reports use fixed precision).
pub fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(auc(&[1.0, 2.0], &[false, true]), Some(1.0));
        assert_eq!(auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(auc(&[1.0], &[true]), None);
    }
}
