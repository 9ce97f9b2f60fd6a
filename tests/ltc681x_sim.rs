//! Behaviour of the LTC681x driver against the virtual chain: wake, configure, convert, read,
//! balance, diagnostics and every injected fault, blocking and async, chains of 1..=16 and
//! every part. Truth values are what the test sets on the virtual chip.
//!
//! Every case is one macro body run twice: blocking (`$w` = `id`, `$t` = `CellMonitor`, `$io` =
//! `Blocking`) and async (`block_on`, `AsyncCellMonitor`, `Async`).
#![cfg(feature = "sim")]

use bms_afe::error::{Error, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::command::{AdcMode, CellSelect, SelfTest};
use bms_afe::ltc681x::register::DischargeTimeout;
use bms_afe::ltc681x::{Adbms1818, Ltc681x, Ltc6810, Ltc6811, Ltc6812, Ltc6813, Variant};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::sim::{Clock, InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroVolts, MilliCelsius};

mod common;
use common::{block_on, id};

/// A distinct, realistic voltage per cell (3.0xx V), in µV.
fn truth(device: usize, cell: usize) -> i32 {
    3_000_000 + (device as i32) * 37_300 + (cell as i32) * 11_100 + 77
}

fn seed<V: Variant, const N: usize>(sim: &Sim<Ltc681xChain<V, N>>) {
    sim.with(|c| {
        for d in 0..N {
            for k in 0..V::CELLS {
                c.set_cell_voltage(d, k, truth(d, k));
            }
        }
    });
}

fn assert_cells<V: Variant>(out: &[Reading<MicroVolts>], skip: &[usize]) {
    for (i, r) in out.iter().enumerate() {
        let (d, k) = (i / V::CELLS, i % V::CELLS);
        if skip.contains(&d) {
            continue;
        }
        let Reading::Valid(v) = r else {
            panic!("device {d} cell {k}: {r:?}")
        };
        assert!(
            (v.0 - truth(d, k)).abs() <= 100,
            "device {d} cell {k}: {v:?}"
        );
    }
}

/// The whole walk-through, blocking, for part `V` and chain length `N`.
macro_rules! walk {
    ($v:ty, $n:literal, $w:ident, $t:ident, $io:ident) => {{
        type V = $v;
        const N: usize = $n;

    let sim = Sim::new(Ltc681xChain::<V, N>::new());
    seed(&sim);
    let mut bms = Ltc681x::<V, N, _>::new($io::new(sim.spi(), sim.delay()));
    let mut cells = vec![Reading::NotConverted; N * V::CELLS];

    // Asleep: the first frame only starts waking device 0; nothing reads as a voltage and
    // the farthest device does not answer.
    bms.set_retries(0);
    let r = $w(bms.read_cells(&mut cells)).unwrap();
    assert!(r.failed.contains(N - 1));
    assert!(cells.iter().all(|c| !c.is_valid()));
    assert!(matches!(cells[0], Reading::Failed(f) if f.reason == FaultReason::NoResponse));
    bms.set_retries(2);

    $w(bms.wake()).unwrap();
    assert!(sim.with(|c| c.is_awake()));
    // Fresh registers: not converted, never 6.5535 V.
    assert!($w(bms.read_cells(&mut cells)).unwrap().is_ok());
    assert!(cells.iter().all(|c| *c == Reading::NotConverted));

    bms.set_undervoltage(MicroVolts(2_800_000)).unwrap();
    bms.set_overvoltage(MicroVolts(4_200_000)).unwrap();
    bms.set_refon(true);
    $w(bms.write_config_verified()).unwrap();

    let r = $w($t::measure_cells(&mut bms, ConversionMode::Normal, &mut cells)).unwrap();
    assert!(r.is_ok());
    assert_cells::<V>(&cells, &[]);

    let mut masks = vec![0u32; N];
    for (d, m) in masks.iter_mut().enumerate() {
        *m = 1 << (d % V::CELLS) | 1 << (V::CELLS - 1);
    }
    $w(bms.set_balancing(&masks)).unwrap();
    for (d, m) in masks.iter().enumerate() {
        assert_eq!(sim.with(|c| c.balancing(d)), *m);
    }
}};
}

#[test]
fn walk_through_every_part_and_chain_length() {
    walk!(Ltc6813, 1, id, CellMonitor, Blocking);
    walk!(Ltc6813, 1, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6813, 2, id, CellMonitor, Blocking);
    walk!(Ltc6813, 2, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6813, 3, id, CellMonitor, Blocking);
    walk!(Ltc6813, 3, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6813, 16, id, CellMonitor, Blocking);
    walk!(Ltc6813, 16, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6810, 3, id, CellMonitor, Blocking);
    walk!(Ltc6810, 3, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6811, 3, id, CellMonitor, Blocking);
    walk!(Ltc6811, 3, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6812, 3, id, CellMonitor, Blocking);
    walk!(Ltc6812, 3, block_on, AsyncCellMonitor, Async);
    walk!(Adbms1818, 2, id, CellMonitor, Blocking);
    walk!(Adbms1818, 2, block_on, AsyncCellMonitor, Async);
    walk!(Ltc6811, 16, id, CellMonitor, Blocking);
    walk!(Ltc6811, 16, block_on, AsyncCellMonitor, Async);
}

macro_rules! walk_through_start_poll_read_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6812, 3>::new());
        seed(&sim);
        let mut bms = Ltc681x::<Ltc6812, 3, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config_verified()).unwrap();
        let mut cells = [Reading::NotConverted; 45];
        let t = $w($t::start_cell_conversion(&mut bms, ConversionMode::Fast)).unwrap();
        assert!(t.0 > 0);
        $w(bms.poll_adc()).unwrap();
        assert!($w(bms.read_cells(&mut cells)).unwrap().is_ok());
        assert_cells::<Ltc6812>(&cells, &[]);
        $w($t::set_balancing(&mut bms, &[1, 2, 4])).unwrap();
        assert_eq!(sim.with(|c| c.balancing(2)), 4);
        let mut temps = [Reading::NotConverted; 3];
        sim.with(|c| c.set_temperature(1, 41_000));
        assert!($w(bms.measure_temperatures(&mut temps)).unwrap().is_ok());
        let Reading::Valid(t1) = temps[1] else {
            panic!()
        };
        assert!((t1.0 - 41_000).abs() <= 20, "{t1:?}");
    }};
}

