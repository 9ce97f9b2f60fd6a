//! Behaviour of the BQ79616 driver against the virtual BQ79600 + BQ79616 stack, blocking and
//! async from one body: bring-up, measurement, integrity faults, silent devices, broken cables
//! and ring recovery, balancing, protection, stacks of 1, 2 and 16.
#![cfg(feature = "sim")]

use bms_afe::bq79616::{Bq79612Q1, Bq79616, Bq79616Q1, RingStatus, Variant};
use bms_afe::error::{ConfigError, ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking, Serial};
use bms_afe::monitor::{
    AsyncCellMonitor, CellMonitor, ChainReport, ConversionMode, Faults, Reading,
};
use bms_afe::sim::bq79616::Bq79616Stack;
use bms_afe::sim::{Clock, InjectedFault, Sim, SimDelay, SimError, SimLine, SimUart, VirtualChip};
use bms_afe::units::{MicroVolts, MilliCelsius};

mod common;
use common::block_on;

type R<T> = Result<T, bms_afe::Error<SimError>>;

/// The driver operations the tests use, implemented for the blocking and the async driver so
/// each test body is written once (an `async fn` generic over this trait) and run for both.
#[allow(async_fn_in_trait)]
trait Drv {
    fn set_active_cells(&mut self, c: u8) -> Result<u8, ConfigError>;
    fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError>;
    fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError>;
    fn reachable_devices(&self) -> u8;
    fn is_split(&self) -> bool;
    async fn bring_up(&mut self) -> R<()>;
    async fn recover_ring(&mut self) -> R<RingStatus>;
    async fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport>;
    async fn clear_faults(&mut self) -> R<()>;
    async fn shutdown(&mut self) -> R<()>;
    async fn measure_cells(
        &mut self,
        m: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> R<ChainReport>;
    async fn read_cell_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport>;
    async fn measure_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> R<ChainReport>;
    async fn measure_stack_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport>;
    async fn set_balancing(&mut self, masks: &[u32]) -> R<()>;
    async fn read_faults(&mut self, out: &mut [Reading<Faults>]) -> R<ChainReport>;
    async fn read_gpio_ratio(&mut self, gpio: u8, out: &mut [Reading<u32>]) -> R<ChainReport>;
}

macro_rules! drv_impl {
    ($wrap:ident, $mon:ident, $($aw:tt)*) => {
        impl<'a, V: Variant, const N: usize> Drv
            for Bq79616<V, N, $wrap<Serial<SimUart<'a, Bq79616Stack<N>>, SimLine<'a, Bq79616Stack<N>>>, SimDelay<'a, Bq79616Stack<N>>>>
        {
            fn set_active_cells(&mut self, c: u8) -> Result<u8, ConfigError> { self.set_active_cells(c) }
            fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> { self.set_overvoltage(v) }
            fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> { self.set_undervoltage(v) }
            fn reachable_devices(&self) -> u8 { self.reachable_devices() }
            fn is_split(&self) -> bool { self.is_split() }
            async fn bring_up(&mut self) -> R<()> { self.bring_up() $($aw)* }
            async fn recover_ring(&mut self) -> R<RingStatus> { self.recover_ring() $($aw)* }
            async fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport> { self.read_cells(out) $($aw)* }
            async fn clear_faults(&mut self) -> R<()> { self.clear_faults() $($aw)* }
            async fn shutdown(&mut self) -> R<()> { self.shutdown() $($aw)* }
            async fn measure_cells(&mut self, m: ConversionMode, out: &mut [Reading<MicroVolts>]) -> R<ChainReport> { $mon::measure_cells(self, m, out) $($aw)* }
            async fn read_cell_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport> { $mon::read_cell_voltages(self, out) $($aw)* }
            async fn measure_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> R<ChainReport> { $mon::measure_temperatures(self, out) $($aw)* }
            async fn measure_stack_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> R<ChainReport> { $mon::measure_stack_voltages(self, out) $($aw)* }
            async fn set_balancing(&mut self, masks: &[u32]) -> R<()> { $mon::set_balancing(self, masks) $($aw)* }
            async fn read_faults(&mut self, out: &mut [Reading<Faults>]) -> R<ChainReport> { $mon::read_faults(self, out) $($aw)* }
            async fn read_gpio_ratio(&mut self, gpio: u8, out: &mut [Reading<u32>]) -> R<ChainReport> { self.read_gpio_ratio(gpio, out) $($aw)* }
        }
    };
}
drv_impl!(Blocking, CellMonitor,);
drv_impl!(Async, AsyncCellMonitor, .await);

/// Runs `$body` (an async block using `$sim` and `$d: impl Drv`) with a blocking and then an
/// async driver, each over a fresh virtual stack built by `$stack`.
macro_rules! both {
    ($v:ty, $n:literal, $stack:expr, |$sim:ident, $d:ident| $body:block) => {
        both!($v, $n, new_bridge, $stack, |$sim, $d| $body)
    };
    ($v:ty, $n:literal, $new:ident, $stack:expr, |$sim:ident, $d:ident| $body:block) => {{
        {
            let $sim = Sim::new($stack);
            let d = Bq79616::<$v, $n, _>::$new(Blocking::new($sim.serial(), $sim.delay()));
            block_on(async {
                #[allow(unused_mut)]
                let mut $d = d;
                $body
            });
        }
        {
            let $sim = Sim::new($stack);
            let d = Bq79616::<$v, $n, _>::$new(Async::new($sim.serial(), $sim.delay()));
            block_on(async {
                #[allow(unused_mut)]
                let mut $d = d;
                $body
            });
        }
    }};
}

fn set_cells<const N: usize>(s: &mut Bq79616Stack<N>, cells: usize) {
    for d in 0..N {
        for c in 0..cells {
            s.set_cell_voltage(d, c, 3_000_000 + 10_000 * c as i32 + 1_000 * d as i32);
        }
    }
}

fn near(r: Reading<MicroVolts>, uv: i32) -> bool {
    matches!(r, Reading::Valid(v) if (v.0 - uv).abs() <= 96)
}

#[test]
fn bring_up_addresses_every_device_and_reads_cells() {
    both!(Bq79616Q1, 2, Bq79616Stack::<2>::bridge(16), |sim, d| {
        sim.with(|s| set_cells(s, 16));
        Drv::bring_up(&mut d).await.unwrap();
        assert_eq!(Drv::reachable_devices(&d), 2);
        assert_eq!(sim.with(|s| s.address(0)), Some(1));
        assert_eq!(sim.with(|s| s.address(1)), Some(2));
        assert_eq!(sim.with(|s| s.comm_ctrl(0)), Some(0x02));
        assert_eq!(sim.with(|s| s.comm_ctrl(1)), Some(0x03));
        assert_eq!(sim.with(|s| s.active_cells(1)), Some(16));
        // Nothing converted yet: 0x8000 is not a voltage.
        let mut out = [Reading::Valid(MicroVolts(-1)); 32];
        let r = Drv::read_cells(&mut d, &mut out).await.unwrap();
        assert!(r.is_ok());
        assert!(out.iter().all(|c| *c == Reading::NotConverted));
        let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
            .await
            .unwrap();
        assert!(r.is_ok());
        for dev in 0..2 {
            for c in 0..16 {
                let want = 3_000_000 + 10_000 * c as i32 + 1_000 * dev as i32;
                assert!(
                    near(out[dev * 16 + c], want),
                    "dev {dev} cell {c}: {:?}",
                    out[dev * 16 + c]
                );
            }
        }
    });
}

#[test]
fn fewer_active_cells_read_the_right_registers() {
    both!(Bq79612Q1, 1, Bq79616Stack::<1>::bridge(10), |sim, d| {
        sim.with(|s| set_cells(s, 16));
        assert!(
            Drv::set_active_cells(&mut d, 13).is_err(),
            "BQ79612 has 12 cells"
        );
        assert_eq!(Drv::set_active_cells(&mut d, 10), Ok(10));
        Drv::bring_up(&mut d).await.unwrap();
        assert_eq!(sim.with(|s| s.active_cells(0)), Some(10));
        let mut out = [Reading::NotConverted; 10];
        let r = Drv::measure_cells(&mut d, ConversionMode::Fast, &mut out)
            .await
            .unwrap();
        assert!(r.is_ok());
        for (c, v) in out.iter().enumerate() {
            assert!(near(*v, 3_000_000 + 10_000 * c as i32), "cell {c}: {v:?}");
        }
        let mut wrong = [Reading::NotConverted; 11];
        assert_eq!(
            Drv::read_cell_voltages(&mut d, &mut wrong)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
    });
}

#[test]
fn corrupted_device_fails_alone_and_is_named() {
    both!(Bq79616Q1, 16, Bq79616Stack::<16>::bridge(16), |sim, d| {
        sim.with(|s| set_cells(s, 16));
        Drv::bring_up(&mut d).await.unwrap();
        sim.with(|s| {
            s.inject(InjectedFault::CorruptResponses {
                device: 7,
                seed: 99,
                frames: u32::MAX,
            })
        });
        let mut out = [Reading::NotConverted; 256];
        let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
            .await
            .unwrap();
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), [7]);
        let f = r.first_fault.unwrap();
        assert_eq!(f.device, 7);
        assert!(
            matches!(f.reason, FaultReason::Pec { .. } | FaultReason::Framing),
            "{f:?}"
        );
        for (i, c) in out.iter().enumerate() {
            if i / 16 == 7 {
                assert!(matches!(c, Reading::Failed(x) if x.device == 7));
            } else {
                assert!(c.is_valid(), "cell {i}");
            }
        }
        // A transient flip is retried away.
        sim.with(|s| {
            s.clear_faults();
            s.inject(InjectedFault::CorruptResponses {
                device: 3,
                seed: 5,
                frames: 1,
            })
        });
        let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
            .await
            .unwrap();
        assert!(r.is_ok());
    });
}

