//! Property tests of the integrity codes: every single-bit and every two-bit error in an ADI
//! register frame (6 data bytes + PEC15) is detected, and the fast forms agree with the
//! reference on arbitrary input.
//!
//! PEC15 (x^15+x^14+x^10+x^8+x^7+x^4+x^3+1, LTC6804-DS p.44) has an even number of terms, so
//! it detects every odd number of bit errors, and its period exceeds the 64-bit frame, so no
//! two-bit error within a frame can cancel. The tests below check this exhaustively for every
//! generated group rather than trusting the argument.

use bms_afe::crc;
use proptest::prelude::*;

mod common;
use common::{oracle_crc8, oracle_pec10, oracle_pec15};

/// An 8-byte frame: 6 data bytes and their PEC, big-endian (LTC6812-DS Table 30).
fn frame(data: [u8; 6]) -> [u8; 8] {
    let pec = crc::pec15(&data).to_be_bytes();
    [
        data[0], data[1], data[2], data[3], data[4], data[5], pec[0], pec[1],
    ]
}

fn accepted(f: &[u8; 8]) -> bool {
    crc::pec15(&f[..6]) == u16::from_be_bytes([f[6], f[7]])
}

proptest! {
    #[test]
    fn every_single_and_double_bit_flip_is_detected(data in any::<[u8; 6]>()) {
        let good = frame(data);
        prop_assert!(accepted(&good));
        for i in 0..64 {
            let mut one = good;
            one[i / 8] ^= 0x80 >> (i % 8);
            // Bit 0 of PEC1 is always 0 on the wire: flipping it makes an impossible PEC.
            prop_assert!(!accepted(&one), "single flip at bit {} undetected", i);
            for j in i + 1..64 {
                let mut two = one;
                two[j / 8] ^= 0x80 >> (j % 8);
                prop_assert!(!accepted(&two), "double flip at bits {}, {} undetected", i, j);
            }
        }
    }

    #[test]
    fn fast_forms_agree_with_reference(data in proptest::collection::vec(any::<u8>(), 0..300), cc in 0u8..64) {
        // The independent bit-serial oracles of tests/common (LTC6812-DS "Packet Error Code",
        // ADBMS6830B-DS "Data PEC"), for any length: `pec15`/`pec10` are the two-bytes-per-step
        // table forms, not the byte-wise reference.
        let p15 = u16::from_be_bytes(oracle_pec15(&data));
        prop_assert_eq!(crc::pec15(&data), p15);
        prop_assert_eq!(crc::pec15_group(&data), p15);
        let p10 = oracle_pec10(&data, cc);
        let p10 = u16::from(p10[0] & 0x03) << 8 | u16::from(p10[1]);
        prop_assert_eq!(crc::pec10(&data, cc), p10);
        prop_assert_eq!(crc::pec10_group(&data, cc), p10);
        prop_assert_eq!(crc::crc8_smbus(&data), oracle_crc8(&data));
        if let Ok(six) = <[u8; 6]>::try_from(data.as_slice()) {
            prop_assert_eq!(crc::pec15_6(&six), crc::pec15(&six));
            prop_assert!(crc::pec15_frame_ok(&frame(six)));
        }
    }

    #[test]
    fn pec10_single_bit_flips_in_data_and_counter_are_detected(data in any::<[u8; 6]>(), cc in 0u8..64) {
        // ADBMS6830B-DS Tables 42/43: PEC0 = CC[5:0] << 2 | PEC[9:8], PEC1 = PEC[7:0].
        let p = crc::pec10(&data, cc);
        let wire = [data[0], data[1], data[2], data[3], data[4], data[5], cc << 2 | (p >> 8) as u8, p as u8];
        let ok = |f: &[u8; 8]| crc::pec10(&f[..6], f[6] >> 2) == (u16::from(f[6] & 3) << 8 | u16::from(f[7]));
        prop_assert!(ok(&wire));
        prop_assert_eq!(crc::pec10_frame_ok(&wire), Some(cc));
        prop_assert!(crc::pec10_frame_matches(&wire, cc));
        prop_assert!(!crc::pec10_frame_matches(&wire, (cc + 1) & 0x3F));
        for i in 0..64 {
            let mut one = wire;
            one[i / 8] ^= 0x80 >> (i % 8);
            prop_assert!(!ok(&one), "single flip at bit {} undetected", i);
            prop_assert_eq!(crc::pec10_frame_ok(&one), None, "fixed-frame form missed bit {}", i);
            prop_assert!(!crc::pec10_frame_matches(&one, cc), "expected-counter form missed bit {}", i);
        }
    }

    #[test]
    fn pec10_frame_check_agrees_with_the_bit_serial_rule(frame in any::<[u8; 8]>()) {
        // The independent bit-serial oracle (ADBMS6830B-DS Tables 42/43, tests/common): CRC-10
        // over the 48 data bits then CC[5:0] = PEC0[7:2]; the frame is good exactly when the
        // oracle's PEC0 (CC << 2 | PEC[9:8]) and PEC1 are the frame's.
        let matches = oracle_pec10(&frame[..6], frame[6] >> 2) == [frame[6], frame[7]];
        prop_assert_eq!(crc::pec10_frame_ok(&frame), matches.then_some(frame[6] >> 2));
        // The expected-counter form: good exactly when the oracle agrees for that counter.
        for cc in [frame[6] >> 2, (frame[6] >> 2) ^ 1, 0, 63] {
            let good = oracle_pec10(&frame[..6], cc) == [frame[6], frame[7]];
            prop_assert_eq!(crc::pec10_frame_matches(&frame, cc), good, "cc {}", cc);
        }
    }
}
