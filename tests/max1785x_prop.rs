//! Property tests of the MAX1785x message checks and conversions: no decoder panics on
//! arbitrary bytes; every 1-bit error in any answer is detected; every 2-bit error in a
//! READALL of up to 13 devices (Hamming distance 3, the `ReadMode::Auto` limit) and in a
//! READDEVICE reply is detected; conversions match an oracle written here.

use bms_afe::max1785x::convert::{block_uv, cell_uv};
use bms_afe::max1785x::message::{
    Request, check_hello_all, check_read_all, check_read_device, check_write,
};
use bms_afe::max1785x::register::cell_threshold;
use bms_afe::units::MicroVolts;
use proptest::prelude::*;

mod common;
use common::{maxim_sealed, oracle_maxim_pec};

/// A READALL answer over `values.len()` devices as the chain returns it.
fn readall_rx(reg: u8, values: &[u16], dc: u8) -> Vec<u8> {
    let mut body = vec![0x03, reg];
    for v in values {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.push(dc);
    maxim_sealed(&body)
}

proptest! {
    #[test]
    fn decoders_never_panic_and_accept_only_sealed_answers(rx in proptest::collection::vec(any::<u8>(), 0..80), n in 1usize..=32, reg: u8, a in 0u8..32) {
        // Whatever the bytes, a check returns; and it accepts only an answer whose PEC the
        // oracle confirms over exactly the covered bytes.
        let sealed_at = |covered: usize| {
            rx.len() > covered && oracle_maxim_pec(&rx[..covered]) == rx[covered]
        };
        let req = Request::read_all(reg, n, None).unwrap();
        if let Ok(r) = check_read_all(&req, &rx) {
            prop_assert!(sealed_at(3 + 2 * n));
            prop_assert_eq!(r.devices(), n);
        }
        let reqa = Request::read_all(reg, n, Some(a)).unwrap();
        if check_read_all(&reqa, &rx).is_ok() {
            prop_assert!(sealed_at(3 + 2 * n) && rx.len() >= reqa.response_len());
        }
        let rd = Request::read_device(a, reg, Some(a)).unwrap();
        if check_read_device(&rd, &rx, n).is_ok() {
            prop_assert!(sealed_at(5) && rx[0] == (a << 3 | 5) && rx[1] == reg);
        }
        let w = Request::write_all(reg, u16::from(a), None);
        if check_write(&w, &rx, n).is_ok() {
            prop_assert!(sealed_at(4) && rx[..4] == [0x02, reg, a, 0]);
        }
        if let Ok(count) = check_hello_all(&rx) {
            prop_assert!(rx[0] == 0x57 && rx[1] == 0 && rx[2] == count);
        }
    }

    #[test]
    fn any_single_bit_flip_in_a_readall_is_detected(n in 1usize..=32, reg: u8, seed: u64, bit in 0usize..1000) {
        let values: Vec<u16> = (0..n).map(|i| (seed >> (i % 48)) as u16 ^ (i as u16).wrapping_mul(0x1357)).collect();
        let rx = readall_rx(reg, &values, 0);
        let req = Request::read_all(reg, n, None).unwrap();
        let good = check_read_all(&req, &rx).unwrap();
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(good.value(i), Some(*v));
        }
        let bit = bit % (rx.len() * 8);
        let mut bad = rx.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(check_read_all(&req, &bad).is_err());
    }

    #[test]
    fn any_two_bit_error_in_a_readall_of_up_to_13_devices_is_detected(n in 1usize..=13, seed: u64, b1 in 0usize..1000, b2 in 0usize..1000) {
        let values: Vec<u16> = (0..n).map(|i| (seed >> (i % 48)) as u16).collect();
        let rx = readall_rx(0x47, &values, 0);
        let req = Request::read_all(0x47, n, None).unwrap();
        let bits = rx.len() * 8;
        let (b1, b2) = (b1 % bits, b2 % bits);
        prop_assume!(b1 != b2);
        let mut bad = rx.clone();
        bad[b1 / 8] ^= 1 << (b1 % 8);
        bad[b2 / 8] ^= 1 << (b2 % 8);
        prop_assert!(check_read_all(&req, &bad).is_err());
    }

    #[test]
    fn any_one_or_two_bit_error_in_a_read_device_reply_is_detected(a in 0u8..32, reg: u8, v: u16, b1 in 0usize..48, b2 in 0usize..48) {
        let req = Request::read_device(a, reg, None).unwrap();
        let cmd = a << 3 | 0x05;
        let rx = maxim_sealed(&[cmd, reg, v.to_le_bytes()[0], v.to_le_bytes()[1], 0x00]);
        prop_assert_eq!(check_read_device(&req, &rx, 4).map(|x| x.0), Ok(v));
        let mut bad = rx.clone();
        bad[b1 / 8] ^= 1 << (b1 % 8);
        if b1 != b2 {
            bad[b2 / 8] ^= 1 << (b2 % 8);
        }
        prop_assert!(check_read_device(&req, &bad, 4).is_err());
    }

    #[test]
    fn conversions_match_the_oracle(raw: u16) {
        let code = i64::from(raw >> 2);
        // code × 5 V / 2^14 and × 65 V / 2^14, to the nearest µV.
        let cell = (code * 5_000_000 + 8_192) / 16_384;
        let block = (code * 65_000_000 + 8_192) / 16_384;
        prop_assert_eq!(cell_uv(raw), MicroVolts(cell as i32));
        prop_assert_eq!(block_uv(raw), MicroVolts(block as i32));
        if raw >= 4 {
            prop_assert!(cell_uv(raw - 4).0 < cell_uv(raw).0);
        }
    }

    #[test]
    fn thresholds_are_achieved_on_the_safe_side(uv in 0i32..=5_000_000) {
        let (down, vd) = cell_threshold(MicroVolts(uv), false).unwrap();
        let (up, vu) = cell_threshold(MicroVolts(uv), true).unwrap();
        prop_assert!(vd.0 <= uv + 1 && uv - vd.0 <= 306);
        prop_assert!(vu.0 + 1 >= uv && vu.0 - uv <= 306 || up == 0x3FFF << 2);
        prop_assert_eq!(down & 0x3, 0);
        prop_assert_eq!(cell_uv(down), vd);
    }
}
