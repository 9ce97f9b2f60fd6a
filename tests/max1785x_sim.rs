//! Behaviour of the MAX1785x driver against the virtual bridge and chain: start-up, scan,
//! cell/block/AUX reads, thresholds and alerts, balancing, current, and every injected fault
//! (PEC corruption at one device, alive-counter corruption, a device dropping out, a broken
//! ring), blocking and async from one body, chains of 1, 2 and 16. Truth values are what the
//! test sets on the virtual chain; expected codes are computed here from the 5 V / 2^14 scale.
#![cfg(feature = "sim")]

use bms_afe::error::{Error, ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::max1785x::bridge::BridgeRegister;
use bms_afe::max1785x::convert::CurrentSense;
use bms_afe::max1785x::register::{Oversampling, Register, Status1};
use bms_afe::max1785x::{Max1785x, Max17852, Max17853, ReadMode, Variant};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::max1785x::Max1785xChain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts};

mod common;
use common::{block_on, id};

/// A distinct voltage per cell (3.0xx V), in µV.
fn truth(device: usize, cell: usize) -> i32 {
    3_000_000 + (device as i32) * 23_300 + (cell as i32) * 11_100 + 77
}

/// What the chip reports for `uv`: nearest 14-bit code of 5 V, back to µV (oracle written
/// here: code = round(uv · 16384 / 5 V), value = code · 5 V / 16384).
fn reported(uv: i32) -> i32 {
    let code = ((uv as i64 * 16_384 + 2_500_000) / 5_000_000).clamp(0, 0x3FFF);
    ((code * 5_000_000 + 8_192) / 16_384) as i32
}

fn seed<V: Variant, const N: usize>(sim: &Sim<Max1785xChain<V, N>>) {
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
        assert_eq!(
            *r,
            Reading::Valid(MicroVolts(reported(truth(d, k)))),
            "device {d} cell {k}"
        );
    }
}

macro_rules! both {
    ($v:ty, $n:literal, $scenario:ident) => {{
        {
            let sim = Sim::new(Max1785xChain::<$v, $n>::new());
            let mut d = Max1785x::<$v, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor, $v, $n);
        }
        {
            let sim = Sim::new(Max1785xChain::<$v, $n>::new());
            let mut d = Max1785x::<$v, $n, _>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor, $v, $n);
        }
    }};
}