#[test]
fn walk_through_start_poll_read() {
    walk_through_start_poll_read_case!(id, CellMonitor, Blocking);
    walk_through_start_poll_read_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! results_appear_only_when_the_conversion_completes_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        seed(&sim);
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        let mut cells = [Reading::NotConverted; 36];
        // 26 Hz mode takes ~200 ms: reading straight away still shows the cleared registers.
        let t = $w(bms.start_cells(AdcMode::Filtered, false, CellSelect::ALL)).unwrap();
        assert!($w(bms.read_cells(&mut cells)).unwrap().is_ok());
        assert!(cells.iter().all(|c| *c == Reading::NotConverted));
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_cells(&mut cells)).unwrap();
        assert_cells::<Ltc6813>(&cells, &[]);
        // CLRCELL: back to not converted.
        $w(bms.clear_cells()).unwrap();
        $w(bms.read_cells(&mut cells)).unwrap();
        assert!(cells.iter().all(|c| *c == Reading::NotConverted));
    }};
}

#[test]
fn results_appear_only_when_the_conversion_completes() {
    results_appear_only_when_the_conversion_completes_case!(id, CellMonitor, Blocking);
    results_appear_only_when_the_conversion_completes_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! watchdog_sleep_resets_configuration_and_wake_restores_contact_case {
    ($w:ident, $t:ident, $io:ident) => {{
    let sim = Sim::new(Ltc681xChain::<Ltc6813, 3>::new());
    let mut bms = Ltc681x::<Ltc6813, 3, _>::new($io::new(sim.spi(), sim.delay()));
    $w(bms.wake()).unwrap();
    bms.set_undervoltage(MicroVolts(3_000_000)).unwrap();
    bms.set_discharge(2, 0b101).unwrap();
    $w(bms.write_config_verified()).unwrap();
    assert_eq!(sim.with(|c| c.balancing(2)), 0b101);
    // 2.1 s without a valid command: the watchdog sends every device to sleep.
    sim.with(|c| c.advance_ns(2_100_000_000));
    assert!(!sim.with(|c| c.is_awake()));
    bms.set_retries(0);
    assert_eq!(sim.with(|c| c.balancing(2)), 0);
    let e = $w(bms.verify_config()).unwrap_err();
    assert!(
        matches!(e, Error::Integrity(f) if f.device == 0 && f.reason == FaultReason::NoResponse)
    );
    $w(bms.wake()).unwrap();
    // Awake again, configuration lost: the read-back names the first differing byte.
    let Error::Verify(m) = $w(bms.verify_config()).unwrap_err() else {
        panic!()
    };
    assert_eq!((m.device, m.register, m.offset), (0, "CFGRA", 1));
    $w(bms.write_config_verified()).unwrap();
}};
}

#[test]
fn watchdog_sleep_resets_configuration_and_wake_restores_contact() {
    watchdog_sleep_resets_configuration_and_wake_restores_contact_case!(id, CellMonitor, Blocking);
    watchdog_sleep_resets_configuration_and_wake_restores_contact_case!(
        block_on,
        AsyncCellMonitor,
        Async
    );
}

macro_rules! discharge_timer_keeps_balancing_through_the_watchdog_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6811, 1>::new());
        let mut bms = Ltc681x::<Ltc6811, 1, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        bms.set_discharge_timeout(DischargeTimeout::Min0_5);
        $w(bms.set_balancing(&[0b11])).unwrap();
        sim.with(|c| c.advance_ns(5_000_000_000));
        assert_eq!(
            sim.with(|c| c.balancing(0)),
            0b11,
            "DCTO keeps DCC after the watchdog"
        );
        sim.with(|c| c.advance_ns(30_000_000_000));
        assert_eq!(sim.with(|c| c.balancing(0)), 0, "timer expired");
    }};
}

#[test]
fn discharge_timer_keeps_balancing_through_the_watchdog() {
    discharge_timer_keeps_balancing_through_the_watchdog_case!(id, CellMonitor, Blocking);
    discharge_timer_keeps_balancing_through_the_watchdog_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! mute_opens_switches_without_losing_dcc_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.set_balancing(&[1 << 17, 1])).unwrap();
        $w(bms.mute()).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 0);
        // MUTE reads back as 1 but is masked in the verification.
        $w(bms.verify_config()).unwrap();
        $w(bms.unmute()).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 1 << 17);
    }};
}

