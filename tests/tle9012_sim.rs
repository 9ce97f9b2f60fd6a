//! The TLE9012 driver against the virtual isoUART chain, blocking and async from one body per
//! scenario: chains of 1, 2 and 62 devices (62 = every ID a 6-bit node ID allows), partial
//! populations, corruption at device k, silent devices, watchdog expiry and recovery.
#![cfg(feature = "sim")]

use bms_afe::error::{ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::tle9012::Tle9012Chain;
use bms_afe::sim::{Clock, InjectedFault, Sim, VirtualChip};
use bms_afe::tle9012::register::Register;
use bms_afe::tle9012::{Config, Thresholds, Tle9012, WireOrder};
use bms_afe::units::{MicroVolts, MilliCelsius};

mod common;
use common::{block_on, id};

/// The voltage a TLE9012 reports for `uv` (5 V / 2^16 per LSB, nearest code, read back rounded
/// down to the µV), written from the data-sheet formula independently of the crate.
fn reported(uv: i32) -> i32 {
    let code = ((i64::from(uv) * 65_536 + 2_500_000) / 5_000_000).clamp(0, 65_535);
    ((code * 5_000_000) >> 16) as i32
}

fn pattern(dev: usize, cell: usize) -> i32 {
    3_000_000 + (dev as i32 * 12 + cell as i32) * 1_731
}

/// Runs `$scenario` on a blocking and an async driver over fresh virtual chains.
macro_rules! both {
    ($n:literal, $chain:expr, $make:expr, $scenario:ident) => {{
        {
            let sim = Sim::new($chain);
            #[allow(clippy::redundant_closure_call)]
            let mut d: Tle9012<$n, _> = ($make)(Blocking::new(sim.serial(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor, $n);
        }
        {
            let sim = Sim::new($chain);
            #[allow(clippy::redundant_closure_call)]
            let mut d: Tle9012<$n, _> = ($make)(Async::new(sim.serial(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor, $n);
        }
    }};
}

fn set_pattern<M: VirtualChip>(m: &mut M) {
    for dev in 0..m.device_count() {
        for cell in 0..m.cells_per_device() {
            m.set_cell_voltage(dev, cell, pattern(dev, cell));
        }
    }
}

macro_rules! measure_chain {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        // Every device got ID d + 1, only the last one FN (CONFIG bit 11), read back.
        for dev in 0..$n {
            assert_eq!($sim.with(|m| m.node_id(dev)), Some(dev as u8 + 1));
            let cfg = $sim.with(|m| m.register(dev, 0x36)).unwrap();
            assert_eq!(cfg & 0x0800 != 0, dev + 1 == $n, "FN of device {dev}");
        }
        let c = $t::cells_per_device(&$d);
        assert_eq!(c, 12);
        // Before any conversion nothing is a voltage.
        let mut out = vec![Reading::Valid(MicroVolts(-1)); $n * c];
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert!(r.is_ok());
        assert!(out.iter().all(|x| *x == Reading::NotConverted));
        out.fill(Reading::Valid(MicroVolts(-1)));
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        for dev in 0..$n {
            for cell in 0..c {
                assert_eq!(
                    out[dev * c + cell],
                    Reading::Valid(MicroVolts(reported(pattern(dev, cell)))),
                    "device {dev} cell {cell}"
                );
            }
        }
        // Block voltage: the sum of the cells within one 60 V / 2^16 step and rounding.
        let mut st = vec![Reading::NotConverted; $n];
        assert!(
            $w($t::measure_stack_voltages(&mut $d, &mut st))
                .unwrap()
                .is_ok()
        );
        for dev in 0..$n {
            let sum: i64 = (0..c).map(|cell| i64::from(pattern(dev, cell))).sum();
            let Reading::Valid(v) = st[dev] else {
                panic!("stack {dev}: {:?}", st[dev])
            };
            assert!(
                (i64::from(v.0) - sum).abs() <= 916,
                "stack {dev}: {v:?} vs {sum}"
            );
        }
        // Internal temperature: −0.6624 °C per code, within half a code.
        $sim.with(|m| (0..$n).for_each(|dev| m.set_temperature(dev, 20_000 + dev as i32 * 500)));
        let mut t = vec![Reading::NotConverted; $n];
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t))
                .unwrap()
                .is_ok()
        );
        for dev in 0..$n {
            let Reading::Valid(MilliCelsius(mc)) = t[dev] else {
                panic!("temp {dev}")
            };
            assert!(
                (mc - (20_000 + dev as i32 * 500)).abs() <= 332,
                "temp {dev}: {mc}"
            );
        }
        // The watchdog stays fed as long as keep_alive comes within the deadline.
        let deadline = Tle9012::<$n, Blocking<(), ()>>::keep_alive_deadline();
        for _ in 0..4 {
            $sim.with(|m| m.advance_ns(u64::from(deadline.0) * 1_000));
            assert!($w($d.keep_alive()).unwrap().is_ok());
        }
        assert!($sim.with(|m| m.is_awake()));
        let h = $w($d.check_chain()).unwrap();
        assert!(h.is_complete($n), "{h:?}");
    }};
}

