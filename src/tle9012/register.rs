//! Register map and field sets.
//!
//! Addresses: TLE9012DQU/TLE9015DQU user manual Z8F80064984 Rev 1.0, Table 27 "Registers
//! overview", as listed alike by MaxMax-embedded/TLE9012_Arduino_Lib `TLE9012_Makros.h`,
//! maekdev/pyTLE9012DQU `registers.py` and guilettmann/bms_tle9012 `tle9012_regs.h`. Field
//! positions are those the same open drivers use; the ones they do not agree on, or do not
//! use, are not modelled.

use bitflags::bitflags;

/// A register: its address and the user manual's name (for read-back errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Register {
    /// Address (7 bits).
    pub address: u8,
    /// Name in the user manual.
    pub name: &'static str,
}

macro_rules! regs {
    ($($(#[$m:meta])* $n:ident = $a:literal;)*) => {
        impl Register {
            $($(#[$m])* pub const $n: Register = Register { address: $a, name: stringify!($n) };)*
        }
    };
}

regs! {
    /// Cell enable bits \[11:0\] (bit k = input k, PCVM_k).
    PART_CONFIG = 0x01;
    /// OV threshold \[9:0\] (5 V / 1024 per LSB), open-load maximum \[15:10\].
    OL_OV_THR = 0x02;
    /// UV threshold \[9:0\] (5 V / 1024 per LSB), open-load minimum \[15:10\].
    OL_UV_THR = 0x03;
    /// External temperature configuration: sensor count \[14:12\], current source \[11:10\],
    /// overtemperature threshold \[9:0\].
    TEMP_CONF = 0x04;
    /// Internal overtemperature threshold \[9:0\].
    INT_OT_WARN_CONF = 0x05;
    /// Round-robin error counters.
    RR_ERR_CNT = 0x08;
    /// Round-robin configuration.
    RR_CONFIG = 0x09;
    /// Fault mask of the ERR pin / EMM.
    FAULT_MASK = 0x0A;
    /// General diagnosis ([`GenDiag`]).
    GEN_DIAG = 0x0B;
    /// Cell undervoltage flags \[11:0\].
    CELL_UV = 0x0C;
    /// Cell overvoltage flags \[11:0\].
    CELL_OV = 0x0D;
    /// External overtemperature flags.
    EXT_TEMP_DIAG = 0x0E;
    /// Open-load flags \[11:0\] (bit k = input k).
    DIAG_OL = 0x10;
    /// Register CRC error flags.
    REG_CRC_ERR = 0x11;
    /// Operating mode (sleep, extended watchdog).
    OP_MODE = 0x14;
    /// Balancing over/undercurrent thresholds.
    BAL_CURR_THR = 0x15;
    /// Balancing switch enables \[11:0\].
    BAL_SETTINGS = 0x16;
    /// Auxiliary measurement configuration.
    AVM_CONFIG = 0x17;
    /// Measurement control ([`MeasCtrl`]).
    MEAS_CTRL = 0x18;
    /// Cell 0 (bottom input) result; PCVM_k = 0x19 + k.
    PCVM_0 = 0x19;
    /// Highest cell voltage of the secondary measurement.
    SCVM_HIGH = 0x25;
    /// Lowest cell voltage of the secondary measurement (low 5 bits: rolling counter).
    SCVM_LOW = 0x26;
    /// Block voltage result.
    BVM = 0x28;
    /// External temperature 0 result; EXT_TEMP_z = 0x29 + z.
    EXT_TEMP_0 = 0x29;
    /// Internal (die) temperature result \[9:0\].
    INT_TEMP = 0x30;
    /// Multiread.
    MULTI_READ = 0x31;
    /// Multiread configuration.
    MULTI_READ_CFG = 0x32;
    /// Balancing overcurrent flags.
    BAL_DIAG_OC = 0x33;
    /// Balancing undercurrent flags.
    BAL_DIAG_UC = 0x34;
    /// Node ID \[5:0\] and final-node bit \[11\] ([`NodeConfig`]).
    CONFIG = 0x36;
    /// IC version and manufacturer ID.
    ICVID = 0x39;
    /// A free register for read/write checks.
    MAILBOX = 0x3A;
    /// Watchdog counter \[6:0\].
    WDOG_CNT = 0x3D;
    /// Inputs the secondary (SCVM) measurement covers \[11:0\]
    /// (MaxMax-embedded/TLE9012_Arduino_Lib `setNumberofCells` writes the cell mask).
    SCVM_CONFIG = 0x3E;
    /// Balancing PWM.
    BAL_PWM = 0x5B;
    /// Balancing counters of inputs 0..=2 (5 bits each).
    BAL_CNT_0 = 0x5C;
    /// Balancing counters of inputs 3..=5.
    BAL_CNT_1 = 0x5D;
    /// Balancing counters of inputs 6..=8.
    BAL_CNT_2 = 0x5E;
    /// Balancing counters of inputs 9..=11.
    BAL_CNT_3 = 0x5F;
}

impl Register {
    /// PCVM_k, the result register of input `k` (0..=11).
    pub const fn pcvm(k: u8) -> Option<Register> {
        const NAMES: [&str; 12] = [
            "PCVM_0", "PCVM_1", "PCVM_2", "PCVM_3", "PCVM_4", "PCVM_5", "PCVM_6", "PCVM_7",
            "PCVM_8", "PCVM_9", "PCVM_10", "PCVM_11",
        ];
        if k < 12 {
            Some(Register {
                address: 0x19 + k,
                name: NAMES[k as usize],
            })
        } else {
            None
        }
    }

    /// EXT_TEMP_z, the result of external sensor `z` (0..=4).
    pub const fn ext_temp(z: u8) -> Option<Register> {
        const NAMES: [&str; 5] = [
            "EXT_TEMP_0",
            "EXT_TEMP_1",
            "EXT_TEMP_2",
            "EXT_TEMP_3",
            "EXT_TEMP_4",
        ];
        if z < 5 {
            Some(Register {
                address: 0x29 + z,
                name: NAMES[z as usize],
            })
        } else {
            None
        }
    }
}

/// Cell inputs per device.
pub const INPUTS: usize = 12;
/// Mask of the 12 cell inputs.
pub const ALL_INPUTS: u16 = 0x0FFF;

/// MEAS_CTRL (0x18) values and bits.
///
/// guilettmann/bms_tle9012 (citing the user manual §4.23): PCVM_START is bit 15, set by the
/// host and cleared by the device when the conversion has ended; bits 14..12 are the PCVM
/// resolution mode (110b = 16 bit). maekdev/pyTLE9012DQU uses `0xE021` for cells and `0x0E21`
/// for the block voltage ("default values", user manual §3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasCtrl;

impl MeasCtrl {
    /// PCVM_START: set to start a cell conversion; reads 1 until it has ended.
    pub const PCVM_START: u16 = 0x8000;
    /// BVM_START: set to start a block-voltage conversion.
    pub const BVM_START: u16 = 0x0800;
    /// Start a 16-bit cell conversion.
    pub const START_CELLS: u16 = 0xE021;
    /// Start a 16-bit block-voltage conversion.
    pub const START_BLOCK: u16 = 0x0E21;
    /// SCVM_START: the secondary cell-voltage measurement (bit 6; MaxMax-embedded/
    /// TLE9012_Arduino_Lib starts PCVM, BVM and SCVM with 0xEE61 where the cell start alone is
    /// 0xE021 and the block start 0x0E21; not verified against the user manual).
    pub const SCVM_START: u16 = 0x0040;
    /// Start the cell conversion and the secondary measurement together.
    pub const START_CELLS_REDUNDANT: u16 = Self::START_CELLS | Self::SCVM_START;
}

/// CONFIG (0x36): node ID and final node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NodeConfig {
    /// Node ID (1..=62; 0 = unassigned).
    pub node_id: u8,
    /// FN: this node is the last of the chain and closes broadcast commands with the reply
    /// frame (MaxMax-embedded/TLE9012_Arduino_Lib `setNodeID`).
    pub final_node: bool,
}

impl NodeConfig {
    /// FN, bit 11.
    pub const FINAL_NODE: u16 = 0x0800;
    /// The bits the driver writes and compares on read-back.
    pub const MASK: u16 = 0x083F;

    /// The register value (pyTLE9012DQU writes 0x0801 for ID 1 + FN; the user manual's
    /// Table 10 example is 0x0804 = FN + ID 4).
    pub const fn encode(self) -> u16 {
        (self.node_id as u16 & 0x3F) | if self.final_node { Self::FINAL_NODE } else { 0 }
    }

    /// Decodes the fields the driver uses.
    pub const fn decode(raw: u16) -> Self {
        Self {
            node_id: (raw & 0x3F) as u8,
            final_node: raw & Self::FINAL_NODE != 0,
        }
    }
}

/// WDOG_CNT (0x3D): the watchdog counter \[6:0\] counts down; at 0 the device goes to sleep and
/// its node ID returns to 0. Writing 0x7F reloads it; 0 would put the device to sleep at once
/// (guilettmann/bms_tle9012 `tle9012_regs.h`, user manual §4.48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watchdog;

impl Watchdog {
    /// The reload value (the reset value and the maximum).
    pub const RELOAD: u16 = 0x007F;
    /// The counter field.
    pub const MASK: u16 = 0x007F;
    /// Nominal time from a reload to sleep in normal watchdog mode: "approximately 2 s"
    /// (MaxMax-embedded/TLE9012_Arduino_Lib `setExtendedWatchdog`). The tick and its
    /// tolerance are not in the public sources used here.
    pub const NOMINAL_TIMEOUT_US: u32 = 2_000_000;
}

/// OP_MODE (0x14) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpMode;

impl OpMode {
    /// Sleep (MaxMax-embedded/TLE9012_Arduino_Lib `activateSleep`, broadcast).
    pub const SLEEP: u16 = 0x0001;
    /// Extended watchdog bit (≈ 37 h timeout, for bring-up only).
    pub const EXTENDED_WATCHDOG: u16 = 0x0002;
    /// Sleep with a reset of every register (user manual Table 26 via guilettmann/bms_tle9012;
    /// maekdev/pyTLE9012DQU `reset`).
    pub const SLEEP_REG_RESET: u16 = 0xC404;
}

bitflags! {
    /// GEN_DIAG (0x0B) flags (MaxMax-embedded/TLE9012_Arduino_Lib `checkErrors`; cleared by
    /// writing 0).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct GenDiag: u16 {
        /// Balancing overcurrent (details in BAL_DIAG_OC).
        const BAL_OC = 1 << 15;
        /// Balancing undercurrent (details in BAL_DIAG_UC).
        const BAL_UC = 1 << 14;
        /// A cell over its OV threshold (details in CELL_OV).
        const OV = 1 << 13;
        /// A cell under its UV threshold (details in CELL_UV).
        const UV = 1 << 12;
        /// Internal overtemperature.
        const INT_OT = 1 << 11;
        /// External overtemperature (details in EXT_TEMP_DIAG).
        const EXT_OT = 1 << 10;
        /// Register CRC error (details in REG_CRC_ERR).
        const REG_CRC = 1 << 9;
        /// Internal IC error.
        const INT_IC = 1 << 8;
        /// Open load (details in DIAG_OL).
        const OPEN_LOAD = 1 << 7;
        /// ADC error.
        const ADC = 1 << 6;
        /// Power-supply error / sleep.
        const PS_SLEEP = 1 << 5;
    }
}

/// TEMP_CONF (0x04): external temperature configuration (guilettmann/bms_tle9012
/// `tle9012_regs.h`, user manual §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TempConf {
    /// Number of external sensors measured, 0..=5 (NR_TEMP_SENSE \[14:12\]; 5 = TMP0..TMP4).
    pub sensors: u8,
    /// Current source used for the measurement, 0..=3 (I_NTC \[11:10\]).
    pub source: u8,
    /// External overtemperature threshold code \[9:0\]: the flag is set when a result falls
    /// *below* it (an NTC's resistance falls as it warms); 0 disables it.
    pub ot_threshold: u16,
}

impl TempConf {
    /// The register value, or `None` if a field is out of range.
    pub const fn encode(self) -> Option<u16> {
        if self.sensors > 5 || self.source > 3 || self.ot_threshold > 0x3FF {
            return None;
        }
        Some((self.sensors as u16) << 12 | (self.source as u16) << 10 | self.ot_threshold)
    }

    /// Decodes the register.
    pub const fn decode(raw: u16) -> Self {
        Self {
            sensors: ((raw >> 12) & 0x7) as u8,
            source: ((raw >> 10) & 0x3) as u8,
            ot_threshold: raw & 0x3FF,
        }
    }
}

/// Every diagnosis register of one device, decoded (MaxMax-embedded/TLE9012_Arduino_Lib
/// `checkErrors` reads the same set behind the GEN_DIAG flags). Cell masks are in cell order
/// (bit `i` = the `i`-th populated input), the others raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Diagnostics {
    /// GEN_DIAG.
    pub general: GenDiag,
    /// CELL_OV in cell order.
    pub overvoltage: u32,
    /// CELL_UV in cell order.
    pub undervoltage: u32,
    /// DIAG_OL in cell order.
    pub open_load: u32,
    /// BAL_DIAG_OC in cell order.
    pub balancing_overcurrent: u32,
    /// BAL_DIAG_UC in cell order.
    pub balancing_undercurrent: u32,
    /// EXT_TEMP_DIAG, raw.
    pub external_temperature: u16,
    /// REG_CRC_ERR, raw.
    pub register_crc: u16,
}

