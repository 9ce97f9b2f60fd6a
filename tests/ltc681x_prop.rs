//! Property tests: every register field set round-trips, thresholds land on the safe side
//! within one step, decoders never panic on arbitrary bytes, and any single-bit flip in a
//! response frame is caught.

use bms_afe::ltc681x::command::{self, AdcMode, Conversion, GpioSelect, StatusSelect};
use bms_afe::ltc681x::convert::{self, StatusA, StatusB, decode_cell_groups, open_wires};
use bms_afe::ltc681x::register::{
    self, Cfg6810, CfgA, CfgB, Comm, CommByte, DischargeTimeout, Nibbles, Psb, ov_threshold,
    uv_threshold,
};
use bms_afe::ltc681x::{DeviceConfig, Ltc6810, Ltc6811, Ltc6812, Ltc6813, Variant};
use bms_afe::monitor::Reading;
use bms_afe::units::{MicroVolts, MilliCelsius};
use proptest::prelude::*;

mod common;

/// PEC15 from the independent bit-serial oracle in tests/common (checked against the
/// published vectors in tests/oracles.rs), never the crate's `crc`.
fn pec15(data: &[u8]) -> u16 {
    u16::from_be_bytes(common::oracle_pec15(data))
}

fn sealed(data: [u8; 6]) -> [u8; 8] {
    let p = pec15(&data).to_be_bytes();
    [
        data[0], data[1], data[2], data[3], data[4], data[5], p[0], p[1],
    ]
}

/// Independent oracle for `decode_cell_groups` (adi.md §3.5, §3.10): cell `c` of device `d`
/// comes from frame `groups[c / 3][d]`, code word `c % 3` (little-endian). A frame with a wrong
/// PEC, a missing group, or a code above 0xDFFF (other than 0xFFFF) fails; 0xFFFF is "not
/// converted"; anything else is `code × 100 µV`. Devices beyond the chain (3) stay untouched.
fn check_decode<V: Variant>(groups: &[[[u8; 8]; 3]], len: usize) -> Result<(), TestCaseError> {
    let mut out = vec![Reading::NotConverted; len];
    let report = decode_cell_groups::<V, 3>(groups, &mut out);
    let mut failed = [false; 3];
    for (i, r) in out.iter().enumerate() {
        let (d, c) = (i / V::CELLS, i % V::CELLS);
        if d >= 3 || (d + 1) * V::CELLS > len {
            // Not a whole device in `out`, or beyond the chain: left alone.
            prop_assert_eq!(*r, Reading::NotConverted);
            continue;
        }
        let expected = match groups.get(c / 3).map(|g| g[d]) {
            Some(f) if pec15(&f[..6]).to_be_bytes() == [f[6], f[7]] => {
                let code = u16::from_le_bytes([f[2 * (c % 3)], f[2 * (c % 3) + 1]]);
                match code {
                    0xFFFF => Some(Reading::NotConverted),
                    0..=0xDFFF => Some(Reading::Valid(MicroVolts(i32::from(code) * 100))),
                    _ => None,
                }
            }
            _ => None,
        };
        match expected {
            Some(e) => prop_assert_eq!(*r, e, "device {} cell {}", d, c + 1),
            None => {
                failed[d] = true;
                match r {
                    Reading::Failed(f) => prop_assert_eq!(usize::from(f.device), d),
                    other => {
                        prop_assert!(false, "device {} cell {}: {:?} not failed", d, c + 1, other)
                    }
                }
            }
        }
    }
    let reported: Vec<usize> = report.failed.iter().collect();
    let want: Vec<usize> = (0..3).filter(|&d| failed[d]).collect();
    prop_assert_eq!(reported, want);
    Ok(())
}