#[test]
fn measure_chain_of_1() {
    both!(1, Tle9012Chain::<1>::new(), Tle9012::new, measure_chain);
}

#[test]
fn measure_chain_of_2() {
    both!(2, Tle9012Chain::<2>::new(), Tle9012::new, measure_chain);
}

#[test]
fn measure_chain_of_62() {
    both!(62, Tle9012Chain::<62>::new(), Tle9012::new, measure_chain);
}

#[test]
fn msb_first_uart_and_no_echo() {
    let cfg = Config {
        wire_order: WireOrder::MsbFirstUart,
        echo: false,
        ..Config::default()
    };
    both!(
        2,
        Tle9012Chain::<2>::new()
            .with_msb_first_uart()
            .without_echo(),
        |io| Tle9012::with_config(io, cfg),
        measure_chain
    );
}

macro_rules! corruption_fails_only_k {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        let c = $t::cells_per_device(&$d);
        for k in [0usize, $n / 2, $n - 1] {
            $sim.with(|m| {
                m.clear_faults();
                m.inject(InjectedFault::CorruptResponses {
                    device: k as u8,
                    seed: 0x1234_5678 ^ k as u32,
                    frames: u32::MAX,
                })
            });
            let mut out = vec![Reading::Valid(MicroVolts(-1)); $n * c];
            let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![k], "k = {k}");
            let f = r.first_fault.unwrap();
            assert_eq!(f.device as usize, k);
            assert!(matches!(f.reason, FaultReason::Crc { .. }), "{f:?}");
            for dev in 0..$n {
                for cell in 0..c {
                    let x = out[dev * c + cell];
                    if dev == k {
                        assert!(matches!(x, Reading::Failed(f) if f.device as usize == k));
                    } else {
                        assert_eq!(x, Reading::Valid(MicroVolts(reported(pattern(dev, cell)))));
                    }
                }
            }
            let mut faults = vec![Reading::<Faults>::NotConverted; $n];
            let r = $w($t::read_faults(&mut $d, &mut faults)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![k]);
            // A silent device instead: NoResponse, named, alone.
            $sim.with(|m| {
                m.clear_faults();
                m.inject(InjectedFault::Silent { device: k as u8 })
            });
            let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![k]);
            assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);
        }
        $sim.with(|m| m.clear_faults());
        let mut out = vec![Reading::NotConverted; $n * c];
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap().is_ok());
        assert!(out.iter().all(Reading::is_valid));
    }};
}

#[test]
fn corruption_at_k_fails_only_k_2() {
    both!(
        2,
        Tle9012Chain::<2>::new(),
        Tle9012::new,
        corruption_fails_only_k
    );
}

#[test]
fn corruption_at_k_fails_only_k_62() {
    both!(
        62,
        Tle9012Chain::<62>::new(),
        Tle9012::new,
        corruption_fails_only_k
    );
}