#[test]
fn mute_opens_switches_without_losing_dcc() {
    mute_opens_switches_without_losing_dcc_case!(id, CellMonitor, Blocking);
    mute_opens_switches_without_losing_dcc_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! open_wire_case {
    ($v:ty, $n:literal, $device:expr, $wire:expr, $w:ident, $t:ident, $io:ident) => {{
        type V = $v;
        const N: usize = $n;
        let (device, wire): (usize, usize) = ($device, $wire);

        let sim = Sim::new(Ltc681xChain::<V, N>::new());
        seed(&sim);
        let mut bms = Ltc681x::<V, N, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        let mut out = vec![Reading::NotConverted; N];
        $w(bms.open_wire(AdcMode::Normal, 2, &mut out)).unwrap();
        assert!(
            out.iter().all(|o| *o == Reading::Valid(0)),
            "intact: {out:?}"
        );
        sim.with(|c| {
            c.inject(InjectedFault::OpenWire {
                device: device as u8,
                wire: wire as u8,
            })
        });
        assert!(
            $w(bms.open_wire(AdcMode::Normal, 2, &mut out))
                .unwrap()
                .is_ok()
        );
        for (d, o) in out.iter().enumerate() {
            let want = if d == device { 1u32 << wire } else { 0 };
            assert_eq!(*o, Reading::Valid(want), "device {d}, wire {wire}");
        }
    }};
}

#[test]
fn open_wire_detected_on_every_wire_including_first_and_last() {
    for w in 0..=18 {
        open_wire_case!(Ltc6813, 3, 1, w, id, CellMonitor, Blocking);
        open_wire_case!(Ltc6813, 3, 1, w, block_on, AsyncCellMonitor, Async);
    }
    for w in 0..=6 {
        open_wire_case!(Ltc6810, 2, 0, w, id, CellMonitor, Blocking);
        open_wire_case!(Ltc6810, 2, 0, w, block_on, AsyncCellMonitor, Async);
    }
    for w in [0, 7, 12] {
        open_wire_case!(Ltc6811, 1, 0, w, id, CellMonitor, Blocking);
        open_wire_case!(Ltc6811, 1, 0, w, block_on, AsyncCellMonitor, Async);
    }
    for w in [0, 15] {
        open_wire_case!(Ltc6812, 2, 1, w, id, CellMonitor, Blocking);
        open_wire_case!(Ltc6812, 2, 1, w, block_on, AsyncCellMonitor, Async);
    }
}

macro_rules! self_tests_overlap_and_mux_pass_and_fail_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 3>::new());
        seed(&sim);
        let mut bms = Ltc681x::<Ltc6813, 3, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        let mut masks = [Reading::NotConverted; 3];
        for mode in [
            AdcMode::Fast,
            AdcMode::Normal,
            AdcMode::Filtered,
            AdcMode::Slow,
        ] {
            for st in [SelfTest::One, SelfTest::Two] {
                $w(bms.self_test_cells(mode, st, &mut masks)).unwrap();
                assert_eq!(masks, [Reading::Valid(0); 3], "CVST {mode:?} {st:?}");
                $w(bms.self_test_aux(mode, st, &mut masks)).unwrap();
                assert_eq!(masks, [Reading::Valid(0); 3], "AXST {mode:?} {st:?}");
                $w(bms.self_test_status(mode, st, &mut masks)).unwrap();
                assert_eq!(masks, [Reading::Valid(0); 3], "STATST {mode:?} {st:?}");
            }
        }
        let mut ok = [Reading::NotConverted; 3];
        $w(bms.overlap_test(AdcMode::Normal, &mut ok)).unwrap();
        assert_eq!(ok, [Reading::Valid(true); 3]);
        sim.with(|c| c.set_overlap_error(2, 50));
        $w(bms.overlap_test(AdcMode::Normal, &mut ok)).unwrap();
        assert_eq!(
            ok,
            [
                Reading::Valid(true),
                Reading::Valid(true),
                Reading::Valid(false)
            ]
        );
        $w(bms.mux_test(&mut ok)).unwrap();
        assert_eq!(ok, [Reading::Valid(true); 3]);
        sim.with(|c| c.set_mux_fault(0, true));
        $w(bms.mux_test(&mut ok)).unwrap();
        assert_eq!(
            ok,
            [
                Reading::Valid(false),
                Reading::Valid(true),
                Reading::Valid(true)
            ]
        );
    }};
}

#[test]
fn self_tests_overlap_and_mux_pass_and_fail() {
    self_tests_overlap_and_mux_pass_and_fail_case!(id, CellMonitor, Blocking);
    self_tests_overlap_and_mux_pass_and_fail_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! faults_decode_ov_uv_thsd_mux_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        seed(&sim);
        sim.with(|c| {
            c.set_cell_voltage(0, 0, 4_300_000); // over
            c.set_cell_voltage(1, 16, 2_500_000); // under (cell 17: flag from AUXD)
            c.set_cell_voltage(1, 14, 4_400_000); // over (cell 15)
        });
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        bms.set_undervoltage(MicroVolts(2_800_000)).unwrap();
        bms.set_overvoltage(MicroVolts(4_200_000)).unwrap();
        $w(bms.write_config()).unwrap();
        let mut ok = [Reading::NotConverted; 2];
        $w(bms.mux_test(&mut ok)).unwrap(); // clears MUXFAIL after power-up
        let mut cells = [Reading::NotConverted; 36];
        $w($t::measure_cells(
            &mut bms,
            ConversionMode::Normal,
            &mut cells,
        ))
        .unwrap();
        let mut f = [Reading::NotConverted; 2];
        assert!($w(bms.read_faults(&mut f)).unwrap().is_ok());
        let Reading::Valid(f0) = f[0] else { panic!() };
        let Reading::Valid(f1) = f[1] else { panic!() };
        assert_eq!((f0.overvoltage, f0.undervoltage), (1, 0));
        assert_eq!((f1.overvoltage, f1.undervoltage), (1 << 14, 1 << 16));
        assert!(!f0.thermal_shutdown && !f0.internal);
        sim.with(|c| c.set_temperature(1, 155_000));
        $w(bms.read_faults(&mut f)).unwrap();
        assert!(matches!(
            f[1],
            Reading::Valid(Faults {
                thermal_shutdown: true,
                ..
            })
        ));
        // THSD is cleared by reading STATB.
        $w(bms.read_faults(&mut f)).unwrap();
        assert!(matches!(
            f[1],
            Reading::Valid(Faults {
                thermal_shutdown: false,
                ..
            })
        ));
    }};
}

