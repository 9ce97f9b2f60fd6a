//! The protection configuration: OV/UV trip points and delays (through the chip's own gain
//! and offset) and the OCD/SCD current comparators (through the shunt), with the values
//! actually achieved after quantisation.
//!
//! ```
//! use bms_afe::bq769x0::{AdcCalibration, Protection};
//! use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
//! use bms_afe::units::{MicroAmps, MicroVolts};
//!
//! let cal = AdcCalibration::new(382, 0).unwrap();
//! let mut p = Protection::new(1_000); // 1 mΩ shunt
//! p.overvoltage(MicroVolts(4_300_000), OvDelay::S2)
//!     .undervoltage(MicroVolts(2_500_000), UvDelay::S4)
//!     .short_circuit(MicroAmps::from_milliamps(111_000), ScdDelay::Us100)
//!     .overcurrent(MicroAmps::from_milliamps(72_000), OcdDelay::Ms320);
//! let regs = p.build(&cal).unwrap();
//! // DS SLUSBK2I §9.2.2.1 design example: PROTECT1 0x8B, PROTECT3 0x50, OV_TRIP 0xBF,
//! // UV_TRIP 0x99; PROTECT2 0x5A (the text's 72 mV / 320 ms).
//! assert_eq!((regs.protect1, regs.protect2, regs.protect3(0)), (0x8B, 0x5A, 0x50));
//! assert_eq!((regs.ov_trip, regs.uv_trip), (0xBF, 0x99));
//! assert_eq!(regs.achieved.short_circuit, MicroAmps::from_milliamps(111_000));
//! ```

use super::convert::AdcCalibration;
use super::register::{
    OCD_THRESH_MV, OcdDelay, OvDelay, Protect1, Protect2, Protect3, Rsns, SCD_THRESH_MV, ScdDelay,
    UvDelay,
};
use crate::error::ConfigError;
use crate::units::{MicroAmps, MicroVolts};

/// The requested protection settings. Unset settings keep the chip's reset values (OV_TRIP
/// 0xAC, UV_TRIP 0x97, the lowest current thresholds and shortest delays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Protection {
    shunt_uohm: u32,
    ov: Option<(MicroVolts, OvDelay)>,
    uv: Option<(MicroVolts, UvDelay)>,
    scd: Option<(MicroAmps, ScdDelay)>,
    ocd: Option<(MicroAmps, OcdDelay)>,
    rsns: Option<Rsns>,
}

/// What the chip will actually do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Achieved {
    /// Overvoltage threshold after quantisation and the chip's gain/offset.
    pub overvoltage: MicroVolts,
    /// Undervoltage threshold.
    pub undervoltage: MicroVolts,
    /// Short-circuit current threshold (shunt voltage / shunt).
    pub short_circuit: MicroAmps,
    /// Overcurrent-in-discharge threshold.
    pub overcurrent: MicroAmps,
    /// Comparator range chosen.
    pub rsns: Rsns,
    /// OV delay.
    pub ov_delay: OvDelay,
    /// UV delay.
    pub uv_delay: UvDelay,
    /// SCD delay.
    pub scd_delay: ScdDelay,
    /// OCD delay.
    pub ocd_delay: OcdDelay,
}

/// The register bytes of a [`Protection`] and what they achieve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProtectionRegisters {
    /// PROTECT1 (0x06).
    pub protect1: u8,
    /// PROTECT2 (0x07).
    pub protect2: u8,
    /// PROTECT3 (0x08) bits 7:4 (the low nibble is reserved: see [`Self::protect3`]).
    pub protect3_high: u8,
    /// OV_TRIP (0x09).
    pub ov_trip: u8,
    /// UV_TRIP (0x0A).
    pub uv_trip: u8,
    /// The achieved values.
    pub achieved: Achieved,
}

impl ProtectionRegisters {
    /// PROTECT3 with the reserved low nibble as read from the chip.
    pub const fn protect3(&self, reserved: u8) -> u8 {
        (self.protect3_high & 0xF0) | (reserved & 0x0F)
    }
}

/// Shunt voltage in µV for `current` through `shunt_uohm`.
const fn sense_uv(current: MicroAmps, shunt_uohm: u32) -> i64 {
    let v = current.0 as i128 * shunt_uohm as i128 / 1_000_000;
    if v > i64::MAX as i128 {
        i64::MAX
    } else if v < i64::MIN as i128 {
        i64::MIN
    } else {
        v as i64
    }
}

