//! The MAX17852/MAX17853 register map and typed field sets.
//!
//! Addresses: foxBMS `mxm_register_map.h` (foxBMS/foxbms-2 @308028fb, BSD-3-Clause) and the ADI
//! reference firmware `Max1785x.h` (analogdevicesinc/MAXREFDES1301 @4751c026), which agree
//! where they overlap. Bit layouts of SCANCTRL, STATUS1, FMEA1, FMEA2 and MEASUREEN1: the
//! reference firmware's `MAX1785x.cpp`, which composes each register from its named fields
//! (single vendor source; SCANCTRL = 0x1009 in foxBMS `mxm_17852.c` decodes consistently:
//! SCAN, 4× oversampling, AUTOBALSWDIS).
//!
//! Registers are 16 bits, sent least significant byte first.

use bitflags::bitflags;

use super::convert;
use crate::error::ConfigError;
use crate::units::MicroVolts;

/// A MAX1785x register address (the names of the data sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum Register {
    /// VERSION: model (15:4), silicon revision (3:0).
    Version = 0x00,
    /// ADDRESS.
    Address = 0x01,
    /// STATUS1 (see [`Status1`]).
    Status1 = 0x02,
    /// STATUS2.
    Status2 = 0x03,
    /// STATUS3.
    Status3 = 0x04,
    /// FMEA1 (see [`Fmea1`]).
    Fmea1 = 0x05,
    /// FMEA2 (see [`Fmea2`]).
    Fmea2 = 0x06,
    /// ALRTSUM.
    AlrtSum = 0x07,
    /// ALRTOVCELL: bit `k` = cell `k + 1` over its threshold.
    AlrtOvCell = 0x08,
    /// ALRTUVCELL: bit `k` = cell `k + 1` under its threshold.
    AlrtUvCell = 0x09,
    /// MINMAXCELL.
    MinMaxCell = 0x0A,
    /// ALRTCOMPOV: the redundant comparator's overvoltage alerts, bit `k` = cell `k + 1`.
    AlrtCompOv = 0x0E,
    /// ALRTCOMPUV: the redundant comparator's undervoltage alerts.
    AlrtCompUv = 0x0F,
    /// ALRTBALSW.
    AlrtBalSw = 0x12,
    /// SWACTION.
    SwAction = 0x13,
    /// DEVCFG1.
    DevCfg1 = 0x14,
    /// DEVCFG2.
    DevCfg2 = 0x15,
    /// AUXGPIOCFG.
    AuxGpioCfg = 0x16,
    /// GPIOCFG.
    GpioCfg = 0x17,
    /// PACKCFG.
    PackCfg = 0x18,
    /// ALRTIRQEN.
    AlrtIrqEn = 0x19,
    /// ALRTOVEN: cell overvoltage alert enables.
    AlrtOvEn = 0x1A,
    /// ALRTUVEN: cell undervoltage alert enables.
    AlrtUvEn = 0x1B,
    /// OVTHCLR: cell overvoltage clear threshold.
    OvThClr = 0x1F,
    /// OVTHSET: cell overvoltage set threshold.
    OvThSet = 0x20,
    /// UVTHCLR: cell undervoltage clear threshold.
    UvThClr = 0x21,
    /// UVTHSET: cell undervoltage set threshold.
    UvThSet = 0x22,
    /// MSMTCH: cell mismatch threshold.
    Msmtch = 0x23,
    /// BLKOVTHCLR.
    BlkOvThClr = 0x28,
    /// BLKOVTHSET.
    BlkOvThSet = 0x29,
    /// BLKUVTHCLR.
    BlkUvThClr = 0x2A,
    /// BLKUVTHSET.
    BlkUvThSet = 0x2B,
    /// CSAOVTHCLR (MAX17852 only).
    CsaOvThClr = 0x2C,
    /// CSAOVTHSET (MAX17852 only).
    CsaOvThSet = 0x2D,
    /// CSAUVTHCLR (MAX17852 only).
    CsaUvThClr = 0x2E,
    /// CSAUVTHSET (MAX17852 only).
    CsaUvThSet = 0x2F,
    /// AUXROVTHCLR: ratiometric AUX high clear threshold.
    AuxROvThClr = 0x30,
    /// AUXROVTHSET: ratiometric AUX high set threshold (NTC: under-temperature).
    AuxROvThSet = 0x31,
    /// AUXRUVTHCLR: ratiometric AUX low clear threshold.
    AuxRUvThClr = 0x32,
    /// AUXRUVTHSET: ratiometric AUX low set threshold (NTC: over-temperature).
    AuxRUvThSet = 0x33,
    /// COMPOVTH: the redundant comparator's overvoltage threshold.
    CompOvTh = 0x38,
    /// COMPUVTH: the redundant comparator's undervoltage threshold.
    CompUvTh = 0x39,
    /// CSA: current-sense amplifier result (MAX17852 only).
    Csa = 0x46,
    /// CELL1 (CELL2..CELL14 follow at 0x48..0x54, see [`Register::cell`]).
    Cell1 = 0x47,
    /// BLOCK: the block (module) voltage.
    Block = 0x55,
    /// TOTAL.
    Total = 0x56,
    /// DIAG1.
    Diag1 = 0x57,
    /// DIAG2.
    Diag2 = 0x58,
    /// AUX0 (AUX1..AUX5 follow, see [`Register::aux`]).
    Aux0 = 0x59,
    /// POLARITYCTRL.
    PolarityCtrl = 0x5F,
    /// AUXREFCTRL.
    AuxRefCtrl = 0x60,
    /// AUXTIME.
    AuxTime = 0x61,
    /// ACQCFG.
    AcqCfg = 0x62,
    /// BALSWDLY.
    BalSwDly = 0x63,
    /// MEASUREEN1 (see [`measure_enable1`]).
    MeasureEn1 = 0x64,
    /// MEASUREEN2.
    MeasureEn2 = 0x65,
    /// SCANCTRL (see [`ScanCtrl`]).
    ScanCtrl = 0x66,
    /// DIAGCFG.
    DiagCfg = 0x6B,
    /// CTSTCFG.
    CtstCfg = 0x6C,
    /// AUXSTCFG.
    AuxStCfg = 0x6D,
    /// DIAGGENCFG.
    DiagGenCfg = 0x6E,
    /// BALSWCTRL: manual balancing switches, bit `k` = cell `k + 1`.
    BalSwCtrl = 0x6F,
    /// BALEXP1: balancing expiration of cell 1 (BALEXP2..BALEXP14 follow, see
    /// [`Register::balexp`]).
    BalExp1 = 0x70,
    /// BALCTRL.
    BalCtrl = 0x80,
    /// BALSTAT.
    BalStat = 0x81,
    /// ID1.
    Id1 = 0x8C,
    /// ID2.
    Id2 = 0x8D,
}

