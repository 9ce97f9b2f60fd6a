//! FLAG_D latent-fault self-tests (sans-IO part): which FLAG_D pattern each test writes,
//! which status-C flags it must set, and the per-device result types of
//! [`Adbms6830::latent_fault_self_test`](crate::adbms6830::Adbms6830::latent_fault_self_test).
//!
//! # What the chip offers
//!
//! CFGA byte 1 (CFGAR1) is FLAG_D\[7:0\] (ADBMS6830B-DS Tables 55/56). Its bits
//! *force* the chip's own fault detectors to trip, so the host can check that a detector
//! still works — a detector that cannot trip is a **latent fault**: the chip would stay
//! silent about the real fault it is meant to catch. Bit meanings (ADBMS6830-SpA Table 104;
//! the same in ADI's reference header `adBms6830Data.h`, FLAG_D enum):
//!
//! | bit | forces |
//! |---|---|
//! | 0 | oscillator counter fast |
//! | 1 | oscillator counter slow |
//! | 2 | supply error detection |
//! | 3 | selects supply OV and delta detection (1) or UV (0) for bit 2 |
//! | 4 | thermal shutdown (THSD) |
//! | 5 | fuse/NVM error detection (ED) |
//! | 6 | fuse/NVM multiple error detection (MED) |
//! | 7 | test-mode check (TMODCHK) |
//!
//! The patterns written per test are the ones foxBMS 2 uses for the same family
//! (`adi_ades183x_defs.h`, `ADI_FLAG_D_*`, BSD-3-Clause): UV check 0x04, OV check 0x0C,
//! oscillator faster 0x01, slower 0x02, force THSD 0x10, force TMODCHK 0x80, induce ECC
//! error 0x60, default 0x00.
//!
//! # What is not verified
//!
//! **Which status-C flags each pattern sets is UNVERIFIED**: no data-sheet table of outcomes
//! was in hand. [`LatentTest::expected`] is inferred from the bit names and from the flags
//! foxBMS 2 checks in its latent-fault error table (VA/VD OV and UV, VDE, VDEL, OSCCHK,
//! THSD, TMODCHK, CMED, SMED): see each variant. Characterise the self-test on your silicon
//! before relying on it; a mismatch between this table and the chip shows up as
//! [`LatentOutcome::FlagNotSet`] on every device for that test.
//!
//! ```
//! use bms_afe::adbms6830::latent::{LatentFlags, LatentSet, LatentTest};
//! use bms_afe::adbms6830::register::StatusC;
//!
//! assert_eq!(LatentTest::SupplyOv.flag_d(), 0x0C);
//! let e = LatentTest::SupplyOv.expected();
//! assert_eq!(e.supply, StatusC::VA_OV | StatusC::VD_OV);
//! assert_eq!(e.system, StatusC::VDEL | StatusC::VDE);
//! // Thermal shutdown runs last whatever the order asked for (it may reset a device).
//! let set = LatentSet::of(&[LatentTest::ThermalShutdown, LatentTest::OscillatorFast]);
//! let order: Vec<_> = set.iter().collect();
//! assert_eq!(order, [LatentTest::OscillatorFast, LatentTest::ThermalShutdown]);
//! assert!(LatentFlags::of(&StatusC { supply_flags: 0xF0, ..StatusC::default() }).contains(
//!     LatentTest::SupplyUv.expected()));
//! ```

use super::register::StatusC;
use crate::error::{DeviceFault, VerifyMismatch};
use crate::monitor::Reading;

/// Settle time the self-test waits after writing FLAG_D (and again after clearing it,
/// before CLRFLAG): 2 ms. **Crate-chosen**, not a data-sheet figure (none is in the notes):
/// two C-ADC cadences (1 ms each), short of tIDLE (4.3 ms minimum) so the isoSPI ports stay
/// awake. The driver re-wakes the ports itself after any wait that can exceed tIDLE.
pub const LATENT_SETTLE_US: u32 = 2_000;

