//! Behaviour of the bq769x0 driver against the virtual chip: every scenario body runs once
//! blocking and once async (`w!(…)` is the call, or the call driven to completion).
#![cfg(feature = "sim")]

use bms_afe::Error;
use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
use bms_afe::bq769x0::{
    Bq769x0, Bq76920, Bq76930, Bq76940, CcMode, CellMap, Protection, SysStat, Variant,
};
use bms_afe::error::ErrorKind;
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Reading};
use bms_afe::sim::bq769x0::Bq769x0Sim;
use bms_afe::sim::{Clock, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts};

mod common;
use common::block_on;

macro_rules! blk {
    ($e:expr) => {
        $e
    };
}
macro_rules! asy {
    ($e:expr) => {
        block_on($e)
    };
}

/// Runs `$body` with `$sim` (the control handle) and `$d` (the driver, already probed),
/// first over `Blocking`, then over `Async`; inside, `w!(d.call())` is the call.
macro_rules! twice {
    ($v:ty, $map:expr, $crc:expr, |$sim:ident, $d:ident| $body:block) => {{
        {
            use blk as w;
            let map: CellMap = $map;
            let $sim = Sim::new(Bq769x0Sim::new::<$v>(map, $crc, 0x08));
            #[allow(unused_mut)]
            let mut $d =
                Bq769x0::<$v, _>::new(Blocking::new($sim.i2c(), $sim.delay()), map, 1_000).unwrap();
            w!($d.probe()).unwrap();
            $body
        }
        {
            use asy as w;
            let map: CellMap = $map;
            let $sim = Sim::new(Bq769x0Sim::new::<$v>(map, $crc, 0x08));
            #[allow(unused_mut)]
            let mut $d =
                Bq769x0::<$v, _>::new(Async::new($sim.i2c(), $sim.delay()), map, 1_000).unwrap();
            w!($d.probe()).unwrap();
            $body
        }
    }};
}

fn protection() -> Protection {
    let mut p = Protection::new(1_000);
    p.overvoltage(MicroVolts(4_250_000), OvDelay::S1)
        .undervoltage(MicroVolts(2_800_000), UvDelay::S1)
        .short_circuit(MicroAmps::from_milliamps(100_000), ScdDelay::Us100)
        .overcurrent(MicroAmps::from_milliamps(40_000), OcdDelay::Ms160);
    p
}

fn cells13() -> CellMap {
    CellMap::for_cells::<Bq76940>(13).unwrap()
}

#[test]
fn overvoltage_trips_chg_and_is_named_then_recovers() {
    twice!(Bq76940, cells13(), true, |sim, d| {
        let achieved = w!(d.configure(&protection())).unwrap();
        w!(d.wake()).unwrap();
        w!(d.set_fets(true, true)).unwrap();
        assert_eq!(w!(d.fets()).unwrap(), (true, true));
        // Cell 7 (input VC7) above OV for longer than the 1 s delay.
        sim.with(|m| m.set_cell_voltage(0, 6, achieved.overvoltage.0 + 20_000));
        sim.with(|m| m.advance_ns(1_600_000_000));
        let mut f = [Reading::NotConverted; 1];
        w!(d.read_faults(&mut f)).unwrap();
        let f = f[0].valid().unwrap();
        assert_eq!(f.overvoltage, 1 << 6);
        assert_eq!(f.undervoltage, 0);
        // OV took CHG off, DSG stays (DS Table 8-1); CHG is refused while OV is latched.
        assert_eq!(w!(d.fets()).unwrap(), (false, true));
        let e = w!(d.set_fets(true, true)).unwrap_err();
        assert!(matches!(e, Error::Verify(v) if v.register == "SYS_CTRL2"));
        // Cause removed: the alert clears and CHG can come back.
        sim.with(|m| m.set_cell_voltage(0, 6, 3_700_000));
        sim.with(|m| m.advance_ns(300_000_000));
        let r = w!(d.service_alerts()).unwrap();
        assert!(r.status.contains(SysStat::OV));
        assert!(r.remaining.is_empty());
        w!(d.set_fets(true, true)).unwrap();
    });
}