impl Register {
    /// The address byte.
    pub const fn address(self) -> u8 {
        self as u8
    }

    /// The data-sheet name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Version => "VERSION",
            Self::Address => "ADDRESS",
            Self::Status1 => "STATUS1",
            Self::Status2 => "STATUS2",
            Self::Status3 => "STATUS3",
            Self::Fmea1 => "FMEA1",
            Self::Fmea2 => "FMEA2",
            Self::AlrtSum => "ALRTSUM",
            Self::AlrtOvCell => "ALRTOVCELL",
            Self::AlrtUvCell => "ALRTUVCELL",
            Self::MinMaxCell => "MINMAXCELL",
            Self::AlrtCompOv => "ALRTCOMPOV",
            Self::AlrtCompUv => "ALRTCOMPUV",
            Self::AlrtBalSw => "ALRTBALSW",
            Self::SwAction => "SWACTION",
            Self::DevCfg1 => "DEVCFG1",
            Self::DevCfg2 => "DEVCFG2",
            Self::AuxGpioCfg => "AUXGPIOCFG",
            Self::GpioCfg => "GPIOCFG",
            Self::PackCfg => "PACKCFG",
            Self::AlrtIrqEn => "ALRTIRQEN",
            Self::AlrtOvEn => "ALRTOVEN",
            Self::AlrtUvEn => "ALRTUVEN",
            Self::OvThClr => "OVTHCLR",
            Self::OvThSet => "OVTHSET",
            Self::UvThClr => "UVTHCLR",
            Self::UvThSet => "UVTHSET",
            Self::Msmtch => "MSMTCH",
            Self::BlkOvThClr => "BLKOVTHCLR",
            Self::BlkOvThSet => "BLKOVTHSET",
            Self::BlkUvThClr => "BLKUVTHCLR",
            Self::BlkUvThSet => "BLKUVTHSET",
            Self::CsaOvThClr => "CSAOVTHCLR",
            Self::CsaOvThSet => "CSAOVTHSET",
            Self::CsaUvThClr => "CSAUVTHCLR",
            Self::CsaUvThSet => "CSAUVTHSET",
            Self::AuxROvThClr => "AUXROVTHCLR",
            Self::AuxROvThSet => "AUXROVTHSET",
            Self::AuxRUvThClr => "AUXRUVTHCLR",
            Self::AuxRUvThSet => "AUXRUVTHSET",
            Self::CompOvTh => "COMPOVTH",
            Self::CompUvTh => "COMPUVTH",
            Self::Csa => "CSA",
            Self::Cell1 => "CELL1",
            Self::Block => "BLOCK",
            Self::Total => "TOTAL",
            Self::Diag1 => "DIAG1",
            Self::Diag2 => "DIAG2",
            Self::Aux0 => "AUX0",
            Self::PolarityCtrl => "POLARITYCTRL",
            Self::AuxRefCtrl => "AUXREFCTRL",
            Self::AuxTime => "AUXTIME",
            Self::AcqCfg => "ACQCFG",
            Self::BalSwDly => "BALSWDLY",
            Self::MeasureEn1 => "MEASUREEN1",
            Self::MeasureEn2 => "MEASUREEN2",
            Self::ScanCtrl => "SCANCTRL",
            Self::DiagCfg => "DIAGCFG",
            Self::CtstCfg => "CTSTCFG",
            Self::AuxStCfg => "AUXSTCFG",
            Self::DiagGenCfg => "DIAGGENCFG",
            Self::BalSwCtrl => "BALSWCTRL",
            Self::BalExp1 => "BALEXP1",
            Self::BalCtrl => "BALCTRL",
            Self::BalStat => "BALSTAT",
            Self::Id1 => "ID1",
            Self::Id2 => "ID2",
        }
    }

    /// The address of CELL`n` (1-based, 1..=14): 0x47 + n − 1.
    pub const fn cell(n: u8) -> Option<u8> {
        if n >= 1 && n <= 14 {
            Some(0x46 + n)
        } else {
            None
        }
    }

    /// The address of BALEXP`n` (1-based, 1..=14): 0x70 + n − 1.
    pub const fn balexp(n: u8) -> Option<u8> {
        if n >= 1 && n <= 14 {
            Some(0x6F + n)
        } else {
            None
        }
    }

    /// The address of AUX`n` (0-based, 0..=5): 0x59 + n (AUX4/AUX5 exist on the MAX17853
    /// only).
    pub const fn aux(n: u8) -> Option<u8> {
        if n <= 5 { Some(0x59 + n) } else { None }
    }
}

