//! The family members (sealed [`Variant`] trait and its marker types): the bq769x2
//! (BQ76952, BQ76942, BQ769142, BQ76922) and the BQ7690x (BQ76905, BQ76907), which share the
//! bus protocol (direct commands, subcommands through the transfer buffer with its checksum,
//! CONFIG_UPDATE, I2C CRC mode) and differ in the items of [`VariantMap`].

use crate::bq769x2::bq7690x;
use crate::bq769x2::command::direct;
use crate::bq769x2::data_memory::address;

mod private {
    pub trait Sealed {}
}

/// A bq769x2 family member (sealed).
pub trait Variant: private::Sealed {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs (VC pins measured as cells).
    const CELL_INPUTS: u8;
    /// The DEVICE_NUMBER subcommand result, if known.
    const DEVICE_NUMBER: Option<u16>;
    /// `true` if [`Variant::DEVICE_NUMBER`] was read in a TI document; if `false`, a
    /// different number is reported in [`DeviceInfo`](super::DeviceInfo) but not treated as an error.
    const DEVICE_NUMBER_VERIFIED: bool;
    /// Where the part keeps what the driver reads and writes, and in which units. The
    /// bq769x2 map by default.
    const MAP: VariantMap = VariantMap::BQ769X2;
}

/// How the part encodes Vcell Mode (the connected cell inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum VcellModeKind {
    /// bq769x2: a 16-bit bitmap, bit `n − 1` = input `n` (0 = every input).
    Bitmap16,
    /// BQ76907: a one-byte cell-count code ([`bq7690x::vcell_mode_inputs`]).
    Bq76907Code,
    /// BQ76905: a one-byte code whose table is not in the documents this crate cites; only
    /// code 0 (every input) is decoded, any other code is reported, not guessed.
    Bq76905Code,
}

/// The part's security levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SecurityModel {
    /// bq769x2: SEALED → UNSEALED → FULLACCESS, each step with its own key pair.
    ThreeLevels,
    /// BQ7690x: SEALED ↔ FULLACCESS only, one key pair written within 5 s (BQ76907 TRM
    /// SLUUCJ0, device-security section).
    SealedFullAccess,
}

/// Unit of the internal (die) temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DieTemperatureUnit {
    /// 0.1 K (bq769x2, 0x68).
    DeciKelvin,
    /// Signed whole °C (BQ7690x, 0x28).
    Celsius,
}

/// Unit of the stack voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StackVoltageUnit {
    /// Signed, in userV of DA Configuration (bq769x2, 0x34).
    UserVolts,
    /// Unsigned mV (BQ7690x, 0x26).
    Millivolts,
}

/// The per-family items the shared driver reads instead of fixed constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct VariantMap {
    /// `true` for the BQ7690x map (the two families' [`Config`](crate::bq769x2::Config)
    /// batches are not interchangeable).
    pub bq7690x: bool,
    /// Stack Voltage direct command.
    pub stack_voltage: u8,
    /// Its unit.
    pub stack_unit: StackVoltageUnit,
    /// Internal Temperature direct command.
    pub int_temperature: u8,
    /// Its unit.
    pub int_temperature_unit: DieTemperatureUnit,
    /// `true` if the multi-function pins report temperatures (bq769x2 0x6A..=0x7A); the
    /// BQ7690x reports only the raw TS measurement (0x2A, ADC codes).
    pub pin_temperatures: bool,
    /// `true` if PACK (0x36) and LD (0x38) voltages exist.
    pub pack_ld_voltages: bool,
    /// Data-memory range (inclusive).
    pub data_memory: (u16, u16),
    /// DA Configuration address.
    pub da_config: u16,
    /// `true` if DA Configuration has the bq769x2 layout the driver decodes ([`DaConfig`](crate::bq769x2::DaConfig)).
    pub da_config_decoded: bool,
    /// Vcell Mode address.
    pub vcell_mode: u16,
    /// Vcell Mode encoding.
    pub vcell_mode_kind: VcellModeKind,
    /// Enabled Protections A address.
    pub enabled_protections_a: u16,
    /// Security levels.
    pub security: SecurityModel,
}

