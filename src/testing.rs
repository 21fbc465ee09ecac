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

/// Reads `text` with a fast reader (`event_read`, `request_read`) and with
/// serde (`json::from_str_at`), and checks that when the fast one answers,
/// serde reads the same value. Returns whether each read it: (fast, serde).
pub(crate) fn fast_and_serde<T>(fast: fn(&str) -> Option<T>, text: &str) -> (bool, bool)
where
    T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let quick = fast(text);
    let slow = crate::json::from_str_at::<T>(text, "$").ok();
    if quick.is_some() {
        assert_eq!(quick, slow, "{text}");
    }
    (quick.is_some(), slow.is_some())
}