bitflags! {
    /// SCANCTRL (0x66) fields (MAXREFDES1301 `MAX1785x.cpp`: SCAN 0, SCANMODE 1, ALTMUXSEL 2,
    /// OVSAMPL 5:3, SCANCFG 8:6, RDFILT 9, AMENDFILT 10, ALRTFILTSEL 11, AUTOBALSWDIS 12,
    /// DATARDY 13, SCANTIMEOUT 14, SCANDONE 15).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ScanCtrl: u16 {
        /// Request a measurement sequence (scan).
        const SCAN = 1 << 0;
        /// Scan mode (0 = pyramid, the reset default).
        const SCANMODE = 1 << 1;
        /// Alternate multiplexer path.
        const ALTMUXSEL = 1 << 2;
        /// Oversampling field (3 bits).
        const OVSAMPL = 0b111 << 3;
        /// Scan configuration field (3 bits).
        const SCANCFG = 0b111 << 6;
        /// Read the IIR-filtered results.
        const RDFILT = 1 << 9;
        /// Add this scan to the IIR accumulator.
        const AMENDFILT = 1 << 10;
        /// Alerts from filtered results.
        const ALRTFILTSEL = 1 << 11;
        /// Suspend manual balancing during the scan.
        const AUTOBALSWDIS = 1 << 12;
        /// Data ready (read only).
        const DATARDY = 1 << 13;
        /// Scan timed out (read only).
        const SCANTIMEOUT = 1 << 14;
        /// Scan complete (read only).
        const SCANDONE = 1 << 15;
    }
}