#[cfg(feature = "defmt")]
impl defmt::Format for GenDiag {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "GenDiag({=u16:#06x})", self.bits())
    }
}

/// The secondary measurement of one device next to the primary one: the SCVM reports the
/// highest and lowest cell voltage of the inputs in SCVM_CONFIG (SCVM_HIGH, SCVM_LOW; the low 5
/// bits of SCVM_LOW are a rolling counter, MaxMax-embedded/TLE9012_Arduino_Lib masks them with
/// 0xFFE0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Redundancy {
    /// Highest populated cell of the primary (PCVM) conversion.
    pub primary_max: crate::units::MicroVolts,
    /// Lowest populated cell of the primary conversion.
    pub primary_min: crate::units::MicroVolts,
    /// SCVM_HIGH (counter bits cleared).
    pub secondary_high: crate::units::MicroVolts,
    /// SCVM_LOW (counter bits cleared).
    pub secondary_low: crate::units::MicroVolts,
    /// The rolling counter (SCVM_LOW \[4:0\]).
    pub counter: u8,
    /// Both extremes agree within the tolerance asked for.
    pub agrees: bool,
}

/// One EXT_TEMP_z register (guilettmann/bms_tle9012 `tle9012_regs.h`, user manual §4.29).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtTemp {
    /// Result \[9:0\].
    pub code: u16,
    /// Current source used \[11:10\].
    pub source: u8,
    /// Pull-down active \[12\].
    pub pull_down: bool,
    /// A new result since the last read \[13\] (cleared on read).
    pub valid: bool,
    /// Pull-down diagnosis error \[14\].
    pub pd_error: bool,
}

impl ExtTemp {
    /// Decodes the register.
    pub const fn decode(raw: u16) -> Self {
        Self {
            code: raw & 0x3FF,
            source: ((raw >> 10) & 0x3) as u8,
            pull_down: raw & (1 << 12) != 0,
            valid: raw & (1 << 13) != 0,
            pd_error: raw & (1 << 14) != 0,
        }
    }
}