/// Status-C flag bits the self-test uses that [`StatusC`] did not name yet (STCR5 layout
/// VDEL VDE COMP SPIFLT SLEEP THSD TMODCHK OSCCHK, b7..b0; ADBMS6830B-DS Status Register Group C).
impl StatusC {
    /// VDEL (STCR5 b7): supply delta error, latent.
    pub const VDEL: u8 = 0x80;
    /// VDE (STCR5 b6): supply delta error.
    pub const VDE: u8 = 0x40;
    /// COMP (STCR5 b5): comparison flag (its exact meaning is not in the notes; not used
    /// by the self-test).
    pub const COMP: u8 = 0x20;
    /// TMODCHK (STCR5 b1): test-mode check.
    pub const TMODCHK: u8 = 0x02;
    /// OSCCHK (STCR5 b0): oscillator check.
    pub const OSCCHK: u8 = 0x01;
}

/// A set of status-C flags: STCR4 (`supply`: VA_OV VA_UV VD_OV VD_UV CED CMED SED SMED,
/// b7..b0) and STCR5 (`system`: VDEL VDE COMP SPIFLT SLEEP THSD TMODCHK OSCCHK, b7..b0);
/// ADBMS6830B-DS Status Register Group C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LatentFlags {
    /// STCR4 bits.
    pub supply: u8,
    /// STCR5 bits.
    pub system: u8,
}

impl LatentFlags {
    /// No flag.
    pub const NONE: Self = Self {
        supply: 0,
        system: 0,
    };

    /// The STCR4/STCR5 flags of a decoded status C.
    pub const fn of(status: &StatusC) -> Self {
        Self {
            supply: status.supply_flags,
            system: status.system_flags,
        }
    }

    /// `true` if no flag is in the set.
    pub const fn is_empty(self) -> bool {
        self.supply == 0 && self.system == 0
    }

    /// `true` if every flag of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.supply & other.supply == other.supply && self.system & other.system == other.system
    }

    /// The flags of both sets.
    pub const fn and(self, other: Self) -> Self {
        Self {
            supply: self.supply & other.supply,
            system: self.system & other.system,
        }
    }

    /// The flags of `self` that are not in `other`.
    pub const fn without(self, other: Self) -> Self {
        Self {
            supply: self.supply & !other.supply,
            system: self.system & !other.system,
        }
    }

    /// CLRFLAG data bytes clearing exactly these flags: bytes 0–1 (CS flags) and 2–3 (the
    /// conversion counter) 0, byte 4 = STCR4 bits, byte 5 = STCR5 bits — the STATC layout,
    /// 1 = clear (the layout is assumed to mirror STATC: unverified, like CLOVUV's).
    pub const fn clrflag_bytes(self) -> [u8; 6] {
        [0, 0, 0, 0, self.supply, self.system]
    }
}

/// One FLAG_D latent-fault test. Discriminants give the run order (thermal shutdown last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LatentTest {
    /// FLAG_D = 0x01 (bit 0: oscillator counter fast). Expected: OSCCHK. The oscillator
    /// counter OC_CNTR (STATD STDR5) is reported raw, not judged.
    OscillatorFast = 0,
    /// FLAG_D = 0x02 (bit 1: oscillator counter slow). Expected: OSCCHK; OC_CNTR raw.
    OscillatorSlow = 1,
    /// FLAG_D = 0x04 (bit 2 supply error detection, bit 3 = 0: UV). Expected: VA_UV and
    /// VD_UV.
    SupplyUv = 2,
    /// FLAG_D = 0x0C (bit 2 supply error detection, bit 3 = 1: OV and delta). Expected:
    /// VA_OV, VD_OV, VDE and VDEL.
    SupplyOv = 3,
    /// FLAG_D = 0x60 (bits 5, 6: fuse/NVM ED and MED, foxBMS "induce ECC error").
    /// Expected: CMED and SMED.
    MemoryEcc = 4,
    /// FLAG_D = 0x80 (bit 7: TMODCHK). Expected: TMODCHK.
    TestModeCheck = 5,
    /// FLAG_D = 0x10 (bit 4: THSD). Expected: THSD. Forcing thermal shutdown may do to
    /// silicon what a real one does (reset registers and the command counter: not in the
    /// notes), so it always runs last; see
    /// [`Adbms6830::latent_fault_self_test`](crate::adbms6830::Adbms6830::latent_fault_self_test).
    ThermalShutdown = 6,
}

impl LatentTest {
    /// Number of tests.
    pub const COUNT: usize = 7;

    /// Every test, in run order (thermal shutdown last).
    pub const ALL: [LatentTest; Self::COUNT] = [
        Self::OscillatorFast,
        Self::OscillatorSlow,
        Self::SupplyUv,
        Self::SupplyOv,
        Self::MemoryEcc,
        Self::TestModeCheck,
        Self::ThermalShutdown,
    ];

