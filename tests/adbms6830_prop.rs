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
use bms_afe::units::{MicroVolts, MilliCelsius};
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use embedded_hal_mock::eh1::delay::NoopDelay;
use proptest::prelude::*;

mod common;
use common::oracle_pec10;

proptest! {
    #[test]
    fn decoders_follow_the_data_sheet_layouts(b in any::<[u8; 6]>(), c in any::<[u8; 6]>(), w in any::<u16>()) {
        // Every decode asserted field by field against the register layouts of ADBMS6830B-DS
        // Tables 55/56 (CFGA/CFGB) and the status/COMM/PWM group tables, written out here
        // bit by bit (an oracle, not the crate's decoder).
        let bit = |byte: u8, n: u32| (byte >> n) & 1 == 1;
        let a = CfgA::from_bytes(&b);
        prop_assert_eq!(a.refon, bit(b[0], 7));
        prop_assert_eq!(a.cth as u8, b[0] & 0b111);
        prop_assert_eq!(a.flag_d, b[1]);
        prop_assert_eq!((a.soakon, a.owrng), (bit(b[2], 7), bit(b[2], 6)));
        prop_assert_eq!(a.owa, (b[2] & 0b0011_1000) >> 3);
        let mut gpo = 0u16;
        for k in 0..8 {
            gpo |= u16::from(bit(b[3], k)) << k;
        }
        gpo |= u16::from(bit(b[4], 0)) << 8 | u16::from(bit(b[4], 1)) << 9;
        prop_assert_eq!(a.gpo, gpo);
        prop_assert_eq!((a.snap_st, a.mute_st, a.comm_bk), (bit(b[5], 5), bit(b[5], 4), bit(b[5], 3)));
        prop_assert_eq!(a.fc, b[5] & 0b111);

        let g = CfgB::from_bytes(&b);
        // VUV = CFGBR1[3:0] ‖ CFGBR0, VOV = CFGBR2 ‖ CFGBR1[7:4]: 12-bit two's complement.
        let s12 = |raw: u16| if raw & 0x800 != 0 { raw as i32 - 4096 } else { raw as i32 };
        prop_assert_eq!(i32::from(g.vuv), s12(u16::from(b[0]) + 256 * u16::from(b[1] % 16)));
        prop_assert_eq!(i32::from(g.vov), s12(u16::from(b[1] / 16) + 16 * u16::from(b[2])));
        prop_assert_eq!(g.dtmen, bit(b[3], 7));
        prop_assert_eq!(g.dtrng == DischargeRange::SixteenMinutes, bit(b[3], 6));
        prop_assert_eq!(g.dcto, b[3] % 64);
        prop_assert_eq!(g.dcc, u16::from(b[4]) + 256 * u16::from(b[5]));

        let st = StatusC::from_bytes(&b);
        prop_assert_eq!(st.cs_fault, u16::from(b[0]) + 256 * u16::from(b[1]));
        prop_assert_eq!(st.conversion_counter_raw, u16::from(b[2]) + 256 * u16::from(b[3]));
        prop_assert_eq!((st.supply_flags, st.system_flags), (b[4], b[5]));

        // STATD: bytes 0..3 hold C1UV C1OV C2UV C2OV … (two bits per cell, LSB first),
        // byte 5 the oscillator counter.
        let d = StatusD::from_bytes(&b);
        for cell in 0..16u32 {
            let byte = b[(cell / 4) as usize];
            let pos = 2 * (cell % 4);
            prop_assert_eq!((d.undervoltage >> cell) & 1 == 1, bit(byte, pos), "C{}UV", cell + 1);
            prop_assert_eq!((d.overvoltage >> cell) & 1 == 1, bit(byte, pos + 1), "C{}OV", cell + 1);
        }
        prop_assert_eq!(d.oscillator_counter, b[5]);

        let e = StatusE::from_bytes(&b);
        prop_assert_eq!(e.gpi, u16::from(b[4]) + 256 * u16::from(b[5] & 0b11));
        prop_assert_eq!(e.revision, b[5] / 16);

        // COMM: three slots of (ICOM ‖ FCOM, data).
        let m = Comm::from_bytes(&b);
        for k in 0..3 {
            prop_assert_eq!((m.0[k].icom, m.0[k].fcom, m.0[k].data), (b[2 * k] / 16, b[2 * k] % 16, b[2 * k + 1]));
        }

        // PWM: cell 2k+1 in the low nibble, 2k+2 in the high nibble of byte k; PWMA holds
        // cells 1–12, PWMB bytes 0–2 cells 13–18.
        let p = Pwm::from_bytes(&b, &c);
        for cell in 0..18 {
            let byte = if cell < 12 { b[cell / 2] } else { c[(cell - 12) / 2] };
            let want = if cell % 2 == 0 { byte % 16 } else { byte / 16 };
            prop_assert_eq!(p.duty[cell], want, "cell {}", cell + 1);
        }

        // Result codes: signed 16 bits × 150 µV + 1.5 V; 0x8000 (cleared) and 0x7FFF (reset)
        // are no results. VPV × 25 (unverified, see convert::VPV_GAIN); ITMP / 7.5 mV − 273 °C.
        let signed = i64::from(w as i16);
        let uv = signed * 150 + 1_500_000;
        let none = w == 0x8000 || w == 0x7FFF;
        let want = |v: i64| if none { Reading::NotConverted } else { Reading::Valid(MicroVolts(v as i32)) };
        prop_assert_eq!(convert::cell(w), want(uv));
        prop_assert_eq!(convert::vpv(w), want(uv * 25));
        let t = convert::itmp(w);
        if none {
            prop_assert_eq!(t, Reading::NotConverted);
        } else {
            // m°C = µV / 7.5 (exact: the 150 µV step is 20 m°C).
            prop_assert_eq!(t, Reading::Valid(MilliCelsius((uv * 1000 / 7500 - 273_000) as i32)));
        }
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