/// Oversampling of a scan (SCANCTRL OVSAMPL, bits 5:3).
///
/// Two codes are attested: 0b001 = 4 samples (foxBMS writes SCANCTRL = 0x1009) and
/// 0b110 = 128 samples (MAXREFDES1301 `Max1785x.h`). 0b000 (no oversampling) is the field's
/// reset value in both; the codes between are not used by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Oversampling {
    /// OVSAMPL = 0b000: one sample.
    None,
    /// OVSAMPL = 0b001: 4 samples (foxBMS).
    X4,
    /// OVSAMPL = 0b110: 128 samples (MAXREFDES1301).
    X128,
}

impl Oversampling {
    /// The 3-bit field code.
    pub const fn code(self) -> u16 {
        match self {
            Self::None => 0b000,
            Self::X4 => 0b001,
            Self::X128 => 0b110,
        }
    }
}

/// The SCANCTRL value that starts a scan: SCAN, the oversampling, and AUTOBALSWDIS (manual
/// balancing suspended during the measurement, as foxBMS sets it).
///
/// ```
/// use bms_afe::max1785x::register::{scan_request, Oversampling};
/// // foxBMS `mxm_17852.c`: SCANCTRL = 0x1009 (SCAN, 4× oversampling, AUTOBALSWDIS).
/// assert_eq!(scan_request(Oversampling::X4), 0x1009);
/// ```
pub const fn scan_request(os: Oversampling) -> u16 {
    ScanCtrl::SCAN.bits() | (os.code() << 3) | ScanCtrl::AUTOBALSWDIS.bits()
}

/// The names of BALEXP1..BALEXP14 (for read-back errors).
pub const BALEXP_NAMES: [&str; 14] = [
    "BALEXP1", "BALEXP2", "BALEXP3", "BALEXP4", "BALEXP5", "BALEXP6", "BALEXP7", "BALEXP8",
    "BALEXP9", "BALEXP10", "BALEXP11", "BALEXP12", "BALEXP13", "BALEXP14",
];

/// BALCTRL value that starts manual balancing with the expiration timers: "Manual ON mode +
/// balancing halt in case of high temperature + alert when cell balancing is finished"
/// (foxBMS `mxm_1785x.c`, `MXM_OP_BAL_START`, written with WRITEALL after BALSWCTRL). Any
/// write of a mode other than CBMODE = 000 restarts the balancing timer at zero (foxBMS
/// `mxm_register_map.h`, BALCTRL).
pub const BALCTRL_MANUAL: u16 = 0x180E;
/// BALCTRL value with CBMODE = 000: balancing disabled.
pub const BALCTRL_DISABLE: u16 = 0x0000;

/// MEASUREEN2 (0x65): bit `k` enables AUX`k` (foxBMS `mxm_1785x.c` writes 0x000C for "AUX2
/// and AUX3").
pub const fn measure_enable2(aux_mask: u8) -> u16 {
    aux_mask as u16
}

/// MEASUREEN1 (0x64): CELLEN bits 13:0 for the first `cells` cells, BLOCKEN bit 14
/// (MAXREFDES1301 `MAX1785x.cpp`: `CELLEN + (BLOCKEN << 14)`).
pub const fn measure_enable1(cells: usize, block: bool) -> u16 {
    let n = if cells > 14 { 14 } else { cells };
    let cellen = ((1u32 << n) - 1) as u16;
    cellen | if block { 1 << 14 } else { 0 }
}

