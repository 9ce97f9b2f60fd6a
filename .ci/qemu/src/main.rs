//! The `CellMonitor` conformance suite for every family, blocking and async, on an emulated
//! Cortex-M4F (QEMU `mps2-an386`): proof that the `no_std` drivers, virtual chips and suite
//! run on the kind of core the crate is for. Output and exit code go through semihosting;
//! any failed case (or a panic) exits non-zero.
//!
//! Adding a family is one line in `main`: a `family!` with its label, virtual chip, driver
//! constructor, bus (`spi` or `i2c`), the pure set-up calls (`set: [...]`), the bus set-up
//! calls (`bus: [...]`, run blocking or awaited), and how many cases it skips (as in
//! tests/conformance.rs).
#![no_std]
#![no_main]
// A `family!` block is left early only from its set-up steps; lines without any leave the
// labels unused.
#![allow(unused_labels)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::bq769x2::{Bq769x2, Bq76952, SecurityKeys};
use bms_afe::bq79616::{Bq79616, Bq79616Q1};
use bms_afe::sim::bq79616::Bq79616Stack;
use bms_afe::conformance::{SuiteConfig, SuiteReport, run_async, run_blocking};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::{Adbms1818, Ltc681x, Ltc6810, Ltc6811, Ltc6812, Ltc6813};
use bms_afe::sim::Sim;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::bq769x2::Bq76952Sim;
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::bq769x0::{Bq769x0, Bq76940, CellMap, TempSource};
use bms_afe::max1785x::{Max1785x, Max17853};
use bms_afe::mc3377x::{Mc3377x, Mc33771c, Spi, Tpl};
use bms_afe::sim::max1785x::Max1785xChain;
use bms_afe::sim::bq769x0::Bq769x0Sim;
use bms_afe::sim::mc3377x::{Mc3377xChain, tpl_port};
use bms_afe::sim::tle9012::Tle9012Chain;
use bms_afe::tle9012::{Thresholds, Tle9012};
use bms_afe::units::MicroVolts;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

/// Cases in the suite (`src/conformance.rs`).
const CASES: u32 = 16;

/// Default bq76952 unseal / full-access keys (TI E2E 1053149), as the virtual chip uses.
const UNSEAL: SecurityKeys = SecurityKeys::new(0x0414, 0x3672);
const FULL: SecurityKeys = SecurityKeys::new(0xFFFF, 0xFFFF);

/// UV 2.0 V / OV 4.5 V for the ADBMS6830, far outside the generated cells.
fn adbms_thresholds() -> CfgB {
    let mut b = CfgB::default();
    let _ = b.set_undervoltage(MicroVolts(2_000_000));
    let _ = b.set_overvoltage(MicroVolts(4_500_000));
    b
}

/// The mocks and virtual chips are always ready: one poll per step, no runtime.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    fn check(&mut self, name: &str, mode: &str, r: SuiteReport, skipped: u32) {
        let ok = r.is_pass() && r.skipped == skipped && r.passed + r.skipped == CASES;
        hprintln!(
            "{} {}: {} {}",
            name,
            mode,
            r,
            if ok { "ok" } else { "FAILED" }
        );
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    fn setup_failed(&mut self, name: &str, mode: &str, step: &str) {
        hprintln!("{} {}: set-up `{}` FAILED", name, mode, step);
        self.failed += 1;
    }
}

/// The bus a family's driver gets from its virtual chip: a method of the `Sim` (`spi`, `i2c`,
/// `serial`) or, for the MC33664 TPL link, the virtual chain's port.
macro_rules! bus {
    ($sim:ident, tpl) => {
        tpl_port(&$sim)
    };
    ($sim:ident, $bus:ident) => {
        $sim.$bus()
    };
}

/// A 15-cell BQ76940 in CRC mode at 0x08 (the map is pure and cannot fail for 15 cells).
fn bq76940_map() -> CellMap {
    match CellMap::for_cells::<Bq76940>(15) {
        Ok(m) => m,
        Err(_) => panic!("15-cell map"),
    }
}

/// A driver constructor that cannot fail for the arguments given here; a failure is a
/// failed run (the panic handler exits non-zero).
fn ok<T, E>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(_) => panic!("constructor refused a valid set-up"),
    }
}

