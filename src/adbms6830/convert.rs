//! Result conversions (ADBMS6830B-DS "Result Registers", "Status Register" bit descriptions,
//! "Register Format Overview"). Pure, `const`, no floats.
//!
//! Every voltage result (C, averaged, filtered, S, aux, redundant aux, VREF2, VD, VA, VRES,
//! VMV) is a **signed** 16-bit code: `V = code × 150 µV + 1.5 V`. The codes 0x8000 (after a
//! clear) and 0x7FFF (after power-up or sleep, status values) are the chip's "no result"
//! codes and decode to [`Reading::NotConverted`]; the price is that the two extreme codes
//! (−3.4152 V and +6.41505 V, both outside any cell's real range) are never reported as
//! voltages.
//!
//! ```
//! use bms_afe::adbms6830::convert::{cell, itmp};
//! use bms_afe::monitor::Reading;
//! use bms_afe::units::{MicroVolts, MilliCelsius};
//! // 0x0000 is 1.5 V; 0x8000 is a cleared register.
//! assert_eq!(cell(0x0000), Reading::Valid(MicroVolts(1_500_000)));
//! assert_eq!(cell(0x8000), Reading::NotConverted);
//! // ADBMS6830B-DS ITMP formula: 0x1324 (4900) is 25.0 °C.
//! assert_eq!(itmp(0x1324), Reading::Valid(MilliCelsius(25_000)));
//! ```

use crate::monitor::Reading;
use crate::units::{MicroVolts, MilliCelsius};

/// The LSB of every voltage result: 150 µV.
pub const LSB_UV: i32 = 150;
/// The offset of every voltage result: +1.5 V.
pub const OFFSET_UV: i32 = 1_500_000;
/// Code after CLRCELL/CLRFC/CLRSPIN/CLRAUX.
pub const CLEARED: u16 = 0x8000;
/// Code of status values after power-up or sleep.
pub const RESET: u16 = 0x7FFF;
/// VPV multiplier (V+ to V− is measured through a 1:25 divider).
///
/// VPV scaling is **unverified**: the crate applies × 25 (V+ to V− = 25 × (VPV ×
/// 150 µV + 1.5 V)), as foxBMS 2 and a public third-party ADBMS6830B driver that quotes the
/// ADBMS6830B data sheet (Rev. 0, Tables 104 and 107, result-register formulas) do; ADI's ADBMS6830
/// reference application prints VPV **and VMV** as × 20 (`serialPrintResult.c`,
/// `printVoltages`: `20 * voltage`). The data-sheet table itself was not available to check.
/// A wrong factor scales the stack voltage by 25/20 = 1.25: cross-check it against the sum of
/// the cell voltages before relying on it. VMV is reported unscaled (× 1), also unverified
/// (ADI's reference application applies × 20).
pub const VPV_GAIN: i32 = 25;

/// `code × 150 µV + 1.5 V` without the "not converted" check.
pub const fn code_to_uv(code: u16) -> i32 {
    (code as i16) as i32 * LSB_UV + OFFSET_UV
}

/// The nearest code for a voltage (round half away from zero), saturating at the code range.
pub const fn uv_to_code(uv: i32) -> u16 {
    let d = uv as i64 - OFFSET_UV as i64;
    let q = if d >= 0 {
        (d + 75) / 150
    } else {
        (d - 75) / 150
    };
    let q = if q > i16::MAX as i64 {
        i16::MAX as i64
    } else if q < i16::MIN as i64 {
        i16::MIN as i64
    } else {
        q
    };
    q as i16 as u16
}

/// `true` for the cleared (0x8000) and reset (0x7FFF) codes.
#[inline]
pub const fn is_no_result(code: u16) -> bool {
    code == CLEARED || code == RESET
}

/// A cell (or aux, status) voltage code as a [`Reading`].
#[inline]
pub const fn cell(code: u16) -> Reading<MicroVolts> {
    if is_no_result(code) {
        Reading::NotConverted
    } else {
        Reading::Valid(MicroVolts(code_to_uv(code)))
    }
}

/// VPV (V+ to V−): `25 × (code × 150 µV + 1.5 V)` — the factor is **unverified**, see
/// [`VPV_GAIN`] for the evidence for × 25 and × 20.
///
/// ```
/// use bms_afe::adbms6830::convert::vpv;
/// use bms_afe::monitor::Reading;
/// use bms_afe::units::MicroVolts;
/// // Code 0x0000 is 1.5 V at the ADC, 37.5 V between V+ and V− with the × 25 scaling.
/// assert_eq!(vpv(0x0000), Reading::Valid(MicroVolts(37_500_000)));
/// ```
pub const fn vpv(code: u16) -> Reading<MicroVolts> {
    if is_no_result(code) {
        Reading::NotConverted
    } else {
        Reading::Valid(MicroVolts(code_to_uv(code) * VPV_GAIN))
    }
}

/// Die temperature: `T = (code × 150 µV + 1.5 V) / 7.5 mV − 273 °C`, in m°C, truncated
/// toward zero (the LSB is 20 m°C, so the result is exact).
pub const fn itmp(code: u16) -> Reading<MilliCelsius> {
    if is_no_result(code) {
        Reading::NotConverted
    } else {
        // µV / 7.5 mV in °C = µV / 7500 °C = µV × 2 / 15 m°C.
        Reading::Valid(MilliCelsius(code_to_uv(code) * 2 / 15 - 273_000))
    }
}

/// The little-endian 16-bit word at `index` of a group (0 if out of range: callers pass
/// verified group lengths).
#[inline]
pub fn word(data: &[u8], index: usize) -> u16 {
    match data.get(2 * index..2 * index + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_and_offset() {
        // ADBMS6830B-DS "Register Format Overview": range −3.4152 V (0x8000) … 1.5 V (0x0000) … 6.41505 V (0x7FFF).
        assert_eq!(code_to_uv(0x8000), -3_415_200);
        assert_eq!(code_to_uv(0x7FFF), 6_415_050);
        assert_eq!(code_to_uv(0x0001), 1_500_150);
        assert_eq!(code_to_uv(0xFFFF), 1_499_850);
        assert_eq!(cell(0x7FFF), Reading::NotConverted);
        assert_eq!(vpv(0x0000), Reading::Valid(MicroVolts(37_500_000)));
    }

    #[test]
    fn round_trip_every_code() {
        for c in 0..=u16::MAX {
            assert_eq!(uv_to_code(code_to_uv(c)), c);
        }
    }
}
