//! Traps generic code written against the `CellMonitor` trait used to fall into, checked
//! against the virtual chips, blocking and async from one body each:
//!
//! * LTC681x `read_faults` on a fresh, healthy chain (MUXFAIL reads 1 after power-up until
//!   DIAGN runs) and with an injected MUX decoder fault;
//! * bq769x2 balancing on a SEALED / UNSEALED / FULLACCESS chip;
//! * a chain whose length is set at run time below the compile-time capacity, by hand and by
//!   detection.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::bq769x2::data_memory::BalancingConfig;
use bms_afe::bq769x2::{Bq769x2, Bq76952, Config, Security, SecurityKeys};
use bms_afe::error::{Error, ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::{Ltc681x, Ltc6811, Ltc6813};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::bq769x2::Bq76952Sim;
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};

mod common;
use common::{block_on, id};

/// Runs `$scenario!(sim, driver, wrap, Trait $(, arg)*)` once blocking and once async, each on
/// a fresh virtual chip `$chip` (a `$bus` model: `spi` or `i2c`) with a driver from `$drv`.
macro_rules! both {
    ($bus:ident, $chip:expr, $drv:expr, $scenario:ident $(, $arg:expr)*) => {{
        {
            let sim = Sim::new($chip);
            let mut d = ($drv)(Blocking::new(sim.$bus(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor $(, $arg)*);
        }
        {
            let sim = Sim::new($chip);
            let mut d = ($drv)(Async::new(sim.$bus(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor $(, $arg)*);
        }
    }};
}

// ---- LTC681x read_faults on a fresh chain ------------------------------------------------

/// Every device's faults are valid and clear.
fn all_healthy(f: &[Reading<Faults>]) {
    for (d, r) in f.iter().enumerate() {
        let Reading::Valid(x) = r else {
            panic!("device {d}: {r:?}")
        };
        assert!(!x.any(), "device {d} reads faulty: {x:?}");
        assert_eq!(x.raw & 0b11, 0, "device {d} raw bits: {x:?}");
    }
}

macro_rules! fresh_chain_reads_healthy {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $sim.with(|c| c.set_all_cells(3_600_000));
        // Power-up: MUXFAIL = 1 in every STATB until DIAGN (LTC6812-DS "MUX Decoder Check").
        $w($t::wake(&mut $d)).unwrap();
        let mut f = [Reading::<Faults>::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        all_healthy(&f);
        // No OV threshold configured (VOV = 0): the comparison is off and says so.
        assert!(
            f.iter()
                .all(|x| x.valid().is_some_and(|x| x.raw & 0b100 != 0))
        );
        // After a measurement, too.
        let mut cells = [Reading::NotConverted; 3 * 12];
        assert!(
            $w($t::measure_cells(
                &mut $d,
                ConversionMode::Normal,
                &mut cells
            ))
            .unwrap()
            .is_ok()
        );
        assert!(cells.iter().all(|c| c.is_valid()));
        f = [Reading::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        all_healthy(&f);

        // A real MUX decoder fault on device 1 is still reported, at that device only.
        $sim.with(|c| c.set_mux_fault(1, true));
        f = [Reading::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        let f1 = f[1].valid().unwrap();
        assert!(f1.internal && f1.any(), "{f1:?}");
        assert_eq!(f1.raw & 0b10, 0b10, "raw bit 1 = MUXFAIL");
        all_healthy(&f[..1]);
        all_healthy(&f[2..]);
        // Fixed: the next check clears it.
        $sim.with(|c| c.set_mux_fault(1, false));
        f = [Reading::NotConverted; 3];
        $w($t::read_faults(&mut $d, &mut f)).unwrap();
        all_healthy(&f);

        // A conversion started through the trait is not disturbed by read_faults.
        $sim.with(|c| c.set_cell_voltage(2, 11, 3_701_200));
        let wait = $w($t::start_cell_conversion(&mut $d, ConversionMode::Fast)).unwrap();
        assert!(wait.0 > 0);
        f = [Reading::NotConverted; 3];
        $w($t::read_faults(&mut $d, &mut f)).unwrap();
        all_healthy(&f);
        cells = [Reading::NotConverted; 36];
        assert!(
            $w($t::read_cell_voltages(&mut $d, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert_eq!(cells[35].valid().map(|v| v.0 / 100), Some(37_012));
    }};
}

#[test]
fn ltc681x_fresh_chain_reads_healthy_and_a_mux_fault_is_reported() {
    both!(
        spi,
        Ltc681xChain::<Ltc6811, 3>::new(),
        Ltc681x::<Ltc6811, 3, _>::new,
        fresh_chain_reads_healthy
    );
}

// ---- bq769x2 balancing and the security states ------------------------------------------

/// Default keys of the virtual BQ76952 (E2E-1053149: unseal 0x0414/0x3672; full access
/// 0xFFFF/0xFFFF).
const UNSEAL: SecurityKeys = SecurityKeys::new(0x0414, 0x3672);
const FULL: SecurityKeys = SecurityKeys::new(0xFFFF, 0xFFFF);

fn needs(e: &Error<impl core::fmt::Debug>, op: &str, state: &str, need: &str) {
    match e {
        Error::NeedsAccess {
            device: 0,
            operation,
            state: s,
            needs: n,
        } if *operation == op && *s == state && *n == need => {}
        other => panic!("expected {op} needs {need} in {state}, got {other:?}"),
    }
    assert_eq!(e.kind(), ErrorKind::NeedsAccess);
    let text = e.to_string();
    assert!(
        text.contains(op) && text.contains(state) && text.contains(need),
        "{text}"
    );
}

macro_rules! bq_balancing_in_state {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $state:expr) => {{
        let state: Security = $state;
        if state != Security::Sealed {
            assert_eq!($w($d.unseal(UNSEAL)).unwrap(), Security::Unsealed);
        }
        if state == Security::FullAccess {
            $w($d.full_access(FULL)).unwrap();
        }
        assert_eq!($w($d.security()).unwrap(), state);

        // Stopping with nothing balancing succeeds and writes nothing (CB_ACTIVE_CELLS is
        // read first).
        let writes = $sim.with(|m| m.cb_writes());
        $w($t::set_balancing(&mut $d, &[0])).unwrap();
        assert_eq!($sim.with(|m| m.cb_writes()), writes);
        // Host balancing works in every state, SEALED included (SLUAA81A): cells 1 and 3.
        $w($t::set_balancing(&mut $d, &[0b101])).unwrap();
        assert_eq!($sim.with(|m| m.cb_active_cells()), 0b101);
        // Stopping while balancing is written and confirmed.
        $w($t::set_balancing(&mut $d, &[0])).unwrap();
        assert_eq!($sim.with(|m| m.cb_active_cells()), 0);
        assert_eq!($sim.with(|m| m.cb_writes()), writes + 2);
        // Adjacent cells are refused before anything is sent.
        assert_eq!(
            $w($t::set_balancing(&mut $d, &[0b11])).unwrap_err().kind(),
            ErrorKind::Config
        );
        assert_eq!($sim.with(|m| m.cb_writes()), writes + 2);

        // The rest of the trait needs no unsealing either.
        let n = $t::cell_count(&$d);
        assert_eq!(n, 16);
        let mut cells = [Reading::NotConverted; Bq769x2::<Bq76952, ()>::MAX_CELLS];
        let cells = &mut cells[..n];
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, cells))
                .unwrap()
                .is_ok()
        );
        assert!(
            cells
                .iter()
                .all(|c| c.valid().is_some_and(|v| v.0 == 3_700_000))
        );
        let mut f = [Reading::<Faults>::NotConverted; 1];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        assert!(f[0].is_valid());

        // What needs more than the state gives is refused naming both states, unchanged chip.
        let mut cfg = Config::new();
        cfg.cov_threshold_mv(4200).unwrap();
        match state {
            Security::Sealed => {
                let e = $w($d.enable_autonomous_fets()).unwrap_err();
                needs(&e, "FET_ENABLE", "SEALED", "UNSEALED");
                assert!(!$sim.with(|m| m.fet_enabled()));
                needs(
                    &$w($d.configure(&cfg)).unwrap_err(),
                    "CONFIG_UPDATE",
                    "SEALED",
                    "FULLACCESS",
                );
                needs(
                    &$w($d.full_access(FULL)).unwrap_err(),
                    "full-access keys",
                    "SEALED",
                    "UNSEALED",
                );
                let mut b = [0u8; 2];
                needs(
                    &$w($d.read_data_memory(0x9261, &mut b)).unwrap_err(),
                    "data-memory read",
                    "SEALED",
                    "UNSEALED",
                );
                needs(&$w($d.reset()).unwrap_err(), "RESET", "SEALED", "UNSEALED");
                assert_eq!($sim.with(|m| m.stats().config_sessions), 0);
            }
            Security::Unsealed => {
                needs(
                    &$w($d.configure(&cfg)).unwrap_err(),
                    "CONFIG_UPDATE",
                    "UNSEALED",
                    "FULLACCESS",
                );
                assert_eq!($sim.with(|m| m.stats().config_sessions), 0);
                $w($d.enable_autonomous_fets()).unwrap();
                assert!($sim.with(|m| m.fet_enabled()));
            }
            _ => {
                $w($d.configure(&cfg)).unwrap();
                assert_eq!($sim.with(|m| m.stats().config_sessions), 1);
                // Host balancing blocked by the chip's Balancing Configuration CB_NO_CMD
                // (SLUUBY2B): the write is ignored, the read-back names the register.
                let mut nocmd = Config::new();
                nocmd
                    .balancing_configuration(BalancingConfig::CB_NO_CMD)
                    .unwrap();
                $w($d.configure(&nocmd)).unwrap();
                match $w($t::set_balancing(&mut $d, &[0b1])).unwrap_err() {
                    Error::Verify(v) => assert_eq!(v.register, "CB_ACTIVE_CELLS"),
                    e => panic!("{e:?}"),
                }
                assert_eq!($sim.with(|m| m.cb_active_cells()), 0);
                // Stopping still succeeds: nothing is balancing.
                $w($t::set_balancing(&mut $d, &[0])).unwrap();
            }
        }
    }};
}

#[test]
fn bq769x2_exports_its_buffer_sizes() {
    use bms_afe::bq769x2::Bq76942;
    assert_eq!(Bq769x2::<Bq76952, ()>::MAX_CELLS, 16);
    assert_eq!(Bq769x2::<Bq76942, ()>::MAX_CELLS, 10);
    assert_eq!(Bq769x2::<Bq76952, ()>::MAX_DEVICES, 1);
    // Die + TS1..TS3, CFETOFF, DFETOFF, ALERT, HDQ, DCHG, DDSG (SLUUBY2B pin functions).
    assert_eq!(Bq769x2::<Bq76952, ()>::MAX_TEMPERATURES, 10);
}

#[test]
fn bq769x2_balancing_in_every_security_state_and_access_errors_name_the_state() {
    for state in [Security::Sealed, Security::Unsealed, Security::FullAccess] {
        both!(
            i2c,
            Bq76952Sim::new_crc(),
            Bq769x2::<Bq76952, _>::new_crc,
            bq_balancing_in_state,
            state
        );
    }
}

// ---- chain length at run time ------------------------------------------------------------

/// A driver type with room for 16 LTC6813s; buffers sized by its constants.
type Ltc16<IO> = Ltc681x<Ltc6813, 16, IO>;
const CELLS16: usize = Ltc16::<()>::MAX_CELLS;
const TEMPS16: usize = Ltc16::<()>::MAX_TEMPERATURES;
const DEVS16: usize = Ltc16::<()>::MAX_DEVICES;

/// A distinct voltage per cell, in µV (multiple of the 100 µV LSB).
fn truth(device: usize, cell: usize) -> i32 {
    3_100_000 + (device as i32) * 41_300 + (cell as i32) * 7_700
}

/// The whole trait walk on a 3-device chain through a capacity-16 driver whose count is 3.
macro_rules! three_of_sixteen {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $detect:expr) => {{
        assert_eq!((CELLS16, TEMPS16, DEVS16), (16 * 18, 16 * 10, 16));
        $sim.with(|c| {
            for dev in 0..3 {
                for k in 0..18 {
                    c.set_cell_voltage(dev, k, truth(dev, k));
                }
            }
        });
        assert_eq!($t::device_count(&$d), 16);
        if $detect {
            assert_eq!($w($d.detect_device_count()).unwrap(), 3);
        } else {
            $d.set_device_count(3).unwrap();
        }
        assert_eq!($t::device_count(&$d), 3);
        assert_eq!($t::cell_count(&$d), 54);
        $w($t::wake(&mut $d)).unwrap();

        let mut cells = [Reading::NotConverted; CELLS16];
        let n = $t::cell_count(&$d);
        let r = $w($t::measure_cells(
            &mut $d,
            ConversionMode::Normal,
            &mut cells[..n],
        ))
        .unwrap();
        assert!(r.is_ok(), "{r:?}");
        for (i, c) in cells[..n].iter().enumerate() {
            assert_eq!(
                *c,
                Reading::Valid(bms_afe::units::MicroVolts(truth(i / 18, i % 18))),
                "cell {i}"
            );
        }
        // The slots past the chain were never written.
        assert!(cells[n..].iter().all(|c| *c == Reading::NotConverted));
        // A buffer for the capacity is the wrong length for a chain of 3.
        assert_eq!(
            $w($t::measure_cells(
                &mut $d,
                ConversionMode::Normal,
                &mut cells
            ))
            .unwrap_err()
            .kind(),
            ErrorKind::InvalidArgument
        );

        let mut temps = [Reading::NotConverted; TEMPS16];
        let per = $t::temperatures_per_device(&$d);
        let r = $w($t::measure_temperatures(&mut $d, &mut temps[..3 * per])).unwrap();
        assert!(r.is_ok());
        assert!(temps[..3 * per].iter().all(Reading::is_valid));
        let mut stacks = [Reading::NotConverted; DEVS16];
        assert!(
            $w($t::measure_stack_voltages(&mut $d, &mut stacks[..3]))
                .unwrap()
                .is_ok()
        );
        let sum0: i32 = (0..18).map(|k| truth(0, k)).sum();
        let s0 = stacks[0].valid().unwrap().0;
        assert!((s0 - sum0).abs() <= 18 * 100 + 2_000, "{s0} vs {sum0}");
        let mut f = [Reading::<Faults>::NotConverted; DEVS16];
        assert!($w($t::read_faults(&mut $d, &mut f[..3])).unwrap().is_ok());
        assert!(
            f[..3]
                .iter()
                .all(|x| x.valid().is_some_and(|x| !x.internal))
        );
        $w($t::set_balancing(&mut $d, &[1 << 3, 0, 1 << 17])).unwrap();
        assert_eq!($sim.with(|c| c.balancing(0)), 1 << 3);
        assert_eq!($sim.with(|c| c.balancing(2)), 1 << 17);
        assert_eq!(
            $w($t::set_balancing(&mut $d, &[0; 16])).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        // Configuration written to and verified on exactly the three devices.
        $d.set_overvoltage(bms_afe::units::MicroVolts(4_200_000))
            .unwrap();
        $w($d.write_config_verified()).unwrap();
    }};
}

#[test]
fn ltc681x_capacity_16_runs_a_chain_of_3_set_by_hand() {
    both!(
        spi,
        Ltc681xChain::<Ltc6813, 3>::new(),
        Ltc16::new,
        three_of_sixteen,
        false
    );
}

#[test]
fn ltc681x_capacity_16_detects_a_chain_of_3() {
    both!(
        spi,
        Ltc681xChain::<Ltc6813, 3>::new(),
        Ltc16::new,
        three_of_sixteen,
        true
    );
}

macro_rules! detection_limits {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        // 5 devices on the wire, room for 4: refused, count unchanged.
        let e = $w($d.detect_device_count()).unwrap_err();
        assert!(matches!(e, Error::Device { device: 4, .. }), "{e:?}");
        assert_eq!($t::device_count(&$d), 4);
        // A silent device 1 with answering devices beyond it: not a length.
        $sim.with(|c| c.inject(InjectedFault::Silent { device: 1 }));
        let e = $w($d.detect_device_count()).unwrap_err();
        assert!(
            matches!(e, Error::Integrity(f) if f.device == 1 && f.reason == FaultReason::NoResponse),
            "{e:?}"
        );
        assert_eq!($t::device_count(&$d), 4);
        $sim.with(|c| c.clear_faults());
        // A link cut above device 1: the answering devices are counted (documented).
        $sim.with(|c| c.inject(InjectedFault::BreakAfter { after: 1 }));
        assert_eq!($w($d.detect_device_count()).unwrap(), 2);
        $sim.with(|c| c.clear_faults());
        assert!(matches!($w($d.detect_device_count()), Err(Error::Device { device: 4, .. })));
    }};
}

#[test]
fn ltc681x_detection_refuses_longer_and_broken_patterns() {
    both!(
        spi,
        Ltc681xChain::<Ltc6811, 5>::new(),
        Ltc681x::<Ltc6811, 4, _>::new,
        detection_limits
    );
}

#[test]
fn ltc681x_out_of_range_counts_are_rejected_before_anything_is_sent() {
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::spi::Mock;
    // A mock with no expectations fails on any transaction (checked by `done`).
    let mut b = Ltc16::new(Blocking::new(Mock::<u8>::new(&[]), NoopDelay::new()));
    let mut a = Ltc16::new(Async::new(Mock::<u8>::new(&[]), NoopDelay::new()));
    for bad in [0, 17, usize::MAX] {
        let e = b.set_device_count(bad).unwrap_err();
        assert_eq!(e, a.set_device_count(bad).unwrap_err());
        assert!(matches!(
            e,
            bms_afe::error::ConfigError::OutOfRange {
                min: 1,
                max: 16,
                ..
            }
        ));
    }
    assert_eq!(CellMonitor::device_count(&b), 16);
    assert_eq!(AsyncCellMonitor::device_count(&a), 16);
    b.set_device_count(16).unwrap();
    a.set_device_count(1).unwrap();
    assert_eq!(AsyncCellMonitor::cell_count(&a), 18);
    b.release().release().0.done();
    a.release().release().0.done();
}

// ---- ADBMS6830: chain length at run time -------------------------------------------------

type Adbms16<IO> = Adbms6830<Adbms6830b, 16, IO>;
const ADBMS_CELLS16: usize = Adbms16::<()>::MAX_CELLS;

macro_rules! adbms_three_of_sixteen {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $detect:expr) => {{
        assert_eq!(ADBMS_CELLS16, 16 * 16);
        assert_eq!(Adbms16::<()>::MAX_DEVICES, 16);
        assert_eq!(Adbms16::<()>::MAX_TEMPERATURES, 16);
        $sim.with(|c| {
            for dev in 0..3 {
                for k in 0..16 {
                    c.set_cell_voltage(dev, k, truth(dev, k));
                }
            }
        });
        assert_eq!($t::device_count(&$d), 16);
        if $detect {
            assert_eq!($w($d.detect_device_count()).unwrap(), 3);
        } else {
            $d.set_device_count(3).unwrap();
        }
        assert_eq!(($t::device_count(&$d), $d.cell_count()), (3, 48));
        $w($t::wake(&mut $d)).unwrap();
        let mut cells = [Reading::NotConverted; ADBMS_CELLS16];
        let n = $t::cell_count(&$d);
        let r = $w($t::measure_cells(
            &mut $d,
            ConversionMode::Fast,
            &mut cells[..n],
        ))
        .unwrap();
        assert!(r.is_ok(), "{r:?}");
        for (i, c) in cells[..n].iter().enumerate() {
            assert_eq!(
                *c,
                Reading::Valid(bms_afe::units::MicroVolts(common::quantised(truth(
                    i / 16,
                    i % 16
                )))),
                "cell {i}"
            );
        }
        assert!(cells[n..].iter().all(|c| *c == Reading::NotConverted));
        assert_eq!(
            $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
        let mut f = [Reading::<Faults>::NotConverted; 16];
        assert!($w($t::read_faults(&mut $d, &mut f[..3])).unwrap().is_ok());
        // A fresh, healthy chain reads healthy through the trait.
        assert!(
            f[..3].iter().all(|x| x.valid().is_some_and(|x| !x.any())),
            "{f:?}"
        );
        let mut t = [Reading::NotConverted; 16];
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t[..3]))
                .unwrap()
                .is_ok()
        );
        assert!(t[..3].iter().all(Reading::is_valid));
        $w($t::set_balancing(&mut $d, &[1 << 2, 0, 1 << 15])).unwrap();
        assert_eq!($sim.with(|c| c.balancing(0)), 1 << 2);
        assert_eq!($sim.with(|c| c.balancing(2)), 1 << 15);
        // A fixed-capacity output of an inherent read: the slots past the chain are no data
        // and not in the report.
        let mut sid = [Reading::Valid(bms_afe::adbms6830::register::SerialId([0; 6])); 16];
        let r = $w($d.read_serial_ids(&mut sid)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert!(sid[..3].iter().all(Reading::is_valid));
        assert!(sid[3..].iter().all(|s| *s == Reading::NotConverted));
    }};
}

