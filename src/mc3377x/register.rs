//! Register map: addresses and typed field sets.
//!
//! Addresses and bit fields are those of the NXP BCC SW driver v2.2 headers
//! (`inc/BCC/Derivatives/mc3377xC/MC33771C.h`, `MC33772C.h`, github.com/NXPHoverGames/MR-BMS771)
//! and, for the B silicon, `bcc_mc3377x.h` of github.com/NXPHoverGames/RDDRONE-BMS772; the
//! addresses are the same on B and C.

use crate::error::ConfigError;
use crate::units::MicroVolts;

/// INIT: CID and TPL port settings.
pub const INIT: u8 = 0x01;
/// SYS_CFG_GLOBAL: GO2SLEEP (bit 0), written globally.
pub const SYS_CFG_GLOBAL: u8 = 0x02;
/// SYS_CFG1.
pub const SYS_CFG1: u8 = 0x03;
/// SYS_CFG2.
pub const SYS_CFG2: u8 = 0x04;
/// SYS_DIAG.
pub const SYS_DIAG: u8 = 0x05;
/// ADC_CFG: start of conversion, averaging (C) / tag (B), resolutions.
pub const ADC_CFG: u8 = 0x06;
/// ADC2_OFFSET_COMP.
pub const ADC2_OFFSET_COMP: u8 = 0x07;
/// OV_UV_EN: per-input OV/UV enables and the common-threshold selects.
pub const OV_UV_EN: u8 = 0x08;
/// CELL_OV_FLT: per-input overvoltage flags.
pub const CELL_OV_FLT: u8 = 0x09;
/// CELL_UV_FLT: per-input undervoltage flags.
pub const CELL_UV_FLT: u8 = 0x0A;
/// TPL_CFG.
pub const TPL_CFG: u8 = 0x0B;
/// CB1_CFG; CBn_CFG is `CB1_CFG + n − 1` (n = 1..=14, 1..=6 on MC33772).
pub const CB1_CFG: u8 = 0x0C;
/// CB_OPEN_FLT.
pub const CB_OPEN_FLT: u8 = 0x1A;
/// CB_SHORT_FLT.
pub const CB_SHORT_FLT: u8 = 0x1B;
/// CB_DRV_STS.
pub const CB_DRV_STS: u8 = 0x1C;
/// GPIO_CFG1.
pub const GPIO_CFG1: u8 = 0x1D;
/// GPIO_CFG2.
pub const GPIO_CFG2: u8 = 0x1E;
/// GPIO_STS.
pub const GPIO_STS: u8 = 0x1F;
/// AN_OT_UT_FLT.
pub const AN_OT_UT_FLT: u8 = 0x20;
/// GPIO_SHORT_ANX_OPEN_STS.
pub const GPIO_SHORT_ANX_OPEN_STS: u8 = 0x21;
/// I_STATUS.
pub const I_STATUS: u8 = 0x22;
/// COM_STATUS: communication error counters.
pub const COM_STATUS: u8 = 0x23;
/// FAULT1_STATUS.
pub const FAULT1_STATUS: u8 = 0x24;
/// FAULT2_STATUS.
pub const FAULT2_STATUS: u8 = 0x25;
/// FAULT3_STATUS.
pub const FAULT3_STATUS: u8 = 0x26;
/// CC_NB_SAMPLES: samples in the coulomb counter.
pub const CC_NB_SAMPLES: u8 = 0x2D;
/// COULOMB_CNT1 (high word).
pub const COULOMB_CNT1: u8 = 0x2E;
/// COULOMB_CNT2 (low word).
pub const COULOMB_CNT2: u8 = 0x2F;
/// MEAS_ISENSE1.
pub const MEAS_ISENSE1: u8 = 0x30;
/// MEAS_ISENSE2.
pub const MEAS_ISENSE2: u8 = 0x31;
/// MEAS_STACK.
pub const MEAS_STACK: u8 = 0x32;
/// MEAS_CELL14; registers descend: MEAS_CELLn = 0x41 − n ([`meas_cell`]).
pub const MEAS_CELL14: u8 = 0x33;
/// MEAS_CELL1.
pub const MEAS_CELL1: u8 = 0x40;
/// MEAS_AN6; MEAS_ANk = 0x47 − k ([`meas_an`]).
pub const MEAS_AN6: u8 = 0x41;
/// MEAS_AN0.
pub const MEAS_AN0: u8 = 0x47;
/// MEAS_IC_TEMP.
pub const MEAS_IC_TEMP: u8 = 0x48;
/// MEAS_VBG_DIAG_ADC1A.
pub const MEAS_VBG_DIAG_ADC1A: u8 = 0x49;
/// MEAS_VBG_DIAG_ADC1B.
pub const MEAS_VBG_DIAG_ADC1B: u8 = 0x4A;
/// TH_ALL_CT: common cell OV (15:8) / UV (7:0) thresholds.
pub const TH_ALL_CT: u8 = 0x4B;
/// TH_CT14; TH_CTn = 0x5A − n.
pub const TH_CT14: u8 = 0x4C;
/// TH_AN6_OT; TH_ANk_OT = 0x60 − k.
pub const TH_AN6_OT: u8 = 0x5A;
/// TH_AN6_UT; TH_ANk_UT = 0x67 − k.
pub const TH_AN6_UT: u8 = 0x61;
/// TH_ISENSE_OC.
pub const TH_ISENSE_OC: u8 = 0x68;
/// TH_COULOMB_CNT_MSB.
pub const TH_COULOMB_CNT_MSB: u8 = 0x69;
/// TH_COULOMB_CNT_LSB.
pub const TH_COULOMB_CNT_LSB: u8 = 0x6A;
/// SILICON_REV.
pub const SILICON_REV: u8 = 0x6B;

