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
    /// ALRTUVCELL (the first `cells` bits), over-temperature from FMEA2 ALRTTEMP (die),
    /// `internal` from any FMEA1 bit or the FMEA2 self-test/oscillator-class bits (all but
    /// ALRTTEMP and ALRTUSER), `raw` = STATUS1.
    pub fn faults(&self, cells: usize) -> crate::monitor::Faults {
        let mask = ((1u32 << cells.min(16)) - 1) as u16;
        let f2 = self.fmea2();
        crate::monitor::Faults {
            overvoltage: u32::from(self.ov_cells & mask),
            undervoltage: u32::from(self.uv_cells & mask),
            over_temperature: f2.contains(Fmea2::ALRTTEMP),
            internal: self.fmea1 != 0 || !(f2 - Fmea2::ALRTTEMP - Fmea2::ALRTUSER).is_empty(),
            raw: u32::from(self.status1),
            ..crate::monitor::Faults::default()
        }
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
