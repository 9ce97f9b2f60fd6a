//! Behaviour of the ADBMS6830 driver against the virtual chain, blocking and async, chains
//! of 1, 2 and 16 devices.
//!
//! Expected values are computed here from the physical values set on the model (an oracle:
//! 150 µV LSB, +1.5 V offset, rounding to the nearest code), never from driver output.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::command::{Adcv, PollTarget};
use bms_afe::adbms6830::register::{CfgA, CfgB, Comm, CommSlot};
use bms_afe::adbms6830::{
    Adbms6830, Adbms6830b, Adbms6832, AdcPath, CellSource, DisputedCounting, Variant,
};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroVolts, Microseconds, MilliCelsius};
use bms_afe::{AsyncCellMonitor, CellMonitor, Error};
use embedded_hal::delay::DelayNs;

mod common;
use common::{block_on, id, quantised};

fn pattern(d: usize, c: usize) -> i32 {
    3_000_000 + (d as i32) * 37_123 + (c as i32) * 41_011
}

/// Runs `$scenario!(sim, driver, drive, Trait)` blocking and async with a fresh chain each.
macro_rules! both {
    ($v:ty, $n:literal, $scenario:ident) => {{
        {
            let sim = Sim::new(Adbms6830Chain::<$v, $n>::new());
            let mut d = Adbms6830::<$v, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor);
        }
        {
            let sim = Sim::new(Adbms6830Chain::<$v, $n>::new());
            let mut d = Adbms6830::<$v, $n, _>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor);
        }
    }};
}

macro_rules! measure_all_modes {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        let n = $t::device_count(&$d);
        let c = $t::cells_per_device(&$d);
        $sim.with(|m| {
            for dev in 0..n {
                for cell in 0..c {
                    m.set_cell_voltage(dev, cell, pattern(dev, cell));
                }
            }
        });
        $w($t::wake(&mut $d)).unwrap();
        let mut cfga = CfgA::default();
        cfga.fc = 1;
        $w($d.configure(cfga, CfgB::default())).unwrap();
        let mut out = vec![Reading::NotConverted; n * c];
        for mode in [
            ConversionMode::Fast,
            ConversionMode::Normal,
            ConversionMode::Filtered,
        ] {
            let r = $w($t::measure_cells(&mut $d, mode, &mut out)).unwrap();
            assert!(r.is_ok(), "{mode:?}: {r:?}");
            for dev in 0..n {
                for cell in 0..c {
                    assert_eq!(
                        out[dev * c + cell],
                        Reading::Valid(MicroVolts(quantised(pattern(dev, cell)))),
                        "{mode:?} device {dev} cell {cell}"
                    );
                }
            }
        }
        // Temperatures and stack voltages.
        $sim.with(|m| m.set_temperature(n - 1, 41_000));
        let mut t = vec![Reading::NotConverted; n];
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t))
                .unwrap()
                .is_ok()
        );
        let MilliCelsius(got) = t[n - 1].valid().unwrap();
        assert!((got - 41_000).abs() <= 20, "die temperature {got}");
        let mut s = vec![Reading::NotConverted; n];
        assert!(
            $w($t::measure_stack_voltages(&mut $d, &mut s))
                .unwrap()
                .is_ok()
        );
        for dev in 0..n {
            let sum: i32 = (0..c).map(|cell| pattern(dev, cell)).sum();
            let MicroVolts(got) = s[dev].valid().unwrap();
            assert!((got - sum).abs() <= 25 * 75, "stack {dev}: {got} vs {sum}");
        }
    }};
}

#[test]
fn measures_every_mode_chain_of_1() {
    both!(Adbms6830b, 1, measure_all_modes);
}

#[test]
fn measures_every_mode_chain_of_2() {
    both!(Adbms6830b, 2, measure_all_modes);
}

#[test]
fn measures_every_mode_chain_of_16() {
    both!(Adbms6830b, 16, measure_all_modes);
}

#[test]
fn measures_18_cells_on_adbms6832() {
    both!(Adbms6832, 2, measure_all_modes);
}