#[test]
fn configuration_is_reapplied_after_every_normal_entry() {
    twice!(
        Bq76930,
        CellMap::for_cells::<Bq76930>(8).unwrap(),
        true,
        |sim, d| {
            w!(d.configure(&protection())).unwrap();
            let ov = sim.with(|m| m.register(0x09));
            assert_ne!(ov, 0xAC);
            assert!(!w!(d.ensure_configured()).unwrap());
            // SHIP → NORMAL: every register back to its default.
            w!(d.enter_ship_mode()).unwrap();
            assert!(sim.with(|m| m.in_ship_mode()));
            assert_eq!(w!(d.read_status()).unwrap_err().kind(), ErrorKind::Bus);
            sim.with(|m| m.boot());
            assert_eq!(sim.with(|m| m.register(0x09)), 0xAC);
            w!(d.wake()).unwrap();
            assert_eq!(sim.with(|m| m.register(0x09)), ov);
            assert!(sim.with(|m| m.is_awake()));
            let mut cells = [Reading::NotConverted; 8];
            assert!(
                w!(d.measure_cells(ConversionMode::Normal, &mut cells))
                    .unwrap()
                    .is_ok()
            );
            assert!(cells.iter().all(|c| c.is_valid()));
        }
    );
}

#[test]
fn stuck_xready_and_alert_storm_stay_bounded() {
    twice!(Bq76920, CellMap::all::<Bq76920>(), true, |sim, d| {
        w!(d.configure(&protection())).unwrap();
        w!(d.wake()).unwrap();
        w!(d.set_balancing_cells(0b00101)).unwrap();
        sim.with(|m| m.raise_xready(true));
        let t0 = sim.with(|m| m.elapsed_ns()).unwrap();
        for _ in 0..20 {
            let r = w!(d.service_alerts()).unwrap();
            assert_eq!(r.remaining, SysStat::DEVICE_XREADY);
        }
        // XREADY cleared the balancing switches (DS §8.3.1.3.3).
        assert_eq!(sim.with(|m| m.balancing(0)), 0);
        let mut f = [Reading::NotConverted; 1];
        w!(d.read_faults(&mut f)).unwrap();
        assert!(f[0].valid().unwrap().internal);
        sim.with(|m| m.clear_faults());
        let r = w!(d.service_alerts()).unwrap();
        assert!(r.remaining.is_empty());
        // A chattering OCD: every pass returns, nothing spins.
        sim.with(|m| m.alert_storm(0x01));
        for _ in 0..100 {
            let r = w!(d.service_alerts()).unwrap();
            assert_eq!(r.remaining, SysStat::OCD);
        }
        let e = w!(d.set_fets(false, true)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Verify);
        let t1 = sim.with(|m| m.elapsed_ns()).unwrap();
        assert!(
            t1 - t0 < 1_000_000_000,
            "alert handling took {} ns",
            t1 - t0
        );
    });
}

#[test]
fn transient_nack_is_a_bus_error_then_recovers() {
    twice!(Bq76920, CellMap::all::<Bq76920>(), false, |sim, d| {
        sim.with(|m| m.nack_next(1));
        assert_eq!(w!(d.read_status()).unwrap_err().kind(), ErrorKind::Bus);
        assert!(w!(d.read_status()).is_ok());
    });
}

#[test]
fn coulomb_counter_counts_charge_continuous_and_one_shot() {
    twice!(Bq76920, CellMap::all::<Bq76920>(), true, |sim, d| {
        w!(d.wake()).unwrap();
        sim.with(|m| m.set_current(5_000_000)); // 5 A charge
        let mut charge_uas: i64 = 0; // µA × 250 ms periods
        let mut samples = 0;
        for _ in 0..8 {
            sim.with(|m| m.advance_ns(250_000_000));
            if let Some(i) = w!(d.take_current_sample()).unwrap() {
                charge_uas += i.0 / 4;
                samples += 1;
            }
        }
        assert_eq!(samples, 8);
        // 5 A for 2 s = 10 As, within one CC LSB (8.44 mA) per sample.
        assert!((charge_uas - 10_000_000).abs() < 8 * 8_440, "{charge_uas}");
        assert!(w!(d.take_current_sample()).unwrap().is_none());
        // One-shot mode.
        d.set_cc_mode(CcMode::OneShot);
        assert!(w!(d.ensure_configured()).unwrap());
        sim.with(|m| m.set_current(-12_000_000));
        let i = w!(d.measure_current_once()).unwrap();
        assert!((i.0 + 12_000_000).abs() <= 8_440, "{i:?}");
        assert_eq!(
            sim.with(|m| m.register(0x05)) & 0x20,
            0,
            "CC_ONESHOT self-clears"
        );
    });
}