macro_rules! walk {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        seed(&$sim);
        let cells_n = <$v as Variant>::CELLS;
        let mut cells = vec![Reading::NotConverted; $n * cells_n];
        // Shut down: the ring returns nothing, every device fails, nothing is a voltage.
        $d.set_retries(0);
        let r = $w($d.read_cells(&mut cells)).unwrap();
        assert_eq!(r.failed.len(), $n);
        assert!(cells.iter().all(|c| matches!(c, Reading::Failed(f) if f.reason == FaultReason::NoResponse)));
        $d.set_retries(2);

        $w($d.start_up()).unwrap();
        assert!($sim.with(|c| c.is_awake()));
        // Bridge: keep-alive 160 µs (CONFIGURATION_3 = 0x05), RX error + overflow interrupts
        // (bits 7 and 3 of RX_INTERRUPT_ENABLE), preambles off again (CONFIGURATION_2 = 0x10).
        assert_eq!($sim.with(|c| c.bridge_register(0x10)), 0x05);
        assert_eq!($sim.with(|c| c.bridge_register(0x04)), 0x88);
        assert_eq!($sim.with(|c| c.bridge_register(0x0E)), 0x10);
        assert_eq!($w($d.read_bridge(BridgeRegister::Configuration3)).unwrap(), 0x05);
        assert_eq!($w($d.write_bridge(BridgeRegister::RxStatus, 0)).unwrap_err().kind(), ErrorKind::InvalidArgument);
        for k in 0..$n {
            assert_eq!($sim.with(|c| c.address(k)), Some(k as u8));
        }
        // MEASUREEN1 written and read back: all cells and the block.
        assert_eq!($sim.with(|c| c.register(0, 0x64)), Some(if cells_n == 14 { 0x7FFF } else { 0 }));
        // Fresh: no SCANDONE, so not converted (never 0 V).
        assert!($w($d.read_cells(&mut cells)).unwrap().is_ok());
        assert!(cells.iter().all(|c| *c == Reading::NotConverted));

        let ov = $d.set_overvoltage(MicroVolts(4_200_000)).unwrap();
        let uv = $d.set_undervoltage(MicroVolts(2_500_000)).unwrap();
        assert!(ov.0 <= 4_200_000 && 4_200_000 - ov.0 < 306);
        assert!(uv.0 >= 2_500_000 && uv.0 - 2_500_000 < 306);
        $w($d.write_thresholds()).unwrap();
        assert_eq!($sim.with(|c| c.cell_thresholds_uv($n - 1)).map(|t| t.1 / 1000), Some(4_199));

        for mode in [ConversionMode::Fast, ConversionMode::Normal, ConversionMode::Filtered] {
            let r = $w($t::measure_cells(&mut $d, mode, &mut cells)).unwrap();
            assert!(r.is_ok(), "{mode:?} {r:?}");
            assert_cells::<$v>(&cells, &[]);
        }
        // Start, wait the hint, read: fresh values.
        $sim.with(|c| c.set_all_cells(3_333_333));
        let hint = $w($t::start_cell_conversion(&mut $d, ConversionMode::Normal)).unwrap();
        $sim.with(|c| bms_afe::sim::Clock::advance_ns(c, u64::from(hint.0) * 1000));
        assert!($w($t::read_cell_voltages(&mut $d, &mut cells)).unwrap().is_ok());
        assert!(cells.iter().all(|c| *c == Reading::Valid(MicroVolts(reported(3_333_333)))));

        // Block voltage: the sum of the cells, on the 65 V scale.
        let mut blocks = vec![Reading::NotConverted; $n];
        assert!($w($t::measure_stack_voltages(&mut $d, &mut blocks)).unwrap().is_ok());
        for b in &blocks {
            let sum = 3_333_333i64 * cells_n as i64;
            let code = (sum * 16_384 + 32_500_000) / 65_000_000;
            let want = ((code * 65_000_000 + 8_192) / 16_384) as i32;
            assert_eq!(*b, Reading::Valid(MicroVolts(want)));
        }

        // One cell past OV on the last device, one under UV on the first.
        seed(&$sim);
        $sim.with(|c| {
            c.set_cell_voltage($n - 1, 3, 4_300_000);
            c.set_cell_voltage(0, 5, 2_400_000);
        });
        $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut cells)).unwrap();
        let mut faults = vec![Reading::<Faults>::NotConverted; $n];
        assert!($w($t::read_faults(&mut $d, &mut faults)).unwrap().is_ok());
        for (k, f) in faults.iter().enumerate() {
            let Reading::Valid(f) = f else { panic!("{k}: {f:?}") };
            assert_eq!(f.overvoltage, if k == $n - 1 { 1 << 3 } else { 0 }, "device {k}");
            assert_eq!(f.undervoltage, if k == 0 { 1 << 5 } else { 0 }, "device {k}");
        }

        // Balancing: non-adjacent masks reach BALSWCTRL; adjacent ones are refused.
        let masks: Vec<u32> = (0..$n).map(|k| 0b1_0101u32 << (k % 3)).collect();
        $w($t::set_balancing(&mut $d, &masks)).unwrap();
        for (k, m) in masks.iter().enumerate() {
            assert_eq!($sim.with(|c| c.balancing(k)), *m);
        }
        let mut bad = masks.clone();
        bad[$n - 1] = 0b11;
        let e = $w($t::set_balancing(&mut $d, &bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!($sim.with(|c| c.balancing($n - 1)), masks[$n - 1]);
        $w($t::set_balancing(&mut $d, &vec![0; $n])).unwrap();
        assert!((0..$n).all(|k| $sim.with(|c| c.balancing(k)) == 0));
    }};
}

#[test]
fn walk_max17853_x1() {
    both!(Max17853, 1, walk);
}

#[test]
fn walk_max17852_x2() {
    both!(Max17852, 2, walk);
}

#[test]
fn walk_max17853_x16() {
    both!(Max17853, 16, walk);
}