bitflags! {
    /// STATUS1 (0x02) (MAXREFDES1301 `MAX1785x.cpp`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Status1: u16 {
        /// FMEA1 summary.
        const ALRTFMEA1 = 1 << 0;
        /// FMEA2 summary.
        const ALRTFMEA2 = 1 << 1;
        /// Cell balancing status.
        const ALRTCBAL = 1 << 2;
        /// Calibration fault.
        const ALRTCAL = 1 << 3;
        /// Interface-specific error.
        const ALRTINTRFC = 1 << 4;
        /// A message with a bad PEC was received.
        const ALRTPEC = 1 << 5;
        /// Auxiliary undervoltage summary.
        const ALRTAUXUVST = 1 << 7;
        /// Auxiliary overvoltage summary.
        const ALRTAUXOVST = 1 << 8;
        /// Block undervoltage.
        const ALRTBLKUVST = 1 << 9;
        /// Block overvoltage.
        const ALRTBLKOVST = 1 << 10;
        /// Cell undervoltage summary.
        const ALRTCELLUVST = 1 << 11;
        /// Cell overvoltage summary.
        const ALRTCELLOVST = 1 << 12;
        /// Cell mismatch.
        const ALRTMSMTCH = 1 << 13;
        /// Reset occurred.
        const ALRTRST = 1 << 14;
        /// Scan done alert.
        const ALRTSCAN = 1 << 15;
    }
}

bitflags! {
    /// FMEA1 (0x05) (MAXREFDES1301 `MAX1785x.cpp`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Fmea1: u16 {
        /// Balance switch fault summary.
        const ALRTBALSWSUM = 1 << 0;
        /// HV overvoltage.
        const ALRTHVOV = 1 << 1;
        /// HV headroom.
        const ALRTHVHDRM = 1 << 2;
        /// HV undervoltage.
        const ALRTHVUV = 1 << 3;
        /// GNDL1 fault.
        const ALRTGNDL1 = 1 << 4;
        /// GNDL2 fault.
        const ALRTGNDL2 = 1 << 5;
        /// GNDL3 fault.
        const ALRTGNDL3 = 1 << 6;
        /// VDDL1 fault.
        const ALRTVDDL1 = 1 << 7;
        /// VDDL2 fault.
        const ALRTVDDL2 = 1 << 8;
        /// VDDL3 fault.
        const ALRTVDDL3 = 1 << 9;
        /// UART lower port single-ended (redundant).
        const ALRTCOMMSEL2 = 1 << 10;
        /// UART upper port single-ended (redundant).
        const ALRTCOMMSEU2 = 1 << 11;
        /// UART lower port single-ended.
        const ALRTCOMMSEL1 = 1 << 12;
        /// UART upper port single-ended.
        const ALRTCOMMSEU1 = 1 << 13;
        /// 32 kHz oscillator fault (redundant).
        const ALRTOSC2 = 1 << 14;
        /// 32 kHz oscillator fault.
        const ALRTOSC1 = 1 << 15;
    }
}

bitflags! {
    /// FMEA2 (0x06) (MAXREFDES1301 `MAX1785x.cpp`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Fmea2: u16 {
        /// End-of-sequence comparator accuracy diagnostic, undervoltage.
        const ALRTCOMPACCUV = 1 << 0;
        /// End-of-sequence comparator accuracy diagnostic, overvoltage.
        const ALRTCOMPACCOV = 1 << 1;
        /// ADC full-scale built-in self test.
        const ALRTADCFS = 1 << 2;
        /// ADC zero-scale built-in self test.
        const ALRTADCZS = 1 << 3;
        /// Scan timeout.
        const ALRTSCANTIMEOUT = 1 << 11;
        /// Die over-temperature.
        const ALRTTEMP = 1 << 12;
        /// Auxiliary protection summary.
        const ALRTAUXPRTCTSUM = 1 << 13;
        /// DCIN mux fault.
        const ALRTDCINMUX = 1 << 14;
        /// User-defined diagnostic alert.
        const ALRTUSER = 1 << 15;
    }
}

