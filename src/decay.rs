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

/// Rounds to `digits` decimals (for reported figures).
pub fn round_to(x: f64, digits: i32) -> f64 {
    let m = libm::pow(10.0, f64::from(digits));
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
}
