//! Wire-level tests of the bq769x0 driver with embedded-hal-mock: every expectation list runs
//! through the blocking AND the async driver.
//!
//! Published vectors: TI E2E thread 752518 (BQ76940 at 0x08 with CRC: write SYS_CTRL2 ←
//! 0x40 is `10 05 40 [24]`, reading it back returns `40 [85]` — TI confirmed the write CRC
//! covers the three bytes and the read CRC the read address and the data byte); DS SLUSBK2I
//! §8.3.1.1.2 (GAIN 380 µV / OFFSET 30 mV: 0x1800 → 2364.72 mV, 0x1F10 → 3051.76 mV) and
//! §9.2.2.1 (PROTECT1 0x8B, PROTECT3 0x50, OV_TRIP 0xBF, UV_TRIP 0x99 at GAIN 382 / OFFSET 0).
//! Everything else is built with the independent CRC-8 oracle of tests/common (checked
//! against the E2E bytes below), never with the crate's functions.

use bms_afe::Error;
use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
use bms_afe::bq769x0::{
    AdcCalibration, Bq769x0, Bq76920, Bq76930, Bq76940, CellMap, Protection, SysStat, Variant,
};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, Faults, Reading};
use bms_afe::units::{MicroAmps, MicroVolts};
use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};

mod common;
use common::{block_on, oracle_crc8};

/// Frames for one address and CRC option, built with the oracle.
#[derive(Clone, Copy)]
struct Wire {
    addr: u8,
    crc: bool,
}

impl Wire {
    fn w(self, reg: u8, data: &[u8]) -> T {
        let mut v = vec![reg];
        for (i, &d) in data.iter().enumerate() {
            v.push(d);
            if self.crc {
                v.push(if i == 0 {
                    oracle_crc8(&[self.addr << 1, reg, d])
                } else {
                    oracle_crc8(&[d])
                });
            }
        }
        T::write(self.addr, v)
    }
    fn raw(self, data: &[u8]) -> Vec<u8> {
        let mut v = vec![];
        for (i, &d) in data.iter().enumerate() {
            v.push(d);
            if self.crc {
                v.push(if i == 0 {
                    oracle_crc8(&[(self.addr << 1) | 1, d])
                } else {
                    oracle_crc8(&[d])
                });
            }
        }
        v
    }
    fn r(self, reg: u8, data: &[u8]) -> T {
        T::write_read(self.addr, vec![reg], self.raw(data))
    }
}

const CRC08: Wire = Wire {
    addr: 0x08,
    crc: true,
};
const PLAIN08: Wire = Wire {
    addr: 0x08,
    crc: false,
};

/// Runs `$call` on a blocking and an async driver over the same expectations; both mocks
/// must be exhausted and both results equal. Yields the result.
macro_rules! both {
    ($exp:expr, $v:ty, $map:expr, $wire:expr, |$d:ident| { $($setup:tt)* } $call:ident ( $($arg:expr),* )) => {{
        let exp: Vec<T> = $exp;
        let mut $d = drv::<$v, _>(Blocking::new(Mock::new(&exp), NoopDelay::new()), $map, $wire);
        $($setup)*
        let rb = $d.$call($($arg),*);
        $d.release().release().0.done();
        let mut $d = drv::<$v, _>(Async::new(Mock::new(&exp), NoopDelay::new()), $map, $wire);
        $($setup)*
        let ra = block_on($d.$call($($arg),*));
        $d.release().release().0.done();
        assert_eq!(rb, ra, "blocking and async disagree");
        rb
    }};
}

/// A driver at `w`'s address and CRC option with GAIN 380 µV / OFFSET 30 mV, 1 mΩ.
fn drv<V: Variant, IO>(io: IO, map: CellMap, w: Wire) -> Bq769x0<V, IO> {
    Bq769x0::<V, _>::new(io, map, 1_000)
        .unwrap()
        .with_bus_options(w.addr, w.crc)
        .with_calibration(AdcCalibration::new(380, 30).unwrap())
}

