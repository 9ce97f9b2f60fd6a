//! Command codes (LTC6812-DS Table 36) as `const` 4-byte frames with their PEC,
//! the ADC command builders with every mode, DCP and channel selection (LTC6812-DS Table 37;
//! LTC6804-DS Table 35), and the conversion-time look-up (each data sheet's Table 5).
//!
//! ```
//! use bms_afe::ltc681x::command::{self, AdcMode, CellSelect};
//! // rt-LTC681X `src/commands.rs`: ADCV MD=10 (7 kHz), DCP=0, all cells = 03 60 F4 6C.
//! assert_eq!(command::adcv(AdcMode::Normal, false, CellSelect::ALL), [0x03, 0x60, 0xF4, 0x6C]);
//! assert_eq!(command::WRCFGA, [0x00, 0x01, 0x3D, 0x6E]);
//! ```

use super::variant::Variant;
use crate::error::ConfigError;
use crate::isospi::command;
use crate::units::Microseconds;

crate::isospi::commands! {
    /// Write configuration register group A (LTC6810/6811: CFGR).
    WRCFGA = 0x001;
    /// Read configuration register group A.
    RDCFGA = 0x002;
    /// Write configuration register group B (LTC6812/6813/ADBMS1818).
    WRCFGB = 0x024;
    /// Read configuration register group B.
    RDCFGB = 0x026;
    /// Read cell-voltage group A (cells 1–3).
    RDCVA = 0x004;
    /// Read cell-voltage group B (cells 4–6).
    RDCVB = 0x006;
    /// Read cell-voltage group C (cells 7–9).
    RDCVC = 0x008;
    /// Read cell-voltage group D (cells 10–12).
    RDCVD = 0x00A;
    /// Read cell-voltage group E (cells 13–15).
    RDCVE = 0x009;
    /// Read cell-voltage group F (cells 16–18).
    RDCVF = 0x00B;
    /// Read auxiliary group A.
    RDAUXA = 0x00C;
    /// Read auxiliary group B.
    RDAUXB = 0x00E;
    /// Read auxiliary group C.
    RDAUXC = 0x00D;
    /// Read auxiliary group D.
    RDAUXD = 0x00F;
    /// Read status group A (SC, ITMP, VA).
    RDSTATA = 0x010;
    /// Read status group B (VD, OV/UV flags, REV, MUXFAIL, THSD).
    RDSTATB = 0x012;
    /// Write S-control group.
    WRSCTRL = 0x014;
    /// Read S-control group.
    RDSCTRL = 0x016;
    /// Start S-control pulsing.
    STSCTRL = 0x019;
    /// Clear S-control group.
    CLRSCTRL = 0x018;
    /// Write PWM group (its PEC is 0x0000, rt-LTC681X `src/commands.rs`).
    WRPWM = 0x020;
    /// Read PWM group.
    RDPWM = 0x022;
    /// Write PWM/S-control group B.
    WRPSB = 0x01C;
    /// Read PWM/S-control group B.
    RDPSB = 0x01E;
    /// Clear cell-voltage groups (to 0xFF).
    CLRCELL = 0x711;
    /// Clear auxiliary groups.
    CLRAUX = 0x712;
    /// Clear status groups (flags, MUXFAIL, THSD read 1 afterwards).
    CLRSTAT = 0x713;
    /// Poll ADC conversion status.
    PLADC = 0x714;
    /// Diagnose the MUX (sets MUXFAIL on failure).
    DIAGN = 0x715;
    /// Write COMM group.
    WRCOMM = 0x721;
    /// Read COMM group.
    RDCOMM = 0x722;
    /// Start I2C/SPI communication through the GPIOs.
    STCOMM = 0x723;
    /// Mute discharge.
    MUTE = 0x028;
    /// Unmute discharge.
    UNMUTE = 0x029;
    /// Read serial ID (LTC6810).
    RDSID = 0x02C;
    /// LTC6810 only: read S-voltage group A (S1–S3). The same code as [`RDCVC`], which on
    /// the larger parts reads cell group C (Linduino `LTC6810.cpp` `LTC6810_rds_reg`: reg 1 →
    /// 0x008).
    RDSA = 0x008;
    /// LTC6810 only: read S-voltage group B (S4–S6). The same code as [`RDCVD`] (Linduino
    /// `LTC6810_rds_reg`: reg 2 → 0x00A).
    RDSB = 0x00A;
}

