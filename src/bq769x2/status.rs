//! Typed status registers (bit layouts from SLUAA11B "Direct Commands" and SLUUBY2B). Unknown bits are kept (`from_bits_retain`), never
//! dropped.

use bitflags::bitflags;

bitflags! {
    /// Battery Status (direct command 0x12). The security state is in bits 9:8, see
    /// [`BatteryStatus::security`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct BatteryStatus: u16 {
        /// CONFIG_UPDATE mode is active (protections and FETs are off meanwhile).
        const CFGUPDATE = 1 << 0;
        /// Precharge mode active.
        const PCHG_MODE = 1 << 1;
        /// SLEEP is allowed.
        const SLEEP_EN = 1 << 2;
        /// A full reset occurred since the flag was last cleared.
        const POR = 1 << 3;
        /// A watchdog reset occurred.
        const WD = 1 << 4;
        /// Cell open-wire check active.
        const COW_CHK = 1 << 5;
        /// OTP write pending.
        const OTPW = 1 << 6;
        /// OTP writes blocked.
        const OTPB = 1 << 7;
        /// Security state, low bit.
        const SEC0 = 1 << 8;
        /// Security state, high bit.
        const SEC1 = 1 << 9;
        /// FUSE pin asserted.
        const FUSE = 1 << 10;
        /// Safety fault (any Safety Status bit) active.
        const SS = 1 << 11;
        /// Permanent fail active.
        const PF = 1 << 12;
        /// SHUTDOWN pending by command.
        const SD_CMD = 1 << 13;
        /// The device is in SLEEP.
        const SLEEP = 1 << 15;
    }
}

/// Access level of the device (Battery Status bits 9:8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Security {
    /// 0: not initialised yet after reset.
    NotInitialized,
    /// 1: FULLACCESS (data memory and CONFIG_UPDATE allowed).
    FullAccess,
    /// 2: UNSEALED.
    Unsealed,
    /// 3: SEALED.
    Sealed,
}

impl Security {
    /// The data sheet's name of the state (`"SEALED"`, `"UNSEALED"`, `"FULLACCESS"`,
    /// `"not initialised"`), as [`Error::NeedsAccess`](crate::Error::NeedsAccess) reports it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NotInitialized => "not initialised",
            Self::FullAccess => "FULLACCESS",
            Self::Unsealed => "UNSEALED",
            Self::Sealed => "SEALED",
        }
    }

    /// Access rank: SEALED and not-initialised 0, UNSEALED 1, FULLACCESS 2.
    pub const fn rank(self) -> u8 {
        match self {
            Self::NotInitialized | Self::Sealed => 0,
            Self::Unsealed => 1,
            Self::FullAccess => 2,
        }
    }

    /// `true` if this state grants at least what `needs` grants.
    pub const fn allows(self, needs: Security) -> bool {
        self.rank() >= needs.rank()
    }
}

impl BatteryStatus {
    /// The security state.
    pub const fn security(self) -> Security {
        match (self.bits() >> 8) & 0b11 {
            0 => Security::NotInitialized,
            1 => Security::FullAccess,
            2 => Security::Unsealed,
            _ => Security::Sealed,
        }
    }
}

bitflags! {
    /// Control Status (direct command 0x00).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ControlStatus: u16 {
        /// Load-detect pull-up active.
        const LD_ON = 1 << 0;
        /// Load-detect timed out.
        const LD_TIMEOUT = 1 << 1;
        /// The device is in DEEPSLEEP.
        const DEEPSLEEP = 1 << 2;
    }
}

bitflags! {
    /// Safety Alert/Status A (0x02/0x03) and Enabled/CHG/DSG FET Protections A (same layout).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SafetyA: u8 {
        /// Cell undervoltage.
        const CUV = 1 << 2;
        /// Cell overvoltage.
        const COV = 1 << 3;
        /// Overcurrent in charge.
        const OCC = 1 << 4;
        /// Overcurrent in discharge, tier 1.
        const OCD1 = 1 << 5;
        /// Overcurrent in discharge, tier 2.
        const OCD2 = 1 << 6;
        /// Short circuit in discharge.
        const SCD = 1 << 7;
    }
}

bitflags! {
    /// Safety Alert/Status B (0x04/0x05) and Enabled/CHG/DSG FET Protections B.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SafetyB: u8 {
        /// Undertemperature in charge.
        const UTC = 1 << 0;
        /// Undertemperature in discharge.
        const UTD = 1 << 1;
        /// Internal undertemperature.
        const UTINT = 1 << 2;
        /// Overtemperature in charge.
        const OTC = 1 << 4;
        /// Overtemperature in discharge.
        const OTD = 1 << 5;
        /// Internal overtemperature.
        const OTINT = 1 << 6;
        /// FET overtemperature.
        const OTF = 1 << 7;
    }
}