fn map20(n: u8) -> CellMap {
    CellMap::for_cells::<Bq76920>(n).unwrap()
}

#[test]
fn oracle_reproduces_e2e_752518() {
    assert_eq!(oracle_crc8(&[0x10, 0x05, 0x40]), 0x24);
    assert_eq!(oracle_crc8(&[0x11, 0x40]), 0x85);
}

#[test]
fn fet_write_matches_e2e_752518() {
    // SYS_CTRL2 reads 0x40 (CC_EN); turning both FETs off writes 0x40 back: 10 05 40 [24].
    let exp = vec![
        T::write_read(0x08, vec![0x05], vec![0x40, 0x85]),
        T::write(0x08, vec![0x05, 0x40, 0x24]),
        T::write_read(0x08, vec![0x05], vec![0x40, 0x85]),
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} set_fets(false, false));
    assert_eq!(r, Ok(()));
}

#[test]
fn refused_fet_is_a_verify_error_naming_sys_ctrl2() {
    let exp = vec![
        CRC08.r(0x05, &[0x40]),
        CRC08.w(0x05, &[0x43]),
        CRC08.r(0x05, &[0x42]), // CHG_ON stayed 0 (OV latched)
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} set_fets(true, true));
    match r {
        Err(Error::Verify(v)) => {
            assert_eq!(v.register, "SYS_CTRL2");
            assert_eq!((v.expected, v.actual), (0x03, 0x02));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn probe_finds_a_crc_part_at_0x08() {
    let c0 = oracle_crc8(&[0x10, 0x0B, 0x19]);
    assert_eq!(c0, 0x7A);
    let exp = vec![
        T::write(0x08, vec![0x0B, 0x19, 0x7A]),
        T::write_read(0x08, vec![0x0B], vec![0x19, oracle_crc8(&[0x11, 0x19])]),
        // A wrong CRC is NACKed by a CRC part (TI E2E 929619).
        T::write(0x08, vec![0x0B, 0x19, 0x7A ^ 0xFF])
            .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)),
        // ADCGAIN1 = 0x04, ADCOFFSET = 0x1E, ADCGAIN2 = 0xE0: 380 µV, +30 mV.
        CRC08.r(0x50, &[0x04, 0x1E]),
        CRC08.r(0x59, &[0xE0]),
    ];
    let info = both!(exp, Bq76920, map20(5), PLAIN08, |d| {} probe()).unwrap();
    assert_eq!((info.address, info.crc), (0x08, true));
    assert_eq!(info.calibration, AdcCalibration::new(380, 30).unwrap());
}

#[test]
fn probe_finds_a_plain_part_at_0x18() {
    let plain18 = Wire {
        addr: 0x18,
        crc: false,
    };
    let exp = vec![
        T::write(0x08, vec![0x0B, 0x19, 0x7A])
            .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)),
        T::write(0x18, vec![0x0B, 0x19, oracle_crc8(&[0x30, 0x0B, 0x19])]),
        // CC_CFG then VC1_HI (0x0B), which is not the CRC 0xA3 of `31 19`.
        T::write_read(0x18, vec![0x0B], vec![0x19, 0x0B]),
        // A wrong CRC is ACKed: a plain part.
        T::write(
            0x18,
            vec![0x0B, 0x19, oracle_crc8(&[0x30, 0x0B, 0x19]) ^ 0xFF],
        ),
        plain18.r(0x50, &[0x08, 0xFB]),
        plain18.r(0x59, &[0x20]),
    ];
    let info =
        both!(exp, Bq76930, CellMap::for_cells::<Bq76930>(8).unwrap(), PLAIN08, |d| {} probe())
            .unwrap();
    assert_eq!((info.address, info.crc), (0x18, false));
    // ADCGAIN<4:3> = 10, <2:0> = 001 → 365 + 17; offset −5 mV.
    assert_eq!(info.calibration, AdcCalibration::new(382, -5).unwrap());
}

