//! Conversions: the factory ADC gain and offset, cell / pack / TS / coulomb-counter results,
//! and the OV_TRIP / UV_TRIP encoding — integer only.
//!
//! * GAIN = 365 + `ADCGAIN<4:0>` µV/LSB, `ADCGAIN<4:3>` = `ADCGAIN1[3:2]`, `ADCGAIN<2:0>` =
//!   `ADCGAIN2[7:5]`; OFFSET = ADCOFFSET as a signed byte in mV (DS SLUSBK2I §8.3.1.1.2,
//!   Tables 8-21 to 8-23).
//! * Cell: `V = GAIN × ADC + OFFSET` (DS §8.3.1.1.2; example GAIN 380 µV, OFFSET 30 mV:
//!   0x1800 → 2364.72 mV, 0x1F10 → 3051.76 mV).
//! * Pack: `V(BAT) = 4 × GAIN × ADC + #cells × OFFSET` (DS §8.3.1.1.6), `#cells` = the real
//!   cells. The data of TI E2E thread 975509 (BQ76940, 14 cells, VC14–VC13 shorted, GAIN 377,
//!   OFFSET 48 mV, BAT 0x922B) bear this out: 14 offsets give 57.0999 V against 57.0995 V for
//!   the sum of the 14 real cells; 15 offsets would add the shorted input's clipped 48 mV.
//! * TSx: `V = ADC × 382 µV` (nominal, not GAIN/OFFSET); thermistor mode:
//!   `R = 10 kΩ × V / (3.3 V − V)` (DS §8.3.1.1.4); die mode:
//!   `T = 25 °C − (V − 1.200 V) / 4.2 mV/°C` (DS §8.3.1.1.5, §7.5 V_DIETEMP25 and drift).
//! * CC: 16-bit two's complement, 8.44 µV/LSB (DS §8.3.1.1.3).
//! * OV_TRIP encodes the 14-bit code `10-OV_T<7:0>-1000`, UV_TRIP `01-UV_T<7:0>-0000`
//!   (DS §8.3.1.2.1, Tables 8-12/8-13). See [`AdcCalibration::ov_trip`].

use crate::error::ConfigError;
use crate::units::{MicroAmps, MicroVolts, MilliCelsius};

/// TS input LSB in µV (DS §8.3.1.1.4).
pub const TS_LSB_UV: i32 = 382;
/// Coulomb-counter LSB in nV (8.44 µV, DS §8.3.1.1.3).
pub const CC_LSB_NV: i64 = 8_440;
/// The 14-bit code OV_TRIP = 0 stands for (`10-00000000-1000`).
pub const OV_BASE_CODE: u16 = 0x2008;
/// The 14-bit code UV_TRIP = 0 stands for (`01-00000000-0000`).
pub const UV_BASE_CODE: u16 = 0x1000;

/// The chip's factory ADC calibration, read once from ADCGAIN1/ADCOFFSET/ADCGAIN2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdcCalibration {
    gain_uv: u16,
    offset_mv: i8,
}

/// Integer division of `n` by `d > 0`, rounded to nearest (halves away from zero).
const fn div_round(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    }
}

impl AdcCalibration {
    /// From the three calibration registers.
    ///
    /// ```
    /// use bms_afe::bq769x0::AdcCalibration;
    /// // ADCGAIN<4:0> = 0x0F (ADCGAIN1 bits 3:2 = 01, ADCGAIN2 bits 7:5 = 111), OFFSET 30 mV.
    /// let cal = AdcCalibration::from_registers(0x04, 0x1E, 0xE0);
    /// assert_eq!(cal.gain_uv_per_lsb(), 380);
    /// assert_eq!(cal.offset_mv(), 30);
    /// ```
    pub const fn from_registers(adcgain1: u8, adcoffset: u8, adcgain2: u8) -> Self {
        let g = ((adcgain1 & 0x0C) << 1) | ((adcgain2 & 0xE0) >> 5);
        Self {
            gain_uv: 365 + g as u16,
            offset_mv: adcoffset as i8,
        }
    }

    /// A calibration from known values (gain 365..=396 µV/LSB).
    pub const fn new(gain_uv_per_lsb: u16, offset_mv: i8) -> Result<Self, ConfigError> {
        if gain_uv_per_lsb < 365 || gain_uv_per_lsb > 396 {
            return Err(ConfigError::OutOfRange {
                field: "ADC gain (µV/LSB)",
                value: gain_uv_per_lsb as i64,
                min: 365,
                max: 396,
            });
        }
        Ok(Self {
            gain_uv: gain_uv_per_lsb,
            offset_mv,
        })
    }