#[test]
fn adbms6830_capacity_16_runs_a_chain_of_3_set_by_hand() {
    both!(
        spi,
        Adbms6830Chain::<Adbms6830b, 3>::new(),
        Adbms16::new,
        adbms_three_of_sixteen,
        false
    );
}

#[test]
fn adbms6830_capacity_16_detects_a_chain_of_3() {
    both!(
        spi,
        Adbms6830Chain::<Adbms6830b, 3>::new(),
        Adbms16::new,
        adbms_three_of_sixteen,
        true
    );
}

macro_rules! adbms_detection_limits {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        let e = $w($d.detect_device_count()).unwrap_err();
        assert!(matches!(e, Error::Device { device: 4, .. }), "{e:?}");
        assert_eq!($t::device_count(&$d), 4);
        $sim.with(|c| c.inject(InjectedFault::BreakAfter { after: 2 }));
        assert_eq!($w($d.detect_device_count()).unwrap(), 3);
        assert_eq!($t::device_count(&$d), 3);
    }};
}

#[test]
fn adbms6830_detection_refuses_a_longer_chain() {
    both!(
        spi,
        Adbms6830Chain::<Adbms6830b, 5>::new(),
        Adbms6830::<Adbms6830b, 4, _>::new,
        adbms_detection_limits
    );
}