#[test]
fn probe_never_guesses_from_a_corrupted_read() {
    // The CRC part NACKs the wrong CRC, but its read came back with a flipped CRC bit: the
    // two signs disagree, the probe re-reads (retries 2), then names the CRC fault.
    let mut exp = vec![T::write(0x08, vec![0x0B, 0x19, 0x7A])];
    for _ in 0..3 {
        exp.push(T::write_read(0x08, vec![0x0B], vec![0x19, 0x0D ^ 0x40]));
        exp.push(
            T::write(0x08, vec![0x0B, 0x19, 0x85])
                .with_error(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)),
        );
    }
    let r = both!(exp, Bq76920, map20(5), PLAIN08, |d| {} probe());
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::Crc {
                expected: 0x0D,
                received: 0x4D
            }
        }))
    );
}

#[test]
fn probe_disambiguates_a_plain_part_whose_vc1_hi_looks_like_a_crc() {
    let exp = vec![
        T::write(0x08, vec![0x0B, 0x19, 0x7A]),
        T::write_read(0x08, vec![0x0B], vec![0x19, 0x0D]), // VC1_HI = 0x0D = CRC(11 19)
        T::write(0x08, vec![0x0B, 0x19, 0x85]),            // a plain part ACKs it
        PLAIN08.r(0x50, &[0x04, 0x1E]),
        PLAIN08.r(0x59, &[0xE0]),
    ];
    let info = both!(exp, Bq76920, map20(5), PLAIN08, |d| {} probe()).unwrap();
    assert!(!info.crc);
}

fn codes_be(codes: &[u16]) -> Vec<u8> {
    codes.iter().flat_map(|c| c.to_be_bytes()).collect()
}

#[test]
fn three_cell_map_reads_inputs_1_2_5_with_ds_examples() {
    // DS §8.3.1.1.2 examples at GAIN 380 / OFFSET 30: 0x1800 → 2364.72 mV, 0x1F10 → 3051.76.
    // A 3-cell BQ76920 uses VC1, VC2 and VC5 (DS Table 9-2); VC3/VC4 are shorted.
    let exp = vec![CRC08.r(0x0C, &codes_be(&[0x1800, 0x1F10, 0x0002, 0x0001, 0x1F10]))];
    let mut out = [Reading::Failed(DeviceFault {
        device: 9,
        reason: FaultReason::Framing,
    }); 3];
    let exp2 = exp.clone();
    let mut d = drv::<Bq76920, _>(
        Blocking::new(Mock::new(&exp), NoopDelay::new()),
        map20(3),
        CRC08,
    );
    assert!(
        CellMonitor::read_cell_voltages(&mut d, &mut out)
            .unwrap()
            .is_ok()
    );
    d.release().release().0.done();
    let want = [
        Reading::Valid(MicroVolts(2_364_720)),
        Reading::Valid(MicroVolts(3_051_760)),
        Reading::Valid(MicroVolts(3_051_760)),
    ];
    assert_eq!(out, want);
    let mut out2 = [Reading::NotConverted; 3];
    let mut d = drv::<Bq76920, _>(
        Async::new(Mock::new(&exp2), NoopDelay::new()),
        map20(3),
        CRC08,
    );
    assert!(
        block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut out2))
            .unwrap()
            .is_ok()
    );
    d.release().release().0.done();
    assert_eq!(out2, want);
}

