//! FLAG_D latent-fault self-tests of the ADBMS6830 driver: the pattern table, the virtual
//! chain (chains of 1, 2 and 16; broken detectors, stuck flags, failing devices, a bus error
//! midway), and one byte-exact wire sequence.
//!
//! Facts used (written here independently of the crate's constants):
//! * CFGA byte 1 (CFGAR1) is FLAG_D\[7:0\] (ADBMS6830B-DS Tables 55/56; adi.md §6.4); bit
//!   meanings ADBMS6830-SpA Table 104; patterns as foxBMS 2 `adi_ades183x_defs.h`
//!   (`ADI_FLAG_D_UV_CHECK` 0x04, `_OV_CHECK` 0x0C, `_OSC_FASTER` 0x01, `_OSC_SLOWER` 0x02,
//!   `_FORCE_THSD` 0x10, `_FORCE_TMODCHK` 0x80, `_INDUCE_ECC_ERROR` 0x60).
//! * STATC STCR4 = VA_OV VA_UV VD_OV VD_UV CED CMED SED SMED, STCR5 = VDEL VDE COMP SPIFLT
//!   SLEEP THSD TMODCHK OSCCHK (b7..b0; adi.md §6.4).
//! * The flag each pattern must set is the crate's documented, **unverified** mapping
//!   (inferred from the bit names and foxBMS's latent-fault checks).
//! * Wire vectors: adi.md §2.2/§6.2 command frames, §7.3 write vectors (WRCFGA default
//!   `00 01 3D 6E 01 00 00 FF 03 00 00 5A`, WRCFGB default); other PEC10s from the
//!   bit-serial `common::oracle_pec10` (ADBMS6830B-DS "Data PEC"), itself checked against
//!   §6.1 and §7.3 in tests/oracles.rs.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::latent::LATENT_SETTLE_US;
use bms_afe::adbms6830::register::{CfgA, CfgB, Cth};
use bms_afe::adbms6830::{
    Adbms6830, Adbms6830b, LatentFlags, LatentOutcome, LatentReport, LatentSet, LatentTest,
};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::Reading;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::MicroVolts;
use bms_afe::{CellMonitor, Error};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as T};

mod common;
use common::{block_on, cmd, read, sealed, write};

// ---- independent constants ------------------------------------------------------------------

// STCR4 (adi.md §6.4).
const VA_OV: u8 = 1 << 7;
const VA_UV: u8 = 1 << 6;
const VD_OV: u8 = 1 << 5;
const VD_UV: u8 = 1 << 4;
const CED: u8 = 1 << 3;
const CMED: u8 = 1 << 2;
const SED: u8 = 1 << 1;
const SMED: u8 = 1 << 0;
// STCR5 (adi.md §6.4).
const VDEL: u8 = 1 << 7;
const VDE: u8 = 1 << 6;
const THSD: u8 = 1 << 2;
const TMODCHK: u8 = 1 << 1;
const OSCCHK: u8 = 1 << 0;

fn flags(supply: u8, system: u8) -> LatentFlags {
    LatentFlags { supply, system }
}

#[test]
fn patterns_and_expected_flags_match_an_independent_table() {
    // (test, FLAG_D, expected STCR4, expected STCR5)
    let table = [
        (LatentTest::OscillatorFast, 0x01, 0, OSCCHK),
        (LatentTest::OscillatorSlow, 0x02, 0, OSCCHK),
        (LatentTest::SupplyUv, 0x04, VA_UV | VD_UV, 0),
        (LatentTest::SupplyOv, 0x0C, VA_OV | VD_OV, VDEL | VDE),
        (LatentTest::MemoryEcc, 0x60, CMED | SMED, 0),
        (LatentTest::TestModeCheck, 0x80, 0, TMODCHK),
        (LatentTest::ThermalShutdown, 0x10, 0, THSD),
    ];
    for (t, fd, s4, s5) in table {
        assert_eq!(t.flag_d(), fd, "{t:?}");
        assert_eq!(t.expected(), flags(s4, s5), "{t:?}");
        // What is cleared afterwards covers what is expected.
        assert!(t.clears().contains(t.expected()), "{t:?}");
        assert_eq!(
            t.reads_oscillator_counter(),
            matches!(t, LatentTest::OscillatorFast | LatentTest::OscillatorSlow)
        );
    }
    assert_eq!(
        LatentTest::SupplyUv.clears(),
        flags(VA_OV | VA_UV | VD_OV | VD_UV, VDEL | VDE)
    );
    assert_eq!(
        LatentTest::MemoryEcc.clears(),
        flags(CED | CMED | SED | SMED, 0)
    );
    // CLRFLAG data: STATC layout, flags in bytes 4 and 5.
    assert_eq!(
        LatentTest::SupplyOv.clears().clrflag_bytes(),
        [0, 0, 0, 0, 0xF0, 0xC0]
    );
    // Every test once, thermal shutdown last, whatever the insertion order.
    let all: Vec<_> = LatentSet::ALL.iter().collect();
    assert_eq!(all.len(), 7);
    assert_eq!(all.last(), Some(&LatentTest::ThermalShutdown));
    let some = LatentSet::of(&[LatentTest::ThermalShutdown, LatentTest::SupplyUv]);
    assert_eq!(
        some.iter().collect::<Vec<_>>(),
        [LatentTest::SupplyUv, LatentTest::ThermalShutdown]
    );
    // The settle time stays below tIDLE (4.3 ms minimum, adi.md §6.6).
    const { assert!(LATENT_SETTLE_US < 4_300) };
}