/// The cell-voltage read commands, group A first.
pub const RDCV: [[u8; 4]; 6] = [RDCVA, RDCVB, RDCVC, RDCVD, RDCVE, RDCVF];
/// The auxiliary read commands, group A first.
pub const RDAUX: [[u8; 4]; 4] = [RDAUXA, RDAUXB, RDAUXC, RDAUXD];
/// The LTC6810 S-voltage read commands, group A (S1–S3) first.
pub const RDS: [[u8; 4]; 2] = [RDSA, RDSB];

/// ADC mode MD\[1:0\] (LTC6812-DS Table 37). The rate in brackets applies with ADCOPT = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AdcMode {
    /// MD = 00: 422 Hz (1 kHz).
    Slow = 0,
    /// MD = 01: 27 kHz (14 kHz).
    Fast = 1,
    /// MD = 10: 7 kHz (3 kHz), the normal mode.
    Normal = 2,
    /// MD = 11: 26 Hz (2 kHz), filtered.
    Filtered = 3,
}

impl AdcMode {
    /// MD bits.
    pub const fn md(self) -> u16 {
        self as u16
    }
}

/// Cell selection CH\[2:0\] for ADCV/ADOW: 0 = all cells, 1..=6 one group of cells
/// (LTC6811: cells n and n+6; LTC6812: n, n+5, n+10 with 1..=5; LTC6813: n, n+6, n+12;
/// LTC6810: cell n alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CellSelect(u8);

impl CellSelect {
    /// All cells.
    pub const ALL: Self = Self(0);

    /// Selection `ch` for variant `V`, rejected if the part has no such selection.
    pub const fn new<V: Variant>(ch: u8) -> Result<Self, ConfigError> {
        if ch > V::MAX_CELL_SELECT {
            return Err(ConfigError::OutOfRange {
                field: "cell selection CH",
                value: ch as i64,
                min: 0,
                max: V::MAX_CELL_SELECT as i64,
            });
        }
        Ok(Self(ch))
    }

    /// The CH code.
    pub const fn code(self) -> u8 {
        self.0
    }
}

/// GPIO selection CHG\[2:0\] for ADAX/ADAXD/AXOW: 0 = all GPIOs and the second reference,
/// 1..=5 GPIO (pairs (1,6)…(4,9) on LTC6812/6813; LTC6810: 1 = S0, 2..5 = GPIO1..4),
/// 6 = second reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GpioSelect(u8);

impl GpioSelect {
    /// All GPIOs and the second reference.
    pub const ALL: Self = Self(0);
    /// The second reference only.
    pub const REF2: Self = Self(6);

    /// Selection `chg` (0..=6).
    pub const fn new(chg: u8) -> Result<Self, ConfigError> {
        if chg > 6 {
            return Err(ConfigError::OutOfRange {
                field: "GPIO selection CHG",
                value: chg as i64,
                min: 0,
                max: 6,
            });
        }
        Ok(Self(chg))
    }

    /// The CHG code.
    pub const fn code(self) -> u8 {
        self.0
    }
}

/// Status selection CHST\[2:0\] for ADSTAT/ADSTATD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StatusSelect {
    /// SC, ITMP, VA, VD.
    All = 0,
    /// Sum of cells.
    Sc = 1,
    /// Die temperature.
    Itmp = 2,
    /// Analog supply.
    Va = 3,
    /// Digital supply.
    Vd = 4,
}

/// Self-test pattern ST\[1:0\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SelfTest {
    /// ST = 01.
    One = 1,
    /// ST = 10.
    Two = 2,
}