/// Every single-bit flip anywhere in a checked burst fails every cell, naming device 0,
/// blocking and async (retries off, so the flipped frame is the only one).
#[test]
fn a_flipped_bit_in_every_byte_position_is_an_error_never_a_value() {
    for (inputs, cells) in [(5usize, 5u8), (10, 7), (15, 13)] {
        let codes: Vec<u16> = (0..inputs as u16).map(|i| 0x1F10 - 3 * i).collect();
        let good = CRC08.raw(&codes_be(&codes));
        for bit in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let exp = vec![T::write_read(0x08, vec![0x0C], bad)];
            let check = |out: &[Reading<MicroVolts>], rep: bms_afe::monitor::ChainReport| {
                assert!(rep.failed.contains(0), "bit {bit}");
                assert!(
                    out.iter()
                        .all(|r| matches!(r, Reading::Failed(f) if f.device == 0
                        && matches!(f.reason, FaultReason::Crc { .. }))),
                    "bit {bit}: {out:?}"
                );
            };
            macro_rules! run {
                ($v:ty) => {{
                    let map = CellMap::for_cells::<$v>(cells).unwrap();
                    let mut out = vec![Reading::NotConverted; usize::from(cells)];
                    let mut d =
                        drv::<$v, _>(Blocking::new(Mock::new(&exp), NoopDelay::new()), map, CRC08);
                    d.set_retries(0);
                    let rep = CellMonitor::read_cell_voltages(&mut d, &mut out).unwrap();
                    check(&out, rep);
                    d.release().release().0.done();
                    let mut out = vec![Reading::NotConverted; usize::from(cells)];
                    let mut d =
                        drv::<$v, _>(Async::new(Mock::new(&exp), NoopDelay::new()), map, CRC08);
                    d.set_retries(0);
                    let rep =
                        block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut out)).unwrap();
                    check(&out, rep);
                    d.release().release().0.done();
                }};
            }
            match inputs {
                5 => run!(Bq76920),
                10 => run!(Bq76930),
                _ => run!(Bq76940),
            }
        }
    }
}

#[test]
fn a_crc_failure_is_retried_with_a_fresh_register_write() {
    let good = CRC08.raw(&[0x84]);
    let mut bad = good.clone();
    bad[1] ^= 0x01;
    let exp = vec![
        T::write_read(0x08, vec![0x00], bad),
        T::write_read(0x08, vec![0x00], good),
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} read_status());
    assert_eq!(r, Ok(SysStat::CC_READY | SysStat::OV));
}

#[test]
fn plain_all_ff_burst_is_no_response() {
    let exp = vec![T::write_read(0x08, vec![0x2A], vec![0xFF, 0xFF]); 3];
    let r = both!(exp, Bq76920, map20(5), PLAIN08, |d| {} read_pack_voltage());
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::NoResponse
        }))
    );
}

#[test]
fn alerts_are_cleared_by_writing_ones() {
    // SYS_STAT = OV | OCD | CC_READY: the fault bits are written as ones (DS Table 8-3);
    // CC_READY is left for the coulomb-counter reader.
    let exp = vec![
        CRC08.r(0x00, &[0x85]),
        CRC08.w(0x00, &[0x05]),
        CRC08.r(0x00, &[0x80]),
        // The configuration check of every pass (unchanged here: nothing written).
        CRC08.r(0x04, &[0x18, 0x40, 0x00, 0x00, 0x00, 0xAC, 0x97, 0x19]),
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} service_alerts()).unwrap();
    assert_eq!(r.status, SysStat::CC_READY | SysStat::OV | SysStat::OCD);
    assert_eq!(r.remaining, SysStat::empty());
    assert!(!r.reconfigured);
}

#[test]
fn stuck_xready_is_reported_remaining() {
    // XREADY stays after the clear; the driver checks the configuration once (unchanged
    // here) and returns — one bounded pass.
    let image = [0x18, 0x40, 0x00, 0x00, 0x00, 0xAC, 0x97, 0x19];
    let exp = vec![
        CRC08.r(0x00, &[0x20]),
        CRC08.w(0x00, &[0x20]),
        CRC08.r(0x00, &[0x20]),
        CRC08.r(0x04, &image),
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} service_alerts()).unwrap();
    assert_eq!(r.remaining, SysStat::DEVICE_XREADY);
}

