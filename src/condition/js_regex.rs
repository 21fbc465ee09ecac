//! A `$regex` pattern read as JavaScript reads it (`new RegExp(p)`, without
//! the `u` or `v` flag: GrowthBook's `$regex`), written out for regex-lite.
//!
//! The two syntaxes mostly agree; where regex-lite would read the same text
//! differently, the pattern is rewritten to the JavaScript meaning, or
//! refused when regex-lite has no way to say it:
//! - `.` matches anything but the four JavaScript line terminators (`\n`,
//!   `\r`, U+2028, U+2029), not anything but `\n`;
//! - `[]` matches nothing and `[^]` anything; `[` inside a class is itself,
//!   as are `&` and `~` (not regex-lite's class operations or POSIX classes);
//!   `-` beside a class escape (`[\d-z]`) is itself; `\b` in a class is a
//!   backspace;
//! - a `{` that starts no `{n}`, `{n,}` or `{n,m}` is itself, as are a lone
//!   `}` and `]`;
//! - an escaped letter with no meaning of its own is the letter (`\a` is `a`,
//!   `\z` is `z`, `\p{L}` is `p{L}`); `\uHHHH`, `\cX` and `\0` are the
//!   characters they name; `\x` not followed by two hex digits is `x`;
//! - `(?` is a group only as `(?:`, `(?<name>` or look-around (which
//!   regex-lite refuses); inline flags such as `(?i)` are refused, as is a
//!   quantifier after an anchor or another quantifier (JavaScript refuses
//!   `^*` and `a*+`; regex-lite would repeat them); a `-` in a class is a
//!   range or itself by JavaScript's rules (`[--a]`, `[\d-c-z]`).
//!
//! Left as they are: `.` and classes count characters, where JavaScript
//! counts UTF-16 units (an emoji is one `.`, not two); `\d`, `\w`, `\s` and
//! case-insensitivity are ASCII-only in regex-lite (`\s` misses U+00A0),
//! and regex-lite folds a case-insensitive class range only where it
//! overlaps `a-z` (`[0-c]`).

use std::borrow::Cow;
use std::fmt::Write;

/// What `.` means outside a class.
const DOT: &str = "[^\n\r\u{2028}\u{2029}]";

/// Where a class stands, for what a `-` means next.
#[derive(Clone, Copy, PartialEq)]
enum InClass {
    /// No class open.
    No,
    /// At its start, after a completed range or after a class escape: a `-`
    /// here is itself.
    Free,
    /// After one character, which a `-` can turn into a range's start.
    Atom,
    /// After a range's `-`: the next character ends the range.
    Range,
    /// After a class escape (`\d`): a `-` here is itself, and the character
    /// after it ends that would-be range (`[\d-c-z]` is `\d`, `-`, `c`, `-`, `z`).
    Set,
}

/// What the last item outside a class was, for what a quantifier may follow.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    /// Nothing to repeat: the start, `(`, `|` (regex-lite refuses a
    /// quantifier there, as JavaScript does).
    Nothing,
    /// An anchor (`^`, `$`, `\b`, `\B`): JavaScript refuses to repeat it.
    Anchor,
    /// A quantifier: only a lazy `?` may follow.
    Quantifier,
    /// Something a quantifier repeats.
    Item,
}

