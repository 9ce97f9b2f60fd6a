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

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::bq769x2::{Bq769x2, Bq76952, SecurityKeys};
use bms_afe::conformance::{SuiteConfig, SuiteReport, run_async, run_blocking};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::{Adbms1818, Ltc681x, Ltc6810, Ltc6811, Ltc6812, Ltc6813};
use bms_afe::sim::Sim;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::bq769x2::Bq76952Sim;
use bms_afe::sim::ltc681x::Ltc681xChain;
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

/// One family: both runs (blocking, then async) on fresh virtual chips.
macro_rules! family {
    ($t:ident, $name:literal, $chip:expr, $ctor:expr, $bus:ident,
     set: [$($set:ident($($sa:expr),*)),*], bus: [$($step:ident($($ba:expr),*)),*], skip: $skip:expr) => {{
        let cfg = SuiteConfig::default();
        'blocking: {
            let sim = Sim::new($chip);
            let mut d = $ctor(Blocking::new(sim.$bus(), sim.delay()));
            $(if d.$set($($sa),*).is_err() { $t.setup_failed($name, "blocking", stringify!($set)); break 'blocking; })*
            $(if d.$step($($ba),*).is_err() { $t.setup_failed($name, "blocking", stringify!($step)); break 'blocking; })*
            $t.check($name, "blocking", run_blocking(&sim, &mut d, &cfg), $skip);
        }
        'asynchronous: {
            let sim = Sim::new($chip);
            let mut d = $ctor(Async::new(sim.$bus(), sim.delay()));
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