/// One family: both runs (blocking, then async) on fresh virtual chips.
macro_rules! family {
    ($t:ident, $name:literal, $chip:expr, $ctor:expr, $bus:ident,
     set: [$($set:ident($($sa:expr),*)),*], bus: [$($step:ident($($ba:expr),*)),*], skip: $skip:expr
     $(, cfg: $cfg:expr)?) => {{
        #[allow(unused_variables)]
        let cfg = SuiteConfig::default();
        $(let cfg = $cfg;)?
        'blocking: {
            let sim = Sim::new($chip);
            let mut d = $ctor(Blocking::new(bus!(sim, $bus), sim.delay()));
            $(if d.$set($($sa),*).is_err() { $t.setup_failed($name, "blocking", stringify!($set)); break 'blocking; })*
            $(if d.$step($($ba),*).is_err() { $t.setup_failed($name, "blocking", stringify!($step)); break 'blocking; })*
            $t.check($name, "blocking", run_blocking(&sim, &mut d, &cfg), $skip);
        }
        'asynchronous: {
            let sim = Sim::new($chip);
            let mut d = $ctor(Async::new(bus!(sim, $bus), sim.delay()));
            $(if d.$set($($sa),*).is_err() { $t.setup_failed($name, "async", stringify!($set)); break 'asynchronous; })*
            $(if block_on(d.$step($($ba),*)).is_err() { $t.setup_failed($name, "async", stringify!($step)); break 'asynchronous; })*
            $t.check($name, "async", block_on(run_async(&sim, &mut d, &cfg)), $skip);
        }
    }};
}

#[entry]
fn main() -> ! {
    let mut t = Tally::default();
    hprintln!("bms-afe conformance suite on a Cortex-M4F (qemu mps2-an386)");

    // Skipped cases as in tests/conformance.rs: `current` (no current channel) everywhere on
    // the ADI parts, and `broken_chain` on a chain of one; bq76952: `broken_chain` and
    // `fault_flags_decode` (COV/CUV are per device, not per cell).
    family!(t, "ltc6813 x1", Ltc681xChain::<Ltc6813, 1>::new(), Ltc681x::<Ltc6813, 1, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 2);
    family!(t, "ltc6813 x16", Ltc681xChain::<Ltc6813, 16>::new(), Ltc681x::<Ltc6813, 16, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 1);
    family!(t, "ltc6812 x4", Ltc681xChain::<Ltc6812, 4>::new(), Ltc681x::<Ltc6812, 4, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 1);
    family!(t, "ltc6811 x3", Ltc681xChain::<Ltc6811, 3>::new(), Ltc681x::<Ltc6811, 3, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 1);
    family!(t, "ltc6810 x2", Ltc681xChain::<Ltc6810, 2>::new(), Ltc681x::<Ltc6810, 2, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 1);
    family!(t, "adbms1818 x4", Ltc681xChain::<Adbms1818, 4>::new(), Ltc681x::<Adbms1818, 4, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 1);
    family!(t, "adbms6830b x1", Adbms6830Chain::<Adbms6830b, 1>::new(), Adbms6830::<Adbms6830b, 1, _>::new, spi, set: [], bus: [wake(), configure(CfgA::default(), adbms_thresholds())], skip: 2);
    family!(t, "adbms6830b x16", Adbms6830Chain::<Adbms6830b, 16>::new(), Adbms6830::<Adbms6830b, 16, _>::new, spi, set: [], bus: [wake(), configure(CfgA::default(), adbms_thresholds())], skip: 1);
    family!(t, "bq76952 crc", Bq76952Sim::new_crc(), Bq769x2::<Bq76952, _>::new_crc, i2c, set: [], bus: [unseal(UNSEAL), full_access(FULL)], skip: 2);

    // bq769x0: `broken_chain` (one chip) and `fault_flags_decode` (OV/UV per pack, after >= 1 s).
    family!(t, "bq76940 15s crc", Bq769x0Sim::new::<Bq76940>(bq76940_map(), true, 0x08), |io| { let mut d = ok(Bq769x0::<Bq76940, _>::new(io, bq76940_map(), 1_000)); d.set_temperature_source(TempSource::Die); d }, i2c, set: [], bus: [probe()], skip: 2);
    // MC33771C: `broken_chain` on a chain of one; none on TPL chains.
    family!(t, "mc33771c spi", Mc3377xChain::<Mc33771c, 1>::new(14), |io| { let mut d = ok(Mc3377x::<Mc33771c, Spi, 1, _>::new_spi(io, 14)); ok(d.set_cell_thresholds(MicroVolts(4_500_000), MicroVolts(2_000_000))); ok(d.set_shunt(100)); d }, spi, set: [], bus: [], skip: 1);
    family!(t, "mc33771c tpl x4", Mc3377xChain::<Mc33771c, 4>::new(14), |io| { let mut d = ok(Mc3377x::<Mc33771c, Tpl, 4, _>::new_tpl(io, 14)); ok(d.set_cell_thresholds(MicroVolts(4_500_000), MicroVolts(2_000_000))); ok(d.set_shunt(100)); d }, tpl, set: [], bus: [], skip: 0);
    // TLE9012: `current` (no current channel).
    family!(t, "tle9012 x4", Tle9012Chain::<4>::new(), |io| { let mut d = Tle9012::<4, _>::new(io); d.set_thresholds(ok(Thresholds::new(MicroVolts(2_000_000), MicroVolts(4_500_000)))); d }, serial, set: [], bus: [], skip: 1);

    // MAX17853: `current` (no amplifier) and `temperatures` (no thermistor network set here);
    // a ring link, so a break fails every device.
    family!(t, "max17853 x4", Max1785xChain::<Max17853, 4>::new(), Max1785x::<Max17853, 4, _>::new, spi, set: [set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_500_000))], bus: [], skip: 2, cfg: SuiteConfig { ring: true, ..SuiteConfig::default() });

    // BQ79616 through the BQ79600 bridge over UART: `current` (no current channel).
    family!(t, "bq79616 x4", Bq79616Stack::<4>::bridge(16), Bq79616::<Bq79616Q1, 4, _>::new_bridge, serial, set: [set_active_cells(16), set_undervoltage(MicroVolts(2_000_000)), set_overvoltage(MicroVolts(4_475_000))], bus: [], skip: 1);

    // The closing line in the form CI reads: "<word>: N passed, N failed".
    hprintln!("conformance: {} passed, {} failed", t.passed, t.failed);
    if t.failed == 0 {
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
