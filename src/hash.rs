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

/// For each of `ids`, whether an earlier one repeats it: with `by_hash`, has
/// the same [`fnv1a32`] hash (the compiler's check that ids stay apart in the
/// visitor state); else is the same text (validation's duplicate ids). The
/// hashes go into a table at most half full (open addressing), so texts are
/// compared only on a hash match; a `BTreeSet` per section compared bytes at
/// every node instead (compiling the 500-item playbook: −8% in Wasm). Ids
/// made to crowd the table (FNV-1a collisions are easy to make) would make
/// probing quadratic: past `MAX_PROBES` steps for one id, the sets answer.
#[inline(never)]
pub(crate) fn repeats(ids: &[&str], by_hash: bool) -> Vec<bool> {
    repeats_in_table(ids, by_hash).unwrap_or_else(|| {
        if by_hash {
            let mut seen = std::collections::BTreeSet::new();
            ids.iter()
                .map(|id| !seen.insert(fnv1a32(id.as_bytes())))
                .collect()
        } else {
            let mut seen = std::collections::BTreeSet::new();
            ids.iter().map(|id| !seen.insert(*id)).collect()
        }
    })
}

/// Most slots `repeats_in_table` looks at for one id before giving up.
const MAX_PROBES: usize = 64;

fn repeats_in_table(ids: &[&str], by_hash: bool) -> Option<Vec<bool>> {
    const EMPTY: usize = usize::MAX;
    let size = ids.len().saturating_mul(2).next_power_of_two().max(8);
    let mut table = vec![(0u32, EMPTY); size];
    let mut repeat = vec![false; ids.len()];
    for (i, id) in ids.iter().enumerate() {
        let hash = fnv1a32(id.as_bytes());
        let mut at = hash as usize;
        let mut probes = 0;
        loop {
            probes += 1;
            if probes > MAX_PROBES {
                return None;
            }
            at &= size - 1;
            match table.get_mut(at) {
                Some(entry) if entry.1 == EMPTY => {
                    *entry = (hash, i);
                    break;
                }
                Some(&mut (h, k)) if h == hash && (by_hash || ids.get(k) == Some(id)) => {
                    if let Some(r) = repeat.get_mut(i) {
                        *r = true;
                    }
                    break;
                }
                Some(_) => at += 1,
                None => return None,
            }
        }
    }
    Some(repeat)
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

    /// `repeats` flags what a set of the ids (or of their hashes) seen so far
    /// would: on random lists with repeats, and with the 32-bit hash collision
    /// `costarring`/`liquid`, where only the hashes repeat.
    #[test]
    fn repeats_are_what_a_set_would_find() {
        assert_eq!(fnv1a32(b"costarring"), fnv1a32(b"liquid"));
        let mut next = crate::testing::xorshift(0x4e9e_a75e_0000_0015);
        let words = ["a", "b", "costarring", "liquid", "c", "", "content-00001"];
        for n in 0..400 {
            let ids: Vec<&str> = (0..n % 23).map(|_| words[(next() % 7) as usize]).collect();
            let mut seen = std::collections::BTreeSet::new();
            let by_id: Vec<bool> = ids.iter().map(|id| !seen.insert(*id)).collect();
            let mut hashes = std::collections::BTreeSet::new();
            let by_hash: Vec<bool> = ids
                .iter()
                .map(|id| !hashes.insert(fnv1a32(id.as_bytes())))
                .collect();
            assert_eq!(repeats(&ids, false), by_id, "{ids:?}");
            assert_eq!(repeats(&ids, true), by_hash, "{ids:?}");
        }
        // Ids whose hashes share their low bits crowd one run of slots: the
        // table gives up and the sets answer, the same.
        let crowded: Vec<String> = (0u32..200_000)
            .map(|i| format!("id{i}"))
            .filter(|id| fnv1a32(id.as_bytes()) & 0xff == 0)
            .take(300)
            .collect();
        let mut ids: Vec<&str> = crowded.iter().map(String::as_str).collect();
        ids.push("id0");
        ids.extend(crowded.iter().take(3).map(String::as_str));
        assert_eq!(repeats_in_table(&ids, false), None);
        let expected: Vec<bool> = (0..ids.len()).map(|i| i >= ids.len() - 3).collect();
        assert_eq!(repeats(&ids, false), expected);
        assert_eq!(repeats(&ids, true), expected);
    }

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