/// One device's alert registers, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Alerts {
    /// STATUS1.
    pub status1: u16,
    /// FMEA1.
    pub fmea1: u16,
    /// FMEA2.
    pub fmea2: u16,
    /// ALRTOVCELL (bit `k` = cell `k + 1`).
    pub ov_cells: u16,
    /// ALRTUVCELL (bit `k` = cell `k + 1`).
    pub uv_cells: u16,
}

impl Alerts {
    /// STATUS1 as flags.
    pub fn status1(&self) -> Status1 {
        Status1::from_bits_retain(self.status1)
    }
    /// FMEA1 as flags.
    pub fn fmea1(&self) -> Fmea1 {
        Fmea1::from_bits_retain(self.fmea1)
    }
    /// FMEA2 as flags.
    pub fn fmea2(&self) -> Fmea2 {
        Fmea2::from_bits_retain(self.fmea2)
    }
    /// The common [`Faults`](crate::monitor::Faults) view: per-cell OV/UV from ALRTOVCELL /
    /// ALRTUVCELL (the first `cells` bits); over-temperature from FMEA2 ALRTTEMP (die) or
    /// STATUS1 ALRTAUXUVST (an NTC input below its ratiometric low threshold: the
    /// data-check byte names that bit "AUX UV/OT", foxBMS `MXM_DC_BYTE_e`);
    /// under-temperature from ALRTAUXOVST; `internal` from any FMEA1 bit or the FMEA2
    /// self-test/oscillator-class bits (all but ALRTTEMP and ALRTUSER); `raw` = STATUS1.
    pub fn faults(&self, cells: usize) -> crate::monitor::Faults {
        let mask = ((1u32 << cells.min(16)) - 1) as u16;
        let f2 = self.fmea2();
        crate::monitor::Faults {
            overvoltage: u32::from(self.ov_cells & mask),
            undervoltage: u32::from(self.uv_cells & mask),
            over_temperature: f2.contains(Fmea2::ALRTTEMP)
                || self.status1().contains(Status1::ALRTAUXUVST),
            under_temperature: self.status1().contains(Status1::ALRTAUXOVST),
            internal: self.fmea1 != 0 || !(f2 - Fmea2::ALRTTEMP - Fmea2::ALRTUSER).is_empty(),
            raw: u32::from(self.status1),
            ..crate::monitor::Faults::default()
        }
    }
}

/// One device's cross-check of the ADC alerts against the redundant comparator's
/// (ALRTOVCELL/ALRTUVCELL vs ALRTCOMPOV/ALRTCOMPUV, register names from MAXREFDES1301
/// `Max1785x.h`). Meaningful when both paths are configured to the same limits (the
/// comparator threshold format, COMPOVTH/COMPUVTH, is not in the cited sources: write it
/// with `write_all_verified`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ComparatorCheck {
    /// ALRTOVCELL.
    pub adc_ov: u16,
    /// ALRTUVCELL.
    pub adc_uv: u16,
    /// ALRTCOMPOV.
    pub comp_ov: u16,
    /// ALRTCOMPUV.
    pub comp_uv: u16,
}

impl ComparatorCheck {
    /// Cells (bit `k` = cell `k + 1`) whose overvoltage alert differs between the two paths.
    pub fn ov_disagree(&self) -> u16 {
        self.adc_ov ^ self.comp_ov
    }
    /// Cells whose undervoltage alert differs between the two paths.
    pub fn uv_disagree(&self) -> u16 {
        self.adc_uv ^ self.comp_uv
    }
    /// `true` if both paths agree on every cell.
    pub fn agrees(&self) -> bool {
        self.ov_disagree() == 0 && self.uv_disagree() == 0
    }
}