#[test]
fn faults_decode_ov_uv_thsd_mux() {
    faults_decode_ov_uv_thsd_mux_case!(id, CellMonitor, Blocking);
    faults_decode_ov_uv_thsd_mux_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! stack_voltage_temperature_and_aux_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6811, 2>::new());
        seed(&sim);
        sim.with(|c| {
            c.set_temperature(0, -5_000);
            c.set_gpio_voltage(1, 3, 1_234_500);
        });
        let mut bms = Ltc681x::<Ltc6811, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        let mut st = [Reading::NotConverted; 2];
        assert!($w(bms.measure_stack_voltages(&mut st)).unwrap().is_ok());
        for (d, s) in st.iter().enumerate() {
            let sum: i32 = (0..12).map(|k| truth(d, k)).sum();
            let Reading::Valid(v) = s else { panic!() };
            assert!((v.0 - sum).abs() <= 20 * 100, "{v:?} vs {sum}");
        }
        let mut t = [Reading::NotConverted; 2];
        $w(bms.measure_temperatures(&mut t)).unwrap();
        let Reading::Valid(MilliCelsius(t0)) = t[0] else {
            panic!()
        };
        assert!((t0 + 5_000).abs() <= 20);
        let mut aux = [Reading::NotConverted; 12];
        assert!(
            $w(bms.measure_aux(AdcMode::Normal, &mut aux))
                .unwrap()
                .is_ok()
        );
        assert_eq!(aux[6 + 2], Reading::Valid(MicroVolts(1_234_500))); // device 1 GPIO3
        assert_eq!(aux[5], Reading::Valid(MicroVolts(3_000_000))); // device 0 REF2
    }};
}

#[test]
fn stack_voltage_temperature_and_aux() {
    stack_voltage_temperature_and_aux_case!(id, CellMonitor, Blocking);
    stack_voltage_temperature_and_aux_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! injected_faults_fail_only_the_named_device_case {
    ($w:ident, $t:ident, $io:ident) => {{
    let sim = Sim::new(Ltc681xChain::<Ltc6813, 16>::new());
    seed(&sim);
    let mut bms = Ltc681x::<Ltc6813, 16, _>::new($io::new(sim.spi(), sim.delay()));
    $w(bms.wake()).unwrap();
    $w(bms.write_config()).unwrap();
    let mut cells = vec![Reading::NotConverted; 288];
    $w($t::measure_cells(&mut bms, ConversionMode::Normal, &mut cells)).unwrap();

    // Persistent corruption of device 7: retries cannot help; only device 7 fails.
    sim.with(|c| {
        c.inject(InjectedFault::CorruptResponses {
            device: 7,
            seed: 99,
            frames: u32::MAX,
        })
    });
    let r = $w(bms.read_cells(&mut cells)).unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![7]);
    assert!(matches!(
        r.first_fault.unwrap().reason,
        FaultReason::Pec { .. }
    ));
    assert_cells::<Ltc6813>(&cells, &[7]);
    assert!(
        cells[7 * 18..8 * 18]
            .iter()
            .all(|c| matches!(c, Reading::Failed(f) if f.device == 7))
    );

    // One corrupted frame: the retry re-issues the command and everything is valid.
    sim.with(|c| {
        c.clear_faults();
        c.inject(InjectedFault::CorruptResponses {
            device: 3,
            seed: 5,
            frames: 1,
        });
    });
    bms.set_retries(1);
    assert!($w(bms.read_cells(&mut cells)).unwrap().is_ok());
    assert_cells::<Ltc6813>(&cells, &[]);

    // Silent device 11.
    sim.with(|c| {
        c.clear_faults();
        c.inject(InjectedFault::Silent { device: 11 });
    });
    let r = $w(bms.read_cells(&mut cells)).unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![11]);
    assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);

    // Chain broken after device 12: 13, 14, 15 fail.
    sim.with(|c| {
        c.clear_faults();
        c.inject(InjectedFault::BreakAfter { after: 12 });
    });
    let mut f = vec![Reading::NotConverted; 16];
    let r = $w(bms.read_faults(&mut f)).unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![13, 14, 15]);
    assert!(f[..13].iter().all(Reading::is_valid));
}};
}