#[test]
fn silent_device_is_no_response_and_bounded() {
    both!(Bq79616Q1, 16, Bq79616Stack::<16>::bridge(16), |sim, d| {
        sim.with(|s| set_cells(s, 16));
        Drv::bring_up(&mut d).await.unwrap();
        sim.with(|s| s.inject(InjectedFault::Silent { device: 5 }));
        let t0 = sim.with(|s| s.elapsed_ns().unwrap());
        let mut out = [Reading::NotConverted; 256];
        let r = Drv::read_cell_voltages(&mut d, &mut out).await.unwrap();
        let spent = sim.with(|s| s.elapsed_ns().unwrap()) - t0;
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), [5]);
        assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);
        assert!(spent < 100_000_000, "took {spent} ns");
    });
}

#[test]
fn broken_cable_then_ring_recovery_reads_every_device() {
    both!(
        Bq79616Q1,
        16,
        Bq79616Stack::<16>::bridge(16).with_ring(),
        |sim, d| {
            sim.with(|s| set_cells(s, 16));
            Drv::bring_up(&mut d).await.unwrap();
            let mut out = [Reading::NotConverted; 256];
            Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
                .await
                .unwrap();
            // Cable between devices 9 and 10 (index) cut.
            sim.with(|s| s.inject(InjectedFault::BreakAfter { after: 9 }));
            let r = Drv::read_cell_voltages(&mut d, &mut out).await.unwrap();
            assert_eq!(
                r.failed.iter().collect::<Vec<_>>(),
                (10..16).collect::<Vec<_>>()
            );
            assert_eq!(r.first_fault.unwrap().device, 10);
            let ring = Drv::recover_ring(&mut d).await.unwrap();
            assert!(!ring.intact);
            assert_eq!(ring.break_after, Some(9));
            assert_eq!(ring.forward, 10);
            assert_eq!(ring.reverse, 6);
            assert!(ring.unreachable.is_empty());
            assert!(Drv::is_split(&d));
            for dev in 10..16 {
                assert!(sim.with(|s| s.is_reversed(dev)));
                assert_eq!(sim.with(|s| s.reverse_address(dev)), Some(dev as u8 + 1));
            }
            sim.with(|s| set_cells(s, 16));
            let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
                .await
                .unwrap();
            assert!(r.is_ok(), "{r:?}");
            for dev in 0..16 {
                for c in 0..16 {
                    let want = 3_000_000 + 10_000 * c as i32 + 1_000 * dev as i32;
                    assert!(near(out[dev * 16 + c], want), "dev {dev} cell {c}");
                }
            }
            // Without a ring wire, recovery reports the break and the far devices stay failed.
        }
    );
}

