//! The depth guard's fast path: 64 bytes at a time, as bit masks.
//!
//! The guard ([`super::depth`]) needs only the nesting depth outside strings. Byte by byte (a
//! `memchr2` call per string, a branch per structural byte) it was 8 % of the agent's CPU until
//! its first export on the README's scale set: Kubernetes JSON is mostly short strings and
//! punctuation. Here a block's quotes, backslashes, openers and closers become four 64-bit
//! masks (SSE2 on x86-64, a plain loop elsewhere); the quotes' running parity marks what is
//! inside strings, and the openers and closers outside them are counted. A block with a
//! backslash, one whose openers could take the depth past the limit, or one that closes more
//! than is open (broken JSON) is left to the byte-by-byte path, which is exact in every case.

/// Where a block's bytes of interest are, one bit per byte (bit `i` is byte `i`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
}

pub const BLOCK: usize = 64;

/// The guard's state across a block: how deeply nested, whether inside a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nesting {
    pub depth: usize,
    pub in_string: bool,
}

/// The nesting after `block`, which starts at `at` and is not inside an escape; `None` when the
/// block has a backslash, or its depth could go past `max` or below zero (the exact path then
/// decides).
pub fn skip_block(block: &[u8; BLOCK], at: Nesting, max: usize) -> Option<Nesting> {
    let masks = classify(block);
    if masks.backslash != 0 {
        return None;
    }
    let mut strings = running_parity(masks.quote);
    if at.in_string {
        strings = !strings;
    }
    let (open, close) = (masks.open & !strings, masks.close & !strings);
    let (opens, closes) = (open.count_ones() as usize, close.count_ones() as usize);
    if at.depth + opens > max || (closes > at.depth && dips_below_zero(open, close, at.depth)) {
        return None;
    }
    Some(Nesting { depth: at.depth + opens - closes, in_string: strings >> 63 == 1 })
}

/// The exact path's step inside a string at `i`: past the byte after a backslash when
/// `escaped`, else past the next backslash (now `escaped`) or closing quote, skipping the bytes
/// between with `memchr`. Returns where it stopped and whether the string closed there; at the
/// end of `text` when neither comes (the string goes on in what follows). Shared by the depth
/// guard and the list page scan (`list_items`).
pub fn string_step(text: &[u8], i: usize, escaped: &mut bool) -> (usize, bool) {
    if std::mem::take(escaped) {
        return (i + 1, false);
    }
    match memchr::memchr2(b'"', b'\\', &text[i..]) {
        None => (text.len(), false),
        Some(j) if text[i + j] == b'\\' => {
            *escaped = true;
            (i + j + 1, false)
        }
        Some(j) => (i + j + 1, true),
    }
}

/// Whether closers (`close`) come before enough openers (`open`) to take `depth` below zero
/// somewhere in the block.
fn dips_below_zero(open: u64, close: u64, mut depth: usize) -> bool {
    let mut brackets = open | close;
    while brackets != 0 {
        let bit = brackets & brackets.wrapping_neg();
        if open & bit != 0 {
            depth += 1;
        } else if depth == 0 {
            return true;
        } else {
            depth -= 1;
        }
        brackets ^= bit;
    }
    false
}