/// Open-wire current direction PUP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pull {
    /// PUP = 0: pull-down current.
    Down = 0,
    /// PUP = 1: pull-up current.
    Up = 1,
}

const fn md(mode: AdcMode) -> u16 {
    mode.md() << 7
}
const fn dcp_bit(dcp: bool) -> u16 {
    if dcp { 1 << 4 } else { 0 }
}

/// ADCV: start cell conversion.
pub const fn adcv(mode: AdcMode, dcp: bool, ch: CellSelect) -> [u8; 4] {
    command(0x260 | md(mode) | dcp_bit(dcp) | ch.0 as u16)
}
/// ADOW: open-wire conversion with pull-up or pull-down current.
pub const fn adow(mode: AdcMode, pull: Pull, dcp: bool, ch: CellSelect) -> [u8; 4] {
    command(0x228 | md(mode) | (pull as u16) << 6 | dcp_bit(dcp) | ch.0 as u16)
}
/// CVST: cell self test.
pub const fn cvst(mode: AdcMode, st: SelfTest) -> [u8; 4] {
    command(0x207 | md(mode) | (st as u16) << 5)
}
/// ADOL: overlap cell measurement (not LTC6810).
pub const fn adol(mode: AdcMode, dcp: bool) -> [u8; 4] {
    command(0x201 | md(mode) | dcp_bit(dcp))
}
/// ADAX: GPIO/auxiliary conversion.
pub const fn adax(mode: AdcMode, chg: GpioSelect) -> [u8; 4] {
    command(0x460 | md(mode) | chg.0 as u16)
}
/// ADAXD: GPIO conversion with digital redundancy.
pub const fn adaxd(mode: AdcMode, chg: GpioSelect) -> [u8; 4] {
    command(0x400 | md(mode) | chg.0 as u16)
}
/// AXOW: GPIO open-wire conversion.
pub const fn axow(mode: AdcMode, pull: Pull, chg: GpioSelect) -> [u8; 4] {
    command(0x410 | md(mode) | (pull as u16) << 6 | chg.0 as u16)
}
/// AXST: auxiliary self test.
pub const fn axst(mode: AdcMode, st: SelfTest) -> [u8; 4] {
    command(0x407 | md(mode) | (st as u16) << 5)
}
/// ADSTAT: status conversion.
pub const fn adstat(mode: AdcMode, chst: StatusSelect) -> [u8; 4] {
    command(0x468 | md(mode) | chst as u16)
}
/// ADSTATD: status conversion with digital redundancy.
pub const fn adstatd(mode: AdcMode, chst: StatusSelect) -> [u8; 4] {
    command(0x408 | md(mode) | chst as u16)
}
/// STATST: status self test.
pub const fn statst(mode: AdcMode, st: SelfTest) -> [u8; 4] {
    command(0x40F | md(mode) | (st as u16) << 5)
}
/// ADCVAX: cells and GPIO1, GPIO2.
pub const fn adcvax(mode: AdcMode, dcp: bool) -> [u8; 4] {
    command(0x46F | md(mode) | dcp_bit(dcp))
}
/// ADCVSC: cells and sum of cells.
pub const fn adcvsc(mode: AdcMode, dcp: bool) -> [u8; 4] {
    command(0x467 | md(mode) | dcp_bit(dcp))
}

/// Reference power-up time tREFUP, maximum (LTC6812-DS electrical table: 2.7/3.5/4.4 ms):
/// added to every conversion started with REFON = 0.
pub const T_REFUP_US: u32 = 4400;
/// DIAGN from STANDBY (~4.5 ms, LTC6812-DS "MUX Decoder Check"; includes reference start).
pub const T_DIAGN_US: u32 = 4500;