    /// The FLAG_D byte (CFGAR1) the test writes (foxBMS 2 `ADI_FLAG_D_*` patterns; bit
    /// meanings ADBMS6830-SpA Table 104).
    pub const fn flag_d(self) -> u8 {
        match self {
            Self::OscillatorFast => 0x01,
            Self::OscillatorSlow => 0x02,
            Self::SupplyUv => 0x04,
            Self::SupplyOv => 0x0C,
            Self::MemoryEcc => 0x60,
            Self::TestModeCheck => 0x80,
            Self::ThermalShutdown => 0x10,
        }
    }

    /// The status-C flags a healthy device must show while the test's FLAG_D is set
    /// (**UNVERIFIED**: inferred from the bit names; see the [module docs](self)).
    pub const fn expected(self) -> LatentFlags {
        match self {
            Self::OscillatorFast | Self::OscillatorSlow => LatentFlags {
                supply: 0,
                system: StatusC::OSCCHK,
            },
            Self::SupplyUv => LatentFlags {
                supply: StatusC::VA_UV | StatusC::VD_UV,
                system: 0,
            },
            Self::SupplyOv => LatentFlags {
                supply: StatusC::VA_OV | StatusC::VD_OV,
                system: StatusC::VDEL | StatusC::VDE,
            },
            Self::MemoryEcc => LatentFlags {
                supply: StatusC::CMED | StatusC::SMED,
                system: 0,
            },
            Self::TestModeCheck => LatentFlags {
                supply: 0,
                system: StatusC::TMODCHK,
            },
            Self::ThermalShutdown => LatentFlags {
                supply: 0,
                system: StatusC::THSD,
            },
        }
    }

    /// The flags the test clears with CLRFLAG afterwards and then checks are clear: the
    /// expected flags plus their siblings the forced detector may also have tripped (all
    /// four supply OV/UV flags with VDE/VDEL for the supply tests; CED, CMED, SED, SMED for
    /// the memory test). A superset of [`expected`](Self::expected), so nothing the test
    /// could have caused is left looking like a real fault. Other flags (a real CS
    /// mismatch, SLEEP, SPIFLT …) are not touched.
    pub const fn clears(self) -> LatentFlags {
        match self {
            Self::SupplyUv | Self::SupplyOv => LatentFlags {
                supply: StatusC::VA_OV | StatusC::VA_UV | StatusC::VD_OV | StatusC::VD_UV,
                system: StatusC::VDEL | StatusC::VDE,
            },
            Self::MemoryEcc => LatentFlags {
                supply: StatusC::CED | StatusC::CMED | StatusC::SED | StatusC::SMED,
                system: 0,
            },
            _ => self.expected(),
        }
    }

    /// `true` for the oscillator tests, which also read STATD for OC_CNTR.
    pub const fn reads_oscillator_counter(self) -> bool {
        matches!(self, Self::OscillatorFast | Self::OscillatorSlow)
    }

    /// Index in [`LatentReport::outcomes`] (= position in [`LatentTest::ALL`]).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A set of latent-fault tests. Iterates in run order ([`LatentTest::ALL`]) whatever the
/// order of insertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LatentSet(u8);

impl LatentSet {
    /// No test.
    pub const EMPTY: Self = Self(0);
    /// Every test.
    pub const ALL: Self = Self((1 << LatentTest::COUNT) - 1);

    /// The set of the given tests.
    pub const fn of(tests: &[LatentTest]) -> Self {
        let mut s = 0u8;
        let mut i = 0;
        while i < tests.len() {
            s |= 1 << tests[i].index();
            i += 1;
        }
        Self(s)
    }

    /// This set plus `test`.
    pub const fn with(self, test: LatentTest) -> Self {
        Self(self.0 | 1 << test.index())
    }

    /// `true` if `test` is in the set.
    pub const fn contains(self, test: LatentTest) -> bool {
        self.0 & (1 << test.index()) != 0
    }

