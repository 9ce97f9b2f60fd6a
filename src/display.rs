//! `Display` for the public result types: what an engineer reads in a log or a terminal
//! (`cell 7: failed (device 3: PEC mismatch …)`, `OV cells 4, 5; thermal shutdown`), where
//! `Debug` prints the data structure. Kept in one place so every family's types read alike.

use core::fmt::{self, Display, Formatter};

use crate::adbms6830::latent::{LatentFlags, LatentOutcome, LatentReport, LatentTest};
use crate::adbms6830::register::StatusC;
use crate::bq769x2::data_memory::{DaConfig, UserAmps, UserVolts};
use crate::bq769x2::status::{
    Alarm, BatteryStatus, ControlStatus, FetStatus, ManufacturingStatus, PermanentFail, Safety,
    SafetyA, SafetyB, SafetyC, Security,
};
use crate::bq769x2::{Fets, SettingsSource};
use crate::error::VerifyMismatch;
use crate::monitor::{ChainReport, DeviceSet, Faults, Reading};

/// Writes the 1-based cell numbers of the set bits of `mask`: `1, 4, 5`.
fn cells(f: &mut Formatter<'_>, mask: u32) -> fmt::Result {
    let mut first = true;
    for k in 0..32 {
        if mask & (1 << k) != 0 {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{}", k + 1)?;
            first = false;
        }
    }
    Ok(())
}

/// Writes `items` joined by `"; "`, or `none` if there are none.
struct Joiner<'a, 'b> {
    f: &'a mut Formatter<'b>,
    any: bool,
}

impl<'a, 'b> Joiner<'a, 'b> {
    fn new(f: &'a mut Formatter<'b>) -> Self {
        Self { f, any: false }
    }

    fn item(&mut self, cond: bool, text: &str) -> fmt::Result {
        if cond {
            self.sep()?;
            self.f.write_str(text)?;
        }
        Ok(())
    }

    fn sep(&mut self) -> fmt::Result {
        if self.any {
            self.f.write_str("; ")?;
        }
        self.any = true;
        Ok(())
    }

    fn finish(self, empty: &str) -> fmt::Result {
        if self.any {
            Ok(())
        } else {
            self.f.write_str(empty)
        }
    }
}

/// `3.7000 V`, `failed (device 3: PEC mismatch …)` or `not converted`.
impl<T: Display> Display for Reading<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Valid(v) => v.fmt(f),
            Self::NotConverted => f.write_str("not converted"),
            Self::Failed(fault) => write!(f, "failed ({fault})"),
        }
    }
}

/// The device indices, `0, 3, 9`, or `none`.
impl Display for DeviceSet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, d) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// `every device ok`, or `2 devices failed (3, 9); first: device 3: PEC mismatch …`.
impl Display for ChainReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.failed.is_empty() {
            return f.write_str("every device ok");
        }
        let n = self.failed.len();
        write!(
            f,
            "{n} device{} failed ({})",
            if n == 1 { "" } else { "s" },
            self.failed
        )?;
        if let Some(first) = self.first_fault {
            write!(f, "; first: {first}")?;
        }
        Ok(())
    }
}

/// `no faults`, or the flags set: `OV cells 4, 5; UV cells 1; over-temperature;
/// internal (raw 0x00000002)`. The family-specific raw bits are shown when non-zero.
impl Display for Faults {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut j = Joiner::new(f);
        if self.overvoltage != 0 {
            j.sep()?;
            j.f.write_str("OV cells ")?;
            cells(j.f, self.overvoltage)?;
        }
        if self.undervoltage != 0 {
            j.sep()?;
            j.f.write_str("UV cells ")?;
            cells(j.f, self.undervoltage)?;
        }
        j.item(self.over_temperature, "over-temperature")?;
        j.item(self.under_temperature, "under-temperature")?;
        j.item(self.thermal_shutdown, "thermal shutdown")?;
        j.item(self.internal, "internal fault")?;
        j.item(self.overcurrent, "overcurrent")?;
        j.item(self.short_circuit, "short circuit")?;
        if self.raw != 0 {
            j.sep()?;
            write!(j.f, "raw {:#010x}", self.raw)?;
        }
        j.finish("no faults")
    }
}

/// `device 2 CFGRA byte 4: wrote 0x12, read 0x10`.
impl Display for VerifyMismatch {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "device {} {} byte {}: wrote {:#04x}, read {:#04x}",
            self.device, self.register, self.offset, self.expected, self.actual
        )
    }
}

