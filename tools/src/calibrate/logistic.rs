//! L2-regularised logistic regression on sparse 0/1 features, by Newton's
//! method (IRLS) with step halving. No randomness: the same data gives the
//! same coefficients, bit for bit.
//!
//! The penalty pulls each coefficient toward a prior mean (`λ/2 · Σ (w − μ)²`,
//! a Gaussian prior N(μ, 1/λ)); the intercept is not penalised. With μ the
//! current playbook's points on the log-odds scale, a band with little data
//! keeps about its current points and a band with much data follows the data.

use anyhow::{bail, Result};

/// A fitted model: `logit p = intercept + Σ coef[f]` over the active features.
#[derive(Debug, Clone)]
pub struct Model {
    pub intercept: f64,
    pub coef: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

impl Model {
    /// The log-odds of a row.
    pub fn logit(&self, row: &[u32]) -> f64 {
        self.intercept
            + row
                .iter()
                .filter_map(|&f| self.coef.get(f as usize))
                .sum::<f64>()
    }
}

/// The logistic function, safe for large arguments.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

const MAX_ITER: usize = 60;
const TOL: f64 = 1e-9;

/// Fits the model. `weight` is each row's weight (an account's rows share
/// one: `1 / rows`), `prior` is μ (one per feature), `l2` is λ (> 0).
pub fn fit(
    rows: &[Vec<u32>],
    y: &[bool],
    weight: &[f64],
    n_features: usize,
    l2: f64,
    prior: &[f64],
) -> Result<Model> {
    if rows.len() != y.len() || weight.len() != y.len() || prior.len() != n_features {
        bail!("internal: rows, outcomes and priors differ in length");
    }
    if !(l2 > 0.0 && l2.is_finite()) {
        bail!("the L2 penalty must be a positive number");
    }
    let n = rows.len();
    let wins = y.iter().filter(|&&b| b).count();
    if wins == 0 || wins == n {
        bail!("the learning set has {wins} successes out of {n} rows: need both successes and failures");
    }
    let total: f64 = weight.iter().sum();
    let won: f64 = y
        .iter()
        .zip(weight)
        .filter(|(b, _)| **b)
        .map(|(_, w)| w)
        .sum();
    let rate = won / total;
    let mut m = Model {
        intercept: (rate / (1.0 - rate)).ln(),
        coef: prior.to_vec(),
        iterations: 0,
        converged: false,
    };
    // Parameter 0 is the intercept, 1 + f the feature f.
    let k = n_features + 1;
    let mut obj = objective(&m, rows, y, weight, l2, prior);
    for it in 0..MAX_ITER {
        m.iterations = it + 1;
        let mut grad = vec![0.0; k];
        let mut hess = vec![0.0; k * k];
        for ((row, &yi), &wi) in rows.iter().zip(y).zip(weight) {
            let p = sigmoid(m.logit(row));
            let r = wi * (p - if yi { 1.0 } else { 0.0 });
            let w = wi * (p * (1.0 - p)).max(1e-12);
            add(&mut grad, 0, r);
            add(&mut hess, 0, w);
            for &a in row {
                let a = a as usize + 1;
                add(&mut grad, a, r);
                add(&mut hess, a, w);
                add(&mut hess, a * k, w);
                for &b in row {
                    add(&mut hess, a * k + b as usize + 1, w);
                }
            }
        }
        for f in 0..n_features {
            let c = m.coef.get(f).copied().unwrap_or(0.0);
            let mu = prior.get(f).copied().unwrap_or(0.0);
            add(&mut grad, f + 1, l2 * (c - mu));
            add(&mut hess, (f + 1) * k + f + 1, l2);
        }
        add(&mut hess, 0, 1e-9);
        let step = solve(&mut hess, &grad, k)?;
        // Step halving keeps every iteration an improvement.
        let mut t = 1.0;
        let mut next = m.clone();
        let mut improved = false;
        for _ in 0..30 {
            next.intercept = m.intercept - t * step.first().copied().unwrap_or(0.0);
            for (f, c) in next.coef.iter_mut().enumerate() {
                *c = m.coef.get(f).copied().unwrap_or(0.0)
                    - t * step.get(f + 1).copied().unwrap_or(0.0);
            }
            let o = objective(&next, rows, y, weight, l2, prior);
            if o <= obj + 1e-12 {
                improved = o < obj - 1e-12 * obj.abs().max(1.0);
                obj = o;
                break;
            }
            t /= 2.0;
        }
        let size = step.iter().fold(0.0f64, |a, s| a.max(s.abs())) * t;
        m.intercept = next.intercept;
        m.coef = next.coef;
        if size < TOL || !improved {
            m.converged = true;
            break;
        }
    }
    Ok(m)
}

fn add(v: &mut [f64], i: usize, x: f64) {
    if let Some(e) = v.get_mut(i) {
        *e += x;
    }
}

/// Penalised negative log-likelihood, each row by its weight.
fn objective(
    m: &Model,
    rows: &[Vec<u32>],
    y: &[bool],
    weight: &[f64],
    l2: f64,
    prior: &[f64],
) -> f64 {
    let mut nll = 0.0;
    for ((row, &yi), &wi) in rows.iter().zip(y).zip(weight) {
        let z = m.logit(row);
        // log(1 + e^z) − y z, computed stably.
        let softplus = if z > 0.0 {
            z + (-z).exp().ln_1p()
        } else {
            z.exp().ln_1p()
        };
        nll += wi * (softplus - if yi { z } else { 0.0 });
    }
    let pen: f64 = m
        .coef
        .iter()
        .zip(prior)
        .map(|(c, mu)| (c - mu) * (c - mu))
        .sum();
    nll + 0.5 * l2 * pen
}

/// Solves `H x = g` for a symmetric positive-definite `H` (Cholesky, in place).
fn solve(h: &mut [f64], g: &[f64], k: usize) -> Result<Vec<f64>> {
    let at = |h: &[f64], i: usize, j: usize| h.get(i * k + j).copied().unwrap_or(0.0);
    for j in 0..k {
        let mut d = at(h, j, j);
        for p in 0..j {
            d -= at(h, j, p) * at(h, j, p);
        }
        if d <= 0.0 || !d.is_finite() {
            bail!("the regression is numerically singular: raise --l2");
        }
        let d = d.sqrt();
        if let Some(e) = h.get_mut(j * k + j) {
            *e = d;
        }
        for i in j + 1..k {
            let mut s = at(h, i, j);
            for p in 0..j {
                s -= at(h, i, p) * at(h, j, p);
            }
            if let Some(e) = h.get_mut(i * k + j) {
                *e = s / d;
            }
        }
    }
    let mut z = vec![0.0; k];
    for i in 0..k {
        let mut s = g.get(i).copied().unwrap_or(0.0);
        for p in 0..i {
            s -= at(h, i, p) * z.get(p).copied().unwrap_or(0.0);
        }
        if let Some(e) = z.get_mut(i) {
            *e = s / at(h, i, i);
        }
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let mut s = z.get(i).copied().unwrap_or(0.0);
        for p in i + 1..k {
            s -= at(h, p, i) * x.get(p).copied().unwrap_or(0.0);
        }
        if let Some(e) = x.get_mut(i) {
            *e = s / at(h, i, i);
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_effect() {
        // Feature 0 present: 3 of 4 win; absent: 1 of 4 win.
        let rows: Vec<Vec<u32>> = (0..400)
            .map(|i| if i % 2 == 0 { vec![0] } else { vec![] })
            .collect();
        let y: Vec<bool> = (0..400)
            .map(|i| if i % 2 == 0 { i % 8 != 0 } else { i % 8 == 1 })
            .collect();
        let m = fit(&rows, &y, &vec![1.0; 400], 1, 1e-6, &[0.0]).unwrap();
        assert!(m.converged);
        assert!((m.coef[0] - 9f64.ln()).abs() < 1e-4, "{:?}", m.coef);
        assert!((m.intercept - (1.0f64 / 3.0).ln()).abs() < 1e-4);
        // Each row three times at a third of the weight: the same model.
        let (rows3, y3): (Vec<_>, Vec<_>) = rows
            .iter()
            .zip(&y)
            .flat_map(|(r, b)| std::iter::repeat_n((r.clone(), *b), 3))
            .unzip();
        let m3 = fit(&rows3, &y3, &vec![1.0 / 3.0; 1200], 1, 1e-6, &[0.0]).unwrap();
        assert!((m3.coef[0] - m.coef[0]).abs() < 1e-9 && (m3.intercept - m.intercept).abs() < 1e-9);
    }
}