const ADAX_ALL_US: [[u32; 2]; 4] = [[21316, 12007], [1825, 2116], [3862, 5025], [335498, 7353]];
const ADAX_PAIR_US: [[u32; 2]; 4] = [[4300, 2400], [380, 439], [788, 1000], [67100, 1500]];
// ADSTAT all: the larger of LTC6812-DS Table 37 and LTC6804-DS Table 9 per entry.
const ADSTAT_ALL_US: [[u32; 2]; 4] = [[8500, 4800], [748, 865], [1600, 2028], [134218, 3000]];

/// What a conversion converts, for [`conversion_time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Conversion {
    /// ADCV / ADOW / CVST with this selection (CVST uses all).
    Cells(CellSelect),
    /// ADCVAX (cells + GPIO1, GPIO2).
    CellsAndGpio12,
    /// ADCVSC (cells + SC).
    CellsAndSc,
    /// ADOL.
    Overlap,
    /// ADAX / ADAXD / AXOW / AXST (AXST uses all).
    Gpio(GpioSelect),
    /// ADSTAT / ADSTATD / STATST (STATST uses all).
    Status(StatusSelect),
}

/// The wait from the data-sheet conversion-time tables (LTC6812-DS Tables 5 and 37, LTC6804-DS Table 35) for `what` in `mode`,
/// with `adcopt`, plus tREFUP when `refon` is `false` (the reference starts with the
/// conversion). Combined commands (ADCVAX, ADCVSC) and ADOL have no table entry in the notes:
/// the sum of their parts (ADCV all + the extra channels) is returned, an upper bound.
///
/// ```
/// use bms_afe::ltc681x::{command::{self, AdcMode, CellSelect, Conversion}, Ltc6813};
/// // LTC6813 ADCV all cells, 7 kHz: 2343 µs (LTC6813-1 data sheet, Table 5).
/// let t = command::conversion_time::<Ltc6813>(Conversion::Cells(CellSelect::ALL), AdcMode::Normal, false, true);
/// assert_eq!(t.as_micros(), 2343);
/// ```
pub const fn conversion_time<V: Variant>(
    what: Conversion,
    mode: AdcMode,
    adcopt: bool,
    refon: bool,
) -> Microseconds {
    let m = mode as usize;
    let o = adcopt as usize;
    let t = match what {
        Conversion::Cells(ch) => {
            if ch.0 == 0 {
                V::ADCV_ALL_US[m][o]
            } else {
                V::ADCV_ONE_US[m][o]
            }
        }
        Conversion::CellsAndGpio12 => V::ADCV_ALL_US[m][o] + 2 * V::ONE_CHANNEL_US[m][o],
        Conversion::CellsAndSc => V::ADCV_ALL_US[m][o] + V::ONE_CHANNEL_US[m][o],
        Conversion::Overlap => V::ADCV_ALL_US[m][o],
        Conversion::Gpio(chg) => match chg.0 {
            0 => ADAX_ALL_US[m][o],
            1..=4 if V::ADAX_PAIRS => ADAX_PAIR_US[m][o],
            _ => V::ONE_CHANNEL_US[m][o],
        },
        Conversion::Status(StatusSelect::All) => ADSTAT_ALL_US[m][o],
        Conversion::Status(_) => V::ONE_CHANNEL_US[m][o],
    };
    Microseconds(if refon { t } else { t + T_REFUP_US })
}

/// The data-sheet self-test result code for `st` in `mode` (LTC6812-DS Table 13;
/// LTC6804-DS Table 35): every converted register must read this value.
pub const fn self_test_expected(st: SelfTest, mode: AdcMode, adcopt: bool) -> u16 {
    match (st, mode, adcopt) {
        (SelfTest::One, AdcMode::Fast, false) => 0x9565,
        (SelfTest::One, AdcMode::Fast, true) => 0x9553,
        (SelfTest::One, _, _) => 0x9555,
        (SelfTest::Two, AdcMode::Fast, false) => 0x6A9A,
        (SelfTest::Two, AdcMode::Fast, true) => 0x6AAC,
        (SelfTest::Two, _, _) => 0x6AAA,
    }
}
