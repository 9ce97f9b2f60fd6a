//! BQ7690x (BQ76905, BQ76907): the parts of their protocol that differ from the bq769x2 —
//! direct-command map, data-memory map (base 0x9000), units, Vcell Mode codes and security
//! model — as pure tables. Sans-IO only: the bus side (direct commands, subcommands with the
//! transfer-buffer checksum, CONFIG_UPDATE, CRC mode) is the bq769x2 machinery, which these
//! parts share (SLUAAM4 "BQ7690x Software Development Guide"; SLUUCJ0 BQ76907 TRM); the
//! [`Bq769x2`](super::Bq769x2) driver does not drive a BQ7690x yet.
//!
//! The shared framing applies as is: SLUAAM4 §4 reads Cell 1 of a BQ7690x in CRC mode as
//! `10 14 11 C5 [79] 0B [31]` (0x0BC5 = 3013 mV), the bq769x2 rule.
//!
//! ```
//! use bms_afe::bq769x2::{bq7690x, frame};
//! let mut v = [0u8; 2];
//! frame::decode_read(true, 0x08, bq7690x::direct::CELL1_VOLTAGE, &[0xC5, 0x79, 0x0B, 0x31], &mut v)
//!     .unwrap();
//! assert_eq!(u16::from_le_bytes(v), 3013);
//! // SLUAAM4 §3.3: Enabled Protections A (0x9024) ← 0xE1 carries checksum 0x6A, length 5.
//! assert_eq!(frame::checksum(bq7690x::dm::ENABLED_PROTECTIONS_A, &[0xE1]), 0x6A);
//! ```

use crate::error::ConfigError;
use crate::units::MilliCelsius;

/// Direct commands of the BQ76907 (SLUUCJ0 "Voltage Measurement" command table); 16-bit,
/// little-endian.
pub mod direct {
    /// Cell 1 Voltage (mV); cell `n` at `0x14 + 2 (n − 1)`, n = 1..=7.
    pub const CELL1_VOLTAGE: u8 = 0x14;
    /// REG18 voltage (ADC codes).
    pub const REG18: u8 = 0x22;
    /// VSS voltage (ADC codes).
    pub const VSS: u8 = 0x24;
    /// Stack (VC7 pin) voltage, 1 mV unsigned (not userV, and not at the bq769x2's 0x34).
    pub const STACK_VOLTAGE: u8 = 0x26;
    /// Internal temperature in °C (not 0.1 K at 0x68 as on the bq769x2).
    pub const INT_TEMPERATURE: u8 = 0x28;
    /// TS measurement (ADC codes).
    pub const TS_MEASUREMENT: u8 = 0x2A;
    /// Current (userA), as the bq769x2 CC2 address.
    pub const CURRENT: u8 = 0x3A;
}

/// Data-memory addresses of the BQ76907 (SLUUCJ0 data-memory table; base 0x9000, not the
/// bq769x2's 0x9180 region).
pub mod dm {
    /// Calibration: Cell 1 Gain (U2).
    pub const CELL1_GAIN: u16 = 0x9000;
    /// Calibration: Stack Gain (U2).
    pub const STACK_GAIN: u16 = 0x9002;
    /// Settings: Power Config (H1, default 0x01).
    pub const POWER_CONFIG: u16 = 0x9014;
    /// Settings: REGOUT Config (H1, default 0x08).
    pub const REGOUT_CONFIG: u16 = 0x9015;
    /// Settings: I2C Address (H1, default 0x08).
    pub const I2C_ADDRESS: u16 = 0x9016;
    /// Settings: I2C Config (H2, default 0x3400; holds the CRC enable).
    pub const I2C_CONFIG: u16 = 0x9017;
    /// Settings: DA Config (H2, default 0x0000).
    pub const DA_CONFIG: u16 = 0x9019;
    /// Settings: Vcell Mode (H1): a cell-count **code**, see [`vcell_mode_inputs`](super::vcell_mode_inputs).
    pub const VCELL_MODE: u16 = 0x901B;
    /// Settings: Default Alarm Mask (H2, default 0xC200).
    pub const DEFAULT_ALARM_MASK: u16 = 0x901C;
    /// Settings: FET Options (H1, default 0x18).
    pub const FET_OPTIONS: u16 = 0x901E;
    /// Protection: Enabled Protections A (SLUAAM4 §3.3).
    pub const ENABLED_PROTECTIONS_A: u16 = 0x9024;
}

