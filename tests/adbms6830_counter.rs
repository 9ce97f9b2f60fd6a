//! A command-counter mismatch fails every value of that device in the whole operation, and
//! its later values are trusted only after a conversion the counter confirms (blocking and
//! async from one body, against the virtual chain).
//!
//! The scenario each test builds: the chain converts and is read once with one set of
//! physical values, the values change, device 1 misses the next command (the conversion
//! start), and the results are read again. Device 1's registers still hold the first
//! conversion: any of them returned as `Valid` would be a stale value passed off as fresh.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::command::{Adax, Adcv, AuxChannel};
use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b, AuxStatus, AuxValues, CellSource};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{Sim, VirtualChip};
use bms_afe::units::MicroVolts;
use bms_afe::{AsyncCellMonitor, CellMonitor};
use embedded_hal::delay::DelayNs;

mod common;
use common::{block_on, id, quantised};

/// A value no conversion produces, written into every output slot before a read.
const SENTINEL: Reading<MicroVolts> = Reading::Valid(MicroVolts(-7_777_777));

fn first(d: usize, c: usize) -> i32 {
    3_100_000 + (d as i32) * 50_000 + (c as i32) * 10_000
}

fn second(d: usize, c: usize) -> i32 {
    first(d, c) + 200_000
}

fn counter_fault(device: u8) -> impl Fn(&Reading<MicroVolts>) -> bool {
    move |r| matches!(r, Reading::Failed(DeviceFault { device: d, reason: FaultReason::CommandCounter { .. } }) if *d == device)
}

macro_rules! both {
    ($scenario:ident) => {{
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
            let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor);
        }
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
            let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor);
        }
    }};
}

fn set_cells<C: VirtualChip>(sim: &Sim<C>, v: fn(usize, usize) -> i32) {
    sim.with(|m| {
        for dev in 0..2 {
            for cell in 0..16 {
                m.set_cell_voltage(dev, cell, v(dev, cell));
            }
        }
    });
}

/// Asserts device 0 holds `v` and every slot of device 1 is a counter fault.
fn assert_device1_failed(out: &[Reading<MicroVolts>], v: fn(usize, usize) -> i32, what: &str) {
    for cell in 0..16 {
        assert_eq!(
            out[cell],
            Reading::Valid(MicroVolts(quantised(v(0, cell)))),
            "{what}: device 0 cell {cell}"
        );
        assert!(
            counter_fault(1)(&out[16 + cell]),
            "{what}: device 1 cell {cell}: {:?}",
            out[16 + cell]
        );
    }
}

fn assert_all_valid(out: &[Reading<MicroVolts>], v: fn(usize, usize) -> i32, what: &str) {
    for dev in 0..2 {
        for cell in 0..16 {
            assert_eq!(
                out[dev * 16 + cell],
                Reading::Valid(MicroVolts(quantised(v(dev, cell)))),
                "{what}: device {dev} cell {cell}"
            );
        }
    }
}

