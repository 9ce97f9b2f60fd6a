//! Property tests of the BQ7961x frames: decoders never panic on arbitrary bytes (short reads,
//! garbage between frames), every single- and double-bit flip of a response is detected, the
//! scanner finds every good frame in a noisy stream, and commands round-trip. Responses are
//! built with the independent CRC oracle of `tests/common`, not the crate's CRC.

use bms_afe::bq79616::convert;
use bms_afe::bq79616::driver::FaultRegisters;
use bms_afe::bq79616::frame::{self, Request};
use proptest::prelude::*;

mod common;
use common::ti_frame;

/// A response frame of `data` from device `dev` for register `reg` (SLUSE81E response format).
fn response(dev: u8, reg: u16, data: &[u8]) -> Vec<u8> {
    let mut body = vec![(data.len() - 1) as u8, dev, (reg >> 8) as u8, reg as u8];
    body.extend_from_slice(data);
    ti_frame(&body)
}

fn req() -> impl Strategy<Value = Request> {
    prop_oneof![
        Just(Request::SingleRead),
        Just(Request::SingleWrite),
        Just(Request::StackRead),
        Just(Request::StackWrite),
        Just(Request::BroadcastRead),
        Just(Request::BroadcastWrite),
        Just(Request::BroadcastWriteReverse),
    ]
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), reg in any::<u16>(), count in 0usize..140) {
        // Anything accepted is a whole frame of the asked length with a good CRC.
        if let Ok(r) = frame::parse_response(&bytes, reg, count) {
            prop_assert_eq!(bytes.len(), frame::response_len(count));
            prop_assert!(frame::crc_ok(&bytes));
            prop_assert_eq!(r.data.len(), count);
        }
        match frame::decode_command(&bytes) {
            Ok(Some(d)) => {
                prop_assert!(d.len <= bytes.len());
                prop_assert!(frame::crc_ok(&bytes[..d.len]));
                prop_assert!(bytes[0] & 0x80 != 0);
            }
            Ok(None) => prop_assert!(bytes.len() < frame::MAX_COMMAND),
            Err(_) => {}
        }
        let mut rest: &[u8] = &bytes;
        let mut found = 0;
        while let Some((at, r)) = frame::scan(rest) {
            // Whatever the scanner returns is a frame whose CRC holds.
            let len = frame::response_len(r.data.len());
            prop_assert!(frame::crc_ok(&rest[at..at + len]));
            rest = &rest[at + len..];
            found += 1;
            prop_assert!(found <= 300);
        }
        prop_assert_eq!(FaultRegisters::decode(&bytes).is_some(), bytes.len() >= 21);
        prop_assert_eq!(convert::word(&bytes).is_some(), bytes.len() >= 2);
    }

    #[test]
    fn every_single_and_double_flip_is_detected(dev in 0u8..64, reg in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 1..=32)) {
        let good = response(dev, reg, &data);
        let r = frame::parse_response(&good, reg, data.len()).unwrap();
        prop_assert_eq!(r.device, dev);
        prop_assert_eq!(r.data, &data[..]);
        let bits = good.len() * 8;
        for i in 0..bits {
            let mut one = good.clone();
            one[i / 8] ^= 1 << (i % 8);
            prop_assert!(frame::parse_response(&one, reg, data.len()).is_err(), "flip {}", i);
            for j in (i + 1..bits).step_by(7) {
                let mut two = one.clone();
                two[j / 8] ^= 1 << (j % 8);
                prop_assert!(frame::parse_response(&two, reg, data.len()).is_err(), "flips {} {}", i, j);
            }
        }
    }

    #[test]
    fn scanner_finds_frames_between_garbage(
        frames in proptest::collection::vec((0u8..64, proptest::collection::vec(any::<u8>(), 1..=16)), 1..5),
        junk in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 5),
    ) {
        let mut stream = Vec::new();
        for (k, (dev, data)) in frames.iter().enumerate() {
            // Junk with bit 7 set never looks like a response header.
            stream.extend(junk[k].iter().map(|b| b | 0x80));
            stream.extend(response(*dev, 0x0568, data));
        }
        let mut rest: &[u8] = &stream;
        for (dev, data) in &frames {
            let (at, r) = frame::scan(rest).expect("frame lost");
            prop_assert_eq!(r.device, *dev);
            prop_assert_eq!(r.data, &data[..]);
            rest = &rest[at + frame::response_len(data.len())..];
        }
        // A short read of the last frame is not a frame.
        let (dev, data) = frames.last().unwrap();
        let f = response(*dev, 0x0568, data);
        prop_assert!(frame::parse_response(&f[..f.len() - 1], 0x0568, data.len()).is_err());
    }

    #[test]
    fn commands_round_trip(r in req(), dev in 0u8..64, reg in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 1..=8), count in 1usize..=128) {
        let cmd = if r.is_read() {
            frame::read(r, dev, reg, count).unwrap()
        } else {
            frame::write(r, dev, reg, &data).unwrap()
        };
        let d = frame::decode_command(cmd.as_bytes()).unwrap().unwrap();
        prop_assert_eq!(d.request, r);
        prop_assert_eq!(d.register, reg);
        prop_assert_eq!(d.len, cmd.as_bytes().len());
        if r.has_address() {
            prop_assert_eq!(d.device, dev);
        }
        if r.is_read() {
            prop_assert_eq!(d.data, &[(count - 1) as u8][..]);
        } else {
            prop_assert_eq!(d.data, &data[..]);
        }
        // The crate's CRC bytes are the oracle's.
        let bytes = cmd.as_bytes();
        prop_assert_eq!(ti_frame(&bytes[..bytes.len() - 2]), bytes.to_vec());
    }

    #[test]
    fn ntc_interpolation_stays_between_neighbours(r in 100_000u32..900_000, a in -40_000i32..125_000, b in -40_000i32..125_000) {
        let t = [(100_000, bms_afe::units::MilliCelsius(a)), (900_000, bms_afe::units::MilliCelsius(b))];
        let got = convert::ntc_temperature(r, &t).unwrap().0;
        prop_assert!(got >= a.min(b) && got <= a.max(b));
        // Reversed order gives the same curve.
        let rev = [t[1], t[0]];
        prop_assert!((convert::ntc_temperature(r, &rev).unwrap().0 - got).abs() <= 1);
    }

    #[test]
    fn cell_conversion_is_exact_integer_math(code in any::<u16>()) {
        let r = convert::cell_reading(code);
        if code == 0x8000 {
            prop_assert_eq!(r, bms_afe::monitor::Reading::NotConverted);
        } else {
            // 190.73 µV per count, rounded to the nearest µV (written independently here).
            let want = (i64::from(code as i16) * 19_073) as f64 / 100.0;
            let got = r.valid().unwrap().0 as f64;
            prop_assert!((got - want).abs() <= 0.5, "{} vs {}", got, want);
        }
    }
}