#[test]
fn injected_faults_fail_only_the_named_device() {
    injected_faults_fail_only_the_named_device_case!(id, CellMonitor, Blocking);
    injected_faults_fail_only_the_named_device_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! corrupted_responses_never_pass_as_data_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6811, 3>::new());
        seed(&sim);
        let mut bms = Ltc681x::<Ltc6811, 3, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        let mut cells = [Reading::NotConverted; 36];
        $w($t::measure_cells(
            &mut bms,
            ConversionMode::Normal,
            &mut cells,
        ))
        .unwrap();
        for seed in 1..40 {
            sim.with(|c| {
                c.clear_faults();
                c.inject(InjectedFault::CorruptResponses {
                    device: 2,
                    seed,
                    frames: u32::MAX,
                });
            });
            let r = $w(bms.read_cells(&mut cells)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![2], "seed {seed}");
            assert_cells::<Ltc6811>(&cells, &[2]);
            assert!(cells[24..].iter().all(|c| !c.is_valid()));
        }
    }};
}

#[test]
fn corrupted_responses_never_pass_as_data() {
    corrupted_responses_never_pass_as_data_case!(id, CellMonitor, Blocking);
    corrupted_responses_never_pass_as_data_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! bad_command_pec_is_ignored_by_the_chip_case {
    ($w:ident, $t:ident, $io:ident) => {{
        use embedded_hal::spi::{Operation, SpiDevice};
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 1>::new());
        let mut bms = Ltc681x::<Ltc6813, 1, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        let mut spi = sim.spi();
        // WRCFGA with a wrong command PEC: rejected, nothing changes.
        let before = sim.with(|c| c.config_bytes(0));
        spi.transaction(&mut [Operation::Write(&[
            0x00, 0x01, 0x3D, 0x6F, 1, 2, 3, 4, 5, 6, 0x22, 0xEE,
        ])])
        .unwrap();
        assert_eq!(sim.with(|c| c.rejected_frames()), 1);
        assert_eq!(sim.with(|c| c.config_bytes(0)), before);
        // Right command PEC, wrong data PEC: the device ignores the data.
        spi.transaction(&mut [Operation::Write(&[
            0x00, 0x01, 0x3D, 0x6E, 1, 2, 3, 4, 5, 6, 0x22, 0xEF,
        ])])
        .unwrap();
        assert_eq!(sim.with(|c| c.config_bytes(0)), before);
        // Both right (adi.md §2.3: 01..06 -> 22 EE): stored.
        spi.transaction(&mut [Operation::Write(&[
            0x00, 0x01, 0x3D, 0x6E, 1, 2, 3, 4, 5, 6, 0x22, 0xEE,
        ])])
        .unwrap();
        assert_eq!(
            sim.with(|c| c.config_bytes(0)).unwrap()[0],
            [1, 2, 3, 4, 5, 6]
        );
    }};
}