/// MEAS_CELLn for input `n` (1..=14).
pub const fn meas_cell(input: u8) -> u8 {
    0x41 - input
}

/// MEAS_ANk for `k` in 0..=6.
pub const fn meas_an(k: u8) -> u8 {
    0x47 - k
}

/// TH_ANk_OT for `k` in 0..=6.
pub const fn th_an_ot(k: u8) -> u8 {
    0x60 - k
}

/// TH_ANk_UT for `k` in 0..=6.
pub const fn th_an_ut(k: u8) -> u8 {
    0x67 - k
}

/// CBn_CFG for input `n` (1..=14).
pub const fn cb_cfg(input: u8) -> u8 {
    CB1_CFG + input - 1
}

/// DATA_RDY, bit 15 of every MEAS_* register: 0 = no completed conversion result.
pub const DATA_RDY: u16 = 0x8000;

/// INIT register of the C silicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Init {
    /// CID\[5:0\].
    pub cid: u8,
    /// MC33771C RDTX_OUT\[6\] (terminates the upper TPL port of the last device) / MC33772C
    /// TPL2_TX_TERM\[6\].
    pub bit6: bool,
    /// MC33771C RDTX_IN\[7\] / MC33772C TPL1_TX_TERM\[7\].
    pub bit7: bool,
    /// MC33772C BUS_FW\[8\] (forward TPL frames).
    pub bus_fw: bool,
}

impl Init {
    /// The INIT value the NXP driver writes to assign `cid` (`BCC_AssignCid`, MR-BMS771
    /// `bcc.c`): RDTX_IN disabled; on TPL without loop-back the last device's RDTX_OUT
    /// terminated; MC33772C forwards (BUS_FW) except as the only device of a TPL chain.
    pub const fn assign(cid: u8, devices: usize, tpl: bool, mc33772: bool) -> Self {
        let last = cid as usize == devices;
        if tpl && devices == 1 && mc33772 {
            Self {
                cid,
                bit6: false,
                bit7: false,
                bus_fw: false,
            }
        } else {
            Self {
                cid,
                bit6: tpl && last,
                bit7: false,
                bus_fw: mc33772,
            }
        }
    }

    /// Register value.
    pub const fn to_bits(self) -> u16 {
        (self.cid as u16 & 0x3F)
            | (self.bit6 as u16) << 6
            | (self.bit7 as u16) << 7
            | (self.bus_fw as u16) << 8
    }
}

/// SYS_CFG1 bits.
pub mod sys_cfg1 {
    /// FAULT_WAVE.
    pub const FAULT_WAVE: u16 = 1 << 3;
    /// SOFT_RST.
    pub const SOFT_RST: u16 = 1 << 4;
    /// CB_MANUAL_PAUSE.
    pub const CB_MANUAL_PAUSE: u16 = 1 << 5;
    /// GO2DIAG (read: DIAG_ST).
    pub const GO2DIAG: u16 = 1 << 6;
    /// CB_DRVEN: global enable of the balancing drivers.
    pub const CB_DRVEN: u16 = 1 << 7;
    /// I_MEAS_EN: current measurement enable.
    pub const I_MEAS_EN: u16 = 1 << 9;
}

