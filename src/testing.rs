//! Helpers shared by the crate's unit tests.

/// A fixed-seed pseudo-random sequence (xorshift64).
pub(crate) fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}