#[test]
fn configure_writes_ds_design_example_and_verifies() {
    // DS §9.2.2.1 at GAIN 382 / OFFSET 0: PROTECT1 0x8B, PROTECT2 0x5A, PROTECT3 0x50,
    // OV_TRIP 0xBF, UV_TRIP 0x99; SYS_CTRL1 ADC_EN|TEMP_SEL, SYS_CTRL2 CC_EN, CC_CFG 0x19.
    let before = [0x00, 0x00, 0x00, 0x00, 0x00, 0xAC, 0x97, 0x00];
    let after = [0x18, 0x40, 0x8B, 0x5A, 0x50, 0xBF, 0x99, 0x19];
    let exp = vec![
        CRC08.r(0x04, &before),
        CRC08.w(0x04, &after),
        CRC08.r(0x04, &after),
    ];
    let mut p = Protection::new(1_000);
    p.overvoltage(MicroVolts(4_300_000), OvDelay::S2)
        .undervoltage(MicroVolts(2_500_000), UvDelay::S4)
        .short_circuit(MicroAmps::from_milliamps(111_000), ScdDelay::Us100)
        .overcurrent(MicroAmps::from_milliamps(72_000), OcdDelay::Ms320);
    let cal = AdcCalibration::new(382, 0).unwrap();
    let r =
        both!(exp, Bq76920, map20(5), CRC08, |d| { d = d.with_calibration(cal); } configure(&p))
            .unwrap();
    assert_eq!(r.overvoltage, MicroVolts(4_299_792));
    assert_eq!(r.undervoltage, MicroVolts(2_499_808));
}