macro_rules! missed_cell_conversion {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        set_cells(&$sim, first);
        $w($t::wake(&mut $d)).unwrap();
        $w($d.configure(CfgA::default(), CfgB::default())).unwrap();
        let mut out = vec![SENTINEL; 32];
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_all_valid(&out, first, "first conversion");
        // New cell voltages; device 1 misses the ADCV.
        set_cells(&$sim, second);
        $sim.with(|m| m.drop_commands(1, 1));
        out.fill(SENTINEL);
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed.contains(1));
        // All six groups of device 1 fail, not only the group where the mismatch showed.
        assert_device1_failed(&out, second, "missed ADCV");
        // No conversion since: a plain read still fails device 1 (its registers hold the
        // first conversion), in group reads and read-alls, C and S alike.
        out.fill(SENTINEL);
        $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert_device1_failed(&out, second, "read without conversion");
        for source in [CellSource::C, CellSource::Averaged, CellSource::S] {
            out.fill(SENTINEL);
            let r = $w($d.read_cells(source, &mut out)).unwrap();
            assert!(r.failed.contains(1), "{source:?}");
            assert!(
                out[16..].iter().all(counter_fault(1)),
                "{source:?}: {:?}",
                &out[16..]
            );
        }
        $d.set_read_all(true);
        out.fill(SENTINEL);
        $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert_device1_failed(&out, second, "RDCVALL without conversion");
        let (mut c, mut s) = (vec![SENTINEL; 32], vec![SENTINEL; 32]);
        $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
        assert_device1_failed(&c, second, "RDCSALL C without conversion");
        assert!(s[16..].iter().all(counter_fault(1)));
        $d.set_read_all(false);
        // Status D (OV/UV flags come from the C-ADC) fails device 1 too.
        let mut st = [Reading::NotConverted; 2];
        let r = $w($d.read_status_d(&mut st)).unwrap();
        assert!(matches!(st[0], Reading::Valid(_)));
        assert!(matches!(
            st[1],
            Reading::Failed(DeviceFault {
                device: 1,
                reason: FaultReason::CommandCounter { .. }
            })
        ));
        assert!(r.failed.contains(1));
        // A conversion the counter confirms makes device 1 trusted again.
        out.fill(SENTINEL);
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_all_valid(&out, second, "confirmed conversion");
        // The C conversion did not refresh the S-ADC results: those stay failed …
        out.fill(SENTINEL);
        $w($d.read_cells(CellSource::S, &mut out)).unwrap();
        assert!(out[16..].iter().all(counter_fault(1)));
        // … until an S conversion (ADCV with RD = 1 converts both) is confirmed.
        let hint = $w($d.start_cell_adc(Adcv {
            redundant: true,
            ..Adcv::SINGLE
        }))
        .unwrap();
        $sim.delay().delay_us(hint.0);
        $w($d.wake_idle()).unwrap();
        out.fill(SENTINEL);
        assert!($w($d.read_cells(CellSource::S, &mut out)).unwrap().is_ok());
        assert_all_valid(&out, second, "confirmed S conversion");
    }};
}

#[test]
fn missed_cell_conversion_fails_the_device_until_a_confirmed_conversion() {
    both!(missed_cell_conversion);
}