macro_rules! watchdog_expiry {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        let c = $t::cells_per_device(&$d);
        let mut out = vec![Reading::NotConverted; $n * c];
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out))
                .unwrap()
                .is_ok()
        );
        // One device's watchdog runs out: it and every device above it stop answering.
        let k = $n / 2;
        $sim.with(|m| m.expire_watchdog(k));
        let r = $w($d.keep_alive()).unwrap();
        let lost: Vec<usize> = (k..$n).collect();
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), lost);
        assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);
        let h = $w($d.check_chain()).unwrap();
        assert!(h.unaddressed, "the device that lost its ID answers at ID 0");
        assert_eq!(
            h.answered.iter().collect::<Vec<_>>(),
            (0..k).collect::<Vec<_>>()
        );
        // Re-enumeration repairs only device k (the wake pattern wakes it first).
        $w($d.wake_chain()).unwrap();
        let fresh = $w($d.enumerate()).unwrap();
        assert_eq!(fresh.iter().collect::<Vec<_>>(), vec![k]);
        // Device k has converted nothing since it got its ID back.
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert!(r.is_ok());
        for dev in 0..$n {
            assert_eq!(
                out[dev * c..dev * c + c]
                    .iter()
                    .all(|x| *x == Reading::NotConverted),
                dev == k,
                "device {dev}"
            );
        }
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out))
                .unwrap()
                .is_ok()
        );
        // The whole chain times out when nobody feeds it.
        $sim.with(|m| m.advance_ns(2_100_000_000));
        assert!(!$sim.with(|m| m.is_awake()));
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert_eq!(r.failed.len(), $n);
        assert!(!out.iter().any(Reading::is_valid));
        // wake() recovers: wake pattern, enumeration, configuration, watchdog reload.
        $w($t::wake(&mut $d)).unwrap();
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert!(r.is_ok());
        assert!(out.iter().all(Reading::is_valid));
    }};
}

#[test]
fn watchdog_expiry_recovered_1() {
    both!(1, Tle9012Chain::<1>::new(), Tle9012::new, watchdog_expiry);
}

#[test]
fn watchdog_expiry_recovered_2() {
    both!(2, Tle9012Chain::<2>::new(), Tle9012::new, watchdog_expiry);
}

#[test]
fn watchdog_expiry_recovered_62() {
    both!(62, Tle9012Chain::<62>::new(), Tle9012::new, watchdog_expiry);
}

const INPUTS: [u16; 2] = [0b0000_0011_1111, 0b1010_1010_1010];

macro_rules! partial_population {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        assert_eq!($t::cells_per_device(&$d), 6);
        for dev in 0..$n {
            assert_eq!($sim.with(|m| m.register(dev, 0x01)), Some(INPUTS[dev]));
        }
        let mut out = vec![Reading::NotConverted; $n * 6];
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out))
                .unwrap()
                .is_ok()
        );
        for dev in 0..$n {
            for cell in 0..6 {
                assert_eq!(
                    out[dev * 6 + cell],
                    Reading::Valid(MicroVolts(reported(pattern(dev, cell))))
                );
            }
        }
        // Cell 2 (third cell) of device 1 sits on input 5: balancing reaches that switch.
        $w($t::set_balancing(&mut $d, &[0b000_001, 0b000_100])).unwrap();
        assert_eq!($sim.with(|m| m.register(1, 0x16)), Some(1 << 5));
        assert_eq!($sim.with(|m| m.balancing(1)), 0b100);
        assert_eq!($sim.with(|m| m.register(0, 0x16)), Some(1));
        // Cell 7 does not exist.
        let e = $w($t::set_balancing(&mut $d, &[1 << 6, 0])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!($sim.with(|m| m.register(0, 0x16)), Some(1), "nothing sent");
        // OV on device 1 cell 4 (input 9) shows as cell 4's bit.
        $sim.with(|m| m.set_cell_voltage(1, 4, 4_600_000));
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out))
                .unwrap()
                .is_ok()
        );
        let mut f = vec![Reading::<Faults>::NotConverted; $n];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        let Reading::Valid(f1) = f[1] else { panic!() };
        assert_eq!(f1.overvoltage, 1 << 4);
        assert_eq!(f1.raw & (1 << 13), 1 << 13);
        assert_eq!(f[0].valid().unwrap().overvoltage, 0);
        assert!($w($d.clear_faults()).unwrap().is_ok());
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        assert_eq!(f[1].valid().unwrap().overvoltage, 0);
    }};
}

fn with_thresholds<IO>(d: Tle9012<2, IO>) -> Tle9012<2, IO> {
    let mut d = d.with_inputs(INPUTS).unwrap();
    d.set_thresholds(Thresholds::new(MicroVolts(2_000_000), MicroVolts(4_500_000)).unwrap());
    d
}

