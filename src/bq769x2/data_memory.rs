//! Data-memory settings (BQ76952/BQ76942 map, SLUUBY2B "Data Memory"; addresses as in
//! TI's BQ769x2 example-code header and LibreSolar bms-firmware `bq769x2_registers.h`).
//!
//! [`Config`] is a batch of typed settings. Each setter checks its input against the range
//! the chip accepts **before anything is sent** ([`ConfigError::OutOfRange`] names the field,
//! the value and the accepted range), quantises it to the chip's unit and returns the value
//! actually achieved. The driver writes the whole batch inside **one** CONFIG_UPDATE session
//! and reads every entry back ([`Bq769x2::configure`](super::Bq769x2)).
//!
//! ```
//! use bms_afe::bq769x2::data_memory::{Config, UserAmps, UserVolts, DaConfig};
//! use bms_afe::bq769x2::SafetyA;
//! use bms_afe::units::MicroVolts;
//!
//! let mut cfg = Config::new();
//! // 50.6 mV steps: 4200 mV is code 83 = 4199.8 mV.
//! assert_eq!(cfg.cov_threshold_mv(4200).unwrap(), MicroVolts(4_199_800));
//! assert!(cfg.cov_threshold_mv(9000).is_err());
//! cfg.enabled_protections_a(SafetyA::SCD | SafetyA::COV | SafetyA::CUV).unwrap();
//! cfg.da_configuration(DaConfig::new(UserAmps::Milliamp, UserVolts::Centivolt)).unwrap();
//! assert_eq!(cfg.len(), 3);
//! ```

use bitflags::bitflags;

use crate::error::ConfigError;
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

use super::status::{SafetyA, SafetyB, SafetyC};

/// Data-memory addresses used by [`Config`] (BQ76952/BQ76942 map).
pub mod address {
    /// Settings:Configuration:Power Config (H2).
    pub const POWER_CONFIG: u16 = 0x9234;
    /// Settings:Configuration:Comm Type (U1). I2C Address follows at 0x923A.
    pub const COMM_TYPE: u16 = 0x9239;
    /// Settings:Configuration:CFETOFF Pin Config; DFETOFF, ALERT, TS1, TS2, TS3, HDQ, DCHG,
    /// DDSG follow at +1 … +8.
    pub const CFETOFF_PIN_CONFIG: u16 = 0x92FA;
    /// Settings:Configuration:DA Configuration (H1).
    pub const DA_CONFIGURATION: u16 = 0x9303;
    /// Settings:Configuration:Vcell Mode (H2, bit n−1 = cell input n used).
    pub const VCELL_MODE: u16 = 0x9304;
    /// Settings:FET:FET Options (H1).
    pub const FET_OPTIONS: u16 = 0x9308;
    /// Settings:Protection:Enabled Protections A (B, C at +1, +2).
    pub const ENABLED_PROTECTIONS_A: u16 = 0x9261;
    /// Settings:Protection:CHG FET Protections A (B, C at +1, +2).
    pub const CHG_FET_PROTECTIONS_A: u16 = 0x9265;
    /// Settings:Protection:DSG FET Protections A (B, C at +1, +2).
    pub const DSG_FET_PROTECTIONS_A: u16 = 0x9269;
    /// Protections:CUV:Threshold (U1, 50.6 mV).
    pub const CUV_THRESHOLD: u16 = 0x9275;
    /// Protections:CUV:Delay (U2, `(code + 2) × 3.3 ms`).
    pub const CUV_DELAY: u16 = 0x9276;
    /// Protections:COV:Threshold (U1, 50.6 mV).
    pub const COV_THRESHOLD: u16 = 0x9278;
    /// Protections:COV:Delay (U2, `(code + 2) × 3.3 ms`).
    pub const COV_DELAY: u16 = 0x9279;
    /// Protections:CUV:Recovery Hysteresis (U1, 50.6 mV).
    pub const CUV_RECOVERY_HYSTERESIS: u16 = 0x927B;
    /// Protections:COV:Recovery Hysteresis (U1, 50.6 mV).
    pub const COV_RECOVERY_HYSTERESIS: u16 = 0x927C;
    /// Protections:OCC:Threshold (U1, 2 mV); delay at +1.
    pub const OCC_THRESHOLD: u16 = 0x9280;
    /// Protections:OCD1:Threshold (U1, 2 mV); delay at +1.
    pub const OCD1_THRESHOLD: u16 = 0x9282;
    /// Protections:OCD2:Threshold (U1, 2 mV); delay at +1.
    pub const OCD2_THRESHOLD: u16 = 0x9284;
    /// Protections:SCD:Threshold (U1, table index).
    pub const SCD_THRESHOLD: u16 = 0x9286;
    /// Protections:SCD:Delay (U1, 15 µs).
    pub const SCD_DELAY: u16 = 0x9287;
    /// Protections:OTC:Threshold; OTD, OTF, OTINT, UTC, UTD, UTINT follow in steps of 3
    /// (threshold °C, delay s, recovery °C).
    pub const OTC_THRESHOLD: u16 = 0x929A;
    /// Settings:Cell Balancing Config:Balancing Configuration (H1).
    pub const BALANCING_CONFIGURATION: u16 = 0x9335;
    /// Settings:Cell Balancing Config:Cell Balance Interval (U1, s).
    pub const CELL_BALANCE_INTERVAL: u16 = 0x9339;
    /// Settings:Cell Balancing Config:Cell Balance Max Cells (U1).
    pub const CELL_BALANCE_MAX_CELLS: u16 = 0x933A;
}