/// The pattern regex-lite should compile, or why there is none.
pub(crate) fn translate(p: &str) -> Result<Cow<'_, str>, &'static str> {
    // Most patterns need nothing: no `.`, brackets, braces, escapes, groups,
    // anchors or quantifiers next to one another.
    if !p.bytes().any(|b| b".[]{}\\(^$*+?".contains(&b)) {
        return Ok(Cow::Borrowed(p));
    }
    let c: Vec<char> = p.chars().collect();
    let at = |i: usize| c.get(i).copied();
    let mut out = String::with_capacity(p.len() + 16);
    let mut i = 0;
    let mut class = InClass::No;
    let mut last = Last::Nothing;
    while let Some(ch) = at(i) {
        i += 1;
        if class != InClass::No {
            // One character (or a class escape) of the class, then where it stands.
            let set = match ch {
                '\\' => {
                    let e = escape(&c, &mut i, true, &mut out)?;
                    e == Escape::Set
                }
                ']' => {
                    class = InClass::No;
                    last = Last::Item;
                    out.push(']');
                    continue;
                }
                '-' if class == InClass::Atom
                    && at(i).is_some_and(|n| n != ']')
                    && !(at(i) == Some('\\')
                        && at(i + 1).is_some_and(|e| "dDwWsS".contains(e))) =>
                {
                    out.push('-');
                    class = InClass::Range;
                    continue;
                }
                '-' if class == InClass::Set && at(i).is_some_and(|n| n != ']') => {
                    out.push_str("\\-");
                    class = InClass::Range;
                    continue;
                }
                // Itself in JavaScript; regex-lite's nested classes, POSIX
                // classes and set operations otherwise.
                '[' | '&' | '~' | '-' => {
                    out.push('\\');
                    out.push(ch);
                    false
                }
                _ => {
                    out.push(ch);
                    false
                }
            };
            class = if set {
                InClass::Set
            } else if class == InClass::Range {
                InClass::Free
            } else {
                InClass::Atom
            };
            continue;
        }
        let quantifier_here = match ch {
            '*' | '+' | '?' => Some(1),
            '{' => braces(&c, i).map(|end| end - i + 1),
            _ => None,
        };
        if let Some(len) = quantifier_here {
            last = match (last, ch) {
                // Lazy: nothing may repeat it again.
                (Last::Quantifier, '?') => Last::Anchor,
                (Last::Anchor | Last::Quantifier, _) => {
                    return Err("nothing to repeat: JavaScript refuses a quantifier after an anchor or another quantifier")
                }
                (Last::Item, _) => Last::Quantifier,
                (Last::Nothing, _) => Last::Nothing,
            };
            out.extend(c.get(i - 1..i - 1 + len).unwrap_or_default());
            i += len - 1;
            continue;
        }
        last = Last::Item;
        match ch {
            '\\' => {
                if escape(&c, &mut i, false, &mut out)? == Escape::Anchor {
                    last = Last::Anchor;
                }
            }
            '[' => {
                let negated = at(i) == Some('^');
                let first = at(i + usize::from(negated));
                if first == Some(']') {
                    // `[]` matches nothing, `[^]` any character.
                    out.push_str(if negated { "[\\s\\S]" } else { "[^\\s\\S]" });
                    i += 1 + usize::from(negated);
                } else {
                    class = InClass::Free;
                    out.push('[');
                    if negated {
                        out.push('^');
                        i += 1;
                    }
                }
            }
            '.' => out.push_str(DOT),
            // Themselves (a `{` here starts no count).
            ']' | '}' | '{' => {
                out.push('\\');
                out.push(ch);
            }
            '^' | '$' => {
                out.push(ch);
                last = Last::Anchor;
            }
            '|' | ')' => {
                out.push(ch);
                last = if ch == '|' { Last::Nothing } else { Last::Item };
            }
            '(' => {
                last = Last::Nothing;
                out.push('(');
                if at(i) == Some('?') {
                    let group = match (at(i + 1), at(i + 2)) {
                        (Some(':' | '=' | '!'), _) => true,
                        (Some('<'), Some(n)) => {
                            n == '=' || n == '!' || n.is_alphabetic() || n == '_' || n == '$'
                        }
                        _ => false,
                    };
                    if !group {
                        return Err("`(?` starts a group only as `(?:`, `(?<name>` or a look-around: inline flags such as `(?i)` are not JavaScript");
                    }
                    out.push('?');
                    i += 1;
                }
            }
            _ => out.push(ch),
        }
    }
    Ok(Cow::Owned(out))
}

