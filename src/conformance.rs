//! The `CellMonitor` conformance suite: what every driver owes, checked against a virtual chip.
//!
//! The suite is generic over any [`AsyncCellMonitor`] (blocking monitors run through
//! [`run_blocking`]) plus a virtual chip implementing [`VirtualChip`] inside a [`Sim`], so a
//! third-party driver author can run it against their own model. It needs no heap; chains of up
//! to [`MAX_DEVICES`] devices and [`MAX_CELLS`] cells.
//!
//! Each case sets a state on the virtual chip, runs the driver, and compares with the truth:
//!
//! | case | checks |
//! |---|---|
//! | `topology` | device and cell counts match the chip |
//! | `wake` | the chain wakes from sleep and then measures |
//! | `cells_within_one_lsb` | every cell, every [`ConversionMode`], within one LSB of the truth |
//! | `stack_voltage` | per-device stack voltage within its resolution |
//! | `temperatures` | every valid temperature within tolerance; at least one per device |
//! | `current` | the current, where the chip has one |
//! | `corruption_names_device` | persistent bit flips at device k: only device k fails, named, none of its data valid; the others still read |
//! | `random_corruption_never_valid` | seeded transient bit flips: every `Valid` value is the truth (retries may recover) |
//! | `silent_device` | a device that stops answering fails alone |
//! | `broken_chain` | devices beyond a break fail, those before it still read (on a ring link, [`SuiteConfig::ring`], every device fails) |
//! | `balancing` | masks reach the chip's switches; invalid masks are rejected before anything changes |
//! | `faults` | fault flags decode on a healthy chain; a corrupted device fails alone |
//! | `fault_flags_decode` | one cell pushed past the chip's configured OV threshold and one past UV show as exactly those cells' flags on those devices, and nowhere else |
//! | `not_converted_is_not_a_voltage` | on a freshly powered chip, cells read before any conversion are `NotConverted` (or the true value on chips that convert on their own), never a made-up voltage; it runs first, so the virtual chip must be new |
//! | `bad_arguments` | wrong slice lengths are an `InvalidArgument` error |
//! | `bounded_waits` | with the whole chain silent, every operation returns within bounded virtual time |
//!
//! ```
//! # #[cfg(all(feature = "conformance"))] {
//! use bms_afe::conformance::{SuiteConfig, SuiteReport};
//! let cfg = SuiteConfig::default();
//! assert!(cfg.integrity_checked);
//! let empty = SuiteReport::default();
//! assert!(empty.is_pass());
//! # }
//! ```

use core::fmt;

use crate::error::{ErrorKind, FaultReason};
use crate::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use crate::sim::{Clock, InjectedFault, Sim, VirtualChip, XorShift};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};
use crate::{Error, io::block_on};

/// Largest chain the suite runs (devices).
pub const MAX_DEVICES: usize = 16;
/// Largest number of cells in a chain the suite runs.
pub const MAX_CELLS: usize = 16 * 18;
/// Largest number of temperature channels per device the suite reads.
pub const MAX_TEMPERATURES_PER_DEVICE: usize = 16;

/// Suite settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteConfig {
    /// Seed of the generated cell voltages and corruption patterns.
    pub seed: u32,
    /// Allowed temperature error (m°C).
    pub temperature_tolerance_mc: i32,
    /// Allowed current error (µA), on top of 1 % of the value.
    pub current_tolerance_ua: i64,
    /// Upper bound of virtual time one operation may take on a dead chain (ns).
    pub max_operation_ns: u64,
    /// `false` for links without integrity codes (e.g. bq769x2 I2C without CRC), where
    /// corruption cannot be detected: the corruption cases are then skipped.
    pub integrity_checked: bool,
    /// Lowest and highest generated cell voltage (µV).
    pub cell_range_uv: (i32, i32),
    /// `true` for a ring link, where every message passes every device and returns to the
    /// host (the MAX1785x UART daisy chain): a break anywhere stops every answer, so
    /// `broken_chain` expects every device to fail, named, instead of only those beyond it.
    pub ring: bool,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        Self {
            seed: 0x5EED_CE11,
            temperature_tolerance_mc: 1_000,
            current_tolerance_ua: 10_000,
            max_operation_ns: 10_000_000_000,
            integrity_checked: true,
            cell_range_uv: (2_800_000, 4_200_000),
            ring: false,
        }
    }
}