impl VariantMap {
    /// The bq769x2 (BQ76952 TRM SLUUBY2B; BQ769x2 Software Development Guide SLUAA11B).
    pub const BQ769X2: Self = Self {
        bq7690x: false,
        stack_voltage: direct::STACK_VOLTAGE,
        stack_unit: StackVoltageUnit::UserVolts,
        int_temperature: direct::INT_TEMPERATURE,
        int_temperature_unit: DieTemperatureUnit::DeciKelvin,
        pin_temperatures: true,
        pack_ld_voltages: true,
        data_memory: (0x9180, 0x93FF),
        da_config: address::DA_CONFIGURATION,
        da_config_decoded: true,
        vcell_mode: address::VCELL_MODE,
        vcell_mode_kind: VcellModeKind::Bitmap16,
        enabled_protections_a: address::ENABLED_PROTECTIONS_A,
        security: SecurityModel::ThreeLevels,
    };

    /// The BQ76907 (BQ76907 TRM SLUUCJ0, Nov. 2023, <https://www.ti.com/lit/pdf/sluucj0>;
    /// BQ7690x Software Development Guide SLUAAM4, <https://ti.com/document-viewer/lit/html/SLUAAM4>).
    pub const BQ76907: Self = Self {
        bq7690x: true,
        stack_voltage: bq7690x::direct::STACK_VOLTAGE,
        stack_unit: StackVoltageUnit::Millivolts,
        int_temperature: bq7690x::direct::INT_TEMPERATURE,
        int_temperature_unit: DieTemperatureUnit::Celsius,
        pin_temperatures: false,
        pack_ld_voltages: false,
        data_memory: (0x9000, 0x90FF),
        da_config: bq7690x::dm::DA_CONFIG,
        da_config_decoded: false,
        vcell_mode: bq7690x::dm::VCELL_MODE,
        vcell_mode_kind: VcellModeKind::Bq76907Code,
        enabled_protections_a: bq7690x::dm::ENABLED_PROTECTIONS_A,
        security: SecurityModel::SealedFullAccess,
    };

    /// The BQ76905: the BQ76907 map (SLUAAM4 covers both parts) with its own, undecoded
    /// Vcell Mode table.
    pub const BQ76905: Self = Self {
        vcell_mode_kind: VcellModeKind::Bq76905Code,
        ..Self::BQ76907
    };
}

/// BQ76952: 16 cell inputs. DEVICE_NUMBER 0x7695 is expected by TI's numbering scheme but
/// was not found in a TI document: a mismatch is reported, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76952;
/// BQ76942: 10 cell inputs, DEVICE_NUMBER 0x7694 (SLUAA11B §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76942;
/// BQ769142: 14 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq769142;
/// BQ76922: 5 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76922;

impl private::Sealed for Bq76952 {}
impl private::Sealed for Bq76942 {}
impl private::Sealed for Bq769142 {}
impl private::Sealed for Bq76922 {}
impl private::Sealed for Bq76905 {}
impl private::Sealed for Bq76907 {}

/// BQ76905: 5 cell inputs, DEVICE_NUMBER 0x7605 (SLUAAM4 §2.1 "DEVICE_NUMBER" waveform).
/// The BQ7690x map ([`VariantMap::BQ76905`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76905;
/// BQ76907: 7 cell inputs, the BQ7690x map ([`VariantMap::BQ76907`]). Its DEVICE_NUMBER
/// is not given in the documents this crate cites (0x7607 would follow the BQ76905's
/// 0x7605): `probe` reports what it reads and whether it equals 0x7607, never refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76907;

impl Variant for Bq76905 {
    const NAME: &'static str = "BQ76905";
    const CELL_INPUTS: u8 = 5;
    const DEVICE_NUMBER: Option<u16> = Some(bq7690x::BQ76905_DEVICE_NUMBER);
    const DEVICE_NUMBER_VERIFIED: bool = true;
    const MAP: VariantMap = VariantMap::BQ76905;
}
impl Variant for Bq76907 {
    const NAME: &'static str = "BQ76907";
    const CELL_INPUTS: u8 = 7;
    const DEVICE_NUMBER: Option<u16> = Some(0x7607);
    const DEVICE_NUMBER_VERIFIED: bool = false;
    const MAP: VariantMap = VariantMap::BQ76907;
}

impl Variant for Bq76952 {
    const NAME: &'static str = "BQ76952";
    const CELL_INPUTS: u8 = 16;
    const DEVICE_NUMBER: Option<u16> = Some(0x7695);
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76942 {
    const NAME: &'static str = "BQ76942";
    const CELL_INPUTS: u8 = 10;
    const DEVICE_NUMBER: Option<u16> = Some(0x7694);
    const DEVICE_NUMBER_VERIFIED: bool = true;
}
impl Variant for Bq769142 {
    const NAME: &'static str = "BQ769142";
    const CELL_INPUTS: u8 = 14;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76922 {
    const NAME: &'static str = "BQ76922";
    const CELL_INPUTS: u8 = 5;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