/// What an escape was.
#[derive(PartialEq)]
enum Escape {
    /// One character.
    Char,
    /// A class of characters (`\d`, `\w`, `\s` and their negations).
    Set,
    /// `\b` or `\B` outside a class.
    Anchor,
}

/// Writes the escape whose backslash is just before `*i`, moving `*i` past it.
fn escape(
    c: &[char],
    i: &mut usize,
    class: bool,
    out: &mut String,
) -> Result<Escape, &'static str> {
    let at = |i: usize| c.get(i).copied();
    let Some(e) = at(*i) else {
        return Err("a pattern cannot end with a backslash");
    };
    *i += 1;
    match e {
        'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
            out.push('\\');
            out.push(e);
            return Ok(Escape::Set);
        }
        'b' if class => out.push_str("\\x08"),
        'b' | 'B' if !class => {
            out.push('\\');
            out.push(e);
            return Ok(Escape::Anchor);
        }
        'f' | 'n' | 'r' | 't' | 'v' => {
            out.push('\\');
            out.push(e);
        }
        '0' if !at(*i).is_some_and(|d| d.is_ascii_digit()) => out.push_str("\\x00"),
        '1'..='9' | '0' => return Err("backreferences (and octal escapes) are not supported"),
        'k' if at(*i) == Some('<') => return Err("backreferences are not supported"),
        // `\xHH`, `\uHHHH`; without their digits, the letter itself.
        'x' | 'u' => {
            let n = if e == 'x' { 2 } else { 4 };
            match hex(c, *i, n) {
                Some(v) if (0xD800..0xE000).contains(&v) => {
                    return Err(
                        "a `\\u` escape of a surrogate (half of a character) is not supported",
                    )
                }
                Some(v) => {
                    let _ = write!(out, "\\x{{{v:X}}}");
                    *i += n;
                }
                None => out.push(e),
            }
        }
        // A control character: `\cJ`; in a class also `\c1` or `\c_` (Annex B).
        'c' if at(*i).is_some_and(|l| {
            l.is_ascii_alphabetic() || (class && (l.is_ascii_digit() || l == '_'))
        }) =>
        {
            let l = at(*i).map_or(0, |l| l as u32 % 32);
            let _ = write!(out, "\\x{{{l:X}}}");
            *i += 1;
        }
        // JavaScript's `\c` without a letter is a backslash and a `c`.
        'c' => out.push_str("\\\\c"),
        // Any other letter is itself, as are `<` and `>` (regex-lite's
        // `\<` and `\>` are word boundaries); other punctuation is
        // escaped as in both.
        e if e.is_alphanumeric() || e == '<' || e == '>' => push_literal(out, e),
        e if e.is_ascii() => {
            out.push('\\');
            out.push(e);
        }
        e => push_literal(out, e),
    }
    Ok(Escape::Char)
}

/// A character that is itself (never special to regex-lite when alone).
fn push_literal(out: &mut String, ch: char) {
    if ch.is_ascii_alphanumeric() || !ch.is_ascii() || ch == '<' || ch == '>' {
        out.push(ch);
    } else {
        out.push('\\');
        out.push(ch);
    }
}

/// The value of `n` hex digits at `i`.
fn hex(c: &[char], i: usize, n: usize) -> Option<u32> {
    let digits = c.get(i..i + n)?;
    digits
        .iter()
        .try_fold(0u32, |v, d| d.to_digit(16).map(|x| v * 16 + x))
}