/// Bit `i` set when an odd number of bits `0..=i` of `bits` are set: with the quotes, every byte
/// from an opening quote up to (not including) its closing one.
fn running_parity(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// The masks of one block.
#[cfg(target_arch = "x86_64")]
pub fn classify(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on every machine
    // the target runs on; each `lane` is 16 readable bytes, and the load has no alignment
    // requirement.
    unsafe {
        let splat = |byte: u8| _mm_set1_epi8(byte as i8);
        // `[` and `]` are `{` and `}` with bit 0x20 clear, and no other byte is: with it set,
        // one comparison finds both openers, one both closers.
        let (quote, backslash, open, close, case) =
            (splat(b'"'), splat(b'\\'), splat(b'{'), splat(b'}'), splat(0x20));
        let mut masks = Masks::default();
        for (k, lane) in block.chunks_exact(16).enumerate() {
            let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let folded = _mm_or_si128(bytes, case);
            let bits = |matched: __m128i| u64::from(_mm_movemask_epi8(matched) as u16) << (16 * k);
            masks.quote |= bits(_mm_cmpeq_epi8(bytes, quote));
            masks.backslash |= bits(_mm_cmpeq_epi8(bytes, backslash));
            masks.open |= bits(_mm_cmpeq_epi8(folded, open));
            masks.close |= bits(_mm_cmpeq_epi8(folded, close));
        }
        masks
    }
}

/// The masks of one block.
#[cfg(not(target_arch = "x86_64"))]
pub fn classify(block: &[u8; BLOCK]) -> Masks {
    classify_bytewise(block)
}

/// The masks of one block, a byte at a time (other targets; the reference in tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_bytewise(block: &[u8; BLOCK]) -> Masks {
    let mut masks = Masks::default();
    for (i, byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte {
            b'"' => masks.quote |= bit,
            b'\\' => masks.backslash |= bit,
            b'{' | b'[' => masks.open |= bit,
            b'}' | b']' => masks.close |= bit,
            _ => {}
        }
    }
    masks
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn running_parity_marks_the_inside_of_strings() {
        // `"ab" "c"` at bytes 0, 3, 5, 7: inside is 0..3 and 5..7.
        let quotes = 1 | 1 << 3 | 1 << 5 | 1 << 7;
        assert_eq!(running_parity(quotes), 0b0110_0111);
    }

    #[test]
    fn a_block_counts_only_brackets_outside_strings() {
        let mut block = [b' '; BLOCK];
        let text = br#"{"a": "[{", "b": [1, {"c": "]"}], "d": {"#;
        block[..text.len()].copy_from_slice(text);
        let after = skip_block(&block, Nesting { depth: 1, in_string: false }, 100).unwrap();
        assert_eq!(after, Nesting { depth: 3, in_string: false });
        block[BLOCK - 2] = b'"';
        let after = skip_block(&block, Nesting { depth: 1, in_string: false }, 100).unwrap();
        assert!(after.in_string, "a string opened at the end goes on into the next block");
        let inside = skip_block(&[b'{'; BLOCK], Nesting { depth: 0, in_string: true }, 100).unwrap();
        assert_eq!(inside, Nesting { depth: 0, in_string: true }, "all inside a string");
    }

    #[test]
    fn blocks_the_exact_path_must_see_are_declined() {
        let mut escaped = [b'a'; BLOCK];
        escaped[10] = b'\\';
        assert_eq!(skip_block(&escaped, Nesting { depth: 1, in_string: true }, 100), None);
        assert_eq!(
            skip_block(&[b'['; BLOCK], Nesting { depth: 40, in_string: false }, 100),
            None,
            "past max"
        );
        assert!(skip_block(&[b'['; BLOCK], Nesting { depth: 36, in_string: false }, 100).is_some());
        assert_eq!(
            skip_block(&[b']'; BLOCK], Nesting { depth: 3, in_string: false }, 100),
            None,
            "below zero"
        );
        let mut closed_then_opened = [b'a'; BLOCK];
        closed_then_opened[..4].copy_from_slice(b"]][[");
        assert_eq!(skip_block(&closed_then_opened, Nesting { depth: 1, in_string: false }, 100), None);
        closed_then_opened[..4].copy_from_slice(b"][][");
        let after = skip_block(&closed_then_opened, Nesting { depth: 1, in_string: false }, 100);
        assert_eq!(
            after,
            Some(Nesting { depth: 1, in_string: false }),
            "more closers than the depth, never below zero"
        );
    }

    proptest! {
        #[test]
        fn the_masks_are_those_found_byte_by_byte(block in proptest::array::uniform32(any::<u8>()), other in proptest::array::uniform32(any::<u8>())) {
            let mut whole = [0u8; BLOCK];
            whole[..32].copy_from_slice(&block);
            whole[32..].copy_from_slice(&other);
            prop_assert_eq!(classify(&whole), classify_bytewise(&whole));
        }
    }
}