proptest! {
    #[test]
    fn cfga_round_trips(b in any::<[u8; 6]>()) {
        prop_assert_eq!(CfgA::decode(&b).encode(), b);
    }

    #[test]
    fn cfgb_round_trips(b0 in any::<u8>(), b1 in any::<u8>()) {
        // Bytes 2..5 are reserved (written 0).
        let b = [b0, b1, 0, 0, 0, 0];
        prop_assert_eq!(CfgB::decode(&b).encode(), b);
    }

    #[test]
    fn cfg6810_round_trips(b in any::<[u8; 6]>()) {
        let mut b = b;
        b[0] &= 0x7F; // bit 7 unused
        prop_assert_eq!(Cfg6810::decode(&b).encode(), b);
    }

    #[test]
    fn comm_nibbles_psb_round_trip(b in any::<[u8; 6]>()) {
        prop_assert_eq!(Comm::decode(&b).encode(), b);
        prop_assert_eq!(Nibbles::decode(&b).encode(), b);
        prop_assert_eq!(Psb::decode(&b).encode(), b);
        prop_assert_eq!(bms_afe::ltc681x::register::CodeGroup::decode(&b).encode(), b);
    }

    #[test]
    fn comm_fields_round_trip(icom in 0u8..16, data in any::<u8>(), fcom in 0u8..16) {
        let c = Comm([CommByte { icom, data, fcom }; 3]);
        prop_assert_eq!(Comm::decode(&c.encode()), c);
    }

    #[test]
    fn device_config_round_trips_on_every_part(
        gpio in 0u16..0x200, refon in any::<bool>(), adcopt in any::<bool>(),
        vuv in 0u16..0x1000, vov in 0u16..0x1000, dcc in any::<u32>(), dcto in 0u8..16,
        dtmen in any::<bool>(), fdrf in any::<bool>(), ps in 0u8..4, dcc0 in any::<bool>(),
    ) {
        fn check<V: Variant>(c: DeviceConfig) -> Result<(), TestCaseError> {
            // Pull-down bits of GPIOs the part lacks are rejected, never silently dropped.
            let mask = (1u16 << V::GPIOS) - 1;
            if c.gpio_pulldown_off & !mask != 0 {
                let rejected = matches!(
                    c.encode::<V>(),
                    Err(bms_afe::error::ConfigError::OutOfRange { .. })
                );
                prop_assert!(rejected);
            }
            let c = DeviceConfig { gpio_pulldown_off: c.gpio_pulldown_off & mask, ..c };
            let groups = c.encode::<V>().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let back = DeviceConfig::decode::<V>(&groups);
            prop_assert_eq!(back.gpio_pulldown_off, c.gpio_pulldown_off);
            prop_assert_eq!((back.vuv, back.vov, back.dcc, back.dcto), (c.vuv, c.vov, c.dcc, c.dcto));
            prop_assert_eq!((back.refon, back.adcopt), (c.refon, c.adcopt));
            prop_assert_eq!((back.dtmen, back.fdrf, back.ps, back.dcc0), (c.dtmen, c.fdrf, c.ps, c.dcc0));
            Ok(())
        }
        let base = DeviceConfig {
            gpio_pulldown_off: gpio, refon, adcopt, vuv, vov,
            dcto: DischargeTimeout::from_code(dcto), ..DeviceConfig::default()
        };
        check::<Ltc6811>(DeviceConfig { dcc: dcc & 0xFFF, ..base })?;
        let full = DeviceConfig { dtmen, fdrf, ps, dcc0, ..base };
        check::<Ltc6812>(DeviceConfig { dcc: dcc & 0x7FFF, ..full })?;
        check::<Ltc6813>(DeviceConfig { dcc: dcc & 0x3FFFF, ..full })?;
        check::<Ltc6810>(DeviceConfig { dcc: dcc & 0x3F, dtmen, fdrf, dcc0, ..base })?;
        // Cells beyond the part are rejected, never silently dropped.
        let too_many = DeviceConfig { dcc: dcc | 1 << 12, ..base };
        prop_assert!(too_many.encode::<Ltc6811>().is_err());
    }

    #[test]
    fn thresholds_are_achieved_on_the_safe_side(uv in 1_600i32..=6_553_600, ov in 0i32..=6_552_000) {
        let (code, got) = uv_threshold(MicroVolts(uv)).unwrap();
        // comparison = (VUV + 1) · 1.6 mV, never below the request, within one step.
        prop_assert_eq!(got.0, (i32::from(code) + 1) * 1600);
        prop_assert!(got.0 >= uv && got.0 - uv < 1600);
        let (code, got) = ov_threshold(MicroVolts(ov)).unwrap();
        prop_assert_eq!(got.0, i32::from(code) * 1600);
        prop_assert!(got.0 <= ov && ov - got.0 < 1600);
    }

    #[test]
    fn thresholds_reject_out_of_range(v in any::<i32>()) {
        prop_assert_eq!(uv_threshold(MicroVolts(v)).is_ok(), (1_600..=6_553_600).contains(&v));
        prop_assert_eq!(ov_threshold(MicroVolts(v)).is_ok(), (0..=6_552_000).contains(&v));
    }

    #[test]
    fn cell_decoder_never_panics_and_never_validates_garbage(
        raw in proptest::collection::vec((any::<[u8; 8]>(), any::<bool>()), 18),
        len in 0usize..60, supplied in 0usize..=6,
    ) {
        // Arbitrary frames, about half of them given a correct PEC so that the decode path
        // (not just the PEC rejection) is exercised, including codes 0xE000..=0xFFFF.
        let mut groups = [[[0u8; 8]; 3]; 6];
        for (i, (f, seal)) in raw.iter().enumerate() {
            let mut f = *f;
            if *seal {
                let p = pec15(&f[..6]).to_be_bytes();
                f[6] = p[0];
                f[7] = p[1];
            }
            groups[i / 3][i % 3] = f;
        }
        let groups = &groups[..supplied];
        check_decode::<Ltc6813>(groups, len)?;
        check_decode::<Ltc6812>(groups, len)?;
        check_decode::<Ltc6811>(groups, len)?;
        check_decode::<Ltc6810>(groups, len)?;
    }

    #[test]
    fn any_single_bit_flip_fails_only_that_device(
        data in any::<[[u8; 6]; 3]>(), bit in 0usize..64, dev in 0usize..3, group in 0usize..4,
    ) {
        let mut groups = [[[0u8; 8]; 3]; 4];
        let mut data = data;
        for d in data.iter_mut() {
            // Keep codes out of the redundancy-fault range 0xFF00..: those fail by design.
            d[1] &= 0x7F;
            d[3] &= 0x7F;
            d[5] &= 0x7F;
        }
        for g in groups.iter_mut() {
            for (d, f) in g.iter_mut().enumerate() {
                *f = sealed(data[d]);
            }
        }
        groups[group][dev][bit / 8] ^= 1 << (bit % 8);
        let mut out = [Reading::NotConverted; 36];
        let r = decode_cell_groups::<Ltc6811, 3>(&groups, &mut out);
        prop_assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![dev]);
        for (i, o) in out.iter().enumerate() {
            let (d, c) = (i / 12, i % 12);
            if d == dev && c / 3 == group {
                prop_assert!(matches!(o, Reading::Failed(f) if f.device as usize == dev));
            } else {
                prop_assert!(!matches!(o, Reading::Failed(_)));
            }
        }
    }

    #[test]
    fn frame_check_agrees_with_the_plain_pec(f in any::<[u8; 8]>(), flip in 0usize..64) {
        let ok = bms_afe::crc::pec15_frame_ok(&f);
        prop_assert_eq!(ok, pec15(&f[..6]).to_be_bytes() == [f[6], f[7]]);
        let good = sealed([f[0], f[1], f[2], f[3], f[4], f[5]]);
        prop_assert!(bms_afe::crc::pec15_frame_ok(&good));
        let mut bad = good;
        bad[flip / 8] ^= 1 << (flip % 8);
        prop_assert!(!bms_afe::crc::pec15_frame_ok(&bad));
    }

    #[test]
    fn fast_path_agrees_with_the_per_code_rule(data in any::<[u8; 6]>(), hi in 0usize..3) {
        // Force some codes to high bytes 0xDF..=0xFF to exercise both paths at the boundary.
        let mut data = data;
        if data[0] & 1 == 1 {
            data[2 * hi + 1] = 0xDF + data[1] % 0x21;
        }
        let groups = [[sealed(data)]; 2];
        let mut out = [Reading::Valid(MicroVolts(-1)); 6];
        let report = decode_cell_groups::<Ltc6810, 1>(&groups, &mut out);
        // Independent rule (LTC6812-DS Table 4, "Indication of Digital Redundancy Fault
        // Codes"): 0x0000..=0xDFFF are voltages (100 µV per code), 0xFFFF is "not
        // converted", anything else is a fault code that fails the device.
        let mut fault = false;
        for (i, o) in out.iter().enumerate() {
            let code = u16::from_le_bytes([data[2 * (i % 3)], data[2 * (i % 3) + 1]]);
            match code {
                0..=0xDFFF => prop_assert_eq!(*o, Reading::Valid(MicroVolts(i32::from(code) * 100))),
                0xFFFF => prop_assert_eq!(*o, Reading::NotConverted),
                _ => {
                    fault = true;
                    prop_assert!(matches!(o, Reading::Failed(f) if f.device == 0), "{:?}", o);
                }
            }
        }
        prop_assert_eq!(report.is_ok(), !fault);
    }

    #[test]
    fn only_codes_within_full_scale_are_voltages(code in any::<u16>(), dev in any::<u8>()) {
        // adi.md §3.5 (full range to 5.7344 V = 0xE000 codes) and §3.10 (valid results
        // 0x0000..=0xDFFF); 0xFFFF = cleared/never converted. Oracle written from the notes.
        let r = convert::voltage(code, dev);
        match code {
            0x0000..=0xDFFF => prop_assert_eq!(r, Reading::Valid(MicroVolts(i32::from(code) * 100))),
            0xFFFF => prop_assert_eq!(r, Reading::NotConverted),
            _ => prop_assert!(matches!(r, Reading::Failed(f) if f.device == dev)),
        }
    }

    #[test]
    fn cell_decoder_fails_every_code_above_full_scale(
        data in any::<[u8; 6]>(), hi in 0usize..3, high in 0xE0u8..=0xFE,
    ) {
        // One code of the group forced into 0xE000..=0xFEFF (adi.md §3.10: outside the valid
        // 0x0000..=0xDFFF, and not the "not converted" 0xFFFF): it fails, naming the device,
        // and so does the report, although the PEC is good.
        let mut data = data;
        data[2 * hi + 1] = high;
        let groups = [[sealed(data)]; 2];
        let mut out = [Reading::NotConverted; 6];
        let r = decode_cell_groups::<Ltc6810, 1>(&groups, &mut out);
        prop_assert!(matches!(out[hi], Reading::Failed(f) if f.device == 0));
        prop_assert!(r.failed.contains(0));
        for (i, o) in out.iter().take(3).enumerate() {
            let code = u16::from_le_bytes([data[2 * i], data[2 * i + 1]]);
            if code <= 0xDFFF {
                prop_assert_eq!(*o, Reading::Valid(MicroVolts(i32::from(code) * 100)));
            } else if code != 0xFFFF {
                prop_assert!(matches!(o, Reading::Failed(_)));
            }
        }
    }

    #[test]
    fn open_wire_never_judges_fault_codes(
        pu in proptest::collection::vec(0u16..=0xDFFF, 1..19),
        pd in proptest::collection::vec(0u16..=0xDFFF, 1..19),
        at in any::<proptest::sample::Index>(), fault in 0xE000u16..=0xFFFE, dev in any::<u8>(),
    ) {
        // adi.md §3.10: only 0x0000..=0xDFFF are results; one fault code anywhere in either
        // set fails the device instead of yielding an open-wire verdict.
        prop_assert!(matches!(convert::open_wire_reading(&pu, &pd, dev), Reading::Valid(_)));
        let mut pu2 = pu.clone();
        let i = at.index(pu2.len());
        pu2[i] = fault;
        prop_assert!(matches!(convert::open_wire_reading(&pu2, &pd, dev), Reading::Failed(f) if f.device == dev));
        let mut pd2 = pd.clone();
        let i = at.index(pd2.len());
        pd2[i] = fault;
        prop_assert!(matches!(convert::open_wire_reading(&pu, &pd2, dev), Reading::Failed(f) if f.device == dev));
    }

    #[test]
    fn pwm_duty_is_at_most_the_request_within_one_step(p in 0u16..=1000) {
        // adi.md §3.4 (LTC6812-DS Table 53): duty = code/15, code 0..=15.
        let (code, achieved) = register::pwm_duty(p).unwrap();
        prop_assert!(code <= 15);
        // code/15 <= p/1000 < (code + 1)/15, in integers.
        prop_assert!(u32::from(code) * 1000 <= u32::from(p) * 15);
        prop_assert!(u32::from(p) * 15 < (u32::from(code) + 1) * 1000);
        // The achieved ‰ is code/15 rounded up: not above the request, idempotent.
        prop_assert!(achieved <= p);
        prop_assert!(u32::from(achieved) * 15 >= u32::from(code) * 1000);
        prop_assert!(code == 0 || (u32::from(achieved) - 1) * 15 < u32::from(code) * 1000);
        prop_assert_eq!(register::pwm_duty(achieved).unwrap(), (code, achieved));
    }

    #[test]
    fn pwm_duty_rejects_above_100_percent(p in 1001u16..) {
        prop_assert!(register::pwm_duty(p).is_err());
        let mut n = Nibbles::default();
        prop_assert!(n.set_pwm_duty(1, p).is_err());
        prop_assert_eq!(n, Nibbles::default());
    }

    #[test]
    fn nibble_checks_accept_exactly_4_bit_values(v in any::<[u8; 12]>(), w in any::<[u8; 6]>()) {
        prop_assert_eq!(Nibbles(v).check().is_ok(), v.iter().all(|&x| x <= 15));
        let psb = Psb { pwm: w, sctl: [0; 6] };
        prop_assert_eq!(psb.check().is_ok(), w.iter().all(|&x| x <= 15));
        let psb = Psb { pwm: [0; 6], sctl: w };
        prop_assert_eq!(psb.check().is_ok(), w.iter().all(|&x| x <= 15));
        let mut n = Nibbles::default();
        prop_assert_eq!(n.set(usize::from(w[0]) % 14, w[1]).is_ok(), usize::from(w[0]) % 14 < 12 && w[1] <= 15);
    }

    #[test]
    fn comm_check_accepts_exactly_the_table_55_write_codes(icom in any::<u8>(), fcom in any::<u8>()) {
        // adi.md §3.4 (LTC6812-DS Table 55), written out independently of the crate.
        let icom_ok = [0b0000, 0b0001, 0b0110, 0b0111, 0b1000, 0b1001, 0b1010, 0b1111].contains(&icom);
        let fcom_ok = [0b0000, 0b1000, 0b1001].contains(&fcom);
        let c = Comm([CommByte::default(), CommByte { icom, data: 0x5A, fcom }, CommByte::default()]);
        prop_assert_eq!(c.check().is_ok(), icom_ok && fcom_ok);
    }

    #[test]
    fn status_decoders_never_panic(b in any::<[u8; 6]>(), dev in any::<u8>()) {
        // STAR words: SC, ITMP, VA (LTC6812-DS Table 46; SC × 30 and 7.6 mV/K − 276 °C on
        // the LTC6813, SC × 10 and 7.5 mV/K − 273 °C on the LTC6810), each code 100 µV;
        // fault codes (0xE000..=0xFFFE) fail, 0xFFFF is not converted.
        let w = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
        let expect = |code: u16, scale: i32| match code {
            0..=0xDFFF => Some(Some(i32::from(code) * 100 * scale)),
            0xFFFF => Some(None),
            _ => None,
        };
        for (a, sc, uv_per_k, off) in [
            (StatusA::decode::<Ltc6813>(&b, dev), 30, 7600i64, 276_000i64),
            (StatusA::decode::<Ltc6810>(&b, dev), 10, 7500, 273_000),
        ] {
            for (got, want) in [(a.sum_of_cells, expect(w(0), sc)), (a.va, expect(w(2), 1))] {
                match want {
                    Some(Some(v)) => prop_assert_eq!(got, Reading::Valid(MicroVolts(v))),
                    Some(None) => prop_assert_eq!(got, Reading::NotConverted),
                    None => prop_assert!(matches!(got, Reading::Failed(f) if f.device == dev)),
                }
            }
            match expect(w(1), 1) {
                Some(Some(uv)) => {
                    // Nearest m°C of µV × 1000 / (µV per K) − offset.
                    let num = 2 * i64::from(uv) * 1000 + uv_per_k;
                    let mc = num.div_euclid(2 * uv_per_k) - off;
                    prop_assert_eq!(a.die_temperature, Reading::Valid(MilliCelsius(mc as i32)));
                }
                Some(None) => prop_assert_eq!(a.die_temperature, Reading::NotConverted),
                None => prop_assert!(matches!(a.die_temperature, Reading::Failed(f) if f.device == dev)),
            }
        }
        let s = StatusB::decode::<Ltc6811>(&b, dev);
        prop_assert!(s.overvoltage >> 12 == 0 && s.undervoltage >> 12 == 0);
        let s = StatusB::decode::<Ltc6810>(&b, dev);
        prop_assert!(s.overvoltage >> 6 == 0);
        let (ov, uv) = convert::aux_d_flags::<Ltc6812>(&b);
        prop_assert!(ov >> 15 == 0 && uv >> 15 == 0 && ov & 0xFFF == 0);
    }

    #[test]
    fn open_wire_never_panics_and_stays_in_range(
        pu in proptest::collection::vec(any::<u16>(), 0..20),
        pd in proptest::collection::vec(any::<u16>(), 0..20),
    ) {
        let m = open_wires(&pu, &pd);
        let n = pu.len().min(pd.len());
        prop_assert!(n == 0 && m == 0 || u64::from(m) < 1u64 << (n + 1));
    }

    #[test]
    fn conversion_times_include_refup_and_are_positive(md in 0usize..4, adcopt in any::<bool>()) {
        let mode = [AdcMode::Slow, AdcMode::Fast, AdcMode::Normal, AdcMode::Filtered][md];
        for what in [
            Conversion::Cells(command::CellSelect::ALL),
            Conversion::Gpio(GpioSelect::ALL),
            Conversion::Status(StatusSelect::All),
            Conversion::CellsAndSc,
            Conversion::Overlap,
        ] {
            let on = command::conversion_time::<Ltc6813>(what, mode, adcopt, true).0;
            let off = command::conversion_time::<Ltc6813>(what, mode, adcopt, false).0;
            prop_assert!(on > 0);
            prop_assert_eq!(off, on + 4400);
        }
    }
}