    /// The registers that encode this calibration: (ADCGAIN1, ADCOFFSET, ADCGAIN2), reserved
    /// bits 0.
    pub const fn to_registers(self) -> (u8, u8, u8) {
        let g = (self.gain_uv - 365) as u8;
        ((g >> 3) << 2, self.offset_mv as u8, (g & 7) << 5)
    }

    /// GAIN in µV per LSB (365..=396).
    pub const fn gain_uv_per_lsb(self) -> u16 {
        self.gain_uv
    }

    /// OFFSET in mV.
    pub const fn offset_mv(self) -> i8 {
        self.offset_mv
    }

    const fn off_uv(self) -> i64 {
        self.offset_mv as i64 * 1000
    }

    /// A cell result (VCx_HI:VCx_LO, 14 bits; the top two bits are masked).
    ///
    /// ```
    /// use bms_afe::bq769x0::AdcCalibration;
    /// use bms_afe::units::MicroVolts;
    /// let cal = AdcCalibration::new(380, 30).unwrap();
    /// // DS SLUSBK2I §8.3.1.1.2: 0x1800 → 2364.72 mV, 0x1F10 → 3051.76 mV.
    /// assert_eq!(cal.cell(0x1800), MicroVolts(2_364_720));
    /// assert_eq!(cal.cell(0x1F10), MicroVolts(3_051_760));
    /// ```
    pub const fn cell(self, code: u16) -> MicroVolts {
        let c = (code & 0x3FFF) as i64;
        MicroVolts((self.gain_uv as i64 * c + self.off_uv()) as i32)
    }

    /// The pack result (BAT_HI:BAT_LO) of a pack of `cells` real cells.
    ///
    /// ```
    /// use bms_afe::bq769x0::AdcCalibration;
    /// use bms_afe::units::MicroVolts;
    /// // TI E2E 975509: GAIN 377 µV, OFFSET 48 mV, BAT 0x922B, 14 cells → 57.099852 V.
    /// let cal = AdcCalibration::new(377, 48).unwrap();
    /// assert_eq!(cal.pack(0x922B, 14), MicroVolts(57_099_852));
    /// ```
    pub const fn pack(self, code: u16, cells: u8) -> MicroVolts {
        let v = 4 * self.gain_uv as i64 * code as i64 + cells as i64 * self.off_uv();
        MicroVolts(v as i32)
    }

    /// The cell code the chip reports for `v` (nearest, clamped to 14 bits): the inverse of
    /// [`AdcCalibration::cell`], for models and tests.
    pub const fn cell_code(self, v: MicroVolts) -> u16 {
        let c = div_round(v.0 as i64 - self.off_uv(), self.gain_uv as i64);
        if c < 0 {
            0
        } else if c > 0x3FFF {
            0x3FFF
        } else {
            c as u16
        }
    }

    /// The overvoltage threshold OV_TRIP = `reg` stands for.
    pub const fn ov_trip_voltage(self, reg: u8) -> MicroVolts {
        let code = OV_BASE_CODE as i64 + 16 * reg as i64;
        MicroVolts((self.gain_uv as i64 * code + self.off_uv()) as i32)
    }

    /// The undervoltage threshold UV_TRIP = `reg` stands for.
    pub const fn uv_trip_voltage(self, reg: u8) -> MicroVolts {
        let code = UV_BASE_CODE as i64 + 16 * reg as i64;
        MicroVolts((self.gain_uv as i64 * code + self.off_uv()) as i32)
    }

    const fn trip(
        self,
        target: MicroVolts,
        base: u16,
        field: &'static str,
    ) -> Result<(u8, MicroVolts), ConfigError> {
        let g = self.gain_uv as i64;
        let n = target.0 as i64 - self.off_uv() - base as i64 * g;
        let reg = div_round(n, 16 * g);
        if reg < 0 || reg > 255 {
            let lo = base as i64 * g + self.off_uv();
            let hi = (base as i64 + 16 * 255) * g + self.off_uv();
            return Err(ConfigError::OutOfRange {
                field,
                value: target.0 as i64,
                min: lo,
                max: hi,
            });
        }
        let achieved = (base as i64 + 16 * reg) * g + self.off_uv();
        Ok((reg as u8, MicroVolts(achieved as i32)))
    }