/// The unit of the chip's current results ("userA"), DA Configuration bits 1:0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UserAmps {
    /// 0.1 mA.
    DeciMilliamp,
    /// 1 mA.
    Milliamp,
    /// 10 mA.
    Centiamp,
    /// 100 mA.
    Deciamp,
}

impl UserAmps {
    /// Microamperes per LSB.
    pub const fn microamps_per_lsb(self) -> i64 {
        match self {
            Self::DeciMilliamp => 100,
            Self::Milliamp => 1_000,
            Self::Centiamp => 10_000,
            Self::Deciamp => 100_000,
        }
    }
}

/// The unit of the stack/PACK/LD results ("userV"), DA Configuration bit 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UserVolts {
    /// 1 mV.
    Millivolt,
    /// 10 mV (centivolt).
    Centivolt,
}

impl UserVolts {
    /// Microvolts per LSB.
    pub const fn microvolts_per_lsb(self) -> i32 {
        match self {
            Self::Millivolt => 1_000,
            Self::Centivolt => 10_000,
        }
    }
}

/// Settings:Configuration:DA Configuration (0x9303): result units and internal-temperature
/// options. The driver converts stack, PACK, LD and CC2 results with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DaConfig {
    /// Current unit.
    pub user_amps: UserAmps,
    /// Voltage unit.
    pub user_volts: UserVolts,
    /// TINT_EN (bit 3): use the die temperature as a cell temperature.
    pub tint_en: bool,
    /// TINT_FETT (bit 4): use the die temperature as the FET temperature.
    pub tint_fett: bool,
}

impl DaConfig {
    /// Units only, both temperature options off.
    pub const fn new(user_amps: UserAmps, user_volts: UserVolts) -> Self {
        Self {
            user_amps,
            user_volts,
            tint_en: false,
            tint_fett: false,
        }
    }

    /// What the driver assumes until told otherwise: mA and centivolts (TI example code
    /// comments; the default byte is not confirmed against the TRM table — call
    /// `read_da_configuration` on the device to be sure).
    pub const ASSUMED_DEFAULT: Self = Self::new(UserAmps::Milliamp, UserVolts::Centivolt);

    /// The register byte.
    pub const fn to_byte(self) -> u8 {
        let a = match self.user_amps {
            UserAmps::DeciMilliamp => 0,
            UserAmps::Milliamp => 1,
            UserAmps::Centiamp => 2,
            UserAmps::Deciamp => 3,
        };
        let v = match self.user_volts {
            UserVolts::Millivolt => 0,
            UserVolts::Centivolt => 1 << 2,
        };
        a | v | (self.tint_en as u8) << 3 | (self.tint_fett as u8) << 4
    }

    /// Decodes the register byte (other bits ignored).
    pub const fn from_byte(b: u8) -> Self {
        Self {
            user_amps: match b & 3 {
                0 => UserAmps::DeciMilliamp,
                1 => UserAmps::Milliamp,
                2 => UserAmps::Centiamp,
                _ => UserAmps::Deciamp,
            },
            user_volts: if b & 4 != 0 {
                UserVolts::Centivolt
            } else {
                UserVolts::Millivolt
            },
            tint_en: b & 8 != 0,
            tint_fett: b & 0x10 != 0,
        }
    }

    /// Converts a userV result.
    pub const fn volts(self, raw: i16) -> MicroVolts {
        MicroVolts((raw as i32).saturating_mul(self.user_volts.microvolts_per_lsb()))
    }

    /// Converts a userA result.
    pub const fn amps(self, raw: i16) -> MicroAmps {
        MicroAmps((raw as i64) * self.user_amps.microamps_per_lsb())
    }
}

bitflags! {
    /// Settings:FET:FET Options (0x9308).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FetOptions: u8 {
        /// Series FET configuration (body-diode protection).
        const SFET = 1 << 0;
        /// CHG FET may stay on in SLEEP.
        const SLEEPCHG = 1 << 1;
        /// Host FET commands (FET_CONTROL, ALL_FETS_OFF …) are honoured.
        const HOST_FET_EN = 1 << 2;
        /// The device controls the FETs (else only the host does).
        const FET_CTRL_EN = 1 << 3;
        /// Predischarge before DSG turns on.
        const PDSG_EN = 1 << 4;
        /// FETs start off after reset.
        const FET_INIT_OFF = 1 << 5;
    }
}