#[test]
fn adbms6830_out_of_range_counts_are_rejected_before_anything_is_sent() {
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::spi::Mock;
    let mut b = Adbms16::new(Blocking::new(Mock::<u8>::new(&[]), NoopDelay::new()));
    let mut a = Adbms16::new(Async::new(Mock::<u8>::new(&[]), NoopDelay::new()));
    for bad in [0, 17] {
        assert!(b.set_device_count(bad).is_err());
        assert!(a.set_device_count(bad).is_err());
    }
    assert_eq!(CellMonitor::device_count(&b), 16);
    assert_eq!(AsyncCellMonitor::device_count(&a), 16);
    b.release().release().0.done();
    a.release().release().0.done();
}

// ---- wire level: what read_faults and a reduced count put on the bus ---------------------

/// A register group as a device sends it: 6 data bytes and their PEC15 (oracle).
fn group(data: [u8; 6]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&common::oracle_pec15(&data));
    v
}

/// LTC6811 × `devices` read_faults on the wire: wake_idle (one RDCFGA 0x002 per device),
/// PLADC 0x714 (status_bytes = 2 for ≤ 8 devices) reading done, DIAGN 0x715, the 4.5 ms wait
/// (≥ tIDLE 4.3 ms: wake_idle again), then RDSTATA 0x010 and RDSTATB 0x012 with one frame per
/// device (LTC6811-1 data sheet Table 38 command codes; STBR5 bit 1 = MUXFAIL, bits 7:4 REV).
fn faults_on_wire(devices: usize, stbr5: u8) -> Vec<embedded_hal_mock::eh1::spi::Transaction<u8>> {
    use common::{cmd, oracle_cmd, read};
    let wake = |tx: &mut Vec<_>| {
        for _ in 0..devices {
            tx.extend(cmd(oracle_cmd(0x002)));
        }
    };
    let mut tx = vec![];
    wake(&mut tx);
    tx.extend(read(oracle_cmd(0x714), [0xFF, 0xFF]));
    tx.extend(cmd(oracle_cmd(0x715)));
    wake(&mut tx);
    let sta: Vec<u8> = (0..devices)
        .flat_map(|_| group([0x12, 0x62, 0xA8, 0x62, 0x00, 0x7D]))
        .collect();
    tx.extend(read(oracle_cmd(0x010), sta));
    let stb: Vec<u8> = (0..devices)
        .flat_map(|_| group([0x00, 0xC8, 0x00, 0x00, 0x00, stbr5]))
        .collect();
    tx.extend(read(oracle_cmd(0x012), stb));
    tx
}