#[test]
fn bad_command_pec_is_ignored_by_the_chip() {
    bad_command_pec_is_ignored_by_the_chip_case!(id, CellMonitor, Blocking);
    bad_command_pec_is_ignored_by_the_chip_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! register_groups_round_trip_through_the_chip_case {
    ($w:ident, $t:ident, $io:ident) => {{
        use bms_afe::ltc681x::register::{Comm, CommByte, Nibbles, Psb};
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 3>::new());
        let mut bms = Ltc681x::<Ltc6813, 3, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        let comm = [0u8, 1, 2].map(|d| {
            Comm(
                [CommByte {
                    icom: 6,
                    data: 0xA0 | d,
                    fcom: 8,
                }; 3],
            )
        });
        $w(bms.write_comm(&comm)).unwrap();
        let mut c = [Reading::NotConverted; 3];
        assert!($w(bms.read_comm(&mut c)).unwrap().is_ok());
        assert_eq!(c, comm.map(Reading::Valid));
        $w(bms.start_comm()).unwrap();
        let s = [0u8, 1, 2].map(|d| Nibbles([d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
        $w(bms.write_sctrl(&s)).unwrap();
        let mut r = [Reading::NotConverted; 3];
        $w(bms.read_sctrl(&mut r)).unwrap();
        assert_eq!(r, s.map(Reading::Valid));
        $w(bms.clear_sctrl()).unwrap();
        $w(bms.read_sctrl(&mut r)).unwrap();
        assert_eq!(r, [Reading::Valid(Nibbles([0; 12])); 3]);
        $w(bms.write_pwm(&s)).unwrap();
        $w(bms.read_pwm(&mut r)).unwrap();
        assert_eq!(r, s.map(Reading::Valid));
        let p = [0u8, 1, 2].map(|d| Psb {
            pwm: [d, 15, 0, 1, 2, 3],
            sctl: [8, 0, 1, 2, 3, d],
        });
        $w(bms.write_psb(&p)).unwrap();
        let mut q = [Reading::NotConverted; 3];
        $w(bms.read_psb(&mut q)).unwrap();
        assert_eq!(q, p.map(Reading::Valid));
    }};
}

#[test]
fn register_groups_round_trip_through_the_chip() {
    register_groups_round_trip_through_the_chip_case!(id, CellMonitor, Blocking);
    register_groups_round_trip_through_the_chip_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! combined_and_redundant_conversions_case {
    ($w:ident, $t:ident, $io:ident) => {{
        use bms_afe::ltc681x::command::{GpioSelect, Pull, StatusSelect};
        let sim = Sim::new(Ltc681xChain::<Ltc6812, 2>::new());
        seed(&sim);
        sim.with(|c| {
            c.set_gpio_voltage(0, 1, 1_111_100);
            c.set_gpio_voltage(0, 2, 2_222_200);
            c.set_gpio_voltage(1, 7, 777_700);
        });
        let mut bms = Ltc681x::<Ltc6812, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        bms.set_refon(true);
        $w(bms.write_config()).unwrap();
        let mut cells = [Reading::NotConverted; 30];
        let mut aux = [Reading::NotConverted; 20];
        // ADCVAX: cells and GPIO1, GPIO2.
        let t = $w(bms.start_cells_and_gpio12(AdcMode::Normal, false)).unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_cells(&mut cells)).unwrap();
        assert_cells::<Ltc6812>(&cells, &[]);
        $w(bms.read_aux(&mut aux)).unwrap();
        assert_eq!(aux[0], Reading::Valid(MicroVolts(1_111_100)));
        assert_eq!(aux[1], Reading::Valid(MicroVolts(2_222_200)));
        assert_eq!(
            aux[2],
            Reading::NotConverted,
            "GPIO3 not converted by ADCVAX"
        );
        // ADAXD on pair 2 (GPIO2 and GPIO7 on the LTC6812).
        let t = $w(bms.start_gpio_redundant(AdcMode::Normal, GpioSelect::new(2).unwrap())).unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_aux(&mut aux)).unwrap();
        assert_eq!(
            aux[10 + 7],
            Reading::Valid(MicroVolts(777_700)),
            "G7 is word 7"
        );
        // AXOW runs as a GPIO conversion.
        let t = $w(bms.start_gpio_open_wire(AdcMode::Normal, Pull::Down, GpioSelect::ALL)).unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_aux(&mut aux)).unwrap();
        assert!(aux.iter().all(Reading::is_valid));
        // ADCVSC and ADSTATD.
        let t = $w(bms.start_cells_and_sc(AdcMode::Fast, false)).unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        let mut st = [Reading::NotConverted; 2];
        $w(bms.read_status(&mut st)).unwrap();
        let Reading::Valid(s0) = st[0] else { panic!() };
        let sum: i32 = (0..15).map(|k| truth(0, k)).sum();
        assert!(
            (s0.a
                .sum_of_cells
                .valid()
                .unwrap_or_else(|| panic!("{s0:?}"))
                .0
                - sum)
                .abs()
                <= 3000
        );
        assert_eq!(
            s0.a.die_temperature,
            Reading::NotConverted,
            "ADCVSC converts SC only"
        );
        let t = $w(bms.start_status_redundant(AdcMode::Normal, StatusSelect::Itmp)).unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_status(&mut st)).unwrap();
        let Reading::Valid(s0) = st[0] else { panic!() };
        assert!(s0.a.die_temperature.is_valid());
        // Single cell-group conversion: CH = 2 converts cells 2, 7, 12 on the LTC6812.
        $w(bms.clear_cells()).unwrap();
        let t = $w(bms.start_cells(
            AdcMode::Normal,
            false,
            CellSelect::new::<Ltc6812>(2).unwrap(),
        ))
        .unwrap();
        sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
        $w(bms.read_cells(&mut cells)).unwrap();
        for (k, c) in cells[..15].iter().enumerate() {
            assert_eq!(c.is_valid(), [1, 6, 11].contains(&k), "cell {}", k + 1);
        }
    }};
}

#[test]
fn combined_and_redundant_conversions() {
    combined_and_redundant_conversions_case!(id, CellMonitor, Blocking);
    combined_and_redundant_conversions_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! pladc_reports_busy_until_done_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 4>::new());
        let mut bms = Ltc681x::<Ltc6813, 4, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        $w(bms.start_cells(AdcMode::Filtered, false, CellSelect::ALL)).unwrap();
        // 26 Hz takes ~200 ms; 10 polls 100 µs apart are not enough: bounded timeout.
        bms.set_max_polls(10);
        assert!(matches!($w(bms.poll_adc()), Err(Error::Timeout(_))));
        bms.set_max_polls(5000);
        $w(bms.poll_adc()).unwrap();
    }};
}

#[test]
fn pladc_reports_busy_until_done() {
    pladc_reports_busy_until_done_case!(id, CellMonitor, Blocking);
    pladc_reports_busy_until_done_case!(block_on, AsyncCellMonitor, Async);
}