// ---- virtual chain ----------------------------------------------------------------------------

/// CFGA the scenarios configure: REFON = 1, CTH = 100 (15 mV), FC = 3, GPO defaults —
/// bytes written from adi.md §6.4: CFGAR0 = 0x80 | 0b100, CFGAR1 (FLAG_D) = 0,
/// CFGAR2 = 0, CFGAR3 = 0xFF, CFGAR4 = 0x03, CFGAR5 = FC = 0x03.
const CFGA_BYTES: [u8; 6] = [0x84, 0x00, 0x00, 0xFF, 0x03, 0x03];

fn cfg() -> (CfgA, CfgB) {
    let a = CfgA {
        refon: true,
        cth: Cth::Mv15,
        fc: 3,
        ..CfgA::default()
    };
    let mut b = CfgB::default();
    b.set_overvoltage(MicroVolts(4_200_000)).unwrap();
    b.set_undervoltage(MicroVolts(2_800_000)).unwrap();
    (a, b)
}

fn chain<const N: usize>() -> Sim<Adbms6830Chain<Adbms6830b, N>> {
    Sim::new(Adbms6830Chain::<Adbms6830b, N>::new())
}

/// Checks through the virtual chip (not the driver) that every device holds the
/// configuration with FLAG_D = 0, CFGB as before, and no flag a test may set.
fn assert_restored<const N: usize>(sim: &Sim<Adbms6830Chain<Adbms6830b, N>>, cfgb: &[[u8; 6]; N]) {
    for (d, want_b) in cfgb.iter().enumerate() {
        let (a, b) = sim.with(|m| m.config(d)).unwrap();
        assert_eq!(a, CFGA_BYTES, "device {d} CFGA");
        assert_eq!(a[1], 0, "device {d} FLAG_D");
        assert_eq!(&b, want_b, "device {d} CFGB");
    }
}

fn cfgb_of<const N: usize>(sim: &Sim<Adbms6830Chain<Adbms6830b, N>>) -> [[u8; 6]; N] {
    core::array::from_fn(|d| sim.with(|m| m.config(d)).unwrap().1)
}

fn assert_all_passed(out: &[LatentReport]) {
    for (d, r) in out.iter().enumerate() {
        for t in LatentTest::ALL {
            assert_eq!(r.outcome(t), LatentOutcome::Passed, "device {d} {t:?}");
        }
        assert!(r.passed(LatentSet::ALL));
        assert_eq!(r.restore_fault, None);
        // OC_CNTR reported raw: faster > normal > slower (the virtual oscillator).
        let (f, n, s) = (
            r.oscillator_fast.valid().unwrap(),
            r.oscillator_normal.valid().unwrap(),
            r.oscillator_slow.valid().unwrap(),
        );
        assert!(f > n && n > s, "device {d}: {f} {n} {s}");
    }
}

