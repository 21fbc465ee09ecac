//! Numbers with two decimals (`0.54`, `+0.14`), written straight into a
//! string: the same text as Rust's `{:.2}` / `{:+.2}`, without the general
//! formatting machinery (which cost a decision ~1,200 instructions a reason).
//!
//! Exact: a finite `f64` is `m × 2^e`, so `x × 100` is the integer `m × 100`
//! shifted right by `-e`, rounded half to even on the bits shifted out — the
//! same rounding of the exact binary value that `{:.2}` does. Values that are
//! not finite or not below 2^53 go through `{:.2}` itself.

use std::fmt::Write;

/// Appends `x` with two decimals; `plus` writes a `+` before a non-negative
/// number (as `{:+.2}`).
pub(crate) fn push2(out: &mut String, x: f64, plus: bool) {
    match hundredths(x) {
        Some(q) => {
            if x.is_sign_negative() {
                out.push('-');
            } else if plus {
                out.push('+');
            }
            push_u64(out, q / 100);
            out.push('.');
            let frac = q % 100;
            out.push(digit(frac / 10));
            out.push(digit(frac % 10));
        }
        None => {
            let _ = if plus {
                write!(out, "{x:+.2}")
            } else {
                write!(out, "{x:.2}")
            };
        }
    }
}

/// `|x| × 100`, rounded half to even, for finite `|x| < 2^53`.
fn hundredths(x: f64) -> Option<u64> {
    if !x.is_finite() || x.abs() >= 9_007_199_254_740_992.0 {
        return None;
    }
    if x == 0.0 {
        return Some(0);
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // x = mant × 2^exp exactly.
    let (mant, exp) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let n = u128::from(mant) * 100;
    if exp >= 0 {
        // |x| < 2^53 and exp ≥ 0: an integer that fits.
        return u64::try_from(n << exp).ok();
    }
    let shift = exp.unsigned_abs();
    if shift > 120 {
        // Below 2^-60: rounds to zero.
        return Some(0);
    }
    let q = n >> shift;
    let rest = n & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let up = rest > half || (rest == half && q & 1 == 1);
    u64::try_from(q + u128::from(up)).ok()
}

fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    decimal(n, &mut buf)
        .iter()
        .for_each(|&b| out.push(char::from(b)));
}

/// Writes `n` in decimal into the end of `buf` and returns the digits (a
/// `u64` has at most 20).
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            // n % 10 < 10, so the cast cannot truncate.
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (as
/// `format!("{n:0width$}")` writes it).
pub(crate) fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let digits = decimal(n, &mut buf);
    for _ in digits.len()..width {
        out.push('0');
    }
    // Decimal digits are ASCII.
    out.extend(digits.iter().map(|b| char::from(*b)));
}

fn digit(d: u64) -> char {
    char::from(b'0' + (d % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::push2;

    fn check(x: f64) {
        for plus in [false, true] {
            let mut s = String::new();
            push2(&mut s, x, plus);
            let want = if plus {
                format!("{x:+.2}")
            } else {
                format!("{x:.2}")
            };
            assert_eq!(s, want, "x = {x:e} ({:#x}), plus = {plus}", x.to_bits());
        }
    }

    #[test]
    fn same_text_as_std_on_edges() {
        for x in [
            0.0,
            -0.0,
            0.005,
            0.015,
            0.025,
            0.125,
            0.375,
            0.625,
            2.675,
            1.005,
            -0.001,
            -0.005,
            -0.125,
            0.995,
            9.995,
            99.995,
            1e-300,
            5e-324,
            -5e-324,
            1e-3,
            1e15,
            123456.785,
            4503599627370495.5,
            9007199254740991.0,
            9007199254740992.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.54,
            0.14,
            0.5,
            1.5,
            2.5,
            -2.5,
            0.045,
            0.055,
        ] {
            check(x);
        }
    }

    #[test]
    fn same_text_as_std_on_many_values() {
        // Every multiple of 1/1000 and of 1/800 (exact ties) in a range, and a
        // deterministic spread of raw bit patterns.
        for i in -20_000..20_000 {
            check(f64::from(i) / 1000.0);
            check(f64::from(i) / 800.0);
            check(f64::from(i) * 0.005);
        }
        let mut z: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            check(f64::from_bits(z));
            // Values of the size reasons have.
            check((z >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0);
        }
    }
}