macro_rules! corruption_at_k {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        seed(&$sim);
        $w($d.start_up()).unwrap();
        let cells_n = <$v as Variant>::CELLS;
        let mut cells = vec![Reading::NotConverted; $n * cells_n];
        for mode in [ReadMode::ReadAll, ReadMode::PerDevice, ReadMode::Auto] {
            $d.set_read_mode(mode);
            for k in [0usize, $n / 2, $n - 1] {
                $sim.with(|c| {
                    c.clear_faults();
                    c.inject(InjectedFault::CorruptResponses { device: k as u8, seed: 0xBAD5 + k as u32, frames: u32::MAX });
                });
                let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap();
                assert_eq!(r.failed.len(), 1, "{mode:?} k {k}: {r:?}");
                assert!(r.failed.contains(k));
                let f = r.first_fault.unwrap();
                assert_eq!(f.device as usize, k);
                assert!(matches!(f.reason, FaultReason::Pec { .. }), "{f:?}");
                for (i, c) in cells.iter().enumerate() {
                    if i / cells_n == k {
                        assert!(matches!(c, Reading::Failed(x) if x.device as usize == k), "{i}: {c:?}");
                    }
                }
                assert_cells::<$v>(&cells, &[k]);
            }
            $sim.with(|c| c.clear_faults());
            assert!($w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap().is_ok());
            assert_cells::<$v>(&cells, &[]);
        }
    }};
}

#[test]
fn pec_corruption_at_device_k_fails_only_k() {
    both!(Max17853, 1, corruption_at_k);
    both!(Max17853, 2, corruption_at_k);
    both!(Max17852, 16, corruption_at_k);
}

macro_rules! alive_counter {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        seed(&$sim);
        $w($d.start_up()).unwrap();
        // Devices count the byte after the PEC once enabled (the enable bit is the user's).
        $sim.with(|c| c.set_alive_counter_enabled(true));
        $d.set_alive_counter(Some(0xF0));
        let cells_n = <$v as Variant>::CELLS;
        let mut cells = vec![Reading::NotConverted; $n * cells_n];
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap().is_ok());
        assert_cells::<$v>(&cells, &[]);
        // Device k forwards the counter without counting: the message may have been missed
        // there, and the counter cannot say where, so no device of it is trusted.
        let k = $n / 2;
        $sim.with(|c| c.skip_alive_counter(k as u8));
        let r = $w($t::read_cell_voltages(&mut $d, &mut cells)).unwrap();
        assert_eq!(r.failed.len(), $n);
        assert!(matches!(r.first_fault.unwrap().reason, FaultReason::CommandCounter { .. }));
        assert!(cells.iter().all(|c| matches!(c, Reading::Failed(_))));
        // A write whose counter comes back short is an error too.
        let e = $w($t::start_cell_conversion(&mut $d, ConversionMode::Fast)).unwrap_err();
        assert!(matches!(e, Error::Integrity(f) if matches!(f.reason, FaultReason::CommandCounter { .. })));
        $sim.with(|c| c.clear_faults());
        // The link is healthy again, but a device may have missed the last scan request:
        // nothing is trusted until a scan start comes back counted by every device.
        let r = $w($t::read_cell_voltages(&mut $d, &mut cells)).unwrap();
        assert_eq!(r.failed.len(), $n);
        assert!(cells.iter().all(|c| !c.is_valid()));
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap().is_ok());
        assert_cells::<$v>(&cells, &[]);
        // The driver sends the counter but the devices do not count it: every read fails.
        $sim.with(|c| c.set_alive_counter_enabled(false));
        let r = $w($t::read_cell_voltages(&mut $d, &mut cells)).unwrap();
        assert_eq!(r.failed.len(), $n);
    }};
}

#[test]
fn alive_counter_mismatch_fails_the_whole_message() {
    both!(Max17853, 1, alive_counter);
    both!(Max17853, 2, alive_counter);
    both!(Max17852, 16, alive_counter);
}