fn healthy_blocking<const N: usize>() {
    let sim = chain::<N>();
    let mut bms = Adbms6830::<Adbms6830b, N, _>::new(Blocking::new(sim.spi(), sim.delay()));
    CellMonitor::wake(&mut bms).unwrap();
    let (a, b) = cfg();
    bms.configure(a, b).unwrap();
    let cfgb = cfgb_of(&sim);
    let mut out = [LatentReport::NOT_RUN; N];
    let report = bms
        .latent_fault_self_test(LatentSet::ALL, &mut out)
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_all_passed(&out);
    assert_restored(&sim, &cfgb);
    for d in 0..N {
        let (st4, st5) = sim.with(|m| m.status_flags(d)).unwrap();
        assert_eq!(st4, 0, "device {d}");
        assert_eq!(
            st5 & (VDEL | VDE | THSD | TMODCHK | OSCCHK),
            0,
            "device {d}"
        );
    }
    // The counter bookkeeping followed every command: the next read is clean, and the
    // driver's held configuration is the restored one.
    let mut st = [Reading::NotConverted; N];
    assert!(bms.read_status_c(&mut st).unwrap().is_ok());
    assert!(bms.config().0.iter().all(|c| c.flag_d == 0));
}

#[test]
fn healthy_chain_of_1_passes_every_test() {
    healthy_blocking::<1>();
}

#[test]
fn healthy_chain_of_2_passes_every_test() {
    healthy_blocking::<2>();
}

#[test]
fn healthy_chain_of_16_passes_every_test() {
    healthy_blocking::<16>();
}

#[test]
fn healthy_chain_of_16_passes_every_test_async() {
    let sim = chain::<16>();
    let mut bms = Adbms6830::<Adbms6830b, 16, _>::new(Async::new(sim.spi(), sim.delay()));
    block_on(bms_afe::AsyncCellMonitor::wake(&mut bms)).unwrap();
    let (a, b) = cfg();
    block_on(bms.configure(a, b)).unwrap();
    let cfgb = cfgb_of(&sim);
    let mut out = [LatentReport::NOT_RUN; 16];
    let report = block_on(bms.latent_fault_self_test(LatentSet::ALL, &mut out)).unwrap();
    assert!(report.is_ok());
    assert_all_passed(&out);
    assert_restored(&sim, &cfgb);
}

#[test]
fn subset_runs_only_what_was_asked() {
    let sim = chain::<2>();
    let mut bms = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    CellMonitor::wake(&mut bms).unwrap();
    let (a, b) = cfg();
    bms.configure(a, b).unwrap();
    let mut out = [LatentReport::NOT_RUN; 2];
    let set = LatentSet::EMPTY.with(LatentTest::SupplyOv);
    assert!(bms.latent_fault_self_test(set, &mut out).unwrap().is_ok());
    for r in &out {
        for t in LatentTest::ALL {
            let want = if t == LatentTest::SupplyOv {
                LatentOutcome::Passed
            } else {
                LatentOutcome::NotRun
            };
            assert_eq!(r.outcome(t), want, "{t:?}");
        }
        assert_eq!(r.oscillator_fast, Reading::NotConverted);
    }
    // The empty set sends nothing and reports nothing.
    let before = sim.with(|m| m.counter(0));
    assert!(
        bms.latent_fault_self_test(LatentSet::EMPTY, &mut out)
            .unwrap()
            .is_ok()
    );
    assert_eq!(sim.with(|m| m.counter(0)), before);
    assert_eq!(out, [LatentReport::NOT_RUN; 2]);
}

/// What [`run_broken`] returns: the chain, the reports, the chain report, CFGB before.
type Broken<const N: usize> = (
    Sim<Adbms6830Chain<Adbms6830b, N>>,
    [LatentReport; N],
    bms_afe::monitor::ChainReport,
    [[u8; 6]; N],
);

/// Runs every test on a chain of `N` where `setup` breaks device `k`; returns the reports.
fn run_broken<const N: usize>(
    setup: impl FnOnce(&mut Adbms6830Chain<Adbms6830b, N>),
    async_: bool,
) -> Broken<N> {
    let sim = chain::<N>();
    let mut out = [LatentReport::NOT_RUN; N];
    let (a, b) = cfg();
    let (report, cfgb) = if async_ {
        let mut bms = Adbms6830::<Adbms6830b, N, _>::new(Async::new(sim.spi(), sim.delay()));
        block_on(bms_afe::AsyncCellMonitor::wake(&mut bms)).unwrap();
        block_on(bms.configure(a, b)).unwrap();
        let cfgb = cfgb_of(&sim);
        sim.with(setup);
        (
            block_on(bms.latent_fault_self_test(LatentSet::ALL, &mut out)).unwrap(),
            cfgb,
        )
    } else {
        let mut bms = Adbms6830::<Adbms6830b, N, _>::new(Blocking::new(sim.spi(), sim.delay()));
        CellMonitor::wake(&mut bms).unwrap();
        bms.configure(a, b).unwrap();
        let cfgb = cfgb_of(&sim);
        sim.with(setup);
        (
            bms.latent_fault_self_test(LatentSet::ALL, &mut out)
                .unwrap(),
            cfgb,
        )
    };
    (sim, out, report, cfgb)
}