    /// `true` if the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The tests in run order.
    pub fn iter(self) -> impl Iterator<Item = LatentTest> {
        LatentTest::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }
}

/// The result of one latent-fault test on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LatentOutcome {
    /// Not requested (or not reached: the run stopped on a bus error first).
    NotRun,
    /// Every flag the test clears was clear before forcing (after CLRFLAG), every expected
    /// flag was set while forced, and every flag the test clears was clear again after
    /// FLAG_D = 0 and CLRFLAG: each expected flag went from 0 to 1 because of FLAG_D.
    Passed,
    /// **Latent fault**: FLAG_D was set (verified by read-back) but these expected flags
    /// stayed clear — the device's own fault detection for them does not work.
    FlagNotSet {
        /// Expected flags that were not set.
        missing: LatentFlags,
    },
    /// These flags were still set after CLRFLAG cleared them — before forcing (then the
    /// detector was not judged: a set flag proves nothing), or after FLAG_D was restored
    /// to 0 (verified): a flag stuck high, or a real fault present during the test.
    FlagNotCleared {
        /// Flags still set.
        stuck: LatentFlags,
    },
    /// Not tested: a frame of this device failed its integrity check (PEC, command counter,
    /// no response, or the device is recovering from a reset) at a step the verdict needs.
    NotTested(DeviceFault),
    /// Not tested: the device answered with a good frame but its CFGA read-back differed
    /// from what was written (FLAG_D was not applied, or not restored between tests).
    NotApplied(VerifyMismatch),
}

impl LatentOutcome {
    /// `true` for [`LatentOutcome::Passed`].
    pub const fn passed(&self) -> bool {
        matches!(self, Self::Passed)
    }
}

/// Latent-fault self-test results of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LatentReport {
    /// Outcome per test, indexed by [`LatentTest::index`].
    pub outcomes: [LatentOutcome; LatentTest::COUNT],
    /// OC_CNTR (STATD STDR5, raw) read while "oscillator counter fast" was forced.
    /// `NotConverted` when that test did not run or FLAG_D was not applied (then no forced
    /// count exists); `Failed` when the device's frames failed. Not judged: the data sheet's limits are
    /// not in the notes (foxBMS 2 uses > 70 fast, < 52 slow: `ADI_OSCILLATOR_*_THRESHOLD`).
    pub oscillator_fast: Reading<u8>,
    /// OC_CNTR read while "oscillator counter slow" was forced.
    pub oscillator_slow: Reading<u8>,
    /// OC_CNTR read after an oscillator test was undone (FLAG_D = 0, flags cleared): the
    /// normal count (last oscillator test run).
    pub oscillator_normal: Reading<u8>,
    /// STATC supply and system flags (STCR4, STCR5) as found when the self-test started,
    /// before it cleared or forced anything: a real fault latched earlier is reported here,
    /// not erased. `NotConverted` when the self-test sent nothing.
    pub latched_before: Reading<LatentFlags>,
    /// The fault of this device's read-back in the final configuration restore, if that
    /// frame failed: its FLAG_D = 0 (and CFGA/CFGB) could not be confirmed. `None` when
    /// confirmed, or when the self-test sent nothing.
    pub restore_fault: Option<DeviceFault>,
}

impl LatentReport {
    /// Nothing run.
    pub const NOT_RUN: Self = Self {
        outcomes: [LatentOutcome::NotRun; LatentTest::COUNT],
        oscillator_fast: Reading::NotConverted,
        oscillator_slow: Reading::NotConverted,
        oscillator_normal: Reading::NotConverted,
        latched_before: Reading::NotConverted,
        restore_fault: None,
    };

    /// The outcome of `test`.
    pub const fn outcome(&self, test: LatentTest) -> LatentOutcome {
        self.outcomes[test.index()]
    }

    /// `true` if every test in `tests` passed and the restore was confirmed.
    pub fn passed(&self, tests: LatentSet) -> bool {
        self.restore_fault.is_none() && tests.iter().all(|t| self.outcome(t).passed())
    }
}

impl Default for LatentReport {
    fn default() -> Self {
        Self::NOT_RUN
    }
}