/// Current in µA that makes `mv` across `shunt_uohm`.
const fn current_for(mv: u16, shunt_uohm: u32) -> MicroAmps {
    MicroAmps(mv as i64 * 1_000_000_000 / shunt_uohm as i64)
}

/// Highest table entry not above `uv` (the comparator trips at or below the request).
const fn pick(table: &[u16], uv: i64) -> Option<u8> {
    let mut best = None;
    let mut i = 0;
    while i < table.len() {
        if table[i] as i64 * 1000 <= uv {
            best = Some(i as u8);
        }
        i += 1;
    }
    best
}

impl Protection {
    /// Settings for a pack with a `shunt_uohm` µΩ sense resistor (must not be 0; checked in
    /// [`Protection::build`]).
    pub const fn new(shunt_uohm: u32) -> Self {
        Self {
            shunt_uohm,
            ov: None,
            uv: None,
            scd: None,
            ocd: None,
            rsns: None,
        }
    }

    /// The shunt in µΩ.
    pub const fn shunt_uohm(&self) -> u32 {
        self.shunt_uohm
    }

    /// Cell overvoltage threshold and delay (nearest achievable, see
    /// [`AdcCalibration::ov_trip`]).
    pub fn overvoltage(&mut self, v: MicroVolts, delay: OvDelay) -> &mut Self {
        self.ov = Some((v, delay));
        self
    }

    /// Cell undervoltage threshold and delay.
    pub fn undervoltage(&mut self, v: MicroVolts, delay: UvDelay) -> &mut Self {
        self.uv = Some((v, delay));
        self
    }

    /// Short-circuit-in-discharge current and delay. The highest table threshold **not
    /// above** the request is used (DS Table 8-9), so the chip never trips later than asked.
    pub fn short_circuit(&mut self, current: MicroAmps, delay: ScdDelay) -> &mut Self {
        self.scd = Some((current, delay));
        self
    }

    /// Overcurrent-in-discharge current and delay (DS Table 8-10), rounded down as
    /// [`Protection::short_circuit`].
    pub fn overcurrent(&mut self, current: MicroAmps, delay: OcdDelay) -> &mut Self {
        self.ocd = Some((current, delay));
        self
    }

    /// Forces the comparator range (otherwise chosen by [`Protection::build`]: RSNS = 0
    /// when both requests fit it, for its finer steps, else RSNS = 1).
    pub fn rsns(&mut self, rsns: Rsns) -> &mut Self {
        self.rsns = Some(rsns);
        self
    }

    fn currents(&self, rsns: Rsns) -> Result<(u8, u8), ConfigError> {
        let r = rsns.index();
        let scd = match self.scd {
            None => 0,
            Some((i, _)) => pick(&SCD_THRESH_MV[r], sense_uv(i, self.shunt_uohm)).ok_or(
                ConfigError::OutOfRange {
                    field: "short-circuit threshold (µA)",
                    value: i.0,
                    min: current_for(SCD_THRESH_MV[r][0], self.shunt_uohm).0,
                    max: i64::MAX,
                },
            )?,
        };
        let ocd = match self.ocd {
            None => 0,
            Some((i, _)) => pick(&OCD_THRESH_MV[r], sense_uv(i, self.shunt_uohm)).ok_or(
                ConfigError::OutOfRange {
                    field: "overcurrent threshold (µA)",
                    value: i.0,
                    min: current_for(OCD_THRESH_MV[r][0], self.shunt_uohm).0,
                    max: i64::MAX,
                },
            )?,
        };
        Ok((scd, ocd))
    }