#[test]
fn broken_detector_at_device_k_is_reported_only_there() {
    for async_ in [false, true] {
        // Device 9 of 16 cannot raise VD_UV.
        let (sim, out, report, cfgb) =
            run_broken::<16>(|m| m.set_flags_never_set(9, VD_UV, 0), async_);
        // Every frame was good: this is a verdict, not an integrity failure.
        assert!(report.is_ok());
        for (d, r) in out.iter().enumerate() {
            for t in LatentTest::ALL {
                let want = if d == 9 && t == LatentTest::SupplyUv {
                    LatentOutcome::FlagNotSet {
                        missing: flags(VD_UV, 0),
                    }
                } else {
                    LatentOutcome::Passed
                };
                assert_eq!(r.outcome(t), want, "device {d} {t:?}");
            }
        }
        assert!(!out[9].passed(LatentSet::ALL));
        assert!(
            out[9].passed(
                LatentSet::ALL
                    .iter()
                    .filter(|t| *t != LatentTest::SupplyUv)
                    .fold(LatentSet::EMPTY, LatentSet::with)
            )
        );
        assert_restored(&sim, &cfgb);
    }
}

#[test]
fn broken_thermal_shutdown_detector() {
    let (_, out, report, _) = run_broken::<2>(|m| m.set_flags_never_set(1, 0, THSD), false);
    assert!(report.is_ok());
    assert_eq!(
        out[1].outcome(LatentTest::ThermalShutdown),
        LatentOutcome::FlagNotSet {
            missing: flags(0, THSD)
        }
    );
    assert!(out[0].passed(LatentSet::ALL));
}

#[test]
fn stuck_high_flag_is_reported_as_not_cleared() {
    // OSCCHK of device 2 of 3 never clears.
    let (sim, out, report, cfgb) =
        run_broken::<3>(|m| m.set_flags_never_clear(2, 0, OSCCHK), false);
    assert!(report.is_ok());
    for (d, r) in out.iter().enumerate() {
        for t in LatentTest::ALL {
            let want = if d == 2 && t.reads_oscillator_counter() {
                LatentOutcome::FlagNotCleared {
                    stuck: flags(0, OSCCHK),
                }
            } else {
                LatentOutcome::Passed
            };
            assert_eq!(r.outcome(t), want, "device {d} {t:?}");
        }
    }
    assert_restored(&sim, &cfgb);
}

#[test]
fn silent_device_is_not_tested_and_the_others_pass() {
    for async_ in [false, true] {
        let (sim, out, report, cfgb) =
            run_broken::<3>(|m| m.inject(InjectedFault::Silent { device: 1 }), async_);
        let fault = DeviceFault {
            device: 1,
            reason: FaultReason::NoResponse,
        };
        assert_eq!(report.failed.len(), 1);
        assert!(report.failed.contains(1));
        assert_eq!(report.first_fault, Some(fault));
        for t in LatentTest::ALL {
            assert_eq!(out[1].outcome(t), LatentOutcome::NotTested(fault), "{t:?}");
        }
        assert_eq!(out[1].oscillator_fast, Reading::Failed(fault));
        assert_eq!(out[1].restore_fault, Some(fault));
        for d in [0, 2] {
            assert!(out[d].passed(LatentSet::ALL), "device {d}: {:?}", out[d]);
        }
        // A silent device still hears: its configuration is restored too (checked on the
        // virtual chip).
        assert_restored(&sim, &cfgb);
    }
}

#[test]
fn corrupted_device_is_not_tested_and_the_others_pass() {
    let (sim, out, report, cfgb) = run_broken::<4>(
        |m| {
            m.inject(InjectedFault::CorruptResponses {
                device: 3,
                seed: 0x1234_5678,
                frames: u32::MAX,
            })
        },
        false,
    );
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed.contains(3));
    for t in LatentTest::ALL {
        assert!(
            matches!(
                out[3].outcome(t),
                LatentOutcome::NotTested(DeviceFault { device: 3, .. })
            ),
            "{t:?}: {:?}",
            out[3].outcome(t)
        );
    }
    assert!(out[3].restore_fault.is_some());
    for (d, o) in out.iter().enumerate().take(3) {
        assert!(o.passed(LatentSet::ALL), "device {d}");
    }
    assert_restored(&sim, &cfgb);
}

