//! Property tests for the ADBMS6830 pure core and driver: decoders never panic on arbitrary
//! bytes, register round trips, every single-bit flip of a PEC10 frame is detected, and the
//! driver never hands out data from a frame that fails its check.
#![allow(clippy::needless_range_loop)]

use bms_afe::adbms6830::register::{
    CfgA, CfgB, Comm, DischargeRange, Pwm, StatusC, StatusD, StatusE, threshold_uv,
};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b, CellSource, convert};
use bms_afe::io::Blocking;
use bms_afe::isospi::{DataPec, verify_frame};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use embedded_hal_mock::eh1::delay::NoopDelay;
use proptest::prelude::*;

mod common;
use common::oracle_pec10;

proptest! {
    #[test]
    fn decoders_never_panic(b in any::<[u8; 6]>(), c in any::<[u8; 6]>(), w in any::<u16>()) {
        let _ = CfgA::from_bytes(&b);
        let _ = CfgB::from_bytes(&b);
        let _ = StatusC::from_bytes(&b);
        let _ = StatusD::from_bytes(&b);
        let _ = StatusE::from_bytes(&b);
        let _ = Comm::from_bytes(&b);
        let _ = Pwm::from_bytes(&b, &c);
        let _ = convert::cell(w);
        let _ = convert::vpv(w);
        let _ = convert::itmp(w);
    }

    #[test]
    fn cfgb_round_trips(b in any::<[u8; 6]>()) {
        prop_assert_eq!(CfgB::from_bytes(&b).to_bytes(), b);
    }

    #[test]
    fn cfga_round_trips_writable_bits(b in any::<[u8; 6]>()) {
        let back = CfgA::from_bytes(&b).to_bytes();
        let mask = [0x87u8, 0xFF, 0xF8, 0xFF, 0x03, 0x0F];
        for i in 0..6 {
            prop_assert_eq!(back[i], b[i] & mask[i]);
        }
    }

    #[test]
    fn statd_round_trips(uv in any::<u16>(), ov in any::<u16>(), oc in any::<u8>()) {
        let s = StatusD { undervoltage: uv, overvoltage: ov, oscillator_counter: oc };
        prop_assert_eq!(StatusD::from_bytes(&s.to_bytes()), s);
    }

    #[test]
    fn comm_and_pwm_round_trip(b in any::<[u8; 6]>(), duties in proptest::array::uniform18(0u8..16)) {
        prop_assert_eq!(Comm::from_bytes(&b).to_bytes(), b);
        let p = Pwm { duty: duties };
        let (a, bb) = p.to_bytes();
        prop_assert_eq!(Pwm::from_bytes(&a, &bb), p);
    }

    #[test]
    fn thresholds_achieve_at_most_one_step_below(uv in -3_415_200i32..=6_412_800) {
        let mut b = CfgB::default();
        let got = b.set_overvoltage(MicroVolts(uv)).unwrap();
        prop_assert!(got.0 <= uv && uv - got.0 < 2_400, "{} -> {}", uv, got.0);
        prop_assert_eq!(threshold_uv(b.vov), got);
        // The encoded image decodes to the same code.
        prop_assert_eq!(CfgB::from_bytes(&b.to_bytes()).vov, b.vov);
    }

    #[test]
    fn undervoltage_rounds_up_never_below_the_request(uv in -3_415_200i32..=6_412_800) {
        // Oracle (adi.md §6.4: threshold = code × 16 × 150 µV + 1.5 V), in floating point:
        // code = ceil((V − 1.5 V) / 2.4 mV).
        let code = ((f64::from(uv) - 1.5e6) / (16.0 * 150.0)).ceil() as i16;
        let mut b = CfgB::default();
        let got = b.set_undervoltage(MicroVolts(uv)).unwrap();
        prop_assert_eq!(b.vuv, code);
        prop_assert_eq!(got.0, i32::from(code) * 2_400 + 1_500_000);
        prop_assert!(got.0 >= uv && got.0 - uv < 2_400, "{} -> {}", uv, got.0);
        prop_assert_eq!(CfgB::from_bytes(&b.to_bytes()).vuv, b.vuv);
    }

    #[test]
    fn overvoltage_matches_the_floor_oracle(uv in -3_415_200i32..=6_412_800) {
        let code = ((f64::from(uv) - 1.5e6) / (16.0 * 150.0)).floor() as i16;
        let mut b = CfgB::default();
        b.set_overvoltage(MicroVolts(uv)).unwrap();
        prop_assert_eq!(b.vov, code);
    }

    #[test]
    fn out_of_range_fields_never_validate(v in any::<i16>(), o in any::<i16>(), dcto in any::<u8>(), owa in any::<u8>(), fc in any::<u8>(), gpo in any::<u16>(), duty in any::<u8>()) {
        let b = CfgB { vuv: v, vov: o, dcto, ..CfgB::default() };
        let fits_b = (-2048..=2047).contains(&v) && (-2048..=2047).contains(&o) && dcto < 64;
        prop_assert_eq!(b.validate().is_ok(), fits_b);
        // Whatever validates is sent unchanged: the encoded image decodes to the same fields.
        if fits_b {
            prop_assert_eq!(CfgB::from_bytes(&b.to_bytes()), b);
        }
        let a = CfgA { owa, fc, gpo, ..CfgA::default() };
        let fits_a = owa < 8 && fc < 8 && gpo < 0x400;
        prop_assert_eq!(a.validate().is_ok(), fits_a);
        if fits_a {
            prop_assert_eq!(CfgA::from_bytes(&a.to_bytes()), a);
        }
        let mut p = Pwm::default();
        p.duty[7] = duty;
        prop_assert_eq!(p.validate().is_ok(), duty < 16);
    }

    #[test]
    fn discharge_timeout_never_shorter(m in 0u32..=1008) {
        let mut b = CfgB::default();
        let got = b.set_discharge_timeout(m).unwrap();
        prop_assert!(got >= m);
        let step = if b.dtrng == DischargeRange::Minutes { 1 } else { 16 };
        prop_assert_eq!(got, u32::from(b.dcto) * step);
    }

    #[test]
    fn every_single_bit_flip_is_detected_8(data in any::<[u8; 6]>(), cc in 0u8..64, bit in 0usize..64) {
        let mut f = [0u8; 8];
        f[..6].copy_from_slice(&data);
        f[6..].copy_from_slice(&oracle_pec10(&data, cc));
        prop_assert_eq!(verify_frame(&f, DataPec::Pec10), Ok(cc));
        f[bit / 8] ^= 0x80 >> (bit % 8);
        prop_assert!(verify_frame(&f, DataPec::Pec10).is_err());
    }

    #[test]
    fn every_single_bit_flip_is_detected_34(data in proptest::collection::vec(any::<u8>(), 32), cc in 0u8..64, bit in 0usize..(34 * 8)) {
        let mut f = data.clone();
        f.extend_from_slice(&oracle_pec10(&data, cc));
        prop_assert_eq!(verify_frame(&f, DataPec::Pec10), Ok(cc));
        f[bit / 8] ^= 0x80 >> (bit % 8);
        prop_assert!(verify_frame(&f, DataPec::Pec10).is_err());
    }

    #[test]
    fn driver_never_returns_data_from_bad_frames(noise in proptest::collection::vec(any::<u8>(), 3 * 8 * 6), good in any::<[bool; 3]>()) {
        // Chain of 3, six group reads; device d answers a valid frame (CC 0) when good[d],
        // else arbitrary noise.
        let mut resp = noise;
        for g in 0..6 {
            for d in 0..3 {
                if good[d] {
                    let off = g * 24 + d * 8;
                    let data: [u8; 6] = [0x10, 0x27, 0x11, 0x27, 0x12, 0x27];
                    resp[off..off + 6].copy_from_slice(&data);
                    let p = oracle_pec10(&data, 0);
                    resp[off + 6..off + 8].copy_from_slice(&p);
                }
            }
        }
        let spi = Replay { data: resp.clone(), pos: 0 };
        let mut drv = Adbms6830::<Adbms6830b, 3, _>::new(Blocking::new(spi, NoopDelay::new()));
        drv.set_retries(0);
        let mut out = [Reading::NotConverted; 48];
        let r = drv.read_cells(CellSource::C, &mut out).unwrap();
        for d in 0..3 {
            for k in 0..16 {
                let o = out[d * 16 + k];
                if good[d] {
                    prop_assert!(o.is_valid());
                } else if o.is_valid() {
                    // Noise can only pass if it happens to carry a correct PEC10 and counter 0
                    // in every group this cell came from: check it really did.
                    let g = k / 3;
                    let off = g * 24 + d * 8;
                    let f = &resp[off..off + 8];
                    prop_assert_eq!(&f[6..8], &oracle_pec10(&f[..6], 0)[..]);
                }
            }
            let any_failed = out[d * 16..d * 16 + 16]
                .iter()
                .any(|o| matches!(o, Reading::Failed(f) if usize::from(f.device) == d));
            prop_assert_eq!(r.failed.contains(d), any_failed);
        }
    }
}

/// An SPI device that answers reads from a fixed byte stream.
struct Replay {
    data: Vec<u8>,
    pos: usize,
}

impl ErrorType for Replay {
    type Error = core::convert::Infallible;
}

impl SpiDevice for Replay {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        for op in ops {
            if let Operation::TransferInPlace(b) = op {
                for x in b.iter_mut() {
                    *x = self.data.get(self.pos).copied().unwrap_or(0xFF);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }
}