#[test]
fn broken_cable_without_ring_reports_unreachable() {
    both!(Bq79616Q1, 4, Bq79616Stack::<4>::bridge(16), |sim, d| {
        Drv::bring_up(&mut d).await.unwrap();
        sim.with(|s| s.inject(InjectedFault::BreakAfter { after: 1 }));
        let ring = Drv::recover_ring(&mut d).await.unwrap();
        assert_eq!(ring.break_after, Some(1));
        assert_eq!(ring.reverse, 0);
        // Nothing broken: nothing changes.
        sim.with(|s| s.clear_faults());
        Drv::bring_up(&mut d).await.unwrap();
        let ring = Drv::recover_ring(&mut d).await.unwrap();
        assert!(ring.intact && ring.break_after.is_none() && !Drv::is_split(&d));
        sim.with(|s| s.inject(InjectedFault::BreakAfter { after: 1 }));
        let ring = Drv::recover_ring(&mut d).await.unwrap();
        assert_eq!(ring.unreachable.iter().collect::<Vec<_>>(), [2, 3]);
        let mut out = [Reading::NotConverted; 64];
        let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
            .await
            .unwrap();
        assert_eq!(r.failed.iter().collect::<Vec<_>>(), [2, 3]);
    });
}

#[test]
fn temperatures_stack_and_faults() {
    both!(Bq79616Q1, 2, Bq79616Stack::<2>::bridge(16), |sim, d| {
        sim.with(|s| {
            set_cells(s, 16);
            s.set_temperature(0, 31_000);
            s.set_temperature(1, -5_000);
        });
        Drv::set_overvoltage(&mut d, MicroVolts(4_200_000)).unwrap();
        assert_eq!(
            Drv::set_undervoltage(&mut d, MicroVolts(2_810_000)),
            Ok(MicroVolts(2_850_000))
        );
        Drv::bring_up(&mut d).await.unwrap();
        let mut t = [Reading::NotConverted; 2];
        Drv::measure_temperatures(&mut d, &mut t).await.unwrap();
        assert_eq!(
            t,
            [
                Reading::Valid(MilliCelsius(31_000)),
                Reading::Valid(MilliCelsius(-5_000))
            ]
        );
        let mut st = [Reading::NotConverted; 2];
        assert!(
            Drv::measure_stack_voltages(&mut d, &mut st)
                .await
                .unwrap()
                .is_ok()
        );
        let want: i32 = (0..16).map(|c| 3_000_000 + 10_000 * c).sum();
        assert!(matches!(st[0], Reading::Valid(v) if (v.0 - want).abs() <= 16 * 96));
        // Cell 5 of device 1 over OV, cell 2 of device 0 under UV.
        sim.with(|s| {
            s.set_cell_voltage(1, 4, 4_300_000);
            s.set_cell_voltage(0, 1, 2_700_000);
        });
        let mut cells = [Reading::NotConverted; 32];
        Drv::measure_cells(&mut d, ConversionMode::Normal, &mut cells)
            .await
            .unwrap();
        let mut f = [Reading::NotConverted; 2];
        assert!(Drv::read_faults(&mut d, &mut f).await.unwrap().is_ok());
        let f0 = f[0].valid().unwrap();
        let f1 = f[1].valid().unwrap();
        assert_eq!((f0.overvoltage, f0.undervoltage), (0, 1 << 1));
        assert_eq!((f1.overvoltage, f1.undervoltage), (1 << 4, 0));
        Drv::clear_faults(&mut d).await.unwrap();
        sim.with(|s| set_cells(s, 16));
        Drv::measure_cells(&mut d, ConversionMode::Normal, &mut cells)
            .await
            .unwrap();
        Drv::read_faults(&mut d, &mut f).await.unwrap();
        assert!(!f[0].valid().unwrap().any() && !f[1].valid().unwrap().any());
    });
}