macro_rules! drop_out {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        seed(&$sim);
        $w($d.start_up()).unwrap();
        let cells_n = <$v as Variant>::CELLS;
        let mut cells = vec![Reading::NotConverted; $n * cells_n];
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap().is_ok());
        // Device k stops answering (it still forwards): only k fails, as NoResponse.
        let k = $n / 2;
        $sim.with(|c| c.inject(InjectedFault::Silent { device: k as u8 }));
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap();
        assert_eq!(r.failed.len(), 1);
        assert_eq!(r.first_fault.map(|f| (f.device as usize, f.reason)), Some((k, FaultReason::NoResponse)));
        assert_cells::<$v>(&cells, &[k]);
        // HELLOALL now counts one device less: the start-up refuses the chain.
        let e = $w($d.start_up()).unwrap_err();
        assert!(matches!(e, Error::Device { device, .. } if usize::from(device) == $n - 1), "{e:?}");
        $sim.with(|c| c.clear_faults());
        $w($d.start_up()).unwrap();
        // The ring breaks after device 0: nothing comes back, every device fails, bounded.
        $sim.with(|c| c.inject(InjectedFault::BreakAfter { after: 0 }));
        let t0 = $sim.with(|c| c.elapsed_ns()).unwrap();
        let r = $w($t::read_cell_voltages(&mut $d, &mut cells)).unwrap();
        let t1 = $sim.with(|c| c.elapsed_ns()).unwrap();
        assert!(t1 - t0 < 1_000_000_000, "{} ns", t1 - t0);
        if $n > 1 {
            assert_eq!(r.failed.len(), $n);
            assert!(cells.iter().all(|c| matches!(c, Reading::Failed(f) if f.reason == FaultReason::NoResponse)));
        }
        let e = $w($t::wake(&mut $d));
        if $n > 1 {
            assert_eq!(e.unwrap_err().kind(), ErrorKind::Timeout);
        }
        $sim.with(|c| c.clear_faults());
        $w($t::wake(&mut $d)).unwrap();
        assert!($w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut cells)).unwrap().is_ok());
        assert_cells::<$v>(&cells, &[]);
    }};
}

#[test]
fn device_dropping_out_and_broken_ring() {
    both!(Max17853, 1, drop_out);
    both!(Max17853, 2, drop_out);
    both!(Max17852, 16, drop_out);
}

macro_rules! wrong_part {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        let _ = &$sim;
        let e = $w($d.start_up()).unwrap_err();
        assert!(matches!(e, Error::Device { device: 0, what } if what.contains("VERSION")), "{e:?}");
    }};
}

#[test]
fn version_of_another_part_is_refused() {
    let sim = Sim::new(Max1785xChain::<Max17853, 2>::new());
    let mut d = Max1785x::<Max17852, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    wrong_part!(sim, d, id, CellMonitor, Max17852, 2);
    let sim = Sim::new(Max1785xChain::<Max17853, 2>::new());
    let mut d = Max1785x::<Max17852, 2, _>::new(Async::new(sim.spi(), sim.delay()));
    wrong_part!(sim, d, block_on, AsyncCellMonitor, Max17852, 2);
}

#[test]
fn chain_longer_than_configured_is_refused() {
    let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
    let mut d = Max1785x::<Max17853, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    assert!(matches!(d.start_up(), Err(Error::Device { device: 3, .. })));
    let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
    let mut d = Max1785x::<Max17853, 2, _>::new(Async::new(sim.spi(), sim.delay()));
    assert!(matches!(
        block_on(d.start_up()),
        Err(Error::Device { device: 3, .. })
    ));
}

macro_rules! current {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        $w($d.start_up()).unwrap();
        // Not configured: an error, not "no current channel".
        assert_eq!(
            $w($t::read_current(&mut $d)).unwrap_err().kind(),
            ErrorKind::Config
        );
        $d.set_current_sense(Some(CurrentSense {
            device: 1,
            lsb_nv: 5_000,
            shunt_micro_ohm: 100,
        }))
        .unwrap();
        $sim.with(|c| {
            c.set_current_sense(5_000, 100);
            c.set_current(-12_345_000);
        });
        // No scan yet: the CSA register holds no conversion.
        assert_eq!(
            $w($t::read_current(&mut $d)).unwrap_err().kind(),
            ErrorKind::Device
        );
        $w($d.start_scan(Oversampling::None)).unwrap();
        $w($d.poll_scan()).unwrap();
        // -12.345 A × 100 µΩ = -1.2345 mV = -246.9 codes of 5 µV → -247 → -12.35 A.
        assert_eq!(
            $w($t::read_current(&mut $d)).unwrap(),
            Some(MicroAmps(-12_350_000))
        );
        $sim.with(|c| {
            c.inject(InjectedFault::CorruptResponses {
                device: 1,
                seed: 7,
                frames: u32::MAX,
            })
        });
        let e = $w($t::read_current(&mut $d)).unwrap_err();
        assert_eq!(e.device(), Some(1));
    }};
}