bitflags! {
    /// Safety Alert/Status C (0x06/0x07) and Enabled/CHG/DSG FET Protections C.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SafetyC: u8 {
        /// Host watchdog fault.
        const HWDF = 1 << 1;
        /// Precharge timeout.
        const PTO = 1 << 2;
        /// Cell overvoltage latch.
        const COVL = 1 << 4;
        /// Overcurrent-in-discharge latch.
        const OCDL = 1 << 5;
        /// Short-circuit latch.
        const SCDL = 1 << 6;
        /// Overcurrent in discharge, tier 3.
        const OCD3 = 1 << 7;
    }
}

/// Safety Alert or Status A, B and C read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Safety {
    /// Register A.
    pub a: SafetyA,
    /// Register B.
    pub b: SafetyB,
    /// Register C.
    pub c: SafetyC,
}

impl Safety {
    /// `true` if any bit is set.
    pub const fn any(&self) -> bool {
        self.a.bits() | self.b.bits() | self.c.bits() != 0
    }

    /// `a | b << 8 | c << 16` (the layout of [`Faults::raw`](crate::monitor::Faults::raw)
    /// for this family).
    pub const fn raw(&self) -> u32 {
        self.a.bits() as u32 | (self.b.bits() as u32) << 8 | (self.c.bits() as u32) << 16
    }
}

/// Permanent-fail Alert or Status A–D, raw (bit meanings per SLUUBY2B "PF Status"; kept raw
/// because the crate's notes do not cover them bit by bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PermanentFail {
    /// Register A.
    pub a: u8,
    /// Register B.
    pub b: u8,
    /// Register C.
    pub c: u8,
    /// Register D.
    pub d: u8,
}

impl PermanentFail {
    /// `true` if any bit is set.
    pub const fn any(&self) -> bool {
        self.a | self.b | self.c | self.d != 0
    }
}

bitflags! {
    /// Alarm Status / Alarm Raw Status / Alarm Enable (0x62/0x64/0x66), per SLUUBY2B. The
    /// documented default Alarm Enable is 0xF800 (SLUAA11B §1.1) = SSBC | SSA | PF |
    /// MSK_SFALERT | MSK_PFALERT.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Alarm: u16 {
        /// Wake from SLEEP.
        const WAKE = 1 << 0;
        /// An ADC scan completed.
        const ADSCAN = 1 << 1;
        /// Cell balancing active.
        const CB = 1 << 2;
        /// FUSE driven.
        const FUSE = 1 << 3;
        /// Stack below the shutdown voltage.
        const SHUTV = 1 << 4;
        /// DSG FET off.
        const XDSG = 1 << 5;
        /// CHG FET off.
        const XCHG = 1 << 6;
        /// A full voltage scan completed.
        const FULLSCAN = 1 << 7;
        /// Initialisation completed.
        const INITCOMP = 1 << 9;
        /// Initialisation started.
        const INITSTART = 1 << 10;
        /// A masked PF alert is set.
        const MSK_PFALERT = 1 << 11;
        /// A masked safety alert is set.
        const MSK_SFALERT = 1 << 12;
        /// Permanent fail.
        const PF = 1 << 13;
        /// Safety Status A has a bit set.
        const SSA = 1 << 14;
        /// Safety Status B or C has a bit set.
        const SSBC = 1 << 15;
    }
}

bitflags! {
    /// FET Status (direct command 0x7F). **Not** the FET_CONTROL layout: see
    /// [`FetControl`](super::FetControl).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FetStatus: u8 {
        /// CHG FET on.
        const CHG_FET = 1 << 0;
        /// PCHG FET on.
        const PCHG_FET = 1 << 1;
        /// DSG FET on.
        const DSG_FET = 1 << 2;
        /// PDSG FET on.
        const PDSG_FET = 1 << 3;
        /// DCHG pin asserted.
        const DCHG_PIN = 1 << 4;
        /// DDSG pin asserted.
        const DDSG_PIN = 1 << 5;
        /// ALERT pin asserted.
        const ALRT_PIN = 1 << 6;
    }
}

bitflags! {
    /// Manufacturing Status (subcommand 0x0057).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ManufacturingStatus: u16 {
        /// PCHG FET test mode.
        const PCHG_TEST = 1 << 0;
        /// CHG FET test mode.
        const CHG_TEST = 1 << 1;
        /// DSG FET test mode.
        const DSG_TEST = 1 << 2;
        /// Autonomous FET control enabled (0 = FET test mode, the factory state).
        const FET_EN = 1 << 4;
        /// PDSG FET test mode.
        const PDSG_TEST = 1 << 5;
        /// Permanent-fail checks enabled.
        const PF_EN = 1 << 6;
        /// OTP writes enabled.
        const OTPW_EN = 1 << 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_decodes_all_four_states() {
        assert_eq!(
            BatteryStatus::from_bits_retain(0x0000).security(),
            Security::NotInitialized
        );
        assert_eq!(
            BatteryStatus::from_bits_retain(0x0100).security(),
            Security::FullAccess
        );
        assert_eq!(
            BatteryStatus::from_bits_retain(0x0201).security(),
            Security::Unsealed
        );
        assert_eq!(
            BatteryStatus::from_bits_retain(0x0300).security(),
            Security::Sealed
        );
    }
}