#[test]
fn forced_thermal_shutdown_that_resets_a_device_is_caught() {
    // If forcing THSD resets device 1 (as a real thermal shutdown might), its counter
    // restart is caught: a device whose counter failed anywhere in the self-test may have
    // missed a command of it, so every test of device 1 in that run is "not tested" with
    // the command-counter fault; the other devices pass, the configuration is rewritten,
    // and the device stays failed until `wake` recovers it.
    let sim = chain::<3>();
    let mut bms = Adbms6830::<Adbms6830b, 3, _>::new(Blocking::new(sim.spi(), sim.delay()));
    CellMonitor::wake(&mut bms).unwrap();
    let (a, b) = cfg();
    bms.configure(a, b).unwrap();
    let cfgb = cfgb_of(&sim);
    sim.with(|m| m.set_forced_thsd_resets(1, true));
    let mut out = [LatentReport::NOT_RUN; 3];
    let report = bms
        .latent_fault_self_test(LatentSet::ALL, &mut out)
        .unwrap();
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed.contains(1));
    for t in LatentTest::ALL {
        assert!(
            matches!(
                out[1].outcome(t),
                LatentOutcome::NotTested(DeviceFault {
                    device: 1,
                    reason: FaultReason::CommandCounter { received: 0, .. }
                })
            ),
            "{t:?}: {:?}",
            out[1].outcome(t)
        );
    }
    assert!(matches!(out[1].oscillator_fast, Reading::Failed(_)));
    assert!(matches!(out[1].oscillator_normal, Reading::Failed(_)));
    assert!(out[0].passed(LatentSet::ALL));
    assert!(out[2].passed(LatentSet::ALL));
    // The reset device got its configuration back (checked on the virtual chip) …
    assert_restored(&sim, &cfgb);
    // … but its data stays failed until RSTCC: `wake` recovers it.
    let mut st = [Reading::NotConverted; 3];
    assert!(bms.read_status_c(&mut st).unwrap().failed.contains(1));
    CellMonitor::wake(&mut bms).unwrap();
    assert!(bms.read_status_c(&mut st).unwrap().is_ok());
}

/// An SPI device over the virtual chain that fails the transaction numbered `fail_at`
/// (counted from when `count` was last set to 0) on the bus and forwards every other one.
struct FailOnce<'a> {
    inner: bms_afe::sim::SimSpi<'a, Adbms6830Chain<Adbms6830b, 2>>,
    count: &'a core::cell::Cell<usize>,
    fail_at: &'a core::cell::Cell<usize>,
}

impl embedded_hal::spi::ErrorType for FailOnce<'_> {
    type Error = embedded_hal::spi::ErrorKind;
}

impl embedded_hal::spi::SpiDevice for FailOnce<'_> {
    fn transaction(
        &mut self,
        ops: &mut [embedded_hal::spi::Operation<'_, u8>],
    ) -> Result<(), Self::Error> {
        let n = self.count.get();
        self.count.set(n + 1);
        if n == self.fail_at.get() {
            return Err(embedded_hal::spi::ErrorKind::Other);
        }
        self.inner
            .transaction(ops)
            .map_err(|_| embedded_hal::spi::ErrorKind::Other)
    }
}

#[test]
fn bus_error_midway_still_restores_flag_d() {
    let sim = chain::<2>();
    let (a, b) = cfg();
    let count = core::cell::Cell::new(0);
    let fail_at = core::cell::Cell::new(usize::MAX);
    let spi = FailOnce {
        inner: sim.spi(),
        count: &count,
        fail_at: &fail_at,
    };
    let mut bms = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(spi, sim.delay()));
    CellMonitor::wake(&mut bms).unwrap();
    bms.configure(a, b).unwrap();
    let cfgb = cfgb_of(&sim);
    // Frames of the run: 2 wake-idle frames; the initial RDSTATC; oscillator-fast test:
    // CLRFLAG, RDSTATC, WRCFGA, RDCFGA, RDSTATC, RDSTATD, WRCFGA, RDCFGA, CLRFLAG, RDSTATC,
    // RDSTATD (11); oscillator-slow test: CLRFLAG, RDSTATC, WRCFGA, RDCFGA, then its RDSTATC
    // fails on the bus — with FLAG_D = 0x02 set on both devices.
    count.set(0);
    fail_at.set(2 + 1 + 11 + 4);
    let mut out = [LatentReport::NOT_RUN; 2];
    let r = bms.latent_fault_self_test(LatentSet::ALL, &mut out);
    assert!(matches!(r, Err(Error::Bus(_))), "{r:?}");
    for (d, o) in out.iter().enumerate() {
        assert_eq!(
            o.outcome(LatentTest::OscillatorFast),
            LatentOutcome::Passed,
            "{d}"
        );
        assert_eq!(
            o.outcome(LatentTest::OscillatorSlow),
            LatentOutcome::NotRun,
            "{d}"
        );
        assert_eq!(
            o.outcome(LatentTest::ThermalShutdown),
            LatentOutcome::NotRun,
            "{d}"
        );
    }
    // FLAG_D is back to 0 on the chip (checked on the virtual chip), the rest as before.
    assert_restored(&sim, &cfgb);
    // The restore went out after the failure.
    assert!(count.get() > 2 + 1 + 11 + 4 + 1);
    // The OSCCHK flag the cut-short test forced is not cleared by the driver: it stays
    // visible (documented), it is not hidden.
    for d in 0..2 {
        assert_ne!(sim.with(|m| m.status_flags(d)).unwrap().1 & OSCCHK, 0);
    }
}