#[test]
fn max17852_current_sense() {
    both!(Max17852, 2, current);
    // The MAX17853 has no amplifier: no current channel, and the scaling is refused.
    let sim = Sim::new(Max1785xChain::<Max17853, 1>::new());
    let mut d = Max1785x::<Max17853, 1, _>::new(Blocking::new(sim.spi(), sim.delay()));
    d.start_up().unwrap();
    assert_eq!(CellMonitor::read_current(&mut d), Ok(None));
    assert!(
        d.set_current_sense(Some(CurrentSense {
            device: 0,
            lsb_nv: 1,
            shunt_micro_ohm: 1
        }))
        .is_err()
    );
    let mut csa = [Reading::NotConverted; 1];
    assert_eq!(d.read_csa(&mut csa).unwrap_err().kind(), ErrorKind::Config);
}

macro_rules! aux_and_registers {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        $w($d.start_up()).unwrap();
        let aux = <$v as Variant>::AUX_INPUTS;
        $sim.with(|c| {
            for k in 0..$n {
                for i in 0..aux {
                    c.set_aux_ratio_ppm(k, i, 100_000 * (i as u32 + 1) + 1_000 * k as u32);
                }
            }
        });
        // MEASUREEN2 bit k enables AUXk (foxBMS writes 0x000C for AUX2 and AUX3).
        $w($d.write_all_verified(Register::MeasureEn2, (1 << aux) - 1)).unwrap();
        $w($d.start_scan(Oversampling::X4)).unwrap();
        $w($d.poll_scan()).unwrap();
        let mut out = vec![Reading::NotConverted; $n * aux];
        assert!($w($d.read_aux_ratios(&mut out)).unwrap().is_ok());
        for (j, r) in out.iter().enumerate() {
            let (k, i) = (j / aux, j % aux);
            let ppm = 100_000 * (i as i64 + 1) + 1_000 * k as i64;
            let code = (ppm * 16_384 + 500_000) / 1_000_000;
            assert_eq!(*r, Reading::Valid(((code * 1_000_000 + 8_192) / 16_384) as u32));
        }
        // A register the part lacks is refused before anything is sent.
        let before = $sim.with(|c| c.uart_messages());
        let missing = if <$v as Variant>::HAS_CSA { Register::Aux0 } else { Register::Csa };
        if !<$v as Variant>::HAS_CSA {
            assert_eq!($w($d.write_all(missing, 0)).unwrap_err().kind(), ErrorKind::Config);
            assert_eq!($sim.with(|c| c.uart_messages()), before);
        }
        // Verified write: a read-only register does not take the value and is reported.
        let e = $w($d.write_all_verified(Register::Version, 0x1234)).unwrap_err();
        assert!(matches!(e, Error::Verify(v) if v.register == "VERSION" && v.device == 0), "{e:?}");
        $w($d.write_all_verified(Register::AlrtOvEn, 0x3FFF)).unwrap();
        let mut regs = vec![Reading::NotConverted; $n];
        assert!($w($d.read_all(Register::AlrtOvEn, &mut regs)).unwrap().is_ok());
        assert!(regs.iter().all(|r| *r == Reading::Valid(0x3FFF)));
    }};
}

#[test]
fn aux_inputs_and_verified_writes() {
    both!(Max17853, 2, aux_and_registers);
    both!(Max17852, 1, aux_and_registers);
}

