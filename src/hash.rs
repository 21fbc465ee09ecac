//! FNV-1a hashes and GrowthBook's bucketing hash.
//!
//! [`hash`] reproduces GrowthBook's `hash(seed, value, version)` bit for bit,
//! including its quirk of hashing UTF-16 code units (JavaScript's
//! `charCodeAt`) rather than UTF-8 bytes; for ASCII input the two agree with
//! the byte-oriented [`fnv1a32`].

const FNV32_OFFSET: u32 = 0x811c_9dc5;
const FNV32_PRIME: u32 = 0x0100_0193;
const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 32 bits, over bytes.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    fnv1a32_of(bytes.iter().copied())
}

/// FNV-1a, 32 bits, over a byte sequence (a concatenation hashed without
/// building it).
pub fn fnv1a32_of(bytes: impl IntoIterator<Item = u8>) -> u32 {
    bytes.into_iter().fold(FNV32_OFFSET, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(FNV32_PRIME)
    })
}

/// FNV-1a, 64 bits, over bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_of(bytes.iter().copied())
}

/// FNV-1a, 64 bits, over a byte sequence (a concatenation hashed without
/// building it).
pub fn fnv1a64_of(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(FNV64_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV64_PRIME)
    })
}

/// FNV-1a, 32 bits, over the UTF-16 code units of `s`, as GrowthBook's
/// JavaScript SDK computes it. Equal to [`fnv1a32`] of the bytes for ASCII.
pub fn fnv1a32_utf16(s: &str) -> u32 {
    fnv_units(s.encode_utf16())
}

fn fnv_units(units: impl Iterator<Item = u16>) -> u32 {
    units.fold(FNV32_OFFSET, |h, u| {
        (h ^ u32::from(u)).wrapping_mul(FNV32_PRIME)
    })
}

/// GrowthBook's deterministic hash of `value` under `seed`, in `[0, 1)`.
///
/// * version 1: `(fnv1a32(value + seed) % 1000) / 1000`
/// * version 2: `(fnv1a32(decimal(fnv1a32(seed + value))) % 10000) / 10000`
/// * any other version: `None`.
///
/// Allocation-free: concatenations are hashed as chained iterators.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        1 => {
            let n = fnv_units(value.encode_utf16().chain(seed.encode_utf16()));
            Some(f64::from(n % 1000) / 1000.0)
        }
        2 => {
            let inner = fnv_units(seed.encode_utf16().chain(value.encode_utf16()));
            let mut buf = [0u8; 20];
            let digits = crate::fixed::decimal(u64::from(inner), &mut buf);
            let n = fnv1a32(digits);
            Some(f64::from(n % 10000) / 10000.0)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(fnv1a32_utf16("foobar"), fnv1a32(b"foobar"));
        // Non-ASCII: one UTF-16 unit, not two UTF-8 bytes.
        assert_eq!(
            fnv1a32_utf16("é"),
            (0x811c_9dc5u32 ^ 0xe9).wrapping_mul(FNV32_PRIME)
        );
    }

    #[test]
    fn decimal_digits() {
        use crate::fixed::decimal;
        let mut b = [0u8; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(u64::from(u32::MAX), &mut b), b"4294967295");
        assert_eq!(decimal(1000, &mut b), b"1000");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
    }

    #[test]
    fn versions() {
        assert_eq!(hash("", "a", 1), Some(0.22));
        assert_eq!(hash("seed", "a", 2), Some(0.0505));
        assert_eq!(hash("abc", "def", 99), None);
        assert_eq!(hash("abc", "def", 0), None);
    }
}
