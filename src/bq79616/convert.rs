//! Result-register conversions (integers only).
//!
//! Every Main ADC result is a 16-bit two's-complement value, high byte first, whose reset value
//! 0x8000 means "no result" (SLUSE81E VCELLn_HI/LO "Reset 1000 0000"; inactive channels keep
//! 0x8000, §9.3.2.1.1.2 "VC Channel Measurements"). It is never converted to a value.
//!
//! | result | LSB | source / status |
//! |---|---|---|
//! | VCELL1…16 | 190.73 µV | TI BQ796xx sample code (`0.19073` mV per count), consistent with the E2E-China thread 1075830 raw data (0x445D → 3.338 V on 3.3 V cells); SLUSE81E Table 9-2 names it `VLSB_ADC` — value **not** read from the data sheet here |
//! | DIETEMP1/2 | 0.025 °C, 0 = 0 °C | SLUSE81E Table 9-3 ("0x0000 is centered to 0 °C", `VLSB_DIETEMP`) — value **not verified** |
//! | GPIOn / TSREF | same LSB for both | ratiometric: GPIO / TSREF needs no LSB (SLUSE81E §9.3.2.1.2.2) |
//! | BUSBAR | 30.52 µV | **not verified** (raw code always available) |

use crate::monitor::Reading;
use crate::units::{MicroVolts, MilliCelsius};

/// The "no result" code of every result register.
pub const NOT_CONVERTED: u16 = 0x8000;

/// VCELL LSB numerator: 19 073 / 100 µV = 190.73 µV.
pub const VCELL_LSB_NUM: i32 = 19_073;
/// VCELL LSB denominator.
pub const VCELL_LSB_DEN: i32 = 100;
/// Die temperature LSB in m°C (unverified, see the module docs).
pub const DIETEMP_LSB_MC: i32 = 25;
/// Bus-bar LSB numerator in 0.01 µV (30.52 µV; unverified).
pub const BUSBAR_LSB_CENTI_UV: i32 = 3_052;

