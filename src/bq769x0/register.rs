//! The register map (DS SLUSBK2I §8.5, Table 8-3 onwards) as addresses and typed fields.
//!
//! All multi-byte ADC results are big-endian (HI at the lower address) and are only
//! consistent when HI and LO are read in one auto-incrementing transaction (DS §8.3.1.1.1);
//! the driver always reads them in bursts.

use bitflags::bitflags;

/// SYS_STAT: latched status; a bit is cleared by writing 1 to it (DS Table 8-3).
pub const SYS_STAT: u8 = 0x00;
/// CELLBAL1: CB5..CB1.
pub const CELLBAL1: u8 = 0x01;
/// CELLBAL2: CB10..CB6 (BQ76930/40).
pub const CELLBAL2: u8 = 0x02;
/// CELLBAL3: CB15..CB11 (BQ76940).
pub const CELLBAL3: u8 = 0x03;
/// SYS_CTRL1.
pub const SYS_CTRL1: u8 = 0x04;
/// SYS_CTRL2.
pub const SYS_CTRL2: u8 = 0x05;
/// PROTECT1: RSNS, SCD delay and threshold.
pub const PROTECT1: u8 = 0x06;
/// PROTECT2: OCD delay and threshold.
pub const PROTECT2: u8 = 0x07;
/// PROTECT3: UV and OV delays.
pub const PROTECT3: u8 = 0x08;
/// OV_TRIP (reset 0xAC).
pub const OV_TRIP: u8 = 0x09;
/// UV_TRIP (reset 0x97).
pub const UV_TRIP: u8 = 0x0A;
/// CC_CFG: must be programmed to [`CC_CFG_VALUE`] after start-up (DS Table 8-3).
pub const CC_CFG: u8 = 0x0B;
/// The value CC_CFG must hold (0x19; 0x0B is the register).
pub const CC_CFG_VALUE: u8 = 0x19;
/// VC1_HI; VCn_HI is at `VC1_HI + 2 (n − 1)`.
pub const VC1_HI: u8 = 0x0C;
/// BAT_HI (16-bit pack voltage).
pub const BAT_HI: u8 = 0x2A;
/// TS1_HI; TSn_HI at `TS1_HI + 2 (n − 1)`.
pub const TS1_HI: u8 = 0x2C;
/// CC_HI (16-bit two's complement coulomb counter).
pub const CC_HI: u8 = 0x32;
/// ADCGAIN1: bits 3:2 = ADCGAIN<4:3>.
pub const ADCGAIN1: u8 = 0x50;
/// ADCOFFSET: signed, mV.
pub const ADCOFFSET: u8 = 0x51;
/// ADCGAIN2: bits 7:5 = ADCGAIN<2:0>.
pub const ADCGAIN2: u8 = 0x59;

/// Reset value of OV_TRIP.
pub const OV_TRIP_RESET: u8 = 0xAC;
/// Reset value of UV_TRIP.
pub const UV_TRIP_RESET: u8 = 0x97;

bitflags! {
    /// SYS_STAT (0x00). The ALERT pin is the OR of all bits and falls once all are cleared
    /// (DS §8.3.1.3.4). Effects on the FETs (DS §8.3.1.3.1, Table 8-1): OV clears CHG_ON;
    /// UV, OCD and SCD clear DSG_ON; OVRD_ALERT and DEVICE_XREADY clear both.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SysStat: u8 {
        /// A coulomb-counter reading is ready (latched until cleared).
        const CC_READY = 1 << 7;
        /// Internal chip fault; also clears CELLBALx (DS: clear it after a few seconds).
        const DEVICE_XREADY = 1 << 5;
        /// The ALERT pin was driven high externally (override).
        const OVRD_ALERT = 1 << 4;
        /// Cell undervoltage.
        const UV = 1 << 3;
        /// Cell overvoltage.
        const OV = 1 << 2;
        /// Short circuit in discharge.
        const SCD = 1 << 1;
        /// Overcurrent in discharge.
        const OCD = 1 << 0;
    }
}

impl SysStat {
    /// The fault bits (everything except CC_READY).
    pub const FAULTS: Self = Self::DEVICE_XREADY
        .union(Self::OVRD_ALERT)
        .union(Self::UV)
        .union(Self::OV)
        .union(Self::SCD)
        .union(Self::OCD);
}

bitflags! {
    /// SYS_CTRL1 (0x04).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SysCtrl1: u8 {
        /// Read-only: a load is present on the LD pin (while CHG is off).
        const LOAD_PRESENT = 1 << 7;
        /// Voltage and temperature ADC on (also needed for OV/UV protection).
        const ADC_EN = 1 << 4;
        /// 1 = TSx are external thermistors, 0 = die temperature (DS §8.3.1.1.4/5).
        const TEMP_SEL = 1 << 3;
        /// Ship-mode command bit A.
        const SHUT_A = 1 << 1;
        /// Ship-mode command bit B.
        const SHUT_B = 1 << 0;
    }
}