bitflags! {
    /// Settings:Cell Balancing Config:Balancing Configuration (0x9335).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct BalancingConfig: u8 {
        /// Autonomous balancing while charging.
        const CB_CHG = 1 << 0;
        /// Autonomous balancing while relaxed.
        const CB_RLX = 1 << 1;
        /// Balancing allowed in SLEEP.
        const CB_SLEEP = 1 << 2;
        /// Block SLEEP while balancing.
        const CB_NOSLEEP = 1 << 3;
        /// Host-commanded balancing is **not** stopped by the autonomous rules (the chip's
        /// name: CB_NO_CMD).
        const CB_NO_CMD = 1 << 4;
    }
}

/// A multi-function pin that can measure a temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TempPin {
    /// CFETOFF pin.
    Cfetoff,
    /// DFETOFF pin.
    Dfetoff,
    /// ALERT pin.
    Alert,
    /// TS1 pin.
    Ts1,
    /// TS2 pin.
    Ts2,
    /// TS3 pin.
    Ts3,
    /// HDQ pin.
    Hdq,
    /// DCHG pin.
    Dchg,
    /// DDSG pin.
    Ddsg,
}

impl TempPin {
    /// Every pin, in data-memory order.
    pub const ALL: [TempPin; 9] = [
        Self::Cfetoff,
        Self::Dfetoff,
        Self::Alert,
        Self::Ts1,
        Self::Ts2,
        Self::Ts3,
        Self::Hdq,
        Self::Dchg,
        Self::Ddsg,
    ];

    const fn index(self) -> u8 {
        match self {
            Self::Cfetoff => 0,
            Self::Dfetoff => 1,
            Self::Alert => 2,
            Self::Ts1 => 3,
            Self::Ts2 => 4,
            Self::Ts3 => 5,
            Self::Hdq => 6,
            Self::Dchg => 7,
            Self::Ddsg => 8,
        }
    }

    /// Its pin-configuration data-memory address (0x92FA + index).
    pub const fn config_address(self) -> u16 {
        address::CFETOFF_PIN_CONFIG + self.index() as u16
    }

    /// Its temperature direct command (0x6A + 2 × index, 0.1 K).
    pub const fn direct_command(self) -> u8 {
        0x6A + 2 * self.index()
    }

    /// Its bit in [`TempInputs`].
    pub const fn input(self) -> TempInputs {
        TempInputs::from_bits_retain(1 << self.index())
    }
}

bitflags! {
    /// The pins the driver reports as temperatures (besides the die temperature).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TempInputs: u16 {
        /// CFETOFF.
        const CFETOFF = 1 << 0;
        /// DFETOFF.
        const DFETOFF = 1 << 1;
        /// ALERT.
        const ALERT = 1 << 2;
        /// TS1.
        const TS1 = 1 << 3;
        /// TS2.
        const TS2 = 1 << 4;
        /// TS3.
        const TS3 = 1 << 5;
        /// HDQ.
        const HDQ = 1 << 6;
        /// DCHG.
        const DCHG = 1 << 7;
        /// DDSG.
        const DDSG = 1 << 8;
    }
}

/// What a multi-function pin does (pin-configuration byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PinFunction {
    /// 0x00: unused.
    Unused,
    /// 0x07: thermistor (18 kΩ model), reported as a cell temperature (TI example code).
    CellThermistor,
    /// 0x0F: thermistor (18 kΩ model), reported as the FET temperature (TI example code).
    FetThermistor,
    /// Any other byte, written as is (not counted as a temperature input).
    Raw(u8),
}

impl PinFunction {
    /// The configuration byte.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Unused => 0x00,
            Self::CellThermistor => 0x07,
            Self::FetThermistor => 0x0F,
            Self::Raw(b) => b,
        }
    }

    /// `true` if the pin then measures a temperature.
    pub const fn is_thermistor(self) -> bool {
        matches!(self, Self::CellThermistor | Self::FetThermistor)
    }
}

/// The temperature protections (Protections:OTC … UTINT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TempProtection {
    /// Overtemperature in charge.
    Otc,
    /// Overtemperature in discharge.
    Otd,
    /// FET overtemperature.
    Otf,
    /// Internal overtemperature.
    Otint,
    /// Undertemperature in charge.
    Utc,
    /// Undertemperature in discharge.
    Utd,
    /// Internal undertemperature.
    Utint,
}

impl TempProtection {
    /// Threshold address (delay at +1, recovery at +2).
    pub const fn threshold_address(self) -> u16 {
        let i = match self {
            Self::Otc => 0,
            Self::Otd => 1,
            Self::Otf => 2,
            Self::Otint => 3,
            Self::Utc => 4,
            Self::Utd => 5,
            Self::Utint => 6,
        };
        address::OTC_THRESHOLD + 3 * i
    }

    const fn name(self) -> [&'static str; 3] {
        match self {
            Self::Otc => ["OTC Threshold", "OTC Delay", "OTC Recovery"],
            Self::Otd => ["OTD Threshold", "OTD Delay", "OTD Recovery"],
            Self::Otf => ["OTF Threshold", "OTF Delay", "OTF Recovery"],
            Self::Otint => ["OTINT Threshold", "OTINT Delay", "OTINT Recovery"],
            Self::Utc => ["UTC Threshold", "UTC Delay", "UTC Recovery"],
            Self::Utd => ["UTD Threshold", "UTD Delay", "UTD Recovery"],
            Self::Utint => ["UTINT Threshold", "UTINT Delay", "UTINT Recovery"],
        }
    }
}

