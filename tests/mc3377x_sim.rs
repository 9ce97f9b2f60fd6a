//! The MC3377x driver against the virtual chips, blocking and async from one body: bring-up,
//! sparse cell maps, conversions, every measured quantity, faults injected at device k,
//! balancing, sleep and wake; TPL chains of 1, 2 and 63, and direct SPI.
#![cfg(feature = "sim")]

use bms_afe::error::{DeviceFault, Error, ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::mc3377x::{Adc1Check, Averaging, Mc3377x, Mc33771c, Mc33772c, Tpl, conversion_time};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Reading};
use bms_afe::sim::mc3377x::{Mc3377xChain, tpl_port};
use bms_afe::sim::{Clock, InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts, MilliCelsius};

mod common;
use common::block_on;

/// A distinct voltage per cell, µV.
fn truth(device: usize, cell: usize) -> i32 {
    3_100_000 + (device as i32) * 13_700 + (cell as i32) * 41_300 + 99
}

/// What the chip reports for `uv`: the code is floor(uv × 2^15 / 5 V), reported as
/// code × 5 V / 2^15 rounded down (written here independently of the crate).
fn reported(uv: i32) -> i32 {
    let code = (i64::from(uv) * 32_768 / 5_000_000).min(0x7FFF);
    (code * 5_000_000 / 32_768) as i32
}

fn seed<V: bms_afe::mc3377x::Variant, const N: usize>(sim: &Sim<Mc3377xChain<V, N>>, cells: usize) {
    sim.with(|c| {
        for d in 0..N {
            for k in 0..cells {
                c.set_cell_voltage(d, k, truth(d, k));
            }
        }
    });
}

fn assert_cells(out: &[Reading<MicroVolts>], cells: usize, skip: &[usize]) {
    for (i, r) in out.iter().enumerate() {
        let (d, k) = (i / cells, i % cells);
        if skip.contains(&d) {
            assert!(
                matches!(r, Reading::Failed(f) if f.device as usize == d),
                "device {d} cell {k}: {r:?}"
            );
            continue;
        }
        assert_eq!(
            *r,
            Reading::Valid(MicroVolts(reported(truth(d, k)))),
            "device {d} cell {k}"
        );
    }
}

macro_rules! bus {
    (tpl, $sim:ident) => {
        tpl_port(&$sim)
    };
    (spi, $sim:ident) => {
        $sim.spi()
    };
}

macro_rules! make {
    (tpl, $v:ty, $n:literal, $io:expr, $cells:expr) => {
        Mc3377x::<$v, Tpl, $n, _>::new_tpl($io, $cells)
    };
    (spi, $v:ty, $n:literal, $io:expr, $cells:expr) => {
        Mc3377x::<$v, bms_afe::mc3377x::Spi, $n, _>::new_spi($io, $cells)
    };
}

macro_rules! both {
    ($test:ident, $v:ty, $tr:ident, $ty:ident, $n:literal, $cells:literal, |$sim:ident, $d:ident| $body:block) => {
        #[test]
        fn $test() {
            {
                #[allow(unused_macros)]
                macro_rules! go {
                    ($e:expr) => {
                        $e
                    };
                }
                let $sim = Sim::new(Mc3377xChain::<$v, $n>::new($cells));
                let mut $d = make!(
                    $tr,
                    $v,
                    $n,
                    Blocking::new(bus!($tr, $sim), $sim.delay()),
                    $cells
                )
                .unwrap();
                block_on(async { $body });
            }
            {
                #[allow(unused_macros)]
                macro_rules! go {
                    ($e:expr) => {
                        $e.await
                    };
                }
                let $sim = Sim::new(Mc3377xChain::<$v, $n>::new($cells));
                let mut $d = make!(
                    $tr,
                    $v,
                    $n,
                    Async::new(bus!($tr, $sim), $sim.delay()),
                    $cells
                )
                .unwrap();
                block_on(async { $body });
            }
        }
    };
}