bitflags! {
    /// SYS_CTRL2 (0x05).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SysCtrl2: u8 {
        /// Disables the OV/UV/OCD/SCD delays (test only).
        const DELAY_DIS = 1 << 7;
        /// Coulomb counter always on.
        const CC_EN = 1 << 6;
        /// One coulomb-counter reading (with CC_EN = 0); self-clearing.
        const CC_ONESHOT = 1 << 5;
        /// Discharge FET on.
        const DSG_ON = 1 << 1;
        /// Charge FET on.
        const CHG_ON = 1 << 0;
    }
}

/// Shunt-voltage range of the current comparators (PROTECT1 bit 7, DS Tables 8-9/8-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rsns {
    /// RSNS = 0: SCD 22–100 mV, OCD 8–50 mV.
    Low,
    /// RSNS = 1: SCD 44–200 mV, OCD 17–100 mV.
    High,
}

/// SCD thresholds in mV per code, RSNS = 0 and RSNS = 1 (DS Table 8-9).
pub const SCD_THRESH_MV: [[u16; 8]; 2] = [
    [22, 33, 44, 56, 67, 78, 89, 100],
    [44, 67, 89, 111, 133, 155, 178, 200],
];
/// OCD thresholds in mV per code, RSNS = 0 and RSNS = 1 (DS Table 8-10).
pub const OCD_THRESH_MV: [[u16; 16]; 2] = [
    [
        8, 11, 14, 17, 19, 22, 25, 28, 31, 33, 36, 39, 42, 44, 47, 50,
    ],
    [
        17, 22, 28, 33, 39, 44, 50, 56, 61, 67, 72, 78, 83, 89, 94, 100,
    ],
];

impl Rsns {
    /// Row index in the threshold tables.
    pub const fn index(self) -> usize {
        match self {
            Self::Low => 0,
            Self::High => 1,
        }
    }
}

/// SCD_DELAY (PROTECT1 bits 4:3, DS Table 8-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum ScdDelay {
    Us70 = 0,
    Us100 = 1,
    Us200 = 2,
    Us400 = 3,
}

/// OCD_DELAY (PROTECT2 bits 6:4, DS Table 8-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum OcdDelay {
    Ms8 = 0,
    Ms20 = 1,
    Ms40 = 2,
    Ms80 = 3,
    Ms160 = 4,
    Ms320 = 5,
    Ms640 = 6,
    Ms1280 = 7,
}

/// UV_DELAY (PROTECT3 bits 7:6, DS Table 8-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum UvDelay {
    S1 = 0,
    S4 = 1,
    S8 = 2,
    S16 = 3,
}

/// OV_DELAY (PROTECT3 bits 5:4, DS Table 8-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum OvDelay {
    S1 = 0,
    S2 = 1,
    S4 = 2,
    S8 = 3,
}

impl ScdDelay {
    /// The delay in µs.
    pub const fn micros(self) -> u32 {
        [70, 100, 200, 400][self as usize]
    }
    /// From the 2-bit code.
    pub const fn from_code(code: u8) -> Self {
        match code & 3 {
            0 => Self::Us70,
            1 => Self::Us100,
            2 => Self::Us200,
            _ => Self::Us400,
        }
    }
}

impl OcdDelay {
    /// The delay in ms.
    pub const fn millis(self) -> u32 {
        [8, 20, 40, 80, 160, 320, 640, 1280][self as usize]
    }
    /// From the 3-bit code.
    pub const fn from_code(code: u8) -> Self {
        match code & 7 {
            0 => Self::Ms8,
            1 => Self::Ms20,
            2 => Self::Ms40,
            3 => Self::Ms80,
            4 => Self::Ms160,
            5 => Self::Ms320,
            6 => Self::Ms640,
            _ => Self::Ms1280,
        }
    }
}

impl UvDelay {
    /// The delay in s.
    pub const fn seconds(self) -> u32 {
        [1, 4, 8, 16][self as usize]
    }
    /// From the 2-bit code.
    pub const fn from_code(code: u8) -> Self {
        match code & 3 {
            0 => Self::S1,
            1 => Self::S4,
            2 => Self::S8,
            _ => Self::S16,
        }
    }
}

impl OvDelay {
    /// The delay in s.
    pub const fn seconds(self) -> u32 {
        [1, 2, 4, 8][self as usize]
    }
    /// From the 2-bit code.
    pub const fn from_code(code: u8) -> Self {
        match code & 3 {
            0 => Self::S1,
            1 => Self::S2,
            2 => Self::S4,
            _ => Self::S8,
        }
    }
}

/// PROTECT1 (0x06) as typed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Protect1 {
    /// Comparator range.
    pub rsns: Rsns,
    /// SCD delay.
    pub scd_delay: ScdDelay,
    /// SCD threshold code 0..=7.
    pub scd_thresh: u8,
}