    /// OV_TRIP for `target`: the register value whose threshold is **nearest** the target,
    /// after this chip's gain and offset, and the threshold achieved (one step is 16 LSB ≈
    /// 6 mV). The DS SLUSBK2I §9.2.2.1 worked example rounds the same way.
    ///
    /// ```
    /// use bms_afe::bq769x0::AdcCalibration;
    /// use bms_afe::units::MicroVolts;
    /// let cal = AdcCalibration::new(382, 0).unwrap();
    /// // DS SLUSBK2I §9.2.2.1: OV 4.30 V → 0xBF, UV 2.50 V → 0x99.
    /// assert_eq!(cal.ov_trip(MicroVolts(4_300_000)).unwrap(), (0xBF, MicroVolts(4_299_792)));
    /// assert_eq!(cal.uv_trip(MicroVolts(2_500_000)).unwrap(), (0x99, MicroVolts(2_499_808)));
    /// ```
    pub const fn ov_trip(self, target: MicroVolts) -> Result<(u8, MicroVolts), ConfigError> {
        self.trip(target, OV_BASE_CODE, "overvoltage threshold (µV)")
    }

    /// UV_TRIP for `target`, as [`AdcCalibration::ov_trip`].
    pub const fn uv_trip(self, target: MicroVolts) -> Result<(u8, MicroVolts), ConfigError> {
        self.trip(target, UV_BASE_CODE, "undervoltage threshold (µV)")
    }
}

/// The voltage at a TS input (TSx_HI:TSx_LO, 14 bits).
pub const fn ts_voltage(code: u16) -> MicroVolts {
    MicroVolts((code & 0x3FFF) as i32 * TS_LSB_UV)
}

/// Die temperature from a TS result taken with TEMP_SEL = 0.
///
/// ```
/// use bms_afe::bq769x0::convert::die_temperature;
/// use bms_afe::units::MilliCelsius;
/// // 1.200 V at 25 °C: code 3141 = 1.199862 V → 25.033 °C.
/// assert_eq!(die_temperature(3141), MilliCelsius(25_033));
/// ```
pub const fn die_temperature(code: u16) -> MilliCelsius {
    let v = ts_voltage(code).0 as i64;
    MilliCelsius((25_000 - div_round((v - 1_200_000) * 10, 42)) as i32)
}

/// Thermistor resistance in Ω from a TS result taken with TEMP_SEL = 1 (10 kΩ pull-up to
/// 3.3 V); `None` at or above 3.3 V (open input).
///
/// ```
/// use bms_afe::bq769x0::convert::thermistor_ohms;
/// // 1.65 V (code 4319 = 1.649858 V) is about the 10 kΩ of the pull-up.
/// assert_eq!(thermistor_ohms(4319), Some(9_998));
/// ```
pub const fn thermistor_ohms(code: u16) -> Option<u32> {
    let v = ts_voltage(code).0 as i64;
    if v >= 3_300_000 {
        return None;
    }
    Some((10_000 * v / (3_300_000 - v)) as u32)
}

/// log2(num / den) in Q30 (num, den > 0).
const fn log2_q30(num: u64, den: u64) -> i64 {
    let mut n = num as u128;
    let mut d = den as u128;
    let mut k: i64 = 0;
    let mut guard = 0;
    while n >= 2 * d && guard < 128 {
        d <<= 1;
        k += 1;
        guard += 1;
    }
    while n < d && guard < 256 {
        n <<= 1;
        k -= 1;
        guard += 1;
    }
    let mut m = ((n << 30) / d) as u64; // [2^30, 2^31)
    let mut frac: i64 = 0;
    let mut i = 30;
    while i > 0 {
        i -= 1;
        m = (m * m) >> 30;
        if m >= 2 << 30 {
            m >>= 1;
            frac |= 1 << i;
        }
    }
    (k << 30) + frac
}

/// An NTC thermistor described by the β model: `R(T) = R25 · exp(β (1/T − 1/298.15 K))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ntc {
    /// Resistance at 25 °C in Ω (103AT: 10 000).
    pub r25_ohm: u32,
    /// β in K (103AT: 3435).
    pub beta_k: u32,
}

impl Ntc {
    /// The 103AT thermistor the data sheet's application uses (10 kΩ, β 3435 K).
    pub const SEMITEC_103AT: Self = Self {
        r25_ohm: 10_000,
        beta_k: 3_435,
    };

