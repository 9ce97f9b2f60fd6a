//! Codes to values (integer only), as the NXP BCC SW driver v2.2 defines them
//! (`inc/BCC/Derivatives/mc3377xC/bcc_utils.h`, github.com/NXPHoverGames/MR-BMS771; the B
//! values agree in RDDRONE-BMS772 `bcc.h`).

use crate::units::{MicroAmps, MicroVolts, MilliCelsius};

/// The 15-bit value of a MEAS_* register if DATA_RDY (bit 15) is set, `None` if the register
/// holds no completed result.
pub const fn measured(reg: u16) -> Option<u16> {
    if reg & 0x8000 != 0 {
        Some(reg & 0x7FFF)
    } else {
        None
    }
}

/// Cell, absolute AN and band-gap diagnostic codes: 5 V / 2^15 = 152.587890625 µV per LSB,
/// computed as `raw × 78125 >> 9` (exact; `BCC_GET_VOLT`).
///
/// ```
/// use bms_afe::mc3377x::convert::cell_voltage;
/// use bms_afe::units::MicroVolts;
/// assert_eq!(cell_voltage(0x6000), MicroVolts(3_750_000));
/// ```
pub const fn cell_voltage(raw15: u16) -> MicroVolts {
    MicroVolts((((raw15 & 0x7FFF) as u32 * 78_125) >> 9) as i32)
}

/// MEAS_STACK: 80 V / 2^15 = 2.44140625 mV per LSB, `raw × 78125 / 32` (exact; the NXP
/// driver rounds the LSB to 2.4414 mV).
pub const fn stack_voltage(raw15: u16) -> MicroVolts {
    MicroVolts(((raw15 & 0x7FFF) as u32 * 78_125 / 32) as i32)
}

/// MEAS_IC_TEMP: 0.032 K per LSB from 0 K.
pub const fn ic_temperature(raw15: u16) -> MilliCelsius {
    MilliCelsius((raw15 & 0x7FFF) as i32 * 32 - 273_150)
}

/// MEAS_ANx in ratiometric mode: `raw × VCOM / (2^15 − 1)` on MC33771C (30.51851 µV per mV of
/// VCOM), `raw × VCOM / 2^15` on MC33772C (30.5176 µV), `vcom_mv` ≤ 5800.
pub const fn an_ratiometric(raw15: u16, vcom_mv: u16, mc33772: bool) -> MicroVolts {
    let num = (raw15 & 0x7FFF) as u64 * vcom_mv as u64 * 1000;
    let den = if mc33772 { 32_768 } else { 32_767 };
    MicroVolts((num / den) as i32)
}

/// The signed 19-bit ISENSE code from MEAS_ISENSE1 (bits 14..0 = code bits 18..4) and
/// MEAS_ISENSE2 (bits 3..0 = code bits 3..0) (`BCC_GET_ISENSE_RAW`/`_SIGN`).
pub const fn isense_raw(isense1: u16, isense2: u16) -> i32 {
    let raw = ((isense1 as u32 & 0x7FFF) << 4) | (isense2 as u32 & 0x000F);
    if raw & 0x4_0000 != 0 {
        (raw | 0xFFF8_0000) as i32
    } else {
        raw as i32
    }
}

/// ISENSE voltage in nV (0.6 µV per LSB, V2RES).
pub const fn isense_nanovolts(raw19: i32) -> i64 {
    raw19 as i64 * 600
}

/// Current through a shunt of `shunt_micro_ohm` µΩ (> 0): `raw × 0.6 µV / R`.
///
/// ```
/// use bms_afe::mc3377x::convert::current;
/// use bms_afe::units::MicroAmps;
/// // 100 µΩ: 6 mA per LSB.
/// assert_eq!(current(-2, 100), Some(MicroAmps(-12_000)));
/// assert_eq!(current(1, 0), None);
/// ```
pub const fn current(raw19: i32, shunt_micro_ohm: u32) -> Option<MicroAmps> {
    if shunt_micro_ohm == 0 {
        return None;
    }
    // nV / µΩ = mA; × 1000 for µA.
    Some(MicroAmps(
        isense_nanovolts(raw19) * 1000 / shunt_micro_ohm as i64,
    ))
}

/// The signed 32-bit coulomb counter from COULOMB_CNT1 (high) and COULOMB_CNT2 (low), in
/// V2RES units (0.6 µV) summed over CC_NB_SAMPLES samples.
pub const fn coulomb_count(cnt1: u16, cnt2: u16) -> i32 {
    ((cnt1 as u32) << 16 | cnt2 as u32) as i32
}

/// The average current over the coulomb-counter window: `count × 0.6 µV / (samples × R)`;
/// `None` without samples or shunt.
pub const fn average_current(count: i32, samples: u16, shunt_micro_ohm: u32) -> Option<MicroAmps> {
    if samples == 0 || shunt_micro_ohm == 0 {
        return None;
    }
    Some(MicroAmps(
        count as i64 * 600 * 1000 / (samples as i64 * shunt_micro_ohm as i64),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(measured(0x0000), None);
        assert_eq!(measured(0x8123), Some(0x0123));
        assert_eq!(cell_voltage(0x7FFF), MicroVolts(4_999_847));
        assert_eq!(cell_voltage(1), MicroVolts(152));
        assert_eq!(stack_voltage(0x7FFF), MicroVolts(79_997_558));
        // 298.15 K = 25 °C: 9317 × 0.032 = 298.144 K.
        assert_eq!(ic_temperature(9317), MilliCelsius(24_994));
        assert_eq!(an_ratiometric(0x7FFF, 5000, false), MicroVolts(5_000_000));
        assert_eq!(an_ratiometric(0x4000, 5000, true), MicroVolts(2_500_000));
        assert_eq!(isense_raw(0x7FFF, 0x000F), -1);
        assert_eq!(isense_raw(0x4000, 0), -262_144);
        assert_eq!(isense_raw(0x0001, 0x0002), 18);
        assert_eq!(current(10, 100), Some(MicroAmps(60_000)));
        assert_eq!(coulomb_count(0xFFFF, 0xFFFE), -2);
        assert_eq!(average_current(-100, 10, 100), Some(MicroAmps(-60_000)));
        assert_eq!(average_current(1, 0, 100), None);
    }
}