macro_rules! walk {
    ($test:ident, $v:ty, $tr:ident, $ty:ident, $n:literal, $cells:literal) => {
        both!($test, $v, $tr, $ty, $n, $cells, |sim, d| {
            // Asleep and unassigned: nothing answers, nothing is a voltage.
            d.set_retries(0);
            let mut out = vec![Reading::NotConverted; $n * $cells];
            let r = go!(d.read_cell_voltages(&mut out)).unwrap();
            assert_eq!(r.failed.len(), $n);
            assert!(out.iter().all(|c| !c.is_valid()));
            d.set_retries(2);

            go!(d.init()).unwrap();
            for k in 0..$n {
                assert_eq!(sim.with(|c| c.cid(k)), Some(k as u8 + 1));
            }
            // Fresh registers: DATA_RDY clear, not converted.
            assert!(go!(d.read_cell_voltages(&mut out)).unwrap().is_ok());
            assert!(out.iter().all(|c| *c == Reading::NotConverted));

            seed(&sim, $cells);
            let r = go!(d.measure_cells(ConversionMode::Normal, &mut out)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            assert_cells(&out, $cells, &[]);

            // A start, then a read before the conversion ended: not converted, never stale.
            // (64 samples: 41.6 ms, longer than reading 63 devices takes.)
            let avg = Averaging::new(6).unwrap();
            go!(d.start_conversion(avg)).unwrap();
            assert!(go!(d.is_converting(0)).unwrap());
            go!(d.read_cell_voltages(&mut out)).unwrap();
            assert!(out.iter().all(|c| *c == Reading::NotConverted));
            sim.with(|c| c.advance_ns(u64::from(conversion_time(avg).0) * 1_000));
            assert!(!go!(d.is_converting(0)).unwrap());
            assert!(go!(d.read_cell_voltages(&mut out)).unwrap().is_ok());
            assert_cells(&out, $cells, &[]);

            // Stack = sum of the cells within one stack LSB (2.44 mV) plus one cell LSB each.
            let mut st = vec![Reading::NotConverted; $n];
            assert!(go!(d.read_stack_voltages(&mut st)).unwrap().is_ok());
            for (k, s) in st.iter().enumerate() {
                let sum: i32 = (0..$cells).map(|c| truth(k, c)).sum();
                let v = s.valid().unwrap().0;
                assert!(
                    (v - sum).abs() <= 2_442 + 153 * $cells,
                    "device {k}: {v} vs {sum}"
                );
            }
            // IC temperature, 0.032 K per LSB.
            sim.with(|c| c.set_temperature($n - 1, 41_500));
            let mut t = vec![Reading::NotConverted; $n];
            assert!(go!(d.measure_temperatures(&mut t)).unwrap().is_ok());
            let last = t[$n - 1].valid().unwrap();
            assert!((last.0 - 41_500).abs() <= 32, "{last:?}");
            assert!(
                t.iter()
                    .all(|x| x.valid().is_some_and(|v: MilliCelsius| v.0 > 20_000))
            );
        });
    };
}

walk!(tpl_one_mc33771c, Mc33771c, tpl, Tpl, 1, 14);
walk!(tpl_two_mc33771c, Mc33771c, tpl, Tpl, 2, 14);
walk!(tpl_63_mc33771c_full_capacity, Mc33771c, tpl, Tpl, 63, 14);
walk!(tpl_three_mc33771c_seven_cells, Mc33771c, tpl, Tpl, 3, 7);
walk!(tpl_two_mc33772c_three_cells, Mc33772c, tpl, Tpl, 2, 3);
walk!(spi_mc33771c, Mc33771c, spi, Spi, 1, 14);
walk!(spi_mc33772c_five_cells, Mc33772c, spi, Spi, 1, 5);

both!(
    tpl_crc_corruption_at_device_k_fails_only_k,
    Mc33771c,
    tpl,
    Tpl,
    5,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        seed(&sim, 14);
        let mut out = vec![Reading::NotConverted; 5 * 14];
        for k in [0usize, 2, 4] {
            sim.with(|c| {
                c.clear_faults();
                c.inject(InjectedFault::CorruptResponses {
                    device: k as u8,
                    seed: 7 + k as u32,
                    frames: u32::MAX,
                })
            });
            let r = go!(d.measure_cells(ConversionMode::Fast, &mut out)).unwrap();
            assert_eq!(r.failed.0, 1 << k);
            assert!(
                matches!(r.first_fault, Some(DeviceFault { device, reason: FaultReason::Crc { .. } }) if device as usize == k)
            );
            assert_cells(&out, 14, &[k]);
        }
        sim.with(|c| c.clear_faults());
        assert!(
            go!(d.measure_cells(ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_cells(&out, 14, &[]);
    }
);

both!(
    tpl_counter_skip_at_device_k_fails_k_until_a_new_conversion,
    Mc33771c,
    tpl,
    Tpl,
    4,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        seed(&sim, 14);
        let mut out = vec![Reading::NotConverted; 4 * 14];
        assert!(
            go!(d.measure_cells(ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        sim.with(|c| c.skip_counter(2));
        let r = go!(d.read_cell_voltages(&mut out)).unwrap();
        assert_eq!(r.failed.0, 1 << 2);
        assert!(matches!(
            r.first_fault,
            Some(DeviceFault {
                device: 2,
                reason: FaultReason::CommandCounter { .. }
            })
        ));
        assert_cells(&out, 14, &[2]);
        // Its frames are fine again, but its values stay failed until a new conversion.
        let r = go!(d.read_cell_voltages(&mut out)).unwrap();
        assert_eq!(r.failed.0, 1 << 2);
        assert!(
            go!(d.measure_cells(ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_cells(&out, 14, &[]);
    }
);

both!(
    spi_counter_skip_fails_the_device,
    Mc33771c,
    spi,
    Spi,
    1,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        seed(&sim, 14);
        let mut out = vec![Reading::NotConverted; 14];
        assert!(
            go!(d.measure_cells(ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        sim.with(|c| c.skip_counter(0));
        let r = go!(d.read_cell_voltages(&mut out)).unwrap();
        assert!(matches!(
            r.first_fault,
            Some(DeviceFault {
                device: 0,
                reason: FaultReason::CommandCounter { .. }
            })
        ));
        assert!(out.iter().all(|c| !c.is_valid()));
        assert!(
            go!(d.measure_cells(ConversionMode::Fast, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_cells(&out, 14, &[]);
    }
);

both!(
    tpl_silent_and_broken_chain,
    Mc33771c,
    tpl,
    Tpl,
    6,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        seed(&sim, 14);
        let mut out = vec![Reading::NotConverted; 6 * 14];
        sim.with(|c| c.inject(InjectedFault::Silent { device: 3 }));
        let t0 = sim.with(|c| c.elapsed_ns()).unwrap();
        let r = go!(d.measure_cells(ConversionMode::Fast, &mut out)).unwrap();
        let t1 = sim.with(|c| c.elapsed_ns()).unwrap();
        assert_eq!(r.failed.0, 1 << 3);
        assert!(matches!(
            r.first_fault,
            Some(DeviceFault {
                device: 3,
                reason: FaultReason::NoResponse
            })
        ));
        assert!(t1 - t0 < 50_000_000, "bounded: {} ns", t1 - t0);
        sim.with(|c| {
            c.clear_faults();
            c.inject(InjectedFault::BreakAfter { after: 1 })
        });
        let r = go!(d.measure_cells(ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.failed.0, 0b11_1100);
        assert_cells(&out, 14, &[2, 3, 4, 5]);
    }
);

both!(
    detect_chain_length_finds_the_real_chain,
    Mc33771c,
    tpl,
    Tpl,
    5,
    14,
    |sim, d| {
        let _ = &sim;
        assert_eq!(go!(d.detect_chain_length()).unwrap(), 5);
    }
);

#[test]
fn init_of_a_longer_chain_than_present_names_the_first_missing_device() {
    let sim = Sim::new(Mc3377xChain::<Mc33771c, 3>::new(14));
    let mut d =
        Mc3377x::<Mc33771c, Tpl, 5, _>::new_tpl(Blocking::new(tpl_port(&sim), sim.delay()), 14)
            .unwrap();
    assert_eq!(d.detect_chain_length(), Ok(3));
    let e = d.init().unwrap_err();
    assert_eq!(e.device(), Some(3));
    assert_eq!(e.kind(), ErrorKind::NoResponse);
}

both!(
    sleep_and_wake_reinitialise,
    Mc33771c,
    tpl,
    Tpl,
    3,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        go!(d.sleep()).unwrap();
        assert!(!sim.with(|c| c.is_awake()));
        go!(d.wake()).unwrap();
        assert!(sim.with(|c| c.is_awake()));
        seed(&sim, 14);
        let mut out = vec![Reading::NotConverted; 3 * 14];
        assert!(
            go!(d.measure_cells(ConversionMode::Filtered, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_cells(&out, 14, &[]);
        // Awake and assigned: wake keeps everything (no reset: the CIDs stay).
        go!(d.wake()).unwrap();
        assert!(go!(d.read_cell_voltages(&mut out)).unwrap().is_ok());
        assert_cells(&out, 14, &[]);
    }
);

both!(
    current_coulomb_counter_and_analog_inputs,
    Mc33771c,
    tpl,
    Tpl,
    2,
    14,
    |sim, d| {
        d.set_shunt(100).unwrap();
        go!(d.init()).unwrap();
        sim.with(|c| c.set_current(-25_000_000));
        // -25 A × 100 µΩ = -2.5 mV = -4166.67 codes of 0.6 µV → -4166 → -24.996 A.
        assert_eq!(go!(d.read_current()).unwrap(), Some(MicroAmps(-24_996_000)));
        let cc = go!(d.read_coulomb_counter(0)).unwrap();
        assert_eq!((cc.count, cc.samples), (-4166, 1));
        assert_eq!(cc.average, Some(MicroAmps(-24_996_000)));
        assert_eq!(go!(d.read_isense()).unwrap(), Reading::Valid(-4166));
        // AN0..AN6 read 0x4000: 2.5 V absolute; × VCOM 5000 mV / 32767 ratiometric on MC33771C.
        let mut an = vec![Reading::NotConverted; 14];
        assert!(go!(d.read_an(&mut an, None)).unwrap().is_ok());
        assert!(
            an.iter()
                .all(|a| *a == Reading::Valid(MicroVolts(2_500_000)))
        );
        go!(d.read_an(&mut an, Some(5000))).unwrap();
        assert!(
            an.iter()
                .all(|a| *a == Reading::Valid(MicroVolts(2_500_076)))
        );
        let (ot, ut) =
            go!(d.set_an_thresholds(3, MicroVolts(1_000_000), MicroVolts(4_000_000))).unwrap();
        assert_eq!((ot, ut), (MicroVolts(995_520), MicroVolts(3_996_720)));
        assert_eq!(sim.with(|c| c.register(1, 0x5D)), Some(204));
    }
);

both!(
    balancing_and_ov_uv_flags_on_a_sparse_device,
    Mc33771c,
    tpl,
    Tpl,
    2,
    8,
    |sim, d| {
        d.set_cell_thresholds(MicroVolts(4_200_000), MicroVolts(2_500_000))
            .unwrap();
        go!(d.init()).unwrap();
        // Cells 5..8 sit on inputs CT11..CT14: bit 4 is CT11, bit 7 CT14.
        go!(d.set_balancing(&[0b1001_0001, 0b0100_0010])).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 0b1001_0001);
        assert_eq!(sim.with(|c| c.balancing(1)), 0b0100_0010);
        assert_eq!(
            sim.with(|c| c.register(0, 0x0C + 10)).map(|v| v >> 9),
            Some(1)
        );
        let bad = go!(d.set_balancing(&[1 << 8, 0]));
        assert!(matches!(bad, Err(Error::Config(_))));
        go!(d.set_balancing(&[0, 0])).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0) | c.balancing(1)), 0);

        sim.with(|c| {
            for dd in 0..2 {
                for k in 0..8 {
                    c.set_cell_voltage(dd, k, 3_600_000)
                }
            }
            c.set_cell_voltage(1, 5, 4_300_000);
            c.set_cell_voltage(0, 7, 2_400_000);
        });
        let mut cells = vec![Reading::NotConverted; 16];
        go!(d.measure_cells(ConversionMode::Fast, &mut cells)).unwrap();
        let mut f = vec![Reading::NotConverted; 2];
        assert!(go!(d.read_faults(&mut f)).unwrap().is_ok());
        let (f0, f1) = (f[0].valid().unwrap(), f[1].valid().unwrap());
        assert_eq!((f0.overvoltage, f0.undervoltage), (0, 1 << 7));
        assert_eq!((f1.overvoltage, f1.undervoltage), (1 << 5, 0));
        assert!(go!(d.clear_faults()).unwrap().is_ok());
        go!(d.read_faults(&mut f)).unwrap();
        assert_eq!(f[1].valid().unwrap().overvoltage, 0);
    }
);

both!(
    diagnostics_status_adc1_cross_check_and_pause,
    Mc33771c,
    tpl,
    Tpl,
    3,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        go!(d.set_balancing(&[0b101, 0, 0])).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 0b101);
        go!(d.pause_balancing(true)).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 0);
        go!(d.pause_balancing(false)).unwrap();
        assert_eq!(sim.with(|c| c.balancing(0)), 0b101);

        // Flags the chip would raise: a GPIO short / AN open on device 1, a balancing open load on
        // input CT3 of device 2, a communication error count on device 0.
        sim.with(|c| {
            c.set_register(1, 0x21, 0x0104);
            c.set_register(2, 0x1A, 1 << 2);
            c.set_register(0, 0x23, 0x0300);
            c.set_register(0, 0x24, 1 << 9);
        });
        let mut st = vec![Reading::NotConverted; 3];
        assert!(go!(d.read_status(&mut st)).unwrap().is_ok());
        let s: Vec<_> = st.iter().map(|r| r.valid().unwrap()).collect();
        assert_eq!(s[1].gpio_short_an_open, 0x0104);
        assert_eq!(s[2].cb_open, 1 << 2);
        assert_eq!(s[0].com_status, 0x0300);
        assert!(
            s[0].fault1
                .contains(bms_afe::mc3377x::register::Fault1::COM_ERR)
        );
        assert_eq!(s[1].cb_open | s[0].cb_open, 0);

        // ADC1-B drifts by 2 mV on device 2: outside a 1 mV tolerance there only.
        sim.with(|c| c.set_adc1b_offset(2, 2_000));
        let mut cells = vec![Reading::NotConverted; 42];
        go!(d.measure_cells(ConversionMode::Fast, &mut cells)).unwrap();
        let mut x = vec![Reading::NotConverted; 3];
        assert!(
            go!(d.adc1_cross_check(&mut x, MicroVolts(1_000)))
                .unwrap()
                .is_ok()
        );
        let agree: Vec<bool> = x
            .iter()
            .map(|r| r.valid().map(|c: Adc1Check| c.agree).unwrap())
            .collect();
        assert_eq!(agree, [true, true, false]);
        let c0 = x[0].valid().unwrap();
        assert!((c0.adc1_a.0 - 1_180_000).abs() <= 153 && c0.adc1_a == c0.adc1_b);
    }
);

both!(
    comm_timeout_and_cb_timer_reach_the_registers,
    Mc33772c,
    tpl,
    Tpl,
    2,
    6,
    |sim, d| {
        d.set_comm_timeout(2).unwrap();
        assert!(d.set_comm_timeout(4).is_err());
        assert_eq!(d.set_cb_timer(0x0A5), Ok(0x0A5));
        assert!(d.set_cb_timer(0x200).is_err());
        go!(d.init()).unwrap();
        // SYS_CFG2 TIMEOUT_COMM[5:4] = 2 on every device.
        for k in 0..2 {
            assert_eq!(
                sim.with(|c| c.register(k, 0x04)).map(|v| (v >> 4) & 3),
                Some(2)
            );
        }
        go!(d.set_balancing(&[0b10_0000, 0])).unwrap();
        // Cell 6 of an MC33772C with six cells is CT6: CB6_CFG (0x11) = CB_EN | 0x0A5.
        assert_eq!(sim.with(|c| c.register(0, 0x11)), Some(0x0200 | 0x0A5));
    }
);

#[test]
fn spi_wake_is_a_csb_pulse_and_reinitialises_a_sleeping_device() {
    let sim = Sim::new(Mc3377xChain::<Mc33771c, 1>::new(14));
    let mut d = Mc3377x::<Mc33771c, bms_afe::mc3377x::Spi, 1, _>::new_spi(
        Blocking::new(sim.spi(), sim.delay()),
        14,
    )
    .unwrap();
    d.wake().unwrap();
    assert!(sim.with(|c| c.is_awake()));
    assert_eq!(sim.with(|c| c.cid(0)), Some(1));
    sim.with(|c| c.sleep());
    d.wake().unwrap();
    assert_eq!(sim.with(|c| c.cid(0)), Some(1));
    let mut out = [Reading::NotConverted; 14];
    seed(&sim, 14);
    assert!(
        CellMonitor::measure_cells(&mut d, ConversionMode::Fast, &mut out)
            .unwrap()
            .is_ok()
    );
    assert_cells(&out, 14, &[]);
}

both!(
    end_of_conversion_wait_is_bounded,
    Mc33771c,
    tpl,
    Tpl,
    2,
    14,
    |sim, d| {
        go!(d.init()).unwrap();
        seed(&sim, 14);
        let avg = Averaging::new(3).unwrap();
        go!(d.start_conversion(avg)).unwrap();
        let t0 = sim.with(|c| c.elapsed_ns()).unwrap();
        go!(d.wait_conversion(avg)).unwrap();
        let t1 = sim.with(|c| c.elapsed_ns()).unwrap();
        // The model takes the full 650 µs × 8 bound; the wait ends within a poll of it.
        assert!(
            t1 - t0 >= 5_200_000 - 100_000 && t1 - t0 <= 5_200_000 + 400_000,
            "{}",
            t1 - t0
        );
        assert!(!go!(d.is_converting(1)).unwrap());
        let mut out = vec![Reading::NotConverted; 28];
        assert!(go!(d.read_cell_voltages(&mut out)).unwrap().is_ok());
        assert_cells(&out, 14, &[]);
        // A device that never finishes (silent: EOC_N cannot be read) ends in an error, bounded.
        go!(d.start_conversion(avg)).unwrap();
        sim.with(|c| c.inject(InjectedFault::Silent { device: 1 }));
        let e = go!(d.wait_conversion(avg)).unwrap_err();
        assert_eq!(e.device(), Some(1));
    }
);
