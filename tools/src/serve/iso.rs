//! ISO 8601 date-times (the RFC 3339 profile every Segment library sends) to
//! milliseconds since the Unix epoch, and back.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats milliseconds since the epoch as `2026-11-02T09:00:00.000Z`.
pub fn format(ms: i64) -> String {
    buyerpath::time::iso8601(u64::try_from(ms).unwrap_or(0))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM|±HH)` (a space is
/// accepted for `T`, and a bare date means midnight UTC). A date-time without
/// a zone is refused: its instant is ambiguous.
pub fn parse_ms(s: &str) -> Option<i64> {
    let date = s.get(..10)?;
    let day = i64::try_from(buyerpath::time::parse_date_ms(date)?).ok()?;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(day);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let two = |t: &str, r: std::ops::Range<usize>| -> Option<i64> {
        let p = t.get(r)?;
        if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let (h, m, sec) = (two(rest, 0..2)?, two(rest, 3..5)?, two(rest, 6..8)?);
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut tail = rest.get(8..)?;
    let mut millis = 0;
    if let Some(frac) = tail.strip_prefix(['.', ',']) {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let first3: String = frac.get(..digits.min(3))?.to_string();
        millis = format!("{first3:0<3}").parse::<i64>().ok()?;
        tail = frac.get(digits..)?;
    }
    let offset_min = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let z = tail.get(1..)?;
            let (oh, om) = match z.len() {
                2 => (two(z, 0..2)?, 0),
                4 => (two(z, 0..2)?, two(z, 2..4)?),
                5 if z.get(2..3)? == ":" => (two(z, 0..2)?, two(z, 3..5)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 60 + om)
        }
    };
    // A leap second (:60) folds into the next second, as JavaScript's Date does.
    let local = day + ((h * 60 + m) * 60 + sec) * 1000 + millis;
    let utc = local - offset_min * 60_000;
    (utc >= 0).then_some(utc)
}

/// [`parse_ms`] for a time in a URL's query string, where a `+` sent
/// unencoded arrives as a space (form encoding): a space before a final
/// `hh:mm` offset is read as `+` (`2026-11-05T00:00:00 02:00`).
pub fn parse_query_ms(s: &str) -> Option<i64> {
    parse_ms(s).or_else(|| {
        let (time, offset) = s.rsplit_once(' ')?;
        let b = offset.as_bytes();
        let hh_mm = b.len() == 5
            && b.iter().enumerate().all(|(i, c)| {
                if i == 2 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !hh_mm {
            return None;
        }
        parse_ms(&format!("{time}+{offset}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_libraries_send() {
        let base = 1_793_610_000_000; // 2026-11-02T09:00:00Z (README example)
        assert_eq!(format(base), "2026-11-02T09:00:00.000Z");
        assert_eq!(parse_ms("2026-11-02T09:00:00.000Z"), Some(base));
        assert_eq!(parse_ms("2026-11-02T09:00:00Z"), Some(base));
        assert_eq!(parse_ms("2026-11-02T09:00:00.5Z"), Some(base + 500));
        assert_eq!(parse_ms("2026-11-02T09:00:00.123456789Z"), Some(base + 123));
        assert_eq!(parse_ms("2026-11-02T10:00:00+01:00"), Some(base));
        assert_eq!(parse_ms("2026-11-02T04:00:00-0500"), Some(base));
        assert_eq!(parse_ms("2026-11-02 09:00:00+00"), Some(base));
        assert_eq!(parse_ms("2026-11-02"), Some(base - 9 * 3_600_000));
    }

    #[test]
    fn refuses_what_is_not_an_instant() {
        for bad in [
            "",
            "yesterday",
            "2026-11-02T09:00:00",
            "2026-11-02T9:00:00Z",
            "2026-13-02T09:00:00Z",
            "2026-11-02T24:00:00Z",
            "2026-11-02T09:00:00.Z",
            "2026-11-02T09:00:00+1:00",
            "2026-11-02T09:00:00Zjunk",
            "1793610000000",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_query_time_reads_a_space_before_its_offset_as_plus() {
        let base = 1_793_610_000_000; // 2026-11-02T09:00:00Z
        assert_eq!(parse_query_ms("2026-11-02T11:00:00 02:00"), Some(base));
        assert_eq!(parse_query_ms("2026-11-02 11:00:00 02:00"), Some(base));
        assert_eq!(parse_query_ms("2026-11-02T11:00:00+02:00"), Some(base));
        assert_eq!(parse_query_ms("2026-11-02T09:00:00Z"), Some(base));
        for bad in [
            "2026-11-02T11:00:00 2:00",
            "2026-11-02T11:00:00 0200x",
            "2026-11-02 11:00:00",
            "2026-11-02T11:00:00 ab:cd",
            "2026-11-02T11:00:00Z 02:00",
        ] {
            assert_eq!(parse_query_ms(bad), None, "{bad}");
        }
        // Ingestion keeps the strict form: a space there is no offset.
        assert_eq!(parse_ms("2026-11-02T11:00:00 02:00"), None);
    }
}