#[test]
fn balancing_rules_and_read_back() {
    both!(Bq79616Q1, 2, Bq79616Stack::<2>::bridge(16), |sim, d| {
        Drv::bring_up(&mut d).await.unwrap();
        Drv::set_balancing(&mut d, &[0b1010_0101, 1 << 15])
            .await
            .unwrap();
        assert_eq!(sim.with(|s| s.balancing(0)), 0b1010_0101);
        assert_eq!(sim.with(|s| s.balancing(1)), 1 << 15);
        let e = Drv::set_balancing(&mut d, &[0b11, 0]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!(
            sim.with(|s| s.balancing(0)),
            0b1010_0101,
            "a refused mask changes nothing"
        );
        assert_eq!(
            Drv::set_balancing(&mut d, &[1 << 16, 0])
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::Config
        );
        Drv::set_balancing(&mut d, &[0, 0]).await.unwrap();
        assert_eq!(sim.with(|s| s.balancing(0) | s.balancing(1)), 0);
    });
}

#[test]
fn shutdown_then_bring_up_again() {
    both!(Bq79616Q1, 3, Bq79616Stack::<3>::bridge(16), |sim, d| {
        sim.with(|s| set_cells(s, 16));
        Drv::bring_up(&mut d).await.unwrap();
        assert!(sim.with(|s| s.is_awake()));
        Drv::shutdown(&mut d).await.unwrap();
        assert!(!sim.with(|s| s.is_awake()));
        let mut out = [Reading::Valid(MicroVolts(0)); 48];
        let r = Drv::read_cell_voltages(&mut d, &mut out).await.unwrap();
        assert_eq!(r.failed.len(), 3);
        assert!(
            out.iter()
                .all(|c| matches!(c, Reading::Failed(f) if f.reason == FaultReason::NoResponse))
        );
        Drv::bring_up(&mut d).await.unwrap();
        let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
            .await
            .unwrap();
        assert!(r.is_ok());
        assert!(near(out[47], 3_000_000 + 150_000 + 2_000));
    });
}

#[test]
fn gpio_ratio_is_independent_of_the_lsb() {
    both!(Bq79616Q1, 2, Bq79616Stack::<2>::bridge(16), |sim, d| {
        Drv::bring_up(&mut d).await.unwrap();
        let mut r = [Reading::NotConverted; 2];
        assert!(
            Drv::read_gpio_ratio(&mut d, 3, &mut r)
                .await
                .unwrap()
                .is_ok()
        );
        // The virtual stack reports TSREF 0x4000 and every GPIO 0x2000.
        assert_eq!(r, [Reading::Valid(500_000); 2]);
        assert_eq!(
            Drv::read_gpio_ratio(&mut d, 9, &mut r)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
        let _ = &sim;
    });
}

#[test]
fn base_device_without_bridge() {
    both!(
        Bq79616Q1,
        3,
        new_base,
        Bq79616Stack::<3>::base(16),
        |sim, d| {
            sim.with(|s| set_cells(s, 16));
            Drv::bring_up(&mut d).await.unwrap();
            assert_eq!(Drv::reachable_devices(&d), 3);
            assert_eq!(sim.with(|s| s.address(0)), Some(0));
            assert_eq!(sim.with(|s| s.address(2)), Some(2));
            // The base is not a stack device; the top is marked.
            assert_eq!(sim.with(|s| s.comm_ctrl(0)), Some(0x00));
            assert_eq!(sim.with(|s| s.comm_ctrl(2)), Some(0x03));
            let mut out = [Reading::NotConverted; 48];
            let r = Drv::measure_cells(&mut d, ConversionMode::Normal, &mut out)
                .await
                .unwrap();
            assert!(r.is_ok());
            for dev in 0..3 {
                assert!(near(out[dev * 16], 3_000_000 + 1_000 * dev as i32));
            }
            sim.with(|s| {
                s.inject(InjectedFault::CorruptResponses {
                    device: 0,
                    seed: 3,
                    frames: u32::MAX,
                })
            });
            let r = Drv::read_cell_voltages(&mut d, &mut out).await.unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), [0]);
        }
    );
}