#[test]
fn auto_mode_uses_per_device_reads_above_13_devices() {
    // READALL over 16 devices covers 35 bytes: weaker than HD 3, so Auto reads per device.
    assert_eq!(
        Max1785x::<Max17853, 16, ()>::read_all_coverage(),
        (35, false)
    );
    assert_eq!(
        Max1785x::<Max17853, 13, ()>::read_all_coverage(),
        (29, true)
    );
    let sim = Sim::new(Max1785xChain::<Max17853, 16>::new());
    let mut d = Max1785x::<Max17853, 16, _>::new(Blocking::new(sim.spi(), sim.delay()));
    d.start_up().unwrap();
    d.start_scan(Oversampling::None).unwrap();
    d.poll_scan().unwrap();
    let mut cells = vec![Reading::NotConverted; 16 * 14];
    let m0 = sim.with(|c| c.uart_messages());
    d.read_cells(&mut cells).unwrap();
    let per_device = sim.with(|c| c.uart_messages()) - m0;
    assert_eq!(per_device, 15 * 16);
    d.set_read_mode(ReadMode::ReadAll);
    let m0 = sim.with(|c| c.uart_messages());
    d.read_cells(&mut cells).unwrap();
    assert_eq!(sim.with(|c| c.uart_messages()) - m0, 15);
    assert!(cells.iter().all(Reading::is_valid));
}

macro_rules! limits_and_diagnostics {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        seed(&$sim);
        let mm = $d.set_mismatch(MicroVolts(200_000)).unwrap();
        assert!(mm.0 <= 200_000 && 200_000 - mm.0 < 306);
        let (bu, bo) = $d
            .set_block_limits(MicroVolts(30_000_000), MicroVolts(60_000_000))
            .unwrap();
        assert!(bu.0 >= 30_000_000 && bo.0 <= 60_000_000);
        // NTC: hot below 20 % of the reference, cold above 80 %.
        let (hot, cold) = $d.set_temperature_limits(200_000, 800_000).unwrap();
        assert!(hot >= 200_000 && cold <= 800_000);
        assert!($d.set_temperature_limits(900_000, 100_000).is_err());
        // Written and verified by the start-up.
        $w($d.start_up()).unwrap();
        $w($d.write_all_verified(Register::MeasureEn2, 0b10)).unwrap();
        let (msmtch, blkov, auxruv) = (mm_code(200_000), blk_code(60_000_000), 3_277u16 << 2);
        assert_eq!($sim.with(|c| c.register($n - 1, 0x23)), Some(msmtch));
        assert_eq!($sim.with(|c| c.register($n - 1, 0x29)), Some(blkov));
        assert_eq!($sim.with(|c| c.register($n - 1, 0x33)), Some(auxruv));
        // Device 0: one cell 0.5 V above the others (mismatch), one hot AUX input.
        $sim.with(|c| {
            c.set_cell_voltage(0, 2, truth(0, 2) + 500_000);
            c.set_aux_ratio_ppm(0, 1, 150_000);
        });
        let cells_n = <$v as Variant>::CELLS;
        let mut cells = vec![Reading::NotConverted; $n * cells_n];
        $w($t::measure_cells(
            &mut $d,
            ConversionMode::Normal,
            &mut cells,
        ))
        .unwrap();
        let mut alerts = vec![Reading::NotConverted; $n];
        assert!($w($d.read_alerts(&mut alerts)).unwrap().is_ok());
        for (k, a) in alerts.iter().enumerate() {
            let Reading::Valid(a) = a else {
                panic!("{k}: {a:?}")
            };
            let s1 = a.status1();
            assert_eq!(s1.contains(Status1::ALRTMSMTCH), k == 0, "device {k}");
            assert_eq!(s1.contains(Status1::ALRTAUXUVST), k == 0, "device {k}");
            assert!(!s1.contains(Status1::ALRTBLKOVST));
            let f = a.faults(cells_n);
            assert_eq!(f.over_temperature, k == 0);
            assert!(!f.under_temperature && !f.internal);
        }
        // Comparator cross-check: healthy everywhere, then one blind comparator cell on
        // the last device is found where the ADC flagged an overvoltage.
        $w($d.clear_alerts()).unwrap();
        $w($d.write_all_verified(Register::OvThSet, 0xD000)).unwrap();
        $sim.with(|c| {
            c.set_cell_voltage($n - 1, 6, 4_300_000);
            c.blind_comparator($n - 1, 6);
        });
        $w($t::measure_cells(
            &mut $d,
            ConversionMode::Normal,
            &mut cells,
        ))
        .unwrap();
        let mut cc = vec![Reading::NotConverted; $n];
        assert!($w($d.comparator_cross_check(&mut cc)).unwrap().is_ok());
        for (k, c) in cc.iter().enumerate() {
            let Reading::Valid(c) = c else {
                panic!("{k}: {c:?}")
            };
            if k == $n - 1 {
                assert_eq!((c.adc_ov, c.comp_ov, c.ov_disagree()), (1 << 6, 0, 1 << 6));
            } else {
                assert!(c.agrees(), "device {k}: {c:?}");
            }
        }
    }};
}