/// The end (after the `}`) of a `{n}`, `{n,}` or `{n,m}` quantifier whose `{`
/// is just before `i`.
fn braces(c: &[char], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let s = *i;
        while c.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) {
        return None;
    }
    if c.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (c.get(i) == Some(&'}')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn matches(p: &str, s: &str) -> bool {
        let t = translate(p).unwrap();
        regex_lite::Regex::new(&t)
            .unwrap_or_else(|e| panic!("{p} → {t}: {e}"))
            .is_match(s)
    }

    /// Each as `new RegExp(p).test(s)` answers in V8.
    #[test]
    fn reads_patterns_as_javascript_does() {
        for (p, s, js) in [
            ("^.$", "\u{2028}", false),
            ("^.$", "\r", false),
            ("^.$", "é", true),
            ("a.c", "abc", true),
            ("[]a]", "a", false),
            ("[]a]", "]a]", false),
            ("^[^]$", "\n", true),
            ("\\a", "a", true),
            ("^\\z", "z", true),
            ("\\<a\\>", "<a>", true),
            ("^\\<$", "<", true),
            ("^\\>$", ">", true),
            ("\\<", "a", false),
            ("\\A", "A", true),
            ("\\e", "e", true),
            ("\\p{L}", "p{L}", true),
            ("\\p{L}", "x", false),
            ("[\\d-z]", "-", true),
            ("[\\d-z]", "y", false),
            ("[a-\\d]", "-", true),
            ("[a&&b]", "&", true),
            ("[a~~b]", "~", true),
            ("[[:alpha:]]", ":]", true),
            ("[[:alpha:]]", "x", false),
            ("a{", "a{", true),
            ("a{,2}", "a{,2}", true),
            ("a{2}", "aa", true),
            ("a{2,}", "aaa", true),
            ("a{1,2}b", "ab", true),
            ("a}", "a}", true),
            ("a]", "a]", true),
            ("\\x41", "A", true),
            ("\\x{41}", "x{41}", false),
            ("^\\x{2}$", "xx", true),
            ("\\x4", "x4", true),
            ("\\u0041", "A", true),
            ("\\u{41}", "u", false),
            ("\\u00e9", "é", true),
            ("\\cJ", "\n", true),
            ("\\c", "\\c", true),
            ("\\0", "\0", true),
            ("[\\b]", "\u{8}", true),
            ("\\bword\\b", "a word", true),
            ("(?:ab)+", "abab", true),
            ("(?<year>\\d{4})", "2026", true),
            ("\\/path\\/", "/path/", true),
            ("\\é", "é", true),
            ("[.]", ".", true),
            ("[.]", "a", false),
            ("plain text", "plain text", true),
        ] {
            assert_eq!(matches(p, s), js, "{p} on {s:?}");
        }
    }

    #[test]
    fn refuses_what_javascript_reads_otherwise() {
        for p in [
            "(?i)abc", "(?s).", "(?P<n>a)", "(?x) a", "\\1", "(a)\\1", "\\k<n>", "\\ud83d", "a\\",
        ] {
            assert!(translate(p).is_err(), "{p}");
        }
        // Look-around passes through to regex-lite, which refuses it with its own reason.
        assert!(translate("(?=a)").is_ok() && translate("(?<!a)").is_ok());
    }

    #[test]
    fn plain_patterns_are_not_copied() {
        assert!(matches!(
            translate("mobile|tablet"),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    /// Dashes in classes, and quantifiers JavaScript refuses.
    #[test]
    fn reads_class_ranges_and_quantifiers_as_javascript_does() {
        for (p, s, js) in [
            ("[--a]", "0", true),
            ("[--a]", "]", true),
            ("[^--a]", "0", false),
            ("[a-c-e]", "-", true),
            ("[a-c-e]", "d", false),
            ("[\\c1]", "\u{11}", true),
            ("[\\c_]", "\u{1f}", true),
            ("[\\<]", "<", true),
            ("[!--]", ",", true),
            ("[ --a]", "0", false),
            ("[--c-9]", "-", true),
            ("[\\d-c-Z]", "Z", true),
            ("[\\d-c-Z]", "X", false),
            ("[-a]", "-", true),
            ("[a-]", "-", true),
            ("a*?", "aaa", true),
            ("a{2}?b", "aab", true),
        ] {
            assert_eq!(matches(p, s), js, "{p} on {s:?}");
        }
        for p in ["^*", "a*+", "a{2}{3}", "a*?*", "\\b+", "$?", "a??+"] {
            assert!(translate(p).is_err(), "{p}");
        }
    }
}