/// A cell voltage threshold encoded like a cell result (14-bit code in bits 15:2, 5 V full
/// scale, [`convert::CELL_FULL_SCALE_UV`]), as foxBMS encodes its thresholds
/// (`MXM_VoltageIntoUnipolar14Bit` then `MXM_Unipolar14BitInto16Bit`).
///
/// Returns the register value and the threshold achieved. `round_up` chooses the direction
/// of quantisation (undervoltage: up, so the alert is never later than asked; overvoltage:
/// down). Outside 0..=5 V is [`ConfigError::OutOfRange`].
pub fn cell_threshold(v: MicroVolts, round_up: bool) -> Result<(u16, MicroVolts), ConfigError> {
    if v.0 < 0 || v.0 > convert::CELL_FULL_SCALE_UV as i32 {
        return Err(ConfigError::OutOfRange {
            field: "cell threshold (µV)",
            value: i64::from(v.0),
            min: 0,
            max: i64::from(convert::CELL_FULL_SCALE_UV),
        });
    }
    let num = v.0 as u64 * 16_384;
    let den = u64::from(convert::CELL_FULL_SCALE_UV);
    let code = if round_up {
        num.div_ceil(den)
    } else {
        num / den
    }
    .min(0x3FFF) as u16;
    Ok((code << 2, convert::cell_uv(code << 2)))
}

/// A block voltage threshold on the BLOCK scale (65 V / 2^14, [`convert::BLOCK_FULL_SCALE_UV`]),
/// quantised like [`cell_threshold`]. Not verified: that the block threshold registers use
/// the BLOCK result's scale.
pub fn block_threshold(v: MicroVolts, round_up: bool) -> Result<(u16, MicroVolts), ConfigError> {
    let fs = convert::BLOCK_FULL_SCALE_UV;
    if v.0 < 0 || v.0 as u32 > fs {
        return Err(ConfigError::OutOfRange {
            field: "block threshold (µV)",
            value: i64::from(v.0),
            min: 0,
            max: i64::from(fs),
        });
    }
    let num = v.0 as u64 * 16_384;
    let code = if round_up {
        num.div_ceil(u64::from(fs))
    } else {
        num / u64::from(fs)
    }
    .min(0x3FFF) as u16;
    Ok((code << 2, convert::block_uv(code << 2)))
}

/// A ratiometric AUX threshold in ppm of the reference (the AUX result's scale,
/// [`convert::aux_ratio_ppm`]); returns the register value and the ratio achieved. Not
/// verified: that the AUXR threshold registers use the AUX result's scale.
pub fn aux_ratio_threshold(ppm: u32, round_up: bool) -> Result<(u16, u32), ConfigError> {
    if ppm > 1_000_000 {
        return Err(ConfigError::OutOfRange {
            field: "AUX ratio threshold (ppm)",
            value: i64::from(ppm),
            min: 0,
            max: 1_000_000,
        });
    }
    let num = u64::from(ppm) * 16_384;
    let code = if round_up {
        num.div_ceil(1_000_000)
    } else {
        num / 1_000_000
    }
    .min(0x3FFF) as u16;
    Ok((code << 2, convert::aux_ratio_ppm(code << 2)))
}

/// The thresholds a driver holds and writes (each as its register value; `None` = leave the
/// chip's value). Set and clear registers are written equal (no hysteresis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Thresholds {
    /// OVTHSET / OVTHCLR.
    pub cell_ov: Option<u16>,
    /// UVTHSET / UVTHCLR.
    pub cell_uv: Option<u16>,
    /// MSMTCH (cell mismatch, on the cell scale — not verified).
    pub mismatch: Option<u16>,
    /// BLKOVTHSET / BLKOVTHCLR.
    pub block_ov: Option<u16>,
    /// BLKUVTHSET / BLKUVTHCLR.
    pub block_uv: Option<u16>,
    /// AUXROVTHSET / AUXROVTHCLR (ratio high: NTC under-temperature).
    pub aux_high: Option<u16>,
    /// AUXRUVTHSET / AUXRUVTHCLR (ratio low: NTC over-temperature).
    pub aux_low: Option<u16>,
}