// ---- wire ---------------------------------------------------------------------------------

const RDCFGA: [u8; 4] = [0x00, 0x02, 0x2B, 0x0A]; // §2.2 [X]
const RDCFGB: [u8; 4] = [0x00, 0x26, 0x2C, 0xC8]; // §2.2 [X]
const WRCFGA: [u8; 4] = [0x00, 0x01, 0x3D, 0x6E]; // §2.2 [X]
const WRCFGB: [u8; 4] = [0x00, 0x24, 0xB1, 0x9E]; // §2.2 [X]
const RDSTATC: [u8; 4] = [0x00, 0x32, 0xC6, 0x78]; // §6.2 [D]
const CLRFLAG: [u8; 4] = [0x07, 0x17, 0xE5, 0x08]; // §6.2 [D]
/// Default CFGA / CFGB images (adi.md §6.4).
const CFGA_DEFAULT: [u8; 6] = [0x01, 0x00, 0x00, 0xFF, 0x03, 0x00];
const CFGB_DEFAULT: [u8; 6] = [0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00];

/// One device, the supply-UV test only, from counter 0 with the default configuration.
/// `stcr4` is what the device answers in STCR4 while FLAG_D = 0x04; `forced_back` and
/// `final_back` are its CFGA read-backs after the forcing write and the final restore.
fn supply_uv_wire(stcr4: u8, forced_back: [u8; 6], final_back: [u8; 6]) -> Vec<T<u8>> {
    supply_uv_wire_from(0, 0, stcr4, forced_back, final_back)
}

/// As [`supply_uv_wire`], with the STCR4 the device answers before the self-test touched
/// anything (`latched`) and after the CLRFLAG that precedes the forcing (`baseline`).
fn supply_uv_wire_from(
    latched: u8,
    baseline: u8,
    stcr4: u8,
    forced_back: [u8; 6],
    final_back: [u8; 6],
) -> Vec<T<u8>> {
    let mut e = cmd(RDCFGA); // wake_idle: one dummy frame per device
    // What was latched before: read first, reported, then cleared.
    e.extend(read(RDSTATC, sealed(&[0, 0, 0, 0, latched, 0], 0)));
    // CLRFLAG: all four supply OV/UV flags (STCR4 0xF0) and VDEL/VDE (STCR5 0xC0).
    let clr = [0, 0, 0, 0, 0xF0, 0xC0];
    e.extend(write(CLRFLAG, sealed(&clr, 0)));
    e.extend(read(RDSTATC, sealed(&[0, 0, 0, 0, baseline, 0], 1))); // CLRFLAG counted: CC 1
    // WRCFGA with FLAG_D (CFGAR1) = 0x04, write PEC10 with counter bits 0.
    let forced = [0x01, 0x04, 0x00, 0xFF, 0x03, 0x00];
    let w = sealed(&forced, 0);
    assert_eq!(
        [WRCFGA.as_slice(), &w].concat().len(),
        12,
        "command + 6 data + 2 PEC"
    );
    e.extend(write(WRCFGA, w));
    e.extend(read(RDCFGA, sealed(&forced_back, 2))); // WRCFGA counted: CC 2
    e.extend(read(RDSTATC, sealed(&[0, 0, 0, 0, stcr4, 0], 2)));
    // FLAG_D = 0 again: the §7.3 vector, byte for byte.
    e.extend(write(
        WRCFGA,
        vec![0x01, 0x00, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x5A],
    ));
    e.extend(read(RDCFGA, sealed(&CFGA_DEFAULT, 3)));
    e.extend(write(CLRFLAG, sealed(&clr, 0)));
    e.extend(read(RDSTATC, sealed(&[0; 6], 4))); // CLRFLAG counted: CC 4
    // Final restore: CFGA (FLAG_D = 0) and CFGB, both §7.3 vectors, verified.
    e.extend(write(
        WRCFGA,
        vec![0x01, 0x00, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x5A],
    ));
    e.extend(read(RDCFGA, sealed(&final_back, 5)));
    e.extend(write(
        WRCFGB,
        vec![0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00, 0x03, 0x3D],
    ));
    e.extend(read(RDCFGB, sealed(&CFGB_DEFAULT, 6)));
    e
}

