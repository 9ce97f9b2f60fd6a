//! Integer unit newtypes.
//!
//! No floats anywhere: every quantity is an integer in a canonical unit that represents each
//! chip's native LSB exactly (100 µV and 150 µV cell LSBs, 1 mV and 10 mV bq769x2 user units,
//! 0.1 K temperatures), or, where a datasheet formula divides (LTC681x die temperature), rounds
//! to the nearest canonical step. The raw register code is always kept next to the converted
//! value by the drivers, so nothing is lost.
//!
//! | quantity | type | unit |
//! |---|---|---|
//! | cell / stack / aux voltage | [`MicroVolts`] | 1 µV, `i32` (±2147 V) |
//! | current | [`MicroAmps`] | 1 µA, `i64` |
//! | temperature | [`MilliCelsius`] | 0.001 °C, `i32` |
//! | wait hints and timings | [`Microseconds`] | 1 µs, `u32` (up to 71 min) |
//!
//! ```
//! use bms_afe::units::{MicroVolts, MilliCelsius};
//! // An LTC681x cell code of 36_500 (100 µV LSB) is 3.65 V exactly.
//! let v = MicroVolts::from_lsb(36_500, 100);
//! assert_eq!(v.as_millivolts(), 3_650);
//! // A bq769x2 temperature of 2982 (0.1 K) is 25.05 °C.
//! assert_eq!(MilliCelsius::from_decikelvin(2_982).as_millicelsius(), 25_050);
//! ```

use core::fmt;

/// A voltage in microvolts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MicroVolts(pub i32);

impl MicroVolts {
    /// Zero volts.
    pub const ZERO: Self = Self(0);

    /// From a millivolt value.
    pub const fn from_millivolts(mv: i32) -> Self {
        Self(mv.saturating_mul(1000))
    }

    /// From an unsigned register code and the LSB size in µV (saturates at `i32::MAX`).
    pub const fn from_lsb(code: u32, lsb_uv: u32) -> Self {
        let v = code as u64 * lsb_uv as u64;
        if v > i32::MAX as u64 {
            Self(i32::MAX)
        } else {
            Self(v as i32)
        }
    }

    /// The value in microvolts.
    pub const fn as_microvolts(self) -> i32 {
        self.0
    }

    /// The value in millivolts, truncated toward zero.
    pub const fn as_millivolts(self) -> i32 {
        self.0 / 1000
    }

    /// The value in 100 µV steps, truncated toward zero (LTC681x native unit).
    pub const fn as_100uv(self) -> i32 {
        self.0 / 100
    }

    /// Saturating sum.
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// Saturating difference.
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for MicroVolts {
    /// Formats as volts with six decimals, e.g. `3.650000 V`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06} V", a / 1_000_000, a % 1_000_000)
    }
}

/// A current in microamperes; positive is charge into the pack where the chip defines a sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MicroAmps(pub i64);

impl MicroAmps {
    /// From milliamperes.
    pub const fn from_milliamps(ma: i64) -> Self {
        Self(ma.saturating_mul(1000))
    }

    /// The value in microamperes.
    pub const fn as_microamps(self) -> i64 {
        self.0
    }

    /// The value in milliamperes, truncated toward zero.
    pub const fn as_milliamps(self) -> i64 {
        self.0 / 1000
    }
}

impl fmt::Display for MicroAmps {
    /// Formats as amperes with six decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06} A", a / 1_000_000, a % 1_000_000)
    }
}

/// A temperature in thousandths of a degree Celsius.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MilliCelsius(pub i32);

impl MilliCelsius {
    /// From 0.1 K steps (bq769x2 native unit): `raw × 100 − 273 150` m°C, exact.
    pub const fn from_decikelvin(raw: i32) -> Self {
        Self(raw.saturating_mul(100).saturating_sub(273_150))
    }

    /// From whole degrees Celsius.
    pub const fn from_celsius(c: i32) -> Self {
        Self(c.saturating_mul(1000))
    }

    /// The value in m°C.
    pub const fn as_millicelsius(self) -> i32 {
        self.0
    }

    /// The value in 0.1 °C steps, rounded to nearest (halves away from zero).
    pub const fn as_decicelsius(self) -> i32 {
        if self.0 >= 0 {
            self.0.saturating_add(50) / 100
        } else {
            self.0.saturating_sub(50) / 100
        }
    }

    /// The value in millikelvin.
    pub const fn as_millikelvin(self) -> i32 {
        self.0.saturating_add(273_150)
    }
}

impl fmt::Display for MilliCelsius {
    /// Formats as degrees Celsius with one decimal, e.g. `25.1 °C`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.as_decicelsius();
        let sign = if d < 0 { "-" } else { "" };
        let a = d.unsigned_abs();
        write!(f, "{sign}{}.{} °C", a / 10, a % 10)
    }
}

/// A duration in microseconds: wait hints returned by conversion starts, and timing tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Microseconds(pub u32);

impl Microseconds {
    /// No wait.
    pub const ZERO: Self = Self(0);

    /// From milliseconds (saturating).
    pub const fn from_millis(ms: u32) -> Self {
        Self(ms.saturating_mul(1000))
    }

    /// The value in microseconds.
    pub const fn as_micros(self) -> u32 {
        self.0
    }

    /// The value in milliseconds, rounded up (a wait must never be shortened).
    pub const fn as_millis_ceil(self) -> u32 {
        self.0.div_ceil(1000)
    }

    /// Saturating sum.
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// The larger of two durations.
    pub const fn max(self, other: Self) -> Self {
        if self.0 >= other.0 { self } else { other }
    }
}

impl fmt::Display for Microseconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} µs", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voltage_from_lsb_is_exact() {
        // LTC6812-DS Table 4: cell LSB 100 µV; 0xFFFF reads as 6.5535 V.
        assert_eq!(MicroVolts::from_lsb(0xFFFF, 100), MicroVolts(6_553_500));
        // ADBMS6830B-DS: 150 µV LSB.
        assert_eq!(MicroVolts::from_lsb(10_000, 150), MicroVolts(1_500_000));
        assert_eq!(
            MicroVolts::from_lsb(u32::MAX, u32::MAX),
            MicroVolts(i32::MAX)
        );
    }

    #[test]
    fn temperature_conversions() {
        // SLUAA11B: temperatures in 0.1 K; 2731.5 K·10 = 0 °C, so 2732 → 0.05 °C.
        assert_eq!(MilliCelsius::from_decikelvin(2732).0, 50);
        assert_eq!(MilliCelsius::from_decikelvin(0).0, -273_150);
        assert_eq!(MilliCelsius(25_049).as_decicelsius(), 250);
        assert_eq!(MilliCelsius(-25_050).as_decicelsius(), -251);
        assert_eq!(MilliCelsius(0).as_millikelvin(), 273_150);
        // Extremes saturate instead of overflowing.
        assert_eq!(MilliCelsius(i32::MAX).as_decicelsius(), i32::MAX / 100);
        assert_eq!(MilliCelsius(i32::MIN).as_decicelsius(), i32::MIN / 100);
    }

    #[test]
    fn display_formats() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(MicroVolts(3_650_100).to_string(), "3.650100 V");
        assert_eq!(MicroVolts(-1).to_string(), "-0.000001 V");
        assert_eq!(MilliCelsius(-5_000).to_string(), "-5.0 °C");
        assert_eq!(MicroAmps(-1_500_000).to_string(), "-1.500000 A");
        assert_eq!(Microseconds(2343).as_millis_ceil(), 3);
    }
}