macro_rules! corruption_names_the_device {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        $d.set_retries(0);
        $sim.with(|m| {
            m.inject(InjectedFault::CorruptResponses {
                device: 11,
                seed: 0xC0FFEE,
                frames: u32::MAX,
            })
        });
        let mut out = vec![Reading::NotConverted; 16 * 16];
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed.contains(11));
        for (k, o) in out.iter().enumerate() {
            if k / 16 == 11 {
                assert!(matches!(o, Reading::Failed(DeviceFault { device: 11, .. })));
            } else {
                assert!(o.is_valid(), "cell {k}");
            }
        }
        // A single corrupted frame is recovered by a retry.
        $sim.with(|m| {
            m.clear_faults();
            m.inject(InjectedFault::CorruptResponses {
                device: 3,
                seed: 7,
                frames: 1,
            })
        });
        $d.set_retries(1);
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert!(r.is_ok());
        // A silent device and a broken chain.
        $sim.with(|m| m.inject(InjectedFault::Silent { device: 5 }));
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert_eq!(
            r.first_fault,
            Some(DeviceFault {
                device: 5,
                reason: FaultReason::NoResponse
            })
        );
        assert_eq!(r.failed.len(), 1);
        // A silent device kept hearing commands: once it answers again it is in sync.
        $sim.with(|m| m.clear_faults());
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        $sim.with(|m| m.inject(InjectedFault::BreakAfter { after: 9 }));
        assert_eq!($w($d.detect_chain_length()).unwrap(), 10);
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert_eq!(r.failed.len(), 6);
        assert!((10..16).all(|k| r.failed.contains(k)));
    }};
}

#[test]
fn injected_faults_name_the_device_chain_of_16() {
    both!(Adbms6830b, 16, corruption_names_the_device);
}

macro_rules! skipped_command {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        $w($d.mute(true)).unwrap(); // CC 0 → 1 on both devices
        $w($d.mute(false)).unwrap(); // → 2
        let mut ids = [Reading::NotConverted; 2];
        assert!($w($d.read_serial_ids(&mut ids)).unwrap().is_ok());
        // Device 1 misses the next command (the ADCV): it reads 2 where 3 is expected. (A
        // value no higher than the commands sent since the last read, 1 here, would look
        // like a reset: see below.)
        $sim.with(|m| m.drop_commands(1, 1));
        let mut out = vec![Reading::NotConverted; 2 * 16];
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(
            r.first_fault,
            Some(DeviceFault {
                device: 1,
                reason: FaultReason::CommandCounter {
                    expected: 3,
                    received: 2
                }
            })
        );
        assert_eq!(r.failed.len(), 1);
        // Reported once; the next cycle is clean again, and RSTCC resynchronises.
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert!(r.is_ok());
        $w($d.reset_command_counters()).unwrap();
        assert_eq!($d.expected_counters(), [0, 0]);
        assert_eq!($sim.with(|m| m.counter(1)), Some(0));
        // A device that misses the first command after RSTCC still reads 0: that cannot be
        // told from a reset, so it is treated as one (failed until the next RSTCC).
        $sim.with(|m| m.drop_commands(1, 1));
        for _ in 0..2 {
            let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
            assert_eq!(
                r.first_fault,
                Some(DeviceFault {
                    device: 1,
                    reason: FaultReason::CommandCounter {
                        expected: 1,
                        received: 0
                    }
                })
            );
        }
        $w($d.reset_command_counters()).unwrap();
        // Wrap: 70 counted commands, then a read.
        for k in 0..70 {
            $w($d.mute(k % 2 == 0)).unwrap();
        }
        assert_eq!($d.expected_counters(), [7, 7]);
        assert_eq!($sim.with(|m| m.counter(0)), Some(7));
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert!(r.is_ok());
    }};
}

#[test]
fn skipped_command_is_detected_at_the_right_device() {
    both!(Adbms6830b, 2, skipped_command);
}