#[test]
fn thermistor_temperatures() {
    twice!(Bq76930, CellMap::all::<Bq76930>(), true, |sim, d| {
        w!(d.wake()).unwrap();
        sim.with(|m| m.set_thermistor_ohms(27_280)); // 103AT near 0 °C
        let mut t = [Reading::NotConverted; 2];
        assert!(w!(d.measure_temperatures(&mut t)).unwrap().is_ok());
        // β model (10 kΩ, 3435 K) at 27.28 kΩ: 1.11 °C; the 382 µV TS step is ~0.03 °C here.
        for r in t {
            let v = r.valid().unwrap().0;
            assert!((v - 1_110).abs() < 100, "{v}");
        }
    });
}

#[test]
fn balancing_follows_the_cell_map() {
    twice!(Bq76940, cells13(), true, |sim, d| {
        // Cells 9 and 13 of a 13-cell pack are VC10 and VC15 (TI E2E 985977).
        let cbs = w!(d.set_balancing_cells(1 << 8 | 1 << 12)).unwrap();
        assert_eq!(cbs, 1 << 9 | 1 << 14);
        assert_eq!(sim.with(|m| m.balancing(0)), 1 << 8 | 1 << 12);
        assert_eq!(w!(d.balancing_cells()).unwrap(), 1 << 8 | 1 << 12);
        assert_eq!(sim.with(|m| m.register(0x03)), 0x10);
        assert_eq!(sim.with(|m| m.register(0x02)), 0x10);
        assert!(w!(d.set_balancing_cells(0b11)).is_err());
        assert_eq!(sim.with(|m| m.stats().adjacent_balancing), 0);
    });
}

/// Every variant, every supported cell count, CRC and plain: cell `i` is the `i`-th real
/// cell, within one LSB, and the pack voltage adds up.
#[test]
fn every_variant_and_reduced_cell_count() {
    fn run<V: Variant>(crc: bool) {
        for n in V::MIN_CELLS..=V::INPUTS {
            let map = CellMap::for_cells::<V>(n).unwrap();
            twice!(V, map, crc, |sim, d| {
                for k in 0..usize::from(n) {
                    sim.with(|m| m.set_cell_voltage(0, k, 3_000_000 + 37_000 * k as i32));
                }
                w!(d.wake()).unwrap();
                let mut cells = vec![Reading::NotConverted; usize::from(n)];
                w!(d.measure_cells(ConversionMode::Normal, &mut cells)).unwrap();
                for (k, c) in cells.iter().enumerate() {
                    let v = c.valid().unwrap().0;
                    let want = 3_000_000 + 37_000 * k as i32;
                    assert!(
                        (v - want).abs() <= 380,
                        "{} {n}s cell {}: {v}",
                        V::NAME,
                        k + 1
                    );
                }
                let mut stack = [Reading::NotConverted; 1];
                w!(d.measure_stack_voltages(&mut stack)).unwrap();
                let sum: i32 = (0..i32::from(n)).map(|k| 3_000_000 + 37_000 * k).sum();
                let v = stack[0].valid().unwrap().0;
                // BAT is the sum of the cell codes / 4: each cell code ±½ LSB, BAT ±2 LSB.
                let tol = (4 + i32::from(n)) * 380;
                assert!((v - sum).abs() <= tol, "{} {n}s pack {v} vs {sum}", V::NAME);
            });
        }
    }
    for crc in [true, false] {
        run::<Bq76920>(crc);
        run::<Bq76930>(crc);
        run::<Bq76940>(crc);
    }
}

#[test]
fn ovrd_alert_opens_both_fets_and_is_reported() {
    twice!(
        Bq76920,
        CellMap::for_cells::<Bq76920>(4).unwrap(),
        false,
        |sim, d| {
            w!(d.wake()).unwrap();
            w!(d.set_fets(true, true)).unwrap();
            // The ALERT pin driven high from outside (OVRD_ALERT, DS Table 8-3): both FETs off.
            sim.with(|m| m.alert_storm(0x10));
            sim.with(|m| m.alert_storm(0));
            assert_eq!(w!(d.fets()).unwrap(), (false, false));
            let mut f = [Reading::NotConverted; 1];
            w!(d.read_faults(&mut f)).unwrap();
            assert_eq!(f[0].valid().unwrap().raw & 0x10, 0x10);
            let r = w!(d.service_alerts()).unwrap();
            assert_eq!(r.status & SysStat::FAULTS, SysStat::OVRD_ALERT);
            assert!(r.remaining.is_empty());
            w!(d.set_fets(true, true)).unwrap();
        }
    );
}
