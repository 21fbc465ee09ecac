//! Half-life decay. One implementation (the `libm` crate) on every target, so
//! native and Wasm builds round identically.

/// The factor by which a value decays over `elapsed_ms` with a half-life of `half_life_ms`.
pub fn factor(elapsed_ms: u64, half_life_ms: f64) -> f64 {
    if elapsed_ms == 0 || half_life_ms.is_nan() || half_life_ms <= 0.0 {
        return 1.0;
    }
    libm::exp2(-(elapsed_ms as f64) / half_life_ms)
}

/// Decays a fixed-point value (thousandths), rounding to the nearest thousandth.
pub fn decay_milli(milli: i64, elapsed_ms: u64, half_life_ms: f64) -> i64 {
    if milli == 0 || elapsed_ms == 0 {
        return milli;
    }
    libm::round(milli as f64 * factor(elapsed_ms, half_life_ms)) as i64
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
    let r = libm::round(x * m) / m;
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
        assert_eq!(decay_milli(1000, 10, 10.0), 500);
        assert_eq!(decay_milli(1000, 0, 10.0), 1000);
        assert_eq!(round_to(0.123456, 3), 0.123);
        assert_eq!(round_to(-0.0001, 2).to_string(), "0");
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