/// One failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The case.
    pub case: &'static str,
    /// The device concerned, if any.
    pub device: Option<u8>,
    /// What went wrong.
    pub what: &'static str,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.device {
            Some(d) => write!(f, "{}: device {}: {}", self.case, d, self.what),
            None => write!(f, "{}: {}", self.case, self.what),
        }
    }
}

/// Outcome of a suite run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SuiteReport {
    /// Cases that passed.
    pub passed: u32,
    /// Cases skipped as not applicable (e.g. corruption cases on unchecked links).
    pub skipped: u32,
    /// Cases that failed.
    pub failed: u32,
    /// The first failure.
    pub first_failure: Option<Failure>,
}

impl SuiteReport {
    /// `true` if no case failed.
    pub fn is_pass(&self) -> bool {
        self.failed == 0
    }

    fn add(&mut self, r: Result<Outcome, Failure>) {
        match r {
            Ok(Outcome::Passed) => self.passed += 1,
            Ok(Outcome::Skipped) => self.skipped += 1,
            Err(f) => {
                self.failed += 1;
                if self.first_failure.is_none() {
                    self.first_failure = Some(f);
                }
            }
        }
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )?;
        if let Some(x) = self.first_failure {
            write!(f, " (first failure: {x})")?;
        }
        Ok(())
    }
}

enum Outcome {
    Passed,
    Skipped,
}

/// Runs the whole suite on a blocking monitor.
pub fn run_blocking<M: VirtualChip + Clock, C: CellMonitor>(
    sim: &Sim<M>,
    monitor: &mut C,
    cfg: &SuiteConfig,
) -> SuiteReport {
    block_on(run_async(sim, &mut BlockingAdapter(monitor), cfg))
}

