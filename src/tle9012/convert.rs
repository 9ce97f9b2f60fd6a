//! Conversions between register codes and units, integer only.
//!
//! | quantity | formula | source |
//! |---|---|---|
//! | cell (PCVM_k) | 5 V × code / 2^16 | TLE9012DQU data sheet (full scale 5 V, 16 bit); MaxMax-embedded/TLE9012_Arduino_Lib `ADCVALUE_TO_FLOAT_VOLTAGE`; guilettmann/bms_tle9012 `tle9012_raw_to_mv` |
//! | block (BVM) | 60 V × code / 2^16 | MaxMax-embedded/TLE9012_Arduino_Lib |
//! | OV/UV threshold | 5 V × code / 1024, 10 bit | MaxMax-embedded/TLE9012_Arduino_Lib `VOLTAGE_TO_OV_UV_LIMIT` |
//! | internal temperature | −0.6624 °C × (code & 0x3FF) + 547.3 °C | MaxMax-embedded/TLE9012_Arduino_Lib (single source, not checked against the user manual) |
//!
//! ```
//! use bms_afe::tle9012::convert::{cell_uv, block_uv};
//! assert_eq!(cell_uv(0x8000).0, 2_500_000);
//! assert_eq!(block_uv(0x8000).0, 30_000_000);
//! ```

use crate::units::{MicroVolts, MilliCelsius};

/// One cell LSB in nV (5 V / 65536 = 76 293.945 nV).
pub const CELL_LSB_NV: u32 = 76_294;

/// A PCVM code in µV (rounded down to the µV).
pub const fn cell_uv(code: u16) -> MicroVolts {
    MicroVolts(((code as u64 * 5_000_000) >> 16) as i32)
}

/// A BVM code in µV (rounded down to the µV).
pub const fn block_uv(code: u16) -> MicroVolts {
    MicroVolts(((code as u64 * 60_000_000) >> 16) as i32)
}

/// The INT_TEMP code (bits 9..0) in m°C.
pub const fn internal_temperature(code: u16) -> MilliCelsius {
    let c = (code & 0x3FF) as i32;
    MilliCelsius((5_473_000 - c * 6_624) / 10)
}

/// The INT_TEMP code nearest to `t` (the inverse of [`internal_temperature`]), or `None`
/// outside the 10-bit range (−130.3 °C ..= 547.3 °C).
pub const fn internal_temperature_code(t: MilliCelsius) -> Option<u16> {
    let x = 5_473_000i64 - t.0 as i64 * 10;
    if x < 0 {
        return None;
    }
    let code = (x + 3_312) / 6_624;
    if code > 0x3FF {
        None
    } else {
        Some(code as u16)
    }
}

/// The largest OV/UV threshold code.
pub const THRESHOLD_MAX_CODE: u16 = 0x3FF;

/// An OV/UV threshold code in µV.
pub const fn threshold_uv(code: u16) -> MicroVolts {
    MicroVolts((((code & 0x3FF) as u64 * 5_000_000) >> 10) as i32)
}

/// The threshold code nearest to `uv`, or `None` outside 0..=5 V × 1023/1024.
pub const fn threshold_code(uv: MicroVolts) -> Option<u16> {
    if uv.0 < 0 {
        return None;
    }
    let code = (uv.0 as u64 * 1024 + 2_500_000) / 5_000_000;
    if code > THRESHOLD_MAX_CODE as u64 {
        None
    } else {
        Some(code as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        assert_eq!(cell_uv(0).0, 0);
        assert_eq!(cell_uv(0xFFFF).0, 4_999_923);
        assert_eq!(block_uv(0xFFFF).0, 59_999_084);
        assert_eq!(internal_temperature(0).0, 547_300);
        // 25 °C ≈ code 789 (547.3 − 0.6624 × 789 = 24.66 °C).
        assert_eq!(internal_temperature(789).0, 24_666);
        assert_eq!(threshold_code(MicroVolts(4_200_000)), Some(860));
        assert_eq!(threshold_uv(860).0, 4_199_218);
        assert_eq!(threshold_code(MicroVolts(5_000_000)), None);
        assert_eq!(threshold_code(MicroVolts(-1)), None);
        assert_eq!(internal_temperature_code(MilliCelsius(24_666)), Some(789));
        assert_eq!(internal_temperature_code(MilliCelsius(600_000)), None);
        assert_eq!(internal_temperature_code(MilliCelsius(-140_000)), None);
    }
}
