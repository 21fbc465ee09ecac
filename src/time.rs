//! Calendar arithmetic on milliseconds since the Unix epoch (UTC), without a
//! clock: the core never reads the time, it is always given `now_ms`.

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), Howard Hinnant's algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` to the millisecond at the start of that UTC day.
pub fn parse_date_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    // Digits only (`str::parse` would take a sign: `2026-+1-+5`).
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0, |n: u32, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    u64::try_from(days).ok().map(|d| d * DAY_MS)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats milliseconds since the epoch as ISO 8601 UTC with milliseconds (`2026-11-02T09:00:00.000Z`).
pub fn iso8601(ms: u64) -> String {
    let [y, m, d, h, mi, s, milli] = fields(ms);
    // Written by hand: `format!` costs ~1,000 instructions here, and each
    // decision that signals writes one.
    let mut out = String::with_capacity(24);
    let push = crate::fixed::push_padded;
    push(&mut out, y, 4);
    out.push('-');
    push(&mut out, m, 2);
    out.push('-');
    push(&mut out, d, 2);
    out.push('T');
    push(&mut out, h, 2);
    out.push(':');
    push(&mut out, mi, 2);
    out.push(':');
    push(&mut out, s, 2);
    out.push('.');
    push(&mut out, milli, 3);
    out.push('Z');
    out
}

/// Year, month, day, hour, minute, second and millisecond of a UTC time.
fn fields(ms: u64) -> [u64; 7] {
    let days = (ms / DAY_MS) as i64;
    let rem = ms % DAY_MS;
    let (y, m, d) = civil_from_days(days);
    [
        u64::try_from(y).unwrap_or(0),
        u64::from(m),
        u64::from(d),
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        assert_eq!(parse_date_ms("1970-01-01"), Some(0));
        assert_eq!(parse_date_ms("2026-11-02"), Some(1_793_577_600_000));
        assert_eq!(iso8601(1_793_577_600_123), "2026-11-02T00:00:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(parse_date_ms("2026-02-29"), None);
        assert_eq!(parse_date_ms("2026-1-02"), None);
        // Signs and blanks are not digits.
        for bad in ["2026-+1-+5", "+026-01-05", "2026-01- 5", "2026-0x-05"] {
            assert_eq!(parse_date_ms(bad), None, "{bad}");
        }
    }
    #[test]
    fn iso8601_writes_what_format_wrote() {
        let reference = |ms: u64| {
            let [y, m, d, h, mi, s, milli] = fields(ms);
            format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
        };
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut values = vec![0, 1, 999, DAY_MS - 1, 253_402_300_799_999, u64::MAX];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x % 4_102_444_800_000); // up to 2100
            values.push(x >> (x % 64));
        }
        for ms in values {
            assert_eq!(iso8601(ms), reference(ms), "{ms}");
        }
    }
}
