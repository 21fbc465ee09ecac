//! JavaScript number conversions: `Number(string)` and `String(number)`.
//!
//! GrowthBook conditions inherit JavaScript's coercions (`"8" > 5` is true,
//! `{"n": "10"}` matches the number 10), so the engine reproduces the two
//! conversions exactly, without allocating on the parsing side.

/// JavaScript's `StrWhiteSpaceChar`: WhiteSpace and LineTerminator.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{B}' | '\u{C}' | '\u{D}' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// `Number(s)` in JavaScript: trims JS whitespace; `""` is 0; accepts
/// decimal literals (`"1e3"`, `".5"`, `"+2."`), `0x`/`0o`/`0b` integers and
/// `Infinity`; anything else is NaN.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let b = t.as_bytes();
    if let (Some(b'0'), Some(p)) = (b.first(), b.get(1)) {
        let radix = match p {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            return radix_integer(b.get(2..).unwrap_or(&[]), radix);
        }
    }
    if is_decimal_literal(b) {
        t.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// The value of binary, octal or hex digits, rounded once to the nearest
/// double (ties to even), as JavaScript's `Number("0x…")`: the digits are
/// gathered in 64 bits; past that, the ones left over only scale the value and
/// say whether anything non-zero was cut (kept as the lowest bit, far below
/// the 53 that are kept, so the one rounding sees it).
fn radix_integer(digits: &[u8], radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    let bits = radix.trailing_zeros(); // 1, 3 or 4
    let mut m = 0u64;
    let mut scale = 0i32;
    let mut cut = false;
    for &d in digits {
        let Some(x) = char::from(d).to_digit(radix) else {
            return f64::NAN;
        };
        if m >> (64 - bits) == 0 {
            m = (m << bits) | u64::from(x);
        } else {
            // 2^1100 is past the largest double: the value is infinite.
            scale = (scale + bits as i32).min(1100);
            cut |= x != 0;
        }
    }
    if cut {
        m |= 1;
    }
    #[allow(clippy::cast_precision_loss)] // the one rounding, as JavaScript's
    let v = m as f64;
    v * 2f64.powi(scale)
}

/// `[+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)?`
fn is_decimal_literal(b: &[u8]) -> bool {
    let mut i = 0;
    let at = |i: usize| b.get(i).copied();
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while at(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if at(i) == Some(b'.') {
        i += 1;
        let s = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        frac_digits = i - s;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(at(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let s = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

/// Appends `String(x)` as JavaScript writes it (`Number.prototype.toString`):
/// shortest round-trip digits, exponent form below 1e-6 and from 1e21.
pub(crate) fn push_number(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-7".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = i64::try_from(digits.len()).unwrap_or(1);
    let n = exp + 1; // x = 0.d1d2...dk × 10^n
    if k <= n && n <= 21 {
        out.push_str(&digits);
        push_zeros(out, n - k);
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(usize::try_from(n).unwrap_or(0).min(digits.len()));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        push_zeros(out, -n);
        out.push_str(&digits);
    } else {
        let mut chars = digits.chars();
        if let Some(first) = chars.next() {
            out.push(first);
        }
        let rest = chars.as_str();
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
}

fn push_zeros(out: &mut String, count: i64) {
    for _ in 0..count {
        out.push('0');
    }
}

/// `String(x)` as JavaScript writes it.
pub(crate) fn number_to_string(x: f64) -> String {
    let mut s = String::new();
    push_number(&mut s, x);
    s
}

/// `Some(x)` when `s` is exactly how JavaScript writes the number `x`, so
/// that `String(value) === s` holds for a number `value` iff `value == x`.
pub(crate) fn canonical_number(s: &str) -> Option<f64> {
    let x = string_to_number(s);
    (x.is_finite() && number_to_string(x) == s).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_strings_round_once_like_js() {
        // Number(s) in V8, each above 2^53: rounded once, ties to even, and a
        // non-zero digit far past the kept bits breaks a tie upwards.
        for (s, js) in [
            ("0x5747aa75c56ed2b", 393073926715403600.0),
            ("0x20000000000001", 9007199254740992.0),
            ("0x20000000000003", 9007199254740996.0),
            ("0x200000000000010000000000000000001", 6.805647338418771e38),
            (
                "0x2000000000000100000000000000000000",
                1.0889035741470031e40,
            ),
            (
                "0b11111111111111111111111111111111111111111111111111111",
                9007199254740991.0,
            ),
            (
                "0b100000000000000000000000000000000000000000000000000001",
                9007199254740992.0,
            ),
            (
                "0b1000000000000000000000000000000000000000000000000000011",
                18014398509481988.0,
            ),
            ("0o777777777777777777777", 9223372036854776000.0),
            ("0xfffffffffffffc00", 18446744073709552000.0),
            ("0xfffffffffffffbff", 18446744073709550000.0),
            ("0xfffffffffffffc01", 18446744073709552000.0),
        ] {
            assert_eq!(string_to_number(s), js, "{s}");
        }
        assert_eq!(
            string_to_number(&format!("0x1{}", "0".repeat(255))),
            1.1235582092889474e307
        );
        assert_eq!(
            string_to_number(&format!("0x1{}", "0".repeat(256))),
            f64::INFINITY
        );
        assert_eq!(
            string_to_number(&format!("0x{}", "f".repeat(300))),
            f64::INFINITY
        );
        assert_eq!(string_to_number(&format!("0x{}", "0".repeat(300))), 0.0);
        assert_eq!(string_to_number(&format!("0x{}1", "0".repeat(300))), 1.0);
        assert!(string_to_number("0x").is_nan() && string_to_number("0x1g").is_nan());
    }

    #[test]
    fn parses_like_js() {
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("  \n"), 0.0);
        assert_eq!(string_to_number(" 8 "), 8.0);
        assert_eq!(string_to_number("1e3"), 1000.0);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("-2."), -2.0);
        assert_eq!(string_to_number("0x1F"), 31.0);
        assert_eq!(string_to_number("0b101"), 5.0);
        assert_eq!(string_to_number("0o17"), 15.0);
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
        for nan in [
            "abc", "1e", "e5", "1_0", "inf", "NaN", "infinity", "0x", "-0x1", "1 2", ".", "+",
            "10px",
        ] {
            assert!(string_to_number(nan).is_nan(), "{nan}");
        }
    }

    #[test]
    fn formats_like_js() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (10.0, "10"),
            (1.5, "1.5"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.2345e21, "1.2345e+21"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (x, s) in cases {
            assert_eq!(number_to_string(x), s);
        }
    }

    #[test]
    fn canonical() {
        assert_eq!(canonical_number("10"), Some(10.0));
        assert_eq!(canonical_number("-0"), None);
        assert_eq!(canonical_number("10.0"), None);
        assert_eq!(canonical_number("1e21"), None);
        assert_eq!(canonical_number("1e+21"), Some(1e21));
        assert_eq!(canonical_number(" 1"), None);
        assert_eq!(canonical_number("abc"), None);
    }
}