    /// Temperature for a resistance (integer β model, about ±5 m°C of the exact formula over
    /// −40..125 °C). `None` for 0 Ω or a zero parameter.
    ///
    /// ```
    /// use bms_afe::bq769x0::convert::Ntc;
    /// use bms_afe::units::MilliCelsius;
    /// assert_eq!(Ntc::SEMITEC_103AT.temperature(10_000), Some(MilliCelsius(25_000)));
    /// ```
    pub const fn temperature(self, r_ohm: u32) -> Option<MilliCelsius> {
        if r_ohm == 0 || self.r25_ohm == 0 || self.beta_k == 0 {
            return None;
        }
        // ln(R/R25) in Q30 = log2 × ln 2.
        let l = (log2_q30(r_ohm as u64, self.r25_ohm as u64) as i128 * 744_261_118) >> 30;
        const S: i128 = 1_000_000_000_000_000_000;
        let inv = S * 100 / 29_815 + l * S / (self.beta_k as i128 * (1 << 30));
        if inv <= 0 {
            return None;
        }
        let mk = 1000 * S / inv;
        Some(MilliCelsius((mk - 273_150) as i32))
    }
}

/// Coulomb-counter voltage (CC_HI:CC_LO, two's complement) in µV, rounded toward zero.
///
/// ```
/// use bms_afe::bq769x0::convert::cc_voltage;
/// use bms_afe::units::MicroVolts;
/// // DS SLUSBK2I §8.3.1.1.3 table: 0x2710 → 84.4 mV, 0x8300 → −270.08 mV.
/// assert_eq!(cc_voltage(0x2710), MicroVolts(84_400));
/// assert_eq!(cc_voltage(0x8300), MicroVolts(-270_080));
/// ```
pub const fn cc_voltage(code: u16) -> MicroVolts {
    MicroVolts(((code as i16) as i64 * CC_LSB_NV / 1000) as i32)
}

/// Coulomb-counter current for a shunt of `shunt_uohm` µΩ, with the sign of the CC result
/// (the direction follows the board's SRP/SRN wiring). `None` for a zero shunt.
pub const fn cc_current(code: u16, shunt_uohm: u32) -> Option<MicroAmps> {
    if shunt_uohm == 0 {
        return None;
    }
    // µA = code × 8.44 µV / R[µΩ] × 10⁶ = code × 8 440 000 / R.
    Some(MicroAmps(
        (code as i16) as i64 * CC_LSB_NV * 1000 / shunt_uohm as i64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_bits() {
        for g in 0..32u16 {
            let cal = AdcCalibration::new(365 + g, -7).unwrap();
            let (a, b, c) = cal.to_registers();
            assert_eq!(AdcCalibration::from_registers(a | 0xF3, b, c | 0x1F), cal);
        }
        assert_eq!(AdcCalibration::from_registers(0, 0x80, 0).offset_mv(), -128);
        assert!(AdcCalibration::new(364, 0).is_err());
    }

    #[test]
    fn trip_round_trip() {
        let cal = AdcCalibration::new(377, 48).unwrap();
        for reg in 0..=255u8 {
            let v = cal.ov_trip_voltage(reg);
            assert_eq!(cal.ov_trip(v).unwrap().0, reg);
            let v = cal.uv_trip_voltage(reg);
            assert_eq!(cal.uv_trip(v).unwrap().0, reg);
        }
        assert!(cal.ov_trip(MicroVolts(1_000_000)).is_err());
    }

    #[test]
    fn ntc_matches_float_model() {
        extern crate std;
        let ntc = Ntc::SEMITEC_103AT;
        for r in [1_000u32, 3_000, 10_000, 27_280, 100_000, 300_000] {
            let t = ntc.temperature(r).unwrap().0 as f64 / 1000.0;
            let exact = 1.0 / (1.0 / 298.15 + (r as f64 / 10_000.0).ln() / 3435.0) - 273.15;
            assert!((t - exact).abs() < 0.01, "{r}: {t} vs {exact}");
        }
        assert_eq!(ntc.temperature(0), None);
    }

    #[test]
    fn cc() {
        assert_eq!(cc_voltage(0xFFFF), MicroVolts(-8));
        assert_eq!(cc_current(0x2710, 1_000), Some(MicroAmps(84_400_000)));
        assert_eq!(cc_current(1, 0), None);
    }
}