macro_rules! clovuv_either_revision {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        let mut ids = [Reading::NotConverted; 2];
        for rev_spa in [false, true] {
            $sim.with(|m| m.set_clovuv_increments(rev_spa));
            $w($d.clear_ovuv()).unwrap();
            assert!($w($d.read_serial_ids(&mut ids)).unwrap().is_ok());
        }
        // Forcing the wrong revision is detected.
        $d.set_disputed_counting(DisputedCounting::NoIncrement);
        $w($d.clear_ovuv()).unwrap();
        let r = $w($d.read_serial_ids(&mut ids)).unwrap();
        assert!(matches!(
            r.first_fault.map(|f| f.reason),
            Some(FaultReason::CommandCounter { .. })
        ));
    }};
}

#[test]
fn clovuv_counting_tolerates_both_revisions() {
    both!(Adbms6830b, 2, clovuv_either_revision);
}

macro_rules! sleep_and_wake {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        assert!($sim.with(|m| m.is_awake()));
        let mut b = CfgB::default();
        b.set_overvoltage(MicroVolts(4_200_000)).unwrap();
        $w($d.configure(CfgA::default(), b)).unwrap();
        // 3 s of silence: the watchdog puts the chain to sleep (counter 0, defaults).
        $sim.delay().delay_ms(3_000);
        assert!(!$sim.with(|m| m.is_awake()));
        let mut out = vec![Reading::NotConverted; 2 * 16];
        // Without retries the sleeping chain does not answer (each frame wakes one device) …
        $d.set_retries(0);
        let mut ids = [Reading::NotConverted; 2];
        let r = $w($d.read_serial_ids(&mut ids)).unwrap();
        assert_eq!(r.failed.len(), 2);
        assert_eq!(
            r.first_fault.map(|f| f.reason),
            Some(FaultReason::NoResponse)
        );
        let r = $w($d.read_serial_ids(&mut ids)).unwrap();
        assert_eq!(
            r.first_fault.map(|f| f.reason),
            Some(FaultReason::NoResponse)
        );
        // … and once the frames woke it, the counters (0 after sleep) show the reset.
        let r = $w($d.read_serial_ids(&mut ids)).unwrap();
        assert_eq!(r.failed.len(), 2);
        for (k, id) in ids.iter().enumerate() {
            assert_eq!(
                *id,
                Reading::Failed(DeviceFault {
                    device: k as u8,
                    reason: FaultReason::CommandCounter {
                        expected: 2,
                        received: 0
                    }
                })
            );
        }
        $d.set_retries(2);
        $sim.with(|m| m.sleep());
        $w($t::wake(&mut $d)).unwrap();
        assert!($sim.with(|m| m.is_awake()));
        // The devices were seen to reset (counter 0) and no conversion has been confirmed
        // since: their results are not trusted, whatever the registers hold (never a
        // voltage), until a conversion the counter confirms.
        out.fill(Reading::Valid(MicroVolts(-1)));
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert_eq!(r.failed.len(), 2);
        for (k, c) in out.iter().enumerate() {
            assert_eq!(
                *c,
                Reading::Failed(DeviceFault {
                    device: (k / 16) as u8,
                    reason: FaultReason::CommandCounter {
                        expected: 2,
                        received: 0
                    }
                }),
                "slot {k}"
            );
        }
        // And `wake` rewrote the configuration the driver holds (the sleep reset it).
        let mut a = [Reading::NotConverted; 2];
        let mut bb = [Reading::NotConverted; 2];
        assert!($w($d.read_config(&mut a, &mut bb)).unwrap().is_ok());
        assert_eq!(bb, [Reading::Valid(b); 2]);
        assert_eq!($sim.with(|m| m.config(1)).map(|c| c.1), Some(b.to_bytes()));
    }};
}

#[test]
fn sleeps_after_watchdog_and_wakes() {
    both!(Adbms6830b, 2, sleep_and_wake);
}