impl Thresholds {
    /// Every register to write and its value, in the order written.
    pub fn writes(&self) -> impl Iterator<Item = (Register, u16)> {
        let pairs = [
            (
                self.cell_ov,
                [Some(Register::OvThSet), Some(Register::OvThClr)],
            ),
            (
                self.cell_uv,
                [Some(Register::UvThSet), Some(Register::UvThClr)],
            ),
            (self.mismatch, [Some(Register::Msmtch), None]),
            (
                self.block_ov,
                [Some(Register::BlkOvThSet), Some(Register::BlkOvThClr)],
            ),
            (
                self.block_uv,
                [Some(Register::BlkUvThSet), Some(Register::BlkUvThClr)],
            ),
            (
                self.aux_high,
                [Some(Register::AuxROvThSet), Some(Register::AuxROvThClr)],
            ),
            (
                self.aux_low,
                [Some(Register::AuxRUvThSet), Some(Register::AuxRUvThClr)],
            ),
        ];
        pairs.into_iter().flat_map(|(v, regs)| {
            regs.into_iter()
                .flatten()
                .filter_map(move |r| v.map(|x| (r, x)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_request_and_measure_enable_match_vendor_values() {
        assert_eq!(scan_request(Oversampling::X4), 0x1009);
        assert_eq!(scan_request(Oversampling::None), 0x1001);
        // MAXREFDES1301: OVSAMPL = 0b110 at bits 5:3.
        assert_eq!(scan_request(Oversampling::X128) & 0x38, 0x30);
        assert_eq!(measure_enable1(14, true), 0x7FFF);
        assert_eq!(measure_enable1(12, false), 0x0FFF);
        assert_eq!(Register::cell(14), Some(0x54));
        assert_eq!(Register::cell(0), None);
        assert_eq!(Register::aux(5), Some(0x5E));
    }

    #[test]
    fn thresholds_quantise_in_the_safe_direction() {
        // 4.2 V: 4.2 × 16384 / 5 = 13762.56 → down 13762, up 13763.
        let (code, v) = cell_threshold(MicroVolts(4_200_000), false).unwrap();
        assert_eq!(code, 13_762 << 2);
        assert!(v.0 <= 4_200_000 && 4_200_000 - v.0 < 306);
        let (code, v) = cell_threshold(MicroVolts(4_200_000), true).unwrap();
        assert_eq!(code, 13_763 << 2);
        assert!(v.0 >= 4_200_000);
        assert!(cell_threshold(MicroVolts(5_000_001), false).is_err());
        assert!(cell_threshold(MicroVolts(-1), true).is_err());
    }

    #[test]
    fn held_thresholds_list_set_and_clear_registers() {
        let t = Thresholds {
            cell_ov: Some(0x1234),
            mismatch: Some(0x0040),
            aux_low: Some(0x0100),
            ..Thresholds::default()
        };
        let w: [(u8, u16); 5] = [
            (0x20, 0x1234),
            (0x1F, 0x1234),
            (0x23, 0x0040),
            (0x33, 0x0100),
            (0x32, 0x0100),
        ];
        assert!(t.writes().map(|(r, v)| (r.address(), v)).eq(w));
        assert_eq!(Thresholds::default().writes().count(), 0);
        let (c, v) = block_threshold(MicroVolts(50_000_000), false).unwrap();
        assert_eq!(c, 12_603 << 2);
        assert!(v.0 <= 50_000_000 && 50_000_000 - v.0 < 3_968);
        assert!(block_threshold(MicroVolts(65_000_001), true).is_err());
        let (c, r) = aux_ratio_threshold(250_000, true).unwrap();
        assert_eq!((c, r), (4_096 << 2, 250_000));
        assert!(aux_ratio_threshold(1_000_001, false).is_err());
    }

    #[test]
    fn alerts_map_to_common_faults() {
        let a = Alerts {
            status1: Status1::ALRTCELLOVST.bits(),
            fmea1: 0,
            fmea2: Fmea2::ALRTTEMP.bits(),
            ov_cells: 0b101 | 1 << 15,
            uv_cells: 0,
        };
        let f = a.faults(14);
        assert_eq!(f.overvoltage, 0b101);
        assert!(f.over_temperature && !f.internal);
        assert_eq!(f.raw, 1 << 12);
        let b = Alerts {
            fmea2: Fmea2::ALRTADCZS.bits(),
            ..Alerts::default()
        };
        assert!(b.faults(14).internal);
    }
}