#[test]
fn sixteen_device_bring_up_waits_the_wake_time() {
    both!(Bq79616Q1, 16, Bq79616Stack::<16>::bridge(16), |sim, d| {
        Drv::bring_up(&mut d).await.unwrap();
        assert_eq!(Drv::reachable_devices(&d), 16);
        // Two bridge pings with their waits, then 11.6 ms per device before the first frame.
        let t = sim.with(|s| s.elapsed_ns().unwrap());
        assert!(t >= 2 * (2_750_000 + 3_500_000) + 16 * 11_600_000, "{t}");
        for dev in 0..16 {
            assert_eq!(sim.with(|s| s.address(dev)), Some(dev as u8 + 1));
        }
    });
}

#[test]
fn a_missing_device_at_bring_up_is_named() {
    both!(Bq79616Q1, 4, Bq79616Stack::<4>::bridge(16), |sim, d| {
        sim.with(|s| s.inject(InjectedFault::BreakAfter { after: 2 }));
        let e = Drv::bring_up(&mut d).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoResponse);
        assert_eq!(e.device(), Some(3));
        assert_eq!(Drv::reachable_devices(&d), 3);
    });
}

#[test]
fn thresholds_raw_registers_and_balance_pause() {
    let sim = Sim::new(Bq79616Stack::<2>::bridge(16));
    let mut d = Bq79616::<Bq79616Q1, 2, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
    assert_eq!(d.set_temperature_thresholds(30, 71), Ok((30, 70)));
    assert!(d.set_temperature_thresholds(40, 70).is_err());
    d.bring_up().unwrap();
    let mut regs = [[0u8; 134]; 2];
    assert!(d.read_registers(0x000B, 1, &mut regs).unwrap().is_ok());
    // OT 30 % → code 20, UT 70 % → code 2: 0b010_10100.
    assert_eq!([regs[0][0], regs[1][0]], [0x54, 0x54]);
    d.write_registers(0x000E, &[0x12, 0x24]).unwrap();
    assert!(d.read_registers(0x000E, 2, &mut regs).unwrap().is_ok());
    assert_eq!(&regs[1][..2], &[0x12, 0x24]);
    CellMonitor::set_balancing(&mut d, &[0b101, 0]).unwrap();
    assert_eq!(sim.with(|s| s.balancing(0)), 0b101);
    d.pause_balancing(true).unwrap();
    assert_eq!(sim.with(|s| s.balancing(0)), 0);
    d.pause_balancing(false).unwrap();
    assert_eq!(sim.with(|s| s.balancing(0)), 0b101);
    // Read-back mismatch names device and byte: the virtual device keeps only 2 COMM_CTRL bits.
    let e = d.write_registers(0x0308, &[0xFF]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verify);
    assert_eq!(e.device(), Some(0));
}