#[test]
fn partial_populations() {
    both!(
        2,
        Tle9012Chain::<2>::new().with_inputs(INPUTS),
        |io| with_thresholds(Tle9012::new(io)),
        partial_population
    );
}

macro_rules! thresholds_and_length {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        assert_eq!($w($d.detect_chain_length()).unwrap(), 3);
        // The chain of 3 is configured: thresholds read back and achieved.
        let t = $d.thresholds().unwrap();
        assert_eq!(t.overvoltage, MicroVolts(4_199_218));
        for dev in 0..3 {
            assert_eq!($sim.with(|m| m.register(dev, 0x02)), Some(860));
            assert_eq!($w($d.read_register(dev, Register::OL_OV_THR)).unwrap(), 860);
        }
        assert_eq!(
            $w($d.read_register(3, Register::ICVID)).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!($w($d.read_register(2, Register::ICVID)).unwrap(), 0xC140);
    }};
}

#[test]
fn detect_length_and_thresholds() {
    both!(
        3,
        Tle9012Chain::<3>::new(),
        |io| {
            let mut d = Tle9012::new(io);
            d.set_thresholds(
                Thresholds::new(MicroVolts(2_500_000), MicroVolts(4_200_000)).unwrap(),
            );
            d
        },
        thresholds_and_length
    );
}

#[test]
fn detect_length_of_a_longer_chain() {
    let sim = Sim::new(Tle9012Chain::<5>::new());
    let mut d = Tle9012::<2, _>::new(Blocking::new(sim.serial(), sim.delay()));
    assert_eq!(d.detect_chain_length().unwrap(), 5);
    assert_eq!(sim.with(|m| m.node_id(4)), Some(5));
    assert_eq!(
        sim.with(|m| m.register(4, 0x36)).map(|v| v & 0x0800),
        Some(0x0800)
    );
}

#[test]
fn thresholds_validate() {
    assert!(Thresholds::new(MicroVolts(4_000_000), MicroVolts(3_000_000)).is_err());
    assert!(Thresholds::new(MicroVolts(2_000_000), MicroVolts(5_000_000)).is_err());
    let t = Thresholds::new(MicroVolts(2_000_000), MicroVolts(4_000_000)).unwrap();
    assert!(t.with_open_load(0x40, 0).is_err());
    assert_eq!(t.with_open_load(3, 0x3F).unwrap().ol_ov_thr() >> 10, 0x3F);
    assert!(
        Tle9012::<2, ()>::new(())
            .with_inputs([0x0FFF, 0x0FFE])
            .is_err()
    );
}

macro_rules! silent_chain_bounded {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $w($t::wake(&mut $d)).unwrap();
        $sim.with(|m| (0..$n).for_each(|k| m.inject(InjectedFault::Silent { device: k })));
        let t0 = $sim.with(|m| m.elapsed_ns()).unwrap();
        let mut out = [Reading::NotConverted; $n * 12];
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        let t1 = $sim.with(|m| m.elapsed_ns()).unwrap();
        assert_eq!(r.failed.len(), $n);
        assert_eq!(r.first_fault.unwrap().device, 0);
        assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);
        assert!(!out.iter().any(Reading::is_valid));
        // Start (broadcast, then one write per device), 16 polls, 12 register reads, each
        // tried 3 times and bounded by its deadline.
        assert!(t1 - t0 < 200_000_000, "{} ns", t1 - t0);
        assert_eq!(
            $w($t::wake(&mut $d)).unwrap_err().kind(),
            ErrorKind::NoResponse
        );
        assert_eq!($w($d.keep_alive()).unwrap().failed.len(), $n);
    }};
}

#[test]
fn silent_chain_is_bounded() {
    both!(
        4,
        Tle9012Chain::<4>::new(),
        Tle9012::new,
        silent_chain_bounded
    );
}