// ---- ADBMS6830 latent-fault self-test ------------------------------------------------------

/// The STATC flag names, data-sheet spelling: `VA_UV VD_UV`, or `none`.
impl Display for LatentFlags {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const SUPPLY: [(u8, &str); 8] = [
            (StatusC::VA_OV, "VA_OV"),
            (StatusC::VA_UV, "VA_UV"),
            (StatusC::VD_OV, "VD_OV"),
            (StatusC::VD_UV, "VD_UV"),
            (StatusC::CED, "CED"),
            (StatusC::CMED, "CMED"),
            (StatusC::SED, "SED"),
            (StatusC::SMED, "SMED"),
        ];
        const SYSTEM: [(u8, &str); 8] = [
            (StatusC::VDEL, "VDEL"),
            (StatusC::VDE, "VDE"),
            (StatusC::COMP, "COMP"),
            (StatusC::SPIFLT, "SPIFLT"),
            (StatusC::SLEEP, "SLEEP"),
            (StatusC::THSD, "THSD"),
            (StatusC::TMODCHK, "TMODCHK"),
            (StatusC::OSCCHK, "OSCCHK"),
        ];
        let mut first = true;
        let named = SUPPLY
            .iter()
            .filter(|(b, _)| self.supply & b != 0)
            .chain(SYSTEM.iter().filter(|(b, _)| self.system & b != 0));
        for (_, name) in named {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// The test's name: `oscillator fast`, `supply UV`, … `thermal shutdown`.
impl Display for LatentTest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OscillatorFast => "oscillator fast",
            Self::OscillatorSlow => "oscillator slow",
            Self::SupplyUv => "supply UV",
            Self::SupplyOv => "supply OV",
            Self::MemoryEcc => "memory ECC",
            Self::TestModeCheck => "test-mode check",
            Self::ThermalShutdown => "thermal shutdown",
        })
    }
}

/// `passed`, `LATENT FAULT: VA_UV not set while forced`, …
impl Display for LatentOutcome {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRun => f.write_str("not run"),
            Self::Passed => f.write_str("passed"),
            Self::FlagNotSet { missing } => {
                write!(
                    f,
                    "LATENT FAULT: {missing} not set while forced (detector does not work)"
                )
            }
            Self::FlagNotCleared { stuck } => {
                write!(
                    f,
                    "{stuck} still set after clearing (stuck, or a real fault)"
                )
            }
            Self::NotTested(fault) => write!(f, "not tested ({fault})"),
            Self::NotApplied(m) => write!(f, "not tested: FLAG_D not applied ({m})"),
        }
    }
}

/// One line per test that did not pass, or `all 7 tests passed`; then the raw oscillator
/// counts and anything latched before the test.
impl Display for LatentReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut failed = 0;
        for t in LatentTest::ALL {
            let o = self.outcome(t);
            if !o.passed() {
                if failed > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{t}: {o}")?;
                failed += 1;
            }
        }
        if failed == 0 {
            write!(f, "all {} tests passed", LatentTest::COUNT)?;
        }
        if let Some(fault) = self.restore_fault {
            write!(f, "; restore not confirmed ({fault})")?;
        }
        if let Reading::Valid(latched) = self.latched_before {
            if !latched.is_empty() {
                write!(f, "; latched before the test: {latched}")?;
            }
        }
        Ok(())
    }
}

// ---- bq769x2 --------------------------------------------------------------------------------

/// `sealed`, `unsealed`, `full access` or `not initialised`.
impl Display for Security {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotInitialized => "not initialised",
            Self::FullAccess => "full access",
            Self::Unsealed => "unsealed",
            Self::Sealed => "sealed",
        })
    }
}

/// The flag names as in TI's documents, `SCD | OCD1`, unknown bits in hex; `none` if empty.
macro_rules! display_flags {
    ($($t:ty),* $(,)?) => {$(
        /// The set flags by name (`A | B`, unknown bits in hex), or `none`.
        impl Display for $t {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                if self.is_empty() {
                    f.write_str("none")
                } else {
                    bitflags::parser::to_writer(self, f)
                }
            }
        }
    )*};
}

display_flags!(
    BatteryStatus,
    ControlStatus,
    SafetyA,
    SafetyB,
    SafetyC,
    Alarm,
    FetStatus,
    ManufacturingStatus,
    Fets,
);

/// `A: SCD | OCD1, B: none, C: none`, or `none`.
impl Display for Safety {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.any() {
            return f.write_str("none");
        }
        write!(f, "A: {}, B: {}, C: {}", self.a, self.b, self.c)
    }
}