/// Runs the whole suite on an async monitor.
pub async fn run_async<M: VirtualChip + Clock, C: AsyncCellMonitor>(
    sim: &Sim<M>,
    monitor: &mut C,
    cfg: &SuiteConfig,
) -> SuiteReport {
    let mut r = SuiteReport::default();
    let mut ctx = Ctx {
        sim,
        cfg,
        rng: XorShift(cfg.seed),
        truth: [0; MAX_CELLS],
    };
    let topology = ctx.topology(monitor);
    let fatal = topology.is_err();
    r.add(topology);
    if fatal {
        // The other cases size their buffers from the topology: stop here instead of
        // running them on a chain the suite cannot hold.
        return r;
    }
    // First, on the freshly powered chip: nothing converted yet.
    r.add(ctx.not_converted_is_not_a_voltage(monitor).await);
    r.add(ctx.wake(monitor).await);
    // Like a BMS cycle, every further case starts by clearing faults and waking the chain:
    // fault cases leave devices behind a break asleep (their watchdog expired), as silicon would.
    ctx.begin(monitor).await;
    r.add(ctx.cells_within_one_lsb(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.stack_voltage(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.temperatures(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.current(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.corruption_names_device(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.random_corruption_never_valid(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.silent_device(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.broken_chain(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.balancing(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.faults(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.fault_flags_decode(monitor).await);

    ctx.begin(monitor).await;
    r.add(ctx.bad_arguments(monitor).await);
    ctx.begin(monitor).await;
    r.add(ctx.bounded_waits(monitor).await);
    sim.with(|m| m.clear_faults());
    r
}

struct Ctx<'a, M> {
    sim: &'a Sim<M>,
    cfg: &'a SuiteConfig,
    rng: XorShift,
    truth: [i32; MAX_CELLS],
}

fn fail(case: &'static str, device: Option<usize>, what: &'static str) -> Failure {
    Failure {
        case,
        device: device.map(|d| d as u8),
        what,
    }
}

impl<M: VirtualChip + Clock> Ctx<'_, M> {
    /// Clears injected faults and wakes the chain (its result is checked by the `wake` case).
    async fn begin<C: AsyncCellMonitor>(&mut self, m: &mut C) {
        self.sim.with(|s| s.clear_faults());
        let _ = m.wake().await;
    }

    fn dims<C: AsyncCellMonitor>(&self, m: &C) -> (usize, usize) {
        (m.device_count(), m.cells_per_device())
    }

    /// Sets fresh random cell voltages on the chip and remembers them.
    fn randomise(&mut self, devices: usize, cells: usize) {
        let (lo, hi) = self.cfg.cell_range_uv;
        let span = (hi - lo).max(1) as u32;
        for d in 0..devices {
            for c in 0..cells {
                let v = lo + self.rng.below(span) as i32;
                if let Some(t) = self.truth.get_mut(d * cells + c) {
                    *t = v;
                }
                self.sim.with(|m| m.set_cell_voltage(d, c, v));
            }
        }
    }

    fn lsb(&self) -> i32 {
        self.sim.with(|m| m.cell_lsb_uv()).max(1)
    }

    /// Checks every `Valid` cell against the truth; returns the devices with any non-valid cell.
    fn check_cells(
        &self,
        case: &'static str,
        out: &[Reading<MicroVolts>],
        cells: usize,
    ) -> Result<u64, Failure> {
        let lsb = self.lsb();
        let mut not_valid = 0u64;
        for (i, r) in out.iter().enumerate() {
            let d = i / cells.max(1);
            match r {
                Reading::Valid(v) => {
                    let t = self.truth.get(i).copied().unwrap_or(0);
                    if (v.0 - t).abs() > lsb {
                        return Err(fail(case, Some(d), "cell voltage off by more than one LSB"));
                    }
                }
                Reading::Failed(f) if f.device as usize != d => {
                    return Err(fail(case, Some(d), "failure names the wrong device"));
                }
                _ => not_valid |= 1 << d.min(63),
            }
        }
        Ok(not_valid)
    }

    fn topology<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "topology";
        let (d, c) = self.dims(m);
        if d != self.sim.with(|s| s.device_count()) {
            return Err(fail(CASE, None, "device_count differs from the chip"));
        }
        if c != self.sim.with(|s| s.cells_per_device()) {
            return Err(fail(CASE, None, "cells_per_device differs from the chip"));
        }
        if d == 0 || d > MAX_DEVICES || d * c > MAX_CELLS || m.cell_count() != d * c {
            return Err(fail(
                CASE,
                None,
                "chain outside the suite's limits or cell_count wrong",
            ));
        }
        Ok(Outcome::Passed)
    }

    async fn measure<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<u64, Failure> {
        let (_, c) = self.dims(m);
        match m.measure_cells(mode, out).await {
            Ok(report) => {
                let bad = self.check_cells("measure", out, c)?;
                if report.failed.0 != bad {
                    return Err(fail("measure", None, "report disagrees with the readings"));
                }
                Ok(bad)
            }
            Err(_) => Err(fail("measure", None, "measure_cells returned an error")),
        }
    }

    async fn wake<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "wake";
        self.sim.with(|s| s.sleep());
        if m.wake().await.is_err() {
            return Err(fail(CASE, None, "wake failed"));
        }
        if !self.sim.with(|s| s.is_awake()) {
            return Err(fail(CASE, None, "chip still asleep after wake"));
        }
        let (d, c) = self.dims(m);
        self.randomise(d, c);
        let mut out = [Reading::NotConverted; MAX_CELLS];
        let bad = self
            .measure(m, ConversionMode::Normal, &mut out[..d * c])
            .await;
        match bad {
            Ok(0) => Ok(Outcome::Passed),
            Ok(_) => Err(fail(CASE, None, "cells not valid after wake")),
            Err(f) => Err(Failure { case: CASE, ..f }),
        }
    }

    async fn cells_within_one_lsb<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
    ) -> Result<Outcome, Failure> {
        const CASE: &str = "cells_within_one_lsb";
        let (d, c) = self.dims(m);
        let mut out = [Reading::NotConverted; MAX_CELLS];
        for mode in [
            ConversionMode::Fast,
            ConversionMode::Normal,
            ConversionMode::Filtered,
        ] {
            self.randomise(d, c);
            match self.measure(m, mode, &mut out[..d * c]).await {
                Ok(0) => {}
                Ok(_) => return Err(fail(CASE, None, "a cell was not valid on a healthy chain")),
                Err(f) => return Err(Failure { case: CASE, ..f }),
            }
        }
        // A start, a wait of exactly the returned hint, and a read give fresh values: the
        // hint is honest (the virtual chip models conversion time).
        self.randomise(d, c);
        let hint: Microseconds = match m.start_cell_conversion(ConversionMode::Normal).await {
            Ok(h) => h,
            Err(_) => return Err(fail(CASE, None, "start_cell_conversion failed")),
        };
        self.sim.with(|s| s.advance_ns(u64::from(hint.0) * 1_000));
        match m.read_cell_voltages(&mut out[..d * c]).await {
            Ok(r) if r.is_ok() => {}
            _ => return Err(fail(CASE, None, "read after the wait hint failed")),
        }
        match self.check_cells(CASE, &out[..d * c], c) {
            Ok(0) => {}
            Ok(_) => {
                return Err(fail(
                    CASE,
                    None,
                    "not valid after waiting the returned hint",
                ));
            }
            Err(f) => return Err(f),
        }
        Ok(Outcome::Passed)
    }

    async fn stack_voltage<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "stack_voltage";
        let (d, c) = self.dims(m);
        self.randomise(d, c);
        let mut out = [Reading::NotConverted; MAX_DEVICES];
        let r = m.measure_stack_voltages(&mut out[..d]).await;
        if !matches!(r, Ok(rep) if rep.is_ok()) {
            return Err(fail(
                CASE,
                None,
                "stack measurement failed on a healthy chain",
            ));
        }
        let tol = i64::from(self.sim.with(|s| s.stack_lsb_uv())) + i64::from(self.lsb()) * c as i64;
        for (dev, r) in out[..d].iter().enumerate() {
            let sum: i64 = self.truth[dev * c..dev * c + c]
                .iter()
                .map(|&v| i64::from(v))
                .sum();
            match r {
                Reading::Valid(v) if (i64::from(v.0) - sum).abs() <= tol => {}
                Reading::Valid(_) => return Err(fail(CASE, Some(dev), "stack voltage wrong")),
                _ => return Err(fail(CASE, Some(dev), "stack voltage not valid")),
            }
        }
        Ok(Outcome::Passed)
    }

    async fn temperatures<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "temperatures";
        let (d, _) = self.dims(m);
        let per = m.temperatures_per_device();
        if per == 0 {
            return Ok(Outcome::Skipped);
        }
        if per > MAX_TEMPERATURES_PER_DEVICE {
            return Err(fail(
                CASE,
                None,
                "more temperature channels than the suite reads",
            ));
        }
        for dev in 0..d {
            let t = 20_000 + 1_500 * dev as i32;
            self.sim.with(|s| s.set_temperature(dev, t));
        }
        let mut out = [Reading::<MilliCelsius>::NotConverted; MAX_DEVICES * 16];
        if m.measure_temperatures(&mut out[..d * per]).await.is_err() {
            return Err(fail(CASE, None, "measure_temperatures failed"));
        }
        for dev in 0..d {
            let t = 20_000 + 1_500 * dev as i32;
            let mut valid = 0;
            for r in &out[dev * per..dev * per + per] {
                match r {
                    Reading::Valid(v) => {
                        if (v.0 - t).abs() > self.cfg.temperature_tolerance_mc {
                            return Err(fail(CASE, Some(dev), "temperature off"));
                        }
                        valid += 1;
                    }
                    Reading::Failed(_) => {
                        return Err(fail(
                            CASE,
                            Some(dev),
                            "temperature failed on a healthy chain",
                        ));
                    }
                    Reading::NotConverted => {}
                }
            }
            if valid == 0 {
                return Err(fail(CASE, Some(dev), "no valid temperature"));
            }
        }
        Ok(Outcome::Passed)
    }

    async fn current<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "current";
        let set = MicroAmps(-12_345_000);
        self.sim.with(|s| s.set_current(set.0));
        match m.read_current().await {
            Ok(None) => Ok(Outcome::Skipped),
            Ok(Some(v)) => {
                let tol = self.cfg.current_tolerance_ua + set.0.abs() / 100;
                if (v.0 - set.0).abs() <= tol {
                    Ok(Outcome::Passed)
                } else {
                    Err(fail(CASE, Some(0), "current off"))
                }
            }
            Err(_) => Err(fail(CASE, Some(0), "read_current failed")),
        }
    }

    /// Devices to try a per-device fault on: first, middle, last.
    fn sample(d: usize) -> [usize; 3] {
        [0, d / 2, d.saturating_sub(1)]
    }

    async fn expect_only<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
        case: &'static str,
        failed: u64,
    ) -> Result<(), Failure> {
        let (d, c) = self.dims(m);
        self.randomise(d, c);
        let mut out = [Reading::NotConverted; MAX_CELLS];
        let bad = match self
            .measure(m, ConversionMode::Normal, &mut out[..d * c])
            .await
        {
            Ok(b) => b,
            Err(f) => return Err(Failure { case, ..f }),
        };
        if bad != failed {
            return Err(fail(case, None, "the set of failed devices is wrong"));
        }
        for (i, r) in out[..d * c].iter().enumerate() {
            let dev = i / c;
            if failed & (1 << dev) != 0
                && !matches!(r, Reading::Failed(f) if f.device as usize == dev)
            {
                return Err(fail(
                    case,
                    Some(dev),
                    "data of a faulty device not marked failed",
                ));
            }
        }
        Ok(())
    }

    /// A ring with a break: nothing comes back, so either the operation fails with an
    /// integrity error (no response) and hands out no value, or every device's slots are
    /// `Failed`, each naming its own device.
    async fn ring_broken<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
        case: &'static str,
        d: usize,
        c: usize,
    ) -> Result<(), Failure> {
        self.randomise(d, c);
        // Sentinel: a value no chip reports, so a slot the driver wrote is told apart.
        const SENTINEL: Reading<MicroVolts> = Reading::Valid(MicroVolts(i32::MIN));
        let mut out = [SENTINEL; MAX_CELLS];
        match m
            .measure_cells(ConversionMode::Normal, &mut out[..d * c])
            .await
        {
            Err(e) => {
                if !matches!(e.kind(), ErrorKind::NoResponse | ErrorKind::Integrity) {
                    return Err(fail(case, None, "a broken ring gave a non-integrity error"));
                }
                if out[..d * c].iter().any(|r| r.is_valid() && *r != SENTINEL) {
                    return Err(fail(case, None, "a failed read handed out a value"));
                }
                Ok(())
            }
            Ok(report) => {
                for (i, r) in out[..d * c].iter().enumerate() {
                    let dev = i / c;
                    if !report.failed.contains(dev)
                        || !matches!(r, Reading::Failed(f) if f.device as usize == dev)
                    {
                        return Err(fail(case, Some(dev), "a device behind a broken ring read"));
                    }
                }
                Ok(())
            }
        }
    }

    async fn corruption_names_device<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
    ) -> Result<Outcome, Failure> {
        const CASE: &str = "corruption_names_device";
        if !self.cfg.integrity_checked {
            return Ok(Outcome::Skipped);
        }
        let (d, _) = self.dims(m);
        for k in Self::sample(d) {
            let seed = self.rng.next_u32();
            self.sim.with(|s| {
                s.clear_faults();
                s.inject(InjectedFault::CorruptResponses {
                    device: k as u8,
                    seed,
                    frames: u32::MAX,
                })
            });
            let r = self.expect_only(m, CASE, 1 << k).await;
            self.sim.with(|s| s.clear_faults());
            r?;
        }
        // And the chain recovers completely once the fault is gone.
        self.expect_only(m, CASE, 0).await?;
        Ok(Outcome::Passed)
    }

    async fn random_corruption_never_valid<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
    ) -> Result<Outcome, Failure> {
        const CASE: &str = "random_corruption_never_valid";
        if !self.cfg.integrity_checked {
            return Ok(Outcome::Skipped);
        }
        let (d, c) = self.dims(m);
        let mut out = [Reading::NotConverted; MAX_CELLS];
        for round in 0..8u32 {
            let k = self.rng.below(d as u32) as u8;
            let seed = self.rng.next_u32();
            self.sim.with(|s| {
                s.clear_faults();
                s.inject(InjectedFault::CorruptResponses {
                    device: k,
                    seed,
                    frames: 1 + round % 3,
                })
            });
            self.randomise(d, c);
            let bad = self
                .measure(m, ConversionMode::Normal, &mut out[..d * c])
                .await;
            self.sim.with(|s| s.clear_faults());
            match bad {
                Ok(b) if b & !(1 << k) == 0 => {}
                Ok(_) => return Err(fail(CASE, Some(k as usize), "a healthy device failed")),
                Err(f) => return Err(Failure { case: CASE, ..f }),
            }
        }
        Ok(Outcome::Passed)
    }

    async fn silent_device<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "silent_device";
        if !self.cfg.integrity_checked {
            return Ok(Outcome::Skipped);
        }
        let (d, _) = self.dims(m);
        let k = Self::sample(d)[1];
        self.sim
            .with(|s| s.inject(InjectedFault::Silent { device: k as u8 }));
        if d == 1 {
            // A lone device (an I2C chip) that stops answering is a bus error (NACK); it must
            // not produce data.
            let (_, c) = self.dims(m);
            let mut out = [Reading::NotConverted; MAX_CELLS];
            let r = m.measure_cells(ConversionMode::Normal, &mut out[..c]).await;
            self.sim.with(|s| s.clear_faults());
            return match r {
                Err(e) if e.kind() != ErrorKind::InvalidArgument => Ok(Outcome::Passed),
                Err(_) => Err(fail(
                    CASE,
                    Some(0),
                    "a silent device gave an argument error",
                )),
                Ok(rep) if rep.failed.contains(0) && !out[..c].iter().any(Reading::is_valid) => {
                    Ok(Outcome::Passed)
                }
                Ok(_) => Err(fail(CASE, Some(0), "a silent device produced data")),
            };
        }
        let r = self.expect_only(m, CASE, 1 << k).await;
        self.sim.with(|s| s.clear_faults());
        r.map(|_| Outcome::Passed)
    }

    async fn broken_chain<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "broken_chain";
        let (d, c) = self.dims(m);
        if d < 2 {
            return Ok(Outcome::Skipped);
        }
        let after = (d - 1) / 2;
        self.sim
            .with(|s| s.inject(InjectedFault::BreakAfter { after: after as u8 }));
        let all = (1u64 << d) - 1;
        let r = if self.cfg.ring {
            self.ring_broken(m, CASE, d, c).await
        } else {
            self.expect_only(m, CASE, all & !((1u64 << (after + 1)) - 1))
                .await
        };
        self.sim.with(|s| s.clear_faults());
        r.map(|_| Outcome::Passed)
    }

    async fn balancing<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "balancing";
        let (d, c) = self.dims(m);
        let all: u32 = if c >= 32 { u32::MAX } else { (1 << c) - 1 };
        let mut masks = [0u32; MAX_DEVICES];
        for (dev, mask) in masks[..d].iter_mut().enumerate() {
            // Every third cell, shifted per device: never two adjacent cells.
            *mask = (0x4924_9249u32 << (dev % 3)) & all;
        }
        if m.set_balancing(&masks[..d]).await.is_err() {
            return Err(fail(CASE, None, "a valid non-adjacent mask was rejected"));
        }
        for (dev, mask) in masks[..d].iter().enumerate() {
            if self.sim.with(|s| s.balancing(dev)) != *mask {
                return Err(fail(
                    CASE,
                    Some(dev),
                    "discharge switches differ from the mask",
                ));
            }
        }
        if m.set_balancing(&[0u32; MAX_DEVICES][..d]).await.is_err() {
            return Err(fail(CASE, None, "clearing balancing failed"));
        }
        for dev in 0..d {
            if self.sim.with(|s| s.balancing(dev)) != 0 {
                return Err(fail(
                    CASE,
                    Some(dev),
                    "switches still closed after clearing",
                ));
            }
        }
        // A cell that does not exist is rejected, and nothing changes.
        if c < 32 {
            let mut bad = [0u32; MAX_DEVICES];
            bad[d - 1] = 1 << c;
            match m.set_balancing(&bad[..d]).await {
                Err(e) if matches!(e.kind(), ErrorKind::Config | ErrorKind::InvalidArgument) => {}
                _ => return Err(fail(CASE, Some(d - 1), "a non-existent cell was accepted")),
            }
            if (0..d).any(|dev| self.sim.with(|s| s.balancing(dev)) != 0) {
                return Err(fail(CASE, None, "a rejected mask changed the switches"));
            }
        }
        Ok(Outcome::Passed)
    }

    async fn faults<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "faults";
        let (d, c) = self.dims(m);
        self.randomise(d, c);
        let mut out = [Reading::<Faults>::NotConverted; MAX_DEVICES];
        match m.read_faults(&mut out[..d]).await {
            Ok(r) if r.is_ok() => {}
            _ => return Err(fail(CASE, None, "read_faults failed on a healthy chain")),
        }
        if let Some(dev) = out[..d].iter().position(|r| !r.is_valid()) {
            return Err(fail(CASE, Some(dev), "faults not valid on a healthy chain"));
        }
        if !self.cfg.integrity_checked {
            return Ok(Outcome::Passed);
        }
        let k = d - 1;
        let seed = self.rng.next_u32();
        self.sim.with(|s| {
            s.inject(InjectedFault::CorruptResponses {
                device: k as u8,
                seed,
                frames: u32::MAX,
            })
        });
        let r = m.read_faults(&mut out[..d]).await;
        self.sim.with(|s| s.clear_faults());
        match r {
            Ok(rep) if rep.failed.0 == 1 << k => {
                if !matches!(out[k], Reading::Failed(f) if f.device as usize == k) {
                    return Err(fail(CASE, Some(k), "corrupted status handed out"));
                }
                Ok(Outcome::Passed)
            }
            Ok(_) => Err(fail(
                CASE,
                Some(k),
                "corrupted status not reported at its device",
            )),
            Err(Error::Integrity(f)) if f.device as usize == k => Ok(Outcome::Passed),
            Err(_) => Err(fail(
                CASE,
                Some(k),
                "read_faults error does not name the device",
            )),
        }
    }

    async fn fault_flags_decode<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
    ) -> Result<Outcome, Failure> {
        const CASE: &str = "fault_flags_decode";
        let (d, c) = self.dims(m);
        // One cell past OV on the last device and one past UV on the first, in a single
        // conversion (chips that latch flags until cleared are fine with that).
        let (ov_dev, uv_dev) = (d - 1, 0);
        let (ov_cell, uv_cell) = if d == 1 { (c - 1, 0) } else { (c / 2, c / 2) };
        let (Some((_, ov)), Some((uv, _))) = (
            self.sim.with(|s| s.cell_thresholds_uv(ov_dev)),
            self.sim.with(|s| s.cell_thresholds_uv(uv_dev)),
        ) else {
            return Ok(Outcome::Skipped);
        };
        let mid = uv / 2 + ov / 2;
        for dd in 0..d {
            for cc in 0..c {
                let v = if dd == ov_dev && cc == ov_cell {
                    ov.saturating_add(50_000)
                } else if dd == uv_dev && cc == uv_cell {
                    uv.saturating_sub(50_000)
                } else {
                    mid
                };
                if let Some(t) = self.truth.get_mut(dd * c + cc) {
                    *t = v;
                }
                self.sim.with(|s| s.set_cell_voltage(dd, cc, v));
            }
        }
        let mut out = [Reading::NotConverted; MAX_CELLS];
        let mut faults = [Reading::<Faults>::NotConverted; MAX_DEVICES];
        // Chips flag on conversion: convert, then read the flags.
        if m.measure_cells(ConversionMode::Normal, &mut out[..d * c])
            .await
            .is_err()
        {
            return Err(fail(CASE, None, "measure_cells failed"));
        }
        if !matches!(m.read_faults(&mut faults[..d]).await, Ok(r) if r.is_ok()) {
            return Err(fail(CASE, None, "read_faults failed on a healthy chain"));
        }
        for (k, f) in faults[..d].iter().enumerate() {
            let Reading::Valid(f) = f else {
                return Err(fail(CASE, Some(k), "faults not valid"));
            };
            let want_ov = if k == ov_dev { 1u32 << ov_cell } else { 0 };
            let want_uv = if k == uv_dev { 1u32 << uv_cell } else { 0 };
            if f.overvoltage != want_ov {
                return Err(fail(
                    CASE,
                    Some(k),
                    "OV flags differ from the one pushed cell",
                ));
            }
            if f.undervoltage != want_uv {
                return Err(fail(
                    CASE,
                    Some(k),
                    "UV flags differ from the one pushed cell",
                ));
            }
        }
        Ok(Outcome::Passed)
    }

    async fn not_converted_is_not_a_voltage<C: AsyncCellMonitor>(
        &mut self,
        m: &mut C,
    ) -> Result<Outcome, Failure> {
        const CASE: &str = "not_converted_is_not_a_voltage";
        let (d, c) = self.dims(m);
        // Runs first, on a chip that has converted nothing since power-up (result registers
        // hold their reset codes with valid PECs).
        self.randomise(d, c);
        if m.wake().await.is_err() {
            return Err(fail(CASE, None, "wake failed"));
        }
        let mut out = [Reading::NotConverted; MAX_CELLS];
        if m.read_cell_voltages(&mut out[..d * c]).await.is_err() {
            return Err(fail(CASE, None, "read_cell_voltages failed"));
        }
        // `check_cells` fails any `Valid` value that is not the truth within one LSB.
        match self.check_cells(CASE, &out[..d * c], c) {
            Ok(_) => Ok(Outcome::Passed),
            Err(f) => Err(Failure {
                what: "a value never converted was handed out as a voltage",
                ..f
            }),
        }
    }

    async fn bad_arguments<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "bad_arguments";
        let (d, c) = self.dims(m);
        let mut out = [Reading::NotConverted; MAX_CELLS];
        let short = (d * c).saturating_sub(1);
        if !matches!(m.read_cell_voltages(&mut out[..short]).await,
            Err(e) if e.kind() == ErrorKind::InvalidArgument)
        {
            return Err(fail(CASE, None, "short cell buffer accepted"));
        }
        if !matches!(m.set_balancing(&[0u32; MAX_DEVICES + 1][..d + 1]).await,
            Err(e) if e.kind() == ErrorKind::InvalidArgument)
        {
            return Err(fail(CASE, None, "mask slice of the wrong length accepted"));
        }
        let mut f = [Reading::<Faults>::NotConverted; MAX_DEVICES + 1];
        if !matches!(m.read_faults(&mut f[..d + 1]).await,
            Err(e) if e.kind() == ErrorKind::InvalidArgument)
        {
            return Err(fail(CASE, None, "fault slice of the wrong length accepted"));
        }
        Ok(Outcome::Passed)
    }

    async fn bounded_waits<C: AsyncCellMonitor>(&mut self, m: &mut C) -> Result<Outcome, Failure> {
        const CASE: &str = "bounded_waits";
        let (d, c) = self.dims(m);
        for dev in 0..d {
            self.sim
                .with(|s| s.inject(InjectedFault::Silent { device: dev as u8 }));
        }
        let mut out = [Reading::NotConverted; MAX_CELLS];
        let mut faults = [Reading::<Faults>::NotConverted; MAX_DEVICES];
        let t0 = self.sim.with(|s| s.elapsed_ns());
        let measured = m
            .measure_cells(ConversionMode::Normal, &mut out[..d * c])
            .await;
        let _ = m.read_faults(&mut faults[..d]).await;
        let _ = m.wake().await;
        let t1 = self.sim.with(|s| s.elapsed_ns());
        self.sim.with(|s| s.clear_faults());
        match (t0, t1) {
            (Some(a), Some(b)) if b.saturating_sub(a) > self.cfg.max_operation_ns => {
                return Err(fail(CASE, None, "operations on a dead chain took too long"));
            }
            (Some(_), Some(_)) => {}
            // Without a model clock the bound cannot be checked: not a pass.
            _ => return Ok(Outcome::Skipped),
        }
        if self.cfg.integrity_checked {
            if let Ok(r) = measured {
                if r.failed.len() != d || out[..d * c].iter().any(Reading::is_valid) {
                    return Err(fail(CASE, None, "a silent chain produced valid data"));
                }
                if let Some(f) = r.first_fault {
                    if f.device != 0
                        || !matches!(f.reason, FaultReason::NoResponse | FaultReason::Pec { .. })
                    {
                        return Err(fail(CASE, None, "first fault of a silent chain misnamed"));
                    }
                }
            }
        }
        Ok(Outcome::Passed)
    }
}

