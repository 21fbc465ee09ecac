//! GrowthBook's version comparison (`$veq`, `$vgt`, ...).
//!
//! GrowthBook compares versions as *padded strings* (`paddedVersionString`):
//! drop a leading `v` and any `+build` suffix, split on `-` and `.`, append a
//! `~` part to a plain three-part version (so `1.0.0` sorts after
//! `1.0.0-beta`), left-pad all-digit parts with spaces to five characters,
//! and join with `-`; then compare the strings as JavaScript does.
//!
//! The padded form is produced lazily by [`Padded`], so comparing an
//! attribute against a compiled version operand allocates nothing.

use super::compare::utf16_key;
use std::cmp::Ordering;
use std::str::{Chars, Split};

/// Width numeric parts are padded to.
const WIDTH: usize = 5;

/// The characters of GrowthBook's `paddedVersionString(input)` for a string
/// input (an empty input reads as `"0"`).
pub(crate) struct Padded<'a> {
    parts: Split<'a, [char; 2]>,
    cur: Chars<'a>,
    pad: usize,
    sep: bool,
    started: bool,
    tilde: bool,
}

impl<'a> Padded<'a> {
    pub(crate) fn new(input: &'a str) -> Padded<'a> {
        let input = if input.is_empty() { "0" } else { input };
        let s = strip(input);
        let n_parts = s.matches(['-', '.']).count() + 1;
        Padded {
            parts: s.split(['-', '.']),
            cur: "".chars(),
            pad: 0,
            sep: false,
            started: false,
            tilde: n_parts == 3,
        }
    }
}

/// `input.replace(/(^v|\+.*$)/g, "")`: one leading `v`, then a `+` and
/// everything after it (JavaScript's `.` stops at line terminators, so the
/// `+` must come after the last one).
fn strip(input: &str) -> &str {
    let s = input.strip_prefix('v').unwrap_or(input);
    let tail_start = s
        .char_indices()
        .rev()
        .find(|&(_, c)| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let tail = s.get(tail_start..).unwrap_or("");
    match tail.find('+') {
        Some(p) => s.get(..tail_start + p).unwrap_or(s),
        None => s,
    }
}

impl Iterator for Padded<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        loop {
            if self.sep {
                self.sep = false;
                return Some('-');
            }
            if self.pad > 0 {
                self.pad -= 1;
                return Some(' ');
            }
            if let Some(c) = self.cur.next() {
                return Some(c);
            }
            match self.parts.next() {
                Some(part) => {
                    self.sep = self.started;
                    self.started = true;
                    let numeric = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
                    self.pad = if numeric {
                        WIDTH.saturating_sub(part.len())
                    } else {
                        0
                    };
                    self.cur = part.chars();
                }
                None if self.tilde => {
                    self.tilde = false;
                    self.sep = true;
                    self.cur = "~".chars();
                }
                None => return None,
            }
        }
    }
}

/// GrowthBook's `paddedVersionString` of a string.
pub(crate) fn pad(input: &str) -> String {
    Padded::new(input).collect()
}

/// Compares `paddedVersionString(a)` with an already padded string, the way
/// JavaScript compares strings.
pub(crate) fn cmp_to_padded(a: &str, padded: &str) -> Ordering {
    Padded::new(a)
        .map(utf16_key)
        .cmp(padded.chars().map(utf16_key))
}

/// Compares two versions as GrowthBook does.
pub(crate) fn cmp(a: &str, b: &str) -> Ordering {
    Padded::new(a)
        .map(utf16_key)
        .cmp(Padded::new(b).map(utf16_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_like_growthbook() {
        assert_eq!(pad("1.2.3"), "    1-    2-    3-~");
        assert_eq!(pad("v1.2.3-rc.1+build123"), "    1-    2-    3-rc-    1");
        assert_eq!(pad("1.0.0--"), "    1-    0-    0--");
        assert_eq!(pad("10000.0.0"), "10000-    0-    0-~");
        assert_eq!(pad(""), "    0");
        assert_eq!(pad("v"), "");
        assert_eq!(pad("1+a\nb+c"), "1+a\nb");
        assert_eq!(pad("1.2"), "    1-    2");
    }

    #[test]
    fn compares() {
        assert_eq!(cmp("1.0.0", "1.0.0-beta"), Ordering::Greater);
        assert_eq!(cmp("1.2.3", "v1.2.3+x"), Ordering::Equal);
        assert_eq!(cmp_to_padded("0.9.99", &pad("1.0.0")), Ordering::Less);
    }
}