/// Every conversion is complete after exactly the wait the driver returns (data-sheet
/// tables), for every mode, ADCOPT and REFON setting: the driver never reads too early.
macro_rules! waits_are_long_enough {
    ($v:ty, $w:ident, $t:ident, $io:ident) => {{
        type V = $v;

    use bms_afe::ltc681x::command::{GpioSelect, StatusSelect};
    for adcopt in [false, true] {
        for refon in [false, true] {
            for mode in [
                AdcMode::Slow,
                AdcMode::Fast,
                AdcMode::Normal,
                AdcMode::Filtered,
            ] {
                let sim = Sim::new(Ltc681xChain::<V, 2>::new());
                let mut bms = Ltc681x::<V, 2, _>::new($io::new(sim.spi(), sim.delay()));
                $w(bms.wake()).unwrap();
                bms.set_adcopt(adcopt);
                bms.set_refon(refon);
                $w(bms.write_config()).unwrap();
                let mut cells = vec![Reading::NotConverted; 2 * V::CELLS];
                let mut aux = vec![Reading::NotConverted; 2 * V::AUX_CHANNELS];
                let mut st = [Reading::NotConverted; 2];
                let ctx = format!("{} {mode:?} adcopt={adcopt} refon={refon}", V::NAME);
                $w(bms.clear_cells()).unwrap();
                let t = $w(bms.start_cells(mode, false, CellSelect::ALL)).unwrap();
                sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                $w(bms.read_cells(&mut cells)).unwrap();
                assert!(cells.iter().all(Reading::is_valid), "ADCV {ctx}");
                $w(bms.clear_cells()).unwrap();
                let t = $w(bms
                    .start_cells(mode, false, CellSelect::new::<V>(1).unwrap()))
                    .unwrap();
                sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                $w(bms.read_cells(&mut cells)).unwrap();
                assert!(cells[0].is_valid(), "ADCV CH=1 {ctx}");
                $w(bms.clear_cells()).unwrap();
                let t = $w(bms.start_cells_and_sc(mode, false)).unwrap();
                sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                $w(bms.read_cells(&mut cells)).unwrap();
                $w(bms.read_status(&mut st)).unwrap();
                assert!(cells.iter().all(Reading::is_valid), "ADCVSC {ctx}");
                assert!(
                    matches!(st[1], Reading::Valid(s) if s.a.sum_of_cells.is_valid()),
                    "ADCVSC {ctx}"
                );
                $w(bms.clear_aux()).unwrap();
                let t = $w(bms.start_cells_and_gpio12(mode, false)).unwrap();
                sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                $w(bms.read_aux(&mut aux)).unwrap();
                assert!(aux[1].is_valid(), "ADCVAX {ctx}");
                $w(bms.clear_aux()).unwrap();
                let t = $w(bms.start_gpio(mode, GpioSelect::ALL)).unwrap();
                sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                $w(bms.read_aux(&mut aux)).unwrap();
                assert!(aux.iter().all(Reading::is_valid), "ADAX {ctx}");
                for chg in 1..=6 {
                    $w(bms.clear_aux()).unwrap();
                    let t = $w(bms.start_gpio(mode, GpioSelect::new(chg).unwrap())).unwrap();
                    sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                    $w(bms.read_aux(&mut aux)).unwrap();
                    assert!(aux.iter().any(Reading::is_valid), "ADAX CHG={chg} {ctx}");
                }
                for sel in [
                    StatusSelect::All,
                    StatusSelect::Sc,
                    StatusSelect::Itmp,
                    StatusSelect::Va,
                    StatusSelect::Vd,
                ] {
                    $w(bms.clear_status()).unwrap();
                    let t = $w(bms.start_status(mode, sel)).unwrap();
                    sim.with(|c| c.advance_ns(u64::from(t.0) * 1000));
                $w(bms.wake_idle()).unwrap();
                    $w(bms.read_status(&mut st)).unwrap();
                    let Reading::Valid(s) = st[1] else {
                        panic!("{ctx}")
                    };
                    let got = [
                        s.a.sum_of_cells.is_valid(),
                        s.a.die_temperature.is_valid(),
                        s.a.va.is_valid(),
                        s.b.vd.is_valid(),
                    ];
                    assert!(got.iter().any(|&g| g), "ADSTAT {sel:?} {ctx}");
                }
                if V::HAS_ADOL {
                    let mut ok = [Reading::NotConverted; 2];
                    $w(bms.overlap_test(mode, &mut ok)).unwrap();
                    assert_eq!(ok, [Reading::Valid(true); 2], "ADOL {ctx}");
                }
            }
        }
    }
}};
}

#[test]
fn driver_waits_cover_the_conversion_times_of_every_part() {
    waits_are_long_enough!(Ltc6810, id, CellMonitor, Blocking);
    waits_are_long_enough!(Ltc6810, block_on, AsyncCellMonitor, Async);
    waits_are_long_enough!(Ltc6811, id, CellMonitor, Blocking);
    waits_are_long_enough!(Ltc6811, block_on, AsyncCellMonitor, Async);
    waits_are_long_enough!(Ltc6812, id, CellMonitor, Blocking);
    waits_are_long_enough!(Ltc6812, block_on, AsyncCellMonitor, Async);
    waits_are_long_enough!(Ltc6813, id, CellMonitor, Blocking);
    waits_are_long_enough!(Ltc6813, block_on, AsyncCellMonitor, Async);
}

macro_rules! gpio_thermistors_extend_the_temperatures_case {
    ($w:ident, $t:ident, $io:ident) => {{
        use bms_afe::ltc681x::Thermistors;
        // A linear test sensor: T = 25 °C + (VREF2/2 − V) / 10 µV per m°C.
        fn linear(v: MicroVolts, vref: MicroVolts) -> MilliCelsius {
            MilliCelsius(25_000 + (vref.0 / 2 - v.0) / 10)
        }
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        sim.with(|c| {
            c.set_temperature(0, 30_000);
            c.set_gpio_voltage(0, 1, 1_400_000); // 35 °C
            c.set_gpio_voltage(0, 7, 1_600_000); // 15 °C
            c.set_gpio_voltage(1, 1, 1_500_000); // 25 °C
            c.set_gpio_voltage(1, 7, 1_300_000); // 45 °C
        });
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new($io::new(sim.spi(), sim.delay()));
        assert!(
            bms.set_thermistors(Some(Thermistors {
                gpios: 0,
                convert: linear
            }))
            .is_err()
        );
        assert!(
            bms.set_thermistors(Some(Thermistors {
                gpios: 1 << 9,
                convert: linear
            }))
            .is_err()
        );
        bms.set_thermistors(Some(Thermistors {
            gpios: 1 | 1 << 6,
            convert: linear,
        }))
        .unwrap();
        assert_eq!($t::temperatures_per_device(&bms), 3);
        $w(bms.wake()).unwrap();
        $w(bms.write_config()).unwrap();
        let mut t = [Reading::NotConverted; 6];
        assert!($w(bms.measure_temperatures(&mut t)).unwrap().is_ok());
        let v: Vec<i32> = t.iter().map(|r| r.valid().unwrap().0).collect();
        assert!((v[0] - 30_000).abs() <= 20, "die {v:?}");
        assert_eq!(&v[1..3], &[35_000, 15_000]);
        assert_eq!(&v[4..6], &[25_000, 45_000]);
        let mut short = [Reading::NotConverted; 2];
        assert!(matches!(
            $w(bms.measure_temperatures(&mut short)),
            Err(Error::InvalidArgument(_))
        ));
    }};
}