#[test]
fn configure_mismatch_names_the_register() {
    let before = [0x18, 0x40, 0x00, 0x00, 0x00, 0xAC, 0x97, 0x19];
    let written = [0x18, 0x40, 0x00, 0x00, 0x00, 0xBF, 0x97, 0x19];
    let mut back = written;
    back[5] = 0xAC; // OV_TRIP did not take
    let exp = vec![
        CRC08.r(0x04, &before),
        CRC08.w(0x04, &written),
        CRC08.r(0x04, &back),
    ];
    let mut p = Protection::new(1_000);
    p.overvoltage(MicroVolts(4_300_000), OvDelay::S1);
    let cal = AdcCalibration::new(382, 0).unwrap();
    let r =
        both!(exp, Bq76920, map20(5), CRC08, |d| { d = d.with_calibration(cal); } configure(&p));
    match r {
        Err(Error::Verify(v)) => {
            assert_eq!(v.register, "OV_TRIP");
            assert_eq!((v.expected, v.actual), (0xBF, 0xAC));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ship_mode_sequence() {
    // DS §8.4.2 / Table 8-7: SHUT_A, SHUT_B = 00, then 01, then 10.
    let exp = vec![
        CRC08.r(0x04, &[0x98]), // LOAD_PRESENT | ADC_EN | TEMP_SEL
        CRC08.w(0x04, &[0x18]),
        CRC08.w(0x04, &[0x19]),
        CRC08.w(0x04, &[0x1A]),
    ];
    assert_eq!(
        both!(exp, Bq76920, map20(5), CRC08, |d| {} enter_ship_mode()),
        Ok(())
    );
}

#[test]
fn balancing_spreads_real_cells_over_cellbal_registers() {
    // BQ76930 with 6 cells: inputs 1, 2, 5, 6, 7, 10. Cells 3 and 6 → CB5 and CB10.
    let map = CellMap::for_cells::<Bq76930>(6).unwrap();
    let exp = vec![CRC08.w(0x01, &[0x10, 0x10]), CRC08.r(0x01, &[0x10, 0x10])];
    assert_eq!(
        both!(exp, Bq76930, map, CRC08, |d| {} set_balancing_cells(0b100100)),
        Ok(0b10_0001_0000)
    );
    // BQ76940 with 15 cells: cells 11 and 15 live in CELLBAL3.
    let map = CellMap::all::<Bq76940>();
    let exp = vec![
        CRC08.w(0x01, &[0x01, 0x00, 0x11]),
        CRC08.r(0x01, &[0x01, 0x00, 0x11]),
    ];
    assert!(
        both!(exp, Bq76940, map, CRC08, |d| {} set_balancing_cells(1 | 1 << 10 | 1 << 14)).is_ok()
    );
    // Adjacent inputs are refused before anything is sent.
    let r = both!(vec![], Bq76940, map, CRC08, |d| {} set_balancing_cells(0b11));
    assert_eq!(r.unwrap_err().kind(), bms_afe::ErrorKind::Config);
}

#[test]
fn faults_decode_sys_stat() {
    let exp = vec![CRC08.r(0x00, &[0x23])];
    let mut out = [Reading::NotConverted; 1];
    let mut d = drv::<Bq76920, _>(
        Blocking::new(Mock::new(&exp), NoopDelay::new()),
        map20(5),
        CRC08,
    );
    CellMonitor::read_faults(&mut d, &mut out).unwrap();
    d.release().release().0.done();
    let f = out[0].valid().unwrap();
    assert_eq!(
        f,
        Faults {
            internal: true,
            overcurrent: true,
            short_circuit: true,
            raw: 0x23,
            ..Faults::default()
        }
    );
    let mut out2 = [Reading::NotConverted; 1];
    let mut d = drv::<Bq76920, _>(
        Async::new(Mock::new(&exp), NoopDelay::new()),
        map20(5),
        CRC08,
    );
    block_on(AsyncCellMonitor::read_faults(&mut d, &mut out2)).unwrap();
    d.release().release().0.done();
    assert_eq!(out, out2);
}

#[test]
fn coulomb_counter_one_shot() {
    // CC_EN = 0: clear CC_READY, set CC_ONESHOT, wait, poll, read 0x2710 (84.4 mV → 84.4 A
    // through 1 mΩ, DS §8.3.1.1.3 table), clear CC_READY.
    let exp = vec![
        CRC08.r(0x05, &[0x03]),
        CRC08.w(0x00, &[0x80]),
        CRC08.w(0x05, &[0x23]),
        CRC08.r(0x00, &[0x00]),
        CRC08.r(0x00, &[0x80]),
        CRC08.r(0x32, &[0x27, 0x10]),
        CRC08.w(0x00, &[0x80]),
    ];
    let r = both!(exp, Bq76920, map20(5), CRC08, |d| {} measure_current_once());
    assert_eq!(r, Ok(MicroAmps(84_400_000)));
}

#[test]
fn reset_codes_are_not_converted_never_a_voltage() {
    // Before the first conversion after SHIP→NORMAL the result registers hold 0 (with a good
    // CRC): with OFFSET 30 mV, code 0 would otherwise read as a 30 mV "cell".
    let exp = vec![CRC08.r(0x0C, &[0; 10])];
    let mut out = [Reading::Valid(MicroVolts(-1)); 5];
    let mut d = drv::<Bq76920, _>(
        Blocking::new(Mock::new(&exp), NoopDelay::new()),
        map20(5),
        CRC08,
    );
    assert!(
        CellMonitor::read_cell_voltages(&mut d, &mut out)
            .unwrap()
            .is_ok()
    );
    d.release().release().0.done();
    assert_eq!(out, [Reading::NotConverted; 5]);
    let mut out2 = [Reading::Valid(MicroVolts(-1)); 5];
    let mut d = drv::<Bq76920, _>(
        Async::new(Mock::new(&exp), NoopDelay::new()),
        map20(5),
        CRC08,
    );
    block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut out2)).unwrap();
    d.release().release().0.done();
    assert_eq!(out2, [Reading::NotConverted; 5]);
}