/// SYS_CFG2 TIMEOUT_COMM\[5:4\] code (communication-loss timeout; the durations of the four
/// codes are in the data sheet, which the public sources read for this crate do not give).
pub const SYS_CFG2_TIMEOUT_COMM_SHIFT: u16 = 4;

/// ADC_CFG bits.
pub mod adc_cfg {
    /// SOC (write) / EOC_N (read: 1 = conversion in progress).
    pub const SOC: u16 = 1 << 11;
    /// CC_RST: reset the coulomb counter.
    pub const CC_RST: u16 = 1 << 7;
    /// ADC1_A, ADC1_B and ADC2 at 16-bit resolution (code 3 in each 2-bit field).
    pub const ALL_16_BIT: u16 = 0x003F;
}

/// ADC_CFG AVG\[15:12\] (C silicon): 2^`avg` samples averaged, 0..=8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Averaging(u8);

impl Averaging {
    /// No averaging.
    pub const NONE: Self = Self(0);

    /// 2^`exp` samples (`exp` 0..=8).
    pub const fn new(exp: u8) -> Result<Self, ConfigError> {
        if exp > 8 {
            return Err(ConfigError::OutOfRange {
                field: "ADC_CFG AVG (log2 samples)",
                value: exp as i64,
                min: 0,
                max: 8,
            });
        }
        Ok(Self(exp))
    }

    /// The exponent.
    pub const fn exp(self) -> u8 {
        self.0
    }

    /// The ADC_CFG value that starts a conversion with this averaging, 16-bit ADCs.
    pub const fn start_value(self) -> u16 {
        (self.0 as u16) << 12 | adc_cfg::SOC | adc_cfg::ALL_16_BIT
    }
}

/// GPIO_CFG1 mode of one GPIOx/ANx pin (2 bits per pin, GPIOx at bits 2x+1..2x; values as
/// `bcc_pin_mode_t` of the NXP BCC SW driver v2.2, `BCC_SetGpioCfg` in MR-BMS771 `bcc.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum GpioMode {
    /// Analog input, ratiometric measurement (to VCOM).
    AnalogRatiometric = 0,
    /// Analog input, absolute measurement.
    AnalogAbsolute = 1,
    /// Digital input.
    DigitalIn = 2,
    /// Digital output.
    DigitalOut = 3,
}

impl GpioMode {
    /// GPIO_CFG1 with pin `gpio` (0..=6) of `cfg1` set to this mode.
    pub const fn apply(self, cfg1: u16, gpio: u8) -> Result<u16, ConfigError> {
        if gpio > 6 {
            return Err(ConfigError::OutOfRange {
                field: "GPIO/AN pin",
                value: gpio as i64,
                min: 0,
                max: 6,
            });
        }
        let shift = 2 * gpio as u16;
        Ok(cfg1 & !(0b11 << shift) | (self as u16) << shift)
    }
}

/// OV_UV_EN: COMMON_UV_TH (bit 14) and COMMON_OV_TH (bit 15) select TH_ALL_CT.
pub const OV_UV_EN_COMMON: u16 = 0xC000;

bitflags::bitflags! {
    /// FAULT1_STATUS (MR-BMS771 `MC33771C.h`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Fault1: u16 {
        /// A cell under its UV threshold.
        const CT_UV = 1 << 0;
        /// A cell over its OV threshold.
        const CT_OV = 1 << 1;
        /// An analog input under its UT threshold.
        const AN_UT = 1 << 2;
        /// An analog input over its OT threshold.
        const AN_OT = 1 << 3;
        /// ISENSE overcurrent (sleep mode).
        const IS_OC = 1 << 4;
        /// ISENSE open load.
        const IS_OL = 1 << 5;
        /// I2C (EEPROM) error.
        const I2C_ERR = 1 << 6;
        /// GPIO0 wake-up.
        const GPIO0_WUP = 1 << 7;
        /// CSB wake-up.
        const CSB_WUP = 1 << 8;
        /// Communication error.
        const COM_ERR = 1 << 9;
        /// Communication loss (timeout).
        const COM_LOSS = 1 << 10;
        /// VPWR low voltage.
        const VPWR_LV = 1 << 11;
        /// VPWR overvoltage.
        const VPWR_OV = 1 << 12;
        /// Communication error counter overflow.
        const COM_ERR_OVR = 1 << 13;
        /// Reset occurred.
        const RESET = 1 << 14;
        /// Power-on reset occurred.
        const POR = 1 << 15;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Fault1 {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "Fault1({=u16:#06x})", self.bits())
    }
}