macro_rules! balancing_and_flags {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        let mut b = CfgB::default();
        b.set_overvoltage(MicroVolts(4_200_000)).unwrap();
        b.set_undervoltage(MicroVolts(3_000_000)).unwrap();
        $w($d.configure(CfgA::default(), b)).unwrap();
        $w($t::set_balancing(&mut $d, &[0b1010_0000_0000_0101, 0x8000])).unwrap();
        assert_eq!($sim.with(|m| m.balancing(0)), 0b1010_0000_0000_0101);
        assert_eq!($sim.with(|m| m.balancing(1)), 0x8000);
        $w($d.mute(true)).unwrap();
        assert_eq!($sim.with(|m| m.balancing(0)), 0);
        $w($d.mute(false)).unwrap();
        assert_eq!($sim.with(|m| m.balancing(1)), 0x8000);
        $w($t::set_balancing(&mut $d, &[0, 0])).unwrap();
        assert_eq!($sim.with(|m| m.balancing(0)), 0);
        // OV on device 1 cell 3, UV on device 0 cell 16.
        $sim.with(|m| {
            m.set_cell_voltage(1, 2, 4_300_000);
            m.set_cell_voltage(0, 15, 2_900_000);
            m.set_temperature(0, 160_000);
        });
        let mut out = vec![Reading::NotConverted; 32];
        $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        let mut f = [Reading::NotConverted; 2];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        let f0 = f[0].valid().unwrap();
        let f1 = f[1].valid().unwrap();
        assert_eq!((f0.overvoltage, f0.undervoltage), (0, 1 << 15));
        assert_eq!((f1.overvoltage, f1.undervoltage), (1 << 2, 0));
        assert!(f0.thermal_shutdown && !f1.thermal_shutdown);
        $w($d.clear_ovuv()).unwrap();
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        assert_eq!(f[1].valid().unwrap().overvoltage, 0);
    }};
}

#[test]
fn balancing_reaches_the_chip_and_flags_decode() {
    both!(Adbms6830b, 2, balancing_and_flags);
}

macro_rules! diagnostics {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        $w($d.configure(CfgA::default(), CfgB::default())).unwrap();
        $sim.with(|m| {
            m.inject(InjectedFault::OpenWire { device: 1, wire: 5 });
            m.set_s_offset(0, 2, 50_000);
            m.set_gpio_open(1, 3, true);
        });
        for path in [AdcPath::C, AdcPath::S] {
            let mut ow = [Reading::NotConverted; 2];
            assert!($w($d.cell_open_wire(path, &mut ow)).unwrap().is_ok());
            // Wire 5 is the top of cell 5 and the bottom of cell 6.
            assert_eq!(
                ow,
                [Reading::Valid(0), Reading::Valid(0b11 << 4)],
                "{path:?}"
            );
        }
        let mut cs = [Reading::NotConverted; 2];
        assert!($w($d.redundancy_check(&mut cs)).unwrap().is_ok());
        assert_eq!(cs, [Reading::Valid(1 << 2), Reading::Valid(0)]);
        let mut aux = [Reading::NotConverted; 2];
        assert!(
            $w($d.aux_open_wire(MicroVolts(1_000_000), &mut aux))
                .unwrap()
                .is_ok()
        );
        assert_eq!(aux, [Reading::Valid(0), Reading::Valid(1 << 2)]);
        // Supply self-check after ADAX all (run by the aux open-wire check).
        let mut sup = [Reading::NotConverted; 2];
        assert!($w($d.read_supplies(&mut sup)).unwrap().is_ok());
        for s in sup {
            let s = s.valid().unwrap();
            assert_eq!(s.out_of_range(), 0);
            assert_eq!(s.vref2, Reading::Valid(MicroVolts(3_000_000)));
            assert!(matches!(s.itmp, Reading::Valid(MilliCelsius(t)) if (t - 25_000).abs() <= 20));
        }
        // COMM group: written per device, read back, then STCOMM (counted).
        let mut c0 = Comm::default();
        c0.0[0] = CommSlot { icom: 0x6, data: 0xA0, fcom: 0x8 };
        let c1 = Comm([CommSlot { icom: 0x0, data: 0x55, fcom: 0x9 }; 3]);
        $w($d.write_comm(&[c0, c1])).unwrap();
        let mut back = [Reading::NotConverted; 2];
        assert!($w($d.read_comm(&mut back)).unwrap().is_ok());
        assert_eq!(back, [Reading::Valid(c0), Reading::Valid(c1)]);
        $w($d.start_comm()).unwrap();
        assert!($w($d.read_comm(&mut back)).unwrap().is_ok());
    }};
}

#[test]
fn diagnostics_find_open_wires_and_mismatches() {
    both!(Adbms6830b, 2, diagnostics);
}