#[test]
fn thermistor_through_a_curve() {
    let sim = Sim::new(Bq79616Stack::<2>::bridge(16));
    let mut d = Bq79616::<Bq79616Q1, 2, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
    d.bring_up().unwrap();
    // The virtual GPIOs read half of TSREF: 25 °C on this curve.
    let curve = [
        (300_000, MilliCelsius(60_000)),
        (500_000, MilliCelsius(25_000)),
        (700_000, MilliCelsius(0)),
    ];
    let mut t = [Reading::NotConverted; 2];
    assert!(d.read_thermistors(1, &curve, &mut t).unwrap().is_ok());
    assert_eq!(t, [Reading::Valid(MilliCelsius(25_000)); 2]);
    let narrow = [(600_000, MilliCelsius(10_000)), (700_000, MilliCelsius(0))];
    d.read_thermistors(1, &narrow, &mut t).unwrap();
    assert_eq!(
        t,
        [Reading::NotConverted; 2],
        "outside the curve is not a temperature"
    );
}

#[test]
fn sleep_and_sleep_to_active_keep_the_settings() {
    for base in [false, true] {
        let sim = Sim::new(if base {
            Bq79616Stack::<3>::base(10)
        } else {
            Bq79616Stack::<3>::bridge(10)
        });
        let io = Blocking::new(sim.serial(), sim.delay());
        let mut d = if base {
            Bq79616::<Bq79616Q1, 3, _>::new_base(io)
        } else {
            Bq79616::<Bq79616Q1, 3, _>::new_bridge(io)
        };
        d.set_active_cells(10).unwrap();
        d.bring_up().unwrap();
        d.sleep().unwrap();
        let mut out = [Reading::Valid(MicroVolts(0)); 30];
        let r = CellMonitor::read_cell_voltages(&mut d, &mut out).unwrap();
        // Asleep: nobody answers (on the base, the base itself sleeps).
        assert_eq!(r.failed.len(), 3, "base = {base}");
        let t0 = sim.with(|s| s.elapsed_ns().unwrap());
        d.wake_from_sleep().unwrap();
        assert!(sim.with(|s| s.elapsed_ns().unwrap()) - t0 >= 3 * 230_000);
        // Addresses and ACTIVE_CELL survived: no bring-up needed.
        assert_eq!(sim.with(|s| s.active_cells(2)), Some(10));
        let r = CellMonitor::measure_cells(&mut d, ConversionMode::Normal, &mut out).unwrap();
        assert!(r.is_ok(), "base = {base}: {r:?}");
    }
}

