//! The guaranteed error detection of the ADBMS6830 PEC10 per frame length, as the ADBMS6830
//! module documentation states it, checked through the crate's frame check
//! (`isospi::verify_frame`) on frames sealed by the independent oracle (tests/common).
//!
//! Facts (from the generator x^10 + x^7 + x^3 + x^2 + x + 1 of ADBMS6830B-DS "Data PEC"):
//! it has the factor x + 1, so every odd number of flipped bits is caught; its other factor
//! has order 511, so two flips are missed exactly when they are a multiple of 511 bits
//! apart — impossible in the 64-bit group frame and the 272-bit 34-byte read-all, possible in
//! the 528-bit RDCSALL/RDACSALL and 560-bit RDASALL frames (17 and 49 such pairs).
//! Frame bits are numbered MSB first from the first data byte: the PEC bytes carry the
//! counter then the remainder, so the frame's bit order is the code word's.

use bms_afe::isospi::{DataPec, verify_frame};

mod common;
use common::sealed;

/// A frame of `len` bytes (data + 2 PEC bytes) with varied data and counter 23.
fn frame(len: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..len - 2)
        .map(|i| (i as u8).wrapping_mul(37) ^ 0x5A)
        .collect();
    sealed(&data, 23)
}

fn flip(f: &mut [u8], bit: usize) {
    f[bit / 8] ^= 0x80 >> (bit % 8);
}

fn passes(f: &[u8]) -> bool {
    verify_frame(f, DataPec::Pec10).is_ok()
}

/// Every pair of flipped bits `(i, j)`, `i < j < bits`, where `j − i` satisfies `keep`.
fn double_flips(len: usize, keep: impl Fn(usize) -> bool) -> (usize, usize) {
    let good = frame(len);
    assert!(passes(&good));
    let bits = len * 8;
    let (mut tried, mut undetected) = (0, 0);
    let mut f = good.clone();
    for i in 0..bits {
        for j in i + 1..bits {
            if !keep(j - i) {
                continue;
            }
            flip(&mut f, i);
            flip(&mut f, j);
            tried += 1;
            if passes(&f) {
                undetected += 1;
            }
            flip(&mut f, i);
            flip(&mut f, j);
        }
    }
    (tried, undetected)
}

#[test]
fn group_frame_catches_every_error_of_up_to_three_bits() {
    let good = frame(8);
    let mut f = good.clone();
    for i in 0..64 {
        flip(&mut f, i);
        assert!(!passes(&f), "bit {i}");
        for j in i + 1..64 {
            flip(&mut f, j);
            assert!(!passes(&f), "bits {i}, {j}");
            for k in j + 1..64 {
                flip(&mut f, k);
                assert!(!passes(&f), "bits {i}, {j}, {k}");
                flip(&mut f, k);
            }
            flip(&mut f, j);
        }
        flip(&mut f, i);
    }
    assert_eq!(f, good);
}

#[test]
fn cell_read_all_catches_every_double_bit_error() {
    // RDCVALL/RDACALL/RDSALL/RDFCALL: 32 data bytes + PEC, 272 bits.
    let (tried, undetected) = double_flips(34, |_| true);
    assert_eq!(tried, 272 * 271 / 2);
    assert_eq!(undetected, 0);
}

#[test]
fn wide_read_alls_miss_double_bit_errors_511_bits_apart() {
    // RDCSALL/RDACSALL (66 bytes, 528 bits) and RDASALL (70 bytes, 560 bits): every pair
    // 511 bits apart passes, and no other sampled pair does.
    for (len, pairs) in [(66, 528 - 511), (70, 560 - 511)] {
        assert_eq!(
            double_flips(len, |d| d == 511),
            (pairs, pairs),
            "{len}-byte frame"
        );
        let (tried, undetected) = double_flips(len, |d| d != 511 && d % 7 == 3);
        assert!(tried > 10_000);
        assert_eq!(undetected, 0, "{len}-byte frame");
    }
    // Odd numbers of flips are caught at any length (the generator's x + 1 factor).
    let mut f = frame(70);
    for (i, j, k) in [(0, 511, 100), (3, 514, 559), (10, 300, 521)] {
        flip(&mut f, i);
        flip(&mut f, j);
        flip(&mut f, k);
        assert!(!passes(&f), "bits {i}, {j}, {k}");
        flip(&mut f, i);
        flip(&mut f, j);
        flip(&mut f, k);
    }
}