macro_rules! failed_start_is_not_stale_data {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        let mut out = vec![Reading::NotConverted; $n * 12];
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap().is_ok());
        // Devices 1 and 2 miss the next start (the link breaks above device 0 while it is
        // sent), then answer again: their registers hold the old conversion, which must not
        // come back as valid.
        $sim.with(|m| m.inject(InjectedFault::BreakAfter { after: 0 }));
        let r = $w($t::start_cell_conversion(&mut $d, ConversionMode::Normal));
        assert!(r.is_ok());
        $sim.with(|m| {
            m.clear_faults();
            m.set_cell_voltage(1, 0, 3_900_000);
            m.advance_ns(6_000_000);
        });
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![1, 2]);
        assert!(out[12..24].iter().all(|x| matches!(x, Reading::Failed(f) if f.device == 1)));
        assert!(out[24..].iter().all(|x| matches!(x, Reading::Failed(f) if f.device == 2)));
        assert!(out[..12].iter().all(Reading::is_valid));
        // The next confirmed conversion is trusted again.
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert!(r.is_ok());
        assert_eq!(out[12], Reading::Valid(MicroVolts(reported(3_900_000))));
    }};
}

#[test]
fn failed_start_fails_the_device_until_confirmed() {
    both!(
        3,
        Tle9012Chain::<3>::new(),
        Tle9012::new,
        failed_start_is_not_stale_data
    );
}

macro_rules! open_load_reported {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $w($t::wake(&mut $d)).unwrap();
        $sim.with(|m| m.inject(InjectedFault::OpenWire { device: 1, wire: 4 }));
        let mut out = vec![Reading::NotConverted; $n * 12];
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out))
                .unwrap()
                .is_ok()
        );
        let mut ol = vec![Reading::Valid(u32::MAX); $n];
        assert!($w($d.read_open_load(&mut ol)).unwrap().is_ok());
        assert_eq!(ol[0], Reading::Valid(0));
        assert_eq!(ol[1], Reading::Valid(1 << 4));
        let mut f = vec![Reading::NotConverted; $n];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        assert_eq!(
            f[1].valid().unwrap().raw & (1 << 7),
            1 << 7,
            "GEN_DIAG open load"
        );
    }};
}

#[test]
fn open_load_flags_per_device() {
    both!(
        2,
        Tle9012Chain::<2>::new(),
        Tle9012::new,
        open_load_reported
    );
}

macro_rules! configuration_survives_reenumeration {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        use bms_afe::tle9012::register::TempConf;
        let conf = TempConf { sensors: 2, source: 1, ot_threshold: 0x123 };
        $d.set_ntc_config(conf).unwrap();
        assert!($d.set_ntc_config(TempConf { sensors: 6, ..conf }).is_err());
        // 60 °C: code round((547.3 − 60) / 0.6624) = 736 → 547.3 − 0.6624 × 736 = 59.77 °C.
        assert_eq!($d.set_internal_ot_limit(MilliCelsius(60_000)), Ok(MilliCelsius(59_773)));
        $w($t::wake(&mut $d)).unwrap();
        for dev in 0..$n {
            // TEMP_CONF = 2 << 12 | 1 << 10 | 0x123, INT_OT_WARN_CONF = 736.
            assert_eq!($sim.with(|m| m.register(dev, 0x04)), Some(0x2523));
            assert_eq!($sim.with(|m| m.register(dev, 0x05)), Some(736));
        }
        $sim.with(|m| m.expire_watchdog(1));
        assert_eq!($sim.with(|m| m.register(1, 0x04)), Some(0));
        $w($t::wake(&mut $d)).unwrap();
        assert_eq!($sim.with(|m| m.register(1, 0x04)), Some(0x2523));
        assert_eq!($sim.with(|m| m.register(1, 0x01)), Some(INPUTS[1]));
        // Balancing counters of device 1 (inputs 1, 3, 5, 7, 9, 11): cell i → input 2i + 1.
        $w($d.set_balancing_counters(1, &[1, 2, 3, 4, 5, 0x1F])).unwrap();
        assert_eq!($sim.with(|m| m.register(1, 0x5C)), Some(1 << 5));
        assert_eq!($sim.with(|m| m.register(1, 0x5D)), Some(2 | 3 << 10));
        assert_eq!($sim.with(|m| m.register(1, 0x5E)), Some(4 << 5));
        assert_eq!($sim.with(|m| m.register(1, 0x5F)), Some(5 | 0x1F << 10));
        assert_eq!(
            $w($d.set_balancing_counters(1, &[0x20, 0, 0, 0, 0, 0])).unwrap_err().kind(),
            ErrorKind::Config
        );
        assert_eq!(
            $w($d.set_balancing_counters(1, &[0; 5])).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        // Diagnostics in cell order.
        $sim.with(|m| {
            set_pattern(m);
            m.set_cell_voltage(0, 5, 1_900_000);
        });
        let mut out = vec![Reading::NotConverted; $n * 6];
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap().is_ok());
        let mut diag = vec![Reading::NotConverted; $n];
        assert!($w($d.read_diagnostics(&mut diag)).unwrap().is_ok());
        let d0 = diag[0].valid().unwrap();
        assert_eq!(d0.undervoltage, 1 << 5);
        assert!(d0.general.contains(bms_afe::tle9012::register::GenDiag::UV));
        assert_eq!(diag[1].valid().unwrap().undervoltage, 0);
    }};
}