/// MSMTCH for `uv` on the cell scale, rounded down (oracle: code = ⌊uv · 16384 / 5 V⌋).
fn mm_code(uv: i64) -> u16 {
    ((uv * 16_384 / 5_000_000) as u16) << 2
}

/// BLKOVTHSET for `uv` on the 65 V scale, rounded down.
fn blk_code(uv: i64) -> u16 {
    ((uv * 16_384 / 65_000_000) as u16) << 2
}

#[test]
fn mismatch_block_temperature_limits_and_comparator_cross_check() {
    both!(Max17853, 1, limits_and_diagnostics);
    both!(Max17852, 2, limits_and_diagnostics);
    both!(Max17853, 16, limits_and_diagnostics);
}

/// A made-up linear sensor for the test: 25 °C at half the reference, −0.1 m°C per ppm.
fn linear(ppm: u32) -> bms_afe::units::MilliCelsius {
    bms_afe::units::MilliCelsius(25_000 - (ppm as i32 - 500_000) / 10)
}

macro_rules! thermistors {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        use bms_afe::max1785x::Thermistors;
        assert_eq!($t::temperatures_per_device(&$d), 0);
        // Inputs the part lacks are refused.
        let lacks = 1u8 << <$v as Variant>::AUX_INPUTS;
        assert!(
            $d.set_thermistors(Some(Thermistors {
                inputs: lacks,
                convert: linear
            }))
            .is_err()
        );
        $d.set_thermistors(Some(Thermistors {
            inputs: 0b101,
            convert: linear,
        }))
        .unwrap();
        assert_eq!($t::temperatures_per_device(&$d), 2);
        $w($d.start_up()).unwrap();
        $sim.with(|c| {
            for k in 0..$n {
                c.set_aux_ratio_ppm(k, 0, 400_000 + 10_000 * k as u32);
                c.set_aux_ratio_ppm(k, 2, 600_000);
            }
        });
        let mut t = vec![Reading::NotConverted; $n * 2];
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t))
                .unwrap()
                .is_ok()
        );
        for k in 0..$n {
            // The ratio the chip reports (nearest 14-bit code), through the sensor function.
            let q =
                |ppm: i64| (((ppm * 16_384 + 500_000) / 1_000_000) * 1_000_000 + 8_192) / 16_384;
            assert_eq!(
                t[2 * k],
                Reading::Valid(linear(q(400_000 + 10_000 * k as i64) as u32))
            );
            assert_eq!(t[2 * k + 1], Reading::Valid(linear(q(600_000) as u32)));
        }
        // A corrupted device fails its temperatures alone.
        $sim.with(|c| {
            c.inject(InjectedFault::CorruptResponses {
                device: ($n - 1) as u8,
                seed: 3,
                frames: u32::MAX,
            })
        });
        let r = $w($t::measure_temperatures(&mut $d, &mut t)).unwrap();
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed.contains($n - 1));
        assert!(!t[2 * ($n - 1)].is_valid() && !t[2 * ($n - 1) + 1].is_valid());
        assert!(t[0].is_valid());
        // A write to a device beyond the chain is refused before anything is sent.
        let e = $w($d.write_device($n, Register::BalSwCtrl, 0)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }};
}

#[test]
fn aux_thermistors_per_device() {
    both!(Max17853, 2, thermistors);
    both!(Max17852, 16, thermistors);
}

