//! Half-life decay. One implementation (the `libm` crate) on every target, so
//! native and Wasm builds round identically.

/// The factor by which a value decays over `elapsed_ms` with a half-life of `half_life_ms`.
pub fn factor(elapsed_ms: u64, half_life_ms: f64) -> f64 {
    if elapsed_ms == 0 || half_life_ms.is_nan() || half_life_ms <= 0.0 {
        return 1.0;
    }
    libm::exp2(-(elapsed_ms as f64) / half_life_ms)
}

/// The factor that moves a value at time `from` to its value at `to`: a
/// decay when `to` is later, a growth (`1 / factor`) when it is earlier.
pub fn between(from: u64, to: u64, half_life_ms: f64) -> f64 {
    if to >= from {
        factor(to - from, half_life_ms)
    } else if half_life_ms.is_nan() || half_life_ms <= 0.0 {
        1.0
    } else {
        libm::exp2((from - to) as f64 / half_life_ms)
    }
}

/// Decays a fixed-point value (an integer count of some fraction of a
/// point), rounding to the nearest unit: what [`Factors::decay`] gives, for
/// its tests.
#[cfg(test)]
fn decay_fixed(value: i64, elapsed_ms: u64, half_life_ms: f64) -> i64 {
    if value == 0 || elapsed_ms == 0 {
        return value;
    }
    scale_fixed(value, factor(elapsed_ms, half_life_ms))
}

/// A fixed-point value scaled by a known factor, rounded to the nearest
/// unit: for callers that decay many values over one interval with few
/// half-lives, or grow an event's points to the state's valuation time.
pub fn scale_fixed(value: i64, factor: f64) -> i64 {
    if value == 0 {
        return value;
    }
    round(value as f64 * factor) as i64
}

/// The decay factors of one interval, computed once per half-life: the
/// values `factor` would give, without an `exp2` per value decayed.
pub struct Factors {
    elapsed_ms: u64,
    /// (half-life bits, factor) of the last few half-lives asked.
    memo: [(u64, f64); 4],
    filled: usize,
}

impl Factors {
    /// Factors over `elapsed_ms`.
    pub fn over(elapsed_ms: u64) -> Factors {
        Factors {
            elapsed_ms,
            memo: [(0, 0.0); 4],
            filled: 0,
        }
    }
    /// `factor(elapsed_ms, half_life_ms)`, remembered for up to four half-lives.
    pub fn get(&mut self, half_life_ms: f64) -> f64 {
        let key = half_life_ms.to_bits();
        let known = self.filled.min(self.memo.len());
        if let Some((_, f)) = self.memo.iter().take(known).find(|(k, _)| *k == key) {
            return *f;
        }
        let f = factor(self.elapsed_ms, half_life_ms);
        let slot = self.filled % self.memo.len();
        if let Some(m) = self.memo.get_mut(slot) {
            *m = (key, f);
        }
        self.filled = self.filled.saturating_add(1);
        f
    }
    /// `decay_fixed(value, elapsed_ms, half_life_ms)`.
    pub fn decay(&mut self, value: i64, half_life_ms: f64) -> i64 {
        if value == 0 || self.elapsed_ms == 0 {
            return value;
        }
        scale_fixed(value, self.get(half_life_ms))
    }
}

/// Rounds to the nearest integer, ties away from zero (C's `round`, as
/// `libm::round`). Exact: the fraction `x - trunc(x)` of a float is itself a
/// float, and `trunc` is one instruction in Wasm (and on x86-64 with SSE4.1),
/// where libm's `round` takes a few dozen.
pub fn round(x: f64) -> f64 {
    let t = x.trunc();
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Powers of ten 10^0 to 10^8, exact in `f64`: the scales `round_to` uses
/// (every call site rounds to 0 to 4 digits) without a `pow` per call.
const POW10: [f64; 9] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/// Rounds to `digits` decimals (for reported figures).
pub fn round_to(x: f64, digits: i32) -> f64 {
    let m = usize::try_from(digits)
        .ok()
        .and_then(|d| POW10.get(d).copied())
        .unwrap_or_else(|| libm::pow(10.0, f64::from(digits)));
    let r = round(x * m) / m;
    if r == 0.0 {
        0.0 // no "-0" in output
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn half_life() {
        assert_eq!(decay_fixed(1000, 10, 10.0), 500);
        assert_eq!(decay_fixed(1000, 0, 10.0), 1000);
        assert_eq!(round_to(0.123456, 3), 0.123);
        assert_eq!(round_to(-0.0001, 2).to_string(), "0");
    }
    #[test]
    fn round_is_libm_round() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370497.0,
            9007199254740993.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.999_999_999_999_999_9,
            123.456,
            -123.5,
            1000.4999999999999,
        ];
        // A deterministic spread of magnitudes, signs and fractions.
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let x = next();
            let f = f64::from_bits(x);
            if f.is_finite() {
                cases.push(f);
            }
            cases.push((x % 2_000_000) as f64 / 1000.0 - 1000.0);
            cases.push((x % 1_000_000) as f64 * 0.1 - 50_000.0);
        }
        for c in cases {
            assert_eq!(round(c).to_bits(), libm::round(c).to_bits(), "{c:e}");
        }
        assert!(round(f64::NAN).is_nan());
    }
    #[test]
    fn remembered_factors_decay_as_decay_fixed() {
        for dt in [0u64, 1, 999, 86_400_000, 40 * 86_400_000, u64::MAX] {
            let mut f = Factors::over(dt);
            // Seven half-lives through a memo of four: the first ones are
            // asked again after they were evicted.
            let day = 86_400_000.0;
            for hl in [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 1.0, 2.0].map(|d| d * day) {
                for m in [1i64, -7, 1_000_000] {
                    assert_eq!(
                        f.decay(m, hl),
                        decay_fixed(m, dt, hl),
                        "dt {dt} hl {hl} m {m}"
                    );
                    assert_eq!(f.get(hl), factor(dt, hl));
                }
            }
            for hl in [
                7.0 * 86_400_000.0,
                7.0 * 86_400_000.0,
                30.0 * 86_400_000.0,
                0.0,
                f64::NAN,
                1.0,
            ] {
                for m in [0i64, 1, -5, 999, 1_000_000, i64::MAX / 4] {
                    assert_eq!(
                        f.decay(m, hl),
                        decay_fixed(m, dt, hl),
                        "dt {dt} hl {hl} m {m}"
                    );
                }
            }
        }
    }
    #[test]
    fn between_decays_forward_and_grows_back() {
        let day = 86_400_000.0;
        assert_eq!(between(0, 7, 7.0), 0.5);
        assert_eq!(between(7, 0, 7.0), 2.0);
        assert_eq!(between(5, 5, day), 1.0);
        assert_eq!(between(9, 2, 0.0), 1.0);
        assert_eq!(between(9, 2, f64::NAN), 1.0);
        for (a, b) in [(0u64, 1u64), (1_000, 86_400_000), (3, 1 << 30)] {
            assert_eq!(between(a, b, day), factor(b - a, day));
            let round_trip = between(a, b, day) * between(b, a, day);
            assert!((round_trip - 1.0).abs() < 1e-12, "{a} {b}: {round_trip}");
        }
    }
    #[test]
    fn the_table_of_powers_is_libm_pow() {
        for (d, m) in POW10.iter().enumerate() {
            assert_eq!(m.to_bits(), libm::pow(10.0, d as f64).to_bits(), "10^{d}");
        }
        // Beyond the table, `pow` still answers.
        assert_eq!(round_to(0.123_456_789_01, 10), 0.123_456_789_0);
    }
}