macro_rules! missed_aux_conversion {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        // Two counted commands, so that a device one behind is not mistaken for one that
        // reset (counter no higher than the commands since its last check).
        $w($d.mute(true)).unwrap();
        $w($d.mute(false)).unwrap();
        let sentinel: AuxValues = [SENTINEL; 12];
        let all = Adax {
            channel: AuxChannel::All,
            open_wire: None,
        };
        let set = |uv: i32| {
            $sim.with(|m| {
                (1..=10).for_each(|g| (0..2).for_each(|d| m.set_gpio(d, g, uv + g as i32 * 1_000)))
            })
        };
        set(1_000_000);
        let hint = $w($d.start_aux(all)).unwrap();
        $sim.delay().delay_us(hint.0);
        $w($d.wake_idle()).unwrap();
        let mut aux = [sentinel; 2];
        assert!($w($d.read_aux(false, &mut aux)).unwrap().is_ok());
        for d in 0..2 {
            for g in 0..10 {
                assert_eq!(
                    aux[d][g],
                    Reading::Valid(MicroVolts(quantised(1_000_000 + (g as i32 + 1) * 1_000)))
                );
            }
        }
        // New GPIO voltages; device 1 misses the ADAX.
        set(2_000_000);
        $sim.with(|m| m.drop_commands(1, 1));
        let hint = $w($d.start_aux(all)).unwrap();
        $sim.delay().delay_us(hint.0);
        $w($d.wake_idle()).unwrap();
        aux = [sentinel; 2];
        let r = $w($d.read_aux(false, &mut aux)).unwrap();
        assert_eq!(r.failed.len(), 1);
        for g in 0..10 {
            assert_eq!(
                aux[0][g],
                Reading::Valid(MicroVolts(quantised(2_000_000 + (g as i32 + 1) * 1_000)))
            );
        }
        // All four groups (GPIO1..10, VMV, VPV) of device 1 fail.
        assert!(aux[1].iter().all(counter_fault(1)), "{:?}", aux[1]);
        // Status A/B (from the same ADAX) and RDASALL fail device 1 until confirmed.
        let mut sup = [Reading::NotConverted; 2];
        $w($d.read_supplies(&mut sup)).unwrap();
        assert!(matches!(sup[0], Reading::Valid(_)));
        assert!(matches!(
            sup[1],
            Reading::Failed(DeviceFault { device: 1, .. })
        ));
        let mut all_st: [Reading<AuxStatus>; 2] = [Reading::NotConverted; 2];
        $w($d.read_all_aux_status(&mut all_st)).unwrap();
        assert!(matches!(
            all_st[1],
            Reading::Failed(DeviceFault { device: 1, .. })
        ));
        // A single-channel conversion (ITMP) confirms the temperature only.
        let mut t = [Reading::NotConverted; 2];
        let r = $w($t::measure_temperatures(&mut $d, &mut t)).unwrap();
        assert!(r.is_ok(), "{r:?} {t:?}");
        assert!(t.iter().all(|x| matches!(x, Reading::Valid(_))));
        aux = [sentinel; 2];
        $w($d.read_aux(false, &mut aux)).unwrap();
        assert!(aux[1].iter().all(counter_fault(1)));
        // A conversion of every channel, confirmed, makes device 1 trusted again.
        let hint = $w($d.start_aux(all)).unwrap();
        $sim.delay().delay_us(hint.0);
        $w($d.wake_idle()).unwrap();
        aux = [sentinel; 2];
        assert!($w($d.read_aux(false, &mut aux)).unwrap().is_ok());
        for g in 0..10 {
            assert_eq!(
                aux[1][g],
                Reading::Valid(MicroVolts(quantised(2_000_000 + (g as i32 + 1) * 1_000)))
            );
        }
    }};
}

#[test]
fn missed_aux_conversion_fails_every_aux_value_until_a_confirmed_conversion() {
    both!(missed_aux_conversion);
}

macro_rules! missed_redundant_conversion {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        set_cells(&$sim, first);
        $w($t::wake(&mut $d)).unwrap();
        $w($d.configure(CfgA::default(), CfgB::default())).unwrap();
        let mut m = [Reading::NotConverted; 2];
        assert!($w($d.redundancy_check(&mut m)).unwrap().is_ok());
        assert_eq!(m, [Reading::Valid(0); 2]);
        set_cells(&$sim, second);
        // Device 1 misses the redundancy check's ADCV: the check fails there, and the
        // read-all of C and S that follows (no conversion) still fails it.
        $sim.with(|m| m.drop_commands(1, 1));
        let r = $w($d.redundancy_check(&mut m)).unwrap();
        assert_eq!(m[0], Reading::Valid(0));
        assert!(matches!(
            m[1],
            Reading::Failed(DeviceFault {
                device: 1,
                reason: FaultReason::CommandCounter { .. }
            })
        ));
        assert!(r.failed.contains(1));
        let (mut c, mut s) = (vec![SENTINEL; 32], vec![SENTINEL; 32]);
        $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
        assert_device1_failed(&c, second, "RDCSALL after a missed RD conversion");
        assert_device1_failed(&s, second, "RDCSALL S after a missed RD conversion");
        // The next redundancy check converts again and is confirmed.
        assert!($w($d.redundancy_check(&mut m)).unwrap().is_ok());
        assert_eq!(m, [Reading::Valid(0); 2]);
    }};
}

#[test]
fn missed_redundant_conversion_fails_the_read_alls_until_confirmed() {
    both!(missed_redundant_conversion);
}
