//! A small reader of plain JSON text, for the fast paths that read the
//! common shape of an event or a decide request without serde
//! (`event_read.rs`, `request_read.rs`). It reads only what it can read
//! exactly as serde_json does: strings without escapes, whole numbers of at
//! most 15 digits (below 2^53: exact as `u64` and as `f64`), `true`,
//! `false`, `null`, and flat arrays of those. Every method answers `None` for
//! anything else, and the caller then leaves the whole text to serde.

use serde_json::Value;

/// Whole numbers read here have at most this many digits.
const MAX_DIGITS: usize = 15;

/// A position in a JSON text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, at: 0 }
    }
    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.ws();
        self.at == self.text.len()
    }
    pub fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }
    pub fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }
    pub fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    /// JSON whitespace.
    pub fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }
    /// A string without escapes or control bytes.
    pub fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.text.as_bytes().get(self.at..)?;
        let len = crate::json::clean_prefix(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        // Cut at ASCII bytes (the quotes), so on character boundaries.
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }
    /// A whole number: `0` or digits without a leading zero, at most
    /// `MAX_DIGITS`, and no fraction or exponent after them.
    pub fn whole(&mut self) -> Option<u64> {
        let start = self.at;
        let mut n = 0u64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.at - start == MAX_DIGITS {
                return None;
            }
            n = n * 10 + u64::from(d - b'0');
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.text.as_bytes().get(start) == Some(&b'0');
        if digits == 0 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(n)
    }
    /// The literal `word` (`null`, `true`, `false`), if it is next.
    pub fn literal(&mut self, word: &str) -> bool {
        let hit = self.text.as_bytes().get(self.at..self.at + word.len()) == Some(word.as_bytes());
        if hit {
            self.at += word.len();
        }
        hit
    }
    /// `null` as `None`, else `read`'s value.
    pub fn null_or<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.literal("null") {
            return Some(None);
        }
        read(self).map(Some)
    }
    /// `true` or `false`.
    pub fn boolean(&mut self) -> Option<bool> {
        if self.literal("true") {
            Some(true)
        } else if self.literal("false") {
            Some(false)
        } else {
            None
        }
    }
    /// A scalar (string, whole number, boolean, `null`) as a JSON value.
    pub fn scalar(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(Value::from),
            b'0'..=b'9' => self.whole().map(Value::from),
            b'n' => self.literal("null").then_some(Value::Null),
            _ => self.boolean().map(Value::Bool),
        }
    }
    /// A scalar, or a flat array of scalars.
    pub fn value(&mut self) -> Option<Value> {
        if self.peek()? != b'[' {
            return self.scalar();
        }
        self.at += 1;
        let mut items = Vec::new();
        self.items(b']', &mut |r| {
            items.push(r.scalar()?);
            Some(())
        })?;
        Some(Value::Array(items))
    }
    /// An object's members: `member` reads each value after its key (and
    /// answers `None` to give up); keys are plain strings. One compiled body
    /// for every caller (`dyn`): the readers are small, the module is not.
    pub fn object(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.ws();
        self.eat(b'{')?;
        self.items(b'}', &mut |r| {
            let key = r.string()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            member(r, key)
        })
    }
    /// A whole text that is one object (`object`, then only whitespace).
    pub fn document(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.object(member)?;
        self.at_end().then_some(())
    }
    /// The items of an array or an object after its opening bracket, up to
    /// and including `close`: `item` reads each, commas between them.
    pub fn items(
        &mut self,
        close: u8,
        item: &mut dyn FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.ws();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.next()? {
                b',' => {}
                c if c == close => return Some(()),
                _ => return None,
            }
        }
    }
}

/// Reads member `key`'s value into the field of that name in `fields`, an
/// optional text (`null` or a string), each given at most once (bit `i` of
/// `seen` for `fields[i]`). `None` for another name, a repeat or another value.
pub(crate) fn text_field(
    r: &mut Reader<'_>,
    key: &str,
    fields: &mut [(&str, &mut Option<String>)],
    seen: &mut u32,
) -> Option<()> {
    let i = fields.iter().position(|(name, _)| *name == key)?;
    first_time(seen, u32::try_from(i).ok()?)?;
    let (_, slot) = fields.get_mut(i)?;
    **slot = r.null_or(|r| r.string().map(str::to_string))?;
    Some(())
}

/// Marks `bit` in `seen`; `None` when it was already there (a repeated key).
pub(crate) fn first_time(seen: &mut u32, bit: u32) -> Option<()> {
    let mask = 1u32.checked_shl(bit)?;
    if *seen & mask != 0 {
        return None;
    }
    *seen |= mask;
    Some(())
}