/// `none`, or the raw registers `A 0x01 B 0x00 C 0x00 D 0x00`.
impl Display for PermanentFail {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.any() {
            return f.write_str("none");
        }
        write!(
            f,
            "A {:#04x} B {:#04x} C {:#04x} D {:#04x}",
            self.a, self.b, self.c, self.d
        )
    }
}

/// The unit of one LSB: `0.1 mA`, `1 mA`, `10 mA`, `100 mA`.
impl Display for UserAmps {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DeciMilliamp => "0.1 mA",
            Self::Milliamp => "1 mA",
            Self::Centiamp => "10 mA",
            Self::Deciamp => "100 mA",
        })
    }
}

/// The unit of one LSB: `1 mV` or `10 mV`.
impl Display for UserVolts {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Millivolt => "1 mV",
            Self::Centivolt => "10 mV",
        })
    }
}

/// `current LSB 1 mA, stack/pack LSB 10 mV` and the die-temperature options that are on.
impl Display for DaConfig {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "current LSB {}, stack/pack LSB {}",
            self.user_amps, self.user_volts
        )?;
        if self.tint_en {
            f.write_str(", die temperature as a cell temperature")?;
        }
        if self.tint_fett {
            f.write_str(", die temperature as FET temperature")?;
        }
        Ok(())
    }
}

/// `read from the chip` or `assumed (sealed: re-read after unsealing)`.
impl Display for SettingsSource {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Device => "read from the chip",
            Self::Assumed => "assumed (sealed: re-read after unsealing)",
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;
    use crate::error::{DeviceFault, FaultReason};
    use crate::units::MicroVolts;

    #[test]
    fn readings_and_reports_read_as_text() {
        let fault = DeviceFault {
            device: 3,
            reason: FaultReason::NoResponse,
        };
        assert_eq!(
            Reading::Valid(MicroVolts(3_700_000)).to_string(),
            MicroVolts(3_700_000).to_string()
        );
        assert_eq!(
            Reading::<MicroVolts>::NotConverted.to_string(),
            "not converted"
        );
        assert_eq!(
            Reading::<MicroVolts>::Failed(fault).to_string(),
            "failed (device 3: no response (bus idle level))"
        );
        let mut set = DeviceSet::EMPTY;
        assert_eq!(set.to_string(), "none");
        set.insert(9);
        set.insert(3);
        assert_eq!(set.to_string(), "3, 9");
        let report = ChainReport {
            failed: set,
            first_fault: Some(fault),
        };
        assert_eq!(
            report.to_string(),
            "2 devices failed (3, 9); first: device 3: no response (bus idle level)"
        );
        assert_eq!(ChainReport::default().to_string(), "every device ok");
    }

    #[test]
    fn faults_name_cells_one_based() {
        assert_eq!(Faults::default().to_string(), "no faults");
        let f = Faults {
            overvoltage: 0b11000,
            undervoltage: 1,
            thermal_shutdown: true,
            raw: 0x2,
            ..Faults::default()
        };
        assert_eq!(
            f.to_string(),
            "OV cells 4, 5; UV cells 1; thermal shutdown; raw 0x00000002"
        );
    }

    #[test]
    fn latent_outcomes_name_the_flags() {
        let missing = LatentFlags {
            supply: 0x40 | 0x10,
            system: 0,
        };
        assert_eq!(missing.to_string(), "VA_UV VD_UV");
        assert_eq!(LatentFlags::NONE.to_string(), "none");
        assert_eq!(
            LatentOutcome::FlagNotSet { missing }.to_string(),
            "LATENT FAULT: VA_UV VD_UV not set while forced (detector does not work)"
        );
        let mut r = LatentReport::NOT_RUN;
        for o in r.outcomes.iter_mut() {
            *o = LatentOutcome::Passed;
        }
        assert_eq!(r.to_string(), "all 7 tests passed");
        r.outcomes[LatentTest::SupplyUv.index()] = LatentOutcome::FlagNotSet { missing };
        assert_eq!(
            r.to_string(),
            "supply UV: LATENT FAULT: VA_UV VD_UV not set while forced (detector does not work)"
        );
    }

    #[test]
    fn bq769x2_flags_by_name() {
        assert_eq!(SafetyA::empty().to_string(), "none");
        assert_eq!((SafetyA::SCD | SafetyA::CUV).to_string(), "CUV | SCD");
        assert_eq!(Security::Sealed.to_string(), "sealed");
    }
}
