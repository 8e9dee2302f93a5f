//! Randomness: ChaCha8 for the bits, and our own sampling on top so the data does not
//! depend on `rand`'s sampling algorithms (which may change between versions).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

pub(crate) struct Rand(ChaCha8Rng);

impl Rand {
    pub(crate) fn new(seed: u64) -> Rand {
        Rand(ChaCha8Rng::seed_from_u64(seed))
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for our n).
    #[inline]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((self.u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    /// Fisher–Yates.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

const MASK48: u64 = (1 << 48) - 1;

/// A bijection on 48-bit integers that looks random: distinct counters give distinct,
/// unordered-looking id tails, so ids are unique without remembering them.
pub(crate) fn mix48(x: u64) -> u64 {
    let mut x = x & MASK48;
    x ^= x >> 25;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK48;
    x ^= x >> 23;
    x = x.wrapping_mul(0xC2B2_AE3D_27D5) & MASK48;
    x ^= x >> 27;
    x
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the low `digits` hex digits of `value`.
pub(crate) fn push_hex(out: &mut String, value: u64, digits: u32) {
    for i in (0..digits).rev() {
        out.push(HEX[((value >> (i * 4)) & 0xf) as usize] as char);
    }
}

/// Appends a decimal number without going through `fmt`.
pub(crate) fn push_decimal(out: &mut String, mut value: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix48_is_injective_on_a_range() {
        let mut seen: Vec<u64> = (0..200_000u64).map(mix48).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 200_000);
        assert!(seen.iter().all(|v| *v <= MASK48));
    }

    #[test]
    fn number_formatting() {
        let mut s = String::new();
        push_decimal(&mut s, 0);
        push_decimal(&mut s, 10234);
        push_hex(&mut s, 0xab, 4);
        assert_eq!(s, "01023400ab");
    }

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rand::new(7);
        let mut b = Rand::new(7);
        for _ in 0..100 {
            assert_eq!(a.below(1000), b.below(1000));
        }
        let mut c = Rand::new(8);
        assert_ne!(
            (0..10).map(|_| a.u64()).collect::<Vec<_>>(),
            (0..10).map(|_| c.u64()).collect::<Vec<_>>()
        );
    }
}