/// CFGA with FLAG_D = 0x04 (CFGAR1), the rest default.
const FORCED: [u8; 6] = [0x01, 0x04, 0x00, 0xFF, 0x03, 0x00];

/// Runs `exp` through the blocking and the async driver (one device, supply-UV test).
fn both_flavours(
    exp: &[T<u8>],
    check: impl Fn(
        Result<bms_afe::monitor::ChainReport, Error<bms_afe::io::SpiError<Mock<u8>>>>,
        &LatentReport,
    ),
) {
    let set = LatentSet::of(&[LatentTest::SupplyUv]);
    let mut d = Adbms6830::<Adbms6830b, 1, _>::new(Blocking::new(Mock::new(exp), NoopDelay::new()));
    let mut out = [LatentReport::NOT_RUN];
    let r = d.latent_fault_self_test(set, &mut out);
    check(r, &out[0]);
    let (mut m, _) = d.release().release();
    m.done();
    let mut d = Adbms6830::<Adbms6830b, 1, _>::new(Async::new(Mock::new(exp), NoopDelay::new()));
    let mut out = [LatentReport::NOT_RUN];
    let r = block_on(d.latent_fault_self_test(set, &mut out));
    check(r, &out[0]);
    let (mut m, _) = d.release().release();
    m.done();
}