    /// Encodes the settings with this chip's calibration.
    pub fn build(&self, cal: &AdcCalibration) -> Result<ProtectionRegisters, ConfigError> {
        if self.shunt_uohm == 0 {
            return Err(ConfigError::OutOfRange {
                field: "shunt (µΩ)",
                value: 0,
                min: 1,
                max: u32::MAX as i64,
            });
        }
        let fits_low = |uv: Option<i64>, table: &[u16]| match uv {
            None => true,
            Some(uv) => uv <= i64::from(table[table.len() - 1]) * 1000 && pick(table, uv).is_some(),
        };
        let rsns = match self.rsns {
            Some(r) => r,
            None => {
                let scd = self.scd.map(|(i, _)| sense_uv(i, self.shunt_uohm));
                let ocd = self.ocd.map(|(i, _)| sense_uv(i, self.shunt_uohm));
                if fits_low(scd, &SCD_THRESH_MV[0]) && fits_low(ocd, &OCD_THRESH_MV[0]) {
                    Rsns::Low
                } else {
                    Rsns::High
                }
            }
        };
        let (scd_code, ocd_code) = self.currents(rsns)?;
        let scd_delay = self.scd.map_or(ScdDelay::Us70, |(_, d)| d);
        let ocd_delay = self.ocd.map_or(OcdDelay::Ms8, |(_, d)| d);
        let ov_delay = self.ov.map_or(OvDelay::S1, |(_, d)| d);
        let uv_delay = self.uv.map_or(UvDelay::S1, |(_, d)| d);
        let (ov_trip, ov) = match self.ov {
            Some((v, _)) => cal.ov_trip(v)?,
            None => (0xAC, cal.ov_trip_voltage(0xAC)),
        };
        let (uv_trip, uv) = match self.uv {
            Some((v, _)) => cal.uv_trip(v)?,
            None => (0x97, cal.uv_trip_voltage(0x97)),
        };
        if uv.0 >= ov.0 {
            return Err(ConfigError::Conflict(
                "undervoltage threshold at or above the overvoltage threshold",
            ));
        }
        let p1 = Protect1 {
            rsns,
            scd_delay,
            scd_thresh: scd_code,
        };
        let p2 = Protect2 {
            ocd_delay,
            ocd_thresh: ocd_code,
        };
        let p3 = Protect3 { uv_delay, ov_delay };
        Ok(ProtectionRegisters {
            protect1: p1.to_byte(),
            protect2: p2.to_byte(),
            protect3_high: p3.to_byte(0),
            ov_trip,
            uv_trip,
            achieved: Achieved {
                overvoltage: ov,
                undervoltage: uv,
                short_circuit: current_for(p1.scd_millivolts(), self.shunt_uohm),
                overcurrent: current_for(p2.ocd_millivolts(rsns), self.shunt_uohm),
                rsns,
                ov_delay,
                uv_delay,
                scd_delay,
                ocd_delay,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_choice_and_rounding() {
        let cal = AdcCalibration::new(380, 0).unwrap();
        let mut p = Protection::new(2_000); // 2 mΩ
        // 20 A × 2 mΩ = 40 mV → RSNS 0 fits (SCD 33 mV is the highest ≤ 40).
        p.short_circuit(MicroAmps::from_milliamps(20_000), ScdDelay::Us200);
        let r = p.build(&cal).unwrap();
        assert_eq!(r.achieved.rsns, Rsns::Low);
        assert_eq!(r.achieved.short_circuit, MicroAmps::from_milliamps(16_500));
        assert_eq!(r.protect1, 0x11);
        // 100 A × 2 mΩ = 200 mV → only RSNS 1.
        p.short_circuit(MicroAmps::from_milliamps(100_000), ScdDelay::Us400);
        let r = p.build(&cal).unwrap();
        assert_eq!(r.achieved.rsns, Rsns::High);
        assert_eq!(r.protect1, 0x80 | 0x18 | 7);
        // Below the smallest threshold of a forced range.
        p.short_circuit(MicroAmps::from_milliamps(1_000), ScdDelay::Us70)
            .rsns(Rsns::High);
        assert!(p.build(&cal).is_err());
        assert!(Protection::new(0).build(&cal).is_err());
    }

    #[test]
    fn uv_beyond_its_range_is_refused() {
        // UV_TRIP tops out at (0x1000 + 16 × 255) × 380 µV = 3.107 V.
        let cal = AdcCalibration::new(380, 0).unwrap();
        let mut p = Protection::new(1_000);
        p.overvoltage(MicroVolts(3_200_000), OvDelay::S1)
            .undervoltage(MicroVolts(3_300_000), UvDelay::S1);
        assert!(matches!(
            p.build(&cal),
            Err(ConfigError::OutOfRange { max: 3_106_880, .. })
        ));
    }
}