/// The 16-bit result in `bytes[0..2]` (high byte first); `None` for a short slice.
#[inline]
pub fn word(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Rounds `num / den` to the nearest integer, halves away from zero (`den > 0`).
const fn div_round(num: i64, den: i64) -> i64 {
    if num >= 0 {
        (num + den / 2) / den
    } else {
        (num - den / 2) / den
    }
}

/// A VCELL code in µV (rounded to the nearest µV).
///
/// ```
/// use bms_afe::bq79616::convert::cell_uv;
/// use bms_afe::units::MicroVolts;
/// // E2E-China thread 1075830, raw VCELL 44 5D on a ~3.3 V cell: 17501 × 190.73 µV.
/// assert_eq!(cell_uv(0x445D), MicroVolts(3_337_966));
/// assert_eq!(cell_uv(0xFFFF), MicroVolts(-191));
/// ```
#[inline]
pub const fn cell_uv(code: u16) -> MicroVolts {
    // |code| ≤ 32768, so code × 19 073 stays below 2^31: i32 arithmetic is exact.
    let p = code as i16 as i32 * VCELL_LSB_NUM;
    let half = VCELL_LSB_DEN / 2;
    MicroVolts(if p >= 0 {
        (p + half) / VCELL_LSB_DEN
    } else {
        (p - half) / VCELL_LSB_DEN
    })
}

/// A VCELL code as a [`Reading`]: 0x8000 is [`Reading::NotConverted`].
#[inline]
pub const fn cell_reading(code: u16) -> Reading<MicroVolts> {
    if code == NOT_CONVERTED {
        Reading::NotConverted
    } else {
        Reading::Valid(cell_uv(code))
    }
}

/// The VCELL code nearest to `uv` (saturating; never 0x8000), for the virtual stack and
/// tests of the conversion.
pub const fn cell_code(uv: i32) -> u16 {
    let c = div_round(uv as i64 * VCELL_LSB_DEN as i64, VCELL_LSB_NUM as i64);
    let c = if c > i16::MAX as i64 {
        i16::MAX as i64
    } else if c < -(i16::MAX as i64) {
        -(i16::MAX as i64)
    } else {
        c
    };
    c as i16 as u16
}

/// A die-temperature code in m°C (0.025 °C per LSB, unverified).
pub const fn die_temp(code: u16) -> MilliCelsius {
    MilliCelsius(code as i16 as i32 * DIETEMP_LSB_MC)
}

/// A die-temperature code as a [`Reading`].
pub const fn die_temp_reading(code: u16) -> Reading<MilliCelsius> {
    if code == NOT_CONVERTED {
        Reading::NotConverted
    } else {
        Reading::Valid(die_temp(code))
    }
}

/// A bus-bar code in µV (30.52 µV per LSB, unverified).
pub const fn busbar_uv(code: u16) -> MicroVolts {
    let c = code as i16 as i64;
    MicroVolts(div_round(c * BUSBAR_LSB_CENTI_UV as i64, 100) as i32)
}

/// The ratio GPIO / TSREF in parts per million (`None` if either is not converted or TSREF
/// is not positive): the ratiometric thermistor reading, independent of the ADC LSB.
///
/// ```
/// use bms_afe::bq79616::convert::ratio_ppm;
/// assert_eq!(ratio_ppm(0x2000, 0x4000), Some(500_000));
/// assert_eq!(ratio_ppm(0x2000, 0x8000), None);
/// ```
pub const fn ratio_ppm(gpio: u16, tsref: u16) -> Option<u32> {
    if gpio == NOT_CONVERTED || tsref == NOT_CONVERTED {
        return None;
    }
    let g = gpio as i16 as i64;
    let t = tsref as i16 as i64;
    if t <= 0 || g < 0 {
        return None;
    }
    Some(((g * 1_000_000 + t / 2) / t) as u32)
}

/// A thermistor curve: (GPIO/TSREF ratio in ppm, temperature) points from the NTC's data sheet
/// and the board's divider, sorted by ratio (either direction). [`ntc_temperature`] interpolates
/// linearly between neighbours; outside the table there is no value.
pub type NtcTable<'a> = &'a [(u32, MilliCelsius)];

/// The temperature of a ratiometric reading by linear interpolation in `table` (integers only).
/// `None` outside the table or for a table of fewer than two points.
///
/// ```
/// use bms_afe::bq79616::convert::ntc_temperature;
/// use bms_afe::units::MilliCelsius;
/// // NTC to ground, pull-up to TSREF: hot = low ratio.
/// let t = [(200_000, MilliCelsius(80_000)), (500_000, MilliCelsius(25_000)), (800_000, MilliCelsius(-20_000))];
/// assert_eq!(ntc_temperature(500_000, &t), Some(MilliCelsius(25_000)));
/// assert_eq!(ntc_temperature(350_000, &t), Some(MilliCelsius(52_500)));
/// assert_eq!(ntc_temperature(900_000, &t), None);
/// ```
pub fn ntc_temperature(ratio_ppm: u32, table: NtcTable<'_>) -> Option<MilliCelsius> {
    for w in table.windows(2) {
        let [(r0, t0), (r1, t1)] = w else {
            continue;
        };
        let (lo, hi) = if r0 <= r1 { (*r0, *r1) } else { (*r1, *r0) };
        if ratio_ppm < lo || ratio_ppm > hi {
            continue;
        }
        if r0 == r1 {
            return Some(*t0);
        }
        let dr = i64::from(*r1) - i64::from(*r0);
        let dt = i64::from(t1.0) - i64::from(t0.0);
        let x = i64::from(ratio_ppm) - i64::from(*r0);
        return Some(MilliCelsius(
            (i64::from(t0.0) + div_round(x * dt, dr.abs()) * dr.signum()) as i32,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_within_half_an_lsb() {
        for uv in [0, 1, 95, 96, 2_500_000, 3_337_966, 4_200_000, -1_000_000] {
            let back = cell_uv(cell_code(uv)).0;
            assert!((back - uv).abs() <= 96, "{uv} → {back}");
        }
        assert_ne!(cell_code(-10_000_000), NOT_CONVERTED);
        assert_eq!(cell_reading(0x8000), Reading::NotConverted);
        assert_eq!(die_temp(1_000), MilliCelsius(25_000));
        assert_eq!(die_temp_reading(0x8000), Reading::NotConverted);
        assert_eq!(word(&[0x12]), None);
        assert_eq!(word(&[0x12, 0x34]), Some(0x1234));
    }
}