impl Protect1 {
    /// The register byte.
    ///
    /// ```
    /// use bms_afe::bq769x0::register::{Protect1, Rsns, ScdDelay};
    /// // DS SLUSBK2I §9.2.2.1: RSNS = 1, 100 µs, 111 mV → 0x8B.
    /// let p = Protect1 { rsns: Rsns::High, scd_delay: ScdDelay::Us100, scd_thresh: 3 };
    /// assert_eq!(p.to_byte(), 0x8B);
    /// assert_eq!(Protect1::from_byte(0x8B), p);
    /// ```
    pub const fn to_byte(self) -> u8 {
        (match self.rsns {
            Rsns::Low => 0,
            Rsns::High => 0x80,
        }) | ((self.scd_delay as u8) << 3)
            | (self.scd_thresh & 7)
    }
    /// Decodes the register byte (reserved bits ignored).
    pub const fn from_byte(b: u8) -> Self {
        Self {
            rsns: if b & 0x80 != 0 { Rsns::High } else { Rsns::Low },
            scd_delay: ScdDelay::from_code(b >> 3),
            scd_thresh: b & 7,
        }
    }
    /// The SCD threshold as a shunt voltage in mV.
    pub const fn scd_millivolts(self) -> u16 {
        SCD_THRESH_MV[self.rsns.index()][(self.scd_thresh & 7) as usize]
    }
}

/// PROTECT2 (0x07) as typed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Protect2 {
    /// OCD delay.
    pub ocd_delay: OcdDelay,
    /// OCD threshold code 0..=15 (its mV value depends on PROTECT1 RSNS).
    pub ocd_thresh: u8,
}

impl Protect2 {
    /// The register byte.
    ///
    /// ```
    /// use bms_afe::bq769x0::register::{OcdDelay, Protect2};
    /// // DS SLUSBK2I §9.2.2.1 text: 320 ms, code 0xA (72 mV at RSNS = 1) → 0x5A (the data
    /// // sheet then prints 0x5B, which is code 0xB = 78 mV: an erratum).
    /// assert_eq!(Protect2 { ocd_delay: OcdDelay::Ms320, ocd_thresh: 0xA }.to_byte(), 0x5A);
    /// ```
    pub const fn to_byte(self) -> u8 {
        ((self.ocd_delay as u8) << 4) | (self.ocd_thresh & 0x0F)
    }
    /// Decodes the register byte.
    pub const fn from_byte(b: u8) -> Self {
        Self {
            ocd_delay: OcdDelay::from_code(b >> 4),
            ocd_thresh: b & 0x0F,
        }
    }
    /// The OCD threshold as a shunt voltage in mV for range `rsns`.
    pub const fn ocd_millivolts(self, rsns: Rsns) -> u16 {
        OCD_THRESH_MV[rsns.index()][(self.ocd_thresh & 0x0F) as usize]
    }
}

/// PROTECT3 (0x08) as typed fields (bits 3:0 are reserved and kept as read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Protect3 {
    /// UV delay.
    pub uv_delay: UvDelay,
    /// OV delay.
    pub ov_delay: OvDelay,
}

impl Protect3 {
    /// The register byte with reserved bits `reserved & 0x0F`.
    ///
    /// ```
    /// use bms_afe::bq769x0::register::{OvDelay, Protect3, UvDelay};
    /// // DS SLUSBK2I §9.2.2.1: UV 4 s, OV 2 s → 0x50.
    /// assert_eq!(Protect3 { uv_delay: UvDelay::S4, ov_delay: OvDelay::S2 }.to_byte(0), 0x50);
    /// ```
    pub const fn to_byte(self, reserved: u8) -> u8 {
        ((self.uv_delay as u8) << 6) | ((self.ov_delay as u8) << 4) | (reserved & 0x0F)
    }
    /// Decodes the register byte.
    pub const fn from_byte(b: u8) -> Self {
        Self {
            uv_delay: UvDelay::from_code(b >> 6),
            ov_delay: OvDelay::from_code(b >> 4),
        }
    }
}

/// The data-sheet name of a register address, for errors.
pub const fn name(reg: u8) -> &'static str {
    match reg {
        SYS_STAT => "SYS_STAT",
        CELLBAL1 => "CELLBAL1",
        CELLBAL2 => "CELLBAL2",
        CELLBAL3 => "CELLBAL3",
        SYS_CTRL1 => "SYS_CTRL1",
        SYS_CTRL2 => "SYS_CTRL2",
        PROTECT1 => "PROTECT1",
        PROTECT2 => "PROTECT2",
        PROTECT3 => "PROTECT3",
        OV_TRIP => "OV_TRIP",
        UV_TRIP => "UV_TRIP",
        CC_CFG => "CC_CFG",
        ADCGAIN1 => "ADCGAIN1",
        ADCOFFSET => "ADCOFFSET",
        ADCGAIN2 => "ADCGAIN2",
        _ => "ADC result",
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SysStat {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "SysStat({=u8:#04x})", self.bits())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SysCtrl1 {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "SysCtrl1({=u8:#04x})", self.bits())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SysCtrl2 {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "SysCtrl2({=u8:#04x})", self.bits())
    }
}