#[test]
fn wire_flag_d_not_applied_is_not_judged() {
    // The device answers its forced read-back with FLAG_D = 0 (good PEC): the write did
    // not take. Its STATC (even with the flags set) is not judged.
    let exp = supply_uv_wire(VA_UV | VD_UV, CFGA_DEFAULT, CFGA_DEFAULT);
    both_flavours(&exp, |r, o| {
        assert!(r.unwrap().is_ok());
        match o.outcome(LatentTest::SupplyUv) {
            LatentOutcome::NotApplied(m) => {
                assert_eq!((m.device, m.register, m.offset), (0, "CFGA", 1));
                assert_eq!((m.expected, m.actual), (0x04, 0x00));
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn wire_restore_mismatch_is_an_error() {
    // The final CFGA read-back still shows FLAG_D = 0x04: never left set silently.
    let exp = supply_uv_wire(VA_UV | VD_UV, FORCED, FORCED);
    both_flavours(&exp, |r, o| {
        match r {
            Err(Error::Verify(m)) => {
                assert_eq!((m.device, m.register, m.offset), (0, "CFGA", 1));
                assert_eq!((m.expected, m.actual), (0x00, 0x04));
            }
            other => panic!("{other:?}"),
        }
        // The verdict of the test itself is still there.
        assert_eq!(o.outcome(LatentTest::SupplyUv), LatentOutcome::Passed);
    });
}

#[test]
fn wire_supply_uv_single_device() {
    let set = LatentSet::of(&[LatentTest::SupplyUv]);
    for (stcr4, want) in [
        (VA_UV | VD_UV, LatentOutcome::Passed),
        (
            VA_UV,
            LatentOutcome::FlagNotSet {
                missing: flags(VD_UV, 0),
            },
        ),
    ] {
        let exp = supply_uv_wire(stcr4, FORCED, CFGA_DEFAULT);
        let mut d =
            Adbms6830::<Adbms6830b, 1, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
        let mut out = [LatentReport::NOT_RUN];
        assert!(d.latent_fault_self_test(set, &mut out).unwrap().is_ok());
        assert_eq!(out[0].outcome(LatentTest::SupplyUv), want);
        assert_eq!(d.expected_counters(), [6]);
        let (mut m, _) = d.release().release();
        m.done();

        let mut d =
            Adbms6830::<Adbms6830b, 1, _>::new(Async::new(Mock::new(&exp), NoopDelay::new()));
        let mut out = [LatentReport::NOT_RUN];
        assert!(
            block_on(d.latent_fault_self_test(set, &mut out))
                .unwrap()
                .is_ok()
        );
        assert_eq!(out[0].outcome(LatentTest::SupplyUv), want);
        let (mut m, _) = d.release().release();
        m.done();
    }
}

#[test]
fn wire_flags_latched_before_are_reported_and_never_make_a_pass() {
    // VA_UV and VD_UV were latched before the call (a real brown-out, say). They are reported
    // in `latched_before`; CLRFLAG clears them before forcing, so the forced read judges the
    // detector: here it stays silent (a dead detector) and is found.
    let exp = supply_uv_wire_from(VA_UV | VD_UV, 0, 0, FORCED, CFGA_DEFAULT);
    both_flavours(&exp, |r, o| {
        assert!(r.unwrap().is_ok());
        assert_eq!(o.latched_before, Reading::Valid(flags(VA_UV | VD_UV, 0)));
        assert_eq!(
            o.outcome(LatentTest::SupplyUv),
            LatentOutcome::FlagNotSet {
                missing: flags(VA_UV | VD_UV, 0)
            }
        );
    });
    // A flag that CLRFLAG cannot clear before forcing proves nothing: not a pass, even
    // though the forced read shows every expected flag.
    let exp = supply_uv_wire_from(VA_UV, VA_UV, VA_UV | VD_UV, FORCED, CFGA_DEFAULT);
    both_flavours(&exp, |r, o| {
        assert!(r.unwrap().is_ok());
        assert_eq!(
            o.outcome(LatentTest::SupplyUv),
            LatentOutcome::FlagNotCleared {
                stuck: flags(VA_UV, 0)
            }
        );
    });
}

#[test]
fn wire_no_forced_oscillator_count_without_flag_d() {
    // Oscillator-fast test, one device, whose CFGA read-back after the forcing write shows
    // FLAG_D = 0 (the write did not take): the OC_CNTR read then is no forced count.
    const RDSTATD: [u8; 4] = [0x00, 0x33, 0x4D, 0x4A]; // §6.2 [D]
    let clr = [0, 0, 0, 0, 0, OSCCHK];
    let std = |oc: u8| [0, 0, 0, 0, 0xFF, oc];
    let mut e = cmd(RDCFGA);
    e.extend(read(RDSTATC, sealed(&[0; 6], 0)));
    e.extend(write(CLRFLAG, sealed(&clr, 0)));
    e.extend(read(RDSTATC, sealed(&[0; 6], 1)));
    e.extend(write(
        WRCFGA,
        sealed(&[0x01, 0x01, 0x00, 0xFF, 0x03, 0x00], 0),
    ));
    e.extend(read(RDCFGA, sealed(&CFGA_DEFAULT, 2))); // FLAG_D did not take
    e.extend(read(RDSTATC, sealed(&[0; 6], 2)));
    e.extend(read(RDSTATD, sealed(&std(61), 2)));
    e.extend(write(
        WRCFGA,
        vec![0x01, 0x00, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x5A],
    ));
    e.extend(read(RDCFGA, sealed(&CFGA_DEFAULT, 3)));
    e.extend(write(CLRFLAG, sealed(&clr, 0)));
    e.extend(read(RDSTATC, sealed(&[0; 6], 4)));
    e.extend(read(RDSTATD, sealed(&std(61), 4)));
    e.extend(write(
        WRCFGA,
        vec![0x01, 0x00, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x5A],
    ));
    e.extend(read(RDCFGA, sealed(&CFGA_DEFAULT, 5)));
    e.extend(write(
        WRCFGB,
        vec![0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00, 0x03, 0x3D],
    ));
    e.extend(read(RDCFGB, sealed(&CFGB_DEFAULT, 6)));
    let set = LatentSet::of(&[LatentTest::OscillatorFast]);
    let mut d = Adbms6830::<Adbms6830b, 1, _>::new(Blocking::new(Mock::new(&e), NoopDelay::new()));
    let mut out = [LatentReport::NOT_RUN];
    assert!(d.latent_fault_self_test(set, &mut out).unwrap().is_ok());
    assert!(matches!(
        out[0].outcome(LatentTest::OscillatorFast),
        LatentOutcome::NotApplied(_)
    ));
    assert_eq!(out[0].oscillator_fast, Reading::NotConverted);
    assert_eq!(out[0].oscillator_normal, Reading::Valid(61));
    let (mut m, _) = d.release().release();
    m.done();
}