/// Short-circuit thresholds selectable by Protections:SCD:Threshold, in mV, index = code
/// (SLUUBY2B, Protections:SCD:Threshold).
pub const SCD_THRESHOLDS_MV: [u16; 16] = [
    10, 20, 40, 60, 80, 100, 125, 150, 175, 200, 250, 300, 350, 400, 450, 500,
];

/// One data-memory write: address, little-endian bytes, length and the TRM name (used in
/// [`VerifyMismatch`](crate::error::VerifyMismatch)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Entry {
    /// Data-memory address.
    pub address: u16,
    /// Bytes used of `bytes` (1 or 2).
    pub len: u8,
    /// The value, little-endian.
    pub bytes: [u8; 2],
    /// Name as in the TRM.
    pub name: &'static str,
}

impl Entry {
    /// The value bytes.
    pub fn data(&self) -> &[u8] {
        let n = usize::from(self.len).min(2);
        self.bytes.get(..n).unwrap_or(&[])
    }
}

/// How many settings (distinct addresses) one [`Config`] can hold. One more is refused
/// with [`ConfigError::Conflict`] by every setter; setting an address again replaces it.
pub const MAX_ENTRIES: usize = 64;

/// The [`ConfigError::Conflict`] text of a full batch.
pub(crate) const BATCH_FULL: &str =
    "configuration batch full: more than MAX_ENTRIES settings (split it into two batches)";

/// A batch of data-memory settings, written in one CONFIG_UPDATE session.
///
/// Setting the same item twice keeps the last value. Every setter returns a `Result`: no
/// setting is ever dropped silently (a full batch is [`ConfigError::Conflict`], and a batch
/// that once refused a setting is refused as a whole by the driver, see
/// [`Config::overflowed`]). What the driver must know to convert results (units, connected
/// cells, temperature pins, thresholds) is taken from the batch once the session succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    entries: [Entry; MAX_ENTRIES],
    count: usize,
    pub(crate) vcell_mode: Option<u16>,
    pub(crate) da: Option<DaConfig>,
    pub(crate) cov: Option<MicroVolts>,
    pub(crate) cuv: Option<MicroVolts>,
    pub(crate) temp_set: TempInputs,
    pub(crate) temp_on: TempInputs,
    pub(crate) cb_max_cells: Option<u8>,
    pub(crate) overflowed: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

const EMPTY: Entry = Entry {
    address: 0,
    len: 0,
    bytes: [0; 2],
    name: "",
};

fn out_of_range(field: &'static str, value: i64, min: i64, max: i64) -> ConfigError {
    ConfigError::OutOfRange {
        field,
        value,
        min,
        max,
    }
}

/// Checks `value` ∈ `min..=max`.
fn check(field: &'static str, value: i64, min: i64, max: i64) -> Result<(), ConfigError> {
    if value < min || value > max {
        Err(out_of_range(field, value, min, max))
    } else {
        Ok(())
    }
}

/// 50.6 mV steps: code = round(mv / 50.6).
const fn code_50_6(mv: u32) -> u32 {
    (mv.saturating_mul(10).saturating_add(253)) / 506
}

/// A delay in whole 3.3 ms steps, rounded (the `+ 2` offset of the chip's delay codes is
/// applied by the callers).
const fn code_3_3ms(us: u32) -> u32 {
    us.saturating_add(1650) / 3300
}

impl Config {
    /// An empty batch.
    pub const fn new() -> Self {
        Self {
            entries: [EMPTY; MAX_ENTRIES],
            count: 0,
            vcell_mode: None,
            da: None,
            cov: None,
            cuv: None,
            temp_set: TempInputs::empty(),
            temp_on: TempInputs::empty(),
            cb_max_cells: None,
            overflowed: false,
        }
    }

