//! LEB128 varints and a bounds-checked reader for the state encoding.

/// Appends an unsigned LEB128 varint.
pub fn put_u(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Appends a zigzag-encoded signed varint.
pub fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a little-endian u32.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a length-prefixed string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Reads from a byte slice; every read fails cleanly past the end.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads `buf` from the start.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    /// Whether everything was read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }
    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    /// An unsigned varint (at most 10 bytes, no overflow).
    pub fn u(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return None;
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    /// A varint that must fit in u32.
    pub fn u_32(&mut self) -> Option<u32> {
        u32::try_from(self.u()?).ok()
    }
    /// A zigzag signed varint.
    pub fn i(&mut self) -> Option<i64> {
        let u = self.u()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Option<u32> {
        let b = self.buf.get(self.pos..self.pos.checked_add(4)?)?;
        self.pos += 4;
        let arr: [u8; 4] = b.try_into().ok()?;
        Some(u32::from_le_bytes(arr))
    }
    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, max: usize) -> Option<String> {
        let n = usize::try_from(self.u()?).ok()?;
        if n > max {
            return None;
        }
        let b = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        String::from_utf8(b.to_vec()).ok()
    }
    /// A list length of at most `max`.
    pub fn len(&mut self, max: usize) -> Option<usize> {
        let n = usize::try_from(self.u()?).ok()?;
        (n <= max).then_some(n)
    }
}