#[test]
fn ltc6810_die_temperature_uses_7_5_mv() {
    // adi.md §3.1: LTC6810/6811 7.5 mV/K − 273 °C (Linduino DC2515/DC2259). 0.75 V·… : code
    // 22 275 = 2.2275 V / 7.5 mV = 297.0 K -> 24.0 °C.
    assert_eq!(
        convert::die_temperature::<Ltc6810>(22_275, 0),
        Reading::Valid(bms_afe::units::MilliCelsius(24_000))
    );
    assert_eq!(
        convert::die_temperature::<Ltc6811>(22_275, 0),
        Reading::Valid(bms_afe::units::MilliCelsius(24_000))
    );
    // Sum of cells ×10 / ×20 / ×30 (adi.md §3.1): code 1000 -> 1 V, 2 V, 3 V.
    assert_eq!(
        convert::sum_of_cells::<Ltc6810>(10_000, 0),
        Reading::Valid(MicroVolts(10_000_000))
    );
    assert_eq!(
        convert::sum_of_cells::<Ltc6811>(10_000, 0),
        Reading::Valid(MicroVolts(20_000_000))
    );
    assert_eq!(
        convert::sum_of_cells::<Ltc6812>(10_000, 0),
        Reading::Valid(MicroVolts(30_000_000))
    );
    assert_eq!(
        convert::sum_of_cells::<Ltc6813>(0xFFFF, 0),
        Reading::NotConverted
    );
}

