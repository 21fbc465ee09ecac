//! Deterministic Thompson sampling: a Beta(α, β) draw per candidate from a
//! SplitMix64 stream seeded by a hash of (visitor id, decision sequence,
//! content id), so any runtime reproduces the same exploration.

use crate::hash::fnv1a64_of;

/// SplitMix64, a tiny well-known generator; only ever seeded from stable ids.
pub struct Rng(u64);

impl Rng {
    /// A generator for one (visitor, decision, item) triple.
    pub fn for_pick(visitor_id: &str, seq: u32, item_hash: u32) -> Rng {
        // The hash of `visitor_id`, a zero byte, `seq` and `item_hash` (little
        // endian), read in one pass without building the key.
        let key = visitor_id
            .bytes()
            .chain([0])
            .chain(seq.to_le_bytes())
            .chain(item_hash.to_le_bytes());
        Rng(fnv1a64_of(key))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        // `f64::sqrt` is correctly rounded on every target (IEEE 754), so it
        // gives libm's result; Wasm has it as one instruction.
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * core::f64::consts::PI * u2)
    }
    /// Gamma(shape, 1) by Marsaglia–Tsang, with a bounded number of tries.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        // A prior that is not positive is refused by validation and on
        // loading an engine; never a recursion without end.
        if shape.is_nan() || shape <= 0.0 {
            return 0.0;
        }
        if shape < 1.0 {
            let u = self.uniform();
            return self.gamma(shape + 1.0) * libm::pow(u, 1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        for _ in 0..32 {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if libm::log(u) < 0.5 * x * x + d - d * v + d * libm::log(v) {
                return d * v;
            }
        }
        shape // the mean: reached with negligible probability
    }
    /// Beta(α, β).
    pub fn beta(&mut self, alpha: f64, beta: f64) -> f64 {
        let x = self.gamma(alpha);
        let y = self.gamma(beta);
        if x + y > 0.0 {
            x / (x + y)
        } else {
            alpha / (alpha + beta)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_shape_that_is_not_positive_ends_at_once() {
        // It recursed once per unit below 1 (−65536: a stack overflow in Wasm).
        let mut r = Rng::for_pick("gamma", 1, 2);
        for shape in [-65536.0, -1e300, f64::NEG_INFINITY, f64::NAN, 0.0, -0.5] {
            assert_eq!(r.gamma(shape), 0.0, "{shape}");
        }
        assert!(r.gamma(0.5) > 0.0);
    }
    #[test]
    fn the_hardware_square_root_is_libm_s() {
        // Both are correctly rounded, so they agree on every input; checked
        // here on the kinds of values the sampler takes the root of.
        let mut r = Rng::for_pick("sqrt", 1, 2);
        for i in 0..100_000 {
            let x = match i % 3 {
                0 => -2.0 * libm::log(r.uniform()),
                1 => 9.0 * (r.uniform() * 1000.0 + 0.6),
                _ => f64::from_bits(r.next_u64() >> 2),
            };
            assert_eq!(x.sqrt().to_bits(), libm::sqrt(x).to_bits(), "sqrt({x})");
        }
    }
    #[test]
    fn beta_mean_is_close() {
        let mut sum = 0.0;
        for i in 0..4000u32 {
            sum += Rng::for_pick("v", i, 7).beta(2.0, 8.0);
        }
        let mean = sum / 4000.0;
        assert!((mean - 0.2).abs() < 0.01, "mean {mean}");
        assert_eq!(
            Rng::for_pick("v", 1, 2).uniform(),
            Rng::for_pick("v", 1, 2).uniform()
        );
    }
}