#[test]
fn gpio_thermistors_extend_the_temperatures() {
    gpio_thermistors_extend_the_temperatures_case!(id, CellMonitor, Blocking);
    gpio_thermistors_extend_the_temperatures_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! ltc6810_serial_id_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Ltc681xChain::<Ltc6810, 2>::new());
        let mut bms = Ltc681x::<Ltc6810, 2, _>::new($io::new(sim.spi(), sim.delay()));
        $w(bms.wake()).unwrap();
        let mut id = [Reading::NotConverted; 2];
        assert!($w(bms.read_serial_id(&mut id)).unwrap().is_ok());
        assert!(id.iter().all(Reading::is_valid));
        let sim = Sim::new(Ltc681xChain::<Ltc6811, 1>::new());
        let mut bms = Ltc681x::<Ltc6811, 1, _>::new($io::new(sim.spi(), sim.delay()));
        let mut id = [Reading::NotConverted; 1];
        assert!(matches!(
            $w(bms.read_serial_id(&mut id)),
            Err(Error::Config(_))
        ));
    }};
}

#[test]
fn ltc6810_serial_id() {
    ltc6810_serial_id_case!(id, CellMonitor, Blocking);
    ltc6810_serial_id_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! diagnostics_after_a_pause_wake_idle_ports_first_case {
    ($w:ident, $t:ident, $io:ident) => {{
    // After more than tIDLE of silence the first frame is lost at an idle port; the
    // diagnostic methods wake the ports first, so DIAGN reaches all 16 devices (MUXFAIL is
    // 1 after power-up until DIAGN runs).
    let sim = Sim::new(Ltc681xChain::<Ltc6813, 16>::new());
    let mut bms = Ltc681x::<Ltc6813, 16, _>::new($io::new(sim.spi(), sim.delay()));
    $w(bms.wake()).unwrap();
    $w(bms.write_config()).unwrap();
    sim.with(|c| c.advance_ns(50_000_000));
    let mut ok = [Reading::NotConverted; 16];
    assert!($w(bms.mux_test(&mut ok)).unwrap().is_ok());
    assert_eq!(ok, [Reading::Valid(true); 16]);
    sim.with(|c| c.advance_ns(50_000_000));
    let mut st = [Reading::NotConverted; 16];
    assert!($w(bms.measure_status(AdcMode::Fast, &mut st)).unwrap().is_ok());
    assert!(
        st.iter()
            .all(|s| matches!(s, Reading::Valid(s) if s.a.die_temperature.is_valid()))
    );
}};
}

#[test]
fn diagnostics_after_a_pause_wake_idle_ports_first() {
    diagnostics_after_a_pause_wake_idle_ports_first_case!(id, CellMonitor, Blocking);
    diagnostics_after_a_pause_wake_idle_ports_first_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! idle_timeout_is_the_data_sheet_minimum {
    ($sim:ident, $bms:ident, $w:ident) => {{
        $w($bms.wake()).unwrap();
        $w($bms.write_config()).unwrap();
        let mut cfg = [Reading::NotConverted; 2];
        // 4.2 ms of silence, below the minimum tIDLE (LTC6812-1 data sheet: 4.3/5.5/6.7 ms
        // min/typ/max): the ports are still up.
        $sim.with(|c| c.advance_ns(4_200_000));
        assert!($w($bms.read_config(&mut cfg)).unwrap().is_ok());
        assert!(cfg.iter().all(Reading::is_valid));
        // 5 ms of silence: past the minimum, short of the typical 5.5 ms. The strictest
        // silicon has gone IDLE: the frame is lost at device 0's port, nobody answers.
        $sim.with(|c| c.advance_ns(5_000_000));
        $bms.set_retries(0);
        cfg = [Reading::NotConverted; 2];
        let r = $w($bms.read_config(&mut cfg)).unwrap();
        assert_eq!(r.failed.len(), 2, "{r:?}");
        assert!(
            cfg.iter()
                .all(|c| matches!(c, Reading::Failed(f) if f.reason == FaultReason::NoResponse)),
            "{cfg:?}"
        );
        // wake_idle first, and the read goes through.
        $sim.with(|c| c.advance_ns(5_000_000));
        $w($bms.wake_idle()).unwrap();
        cfg = [Reading::NotConverted; 2];
        assert!($w($bms.read_config(&mut cfg)).unwrap().is_ok());
        assert!(cfg.iter().all(Reading::is_valid));
    }};
}

#[test]
fn idle_timeout_is_the_data_sheet_minimum() {
    {
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
        idle_timeout_is_the_data_sheet_minimum!(sim, bms, id);
    }
    {
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
        let mut bms = Ltc681x::<Ltc6813, 2, _>::new(Async::new(sim.spi(), sim.delay()));
        idle_timeout_is_the_data_sheet_minimum!(sim, bms, block_on);
    }
}