#[test]
fn self_test_patterns_follow_table_13() {
    use command::SelfTest::{One, Two};
    // LTC6812-DS Table 13 / adi.md §3.10.
    assert_eq!(
        command::self_test_expected(One, AdcMode::Fast, false),
        0x9565
    );
    assert_eq!(
        command::self_test_expected(One, AdcMode::Fast, true),
        0x9553
    );
    assert_eq!(
        command::self_test_expected(One, AdcMode::Normal, false),
        0x9555
    );
    assert_eq!(
        command::self_test_expected(Two, AdcMode::Fast, false),
        0x6A9A
    );
    assert_eq!(
        command::self_test_expected(Two, AdcMode::Fast, true),
        0x6AAC
    );
    assert_eq!(
        command::self_test_expected(Two, AdcMode::Filtered, true),
        0x6AAA
    );
}

#[test]
fn conversion_time_table_spot_checks() {
    use command::CellSelect;
    // adi.md §3.6 (each part's Table 5; LTC6812-DS Tables 7/37).
    let t = |c, m, o| command::conversion_time::<Ltc6812>(c, m, o, true).0;
    assert_eq!(
        t(Conversion::Cells(CellSelect::ALL), AdcMode::Filtered, false),
        167_774
    );
    assert_eq!(
        t(Conversion::Cells(CellSelect::ALL), AdcMode::Fast, true),
        1083
    );
    assert_eq!(
        t(
            Conversion::Gpio(GpioSelect::new(2).unwrap()),
            AdcMode::Slow,
            true
        ),
        2400
    );
    assert_eq!(
        t(
            Conversion::Gpio(GpioSelect::new(6).unwrap()),
            AdcMode::Normal,
            false
        ),
        403
    );
    assert_eq!(
        t(
            Conversion::Status(StatusSelect::Itmp),
            AdcMode::Filtered,
            false
        ),
        34_000
    );
    let t11 = |c, m, o| command::conversion_time::<Ltc6811>(c, m, o, true).0;
    assert_eq!(
        t11(Conversion::Cells(CellSelect::ALL), AdcMode::Slow, false),
        12_807
    );
    assert_eq!(
        t11(
            Conversion::Cells(CellSelect::new::<Ltc6811>(3).unwrap()),
            AdcMode::Normal,
            true
        ),
        501
    );
    let t10 = |c, m, o| command::conversion_time::<Ltc6810>(c, m, o, true).0;
    assert_eq!(
        t10(Conversion::Cells(CellSelect::ALL), AdcMode::Filtered, true),
        4423
    );
}

