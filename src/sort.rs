//! One compiled sort for the whole crate. `sort_unstable_by` is compiled anew
//! for every element type and comparison, about 4 KB of Wasm each, which
//! across the crate's call sites came to a twelfth of the module. Here the
//! sorting itself is compiled once, on indices; a call site only compares
//! and then moves its elements into the order found. (The ranking of the
//! catalogue, the one hot sort, mostly keeps only each slot's head, in a
//! max-heap of integer keys, and sorts those keys here only when a slot
//! needs more: see `recommend::best`.)

use std::cmp::Ordering;

/// Sorts `v` by `cmp`. Not stable: elements that compare equal may change
/// places, as with `sort_unstable_by`, so give a total order.
pub(crate) fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() <= SHORT {
        stable_short_by(v, cmp);
        return;
    }
    let perm = {
        let v: &[T] = v;
        order(v.len(), &mut |a, b| match (v.get(a), v.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => Ordering::Equal,
        })
    };
    permute(v, perm);
}

/// Up to this length an insertion sort in place is quicker than sorting
/// indices (and small to compile for each call site).
const SHORT: usize = 20;

/// Sorts a short `v` by `cmp` with an insertion in place: stable (equal
/// elements keep their order), and quadratic, so for a few elements only.
pub(crate) fn stable_short_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 {
            let less = match (v.get(j), v.get(j - 1)) {
                (Some(a), Some(b)) => cmp(a, b) == Ordering::Less,
                _ => false,
            };
            if !less {
                break;
            }
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The first `k` elements of `items` in the order `cmp` gives, as
/// [`sort_by`] then `truncate(k)` would leave them, without sorting the rest:
/// each element is compared with the kept ones only (at most `k`). Give a
/// total order, as for [`sort_by`].
pub(crate) fn first_by<T>(
    items: impl IntoIterator<Item = T>,
    k: usize,
    mut cmp: impl FnMut(&T, &T) -> Ordering,
) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(k.min(64));
    if k == 0 {
        return kept;
    }
    for x in items {
        if kept.len() == k
            && kept
                .last()
                .is_some_and(|last| cmp(&x, last) != Ordering::Less)
        {
            continue;
        }
        // `at` is at most the length whatever `cmp` answers: no panic.
        let at = kept.partition_point(|y| cmp(y, &x) != Ordering::Greater);
        kept.insert(at, x);
        kept.truncate(k);
    }
    kept
}

/// Sorts `v` in its natural order.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// An index by hash: `(hash, position)` for each of `hashes`, in the order
/// [`sort`] gives (by hash, equal hashes by position), by a radix sort on the
/// hash's four bytes: compiling the 500-item catalogue's index took ~28 µs
/// in Wasm through [`sort`] (an indirect comparison per step), ~4 µs so.
pub(crate) fn index_by_hash(hashes: impl Iterator<Item = u32>) -> Vec<(u32, usize)> {
    radix_by_hash(hashes.enumerate().map(|(i, h)| (h, i)).collect())
}

/// [`index_by_hash`]'s sort, compiled once: `v` is in position order.
fn radix_by_hash(mut v: Vec<(u32, usize)>) -> Vec<(u32, usize)> {
    if v.len() <= SHORT {
        // Stable: equal hashes keep their positions' order.
        stable_short_by(&mut v, |a, b| a.0.cmp(&b.0));
        return v;
    }
    // Each pass is stable, so after the last (most significant) byte the
    // order is by hash, then by the order the pass before left, down to
    // the positions the first pass started from.
    let mut other = v.clone();
    for shift in [0u32, 8, 16, 24] {
        let digit = |h: u32| ((h >> shift) & 0xff) as usize;
        let mut start = [0usize; 256];
        for &(h, _) in &v {
            if let Some(c) = start.get_mut(digit(h)) {
                *c += 1;
            }
        }
        let mut at = 0;
        for c in &mut start {
            let n = *c;
            *c = at;
            at += n;
        }
        for &e in &v {
            if let Some(c) = start.get_mut(digit(e.0)) {
                if let Some(slot) = other.get_mut(*c) {
                    *slot = e;
                }
                *c += 1;
            }
        }
        std::mem::swap(&mut v, &mut other);
    }
    v
}

/// The indices `0..n` sorted by `cmp`.
fn order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut ix: Vec<usize> = (0..n).collect();
    ix.sort_unstable_by(|&a, &b| cmp(a, b));
    ix
}

/// Rearranges `v` so that position `i` holds what was at `perm[i]`, one cycle
/// of the permutation at a time (each element moves by swaps, none is copied).
fn permute<T>(v: &mut [T], mut perm: Vec<usize>) {
    for start in 0..perm.len() {
        let mut at = start;
        while let Some(slot) = perm.get_mut(at) {
            let from = std::mem::replace(slot, at);
            if from == start || from == at {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_library() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for n in 0..300 {
            let v: Vec<(u64, String)> = (0..n).map(|i| (next() % 7, format!("item{i}"))).collect();
            let mut ours = v.clone();
            sort_by(&mut ours, |a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let mut std = v.clone();
            std.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            assert_eq!(ours, std, "n {n}");
            let mut nums: Vec<u64> = v.iter().map(|e| e.0).collect();
            let mut want = nums.clone();
            sort(&mut nums);
            want.sort_unstable();
            assert_eq!(nums, want);
        }
    }

    #[test]
    fn an_index_by_hash_is_the_sorted_pairs() {
        let mut next = crate::testing::xorshift(0x6a09_e667_f3bc_c908);
        for n in (0..70).chain([255, 256, 257, 1000, 5000]) {
            // Few distinct values (many equal hashes), bytes alike but one, and any.
            for spread in [3u64, 1 << 8, 1 << 16, 1 << 32] {
                let hashes: Vec<u32> = (0..n)
                    .map(|_| {
                        (next() % spread) as u32 ^ if spread == 1 << 16 { 0xab00_0000 } else { 0 }
                    })
                    .collect();
                let mut want: Vec<(u32, usize)> =
                    hashes.iter().enumerate().map(|(i, h)| (*h, i)).collect();
                want.sort_unstable();
                assert_eq!(
                    index_by_hash(hashes.into_iter()),
                    want,
                    "n {n}, spread {spread}"
                );
            }
        }
    }

    #[test]
    fn first_by_keeps_what_sorting_then_truncating_keeps() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        for n in 0..120 {
            let v: Vec<(u64, String)> = (0..n).map(|i| (next() % 9, format!("r{i}"))).collect();
            let cmp =
                |a: &(u64, String), b: &(u64, String)| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1));
            for k in [0, 1, 2, 5, 7, 200] {
                let mut want = v.clone();
                want.sort_unstable_by(cmp);
                want.truncate(k);
                assert_eq!(first_by(v.iter().cloned(), k, cmp), want, "n {n}, k {k}");
            }
        }
    }
}
