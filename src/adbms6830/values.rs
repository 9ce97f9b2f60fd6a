//! Per-device value types shared by the driver and the read-all decoders.

use crate::monitor::Reading;
use crate::units::{MicroVolts, MilliCelsius};

/// Decoded status groups A and B of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Supplies {
    /// VREF2 (normal 2.988–3.012 V).
    pub vref2: Reading<MicroVolts>,
    /// Die temperature.
    pub itmp: Reading<MilliCelsius>,
    /// VD (normal 2.7–3.6 V).
    pub vd: Reading<MicroVolts>,
    /// VA (normal 4.5–5.5 V).
    pub va: Reading<MicroVolts>,
    /// VRES.
    pub vres: Reading<MicroVolts>,
}

impl Supplies {
    /// Bit 0: VREF2 outside 2.988–3.012 V; bit 1: VA outside 4.5–5.5 V; bit 2: VD outside
    /// 2.7–3.6 V (ADBMS6830B-DS electrical characteristics). A value that is
    /// not converted counts as out of range.
    pub fn out_of_range(&self) -> u8 {
        let bad = |r: Reading<MicroVolts>, lo: i32, hi: i32| match r {
            Reading::Valid(MicroVolts(v)) => !(lo..=hi).contains(&v),
            _ => true,
        };
        u8::from(bad(self.vref2, 2_988_000, 3_012_000))
            | u8::from(bad(self.va, 4_500_000, 5_500_000)) << 1
            | u8::from(bad(self.vd, 2_700_000, 3_600_000)) << 2
    }
}

/// Auxiliary results of one device: GPIO1..10, VMV, VPV (VPV already ×25).
///
/// The **VPV (slot 11) and VMV (slot 10) scalings are unverified**: VPV is × 25 as foxBMS 2
/// and a third-party driver quoting the ADBMS6830B data-sheet result-register table have it, while ADI's reference
/// application prints VPV and VMV × 20; VMV is unscaled here. See
/// [`convert::VPV_GAIN`](crate::adbms6830::convert::VPV_GAIN).
pub type AuxValues = [Reading<MicroVolts>; 12];