macro_rules! snapshot_and_poll {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        $w($d.start_cell_adc(Adcv::SINGLE)).unwrap();
        $w($d.poll(PollTarget::CAdc, Microseconds(5_000))).unwrap();
        $w($d.snapshot(true)).unwrap();
        $sim.with(|m| m.set_cell_voltage(0, 0, 4_000_000));
        $w($d.start_cell_adc(Adcv::SINGLE)).unwrap();
        $sim.delay().delay_ms(2);
        let mut out = vec![Reading::NotConverted; 16];
        $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert_eq!(out[0], Reading::Valid(MicroVolts(3_600_000)));
        $w($d.snapshot(false)).unwrap();
        $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert_eq!(out[0], Reading::Valid(MicroVolts(4_000_050)));
        // Serial IDs and chain length.
        assert_eq!($w($d.detect_chain_length()).unwrap(), 1);
        let mut ids = [Reading::NotConverted; 1];
        $w($d.read_serial_ids(&mut ids)).unwrap();
        assert_eq!(ids[0].valid().unwrap().device_id(), 0b000011);
        // A poll that never completes is bounded.
        $w($d.start_cell_adc(Adcv {
            redundant: true,
            ..Adcv::SINGLE
        }))
        .unwrap();
        assert!(matches!(
            $w($d.poll(PollTarget::CAdc, Microseconds(1_000))),
            Err(Error::Timeout(_))
        ));
        // The counters still agree after the polls.
        let r = $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert!(r.is_ok());
    }};
}

#[test]
fn snapshot_poll_and_sid() {
    both!(Adbms6830b, 1, snapshot_and_poll);
}

#[test]
fn variant_facts() {
    assert_eq!(Adbms6830b::CELLS, 16);
    assert_eq!(Adbms6832::CELLS, 18);
    const { assert!(!Adbms6832::VERIFIED) };
}

#[test]
fn virtual_chain_checks_pecs_like_the_silicon() {
    use embedded_hal::spi::{Operation, SpiDevice};
    let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
    let mut spi = sim.spi();
    // Two CS frames wake the two devices.
    for _ in 0..2 {
        spi.transaction(&mut [Operation::Write(&[0x00, 0x02, 0x2B, 0x0A])])
            .unwrap();
    }
    assert!(sim.with(|m| m.is_awake()));
    // ADCV single shot with a corrupted command PEC is ignored (adi.md §6.2: 02 60 7C 20).
    spi.transaction(&mut [Operation::Write(&[0x02, 0x60, 0x7C, 0x21])])
        .unwrap();
    assert_eq!(sim.with(|m| (m.bad_commands(), m.counter(0))), (1, Some(0)));
    // WRCFGB default (adi.md §7.3) to both devices, one frame with a wrong PEC10 for
    // device 0 (the second frame on the wire): only device 1 takes it and counts it.
    let mut data = [0x00, 0xF8, 0x7F, 0x00, 0x00, 0x01, 0x03, 0x3D].repeat(2);
    data[8 + 5] = 0x01; // device 0's copy corrupted (PEC no longer matches)
    data[5] = 0x00;
    spi.transaction(&mut [
        Operation::Write(&[0x00, 0x24, 0xB1, 0x9E]),
        Operation::Write(&data),
    ])
    .unwrap();
    assert_eq!(sim.with(|m| m.bad_writes()), 1);
    assert_eq!(
        sim.with(|m| (m.counter(0), m.counter(1))),
        (Some(0), Some(1))
    );
    // A read answers with PEC10 over data and the device's own counter: RDCFGB.
    let mut buf = [0xFFu8; 16];
    spi.transaction(&mut [
        Operation::Write(&[0x00, 0x26, 0x2C, 0xC8]),
        Operation::TransferInPlace(&mut buf),
    ])
    .unwrap();
    // Device 0: default CFGB, CC 0 → PEC 03 3D (adi.md §6.1/§7.3 [D]).
    assert_eq!(&buf[..8], &[0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00, 0x03, 0x3D]);
    // Device 1: CC 1 in PEC0[7:2].
    assert_eq!(buf[14] >> 2, 1);
}