    /// The entries to write, in order.
    pub fn entries(&self) -> &[Entry] {
        self.entries.get(..self.count).unwrap_or(&[])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// `true` if nothing is set.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `true` if a setting was refused because the batch was full ([`MAX_ENTRIES`] distinct
    /// addresses). [`Bq769x2::configure`](super::Bq769x2) refuses such a batch with
    /// [`ConfigError::Conflict`] before anything is sent, so a lost setting can never look
    /// written.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The Vcell Mode in this batch, if set.
    pub fn vcell_mode(&self) -> Option<u16> {
        self.vcell_mode
    }

    fn push(&mut self, address: u16, data: &[u8], name: &'static str) -> Result<(), ConfigError> {
        let mut bytes = [0u8; 2];
        let len = data.len().min(2);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), data.get(..len)) {
            dst.copy_from_slice(src);
        }
        let e = Entry {
            address,
            len: len as u8,
            bytes,
            name,
        };
        let n = self.count;
        if let Some(slot) = self
            .entries
            .get_mut(..n)
            .and_then(|s| s.iter_mut().find(|x| x.address == address))
        {
            *slot = e;
            return Ok(());
        }
        let Some(slot) = self.entries.get_mut(n) else {
            // Remembered: the driver refuses to write a batch that lost a setting, even if
            // the caller ignored this error.
            self.overflowed = true;
            return Err(ConfigError::Conflict(BATCH_FULL));
        };
        *slot = e;
        self.count = n + 1;
        Ok(())
    }

    /// Adds a raw data-memory write (1 or 2 bytes, little-endian) for a setting this table
    /// does not cover. `data` longer than 2 bytes is rejected.
    pub fn raw(
        &mut self,
        address: u16,
        data: &[u8],
        name: &'static str,
    ) -> Result<(), ConfigError> {
        check("raw data-memory length (bytes)", data.len() as i64, 1, 2)?;
        check("data-memory address", i64::from(address), 0x9180, 0x93FF)?;
        // Comm Type and I2C Address change the bus protocol itself: written in a batch they
        // would cut the session's own read-back and CONFIG_UPDATE exit off.
        if (address::COMM_TYPE..=address::COMM_TYPE + 1).contains(&address)
            || (address < address::COMM_TYPE && address + data.len() as u16 > address::COMM_TYPE)
        {
            return Err(ConfigError::Unsupported(
                "Comm Type / I2C Address in a configuration batch (change them on their own)",
            ));
        }
        self.push(address, data, name)
    }

    /// Vcell Mode (0x9304): bit `n − 1` set = cell input `n` has a cell. The chip accepts
    /// 3..=16 cells; 0 means "all inputs are cells". The driver then reports only the
    /// connected inputs, bottom first (reduced cell-count mapping), and checks the mask
    /// against the variant's input count when the batch is written. Returns the mask.
    pub fn vcell_mode_mask(&mut self, mask: u16) -> Result<u16, ConfigError> {
        let n = mask.count_ones();
        if mask != 0 {
            check("Vcell Mode connected cells", i64::from(n), 3, 16)?;
        }
        self.push(address::VCELL_MODE, &mask.to_le_bytes(), "Vcell Mode")?;
        self.vcell_mode = Some(mask);
        Ok(mask)
    }

    /// Vcell Mode for `cells` cells wired as TI recommends for reduced cell counts: the
    /// lowest `cells − 1` inputs and the top input (`inputs` = the variant's input count,
    /// e.g. 16). Returns the mask. Check it matches your board's wiring.
    pub fn vcell_mode_reduced(&mut self, cells: u8, inputs: u8) -> Result<u16, ConfigError> {
        check("cell inputs of the variant", i64::from(inputs), 3, 16)?;
        check("connected cells", i64::from(cells), 3, i64::from(inputs))?;
        let low = (1u32 << (cells - 1)) - 1;
        let top = 1u32 << (inputs - 1);
        self.vcell_mode_mask((low | top) as u16)
    }

    /// COV threshold (0x9278) in mV: 50.6 mV steps, codes 20..=110 (1012..=5566 mV).
    /// Returns the achieved threshold.
    pub fn cov_threshold_mv(&mut self, mv: u32) -> Result<MicroVolts, ConfigError> {
        let v = self.threshold_50_6("COV threshold (mV)", mv, 20, 110, address::COV_THRESHOLD)?;
        self.cov = Some(v);
        Ok(v)
    }

    /// CUV threshold (0x9275) in mV: 50.6 mV steps, codes 20..=90 (1012..=4554 mV).
    /// CUV is **not** in the default Enabled Protections A (0x88): enable it too.
    pub fn cuv_threshold_mv(&mut self, mv: u32) -> Result<MicroVolts, ConfigError> {
        let v = self.threshold_50_6("CUV threshold (mV)", mv, 20, 90, address::CUV_THRESHOLD)?;
        self.cuv = Some(v);
        Ok(v)
    }

    fn threshold_50_6(
        &mut self,
        field: &'static str,
        mv: u32,
        lo: u32,
        hi: u32,
        addr: u16,
    ) -> Result<MicroVolts, ConfigError> {
        let min = (lo * 506).div_ceil(10);
        let max = hi * 506 / 10;
        check(field, i64::from(mv), i64::from(min), i64::from(max))?;
        let code = code_50_6(mv).clamp(lo, hi);
        let name = if addr == address::COV_THRESHOLD {
            "COV Threshold"
        } else {
            "CUV Threshold"
        };
        self.push(addr, &[code as u8], name)?;
        Ok(MicroVolts((code * 50_600) as i32))
    }

    /// COV recovery hysteresis (0x927C) in mV: 50.6 mV steps, codes 2..=20.
    pub fn cov_recovery_hysteresis_mv(&mut self, mv: u32) -> Result<MicroVolts, ConfigError> {
        self.hysteresis(
            "COV recovery hysteresis (mV)",
            mv,
            address::COV_RECOVERY_HYSTERESIS,
        )
    }

    /// CUV recovery hysteresis (0x927B) in mV: 50.6 mV steps, codes 2..=20.
    pub fn cuv_recovery_hysteresis_mv(&mut self, mv: u32) -> Result<MicroVolts, ConfigError> {
        self.hysteresis(
            "CUV recovery hysteresis (mV)",
            mv,
            address::CUV_RECOVERY_HYSTERESIS,
        )
    }

    fn hysteresis(
        &mut self,
        field: &'static str,
        mv: u32,
        addr: u16,
    ) -> Result<MicroVolts, ConfigError> {
        check(field, i64::from(mv), 102, 1012)?;
        let code = code_50_6(mv).clamp(2, 20);
        let name = if addr == address::COV_RECOVERY_HYSTERESIS {
            "COV Recovery Hysteresis"
        } else {
            "CUV Recovery Hysteresis"
        };
        self.push(addr, &[code as u8], name)?;
        Ok(MicroVolts((code * 50_600) as i32))
    }

    /// COV delay (0x9279): `(code + 2) × 3.3 ms`, codes 1..=2047 (9.9 ms ..= 6.7617 s;
    /// code 0 would disable the protection and is never written — use Enabled Protections A).
    ///
    /// SLUUBY2B §5.2.4 (Cell Overvoltage Protection): "COV_DLY, which can be set from 10 ms
    /// to 6762 ms in units of 3.3 ms, with the actual delay being 3.3 ms × (2 + setting). The
    /// setting 0x0 disables the protection."
    ///
    /// ```
    /// # use bms_afe::bq769x2::Config;
    /// # use bms_afe::units::Microseconds;
    /// let mut cfg = Config::new();
    /// // 250 ms → code 74 → (74 + 2) × 3.3 ms = 250.8 ms.
    /// assert_eq!(cfg.cov_delay(Microseconds(250_000)), Ok(Microseconds(250_800)));
    /// assert_eq!(cfg.entries()[0].data(), &[74, 0]);
    /// ```
    pub fn cov_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        self.delay_3_3("COV delay (µs)", delay, address::COV_DELAY, "COV Delay")
    }

    /// CUV delay (0x9276): `(code + 2) × 3.3 ms`, codes 1..=2047, as [`Config::cov_delay`]
    /// (SLUUBY1B/SLUUCG7 Cell Undervoltage Protection: "CUV_DLY … 3.3 ms × (2 + setting).
    /// The setting 0x0 disables the protection.").
    pub fn cuv_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        self.delay_3_3("CUV delay (µs)", delay, address::CUV_DELAY, "CUV Delay")
    }

    fn delay_3_3(
        &mut self,
        field: &'static str,
        delay: Microseconds,
        addr: u16,
        name: &'static str,
    ) -> Result<Microseconds, ConfigError> {
        let us = delay.as_micros();
        check(field, i64::from(us), 3 * 3300, (2047 + 2) * 3300)?;
        let code = code_3_3ms(us).saturating_sub(2).clamp(1, 2047);
        self.push(addr, &(code as u16).to_le_bytes(), name)?;
        Ok(Microseconds((code + 2) * 3300))
    }

    /// OCC threshold (0x9280), the sense-resistor voltage in mV: 2 mV steps, codes 2..=62
    /// (4..=124 mV). Range per SLUUBY2B as read by the crate's authors — not in the notes.
    pub fn occ_threshold_mv(&mut self, mv: u32) -> Result<u32, ConfigError> {
        self.current_threshold(
            "OCC threshold (mV)",
            mv,
            62,
            address::OCC_THRESHOLD,
            "OCC Threshold",
        )
    }

    /// OCD1 threshold (0x9282) in mV: 2 mV steps, codes 2..=100 (4..=200 mV).
    pub fn ocd1_threshold_mv(&mut self, mv: u32) -> Result<u32, ConfigError> {
        self.current_threshold(
            "OCD1 threshold (mV)",
            mv,
            100,
            address::OCD1_THRESHOLD,
            "OCD1 Threshold",
        )
    }

    /// OCD2 threshold (0x9284) in mV: 2 mV steps, codes 2..=100 (4..=200 mV).
    pub fn ocd2_threshold_mv(&mut self, mv: u32) -> Result<u32, ConfigError> {
        self.current_threshold(
            "OCD2 threshold (mV)",
            mv,
            100,
            address::OCD2_THRESHOLD,
            "OCD2 Threshold",
        )
    }

    fn current_threshold(
        &mut self,
        field: &'static str,
        mv: u32,
        max_code: u32,
        addr: u16,
        name: &'static str,
    ) -> Result<u32, ConfigError> {
        check(field, i64::from(mv), 4, i64::from(max_code * 2))?;
        let code = (mv / 2).clamp(2, max_code);
        self.push(addr, &[code as u8], name)?;
        Ok(code * 2)
    }

    /// OCC delay (0x9281): `(code + 2) × 3.3 ms`, codes 1..=127 (9.9..=425.7 ms; code 0
    /// would disable the protection and is never written).
    ///
    /// SLUUBY2B §5.2.7 (Overcurrent in Charge Protection): "OCC_DLY, which can be set from
    /// 10 ms to 426 ms in units of 3.3 ms, with the actual delay being 3.3 ms × (2 + setting)";
    /// SLUUBY2B data memory, Protections:OCC:Delay (U1, 1..=127): "units of 3.3 ms with a
    /// 6.6ms offset. This means a setting of 1 gives 10 ms, 2 gives 13.3 ms".
    pub fn occ_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        self.current_delay(
            "OCC delay (µs)",
            delay,
            address::OCC_THRESHOLD + 1,
            "OCC Delay",
        )
    }

    /// OCD1 delay (0x9283): `(code + 2) × 3.3 ms`, codes 1..=127, as [`Config::occ_delay`]
    /// (the OCD2 Delay entry of SLUUBY1B, BQ76942, carries the same "3.3 ms with a 6.6ms
    /// offset" text; the OCD1 entry itself was not read — same encoding assumed).
    pub fn ocd1_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        self.current_delay(
            "OCD1 delay (µs)",
            delay,
            address::OCD1_THRESHOLD + 1,
            "OCD1 Delay",
        )
    }

    /// OCD2 delay (0x9285): `(code + 2) × 3.3 ms`, codes 1..=127 (SLUUBY1B Protections:OCD2:
    /// Delay: "units of 3.3 ms with a 6.6ms offset. This means a setting of 1 gives 10 ms").
    pub fn ocd2_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        self.current_delay(
            "OCD2 delay (µs)",
            delay,
            address::OCD2_THRESHOLD + 1,
            "OCD2 Delay",
        )
    }

    fn current_delay(
        &mut self,
        field: &'static str,
        delay: Microseconds,
        addr: u16,
        name: &'static str,
    ) -> Result<Microseconds, ConfigError> {
        let us = delay.as_micros();
        check(field, i64::from(us), 3 * 3300, 129 * 3300)?;
        let code = code_3_3ms(us).saturating_sub(2).clamp(1, 127);
        self.push(addr, &[code as u8], name)?;
        Ok(Microseconds((code + 2) * 3300))
    }

    /// SCD threshold (0x9286) in mV: the largest table value ([`SCD_THRESHOLDS_MV`]) not
    /// above `mv` (a short circuit trips no later than asked). 10..=500 mV.
    pub fn scd_threshold_mv(&mut self, mv: u32) -> Result<u32, ConfigError> {
        check("SCD threshold (mV)", i64::from(mv), 10, 500)?;
        let mut code = 0usize;
        for (i, &t) in SCD_THRESHOLDS_MV.iter().enumerate() {
            if u32::from(t) <= mv {
                code = i;
            }
        }
        self.push(address::SCD_THRESHOLD, &[code as u8], "SCD Threshold")?;
        Ok(SCD_THRESHOLDS_MV.get(code).map_or(10, |&t| u32::from(t)))
    }

    /// SCD delay (0x9287): `(code − 1) × 15 µs`, codes 1..=31 (0..=450 µs; code 1 = fastest).
    /// SLUUBY1B Protections:SCD:Delay (U1, 1..=31): "1 = Protection is enabled with no delay.
    /// All other values = Enabled with a delay of (value - 1) * 15 µs".
    pub fn scd_delay(&mut self, delay: Microseconds) -> Result<Microseconds, ConfigError> {
        let us = delay.as_micros();
        check("SCD delay (µs)", i64::from(us), 0, 450)?;
        let code = (us + 7) / 15 + 1;
        let code = code.clamp(1, 31);
        self.push(address::SCD_DELAY, &[code as u8], "SCD Delay")?;
        Ok(Microseconds((code - 1) * 15))
    }

    /// One temperature protection: threshold and recovery in °C (−40..=120), delay in
    /// seconds (0..=255). Returns the threshold.
    pub fn temperature_protection(
        &mut self,
        which: TempProtection,
        threshold_c: i32,
        delay_s: u32,
        recovery_c: i32,
    ) -> Result<MilliCelsius, ConfigError> {
        check(
            "temperature threshold (°C)",
            i64::from(threshold_c),
            -40,
            120,
        )?;
        check("temperature delay (s)", i64::from(delay_s), 0, 255)?;
        check("temperature recovery (°C)", i64::from(recovery_c), -40, 120)?;
        let a = which.threshold_address();
        let [n0, n1, n2] = which.name();
        self.push(a, &[threshold_c as i8 as u8], n0)?;
        self.push(a + 1, &[delay_s as u8], n1)?;
        self.push(a + 2, &[recovery_c as i8 as u8], n2)?;
        Ok(MilliCelsius::from_celsius(threshold_c))
    }

    /// Function of a multi-function pin. Thermistor pins are then reported by the driver's
    /// temperature reads.
    pub fn pin_function(&mut self, pin: TempPin, f: PinFunction) -> Result<(), ConfigError> {
        self.push(pin.config_address(), &[f.to_byte()], "Pin Config")?;
        self.temp_set |= pin.input();
        if f.is_thermistor() {
            self.temp_on |= pin.input();
        } else {
            self.temp_on &= !pin.input();
        }
        Ok(())
    }

    /// DA Configuration (0x9303): result units. The driver converts with them once the batch
    /// is written. A full batch is [`ConfigError::Conflict`] (nothing is dropped silently).
    pub fn da_configuration(&mut self, da: DaConfig) -> Result<DaConfig, ConfigError> {
        self.push(
            address::DA_CONFIGURATION,
            &[da.to_byte()],
            "DA Configuration",
        )?;
        self.da = Some(da);
        Ok(da)
    }

    /// Enabled Protections A (0x9261). Factory default 0x88 (SCD | COV): CUV is off.
    /// A full batch is [`ConfigError::Conflict`].
    pub fn enabled_protections_a(&mut self, p: SafetyA) -> Result<SafetyA, ConfigError> {
        self.push(
            address::ENABLED_PROTECTIONS_A,
            &[p.bits()],
            "Enabled Protections A",
        )?;
        Ok(p)
    }

    /// Enabled Protections B (0x9262). A full batch is [`ConfigError::Conflict`].
    pub fn enabled_protections_b(&mut self, p: SafetyB) -> Result<SafetyB, ConfigError> {
        self.push(
            address::ENABLED_PROTECTIONS_A + 1,
            &[p.bits()],
            "Enabled Protections B",
        )?;
        Ok(p)
    }

    /// Enabled Protections C (0x9263). A full batch is [`ConfigError::Conflict`].
    pub fn enabled_protections_c(&mut self, p: SafetyC) -> Result<SafetyC, ConfigError> {
        self.push(
            address::ENABLED_PROTECTIONS_A + 2,
            &[p.bits()],
            "Enabled Protections C",
        )?;
        Ok(p)
    }

    /// CHG FET Protections A (0x9265): protections that turn the CHG FET off.
    /// A full batch is [`ConfigError::Conflict`].
    pub fn chg_fet_protections_a(&mut self, p: SafetyA) -> Result<SafetyA, ConfigError> {
        self.push(
            address::CHG_FET_PROTECTIONS_A,
            &[p.bits()],
            "CHG FET Protections A",
        )?;
        Ok(p)
    }

    /// DSG FET Protections A (0x9269): protections that turn the DSG FET off.
    /// A full batch is [`ConfigError::Conflict`].
    pub fn dsg_fet_protections_a(&mut self, p: SafetyA) -> Result<SafetyA, ConfigError> {
        self.push(
            address::DSG_FET_PROTECTIONS_A,
            &[p.bits()],
            "DSG FET Protections A",
        )?;
        Ok(p)
    }

    /// FET Options (0x9308). A full batch is [`ConfigError::Conflict`].
    pub fn fet_options(&mut self, o: FetOptions) -> Result<FetOptions, ConfigError> {
        self.push(address::FET_OPTIONS, &[o.bits()], "FET Options")?;
        Ok(o)
    }

    /// Balancing Configuration (0x9335). Changing it needs CONFIG_UPDATE (protections pause),
    /// so choose host-controlled vs autonomous balancing once, at initialisation. A full
    /// batch is [`ConfigError::Conflict`].
    pub fn balancing_configuration(
        &mut self,
        c: BalancingConfig,
    ) -> Result<BalancingConfig, ConfigError> {
        self.push(
            address::BALANCING_CONFIGURATION,
            &[c.bits()],
            "Balancing Configuration",
        )?;
        Ok(c)
    }

    /// Cell Balance Max Cells (0x933A): 1..=16 cells balanced at once. The driver rejects
    /// larger host balancing masks.
    pub fn balancing_max_cells(&mut self, n: u8) -> Result<u8, ConfigError> {
        check("Cell Balance Max Cells", i64::from(n), 1, 16)?;
        self.push(
            address::CELL_BALANCE_MAX_CELLS,
            &[n],
            "Cell Balance Max Cells",
        )?;
        self.cb_max_cells = Some(n);
        Ok(n)
    }

    /// Cell Balance Interval (0x9339) in seconds, 1..=255.
    pub fn balancing_interval_s(&mut self, s: u32) -> Result<u32, ConfigError> {
        check("Cell Balance Interval (s)", i64::from(s), 1, 255)?;
        self.push(
            address::CELL_BALANCE_INTERVAL,
            &[s as u8],
            "Cell Balance Interval",
        )?;
        Ok(s)
    }

    /// Power Config (0x9234), raw H2 (bit meanings per SLUUBY2B; LibreSolar writes 0x2882 to
    /// keep the device out of SLEEP).
    /// A full batch is [`ConfigError::Conflict`].
    pub fn power_config(&mut self, raw: u16) -> Result<u16, ConfigError> {
        self.push(address::POWER_CONFIG, &raw.to_le_bytes(), "Power Config")?;
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuv_50_is_2530_mv() {
        // E2E-1004250: CUV Threshold 50 = 2530 mV.
        let mut c = Config::new();
        assert_eq!(c.cuv_threshold_mv(2530).unwrap(), MicroVolts(2_530_000));
        assert_eq!(c.entries()[0].bytes[0], 50);
    }

    #[test]
    fn replacing_keeps_one_entry() {
        let mut c = Config::new();
        c.cov_threshold_mv(4200).unwrap();
        c.cov_threshold_mv(4250).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn reduced_mask() {
        let mut c = Config::new();
        assert_eq!(c.vcell_mode_reduced(4, 16).unwrap(), 0b1000_0000_0000_0111);
        assert!(c.vcell_mode_reduced(2, 16).is_err());
        assert!(c.vcell_mode_mask(0b11).is_err());
        assert_eq!(c.vcell_mode_mask(0).unwrap(), 0);
    }
}