mod through_the_driver {
    use super::*;
    use crate::common::read;
    use bms_afe::io::Blocking;
    use bms_afe::ltc681x::Ltc681x;
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::spi::Mock;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_responses_never_panic_and_never_validate_bad_frames(
            raw in proptest::collection::vec(any::<u8>(), 6 * 16 + 3 * 16 + 2 * 16),
            good_mask in any::<u32>(),
        ) {
            // Some frames are made PEC-correct so the valid path is exercised too.
            let mut raw = raw;
            for (i, f) in raw.chunks_exact_mut(8).enumerate() {
                if good_mask >> (i % 32) & 1 == 1 {
                    let p = pec15(&f[..6]).to_be_bytes();
                    f[6] = p[0];
                    f[7] = p[1];
                }
            }
            let cmds = [
                command::RDCVA, command::RDCVB, command::RDCVC, command::RDCVD, command::RDCVE,
                command::RDCVF, command::RDSTATA, command::RDSTATB, command::RDAUXD,
                command::RDCFGA, command::RDCFGB,
            ];
            let mut tx = Vec::new();
            for (c, chunk) in cmds.iter().zip(raw.chunks(16)) {
                tx.extend(read(*c, chunk));
            }
            let mut d = Ltc681x::<Ltc6813, 2, _>::new(Blocking::new(Mock::new(&tx), NoopDelay::new()));
            d.set_retries(0);
            let mut cells = [Reading::NotConverted; 36];
            let r = d.read_cells(&mut cells).unwrap();
            for (i, c) in cells.iter().enumerate() {
                let (dev, cell) = (i / 18, i % 18);
                let f = &raw[(cell / 3) * 16 + dev * 8..][..8];
                let pec_ok = pec15(&f[..6]).to_be_bytes() == [f[6], f[7]];
                if c.is_valid() {
                    prop_assert!(pec_ok);
                }
                if !pec_ok {
                    prop_assert!(r.failed.contains(dev));
                }
            }
            // Status (STATA, STATB, AUXD) and configuration (CFGA, CFGB): a device is valid
            // exactly when every frame it needs carries a good PEC, and then it is named in
            // no fault; otherwise it is failed and named.
            let frame_ok = |cmd: usize, dev: usize| {
                let f = &raw[cmd * 16 + dev * 8..][..8];
                pec15(&f[..6]).to_be_bytes() == [f[6], f[7]]
            };
            let mut st = [Reading::NotConverted; 2];
            let rs = d.read_status(&mut st).unwrap();
            let mut cfg = [Reading::NotConverted; 2];
            let rc = d.read_config(&mut cfg).unwrap();
            for dev in 0..2 {
                let st_ok = frame_ok(6, dev) && frame_ok(7, dev) && frame_ok(8, dev);
                prop_assert_eq!(st[dev].is_valid(), st_ok, "status of device {}", dev);
                if !st_ok {
                    prop_assert!(rs.failed.contains(dev));
                }
                let cfg_ok = frame_ok(9, dev) && frame_ok(10, dev);
                prop_assert_eq!(cfg[dev].is_valid(), cfg_ok, "configuration of device {}", dev);
                prop_assert_eq!(rc.failed.contains(dev), !cfg_ok);
            }
            d.release().release().0.done();
        }
    }
}