/// Adapts a blocking [`CellMonitor`] to [`AsyncCellMonitor`] (its futures are always ready),
/// so one suite serves both.
struct BlockingAdapter<'a, C>(&'a mut C);

impl<C: CellMonitor> AsyncCellMonitor for BlockingAdapter<'_, C> {
    type BusError = C::BusError;
    fn device_count(&self) -> usize {
        self.0.device_count()
    }
    fn cells_per_device(&self) -> usize {
        self.0.cells_per_device()
    }
    fn temperatures_per_device(&self) -> usize {
        self.0.temperatures_per_device()
    }
    async fn wake(&mut self) -> Result<(), Error<C::BusError>> {
        self.0.wake()
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<C::BusError>> {
        self.0.start_cell_conversion(mode)
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, Error<C::BusError>> {
        self.0.read_cell_voltages(out)
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, Error<C::BusError>> {
        self.0.measure_cells(mode, out)
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<crate::monitor::ChainReport, Error<C::BusError>> {
        self.0.measure_temperatures(out)
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, Error<C::BusError>> {
        self.0.measure_stack_voltages(out)
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<C::BusError>> {
        self.0.read_current()
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<C::BusError>> {
        self.0.set_balancing(masks)
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<crate::monitor::ChainReport, Error<C::BusError>> {
        self.0.read_faults(out)
    }
}