#[test]
fn ltc681x_read_faults_runs_diagn_and_reads_only_the_devices_on_the_chain() {
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::spi::Mock;
    // Capacity 2, one device on the chain: every frame is for one device (8 bytes per read).
    for (stbr5, internal) in [(0x10, false), (0x12, true)] {
        let tx = faults_on_wire(1, stbr5);
        let mut b = Ltc681x::<Ltc6811, 2, _>::new(Blocking::new(Mock::new(&tx), NoopDelay::new()));
        b.set_device_count(1).unwrap();
        let mut f = [Reading::<Faults>::NotConverted; 1];
        assert!(CellMonitor::read_faults(&mut b, &mut f).unwrap().is_ok());
        let x = f[0].valid().unwrap();
        assert_eq!(
            (x.internal, x.raw & 0b10 != 0),
            (internal, internal),
            "{x:?}"
        );
        b.release().release().0.done();

        let mut a = Ltc681x::<Ltc6811, 2, _>::new(Async::new(Mock::new(&tx), NoopDelay::new()));
        a.set_device_count(1).unwrap();
        let mut f = [Reading::<Faults>::NotConverted; 1];
        assert!(
            block_on(AsyncCellMonitor::read_faults(&mut a, &mut f))
                .unwrap()
                .is_ok()
        );
        assert_eq!(f[0].valid().unwrap().internal, internal);
        a.release().release().0.done();
    }
    // The full capacity: both devices on the wire.
    let tx = faults_on_wire(2, 0x10);
    let mut b = Ltc681x::<Ltc6811, 2, _>::new(Blocking::new(Mock::new(&tx), NoopDelay::new()));
    let mut f = [Reading::<Faults>::NotConverted; 2];
    assert!(CellMonitor::read_faults(&mut b, &mut f).unwrap().is_ok());
    assert!(f.iter().all(|x| x.valid().is_some_and(|x| !x.internal)));
    b.release().release().0.done();
}