/// Verdict of one device for one test, from the five observations in run order.
/// `baseline`/`forced`/`cleared` are the STATC reads after the clear that precedes the
/// forcing, with FLAG_D set, and after the clear that follows it.
pub(crate) fn judge(
    test: LatentTest,
    baseline: Reading<StatusC>,
    applied: Result<(), LatentOutcome>,
    forced: Reading<StatusC>,
    restored: Result<(), LatentOutcome>,
    cleared: Reading<StatusC>,
) -> LatentOutcome {
    // Before forcing, every flag the test can set was cleared (CLRFLAG): one still set
    // would make the forced read prove nothing about the detector.
    let before = match baseline {
        Reading::Valid(s) => LatentFlags::of(&s),
        Reading::Failed(f) => return LatentOutcome::NotTested(f),
        Reading::NotConverted => return LatentOutcome::NotRun,
    };
    let stuck = before.and(test.clears());
    if !stuck.is_empty() {
        return LatentOutcome::FlagNotCleared { stuck };
    }
    if let Err(o) = applied {
        return o;
    }
    let got = match forced {
        Reading::Valid(s) => LatentFlags::of(&s),
        Reading::Failed(f) => return LatentOutcome::NotTested(f),
        // STATC has no "not converted" code; kept for completeness.
        Reading::NotConverted => return LatentOutcome::NotRun,
    };
    let missing = test.expected().without(got);
    if !missing.is_empty() {
        return LatentOutcome::FlagNotSet { missing };
    }
    if let Err(o) = restored {
        return o;
    }
    let after = match cleared {
        Reading::Valid(s) => LatentFlags::of(&s),
        Reading::Failed(f) => return LatentOutcome::NotTested(f),
        Reading::NotConverted => return LatentOutcome::NotRun,
    };
    let stuck = after.and(test.clears());
    if stuck.is_empty() {
        LatentOutcome::Passed
    } else {
        LatentOutcome::FlagNotCleared { stuck }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FaultReason;

    fn st(supply: u8, system: u8) -> Reading<StatusC> {
        Reading::Valid(StatusC {
            supply_flags: supply,
            system_flags: system,
            ..StatusC::default()
        })
    }

    #[test]
    fn judge_priorities() {
        let t = LatentTest::SupplyUv;
        let f = DeviceFault {
            device: 3,
            reason: FaultReason::NoResponse,
        };
        assert_eq!(
            judge(t, st(0, 0), Ok(()), st(0x50, 0), Ok(()), st(0, 0)),
            LatentOutcome::Passed
        );
        assert_eq!(
            judge(t, st(0, 0), Ok(()), st(0x40, 0), Ok(()), st(0, 0)),
            LatentOutcome::FlagNotSet {
                missing: LatentFlags {
                    supply: 0x10,
                    system: 0
                }
            }
        );
        // A definite latent fault wins over a later frame failure.
        assert!(matches!(
            judge(t, st(0, 0), Ok(()), st(0x00, 0), Ok(()), Reading::Failed(f)),
            LatentOutcome::FlagNotSet { .. }
        ));
        assert_eq!(
            judge(t, st(0, 0), Ok(()), st(0x50, 0), Ok(()), Reading::Failed(f)),
            LatentOutcome::NotTested(f)
        );
        assert_eq!(
            judge(t, st(0, 0), Ok(()), Reading::Failed(f), Ok(()), st(0, 0)),
            LatentOutcome::NotTested(f)
        );
        assert_eq!(
            judge(t, st(0, 0), Ok(()), st(0x50, 0), Ok(()), st(0x80, 0x40)),
            LatentOutcome::FlagNotCleared {
                stuck: LatentFlags {
                    supply: 0x80,
                    system: 0x40
                }
            }
        );
        // Flags outside what the test clears do not matter (SLEEP, a CS fault).
        assert_eq!(
            judge(
                t,
                st(0, 0x08),
                Ok(()),
                st(0x50, 0x08),
                Ok(()),
                st(0x00, 0x08)
            ),
            LatentOutcome::Passed
        );
        // A flag already set before forcing (and not cleared by CLRFLAG) proves nothing
        // about the detector: not a pass, whatever the forced read shows.
        assert_eq!(
            judge(t, st(0x40, 0), Ok(()), st(0x50, 0), Ok(()), st(0, 0)),
            LatentOutcome::FlagNotCleared {
                stuck: LatentFlags {
                    supply: 0x40,
                    system: 0
                }
            }
        );
        assert_eq!(
            judge(t, Reading::Failed(f), Ok(()), st(0x50, 0), Ok(()), st(0, 0)),
            LatentOutcome::NotTested(f)
        );
    }

    #[test]
    fn set_order_and_membership() {
        assert_eq!(LatentSet::ALL.iter().count(), LatentTest::COUNT);
        assert!(LatentSet::EMPTY.is_empty());
        for (i, t) in LatentTest::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            assert!(LatentSet::EMPTY.with(*t).contains(*t));
            assert!(t.clears().contains(t.expected()));
        }
    }
}