#[test]
fn held_configuration_is_reapplied() {
    both!(
        2,
        Tle9012Chain::<2>::new().with_inputs(INPUTS),
        |io| with_thresholds(Tle9012::new(io)),
        configuration_survives_reenumeration
    );
}

macro_rules! corrupted_probe_is_not_a_lost_id {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $w($t::wake(&mut $d)).unwrap();
        // Device 2 lost its ID; device 0's next four replies are corrupted (the three
        // broadcast CONFIG reads of the enumeration and its first own probe).
        $sim.with(|m| {
            m.expire_watchdog(2);
            m.inject(InjectedFault::CorruptResponses {
                device: 0,
                seed: 77,
                frames: 4,
            });
        });
        $w($d.wake_chain()).unwrap();
        let fresh = $w($d.enumerate()).unwrap();
        $sim.with(|m| m.clear_faults());
        assert_eq!(fresh.iter().collect::<Vec<_>>(), vec![2]);
        for dev in 0..$n {
            assert_eq!(
                $sim.with(|m| m.node_id(dev)),
                Some(dev as u8 + 1),
                "device {dev}"
            );
        }
        assert!($w($d.check_chain()).unwrap().is_complete($n));
    }};
}

#[test]
fn corrupted_probe_does_not_reassign_ids() {
    both!(
        3,
        Tle9012Chain::<3>::new(),
        Tle9012::new,
        corrupted_probe_is_not_a_lost_id
    );
}

macro_rules! redundancy {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        $sim.with(|m| set_pattern(m));
        $w($t::wake(&mut $d)).unwrap();
        let mut cells = vec![Reading::NotConverted; $n * 6];
        let mut red = vec![Reading::NotConverted; $n];
        let tol = MicroVolts(1_000);
        let r = $w($d.measure_redundant(tol, &mut cells, &mut red)).unwrap();
        assert!(r.is_ok());
        for dev in 0..$n {
            let x = red[dev].valid().unwrap();
            assert!(x.agrees, "device {dev}: {x:?}");
            assert_eq!(x.primary_max, MicroVolts(reported(pattern(dev, 5))));
            assert_eq!(x.primary_min, MicroVolts(reported(pattern(dev, 0))));
            assert_eq!(x.counter, 1);
        }
        // One ADC path of device 1 reads 20 mV high: the devices disagree there only.
        $sim.with(|m| m.skew_secondary(1, 20_000));
        $w($d.measure_redundant(tol, &mut cells, &mut red)).unwrap();
        assert!(red[0].valid().unwrap().agrees);
        let x = red[1].valid().unwrap();
        assert!(!x.agrees);
        assert_eq!(x.counter, 2);
        // A corrupted device fails both its cells and its comparison.
        $sim.with(|m| m.inject(InjectedFault::CorruptResponses { device: 0, seed: 3, frames: u32::MAX }));
        let r = $w($d.measure_redundant(tol, &mut cells, &mut red)).unwrap();
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![0]);
        assert!(matches!(red[0], Reading::Failed(f) if f.device == 0));
        let mut short = vec![Reading::NotConverted; $n - 1];
        assert_eq!(
            $w($d.measure_redundant(tol, &mut cells, &mut short)).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }};
}

#[test]
fn secondary_measurement_cross_check() {
    both!(
        2,
        Tle9012Chain::<2>::new().with_inputs(INPUTS),
        |io| with_thresholds(Tle9012::new(io)),
        redundancy
    );
}