/// Cell-terminal OV/UV thresholds: 8-bit codes of 19.5 mV (`BCC_GET_TH_CTX`: code =
/// mV × 10 / 195, MR-BMS771 `bcc_utils.h`).
pub const CELL_THRESHOLD_LSB_UV: i32 = 19_500;
/// AN OT/UT thresholds: 10-bit codes of 4.88 mV (`BCC_GET_TH_ANX`).
pub const AN_THRESHOLD_LSB_UV: i32 = 4_880;

/// One quantised threshold: the code and the voltage it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Threshold {
    /// Register code.
    pub code: u16,
    /// Voltage of the code (what the chip compares with).
    pub achieved: MicroVolts,
}

const fn quantise(
    v: MicroVolts,
    lsb: i32,
    max_code: u16,
    field: &'static str,
) -> Result<Threshold, ConfigError> {
    let max = lsb as i64 * max_code as i64;
    if v.0 < 0 || v.0 as i64 > max {
        return Err(ConfigError::OutOfRange {
            field,
            value: v.0 as i64,
            min: 0,
            max,
        });
    }
    let code = (v.0 / lsb) as u16;
    Ok(Threshold {
        code,
        achieved: MicroVolts(code as i32 * lsb),
    })
}

/// Quantises a cell OV/UV threshold (rounds down to the 19.5 mV grid; 0..=4.9725 V).
///
/// ```
/// use bms_afe::mc3377x::register::cell_threshold;
/// use bms_afe::units::MicroVolts;
/// let t = cell_threshold(MicroVolts(4_200_000)).unwrap();
/// assert_eq!((t.code, t.achieved), (215, MicroVolts(4_192_500)));
/// ```
pub const fn cell_threshold(v: MicroVolts) -> Result<Threshold, ConfigError> {
    quantise(v, CELL_THRESHOLD_LSB_UV, 0xFF, "cell OV/UV threshold (µV)")
}

/// Quantises an AN OT/UT threshold (4.88 mV grid, 10 bits).
pub const fn an_threshold(v: MicroVolts) -> Result<Threshold, ConfigError> {
    quantise(v, AN_THRESHOLD_LSB_UV, 0x3FF, "AN OT/UT threshold (µV)")
}

/// TH_ALL_CT value from an OV and a UV threshold.
pub const fn th_all_ct(ov: Threshold, uv: Threshold) -> u16 {
    (ov.code & 0xFF) << 8 | (uv.code & 0xFF)
}

/// CBn_CFG fields.
pub mod cb_cfg_bits {
    /// CB_EN (read: CB_STS).
    pub const CB_EN: u16 = 1 << 9;
    /// CB_TIMER\[8:0\] mask.
    pub const CB_TIMER: u16 = 0x01FF;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(meas_cell(14), MEAS_CELL14);
        assert_eq!(meas_cell(1), MEAS_CELL1);
        assert_eq!(meas_an(6), MEAS_AN6);
        assert_eq!(meas_an(0), MEAS_AN0);
        assert_eq!(th_an_ot(0), 0x60);
        assert_eq!(th_an_ut(0), 0x67);
        assert_eq!(cb_cfg(14), 0x19);
    }

    #[test]
    fn thresholds_and_init() {
        // BCC_GET_TH_CTX(4200 mV) = 4200*10/195 = 215; BCC_GET_TH_ANX(1000 mV) = 204.
        assert_eq!(cell_threshold(MicroVolts(4_200_000)).unwrap().code, 215);
        assert_eq!(an_threshold(MicroVolts(1_000_000)).unwrap().code, 204);
        assert!(cell_threshold(MicroVolts(5_000_000)).is_err());
        assert!(cell_threshold(MicroVolts(-1)).is_err());
        assert_eq!(Averaging::new(0).unwrap().start_value(), 0x083F);
        assert!(Averaging::new(9).is_err());
        assert_eq!(Init::assign(3, 3, true, false).to_bits(), 0x0043);
        assert_eq!(Init::assign(1, 3, true, true).to_bits(), 0x0101);
        assert_eq!(Init::assign(1, 1, true, true).to_bits(), 0x0001);
        assert_eq!(Init::assign(1, 1, false, false).to_bits(), 0x0001);
    }
}