/// DEVICE_NUMBER of the BQ76905 (SLUAAM4 §2.1: the waveform returns 0x7605).
pub const BQ76905_DEVICE_NUMBER: u16 = 0x7605;

/// The cell inputs a BQ76907 Vcell Mode code selects (bit `n − 1` = cell input n, VCn −
/// VCn−1), per the SLUUCJ0 Vcell Mode description: 2 → VC1–VC0 and VC7–VC6; 3 adds VC5–VC4;
/// 4 adds VC3–VC2; 5 adds VC2–VC1; 6 is all but VC4–VC3; 0, 1 and 7 mean all seven.
///
/// SLUUCJ0 pages disagree on the range (a table gives maximum 0x05, the description lists
/// codes up to 7): every code the description defines is accepted, anything above 7 is
/// refused.
///
/// ```
/// use bms_afe::bq769x2::bq7690x::vcell_mode_inputs;
/// assert_eq!(vcell_mode_inputs(3).unwrap(), 0b101_0001);
/// assert_eq!(vcell_mode_inputs(0).unwrap(), 0b111_1111);
/// assert!(vcell_mode_inputs(8).is_err());
/// ```
pub const fn vcell_mode_inputs(code: u8) -> Result<u8, ConfigError> {
    match code {
        0 | 1 | 7 => Ok(0b111_1111),
        2 => Ok(0b100_0001),
        3 => Ok(0b101_0001),
        4 => Ok(0b101_0101),
        5 => Ok(0b101_0111),
        6 => Ok(0b111_0111),
        _ => Err(ConfigError::OutOfRange {
            field: "BQ76907 Vcell Mode",
            value: code as i64,
            min: 0,
            max: 7,
        }),
    }
}

/// The Vcell Mode code for `cells` real cells on a BQ76907 (2..=7; 7 → code 0, all inputs).
pub const fn vcell_mode_for_cells(cells: u8) -> Result<u8, ConfigError> {
    match cells {
        2..=6 => Ok(cells),
        7 => Ok(0),
        _ => Err(ConfigError::OutOfRange {
            field: "BQ76907 cell count",
            value: cells as i64,
            min: 2,
            max: 7,
        }),
    }
}

/// The BQ7690x security model: only SEALED and FULLACCESS (no UNSEALED level, unlike the
/// bq769x2); Battery Status SEC bits `[1,1]` = sealed, `[0,1]` = full access (SLUUCJ0
/// device-security section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Security {
    /// SEC = 3.
    Sealed,
    /// SEC = 1.
    FullAccess,
    /// Any other code (not initialised, or a value the TRM does not define for these parts).
    Other(u8),
}

impl Security {
    /// From Battery Status bits 9:8.
    pub const fn from_battery_status(bits: u16) -> Self {
        match (bits >> 8) & 3 {
            3 => Self::Sealed,
            1 => Self::FullAccess,
            x => Self::Other(x as u8),
        }
    }
}

/// Internal Temperature (0x28) as m°C: the BQ76907 reports whole °C, signed.
pub const fn int_temperature(raw: u16) -> MilliCelsius {
    MilliCelsius::from_celsius(raw as i16 as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for n in 2..=7u8 {
            let code = vcell_mode_for_cells(n).unwrap();
            assert_eq!(vcell_mode_inputs(code).unwrap().count_ones(), u32::from(n));
            // The top input (VC7–VC6) is always a cell.
            assert_ne!(vcell_mode_inputs(code).unwrap() & 0x40, 0);
        }
        assert!(vcell_mode_for_cells(1).is_err());
        assert_eq!(Security::from_battery_status(0x0300), Security::Sealed);
        assert_eq!(Security::from_battery_status(0x0100), Security::FullAccess);
        assert_eq!(Security::from_battery_status(0x0200), Security::Other(2));
        assert_eq!(int_temperature(0xFFF6), MilliCelsius(-10_000));
    }
}