macro_rules! balancing_watchdog {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $v:ty, $n:literal) => {{
        use bms_afe::sim::Clock;
        const MINUTE: u64 = 60_000_000_000;
        assert!($d.set_balance_timeout(0).is_err());
        $d.set_balance_timeout(2).unwrap();
        $w($d.start_up()).unwrap();
        let masks: Vec<u32> = (0..$n).map(|k| 1u32 << (k % 14)).collect();
        $w($t::set_balancing(&mut $d, &masks)).unwrap();
        for k in 0..$n {
            assert_eq!($sim.with(|c| c.balancing(k)), masks[k]);
            // BALEXPn = 2 minutes on every cell, BALCTRL = manual mode (foxBMS 0x180E).
            assert_eq!($sim.with(|c| c.register(k, 0x70)), Some(2));
            assert_eq!($sim.with(|c| c.register(k, 0x7D)), Some(2));
            assert_eq!($sim.with(|c| c.register(k, 0x80)), Some(0x180E));
        }
        // The switches open by themselves when the expiration runs out ...
        $sim.with(|c| c.advance_ns(MINUTE + MINUTE / 2));
        assert_eq!($sim.with(|c| c.balancing(0)), masks[0]);
        $sim.with(|c| c.advance_ns(MINUTE));
        assert!((0..$n).all(|k| $sim.with(|c| c.balancing(k)) == 0));
        // ... and setting them again restarts the timer.
        $w($t::set_balancing(&mut $d, &masks)).unwrap();
        assert_eq!($sim.with(|c| c.balancing($n - 1)), masks[$n - 1]);
        // All zero: switches cleared and balancing disabled.
        $w($t::set_balancing(&mut $d, &vec![0; $n])).unwrap();
        assert_eq!($sim.with(|c| c.register(0, 0x80)), Some(0x0000));
        assert!((0..$n).all(|k| $sim.with(|c| c.balancing(k)) == 0));
    }};
}

#[test]
fn balancing_expires_unless_renewed() {
    both!(Max17853, 1, balancing_watchdog);
    both!(Max17852, 16, balancing_watchdog);
}

#[test]
fn start_up_checks_the_readall_slot_order() {
    // A chain that answers READALL with the last device first: the start-up's ADDRESS
    // comparison (READALL against READDEVICE) refuses it before anything is measured.
    let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
    sim.with(|c| c.set_reversed_readall_slots(true));
    let mut d = Max1785x::<Max17853, 3, _>::new(Blocking::new(sim.spi(), sim.delay()));
    let e = d.start_up().unwrap_err();
    assert!(
        matches!(e, Error::Device { device: 0, what } if what.contains("slot order")),
        "{e:?}"
    );
    let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
    sim.with(|c| c.set_reversed_readall_slots(true));
    let mut d = Max1785x::<Max17853, 3, _>::new(Async::new(sim.spi(), sim.delay()));
    let e = block_on(d.start_up()).unwrap_err();
    assert!(
        matches!(e, Error::Device { device: 0, what } if what.contains("slot order")),
        "{e:?}"
    );
    // The same chain in the order the driver assumes passes.
    let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
    let mut d = Max1785x::<Max17853, 3, _>::new(Blocking::new(sim.spi(), sim.delay()));
    d.start_up().unwrap();
}

#[test]
fn aux_inputs_before_any_scan_are_not_converted() {
    let sim = Sim::new(Max1785xChain::<Max17853, 2>::new());
    let mut d = Max1785x::<Max17853, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    d.start_up().unwrap();
    let mut out = [Reading::Valid(7u32); 12];
    assert!(d.read_aux_ratios(&mut out).unwrap().is_ok());
    assert!(out.iter().all(|r| *r == Reading::NotConverted));
    let sim = Sim::new(Max1785xChain::<Max17853, 2>::new());
    let mut d = Max1785x::<Max17853, 2, _>::new(Async::new(sim.spi(), sim.delay()));
    block_on(d.start_up()).unwrap();
    let mut out = [Reading::Valid(7u32); 12];
    assert!(block_on(d.read_aux_ratios(&mut out)).unwrap().is_ok());
    assert!(out.iter().all(|r| *r == Reading::NotConverted));
}