#[test]
fn bridge_registers() {
    let sim = Sim::new(Bq79616Stack::<1>::bridge(16));
    let mut d = Bq79616::<Bq79616Q1, 1, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
    d.bring_up().unwrap();
    // TI's BQ79600 sample: DEV_CONF1 reads 0x14 after auto-addressing.
    assert_eq!(d.read_bridge(0x2001).unwrap(), 0x14);
    d.write_bridge(0x2005, 0x5A).unwrap();
    assert_eq!(d.read_bridge(0x2005).unwrap(), 0x5A);
    // A register that does not keep the value is a read-back error naming the register.
    let e = d.write_bridge(0x2030, 0x22).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verify);
    let base = Sim::new(Bq79616Stack::<1>::base(16));
    let mut b = Bq79616::<Bq79616Q1, 1, _>::new_base(Blocking::new(base.serial(), base.delay()));
    assert_eq!(
        b.read_bridge(0x2001).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn comm_clear_drops_a_torn_frame() {
    use embedded_io::Write;
    for clear in [true, false] {
        let sim = Sim::new(Bq79616Stack::<2>::bridge(16));
        let mut d =
            Bq79616::<Bq79616Q1, 2, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
        d.bring_up().unwrap();
        let mut cells = [Reading::NotConverted; 32];
        CellMonitor::measure_cells(&mut d, ConversionMode::Normal, &mut cells).unwrap();
        // A frame torn off half-way (e.g. by a reset of the host) sits in the receivers.
        sim.uart().write_all(&[0x80, 0x01, 0x05]).unwrap();
        sim.with(|s| s.reset_stats());
        if clear {
            d.comm_clear().unwrap();
        }
        let r = CellMonitor::read_cell_voltages(&mut d, &mut cells).unwrap();
        let dropped = sim.with(|s| s.stats().dropped);
        if clear {
            assert!(r.is_ok());
            assert_eq!(dropped, 0, "nothing to resynchronise after COMM CLEAR");
        } else {
            // Without it the receivers resynchronise by dropping bytes (the command is lost
            // and re-issued); no wrong data either way.
            assert!(dropped > 0);
            assert!(cells.iter().all(|c| !c.is_valid()
                || matches!(c, Reading::Valid(v) if (v.0 - 3_600_000).abs() <= 96)));
        }
    }
}

#[test]
fn odd_even_balancing_allows_adjacent_cells() {
    use bms_afe::bq79616::BalanceConfig;
    let sim = Sim::new(Bq79616Stack::<1>::bridge(16));
    let mut d = Bq79616::<Bq79616Q1, 1, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
    d.bring_up().unwrap();
    let (cfg, secs) = BalanceConfig::for_seconds(600).unwrap();
    assert_eq!(secs, 600);
    let (cfg, duty) = cfg.with_odd_even(45).unwrap();
    assert_eq!(duty, 30);
    assert!(BalanceConfig::default().with_odd_even(4).is_err());
    d.set_balance_config(cfg).unwrap();
    CellMonitor::set_balancing(&mut d, &[0b1111]).unwrap();
    // Odd cells (1 and 3) for the first 30 s, then the even ones.
    assert_eq!(sim.with(|s| s.balancing(0)), 0b0101);
    sim.with(|s| s.advance_ns(31_000_000_000));
    assert_eq!(sim.with(|s| s.balancing(0)), 0b1010);
}
